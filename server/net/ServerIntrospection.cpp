// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/ServerIntrospection.h"

#include "net/ClientConnection.h"
#include "net/LiveServer.h"
#include "sync/Meet.h"
#include "sync/MeetRegistry.h"

#include <QJsonArray>
#include <QSet>

#include <algorithm>

namespace oll {

ServerIntrospection::ServerIntrospection(const LiveServer& server)
    : m_server(server)
{
}

ConnectionInfo ServerIntrospection::connectionInfo(const ClientConnection& c)
{
    ConnectionInfo info;
    info.connectionId = c.id();
    info.address = c.peerAddress();
    info.openedMs = c.openedMs();
    if (const auto& b = c.binding()) {
        info.bound = true;
        info.meetId = b->meetId;
        info.locationName = b->session.locationName;
        info.role = b->session.role;
        info.clientId = b->session.clientId;
        info.displayLinkId = b->session.displayLinkId;
    }
    info.lastAckedSeq = c.lastAckedSeq();
    info.lastRelayedSeq = c.lastRelayedSeq();
    info.lastPulledSeq = c.lastPulledSeq();
    info.backlogBytes = c.backlog();
    info.rttMs = c.rttMs();
    return info;
}

QList<ConnectionInfo> ServerIntrospection::connectionInfos() const
{
    QList<ConnectionInfo> out;
    out.reserve(static_cast<qsizetype>(m_server.connections().size()));
    for (const auto& entry : m_server.connections()) {
        out.append(connectionInfo(*entry.second));
    }
    std::sort(out.begin(), out.end(),
              [](const ConnectionInfo& a, const ConnectionInfo& b) { return a.connectionId < b.connectionId; });
    return out;
}

MeetInfo ServerIntrospection::meetInfo(const Meet& meet) const
{
    MeetInfo info;
    info.meetId = meet.meetId();
    // The state changes only when entries become durable: read it again only then, not on every
    // snapshot (one is built every interval while clients are connected).
    MeetSummary& summary = m_summaries[meet.meetId()];
    if (summary.meet != &meet || summary.durableSeq != meet.durableSeq()) {
        const QJsonObject& doc = meet.state().document();
        summary.meet = &meet;
        summary.durableSeq = meet.durableSeq();
        summary.name = doc.value(QStringLiteral("meet")).toObject().value(QStringLiteral("name")).toString();
        summary.lifterCount = static_cast<int>(
            doc.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray().size());
    }
    info.meetName = summary.name;
    info.lifterCount = summary.lifterCount;
    info.headSeq = meet.assignedSeq();
    info.durableSeq = meet.durableSeq();
    if (meet.isStorageBroken()) {
        info.storage = StorageState::Broken;
        info.storageDetail
            = QStringLiteral("the journal cannot be written (%1); the meet accepts no updates. Free disk space or fix "
                             "the data folder, then restart the server: the browsers keep their updates and send "
                             "them again")
                  .arg(m_server.storageError(meet.meetId()));
    }
    info.endpoints = meet.config().endpoints;
    info.conflictCount = meet.conflictCount();
    info.createdMs = meet.config().createdMs;
    info.epoch = meet.epoch();
    return info;
}

void ServerIntrospection::fillSnapshot(ServerSnapshot& snapshot) const
{
    snapshot.bindAddress = m_server.options().bindAddress;
    snapshot.port = m_server.port();
    snapshot.dataDir = m_server.dataDir();
    snapshot.openlifterDir = m_server.options().site.openlifterDir;
    snapshot.startedMs = m_server.startedWallMs();
    snapshot.connections = connectionInfos();
    snapshot.restores = m_server.restoreRequests();
    snapshot.health = m_server.health();
    snapshot.meets.clear();
    snapshot.displayLinks = m_server.displayLinks();
    const MeetRegistry* registry = m_server.registryIfLoaded();
    if (!registry) {
        return;
    }
    QHash<QString, QSet<QString>> online; // meetId -> clientIds with a bound connection
    for (const ConnectionInfo& c : snapshot.connections) {
        if (c.bound) {
            online[c.meetId].insert(c.clientId);
        }
    }
    const QList<Meet*> meets = registry->meets();
    if (m_summaries.size() > meets.size()) {
        m_summaries.clear(); // a meet left (finished): rebuilt below, once
    }
    for (const Meet* meet : meets) {
        MeetInfo info = meetInfo(*meet);
        info.clientsOnline = static_cast<int>(online.value(info.meetId).size());
        snapshot.meets.append(info);
    }
    const QHash<QString, QString> damaged = registry->damagedMeets();
    for (auto it = damaged.cbegin(); it != damaged.cend(); ++it) {
        MeetInfo info;
        info.meetId = it.key();
        info.storage = StorageState::Damaged;
        info.storageDetail = QStringLiteral("not loaded at start: %1. Copy the folder current-meets/%2 somewhere safe, "
                                            "free disk space if that was the cause and restart the server; if "
                                            "auth.json is lost, move the folder out of current-meets, restart, and "
                                            "approve the restore a browser then asks for")
                                 .arg(it.value(), it.key());
        snapshot.meets.append(info);
    }
    for (const QString& id : registry->finishedMeets()) {
        MeetInfo info;
        info.meetId = id;
        info.finished = true;
        snapshot.meets.append(info);
    }
    std::sort(snapshot.meets.begin(), snapshot.meets.end(),
              [](const MeetInfo& a, const MeetInfo& b) { return a.meetId < b.meetId; });
}

} // namespace oll
