// SPDX-License-Identifier: AGPL-3.0-or-later
// Meet's sync additions on a real meet directory: conflicts (recorded before anyone hears of
// them), compacted pulls (a property test against replay), recovery from clients' logs, and
// whenDurable. File work runs inline (ioPool nullptr) unless a test needs it on a pool.
#include "FaultyJournalDevice.h"
#include "storage/Journal.h"
#include "sync/Meet.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QThreadPool>

#include <memory>
#include <random>

using namespace oll;

namespace {

const QString kEpochA = QStringLiteral("aaaaaaaaaaaaaaaa");
const QString kEpochB = QStringLiteral("bbbbbbbbbbbbbbbb");
const QString kEpochUnknown = QStringLiteral("0123456789abcdef");

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

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

JournalEntry entry(qint64 seq, const char* key, const QJsonValue& value, const char* clientId, const char* location,
                   qint64 lsn, qint64 after = 0)
{
    JournalEntry e;
    e.serverSeqNum = seq;
    e.key = s(key);
    e.value = value;
    e.clientId = s(clientId);
    e.location = s(location);
    e.localSeqNum = lsn;
    e.afterServerSeqNum = after;
    e.timeMs = 1790000000000;
    e.approxBytes = 200;
    return e;
}

RecoveredEntry pushed(qint64 seq, const char* key, const QJsonValue& value, const char* clientId, const char* location,
                      qint64 lsn, qint64 after)
{
    RecoveredEntry r;
    r.serverSeqNum = seq;
    r.key = s(key);
    r.value = value;
    r.clientId = s(clientId);
    r.localSeqNum = lsn;
    r.locationName = s(location);
    r.afterServerSeqNum = after;
    return r;
}

/// What recover() reported through `done`.
struct Recovered
{
    int calls = 0;
    bool ok = false;
    Meet::RecoveryResult result;
    qint64 durableAtDone = -1;
};

/// recover() on a meet with inline file work: `done` has run by the time it returns.
Recovered recoverInline(Meet& meet, const QString& epoch, const QList<RecoveredEntry>& entries)
{
    auto out = std::make_shared<Recovered>();
    meet.recover(epoch, entries, [out, &meet](bool ok, const Meet::RecoveryResult& r) {
        ++out->calls;
        out->ok = ok;
        out->result = r;
        out->durableAtDone = meet.durableSeq();
    });
    return *out;
}

QJsonValue at(const MeetState& state, const QString& key)
{
    const auto k = KeyPath::parse(key, 256, 16);
    return k ? state.valueAt(*k).value_or(QJsonValue(QJsonValue::Undefined)) : QJsonValue(QJsonValue::Undefined);
}

struct Commit
{
    QList<JournalEntry> entries;
    QHash<quint64, QList<Meet::Ack>> acks;
    QHash<quint64, QList<Meet::Rejection>> rejections;
    QList<ConflictRecord> onDisk; // conflicts.json.log as it was when the signal came
    QByteArray journalOnDisk;
};

/// A meet directory and a Meet over it; history entries are written to the journal first.
struct Rig
{
    QTemporaryDir dir;
    ManualClock clock;
    SeededRandomSource random{99};
    Limits limits;
    std::unique_ptr<Meet> meet;
    QList<Commit> commits;
    QList<QString> events; // "committed", "conflict", ... in signal order
    std::shared_ptr<test::JournalFaults> faults; // set: the journal is a FaultyJournalDevice

    ~Rig()
    {
        if (faults) {
            // Never leave a flush stuck in a gated sync: the meet's destructor waits for it.
            faults->gateSync = false;
            faults->releaseSync.release(1000);
        }
        meet.reset();
    }

    QString path() const { return dir.path(); }

    /// Waits (running the event loop, which starts flushes) until a gated sync() is entered.
    bool syncEntered()
    {
        return QTest::qWaitFor([this] { return faults->syncEntered.tryAcquire(); }, 10000);
    }

    /// Opens the meet. Without epochs in `history`, the current epoch is kEpochB.
    bool open(Meet::History history = {}, QThreadPool* pool = nullptr)
    {
        if (!dir.isValid()) {
            return false;
        }
        if (history.epochs.current().isEmpty()) {
            history.epochs.begin(kEpochB, 0);
        }
        QString error;
        auto journal = PosixJournalDevice::open(Meet::journalPath(path()), &error);
        auto conflictLog = PosixJournalDevice::open(Meet::conflictsPath(path()), &error);
        if (!journal || !conflictLog) {
            qWarning() << error;
            return false;
        }
        if (journal->size() == 0 && !history.entries.isEmpty()) {
            QByteArray bytes;
            for (const JournalEntry& e : history.entries) {
                bytes += e.toLine();
            }
            if (!journal->append(bytes) || !journal->sync()) {
                return false;
            }
        }
        if (faults) {
            journal = std::make_unique<test::FaultyJournalDevice>(std::move(journal), faults);
        }
        meet = std::make_unique<Meet>(config(), path(), std::move(journal), std::move(conflictLog), std::move(history),
                                      pool, clock, random, limits);
        QObject::connect(meet.get(), &Meet::committed,
                         [this](const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                                const QHash<quint64, QList<Meet::Rejection>>& rejections) {
                             Commit c{entries, acks, rejections, {}, {}};
                             c.onDisk = readConflictLog(readFile(Meet::conflictsPath(path()))).records;
                             c.journalOnDisk = readFile(Meet::journalPath(path()));
                             commits.append(c);
                             events.append(s("committed"));
                         });
        QObject::connect(meet.get(), &Meet::conflictRecorded,
                         [this](const ConflictRecord&) { events.append(s("conflictRecorded")); });
        QObject::connect(meet.get(), &Meet::commitFailed,
                         [this](const QHash<quint64, QList<qint64>>&, const QString&) { events.append(s("failed")); });
        return true;
    }

    /// Reopens the directory as a server restart would (same epochs, files as they are).
    bool reopen(const QString& newEpoch)
    {
        EpochHistory epochs = meet->epochs();
        meet.reset();
        commits.clear();
        events.clear();
        QString error;
        JournalLoad load = JournalReader::readFile(Meet::journalPath(path()), &error);
        if (!load.ok()) {
            return false;
        }
        Meet::History h;
        h.entries = load.entries;
        epochs.begin(newEpoch, load.entries.size());
        h.epochs = epochs;
        h.conflicts = readConflictLog(readFile(Meet::conflictsPath(path()))).records;
        return open(std::move(h));
    }

    Session session(const char* clientId, const char* location, Role role = Role::Update)
    {
        return meet->sessions().issue(s(clientId), s(location), role).session;
    }

    Meet::SubmitResult submit(quint64 connection, const Session& session, qint64 lsn, qint64 after, const char* key,
                              const QJsonValue& value)
    {
        return meet->submit(connection, session, {UpdateRequest{lsn, after, s(key), value}});
    }
};

/// History: entries 1..3 of epoch A (which ended at 3), current epoch B.
Meet::History pastEpochHistory()
{
    Meet::History h;
    h.entries = {entry(1, "meet.name", s("Open"), "desk", "Desk", 1, 0),
                 entry(2, "meet.date", s("2025-06-01"), "desk", "Desk", 2, 1),
                 entry(3, "meet.city", s("Hamilton"), "p1", "Platform 1", 1, 2)};
    h.epochs.begin(kEpochA, 0);
    h.epochs.begin(kEpochB, 3);
    return h;
}

void compareRejection(const Meet::Rejection& a, const Meet::Rejection& b)
{
    QCOMPARE(a.localSeqNum, b.localSeqNum);
    QCOMPARE(a.code, b.code);
    QCOMPARE(a.reason, b.reason);
    QCOMPARE(a.conflict, b.conflict);
    QCOMPARE(a.key, b.key);
    QCOMPARE(a.winner.serverSeqNum, b.winner.serverSeqNum);
    QCOMPARE(a.winner.locationName, b.winner.locationName);
    QCOMPARE(a.winner.clientId, b.winner.clientId);
    QCOMPARE(a.winner.priority, b.winner.priority);
}

// --- Random writes for the compaction property ----------------------------------------------

struct Gen
{
    std::mt19937_64 rng;
    explicit Gen(std::uint64_t seed)
        : rng(seed)
    {
    }
    int pick(int n) { return static_cast<int>(std::uniform_int_distribution<int>(0, n - 1)(rng)); }
    bool chance(int percent) { return pick(100) < percent; }

    QJsonValue scalar()
    {
        switch (pick(5)) {
        case 0:
            return pick(4);
        case 1:
            return QStringLiteral("s%1").arg(pick(4));
        case 2:
            return QJsonValue::Null;
        case 3:
            return chance(50);
        default:
            return 2.5 * pick(3);
        }
    }
    QJsonArray smallArray()
    {
        QJsonArray a;
        for (int i = pick(4); i > 0; --i) {
            a.append(pick(3) == 0 ? QJsonValue(QJsonObject{{s("x"), scalar()}}) : scalar());
        }
        return a;
    }
    qint64 id() { return QList<qint64>{1, 2, 3, 5, 50}[pick(5)]; }
    QJsonObject element(bool withId)
    {
        QJsonObject o{{s("name"), scalar()}, {s("lifts"), smallArray()}};
        if (withId) {
            o.insert(s("id"), id());
        }
        if (chance(30)) {
            o.insert(s("team"), scalar());
        }
        return o;
    }
    QJsonArray entries()
    {
        QJsonArray a;
        for (int i = pick(4); i > 0; --i) {
            a.append(chance(80) ? QJsonValue(element(true)) : scalar());
        }
        return a;
    }

    /// One write over a small key space: fields, [index] (incl. append at len and past the end),
    /// [id=N] set/delete/below (incl. below deleted), ancestor overwrites and type changes.
    std::pair<QString, QJsonValue> write(const MeetState& state)
    {
        const auto length = [&](const char* key) -> int {
            const QJsonValue v = at(state, s(key));
            return v.isArray() ? static_cast<int>(v.toArray().size()) : 0;
        };
        switch (pick(22)) {
        case 0:
            return {s("meet"), QJsonObject{{s("name"), scalar()}, {s("plates"), smallArray()}}};
        case 1:
        case 2:
            return {s("meet.name"), scalar()};
        case 3:
            return {s("meet.plates"), smallArray()};
        case 4:
        case 5:
            return {QStringLiteral("meet.plates[%1]").arg(pick(length("meet.plates") + 2)), scalar()};
        case 6:
            return {s("meet.platesX"), scalar()};
        case 7:
        case 8:
            return {QStringLiteral("registration.entries[id=%1]").arg(id()),
                    chance(35) ? QJsonValue(QJsonValue::Null) : (chance(85) ? QJsonValue(element(false)) : scalar())};
        case 9:
        case 10:
            return {QStringLiteral("registration.entries[id=%1].name").arg(id()), scalar()};
        case 11:
            return {QStringLiteral("registration.entries[id=%1].lifts[%2]").arg(id()).arg(pick(4)), scalar()};
        case 12:
            return {QStringLiteral("registration.entries[%1]").arg(pick(length("registration.entries") + 2)),
                    chance(80) ? QJsonValue(element(true)) : scalar()};
        case 13:
            return {QStringLiteral("registration.entries[%1].name").arg(pick(length("registration.entries") + 1)),
                    scalar()};
        case 14:
            return {s("registration"), QJsonObject{{s("entries"), entries()}, {s("nextEntryId"), pick(9)}}};
        case 15:
            return {s("registration.entries"), entries()};
        case 16:
            return {s("registration.nextEntryId"), pick(9)};
        case 17:
            return {s("lifting"), chance(50) ? QJsonValue(QJsonObject{{s("day"), pick(3)}}) : scalar()};
        case 18:
            return {s("lifting.day"), pick(3)};
        case 19:
            return {QStringLiteral("lifting.flights[%1].name").arg(pick(3)), scalar()};
        case 20:
            return {QList<QString>{s("a"), s("a.b"), s("a.b.c"), s("ab")}[pick(4)],
                    chance(50) ? scalar() : QJsonValue(smallArray())};
        default:
            return {QStringLiteral("a[%1]").arg(pick(2)), scalar()};
        }
    }
};

QString shortJson(const QJsonObject& o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)).left(1500);
}

} // namespace

class TestMeetSync final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // --- Conflicts --------------------------------------------------------------------------------

    /// A rejection reaches `committed` only once its record is in conflicts.json.log; it is never
    /// sequenced; its resend gets the same rejection at once and is never applied; a reused
    /// localSeqNum with other content is told apart.
    void rejectionRecordedBeforeCommitted()
    {
        Rig rig;
        QVERIFY(rig.open());
        Meet& meet = *rig.meet;
        const Session p1 = rig.session("p1", "Platform 1");
        const Session p2 = rig.session("p2", "Platform 2");

        Meet::SubmitResult r = rig.submit(1, p1, 1, 0, "meet.name", s("A"));
        QVERIFY(r.rejections.isEmpty() && r.immediateAcks.isEmpty() && r.notStored.isEmpty());
        QCOMPARE(rig.commits.size(), 1);
        QCOMPARE(rig.commits[0].entries.size(), 1);
        QCOMPARE(rig.commits[0].acks.value(1).size(), 1);
        QCOMPARE(rig.commits[0].acks.value(1)[0].serverSeqNum, 1);
        QVERIFY(rig.commits[0].onDisk.isEmpty());

        r = rig.submit(2, p2, 1, 0, "meet.name", s("B"));
        // Conflict rejections are not immediate: they come with the flush that records them.
        QVERIFY(r.rejections.isEmpty() && r.immediateAcks.isEmpty() && r.notStored.isEmpty());
        QCOMPARE(rig.commits.size(), 2);
        const Commit& c = rig.commits[1];
        QVERIFY(c.entries.isEmpty());
        QVERIFY(c.acks.isEmpty());
        QCOMPARE(c.rejections.size(), 1);
        const QList<Meet::Rejection> rejections = c.rejections.value(2);
        QCOMPARE(rejections.size(), 1);
        const Meet::Rejection first = rejections[0];
        QCOMPARE(first.localSeqNum, 1);
        QVERIFY(first.conflict);
        QCOMPARE(first.code, s("CONFLICT"));
        QCOMPARE(first.key, s("meet.name"));
        QCOMPARE(first.winner.serverSeqNum, 1);
        QCOMPARE(first.winner.locationName, s("Platform 1"));
        QCOMPARE(first.winner.clientId, s("p1"));
        QCOMPARE(first.winner.priority, 5);
        QCOMPARE(first.currentValue.value_or(QJsonValue(QJsonValue::Undefined)), QJsonValue(s("A")));
        QVERIFY2(first.reason.contains(s("Platform 1")) && first.reason.contains(s("1")), qPrintable(first.reason));

        // The record was on disk when the signal came.
        QCOMPARE(c.onDisk.size(), 1);
        const ConflictRecord& rec = c.onDisk[0];
        QCOMPARE(rec.outcome, ConflictRecord::Outcome::Rejected);
        QCOMPARE(rec.key, s("meet.name"));
        QCOMPARE(rec.value, QJsonValue(s("B")));
        QCOMPARE(rec.clientId, s("p2"));
        QCOMPARE(rec.localSeqNum, 1);
        QCOMPARE(rec.locationName, s("Platform 2"));
        QCOMPARE(rec.priority, 5);
        QCOMPARE(rec.winner.serverSeqNum, 1);
        QVERIFY(!rec.recovered);
        QCOMPARE(meet.conflictCount(), 1);
        QCOMPARE(rig.events, (QList<QString>{s("committed"), s("committed"), s("conflictRecorded")}));

        // Never sequenced.
        QCOMPARE(meet.assignedSeq(), 1);
        QCOMPARE(meet.durableSeq(), 1);
        QCOMPARE(at(meet.state(), s("meet.name")), QJsonValue(s("A")));

        // The resend: the same rejection at once, nothing new recorded or flushed.
        const QByteArray journalBefore = readFile(Meet::journalPath(rig.path()));
        const QByteArray conflictsBefore = readFile(Meet::conflictsPath(rig.path()));
        r = rig.submit(3, p2, 1, 0, "meet.name", s("B"));
        QVERIFY(r.immediateAcks.isEmpty());
        QCOMPARE(r.rejections.size(), 1);
        compareRejection(r.rejections[0], first);
        QCOMPARE(r.rejections[0].currentValue.value_or(QJsonValue(QJsonValue::Undefined)), QJsonValue(s("A")));
        QCOMPARE(rig.commits.size(), 2);
        QCOMPARE(meet.assignedSeq(), 1);
        QCOMPARE(meet.conflictCount(), 1);
        QCOMPARE(readFile(Meet::journalPath(rig.path())), journalBefore);
        QCOMPARE(readFile(Meet::conflictsPath(rig.path())), conflictsBefore);

        // Same localSeqNum, other content: not a resend.
        r = rig.submit(3, p2, 1, 0, "meet.name", s("C"));
        QCOMPARE(r.rejections.size(), 1);
        QCOMPARE(r.rejections[0].code, s("LOCAL_SEQ_REUSED"));
        QVERIFY(!r.rejections[0].conflict);
        QCOMPARE(meet.assignedSeq(), 1);

        // After a restart the rejection is remembered from conflicts.json.log.
        QVERIFY(rig.reopen(kEpochA));
        const Session p2again = rig.session("p2", "Platform 2");
        r = rig.submit(4, p2again, 1, 0, "meet.name", s("B"));
        QCOMPARE(r.rejections.size(), 1);
        compareRejection(r.rejections[0], first);
        QCOMPARE(rig.meet->assignedSeq(), 1);
        QVERIFY(rig.commits.isEmpty());
    }

    /// A higher priority overrules: sequenced, acked and relayed as usual, its record (listing
    /// the overruled entries) durable before `committed`. A batch mixing an accepted update and
    /// a conflict rejection releases both with the one flush that holds the entry and the record.
    void overruleAndMixedBatch()
    {
        Rig rig;
        QVERIFY(rig.open());
        Meet& meet = *rig.meet;
        const Session p1 = rig.session("p1", "Platform 1");
        const Session w = rig.session("w", "Warm-up");
        const Session desk = rig.session("desk", "Desk");
        rig.submit(1, p1, 1, 0, "meet.name", s("A")); // 1
        rig.submit(2, w, 1, 0, "meet.city", s("X")); // 2
        // Warm-up (1) writes the ancestor `meet`, which changes p1's unseen name (Platform 1, 5): rejected.
        rig.submit(2, w, 2, 0, "meet", QJsonObject{{s("name"), s("W")}, {s("city"), s("X")}});
        QCOMPARE(meet.conflictCount(), 1);
        QCOMPARE(meet.conflicts()[0].outcome, ConflictRecord::Outcome::Rejected);
        QCOMPARE(meet.conflicts()[0].winner.serverSeqNum, 1);
        QCOMPARE(meet.assignedSeq(), 2);

        rig.commits.clear();
        rig.events.clear();
        const Meet::SubmitResult r = rig.submit(3, desk, 1, 0, "meet", QJsonObject{{s("name"), s("D")}});
        QVERIFY(r.rejections.isEmpty() && r.immediateAcks.isEmpty());
        QCOMPARE(rig.commits.size(), 1);
        const Commit& c = rig.commits[0];
        QCOMPARE(c.entries.size(), 1);
        QCOMPARE(c.entries[0].serverSeqNum, 3);
        QCOMPARE(c.acks.value(3).size(), 1);
        QCOMPARE(c.acks.value(3)[0].serverSeqNum, 3);
        QVERIFY(c.rejections.isEmpty());
        QCOMPARE(c.onDisk.size(), 2);
        const ConflictRecord& rec = c.onDisk[1];
        QCOMPARE(rec.outcome, ConflictRecord::Outcome::Overruled);
        QCOMPARE(rec.serverSeqNum, 3);
        QCOMPARE(rec.clientId, s("desk"));
        QCOMPARE(rec.priority, 10);
        QCOMPARE(rec.overruled.size(), 2); // p1's name (1) and w's city (2): both differ from {"name":"D"}
        QCOMPARE(rec.overruled[0].serverSeqNum, 1);
        QCOMPARE(rec.overruled[0].locationName, s("Platform 1"));
        QCOMPARE(rec.overruled[0].clientId, s("p1"));
        QCOMPARE(rec.overruled[0].priority, 5);
        QCOMPARE(rec.overruled[1].serverSeqNum, 2);
        QCOMPARE(rec.overruled[1].priority, 1);
        QVERIFY(c.journalOnDisk.endsWith(c.entries[0].toLine()));
        QCOMPARE(rig.events, (QList<QString>{s("committed"), s("conflictRecorded")}));
        QCOMPARE(at(meet.state(), s("meet")), QJsonValue(QJsonObject{{s("name"), s("D")}}));

        // One batch: an accepted update and a conflicting one, from the same connection.
        rig.commits.clear();
        const Meet::SubmitResult mixed
            = meet.submit(1, p1,
                          {UpdateRequest{2, 3, s("meet.venue"), s("Hall")},
                           UpdateRequest{3, 2, s("meet.name"), s("P")}}); // did not see the Desk's seq 3
        QVERIFY(mixed.rejections.isEmpty() && mixed.immediateAcks.isEmpty());
        QCOMPARE(rig.commits.size(), 1);
        const Commit& m = rig.commits[0];
        QCOMPARE(m.entries.size(), 1);
        QCOMPARE(m.entries[0].key, s("meet.venue"));
        QCOMPARE(m.acks.value(1).size(), 1);
        QCOMPARE(m.acks.value(1)[0].localSeqNum, 2);
        QCOMPARE(m.rejections.value(1).size(), 1);
        const Meet::Rejection rej = m.rejections.value(1).value(0);
        QCOMPARE(rej.localSeqNum, 3);
        QCOMPARE(rej.winner.serverSeqNum, 3);
        QCOMPARE(rej.winner.locationName, s("Desk"));
        QCOMPARE(rej.currentValue.value_or(QJsonValue(QJsonValue::Undefined)), QJsonValue(s("D")));
        QCOMPARE(m.onDisk.size(), 3);
        QCOMPARE(m.onDisk[2].localSeqNum, 3);
        QCOMPARE(meet.assignedSeq(), 4);
    }

    /// Rejections name "nothing" when nothing is at the key, and a same-value write is no conflict.
    void currentValueAbsentAndSameValue()
    {
        Rig rig;
        QVERIFY(rig.open());
        const Session p1 = rig.session("p1", "Platform 1");
        const Session p2 = rig.session("p2", "Platform 2");
        rig.submit(1, p1, 1, 0, "registration.entries[id=5]", QJsonObject{{s("name"), s("Bo")}}); // 1
        rig.submit(1, p1, 2, 1, "registration.entries[id=5]", QJsonValue::Null); // 2: deleted
        rig.submit(2, p2, 1, 1, "registration.entries[id=5].name", s("Bo")); // based on 1: deleted under it
        QCOMPARE(rig.commits.size(), 3);
        const QList<Meet::Rejection> rej = rig.commits[2].rejections.value(2);
        QCOMPARE(rej.size(), 1);
        QCOMPARE(rej[0].winner.serverSeqNum, 2);
        QVERIFY(!rej[0].currentValue.has_value());
        // Writing what is already there, unseen, is no conflict.
        rig.submit(2, p2, 2, 1, "registration.entries[id=5]", QJsonValue::Null);
        QCOMPARE(rig.meet->assignedSeq(), 3);
        QCOMPARE(rig.meet->conflictCount(), 1);
    }

    // --- Compacted pulls ----------------------------------------------------------------------------

    /// Property: for random logs over a small key space and random x, applying the compacted
    /// items to the state replayed to x gives exactly the state at the head. Seeds are fixed
    /// (1..N); OLL_MEETSYNC_SEED=<n> runs one chosen seed instead.
    void compactedPullEqualsReplay()
    {
        QList<std::uint64_t> seeds;
        const QByteArray chosen = qgetenv("OLL_MEETSYNC_SEED");
        if (!chosen.isEmpty()) {
            seeds.append(chosen.toULongLong());
        } else {
            for (std::uint64_t i = 1; i <= 40; ++i) {
                seeds.append(i);
            }
        }
        int compactedChecks = 0;
        int itemsSkipped = 0;
        for (const std::uint64_t seed : seeds) {
            Rig rig;
            rig.limits.compactPullMinEntries = 3;
            QVERIFY(rig.open());
            Meet& meet = *rig.meet;
            Gen gen(seed);
            const Session writer = rig.session("writer", "Platform 1");
            const Session other = rig.session("other", "Desk");
            const int writes = 150 + gen.pick(200);
            qint64 lsn = 0;
            while (meet.assignedSeq() < writes) {
                QList<UpdateRequest> batch;
                for (int i = 1 + gen.pick(4); i > 0; --i) {
                    const auto [key, value] = gen.write(meet.state());
                    // Based on the head: the rule never rejects (and never judges a key against itself).
                    batch.append(UpdateRequest{++lsn, meet.assignedSeq(), key, value});
                }
                const bool byOther = gen.chance(30);
                const Meet::SubmitResult r = meet.submit(byOther ? 2 : 1, byOther ? other : writer, batch);
                QVERIFY2(r.rejections.isEmpty(),
                         qPrintable(QStringLiteral("seed %1: %2").arg(seed).arg(r.rejections.value(0).reason)));
                QVERIFY2(meet.conflictCount() == 0, qPrintable(QStringLiteral("seed %1").arg(seed)));
            }
            const qint64 head = meet.durableSeq();
            QCOMPARE(head, meet.assignedSeq());
            const QList<JournalEntry> log = meet.durableEntriesAfter(0, head);
            QCOMPARE(log.size(), head);

            // The full replay is the meet's state (a sanity check of the harness itself).
            MeetState replayed;
            for (const JournalEntry& e : log) {
                replayed.apply(*KeyPath::parse(e.key, 256, 16), e.value);
            }
            QVERIFY2(replayed.document() == meet.state().document(), qPrintable(QStringLiteral("seed %1").arg(seed)));

            QList<qint64> xs{0, 1, head - 1, head - 4};
            for (int i = 0; i < 25; ++i) {
                xs.append(gen.pick(static_cast<int>(head)));
            }
            for (const qint64 x : xs) {
                if (x < 0 || x > head) {
                    continue;
                }
                const QString where = QStringLiteral("seed %1, head %2, x %3").arg(seed).arg(head).arg(x);
                const Meet::PullPlan plan = meet.planPull(x, meet.epoch(), true);
                QVERIFY2(plan.kind != Meet::PullPlan::Kind::ServerPull, qPrintable(where));
                QVERIFY2(plan.from == x && plan.through == head, qPrintable(where));
                QVERIFY2(meet.planPull(x, meet.epoch(), false).kind == Meet::PullPlan::Kind::Entries,
                         qPrintable(where));
                if (plan.kind != Meet::PullPlan::Kind::Compacted) {
                    QVERIFY2(plan.items.isEmpty(), qPrintable(where));
                    continue;
                }
                ++compactedChecks;
                MeetState state;
                for (qint64 i = 0; i < x; ++i) {
                    state.apply(*KeyPath::parse(log[i].key, 256, 16), log[i].value);
                }
                const QJsonObject atX = state.document();
                QStringList keys;
                for (const Meet::PullPlan::Item& item : plan.items) {
                    QVERIFY2(!item.key.contains(QLatin1Char('[')), qPrintable(where + QStringLiteral(": ") + item.key));
                    QVERIFY2(item.lastSeq > x && item.lastSeq <= head,
                             qPrintable(where + QStringLiteral(": %1 lastSeq %2").arg(item.key).arg(item.lastSeq)));
                    const auto k = KeyPath::parse(item.key, 256, 16);
                    QVERIFY2(k.has_value(), qPrintable(where + QStringLiteral(": ") + item.key));
                    QVERIFY2(meet.state().valueAt(*k) == std::optional<QJsonValue>(item.value),
                             qPrintable(where + QStringLiteral(": item %1 is not the value at H").arg(item.key)));
                    if (!state.apply(*k, item.value)) {
                        ++itemsSkipped;
                    }
                    for (const QString& earlier : keys) {
                        QVERIFY2(!item.key.startsWith(earlier + QLatin1Char('.'))
                                     && !earlier.startsWith(item.key + QLatin1Char('.')) && earlier != item.key,
                                 qPrintable(where + QStringLiteral(": %1 and %2 overlap").arg(earlier, item.key)));
                    }
                    keys.append(item.key);
                }
                QVERIFY2(state.document() == meet.state().document(),
                         qPrintable(where
                                    + QStringLiteral("\nat x:       %1\ncompacted:  %2\nhead state: %3\nroots: %4")
                                          .arg(shortJson(atX), shortJson(state.document()),
                                               shortJson(meet.state().document()), keys.join(QLatin1Char(' ')))));
            }
        }
        qInfo("%d compacted plans checked against replay", compactedChecks);
        QVERIFY2(compactedChecks >= static_cast<int>(seeds.size()) * 10,
                 qPrintable(QStringLiteral("only %1 compacted plans").arg(compactedChecks)));
        QCOMPARE(itemsSkipped, 0);
    }

    /// When compaction is not worth it, or the tail is short, or not allowed: plain entries.
    /// An epoch the meet does not know, or a position past what it holds: SERVER_PULL.
    void pullPlanKinds()
    {
        Rig rig;
        rig.limits.compactPullMinEntries = 5;
        QVERIFY(rig.open(pastEpochHistory()));
        Meet& meet = *rig.meet;
        const Session p1 = rig.session("p1", "Platform 1");
        for (qint64 i = 1; i <= 20; ++i) {
            rig.submit(1, p1, 10 + i, meet.assignedSeq(), "meet.name", QStringLiteral("name %1").arg(i));
        }
        QCOMPARE(meet.durableSeq(), 23);
        using Kind = Meet::PullPlan::Kind;
        Meet::PullPlan p = meet.planPull(0, kEpochB, true);
        QCOMPARE(p.kind, Kind::Compacted);
        QCOMPARE(p.through, 23);
        QCOMPARE(p.items.size(), 3); // one item per key, ordered by their last write
        QCOMPARE(p.items[0].key, s("meet.date"));
        QCOMPARE(p.items[1].key, s("meet.city"));
        QCOMPARE(p.items[2].key, s("meet.name"));
        QCOMPARE(p.items[2].lastSeq, 23);
        p = meet.planPull(18, kEpochB, true); // tail 5: not more than the minimum
        QCOMPARE(p.kind, Kind::Entries);
        p = meet.planPull(17, kEpochB, true);
        QCOMPARE(p.kind, Kind::Compacted);
        QCOMPARE(p.items.size(), 1);
        QCOMPARE(p.items[0].key, s("meet.name"));
        QCOMPARE(p.items[0].lastSeq, 23);
        QCOMPARE(p.items[0].value, QJsonValue(s("name 20")));
        QCOMPARE(meet.planPull(0, kEpochB, false).kind, Kind::Entries);
        QCOMPARE(meet.planPull(0, QString(), true).kind, Kind::Compacted); // no epoch: this history

        // Past epoch A holds up to 3.
        p = meet.planPull(3, kEpochA, true);
        QVERIFY(p.kind != Kind::ServerPull);
        QCOMPARE(p.from, 3);
        p = meet.planPull(4, kEpochA, true);
        QCOMPARE(p.kind, Kind::ServerPull);
        QCOMPARE(p.from, 3);
        p = meet.planPull(24, kEpochB, true);
        QCOMPARE(p.kind, Kind::ServerPull);
        QCOMPARE(p.from, 23);
        p = meet.planPull(1, kEpochUnknown, true);
        QCOMPARE(p.kind, Kind::ServerPull);
        QCOMPARE(p.from, 0);
        p = meet.planPull(0, kEpochUnknown, true);
        QVERIFY(p.kind != Kind::ServerPull);
    }

    // --- Recovery -----------------------------------------------------------------------------------

    /// head == lastSeq(E) of a past epoch: the pushed run after it is restored with its original
    /// numbers and authors; lastSeq(E) advances (and is persisted); entries <= lastSeq(E) are ignored.
    void recoverRestoresOriginalNumbers()
    {
        Rig rig;
        QVERIFY(rig.open(pastEpochHistory()));
        Meet& meet = *rig.meet;
        const Session pusher = rig.session("p1", "Platform 1");
        const QList<RecoveredEntry> entries{
            pushed(2, "meet.date", s("2025-06-01"), "desk", "Desk", 2, 1), // held: ignored
            pushed(4, "meet.venue", s("Hall"), "p2", "Platform 2", 9, 3),
            pushed(5, "meet.name", s("Renamed"), "desk", "Desk", 4, 3),
            pushed(6, "meet.venue", s("Hall B"), "w", "Warm-up", 1, 5),
        };
        const Recovered rec = recoverInline(meet, kEpochA, entries);
        QCOMPARE(rec.calls, 1);
        QVERIFY(rec.ok);
        const Meet::RecoveryResult& r = rec.result;
        QCOMPARE(r.restored, 3);
        QCOMPARE(r.resequenced, 0);
        QCOMPARE(r.duplicates, 0);
        QCOMPARE(r.conflicts, 0);
        QVERIFY(r.skipped.isEmpty());
        QCOMPARE(rec.durableAtDone, 6);
        QCOMPARE(meet.durableSeq(), 6);
        QCOMPARE(rig.commits.size(), 1);
        QCOMPARE(rig.commits[0].entries.size(), 3);

        const QList<JournalEntry> log = meet.durableEntriesAfter(3, 10);
        QCOMPARE(log.size(), 3);
        for (int i = 0; i < 3; ++i) {
            const RecoveredEntry& want = entries[i + 1];
            QCOMPARE(log[i].serverSeqNum, want.serverSeqNum);
            QCOMPARE(log[i].key, want.key);
            QCOMPARE(log[i].value, want.value);
            QCOMPARE(log[i].clientId, want.clientId);
            QCOMPARE(log[i].localSeqNum, want.localSeqNum);
            QCOMPARE(log[i].location, want.locationName);
            QCOMPARE(log[i].afterServerSeqNum, want.afterServerSeqNum);
        }
        QCOMPARE(at(meet.state(), s("meet.venue")), QJsonValue(s("Hall B")));
        QCOMPARE(meet.epochs().lastSeqOf(kEpochA, meet.durableSeq()).value_or(-1), 6);
        QVERIFY(meet.planPull(6, kEpochA, true).kind != Meet::PullPlan::Kind::ServerPull);
        QCOMPARE(meet.planPull(7, kEpochA, true).kind, Meet::PullPlan::Kind::ServerPull);
        QCOMPARE(meet.epoch(), kEpochB);
        QString error;
        const auto persisted
            = EpochHistory::fromJson(QJsonDocument::fromJson(readFile(Meet::epochsPath(rig.path()))).object(), &error);
        QVERIFY2(persisted.has_value(), qPrintable(error));
        QCOMPARE(persisted->lastSeqOf(kEpochA, 0).value_or(-1), 6);
        QCOMPARE(persisted->current(), kEpochB);

        // The journal holds them as any other entry: a restart replays them.
        JournalLoad load = JournalReader::readFile(Meet::journalPath(rig.path()), &error);
        QVERIFY(load.ok());
        QCOMPARE(load.entries.size(), 6);
        QCOMPARE(load.entries[3].clientId, s("p2"));

        // A restored entry is de-duplicated like any other: its author's resend is acked with its number.
        const Session p2 = rig.session("p2", "Platform 2");
        const Meet::SubmitResult resend = rig.submit(7, p2, 9, 3, "meet.venue", s("Hall"));
        QCOMPARE(resend.immediateAcks.size(), 1);
        QCOMPARE(resend.immediateAcks[0].serverSeqNum, 4);
        QCOMPARE(meet.assignedSeq(), 6);

        // Pushing the same again: all held now, nothing happens.
        const Recovered againRec = recoverInline(meet, kEpochA, entries);
        QCOMPARE(againRec.calls, 1);
        QVERIFY(againRec.ok);
        const Meet::RecoveryResult& again = againRec.result;
        QCOMPARE(again.restored + again.resequenced + again.conflicts, 0);
        QVERIFY(again.skipped.isEmpty());
        QCOMPARE(meet.assignedSeq(), 6);
    }

    /// Once this server appended after lastSeq(E), pushed entries are re-sequenced under the
    /// conflict rule: afterServerSeqNum becomes lastSeq(E), entries the pushed entry was based on
    /// count as seen, a resend of the push is all duplicates.
    void recoverResequencesOnceHeadMoved()
    {
        Rig rig;
        QVERIFY(rig.open(pastEpochHistory()));
        Meet& meet = *rig.meet;
        const Session p2 = rig.session("p2", "Platform 2");
        rig.submit(1, p2, 1, 3, "meet.name", s("N")); // 4, epoch B
        QCOMPARE(meet.durableSeq(), 4);
        rig.commits.clear();

        const Session pusher = rig.session("pc", "Platform 1");
        const QList<RecoveredEntry> entries{
            pushed(4, "meet.venue", s("X"), "pc", "Platform 1", 1, 3),
            // Saw pushed 4 (now another number): not a conflict although Platform 2 == Platform 1.
            pushed(5, "meet.venue", s("W"), "pd", "Platform 2", 1, 4),
            // Did not see the server's seq 4 ("N", Platform 2): equal priority, rejected.
            pushed(6, "meet.name", s("Y"), "pc", "Platform 1", 2, 5),
            // Desk overrules the server's seq 4.
            pushed(7, "meet.name", s("Z"), "dk", "Desk", 1, 6),
        };
        const Recovered rec = recoverInline(meet, kEpochA, entries);
        QCOMPARE(rec.calls, 1);
        QVERIFY(rec.ok);
        const Meet::RecoveryResult& r = rec.result;
        QCOMPARE(r.restored, 0);
        QCOMPARE(r.resequenced, 3);
        QCOMPARE(r.duplicates, 0);
        QCOMPARE(r.conflicts, 2);
        QVERIFY(r.skipped.isEmpty());
        QCOMPARE(meet.durableSeq(), 7);
        QCOMPARE(meet.epochs().lastSeqOf(kEpochA, 7).value_or(-1), 3); // nothing restored with its number

        const QList<JournalEntry> log = meet.durableEntriesAfter(4, 10);
        QCOMPARE(log.size(), 3);
        const QList<std::pair<QString, qint64>> authors{{s("pc"), 1}, {s("pd"), 1}, {s("dk"), 1}};
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(log[i].serverSeqNum, 5 + i);
            QCOMPARE(log[i].clientId, authors[i].first);
            QCOMPARE(log[i].localSeqNum, authors[i].second);
            QCOMPARE(log[i].afterServerSeqNum, 3);
        }
        QCOMPARE(at(meet.state(), s("meet.venue")), QJsonValue(s("W")));
        QCOMPARE(at(meet.state(), s("meet.name")), QJsonValue(s("Z")));

        const QList<ConflictRecord> records = meet.conflicts();
        QCOMPARE(records.size(), 2);
        QCOMPARE(records[0].outcome, ConflictRecord::Outcome::Rejected);
        QVERIFY(records[0].recovered);
        QCOMPARE(records[0].clientId, s("pc"));
        QCOMPARE(records[0].localSeqNum, 2);
        QCOMPARE(records[0].winner.serverSeqNum, 4);
        QCOMPARE(records[1].outcome, ConflictRecord::Outcome::Overruled);
        QVERIFY(records[1].recovered);
        QCOMPARE(records[1].serverSeqNum, 7);
        QCOMPARE(records[1].overruled.size(), 1);
        QCOMPARE(records[1].overruled[0].serverSeqNum, 4);
        QCOMPARE(readConflictLog(readFile(Meet::conflictsPath(rig.path()))).records.size(), 2);

        // The same push again: every entry is held (or was rejected): duplicates, nothing applied.
        const Recovered againRec = recoverInline(meet, kEpochA, entries);
        QCOMPARE(againRec.calls, 1);
        QVERIFY(againRec.ok);
        const Meet::RecoveryResult& again = againRec.result;
        QCOMPARE(again.duplicates, 4);
        QCOMPARE(again.restored + again.resequenced + again.conflicts, 0);
        QCOMPARE(meet.assignedSeq(), 7);
        QCOMPARE(meet.conflictCount(), 2);
        // The rejected author's resend through UPDATE_INIT gets its recorded rejection.
        const Meet::SubmitResult resend = rig.submit(9, pusher, 2, 5, "meet.name", s("Y"));
        QCOMPARE(resend.rejections.size(), 1);
        QVERIFY(resend.rejections[0].conflict);
        QCOMPARE(resend.rejections[0].winner.serverSeqNum, 4);
    }

    /// Entries with a location that is not an endpoint, a key or value over the limits or an
    /// invalid clientId are skipped and reported; a skip ends the run restored with original
    /// numbers (the rest is re-sequenced).
    void recoverSkipsBadEntries()
    {
        Rig rig;
        QVERIFY(rig.open(pastEpochHistory()));
        Meet& meet = *rig.meet;
        const Session pusher = rig.session("p1", "Platform 1");
        QJsonValue deep = 1;
        for (int i = 0; i < 65; ++i) {
            deep = QJsonArray{deep};
        }
        const QList<RecoveredEntry> entries{
            pushed(4, "meet.venue", s("Hall"), "p2", "Platform 2", 1, 3),
            pushed(5, "meet.venue", s("Nowhere"), "p9", "Lobby", 1, 4),
            pushed(6, "meet..venue", s("bad key"), "p2", "Platform 2", 2, 4),
            pushed(7, "meet.venue", s("bad client"), "a b", "Platform 2", 3, 4),
            pushed(8, "meet.deep", deep, "p2", "Platform 2", 4, 4),
            pushed(9, "meet.town", s("Ok"), "p2", "Platform 2", 5, 4),
        };
        const Recovered rec = recoverInline(meet, kEpochA, entries);
        QVERIFY(rec.calls == 1 && rec.ok);
        const Meet::RecoveryResult& r = rec.result;
        QCOMPARE(r.restored, 1);
        QCOMPARE(r.resequenced, 1);
        QCOMPARE(r.duplicates, 0);
        QCOMPARE(r.skipped.size(), 4);
        QCOMPARE(r.skipped[0].first, 5);
        QVERIFY2(r.skipped[0].second.contains(s("Lobby")), qPrintable(r.skipped[0].second));
        QCOMPARE(r.skipped[1].first, 6);
        QVERIFY2(r.skipped[1].second.contains(s("updateKey")), qPrintable(r.skipped[1].second));
        QCOMPARE(r.skipped[2].first, 7);
        QVERIFY2(r.skipped[2].second.contains(s("clientId")), qPrintable(r.skipped[2].second));
        QCOMPARE(r.skipped[3].first, 8);
        QVERIFY2(r.skipped[3].second.contains(s("nests")), qPrintable(r.skipped[3].second));
        QCOMPARE(meet.durableSeq(), 5);
        const QList<JournalEntry> log = meet.durableEntriesAfter(3, 10);
        QCOMPARE(log.size(), 2);
        QCOMPARE(log[0].serverSeqNum, 4);
        QCOMPARE(log[0].localSeqNum, 1);
        QCOMPARE(log[1].serverSeqNum, 5);
        QCOMPARE(log[1].key, s("meet.town"));
        QCOMPARE(log[1].localSeqNum, 5);
        QCOMPARE(log[1].afterServerSeqNum, 4);
        QCOMPARE(meet.epochs().lastSeqOf(kEpochA, 5).value_or(-1), 4);
    }

    /// An epoch the server does not know: nothing of it counts as held, so every entry is
    /// re-sequenced, entries the server holds (same clientId + localSeqNum) are duplicates, and
    /// entries of the server's own log the pusher never saw are conflicts.
    void recoverUnknownEpoch()
    {
        Rig rig;
        Meet::History h;
        h.entries = {entry(1, "meet.name", s("Open"), "desk", "Desk", 1, 0),
                     entry(2, "meet.date", s("2025-06-01"), "desk", "Desk", 2, 1),
                     entry(3, "meet.name", s("Open 2"), "desk", "Desk", 3, 2)};
        h.epochs.begin(kEpochB, 0);
        QVERIFY(rig.open(h));
        Meet& meet = *rig.meet;
        const Session pusher = rig.session("py", "Platform 1");
        const QList<RecoveredEntry> entries{
            pushed(1, "meet.name", s("Open"), "desk", "Desk", 1, 0), // held
            pushed(2, "meet.venue", s("Hall"), "pz", "Platform 2", 1, 1),
            pushed(3, "meet.venue", s("Hall 2"), "py", "Platform 1", 1, 2), // saw pushed 2
            pushed(4, "meet.name", s("Mine"), "py", "Platform 1", 2, 3), // never saw the Desk's "Open 2"
        };
        const Recovered rec = recoverInline(meet, kEpochUnknown, entries);
        QVERIFY(rec.calls == 1 && rec.ok);
        const Meet::RecoveryResult& r = rec.result;
        QCOMPARE(r.restored, 0);
        QCOMPARE(r.duplicates, 1);
        QCOMPARE(r.resequenced, 2);
        QCOMPARE(r.conflicts, 1);
        QVERIFY(r.skipped.isEmpty());
        QCOMPARE(meet.durableSeq(), 5);
        const QList<JournalEntry> log = meet.durableEntriesAfter(3, 10);
        QCOMPARE(log[0].clientId, s("pz"));
        QCOMPARE(log[1].clientId, s("py"));
        QCOMPARE(log[1].afterServerSeqNum, 0);
        QCOMPARE(at(meet.state(), s("meet.venue")), QJsonValue(s("Hall 2")));
        QCOMPARE(at(meet.state(), s("meet.name")), QJsonValue(s("Open 2")));
        QCOMPARE(meet.conflicts().size(), 1);
        QCOMPARE(meet.conflicts()[0].winner.serverSeqNum, 3);
        QVERIFY(!meet.epochs().lastSeqOf(kEpochUnknown, 5).has_value()); // not adopted

        const Recovered againRec = recoverInline(meet, kEpochUnknown, entries);
        QVERIFY(againRec.calls == 1 && againRec.ok);
        const Meet::RecoveryResult& again = againRec.result;
        QCOMPARE(again.duplicates, 4);
        QCOMPARE(again.restored + again.resequenced + again.conflicts, 0);
        QCOMPARE(meet.assignedSeq(), 5);
    }

    /// The current epoch: the server holds all of it up to its head; entries at or below it are
    /// ignored, an entry beyond it that does not continue the log is re-sequenced.
    void recoverCurrentEpochAboveHead()
    {
        Rig rig;
        QVERIFY(rig.open(pastEpochHistory()));
        Meet& meet = *rig.meet;
        const Session pusher = rig.session("p1", "Platform 1");
        const Recovered rec = recoverInline(meet, kEpochB,
                                            {pushed(2, "meet.date", s("x"), "desk", "Desk", 2, 1),
                                             pushed(9, "meet.venue", s("Hall"), "p2", "Platform 2", 1, 3)});
        QVERIFY(rec.calls == 1 && rec.ok);
        const Meet::RecoveryResult& r = rec.result;
        QCOMPARE(r.restored, 0);
        QCOMPARE(r.resequenced, 1);
        QCOMPARE(r.duplicates, 0);
        QCOMPARE(meet.durableSeq(), 4);
        QCOMPARE(meet.durableEntriesAfter(3, 1)[0].clientId, s("p2"));
    }

    // --- whenDurable ---------------------------------------------------------------------------------

    /// whenDurable runs at once on an idle meet; otherwise after the `committed` of the flush
    /// that makes everything so far durable, in registration order, never before; a failed
    /// flush calls it with false. recover()'s `done` follows the same rule.
    void whenDurableOrdering()
    {
        QThreadPool pool;
        Rig rig;
        rig.faults = std::make_shared<test::JournalFaults>();
        rig.faults->gateSync = true;
        QVERIFY(rig.open(pastEpochHistory(), &pool));
        Meet& meet = *rig.meet;
        const Session p1 = rig.session("p5", "Platform 1"); // "p1" used localSeqNum 1 in the history

        bool immediate = false;
        meet.whenDurable([&](bool ok) { immediate = ok; });
        QVERIFY(immediate);

        QVERIFY(rig.submit(1, p1, 1, 3, "meet.venue", s("A")).rejections.isEmpty()); // 4
        meet.whenDurable([&](bool ok) {
            rig.events.append(QStringLiteral("durable1 %1 %2").arg(ok ? 1 : 0).arg(meet.durableSeq()));
        });
        QVERIFY2(rig.events.isEmpty(), qPrintable(rig.events.join(QLatin1Char(','))));
        QVERIFY(rig.syncEntered()); // flush 1 is syncing
        QVERIFY(rig.submit(1, p1, 2, 4, "meet.venue", s("B")).rejections.isEmpty()); // 5: the next flush
        meet.whenDurable([&](bool ok) {
            rig.events.append(QStringLiteral("durable2 %1 %2").arg(ok ? 1 : 0).arg(meet.durableSeq()));
        });
        QVERIFY2(rig.events.isEmpty(), qPrintable(rig.events.join(QLatin1Char(','))));
        rig.faults->releaseSync.release();
        QTRY_COMPARE(rig.events.size(), 2);
        QCOMPARE(rig.events, (QList<QString>{s("committed"), s("durable1 1 4")}));
        QVERIFY(rig.syncEntered()); // flush 2
        QCOMPARE(rig.events.size(), 2);
        rig.faults->releaseSync.release();
        QTRY_COMPARE(rig.events.size(), 4);
        QCOMPARE(rig.events, (QList<QString>{s("committed"), s("durable1 1 4"), s("committed"), s("durable2 1 5")}));

        // recover(): done only after the restored entries are durable.
        rig.events.clear();
        bool recovered = false;
        Meet::RecoveryResult r;
        meet.recover(kEpochUnknown, {pushed(1, "meet.town", s("T"), "p7", "Platform 2", 1, 0)},
                     [&](bool ok, const Meet::RecoveryResult& result) {
                         recovered = ok;
                         r = result;
                         rig.events.append(s("recovered"));
                     });
        QVERIFY(!recovered);
        QVERIFY(rig.syncEntered());
        QVERIFY(!recovered);
        rig.faults->releaseSync.release();
        QTRY_VERIFY(recovered);
        QCOMPARE(r.resequenced, 1);
        QCOMPARE(rig.events, (QList<QString>{s("committed"), s("recovered")}));
        QCOMPARE(meet.durableSeq(), 6);

        // A failed flush: whenDurable and recover's done hear false; nothing became durable.
        rig.events.clear();
        rig.faults->failSyncAt = rig.faults->syncs.load() + 1;
        rig.submit(1, p1, 3, 6, "meet.venue", s("C"));
        bool failedOk = true;
        bool called = false;
        meet.whenDurable([&](bool ok) {
            called = true;
            failedOk = ok;
        });
        QVERIFY(rig.syncEntered());
        rig.faults->releaseSync.release();
        QTRY_VERIFY(called);
        QVERIFY(!failedOk);
        QCOMPARE(meet.durableSeq(), 6);
        QVERIFY(rig.events.contains(s("failed")));
        QVERIFY(!rig.events.contains(s("committed")));
        rig.faults->gateSync = false;
        QTRY_VERIFY(meet.isIdle());
    }
};

QTEST_GUILESS_MAIN(TestMeetSync)
#include "tst_meetsync.moc"
