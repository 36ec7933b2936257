// SPDX-License-Identifier: AGPL-3.0-or-later
// ConflictResolver: the conflict rule of DESIGN.md §4 / docs/protocol.md ("Conflicts"), on a
// hand-built log, index and meet configuration.
#include "sync/ConflictResolver.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QTest>

using namespace oll;

namespace {

QString s(const char* text)
{
    return QString::fromUtf8(text);
}

MeetConfig config()
{
    MeetConfig c;
    c.meetId = s("123456789");
    c.endpoints = {Endpoint{s("Desk"), 10}, Endpoint{s("Platform 1"), 5}, Endpoint{s("Platform 2"), 5},
                   Endpoint{s("Warm-up"), 1}};
    return c;
}

/// A log built by hand: entries[i] has serverSeqNum i + 1, the index knows every entry.
struct Log
{
    QList<JournalEntry> entries;
    KeyIndex index;
    MeetConfig meet = config();

    qint64 add(const char* key, const QJsonValue& value, const char* clientId, const char* location)
    {
        JournalEntry e;
        e.serverSeqNum = entries.size() + 1;
        e.key = s(key);
        e.value = value;
        e.clientId = s(clientId);
        e.location = s(location);
        e.localSeqNum = e.serverSeqNum;
        entries.append(e);
        index.add(e.key, e.serverSeqNum);
        return e.serverSeqNum;
    }

    Verdict judge(const char* key, const QJsonValue& value, const char* clientId, qint64 priority, qint64 after = 0,
                  std::function<bool(qint64)> alsoSeen = {}) const
    {
        const ConflictResolver resolver(entries, index, meet);
        return resolver.judge(Contender{s(key), value, s(clientId), priority, after, std::move(alsoSeen)});
    }
};

QString kindName(Verdict::Kind k)
{
    switch (k) {
    case Verdict::Kind::Clean:
        return QStringLiteral("Clean");
    case Verdict::Kind::Rejected:
        return QStringLiteral("Rejected");
    case Verdict::Kind::Overrules:
        return QStringLiteral("Overrules");
    }
    return QStringLiteral("?");
}

QJsonObject entry(std::initializer_list<QPair<QString, QJsonValue>> fields)
{
    QJsonObject o;
    for (const auto& [k, v] : fields) {
        o.insert(k, v);
    }
    return o;
}

} // namespace

#define CHECK_VERDICT(verdict, expectedKind)                                                                           \
    QVERIFY2((verdict).kind == (expectedKind),                                                                         \
             qPrintable(QStringLiteral("expected %1, got %2").arg(kindName(expectedKind), kindName((verdict).kind))))

class TestConflictResolver final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// The basic table on one key: another client's unseen write with a different value conflicts;
    /// the same value, the same client, or a seen entry do not.
    void sameKeyTable()
    {
        Log log;
        log.add("meet.name", s("A"), "p1", "Platform 1"); // 1

        Verdict v = log.judge("meet.name", s("B"), "p2", 5);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);
        QVERIFY(v.overruled.isEmpty());

        CHECK_VERDICT(log.judge("meet.name", s("A"), "p2", 5), Verdict::Kind::Clean); // same value
        CHECK_VERDICT(log.judge("meet.name", s("B"), "p1", 5), Verdict::Kind::Clean); // same client
        CHECK_VERDICT(log.judge("meet.name", s("B"), "p2", 5, 1), Verdict::Kind::Clean); // seen it
        CHECK_VERDICT(log.judge("meet.name", s("B"), "p2", 5, 2), Verdict::Kind::Clean); // seen beyond it
        CHECK_VERDICT(log.judge("meet.city", s("B"), "p2", 5), Verdict::Kind::Clean); // other key
        CHECK_VERDICT(log.judge("meet.nameX", s("B"), "p2", 5), Verdict::Kind::Clean); // not a segment prefix
        // Values compare as JSON: 1 and "1" differ, null is a value.
        log.add("meet.number", 1, "p1", "Platform 1"); // 2
        CHECK_VERDICT(log.judge("meet.number", s("1"), "p2", 5), Verdict::Kind::Rejected);
        CHECK_VERDICT(log.judge("meet.number", 1.0, "p2", 5), Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("meet.number", QJsonValue::Null, "p2", 5), Verdict::Kind::Rejected);
    }

    /// e wrote an ancestor: u is compared with the value e left at u's place.
    void ancestorWrite()
    {
        Log log;
        log.add("registration.entries[id=5]", entry({{s("name"), s("Bo")}, {s("bodyweightKg"), 80}}), "e",
                "Platform 1"); // 1

        CHECK_VERDICT(log.judge("registration.entries[id=5].name", s("Bo"), "u", 5), Verdict::Kind::Clean);
        Verdict v = log.judge("registration.entries[id=5].name", s("Al"), "u", 5);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);
        // e left no such field: any value u writes there differs from "nothing".
        CHECK_VERDICT(log.judge("registration.entries[id=5].team", s("X"), "u", 5), Verdict::Kind::Rejected);
        // The stored element carries its id even though e's value did not spell it.
        CHECK_VERDICT(log.judge("registration.entries[id=5].id", 5, "u", 5), Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("registration.entries[id=5].id", 6, "u", 5), Verdict::Kind::Rejected);
        // Another element is not under e's key at all.
        CHECK_VERDICT(log.judge("registration.entries[id=50].name", s("Al"), "u", 5), Verdict::Kind::Clean);

        // Arrays: e wrote the whole array; u writes one index.
        log.add("meet.plates", QJsonArray{25, 20}, "e", "Platform 1"); // 2
        CHECK_VERDICT(log.judge("meet.plates[1]", 20, "u", 5), Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("meet.plates[1]", 15, "u", 5), Verdict::Kind::Rejected);
        CHECK_VERDICT(log.judge("meet.plates[2]", 10, "u", 5), Verdict::Kind::Rejected); // e left nothing at [2]

        // Two levels up, through an object and an [id=N] inside it.
        log.add("registration",
                entry({{s("entries"), QJsonArray{entry({{s("id"), 7}, {s("squatKg"), QJsonArray{100, 110}}})}}}), "e",
                "Platform 1"); // 3
        CHECK_VERDICT(log.judge("registration.entries[id=7].squatKg[1]", 110, "u", 5, 2), Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("registration.entries[id=7].squatKg[1]", 115, "u", 5, 2), Verdict::Kind::Rejected);
    }

    /// e deleted an ancestor ([id=N] = null): anything u writes below it conflicts; deleting it
    /// again does not.
    void deletedAncestor()
    {
        Log log;
        log.add("registration.entries[id=5]", QJsonValue::Null, "e", "Platform 1"); // 1
        Verdict v = log.judge("registration.entries[id=5].name", s("Al"), "u", 5);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);
        CHECK_VERDICT(log.judge("registration.entries[id=5].name", QJsonValue::Null, "u", 5), Verdict::Kind::Rejected);
        CHECK_VERDICT(log.judge("registration.entries[id=5]", QJsonValue::Null, "u", 5), Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("registration.entries[id=5]", entry({{s("name"), s("Al")}}), "u", 5),
                      Verdict::Kind::Rejected);
    }

    /// e wrote a descendant: e's value is compared with what u leaves at e's place.
    void descendantWrite()
    {
        Log log;
        log.add("registration.entries[id=5].name", s("Bo"), "e", "Platform 1"); // 1

        Verdict v = log.judge("registration.entries[id=5]", QJsonValue::Null, "u", 5); // u deletes the entry
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);
        CHECK_VERDICT(log.judge("registration.entries[id=5]", entry({{s("name"), s("Bo")}, {s("lot"), 3}}), "u", 5),
                      Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("registration.entries[id=5]", entry({{s("name"), s("Al")}}), "u", 5),
                      Verdict::Kind::Rejected);
        CHECK_VERDICT(log.judge("registration.entries[id=5]", entry({{s("lot"), 3}}), "u", 5), Verdict::Kind::Rejected);
        CHECK_VERDICT(log.judge("registration",
                                entry({{s("entries"), QJsonArray{entry({{s("id"), 5}, {s("name"), s("Bo")}})}}}), "u",
                                5),
                      Verdict::Kind::Clean);
        CHECK_VERDICT(log.judge("registration", entry({{s("entries"), QJsonArray{}}}), "u", 5),
                      Verdict::Kind::Rejected);

        // e deleted the element; u writes the array around it.
        Log deleted;
        deleted.add("registration.entries[id=5]", QJsonValue::Null, "e", "Platform 1"); // 1
        // u deleting the element too: equal key, both null.
        CHECK_VERDICT(deleted.judge("registration.entries[id=5]", QJsonValue::Null, "u", 5), Verdict::Kind::Clean);
        // u writing the whole array without element 5: e left nothing at [id=5] either.
        CHECK_VERDICT(deleted.judge("registration.entries", QJsonArray{entry({{s("id"), 6}})}, "u", 5),
                      Verdict::Kind::Clean);
        CHECK_VERDICT(deleted.judge("registration.entries", QJsonArray{entry({{s("id"), 5}})}, "u", 5),
                      Verdict::Kind::Rejected);
    }

    /// Higher priority overrules every conflicting entry (listed ascending; non-conflicting ones are
    /// not listed); equal priority is rejected (the sequenced entry stands); lower is rejected with
    /// the newest blocking entry as winner.
    void priorities()
    {
        Log log;
        log.add("meet.name", s("A"), "p1", "Platform 1"); // 1
        log.add("meet.name", s("Z"), "p2", "Platform 2"); // 2: same value as u: no conflict
        log.add("meet", entry({{s("name"), s("B")}}), "w", "Warm-up"); // 3: ancestor, differs
        log.add("meet.city", s("C"), "p1", "Platform 1"); // 4: a sibling, not overlapping
        log.add("meet.name", s("D"), "p2", "Platform 2"); // 5

        Verdict v = log.judge("meet.name", s("Z"), "desk", 10);
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, (QList<qint64>{1, 3, 5}));
        QCOMPARE(v.winnerSeq, 0);

        v = log.judge("meet.name", s("Z"), "p3", 5); // equal priority: the sequenced entry stands
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 5);

        v = log.judge("meet.name", s("Z"), "w2", 1); // lower than some
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 5);

        v = log.judge("meet.name", s("Z"), "w2", 1, 4); // only 5 unseen
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 5);

        v = log.judge("meet.name", s("Z"), "desk", 10, 3); // only 5 unseen and lower
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, QList<qint64>{5});
    }

    /// The winner is the newest entry that *blocks* (priority >= u's), not the newest conflicting
    /// one, and it is found across the written keys (ancestor and key itself).
    void winnerIsNewestBlocking()
    {
        Log log;
        log.add("meet.name", s("A"), "desk", "Desk"); // 1: blocks Platform 2
        log.add("meet.name", s("B"), "w", "Warm-up"); // 2: newer, lower
        Verdict v = log.judge("meet.name", s("C"), "p2", 5);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);

        Log across;
        across.add("meet.name", s("A"), "p1", "Platform 1"); // 1
        across.add("meet", entry({{s("name"), s("B")}}), "desk", "Desk"); // 2
        across.add("meet.name", s("C"), "w", "Warm-up"); // 3
        across.add("meet.name.first", s("D"), "p1", "Platform 1"); // 4: descendant of u's key
        across.add("meet", entry({{s("name"), s("E")}}), "w", "Warm-up"); // 5
        v = across.judge("meet.name", s("X"), "p2", 5);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 4);
        v = across.judge("meet.name", s("X"), "p2", 5, 4);
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, QList<qint64>{5});
        v = across.judge("meet.name", s("X"), "desk2", 10);
        CHECK_VERDICT(v, Verdict::Kind::Rejected); // entry 2 is Desk too: equal stands
        QCOMPARE(v.winnerSeq, 2);
        v = across.judge("meet.name", s("X"), "desk2", 10, 2);
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, (QList<qint64>{3, 4, 5}));
    }

    /// Entries the update saw although they are after afterServerSeqNum (recovered logs) are
    /// skipped; others still count.
    void alsoSeenIsHonoured()
    {
        Log log;
        log.add("meet.name", s("A"), "p1", "Platform 1"); // 1
        log.add("meet.name", s("B"), "desk", "Desk"); // 2
        QList<qint64> asked;
        auto seen1 = [&asked](qint64 seq) {
            asked.append(seq);
            return seq == 1;
        };
        Verdict v = log.judge("meet.name", s("C"), "p2", 5, 0, seen1);
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 2);
        v = log.judge("meet.name", s("C"), "p2", 5, 0, [](qint64 seq) { return seq == 2; });
        CHECK_VERDICT(v, Verdict::Kind::Rejected);
        QCOMPARE(v.winnerSeq, 1);
        v = log.judge("meet.name", s("C"), "p2", 5, 0, [](qint64 seq) { return seq <= 2; });
        CHECK_VERDICT(v, Verdict::Kind::Clean);
        v = log.judge("meet.name", s("C"), "desk2", 10, 0, [](qint64 seq) { return seq == 2; });
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, QList<qint64>{1});
        // Only entries after afterServerSeqNum are asked about.
        asked.clear();
        log.judge("meet.name", s("C"), "p2", 5, 1, seen1);
        QVERIFY(!asked.contains(1));
    }

    /// An entry from a location that is not an endpoint (cannot happen through submit) never wins.
    void unknownLocationNeverWins()
    {
        Log log;
        log.add("meet.name", s("A"), "ghost", "Nowhere"); // 1
        Verdict v = log.judge("meet.name", s("B"), "w", 1);
        CHECK_VERDICT(v, Verdict::Kind::Overrules);
        QCOMPARE(v.overruled, QList<qint64>{1});
    }

    /// differOnOverlap / valueAtPlace directly, both directions.
    void differOnOverlap()
    {
        const QJsonObject bo = entry({{s("name"), s("Bo")}});
        QVERIFY(!ConflictResolver::differOnOverlap(s("a[id=5]"), bo, s("a[id=5].name"), s("Bo")));
        QVERIFY(!ConflictResolver::differOnOverlap(s("a[id=5].name"), s("Bo"), s("a[id=5]"), bo));
        QVERIFY(ConflictResolver::differOnOverlap(s("a[id=5]"), bo, s("a[id=5].name"), s("Al")));
        QVERIFY(ConflictResolver::differOnOverlap(s("a[id=5].name"), s("Al"), s("a[id=5]"), bo));
        QVERIFY(!ConflictResolver::differOnOverlap(s("a[id=5]"), QJsonValue::Null, s("a[id=5]"), QJsonValue::Null));
        QVERIFY(ConflictResolver::differOnOverlap(s("a[id=5]"), QJsonValue::Null, s("a[id=5].name"), s("Bo")));
        QVERIFY(ConflictResolver::differOnOverlap(s("a[id=5].name"), s("Bo"), s("a[id=5]"), QJsonValue::Null));
        // A non-object element value leaves nothing at .name.
        QVERIFY(ConflictResolver::differOnOverlap(s("a[id=5]"), 7, s("a[id=5].name"), s("Bo")));

        const auto at = [](const char* written, const QJsonValue& value, const char* place) {
            return ConflictResolver::valueAtPlace(*KeyPath::parse(s(written), 256, 16), value,
                                                  *KeyPath::parse(s(place), 256, 16));
        };
        QCOMPARE(at("a", entry({{s("b"), QJsonArray{1, 2}}}), "a.b[1]").value_or(QJsonValue()), QJsonValue(2));
        QVERIFY(!at("a", entry({{s("b"), QJsonArray{1, 2}}}), "a.b[2]").has_value());
        QVERIFY(!at("a", 3, "a.b").has_value());
        QVERIFY(!at("a", QJsonArray{entry({{s("id"), 4}})}, "a[id=5]").has_value());
        QCOMPARE(at("a", QJsonArray{entry({{s("id"), 5}, {s("x"), 1}})}, "a[id=5].x").value_or(QJsonValue()),
                 QJsonValue(1));
        QVERIFY(!at("a[id=5]", QJsonValue::Null, "a[id=5]").has_value());
        QVERIFY(at("a.b", QJsonValue::Null, "a.b").value_or(QJsonValue(1)).isNull()); // null is a value here
    }

    /// MeetState stores a non-object written at [id=N] as {"id": N} (MeetState.h), and
    /// valueAtPlace says "the stored element always carries its id": so after e wrote
    /// a[id=5] = 7, the element's id is 5 and u writing a[id=5].id = 5 agrees with it.
    void nonObjectElementCarriesItsId()
    {
        const auto place = *KeyPath::parse(s("a[id=5].id"), 256, 16);
        const auto written = *KeyPath::parse(s("a[id=5]"), 256, 16);
        QCOMPARE(ConflictResolver::valueAtPlace(written, 7, place).value_or(QJsonValue(QJsonValue::Undefined)),
                 QJsonValue(5));
        QVERIFY(!ConflictResolver::differOnOverlap(s("a[id=5]"), 7, s("a[id=5].id"), 5));
    }
};

QTEST_GUILESS_MAIN(TestConflictResolver)
#include "tst_conflictresolver.moc"
