// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/LiveServer.h"

#include "auth/AuthWorker.h"
#include "net/AdminRoutes.h"
#include "net/ClientConnection.h"
#include "net/DisplayLinkService.h"
#include "net/LoginService.h"
#include "net/ServerIntrospection.h"
#include "storage/DiagLog.h"
#include "sync/MeetRegistry.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QDateTime>
#include <QDeadlineTimer>
#include <QDir>
#include <QEventLoop>
#include <QHttpServerRequest>
#include <QHttpServerResponder>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTcpServer>
#include <QTimer>

#include <algorithm>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

namespace oll {
namespace {

/// Accepts with TCP_NODELAY. Display clients only receive, so without it each small relay waits
/// for the previous one's delayed ACK (Nagle): measured 27 ms at p50 instead of ~2 ms.
class LowDelayTcpServer final : public QTcpServer
{
protected:
    void incomingConnection(qintptr descriptor) override
    {
        const int one = 1;
        ::setsockopt(static_cast<int>(descriptor), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        QTcpServer::incomingConnection(descriptor);
    }
};

Clock* pickClock(Clock* given, std::unique_ptr<Clock>& owned)
{
    if (!given) {
        owned = std::make_unique<SystemClock>();
        return owned.get();
    }
    return given;
}

RandomSource* pickRandom(RandomSource* given, std::unique_ptr<RandomSource>& owned)
{
    if (!given) {
        owned = std::make_unique<CsprngRandomSource>();
        return owned.get();
    }
    return given;
}

QString notRunning()
{
    return QStringLiteral("the server is not running");
}

/// The meet a diag line is about. By convention every line about a meet says "meet <9 digits>";
/// reading it back here keeps the many DiagLog::write calls (server, registry, meets) as they are
/// instead of threading a meet ID parameter through each of them.
QString meetIdOfDiagLine(const QString& message)
{
    static const QRegularExpression re(QStringLiteral("\\bmeet (\\d{9})\\b"));
    const QRegularExpressionMatch m = re.match(message);
    return m.hasMatch() ? m.captured(1) : QString();
}

/// How long a shutdown waits for clients to answer the close frame before destroying their sockets.
constexpr int kCloseGraceMs = 2000;

} // namespace

LiveServer::LiveServer(ServerOptions options, ServerServices services, QObject* parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_clock(pickClock(services.clock, m_ownedClock))
    , m_random(pickRandom(services.random, m_ownedRandom))
    , m_journalFactory(services.journalFactory ? services.journalFactory
                                               : JournalDeviceFactory(&PosixJournalDevice::open))
    , m_throttle(*m_clock,
                 LoginThrottle::Budget{m_options.limits.failedJoinsBeforeBackoff,
                                       m_options.limits.failedJoinsPerAddressBeforeBackoff,
                                       m_options.limits.backoffBaseMs, m_options.limits.backoffMaxMs,
                                       m_options.limits.maxThrottleRecords})
    , m_parser(m_options.limits)
    , m_heartbeat(this) // parented, so that moveToThread() takes the timer along
    , m_sync(m_options.limits)
    , m_http(this)
    , m_introspection(std::make_unique<ServerIntrospection>(*this))
{
    connect(&m_heartbeat, &QTimer::timeout, this, &LiveServer::heartbeat);
}

LiveServer::~LiveServer()
{
    // Clients first (they refer to meets), then the auth pool, then meets (they wait for flushes),
    // then the services whose file callbacks the meets may still run.
    m_connections.clear();
    m_auth.reset();
    m_registry.reset();
    m_login.reset(); // after the meets, like the display links
    m_displayLinks.reset(); // after the meets: their last file callbacks may still reach it
}

bool LiveServer::start(QString* error)
{
    auto fail = [error](const QString& why) {
        if (error) {
            *error = why;
        }
        return false;
    };
    if (!QDir().mkpath(m_options.dataDir)) {
        return fail(QStringLiteral("cannot create data directory %1").arg(m_options.dataDir));
    }
    m_options.dataDir = QDir(m_options.dataDir).absolutePath();

    // Two servers on one data directory would interleave journal writes: refuse the second.
    m_lock = std::make_unique<QLockFile>(m_options.dataDir + QStringLiteral("/server.lock"));
    m_lock->setStaleLockTime(0);
    if (!m_lock->tryLock(0)) {
        if (m_lock->error() == QLockFile::LockFailedError) {
            return fail(
                QStringLiteral("data directory %1 is in use by another server (or holds server.lock copied from "
                               "another computer: delete it only if no server uses this directory)")
                    .arg(m_options.dataDir));
        }
        return fail(
            QStringLiteral("cannot create %1/server.lock: check that the data directory is writable and the disk "
                           "is not full")
                .arg(m_options.dataDir));
    }

    m_diag = std::make_unique<DiagLog>(m_options.dataDir + QStringLiteral("/diag.log"), *m_clock);
    m_diag->setEcho(m_options.echoDiagnostics);
    m_diag->setListener([this](qint64 timeMs, const QString& category, const QString& message) {
        Q_EMIT diagnostic(DiagEntry{timeMs, category, message, meetIdOfDiagLine(message)});
    });
    m_diag->write(QStringLiteral("start"),
                  QStringLiteral("openlifter-live-server %1 starting on data directory %2")
                      .arg(QStringLiteral(OLL_VERSION), m_options.dataDir));
    m_registry = std::make_unique<MeetRegistry>(m_options.dataDir, *m_clock, *m_random, m_journalFactory,
                                                m_options.limits, *m_diag);
    connect(m_registry.get(), &MeetRegistry::meetAdded, this, &LiveServer::watchMeet);
    QString loadError;
    if (!m_registry->load(&loadError)) {
        return fail(loadError);
    }
    m_auth = std::make_unique<AuthWorker>(m_options.limits.authConcurrency, m_options.limits.maxPendingAuth);
    DisplayLinkService::Hooks hooks;
    hooks.unbind = [this](ClientConnection* c) { unbind(c); };
    hooks.forgetSessions = [this](const QList<QByteArray>& hashes) { forgetSessions(hashes); };
    hooks.issueSession = [this](quint64 connectionId, Meet* meet, const QString& clientId, const QString& label,
                                const QString& linkId) {
        issueSession(connectionId, meet, clientId, label, Role::Display, MsgType::MeetJoined, linkId);
    };
    m_displayLinks = std::make_unique<DisplayLinkService>(m_options, *m_registry, *m_diag, m_throttle, m_connections,
                                                          std::move(hooks), this);
    LoginService::Hooks loginHooks;
    loginHooks.connection = [this](quint64 id) { return connection(id); };
    loginHooks.guarded = [this](ClientConnection* c, const std::function<void()>& handler) { guarded(c, handler); };
    loginHooks.issueSession
        = [this](quint64 connectionId, Meet* meet, const QString& clientId, const QString& location, Role role,
                 const QString& replyType) { issueSession(connectionId, meet, clientId, location, role, replyType); };
    m_login = std::make_unique<LoginService>(m_options, *m_clock, *m_random, *m_registry, *m_diag, *m_auth, m_throttle,
                                             std::move(loginHooks), this);
    connect(m_login.get(), &LoginService::restoreRequested, this, &LiveServer::restoreRequested);
    connect(m_login.get(), &LoginService::restoreCompleted, this, &LiveServer::restoreCompleted);

    // QHttpServer keeps every route it is given: a second start() must not add them again.
    if (!m_routesInstalled) {
        m_routesInstalled = true;
        m_http.route(QStringLiteral("/health"), QHttpServerRequest::Method::Get,
                     [this] { return QHttpServerResponse(health()); });
        // The WebSocket upgrade happens only when a route matches and its handler writes nothing.
        m_http.route(QStringLiteral("/live"), [](const QHttpServerRequest& request, QHttpServerResponder&& responder) {
            if (request.value("Upgrade").compare("websocket", Qt::CaseInsensitive) != 0) {
                responder.write(Reply::encode({{QStringLiteral("error"),
                                                QStringLiteral("this URL speaks the WebSocket protocol")}}),
                                "application/json", QHttpServerResponder::StatusCode::UpgradeRequired);
            }
        });
        connect(&m_http, &QAbstractHttpServer::newWebSocketConnection, this, &LiveServer::acceptWebSockets);
        installStaticSite(m_http, m_options.site);
        installAdminRoutes(m_http, *this);
    }

    m_tcp = new LowDelayTcpServer();
    if (!m_tcp->listen(m_options.bindAddress, m_options.port)) {
        const QString why = m_tcp->errorString();
        delete m_tcp;
        m_tcp = nullptr;
        return fail(QStringLiteral("cannot listen on %1:%2: %3")
                        .arg(m_options.bindAddress.toString())
                        .arg(m_options.port)
                        .arg(why));
    }
    m_http.bind(m_tcp);
    m_startedMs = m_clock->steadyMs();
    m_startedWallMs = m_clock->nowMs();
    m_heartbeat.start(static_cast<int>(m_options.limits.heartbeatIntervalMs));
    m_diag->write(QStringLiteral("start"),
                  QStringLiteral("listening on %1:%2").arg(m_tcp->serverAddress().toString()).arg(m_tcp->serverPort()));
    return true;
}

void LiveServer::shutdown(int timeoutMs)
{
    // The headless binary and the tests stop from main() or a test body, outside any event loop
    // that could finish the work: run one here until beginShutdown() is done.
    QEventLoop loop;
    beginShutdown([&loop] { loop.quit(); }, timeoutMs);
    loop.exec();
}

void LiveServer::beginShutdown(std::function<void()> done, int timeoutMs)
{
    m_shuttingDown = true;
    m_heartbeat.stop();
    if (m_tcp) {
        m_tcp->close();
    }
    // A last chance for a revocation that could not be saved; the flush wait below covers it.
    if (m_displayLinks) {
        m_displayLinks->beginShutdown();
    }
    // Let queued flushes finish first, so their acks still reach connected clients and nothing
    // accepted is left half-written; then say goodbye and give the clients a moment to answer the
    // close frame, so the acks and the close reach them before their sockets are destroyed.
    // Real time, not m_clock: a test clock may stand still.
    const QDeadlineTimer flushDeadline(timeoutMs);
    auto* poll = new QTimer(this);
    poll->setInterval(5);
    connect(
        poll, &QTimer::timeout, this,
        [this, poll, flushDeadline, closeDeadline = std::optional<QDeadlineTimer>(), done = std::move(done)]() mutable {
            if (!closeDeadline) {
                if (m_registry && !m_registry->isIdle() && !flushDeadline.hasExpired()) {
                    return;
                }
                closeAllClients();
                closeDeadline = QDeadlineTimer(kCloseGraceMs);
            }
            if (!m_connections.empty() && !closeDeadline->hasExpired()) {
                return;
            }
            poll->stop();
            poll->deleteLater();
            if (m_diag) {
                m_diag->write(QStringLiteral("stop"), QStringLiteral("server stopped"));
            }
            done();
        });
    poll->start();
}

void LiveServer::closeAllClients()
{
    // close() may emit disconnected synchronously, which erases from m_connections: iterate a copy.
    std::vector<quint64> ids;
    for (const auto& entry : m_connections) {
        ids.push_back(entry.first);
    }
    for (quint64 id : ids) {
        if (auto* c = connection(id)) {
            c->close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("server shutting down"));
        }
    }
}

quint16 LiveServer::port() const
{
    return m_tcp ? m_tcp->serverPort() : 0;
}

QHostAddress LiveServer::address() const
{
    return m_tcp ? m_tcp->serverAddress() : QHostAddress();
}

QJsonObject LiveServer::health() const
{
    if (!m_registry || !m_tcp) {
        // Not started, or the start failed: nothing is served.
        return {{QStringLiteral("status"), QStringLiteral("stopped")},
                {QStringLiteral("service"), QStringLiteral("openlifter-live-server")},
                {QStringLiteral("version"), QStringLiteral(OLL_VERSION)}};
    }
    int broken = 0;
    const QList<Meet*> meets = m_registry->meets();
    for (const Meet* m : meets) {
        broken += m->isStorageBroken() ? 1 : 0;
    }
    const int damaged = static_cast<int>(m_registry->damagedMeets().size());
    return {{QStringLiteral("status"), broken == 0 && damaged == 0 ? QStringLiteral("ok") : QStringLiteral("degraded")},
            {QStringLiteral("service"), QStringLiteral("openlifter-live-server")},
            {QStringLiteral("version"), QStringLiteral(OLL_VERSION)},
            {QStringLiteral("meets"), static_cast<int>(meets.size())},
            {QStringLiteral("damagedMeets"), damaged},
            {QStringLiteral("meetsWithStorageErrors"), broken},
            {QStringLiteral("connections"), connectionCount()},
            {QStringLiteral("uptimeSeconds"), static_cast<double>((m_clock->steadyMs() - m_startedMs) / 1000)}};
}

void LiveServer::acceptWebSockets()
{
    const Limits& lim = m_options.limits;
    while (m_http.hasPendingWebSocketConnections()) {
        std::unique_ptr<QWebSocket> ws = m_http.nextPendingWebSocketConnection();
        if (!ws) {
            continue;
        }
        // Qt's default limit is ~2 GiB; a hostile frame must be refused before it is buffered.
        ws->setMaxAllowedIncomingMessageSize(static_cast<quint64>(lim.maxMessageBytes));
        ws->setMaxAllowedIncomingFrameSize(static_cast<quint64>(lim.maxFrameBytes));
        const quint64 id = m_nextConnectionId++;
        auto c = std::make_unique<ClientConnection>(id, std::move(ws), lim.maxOutgoingBytes, m_clock->steadyMs());
        const QString addr = c->peerAddress();

        QString refusal;
        QString limitName;
        int max = 0;
        if (connectionCount() >= lim.maxConnections) {
            limitName = QStringLiteral("connections");
            max = lim.maxConnections;
            refusal = QStringLiteral("the server already has %1 connections").arg(max);
        } else if (m_connectionsPerAddress.value(addr) >= lim.maxConnectionsPerAddress) {
            limitName = QStringLiteral("connectionsPerAddress");
            max = lim.maxConnectionsPerAddress;
            refusal = QStringLiteral("%1 connections from this address are already open").arg(max);
        }
        if (!refusal.isEmpty()) {
            c->send(Reply::limitExceeded(limitName, max, refusal));
            c->close(QWebSocketProtocol::CloseCodePolicyViolated, refusal);
            // Keep the socket alive until the close handshake is done, but never for long.
            ClientConnection* raw = c.release();
            raw->setParent(this);
            connect(raw, &ClientConnection::closed, raw, &QObject::deleteLater);
            QTimer::singleShot(5000, raw, &QObject::deleteLater);
            continue;
        }
        connect(c.get(), &ClientConnection::textReceived, this, &LiveServer::onText);
        connect(c.get(), &ClientConnection::binaryReceived, this, [this](ClientConnection* conn) {
            conn->touch(m_clock->steadyMs());
            conn->send(Reply::malformed(QStringLiteral("binary frames are not supported; send JSON text frames")));
        });
        connect(c.get(), &ClientConnection::closed, this, &LiveServer::onClosed);
        connect(c.get(), &ClientConnection::pongReceived, this,
                [this](ClientConnection* conn) { conn->touch(m_clock->steadyMs()); });
        connect(c.get(), &ClientConnection::drained, this, [this](ClientConnection* conn) {
            if (conn->pull) {
                m_sync.continuePull(conn);
            }
        });
        // A frame over the size limit makes Qt close the socket with 1009 (message too big).
        m_connectionsPerAddress[addr] += 1;
        c->setOpenedMs(m_clock->nowMs());
        const ConnectionInfo opened = ServerIntrospection::connectionInfo(*c);
        m_connections.emplace(id, std::move(c));
        Q_EMIT connectionOpened(opened);
    }
}

void LiveServer::onClosed(ClientConnection* connection)
{
    const auto it = m_connections.find(connection->id());
    if (it == m_connections.end()) {
        return;
    }
    const QString addr = connection->peerAddress();
    if (--m_connectionsPerAddress[addr] <= 0) {
        m_connectionsPerAddress.remove(addr);
    }
    if (const auto& b = connection->binding()) {
        m_boundByMeet[b->meetId].remove(connection->id());
    }
    const ConnectionInfo closed = ServerIntrospection::connectionInfo(*connection);
    // Deleted later: we are inside one of its socket's signals.
    it->second.release()->deleteLater();
    m_connections.erase(it);
    Q_EMIT connectionClosed(closed);
}

ClientConnection* LiveServer::connection(quint64 id) const
{
    const auto it = m_connections.find(id);
    return it == m_connections.end() ? nullptr : it->second.get();
}

void LiveServer::heartbeat()
{
    m_throttle.prune();
    const qint64 now = m_clock->steadyMs();
    std::vector<ClientConnection*> idle;
    for (const auto& [id, c] : m_connections) {
        if (now - c->lastSeenMs() > m_options.limits.idleTimeoutMs) {
            idle.push_back(c.get());
        } else {
            c->socket()->ping();
        }
    }
    // A peer that answers neither frames nor pings is gone (cable pulled, laptop asleep): free its slot.
    for (ClientConnection* c : idle) {
        c->socket()->abort();
    }
}

void LiveServer::onText(ClientConnection* c, const QByteArray& utf8)
{
    if (c->isClosing() || m_shuttingDown) {
        // Closed by the server (e.g. not reading), or stopping: nothing more is handled. A client
        // keeps what was not acked and sends it again to the next server.
        return;
    }
    c->touch(m_clock->steadyMs());
    auto parsed = m_parser.parse(utf8);
    if (const auto* err = std::get_if<ParseError>(&parsed)) {
        switch (err->kind) {
        case ParseError::Kind::Malformed:
            c->send(Reply::malformed(err->errMsg));
            break;
        case ParseError::Kind::UnknownType:
            c->send(Reply::unknownType(err->msgType));
            break;
        case ParseError::Kind::LimitExceeded:
            c->send(Reply::limitExceeded(err->limitName, err->limitMax, err->errMsg));
            break;
        }
        return;
    }
    guarded(c, [&] { std::visit([this, c](const auto& request) { handle(c, request); }, std::get<Request>(parsed)); });
}

template <typename F>
void LiveServer::guarded(ClientConnection* c, F&& handler)
{
    try {
        handler();
    } catch (const std::exception& e) {
        // Only the CSPRNG throws here; a weak token is worse than a refused request.
        m_diag->write(QStringLiteral("error"),
                      QStringLiteral("request failed: %1").arg(QString::fromLocal8Bit(e.what())));
        if (c) {
            c->send(Reply::malformed(QStringLiteral("the server could not process this message; try again")));
        }
    }
}

QList<ConnectionInfo> LiveServer::connectionInfos() const
{
    return m_introspection->connectionInfos();
}

void LiveServer::fillSnapshot(ServerSnapshot& snapshot) const
{
    m_introspection->fillSnapshot(snapshot);
}

QString LiveServer::storageError(const QString& meetId) const
{
    return m_storageErrors.value(meetId, QStringLiteral("write error"));
}

QList<ConflictRecord> LiveServer::conflicts(const QString& meetId) const
{
    const Meet* meet = m_registry ? m_registry->find(meetId) : nullptr;
    return meet ? meet->conflicts() : QList<ConflictRecord>();
}

int LiveServer::conflictCount(const QString& meetId) const
{
    const Meet* meet = m_registry ? m_registry->find(meetId) : nullptr;
    return meet ? meet->conflictCount() : 0;
}

void LiveServer::writeDiagnostic(const QString& category, const QString& message)
{
    if (m_diag) {
        m_diag->write(category, message);
    }
}

void LiveServer::issueSession(quint64 connectionId, Meet* meet, const QString& clientId, const QString& location,
                              Role role, const QString& replyType, const QString& displayLinkId)
{
    const SessionStore::Issued issued = meet->sessions().issue(clientId, location, role, displayLinkId);
    m_registry->indexSession(issued.session.tokenHash, meet->meetId());
    forgetSessions(meet->sessions().trimTo(m_options.limits.maxSessionsPerMeet));
    const Session session = issued.session;
    const QString token = issued.token;
    // The token is handed out only once it is on disk, so a restart never forgets a token a client holds.
    const QList<QByteArray> expired
        = meet->persistSessions([this, connectionId, meet, session, token, replyType](bool ok, const QString& error) {
              ClientConnection* c = connection(connectionId);
              if (!ok) {
                  meet->sessions().revoke(session.tokenHash);
                  m_registry->unindexSession(session.tokenHash);
                  m_diag->write(QStringLiteral("storage"),
                                QStringLiteral("meet %1: cannot write sessions.json: %2").arg(meet->meetId(), error));
                  if (c) {
                      const QString why = QStringLiteral("the server could not store the session; try again");
                      c->send(replyType == MsgType::MeetCreated        ? Reply::createRejected(why)
                                  : replyType == MsgType::MeetRestored ? Reply::restoreRejected(why)
                                                                       : Reply::joinRejected(why));
                  }
                  return;
              }
              if (!session.displayLinkId.isEmpty() && !meet->displayLinks().find(session.displayLinkId)) {
                  // Revoked while the session was written; the revocation dropped the session too.
                  if (c) {
                      c->send(Reply::joinRejected(DisplayLinkService::unknownLinkReason()));
                  }
                  return;
              }
              m_diag->write(QStringLiteral("session"),
                            QStringLiteral("meet %1: session issued to location '%2' client %3 as %4%5")
                                .arg(meet->meetId(), session.locationName, session.clientId, roleName(session.role),
                                     session.displayLinkId.isEmpty()
                                         ? QString()
                                         : QStringLiteral(" through display link ") + session.displayLinkId));
              if (!c) {
                  return;
              }
              bind(c, meet, session);
              const QString meetId = meet->meetId();
              c->send(SyncService::loggedIn(replyType, *meet, token, session));
          });
    forgetSessions(expired);
}

void LiveServer::handle(ClientConnection* c, const CreateMeetRequest& req)
{
    m_login->create(c, req);
}

void LiveServer::handle(ClientConnection* c, const JoinMeetRequest& req)
{
    m_login->join(c, req);
}

void LiveServer::handle(ClientConnection* c, const RestoreMeetRequest& req)
{
    m_login->restore(c, req);
}

void LiveServer::approveRestore(const QString& meetId)
{
    if (m_login) {
        m_login->approveRestore(meetId);
    } else {
        m_options.approvedRestores.insert(meetId); // before start(): taken along by it
    }
}

void LiveServer::refuseRestore(const QString& meetId)
{
    if (m_login) {
        m_login->refuseRestore(meetId);
    } else {
        m_options.approvedRestores.remove(meetId);
    }
}

QJsonArray LiveServer::pendingRestores() const
{
    return m_login ? m_login->pendingRestores() : QJsonArray();
}

QList<RestoreRequestInfo> LiveServer::restoreRequests() const
{
    return m_login ? m_login->restoreRequests() : QList<RestoreRequestInfo>();
}

void LiveServer::handle(ClientConnection* c, const JoinDisplayRequest& req)
{
    m_displayLinks->join(c, req);
}

void LiveServer::mintDisplayLink(const QString& meetId, const QString& label,
                                 std::function<void(const DisplayLinkInfo&, const QString&, const QString&)> done)
{
    if (!m_displayLinks) {
        if (done) {
            done(DisplayLinkInfo{}, QString(), notRunning());
        }
        return;
    }
    m_displayLinks->mint(meetId, label, std::move(done));
}

void LiveServer::revokeDisplayLink(
    const QString& meetId, const QString& linkId,
    std::function<void(int socketsClosed, const QString& error, const QString& warning)> done)
{
    if (!m_displayLinks) {
        if (done) {
            done(0, notRunning(), QString());
        }
        return;
    }
    m_displayLinks->revoke(meetId, linkId, std::move(done));
}

QList<DisplayLinkInfo> LiveServer::displayLinks() const
{
    return m_displayLinks ? m_displayLinks->links() : QList<DisplayLinkInfo>();
}

QSet<QString> LiveServer::unsavedDisplayLinkMeets() const
{
    return m_displayLinks ? m_displayLinks->unsavedMeets() : QSet<QString>();
}

void LiveServer::unbind(ClientConnection* c)
{
    if (const auto& b = c->binding()) {
        m_boundByMeet[b->meetId].remove(c->id());
    }
    c->unbind();
}

void LiveServer::forgetSessions(const QList<QByteArray>& tokenHashes)
{
    if (tokenHashes.isEmpty()) {
        return;
    }
    const QSet<QByteArray> gone(tokenHashes.cbegin(), tokenHashes.cend());
    for (const QByteArray& h : tokenHashes) {
        m_registry->unindexSession(h);
    }
    // Sockets still bound to a dropped session stop receiving relays, and are told why.
    for (const auto& [id, c] : m_connections) {
        const auto& b = c->binding();
        if (b && gone.contains(b->session.tokenHash)) {
            c->send(Reply::invalidSession(QString(), QStringLiteral("session ended; join the meet again")));
            m_boundByMeet[b->meetId].remove(id);
            c->unbind();
        }
    }
}

std::optional<LiveServer::Authenticated> LiveServer::authenticate(ClientConnection* c, const QString& token)
{
    if (!SessionStore::isWellFormedToken(token)) {
        c->send(Reply::invalidSession(token, QStringLiteral("a session token is 43 base64url characters")));
        return std::nullopt;
    }
    const QByteArray hash = SessionStore::hashToken(token);
    Meet* meet = m_registry->meetForToken(hash);
    Session session;
    const SessionStore::Status status = meet ? meet->sessions().check(hash, &session) : SessionStore::Status::Unknown;
    if (status == SessionStore::Status::Expired) {
        c->send(Reply::invalidSession(token, QStringLiteral("session expired; join the meet again")));
        return std::nullopt;
    }
    if (status != SessionStore::Status::Valid) {
        c->send(Reply::invalidSession(token, QStringLiteral("unknown session; join the meet again")));
        return std::nullopt;
    }
    bind(c, meet, session);
    return Authenticated{meet, session};
}

void LiveServer::bind(ClientConnection* c, Meet* meet, const Session& session)
{
    const bool fresh = !c->binding() || c->binding()->session.tokenHash != session.tokenHash;
    if (const auto& old = c->binding()) {
        m_boundByMeet[old->meetId].remove(c->id());
        if (old->meetId != meet->meetId()) {
            c->pull.reset();
        }
    }
    c->bind(meet->meetId(), session);
    m_boundByMeet[meet->meetId()].insert(c->id());
    if (fresh) {
        // The round trip the director sees would otherwise wait for the first heartbeat (30 s).
        // Once per connection: a client cannot make the server ping by presenting tokens.
        if (c->takeFirstBind()) {
            c->socket()->ping();
        }
        Q_EMIT connectionBound(ServerIntrospection::connectionInfo(*c));
    }
}

void LiveServer::handle(ClientConnection* c, const UpdateInitRequest& req)
{
    if (const auto auth = authenticate(c, req.sessionToken)) {
        m_sync.submit(c, auth->meet, auth->session, req.updates);
    }
}

void LiveServer::handle(ClientConnection* c, const ClientPullRequest& req)
{
    if (const auto auth = authenticate(c, req.sessionToken)) {
        m_sync.pull(c, auth->meet, req);
    }
}

void LiveServer::handle(ClientConnection* c, const RecoveryPushRequest& req)
{
    const auto auth = authenticate(c, req.sessionToken);
    if (!auth) {
        return;
    }
    const quint64 id = c->id();
    m_diag->write(QStringLiteral("recovery"),
                  QStringLiteral("meet %1: location '%2' client %3 gives back %4 entr(ies) of epoch %5")
                      .arg(auth->meet->meetId(), auth->session.locationName, auth->session.clientId)
                      .arg(req.entries.size())
                      .arg(req.epoch));
    m_sync.recoveryPush(c, auth->meet, auth->session, req, [this, id]() -> SyncPeer* { return connection(id); });
}

void LiveServer::watchMeet(Meet* meet)
{
    connect(meet, &Meet::storageBroken, this, [this, meet](const QString& error) {
        m_storageErrors.insert(meet->meetId(), error);
        m_diag->write(QStringLiteral("storage"),
                      QStringLiteral("meet %1: journal cannot be repaired (%2); the meet accepts no updates until the "
                                     "server is restarted")
                          .arg(meet->meetId(), error));
        Q_EMIT meetChanged(meet->meetId());
    });
    connect(meet, &Meet::committed, this,
            [this, meet](const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                         const QHash<quint64, QList<Meet::Rejection>>& rejections) {
                onCommitted(meet, entries, acks, rejections);
            });
    connect(meet, &Meet::commitFailed, this,
            [this, meet](const QHash<quint64, QList<qint64>>& unacked, const QString& error) {
                m_diag->write(QStringLiteral("storage"),
                              QStringLiteral("meet %1: journal flush failed, %2 client(s) told to resend: %3")
                                  .arg(meet->meetId())
                                  .arg(unacked.size())
                                  .arg(error));
                m_sync.commitFailed(unacked, [this](quint64 id) -> SyncPeer* { return connection(id); });
                Q_EMIT meetChanged(meet->meetId());
            });
    connect(meet, &Meet::conflictRecorded, this, [this, meet](const ConflictRecord& r) {
        // Keys, locations and numbers only: values can be personal data and stay in conflicts.json.log.
        const QString outcome = r.outcome == ConflictRecord::Outcome::Rejected
            ? QStringLiteral("lost to serverSeqNum %1 of location '%2'")
                  .arg(r.winner.serverSeqNum)
                  .arg(r.winner.locationName)
            : QStringLiteral("overruled %1 entr(ies) as serverSeqNum %2").arg(r.overruled.size()).arg(r.serverSeqNum);
        m_diag->write(QStringLiteral("conflict"),
                      QStringLiteral("meet %1: update of %2 from location '%3' (priority %4) %5")
                          .arg(meet->meetId(), r.key, r.locationName)
                          .arg(r.priority)
                          .arg(outcome));
        Q_EMIT conflictRecorded(ConflictInfo{meet->meetId(), r});
    });
    Q_EMIT meetChanged(meet->meetId());
}

void LiveServer::onCommitted(Meet* meet, const QList<JournalEntry>& entries,
                             const QHash<quint64, QList<Meet::Ack>>& acks,
                             const QHash<quint64, QList<Meet::Rejection>>& rejections)
{
    const qint64 now = m_clock->nowMs();
    const QSet<quint64> boundIds = m_boundByMeet.value(meet->meetId());
    QList<SyncPeer*> bound;
    for (quint64 id : boundIds) {
        ClientConnection* c = connection(id);
        if (!c || !c->binding()) {
            continue;
        }
        if (!entries.isEmpty() && c->binding()->session.expiresMs <= now) {
            // Say so once instead of going silent: a board left running learns it must join again.
            c->send(Reply::invalidSession(QString(), QStringLiteral("session expired; join the meet again")));
            c->unbind();
            m_boundByMeet[meet->meetId()].remove(id);
            continue;
        }
        bound.append(c);
    }
    m_sync.fanOut(meet, entries, acks, rejections, bound, [this](quint64 id) -> SyncPeer* { return connection(id); });
    Q_EMIT meetChanged(meet->meetId());
}

} // namespace oll
