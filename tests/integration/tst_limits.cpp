// SPDX-License-Identifier: AGPL-3.0-or-later
// Limits and liveness rules that need more than one message to show: each is crossed here and
// the test checks the specific answer and that everyone else is unaffected.
#include "ServerHarness.h"
#include "TestClient.h"
#include "sync/MeetRegistry.h"
#include "util/Clock.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
const QList<QPair<QString, int>> kEndpoints{{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}};

/// A WebSocket client written by hand on a raw TCP socket, for peers Qt's client won't imitate:
/// one that never answers pings, or one that stops reading.
class RawWebSocket
{
public:
    bool open(quint16 port)
    {
        m_socket.connectToHost(QHostAddress::LocalHost, port);
        if (!m_socket.waitForConnected(5000)) {
            return false;
        }
        m_socket.write("GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        QByteArray response;
        const bool upgraded = QTest::qWaitFor(
            [&] {
                response += m_socket.readAll();
                return response.contains("\r\n\r\n");
            },
            5000);
        return upgraded && response.startsWith("HTTP/1.1 101");
    }
    /// Sends one masked text frame (clients must mask).
    void sendText(const QByteArray& payload)
    {
        QByteArray frame;
        frame.append(char(0x81));
        if (payload.size() < 126) {
            frame.append(char(0x80 | payload.size()));
        } else if (payload.size() < 65536) {
            frame.append(char(0x80 | 126));
            frame.append(char((payload.size() >> 8) & 0xff));
            frame.append(char(payload.size() & 0xff));
        } else {
            frame.append(char(0x80 | 127));
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.append(char((quint64(payload.size()) >> shift) & 0xff));
            }
        }
        const char mask[4] = {0x11, 0x22, 0x33, 0x44};
        frame.append(mask, 4);
        for (qsizetype i = 0; i < payload.size(); ++i) {
            frame.append(char(payload[i] ^ mask[i % 4]));
        }
        m_socket.write(frame);
        m_socket.flush();
    }
    QTcpSocket& socket() { return m_socket; }

private:
    QTcpSocket m_socket;
};

/// A pull for every entry (never compacted): these tests count entries and bytes.
QJsonObject pullMessage(const QString& token, qint64 last)
{
    return {{QStringLiteral("msgType"), QStringLiteral("CLIENT_PULL")},
            {QStringLiteral("sessionToken"), token},
            {QStringLiteral("lastServerSeq"), last},
            {QStringLiteral("compact"), false}};
}

} // namespace

class TestLimits final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// A large committed batch reaches other clients in chunks no bigger than the chunk limits.
    void liveRelaysAreChunked()
    {
        Limits limits;
        limits.relayChunkEntries = 10;
        limits.relayChunkBytes = 40 * 1024;
        InProcessServer server({}, limits);
        QVERIFY(server.start());
        TestClient desk(server.url());
        TestClient screen(server.url());
        QVERIFY(desk.open() && screen.open());
        desk.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("desk"));
        screen.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("screen"),
                        QStringLiteral("display"));

        QList<std::tuple<QString, QJsonValue, qint64, qint64>> batch;
        for (int i = 1; i <= 25; ++i) {
            batch.append(
                {QStringLiteral("registration.entries[id=%1].name").arg(5000 + i), QStringLiteral("n%1").arg(i), i, 0});
        }
        batch.append({QStringLiteral("meet.notes"), QString(30 * 1024, u'x'), 26, 0});
        batch.append({QStringLiteral("meet.notes2"), QString(30 * 1024, u'y'), 27, 0});
        batch.append({QStringLiteral("meet.notes3"), QString(30 * 1024, u'z'), 28, 0});
        desk.sendUpdates(desk.token, batch);

        QList<int> sizes;
        int total = 0;
        while (total < 28) {
            const QJsonObject relay = screen.expect(QStringLiteral("UPDATE_RELAY"));
            const int n = static_cast<int>(relay.value(QStringLiteral("updatesRelayed")).toArray().size());
            QVERIFY(n > 0);
            sizes.append(n);
            total += n;
        }
        // 10 + 10 by count; then 5 small ones and two 30 KiB values pass the 40 KiB budget, which
        // closes that chunk; the last value goes alone.
        QCOMPARE(sizes, (QList<int>{10, 10, 7, 1}));
    }

    /// After every UPDATE_ACK a client holds every update up to the ack's headServerSeq: relays of
    /// other clients' updates in the same flush are sent before the ack.
    void ackComesAfterRelaysOfTheSameFlush()
    {
        InProcessServer server;
        QVERIFY(server.start());
        TestClient a(server.url());
        TestClient b(server.url());
        QVERIFY(a.open() && b.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("a"));
        b.joinMeet(a.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("b"));
        for (int i = 1; i <= 40; ++i) {
            a.sendUpdates(a.token, {{QStringLiteral("registration.entries[id=%1].lot").arg(i), i, i, 0}});
            b.sendUpdates(b.token, {{QStringLiteral("registration.entries[id=%1].lot").arg(100 + i), i, i, 0}});
        }
        QTRY_COMPARE(server.server().registry().find(a.meetId)->durableSeq(), 80);
        for (TestClient* c : {&a, &b}) {
            QSet<qint64> held;
            int acked = 0;
            QTRY_VERIFY([&] {
                held.clear();
                acked = 0;
                for (const QJsonObject& m : c->received()) {
                    const QString type = m.value(QStringLiteral("msgType")).toString();
                    if (type == QStringLiteral("UPDATE_RELAY")) {
                        for (const QJsonValue& v : m.value(QStringLiteral("updatesRelayed")).toArray()) {
                            held.insert(v.toObject().value(QStringLiteral("serverSeqNum")).toInteger());
                        }
                    } else if (type == QStringLiteral("UPDATE_ACK")) {
                        for (const QJsonValue& v : m.value(QStringLiteral("updateAcks")).toArray()) {
                            held.insert(v.toObject().value(QStringLiteral("serverSeqNum")).toInteger());
                            ++acked;
                        }
                        const qint64 head = m.value(QStringLiteral("headServerSeq")).toInteger();
                        for (qint64 q = 1; q <= head; ++q) {
                            if (!held.contains(q)) {
                                qWarning("ack with headServerSeq %lld arrived before seq %lld", head, q);
                                return false;
                            }
                        }
                    }
                }
                return acked == 40;
            }());
        }
    }

    /// The same localSeqNum with a different update is refused, not silently acked and dropped.
    void reusedLocalSeqNumIsRejected()
    {
        InProcessServer server;
        QVERIFY(server.start());
        TestClient a(server.url());
        QVERIFY(a.open());
        a.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("a"));
        a.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("One"), 1, 0}});
        a.expect(QStringLiteral("UPDATE_ACK"));
        a.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("Two"), 1, 1}});
        const QJsonObject rej = a.expect(QStringLiteral("UPDATE_REJECTED"))
                                    .value(QStringLiteral("updatesRejected"))
                                    .toArray()
                                    .at(0)
                                    .toObject();
        QCOMPARE(rej.value(QStringLiteral("code")).toString(), QStringLiteral("LOCAL_SEQ_REUSED"));
        QCOMPARE(rej.value(QStringLiteral("localSeqNum")).toInteger(), 1);
        QCOMPARE(server.server().registry().find(a.meetId)->assignedSeq(), 1);
    }

    /// One address may create only so many meets per hour; the window slides with the clock.
    void meetCreationIsRateLimited()
    {
        ManualClock clock;
        ServerServices services;
        services.clock = &clock;
        Limits limits;
        limits.maxMeetsCreatedPerAddressPerHour = 2;
        InProcessServer server(services, limits);
        QVERIFY(server.start());
        TestClient c(server.url());
        QVERIFY(c.open());
        for (int i = 0; i < 2; ++i) {
            QCOMPARE(c.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("c"))
                         .value(QStringLiteral("msgType"))
                         .toString(),
                     QStringLiteral("MEET_CREATED"));
        }
        clock.advanceMs(10 * 60 * 1000);
        const QJsonObject refused = c.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("c"));
        QCOMPARE(refused.value(QStringLiteral("msgType")).toString(), QStringLiteral("CREATE_REJECTED"));
        QCOMPARE(refused.value(QStringLiteral("retryAfterMs")).toInteger(), 50 * 60 * 1000);
        QCOMPARE(server.server().registry().meets().size(), 2);
        clock.advanceMs(50 * 60 * 1000);
        QCOMPARE(c.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("c"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
    }

    /// Beyond the per-meet session cap the oldest session is dropped (and its token stops working).
    void sessionsPerMeetAreCapped()
    {
        ManualClock clock;
        ServerServices services;
        services.clock = &clock;
        Limits limits;
        limits.maxSessionsPerMeet = 3;
        InProcessServer server(services, limits);
        QVERIFY(server.start());
        TestClient first(server.url());
        QVERIFY(first.open());
        first.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("first"));
        const QString oldest = first.token;
        QStringList tokens;
        for (int i = 0; i < 3; ++i) {
            clock.advanceMs(1000);
            TestClient j(server.url());
            QVERIFY(j.open());
            QCOMPARE(j.joinMeet(first.meetId, kPassword, QStringLiteral("Platform 1"), QStringLiteral("j%1").arg(i))
                         .value(QStringLiteral("msgType"))
                         .toString(),
                     QStringLiteral("MEET_JOINED"));
            tokens.append(j.token);
        }
        QCOMPARE(server.server().registry().find(first.meetId)->sessions().size(), 3);
        // The creator's socket was bound to the dropped session: it is told at once and unbound.
        QVERIFY(first.expect(QStringLiteral("INVALID_SESSION"))
                    .value(QStringLiteral("reason"))
                    .toString()
                    .contains(QStringLiteral("ended")));
        TestClient probe(server.url());
        QVERIFY(probe.open());
        probe.send(pullMessage(oldest, 0));
        QVERIFY(probe.expect(QStringLiteral("INVALID_SESSION"))
                    .value(QStringLiteral("reason"))
                    .toString()
                    .contains(QStringLiteral("unknown")));
        probe.send(pullMessage(tokens.first(), 0));
        QVERIFY(probe.expect(QStringLiteral("UPDATE_RELAY")).value(QStringLiteral("final")).toBool());
    }

    /// Joins being checked count against the failure budget: a burst of guesses cannot all be
    /// checked before the first failure is counted, yet several screens may join at once.
    void joinsInFlightCountAgainstTheBudget()
    {
        ManualClock clock;
        ServerServices services;
        services.clock = &clock;
        Limits limits;
        limits.failedJoinsBeforeBackoff = 3;
        InProcessServer server(services, limits);
        QVERIFY(server.start());
        TestClient desk(server.url());
        QVERIFY(desk.open());
        desk.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("desk"));

        // Three screens on one machine join at the same moment: all three are checked.
        std::vector<std::unique_ptr<TestClient>> screens;
        for (int i = 0; i < 3; ++i) {
            screens.push_back(std::make_unique<TestClient>(server.url()));
            QVERIFY(screens.back()->open());
        }
        auto join = [&](TestClient& c, const QString& pw, int i) {
            c.send({{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                    {QStringLiteral("meetId"), desk.meetId},
                    {QStringLiteral("password"), pw},
                    {QStringLiteral("locationName"), QStringLiteral("Desk")},
                    {QStringLiteral("clientId"), QStringLiteral("s%1").arg(i)},
                    {QStringLiteral("role"), QStringLiteral("display")}});
        };
        for (int i = 0; i < 3; ++i) {
            join(*screens[i], kPassword, i);
        }
        for (auto& s : screens) {
            s->expect(QStringLiteral("MEET_JOINED"));
        }

        // Five guesses in one burst: only as many as the budget allows are checked.
        TestClient guesser(server.url());
        QVERIFY(guesser.open());
        for (int i = 0; i < 5; ++i) {
            join(guesser, QStringLiteral("wrong guess %1").arg(i), 10 + i);
        }
        QStringList reasons;
        for (int i = 0; i < 5; ++i) {
            reasons.append(guesser.expect(QStringLiteral("JOIN_REJECTED")).value(QStringLiteral("reason")).toString());
        }
        QCOMPARE(reasons.filter(QStringLiteral("invalid meet ID or password")).size(), 3);
        QCOMPARE(reasons.filter(QStringLiteral("being checked")).size(), 2);
        // The three failures now block the pair; after the back-off the right password works.
        QVERIFY(guesser.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("g"))
                    .contains(QStringLiteral("retryAfterMs")));
        clock.advanceMs(limits.backoffBaseMs);
        QCOMPARE(guesser.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("g"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
    }

    /// A bound display whose session expires is told so once, instead of silently freezing.
    void expiredBoundSessionIsToldOnce()
    {
        ManualClock clock;
        ServerServices services;
        services.clock = &clock;
        InProcessServer server(services);
        QVERIFY(server.start());
        TestClient screen(server.url());
        QVERIFY(screen.open());
        screen.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("screen-creator"));
        const QString meetId = screen.meetId;
        clock.advanceMs(SessionStore::kLifetimeMs - 60'000);
        TestClient desk(server.url());
        QVERIFY(desk.open());
        desk.joinMeet(meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("desk"));
        clock.advanceMs(120'000); // the screen's session is now expired, the desk's is not
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("A"), 1, 0}});
        desk.expect(QStringLiteral("UPDATE_ACK"));
        const QJsonObject told = screen.expect(QStringLiteral("INVALID_SESSION"));
        QVERIFY(told.value(QStringLiteral("reason")).toString().contains(QStringLiteral("expired")));
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("B"), 2, 1}});
        desk.expect(QStringLiteral("UPDATE_ACK"));
        // Unbound now: no relays and no repeated notices. Its next message gets the ordinary answer.
        screen.send(pullMessage(screen.token, 0));
        QVERIFY(screen.expect(QStringLiteral("INVALID_SESSION"))
                    .value(QStringLiteral("reason"))
                    .toString()
                    .contains(QStringLiteral("expired")));
        QVERIFY(screen.pending(QStringLiteral("UPDATE_RELAY")).isEmpty());
        QVERIFY(screen.pending(QStringLiteral("INVALID_SESSION")).isEmpty());
    }

    /// A peer that answers neither frames nor pings is closed after the idle timeout; a live one stays.
    void silentPeerIsClosedAfterIdleTimeout()
    {
        ManualClock clock;
        ServerServices services;
        services.clock = &clock;
        Limits limits;
        limits.heartbeatIntervalMs = 20;
        limits.idleTimeoutMs = 1000;
        InProcessServer server(services, limits);
        QVERIFY(server.start());
        TestClient live(server.url());
        QVERIFY(live.open());
        live.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("live"));
        RawWebSocket silent;
        QVERIFY(silent.open(server.server().port()));
        QTRY_COMPARE(server.server().connectionCount(), 2);

        clock.advanceMs(600);
        live.send(pullMessage(live.token, 0)); // activity at t+600
        live.expect(QStringLiteral("UPDATE_RELAY"));
        clock.advanceMs(600); // silent: 1200 ms quiet; live: 600 ms
        QTRY_COMPARE(server.server().connectionCount(), 1);
        QTRY_COMPARE(silent.socket().state(), QAbstractSocket::UnconnectedState);
        QVERIFY(live.isConnected());
    }

    /// A client that stops reading is closed once its unsent backlog passes the limit; others go on.
    void slowReaderIsClosed()
    {
        Limits limits;
        limits.maxOutgoingBytes = 1024 * 1024;
        InProcessServer server({}, limits);
        QVERIFY(server.start());
        TestClient desk(server.url());
        TestClient screen(server.url());
        QVERIFY(desk.open() && screen.open());
        desk.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("desk"));
        screen.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("screen"),
                        QStringLiteral("display"));

        RawWebSocket stuck;
        QVERIFY(stuck.open(server.server().port()));
        stuck.socket().setReadBufferSize(1); // stops reading: the kernel buffers fill, then the server's
        stuck.sendText(QJsonDocument(pullMessage(screen.token, 0)).toJson(QJsonDocument::Compact));
        QTRY_COMPARE(server.server().connectionCount(), 3);

        // Each update is sent only after the healthy display has received the previous one, so it
        // never has a backlog, whatever the machine's load; the stuck reader's backlog only grows.
        const QString big(100 * 1024, u'w');
        int sent = 0;
        while (server.server().connectionCount() == 3 && sent < 400) {
            ++sent;
            desk.sendUpdates(desk.token,
                             {{QStringLiteral("meet.bigNote"), QStringLiteral("%1%2").arg(big).arg(sent), sent, 0}});
            const auto relay = screen.next(QStringLiteral("UPDATE_RELAY"), 10000);
            QVERIFY2(relay.has_value(), qPrintable(QStringLiteral("the healthy display missed update %1").arg(sent)));
        }
        QTRY_COMPARE(server.server().connectionCount(), 2);
        QVERIFY2(sent < 400, "the stuck reader was never closed");
        // (The stuck client itself cannot notice: the close frame waits behind what it never read.
        // The server has dropped it and its buffers.)
        QVERIFY(screen.isConnected());
    }

    /// A peer that sends requests but never reads the answers is closed once its unread answers
    /// pass the limit - not only relays count, every reply does.
    void requestFloodWithoutReadingIsClosed()
    {
        Limits limits;
        limits.maxOutgoingBytes = 256 * 1024;
        InProcessServer server({}, limits);
        QVERIFY(server.start());
        TestClient desk(server.url());
        TestClient screen(server.url());
        QVERIFY(desk.open() && screen.open());
        desk.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("desk"));
        screen.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("screen"),
                        QStringLiteral("display"));

        RawWebSocket flooder;
        QVERIFY(flooder.open(server.server().port()));
        flooder.socket().setReadBufferSize(1);
        QTRY_COMPARE(server.server().connectionCount(), 3);
        // 500 updates from a display session: 500 rejections (~65 KB) answer each ~40 KB message.
        QJsonArray updates;
        for (int i = 1; i <= 500; ++i) {
            updates.append(QJsonObject{{QStringLiteral("updateKey"), QStringLiteral("meet.x")},
                                       {QStringLiteral("updateValue"), i},
                                       {QStringLiteral("localSeqNum"), i},
                                       {QStringLiteral("afterServerSeqNum"), 0}});
        }
        const QByteArray message = QJsonDocument(QJsonObject{{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
                                                             {QStringLiteral("sessionToken"), screen.token},
                                                             {QStringLiteral("updates"), updates}})
                                       .toJson(QJsonDocument::Compact);
        int sent = 0;
        const bool closed = QTest::qWaitFor(
            [&] {
                if (sent < 2000) {
                    ++sent;
                    flooder.sendText(message);
                }
                return server.server().connectionCount() == 2;
            },
            60000);
        QVERIFY2(closed, "the flooding peer was never closed");
        // Everyone else is still served.
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("still here"), 1, 0}});
        desk.expect(QStringLiteral("UPDATE_ACK"));
        screen.expect(QStringLiteral("UPDATE_RELAY"));
    }

    /// A long pull answer is paced by what the client reads: a stalled reader is neither closed
    /// nor sent the whole log at once, and when it reads it gets every entry exactly once, with
    /// updates committed meanwhile folded into the answer, then live relays.
    void longPullIsPacedByTheReader()
    {
        Limits limits;
        limits.maxOutgoingBytes = 256 * 1024;
        limits.relayChunkBytes = 32 * 1024;
        limits.relayChunkEntries = 100;
        InProcessServer server({}, limits);
        QVERIFY(server.start());
        TestClient desk(server.url());
        QVERIFY(desk.open());
        desk.createMeet(QStringLiteral("Desk"), kPassword, kEndpoints, QStringLiteral("desk"));
        const QString filler(2000, u'f');
        const int n = 3000; // ~6 MB of log: far more than the kernel buffers plus the 256 KiB limit
        for (int base = 0; base < n; base += 500) {
            QList<std::tuple<QString, QJsonValue, qint64, qint64>> batch;
            for (int i = base + 1; i <= base + 500; ++i) {
                batch.append({QStringLiteral("registration.entries[id=%1].notes").arg(i), filler, i, 0});
            }
            desk.sendUpdates(desk.token, batch);
        }
        QTRY_COMPARE(server.server().registry().find(desk.meetId)->durableSeq(), n);

        TestClient reader(server.url());
        QVERIFY(reader.open());
        reader.joinMeet(desk.meetId, kPassword, QStringLiteral("Desk"), QStringLiteral("reader"),
                        QStringLiteral("display"));
        RawWebSocket stalled;
        QVERIFY(stalled.open(server.server().port()));
        stalled.socket().setReadBufferSize(1);
        stalled.sendText(QJsonDocument(pullMessage(reader.token, 0)).toJson(QJsonDocument::Compact));
        // Meanwhile the meet goes on; a second full pull by a reading client completes.
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("during the pull"), n + 1, n}});
        desk.expect(QStringLiteral("UPDATE_ACK"));
        reader.pull(reader.token, 0, /*compact=*/false);
        int pulled = 0;
        while (auto m = reader.next(QStringLiteral("UPDATE_RELAY"), 10000)) {
            pulled += static_cast<int>(m->value(QStringLiteral("updatesRelayed")).toArray().size());
            if (m->value(QStringLiteral("final")).toBool()) {
                break;
            }
        }
        QCOMPARE(pulled, n + 1);
        QCOMPARE(server.server().connectionCount(), 3); // the stalled reader was not closed

        // Now the stalled reader reads: one WebSocket stream, every seq once and in order.
        stalled.socket().setReadBufferSize(0);
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.city"), QStringLiteral("after"), n + 2, n + 1}});
        QByteArray stream;
        QList<qint64> seqs;
        bool sawFinal = false;
        const bool done = QTest::qWaitFor(
            [&] {
                stream += stalled.socket().readAll();
                // Unmasked server frames: parse as many complete ones as there are.
                for (;;) {
                    if (stream.size() < 2) {
                        return false;
                    }
                    qsizetype header = 2;
                    quint64 len = quint8(stream[1]) & 0x7f;
                    if (len == 126) {
                        if (stream.size() < 4)
                            return false;
                        len = (quint64(quint8(stream[2])) << 8) | quint8(stream[3]);
                        header = 4;
                    } else if (len == 127) {
                        if (stream.size() < 10)
                            return false;
                        len = 0;
                        for (int k = 0; k < 8; ++k) {
                            len = (len << 8) | quint8(stream[2 + k]);
                        }
                        header = 10;
                    }
                    if (stream.size() < header + qsizetype(len)) {
                        return false;
                    }
                    const QJsonObject m = QJsonDocument::fromJson(stream.mid(header, qsizetype(len))).object();
                    stream.remove(0, header + qsizetype(len));
                    for (const QJsonValue& v : m.value(QStringLiteral("updatesRelayed")).toArray()) {
                        seqs.append(v.toObject().value(QStringLiteral("serverSeqNum")).toInteger());
                    }
                    sawFinal = sawFinal || m.value(QStringLiteral("final")).toBool();
                    if (sawFinal && !seqs.isEmpty() && seqs.last() == n + 2) {
                        return true;
                    }
                }
            },
            30000);
        QVERIFY2(done, qPrintable(QStringLiteral("got %1 entries, final=%2").arg(seqs.size()).arg(sawFinal)));
        QCOMPARE(seqs.size(), n + 2);
        for (qsizetype i = 0; i < seqs.size(); ++i) {
            QCOMPARE(seqs[i], i + 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestLimits)
#include "tst_limits.moc"
