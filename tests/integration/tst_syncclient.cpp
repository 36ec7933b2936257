// SPDX-License-Identifier: AGPL-3.0-or-later
// SyncClient, the C++ model of a browser's sync engine, against a real in-process server.
#include "ServerHarness.h"
#include "client/SyncClient.h"
#include "sync/Meet.h"

#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
constexpr int kTimeout = 10000;

QList<Endpoint> endpoints()
{
    return {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}, {QStringLiteral("Board"), 0}};
}

SyncClientOptions fastOptions()
{
    SyncClientOptions o;
    o.reconnectDelayMs = 10;
    o.reconnectMaxDelayMs = 100;
    o.storageRetryDelayMs = 20;
    return o;
}

QString journalPath(const InProcessServer& server, const QString& meetId)
{
    return Meet::journalPath(server.dataDir() + QStringLiteral("/current-meets/") + meetId);
}

/// The journal's lines as JSON objects.
QList<QJsonObject> journal(const InProcessServer& server, const QString& meetId)
{
    QFile f(journalPath(server, meetId));
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

/// Number of distinct (clientId, localSeqNum) pairs in the journal.
int distinctJournalUpdates(const QList<QJsonObject>& lines)
{
    QSet<QString> seen;
    for (const QJsonObject& l : lines) {
        seen.insert(l.value(QStringLiteral("clientId")).toString() + QLatin1Char('#')
                    + QString::number(l.value(QStringLiteral("localSeqNum")).toInteger()));
    }
    return static_cast<int>(seen.size());
}

QJsonObject entryValue(int id, const QString& name)
{
    return QJsonObject{
        {QStringLiteral("id"), id}, {QStringLiteral("name"), name}, {QStringLiteral("bodyweightKg"), 60.5 + id % 7}};
}

bool settled(const QList<SyncClient*>& clients, qint64 head)
{
    for (SyncClient* c : clients) {
        if (c->pendingCount() != 0 || c->lastServerSeq() != head || c->outOfSync()) {
            return false;
        }
    }
    return true;
}

/// Creates a meet with `a` at Desk and joins `b` at Platform 1 (and optionally a display).
bool setUpMeet(SyncClient& a, SyncClient& b, SyncClient* display = nullptr)
{
    a.createMeet(QStringLiteral("Desk"), kPassword, endpoints());
    if (!QTest::qWaitFor([&] { return a.isOnline(); }, kTimeout)) {
        return false;
    }
    b.joinMeet(a.meetId(), kPassword, QStringLiteral("Platform 1"));
    if (display) {
        display->joinMeet(a.meetId(), kPassword, QStringLiteral("Board"), Role::Display);
    }
    return QTest::qWaitFor([&] { return b.isOnline() && (!display || display->isOnline()); }, kTimeout);
}

} // namespace

class TestSyncClient final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Two updating clients and a display; disjoint keys; all converge on one canonical state.
    void twoClientsAndDisplayConverge()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient a(server.url(), QStringLiteral("client-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("client-b"), 1, fastOptions());
        SyncClient d(server.url(), QStringLiteral("board-1"), 1, fastOptions());
        QVERIFY(setUpMeet(a, b, &d));
        QCOMPARE(d.role(), QStringLiteral("display"));

        constexpr int kEach = 10;
        for (int i = 0; i < kEach; ++i) {
            a.update(QStringLiteral("registration.entries[id=%1]").arg(1000 + i),
                     entryValue(1000 + i, QStringLiteral("A%1").arg(i)));
            b.update(QStringLiteral("registration.entries[id=%1]").arg(2000 + i),
                     entryValue(2000 + i, QStringLiteral("B%1").arg(i)));
            // Applied locally at once, before any ack.
            QCOMPARE(
                a.localState()
                    .valueAt(*KeyPath::parse(QStringLiteral("registration.entries[id=%1].name").arg(1000 + i), 256, 16))
                    ->toString(),
                QStringLiteral("A%1").arg(i));
        }
        a.update(QStringLiteral("meet.name"), QStringLiteral("Spring Open"));
        b.update(QStringLiteral("live.platform1.barKg"), 182.5);
        QVERIFY(a.pendingCount() > 0 || a.lastServerSeq() > 0);

        const qint64 total = 2 * kEach + 2;
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b, &d}, total), kTimeout);
        QCOMPARE(a.canonicalState().document(), b.canonicalState().document());
        QCOMPARE(a.canonicalState().document(), d.canonicalState().document());
        QCOMPARE(a.localState().document(), a.canonicalState().document());
        QCOMPARE(b.localState().document(), b.canonicalState().document());
        QCOMPARE(d.localState().document(), d.canonicalState().document());
        QCOMPARE(a.canonicalState()
                     .document()
                     .value(QStringLiteral("registration"))
                     .toObject()
                     .value(QStringLiteral("entries"))
                     .toArray()
                     .size(),
                 2 * kEach);
        QCOMPARE(journal(server, a.meetId()).size(), total);
        QVERIFY(a.rejected().isEmpty() && b.rejected().isEmpty());

        // A display's update shows locally, is rejected by the server and disappears again.
        QSignalSpy rejectedSpy(&d, &SyncClient::updateRejected);
        const qint64 lsn = d.update(QStringLiteral("meet.name"), QStringLiteral("graffiti"));
        QCOMPARE(
            d.localState().document().value(QStringLiteral("meet")).toObject().value(QStringLiteral("name")).toString(),
            QStringLiteral("graffiti"));
        QTRY_COMPARE_WITH_TIMEOUT(d.pendingCount(), 0, kTimeout);
        QCOMPARE(d.rejected().size(), 1);
        QCOMPARE(d.rejected().first().update.localSeqNum, lsn);
        QCOMPARE(d.rejected().first().code, QStringLiteral("READ_ONLY_SESSION"));
        QCOMPARE(rejectedSpy.count(), 1);
        QCOMPARE(d.localState().document(), a.canonicalState().document());

        // A key that does not parse is refused before it is sent.
        QCOMPARE(a.update(QStringLiteral("meet..name"), 1), 0);
        QCOMPARE(a.rejected().last().code, QStringLiteral("KEY_INVALID"));
        QCOMPARE(a.pendingCount(), 0);
    }

    /// One client edits offline while the other edits online; on reconnect it catches up and its
    /// queued updates are sequenced after the others', each exactly once.
    void offlineEditsConverge()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient a(server.url(), QStringLiteral("client-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("client-b"), 1, fastOptions());
        QVERIFY(setUpMeet(a, b));

        a.update(QStringLiteral("meet.name"), QStringLiteral("Spring Open"));
        b.update(QStringLiteral("meet.city"), QStringLiteral("Hamilton"));
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b}, 2), kTimeout);

        QSignalSpy onlineSpy(&a, &SyncClient::onlineChanged);
        a.setOnline(false);
        QCOMPARE(a.status(), SyncClient::Status::Offline);
        QVERIFY(a.outOfSync());
        QCOMPARE(onlineSpy.count(), 1);
        QList<qint64> offlineSeqs;
        for (int i = 0; i < 4; ++i) {
            offlineSeqs.append(a.update(QStringLiteral("registration.entries[id=%1]").arg(1000 + i),
                                        entryValue(1000 + i, QStringLiteral("A%1").arg(i))));
        }
        QCOMPARE(a.pendingCount(), 4);
        QCOMPARE(a.localState()
                     .document()
                     .value(QStringLiteral("registration"))
                     .toObject()
                     .value(QStringLiteral("entries"))
                     .toArray()
                     .size(),
                 4);
        for (int i = 0; i < 3; ++i) {
            b.update(QStringLiteral("registration.entries[id=%1]").arg(2000 + i),
                     entryValue(2000 + i, QStringLiteral("B%1").arg(i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(settled({&b}, 5), kTimeout);
        QCOMPARE(a.lastServerSeq(), 2); // a heard nothing while offline
        QCOMPARE(a.pendingCount(), 4);

        a.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b}, 9), kTimeout);
        QVERIFY(a.isOnline());
        QCOMPARE(a.canonicalState().document(), b.canonicalState().document());
        QCOMPARE(a.localState().document(), b.localState().document());
        QCOMPARE(a.canonicalState()
                     .document()
                     .value(QStringLiteral("registration"))
                     .toObject()
                     .value(QStringLiteral("entries"))
                     .toArray()
                     .size(),
                 7);
        // The offline updates were sequenced after b's: 6..9, in localSeqNum order.
        for (int i = 0; i < offlineSeqs.size(); ++i) {
            QCOMPARE(a.serverSeqOf(offlineSeqs[i]).value_or(-1), 6 + i);
            QCOMPARE(b.entry(6 + i)->clientId, QStringLiteral("client-a"));
        }
        const QList<QJsonObject> lines = journal(server, a.meetId());
        QCOMPARE(lines.size(), 9);
        QCOMPARE(distinctJournalUpdates(lines), 9);
        QCOMPARE(a.canonicalLog().size(), 9);
    }

    /// A browser reload while offline: a new SyncClient takes over the saved state and finishes
    /// the job, losing and doubling nothing.
    void reloadWhileOffline()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        auto a = std::make_unique<SyncClient>(server.url(), QStringLiteral("client-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("client-b"), 1, fastOptions());
        QVERIFY(setUpMeet(*a, b));
        const QString meetId = a->meetId();

        a->update(QStringLiteral("meet.name"), QStringLiteral("Spring Open"));
        a->update(QStringLiteral("meet.units"), QStringLiteral("kg"));
        QTRY_VERIFY_WITH_TIMEOUT(settled({a.get(), &b}, 2), kTimeout);

        a->setOnline(false);
        for (int i = 0; i < 3; ++i) {
            a->update(QStringLiteral("registration.entries[id=%1]").arg(1000 + i),
                      entryValue(1000 + i, QStringLiteral("A%1").arg(i)));
        }
        QCOMPARE(a->pendingCount(), 3);
        const QJsonObject localBefore = a->localState().document();
        const QByteArray saved = a->persistedState().save();
        a.reset(); // the tab is reloaded

        b.update(QStringLiteral("meet.city"), QStringLiteral("Hamilton"));
        b.update(QStringLiteral("registration.entries[id=2000]"), entryValue(2000, QStringLiteral("B0")));
        QTRY_VERIFY_WITH_TIMEOUT(settled({&b}, 4), kTimeout);

        const std::optional<PersistedState> restored = PersistedState::restore(saved);
        QVERIFY(restored);
        SyncClient a2(server.url(), *restored, fastOptions());
        QCOMPARE(a2.clientId(), QStringLiteral("client-a"));
        QCOMPARE(a2.meetId(), meetId);
        QCOMPARE(a2.pendingCount(), 3);
        QCOMPARE(a2.lastServerSeq(), 2);
        QCOMPARE(a2.nextLocalSeqNum(), 6);
        QCOMPARE(a2.localState().document(), localBefore);
        QVERIFY(a2.outOfSync());

        a2.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a2, &b}, 7), kTimeout);
        QCOMPARE(a2.update(QStringLiteral("meet.federation"), QStringLiteral("IPF")), 6);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a2, &b}, 8), kTimeout);

        QCOMPARE(a2.canonicalState().document(), b.canonicalState().document());
        QCOMPARE(a2.localState().document(), b.canonicalState().document());
        QCOMPARE(a2.canonicalState()
                     .document()
                     .value(QStringLiteral("registration"))
                     .toObject()
                     .value(QStringLiteral("entries"))
                     .toArray()
                     .size(),
                 4);
        for (qint64 lsn = 3; lsn <= 5; ++lsn) {
            QCOMPARE(a2.serverSeqOf(lsn).value_or(-1), lsn + 2); // after b's 3 and 4
        }
        const QList<QJsonObject> lines = journal(server, meetId);
        QCOMPARE(lines.size(), 8);
        QCOMPARE(distinctJournalUpdates(lines), 8);
    }

    /// The ack is lost (the socket closes right after sending): on reconnect the client resends
    /// and the server acks it with its original serverSeqNum; the journal holds it once.
    void resendAfterLostAck()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        SyncClient a(server.url(), QStringLiteral("client-a"), 1, fastOptions());
        SyncClient b(server.url(), QStringLiteral("client-b"), 1, fastOptions());
        QVERIFY(setUpMeet(a, b));
        QSignalSpy ackSpy(&a, &SyncClient::acked);

        const qint64 lsn = a.update(QStringLiteral("meet.name"), QStringLiteral("Spring Open"));
        a.setOnline(false); // the UPDATE_INIT is on the wire; its ack will never reach a
        QTRY_COMPARE_WITH_TIMEOUT(journal(server, a.meetId()).size(), 1, kTimeout);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&b}, 1), kTimeout); // b got the relay
        QCOMPARE(a.pendingCount(), 1);
        QCOMPARE(a.lastServerSeq(), 0);
        QCOMPARE(ackSpy.count(), 0);

        a.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a}, 1), kTimeout);
        QTRY_COMPARE_WITH_TIMEOUT(ackSpy.count(), 1, kTimeout); // the resend's ack
        QCOMPARE(ackSpy.at(0).at(0).toLongLong(), lsn);
        QCOMPARE(ackSpy.at(0).at(1).toLongLong(), 1);
        QCOMPARE(a.serverSeqOf(lsn).value_or(-1), 1);
        QCOMPARE(a.canonicalState().document(), b.canonicalState().document());

        // A further update goes on normally and the journal never doubled the first.
        a.update(QStringLiteral("meet.units"), QStringLiteral("kg"));
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a, &b}, 2), kTimeout);
        const QList<QJsonObject> lines = journal(server, a.meetId());
        QCOMPARE(lines.size(), 2);
        QCOMPARE(distinctJournalUpdates(lines), 2);
    }

    /// The server comes back without the tail of a meet's journal (a restore from an old
    /// backup): the clients notice through their epochs (SERVER_PULL), push the entries back
    /// (RECOVERY_PUSH) and all converge again, the journal holding every update once.
    void recoversEntriesTheServerLost()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        auto server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        auto a = std::make_unique<SyncClient>(server->url(), QStringLiteral("client-a"), 1, fastOptions());
        auto b = std::make_unique<SyncClient>(server->url(), QStringLiteral("client-b"), 1, fastOptions());
        QVERIFY(setUpMeet(*a, *b));
        const QString meetId = a->meetId();
        for (int i = 0; i < 3; ++i) {
            a->update(QStringLiteral("registration.entries[id=%1]").arg(1000 + i),
                      entryValue(1000 + i, QStringLiteral("A%1").arg(i)));
            QTRY_VERIFY_WITH_TIMEOUT(settled({a.get()}, i + 1), kTimeout); // one journal write each
        }
        b->update(QStringLiteral("meet.name"), QStringLiteral("Spring Open"));
        b->update(QStringLiteral("meet.city"), QStringLiteral("Hamilton"));
        QTRY_VERIFY_WITH_TIMEOUT(settled({a.get(), b.get()}, 5), kTimeout);
        const QJsonObject expected = a->canonicalState().document();
        const QString epochBefore = a->epoch();
        QVERIFY(!epochBefore.isEmpty());
        a->setOnline(false);
        b->setOnline(false);
        const PersistedState stateA = a->persistedState();
        const PersistedState stateB = b->persistedState();
        a.reset();
        b.reset();
        server->stop();

        // Keep the first two journal lines only.
        const QString path = Meet::journalPath(data.path() + QStringLiteral("/current-meets/") + meetId);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = f.readAll().split('\n');
        f.close();
        QVERIFY(lines.size() >= 5);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(lines[0] + '\n' + lines[1] + '\n');
        f.close();

        server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        SyncClient a2(server->url(), stateA, fastOptions());
        SyncClient b2(server->url(), stateB, fastOptions());
        QSignalSpy serverPullSpy(&a2, &SyncClient::serverPullReceived);
        QSignalSpy recoverySpy(&a2, &SyncClient::recoveryAcked);
        a2.setOnline(true);
        QTRY_COMPARE_WITH_TIMEOUT(serverPullSpy.count(), 1, kTimeout);
        QCOMPARE(serverPullSpy.at(0).at(0).toLongLong(), 2);
        QTRY_COMPARE_WITH_TIMEOUT(recoverySpy.count(), 1, kTimeout);
        b2.setOnline(true);
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a2, &b2}, 5), kTimeout);
        QVERIFY(a2.epoch() != epochBefore);
        QCOMPARE(b2.epoch(), a2.epoch());
        QCOMPARE(a2.canonicalState().document(), expected);
        QCOMPARE(b2.canonicalState().document(), expected);
        const QList<QJsonObject> after = journal(*server, meetId);
        QCOMPARE(after.size(), 5);
        QCOMPARE(distinctJournalUpdates(after), 5);
    }

    /// The server lost a meet altogether: a client that holds its log restores it (after the
    /// director's approval) and gets every entry back under its original number.
    void restoresMeetTheServerLost()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        auto server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        auto a = std::make_unique<SyncClient>(server->url(), QStringLiteral("client-a"), 1, fastOptions());
        a->createMeet(QStringLiteral("Desk"), kPassword, endpoints());
        QTRY_VERIFY_WITH_TIMEOUT(a->isOnline(), kTimeout);
        const QString meetId = a->meetId();
        for (int i = 0; i < 3; ++i) {
            a->update(QStringLiteral("registration.entries[id=%1]").arg(1000 + i),
                      entryValue(1000 + i, QStringLiteral("A%1").arg(i)));
        }
        QTRY_VERIFY_WITH_TIMEOUT(settled({a.get()}, 3), kTimeout);
        const QJsonObject expected = a->canonicalState().document();
        a->setOnline(false);
        const PersistedState stateA = a->persistedState();
        a.reset();
        server->stop();
        QVERIFY(QDir(data.path() + QStringLiteral("/current-meets/") + meetId).removeRecursively());

        server = std::make_unique<InProcessServer>(data.path(), ServerServices{}, Limits{});
        QVERIFY2(server->start(), qPrintable(server->startError()));
        SyncClient a2(server->url(), stateA, fastOptions());
        QSignalSpy restoreRejectedSpy(&a2, &SyncClient::restoreRejected);
        QSignalSpy loggedInSpy(&a2, &SyncClient::loggedIn);
        a2.restoreMeet(meetId, kPassword, QStringLiteral("Desk"), endpoints());
        QTRY_COMPARE_WITH_TIMEOUT(restoreRejectedSpy.count(), 1, kTimeout);
        QVERIFY(restoreRejectedSpy.at(0).at(1).toBool()); // waits for approval
        server->server().approveRestore(meetId);
        QTRY_COMPARE_WITH_TIMEOUT(loggedInSpy.count(), 1, kTimeout); // the client asked again by itself
        QTRY_VERIFY_WITH_TIMEOUT(settled({&a2}, 3), kTimeout);
        QCOMPARE(a2.canonicalState().document(), expected);
        const QList<QJsonObject> lines = journal(*server, meetId);
        QCOMPARE(lines.size(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(lines[i].value(QStringLiteral("serverSeqNum")).toInteger(), i + 1);
            QCOMPARE(lines[i].value(QStringLiteral("localSeqNum")).toInteger(), i + 1);
        }

        // Another client joins the restored meet and sees it all.
        SyncClient b(server->url(), QStringLiteral("client-b"), 1, fastOptions());
        b.joinMeet(meetId, kPassword, QStringLiteral("Platform 1"));
        QTRY_VERIFY_WITH_TIMEOUT(settled({&b}, 3), kTimeout);
        QCOMPARE(b.canonicalState().document(), expected);
    }
};

QTEST_GUILESS_MAIN(TestSyncClient)
#include "tst_syncclient.moc"
