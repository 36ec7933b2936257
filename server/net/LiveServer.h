#pragma once

#include "auth/LoginThrottle.h"
#include "auth/PasswordHasher.h"
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
    void approveRestore(const QString& meetId) { m_approvedRestores.insert(meetId); }
    /// Restore requests waiting for approval, as shown at GET /admin/restores.
    QJsonArray pendingRestores() const;

    explicit LiveServer(ServerOptions options, ServerServices services = {}, QObject* parent = nullptr);
    ~LiveServer() override;
    LiveServer(const LiveServer&) = delete;
    LiveServer& operator=(const LiveServer&) = delete;

    /// Locks and loads the data directory, then listens. False with a reason on failure.
    bool start(QString* error);
    /// Stops accepting, waits (up to `timeoutMs`) for queued file work so its acks still go out,
    /// then closes every client (1001).
    void shutdown(int timeoutMs = 10'000);

    quint16 port() const;
    QHostAddress address() const;
    int connectionCount() const { return static_cast<int>(m_connections.size()); }
    MeetRegistry& registry() { return *m_registry; }
    QString dataDir() const { return m_options.dataDir; }
    QJsonObject health() const;

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
    /// Hashes `password` on the auth pool and calls `done(connectionId, hash)` if the client is
    /// still there (refusals are sent with `reject`). False if the request was refused at once.
    bool hashPassword(ClientConnection* c, const QString& password,
                      std::function<void(quint64 connectionId, PasswordHash hash)> done,
                      std::function<QByteArray(const QString&, qint64)> reject);
    void finishCreate(quint64 connectionId, CreateMeetRequest req, PasswordHash hash);
    void finishJoin(quint64 connectionId, const QString& address, const JoinMeetRequest& req, const QString& meetId,
                    bool passwordOk);
    void issueSession(quint64 connectionId, Meet* meet, const QString& clientId, const QString& location, Role role,
                      const QString& replyType);
    std::optional<Authenticated> authenticate(ClientConnection* c, const QString& token);
    void bind(ClientConnection* c, Meet* meet, const Session& session);
    void watchMeet(Meet* meet);
    void onCommitted(Meet* meet, const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                     const QHash<quint64, QList<Meet::Rejection>>& rejections);
    void installAdminRoutes();
    /// Pings every client; closes those silent for longer than the idle timeout.
    void heartbeat();
    /// Runs a request handler, answering instead of crashing if it throws (e.g. the CSPRNG failed).
    template <typename F>
    void guarded(ClientConnection* c, F&& handler);
    void forgetSessions(const QList<QByteArray>& tokenHashes);
    void releaseAuthSlot(const QString& address);
    ClientConnection* connection(quint64 id) const;

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
    PasswordHash m_decoyHash; // verified against when a meet ID is unknown, so timing reveals nothing
    QHash<QString, int> m_joinsInFlight; // "address|meetId" -> password checks running for the pair
    QHash<QString, int> m_authPerAddress; // address -> password checks queued or running
    RateWindow m_createWindow; // meets created per address per hour
    QTimer m_heartbeat;
    SyncService m_sync;
    /// Restore requests waiting for the director: meetId -> what was asked (for /admin/restores).
    struct RestoreRequest
    {
        QString locationName;
        QString address;
        qint64 timeMs = 0;
        int endpoints = 0;
    };
    QMap<QString, RestoreRequest> m_pendingRestores;
    QSet<QString> m_approvedRestores;

    QHttpServer m_http;
    QTcpServer* m_tcp = nullptr; // owned by m_http
    qint64 m_startedMs = 0;

    quint64 m_nextConnectionId = 1;
    std::unordered_map<quint64, std::unique_ptr<ClientConnection>> m_connections;
    QHash<QString, int> m_connectionsPerAddress;
    QHash<QString, QSet<quint64>> m_boundByMeet;
};

} // namespace oll
