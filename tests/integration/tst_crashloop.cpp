// SPDX-License-Identifier: AGPL-3.0-or-later
// Crash loop with the real openlifter-live-server binary: three updating SyncClients (Desk,
// Platform A, Weigh-in: three priorities) and a display keep working while the server is
// SIGKILLed at random moments and restarted on the same data directory and port. Afterwards:
// every ack any client saw is in the journal under that serverSeqNum with the same update; the
// journal is numbered 1..head without gaps or repeats and holds each (clientId, localSeqNum) once;
// every update a client made is either in the journal or was rejected by a conflict (then it is
// in conflicts.json.log and not in the journal); every client's canonical state equals what a
// fresh client pulls (full and compacted).
//
// OLL_CRASH_SEED=<n> replays a run's random choices (the seed is printed); OLL_CRASH_KILLS=<n>
// changes the number of kills (default 20). Timing is not replayed: the server and the clients
// run for real.
#include "ServerHarness.h"
#include "client/SyncClient.h"
#include "sync/ConflictRecord.h"
#include "sync/Meet.h"

#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRandomGenerator>
#include <QSet>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <memory>
#include <optional>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
const QString kDesk = QStringLiteral("Desk");
const QString kPlatform = QStringLiteral("Platform A");
const QString kWeighIn = QStringLiteral("Weigh-in");
const QString kBoard = QStringLiteral("Board");
constexpr int kTimeout = 20000;
constexpr int kConvergeTimeout = 120000; // generous: ASan builds and loaded CI machines

QList<Endpoint> endpoints()
{
    return {{kDesk, 10}, {kPlatform, 5}, {kWeighIn, 3}, {kBoard, 0}};
}

SyncClientOptions fastOptions()
{
    SyncClientOptions o;
    o.reconnectDelayMs = 10;
    o.reconnectMaxDelayMs = 200;
    o.storageRetryDelayMs = 50;
    return o;
}

qint64 envInt(const char* name, qint64 fallback)
{
    bool ok = false;
    const qint64 v = qEnvironmentVariable(name).toLongLong(&ok);
    return ok ? v : fallback;
}

// Entry ids: each updating location owns a block; the shared block is edited by all three.
constexpr int kDeskFirst = 1000;
constexpr int kPlatformFirst = 2000;
constexpr int kWeighInFirst = 3000;
constexpr int kSharedFirst = 9000;
constexpr int kOwnEntries = 20;
constexpr int kSharedEntries = 3;

QString entryKey(int id)
{
    return QStringLiteral("registration.entries[id=%1]").arg(id);
}

QJsonObject newEntry(int id, QRandomGenerator& rng)
{
    static const QStringList names{QStringLiteral("Vana McGonagall"), QStringLiteral("Sam Doe"),
                                   QStringLiteral("Ana Lima"),        QStringLiteral("Kenji Sato"),
                                   QStringLiteral("Ola Nordmann"),    QStringLiteral("Zoë Müller")};
    const auto zeros = [] { return QJsonArray{0, 0, 0, 0, 0}; };
    return QJsonObject{{QStringLiteral("id"), id},
                       {QStringLiteral("day"), 1},
                       {QStringLiteral("platform"), 1},
                       {QStringLiteral("flight"), QString(QChar(u'A' + rng.bounded(3)))},
                       {QStringLiteral("name"), names.at(rng.bounded(names.size()))},
                       {QStringLiteral("sex"), rng.bounded(2) ? QStringLiteral("M") : QStringLiteral("F")},
                       {QStringLiteral("equipment"), QStringLiteral("Sleeves")},
                       {QStringLiteral("divisions"), QJsonArray{QStringLiteral("Open")}},
                       {QStringLiteral("events"), QJsonArray{QStringLiteral("SBD")}},
                       {QStringLiteral("lot"), rng.bounded(1, 100)},
                       {QStringLiteral("bodyweightKg"), 0},
                       {QStringLiteral("squatRackInfo"), QString()},
                       {QStringLiteral("benchRackInfo"), QString()},
                       {QStringLiteral("squatKg"), zeros()},
                       {QStringLiteral("benchKg"), zeros()},
                       {QStringLiteral("deadliftKg"), zeros()},
                       {QStringLiteral("squatStatus"), zeros()},
                       {QStringLiteral("benchStatus"), zeros()},
                       {QStringLiteral("deadliftStatus"), zeros()}};
}

double kg(QRandomGenerator& rng, int lo, int hi)
{
    return lo + rng.bounded(hi - lo) + 2.5 * rng.bounded(4); // 2.5 kg steps
}

using Update = QPair<QString, QJsonValue>;

/// One made-up but realistic edit of the location's own lifters, or (sometimes) of the shared
/// lifters and the lifting state, where the three locations run into each other.
QList<Update> nextEdit(const QString& location, QRandomGenerator& rng)
{
    static const QStringList lifts{QStringLiteral("squat"), QStringLiteral("bench"), QStringLiteral("deadlift")};
    const bool shared = rng.bounded(100) < 25;
    const int id = shared ? kSharedFirst + rng.bounded(kSharedEntries)
                          : (location == kDesk           ? kDeskFirst
                                 : location == kPlatform ? kPlatformFirst
                                                         : kWeighInFirst)
            + rng.bounded(kOwnEntries);
    const QString e = entryKey(id);
    const QString lift = lifts.at(rng.bounded(lifts.size()));
    const int attempt = rng.bounded(3);
    if (location == kDesk) {
        switch (rng.bounded(shared ? 4 : 5)) {
        case 0:
            return {{QStringLiteral("lifting.flight"), QString(QChar(u'A' + rng.bounded(3)))},
                    {QStringLiteral("lifting.lift"), QString(QChar(u"SBD"[rng.bounded(3)]))}};
        case 1:
            return {{e + QStringLiteral(".%1Kg[%2]").arg(lift).arg(attempt), kg(rng, 60, 250)}};
        case 2:
            return {{e + QStringLiteral(".lot"), rng.bounded(1, 100)}};
        case 3:
            return {{e + QStringLiteral(".bodyweightKg"), kg(rng, 50, 140) + 0.1 * rng.bounded(10)}};
        default:
            return {{e + QStringLiteral(".name"), QStringLiteral("Lifter %1").arg(rng.bounded(1000))},
                    {e + QStringLiteral(".team"), QStringLiteral("Team %1").arg(rng.bounded(10))}};
        }
    }
    if (location == kPlatform) {
        switch (rng.bounded(5)) {
        case 0:
            return {{QStringLiteral("lifting.overrideEntryId"), id},
                    {QStringLiteral("lifting.overrideAttempt"), attempt}};
        case 4:
            return {{QStringLiteral("lifting.lift"), QString(QChar(u"SBD"[rng.bounded(3)]))}};
        case 1:
            return {{e + QStringLiteral(".%1Status[%2]").arg(lift).arg(attempt), rng.bounded(2) ? 1 : -1}};
        default:
            return {{e + QStringLiteral(".%1Kg[%2]").arg(lift).arg(attempt), kg(rng, 60, 250)}};
        }
    }
    // Weigh-in.
    switch (rng.bounded(shared ? 4 : 3)) {
    case 0:
        return {{e + QStringLiteral(".bodyweightKg"), kg(rng, 50, 140) + 0.1 * rng.bounded(10)},
                {e + QStringLiteral(".squatRackInfo"), QString::number(rng.bounded(4, 14))},
                {e + QStringLiteral(".benchRackInfo"),
                 QStringLiteral("%1/%2").arg(rng.bounded(3, 9)).arg(rng.bounded(2, 6))}};
    case 1:
        return {{e + QStringLiteral(".%1Kg[0]").arg(lift), kg(rng, 60, 250)}};
    case 2:
        return {{e + QStringLiteral(".bodyweightKg"), kg(rng, 50, 140) + 0.1 * rng.bounded(10)}};
    default: {
        // The whole entry of a shared lifter: overlaps every field edit of it (ancestor key).
        QJsonObject o = newEntry(id, rng);
        o.insert(QStringLiteral("bodyweightKg"), kg(rng, 50, 140));
        return {{e, o}};
    }
    }
}

/// A port below the kernel's ephemeral range, so that no outgoing client connection takes it
/// while the server is down and the restart can bind it again.
quint16 pickFixedPort()
{
    int low = 32768;
    QFile f(QStringLiteral("/proc/sys/net/ipv4/ip_local_port_range"));
    if (f.open(QIODevice::ReadOnly)) {
        const QList<QByteArray> parts = f.readAll().simplified().split(' ');
        if (!parts.isEmpty() && parts.first().toInt() > 12000) {
            low = parts.first().toInt();
        }
    }
    for (int attempt = 0; attempt < 200; ++attempt) {
        const auto port = static_cast<quint16>(QRandomGenerator::global()->bounded(10000, low));
        QTcpServer probe;
        if (probe.listen(QHostAddress::LocalHost, port)) {
            return port;
        }
    }
    return 0;
}

struct AckRecord
{
    qint64 localSeqNum = 0;
    qint64 serverSeqNum = 0;
    int generation = 0; // number of server restarts before the ack arrived
};

/// One client under test and everything it was told.
struct Actor
{
    QString name;
    QString location;
    Role role = Role::Update;
    std::unique_ptr<SyncClient> client;
    QTimer pacer;
    QRandomGenerator rng;
    QHash<qint64, Update> issued; // localSeqNum -> update
    QList<AckRecord> acks;
    QHash<qint64, RejectedUpdate> conflictRejected; // localSeqNum -> rejection
    int serverPulls = 0;
    int recoveryAcks = 0;
};

QString journalFile(const QString& dataDir, const QString& meetId)
{
    return Meet::journalPath(dataDir + QStringLiteral("/current-meets/") + meetId);
}

QString conflictsFile(const QString& dataDir, const QString& meetId)
{
    return Meet::conflictsPath(dataDir + QStringLiteral("/current-meets/") + meetId);
}

QList<QByteArray> lines(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    QList<QByteArray> out = f.readAll().split('\n');
    while (!out.isEmpty() && out.last().isEmpty()) {
        out.removeLast();
    }
    return out;
}

QString pairKey(const QString& clientId, qint64 localSeqNum)
{
    return clientId + QLatin1Char('#') + QString::number(localSeqNum);
}

QString compact(const QJsonValue& v)
{
    if (v.isObject()) {
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    }
    if (v.isArray()) {
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    }
    return QString::fromUtf8(QJsonDocument(QJsonArray{v}).toJson(QJsonDocument::Compact)).mid(1).chopped(1);
}

} // namespace

class TestCrashLoop final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup()
    {
        if (QTest::currentTestFailed() && m_data) {
            m_data->setAutoRemove(false);
            qWarning("kept the data directory for inspection: %s", qPrintable(m_data->path()));
        }
        m_data.reset();
    }

    /// The crash loop described at the top of this file.
    void survivesRandomKillsUnderLoad()
    {
        const quint32 seed = static_cast<quint32>(
            envInt("OLL_CRASH_SEED", static_cast<qint64>(QRandomGenerator::global()->generate())));
        const int kills = static_cast<int>(envInt("OLL_CRASH_KILLS", 20));
        qInfo("crash loop: seed %u (replay with OLL_CRASH_SEED=%u), %d kills", seed, seed, kills);
        QRandomGenerator rng(seed);
        QElapsedTimer runClock;
        runClock.start();

        m_data = std::make_unique<QTemporaryDir>();
        QVERIFY(m_data->isValid());
        const QString dataDir = m_data->path();
        const quint16 port = pickFixedPort();
        QVERIFY2(port != 0, "no free port below the ephemeral range");
        ServerProcess server(dataDir);
        QStringList args = server.process().arguments();
        const qsizetype portAt = args.indexOf(QStringLiteral("--port"));
        QVERIFY(portAt >= 0 && portAt + 1 < args.size());
        args[portAt + 1] = QString::number(port);
        server.process().setArguments(args);
        QVERIFY2(server.start(), qPrintable(server.stderrText()));
        QCOMPARE(server.port(), port);
        const QUrl url = server.url();

        // --- the clients ------------------------------------------------------------------
        QList<Actor*> actors;
        QStringList anomalies;
        int generation = 0;
        std::vector<std::unique_ptr<Actor>> owned;
        const auto addActor = [&](const QString& name, const QString& location, Role role) {
            owned.push_back(std::make_unique<Actor>());
            Actor* a = owned.back().get();
            a->name = name;
            a->location = location;
            a->role = role;
            a->rng.seed(rng.generate());
            a->client = std::make_unique<SyncClient>(url, name, 1, fastOptions());
            SyncClient* c = a->client.get();
            QObject::connect(c, &SyncClient::acked, c, [a, &anomalies, &generation](qint64 local, qint64 serverSeq) {
                if (!a->issued.contains(local)) {
                    anomalies.append(QStringLiteral("%1: ack for unknown localSeqNum %2").arg(a->name).arg(local));
                }
                a->acks.append({local, serverSeq, generation});
            });
            QObject::connect(c, &SyncClient::updateRejected, c, [a, &anomalies](const RejectedUpdate& r) {
                if (r.conflict && a->role == Role::Update) {
                    a->conflictRejected.insert(r.update.localSeqNum, r);
                } else {
                    anomalies.append(QStringLiteral("%1: localSeqNum %2 rejected: %3 %4")
                                         .arg(a->name)
                                         .arg(r.update.localSeqNum)
                                         .arg(r.code, r.reason));
                }
            });
            QObject::connect(c, &SyncClient::protocolError, c, [a, &anomalies](const QString& type, const QString& d) {
                anomalies.append(QStringLiteral("%1: protocol error %2: %3").arg(a->name, type, d));
            });
            QObject::connect(c, &SyncClient::storageError, c, [a, &anomalies](const QList<qint64>& seqs) {
                anomalies.append(QStringLiteral("%1: STORAGE_ERROR for %2 updates").arg(a->name).arg(seqs.size()));
            });
            QObject::connect(c, &SyncClient::statusChanged, c, [a, &anomalies](SyncClient::Status s) {
                if (s == SyncClient::Status::NeedsJoin) {
                    anomalies.append(QStringLiteral("%1: session lost (%2)").arg(a->name, a->client->lastError()));
                }
            });
            QObject::connect(c, &SyncClient::serverPullReceived, c, [a] { ++a->serverPulls; });
            QObject::connect(c, &SyncClient::recoveryAcked, c, [a] { ++a->recoveryAcks; });
            actors.append(a);
            return a;
        };
        Actor* desk = addActor(QStringLiteral("desk-1"), kDesk, Role::Update);
        Actor* platform = addActor(QStringLiteral("platform-a-1"), kPlatform, Role::Update);
        Actor* weighIn = addActor(QStringLiteral("weighin-1"), kWeighIn, Role::Update);
        Actor* board = addActor(QStringLiteral("board-1"), kBoard, Role::Display);
        const QList<Actor*> updaters{desk, platform, weighIn};

        desk->client->createMeet(kDesk, kPassword, endpoints());
        QTRY_VERIFY_WITH_TIMEOUT(desk->client->isOnline(), kTimeout);
        const QString meetId = desk->client->meetId();
        for (Actor* a : {platform, weighIn, board}) { // one at a time: logins per address are limited
            a->client->joinMeet(meetId, kPassword, a->location, a->role);
            QTRY_VERIFY_WITH_TIMEOUT(a->client->isOnline(), kTimeout);
        }

        const auto issue = [](Actor* a, const QList<Update>& updates) {
            const QList<qint64> seqs = a->client->updateMany(updates);
            for (qsizetype i = 0; i < seqs.size(); ++i) {
                if (seqs[i] > 0) {
                    a->issued.insert(seqs[i], updates[i]);
                }
            }
        };
        // The desk registers every lifter and sets up the lifting state.
        QList<Update> setup{{QStringLiteral("meet.name"), QStringLiteral("Crash Loop Open")},
                            {QStringLiteral("meet.inKg"), true},
                            {QStringLiteral("lifting"),
                             QJsonObject{{QStringLiteral("day"), 1},
                                         {QStringLiteral("platform"), 1},
                                         {QStringLiteral("flight"), QStringLiteral("A")},
                                         {QStringLiteral("lift"), QStringLiteral("S")},
                                         {QStringLiteral("overrideAttempt"), QJsonValue()},
                                         {QStringLiteral("overrideEntryId"), QJsonValue()}}}};
        for (int first : {kDeskFirst, kPlatformFirst, kWeighInFirst}) {
            for (int i = 0; i < kOwnEntries; ++i) {
                setup.append({entryKey(first + i), newEntry(first + i, desk->rng)});
            }
        }
        for (int i = 0; i < kSharedEntries; ++i) {
            setup.append({entryKey(kSharedFirst + i), newEntry(kSharedFirst + i, desk->rng)});
        }
        issue(desk, setup);
        QTRY_VERIFY_WITH_TIMEOUT(std::all_of(actors.cbegin(), actors.cend(),
                                             [&](const Actor* a) {
                                                 return a->client->lastServerSeq() == setup.size()
                                                     && a->client->pendingCount() == 0;
                                             }),
                                 kTimeout);

        // --- load and kills -----------------------------------------------------------------
        const QHash<const Actor*, int> intervalMs{{desk, 30}, {platform, 20}, {weighIn, 40}};
        for (Actor* a : updaters) {
            a->pacer.setInterval(intervalMs.value(a));
            QObject::connect(&a->pacer, &QTimer::timeout, a->client.get(),
                             [a, &issue] { issue(a, nextEdit(a->location, a->rng)); });
            a->pacer.start();
        }
        const auto totalAcks = [&] {
            qsizetype n = 0;
            for (const Actor* a : updaters) {
                n += a->acks.size();
            }
            return n;
        };
        const QString journalPath = journalFile(dataDir, meetId);
        const auto journalBytes = [&] {
            QFile f(journalPath);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        };
        QList<qint64> headAtKill{0}; // [g]: the journal's length when generation g-1 was killed
        int earlyKills = 0;
        int burstKills = 0;
        int slowRestarts = 0;
        for (int k = 1; k <= kills; ++k) {
            if (rng.bounded(100) < 30) {
                // Right after the start: clients are reconnecting, pulling, resending.
                ++earlyKills;
                QTest::qWait(static_cast<int>(rng.bounded(150)));
            } else {
                // After some progress (which also shows the restarted server serves again), at a
                // random moment of steady load.
                const qsizetype target = totalAcks() + 1 + rng.bounded(300);
                QTRY_VERIFY2_WITH_TIMEOUT(totalAcks() >= target,
                                          qPrintable(QStringLiteral("no progress after restart %1").arg(k - 1)),
                                          kConvergeTimeout);
                QTest::qWait(static_cast<int>(rng.bounded(1000)));
            }
            if (rng.bounded(100) < 40) {
                // A burst (a desk re-entering a flight) killed while the server writes it: some of
                // it reaches the journal without its ack reaching the client.
                ++burstKills;
                Actor* a = updaters.at(rng.bounded(updaters.size()));
                QList<Update> burst;
                const int n = static_cast<int>(rng.bounded(50, 800));
                while (burst.size() < n) {
                    burst.append(nextEdit(a->location, a->rng));
                }
                issue(a, burst);
                QTest::qWait(static_cast<int>(rng.bounded(1, 30)));
            }
            QVERIFY(server.kill());
            // What the next start loads: the complete lines (a torn last line is cut off).
            headAtKill.append(journalBytes().count('\n'));
            if (rng.bounded(2)) {
                // A while down: the clients keep editing offline, on top of what they last saw.
                ++slowRestarts;
                QTest::qWait(static_cast<int>(rng.bounded(600)));
            }
            QVERIFY2(server.start(),
                     qPrintable(QStringLiteral("restart %1 failed: %2").arg(k).arg(server.stderrText())));
            ++generation;
            QCOMPARE(server.port(), port);
        }
        for (Actor* a : updaters) {
            a->pacer.stop();
        }
        const qint64 loadMs = runClock.elapsed();

        // --- convergence ---------------------------------------------------------------------
        const auto head = [&] { return static_cast<qint64>(lines(journalPath).size()); };
        const auto converged = [&] {
            const qint64 h = head();
            return std::all_of(actors.cbegin(), actors.cend(), [h](const Actor* a) {
                return a->client->pendingCount() == 0 && a->client->isOnline() && !a->client->outOfSync()
                    && a->client->lastServerSeq() == h;
            });
        };
        const auto describe = [&]() -> QString {
            QStringList out{QStringLiteral("journal head %1").arg(head())};
            for (const Actor* a : actors) {
                out.append(QStringLiteral("%1: status %2 pending %3 lastServerSeq %4 knownHead %5 outOfSync %6")
                               .arg(a->name)
                               .arg(static_cast<int>(a->client->status()))
                               .arg(a->client->pendingCount())
                               .arg(a->client->lastServerSeq())
                               .arg(a->client->knownHead())
                               .arg(a->client->outOfSync()));
            }
            return out.join(QStringLiteral("; ")) + QStringLiteral("; anomalies: ")
                + anomalies.join(QStringLiteral(" | "));
        };
        QTRY_VERIFY2_WITH_TIMEOUT(converged(), qPrintable(describe()), kConvergeTimeout);
        QVERIFY2(anomalies.isEmpty(), qPrintable(anomalies.join(u'\n')));

        // --- the journal: 1..head, each update once ------------------------------------------
        const QList<QByteArray> raw = lines(journalPath);
        const qint64 finalHead = raw.size();
        QList<QJsonObject> log; // index = serverSeqNum - 1
        QHash<QString, qint64> seqByPair; // clientId#localSeqNum -> serverSeqNum
        for (qsizetype i = 0; i < raw.size(); ++i) {
            QJsonParseError err{};
            const QJsonDocument doc = QJsonDocument::fromJson(raw[i], &err);
            QVERIFY2(err.error == QJsonParseError::NoError && doc.isObject(),
                     qPrintable(QStringLiteral("journal line %1: %2").arg(i + 1).arg(err.errorString())));
            const QJsonObject line = doc.object();
            QCOMPARE(line.value(QStringLiteral("serverSeqNum")).toInteger(), i + 1);
            const QString pair = pairKey(line.value(QStringLiteral("clientId")).toString(),
                                         line.value(QStringLiteral("localSeqNum")).toInteger());
            QVERIFY2(!seqByPair.contains(pair),
                     qPrintable(QStringLiteral("%1 is in the journal twice: seqs %2 and %3")
                                    .arg(pair)
                                    .arg(seqByPair.value(pair))
                                    .arg(i + 1)));
            seqByPair.insert(pair, i + 1);
            log.append(line);
        }

        // --- every ack is in the journal as acked --------------------------------------------
        qsizetype ackCount = 0;
        for (const Actor* a : updaters) {
            for (const AckRecord& ack : a->acks) {
                ++ackCount;
                QVERIFY2(ack.serverSeqNum >= 1 && ack.serverSeqNum <= finalHead,
                         qPrintable(QStringLiteral("%1: localSeqNum %2 acked as %3, head is %4")
                                        .arg(a->name)
                                        .arg(ack.localSeqNum)
                                        .arg(ack.serverSeqNum)
                                        .arg(finalHead)));
                const QJsonObject& line = log.at(ack.serverSeqNum - 1);
                const Update u = a->issued.value(ack.localSeqNum);
                const QString where = QStringLiteral("%1: localSeqNum %2 acked as %3; journal has %4")
                                          .arg(a->name)
                                          .arg(ack.localSeqNum)
                                          .arg(ack.serverSeqNum)
                                          .arg(QString::fromUtf8(raw.at(ack.serverSeqNum - 1)));
                QVERIFY2(line.value(QStringLiteral("clientId")).toString() == a->name, qPrintable(where));
                QVERIFY2(line.value(QStringLiteral("localSeqNum")).toInteger() == ack.localSeqNum, qPrintable(where));
                QVERIFY2(line.value(QStringLiteral("location")).toString() == a->location, qPrintable(where));
                QVERIFY2(line.value(QStringLiteral("key")).toString() == u.first, qPrintable(where));
                QVERIFY2(line.value(QStringLiteral("value")) == u.second, qPrintable(where));
            }
        }

        // How the acks came: a resend after a lost ack is acked again (same number); an update
        // whose ack was lost and that came back in a pull answer first has no ack at all.
        qsizetype repeatedAcks = 0;
        qsizetype neverAcked = 0;
        qsizetype ackedAfterCrash = 0; // written before a kill, acked only after the restart
        for (const Actor* a : updaters) {
            QSet<qint64> ackedLocal;
            for (const AckRecord& ack : a->acks) {
                repeatedAcks += ackedLocal.contains(ack.localSeqNum) ? 1 : 0;
                ackedAfterCrash += ack.generation > 0 && ack.serverSeqNum <= headAtKill.at(ack.generation) ? 1 : 0;
                ackedLocal.insert(ack.localSeqNum);
            }
            for (const QJsonObject& line : log) {
                if (line.value(QStringLiteral("clientId")).toString() == a->name
                    && !ackedLocal.contains(line.value(QStringLiteral("localSeqNum")).toInteger())) {
                    ++neverAcked;
                }
            }
        }

        // --- every update made is either in the journal or lost a conflict -------------------
        QHash<QString, ConflictRecord> rejectedRecords;
        QHash<QString, ConflictRecord> overruledRecords;
        const QList<QByteArray> conflictLines = lines(conflictsFile(dataDir, meetId));
        for (const QByteArray& l : conflictLines) {
            const std::optional<ConflictRecord> r = ConflictRecord::fromLine(l);
            QVERIFY2(r, l.constData());
            (r->outcome == ConflictRecord::Outcome::Rejected ? rejectedRecords : overruledRecords)
                .insert(pairKey(r->clientId, r->localSeqNum), *r);
        }
        qsizetype issuedCount = 0;
        qsizetype rejectedCount = 0;
        for (const Actor* a : updaters) {
            for (auto it = a->issued.cbegin(); it != a->issued.cend(); ++it) {
                ++issuedCount;
                const QString pair = pairKey(a->name, it.key());
                const bool inJournal = seqByPair.contains(pair);
                const bool rejected = a->conflictRejected.contains(it.key());
                QVERIFY2(inJournal != rejected,
                         qPrintable(QStringLiteral("%1 (%2 = %3): in journal %4, rejected by a conflict %5")
                                        .arg(pair, it->first, compact(it->second))
                                        .arg(inJournal)
                                        .arg(rejected)));
                if (inJournal) {
                    const QJsonObject& line = log.at(seqByPair.value(pair) - 1);
                    QVERIFY2(line.value(QStringLiteral("key")).toString() == it->first
                                 && line.value(QStringLiteral("value")) == it->second,
                             qPrintable(QStringLiteral("%1 is in the journal as %2")
                                            .arg(pair, QString::fromUtf8(raw.at(seqByPair.value(pair) - 1)))));
                } else {
                    ++rejectedCount;
                    const auto rec = rejectedRecords.constFind(pair);
                    QVERIFY2(rec != rejectedRecords.cend(),
                             qPrintable(QStringLiteral("%1 was rejected by a conflict but conflicts.json.log has no "
                                                       "rejected record of it")
                                            .arg(pair)));
                    QCOMPARE(rec->key, it->first);
                    QCOMPARE(rec->value, it->second);
                    QCOMPARE(rec->locationName, a->location);
                }
            }
        }
        // Records point the right way: a rejected update is not in the journal, an overruling
        // one is, under the number the record names.
        for (auto it = rejectedRecords.cbegin(); it != rejectedRecords.cend(); ++it) {
            QVERIFY2(!seqByPair.contains(it.key()),
                     qPrintable(QStringLiteral("%1 is recorded as rejected but is in the journal").arg(it.key())));
        }
        for (auto it = overruledRecords.cbegin(); it != overruledRecords.cend(); ++it) {
            QVERIFY2(seqByPair.value(it.key()) == it->serverSeqNum,
                     qPrintable(QStringLiteral("%1 is recorded as overruling under seq %2, journal: %3")
                                    .arg(it.key())
                                    .arg(it->serverSeqNum)
                                    .arg(seqByPair.value(it.key()))));
        }

        // --- every client holds what a fresh client pulls ------------------------------------
        SyncClient full(url, QStringLiteral("verifier-full"), 1, fastOptions());
        full.engine().setAcceptCompactPulls(false);
        full.joinMeet(meetId, kPassword, kBoard, Role::Display);
        SyncClient compacted(url, QStringLiteral("verifier-compact"), 1, fastOptions());
        QTRY_VERIFY_WITH_TIMEOUT(full.isOnline() && !full.outOfSync() && full.lastServerSeq() == finalHead,
                                 kConvergeTimeout);
        compacted.joinMeet(meetId, kPassword, kBoard, Role::Display);
        QTRY_VERIFY_WITH_TIMEOUT(
            compacted.isOnline() && !compacted.outOfSync() && compacted.lastServerSeq() == finalHead, kConvergeTimeout);
        QCOMPARE(full.canonicalLog().size(), finalHead);
        const QJsonObject expected = full.canonicalState().document();
        QCOMPARE(compacted.canonicalState().document(), expected);
        for (const Actor* a : actors) {
            QVERIFY2(a->client->canonicalState().document() == expected, qPrintable(a->name));
            QVERIFY2(a->client->localState().document() == expected, qPrintable(a->name));
        }
        // The shared lifters exist and were edited by more than one location.
        const QJsonArray entries
            = expected.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray();
        QSet<qint64> sharedIds;
        for (const QJsonValue& e : entries) {
            const qint64 id = e.toObject().value(QStringLiteral("id")).toInteger();
            if (id >= kSharedFirst && id < kSharedFirst + kSharedEntries) {
                sharedIds.insert(id);
            }
        }
        QCOMPARE(sharedIds.size(), kSharedEntries);
        QSet<QString> sharedEditors;
        for (const QJsonObject& line : log) {
            const QString key = line.value(QStringLiteral("key")).toString();
            for (int id = kSharedFirst; id < kSharedFirst + kSharedEntries; ++id) {
                const QString e = entryKey(id);
                if (key == e || key.startsWith(e + QLatin1Char('.'))) {
                    sharedEditors.insert(line.value(QStringLiteral("location")).toString());
                }
            }
        }
        QVERIFY2(sharedEditors.size() > 1,
                 qPrintable(QStringList(sharedEditors.cbegin(), sharedEditors.cend()).join(u',')));

        int serverPulls = 0;
        int recoveryAcks = 0;
        for (const Actor* a : actors) {
            serverPulls += a->serverPulls;
            recoveryAcks += a->recoveryAcks;
        }
        qInfo("crash loop: %d kills (%d right after a start, %d during a burst, %d followed by downtime), %lld updates "
              "made, %lld acks seen (%lld repeated, %lld for entries written before a kill, %lld journal entries never "
              "acked), head %lld, "
              "%lld rejected by conflicts, %lld overruling, %d SERVER_PULLs, %d RECOVERY_ACKs, "
              "load phase %lld ms, total %lld ms",
              kills, earlyKills, burstKills, slowRestarts, static_cast<long long>(issuedCount),
              static_cast<long long>(ackCount), static_cast<long long>(repeatedAcks),
              static_cast<long long>(ackedAfterCrash), static_cast<long long>(neverAcked),
              static_cast<long long>(finalHead), static_cast<long long>(rejectedCount),
              static_cast<long long>(overruledRecords.size()), serverPulls, recoveryAcks,
              static_cast<long long>(loadMs), static_cast<long long>(runClock.elapsed()));
        QCOMPARE(rejectedRecords.size(), rejectedCount);
    }

private:
    std::unique_ptr<QTemporaryDir> m_data;
};

QTEST_GUILESS_MAIN(TestCrashLoop)
#include "tst_crashloop.moc"
