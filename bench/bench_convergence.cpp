// SPDX-License-Identifier: AGPL-3.0-or-later
// Convergence after a long time offline, against the real openlifter-live-server binary on
// loopback (a fresh server and data directory per round).
//
// Part 1: a scoring table ("Platform A", priority 5) goes offline and makes N updates (default
// 10000) over realistic keys, mostly its own lifters' attempts, some on lifters and lifting state
// the desk edits too. Meanwhile the desk ("Desk", priority 10) stays online and makes M updates
// (default 500) on its own and on those shared keys. Then the table reconnects; measured from
// setOnline(true) to: the first ack, the last ack, and convergence (pending 0, lastServerSeq ==
// the head, the pull answer finished; verified afterwards: local state == canonical state == the
// desk's state at that head). Offline updates that lost a conflict to the desk are rejected; their
// count is printed.
//
// Part 2: a display that holds the state at head - N pulls the N-entry tail, once compacted
// (the default) and once with "compact": false; time from the socket opening to the final
// chunk applied, and the bytes and messages received.
//
// Usage: bench_convergence [rounds=5] [offline-updates=10000] [online-updates=500]
#include "Percentiles.h"
#include "client/SyncClient.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QProcess>
#include <QRandomGenerator>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTimer>
#include <QWebSocket>

#include <cstdio>
#include <functional>
#include <memory>

using namespace oll;

namespace {

const QString kPassword = QStringLiteral("benchmark password");
const QString kDesk = QStringLiteral("Desk");
const QString kPlatform = QStringLiteral("Platform A");
const QString kBoard = QStringLiteral("Board");

constexpr int kDeskLifters = 100; // ids 1000..
constexpr int kPlatformLifters = 200; // ids 2000..
constexpr int kSharedLifters = 20; // ids 9000..; both edit them

/// Runs the event loop until `done` holds or `timeoutMs` passes; false on timeout.
bool waitFor(const std::function<bool()>& done, int timeoutMs = 300000)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs) {
            return false;
        }
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents, 10);
    }
    return true;
}

/// The server binary as a child process on 127.0.0.1, port chosen by the kernel.
class Server
{
public:
    Server()
    {
        m_process.setProgram(QStringLiteral(OLL_SERVER_BINARY));
        m_process.setArguments({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--bind"),
                                QStringLiteral("127.0.0.1"), QStringLiteral("--data-dir"), m_dir.path(),
                                QStringLiteral("--scrypt-log2n"), QStringLiteral("10")});
        m_process.setStandardErrorFile(QProcess::nullDevice()); // diag lines: one per conflict
    }
    ~Server()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(10000)) {
                m_process.kill();
                m_process.waitForFinished(5000);
            }
        }
    }
    bool start()
    {
        m_process.start();
        if (!m_process.waitForStarted(10000)) {
            return false;
        }
        static const QRegularExpression re(QStringLiteral("listening on [^ ]+:(\\d+) "));
        QByteArray out;
        return waitFor(
                   [&] {
                       out += m_process.readAllStandardOutput();
                       const auto m = re.match(QString::fromUtf8(out));
                       if (m.hasMatch()) {
                           m_port = static_cast<quint16>(m.captured(1).toUInt());
                       }
                       return m_port != 0 || m_process.state() == QProcess::NotRunning;
                   },
                   10000)
            && m_port != 0;
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(m_port)); }

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    quint16 m_port = 0;
};

SyncClientOptions fastOptions()
{
    SyncClientOptions o;
    o.reconnectDelayMs = 10;
    o.reconnectMaxDelayMs = 200;
    return o;
}

QString entryKey(int id)
{
    return QStringLiteral("registration.entries[id=%1]").arg(id);
}

QJsonObject newEntry(int id)
{
    const QJsonArray zeros{0, 0, 0, 0, 0};
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("day"), 1},
                       {QStringLiteral("platform"), 1},
                       {QStringLiteral("flight"), QString(QChar(u'A' + id % 4))},
                       {QStringLiteral("name"), QStringLiteral("Lifter %1").arg(id)},
                       {QStringLiteral("sex"), id % 2 ? QStringLiteral("M") : QStringLiteral("F")},
                       {QStringLiteral("equipment"), QStringLiteral("Sleeves")},
                       {QStringLiteral("divisions"), QJsonArray{QStringLiteral("Open")}},
                       {QStringLiteral("events"), QJsonArray{QStringLiteral("SBD")}},
                       {QStringLiteral("lot"), id % 100},
                       {QStringLiteral("bodyweightKg"), 60 + id % 70},
                       {QStringLiteral("squatKg"), zeros},
                       {QStringLiteral("benchKg"), zeros},
                       {QStringLiteral("deadliftKg"), zeros},
                       {QStringLiteral("squatStatus"), zeros},
                       {QStringLiteral("benchStatus"), zeros},
                       {QStringLiteral("deadliftStatus"), zeros}};
}

using Update = QPair<QString, QJsonValue>;

/// An attempt weight or result of one lifter, or the lifting state: what a scoring table or a
/// desk sends all day. `ownFirst`/`ownCount` is the location's own block; `sharedPercent` of the
/// edits go to the shared lifters and the lifting state instead.
Update edit(QRandomGenerator& rng, int ownFirst, int ownCount, int sharedPercent)
{
    static const QStringList lifts{QStringLiteral("squat"), QStringLiteral("bench"), QStringLiteral("deadlift")};
    const bool shared = static_cast<int>(rng.bounded(100)) < sharedPercent;
    if (shared && rng.bounded(5) == 0) {
        return {QStringLiteral("lifting.overrideEntryId"), 9000 + static_cast<int>(rng.bounded(kSharedLifters))};
    }
    const int id = shared ? 9000 + static_cast<int>(rng.bounded(kSharedLifters))
                          : ownFirst + static_cast<int>(rng.bounded(ownCount));
    const QString lift = lifts.at(rng.bounded(lifts.size()));
    const int attempt = static_cast<int>(rng.bounded(3));
    if (rng.bounded(2) == 0) {
        return {entryKey(id) + QStringLiteral(".%1Status[%2]").arg(lift).arg(attempt), rng.bounded(2) ? 1 : -1};
    }
    return {entryKey(id) + QStringLiteral(".%1Kg[%2]").arg(lift).arg(attempt),
            60 + static_cast<int>(rng.bounded(190)) + 2.5 * rng.bounded(4)};
}

struct RoundResult
{
    double convergeMs = 0;
    double firstAckMs = 0;
    double lastAckMs = 0;
    qint64 rejected = 0;
    qint64 head = 0;
    int rebases = 0;
    bool statesEqual = false;
};

struct PullResult
{
    double ms = 0;
    qint64 bytes = 0;
    int messages = 0;
    bool stateEqual = false;
};

/// A display engine restored from `state` pulls over a raw socket until it holds `head`.
PullResult pullTail(const QUrl& url, const PersistedState& state, bool compact, qint64 head,
                    const QJsonObject& expected)
{
    PullResult r;
    SyncEngine engine(state);
    engine.setAcceptCompactPulls(compact);
    QWebSocket socket;
    engine.setSendFunction([&socket](const QByteArray& text) { socket.sendTextMessage(QString::fromUtf8(text)); });
    QObject::connect(&socket, &QWebSocket::textMessageReceived, &socket, [&](const QString& text) {
        const QByteArray bytes = text.toUtf8();
        r.bytes += bytes.size();
        ++r.messages;
        engine.receive(bytes);
    });
    QElapsedTimer clock;
    QObject::connect(&socket, &QWebSocket::connected, &socket, [&] {
        clock.start();
        engine.transportOpened(); // CLIENT_PULL from the restored lastServerSeq
    });
    socket.open(url);
    if (!waitFor([&] { return clock.isValid() && !engine.pullInFlight() && engine.lastServerSeq() == head; })) {
        std::fprintf(stderr, "pull did not finish: lastServerSeq %lld of %lld\n",
                     static_cast<long long>(engine.lastServerSeq()), static_cast<long long>(head));
        return r;
    }
    r.ms = static_cast<double>(clock.nsecsElapsed()) / 1e6;
    r.stateEqual = engine.canonicalState().document() == expected;
    engine.setSendFunction({});
    socket.close();
    return r;
}

bool runRound(int offlineCount, int onlineCount, quint32 seed, RoundResult* out, QList<PullResult>* compacted,
              QList<PullResult>* full)
{
    QRandomGenerator rng(seed);
    Server server;
    if (!server.start()) {
        std::fprintf(stderr, "cannot start %s\n", OLL_SERVER_BINARY);
        return false;
    }
    SyncClient desk(server.url(), QStringLiteral("desk"), 1, fastOptions());
    SyncClient table(server.url(), QStringLiteral("table-a"), 1, fastOptions());
    SyncClient board(server.url(), QStringLiteral("board"), 1, fastOptions());
    desk.createMeet(kDesk, kPassword, {{kDesk, 10}, {kPlatform, 5}, {kBoard, 0}});
    if (!waitFor([&] { return desk.isOnline(); }, 20000)) {
        std::fprintf(stderr, "create failed: %s\n", qPrintable(desk.lastError()));
        return false;
    }
    table.joinMeet(desk.meetId(), kPassword, kPlatform);
    if (!waitFor([&] { return table.isOnline(); }, 20000)) {
        return false;
    }
    board.joinMeet(desk.meetId(), kPassword, kBoard, Role::Display);
    if (!waitFor([&] { return board.isOnline(); }, 20000)) {
        return false;
    }

    // Registration: every lifter once, as the desk enters them.
    QList<Update> setup{{QStringLiteral("meet.name"), QStringLiteral("Convergence Open")}};
    for (int i = 0; i < kDeskLifters; ++i) {
        setup.append({entryKey(1000 + i), newEntry(1000 + i)});
    }
    for (int i = 0; i < kPlatformLifters; ++i) {
        setup.append({entryKey(2000 + i), newEntry(2000 + i)});
    }
    for (int i = 0; i < kSharedLifters; ++i) {
        setup.append({entryKey(9000 + i), newEntry(9000 + i)});
    }
    desk.updateMany(setup);
    const auto settled = [](const SyncClient& c, qint64 head) {
        return c.pendingCount() == 0 && !c.outOfSync() && c.lastServerSeq() == head;
    };
    if (!waitFor([&] { return settled(desk, setup.size()) && settled(table, setup.size()); })) {
        return false;
    }

    // The table goes offline and keeps scoring; the desk edits online meanwhile.
    table.setOnline(false);
    for (int i = 0; i < offlineCount; ++i) {
        const Update u = edit(rng, 2000, kPlatformLifters, 5);
        table.update(u.first, u.second);
    }
    for (int i = 0; i < onlineCount; ++i) {
        const Update u = edit(rng, 1000, kDeskLifters, 50);
        desk.update(u.first, u.second);
    }
    const qint64 headBefore = setup.size() + onlineCount;
    if (!waitFor([&] { return settled(desk, headBefore) && settled(board, headBefore); })) {
        return false;
    }
    const PersistedState boardAtHeadBefore = board.persistedState();

    QElapsedTimer clock;
    double firstAck = -1;
    double lastAck = -1;
    double converged = -1;
    qint64 rejected = 0;
    const auto check = [&] {
        if (converged < 0 && table.pendingCount() == 0 && !table.outOfSync()
            && table.lastServerSeq() == table.knownHead()) {
            converged = static_cast<double>(clock.nsecsElapsed()) / 1e6;
        }
    };
    QObject::connect(&table, &SyncClient::acked, &table, [&] {
        lastAck = static_cast<double>(clock.nsecsElapsed()) / 1e6;
        if (firstAck < 0) {
            firstAck = lastAck;
        }
    });
    QObject::connect(&table, &SyncClient::updateRejected, &table, [&] { ++rejected; });
    // Every settle of the engine re-applies the whole pending log to the local state (the rebase);
    // counted, since with thousands pending that is the client's main cost.
    int rebases = 0;
    QObject::connect(&table, &SyncClient::localStateChanged, &table, [&] { ++rebases; });
    QObject::connect(&table, &SyncClient::pendingCountChanged, &table, check);
    QObject::connect(&table, &SyncClient::lastServerSeqChanged, &table, check);
    QObject::connect(&table, &SyncClient::outOfSyncChanged, &table, check);
    clock.start();
    table.setOnline(true);
    if (!waitFor([&] { return converged >= 0; })) {
        std::fprintf(stderr, "table did not converge: pending %d lastServerSeq %lld knownHead %lld\n",
                     table.pendingCount(), static_cast<long long>(table.lastServerSeq()),
                     static_cast<long long>(table.knownHead()));
        return false;
    }
    const qint64 head = table.lastServerSeq();
    if (!waitFor([&] { return settled(desk, head) && settled(board, head); })) {
        return false;
    }
    out->convergeMs = converged;
    out->firstAckMs = firstAck;
    out->lastAckMs = lastAck;
    out->rejected = rejected;
    out->head = head;
    out->rebases = rebases;
    const QJsonObject expected = desk.canonicalState().document();
    out->statesEqual = table.localState().document() == expected && table.canonicalState().document() == expected
        && board.canonicalState().document() == expected;

    // Part 2: a display that held the state before the table came back pulls the tail.
    PersistedState tailState = boardAtHeadBefore;
    qint64 from = headBefore;
    if (head - offlineCount > 0) {
        // Start exactly offlineCount entries below the head, from the desk's log.
        from = head - offlineCount;
        tailState.canonical.clear();
        for (const CanonicalEntry& e : desk.canonicalLog()) {
            if (e.serverSeqNum <= from) {
                tailState.canonical.append(e);
            }
        }
    }
    for (bool compact : {true, false}) {
        const PullResult p = pullTail(server.url(), tailState, compact, head, expected);
        (compact ? compacted : full)->append(p);
    }
    std::printf(
        "  round: head %lld, %lld offline updates rejected by conflicts, converged in %.1f ms "
        "(first ack %.1f ms, last ack %.1f ms, %d local-state rebases), states equal: %s; tail pull of %lld entries\n",
        static_cast<long long>(head), static_cast<long long>(rejected), converged, firstAck, lastAck, rebases,
        out->statesEqual ? "yes" : "NO", static_cast<long long>(head - from));
    std::fflush(stdout);
    return true;
}

QString msSummary(const QList<double>& v)
{
    return QStringLiteral("p50 %1 ms, max %2 ms")
        .arg(oll::bench::percentile(v, 50), 0, 'f', 1)
        .arg(oll::bench::percentile(v, 100), 0, 'f', 1);
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const int rounds = argc > 1 ? QString::fromLocal8Bit(argv[1]).toInt() : 5;
    const int offline = argc > 2 ? QString::fromLocal8Bit(argv[2]).toInt() : 10000;
    const int online = argc > 3 ? QString::fromLocal8Bit(argv[3]).toInt() : 500;
    std::printf("convergence: %d rounds, %d offline updates (Platform A), %d online updates (Desk) meanwhile, "
                "real server binary on loopback\n",
                rounds, offline, online);

    QList<double> converge;
    QList<double> firstAck;
    QList<double> lastAck;
    QList<PullResult> compacted;
    QList<PullResult> full;
    bool allEqual = true;
    for (int i = 0; i < rounds; ++i) {
        RoundResult r;
        if (!runRound(offline, online, 1234 + static_cast<quint32>(i), &r, &compacted, &full)) {
            return 1;
        }
        converge.append(r.convergeMs);
        firstAck.append(r.firstAckMs);
        lastAck.append(r.lastAckMs);
        allEqual = allEqual && r.statesEqual;
    }
    std::printf("setOnline(true) -> converged: %s\n", qPrintable(msSummary(converge)));
    std::printf("setOnline(true) -> first ack: %s\n", qPrintable(msSummary(firstAck)));
    std::printf("setOnline(true) -> last ack:  %s\n", qPrintable(msSummary(lastAck)));
    for (bool compact : {true, false}) {
        const QList<PullResult>& list = compact ? compacted : full;
        QList<double> ms;
        QList<double> bytes;
        int messages = 0;
        for (const PullResult& p : list) {
            ms.append(p.ms);
            bytes.append(static_cast<double>(p.bytes));
            messages = p.messages;
            allEqual = allEqual && p.stateEqual;
        }
        std::printf("tail pull, %s: %s, %.0f bytes received (p50), %d messages\n",
                    compact ? "compacted   " : "compact:false", qPrintable(msSummary(ms)),
                    oll::bench::percentile(bytes, 50), messages);
    }
    std::printf("every state equal to the server's: %s\n", allEqual ? "yes" : "NO");
    return allEqual ? 0 : 2;
}
