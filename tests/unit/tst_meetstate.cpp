// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/MeetState.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using oll::KeyPath;
using oll::MeetState;

namespace {

KeyPath key(const char* text)
{
    const auto k = KeyPath::parse(QString::fromLatin1(text), 256, 16);
    Q_ASSERT(k);
    return *k;
}

QJsonObject fixture()
{
    QFile f(QStringLiteral(OLL_TEST_DATA_DIR "/meets/midmeet-kg.openlifter"));
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(f.readAll()).object();
}

} // namespace

class TestMeetState final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Fields create the objects on their way; values read back from the same key.
    void fieldsCreateObjects()
    {
        MeetState s;
        QVERIFY(s.apply(key("meet.name"), QStringLiteral("Canterbury Winter Open")));
        QVERIFY(s.apply(key("meet.plates"), QJsonArray{25, 20, 15}));
        QCOMPARE(s.valueAt(key("meet.name"))->toString(), QStringLiteral("Canterbury Winter Open"));
        QCOMPARE(s.valueAt(key("meet.plates[1]"))->toInt(), 20);
        QVERIFY(!s.valueAt(key("meet.city")).has_value());
        QVERIFY(!s.valueAt(key("lifting.day")).has_value());
        QCOMPARE(s.document().value(QStringLiteral("meet")).toObject().size(), 2);
    }

    /// [id=N]: set appends (id forced), set again replaces in place, null deletes, a field write
    /// below an absent entry is ignored.
    void entriesById()
    {
        MeetState s;
        QVERIFY(s.apply(key("registration.entries[id=5001]"),
                        QJsonObject{{QStringLiteral("id"), 5001}, {QStringLiteral("name"), QStringLiteral("A")}}));
        QVERIFY(
            s.apply(key("registration.entries[id=5002]"), QJsonObject{{QStringLiteral("name"), QStringLiteral("B")}}));
        QCOMPARE(s.valueAt(key("registration.entries[id=5002].id"))->toInteger(), 5002);
        QVERIFY(s.apply(key("registration.entries[id=5001].bodyweightKg"), 82.35));
        QCOMPARE(s.valueAt(key("registration.entries[0].bodyweightKg"))->toDouble(), 82.35);

        QVERIFY(s.apply(key("registration.entries[id=5001]"), QJsonValue::Null));
        QVERIFY(!s.valueAt(key("registration.entries[id=5001]")).has_value());
        QCOMPARE(s.valueAt(key("registration.entries[0].name"))->toString(), QStringLiteral("B"));
        // Editing the deleted entry changes nothing: no half entry comes back.
        const QJsonObject before = s.document();
        QVERIFY(!s.apply(key("registration.entries[id=5001].name"), QStringLiteral("ghost")));
        QCOMPARE(s.document(), before);
        // Deleting what is not there is a no-op, not an error.
        QVERIFY(s.apply(key("registration.entries[id=9999]"), QJsonValue::Null));
        QCOMPARE(s.document(), before);
    }

    /// Indexes overwrite or append; past the end they are ignored (no padding a client controls).
    void indexesNeverPad()
    {
        MeetState s;
        QVERIFY(s.apply(key("meet.plates"), QJsonArray{25, 20}));
        QVERIFY(s.apply(key("meet.plates[1]"), 15));
        QVERIFY(s.apply(key("meet.plates[2]"), 10));
        QCOMPARE(s.valueAt(key("meet.plates"))->toArray(), (QJsonArray{25, 15, 10}));
        QVERIFY(!s.apply(key("meet.plates[4]"), 5));
        QVERIFY(!s.apply(key("meet.plates[9007199254740991]"), 5));
        QCOMPARE(s.valueAt(key("meet.plates"))->toArray().size(), 3);
    }

    /// A container of the wrong type on the way is replaced by the type the next segment needs.
    void wrongTypesAreReplaced()
    {
        MeetState s;
        QVERIFY(s.apply(key("meet"), QStringLiteral("not an object")));
        QVERIFY(s.apply(key("meet.name"), QStringLiteral("X")));
        QCOMPARE(s.valueAt(key("meet"))->toObject(), (QJsonObject{{QStringLiteral("name"), QStringLiteral("X")}}));
        QVERIFY(s.apply(key("meet.plates"), 7));
        QVERIFY(s.apply(key("meet.plates[0]"), 25));
        QCOMPARE(s.valueAt(key("meet.plates"))->toArray(), QJsonArray{25});
    }

    /// null is a value for fields and indexes (only [id=N] = null deletes).
    void nullIsAValue()
    {
        MeetState s;
        QVERIFY(s.apply(key("meet.name"), QJsonValue::Null));
        QVERIFY(s.valueAt(key("meet.name")).has_value());
        QVERIFY(s.valueAt(key("meet.name"))->isNull());
    }

    /// A real saved meet: loading it as whole slices equals building it entry by entry and field
    /// by field, and every attempt reads back bit-exactly.
    void fixtureBuiltTwoWaysIsEqual()
    {
        const QJsonObject state = fixture();
        QVERIFY2(state.contains(QStringLiteral("registration")),
                 "tests/data/meets/midmeet-kg.openlifter is not readable");
        MeetState whole;
        for (const QString& slice :
             {QStringLiteral("meet"), QStringLiteral("registration"), QStringLiteral("lifting")}) {
            QVERIFY(whole.apply(*KeyPath::parse(slice, 256, 16), state.value(slice)));
        }

        MeetState pieces;
        QVERIFY(pieces.apply(key("meet"), state.value(QStringLiteral("meet"))));
        QVERIFY(pieces.apply(key("lifting"), state.value(QStringLiteral("lifting"))));
        const QJsonObject reg = state.value(QStringLiteral("registration")).toObject();
        QVERIFY(pieces.apply(key("registration.nextEntryId"), reg.value(QStringLiteral("nextEntryId"))));
        QVERIFY(pieces.apply(key("registration.lookup"), reg.value(QStringLiteral("lookup"))));
        const QJsonArray entries = reg.value(QStringLiteral("entries")).toArray();
        QVERIFY(entries.size() >= 30);
        for (const QJsonValue& e : entries) {
            const QJsonObject entry = e.toObject();
            const QString base
                = QStringLiteral("registration.entries[id=%1]").arg(entry.value(QStringLiteral("id")).toInteger());
            // Start from an entry without its attempts, then write each attempt field by field.
            QJsonObject bare = entry;
            for (const char* lift : {"squatKg", "benchKg", "deadliftKg"}) {
                bare.insert(QLatin1String(lift), QJsonArray{0, 0, 0, 0, 0});
            }
            QVERIFY(pieces.apply(*KeyPath::parse(base, 256, 16), bare));
            for (const char* lift : {"squatKg", "benchKg", "deadliftKg"}) {
                const QJsonArray kg = entry.value(QLatin1String(lift)).toArray();
                for (qsizetype i = 0; i < kg.size(); ++i) {
                    QVERIFY(pieces.apply(
                        *KeyPath::parse(QStringLiteral("%1.%2[%3]").arg(base, QLatin1String(lift)).arg(i), 256, 16),
                        kg.at(i)));
                }
            }
        }
        QCOMPARE(pieces.document(), whole.document());
        const QJsonValue first = entries.first().toObject().value(QStringLiteral("bodyweightKg"));
        const double read
            = whole
                  .valueAt(*KeyPath::parse(QStringLiteral("registration.entries[id=%1].bodyweightKg")
                                               .arg(entries.first().toObject().value(QStringLiteral("id")).toInteger()),
                                           256, 16))
                  ->toDouble();
        const double original = first.toDouble();
        QVERIFY(std::memcmp(&read, &original, sizeof read) == 0);
    }
};

QTEST_GUILESS_MAIN(TestMeetState)
#include "tst_meetstate.moc"
