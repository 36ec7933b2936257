// SPDX-License-Identifier: AGPL-3.0-or-later
// The specification's "Normal, fault-free scenarios" over real sockets on 127.0.0.1.
#include "ServerHarness.h"
#include "TestClient.h"
#include "sync/MeetRegistry.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");

QList<QPair<QString, int>> endpoints()
{
    return {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}, {QStringLiteral("Platform 2"), 5}};
}

/// All serverSeqNums of a list of UPDATE_RELAY messages, in arrival order.
QList<qint64> relayedSeqs(const QList<QJsonObject>& relays)
{
    QList<qint64> out;
    for (const QJsonObject& r : relays) {
        const QJsonArray arr = r.value(QStringLiteral("updatesRelayed")).toArray();
        for (const QJsonValue& v : arr) {
            out.append(v.toObject().value(QStringLiteral("serverSeqNum")).toInteger());
        }
    }
    return out;
}

/// Receives UPDATE_RELAY messages until `count` updates have arrived.
QList<QJsonObject> collectRelays(TestClient& c, int count)
{
    QList<QJsonObject> relays;
    int got = 0;
    while (got < count) {
        auto m = c.next(QStringLiteral("UPDATE_RELAY"));
        if (!m) {
            break;
        }
        got += static_cast<int>(m->value(QStringLiteral("updatesRelayed")).toArray().size());
        relays.append(*m);
    }
    return relays;
}

/// Receives UPDATE_ACK messages until `count` acks have arrived; returns localSeqNum -> serverSeqNum.
QMap<qint64, qint64> collectAcks(TestClient& c, int count)
{
    QMap<qint64, qint64> acks;
    while (acks.size() < count) {
        auto m = c.next(QStringLiteral("UPDATE_ACK"));
        if (!m) {
            break;
        }
        const QJsonArray arr = m->value(QStringLiteral("updateAcks")).toArray();
        for (const QJsonValue& v : arr) {
            const QJsonObject a = v.toObject();
            acks.insert(a.value(QStringLiteral("localSeqNum")).toInteger(),
                        a.value(QStringLiteral("serverSeqNum")).toInteger());
        }
    }
    return acks;
}

} // namespace

class TestNormalFlows final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Spec scenario 1: A updates, B (display-only) receives the updates, A gets the seq mapping.
    void oneUpdatingOneDisplay()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        TestClient a(server.url());
        TestClient b(server.url());
        QVERIFY(a.open());
        QVERIFY(b.open());
        QCOMPARE(a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        const QJsonObject joined = b.joinMeet(displayMeetId(a.meetId), kPassword, QStringLiteral("Desk"),
                                              QStringLiteral("client-b"), QStringLiteral("display"));
        QCOMPARE(joined.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_JOINED"));
        QCOMPARE(joined.value(QStringLiteral("role")).toString(), QStringLiteral("display"));
        QCOMPARE(joined.value(QStringLiteral("headServerSeq")).toInteger(), 0);

        a.sendUpdates(a.token,
                      {{QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open"), 1, 0},
                       {QStringLiteral("meet.units"), QStringLiteral("kg"), 2, 0},
                       {QStringLiteral("registration.entries[id=23880].bodyweightKg"), 82.35, 3, 0}});
        const QJsonObject ack = a.expect(QStringLiteral("UPDATE_ACK"));
        const QJsonArray acks = ack.value(QStringLiteral("updateAcks")).toArray();
        QCOMPARE(acks.size(), 3);
        for (int i = 0; i < 3; ++i) {
            QCOMPARE(acks[i].toObject().value(QStringLiteral("localSeqNum")).toInteger(), i + 1);
            QCOMPARE(acks[i].toObject().value(QStringLiteral("serverSeqNum")).toInteger(), i + 1);
        }
        QCOMPARE(ack.value(QStringLiteral("headServerSeq")).toInteger(), 3);

        const QJsonObject relay = b.expect(QStringLiteral("UPDATE_RELAY"));
        const QJsonArray updates = relay.value(QStringLiteral("updatesRelayed")).toArray();
        QCOMPARE(updates.size(), 3);
        QCOMPARE(updates[0].toObject().value(QStringLiteral("updateKey")).toString(), QStringLiteral("meet.name"));
        QCOMPARE(updates[0].toObject().value(QStringLiteral("updateValue")).toString(),
                 QStringLiteral("Canterbury Winter Open"));
        QCOMPARE(updates[2].toObject().value(QStringLiteral("updateValue")).toDouble(), 82.35);
        QCOMPARE(updates[2].toObject().value(QStringLiteral("locationName")).toString(), QStringLiteral("Desk"));
        QCOMPARE(relayedSeqs({relay}), (QList<qint64>{1, 2, 3}));

        // The sender is never relayed its own updates: it has the acks instead. A pull is answered
        // after anything already queued for this socket, so it is a barrier: no live relay before it.
        a.pull(a.token, 3);
        QVERIFY(a.expect(QStringLiteral("UPDATE_RELAY")).value(QStringLiteral("pull")).toBool());
    }

    /// Spec scenario 2: two updating clients overlap in time on disjoint keys.
    void twoUpdatingOverlappingDisjoint()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        TestClient a(server.url());
        TestClient b(server.url());
        TestClient display(server.url());
        QVERIFY(a.open() && b.open() && display.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
        QCOMPARE(b.joinMeet(a.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("client-b"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
        display.joinMeet(a.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("screen"),
                         QStringLiteral("display"));

        // A shared starting point s, so both batches say they saw the same server state.
        a.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("Yorkshire Spring Classic"), 1, 0}});
        QVERIFY(a.next(QStringLiteral("UPDATE_ACK")));
        QVERIFY(b.next(QStringLiteral("UPDATE_RELAY")));
        QVERIFY(display.next(QStringLiteral("UPDATE_RELAY")));
        const qint64 s = 1;

        const int m = 40;
        const int n = 30;
        // Both send everything before either waits: the server sees the two streams interleaved.
        for (int i = 0; i < m; ++i) {
            a.sendUpdates(a.token,
                          {{QStringLiteral("registration.entries[id=%1].name").arg(5100 + i),
                            QStringLiteral("Lifter A%1").arg(i), 2 + i, s}});
            if (i < n) {
                b.sendUpdates(b.token,
                              {{QStringLiteral("registration.entries[id=%1].name").arg(6100 + i),
                                QStringLiteral("Lifter B%1").arg(i), 1 + i, s}});
            }
        }
        const QMap<qint64, qint64> ackA = collectAcks(a, m);
        const QMap<qint64, qint64> ackB = collectAcks(b, n);
        QCOMPARE(ackA.size(), m);
        QCOMPARE(ackB.size(), n);

        // Seq numbers: contiguous s+1 .. s+m+n, each used once; each client's own order preserved.
        QSet<qint64> all;
        for (qint64 v : ackA) {
            all.insert(v);
        }
        for (qint64 v : ackB) {
            all.insert(v);
        }
        QCOMPARE(all.size(), m + n);
        QCOMPARE(*std::min_element(all.begin(), all.end()), s + 1);
        QCOMPARE(*std::max_element(all.begin(), all.end()), s + m + n);
        QVERIFY(std::is_sorted(ackA.cbegin(), ackA.cend()));
        QVERIFY(std::is_sorted(ackB.cbegin(), ackB.cend()));

        // Each updater gets exactly the other's updates, in server order.
        const QList<qint64> relayedToA = relayedSeqs(collectRelays(a, n));
        const QList<qint64> relayedToB = relayedSeqs(collectRelays(b, m));
        QCOMPARE(relayedToA, QList<qint64>(ackB.cbegin(), ackB.cend()));
        QCOMPARE(relayedToB, QList<qint64>(ackA.cbegin(), ackA.cend()));

        // The display sees every update once, in server order, with no gaps.
        QList<qint64> expected;
        for (qint64 q = s + 1; q <= s + m + n; ++q) {
            expected.append(q);
        }
        QCOMPARE(relayedSeqs(collectRelays(display, m + n)), expected);
    }

    /// A client joining late pulls the whole history, in chunks when it is long.
    void pullReplaysTailInChunks()
    {
        Limits limits;
        limits.relayChunkEntries = 10;
        InProcessServer server({}, limits);
        QVERIFY2(server.start(), qPrintable(server.startError()));
        TestClient a(server.url());
        QVERIFY(a.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
        QList<std::tuple<QString, QJsonValue, qint64, qint64>> batch;
        for (int i = 1; i <= 25; ++i) {
            batch.append({QStringLiteral("registration.entries[id=%1].lot").arg(5000 + i), i, i, 0});
        }
        a.sendUpdates(a.token, batch);
        QCOMPARE(collectAcks(a, 25).size(), 25);

        TestClient late(server.url());
        QVERIFY(late.open());
        late.joinMeet(a.meetId, kPassword, QStringLiteral("Platform 2"), QStringLiteral("late"));
        late.pull(late.token, 0);
        QList<QJsonObject> chunks;
        for (int i = 0; i < 3; ++i) {
            chunks.append(late.expect(QStringLiteral("UPDATE_RELAY")));
        }
        QCOMPARE(chunks[0].value(QStringLiteral("updatesRelayed")).toArray().size(), 10);
        QCOMPARE(chunks[2].value(QStringLiteral("updatesRelayed")).toArray().size(), 5);
        QCOMPARE(chunks[0].value(QStringLiteral("final")).toBool(), false);
        QCOMPARE(chunks[2].value(QStringLiteral("final")).toBool(), true);
        QCOMPARE(chunks[2].value(QStringLiteral("headServerSeq")).toInteger(), 25);
        QList<qint64> expected;
        for (qint64 q = 1; q <= 25; ++q) {
            expected.append(q);
        }
        QCOMPARE(relayedSeqs(chunks), expected);

        // Pulling from the head answers at once with an empty, final batch.
        late.pull(late.token, 25);
        const QJsonObject empty = late.expect(QStringLiteral("UPDATE_RELAY"));
        QVERIFY(empty.value(QStringLiteral("updatesRelayed")).toArray().isEmpty());
        QVERIFY(empty.value(QStringLiteral("final")).toBool());
        QVERIFY(empty.value(QStringLiteral("pull")).toBool());

        // Pulling from beyond the head means the server lost state: it asks the client instead.
        late.pull(late.token, 40);
        QCOMPARE(late.expect(QStringLiteral("SERVER_PULL")).value(QStringLiteral("lastServerSeq")).toInteger(), 25);
    }

    /// A resend of an update (same clientId and localSeqNum) gets its first serverSeqNum and is
    /// applied once, whether it arrives on the same socket or a new one.
    void resendIsIdempotent()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        TestClient a(server.url());
        TestClient watcher(server.url());
        QVERIFY(a.open() && watcher.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
        watcher.joinMeet(a.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("watcher"),
                         QStringLiteral("display"));

        a.sendUpdates(a.token,
                      {{QStringLiteral("meet.name"), QStringLiteral("First"), 7, 0},
                       {QStringLiteral("meet.city"), QStringLiteral("Leeds"), 8, 0}});
        QCOMPARE(collectAcks(a, 2), (QMap<qint64, qint64>{{7, 1}, {8, 2}}));
        QVERIFY(watcher.next(QStringLiteral("UPDATE_RELAY")));

        // The same localSeqNums again (say the ack was lost), plus one new update.
        a.sendUpdates(a.token,
                      {{QStringLiteral("meet.name"), QStringLiteral("First"), 7, 0},
                       {QStringLiteral("meet.city"), QStringLiteral("Leeds"), 8, 0},
                       {QStringLiteral("meet.country"), QStringLiteral("England"), 9, 2}});
        QCOMPARE(collectAcks(a, 3), (QMap<qint64, qint64>{{7, 1}, {8, 2}, {9, 3}}));
        const QJsonObject relay = watcher.expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(relayedSeqs({relay}), QList<qint64>{3});

        // From a new socket of the same client (a reconnect): still the original numbers.
        TestClient again(server.url());
        QVERIFY(again.open());
        again.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("First"), 7, 0}});
        QCOMPARE(collectAcks(again, 1), (QMap<qint64, qint64>{{7, 1}}));
        QCOMPARE(server.server().registry().find(a.meetId)->assignedSeq(), 3);
        // Nothing was relayed for the resends: the next thing the watcher gets is its pull answer.
        watcher.pull(watcher.token, 3);
        QVERIFY(watcher.expect(QStringLiteral("UPDATE_RELAY")).value(QStringLiteral("pull")).toBool());
    }

    /// A reconnecting client that presents its token (here with CLIENT_PULL) receives relays again.
    void reconnectBindsNewSocket()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        auto a = std::make_unique<TestClient>(server.url());
        TestClient b(server.url());
        QVERIFY(a->open() && b.open());
        a->createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
        const QString tokenA = a->token;
        b.joinMeet(a->meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("client-b"));
        a->close();
        QVERIFY(a->waitForDisconnect());
        QTRY_COMPARE(server.server().connectionCount(), 1);

        b.sendUpdates(b.token, {{QStringLiteral("lifting.platform1.lifterId"), 5107, 1, 0}});
        QVERIFY(b.next(QStringLiteral("UPDATE_ACK")));

        TestClient a2(server.url());
        QVERIFY(a2.open());
        a2.pull(tokenA, 0);
        const QJsonObject caughtUp = a2.expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(relayedSeqs({caughtUp}), QList<qint64>{1});
        b.sendUpdates(b.token, {{QStringLiteral("lifting.platform1.lifterId"), 5108, 2, 1}});
        const QJsonObject live = a2.expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(relayedSeqs({live}), QList<qint64>{2});
        QVERIFY(!live.contains(QStringLiteral("pull")));
    }

    /// GET /health reports JSON status; /live without an upgrade says 426.
    void httpRoutes()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        TestClient a(server.url());
        QVERIFY(a.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));

        QNetworkAccessManager nam;
        const QString base = QStringLiteral("http://127.0.0.1:%1").arg(server.server().port());
        std::unique_ptr<QNetworkReply> health(nam.get(QNetworkRequest(QUrl(base + QStringLiteral("/health")))));
        QTRY_VERIFY(health->isFinished());
        QCOMPARE(health->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject h = QJsonDocument::fromJson(health->readAll()).object();
        QCOMPARE(h.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(h.value(QStringLiteral("meets")).toInt(), 1);
        QCOMPARE(h.value(QStringLiteral("connections")).toInt(), 1);

        std::unique_ptr<QNetworkReply> live(nam.get(QNetworkRequest(QUrl(base + QStringLiteral("/live")))));
        QTRY_VERIFY(live->isFinished());
        QCOMPARE(live->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 426);
    }
};

QTEST_GUILESS_MAIN(TestNormalFlows)
#include "tst_normalflows.moc"
