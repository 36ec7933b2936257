// SPDX-License-Identifier: AGPL-3.0-or-later
// EpochHistory (the incarnations of a meet's log) and ConflictRecord (conflicts.json.log lines).
#include "protocol/Messages.h"
#include "sync/ConflictRecord.h"
#include "sync/EpochHistory.h"
#include "util/RandomSource.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

using namespace oll;

namespace {

QString s(const char* text)
{
    return QString::fromUtf8(text);
}

QString epochN(int n)
{
    return QStringLiteral("%1").arg(n, 16, 16, QLatin1Char('0'));
}

ConflictRecord rejected()
{
    ConflictRecord r;
    r.outcome = ConflictRecord::Outcome::Rejected;
    r.timeMs = 1790000000123;
    r.key = s("registration.entries[id=5].name");
    r.value = QJsonObject{{s("first"), s("Al")}, {s("list"), QJsonArray{1, 2.5, QJsonValue::Null}}};
    r.clientId = s("client-2");
    r.localSeqNum = 42;
    r.locationName = s("Platform 2");
    r.priority = 5;
    r.afterServerSeqNum = 17;
    r.winner = ConflictParty{19, s("Desk"), s("desk-client"), 10};
    return r;
}

ConflictRecord overruled()
{
    ConflictRecord r;
    r.outcome = ConflictRecord::Outcome::Overruled;
    r.timeMs = 1790000000456;
    r.key = s("meet.name");
    r.value = s("Winter Open \u00e9\n\"quoted\"");
    r.clientId = s("desk-client");
    r.localSeqNum = 7;
    r.locationName = s("Desk");
    r.priority = 10;
    r.afterServerSeqNum = 3;
    r.recovered = true;
    r.serverSeqNum = 9;
    r.overruled = {ConflictParty{4, s("Platform 1"), s("p1"), 5}, ConflictParty{8, s("Warm-up"), s("w"), -3}};
    return r;
}

void compareParty(const ConflictParty& a, const ConflictParty& b)
{
    QCOMPARE(a.serverSeqNum, b.serverSeqNum);
    QCOMPARE(a.locationName, b.locationName);
    QCOMPARE(a.clientId, b.clientId);
    QCOMPARE(a.priority, b.priority);
}

void compareRecord(const ConflictRecord& a, const ConflictRecord& b)
{
    QCOMPARE(a.outcome, b.outcome);
    QCOMPARE(a.timeMs, b.timeMs);
    QCOMPARE(a.key, b.key);
    QCOMPARE(a.value, b.value);
    QCOMPARE(a.clientId, b.clientId);
    QCOMPARE(a.localSeqNum, b.localSeqNum);
    QCOMPARE(a.locationName, b.locationName);
    QCOMPARE(a.priority, b.priority);
    QCOMPARE(a.afterServerSeqNum, b.afterServerSeqNum);
    QCOMPARE(a.recovered, b.recovered);
    QCOMPARE(a.serverSeqNum, b.serverSeqNum);
    compareParty(a.winner, b.winner);
    QCOMPARE(a.overruled.size(), b.overruled.size());
    for (qsizetype i = 0; i < a.overruled.size(); ++i) {
        compareParty(a.overruled[i], b.overruled[i]);
    }
}

} // namespace

class TestSyncRecords final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- EpochHistory ---------------------------------------------------------------------------

    /// Epochs are 16 lowercase hex digits, reproducible from a seeded source, different each time.
    void mint()
    {
        SeededRandomSource a(7);
        SeededRandomSource b(7);
        QSet<QString> seen;
        for (int i = 0; i < 50; ++i) {
            const QString e = EpochHistory::mint(a);
            QVERIFY2(QRegularExpression(s("^[0-9a-f]{16}$")).match(e).hasMatch(), qPrintable(e));
            QVERIFY(isValidEpoch(e));
            QCOMPARE(EpochHistory::mint(b), e);
            seen.insert(e);
        }
        QCOMPARE(seen.size(), 50);
        QVERIFY(!isValidEpoch(s("9F1C2A7B4D3E5F60")));
        QVERIFY(!isValidEpoch(s("9f1c2a7b4d3e5f6")));
        QVERIFY(!isValidEpoch(s("9f1c2a7b4d3e5f600")));
        QVERIFY(!isValidEpoch(s("9f1c2a7b4d3e5f6g")));
        QVERIFY(!isValidEpoch(QString()));
    }

    /// begin() ends the current epoch at the head it is given; lastSeqOf answers the head for the
    /// current epoch, the remembered lastSeq for a past one, nothing for an unknown one.
    void beginAndLastSeq()
    {
        EpochHistory h;
        QVERIFY(h.current().isEmpty());
        QVERIFY(!h.lastSeqOf(epochN(1), 0).has_value());
        h.begin(epochN(1), 0); // the first load of a new meet: nothing to end
        QCOMPARE(h.current(), epochN(1));
        QCOMPARE(h.lastSeqOf(epochN(1), 12).value_or(-1), 12);
        h.begin(epochN(2), 12);
        QCOMPARE(h.current(), epochN(2));
        QCOMPARE(h.lastSeqOf(epochN(1), 30).value_or(-1), 12);
        QCOMPARE(h.lastSeqOf(epochN(2), 30).value_or(-1), 30);
        h.begin(epochN(3), 30);
        QCOMPARE(h.lastSeqOf(epochN(1), 40).value_or(-1), 12);
        QCOMPARE(h.lastSeqOf(epochN(2), 40).value_or(-1), 30);
        QCOMPARE(h.lastSeqOf(epochN(3), 40).value_or(-1), 40);
        QVERIFY(!h.lastSeqOf(epochN(4), 40).has_value());
        QVERIFY(!h.lastSeqOf(QString(), 40).has_value());
    }

    /// extend() only raises a past epoch's lastSeq; addPast() remembers a restored history.
    void extendAndAddPast()
    {
        EpochHistory h;
        h.begin(epochN(1), 0);
        h.begin(epochN(2), 5);
        h.extend(epochN(1), 9);
        QCOMPARE(h.lastSeqOf(epochN(1), 20).value_or(-1), 9);
        h.extend(epochN(1), 7); // lower: ignored
        QCOMPARE(h.lastSeqOf(epochN(1), 20).value_or(-1), 9);
        h.extend(epochN(8), 7); // unknown: ignored, not added
        QVERIFY(!h.lastSeqOf(epochN(8), 20).has_value());
        h.extend(epochN(2), 100); // the current epoch's lastSeq is always the head
        QCOMPARE(h.lastSeqOf(epochN(2), 20).value_or(-1), 20);

        EpochHistory restored;
        restored.addPast(epochN(7), 0); // RESTORE_MEET: the client's epoch, nothing held yet
        restored.begin(epochN(9), 0);
        QCOMPARE(restored.lastSeqOf(epochN(7), 0).value_or(-1), 0);
        QCOMPARE(restored.current(), epochN(9));
        restored.extend(epochN(7), 250);
        QCOMPARE(restored.lastSeqOf(epochN(7), 250).value_or(-1), 250);
    }

    /// clampTo(head): no past epoch claims more entries than the journal holds at load.
    void clampTo()
    {
        EpochHistory h;
        h.begin(epochN(1), 0);
        h.begin(epochN(2), 40);
        h.begin(epochN(3), 25);
        h.clampTo(30);
        QCOMPARE(h.lastSeqOf(epochN(1), 99).value_or(-1), 30);
        QCOMPARE(h.lastSeqOf(epochN(2), 99).value_or(-1), 25);
        QCOMPARE(h.lastSeqOf(epochN(3), 99).value_or(-1), 99); // current: the head
        h.clampTo(0);
        QCOMPARE(h.lastSeqOf(epochN(1), 0).value_or(-1), 0);
        QCOMPARE(h.lastSeqOf(epochN(2), 0).value_or(-1), 0);
    }

    /// At most maxRemembered past epochs are kept; the oldest go first.
    void oldEpochsAreForgotten()
    {
        EpochHistory h;
        const int n = EpochHistory::maxRemembered + 3;
        for (int i = 1; i <= n + 1; ++i) {
            h.begin(epochN(i), i * 10);
        }
        // Past: epochs 1..n (epoch i ended at head (i+1)*10); the current one is n+1.
        for (int i = 1; i <= 3; ++i) {
            QVERIFY2(!h.lastSeqOf(epochN(i), 0).has_value(), qPrintable(epochN(i)));
        }
        for (int i = 4; i <= n; ++i) {
            QCOMPARE(h.lastSeqOf(epochN(i), 0).value_or(-1), (i + 1) * 10);
        }
        QCOMPARE(h.current(), epochN(n + 1));
        h.addPast(epochN(1000), 1);
        QVERIFY(!h.lastSeqOf(epochN(4), 0).has_value());
        QCOMPARE(h.lastSeqOf(epochN(1000), 0).value_or(-1), 1);
        QCOMPARE(h.toJson().value(s("past")).toArray().size(), EpochHistory::maxRemembered);
    }

    void jsonRoundTrip()
    {
        EpochHistory h;
        h.begin(epochN(1), 0);
        h.begin(epochN(2), 14);
        h.begin(epochN(3), 20);
        h.extend(epochN(1), 16);
        const QJsonObject json = h.toJson();
        QCOMPARE(json.value(s("current")).toString(), epochN(3));
        QString error;
        const auto back = EpochHistory::fromJson(
            QJsonDocument::fromJson(QJsonDocument(json).toJson(QJsonDocument::Compact)).object(), &error);
        QVERIFY2(back.has_value(), qPrintable(error));
        QCOMPARE(back->current(), epochN(3));
        QCOMPARE(back->lastSeqOf(epochN(1), 99).value_or(-1), 16);
        QCOMPARE(back->lastSeqOf(epochN(2), 99).value_or(-1), 20);
        QCOMPARE(back->lastSeqOf(epochN(3), 99).value_or(-1), 99);
        QCOMPARE(back->toJson(), json);
    }

    void jsonErrors_data()
    {
        QTest::addColumn<QJsonObject>("json");
        const QJsonArray goodPast{QJsonObject{{s("epoch"), epochN(1)}, {s("lastSeq"), 3}}};
        QTest::addRow("empty") << QJsonObject{};
        QTest::addRow("current upper case")
            << QJsonObject{{s("current"), s("ABCDEF0123456789")}, {s("past"), goodPast}};
        QTest::addRow("current a number") << QJsonObject{{s("current"), 12}, {s("past"), goodPast}};
        QTest::addRow("past epoch short") << QJsonObject{
            {s("current"), epochN(2)}, {s("past"), QJsonArray{QJsonObject{{s("epoch"), s("abc")}, {s("lastSeq"), 3}}}}};
        QTest::addRow("past lastSeq negative")
            << QJsonObject{{s("current"), epochN(2)},
                           {s("past"), QJsonArray{QJsonObject{{s("epoch"), epochN(1)}, {s("lastSeq"), -1}}}}};
        QTest::addRow("past lastSeq string")
            << QJsonObject{{s("current"), epochN(2)},
                           {s("past"), QJsonArray{QJsonObject{{s("epoch"), epochN(1)}, {s("lastSeq"), s("3")}}}}};
        QTest::addRow("past lastSeq missing")
            << QJsonObject{{s("current"), epochN(2)}, {s("past"), QJsonArray{QJsonObject{{s("epoch"), epochN(1)}}}}};
        QTest::addRow("past entry not an object")
            << QJsonObject{{s("current"), epochN(2)}, {s("past"), QJsonArray{epochN(1)}}};
    }
    void jsonErrors()
    {
        QFETCH(QJsonObject, json);
        QString error;
        QVERIFY(!EpochHistory::fromJson(json, &error).has_value());
        QVERIFY(!error.isEmpty());
        QVERIFY(!EpochHistory::fromJson(json, nullptr).has_value());
    }

    // --- ConflictRecord -------------------------------------------------------------------------

    /// Both outcomes survive a line round trip field for field; a line is one line of compact JSON.
    void recordLineRoundTrip()
    {
        for (const ConflictRecord& r : {rejected(), overruled()}) {
            const QByteArray line = r.toLine();
            QVERIFY(line.endsWith('\n'));
            QCOMPARE(line.count('\n'), 1);
            const auto back = ConflictRecord::fromLine(line);
            QVERIFY2(back.has_value(), line.constData());
            compareRecord(*back, r);
            if (QTest::currentTestFailed()) {
                return;
            }
            const auto noNewline = ConflictRecord::fromLine(line.chopped(1));
            QVERIFY(noNewline.has_value());
            compareRecord(*noNewline, r);
        }
        const QJsonObject rej = rejected().toJson();
        QCOMPARE(rej.value(s("outcome")).toString(), s("rejected"));
        QVERIFY(rej.contains(s("winner")));
        QVERIFY(!rej.contains(s("overruled")));
        QVERIFY(!rej.contains(s("recovered")));
        const QJsonObject over = overruled().toJson();
        QCOMPARE(over.value(s("outcome")).toString(), s("overruled"));
        QCOMPARE(over.value(s("serverSeqNum")).toInteger(), 9);
        QCOMPARE(over.value(s("overruled")).toArray().size(), 2);
        QCOMPARE(over.value(s("recovered")).toBool(), true);

        // A null value is a value, and round-trips as one.
        ConflictRecord n = rejected();
        n.value = QJsonValue::Null;
        const auto back = ConflictRecord::fromLine(n.toLine());
        QVERIFY(back.has_value());
        QVERIFY(back->value.isNull());
    }

    void recordBadLines_data()
    {
        QTest::addColumn<QByteArray>("line");
        QJsonObject good = rejected().toJson();
        auto without = [&](const char* field) {
            QJsonObject o = good;
            o.remove(s(field));
            return QJsonDocument(o).toJson(QJsonDocument::Compact);
        };
        auto withField = [&](const char* field, const QJsonValue& v) {
            QJsonObject o = good;
            o.insert(s(field), v);
            return QJsonDocument(o).toJson(QJsonDocument::Compact);
        };
        QTest::addRow("empty") << QByteArray();
        QTest::addRow("not JSON") << QByteArray("hello");
        QTest::addRow("array") << QByteArray("[1,2]");
        QTest::addRow("torn") << rejected().toLine().left(40);
        QTest::addRow("no outcome") << without("outcome");
        QTest::addRow("unknown outcome") << withField("outcome", s("settled"));
        QTest::addRow("no updateKey") << without("updateKey");
        QTest::addRow("updateKey number") << withField("updateKey", 3);
        QTest::addRow("no updateValue") << without("updateValue");
        QTest::addRow("no clientId") << without("clientId");
        QTest::addRow("localSeqNum string") << withField("localSeqNum", s("42"));
    }
    void recordBadLines()
    {
        QFETCH(QByteArray, line);
        QVERIFY(!ConflictRecord::fromLine(line).has_value());
    }

    /// readConflictLog keeps whole valid lines, counts bad ones (reading on past them), and stops
    /// the valid prefix at the first bad line; a torn last line is neither a record nor bad.
    void readConflictLog()
    {
        const QByteArray a = rejected().toLine();
        const QByteArray b = overruled().toLine();

        ConflictLoad load = oll::readConflictLog(QByteArray());
        QVERIFY(load.records.isEmpty());
        QCOMPARE(load.validBytes, 0);
        QCOMPARE(load.badLines, 0);

        load = oll::readConflictLog(a + b);
        QCOMPARE(load.records.size(), 2);
        compareRecord(load.records[0], rejected());
        compareRecord(load.records[1], overruled());
        QCOMPARE(load.validBytes, a.size() + b.size());
        QCOMPARE(load.badLines, 0);

        // Torn tail: the bytes of a record that never got its newline.
        load = oll::readConflictLog(a + b.left(b.size() / 2));
        QCOMPARE(load.records.size(), 1);
        QCOMPARE(load.validBytes, a.size());
        QCOMPARE(load.badLines, 0);
        // A whole record without its newline is torn too: it was never flushed as a line.
        load = oll::readConflictLog(a + b.chopped(1));
        QCOMPARE(load.records.size(), 1);
        QCOMPARE(load.validBytes, a.size());

        // A bad line in the middle: counted, skipped, the valid prefix ends before it.
        load = oll::readConflictLog(a + "{garbage\n" + b);
        QCOMPARE(load.records.size(), 2);
        QCOMPARE(load.badLines, 1);
        QCOMPARE(load.validBytes, a.size());
        compareRecord(load.records[1], overruled());

        load = oll::readConflictLog("\n" + a);
        QCOMPARE(load.records.size(), 1);
        QCOMPARE(load.badLines, 1);
        QCOMPARE(load.validBytes, 0);

        load = oll::readConflictLog(a + "[]\n" + "{\"outcome\":\"rejected\"}\n" + b + "torn");
        QCOMPARE(load.records.size(), 2);
        QCOMPARE(load.badLines, 2);
        QCOMPARE(load.validBytes, a.size());
    }
};

QTEST_GUILESS_MAIN(TestSyncRecords)
#include "tst_syncrecords.moc"
