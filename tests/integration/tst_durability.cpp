// SPDX-License-Identifier: AGPL-3.0-or-later
// "Nothing acknowledged is ever lost": acks and relays wait for fdatasync, a failed flush is never
// acknowledged and leaves no trace, and concurrent updates share one flush.
#include "FaultyJournalDevice.h"
#include "ServerHarness.h"
#include "TestClient.h"
#include "sync/MeetRegistry.h"

#include <QCoreApplication>
#include <QFile>
#include <QJsonArray>
#include <QTest>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");

struct Fixture
{
    ~Fixture()
    {
        // Never leave a flush parked on the gate: the server waits for it on destruction.
        faults->gateSync = false;
        faults->releaseSync.release(1000);
    }

    /// Waits until a flush is parked inside fdatasync. (Not QTRY_VERIFY: it re-evaluates its
    /// expression after the loop, and tryAcquire() consumes.)
    bool waitUntilSyncParked()
    {
        return QTest::qWaitFor([this] { return faults->syncEntered.tryAcquire(); }, 5000);
    }

    std::shared_ptr<JournalFaults> faults = std::make_shared<JournalFaults>();
    std::unique_ptr<InProcessServer> server;
    std::unique_ptr<TestClient> desk;
    std::unique_ptr<TestClient> screen;

    bool start()
    {
        ServerServices services;
        services.journalFactory = FaultyJournalDevice::factory(faults);
        server = std::make_unique<InProcessServer>(services);
        if (!server->start()) {
            return false;
        }
        desk = std::make_unique<TestClient>(server->url());
        screen = std::make_unique<TestClient>(server->url());
        if (!desk->open() || !screen->open()) {
            return false;
        }
        desk->createMeet(QStringLiteral("Desk"), kPassword,
                         {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}}, QStringLiteral("desk"));
        screen->joinMeet(desk->meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("screen"),
                         QStringLiteral("display"));
        return !desk->token.isEmpty() && !screen->token.isEmpty();
    }
    Meet* meet() const { return server->server().registry().find(desk->meetId); }
    QByteArray journal() const
    {
        QFile f(Meet::journalPath(meet()->directory()));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
    }
};

/// Runs the event loop until nothing is left to deliver right now (no timers, no sleeping).
void drainEvents()
{
    for (int i = 0; i < 20; ++i) {
        QCoreApplication::processEvents(QEventLoop::AllEvents);
        QCoreApplication::sendPostedEvents();
    }
}

} // namespace

class TestDurability final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// While fdatasync is still running, the update is in the file but neither acked nor relayed.
    void noAckOrRelayBeforeSync()
    {
        Fixture fx;
        QVERIFY(fx.start());
        fx.faults->gateSync = true;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Lone Star"), 1, 0}});
        QVERIFY(fx.waitUntilSyncParked());

        drainEvents();
        QVERIFY(fx.journal().contains("Lone Star")); // written ...
        QVERIFY(fx.desk->pending(QStringLiteral("UPDATE_ACK")).isEmpty()); // ... but not acknowledged
        QVERIFY(fx.screen->pending(QStringLiteral("UPDATE_RELAY")).isEmpty());
        QCOMPARE(fx.meet()->durableSeq(), 0);

        fx.faults->gateSync = false;
        fx.faults->releaseSync.release();
        const QJsonObject ack = fx.desk->expect(QStringLiteral("UPDATE_ACK"));
        QCOMPARE(ack.value(QStringLiteral("updateAcks"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("serverSeqNum"))
                     .toInteger(),
                 1);
        fx.screen->expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(fx.meet()->durableSeq(), 1);
    }

    /// Updates that arrive while a flush runs share the next flush: 1 + 60 updates, 2 fdatasyncs.
    void groupCommitSharesOneFlush()
    {
        Fixture fx;
        QVERIFY(fx.start());
        TestClient platform(fx.server->url());
        QVERIFY(platform.open());
        platform.joinMeet(fx.desk->meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("p1"));
        const int syncsBefore = fx.faults->syncs.load();

        fx.faults->gateSync = true;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Keystone"), 1, 0}});
        QVERIFY(fx.waitUntilSyncParked());
        fx.faults->gateSync = false; // the next flush runs freely
        for (int i = 0; i < 30; ++i) {
            fx.desk->sendUpdates(fx.desk->token,
                                 {{QStringLiteral("registration.entries[id=%1].lot").arg(5300 + i), i, 2 + i, 0}});
            platform.sendUpdates(platform.token,
                                 {{QStringLiteral("registration.entries[id=%1].lot").arg(5400 + i), i, 1 + i, 0}});
        }
        QTRY_COMPARE(fx.meet()->assignedSeq(), 61); // all sequenced, waiting behind the running flush
        QCOMPARE(fx.meet()->durableSeq(), 0);
        fx.faults->releaseSync.release();

        QTRY_COMPARE(fx.meet()->durableSeq(), 61);
        QCOMPARE(fx.faults->syncs.load() - syncsBefore, 2);
        int acked = 0;
        while (auto m = fx.desk->next(QStringLiteral("UPDATE_ACK"), 1000)) {
            acked += static_cast<int>(m->value(QStringLiteral("updateAcks")).toArray().size());
        }
        QCOMPARE(acked, 31);
    }

    /// fdatasync fails: no ack, STORAGE_ERROR instead, the file is cut back, and the resend
    /// (same localSeqNum) later gets the same number it would have had.
    void failedSyncIsNeverAcknowledged()
    {
        Fixture fx;
        QVERIFY(fx.start());
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Good"), 1, 0}});
        fx.desk->expect(QStringLiteral("UPDATE_ACK"));
        fx.screen->expect(QStringLiteral("UPDATE_RELAY"));
        const QByteArray durable = fx.journal();

        fx.faults->failSyncAt = fx.faults->syncs.load() + 1;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.city"), QStringLiteral("Austin"), 2, 1}});
        const QJsonObject err = fx.desk->expect(QStringLiteral("STORAGE_ERROR"));
        QVERIFY(err.value(QStringLiteral("retryable")).toBool());
        QTRY_COMPARE(fx.journal(), durable); // truncated back to the last durable byte
        QCOMPARE(fx.meet()->assignedSeq(), 1);
        QVERIFY(fx.desk->pending(QStringLiteral("UPDATE_ACK")).isEmpty());
        // The display was never told about the failed update: its next message is its pull answer.
        fx.screen->pull(fx.screen->token, 1);
        QVERIFY(fx.screen->expect(QStringLiteral("UPDATE_RELAY")).value(QStringLiteral("pull")).toBool());

        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.city"), QStringLiteral("Austin"), 2, 1}});
        const QJsonObject ack = fx.desk->expect(QStringLiteral("UPDATE_ACK"));
        QCOMPARE(ack.value(QStringLiteral("updateAcks"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("serverSeqNum"))
                     .toInteger(),
                 2);
        QCOMPARE(fx.journal().count('\n'), 2);
        QVERIFY(fx.journal().endsWith("\n"));
    }

    /// A write cut short (disk full) is rolled back the same way; nothing half-written stays.
    void failedAppendLeavesNoPartialLine()
    {
        Fixture fx;
        QVERIFY(fx.start());
        fx.faults->failAppendAt = fx.faults->appends.load() + 1;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QString(500, u'x'), 1, 0}});
        fx.desk->expect(QStringLiteral("STORAGE_ERROR"));
        QTRY_VERIFY(fx.journal().isEmpty());
        QCOMPARE(fx.meet()->assignedSeq(), 0);
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QString(500, u'x'), 1, 0}});
        fx.desk->expect(QStringLiteral("UPDATE_ACK"));
        QCOMPARE(fx.journal().count('\n'), 1);
    }

    /// If even the cut-back fails, the meet stops accepting updates rather than risk reusing
    /// numbers - but tells clients to keep them (retryable), never that they are rejected for good.
    void unrecoverableJournalStopsAcceptingUpdates()
    {
        Fixture fx;
        QVERIFY(fx.start());
        fx.faults->failSyncAt = fx.faults->syncs.load() + 1;
        fx.faults->failTruncate = true;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("x"), 1, 0}});
        const QJsonObject first = fx.desk->expect(QStringLiteral("STORAGE_ERROR"));
        QCOMPARE(first.value(QStringLiteral("localSeqNums")).toArray(), QJsonArray{1});
        QTRY_VERIFY(fx.meet()->isStorageBroken());

        fx.desk->sendUpdates(fx.desk->token,
                             {{QStringLiteral("meet.name"), QStringLiteral("y"), 2, 0},
                              {QStringLiteral("meet.city"), QStringLiteral("z"), 3, 0}});
        const QJsonObject err = fx.desk->expect(QStringLiteral("STORAGE_ERROR"));
        QVERIFY(err.value(QStringLiteral("retryable")).toBool());
        QCOMPARE(err.value(QStringLiteral("localSeqNums")).toArray(), (QJsonArray{2, 3}));
        QVERIFY(fx.desk->pending(QStringLiteral("UPDATE_REJECTED")).isEmpty());
        QCOMPARE(fx.meet()->assignedSeq(), 0);
        QCOMPARE(fx.server->server().health().value(QStringLiteral("status")).toString(), QStringLiteral("degraded"));
        QFile diag(fx.server->dataDir() + QStringLiteral("/diag.log"));
        QVERIFY(diag.open(QIODevice::ReadOnly));
        QVERIFY(diag.readAll().contains("journal cannot be repaired"));
    }

    /// A resend that arrives while its first copy is still being flushed waits for that flush and
    /// gets the same serverSeqNum; it is written once.
    void resendDuringFlushGetsSameNumber()
    {
        Fixture fx;
        QVERIFY(fx.start());
        fx.faults->gateSync = true;
        fx.desk->sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Once"), 1, 0}});
        QVERIFY(fx.waitUntilSyncParked());
        TestClient again(fx.server->url());
        QVERIFY(again.open());
        again.sendUpdates(fx.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Once"), 1, 0}});
        QTRY_COMPARE(fx.server->server().connectionCount(), 3);
        drainEvents();
        QVERIFY(again.pending(QStringLiteral("UPDATE_ACK")).isEmpty());
        fx.faults->gateSync = false;
        fx.faults->releaseSync.release();
        for (TestClient* c : {fx.desk.get(), &again}) {
            const QJsonObject ack = c->expect(QStringLiteral("UPDATE_ACK"));
            QCOMPARE(ack.value(QStringLiteral("updateAcks"))
                         .toArray()
                         .at(0)
                         .toObject()
                         .value(QStringLiteral("serverSeqNum"))
                         .toInteger(),
                     1);
        }
        QCOMPARE(fx.journal().count('\n'), 1);
    }
};

QTEST_GUILESS_MAIN(TestDurability)
#include "tst_durability.moc"
