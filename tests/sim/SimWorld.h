// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "client/SyncEngine.h"
#include "protocol/Messages.h"
#include "storage/DiagLog.h"
#include "sync/ConflictRecord.h"
#include "sync/MeetRegistry.h"
#include "sync/SyncService.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>
#include <QTemporaryDir>

#include <deque>
#include <map>
#include <memory>
#include <random>
#include <vector>

namespace oll::sim {

/// What one simulated run does and how big it is. Every choice below is drawn from `seed`.
struct SimConfig
{
    quint64 seed = 1;
    int clients = 4;
    int steps = 400; // random actions before the network heals
    int maxHealSteps = 200'000; // message deliveries allowed for convergence afterwards
    bool faults = true; // crashes, data loss, dropped connections
};

/// The result of one run: empty `failure` means every invariant held.
struct SimOutcome
{
    QString failure;
    int updates = 0;
    int acked = 0;
    int conflicts = 0;
    int crashes = 0;
    int partialLosses = 0;
    int totalLosses = 0;
    int damagedJournals = 0;
    int tornTails = 0;
    int drops = 0;
    qint64 head = 0;
};

class SimServer;

/// One client's connection: two FIFO queues (TCP keeps order), delivered one message at a time
/// when the scheduler says so. Closing drops whatever is still in flight in both directions.
struct SimLink
{
    int client = 0;
    quint64 peerId = 0;
    std::deque<QByteArray> toServer;
    std::deque<QByteArray> toClient;
};

/// A deterministic world: one real MeetRegistry + Meet + SyncService (inline file I/O, real files
/// in a temp dir), several real SyncEngines, and a scheduler that interleaves message deliveries,
/// edits, disconnections, server crashes, torn journal tails and data loss from one seed. After
/// the random phase the network heals and the world must converge; then the invariants of the
/// sync guarantees are checked (see check()).
class SimWorld
{
public:
    explicit SimWorld(SimConfig config);
    ~SimWorld();
    SimWorld(const SimWorld&) = delete;
    SimWorld& operator=(const SimWorld&) = delete;

    SimOutcome run();

private:
    struct Client
    {
        std::unique_ptr<SyncEngine> engine;
        QString location;
        qint64 priority = 0;
        std::unique_ptr<SimLink> link; // null while offline
        bool wantsOnline = true;
    };
    struct Made
    {
        QString key;
        QJsonValue value;
        bool acked = false;
        qint64 ackedSeq = 0;
        bool rejectedByConflict = false;
        int totalLossesBefore = 0; // total data losses before the rejection
    };

    bool startServer(QString* error);
    void crashServer();
    void openLink(int client);
    void closeLink(int client);
    void serverReceive(SimLink& link, const QByteArray& text);
    void pumpLogins();
    bool deliverOne(bool anyLink);
    void makeUpdate(int client);
    void faultServer();
    QString check();
    bool quiescent() const;

    int pick(int n) { return static_cast<int>(m_rng() % static_cast<quint64>(n)); }
    bool chance(int percent) { return pick(100) < percent; }
    /// OLL_SIM_TRACE=1 prints every action and message: for replaying a failing seed.
    void trace(const QString& line) const;
    bool m_trace = false;

    SimConfig m_config;
    std::mt19937_64 m_rng;
    QTemporaryDir m_dir;
    ManualClock m_clock;
    SeededRandomSource m_random;
    Limits m_limits;
    std::unique_ptr<DiagLog> m_diag;
    std::unique_ptr<MeetRegistry> m_registry;
    SyncService m_service;
    QString m_meetId;
    QList<Endpoint> m_endpoints;
    std::vector<Client> m_clients;
    QHash<quint64, SimLink*> m_links; // peerId -> link, for the server side
    std::map<quint64, std::unique_ptr<class SimPeer>> m_peers; // ordered: a deterministic fan-out
    class SimPeer* peer(quint64 id) const;
    int clientCount() const { return static_cast<int>(m_clients.size()); }
    quint64 m_nextPeerId = 1;
    QHash<QString, QHash<qint64, Made>> m_made; // clientId -> localSeqNum -> what it was
    QList<ConflictRecord> m_allConflicts; // every record made, across crashes and data loss
    SimOutcome m_outcome;
    QString m_violation; // set by callbacks when something is wrong at once
};

} // namespace oll::sim
