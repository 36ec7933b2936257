// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SimWorld.h"

#include "auth/SessionStore.h"
#include "protocol/KeyPath.h"
#include "storage/Journal.h"
#include "sync/Meet.h"
#include "sync/MeetState.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>

#include <algorithm>
#include <cstdio>

namespace oll::sim {
namespace {

const QString kPassword = QStringLiteral("correct horse battery");

/// Appends to a real file but never fsyncs: in the simulation a crash is a process crash (the
/// page cache survives); disk loss is modelled explicitly by cutting or deleting files.
class BufferedFileDevice final : public JournalDevice
{
public:
    static std::unique_ptr<JournalDevice> open(const QString& path, QString* error)
    {
        auto d = std::unique_ptr<BufferedFileDevice>(new BufferedFileDevice(path));
        if (!d->m_file.open(QIODevice::ReadWrite | QIODevice::Append)) {
            if (error) {
                *error = d->m_file.errorString();
            }
            return nullptr;
        }
        return d;
    }
    bool append(const QByteArray& bytes) override { return m_file.write(bytes) == bytes.size() && m_file.flush(); }
    bool sync() override { return m_file.flush(); }
    bool truncate(qint64 size) override { return m_file.resize(size); }
    qint64 size() const override { return m_file.size(); }
    QString errorString() const override { return m_file.errorString(); }

private:
    explicit BufferedFileDevice(const QString& path)
        : m_file(path)
    {
    }
    QFile m_file;
};

QString text(const QJsonValue& v)
{
    return QString::fromUtf8(compactJson(v));
}

} // namespace

/// The server side of one simulated connection.
class SimPeer final : public SyncPeer
{
public:
    SimPeer(quint64 id, SimLink* link)
        : m_id(id)
        , m_link(link)
    {
    }
    quint64 peerId() const override { return m_id; }
    void send(const QByteArray& json) override { m_link->toClient.push_back(json); }
    qint64 backlog() const override { return 0; }
    bool isClosing() const override { return false; }

    QString meetId;
    Session session;
    bool bound = false;

private:
    quint64 m_id;
    SimLink* m_link;
};

SimPeer* SimWorld::peer(quint64 id) const
{
    const auto it = m_peers.find(id);
    return it == m_peers.end() ? nullptr : it->second.get();
}

void SimWorld::trace(const QString& line) const
{
    if (m_trace) {
        std::fprintf(stderr, "%s\n", qPrintable(line));
    }
}

SimWorld::SimWorld(SimConfig config)
    : m_trace(qEnvironmentVariableIntValue("OLL_SIM_TRACE") != 0)
    , m_config(config)
    , m_rng(config.seed)
    // tmpfs where there is one: the simulation writes many small files and syncs them.
    , m_dir(QDir(QStringLiteral("/dev/shm")).exists() ? QStringLiteral("/dev/shm/oll-sim-XXXXXX") : QString())
    , m_random(config.seed ^ 0x9e3779b97f4a7c15ULL)
    , m_service(m_limits)
{
    m_endpoints = {{QStringLiteral("Platform A"), 10},
                   {QStringLiteral("Platform B"), 10},
                   {QStringLiteral("Weigh-in"), 5},
                   {QStringLiteral("Desk"), 1}};
    m_diag = std::make_unique<DiagLog>(m_dir.path() + QStringLiteral("/diag.log"), m_clock);
}

SimWorld::~SimWorld()
{
    m_peers.clear();
    m_registry.reset();
}

bool SimWorld::startServer(QString* error)
{
    m_registry = std::make_unique<MeetRegistry>(m_dir.path(), m_clock, m_random,
                                                JournalDeviceFactory(&BufferedFileDevice::open), m_limits, *m_diag);
    m_registry->setInlineIo();
    QObject::connect(m_registry.get(), &MeetRegistry::meetAdded, m_registry.get(), [this](Meet* meet) {
        auto byId = [this](quint64 id) -> SyncPeer* { return peer(id); };
        QObject::connect(meet, &Meet::committed, meet,
                         [this, meet, byId](const QList<JournalEntry>& entries,
                                            const QHash<quint64, QList<Meet::Ack>>& acks,
                                            const QHash<quint64, QList<Meet::Rejection>>& rejections) {
                             QList<SyncPeer*> bound;
                             for (const auto& [id, p] : m_peers) {
                                 if (p->bound && p->meetId == meet->meetId()) {
                                     bound.append(p.get());
                                 }
                             }
                             m_service.fanOut(meet, entries, acks, rejections, bound, byId);
                         });
        QObject::connect(meet, &Meet::conflictRecorded, meet,
                         [this](const ConflictRecord& r) { m_allConflicts.append(r); });
        QObject::connect(meet, &Meet::commitFailed, meet,
                         [this, byId](const QHash<quint64, QList<qint64>>& unacked, const QString&) {
                             m_service.commitFailed(unacked, byId);
                         });
    });
    return m_registry->load(error);
}

void SimWorld::crashServer()
{
    // Everything in flight dies with the process and its sockets.
    for (int i = 0; i < clientCount(); ++i) {
        if (m_clients[i].link) {
            closeLink(i);
        }
    }
    m_peers.clear();
    m_links.clear();
    m_registry.reset();
    ++m_outcome.crashes;
}

void SimWorld::openLink(int i)
{
    Client& c = m_clients[i];
    c.link = std::make_unique<SimLink>();
    c.link->client = i;
    c.link->peerId = m_nextPeerId++;
    m_links.insert(c.link->peerId, c.link.get());
    m_peers[c.link->peerId] = std::make_unique<SimPeer>(c.link->peerId, c.link.get());
    c.engine->transportOpened();
}

void SimWorld::closeLink(int i)
{
    Client& c = m_clients[i];
    const quint64 id = c.link->peerId;
    m_links.remove(id);
    m_peers.erase(id);
    c.link.reset();
    c.engine->transportClosed();
}

void SimWorld::serverReceive(SimLink& link, const QByteArray& utf8)
{
    SimPeer* peer = this->peer(link.peerId);
    if (!peer || !m_registry) {
        return;
    }
    const auto parsed = MessageParser(m_limits).parse(utf8);
    if (const auto* err = std::get_if<ParseError>(&parsed)) {
        m_violation = QStringLiteral("client %1 sent an invalid message (%2): %3")
                          .arg(link.client)
                          .arg(err->errMsg, QString::fromUtf8(utf8.left(300)));
        return;
    }
    const Request& request = std::get<Request>(parsed);
    auto issue = [&](Meet* meet, const QString& clientId, const QString& location, Role role, const QString& type) {
        const SessionStore::Issued issued = meet->sessions().issue(clientId, location, role);
        m_registry->indexSession(issued.session.tokenHash, meet->meetId());
        // Like LiveServer: the token is handed out once sessions.json holds it (inline I/O here).
        bool stored = false;
        meet->persistSessions([&stored](bool ok, const QString&) { stored = ok; });
        if (!stored) {
            m_violation = QStringLiteral("sessions.json could not be written");
            return;
        }
        peer->meetId = meet->meetId();
        peer->session = issued.session;
        peer->bound = true;
        peer->pull.reset();
        peer->send(SyncService::loggedIn(type, *meet, issued.token, issued.session));
    };
    // Authenticates a token like LiveServer does (passwords are not the subject here).
    auto authenticate = [&](const QString& token) -> Meet* {
        const QByteArray hash = SessionStore::hashToken(token);
        Meet* meet = m_registry->meetForToken(hash);
        Session session;
        if (!meet || meet->sessions().check(hash, &session) != SessionStore::Status::Valid) {
            peer->bound = false;
            peer->pull.reset();
            peer->send(Reply::invalidSession(token, QStringLiteral("unknown session; join the meet again")));
            return nullptr;
        }
        if (peer->meetId != meet->meetId()) {
            peer->pull.reset();
        }
        peer->meetId = meet->meetId();
        peer->session = session;
        peer->bound = true;
        return meet;
    };

    if (const auto* join = std::get_if<JoinMeetRequest>(&request)) {
        Meet* meet = m_registry->find(normalizeMeetId(join->meetId).value_or(QString()));
        if (!meet) {
            peer->send(Reply::joinRejected(QStringLiteral("invalid meet ID or password")));
            return;
        }
        issue(meet, join->clientId, join->locationName, join->role, MsgType::MeetJoined);
    } else if (const auto* restore = std::get_if<RestoreMeetRequest>(&request)) {
        const QString id = normalizeMeetId(restore->meetId).value_or(QString());
        if (m_registry->isReservedOrPresent(id) || !m_registry->reserveMeetId(id)) {
            peer->send(Reply::restoreRejected(QStringLiteral("meet exists on this server; join it instead")));
            return;
        }
        MeetConfig config;
        config.meetId = id;
        config.endpoints = restore->endpoints;
        config.password.params.log2N = 10;
        config.password.salt = m_random.bytes(16);
        config.password.hash = m_random.bytes(32);
        config.createdMs = m_clock.nowMs();
        Meet* created = nullptr;
        m_registry->createMeet(
            config, [&created](Meet* meet, const QString&) { created = meet; }, restore->epoch);
        if (!created) {
            m_violation = QStringLiteral("restoring the meet failed");
            return;
        }
        issue(created, restore->clientId, restore->thisLocationName, Role::Update, MsgType::MeetRestored);
    } else if (const auto* update = std::get_if<UpdateInitRequest>(&request)) {
        if (Meet* meet = authenticate(update->sessionToken)) {
            m_service.submit(peer, meet, peer->session, update->updates);
        }
    } else if (const auto* pull = std::get_if<ClientPullRequest>(&request)) {
        if (Meet* meet = authenticate(pull->sessionToken)) {
            m_service.pull(peer, meet, *pull);
        }
    } else if (const auto* push = std::get_if<RecoveryPushRequest>(&request)) {
        if (Meet* meet = authenticate(push->sessionToken)) {
            trace(QStringLiteral("  push from c%1: epoch %2 (held to %3), %4 entries %5..%6, head %7")
                      .arg(link.client)
                      .arg(push->epoch)
                      .arg(meet->epochs().lastSeqOf(push->epoch, meet->durableSeq()).value_or(-1))
                      .arg(push->entries.size())
                      .arg(push->entries.isEmpty() ? 0 : push->entries.first().serverSeqNum)
                      .arg(push->entries.isEmpty() ? 0 : push->entries.last().serverSeqNum)
                      .arg(meet->assignedSeq()));
            const quint64 id = peer->peerId();
            m_service.recoveryPush(peer, meet, peer->session, *push,
                                   [this, id]() -> SyncPeer* { return this->peer(id); });
        }
    } else {
        m_violation = QStringLiteral("client %1 sent an unexpected message type").arg(link.client);
    }
}

void SimWorld::pumpLogins()
{
    for (Client& c : m_clients) {
        if (!c.link || !m_registry) {
            continue;
        }
        const SyncEngine::Link state = c.engine->link();
        if (state != SyncEngine::Link::Open && state != SyncEngine::Link::NeedsJoin) {
            continue;
        }
        if (m_registry->find(m_meetId)) {
            c.engine->joinMeet(m_meetId, kPassword, c.location);
        } else {
            // The server has no trace of the meet: restore it from this client's log (the
            // director's approval is implied in the simulation).
            c.engine->restoreMeet(m_meetId, kPassword, c.location, m_endpoints);
        }
    }
}

bool SimWorld::deliverOne(bool anyLink)
{
    struct Slot
    {
        int client;
        bool toServer;
    };
    QList<Slot> ready;
    for (int i = 0; i < clientCount(); ++i) {
        const SimLink* l = m_clients[i].link.get();
        if (!l) {
            continue;
        }
        if (!l->toServer.empty()) {
            ready.append({i, true});
        }
        if (!l->toClient.empty()) {
            ready.append({i, false});
        }
    }
    if (ready.isEmpty()) {
        return false;
    }
    Q_UNUSED(anyLink);
    const Slot s = ready[pick(static_cast<int>(ready.size()))];
    SimLink* link = m_clients[s.client].link.get();
    if (s.toServer) {
        const QByteArray m = link->toServer.front();
        link->toServer.pop_front();
        trace(QStringLiteral("  c%1 -> S %2").arg(s.client).arg(QString::fromUtf8(m)));
        serverReceive(*link, m);
    } else {
        const QByteArray m = link->toClient.front();
        link->toClient.pop_front();
        trace(QStringLiteral("  S -> c%1 %2").arg(s.client).arg(QString::fromUtf8(m)));
        m_clients[s.client].engine->receive(m);
    }
    return true;
}

void SimWorld::makeUpdate(int i)
{
    static const QStringList names
        = {QStringLiteral("Ana"), QStringLiteral("Bo"), QStringLiteral("Chen"), QStringLiteral("Dee")};
    static const QList<double> numbers = {60, 82.55, 100, 102.5, 0.1 + 0.2, 181.4369};
    auto name = [&] { return QJsonValue(names[pick(static_cast<int>(names.size()))]); };
    auto number = [&] { return QJsonValue(numbers[pick(static_cast<int>(numbers.size()))]); };
    const int sharedId = 1 + pick(4);
    const int ownId = 100 + i * 10 + pick(3);
    QString key;
    QJsonValue value;
    switch (pick(10)) {
    case 0:
        key = QStringLiteral("meet.name");
        value = QStringList{QStringLiteral("Spring Open"), QStringLiteral("Club Cup")}[pick(2)];
        break;
    case 1:
        key = QStringLiteral("registration.entries[id=%1]").arg(sharedId);
        value = chance(25)
            ? QJsonValue(QJsonValue::Null)
            : QJsonValue(QJsonObject{{QStringLiteral("name"), name()}, {QStringLiteral("bodyweightKg"), number()}});
        break;
    case 2:
        key = QStringLiteral("registration.entries[id=%1].name").arg(sharedId);
        value = name();
        break;
    case 3:
        key = QStringLiteral("registration.entries[id=%1].squatKg[%2]").arg(sharedId).arg(pick(2));
        value = number();
        break;
    case 4: {
        QJsonArray plates;
        for (int k = pick(3); k >= 0; --k) {
            plates.append(QJsonObject{{QStringLiteral("weightKg"), number()}, {QStringLiteral("num"), pick(4)}});
        }
        key = QStringLiteral("meet.plates");
        value = plates;
        break;
    }
    case 5:
        key = QStringLiteral("meet.divisions[%1]").arg(pick(3));
        value = QStringList{QStringLiteral("Open"), QStringLiteral("Junior"), QStringLiteral("Masters")}[pick(3)];
        break;
    case 6:
        key = QStringLiteral("live.platforms[id=%1].lift").arg(i + 1);
        value = QStringList{QStringLiteral("S"), QStringLiteral("B"), QStringLiteral("D")}[pick(3)];
        break;
    case 7:
        key = QStringLiteral("registration.entries[id=%1]").arg(ownId);
        value = QJsonObject{{QStringLiteral("name"), name()}, {QStringLiteral("bodyweightKg"), number()}};
        break;
    default:
        key = QStringLiteral("registration.entries[id=%1].bodyweightKg").arg(ownId);
        value = number();
        break;
    }
    const qint64 local = m_clients[i].engine->update(key, value);
    if (local <= 0) {
        m_violation = QStringLiteral("the client refused key %1").arg(key);
        return;
    }
    m_made[m_clients[i].engine->clientId()].insert(local, Made{key, value});
    trace(QStringLiteral("c%1 makes #%2 %3 = %4").arg(i).arg(local).arg(key, text(value)));
    ++m_outcome.updates;
}

void SimWorld::faultServer()
{
    const QString dir = m_dir.path() + QStringLiteral("/current-meets/") + m_meetId;
    const QString journal = Meet::journalPath(dir);
    crashServer();
    const int kind = pick(100);
    trace(QStringLiteral("SERVER CRASH kind %1").arg(kind));
    if (kind < 20) {
        // A torn tail: a write the crash cut short (never flushed, never acknowledged).
        QFile f(journal);
        if (f.open(QIODevice::Append)) {
            f.write(QByteArrayLiteral("{\"serverSeqNum\":99999,\"updateKey\":\"meet.na"));
            ++m_outcome.tornTails;
        }
    } else if (kind < 32) {
        // The disk lost the end of the journal, acknowledged entries included.
        QFile f(journal);
        if (f.open(QIODevice::ReadWrite)) {
            const QList<QByteArray> lines = f.readAll().split('\n');
            const int keep = lines.size() > 1 ? pick(static_cast<int>(lines.size())) : 0;
            QByteArray kept;
            for (int k = 0; k < keep && k < lines.size() - 1; ++k) {
                kept += lines[k] + '\n';
            }
            f.resize(0);
            f.seek(0);
            f.write(kept);
            ++m_outcome.partialLosses;
            trace(QStringLiteral("  journal cut to %1 line(s)").arg(keep));
            if (chance(30)) {
                QFile::remove(Meet::epochsPath(dir)); // and with it the memory of older epochs
            }
        }
    } else if (kind < 38) {
        // The whole data directory of the meet is gone (another laptop, a wiped disk).
        QDir(dir).removeRecursively();
        ++m_outcome.totalLosses;
    } else if (kind < 44) {
        // A line in the middle of the journal is damaged: kept aside, the rest recovered.
        QFile f(journal);
        if (f.open(QIODevice::ReadWrite)) {
            QList<QByteArray> lines = f.readAll().split('\n');
            if (lines.size() > 2) {
                const int bad = pick(static_cast<int>(lines.size()) - 1);
                lines[bad] = lines[bad].left(lines[bad].size() / 2);
                f.resize(0);
                f.seek(0);
                f.write(lines.join('\n'));
                ++m_outcome.damagedJournals;
                trace(QStringLiteral("  journal line %1 damaged").arg(bad + 1));
            }
        }
    }
    QString error;
    if (!startServer(&error)) {
        m_violation = QStringLiteral("server restart failed: %1").arg(error);
    }
    if (Meet* meet = m_registry->find(m_meetId)) {
        trace(QStringLiteral("  restarted: head %1, epochs %2")
                  .arg(meet->durableSeq())
                  .arg(QString::fromUtf8(QJsonDocument(meet->epochs().toJson()).toJson(QJsonDocument::Compact))));
    }
}

bool SimWorld::quiescent() const
{
    Meet* meet = m_registry ? m_registry->find(m_meetId) : nullptr;
    if (!meet || !meet->isIdle()) {
        return false;
    }
    for (const Client& c : m_clients) {
        if (!c.link || !c.link->toServer.empty() || !c.link->toClient.empty()) {
            return false;
        }
        const SyncEngine& e = *c.engine;
        if (!e.isOnline() || e.pendingCount() > 0 || e.pullInFlight() || e.receivingCompacted()
            || e.lastServerSeq() != meet->durableSeq() || e.epoch() != meet->epoch()) {
            return false;
        }
    }
    return true;
}

SimOutcome SimWorld::run()
{
    QString error;
    if (!m_dir.isValid() || !startServer(&error)) {
        m_outcome.failure = QStringLiteral("cannot start: %1").arg(error);
        return m_outcome;
    }
    // The meet exists before the clients join (its creation is tested elsewhere).
    MeetConfig config;
    config.meetId = m_registry->reserveMeetId();
    config.endpoints = m_endpoints;
    config.password.params.log2N = 10;
    config.password.salt = m_random.bytes(16);
    config.password.hash = m_random.bytes(32);
    m_registry->createMeet(config, [](Meet*, const QString&) {});
    m_meetId = config.meetId;
    if (!m_registry->find(m_meetId)) {
        m_outcome.failure = QStringLiteral("cannot create the meet");
        return m_outcome;
    }

    for (int i = 0; i < m_config.clients; ++i) {
        Client c;
        const Endpoint& ep = m_endpoints[i % m_endpoints.size()];
        c.location = ep.locationName;
        c.priority = ep.priority;
        c.engine = std::make_unique<SyncEngine>(QStringLiteral("client%1").arg(i), 1, m_limits);
        SyncEngine* engine = c.engine.get();
        const QString clientId = engine->clientId();
        engine->setSendFunction([this, i](const QByteArray& message) {
            if (SimLink* l = m_clients[i].link.get()) {
                l->toServer.push_back(message);
            } else {
                m_violation = QStringLiteral("client %1 sent without a transport").arg(i);
            }
        });
        QObject::connect(engine, &SyncEngine::acked, engine, [this, clientId](qint64 local, qint64 seq) {
            auto it = m_made[clientId].find(local);
            if (it == m_made[clientId].end()) {
                m_violation = QStringLiteral("%1 got an ack for localSeqNum %2 it never made").arg(clientId).arg(local);
                return;
            }
            if (!it->acked) {
                ++m_outcome.acked;
            }
            it->acked = true;
            it->ackedSeq = seq;
        });
        QObject::connect(engine, &SyncEngine::updateRejected, engine, [this, clientId](const RejectedUpdate& r) {
            if (!r.conflict) {
                m_violation = QStringLiteral("%1: update %2 rejected without a conflict: %3 %4")
                                  .arg(clientId)
                                  .arg(r.update.localSeqNum)
                                  .arg(r.code, r.reason);
                return;
            }
            Made& made = m_made[clientId][r.update.localSeqNum];
            made.rejectedByConflict = true;
            made.totalLossesBefore = m_outcome.totalLosses;
        });
        m_clients.push_back(std::move(c));
    }
    for (int i = 0; i < clientCount(); ++i) {
        openLink(i);
    }

    for (int step = 0; step < m_config.steps && m_violation.isEmpty(); ++step) {
        pumpLogins();
        const int action = pick(100);
        m_clock.advanceMs(1 + pick(50));
        if (action < 55) {
            deliverOne(true);
        } else if (action < 80) {
            makeUpdate(pick(clientCount()));
        } else if (action < 92 && m_config.faults) {
            // Connectivity: a drop mid-batch loses what is in flight; a reconnect resyncs.
            const int i = pick(clientCount());
            if (m_clients[i].link) {
                trace(QStringLiteral("c%1 connection dropped").arg(i));
                closeLink(i);
                ++m_outcome.drops;
            } else {
                trace(QStringLiteral("c%1 reconnects").arg(i));
                openLink(i);
            }
        } else if (action < 94 && m_config.faults) {
            faultServer();
        } else {
            // Reconnect someone who is offline, so offline periods end.
            for (int i = 0; i < clientCount(); ++i) {
                if (!m_clients[i].link && m_registry) {
                    openLink(i);
                    break;
                }
            }
        }
    }

    // Heal: everyone online, no more faults; deliver until nothing moves.
    for (int i = 0; i < clientCount(); ++i) {
        if (!m_clients[i].link) {
            openLink(i);
        }
    }
    int deliveries = 0;
    while (m_violation.isEmpty() && !quiescent()) {
        pumpLogins();
        if (!deliverOne(true)) {
            m_violation = QStringLiteral("stuck: nothing in flight but the clients have not converged");
            break;
        }
        if (++deliveries > m_config.maxHealSteps) {
            m_violation = QStringLiteral("no convergence after %1 deliveries").arg(deliveries);
            break;
        }
    }
    m_outcome.failure = m_violation.isEmpty() ? check() : m_violation;
    if (!m_outcome.failure.isEmpty()) {
        QStringList detail;
        for (int i = 0; i < clientCount(); ++i) {
            const SyncEngine& e = *m_clients[i].engine;
            detail.append(QStringLiteral("client%1 link=%2 pending=%3 last=%4 epoch=%5 pull=%6")
                              .arg(i)
                              .arg(static_cast<int>(e.link()))
                              .arg(e.pendingCount())
                              .arg(e.lastServerSeq())
                              .arg(e.epoch())
                              .arg(e.pullInFlight()));
        }
        Meet* meet = m_registry ? m_registry->find(m_meetId) : nullptr;
        detail.append(QStringLiteral("server head=%1 epoch=%2")
                          .arg(meet ? meet->durableSeq() : -1)
                          .arg(meet ? meet->epoch() : QString()));
        m_outcome.failure += QStringLiteral("\n    ") + detail.join(QStringLiteral("\n    "));
    }
    return m_outcome;
}

QString SimWorld::check()
{
    Meet* meet = m_registry->find(m_meetId);
    const QList<JournalEntry> log = meet->durableEntriesAfter(0, std::numeric_limits<qint64>::max());
    m_outcome.head = meet->durableSeq();

    // The durable file says the same as memory, with contiguous numbers.
    QString err;
    const JournalLoad onDisk = JournalReader::readFile(Meet::journalPath(meet->directory()), &err);
    if (!onDisk.ok() || onDisk.tornTailBytes != 0 || onDisk.entries.size() != log.size()) {
        return QStringLiteral("journal file disagrees with memory (%1 vs %2 entries) %3")
            .arg(onDisk.entries.size())
            .arg(log.size())
            .arg(onDisk.damage);
    }
    QHash<QString, QHash<qint64, qint64>> seqOf; // clientId -> localSeqNum -> serverSeqNum
    MeetState replayed;
    for (qsizetype i = 0; i < log.size(); ++i) {
        const JournalEntry& e = log[i];
        if (e.serverSeqNum != i + 1) {
            return QStringLiteral("serverSeqNum %1 at position %2").arg(e.serverSeqNum).arg(i + 1);
        }
        const JournalEntry& d = onDisk.entries[i];
        if (d.key != e.key || d.value != e.value || d.clientId != e.clientId || d.localSeqNum != e.localSeqNum) {
            return QStringLiteral("journal line %1 differs from memory").arg(i + 1);
        }
        if (seqOf[e.clientId].contains(e.localSeqNum)) {
            return QStringLiteral("%1's localSeqNum %2 applied twice (serverSeqNums %3 and %4)")
                .arg(e.clientId)
                .arg(e.localSeqNum)
                .arg(seqOf[e.clientId].value(e.localSeqNum))
                .arg(e.serverSeqNum);
        }
        seqOf[e.clientId].insert(e.localSeqNum, e.serverSeqNum);
        replayed.apply(*KeyPath::parse(e.key, m_limits.maxKeyLength, m_limits.maxKeyDepth), e.value);
    }
    if (replayed.document() != meet->state().document()) {
        return QStringLiteral("the server's materialized state differs from its log replayed");
    }

    // Conflicts: winners follow priority. After data loss a record's serverSeqNums can name
    // entries of the lost history, so they are matched against the log only without loss.
    const bool historyIntact
        = m_outcome.partialLosses == 0 && m_outcome.totalLosses == 0 && m_outcome.damagedJournals == 0;
    QHash<QString, QSet<qint64>> lostByConflict;
    // Records made before a total data loss are gone from the server, not from history.
    const QList<ConflictRecord>& conflicts = m_allConflicts;
    if (historyIntact && meet->conflicts().size() != conflicts.size()) {
        return QStringLiteral("the meet holds %1 conflict records, %2 were made")
            .arg(meet->conflicts().size())
            .arg(conflicts.size());
    }
    m_outcome.conflicts = static_cast<int>(conflicts.size());
    for (const ConflictRecord& r : conflicts) {
        trace(QStringLiteral("conflict record: %1").arg(QString::fromUtf8(r.toLine().trimmed())));
        if (r.priority != meet->config().priorityOf(r.locationName).value_or(-1)) {
            return QStringLiteral("conflict record with a wrong priority for '%1'").arg(r.locationName);
        }
        if (r.outcome == ConflictRecord::Outcome::Rejected) {
            if (r.winner.priority < r.priority) {
                return QStringLiteral("%1 (priority %2) lost to priority %3")
                    .arg(r.clientId)
                    .arg(r.priority)
                    .arg(r.winner.priority);
            }
            if (historyIntact
                && (r.winner.serverSeqNum < 1 || r.winner.serverSeqNum > log.size()
                    || log[r.winner.serverSeqNum - 1].clientId != r.winner.clientId)) {
                return QStringLiteral("conflict winner %1 is not in the log").arg(r.winner.serverSeqNum);
            }
            lostByConflict[r.clientId].insert(r.localSeqNum);
        } else {
            for (const ConflictParty& p : r.overruled) {
                if (p.priority >= r.priority) {
                    return QStringLiteral("priority %1 overruled priority %2").arg(r.priority).arg(p.priority);
                }
            }
            if (historyIntact
                && (r.serverSeqNum < 1 || r.serverSeqNum > log.size()
                    || log[r.serverSeqNum - 1].localSeqNum != r.localSeqNum)) {
                return QStringLiteral("overruling entry %1 is not in the log").arg(r.serverSeqNum);
            }
        }
    }

    // Every acknowledged update is in the log (same content), unless a recorded conflict
    // settled against it after the server lost it; every rejected one is absent and recorded.
    for (auto c = m_made.cbegin(); c != m_made.cend(); ++c) {
        for (auto m = c->cbegin(); m != c->cend(); ++m) {
            const qint64 seq = seqOf.value(c.key()).value(m.key(), 0);
            if (m->rejectedByConflict) {
                // Only a server that lost everything since - its records included - can take an
                // earlier copy of the update back from another client's log.
                if (seq != 0 && m->totalLossesBefore == m_outcome.totalLosses) {
                    return QStringLiteral("%1's update %2 was rejected but is in the log at %3")
                        .arg(c.key())
                        .arg(m.key())
                        .arg(seq);
                }
                if (seq == 0 && !lostByConflict.value(c.key()).contains(m.key())) {
                    return QStringLiteral("%1's update %2 was rejected without a conflict record")
                        .arg(c.key())
                        .arg(m.key());
                }
                continue;
            }
            if (seq == 0) {
                if (lostByConflict.value(c.key()).contains(m.key())) {
                    continue; // lost by the server, given back, and then lost a conflict
                }
                // An update whose ack was lost is still acknowledged by its entry in a pull.
                return QStringLiteral("%1's update %2 (%3, %4) is missing from the log")
                    .arg(c.key())
                    .arg(m.key())
                    .arg(m->key,
                         m->acked ? QStringLiteral("acked as %1").arg(m->ackedSeq) : QStringLiteral("never acked"));
            }
            const JournalEntry& e = log[seq - 1];
            if (e.key != m->key || e.value != m->value) {
                return QStringLiteral("%1's update %2 is in the log as %3=%4, not %5=%6")
                    .arg(c.key())
                    .arg(m.key())
                    .arg(e.key, text(e.value), m->key, text(m->value));
            }
        }
    }

    // Every client holds the server's state, and its own copy of the log agrees.
    for (int i = 0; i < clientCount(); ++i) {
        const SyncEngine& e = *m_clients[i].engine;
        if (e.canonicalState().document() != meet->state().document()) {
            return QStringLiteral("client%1's state differs from the server's: %2 vs %3")
                .arg(i)
                .arg(QString::fromUtf8(QJsonDocument(e.canonicalState().document()).toJson(QJsonDocument::Compact)),
                     QString::fromUtf8(QJsonDocument(meet->state().document()).toJson(QJsonDocument::Compact)));
        }
        if (e.localState().document() != e.canonicalState().document()) {
            return QStringLiteral("client%1's local state differs from its canonical state").arg(i);
        }
        for (const CanonicalEntry& ce : e.canonicalLog()) {
            if (ce.serverSeqNum < 1 || ce.serverSeqNum > log.size()) {
                return QStringLiteral("client%1 holds entry %2 beyond the head").arg(i).arg(ce.serverSeqNum);
            }
            const JournalEntry& s = log[ce.serverSeqNum - 1];
            if (s.key != ce.key || s.value != ce.value || s.clientId != ce.clientId
                || s.localSeqNum != ce.localSeqNum) {
                return QStringLiteral("client%1's entry %2 differs from the server's").arg(i).arg(ce.serverSeqNum);
            }
        }
    }
    return QString();
}

} // namespace oll::sim
