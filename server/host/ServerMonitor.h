// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QHash>
#include <QObject>
#include <QTimer>

#include <functional>
#include <memory>

namespace oll {

class LiveServer;

/// Lives on the server's thread next to the LiveServer it watches. Keeps what the server itself
/// forgets - every client a meet has seen, with "offline since" - and publishes an immutable
/// ServerSnapshot when something changed, at most every `intervalMs` (and that often while
/// clients are connected, for backlog and round-trip times). The GUI never touches the server.
class ServerMonitor : public QObject
{
    Q_OBJECT
public:
    struct Sink
    {
        /// Takes a freshly built snapshot (state and version are the sink's to set).
        std::function<void(std::shared_ptr<ServerSnapshot> snapshot)> snapshot;
        /// Takes the settled conflicts of one meet (implicitly shared: cheap when unchanged).
        std::function<void(const QString& meetId, const QList<ConflictInfo>& conflicts)> conflicts;
    };

    ServerMonitor(LiveServer& server, Sink sink, int intervalMs, QObject* parent = nullptr);

    /// Clients seen by an earlier run on the same data folder, so that a restart keeps
    /// "offline since" (all of them offline now). Call before begin().
    void seedHistory(const QHash<QString, QList<ClientInfo>>& clientsByMeet);
    /// The server is listening: publish the first snapshot, then keep publishing.
    void begin();
    void markDirty() { m_dirty = true; }
    /// Builds and publishes a snapshot now.
    void publishNow();

private:
    void tick();
    void onClosed(const ConnectionInfo& info);
    void onConflict(const ConflictInfo& conflict);
    /// Folds the live connections into the client history: who is online, since when, and the
    /// highest seqs each client is known to hold (kept once it is offline).
    void updateClients(const QList<ConnectionInfo>& connections, qint64 nowMs);
    QList<ClientInfo> clientsOf(const QString& meetId) const;
    void refreshConflicts(const QList<MeetInfo>& meets);
    QList<ConflictInfo> readConflicts(const QString& meetId) const;

    LiveServer& m_server;
    Sink m_sink;
    QTimer m_timer;
    bool m_dirty = true;
    QHash<QString, QHash<QString, ClientInfo>> m_clients; // meetId -> clientId -> history
    QHash<QString, qint64> m_lastClose; // meetId|clientId -> wall clock of its last bound close
    QHash<QString, QList<ConflictInfo>> m_conflicts; // meetId -> settled conflicts (cached by count)
};

} // namespace oll
