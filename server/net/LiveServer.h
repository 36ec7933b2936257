// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "auth/LoginThrottle.h"
#include "auth/PasswordHasher.h"
#include "host/ServerSnapshot.h"
#include "net/StaticSite.h"
#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "storage/JournalDevice.h"
#include "sync/Meet.h"
#include "sync/SyncService.h"
#include "util/RateWindow.h"

#include <QHostAddress>
#include <QHttpServer>
#include <QJsonArray>
#include <QLockFile>
#include <QObject>
#include <QTimer>

#include <memory>
#include <optional>
#include <unordered_map>

class QTcpServer;

namespace oll {

class AuthWorker;
class ClientConnection;
class DisplayLinkService;
class LoginService;
class ServerIntrospection;
class Clock;
class DiagLog;
class MeetRegistry;
class RandomSource;

struct ServerOptions
{
    QString dataDir;
    QHostAddress bindAddress = QHostAddress::Any;
    quint16 port = 8420;
    Limits limits;
    ScryptParams scrypt;
    bool echoDiagnostics = false; // also print diag.log lines on stderr (the headless binary does)
    StaticSiteOptions site; // static pages served next to /live
    QSet<QString> approvedRestores; // meet IDs a client may restore without a trace on disk
    /// How often display-links.json is written again after a revocation could not be saved.
    int displayLinkSaveRetryMs = 5000;
};

/// Seams for tests; null members mean the production implementation.
struct ServerServices
{
    Clock* clock = nullptr;
    RandomSource* random = nullptr;
    JournalDeviceFactory journalFactory;
};

/// The live-meet server: HTTP (`GET /health`) and the WebSocket protocol (`/live`) on one port.
/// Parses each client message, authenticates it, and hands updates to the meet's sequencer;
/// sends acks and relays when the sequencer reports them durable.
class LiveServer : public QObject
{
    Q_OBJECT
public:
    /// Lets a client restore `meetId` (RESTORE_MEET) although this server has no trace of it.
    void approveRestore(const QString& meetId);
    /// Drops the pending request for `meetId`; until approved, its RESTORE_MEETs in this run are
    /// rejected as refused by the meet director (without pendingApproval, so clients stop asking).
    void refuseRestore(const QString& meetId);
    /// Restore requests waiting for approval, as shown at GET /admin/restores.
    QJsonArray pendingRestores() const;
    QList<RestoreRequestInfo> restoreRequests() const;

    explicit LiveServer(ServerOptions options, ServerServices services = {}, QObject* parent = nullptr);
    ~LiveServer() override;
    LiveServer(const LiveServer&) = delete;
    LiveServer& operator=(const LiveServer&) = delete;

    /// Locks and loads the data directory, then listens. False with a reason on failure.
    bool start(QString* error);
    /// Stops accepting, waits (up to `timeoutMs`) for queued file work so its acks still go out,
    /// then closes every client (1001). Runs beginShutdown() in a local event loop, for main()
    /// and tests; code already inside an event loop (ServerHost) calls beginShutdown() itself.
    void shutdown(int timeoutMs = 10'000);
    /// The same without a nested event loop: stops the heartbeat and the listening socket, ignores
    /// further client messages, waits (polling, up to `timeoutMs`) until queued file work is done
    /// and its acks are sent, closes every client (1001), gives the close handshakes a moment,
    /// then calls `done` from the event loop. `done` may destroy the server only via deleteLater
    /// or a queued call (it runs inside one of the server's timers).
    void beginShutdown(std::function<void()> done, int timeoutMs = 10'000);
    bool isShuttingDown() const { return m_shuttingDown; }

    quint16 port() const;
    QHostAddress address() const;
    int connectionCount() const { return static_cast<int>(m_connections.size()); }
    MeetRegistry& registry() { return *m_registry; }
    QString dataDir() const { return m_options.dataDir; }
    QJsonObject health() const;
    /// Writes a line to diag.log (and the diagnostic signal); nothing before start().
    void writeDiagnostic(const QString& category, const QString& message);

    /// Close code of a socket whose display link was revoked (docs/protocol.md, "Display links").
    static constexpr int kDisplayLinkRevokedCloseCode = 4001;
    /// Mints a display link for `meetId`: a read-only, revocable token for a board or an overlay.
    /// `done` runs on this thread once the link's hash is in display-links.json, with the token
    /// (the only copy: it is stored nowhere), or with an error and nothing minted.
    void mintDisplayLink(
        const QString& meetId, const QString& label,
        std::function<void(const oll::DisplayLinkInfo& link, const QString& token, const QString& error)> done);
    /// Revokes a display link at once: its token and every session issued through it stop
    /// working, and every socket using them is closed (kDisplayLinkRevokedCloseCode). `done` runs
    /// once display-links.json and sessions.json have been written, with the number of sockets
    /// closed. `error` set: nothing was revoked (unknown link or meet). `warning` set: the link is
    /// revoked, but display-links.json could not be written; the server retries every
    /// displayLinkSaveRetryMs (and once more when it stops), and until a retry succeeds a restart
    /// would bring the link back (docs/protocol.md §22).
    void revokeDisplayLink(const QString& meetId, const QString& linkId,
                           std::function<void(int socketsClosed, const QString& error, const QString& warning)> done);
    /// Meets whose display-links.json still lacks a revocation (a failed save being retried).
    QSet<QString> unsavedDisplayLinkMeets() const;
    /// Every meet's display links, oldest first per meet, with the sockets using each now.
    QList<oll::DisplayLinkInfo> displayLinks() const;
    /// The path (below the server's origin) a board opens: the token rides in the fragment,
    /// which browsers never send to a server, so it reaches no access log.
    static QString displayLinkPath(const QString& token) { return QStringLiteral("/demo/#display=") + token; }

    /// Monitoring (server thread): fills the server's part of a snapshot - address, port, data
    /// directory, meets (without their client history), connections, pending restores, health.
    void fillSnapshot(ServerSnapshot& snapshot) const;
    QList<ConnectionInfo> connectionInfos() const;
    // What ServerIntrospection reads (server thread).
    using Connections = std::unordered_map<quint64, std::unique_ptr<ClientConnection>>;
    const Connections& connections() const { return m_connections; }
    const ServerOptions& options() const { return m_options; }
    qint64 startedWallMs() const { return m_startedWallMs; }
    /// The registry once start() has made it, else null.
    const MeetRegistry* registryIfLoaded() const { return m_registry.get(); }
    /// Why `meetId`'s journal is broken ("write error" if no reason was kept).
    QString storageError(const QString& meetId) const;
    /// Durable conflict records of one meet, oldest first; count first with conflictCount().
    QList<ConflictRecord> conflicts(const QString& meetId) const;
    int conflictCount(const QString& meetId) const;

Q_SIGNALS:
    // Monitoring events, emitted on the server's thread.
    void connectionOpened(const oll::ConnectionInfo& info);
    /// A connection presented a session it was not bound to before (a join, a token, a reload).
    void connectionBound(const oll::ConnectionInfo& info);
    void connectionClosed(const oll::ConnectionInfo& info);
    void conflictRecorded(const oll::ConflictInfo& conflict);
    void restoreRequested(const oll::RestoreRequestInfo& request);
    void restoreCompleted(const QString& meetId);
    /// Something shown about the meet changed: a commit, its storage state, or it was added.
    void meetChanged(const QString& meetId);
    void diagnostic(const oll::DiagEntry& entry);

private:
    struct Authenticated
    {
        Meet* meet = nullptr;
        Session session;
    };

    void acceptWebSockets();
    void onText(ClientConnection* connection, const QByteArray& utf8);
    void onClosed(ClientConnection* connection);
    void handle(ClientConnection* c, const CreateMeetRequest& req);
    void handle(ClientConnection* c, const JoinMeetRequest& req);
    void handle(ClientConnection* c, const UpdateInitRequest& req);
    void handle(ClientConnection* c, const ClientPullRequest& req);
    void handle(ClientConnection* c, const RecoveryPushRequest& req);
    void handle(ClientConnection* c, const RestoreMeetRequest& req);
    void handle(ClientConnection* c, const JoinDisplayRequest& req);
    /// `displayLinkId` non-empty: a JOIN_DISPLAY through that link (refused if it is revoked
    /// before the session is on disk).
    void issueSession(quint64 connectionId, Meet* meet, const QString& clientId, const QString& location, Role role,
                      const QString& replyType, const QString& displayLinkId = QString());
    /// Unbinds a socket from its session: it gets no further relay.
    void unbind(ClientConnection* c);
    std::optional<Authenticated> authenticate(ClientConnection* c, const QString& token);
    void bind(ClientConnection* c, Meet* meet, const Session& session);
    void watchMeet(Meet* meet);
    void onCommitted(Meet* meet, const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                     const QHash<quint64, QList<Meet::Rejection>>& rejections);
    /// Pings every client; closes those silent for longer than the idle timeout.
    void heartbeat();
    /// Runs a request handler, answering instead of crashing if it throws (e.g. the CSPRNG failed).
    template <typename F>
    void guarded(ClientConnection* c, F&& handler);
    void forgetSessions(const QList<QByteArray>& tokenHashes);
    ClientConnection* connection(quint64 id) const;
    void closeAllClients();

    ServerOptions m_options;
    std::unique_ptr<Clock> m_ownedClock;
    std::unique_ptr<RandomSource> m_ownedRandom;
    Clock* m_clock;
    RandomSource* m_random;
    JournalDeviceFactory m_journalFactory;

    std::unique_ptr<QLockFile> m_lock;
    std::unique_ptr<DiagLog> m_diag;
    std::unique_ptr<MeetRegistry> m_registry;
    std::unique_ptr<AuthWorker> m_auth;
    LoginThrottle m_throttle;
    MessageParser m_parser;
    QTimer m_heartbeat;
    SyncService m_sync;
    QHash<QString, QString> m_storageErrors; // meetId -> why its journal is broken
    std::unique_ptr<DisplayLinkService> m_displayLinks; // made by start(), with the registry
    std::unique_ptr<LoginService> m_login; // made by start(), with the registry
    bool m_shuttingDown = false;
    bool m_routesInstalled = false;
    qint64 m_startedWallMs = 0;

    QHttpServer m_http;
    QTcpServer* m_tcp = nullptr; // owned by m_http
    qint64 m_startedMs = 0;

    quint64 m_nextConnectionId = 1;
    Connections m_connections;
    QHash<QString, int> m_connectionsPerAddress;
    QHash<QString, QSet<quint64>> m_boundByMeet;
    std::unique_ptr<ServerIntrospection> m_introspection;
};

} // namespace oll
