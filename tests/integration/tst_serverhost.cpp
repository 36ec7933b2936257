// SPDX-License-Identifier: AGPL-3.0-or-later
// ServerHost: the thread-hosted server the desktop app drives, and its monitoring surface
// (typed events, immutable snapshots, the diagnostics ring), over real sockets on 127.0.0.1.
#include "ServerHarness.h"
#include "TestClient.h"
#include "host/DiagRing.h"
#include "host/ServerHost.h"
#include "sync/Meet.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLockFile>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <functional>

#include <unistd.h>

using namespace oll;
using namespace oll::test;

namespace {

constexpr int kTimeout = 20000;
const QString kPassword = QStringLiteral("correct horse battery");

QList<QPair<QString, int>> endpoints()
{
    return {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}};
}

QJsonArray endpointsJson()
{
    QJsonArray out;
    for (const auto& [name, prio] : endpoints()) {
        out.append(QJsonObject{{QStringLiteral("locationName"), name}, {QStringLiteral("priority"), prio}});
    }
    return out;
}

QUrl urlOf(const ServerHost& host)
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(host.snapshot()->port));
}

/// Opens `c` and creates the meet "Desk" as client desk-1; true once it has the meet's ID.
bool openWithDeskMeet(TestClient& c)
{
    if (!c.open()) {
        return false;
    }
    c.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("desk-1"));
    return !c.meetId.isEmpty();
}

/// Starts `host` and waits for started(); returns the error ("" on success).
QString startAndWait(ServerHost& host, const ServerOptions& options)
{
    QSignalSpy started(&host, &ServerHost::started);
    if (!host.start(options)) {
        return QStringLiteral("start() refused");
    }
    if (!started.wait(kTimeout)) {
        return QStringLiteral("no started() signal");
    }
    if (!started.at(0).at(0).toBool()) {
        const QString error = started.at(0).at(1).toString();
        return error.isEmpty() ? QStringLiteral("failed without a reason") : error;
    }
    return QString();
}

bool stopAndWait(ServerHost& host)
{
    QSignalSpy stopped(&host, &ServerHost::stopped);
    return host.stop() && stopped.wait(kTimeout);
}

std::optional<MeetInfo> meetIn(const ServerSnapshot& s, const QString& meetId)
{
    for (const MeetInfo& m : s.meets) {
        if (m.meetId == meetId) {
            return m;
        }
    }
    return std::nullopt;
}

std::optional<ClientInfo> clientIn(const ServerSnapshot& s, const QString& meetId, const QString& clientId)
{
    if (const auto meet = meetIn(s, meetId)) {
        for (const ClientInfo& c : meet->clients) {
            if (c.clientId == clientId) {
                return c;
            }
        }
    }
    return std::nullopt;
}

std::optional<ConnectionInfo> connectionOf(const ServerSnapshot& s, const QString& clientId)
{
    for (const ConnectionInfo& c : s.connections) {
        if (c.clientId == clientId) {
            return c;
        }
    }
    return std::nullopt;
}

/// Waits until `pred` holds for the host's latest snapshot.
bool waitForSnapshot(const ServerHost& host, const std::function<bool(const ServerSnapshot&)>& pred)
{
    return QTest::qWaitFor([&] { return pred(*host.snapshot()); }, kTimeout);
}

/// localSeqNum -> serverSeqNum of every UPDATE_ACK the client received so far.
QMap<qint64, qint64> ackedSoFar(const TestClient& c)
{
    QMap<qint64, qint64> out;
    for (const QJsonObject& m : c.received()) {
        if (m.value(QStringLiteral("msgType")).toString() != QStringLiteral("UPDATE_ACK")) {
            continue;
        }
        for (const QJsonValue& v : m.value(QStringLiteral("updateAcks")).toArray()) {
            const QJsonObject a = v.toObject();
            out.insert(a.value(QStringLiteral("localSeqNum")).toInteger(),
                       a.value(QStringLiteral("serverSeqNum")).toInteger());
        }
    }
    return out;
}

QJsonObject restoreMessage(const QString& meetId, const QString& clientId)
{
    return {{QStringLiteral("msgType"), QStringLiteral("RESTORE_MEET")},
            {QStringLiteral("meetId"), meetId},
            {QStringLiteral("password"), kPassword},
            {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
            {QStringLiteral("endpoints"), endpointsJson()},
            {QStringLiteral("clientId"), clientId},
            {QStringLiteral("epoch"), QStringLiteral("0123456789abcdef")}};
}

} // namespace

class TestServerHost final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void accessorsAreSafeBeforeStartAndAfterFailedStart()
    {
        ServerHost host;
        QCOMPARE(host.state(), ServerSnapshot::State::Stopped);
        QCOMPARE(host.health(), QJsonObject({{QStringLiteral("status"), QStringLiteral("stopped")}}));
        QVERIFY(host.snapshot());
        QCOMPARE(host.snapshot()->state, ServerSnapshot::State::Stopped);
        QVERIFY(host.conflicts(QStringLiteral("123456789")).isEmpty());
        QVERIFY(!host.stop());
        host.refresh();
        host.approveRestore(QStringLiteral("123456789"));
        QSignalSpy minted(&host, &ServerHost::displayLinkMinted);
        const quint64 request = host.mintDisplayLink(QStringLiteral("123456789"), QStringLiteral("board"));
        QVERIFY(minted.wait(kTimeout));
        QCOMPARE(minted.at(0).at(0).toULongLong(), request);
        QVERIFY(!minted.at(0).at(4).toString().isEmpty()); // not running: says so

        QTcpServer occupier;
        QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
        QTemporaryDir data;
        ServerOptions options = testOptions(data.path());
        options.port = occupier.serverPort();
        QSignalSpy states(&host, &ServerHost::stateChanged);
        const QString error = startAndWait(host, options);
        QVERIFY2(error.contains(QStringLiteral("cannot listen")), qPrintable(error));
        QCOMPARE(host.state(), ServerSnapshot::State::Failed);
        QCOMPARE(host.snapshot()->state, ServerSnapshot::State::Failed);
        QCOMPARE(host.snapshot()->error, error);
        QCOMPARE(host.health().value(QStringLiteral("status")).toString(), QStringLiteral("stopped"));
        QVERIFY(!host.stop());
        QVERIFY(states.count() >= 2); // Starting, Failed

        // A failed start leaves the host ready for another.
        options.port = 0;
        QCOMPARE(startAndWait(host, options), QString());
        QCOMPARE(host.state(), ServerSnapshot::State::Running);
        QCOMPARE(host.health().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QVERIFY(host.snapshot()->port != 0);
        QVERIFY(stopAndWait(host));
        QCOMPARE(host.state(), ServerSnapshot::State::Stopped);
        QCOMPARE(host.health(), QJsonObject({{QStringLiteral("status"), QStringLiteral("stopped")}}));
    }

    void startFailuresSayWhy()
    {
        QTemporaryDir data;
        // Port in use.
        {
            QTcpServer occupier;
            QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
            ServerHost host;
            ServerOptions options = testOptions(data.path());
            options.port = occupier.serverPort();
            const QString error = startAndWait(host, options);
            QVERIFY2(error.contains(QString::number(options.port)), qPrintable(error));
        }
        // The data folder is in use by a second host.
        {
            ServerHost first;
            QCOMPARE(startAndWait(first, testOptions(data.path())), QString());
            ServerHost second;
            const QString error = startAndWait(second, testOptions(data.path()));
            QVERIFY2(error.contains(QStringLiteral("in use by another server")), qPrintable(error));
            QCOMPARE(second.state(), ServerSnapshot::State::Failed);
            QCOMPARE(first.state(), ServerSnapshot::State::Running);
        }
        // The data folder cannot be created (a file where a folder should be; root ignores modes).
        {
            QFile blocker(data.filePath(QStringLiteral("not-a-folder")));
            QVERIFY(blocker.open(QIODevice::WriteOnly));
            blocker.close();
            ServerHost host;
            const QString error = startAndWait(host, testOptions(blocker.fileName() + QStringLiteral("/data")));
            QVERIFY2(error.contains(QStringLiteral("cannot create data directory")), qPrintable(error));
        }
        // A folder without write permission (meaningless for root, who may write anyway).
        if (::geteuid() != 0) {
            const QString readOnly = data.filePath(QStringLiteral("read-only"));
            QVERIFY(QDir().mkpath(readOnly));
            QVERIFY(QFile::setPermissions(readOnly, QFileDevice::ReadOwner | QFileDevice::ExeOwner));
            ServerHost host;
            const QString error = startAndWait(host, testOptions(readOnly));
            QFile::setPermissions(readOnly, QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner);
            QVERIFY2(error.contains(QStringLiteral("writable")), qPrintable(error));
        }
    }

    void startStopFiveTimesKeepsEveryMeet()
    {
        QTemporaryDir data;
        ServerHost host;
        QMap<QString, qint64> heads; // meetId -> head seq
        for (int round = 0; round < 5; ++round) {
            QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
            for (auto it = heads.cbegin(); it != heads.cend(); ++it) {
                const auto meet = meetIn(*host.snapshot(), it.key());
                QVERIFY2(meet, qPrintable(QStringLiteral("round %1: meet %2 missing").arg(round).arg(it.key())));
                QCOMPARE(meet->headSeq, it.value());
                QCOMPARE(meet->durableSeq, it.value());
            }
            TestClient c(urlOf(host));
            QVERIFY(c.open());
            QCOMPARE(c.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("desk-%1").arg(round))
                         .value(QStringLiteral("msgType"))
                         .toString(),
                     QStringLiteral("MEET_CREATED"));
            QList<std::tuple<QString, QJsonValue, qint64, qint64>> updates;
            for (int i = 1; i <= round + 1; ++i) {
                updates.append({QStringLiteral("meet.note%1").arg(i), QStringLiteral("round %1").arg(round), i, 0});
            }
            c.sendUpdates(c.token, updates);
            QTRY_COMPARE_WITH_TIMEOUT(ackedSoFar(c).size(), round + 1, kTimeout);
            heads.insert(c.meetId, round + 1);
            QVERIFY(stopAndWait(host));
            QVERIFY(c.waitForDisconnect(kTimeout));
            QCOMPARE(host.state(), ServerSnapshot::State::Stopped);
        }
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        for (auto it = heads.cbegin(); it != heads.cend(); ++it) {
            const auto meet = meetIn(*host.snapshot(), it.key());
            QVERIFY(meet);
            QCOMPARE(meet->headSeq, it.value());
        }
    }

    void connectionEventsAndClientHistory()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        QSignalSpy opened(&host, &ServerHost::connectionOpened);
        QSignalSpy bound(&host, &ServerHost::connectionBound);
        QSignalSpy closed(&host, &ServerHost::connectionClosed);

        TestClient desk(urlOf(host));
        QVERIFY(desk.open());
        QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, kTimeout);
        const auto open = opened.at(0).at(0).value<ConnectionInfo>();
        QCOMPARE(open.address, QStringLiteral("127.0.0.1"));
        QVERIFY(!open.bound);
        QVERIFY(open.openedMs > 0);
        desk.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("desk-1"));
        QVERIFY(!desk.meetId.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(bound.count(), 1, kTimeout);
        auto info = bound.at(0).at(0).value<ConnectionInfo>();
        QCOMPARE(info.connectionId, open.connectionId);
        QCOMPARE(info.meetId, desk.meetId);
        QCOMPARE(info.locationName, QStringLiteral("Desk"));
        QCOMPARE(info.role, Role::Update);
        QCOMPARE(info.clientId, QStringLiteral("desk-1"));
        QCOMPARE(info.address, QStringLiteral("127.0.0.1"));

        TestClient board(urlOf(host));
        QVERIFY(board.open());
        QCOMPARE(board
                     .joinMeet(desk.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("board-1"),
                               QStringLiteral("display"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
        QTRY_COMPARE_WITH_TIMEOUT(bound.count(), 2, kTimeout);
        info = bound.at(1).at(0).value<ConnectionInfo>();
        QCOMPARE(info.role, Role::Display);
        QCOMPARE(info.locationName, QStringLiteral("Platform 1"));
        QCOMPARE(info.clientId, QStringLiteral("board-1"));
        // Presenting the same token again (every update does) is no new binding.
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("X"), 1, 0}});
        QTRY_COMPARE_WITH_TIMEOUT(ackedSoFar(desk).size(), 1, kTimeout);
        QCOMPARE(bound.count(), 2);

        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto meet = meetIn(s, desk.meetId);
            return meet && meet->clientsOnline == 2 && s.connections.size() == 2;
        }));
        const qint64 beforeClose = QDateTime::currentMSecsSinceEpoch();
        board.close();
        QTRY_COMPARE_WITH_TIMEOUT(closed.count(), 1, kTimeout);
        const auto gone = closed.at(0).at(0).value<ConnectionInfo>();
        QCOMPARE(gone.clientId, QStringLiteral("board-1"));
        QCOMPARE(gone.meetId, desk.meetId);
        QCOMPARE(gone.role, Role::Display);
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto c = clientIn(s, desk.meetId, QStringLiteral("board-1"));
            return c && !c->online;
        }));
        const ServerSnapshotPtr s = host.snapshot();
        const auto boardInfo = clientIn(*s, desk.meetId, QStringLiteral("board-1"));
        QVERIFY(boardInfo->offlineSinceMs >= beforeClose - 1000);
        QCOMPARE(boardInfo->connections, 0);
        QCOMPARE(boardInfo->locationName, QStringLiteral("Platform 1"));
        const auto deskInfo = clientIn(*s, desk.meetId, QStringLiteral("desk-1"));
        QVERIFY(deskInfo && deskInfo->online);
        QCOMPARE(meetIn(*s, desk.meetId)->clients.first().clientId, QStringLiteral("desk-1")); // online first
        QCOMPARE(meetIn(*s, desk.meetId)->clientsOnline, 1);

        // A restart on the same folder keeps the meet's clients, all offline now.
        QVERIFY(stopAndWait(host));
        QVERIFY(desk.waitForDisconnect(kTimeout));
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        const auto kept = clientIn(*host.snapshot(), desk.meetId, QStringLiteral("board-1"));
        QVERIFY(kept && !kept->online);
        QCOMPARE(kept->offlineSinceMs, boardInfo->offlineSinceMs);
        const auto deskKept = clientIn(*host.snapshot(), desk.meetId, QStringLiteral("desk-1"));
        QVERIFY(deskKept && !deskKept->online && deskKept->offlineSinceMs > 0);
    }

    void meetNameAndLifterCountFollowTheState()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        TestClient c(urlOf(host));
        QVERIFY(openWithDeskMeet(c));
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto m = meetIn(s, c.meetId);
            return m && m->meetName.isEmpty() && m->lifterCount == 0 && m->endpoints.size() == 2 && !m->epoch.isEmpty()
                && m->createdMs > 0 && m->storage == StorageState::Ok;
        }));
        const QJsonArray entries{QJsonObject{{QStringLiteral("id"), 1}}, QJsonObject{{QStringLiteral("id"), 2}}};
        c.sendUpdates(c.token,
                      {{QStringLiteral("meet.name"), QStringLiteral("Yorkshire Open"), 1, 0},
                       {QStringLiteral("registration.entries"), entries, 2, 0}});
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto m = meetIn(s, c.meetId);
            return m && m->meetName == QStringLiteral("Yorkshire Open") && m->lifterCount == 2 && m->headSeq == 2;
        }));
        c.sendUpdates(c.token,
                      {{QStringLiteral("meet.name"), QStringLiteral("Yorkshire Spring Open"), 3, 2},
                       {QStringLiteral("registration.entries[id=3]"),
                        QJsonObject{{QStringLiteral("name"), QStringLiteral("A. Lifter")}}, 4, 2}});
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto m = meetIn(s, c.meetId);
            return m && m->meetName == QStringLiteral("Yorkshire Spring Open") && m->lifterCount == 3;
        }));
    }

    void perConnectionSeqsAndRoundTrip()
    {
        QTemporaryDir data;
        ServerOptions options = testOptions(data.path());
        options.limits.heartbeatIntervalMs = 100; // a ping soon, for the round trip
        ServerHost host;
        QCOMPARE(startAndWait(host, options), QString());
        TestClient desk(urlOf(host));
        QVERIFY(openWithDeskMeet(desk));
        TestClient board(urlOf(host));
        QVERIFY(board.open());
        board.joinMeet(desk.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("board-1"),
                       QStringLiteral("display"));
        desk.sendUpdates(desk.token,
                         {{QStringLiteral("meet.name"), QStringLiteral("A"), 1, 0},
                          {QStringLiteral("meet.date"), QStringLiteral("2026-12-02"), 2, 0},
                          {QStringLiteral("meet.city"), QStringLiteral("Leeds"), 3, 0}});
        QTRY_COMPARE_WITH_TIMEOUT(ackedSoFar(desk).size(), 3, kTimeout);
        board.expect(QStringLiteral("UPDATE_RELAY"), kTimeout);
        TestClient late(urlOf(host));
        QVERIFY(late.open());
        late.joinMeet(desk.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("late-1"),
                      QStringLiteral("display"));
        late.pull(late.token, 0, false);
        late.expect(QStringLiteral("UPDATE_RELAY"), kTimeout);

        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto d = connectionOf(s, QStringLiteral("desk-1"));
            const auto b = connectionOf(s, QStringLiteral("board-1"));
            const auto l = connectionOf(s, QStringLiteral("late-1"));
            return d && b && l && d->lastAckedSeq == 3 && d->lastRelayedSeq == 0 && b->lastRelayedSeq == 3
                && b->lastAckedSeq == 0 && l->lastPulledSeq == 3 && d->rttMs >= 0 && d->backlogBytes == 0;
        }));
        const ServerSnapshotPtr s = host.snapshot();
        QCOMPARE(clientIn(*s, desk.meetId, QStringLiteral("desk-1"))->lastAckedSeq, 3);
        QCOMPARE(clientIn(*s, desk.meetId, QStringLiteral("board-1"))->lastSeenSeq, 3);
        QCOMPARE(clientIn(*s, desk.meetId, QStringLiteral("late-1"))->lastSeenSeq, 3);

        // What a client was known to hold stays with it once it is offline.
        late.close();
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& snap) {
            const auto c = clientIn(snap, desk.meetId, QStringLiteral("late-1"));
            return c && !c->online && c->lastSeenSeq == 3 && c->offlineSinceMs > 0;
        }));
    }

    /// The server pings a connection as soon as it binds: the round trip is known at once, not
    /// after the first heartbeat.
    void roundTripIsKnownSoonAfterTheBind()
    {
        QTemporaryDir data;
        ServerOptions options = testOptions(data.path());
        options.limits.heartbeatIntervalMs = 60 * 60 * 1000; // no heartbeat within the test
        options.limits.idleTimeoutMs = 2 * options.limits.heartbeatIntervalMs;
        ServerHost host;
        QCOMPARE(startAndWait(host, options), QString());
        TestClient desk(urlOf(host));
        QVERIFY(openWithDeskMeet(desk));
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto d = connectionOf(s, QStringLiteral("desk-1"));
            const auto c = clientIn(s, desk.meetId, QStringLiteral("desk-1"));
            return d && d->rttMs >= 0 && c && c->rttMs >= 0;
        }));
    }

    /// health() answers like GET /health, uptime included, also while nothing republishes the
    /// snapshot (no client connected, nothing changing).
    void healthUptimeAdvancesWhileIdle()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        QCOMPARE(host.health().value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QTRY_VERIFY_WITH_TIMEOUT(host.health().value(QStringLiteral("uptimeSeconds")).toDouble() >= 1, kTimeout);
    }

    /// Actions and a stop() that reach the host while a failed start is ending its thread are
    /// answered, and nothing is posted to the thread's objects once it has gone.
    void actionsWhileAFailedStartEndsAreAnswered()
    {
        QTcpServer occupier;
        QVERIFY(occupier.listen(QHostAddress::LocalHost, 0));
        QTemporaryDir data;
        ServerOptions options = testOptions(data.path());
        options.port = occupier.serverPort();
        for (int round = 0; round < 20; ++round) {
            ServerHost host;
            QSignalSpy started(&host, &ServerHost::started);
            QSignalSpy stopped(&host, &ServerHost::stopped);
            QSignalSpy minted(&host, &ServerHost::displayLinkMinted);
            QVERIFY(host.start(options));
            // The failed start releases the folder's lock just before its thread ends; wait for
            // that without running this thread's event loop, so the host has not heard yet.
            QLockFile lock(data.filePath(QStringLiteral("server.lock")));
            QVERIFY(lock.tryLock(kTimeout));
            lock.unlock();
            QCOMPARE(host.state(), ServerSnapshot::State::Starting);
            host.mintDisplayLink(QStringLiteral("123456789"), QStringLiteral("board"));
            QVERIFY(host.stop());
            QTRY_COMPARE_WITH_TIMEOUT(minted.count(), 1, kTimeout);
            QVERIFY(!minted.at(0).at(4).toString().isEmpty());
            QTRY_COMPARE_WITH_TIMEOUT(stopped.count(), 1, kTimeout);
            QCOMPARE(started.count(), 1);
            QCOMPARE(started.at(0).at(0).toBool(), false);
            QCOMPARE(host.state(), ServerSnapshot::State::Stopped);
        }
    }

    /// A client that binds and leaves between two snapshots is in the meet's history all the same.
    void clientBetweenTwoSnapshotsIsListed()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        TestClient desk(urlOf(host));
        QVERIFY(openWithDeskMeet(desk));
        for (int i = 0; i < 5; ++i) {
            TestClient brief(urlOf(host));
            QVERIFY(brief.open());
            brief.joinMeet(desk.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("brief-%1").arg(i));
            brief.close(); // at once: usually before the next snapshot
        }
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            for (int i = 0; i < 5; ++i) {
                const auto c = clientIn(s, desk.meetId, QStringLiteral("brief-%1").arg(i));
                if (!c || c->online || c->offlineSinceMs <= 0 || c->locationName != QStringLiteral("Platform 1")) {
                    return false;
                }
            }
            return true;
        }));
    }

    void conflictIsRecordedAndListed()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        TestClient desk(urlOf(host));
        QVERIFY(openWithDeskMeet(desk));
        TestClient platform(urlOf(host));
        QVERIFY(platform.open());
        platform.joinMeet(desk.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("plat-1"));
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("Desk's name"), 1, 0}});
        QTRY_COMPARE_WITH_TIMEOUT(ackedSoFar(desk).size(), 1, kTimeout);

        QSignalSpy recorded(&host, &ServerHost::conflictRecorded);
        // Lower priority, written without having seen seq 1: it loses.
        platform.sendUpdates(platform.token, {{QStringLiteral("meet.name"), QStringLiteral("Platform's name"), 1, 0}});
        platform.expect(QStringLiteral("UPDATE_REJECTED"), kTimeout);
        QVERIFY(recorded.count() == 1 || recorded.wait(kTimeout));
        const auto conflict = recorded.at(0).at(0).value<ConflictInfo>();
        QCOMPARE(conflict.meetId, desk.meetId);
        QCOMPARE(conflict.record.key, QStringLiteral("meet.name"));
        QCOMPARE(conflict.record.locationName, QStringLiteral("Platform 1"));
        QCOMPARE(conflict.record.winner.locationName, QStringLiteral("Desk"));
        // By the time the event arrives, the meet's conflict list has it.
        const QList<ConflictInfo> listed = host.conflicts(desk.meetId);
        QCOMPARE(listed.size(), 1);
        QCOMPARE(listed.at(0).record.value.toString(), QStringLiteral("Platform's name"));
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) {
            const auto m = meetIn(s, desk.meetId);
            return m && m->conflictCount == 1;
        }));
        QVERIFY(host.conflicts(QStringLiteral("000000000")).isEmpty());
    }

    void restoreRequestsAreApprovedOrRefused()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        QSignalSpy requested(&host, &ServerHost::restoreRequested);
        QSignalSpy completed(&host, &ServerHost::restoreCompleted);
        const QString approvedId = QStringLiteral("123456789");
        const QString refusedId = QStringLiteral("987654321");

        TestClient c(urlOf(host));
        QVERIFY(c.open());
        c.send(restoreMessage(approvedId, QStringLiteral("restorer-1")));
        QJsonObject answer = c.expect(QStringLiteral("RESTORE_REJECTED"), kTimeout);
        QCOMPARE(answer.value(QStringLiteral("pendingApproval")).toBool(), true);
        QTRY_COMPARE_WITH_TIMEOUT(requested.count(), 1, kTimeout);
        const auto request = requested.at(0).at(0).value<RestoreRequestInfo>();
        QCOMPARE(request.meetId, approvedId);
        QCOMPARE(request.locationName, QStringLiteral("Desk"));
        QCOMPARE(request.address, QStringLiteral("127.0.0.1"));
        QCOMPARE(request.endpoints, 2);
        QVERIFY(!request.approved);
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) { return s.restores.size() == 1; }));

        host.approveRestore(approvedId);
        QVERIFY(waitForSnapshot(
            host, [&](const ServerSnapshot& s) { return s.restores.size() == 1 && s.restores.at(0).approved; }));
        c.send(restoreMessage(approvedId, QStringLiteral("restorer-1")));
        answer = c.expect(QStringLiteral("MEET_RESTORED"), kTimeout);
        QCOMPARE(answer.value(QStringLiteral("meetId")).toString(), approvedId);
        QTRY_COMPARE_WITH_TIMEOUT(completed.count(), 1, kTimeout);
        QCOMPARE(completed.at(0).at(0).toString(), approvedId);
        QVERIFY(waitForSnapshot(
            host, [&](const ServerSnapshot& s) { return s.restores.isEmpty() && meetIn(s, approvedId).has_value(); }));

        TestClient other(urlOf(host));
        QVERIFY(other.open());
        other.send(restoreMessage(refusedId, QStringLiteral("restorer-2")));
        answer = other.expect(QStringLiteral("RESTORE_REJECTED"), kTimeout);
        QCOMPARE(answer.value(QStringLiteral("pendingApproval")).toBool(), true);
        QTRY_COMPARE_WITH_TIMEOUT(requested.count(), 2, kTimeout);
        host.refuseRestore(refusedId);
        QVERIFY(waitForSnapshot(host, [&](const ServerSnapshot& s) { return s.restores.isEmpty(); }));
        other.send(restoreMessage(refusedId, QStringLiteral("restorer-2")));
        answer = other.expect(QStringLiteral("RESTORE_REJECTED"), kTimeout);
        QVERIFY2(answer.value(QStringLiteral("reason")).toString().contains(QStringLiteral("meet director refused")),
                 qPrintable(answer.value(QStringLiteral("reason")).toString()));
        QVERIFY(!answer.contains(QStringLiteral("pendingApproval")));
        QVERIFY(!meetIn(*host.snapshot(), refusedId));
        QCOMPARE(completed.count(), 1);
    }

    void diagnosticsRingIsBoundedAndSurvivesRestarts()
    {
        DiagRing ring(3);
        for (int i = 0; i < 5; ++i) {
            ring.append(DiagEntry{i, QStringLiteral("test"), QStringLiteral("line %1").arg(i),
                                  i % 2 ? QStringLiteral("111111111") : QString()});
        }
        QCOMPARE(ring.size(), 3);
        const QList<DiagEntry> kept = ring.recent();
        QCOMPARE(kept.size(), 3);
        QCOMPARE(kept.first().message, QStringLiteral("line 2")); // oldest first, oldest dropped
        QCOMPARE(kept.last().message, QStringLiteral("line 4"));
        QCOMPARE(ring.recent(QStringLiteral("111111111")).size(), 1);

        QTemporaryDir data;
        ServerHost host;
        QSignalSpy diagnostics(&host, &ServerHost::diagnostic);
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        QVERIFY(diagnostics.count() >= 2 || diagnostics.wait(kTimeout)); // starting, loaded, listening
        const int firstRun = static_cast<int>(host.recentDiagnostics().size());
        QVERIFY(firstRun >= 2);
        QCOMPARE(host.recentDiagnostics().first().category, QStringLiteral("start"));
        TestClient c(urlOf(host));
        QVERIFY(openWithDeskMeet(c));
        // Lines about a meet carry its ID ("meet <9 digits>" in the text).
        QTRY_VERIFY_WITH_TIMEOUT(!host.recentDiagnostics(c.meetId).isEmpty(), kTimeout);
        for (const DiagEntry& e : host.recentDiagnostics(c.meetId)) {
            QVERIFY2(e.message.contains(c.meetId), qPrintable(e.message));
            QVERIFY(e.timeMs > 0);
        }
        QVERIFY(stopAndWait(host));
        const int afterStop = static_cast<int>(host.recentDiagnostics().size());
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        QVERIFY(host.recentDiagnostics().size() > afterStop); // kept across the restart, plus the new lines
        QVERIFY(host.recentDiagnostics().size() <= ServerHost::kDiagRingSize);
    }

    void stopMidStreamLosesNoAckedUpdate()
    {
        QTemporaryDir data;
        ServerHost host;
        QCOMPARE(startAndWait(host, testOptions(data.path())), QString());
        TestClient c(urlOf(host));
        QVERIFY(openWithDeskMeet(c));
        // A client that sends its next batch whenever an ack comes, and goes on while the server stops.
        constexpr int kPerBatch = 10;
        constexpr int kMaxBatches = 2000;
        qint64 local = 0;
        int batches = 0;
        auto sendBatch = [&] {
            if (batches >= kMaxBatches || !c.isConnected()) {
                return;
            }
            ++batches;
            QList<std::tuple<QString, QJsonValue, qint64, qint64>> batch;
            for (int i = 0; i < kPerBatch; ++i) {
                ++local;
                batch.append({QStringLiteral("registration.entries[id=%1]").arg(local),
                              QJsonObject{{QStringLiteral("name"), QStringLiteral("Lifter %1").arg(local)}}, local, 0});
            }
            c.sendUpdates(c.token, batch);
        };
        connect(&c.socket(), &QWebSocket::textMessageReceived, this, [&](const QString& text) {
            if (text.contains(QStringLiteral("UPDATE_ACK"))) {
                sendBatch();
            }
        });
        for (int i = 0; i < 4; ++i) {
            sendBatch(); // a few in flight at any time
        }
        // Stop once the stream is flowing.
        QTRY_VERIFY_WITH_TIMEOUT(ackedSoFar(c).size() >= 50, kTimeout);
        QSignalSpy stopped(&host, &ServerHost::stopped);
        QVERIFY(host.stop());
        QVERIFY(stopped.wait(kTimeout));
        QVERIFY(c.waitForDisconnect(kTimeout));
        QCOMPARE(c.socket().closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
        const QMap<qint64, qint64> acked = ackedSoFar(c);
        QVERIFY(!acked.isEmpty());

        QFile journal(Meet::journalPath(data.path() + QStringLiteral("/current-meets/") + c.meetId));
        QVERIFY(journal.open(QIODevice::ReadOnly));
        QMap<qint64, qint64> onDisk; // serverSeqNum -> localSeqNum
        for (const QByteArray& line : journal.readAll().split('\n')) {
            if (line.trimmed().isEmpty()) {
                continue;
            }
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            onDisk.insert(o.value(QStringLiteral("serverSeqNum")).toInteger(),
                          o.value(QStringLiteral("localSeqNum")).toInteger());
        }
        for (auto it = acked.cbegin(); it != acked.cend(); ++it) {
            QVERIFY2(onDisk.value(it.value(), -1) == it.key(),
                     qPrintable(
                         QStringLiteral("acked local %1 as seq %2, not in the journal").arg(it.key()).arg(it.value())));
        }
        // And the other way round: what was written before the stop was acked before the goodbye
        // (the stop waited for queued flushes and sent their acks first).
        QCOMPARE(onDisk.size(), acked.size());
        QVERIFY2(acked.size() < local, "the stop came after the stream had ended: nothing was in flight");
        qInfo("%lld of %lld updates sent were acked before the stop", static_cast<long long>(acked.size()),
              static_cast<long long>(local));
    }
};

QTEST_GUILESS_MAIN(TestServerHost)
#include "tst_serverhost.moc"
