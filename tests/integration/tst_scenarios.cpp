// SPDX-License-Identifier: AGPL-3.0-or-later
// The fault-tolerance / conflict-resolution scenarios of the design specification ("What is a
// conflict?" and "Fault tolerance / conflict resolution scenarios"), one test function each, with
// SyncClient instances as the browsers against the real server over loopback sockets.
#include "ServerHarness.h"
#include "client/SyncClient.h"
#include "protocol/KeyPath.h"
#include "sync/ConflictRecord.h"
#include "sync/Meet.h"
#include "sync/MeetRegistry.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QNetworkRequest>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>
#include <optional>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
constexpr int kTimeout = 20000;

// Distinct priorities, as a meet director would set them up.
const QString kPlatform = QStringLiteral("Platform A"); // 10
const QString kWeighIn = QStringLiteral("Weigh-in"); // 5
const QString kDesk = QStringLiteral("Desk"); // 1
const QString kBoard = QStringLiteral("Board"); // 0, displays

QList<Endpoint> endpoints()
{
    return {{kPlatform, 10}, {kWeighIn, 5}, {kDesk, 1}, {kBoard, 0}};
}

qint64 priorityOf(const QString& location)
{
    for (const Endpoint& e : endpoints()) {
        if (e.locationName == location) {
            return e.priority;
        }
    }
    return -1;
}

SyncClientOptions fastOptions()
{
    SyncClientOptions o;
    o.reconnectDelayMs = 10;
    o.reconnectMaxDelayMs = 100;
    o.storageRetryDelayMs = 20;
    return o;
}

/// The OpenLifter save file of a meet in progress (36 lifters, kg).
QJsonObject fixture()
{
    static const QJsonObject doc = [] {
        QFile f(QStringLiteral(OLL_TEST_DATA_DIR "/meets/midmeet-kg.openlifter"));
        if (!f.open(QIODevice::ReadOnly)) {
            return QJsonObject();
        }
        return QJsonDocument::fromJson(f.readAll()).object();
    }();
    return doc;
}

/// The i-th lifter of the fixture.
QJsonObject fixtureEntry(int i)
{
    return fixture()
        .value(QStringLiteral("registration"))
        .toObject()
        .value(QStringLiteral("entries"))
        .toArray()
        .at(i)
        .toObject();
}

qint64 fixtureId(int i)
{
    return fixtureEntry(i).value(QStringLiteral("id")).toInteger();
}

QString entryKey(qint64 id)
{
    return QStringLiteral("registration.entries[id=%1]").arg(id);
}

QString entryKey(qint64 id, const QString& field)
{
    return entryKey(id) + QLatin1Char('.') + field;
}

/// The value at `key` in `state` (nullopt: nothing there).
std::optional<QJsonValue> valueAt(const MeetState& state, const QString& key)
{
    const std::optional<KeyPath> path = KeyPath::parse(key, 256, 16);
    if (!path) {
        return std::nullopt;
    }
    return state.valueAt(*path);
}

/// The fixture meet as the first two updates of the log (seq 1 and 2).
void seed(SyncClient& c)
{
    c.updateMany({{QStringLiteral("meet"), fixture().value(QStringLiteral("meet"))},
                  {QStringLiteral("registration"), fixture().value(QStringLiteral("registration"))}});
}
constexpr qint64 kSeedEntries = 2;

bool settled(const QList<SyncClient*>& clients, qint64 head)
{
    for (SyncClient* c : clients) {
        if (c->pendingCount() != 0 || c->lastServerSeq() != head || c->outOfSync()) {
            return false;
        }
    }
    return true;
}

/// Every client is bound, has nothing pending and holds the server's durable head.
bool quiet(InProcessServer& server, const QString& meetId, const QList<SyncClient*>& clients)
{
    Meet* meet = server.server().registry().find(meetId);
    if (!meet) {
        return false;
    }
    for (SyncClient* c : clients) {
        if (!c->isOnline() || c->pendingCount() != 0 || c->outOfSync() || c->lastServerSeq() != meet->durableSeq()) {
            return false;
        }
    }
    return true;
}

/// Creates a meet at `creator`'s location and joins the others; true when all are online.
bool setUpMeet(SyncClient& creator, const QString& creatorLocation, const QList<QPair<SyncClient*, QString>>& joiners,
               SyncClient* display = nullptr)
{
    creator.createMeet(creatorLocation, kPassword, endpoints());
    if (!QTest::qWaitFor([&] { return creator.isOnline(); }, kTimeout)) {
        return false;
    }
    for (const auto& [client, location] : joiners) {
        client->joinMeet(creator.meetId(), kPassword, location);
    }
    if (display) {
        display->joinMeet(creator.meetId(), kPassword, kBoard, Role::Display);
    }
    return QTest::qWaitFor(
        [&] {
            for (const auto& j : joiners) {
                if (!j.first->isOnline()) {
                    return false;
                }
            }
            return !display || display->isOnline();
        },
        kTimeout);
}

QString meetDir(const QString& dataDir, const QString& meetId)
{
    return dataDir + QStringLiteral("/current-meets/") + meetId;
}

/// The meet's journal lines as JSON objects.
QList<QJsonObject> journal(const QString& dataDir, const QString& meetId)
{
    QFile f(Meet::journalPath(meetDir(dataDir, meetId)));
    QList<QJsonObject> out;
    if (!f.open(QIODevice::ReadOnly)) {
        return out;
    }
    for (const QByteArray& line : f.readAll().split('\n')) {
        if (!line.isEmpty()) {
            out.append(QJsonDocument::fromJson(line).object());
        }
    }
    return out;
}

/// True if the journal holds serverSeqNums 1..n in order, each (clientId, localSeqNum) once.
bool journalContiguousAndUnique(const QList<QJsonObject>& lines, QString* why)
{
    QSet<QString> seen;
    for (int i = 0; i < lines.size(); ++i) {
        const QJsonObject& l = lines[i];
        if (l.value(QStringLiteral("serverSeqNum")).toInteger() != i + 1) {
            *why = QStringLiteral("line %1 has serverSeqNum %2")
                       .arg(i + 1)
                       .arg(l.value(QStringLiteral("serverSeqNum")).toInteger());
            return false;
        }
        const QString id = l.value(QStringLiteral("clientId")).toString() + QLatin1Char('#')
            + QString::number(l.value(QStringLiteral("localSeqNum")).toInteger());
        if (seen.contains(id)) {
            *why = QStringLiteral("update %1 is in the journal twice").arg(id);
            return false;
        }
        seen.insert(id);
    }
    return true;
}

/// A client's canonical log holds serverSeqNums 1..head, each once.
bool canonicalContiguous(const SyncClient& c, qint64 head)
{
    const QList<CanonicalEntry> log = c.canonicalLog();
    if (log.size() != head) {
        return false;
    }
    for (qsizetype i = 0; i < log.size(); ++i) {
        if (log[i].serverSeqNum != i + 1) {
            return false;
        }
    }
    return true;
}

/// One HTTP request to the server's loopback admin routes; the reply body as JSON.
struct HttpResult
{
    int status = 0;
    QJsonObject body;
};

HttpResult http(quint16 port, const QString& path, bool post)
{
    QNetworkAccessManager nam;
    QNetworkRequest request(QUrl(QStringLiteral("http://127.0.0.1:%1%2").arg(port).arg(path)));
    request.setHeader(QNetworkRequest::ContentTypeHeader, QStringLiteral("application/json"));
    std::unique_ptr<QNetworkReply> reply(post ? nam.post(request, QByteArray()) : nam.get(request));
    HttpResult r;
    if (!QTest::qWaitFor([&] { return reply->isFinished(); }, kTimeout)) {
        return r;
    }
    r.status = reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt();
    r.body = QJsonDocument::fromJson(reply->readAll()).object();
    return r;
}

const RejectedUpdate* rejectionFor(const SyncClient& c, const QString& key)
{
    for (const RejectedUpdate& r : c.rejected()) {
        if (r.update.key == key) {
            return &r;
        }
    }
    return nullptr;
}

const ConflictRecord* recordFor(const QList<ConflictRecord>& records, const QString& key, const QString& clientId)
{
    for (const ConflictRecord& r : records) {
        if (r.key == key && r.clientId == clientId) {
            return &r;
        }
    }
    return nullptr;
}

QSet<QString> overruledClients(const ConflictRecord& r)
{
    QSet<QString> out;
    for (const ConflictParty& p : r.overruled) {
        out.insert(p.clientId);
    }
    return out;
}

/// The journal entries the server holds, as comparable JSON (everything but the time).
QList<QJsonObject> serverEntries(LiveServer& server, const QString& meetId)
{
    QList<QJsonObject> out;
    Meet* meet = server.registry().find(meetId);
    if (!meet) {
        return out;
    }
    for (const JournalEntry& e : meet->durableEntriesAfter(0, 1'000'000)) {
        out.append(QJsonObject{{QStringLiteral("serverSeqNum"), e.serverSeqNum},
                               {QStringLiteral("key"), e.key},
                               {QStringLiteral("value"), e.value},
                               {QStringLiteral("location"), e.location},
                               {QStringLiteral("clientId"), e.clientId},
                               {QStringLiteral("localSeqNum"), e.localSeqNum}});
    }
    return out;
}

} // namespace

class TestScenarios final : public QObject
{
    Q_OBJECT

    /// Final documents of data-driven rows whose outcome must not depend on the row.
    QHash<QString, QJsonObject> m_finalDocs;

    /// Checks that `clients` and the server hold the same meet at `head`.
    static void verifyConverged(InProcessServer& server, const QString& meetId, const QList<SyncClient*>& clients,
                                qint64 head)
    {
        Meet* meet = server.server().registry().find(meetId);
        QVERIFY(meet);
        QCOMPARE(meet->durableSeq(), head);
        for (SyncClient* c : clients) {
            QCOMPARE(c->lastServerSeq(), head);
            QCOMPARE(c->pendingCount(), 0);
            QVERIFY(!c->outOfSync());
            QCOMPARE(c->canonicalState().document(), meet->state().document());
            QCOMPARE(c->localState().document(), meet->state().document());
            QCOMPARE(c->epoch(), meet->epoch());
        }
        QString why;
        const QList<QJsonObject> lines = journal(server.dataDir(), meetId);
        QCOMPARE(lines.size(), head);
        QVERIFY2(journalContiguousAndUnique(lines, &why), qPrintable(why));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QCOMPARE(fixture()
                     .value(QStringLiteral("registration"))
                     .toObject()
                     .value(QStringLiteral("entries"))
                     .toArray()
                     .size(),
                 36);
    }

    // --- Essentially read-only client unable to reach server --------------------------------

    void readOnlyClientOfflineCatchesUp_data()
    {
        QTest::addColumn<int>("updates");
        QTest::addColumn<bool>("compacted");
        QTest::newRow("a few updates: every entry pulled") << 12 << false;
        QTest::newRow("a long tail: compacted pull") << 600 << true;
    }

    /// A display goes offline (out of sync), the updating client goes on; the display comes back,
    /// pulls the events after its last seq, clears out-of-sync and shows exactly the server's meet.
    void readOnlyClientOfflineCatchesUp()
    {
        QFETCH(int, updates);
        QFETCH(bool, compacted);
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient u(server.url(), QStringLiteral("platform-a"), 1, fastOptions());
        SyncClient d(server.url(), QStringLiteral("board-1"), 1, fastOptions());
        QVERIFY(setUpMeet(u, kPlatform, {}, &d));
        QCOMPARE(d.role(), QStringLiteral("display"));
        seed(u);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&u, &d}, kSeedEntries), kTimeout);
        QCOMPARE(d.canonicalState().document(), u.canonicalState().document());

        QSignalSpy outOfSyncSpy(&d, &SyncClient::outOfSyncChanged);
        d.setOnline(false);
        QVERIFY(d.outOfSync()); // the pop-up shows
        QCOMPARE(outOfSyncSpy.count(), 1);
        QCOMPARE(outOfSyncSpy.last().at(0).toBool(), true);

        // The platform runs the flight: attempts, results, bodyweight corrections.
        QList<QPair<QString, QJsonValue>> batch;
        for (int i = 0; i < updates; ++i) {
            const qint64 id = fixtureId(i % 36);
            const int attempt = (i / 36) % 3;
            switch (i % 3) {
            case 0:
                batch.append({entryKey(id, QStringLiteral("squatKg[%1]").arg(attempt)), 100.0 + i * 2.5});
                break;
            case 1:
                batch.append({entryKey(id, QStringLiteral("squatStatus[%1]").arg(attempt)), i % 2 ? 1 : -1});
                break;
            default:
                batch.append({entryKey(id, QStringLiteral("bodyweightKg")), 60.0 + (i % 50) / 10.0});
            }
            if (batch.size() == 100 || i == updates - 1) {
                u.updateMany(batch);
                batch.clear();
            }
        }
        u.update(QStringLiteral("lifting.lift"), QStringLiteral("D"));
        const qint64 head = kSeedEntries + updates + 1;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&u}, head), kTimeout);
        QCOMPARE(d.lastServerSeq(), kSeedEntries); // heard nothing while offline
        QVERIFY(d.outOfSync());
        QVERIFY(d.canonicalState().document() != u.canonicalState().document());

        d.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&d}, head), kTimeout);
        QCOMPARE(outOfSyncSpy.last().at(0).toBool(), false); // the pop-up is gone
        verifyConverged(server, u.meetId(), {&u, &d}, head);
        QCOMPARE(d.canonicalState().document(), u.canonicalState().document());
        QCOMPARE(valueAt(d.canonicalState(), QStringLiteral("lifting.lift")).value_or(QJsonValue()).toString(),
                 QStringLiteral("D"));
        if (compacted) {
            // Past 500 entries the server sends the latest value per key instead of every event.
            QVERIFY(d.engine().compactedAfter().has_value());
            QCOMPARE(*d.engine().compactedAfter(), kSeedEntries);
            QVERIFY(d.canonicalLog().size() < head);
        } else {
            QVERIFY(!d.engine().compactedAfter().has_value());
            QVERIFY(canonicalContiguous(d, head));
        }
        QVERIFY(d.rejected().isEmpty());
    }

    // --- Updating client unable to reach server, no conflicting updates ---------------------

    /// A edits offline (applied locally, queued), B edits other keys online; A comes back: its
    /// updates are sequenced once each after B's, acked, and everyone holds the same meet.
    void updatingClientOfflineNoConflict()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient a(server.url(), QStringLiteral("platform-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("weighin-b"), 1, fastOptions());
        QVERIFY(setUpMeet(a, kPlatform, {{&b, kWeighIn}}));
        seed(a);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b}, kSeedEntries), kTimeout);

        QSignalSpy ackSpy(&a, &SyncClient::acked);
        QSignalSpy outOfSyncSpy(&a, &SyncClient::outOfSyncChanged);
        a.setOnline(false);
        QVERIFY(a.outOfSync());
        const QJsonObject canonicalBefore = a.canonicalState().document();

        // Platform A: attempts of lifters 0..2 (flight A).
        const QList<QPair<QString, QJsonValue>> offline{
            {entryKey(fixtureId(0), QStringLiteral("squatKg[3]")), 110},
            {entryKey(fixtureId(0), QStringLiteral("squatStatus[2]")), 1},
            {entryKey(fixtureId(1), QStringLiteral("benchKg[2]")), 62.5},
            {entryKey(fixtureId(2), QStringLiteral("deadliftKg[1]")), 180},
            {QStringLiteral("lifting.lift"), QStringLiteral("D")},
        };
        QList<qint64> offlineSeqs;
        for (int i = 0; i < offline.size(); ++i) {
            offlineSeqs.append(a.update(offline[i].first, offline[i].second));
            QCOMPARE(a.pendingCount(), i + 1); // pending grows
            QCOMPARE(valueAt(a.localState(), offline[i].first), std::optional<QJsonValue>(offline[i].second));
        }
        QCOMPARE(a.canonicalState().document(), canonicalBefore); // only the local state shows them
        QCOMPARE(ackSpy.count(), 0);

        // Weigh-in: other lifters and the meet's plates.
        QJsonArray plates
            = fixture().value(QStringLiteral("meet")).toObject().value(QStringLiteral("plates")).toArray();
        QJsonObject p0 = plates[0].toObject();
        p0.insert(QStringLiteral("pairCount"), 2);
        plates[0] = p0;
        b.update(entryKey(fixtureId(20), QStringLiteral("bodyweightKg")), 92.4);
        b.update(entryKey(fixtureId(21), QStringLiteral("bodyweightKg")), 104.9);
        b.update(entryKey(fixtureId(21), QStringLiteral("squatRackInfo")), QStringLiteral("12"));
        b.update(QStringLiteral("meet.plates"), plates);
        const qint64 bHead = kSeedEntries + 4;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&b}, bHead), kTimeout);
        QCOMPARE(a.lastServerSeq(), kSeedEntries);
        QCOMPARE(a.pendingCount(), offline.size());

        a.setOnline(true);
        const qint64 head = bHead + offline.size();
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b}, head), kTimeout);
        QCOMPARE(outOfSyncSpy.last().at(0).toBool(), false);
        verifyConverged(server, a.meetId(), {&a, &b}, head);
        QCOMPARE(a.canonicalState().document(), b.canonicalState().document());

        // Acked, in order, after B's updates; each applied once.
        QCOMPARE(ackSpy.count(), offline.size());
        for (int i = 0; i < offlineSeqs.size(); ++i) {
            QCOMPARE(a.serverSeqOf(offlineSeqs[i]).value_or(-1), bHead + 1 + i);
            const std::optional<CanonicalEntry> e = b.entry(bHead + 1 + i);
            QVERIFY(e);
            QCOMPARE(e->clientId, QStringLiteral("platform-a"));
            QCOMPARE(e->key, offline[i].first);
            QCOMPARE(e->value, offline[i].second);
            QCOMPARE(valueAt(b.canonicalState(), offline[i].first), std::optional<QJsonValue>(offline[i].second));
        }
        QVERIFY(canonicalContiguous(a, head));
        QVERIFY(canonicalContiguous(b, head));
        QCOMPARE(valueAt(a.canonicalState(), QStringLiteral("meet.plates")), std::optional<QJsonValue>(plates));
        QVERIFY(a.rejected().isEmpty() && b.rejected().isEmpty());
        QCOMPARE(server.server().registry().find(a.meetId())->conflictCount(), 0);
    }

    // --- Two updating clients A, B unable to reach server, C still online, conflicts --------

    void twoOfflineThirdOnlineConflicting_data()
    {
        QTest::addColumn<bool>("aFirst");
        QTest::newRow("A (Platform A, 10) reconnects first") << true;
        QTest::newRow("B (Weigh-in, 5) reconnects first") << false;
    }

    /// A (priority 10) and B (5) go offline and edit overlapping keys with conflicting values
    /// (and disjoint ones); C (Desk, 1) keeps updating. Whichever reconnects first, the higher
    /// priority's value stands; a rejected loser is told the winner and the winning value; every
    /// conflict is recorded; all three end with the server's meet.
    void twoOfflineThirdOnlineConflicting()
    {
        QFETCH(bool, aFirst);
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient c(server.url(), QStringLiteral("desk-c"), 1, fastOptions());
        SyncClient a(server.url(), QStringLiteral("platform-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("weighin-b"), 1, fastOptions());
        QVERIFY(setUpMeet(c, kDesk, {{&a, kPlatform}, {&b, kWeighIn}}));
        const QString meetId = c.meetId();
        seed(c);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b, &c}, kSeedEntries), kTimeout);

        const qint64 e1 = fixtureId(0), e2 = fixtureId(1), e4 = fixtureId(3);
        const QString name1 = entryKey(e1, QStringLiteral("name"));
        const QString name2 = entryKey(e2, QStringLiteral("name"));
        const QString bw4 = entryKey(e4, QStringLiteral("bodyweightKg"));
        const QString squat4 = entryKey(e4, QStringLiteral("squatKg[0]"));
        QJsonArray plates
            = fixture().value(QStringLiteral("meet")).toObject().value(QStringLiteral("plates")).toArray();
        plates.removeAt(0); // no 50 kg plates on platform A
        QJsonObject newA = fixtureEntry(5);
        newA.insert(QStringLiteral("id"), 30001);
        newA.insert(QStringLiteral("name"), QStringLiteral("Late Entry Platform"));
        QJsonObject newB = fixtureEntry(6);
        newB.insert(QStringLiteral("id"), 30002);
        newB.insert(QStringLiteral("name"), QStringLiteral("Late Entry Weigh-in"));

        a.setOnline(false);
        b.setOnline(false);
        QVERIFY(a.outOfSync() && b.outOfSync());

        // C, still online.
        c.update(bw4, 80.1);
        c.update(QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open (Desk)"));
        c.update(QStringLiteral("meet.city"), QStringLiteral("Rangiora"));
        const qint64 cHead = kSeedEntries + 3;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&c}, cHead), kTimeout);

        // A, offline: conflicting with B on name1, entry e2 (A deletes it, B edits it) and bw4
        // (C too); disjoint: squat4, plates, a new entry.
        const qint64 a1 = a.update(name1, QStringLiteral("Alice Platform"));
        const qint64 a2 = a.update(entryKey(e2), QJsonValue::Null);
        const qint64 a4 = a.update(bw4, 81.2);
        a.update(squat4, 112.5);
        a.update(QStringLiteral("meet.plates"), plates);
        a.update(entryKey(30001), newA);
        const int aCount = 6;
        // B, offline.
        const qint64 b1 = b.update(name1, QStringLiteral("Alice Weigh-in"));
        const qint64 b2 = b.update(name2, QStringLiteral("Bob Weigh-in"));
        const qint64 b4 = b.update(bw4, 82.3);
        const qint64 b5 = b.update(QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open (Weigh-in)"));
        b.update(entryKey(30002), newB);
        const int bCount = 5;
        QCOMPARE(a.pendingCount(), aCount);
        QCOMPARE(b.pendingCount(), bCount);
        QVERIFY(!valueAt(a.localState(), entryKey(e2)).has_value());
        QCOMPARE(valueAt(b.localState(), name2), std::optional<QJsonValue>(QStringLiteral("Bob Weigh-in")));

        SyncClient& first = aFirst ? a : b;
        SyncClient& second = aFirst ? b : a;
        const int firstCount = aFirst ? aCount : bCount;
        first.setOnline(true);
        const qint64 firstHead = cHead + firstCount; // the first one back conflicts only with C
        QTRY_VERIFY_WITH_TIMEOUT(settled({&first, &c}, firstHead), kTimeout);
        QVERIFY(first.rejected().isEmpty());
        QCOMPARE(c.canonicalState().document(), first.canonicalState().document());
        QVERIFY(second.outOfSync());

        second.setOnline(true);
        // A-first: B loses name1, name2 and bw4 (3 rejections). B-first: A overrules all.
        const qint64 head = aFirst ? firstHead + bCount - 3 : firstHead + aCount;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b, &c}, head), kTimeout);
        verifyConverged(server, meetId, {&a, &b, &c}, head);

        // The higher priority's values stand, whichever order.
        const MeetState& s = b.localState(); // the loser's view
        QCOMPARE(valueAt(s, name1), std::optional<QJsonValue>(QStringLiteral("Alice Platform")));
        QVERIFY(!valueAt(s, entryKey(e2)).has_value());
        QVERIFY(!valueAt(s, name2).has_value());
        QCOMPARE(valueAt(s, bw4), std::optional<QJsonValue>(81.2));
        QCOMPARE(valueAt(s, squat4), std::optional<QJsonValue>(112.5));
        QCOMPARE(valueAt(s, QStringLiteral("meet.plates")), std::optional<QJsonValue>(plates));
        QCOMPARE(valueAt(s, QStringLiteral("meet.name")),
                 std::optional<QJsonValue>(QStringLiteral("Canterbury Winter Open (Weigh-in)"))); // B over C
        QCOMPARE(valueAt(s, QStringLiteral("meet.city")), std::optional<QJsonValue>(QStringLiteral("Rangiora")));
        QCOMPARE(valueAt(s, entryKey(30001)), std::optional<QJsonValue>(newA));
        QCOMPARE(valueAt(s, entryKey(30002)), std::optional<QJsonValue>(newB));
        QVERIFY(a.rejected().isEmpty());
        QVERIFY(c.rejected().isEmpty());

        const qint64 seqA1 = a.serverSeqOf(a1).value_or(-1);
        const qint64 seqA2 = a.serverSeqOf(a2).value_or(-1);
        const qint64 seqA4 = a.serverSeqOf(a4).value_or(-1);
        QVERIFY(seqA1 > 0 && seqA2 > 0 && seqA4 > 0);
        if (aFirst) {
            // B was told, per update, that it lost, to whom, and what stands.
            QCOMPARE(b.rejected().size(), 3);
            struct Expect
            {
                qint64 lsn;
                QString key;
                qint64 winnerSeq;
                std::optional<QJsonValue> current;
            };
            const QList<Expect> expects{
                {b1, name1, seqA1, QJsonValue(QStringLiteral("Alice Platform"))},
                {b2, name2, seqA2, std::nullopt}, // the entry is deleted: nothing at the key
                {b4, bw4, seqA4, QJsonValue(81.2)},
            };
            for (const Expect& x : expects) {
                const RejectedUpdate* r = rejectionFor(b, x.key);
                QVERIFY2(r, qPrintable(x.key));
                QCOMPARE(r->update.localSeqNum, x.lsn);
                QVERIFY(r->conflict);
                QCOMPARE(r->code, QStringLiteral("CONFLICT"));
                QVERIFY2(r->reason.contains(kPlatform), qPrintable(r->reason));
                QVERIFY(r->winner.has_value());
                QCOMPARE(r->winner->locationName, kPlatform);
                QCOMPARE(r->winner->priority, 10);
                QCOMPARE(r->winner->clientId, QStringLiteral("platform-a"));
                QCOMPARE(r->winner->serverSeqNum, x.winnerSeq);
                QCOMPARE(r->currentValue, x.current);
            }
            QVERIFY(!b.serverSeqOf(b1) && !b.serverSeqOf(b2) && !b.serverSeqOf(b4));
            QVERIFY(b.serverSeqOf(b5).has_value());
        } else {
            // B was first: nothing of it was rejected; A overruled it where they disagree.
            QVERIFY(b.rejected().isEmpty());
            for (qint64 lsn : {b1, b2, b4, b5}) {
                QVERIFY(b.serverSeqOf(lsn).has_value());
            }
        }

        // The conflict records, in memory and at the loopback admin route.
        const QList<ConflictRecord> records = server.server().registry().find(meetId)->conflicts();
        QCOMPARE(records.size(), 5);
        auto expectRecord = [&](const QString& key, const QString& clientId, ConflictRecord::Outcome outcome,
                                const QSet<QString>& others) {
            const ConflictRecord* r = recordFor(records, key, clientId);
            if (!r) {
                return QStringLiteral("no record for %1 by %2").arg(key, clientId);
            }
            if (r->outcome != outcome) {
                return QStringLiteral("record for %1 by %2 has the wrong outcome").arg(key, clientId);
            }
            if (r->priority != priorityOf(r->locationName)) {
                return QStringLiteral("record for %1 by %2 has priority %3").arg(key, clientId).arg(r->priority);
            }
            const QSet<QString> got = outcome == ConflictRecord::Outcome::Rejected ? QSet<QString>{r->winner.clientId}
                                                                                   : overruledClients(*r);
            if (got != others) {
                return QStringLiteral("record for %1 by %2 names %3").arg(key, clientId, got.values().join(u','));
            }
            return QString();
        };
        using O = ConflictRecord::Outcome;
        QStringList problems;
        if (aFirst) {
            problems << expectRecord(bw4, QStringLiteral("platform-a"), O::Overruled, {QStringLiteral("desk-c")})
                     << expectRecord(name1, QStringLiteral("weighin-b"), O::Rejected, {QStringLiteral("platform-a")})
                     << expectRecord(name2, QStringLiteral("weighin-b"), O::Rejected, {QStringLiteral("platform-a")})
                     << expectRecord(bw4, QStringLiteral("weighin-b"), O::Rejected, {QStringLiteral("platform-a")})
                     << expectRecord(QStringLiteral("meet.name"), QStringLiteral("weighin-b"), O::Overruled,
                                     {QStringLiteral("desk-c")});
        } else {
            problems << expectRecord(bw4, QStringLiteral("weighin-b"), O::Overruled, {QStringLiteral("desk-c")})
                     << expectRecord(QStringLiteral("meet.name"), QStringLiteral("weighin-b"), O::Overruled,
                                     {QStringLiteral("desk-c")})
                     << expectRecord(name1, QStringLiteral("platform-a"), O::Overruled, {QStringLiteral("weighin-b")})
                     << expectRecord(entryKey(e2), QStringLiteral("platform-a"), O::Overruled,
                                     {QStringLiteral("weighin-b")})
                     << expectRecord(bw4, QStringLiteral("platform-a"), O::Overruled,
                                     {QStringLiteral("desk-c"), QStringLiteral("weighin-b")});
        }
        problems.removeAll(QString());
        QVERIFY2(problems.isEmpty(), qPrintable(problems.join(QStringLiteral("; "))));

        const HttpResult admin
            = http(server.server().port(), QStringLiteral("/admin/meets/%1/conflicts").arg(meetId), false);
        QCOMPARE(admin.status, 200);
        const QJsonArray listed = admin.body.value(QStringLiteral("conflicts")).toArray();
        QCOMPARE(listed.size(), records.size());
        for (int i = 0; i < records.size(); ++i) {
            QCOMPARE(listed[i].toObject(), records[i].toJson());
        }
        // ... and on disk, one line each.
        QFile log(Meet::conflictsPath(meetDir(server.dataDir(), meetId)));
        QVERIFY(log.open(QIODevice::ReadOnly));
        QCOMPARE(log.readAll().count('\n'), records.size());

        m_finalDocs.insert(QStringLiteral("twoOfflineThirdOnlineConflicting/%1").arg(aFirst),
                           a.canonicalState().document());
        const QJsonObject other = m_finalDocs.value(QStringLiteral("twoOfflineThirdOnlineConflicting/%1").arg(!aFirst));
        if (!other.isEmpty()) {
            // Same values whichever order (the new entries are appended in arrival order).
            auto withoutEntries = [](QJsonObject doc) {
                QJsonObject reg = doc.value(QStringLiteral("registration")).toObject();
                QJsonArray entries = reg.value(QStringLiteral("entries")).toArray();
                QJsonArray sorted;
                QMap<qint64, QJsonObject> byId;
                for (const QJsonValue& v : entries) {
                    byId.insert(v.toObject().value(QStringLiteral("id")).toInteger(), v.toObject());
                }
                for (const QJsonObject& o : byId) {
                    sorted.append(o);
                }
                reg.insert(QStringLiteral("entries"), sorted);
                doc.insert(QStringLiteral("registration"), reg);
                return doc;
            };
            QCOMPARE(withoutEntries(a.canonicalState().document()), withoutEntries(other));
        }
    }

    void higherPriorityEditVsLowerPriorityDelete_data()
    {
        QTest::addColumn<bool>("aFirst");
        QTest::newRow("A (edit, 10) reconnects first") << true;
        QTest::newRow("B (delete, 5) reconnects first") << false;
    }

    /// The other half of "delete vs edit": the higher priority edits a lifter's name while the
    /// lower priority deletes the lifter. A wins either way, so the lifter must exist with A's name.
    void higherPriorityEditVsLowerPriorityDelete()
    {
        QFETCH(bool, aFirst);
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient c(server.url(), QStringLiteral("desk-c"), 1, fastOptions());
        SyncClient a(server.url(), QStringLiteral("platform-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("weighin-b"), 1, fastOptions());
        QVERIFY(setUpMeet(c, kDesk, {{&a, kPlatform}, {&b, kWeighIn}}));
        seed(c);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b, &c}, kSeedEntries), kTimeout);
        const qint64 e3 = fixtureId(2);
        const QString name3 = entryKey(e3, QStringLiteral("name"));

        a.setOnline(false);
        b.setOnline(false);
        a.update(name3, QStringLiteral("Carol Platform"));
        const qint64 b3 = b.update(entryKey(e3), QJsonValue::Null);

        SyncClient& first = aFirst ? a : b;
        SyncClient& second = aFirst ? b : a;
        first.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&first, &c}, kSeedEntries + 1), kTimeout);
        second.setOnline(true);
        // B first: the delete, then the server puts the lifter back as it was, then A's edit.
        const qint64 head = aFirst ? kSeedEntries + 1 : kSeedEntries + 3;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b, &c}, head), kTimeout);
        verifyConverged(server, c.meetId(), {&a, &b, &c}, head);
        if (aFirst) {
            const RejectedUpdate* r = rejectionFor(b, entryKey(e3));
            QVERIFY(r);
            QCOMPARE(r->update.localSeqNum, b3);
            QVERIFY(r->conflict);
            QCOMPARE(r->winner.value_or(ConflictWinner{}).locationName, kPlatform);
            QVERIFY(r->currentValue.has_value());
            QCOMPARE(r->currentValue->toObject().value(QStringLiteral("name")).toString(),
                     QStringLiteral("Carol Platform"));
        }
        QCOMPARE(server.server().registry().find(c.meetId())->conflictCount(), 1);
        if (!aFirst) {
            // The element restored for the overrule is the server's own entry, right before A's.
            const auto restored = a.engine().entry(kSeedEntries + 2);
            QVERIFY(restored);
            QCOMPARE(restored->clientId, ServerClientId);
            QCOMPARE(restored->key, entryKey(e3));
            QCOMPARE(restored->locationName, kPlatform);
            QCOMPARE(a.engine().entry(kSeedEntries + 3)->key, name3);
        }
        // A's edit overruled B's delete, so the lifter is there, under A's name.
        QCOMPARE(valueAt(a.canonicalState(), name3), std::optional<QJsonValue>(QStringLiteral("Carol Platform")));
        QCOMPARE(valueAt(a.localState(), name3), std::optional<QJsonValue>(QStringLiteral("Carol Platform")));
    }

    void equalPriorityFirstSequencedStands_data()
    {
        QTest::addColumn<bool>("p1First");
        QTest::newRow("browser 1 reconnects first") << true;
        QTest::newRow("browser 2 reconnects first") << false;
    }

    /// Two browsers at one location (equal priority) edit the same keys offline: the update
    /// already sequenced stands; the later one is rejected naming the first.
    void equalPriorityFirstSequencedStands()
    {
        QFETCH(bool, p1First);
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient desk(server.url(), QStringLiteral("desk-c"), 1, fastOptions());
        SyncClient p1(server.url(), QStringLiteral("platform-a-1"), 1, fastOptions());
        SyncClient p2(server.url(), QStringLiteral("platform-a-2"), 1, fastOptions());
        QVERIFY(setUpMeet(desk, kDesk, {{&p1, kPlatform}, {&p2, kPlatform}}));
        seed(desk);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&desk, &p1, &p2}, kSeedEntries), kTimeout);
        const qint64 e1 = fixtureId(0), e2 = fixtureId(1);
        const QString squat = entryKey(e1, QStringLiteral("squatKg[2]"));
        const QString bw2 = entryKey(e2, QStringLiteral("bodyweightKg"));

        p1.setOnline(false);
        p2.setOnline(false);
        const qint64 p1Squat = p1.update(squat, 107.5);
        const qint64 p1Bw = p1.update(bw2, 58.9);
        const qint64 p2Squat = p2.update(squat, 110);
        const qint64 p2Del = p2.update(entryKey(e2), QJsonValue::Null); // scratched at the same table

        SyncClient& first = p1First ? p1 : p2;
        SyncClient& second = p1First ? p2 : p1;
        first.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&first, &desk}, kSeedEntries + 2), kTimeout);
        const QJsonObject afterFirst = first.canonicalState().document();
        second.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&desk, &p1, &p2}, kSeedEntries + 2), kTimeout);
        verifyConverged(server, desk.meetId(), {&desk, &p1, &p2}, kSeedEntries + 2);
        QCOMPARE(desk.canonicalState().document(), afterFirst); // nothing of the second one applied

        QVERIFY(first.rejected().isEmpty());
        QCOMPARE(second.rejected().size(), 2);
        const qint64 winSquat = first.serverSeqOf(p1First ? p1Squat : p2Squat).value_or(-1);
        const qint64 winEntry = first.serverSeqOf(p1First ? p1Bw : p2Del).value_or(-1);
        for (const RejectedUpdate& r : second.rejected()) {
            QVERIFY(r.conflict);
            QVERIFY(r.winner.has_value());
            QCOMPARE(r.winner->locationName, kPlatform);
            QCOMPARE(r.winner->priority, 10);
            QCOMPARE(r.winner->clientId, first.clientId());
            QCOMPARE(r.currentValue, valueAt(first.canonicalState(), r.update.key));
            if (r.update.key == squat) {
                QCOMPARE(r.update.localSeqNum, p1First ? p2Squat : p1Squat);
                QCOMPARE(r.winner->serverSeqNum, winSquat);
            } else {
                QCOMPARE(r.update.localSeqNum, p1First ? p2Del : p1Bw);
                QCOMPARE(r.winner->serverSeqNum, winEntry);
            }
        }
        QCOMPARE(valueAt(second.localState(), squat), std::optional<QJsonValue>(p1First ? 107.5 : 110));
        if (p1First) {
            QCOMPARE(valueAt(second.localState(), bw2), std::optional<QJsonValue>(58.9));
            QVERIFY(!second.rejected().isEmpty() && second.rejected().last().currentValue.has_value());
        } else {
            QVERIFY(!valueAt(second.localState(), entryKey(e2)).has_value()); // the delete stood
        }
        QCOMPARE(server.server().registry().find(desk.meetId())->conflictCount(), 2);
    }

    /// UPDATE_REJECTED for a conflict carries the server's head when it decided (sync.md:
    /// `"headServerSeq":h` in each rejected item), so a client that is behind can fetch the winner.
    void conflictRejectionCarriesHeadServerSeq()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient p1(server.url(), QStringLiteral("platform-a-1"), 1, fastOptions());
        SyncClient p2(server.url(), QStringLiteral("platform-a-2"), 1, fastOptions());
        QVERIFY(setUpMeet(p1, kPlatform, {{&p2, kPlatform}}));
        const QString key = entryKey(fixtureId(0), QStringLiteral("bodyweightKg"));
        p2.setOnline(false);
        p2.update(key, 82.1);
        p1.update(key, 82.0);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&p1}, 1), kTimeout);
        p2.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&p1, &p2}, 1), kTimeout);
        QCOMPARE(p2.rejected().size(), 1);
        QVERIFY(p2.rejected().first().conflict);
        QCOMPARE(p2.rejected().first().winner.value_or(ConflictWinner{}).serverSeqNum, 1);
        QCOMPARE(p2.rejected().first().headServerSeq, 1);
    }

    // --- Two updating clients offline; the server has lost all state ------------------------

    void serverLostJournalTailRecovers_data()
    {
        QTest::addColumn<bool>("higherFirst");
        QTest::addColumn<bool>("pendingEdits");
        QTest::newRow("higher priority (A) first, nothing pending") << true << false;
        QTest::newRow("lower priority (B) first, nothing pending") << false << false;
        QTest::newRow("higher priority (A) first, offline edits pending") << true << true;
        QTest::newRow("lower priority (B) first, offline edits pending") << false << true;
    }

    /// The server comes back with its journal cut to 3 of 8 entries while A and B were offline
    /// with edits of their own. The first client back gets SERVER_PULL{3}, pushes 4..8 back and
    /// the server takes them with their original serverSeqNums; then the offline edits are
    /// sequenced under the conflict rule and everyone converges.
    void serverLostJournalTailRecovers()
    {
        QFETCH(bool, higherFirst);
        QFETCH(bool, pendingEdits);
        QTemporaryDir data;
        QVERIFY(data.isValid());
        auto server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        OfflineLog before;
        takeLogOffline(*server, pendingEdits, &before);
        if (QTest::currentTestFailed()) {
            return;
        }
        const QString& meetId = before.meetId;
        const QString squat0 = entryKey(fixtureId(0), QStringLiteral("squatKg[0]"));
        server->stop();

        // The journal loses its tail: only seqs 1..3 survive.
        const QString path = Meet::journalPath(meetDir(data.path(), meetId));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        f.close();
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(lines[0] + '\n' + lines[1] + '\n' + lines[2] + '\n');
        f.close();

        server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        QCOMPARE(server->server().registry().find(meetId)->durableSeq(), 3);
        SyncClient a(server->url(), before.stateA, fastOptions());
        SyncClient b(server->url(), before.stateB, fastOptions());
        SyncClient& first = higherFirst ? a : b;
        SyncClient& second = higherFirst ? b : a;
        QSignalSpy firstPull(&first, &SyncClient::serverPullReceived);
        QSignalSpy firstRecovery(&first, &SyncClient::recoveryAcked);
        QSignalSpy secondPull(&second, &SyncClient::serverPullReceived);

        const qint64 firstPending = first.pendingCount();
        first.setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(firstPull.count(), 1, kTimeout);
        QCOMPARE(firstPull.at(0).at(0).toLongLong(), 3);
        QTRY_COMPARE_WITH_TIMEOUT(firstRecovery.count(), 1, kTimeout);
        const auto report = firstRecovery.at(0).at(0).value<RecoveryReport>();
        QCOMPARE(report.restored, 5);
        QCOMPARE(report.resequenced, 0);
        QVERIFY(report.skipped.isEmpty());
        QTRY_VERIFY_WITH_TIMEOUT(quiet(*server, meetId, {&first}), kTimeout);
        QCOMPARE(first.rejected().size(), 0);
        const qint64 firstHead = 8 + firstPending;
        QCOMPARE(first.lastServerSeq(), firstHead);
        // Entries 1..8 are back under their original numbers.
        QCOMPARE(serverEntries(server->server(), meetId).mid(0, 8), before.entries);

        second.setOnline(true);
        // A-first: B's meet.name loses to A's. B-first: A's overrules B's.
        const qint64 head = pendingEdits ? firstHead + 2 : 8;
        QTRY_VERIFY_WITH_TIMEOUT(quiet(*server, meetId, {&a, &b}), kTimeout);
        QCOMPARE(a.lastServerSeq(), head);
        QCOMPARE(secondPull.count(), 0); // the server held its history again: an ordinary pull
        verifyConverged(*server, meetId, {&a, &b}, head);
        QCOMPARE(serverEntries(server->server(), meetId).mid(0, 8), before.entries);
        if (pendingEdits) {
            verifyOfflineOutcome(a);
            QVERIFY2(!b.rejected().isEmpty() || !higherFirst, "B's meet.name should have lost to A's");
            // B had seen A's opener (seq 6) before changing it: no conflict, B's value stands.
            QCOMPARE(valueAt(a.canonicalState(), squat0), std::optional<QJsonValue>(102.5));
            QCOMPARE(server->server().registry().find(meetId)->conflictCount(), 1);
        } else {
            QCOMPARE(a.canonicalState().document(), before.doc);
            QCOMPARE(server->server().registry().find(meetId)->conflictCount(), 0);
        }
        checkSameOutcome(QStringLiteral("journalTail%1").arg(pendingEdits), higherFirst, a.canonicalState().document());
    }

    void serverLostWholeDataDirRestoredFromClients_data()
    {
        QTest::addColumn<bool>("higherFirst");
        QTest::addColumn<bool>("pendingEdits");
        QTest::newRow("higher priority (A) restores, nothing pending") << true << false;
        QTest::newRow("lower priority (B) restores, nothing pending") << false << false;
        QTest::newRow("higher priority (A) restores, offline edits pending") << true << true;
        QTest::newRow("lower priority (B) restores, offline edits pending") << false << true;
    }

    /// The server's data directory is gone altogether. The first client back asks to restore the
    /// meet (RESTORE_MEET), which waits for the director's approval (POST /admin/restores/<id>/
    /// approve from loopback); then its log refills the meet with the original numbers. The other
    /// client must join again with the password, and both converge.
    void serverLostWholeDataDirRestoredFromClients()
    {
        QFETCH(bool, higherFirst);
        QFETCH(bool, pendingEdits);
        QTemporaryDir data;
        QVERIFY(data.isValid());
        auto server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        OfflineLog before;
        takeLogOffline(*server, pendingEdits, &before);
        if (QTest::currentTestFailed()) {
            return;
        }
        const QString& meetId = before.meetId;
        server->stop();
        QVERIFY(QDir(data.path()).removeRecursively());
        QVERIFY(QDir().mkpath(data.path()));

        server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        QVERIFY(!server->server().registry().find(meetId));
        SyncClient a(server->url(), before.stateA, fastOptions());
        SyncClient b(server->url(), before.stateB, fastOptions());
        SyncClient& first = higherFirst ? a : b;
        SyncClient& second = higherFirst ? b : a;
        const QString firstLocation = higherFirst ? kPlatform : kWeighIn;
        const QString secondLocation = higherFirst ? kWeighIn : kPlatform;

        QSignalSpy restoreRejected(&first, &SyncClient::restoreRejected);
        QSignalSpy loggedIn(&first, &SyncClient::loggedIn);
        QSignalSpy firstPull(&first, &SyncClient::serverPullReceived);
        QSignalSpy firstRecovery(&first, &SyncClient::recoveryAcked);
        const qint64 firstPending = first.pendingCount();
        first.restoreMeet(meetId, kPassword, firstLocation, endpoints());
        QTRY_VERIFY_WITH_TIMEOUT(restoreRejected.count() >= 1, kTimeout);
        QVERIFY(restoreRejected.at(0).at(1).toBool()); // pending approval
        QCOMPARE(loggedIn.count(), 0);
        QVERIFY(!server->server().registry().find(meetId));
        const HttpResult pending = http(server->server().port(), QStringLiteral("/admin/restores"), false);
        QCOMPARE(pending.status, 200);
        QVERIFY2(QJsonDocument(pending.body).toJson().contains(meetId.toUtf8()),
                 QJsonDocument(pending.body).toJson().constData());
        const HttpResult approved
            = http(server->server().port(), QStringLiteral("/admin/restores/%1/approve").arg(meetId), true);
        QCOMPARE(approved.status, 200);
        QCOMPARE(approved.body.value(QStringLiteral("approved")).toBool(), true);

        QTRY_COMPARE_WITH_TIMEOUT(loggedIn.count(), 1, kTimeout); // asked again by itself
        QTRY_COMPARE_WITH_TIMEOUT(firstPull.count(), 1, kTimeout);
        QCOMPARE(firstPull.at(0).at(0).toLongLong(), 0); // the server holds nothing of the old history
        // The pull that follows SERVER_PULL may be answered (from the durable head, 0) before the
        // pushed entries are durable: wait for the RECOVERY_ACK before calling the client settled.
        QTRY_COMPARE_WITH_TIMEOUT(firstRecovery.count(), 1, kTimeout);
        QCOMPARE(firstRecovery.at(0).at(0).value<RecoveryReport>().restored, 8);
        QTRY_VERIFY_WITH_TIMEOUT(quiet(*server, meetId, {&first}), kTimeout);
        QCOMPARE(first.rejected().size(), 0);
        const qint64 firstHead = 8 + firstPending;
        QCOMPARE(first.lastServerSeq(), firstHead);
        QCOMPARE(serverEntries(server->server(), meetId).mid(0, 8), before.entries);

        // The other client's session is gone with the data: it has to join again.
        second.setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(second.status(), SyncClient::Status::NeedsJoin, kTimeout);
        QCOMPARE(second.pendingCount(), pendingEdits ? (higherFirst ? 3 : 2) : 0); // nothing lost meanwhile
        second.joinMeet(meetId, kPassword, secondLocation);
        const qint64 head = pendingEdits ? firstHead + 2 : 8;
        QTRY_VERIFY_WITH_TIMEOUT(quiet(*server, meetId, {&a, &b}), kTimeout);
        QCOMPARE(a.lastServerSeq(), head);
        verifyConverged(*server, meetId, {&a, &b}, head);
        QCOMPARE(serverEntries(server->server(), meetId).mid(0, 8), before.entries);
        if (pendingEdits) {
            verifyOfflineOutcome(a);
            QCOMPARE(valueAt(a.canonicalState(), entryKey(fixtureId(0), QStringLiteral("squatKg[0]"))),
                     std::optional<QJsonValue>(102.5));
            QCOMPARE(server->server().registry().find(meetId)->conflictCount(), 1);
        } else {
            QCOMPARE(a.canonicalState().document(), before.doc);
            QCOMPARE(server->server().registry().find(meetId)->conflictCount(), 0);
        }
        checkSameOutcome(QStringLiteral("wholeDir%1").arg(pendingEdits), higherFirst, a.canonicalState().document());
    }

private:
    /// What two clients leave behind when they go offline after building the 8-entry log.
    struct OfflineLog
    {
        QString meetId;
        QList<QJsonObject> entries; // the server's journal entries 1..8
        QJsonObject doc; // the document both held
        PersistedState stateA, stateB;
    };

    /// A and B build the log (prepareLog), go offline, optionally make offlineEdits, and are
    /// destroyed; their persisted states stay in *out for clients that come back later.
    void takeLogOffline(InProcessServer& server, bool pendingEdits, OfflineLog* out)
    {
        SyncClient a(server.url(), QStringLiteral("platform-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("weighin-b"), 1, fastOptions());
        QVERIFY(prepareLog(a, b, &out->meetId));
        out->entries = serverEntries(server.server(), out->meetId);
        QCOMPARE(out->entries.size(), 8);
        out->doc = a.canonicalState().document();
        QVERIFY(!a.epoch().isEmpty());
        a.setOnline(false);
        b.setOnline(false);
        if (pendingEdits) {
            offlineEdits(a, b);
        }
        out->stateA = a.persistedState();
        out->stateB = b.persistedState();
    }

    /// A (Platform A, 10) creates the meet, B (Weigh-in, 5) joins; 8 entries, both hold them all.
    bool prepareLog(SyncClient& a, SyncClient& b, QString* meetId)
    {
        if (!setUpMeet(a, kPlatform, {{&b, kWeighIn}})) {
            return false;
        }
        *meetId = a.meetId();
        seed(a); // 1, 2
        const QList<QPair<SyncClient*, QPair<QString, QJsonValue>>> steps{
            {&b, {entryKey(fixtureId(0), QStringLiteral("bodyweightKg")), 82.7}}, // 3
            {&b, {entryKey(fixtureId(1), QStringLiteral("bodyweightKg")), 71.35}}, // 4
            {&a, {QStringLiteral("lifting.flight"), QStringLiteral("B")}}, // 5
            {&a, {entryKey(fixtureId(0), QStringLiteral("squatKg[0]")), 100}}, // 6: opener
            {&b, {QStringLiteral("meet.city"), QStringLiteral("Hamilton")}}, // 7
            {&a, {entryKey(fixtureId(1), QStringLiteral("squatStatus[0]")), 1}}, // 8
        };
        if (!QTest::qWaitFor([&] { return settled({&a, &b}, kSeedEntries); }, kTimeout)) {
            return false;
        }
        qint64 seq = kSeedEntries;
        for (const auto& [client, update] : steps) {
            client->update(update.first, update.second);
            ++seq;
            if (!QTest::qWaitFor([&] { return settled({&a, &b}, seq); }, kTimeout)) {
                return false;
            }
        }
        return a.canonicalState().document() == b.canonicalState().document();
    }

    /// Offline edits: both rename the meet (conflict, A wins by priority); B changes the opener A
    /// set at seq 6 (B saw it: no conflict) and a bodyweight; A records a bench attempt.
    static void offlineEdits(SyncClient& a, SyncClient& b)
    {
        a.update(QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open (Platform)"));
        a.update(entryKey(fixtureId(2), QStringLiteral("benchKg[0]")), 65);
        b.update(QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open (Weigh-in)"));
        b.update(entryKey(fixtureId(0), QStringLiteral("squatKg[0]")), 102.5);
        b.update(entryKey(fixtureId(3), QStringLiteral("bodyweightKg")), 74.1);
    }

    static void verifyOfflineOutcome(const SyncClient& a)
    {
        const MeetState& s = a.canonicalState();
        QCOMPARE(valueAt(s, QStringLiteral("meet.name")),
                 std::optional<QJsonValue>(QStringLiteral("Canterbury Winter Open (Platform)")));
        QCOMPARE(valueAt(s, QStringLiteral("meet.city")), std::optional<QJsonValue>(QStringLiteral("Hamilton")));
        QCOMPARE(valueAt(s, QStringLiteral("lifting.flight")), std::optional<QJsonValue>(QStringLiteral("B")));
        QCOMPARE(valueAt(s, entryKey(fixtureId(2), QStringLiteral("benchKg[0]"))), std::optional<QJsonValue>(65));
        QCOMPARE(valueAt(s, entryKey(fixtureId(3), QStringLiteral("bodyweightKg"))), std::optional<QJsonValue>(74.1));
        QCOMPARE(valueAt(s, entryKey(fixtureId(1), QStringLiteral("bodyweightKg"))), std::optional<QJsonValue>(71.35));
    }

    /// The server does not enforce "descending priority order" (it answers whoever comes first),
    /// so the outcome must not depend on the order.
    void checkSameOutcome(const QString& test, bool higherFirst, const QJsonObject& doc)
    {
        m_finalDocs.insert(test + QString::number(higherFirst), doc);
        const QJsonObject other = m_finalDocs.value(test + QString::number(!higherFirst));
        if (!other.isEmpty()) {
            QCOMPARE(doc, other);
        }
    }
};

QTEST_GUILESS_MAIN(TestScenarios)
#include "tst_scenarios.moc"
