// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QHash>
#include <QString>

namespace oll {

class ClientConnection;
class LiveServer;
class Meet;

/// What the monitoring surface reads from a LiveServer, on its thread: per-connection and
/// per-meet values and the server's part of a snapshot. Building one is O(meets + connections):
/// a meet's name and lifter count are read from its document only after it committed.
class ServerIntrospection
{
public:
    explicit ServerIntrospection(const LiveServer& server);

    static ConnectionInfo connectionInfo(const ClientConnection& c);
    QList<ConnectionInfo> connectionInfos() const;
    MeetInfo meetInfo(const Meet& meet) const;
    /// Address, port, data directory, meets (without their client history), connections,
    /// pending restores, display links and health.
    void fillSnapshot(ServerSnapshot& snapshot) const;

private:
    /// Meet name and lifter count as of a durable seq (the state changes only when entries
    /// become durable).
    struct MeetSummary
    {
        const Meet* meet = nullptr;
        qint64 durableSeq = -1;
        QString name;
        int lifterCount = 0;
    };

    const LiveServer& m_server;
    mutable QHash<QString, MeetSummary> m_summaries; // meetId -> summary
};

} // namespace oll
