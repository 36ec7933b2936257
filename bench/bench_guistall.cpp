// SPDX-License-Identifier: AGPL-3.0-or-later
// What a stalled GUI thread does to acks and relays. The main thread plays the desktop app's GUI
// thread: a timer blocks it for --stall-ms again and again (a slow paint, a synchronous file
// dialog, a long model reset) while two clients on a thread of their own stream updates over
// loopback WebSockets — one updating ("Desk"), one display. Three setups, rounds interleaved
// (a, b, c, a, b, c, ...) because the machine is shared:
//   (a) the server in ServerHost's own thread, no stalls;
//   (b) the server in ServerHost's own thread, main thread stalled;
//   (c) for contrast, a LiveServer created on the stalled main thread itself.
// Ack latency: send -> UPDATE_ACK at the sender. Relay latency: send -> UPDATE_RELAY at the display.
// Prints a Markdown table; run with --help for the options.
#include "Percentiles.h"
#include "host/ServerHost.h"
#include "net/LiveServer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QPointer>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QWebSocket>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

namespace {

enum class Mode
{
    HostNoStalls,
    HostStalls,
    MainThreadStalls
};

QString modeLabel(Mode m)
{
    switch (m) {
    case Mode::HostNoStalls:
        return QStringLiteral("(a) ServerHost thread, no stalls");
    case Mode::HostStalls:
        return QStringLiteral("(b) ServerHost thread, GUI stalls");
    case Mode::MainThreadStalls:
        return QStringLiteral("(c) server on the stalled GUI thread");
    }
    return {};
}

QString loadAverage()
{
    QFile f(QStringLiteral("/proc/loadavg"));
    if (!f.open(QIODevice::ReadOnly)) {
        return QStringLiteral("?");
    }
    // "0.52 0.61 0.70 1/234 5678": the three averages are what matters.
    const QList<QByteArray> parts = f.readAll().trimmed().split(' ');
    return QString::fromLatin1(parts.mid(0, 3).join(' '));
}

QByteArray compact(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

/// The two clients of one round. Lives on the client thread: the stalled main thread never
/// touches its sockets, so what it measures is the server's delay alone.
class ClientRig : public QObject
{
    Q_OBJECT
public:
    /// Creates a meet on 127.0.0.1:`port`, joins a display, then sends `rate` updates per second
    /// for `durationMs` and waits for every ack and relay. Emits finished() once.
    Q_INVOKABLE void run(quint16 port, int durationMs, int rate)
    {
        m_url = QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(port));
        m_durationMs = durationMs;
        m_rate = rate;
        m_clock.start();
        m_desk = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        m_screen = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
        connect(m_desk, &QWebSocket::textMessageReceived, this, &ClientRig::onDeskMessage);
        connect(m_screen, &QWebSocket::textMessageReceived, this, &ClientRig::onScreenMessage);
        connect(m_desk, &QWebSocket::connected, this, [this] {
            m_desk->sendTextMessage(QString::fromUtf8(
                compact({{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
                         {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
                         {QStringLiteral("password"), QStringLiteral("benchmark password")},
                         {QStringLiteral("endpoints"),
                          QJsonArray{QJsonObject{{QStringLiteral("locationName"), QStringLiteral("Desk")},
                                                 {QStringLiteral("priority"), 1}}}},
                         {QStringLiteral("clientId"), QStringLiteral("bench-desk")}})));
        });
        connect(m_screen, &QWebSocket::connected, this, &ClientRig::joinScreen);
        m_pacer.setTimerType(Qt::PreciseTimer);
        m_pacer.setInterval(qMax(1, 1000 / qMax(1, m_rate)));
        connect(&m_pacer, &QTimer::timeout, this, &ClientRig::sendOne);
        m_watchdog.setSingleShot(true);
        connect(&m_watchdog, &QTimer::timeout, this, [this] {
            finish(QStringLiteral("timed out: %1 sent, %2 acked, %3 relayed")
                       .arg(m_next - 1)
                       .arg(m_ackMs.size())
                       .arg(m_relayMs.size()));
        });
        m_watchdog.start(durationMs + 60'000);
        m_desk->open(m_url);
    }

Q_SIGNALS:
    /// Both clients are in and the first update is about to go: start stalling now.
    void streaming();
    void finished(const QList<double>& ackMs, const QList<double>& relayMs, const QString& error);

private:
    void joinScreen()
    {
        m_screen->sendTextMessage(
            QString::fromUtf8(compact({{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                                       {QStringLiteral("meetId"), m_meetId},
                                       {QStringLiteral("password"), QStringLiteral("benchmark password")},
                                       {QStringLiteral("locationName"), QStringLiteral("Desk")},
                                       {QStringLiteral("clientId"), QStringLiteral("bench-screen")},
                                       {QStringLiteral("role"), QStringLiteral("display")}})));
    }

    void onDeskMessage(const QString& text)
    {
        const qint64 now = m_clock.nsecsElapsed();
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QStringLiteral("msgType")).toString();
        if (type == QStringLiteral("MEET_CREATED")) {
            m_token = m.value(QStringLiteral("sessionToken")).toString();
            m_meetId = m.value(QStringLiteral("meetId")).toString();
            m_screen->open(m_url);
        } else if (type == QStringLiteral("UPDATE_ACK")) {
            for (const QJsonValue& v : m.value(QStringLiteral("updateAcks")).toArray()) {
                const qint64 local = v.toObject().value(QStringLiteral("localSeqNum")).toInteger();
                if (m_sentAtNs.contains(local) && !m_acked.contains(local)) {
                    m_acked.insert(local);
                    m_ackMs.append(static_cast<double>(now - m_sentAtNs.value(local)) / 1e6);
                }
            }
            finishIfDone();
        } else if (type == QStringLiteral("CREATE_REJECTED") || type == QStringLiteral("UPDATE_REJECTED")
                   || type == QStringLiteral("STORAGE_ERROR") || type == QStringLiteral("MALFORMED_MESSAGE")
                   || type == QStringLiteral("LIMIT_EXCEEDED") || type == QStringLiteral("INVALID_SESSION")) {
            finish(QStringLiteral("desk got %1").arg(text.left(300)));
        }
    }

    void onScreenMessage(const QString& text)
    {
        const qint64 now = m_clock.nsecsElapsed();
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QStringLiteral("msgType")).toString();
        if (type == QStringLiteral("MEET_JOINED")) {
            m_deadline.start();
            Q_EMIT streaming();
            m_pacer.start();
        } else if (type == QStringLiteral("JOIN_REJECTED") && m.contains(QStringLiteral("retryAfterMs"))) {
            // One address may have only a few logins checked at once: retry as a browser would.
            QTimer::singleShot(m.value(QStringLiteral("retryAfterMs")).toInt(), this, &ClientRig::joinScreen);
        } else if (type == QStringLiteral("JOIN_REJECTED")) {
            finish(QStringLiteral("display join rejected: %1").arg(text.left(300)));
        } else if (type == QStringLiteral("UPDATE_RELAY")) {
            for (const QJsonValue& v : m.value(QStringLiteral("updatesRelayed")).toArray()) {
                const qint64 local = v.toObject().value(QStringLiteral("localSeqNum")).toInteger();
                if (m_sentAtNs.contains(local) && !m_relayed.contains(local)) {
                    m_relayed.insert(local);
                    m_relayMs.append(static_cast<double>(now - m_sentAtNs.value(local)) / 1e6);
                }
            }
            finishIfDone();
        }
    }

    void sendOne()
    {
        if (m_deadline.elapsed() >= m_durationMs) {
            m_pacer.stop();
            m_sending = false;
            finishIfDone();
            return;
        }
        // A realistic update: one attempt of one lifter, ~150 bytes.
        const qint64 local = m_next++;
        m_sentAtNs.insert(local, m_clock.nsecsElapsed());
        m_desk->sendTextMessage(QString::fromUtf8(compact(
            {{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
             {QStringLiteral("sessionToken"), m_token},
             {QStringLiteral("updates"),
              QJsonArray{QJsonObject{{QStringLiteral("updateKey"),
                                      QStringLiteral("registration.entries[id=%1].benchKg[1]").arg(5000 + local % 40)},
                                     {QStringLiteral("updateValue"), 100 + static_cast<double>(local % 20) * 2.5},
                                     {QStringLiteral("localSeqNum"), local},
                                     {QStringLiteral("afterServerSeqNum"), 0}}}}})));
    }

    void finishIfDone()
    {
        if (!m_sending && m_next > 1 && m_acked.size() == m_next - 1 && m_relayed.size() == m_next - 1) {
            finish(QString());
        }
    }

    void finish(const QString& error)
    {
        if (m_done) {
            return;
        }
        m_done = true;
        m_pacer.stop();
        m_watchdog.stop();
        m_desk->abort();
        m_screen->abort();
        Q_EMIT finished(m_ackMs, m_relayMs, error);
    }

    QUrl m_url;
    int m_durationMs = 0;
    int m_rate = 0;
    QElapsedTimer m_clock;
    QElapsedTimer m_deadline;
    QWebSocket* m_desk = nullptr;
    QWebSocket* m_screen = nullptr;
    QTimer m_pacer{this};
    QTimer m_watchdog{this};
    QString m_token;
    QString m_meetId;
    qint64 m_next = 1;
    bool m_sending = true;
    bool m_done = false;
    QHash<qint64, qint64> m_sentAtNs; // localSeqNum -> send time
    QSet<qint64> m_acked;
    QSet<qint64> m_relayed;
    QList<double> m_ackMs;
    QList<double> m_relayMs;
};

struct Settings
{
    int rounds = 3;
    int roundMs = 8000;
    int rate = 50;
    int stallMs = 500;
    int stallEveryMs = 1000;
};

struct RoundRecord
{
    Mode mode = Mode::HostNoStalls;
    int round = 0;
    QString loadBefore;
    QString loadAfter;
    int stalls = 0;
    QList<double> ackMs;
    QList<double> relayMs;
};

/// Runs the rounds one after another on the main ("GUI") thread's event loop.
class Driver : public QObject
{
    Q_OBJECT
public:
    Driver(Settings settings, QThread* clientThread)
        : m_settings(settings)
        , m_clientThread(clientThread)
    {
        for (int r = 0; r < m_settings.rounds; ++r) {
            for (Mode m : {Mode::HostNoStalls, Mode::HostStalls, Mode::MainThreadStalls}) {
                m_plan.append({m, r + 1});
            }
        }
        m_stallTimer.setTimerType(Qt::PreciseTimer);
        m_stallTimer.setInterval(m_settings.stallEveryMs);
        connect(&m_stallTimer, &QTimer::timeout, this, [this] {
            // The point of the benchmark: the GUI thread does nothing else for stallMs.
            std::this_thread::sleep_for(std::chrono::milliseconds(m_settings.stallMs));
            ++m_current.stalls;
        });
    }

    void start() { QTimer::singleShot(0, this, &Driver::nextRound); }
    const QList<RoundRecord>& records() const { return m_records; }

private:
    void fail(const QString& why)
    {
        std::fprintf(stderr, "bench_guistall: %s: %s\n", qPrintable(modeLabel(m_current.mode)), qPrintable(why));
        QCoreApplication::exit(1);
    }

    void nextRound()
    {
        if (m_plan.isEmpty()) {
            QCoreApplication::quit();
            return;
        }
        const auto [mode, round] = m_plan.takeFirst();
        m_current = RoundRecord{};
        m_current.mode = mode;
        m_current.round = round;
        m_current.loadBefore = loadAverage();
        std::fprintf(stderr, "round %d %s ... ", round, qPrintable(modeLabel(mode)));
        m_dir = std::make_unique<QTemporaryDir>();
        oll::ServerOptions opts;
        opts.dataDir = m_dir->path();
        opts.bindAddress = QHostAddress::LocalHost;
        opts.port = 0;
        opts.scrypt.log2N = 10; // joins in milliseconds; hashing cost is not what is measured
        if (mode == Mode::MainThreadStalls) {
            m_server = std::make_unique<oll::LiveServer>(opts);
            QString error;
            if (!m_server->start(&error)) {
                fail(error);
                return;
            }
            launchClients(m_server->port());
            return;
        }
        m_host = std::make_unique<oll::ServerHost>();
        connect(m_host.get(), &oll::ServerHost::started, this, [this](bool ok, const QString& error) {
            if (!ok) {
                fail(error);
                return;
            }
            const quint16 port = m_host->snapshot()->port;
            if (port == 0) {
                fail(QStringLiteral("ServerHost reports no port after started(true)"));
                return;
            }
            launchClients(port);
        });
        connect(m_host.get(), &oll::ServerHost::stopped, this, [this] {
            // Not from inside the host's own signal: delete it once the emission is over.
            QTimer::singleShot(0, this, [this] {
                m_host.reset();
                m_dir.reset();
                nextRound();
            });
        });
        m_host->start(opts);
    }

    /// A fresh pair of clients per round, living on the client thread.
    void launchClients(quint16 port)
    {
        auto* rig = new ClientRig;
        rig->moveToThread(m_clientThread);
        connect(rig, &ClientRig::streaming, this, [this] {
            if (m_current.mode != Mode::HostNoStalls) {
                m_stallTimer.start();
            }
        });
        connect(rig, &ClientRig::finished, this, &Driver::roundFinished);
        connect(rig, &ClientRig::finished, rig, &QObject::deleteLater);
        QMetaObject::invokeMethod(rig, "run", Qt::QueuedConnection, Q_ARG(quint16, port),
                                  Q_ARG(int, m_settings.roundMs), Q_ARG(int, m_settings.rate));
    }

    void roundFinished(const QList<double>& ackMs, const QList<double>& relayMs, const QString& error)
    {
        m_stallTimer.stop();
        if (!error.isEmpty()) {
            fail(error);
            return;
        }
        m_current.ackMs = ackMs;
        m_current.relayMs = relayMs;
        m_current.loadAfter = loadAverage();
        std::fprintf(stderr, "%lld updates, %d stalls, ack p99 %.1f ms, relay p99 %.1f ms\n",
                     static_cast<long long>(ackMs.size()), m_current.stalls, oll::bench::percentile(ackMs, 99),
                     oll::bench::percentile(relayMs, 99));
        m_records.append(m_current);
        if (m_server) {
            m_server->shutdown();
            m_server.reset();
            m_dir.reset();
            QTimer::singleShot(0, this, &Driver::nextRound);
        } else if (!m_host->stop()) {
            fail(QStringLiteral("ServerHost::stop() refused"));
        }
    }

    Settings m_settings;
    QThread* m_clientThread;
    QList<QPair<Mode, int>> m_plan;
    QList<RoundRecord> m_records;
    RoundRecord m_current;
    QTimer m_stallTimer;
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<oll::ServerHost> m_host;
    std::unique_ptr<oll::LiveServer> m_server;
};

QString cell(double ms)
{
    return QString::number(ms, 'f', ms < 10 ? 2 : 1);
}

void printReport(const Settings& s, const QList<RoundRecord>& records)
{
    std::printf("\nGUI-thread stalls of %d ms every %d ms; %d updates/s for %d s per round, %d rounds per setup, "
                "interleaved; one updating + one display client on their own thread; loopback, fdatasync before "
                "every ack; %d cores.\n\n",
                s.stallMs, s.stallEveryMs, s.rate, s.roundMs / 1000, s.rounds, QThread::idealThreadCount());
    std::printf("| setup | updates | ack p50 | ack p90 | ack p99 | ack max | relay p50 | relay p90 | relay p99 | "
                "relay max |\n");
    std::printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    QHash<int, QPair<double, double>> p99; // mode -> (ack, relay)
    for (Mode m : {Mode::HostNoStalls, Mode::HostStalls, Mode::MainThreadStalls}) {
        QList<double> ack;
        QList<double> relay;
        for (const RoundRecord& r : records) {
            if (r.mode == m) {
                ack += r.ackMs;
                relay += r.relayMs;
            }
        }
        using oll::bench::percentile;
        p99.insert(static_cast<int>(m), {percentile(ack, 99), percentile(relay, 99)});
        std::printf("| %s | %lld | %s | %s | %s | %s | %s | %s | %s | %s |\n", qPrintable(modeLabel(m)),
                    static_cast<long long>(ack.size()), qPrintable(cell(percentile(ack, 50))),
                    qPrintable(cell(percentile(ack, 90))), qPrintable(cell(percentile(ack, 99))),
                    qPrintable(cell(percentile(ack, 100))), qPrintable(cell(percentile(relay, 50))),
                    qPrintable(cell(percentile(relay, 90))), qPrintable(cell(percentile(relay, 99))),
                    qPrintable(cell(percentile(relay, 100))));
    }
    const auto ratio
        = [](double num, double den) { return den > 0 ? QString::number(num / den, 'f', 2) : QStringLiteral("n/a"); };
    const auto a = p99.value(static_cast<int>(Mode::HostNoStalls));
    const auto b = p99.value(static_cast<int>(Mode::HostStalls));
    const auto c = p99.value(static_cast<int>(Mode::MainThreadStalls));
    std::printf("\np99 ratio (b)/(a): ack %s, relay %s   (contrast (c)/(a): ack %s, relay %s)\n",
                qPrintable(ratio(b.first, a.first)), qPrintable(ratio(b.second, a.second)),
                qPrintable(ratio(c.first, a.first)), qPrintable(ratio(c.second, a.second)));
    std::printf("All times in ms (send -> UPDATE_ACK at the sender; send -> UPDATE_RELAY at the display).\n\n");
    std::printf("| round | setup | stalls | ack p99 | relay p99 | loadavg before | loadavg after |\n");
    std::printf("|---:|---|---:|---:|---:|---|---|\n");
    for (const RoundRecord& r : records) {
        std::printf("| %d | %s | %d | %s | %s | %s | %s |\n", r.round, qPrintable(modeLabel(r.mode)), r.stalls,
                    qPrintable(cell(oll::bench::percentile(r.ackMs, 99))),
                    qPrintable(cell(oll::bench::percentile(r.relayMs, 99))), qPrintable(r.loadBefore),
                    qPrintable(r.loadAfter));
    }
}

int positiveOption(const QCommandLineParser& cli, const QCommandLineOption& opt, int min, int max)
{
    bool ok = false;
    const int v = cli.value(opt).toInt(&ok);
    if (!ok || v < min || v > max) {
        std::fprintf(stderr, "bench_guistall: --%s must be %d..%d\n", qPrintable(opt.names().constFirst()), min, max);
        std::exit(2);
    }
    return v;
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Ack and relay latency while the GUI thread is blocked again and again: server in "
                       "ServerHost's thread without and with stalls, and on the stalled thread itself."));
    cli.addHelpOption();
    const QCommandLineOption roundsOpt(QStringLiteral("rounds"), QStringLiteral("Rounds per setup (default 3)."),
                                       QStringLiteral("n"), QStringLiteral("3"));
    const QCommandLineOption secondsOpt(QStringLiteral("seconds"),
                                        QStringLiteral("Streaming time per round in seconds (default 8)."),
                                        QStringLiteral("s"), QStringLiteral("8"));
    const QCommandLineOption rateOpt(QStringLiteral("rate"), QStringLiteral("Updates per second (default 50)."),
                                     QStringLiteral("n"), QStringLiteral("50"));
    const QCommandLineOption stallOpt(QStringLiteral("stall-ms"),
                                      QStringLiteral("How long each stall blocks the GUI thread (default 500)."),
                                      QStringLiteral("ms"), QStringLiteral("500"));
    const QCommandLineOption everyOpt(QStringLiteral("stall-every-ms"),
                                      QStringLiteral("Interval between stall starts (default 1000)."),
                                      QStringLiteral("ms"), QStringLiteral("1000"));
    cli.addOptions({roundsOpt, secondsOpt, rateOpt, stallOpt, everyOpt});
    cli.process(app);
    Settings s;
    s.rounds = positiveOption(cli, roundsOpt, 1, 100);
    s.roundMs = positiveOption(cli, secondsOpt, 1, 3600) * 1000;
    s.rate = positiveOption(cli, rateOpt, 1, 1000);
    s.stallMs = positiveOption(cli, stallOpt, 1, 60'000);
    s.stallEveryMs = positiveOption(cli, everyOpt, s.stallMs + 1, 120'000);

    QThread clientThread;
    clientThread.setObjectName(QStringLiteral("bench clients"));
    clientThread.start();

    Driver driver(s, &clientThread);
    driver.start();
    const int rc = app.exec();
    clientThread.quit();
    clientThread.wait();
    if (rc != 0) {
        return rc;
    }
    printReport(s, driver.records());
    return 0;
}

#include "bench_guistall.moc"
