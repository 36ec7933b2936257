// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/Journal.h"
#include "storage/JournalDevice.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>

using oll::JournalEntry;
using oll::JournalLoad;
using oll::JournalReader;
using oll::PosixJournalDevice;

namespace {

JournalEntry entry(qint64 seq, const QJsonValue& value = QJsonValue(1))
{
    JournalEntry e;
    e.serverSeqNum = seq;
    e.key = QStringLiteral("meet.name");
    e.value = value;
    e.location = QStringLiteral("Platform A");
    e.clientId = QStringLiteral("client-1");
    e.localSeqNum = seq + 100;
    e.afterServerSeqNum = seq - 1;
    e.timeMs = 1'790'000'000'000 + seq;
    return e;
}

QByteArray lines(qint64 from, qint64 to)
{
    QByteArray out;
    for (qint64 s = from; s <= to; ++s) {
        out += entry(s).toLine();
    }
    return out;
}

bool sameBits(double a, double b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return "<unreadable>";
    }
    return f.readAll();
}

} // namespace

class TestJournal final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// toLine -> fromLine restores every field: unicode, null, nested values, time.
    void lineRoundTrip_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QJsonValue>("value");
        QTest::addColumn<QString>("location");
        QTest::addRow("plain") << "meet.name" << QJsonValue(QStringLiteral("Nationals")) << "Platform A";
        QTest::addRow("unicode") << QStringLiteral("meet.n\u00e4me")
                                 << QJsonValue(QStringLiteral("Gr\u00f6\u00dfe \u2603 \U0001F3CB"))
                                 << QStringLiteral("Plattform \u00dc");
        QTest::addRow("null") << "registration.entries[id=5]" << QJsonValue(QJsonValue::Null) << "A";
        QTest::addRow("bool") << "meet.inKg" << QJsonValue(false) << "A";
        QTest::addRow("newline inside") << "meet.name" << QJsonValue(QStringLiteral("a\nb\r\u2028c\"d\\")) << "A";
        QTest::addRow("nested") << "registration.entries[id=7]"
                                << QJsonValue(
                                       QJsonObject{{QStringLiteral("id"), 7},
                                                   {QStringLiteral("name"), QStringLiteral("J\u00f6rg")},
                                                   {QStringLiteral("squatKg"), QJsonArray{142.88159666981917, 0, -1.5}},
                                                   {QStringLiteral("meta"),
                                                    QJsonObject{{QStringLiteral("x"), QJsonValue::Null},
                                                                {QStringLiteral("y"), QJsonArray{}}}}})
                                << "A";
        QTest::addRow("empty string") << "meet.name" << QJsonValue(QString()) << "";
    }
    void lineRoundTrip()
    {
        QFETCH(QString, key);
        QFETCH(QJsonValue, value);
        QFETCH(QString, location);
        JournalEntry e = entry(42, value);
        e.key = key;
        e.location = location;
        e.timeMs = 1'790'123'456'789;
        const QByteArray line = e.toLine();
        QVERIFY(line.endsWith('\n'));
        QCOMPARE(line.count('\n'), 1); // one entry, one line, whatever the value holds
        QString err;
        const std::optional<JournalEntry> back = JournalEntry::fromLine(line.chopped(1), &err);
        QVERIFY2(back.has_value(), qPrintable(err));
        QCOMPARE(back->serverSeqNum, e.serverSeqNum);
        QCOMPARE(back->key, e.key);
        QCOMPARE(back->value, e.value);
        QCOMPARE(back->value.type(), e.value.type());
        QCOMPARE(back->location, e.location);
        QCOMPARE(back->clientId, e.clientId);
        QCOMPARE(back->localSeqNum, e.localSeqNum);
        QCOMPARE(back->afterServerSeqNum, e.afterServerSeqNum);
        QCOMPARE(back->timeMs, e.timeMs);
        // The line is what fromLine accepts with its newline too.
        QVERIFY(JournalEntry::fromLine(line).has_value());
    }

    /// Doubles in values come back bit-identical through a journal line.
    void doublesBitExact_data()
    {
        QTest::addColumn<double>("d");
        QTest::addRow("20.41165641") << 20.41165641;
        QTest::addRow("142.88159666981917") << 142.88159666981917;
        QTest::addRow("0.1+0.2") << (0.1 + 0.2);
        QTest::addRow("pound") << 0.45359237;
        QTest::addRow("denormal") << 5e-324;
        QTest::addRow("max") << 1.7976931348623157e308;
        QTest::addRow("2^53+2") << 9007199254740994.0;
        QTest::addRow("1e21") << 1e21;
    }
    void doublesBitExact()
    {
        QFETCH(double, d);
        const JournalEntry e = entry(1, QJsonObject{{QStringLiteral("a"), d}, {QStringLiteral("b"), QJsonArray{d}}});
        const JournalEntry scalar = entry(1, d);
        const auto back = JournalEntry::fromLine(e.toLine());
        const auto backScalar = JournalEntry::fromLine(scalar.toLine());
        QVERIFY(back && backScalar);
        const QJsonObject o = back->value.toObject();
        QVERIFY2(sameBits(o.value(QStringLiteral("a")).toDouble(), d), e.toLine().constData());
        QVERIFY(sameBits(o.value(QStringLiteral("b")).toArray().at(0).toDouble(), d));
        QVERIFY2(sameBits(backScalar->value.toDouble(), d), scalar.toLine().constData());
    }

    /// The time field is an ISO 8601 UTC timestamp with milliseconds.
    void timeIsIso()
    {
        JournalEntry e = entry(1);
        e.timeMs = 1'790'000'000'123; // 2026-09-21T14:13:20.123Z
        QVERIFY2(e.toLine().contains("\"time\":\"2026-09-21T14:13:20.123Z\""), e.toLine().constData());
        QVERIFY(e.toLine().contains(".123Z\""));
    }

    /// Lines missing required fields or with invalid ones are refused with a reason.
    void fromLineRejects_data()
    {
        QTest::addColumn<QByteArray>("line");
        QTest::addRow("empty") << QByteArray();
        QTest::addRow("not JSON") << QByteArray("hello");
        QTest::addRow("array") << QByteArray("[1]");
        QTest::addRow("truncated") << entry(1).toLine().left(30);
        QTest::addRow("seq zero") << entry(0).toLine();
        QTest::addRow("no value") << QByteArray(
            R"({"serverSeqNum":1,"key":"a.b","clientId":"c","localSeqNum":1,"afterServerSeqNum":0})");
        QTest::addRow("no key") << QByteArray(
            R"({"serverSeqNum":1,"value":1,"clientId":"c","localSeqNum":1,"afterServerSeqNum":0})");
        QTest::addRow("no clientId") << QByteArray(
            R"({"serverSeqNum":1,"key":"a.b","value":1,"localSeqNum":1,"afterServerSeqNum":0})");
        QTest::addRow("seq string") << QByteArray(
            R"({"serverSeqNum":"1","key":"a.b","value":1,"clientId":"c","localSeqNum":1,"afterServerSeqNum":0})");
        QTest::addRow("negative after") << QByteArray(
            R"({"serverSeqNum":1,"key":"a.b","value":1,"clientId":"c","localSeqNum":1,"afterServerSeqNum":-1})");
    }
    void fromLineRejects()
    {
        QFETCH(QByteArray, line);
        QString err;
        QVERIFY(!JournalEntry::fromLine(line, &err).has_value());
        QVERIFY(!err.isEmpty());
    }

    /// An empty journal reads as zero entries and no damage.
    void readEmpty()
    {
        const JournalLoad l = JournalReader::read(QByteArray());
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 0);
        QCOMPARE(l.validBytes, qint64(0));
        QCOMPARE(l.fileBytes, qint64(0));
        QCOMPARE(l.tornTailBytes, qint64(0));
    }

    /// N good lines read back as N entries in order, all bytes valid.
    void readGood()
    {
        const QByteArray content = lines(1, 50);
        const JournalLoad l = JournalReader::read(content);
        QVERIFY2(l.ok(), qPrintable(l.damage));
        QCOMPARE(l.entries.size(), 50);
        for (int i = 0; i < 50; ++i) {
            QCOMPARE(l.entries[i].serverSeqNum, qint64(i + 1));
        }
        QCOMPARE(l.validBytes, qint64(content.size()));
        QCOMPARE(l.fileBytes, qint64(content.size()));
        QCOMPARE(l.tornTailBytes, qint64(0));
    }

    /// A last line cut short (no newline) is a torn tail: reported, not damage; good entries kept.
    void readTornTailNoNewline()
    {
        const QByteArray good = lines(1, 3);
        const QByteArray partial = entry(4).toLine().left(25);
        const JournalLoad l = JournalReader::read(good + partial);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 3);
        QCOMPARE(l.validBytes, qint64(good.size()));
        QCOMPARE(l.tornTailBytes, qint64(partial.size()));
        QCOMPARE(l.fileBytes, qint64(good.size() + partial.size()));
    }

    /// A complete, valid-looking last line without its newline is still torn (the write did not finish).
    void readWholeLineMissingNewline()
    {
        const QByteArray good = lines(1, 2);
        const QByteArray last = entry(3).toLine().chopped(1);
        const JournalLoad l = JournalReader::read(good + last);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 2);
        QCOMPARE(l.validBytes, qint64(good.size()));
        QCOMPARE(l.tornTailBytes, qint64(last.size()));
    }

    /// A last line that ends in a newline but is not valid JSON is a torn tail too.
    void readTornLastLineWithNewline()
    {
        const QByteArray good = lines(1, 3);
        const QByteArray bad = entry(4).toLine().left(25) + "\n";
        const JournalLoad l = JournalReader::read(good + bad);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 3);
        QCOMPARE(l.validBytes, qint64(good.size()));
        QCOMPARE(l.tornTailBytes, qint64(bad.size()));
    }

    /// Zero bytes after the last line (a crash after the size grew) are a torn tail.
    void readZeroPadding()
    {
        const QByteArray good = lines(1, 4);
        const QByteArray zeros(4096, '\0');
        const JournalLoad l = JournalReader::read(good + zeros);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 4);
        QCOMPARE(l.validBytes, qint64(good.size()));
        QCOMPARE(l.tornTailBytes, qint64(zeros.size()));
    }

    /// Garbage in the middle is damage at that line; entries before it are kept, none after.
    void readGarbageInMiddle()
    {
        const QByteArray before = lines(1, 3);
        const QByteArray content = before + "this is not json\n" + lines(4, 6);
        const JournalLoad l = JournalReader::read(content);
        QVERIFY(!l.ok());
        QCOMPARE(l.damagedLine, 4);
        QVERIFY(!l.damage.isEmpty());
        QCOMPARE(l.entries.size(), 3);
        QCOMPARE(l.validBytes, qint64(before.size()));
        QCOMPARE(l.tornTailBytes, qint64(0));
    }

    /// Zero bytes in the middle (followed by more lines) are damage, not a torn tail.
    void readZerosInMiddle()
    {
        const QByteArray before = lines(1, 2);
        const QByteArray content = before + QByteArray(100, '\0') + "\n" + lines(3, 3);
        const JournalLoad l = JournalReader::read(content);
        QVERIFY(!l.ok());
        QCOMPARE(l.damagedLine, 3);
        QCOMPARE(l.entries.size(), 2);
        QCOMPARE(l.tornTailBytes, qint64(0));
    }

    /// A gap or repeat in serverSeqNum is damage, even on the last line.
    void readSeqErrors_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<int>("damagedLine");
        QTest::addColumn<int>("kept");
        QTest::addRow("gap on last line") << (lines(1, 2) + entry(4).toLine()) << 3 << 2;
        QTest::addRow("repeat on last line") << (lines(1, 2) + entry(2).toLine()) << 3 << 2;
        QTest::addRow("gap in middle") << (lines(1, 2) + lines(4, 6)) << 3 << 2;
        QTest::addRow("repeat in middle") << (lines(1, 3) + lines(3, 5)) << 4 << 3;
        QTest::addRow("starts at 2") << lines(2, 4) << 1 << 0;
        QTest::addRow("goes backwards") << (lines(1, 3) + entry(1).toLine()) << 4 << 3;
    }
    void readSeqErrors()
    {
        QFETCH(QByteArray, content);
        QFETCH(int, damagedLine);
        QFETCH(int, kept);
        const JournalLoad l = JournalReader::read(content);
        QVERIFY(!l.ok());
        QCOMPARE(l.damagedLine, damagedLine);
        QVERIFY2(l.damage.contains(QStringLiteral("serverSeqNum")), qPrintable(l.damage));
        QCOMPARE(l.entries.size(), kept);
        QCOMPARE(l.tornTailBytes, qint64(0));
        QCOMPARE(l.validBytes, qint64(lines(1, kept).size()));
    }

    /// readFile of a missing file is an empty journal; of a real file, its content.
    void readFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString err;
        const JournalLoad none = JournalReader::readFile(dir.filePath(QStringLiteral("absent.log")), &err);
        QVERIFY(none.ok());
        QCOMPARE(none.entries.size(), 0);
        QFile f(dir.filePath(QStringLiteral("updates.json.log")));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(lines(1, 5) + "{\"torn");
        f.close();
        const JournalLoad l = JournalReader::readFile(f.fileName(), &err);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 5);
        QCOMPARE(l.tornTailBytes, qint64(6));
    }

    /// PosixJournalDevice creates the file, appends, reports size, truncates, and reopens at the end.
    void posixDevice()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("updates.json.log"));
        QVERIFY(!QFile::exists(path));
        QString err;
        {
            auto dev = PosixJournalDevice::open(path, &err);
            QVERIFY2(dev, qPrintable(err));
            QVERIFY(QFile::exists(path));
            QCOMPARE(dev->size(), qint64(0));
            QVERIFY(dev->append("abc\n"));
            QCOMPARE(dev->size(), qint64(4));
            QVERIFY(dev->append("defgh\n"));
            QCOMPARE(dev->size(), qint64(10));
            QVERIFY(dev->sync());
            QCOMPARE(readAll(path), QByteArray("abc\ndefgh\n"));
            QVERIFY(dev->truncate(4));
            QCOMPARE(dev->size(), qint64(4));
            QCOMPARE(readAll(path), QByteArray("abc\n"));
            // After a truncate, appends continue at the new end.
            QVERIFY(dev->append("xy\n"));
            QCOMPARE(dev->size(), qint64(7));
            QCOMPARE(readAll(path), QByteArray("abc\nxy\n"));
            QVERIFY(dev->append(QByteArray()));
            QCOMPARE(dev->size(), qint64(7));
        }
        {
            auto dev = PosixJournalDevice::open(path, &err);
            QVERIFY2(dev, qPrintable(err));
            QCOMPARE(dev->size(), qint64(7));
            QVERIFY(dev->append("z\n"));
            QVERIFY(dev->sync());
            QCOMPARE(dev->size(), qint64(9));
        }
        QCOMPARE(readAll(path), QByteArray("abc\nxy\nz\n"));
        QCOMPARE(QFile(path).permissions() & (QFile::ReadOther | QFile::WriteOther | QFile::ReadGroup),
                 QFile::Permissions());
    }

    /// Opening a journal in a missing directory fails with a message naming the path.
    void posixDeviceOpenFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("no/such/dir/updates.json.log"));
        QString err;
        QVERIFY(!PosixJournalDevice::open(path, &err));
        QVERIFY2(err.contains(path), qPrintable(err));
    }

    /// Entries written through the device read back through the reader.
    void deviceThenReader()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("updates.json.log"));
        QString err;
        auto dev = PosixJournalDevice::open(path, &err);
        QVERIFY2(dev, qPrintable(err));
        for (int s = 1; s <= 20; ++s) {
            QVERIFY(dev->append(entry(s, QJsonValue(s * 0.1)).toLine()));
        }
        QVERIFY(dev->sync());
        const JournalLoad l = JournalReader::readFile(path, &err);
        QVERIFY(l.ok());
        QCOMPARE(l.entries.size(), 20);
        QCOMPARE(l.validBytes, dev->size());
        QVERIFY(sameBits(l.entries[2].value.toDouble(), 3 * 0.1));
    }
};

QTEST_GUILESS_MAIN(TestJournal)
#include "tst_journal.moc"
