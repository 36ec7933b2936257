// SPDX-License-Identifier: AGPL-3.0-or-later
#include "host/ServerMonitor.h"

#include "net/LiveServer.h"

#include <QDateTime>

#include <algorithm>

namespace oll {
namespace {

QString clientKey(const QString& meetId, const QString& clientId)
{
    return meetId + u'|' + clientId;
}

/// Who the client is, as its latest connection says.
void takeIdentity(ClientInfo& c, const ConnectionInfo& from)
{
    c.clientId = from.clientId;
    c.locationName = from.locationName;
    c.address = from.address;
    c.role = from.role;
    c.displayLinkId = from.displayLinkId;
    c.rttMs = from.rttMs;
}

} // namespace

ServerMonitor::ServerMonitor(LiveServer& server, Sink sink, int intervalMs, QObject* parent)
    : QObject(parent)
    , m_server(server)
    , m_sink(std::move(sink))
    , m_timer(this)
{
    m_timer.setInterval(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &ServerMonitor::tick);
    auto dirty = [this] { m_dirty = true; };
    connect(&m_server, &LiveServer::connectionOpened, this, dirty);
    connect(&m_server, &LiveServer::connectionBound, this, dirty);
    connect(&m_server, &LiveServer::connectionClosed, this, &ServerMonitor::onClosed);
    connect(&m_server, &LiveServer::conflictRecorded, this, &ServerMonitor::onConflict);
    connect(&m_server, &LiveServer::restoreRequested, this, dirty);
    connect(&m_server, &LiveServer::restoreCompleted, this, dirty);
    connect(&m_server, &LiveServer::meetChanged, this, dirty);
}

void ServerMonitor::seedHistory(const QHash<QString, QList<ClientInfo>>& clientsByMeet)
{
    for (auto meet = clientsByMeet.cbegin(); meet != clientsByMeet.cend(); ++meet) {
        QHash<QString, ClientInfo>& history = m_clients[meet.key()];
        for (ClientInfo c : *meet) {
            c.online = false;
            c.connections = 0;
            c.backlogBytes = 0;
            history.insert(c.clientId, c);
        }
    }
}

void ServerMonitor::begin()
{
    publishNow();
    m_timer.start();
}

void ServerMonitor::tick()
{
    // While clients are connected their backlog and round trip change without an event.
    if (m_dirty || m_server.connectionCount() > 0) {
        publishNow();
    }
}

void ServerMonitor::publishNow()
{
    m_dirty = false;
    auto snapshot = std::make_shared<ServerSnapshot>();
    m_server.fillSnapshot(*snapshot);
    updateClients(snapshot->connections, QDateTime::currentMSecsSinceEpoch());
    for (MeetInfo& meet : snapshot->meets) {
        meet.clients = clientsOf(meet.meetId);
    }
    refreshConflicts(snapshot->meets);
    m_sink.snapshot(std::move(snapshot));
}

void ServerMonitor::onClosed(const ConnectionInfo& info)
{
    m_dirty = true;
    if (!info.bound || info.clientId.isEmpty()) {
        return;
    }
    // A client that bound and left between two snapshots is listed too. Its entry also bounds
    // m_lastClose: the history's size limit removes both together.
    QHash<QString, ClientInfo>& history = m_clients[info.meetId];
    if (!history.contains(info.clientId)) {
        ClientInfo c;
        takeIdentity(c, info);
        c.online = true; // the next snapshot finds no live connection and takes it offline
        c.connections = 1;
        c.onlineSinceMs = info.openedMs;
        c.lastAckedSeq = info.lastAckedSeq;
        c.lastSeenSeq = info.lastSeenSeq();
        history.insert(info.clientId, c);
    }
    m_lastClose.insert(clientKey(info.meetId, info.clientId), QDateTime::currentMSecsSinceEpoch());
}

void ServerMonitor::onConflict(const ConflictInfo& conflict)
{
    m_dirty = true;
    // Handed on at once (this slot runs before the queued conflictRecorded reaches the GUI), so
    // the GUI finds the record when it asks for the meet's conflicts in answer to the event.
    QList<ConflictInfo>& list = m_conflicts[conflict.meetId];
    const int durable = m_server.conflictCount(conflict.meetId);
    if (list.size() >= durable) {
        return; // read already with an earlier record of the same flush
    }
    if (list.size() + 1 == durable) {
        list.append(conflict);
    } else {
        list = readConflicts(conflict.meetId);
    }
    m_sink.conflicts(conflict.meetId, list);
}

QList<ConflictInfo> ServerMonitor::readConflicts(const QString& meetId) const
{
    QList<ConflictInfo> list;
    for (const ConflictRecord& r : m_server.conflicts(meetId)) {
        list.append(ConflictInfo{meetId, r});
    }
    return list;
}

void ServerMonitor::refreshConflicts(const QList<MeetInfo>& meets)
{
    // Only meets whose count moved are read again: copying every record every interval would
    // cost the server thread time for nothing.
    for (const MeetInfo& meet : meets) {
        const auto it = m_conflicts.constFind(meet.meetId);
        const qsizetype cached = it == m_conflicts.constEnd() ? -1 : it->size();
        if (cached == meet.conflictCount) {
            continue;
        }
        const QList<ConflictInfo> list = readConflicts(meet.meetId);
        m_conflicts.insert(meet.meetId, list);
        m_sink.conflicts(meet.meetId, list);
    }
}

void ServerMonitor::updateClients(const QList<ConnectionInfo>& connections, qint64 nowMs)
{
    struct Live
    {
        int connections = 0;
        ConnectionInfo latest;
        qint64 earliestOpenedMs = 0;
        qint64 acked = 0;
        qint64 seen = 0;
        qint64 backlog = 0;
    };
    QHash<QString, QHash<QString, Live>> live;
    for (const ConnectionInfo& c : connections) {
        if (!c.bound || c.clientId.isEmpty()) {
            continue;
        }
        Live& l = live[c.meetId][c.clientId];
        if (l.connections == 0 || c.connectionId > l.latest.connectionId) {
            l.latest = c;
        }
        l.earliestOpenedMs = l.connections == 0 ? c.openedMs : std::min(l.earliestOpenedMs, c.openedMs);
        l.connections += 1;
        l.acked = std::max(l.acked, c.lastAckedSeq);
        l.seen = std::max(l.seen, c.lastSeenSeq());
        l.backlog += c.backlogBytes;
    }

    for (auto meet = live.cbegin(); meet != live.cend(); ++meet) {
        QHash<QString, ClientInfo>& history = m_clients[meet.key()];
        for (auto it = meet->cbegin(); it != meet->cend(); ++it) {
            ClientInfo& ci = history[it.key()];
            const Live& l = *it;
            if (!ci.online) {
                ci.onlineSinceMs = l.earliestOpenedMs;
            }
            takeIdentity(ci, l.latest);
            ci.online = true;
            ci.connections = l.connections;
            ci.offlineSinceMs = 0;
            // A new connection starts counting from zero: what the client holds is the most it was sent.
            ci.lastAckedSeq = std::max(ci.lastAckedSeq, l.acked);
            ci.lastSeenSeq = std::max({ci.lastSeenSeq, l.seen, ci.lastAckedSeq});
            ci.backlogBytes = l.backlog;
        }
    }

    for (auto meet = m_clients.begin(); meet != m_clients.end(); ++meet) {
        const QHash<QString, Live> liveHere = live.value(meet.key());
        for (auto it = meet->begin(); it != meet->end(); ++it) {
            if (it->online && !liveHere.contains(it.key())) {
                it->online = false;
                it->connections = 0;
                it->backlogBytes = 0;
                it->offlineSinceMs = m_lastClose.value(clientKey(meet.key(), it.key()), nowMs);
            }
        }
        // Bounded: the offline clients seen longest ago make room first.
        while (meet->size() > ServerSnapshot::kMaxClientsPerMeet) {
            auto oldest = meet->end();
            for (auto it = meet->begin(); it != meet->end(); ++it) {
                if (!it->online && (oldest == meet->end() || it->offlineSinceMs < oldest->offlineSinceMs)) {
                    oldest = it;
                }
            }
            if (oldest == meet->end()) {
                break; // every one is online: the snapshot list is cut instead
            }
            m_lastClose.remove(clientKey(meet.key(), oldest.key()));
            meet->erase(oldest);
        }
    }
}

QList<ClientInfo> ServerMonitor::clientsOf(const QString& meetId) const
{
    const QHash<QString, ClientInfo> history = m_clients.value(meetId);
    QList<ClientInfo> out(history.cbegin(), history.cend());
    std::sort(out.begin(), out.end(), [](const ClientInfo& a, const ClientInfo& b) {
        if (a.online != b.online) {
            return a.online;
        }
        const qint64 ta = a.online ? a.onlineSinceMs : a.offlineSinceMs;
        const qint64 tb = b.online ? b.onlineSinceMs : b.offlineSinceMs;
        if (ta != tb) {
            return ta > tb;
        }
        return a.clientId < b.clientId;
    });
    if (out.size() > ServerSnapshot::kMaxClientsPerMeet) {
        out.resize(ServerSnapshot::kMaxClientsPerMeet);
    }
    return out;
}

} // namespace oll
