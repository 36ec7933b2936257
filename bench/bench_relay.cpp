// SPDX-License-Identifier: AGPL-3.0-or-later
// Ack and relay latency of durable updates (fdatasync before ack, group commit) through the real
// server over loopback WebSockets. One updating client sends at a fixed rate; one display client
// receives. Reports percentiles and the number of fdatasyncs per update.
// Usage: bench_relay [updates=2000] [rate-per-second=500] [displays=5]
#include "Percentiles.h"
#include "net/LiveServer.h"
#include "storage/JournalDevice.h"
#include "sync/MeetRegistry.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTimer>
#include <QWebSocket>

#include <atomic>
#include <cstdio>
#include <memory>

namespace {

std::atomic<int> g_syncs{0};

class CountingDevice final : public oll::JournalDevice
{
public:
    explicit CountingDevice(std::unique_ptr<oll::JournalDevice> real)
        : m_real(std::move(real))
    {
    }
    bool append(const QByteArray& b) override { return m_real->append(b); }
    bool sync() override
    {
        ++g_syncs;
        return m_real->sync();
    }
    bool truncate(qint64 s) override { return m_real->truncate(s); }
    qint64 size() const override { return m_real->size(); }
    QString errorString() const override { return m_real->errorString(); }

private:
    std::unique_ptr<oll::JournalDevice> m_real;
};

QString send(QWebSocket& ws, const QJsonObject& o)
{
    const QString text = QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
    ws.sendTextMessage(text);
    return text;
}

} // namespace

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const int total = argc > 1 ? QString::fromLocal8Bit(argv[1]).toInt() : 2000;
    const int rate = argc > 2 ? QString::fromLocal8Bit(argv[2]).toInt() : 500;
    const int displays = argc > 3 ? QString::fromLocal8Bit(argv[3]).toInt() : 5;

    QTemporaryDir dir;
    oll::ServerOptions opts;
    opts.dataDir = dir.path();
    opts.bindAddress = QHostAddress::LocalHost;
    opts.port = 0;
    opts.scrypt.log2N = 10;
    oll::ServerServices services;
    services.journalFactory = [](const QString& path, QString* err) -> std::unique_ptr<oll::JournalDevice> {
        auto real = oll::PosixJournalDevice::open(path, err);
        return real ? std::make_unique<CountingDevice>(std::move(real)) : nullptr;
    };
    oll::LiveServer server(opts, services);
    QString error;
    if (!server.start(&error)) {
        std::fprintf(stderr, "%s\n", qPrintable(error));
        return 1;
    }
    const QUrl url(QStringLiteral("ws://127.0.0.1:%1/live").arg(server.port()));

    QWebSocket desk;
    std::vector<std::unique_ptr<QWebSocket>> screens;
    QString token;
    QString meetId;
    QHash<qint64, qint64> sentAtNs; // localSeqNum -> send time
    QList<double> ackMs;
    QList<double> relayMs; // send -> arrival at the last display
    QHash<qint64, int> relayCount;
    QElapsedTimer clock;
    clock.start();
    int joined = 0;
    qint64 next = 1;
    QTimer pacer;

    auto finishIfDone = [&] {
        if (ackMs.size() == total && relayMs.size() == total) {
            app.quit();
        }
    };
    QObject::connect(&desk, &QWebSocket::textMessageReceived, [&](const QString& text) {
        const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
        const QString type = m.value(QStringLiteral("msgType")).toString();
        if (type == QStringLiteral("MEET_CREATED")) {
            token = m.value(QStringLiteral("sessionToken")).toString();
            meetId = m.value(QStringLiteral("meetId")).toString();
            for (int i = 0; i < displays; ++i) {
                screens.push_back(std::make_unique<QWebSocket>());
                QWebSocket* s = screens.back().get();
                auto join = [&, s] {
                    send(*s,
                         {{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                          {QStringLiteral("meetId"), meetId},
                          {QStringLiteral("password"), QStringLiteral("benchmark password")},
                          {QStringLiteral("locationName"), QStringLiteral("Desk")},
                          {QStringLiteral("clientId"), QStringLiteral("screen%1").arg(quintptr(s))},
                          {QStringLiteral("role"), QStringLiteral("display")}});
                };
                QObject::connect(s, &QWebSocket::connected, join);
                QObject::connect(s, &QWebSocket::textMessageReceived, [&, join](const QString& t) {
                    const QJsonObject r = QJsonDocument::fromJson(t.toUtf8()).object();
                    const QString rt = r.value(QStringLiteral("msgType")).toString();
                    if (rt == QStringLiteral("MEET_JOINED") && ++joined == displays) {
                        pacer.start(qMax(1, 1000 / rate));
                    } else if (rt == QStringLiteral("JOIN_REJECTED") && r.contains(QStringLiteral("retryAfterMs"))) {
                        // One address may have only a few logins checked at once: retry as a browser would.
                        QTimer::singleShot(r.value(QStringLiteral("retryAfterMs")).toInt(), join);
                    } else if (rt == QStringLiteral("UPDATE_RELAY")) {
                        const qint64 now = clock.nsecsElapsed();
                        for (const QJsonValue& v : r.value(QStringLiteral("updatesRelayed")).toArray()) {
                            const qint64 local = v.toObject().value(QStringLiteral("localSeqNum")).toInteger();
                            if (++relayCount[local] == displays) {
                                relayMs.append(static_cast<double>(now - sentAtNs.value(local)) / 1e6);
                            }
                        }
                        finishIfDone();
                    }
                });
                s->open(url);
            }
        } else if (type == QStringLiteral("UPDATE_ACK")) {
            const qint64 now = clock.nsecsElapsed();
            for (const QJsonValue& v : m.value(QStringLiteral("updateAcks")).toArray()) {
                const qint64 local = v.toObject().value(QStringLiteral("localSeqNum")).toInteger();
                ackMs.append(static_cast<double>(now - sentAtNs.value(local)) / 1e6);
            }
            finishIfDone();
        }
    });
    QObject::connect(&pacer, &QTimer::timeout, [&] {
        if (next > total) {
            pacer.stop();
            return;
        }
        // A realistic update: one attempt of one lifter, ~150 bytes.
        sentAtNs.insert(next, clock.nsecsElapsed());
        send(desk,
             {{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
              {QStringLiteral("sessionToken"), token},
              {QStringLiteral("updates"),
               QJsonArray{QJsonObject{{QStringLiteral("updateKey"),
                                       QStringLiteral("registration.entries[id=%1].squatKg[1]").arg(5000 + next % 300)},
                                      {QStringLiteral("updateValue"), 142.88159666981917},
                                      {QStringLiteral("localSeqNum"), next},
                                      {QStringLiteral("afterServerSeqNum"), 0}}}}});
        ++next;
    });
    QObject::connect(&desk, &QWebSocket::connected, [&] {
        send(desk,
             {{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
              {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
              {QStringLiteral("password"), QStringLiteral("benchmark password")},
              {QStringLiteral("endpoints"),
               QJsonArray{QJsonObject{{QStringLiteral("locationName"), QStringLiteral("Desk")},
                                      {QStringLiteral("priority"), 1}}}},
              {QStringLiteral("clientId"), QStringLiteral("desk")}});
    });
    desk.open(url);
    QTimer::singleShot(120'000, &app, [&] {
        std::fprintf(stderr, "timed out: %lld acks, %lld relays\n", static_cast<long long>(ackMs.size()),
                     static_cast<long long>(relayMs.size()));
        app.exit(1);
    });
    const int rc = app.exec();
    server.shutdown();
    if (rc != 0) {
        return rc;
    }
    std::printf("%d updates at %d/s, %d display clients, fdatasync before every ack (loopback)\n", total, rate,
                displays);
    std::printf("ack   (send -> UPDATE_ACK):                 %s\n", qPrintable(oll::bench::summary(ackMs)));
    std::printf("relay (send -> UPDATE_RELAY at all displays): %s\n", qPrintable(oll::bench::summary(relayMs)));
    std::printf("fdatasync calls: %d for %d updates (%.2f per update)\n", g_syncs.load(), total,
                static_cast<double>(g_syncs.load()) / total);
    return 0;
}
