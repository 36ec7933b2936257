// SPDX-License-Identifier: AGPL-3.0-or-later
// KeyIndex: which serverSeqNums wrote which key; overlap visits and compaction roots.
#include "sync/KeyIndex.h"

#include <QTest>

using oll::KeyIndex;

namespace {

QString s(const char* text)
{
    return QString::fromUtf8(text);
}

struct Visit
{
    qint64 seq = 0;
    QString key;
    bool operator==(const Visit& o) const { return seq == o.seq && key == o.key; }
};

/// Every visit forEachOverlap makes, in order (never stopping early).
QList<Visit> visits(const KeyIndex& index, const QString& key, qint64 after = 0)
{
    QList<Visit> out;
    index.forEachOverlap(key, after, [&](qint64 seq, const QString& written) {
        out.append(Visit{seq, written});
        return true;
    });
    return out;
}

/// The visited seqs, sorted, for checks that do not care about the order across keys.
QList<qint64> seqsOf(const QList<Visit>& v)
{
    QList<qint64> out;
    for (const Visit& x : v) {
        out.append(x.seq);
    }
    std::sort(out.begin(), out.end());
    return out;
}

QString describe(const QList<Visit>& v)
{
    QStringList parts;
    for (const Visit& x : v) {
        parts.append(QStringLiteral("%1:%2").arg(x.seq).arg(x.key));
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace

class TestKeyIndex final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// The key itself, its ancestors (prefixes at a segment boundary) and its descendants are
    /// visited; siblings and unrelated keys are not.
    void overlapSameAncestorsDescendants()
    {
        KeyIndex index;
        index.add(s("registration"), 1);
        index.add(s("registration.entries"), 2);
        index.add(s("registration.entries[id=5]"), 3);
        index.add(s("registration.entries[id=5].name"), 4);
        index.add(s("registration.entries[id=5].squatKg[1]"), 5);
        index.add(s("registration.entries[id=6].name"), 6); // sibling element
        index.add(s("registration.nextEntryId"), 7); // sibling field
        index.add(s("meet.name"), 8); // unrelated
        index.add(s("registration.entries[id=5]"), 9);

        const QList<Visit> v = visits(index, s("registration.entries[id=5]"));
        QCOMPARE(seqsOf(v), (QList<qint64>{1, 2, 3, 4, 5, 9}));
        for (const Visit& x : v) {
            QVERIFY2(x.key != s("registration.entries[id=6].name") && x.key != s("registration.nextEntryId")
                         && x.key != s("meet.name"),
                     qPrintable(describe(v)));
        }
        // Each visit names the key that was written, not the key asked about.
        QVERIFY(v.contains(Visit{1, s("registration")}));
        QVERIFY(v.contains(Visit{5, s("registration.entries[id=5].squatKg[1]")}));

        // A leaf: only its ancestors and itself.
        QCOMPARE(seqsOf(visits(index, s("registration.entries[id=5].name"))), (QList<qint64>{1, 2, 3, 4, 9}));
        // A top-level field: everything below it.
        QCOMPARE(seqsOf(visits(index, s("registration"))), (QList<qint64>{1, 2, 3, 4, 5, 6, 7, 9}));
        // A key nobody wrote, below a written one: the ancestors.
        QCOMPARE(seqsOf(visits(index, s("registration.entries[id=6].squatKg"))), (QList<qint64>{1, 2}));
        QCOMPARE(seqsOf(visits(index, s("registration.entries[id=6]"))), (QList<qint64>{1, 2, 6}));
        QVERIFY(visits(index, s("lifting")).isEmpty());
        QVERIFY(visits(index, s("meet")).size() == 1);
    }

    /// `a[id=5]` and `a[id=50]`, `meet.plates` and `meet.platesX`, `a[1]` and `a[10]` share a string
    /// prefix but not a segment boundary: they do not overlap.
    void stringPrefixIsNotSegmentPrefix()
    {
        KeyIndex index;
        index.add(s("a[id=50]"), 1);
        index.add(s("a[id=50].x"), 2);
        index.add(s("meet.platesX"), 3);
        index.add(s("meet.platesX[0]"), 4);
        index.add(s("b[10]"), 5);

        QVERIFY2(visits(index, s("a[id=5]")).isEmpty(), qPrintable(describe(visits(index, s("a[id=5]")))));
        QVERIFY(visits(index, s("a[id=5].x")).isEmpty());
        QVERIFY2(visits(index, s("meet.plates")).isEmpty(), qPrintable(describe(visits(index, s("meet.plates")))));
        QVERIFY(visits(index, s("meet.plates[0]")).isEmpty());
        QCOMPARE(seqsOf(visits(index, s("b[1]"))), QList<qint64>{});

        KeyIndex reverse;
        reverse.add(s("a[id=5]"), 1);
        reverse.add(s("meet.plates"), 2);
        reverse.add(s("b[1]"), 3);
        QVERIFY(visits(reverse, s("a[id=50]")).isEmpty());
        QVERIFY(visits(reverse, s("a[id=50].x")).isEmpty());
        QVERIFY(visits(reverse, s("meet.platesX")).isEmpty());
        QVERIFY(visits(reverse, s("b[10]")).isEmpty());
        // ...while the real descendants are seen.
        QCOMPARE(seqsOf(visits(reverse, s("a[id=5].x"))), QList<qint64>{1});
        QCOMPARE(seqsOf(visits(reverse, s("meet.plates[3]"))), QList<qint64>{2});
        QCOMPARE(seqsOf(visits(reverse, s("meet"))), QList<qint64>{2});
        QCOMPARE(seqsOf(visits(reverse, s("a"))), QList<qint64>{1});
    }

    /// Within one written key the visits go newest first and stop at `after`; returning false
    /// skips the rest of that key only.
    void newestFirstAfterBoundAndStop()
    {
        KeyIndex index;
        for (qint64 seq : {1, 3, 5, 7}) {
            index.add(s("meet.name"), seq);
        }
        for (qint64 seq : {2, 4, 6}) {
            index.add(s("meet"), seq);
        }

        QList<Visit> v = visits(index, s("meet.name"));
        QList<qint64> nameSeqs;
        QList<qint64> meetSeqs;
        for (const Visit& x : v) {
            (x.key == s("meet") ? meetSeqs : nameSeqs).append(x.seq);
        }
        QCOMPARE(nameSeqs, (QList<qint64>{7, 5, 3, 1}));
        QCOMPARE(meetSeqs, (QList<qint64>{6, 4, 2}));

        // `after` is exclusive.
        QCOMPARE(seqsOf(visits(index, s("meet.name"), 3)), (QList<qint64>{4, 5, 6, 7}));
        QCOMPARE(seqsOf(visits(index, s("meet.name"), 6)), (QList<qint64>{7}));
        QVERIFY(visits(index, s("meet.name"), 7).isEmpty());

        // Stop after the first visit of each key.
        QList<Visit> firsts;
        index.forEachOverlap(s("meet.name"), 0, [&](qint64 seq, const QString& written) {
            firsts.append(Visit{seq, written});
            return false;
        });
        QCOMPARE(firsts.size(), 2);
        QVERIFY2(firsts.contains(Visit{7, s("meet.name")}) && firsts.contains(Visit{6, s("meet")}),
                 qPrintable(describe(firsts)));
    }

    /// removeLast forgets a key's last write only when it names that write; the key disappears
    /// with its last write.
    void removeLast()
    {
        KeyIndex index;
        index.add(s("meet.name"), 1);
        index.add(s("meet.name"), 4);
        index.add(s("meet.city"), 2);

        index.removeLast(s("meet.name"), 1); // not the last write: ignored
        QCOMPARE(seqsOf(visits(index, s("meet.name"))), (QList<qint64>{1, 4}));
        index.removeLast(s("meet.nope"), 4); // unknown key: ignored
        index.removeLast(s("meet.name"), 4);
        QCOMPARE(seqsOf(visits(index, s("meet.name"))), QList<qint64>{1});
        index.removeLast(s("meet.name"), 1);
        QVERIFY(visits(index, s("meet.name")).isEmpty());
        QCOMPARE(seqsOf(visits(index, s("meet"))), QList<qint64>{2});
        // A removed key is not a root any more either.
        QCOMPARE(index.rootsChangedIn(0, 10), QStringList{s("meet.city")});
        index.removeLast(s("meet.name"), 1); // already gone
        index.clear();
        QVERIFY(visits(index, s("meet")).isEmpty());
    }

    void rootOf()
    {
        QCOMPARE(KeyIndex::rootOf(s("meet")), s("meet"));
        QCOMPARE(KeyIndex::rootOf(s("meet.name")), s("meet.name"));
        QCOMPARE(KeyIndex::rootOf(s("meet.plates[2]")), s("meet.plates"));
        QCOMPARE(KeyIndex::rootOf(s("registration.entries[id=5].squatKg[1]")), s("registration.entries"));
        QCOMPARE(KeyIndex::rootOf(s("a[0][1].b")), s("a"));
        QCOMPARE(KeyIndex::rootOf(s("a_b.C9[0][12][id=0]")), s("a_b.C9"));
    }

    /// The roots changed in (after, through]: covered roots dropped, only writes in the window
    /// count, sorted by the last write under each, with those seqs.
    void rootsChangedIn()
    {
        KeyIndex index;
        index.add(s("meet.name"), 1);
        index.add(s("meet.city"), 2);
        index.add(s("meet"), 3);
        index.add(s("registration.entries[id=5].name"), 4);
        index.add(s("lifting.day"), 5);
        index.add(s("registration.entries[0]"), 6);
        index.add(s("lifting.flight"), 7);
        index.add(s("registration.nextEntryId"), 8);

        // Everything: meet.name and meet.city lie under meet; both entries writes share one root.
        QList<qint64> last;
        QStringList roots = index.rootsChangedIn(0, 8, &last);
        QCOMPARE(roots,
                 (QStringList{s("meet"), s("lifting.day"), s("registration.entries"), s("lifting.flight"),
                              s("registration.nextEntryId")}));
        QCOMPARE(last, (QList<qint64>{3, 5, 6, 7, 8}));

        // `through` excludes later writes: before meet itself was written, its fields are roots.
        last.clear();
        roots = index.rootsChangedIn(0, 2, &last);
        QCOMPARE(roots, (QStringList{s("meet.name"), s("meet.city")}));
        QCOMPARE(last, (QList<qint64>{1, 2}));
        last.clear();
        roots = index.rootsChangedIn(0, 4, &last);
        QCOMPARE(roots, (QStringList{s("meet"), s("registration.entries")}));
        QCOMPARE(last, (QList<qint64>{3, 4}));

        // `after` excludes: meet (3) is outside (3, 9], so a later meet.city write stands alone.
        index.add(s("meet.city"), 9);
        last.clear();
        roots = index.rootsChangedIn(3, 9, &last);
        QCOMPARE(roots,
                 (QStringList{s("lifting.day"), s("registration.entries"), s("lifting.flight"),
                              s("registration.nextEntryId"), s("meet.city")}));
        QCOMPARE(last, (QList<qint64>{5, 6, 7, 8, 9}));

        // A key's newest write at or below `through` is what counts.
        index.add(s("meet.name"), 10);
        last.clear();
        roots = index.rootsChangedIn(0, 2, &last);
        QCOMPARE(roots, (QStringList{s("meet.name"), s("meet.city")}));
        QCOMPARE(last, (QList<qint64>{1, 2}));
        last.clear();
        roots = index.rootsChangedIn(9, 10, &last);
        QCOMPARE(roots, QStringList{s("meet.name")});
        QCOMPARE(last, QList<qint64>{10});

        // Empty windows.
        QVERIFY(index.rootsChangedIn(10, 10).isEmpty());
        QVERIFY(index.rootsChangedIn(10, 100).isEmpty());
        QVERIFY(index.rootsChangedIn(5, 4).isEmpty());
        QVERIFY(KeyIndex().rootsChangedIn(0, 100).isEmpty());
        // lastSeqs may be omitted.
        QCOMPARE(index.rootsChangedIn(4, 5), QStringList{s("lifting.day")});
    }

    /// A root only covers roots below it at a '.' boundary: `meet.plates` does not cover
    /// `meet.platesX`, and `a` does not cover `ab`.
    void rootsCoverOnlyAtSegmentBoundaries()
    {
        KeyIndex index;
        index.add(s("meet.plates[0]"), 1);
        index.add(s("meet.platesX"), 2);
        index.add(s("a"), 3);
        index.add(s("ab.c"), 4);
        index.add(s("a.b.c[1]"), 5);
        // "a" covers "a.b" (its last write under it is 5), not "ab.c".
        QCOMPARE(index.rootsChangedIn(0, 5), (QStringList{s("meet.plates"), s("meet.platesX"), s("ab.c"), s("a")}));
    }

    /// A covering root is ordered and labelled by the last write *under* it (header: "Sorted by the
    /// last seq that wrote under them"; docs: s = "the last serverSeqNum that wrote under K").
    void coveredWritesCountForTheCoveringRoot()
    {
        KeyIndex index;
        index.add(s("meet"), 2);
        index.add(s("lifting.day"), 3);
        index.add(s("meet.name"), 4);
        QList<qint64> last;
        const QStringList roots = index.rootsChangedIn(0, 4, &last);
        QCOMPARE(roots, (QStringList{s("lifting.day"), s("meet")}));
        QCOMPARE(last, (QList<qint64>{3, 4}));
    }
};

QTEST_GUILESS_MAIN(TestKeyIndex)
#include "tst_keyindex.moc"
