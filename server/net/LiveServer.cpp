#include "net/LiveServer.h"

#include "auth/AuthWorker.h"
#include "net/ClientConnection.h"
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

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

/// One answer for a token that never existed and one that was revoked: a guesser learns nothing.
QString unknownDisplayLink()
{
    return QStringLiteral("unknown or revoked display link; ask the meet director for a new one");
}

/// Failed JOIN_DISPLAYs are counted in the login throttle as if for one meet of this name (no
/// meet ID is 9 digits of this), and in the address's count across all meets.
QString displayThrottleKey()
{
    return QStringLiteral("display-link");
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
    , m_createWindow(m_options.limits.maxMeetsCreatedPerAddressPerHour, 60LL * 60 * 1000)
    , m_heartbeat(this) // parented, so that moveToThread() takes the timer along
    , m_sync(m_options.limits)
    , m_approvedRestores(m_options.approvedRestores)
    , m_http(this)
{
    connect(&m_heartbeat, &QTimer::timeout, this, &LiveServer::heartbeat);
}

LiveServer::~LiveServer()
{
    // Clients first (they refer to meets), then the auth pool, then meets (they wait for flushes).
    m_connections.clear();
    m_auth.reset();
    m_registry.reset();
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
    m_decoyHash.params = m_options.scrypt;
    m_decoyHash.salt = m_random->bytes(16);
    m_decoyHash.hash = m_random->bytes(32);

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
        installAdminRoutes();
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
        const ConnectionInfo opened = infoOf(*c);
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
    const ConnectionInfo closed = infoOf(*connection);
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

void LiveServer::handle(ClientConnection* c, const CreateMeetRequest& req)
{
    const QString invalid = validateCreate(req, m_options.limits);
    if (!invalid.isEmpty()) {
        c->send(Reply::createRejected(invalid));
        return;
    }
    const QString addr = c->peerAddress();
    if (const qint64 wait = m_createWindow.retryAfterMs(addr, m_clock->steadyMs()); wait > 0) {
        c->send(
            Reply::createRejected(QStringLiteral("this address has created %1 meets in the last hour; try again later")
                                      .arg(m_options.limits.maxMeetsCreatedPerAddressPerHour),
                                  wait));
        return;
    }
    if (hashPassword(
            c, req.password, [this, req](quint64 id, PasswordHash hash) { finishCreate(id, req, std::move(hash)); },
            &Reply::createRejected)) {
        // Counted once accepted, so refusals for being busy do not use up the hourly allowance.
        m_createWindow.tryRecord(addr, m_clock->steadyMs());
    }
}

bool LiveServer::hashPassword(ClientConnection* c, const QString& password,
                              std::function<void(quint64 connectionId, PasswordHash hash)> done,
                              std::function<QByteArray(const QString&, qint64)> reject)
{
    const QString addr = c->peerAddress();
    if (m_authPerAddress.value(addr) >= m_options.limits.maxPendingAuthPerAddress) {
        c->send(reject(QStringLiteral("this address already has logins being checked; try again shortly"), 1000));
        return false;
    }
    // The salt is drawn here, on the event-loop thread, so the random source needs no locking.
    const QByteArray salt = m_random->bytes(16);
    auto hash = std::make_shared<PasswordHash>();
    auto failed = std::make_shared<bool>(false);
    const ScryptParams params = m_options.scrypt;
    const QByteArray utf8 = password.toUtf8();
    const quint64 id = c->id();
    const bool queued = m_auth->run(
        [hash, failed, params, utf8, salt] {
            try {
                *hash = PasswordHasher::hash(utf8, params, salt);
            } catch (const std::exception&) {
                *failed = true;
            }
        },
        [this, id, hash, failed, addr, done = std::move(done), reject] {
            releaseAuthSlot(addr);
            ClientConnection* conn = connection(id);
            if (!conn) {
                return; // the client left while hashing: a meet nobody knows the ID of is not made
            }
            if (*failed) {
                conn->send(reject(QStringLiteral("the server could not hash the password"), 0));
                return;
            }
            guarded(conn, [&] { done(id, *hash); });
        });
    if (!queued) {
        c->send(reject(QStringLiteral("the server is busy with other logins; try again shortly"), 1000));
        return false;
    }
    m_authPerAddress[addr] += 1;
    return true;
}

void LiveServer::handle(ClientConnection* c, const RestoreMeetRequest& req)
{
    const auto meetId = normalizeMeetId(req.meetId);
    if (!meetId) {
        c->send(Reply::restoreRejected(QStringLiteral("a meet ID is 9 digits (spaces and dashes allowed)")));
        return;
    }
    CreateMeetRequest asCreate{req.thisLocationName, req.password, req.endpoints, req.clientId};
    const QString invalid = validateCreate(asCreate, m_options.limits);
    if (!invalid.isEmpty()) {
        c->send(Reply::restoreRejected(invalid));
        return;
    }
    if (m_registry->find(*meetId) || m_registry->isFinished(*meetId) || m_registry->damagedMeets().contains(*meetId)
        || m_registry->isReservedOrPresent(*meetId)) {
        c->send(Reply::restoreRejected(
            QStringLiteral("meet %1 exists on this server; join it instead").arg(displayMeetId(*meetId))));
        return;
    }
    const QString addr = c->peerAddress();
    if (m_refusedRestores.contains(*meetId) && !m_approvedRestores.contains(*meetId)) {
        c->send(Reply::restoreRejected(
            QStringLiteral("the meet director refused to restore meet %1 on this server").arg(displayMeetId(*meetId))));
        return;
    }
    if (!m_approvedRestores.contains(*meetId)) {
        const bool fresh = !m_pendingRestores.contains(*meetId);
        if (fresh && m_pendingRestores.size() >= 100) {
            m_pendingRestores.erase(m_pendingRestores.begin());
        }
        m_pendingRestores.insert(
            *meetId,
            RestoreRequest{req.thisLocationName, addr, m_clock->nowMs(), static_cast<int>(req.endpoints.size())});
        if (fresh) {
            m_diag->write(QStringLiteral("restore"),
                          QStringLiteral("meet %1: location '%2' at %3 asks to restore it from its log; approve with "
                                         "--approve-restore %1 or POST /admin/restores/%1/approve")
                              .arg(*meetId, req.thisLocationName, addr));
            const RestoreRequest& r = m_pendingRestores[*meetId];
            Q_EMIT restoreRequested(
                RestoreRequestInfo{*meetId, r.locationName, r.address, r.timeMs, r.endpoints, false});
        }
        c->send(Reply::restoreRejected(
            QStringLiteral("this server has no meet %1; the meet director must approve restoring it from your log")
                .arg(displayMeetId(*meetId)),
            2000, true));
        return;
    }
    if (const qint64 wait = m_createWindow.retryAfterMs(addr, m_clock->steadyMs()); wait > 0) {
        c->send(Reply::restoreRejected(QStringLiteral("this address has created %1 meets in the last hour; try again "
                                                      "later")
                                           .arg(m_options.limits.maxMeetsCreatedPerAddressPerHour),
                                       wait));
        return;
    }
    const QString mid = *meetId;
    if (hashPassword(
            c, req.password,
            [this, req, mid](quint64 id, PasswordHash hash) {
                if (!m_approvedRestores.contains(mid) || !m_registry->reserveMeetId(mid)) {
                    if (auto* conn = connection(id)) {
                        conn->send(Reply::restoreRejected(
                            QStringLiteral("meet %1 is being restored by another client; join it")
                                .arg(displayMeetId(mid))));
                    }
                    return;
                }
                MeetConfig config;
                config.meetId = mid;
                config.endpoints = req.endpoints;
                config.password = std::move(hash);
                config.createdMs = m_clock->nowMs();
                m_registry->createMeet(
                    std::move(config),
                    [this, id, req, mid](Meet* meet, const QString&) {
                        if (!meet) {
                            if (auto* conn = connection(id)) {
                                conn->send(Reply::restoreRejected(
                                    QStringLiteral("the server could not store the meet; tell the meet director")));
                            }
                            return;
                        }
                        m_approvedRestores.remove(mid);
                        m_pendingRestores.remove(mid);
                        m_diag->write(QStringLiteral("restore"),
                                      QStringLiteral("meet %1 restored by location '%2' client %3 from epoch %4")
                                          .arg(mid, req.thisLocationName, req.clientId, req.epoch));
                        Q_EMIT restoreCompleted(mid);
                        guarded(connection(id), [&] {
                            issueSession(id, meet, req.clientId, req.thisLocationName, Role::Update,
                                         MsgType::MeetRestored);
                        });
                    },
                    req.epoch);
            },
            [](const QString& reason, qint64 retry) { return Reply::restoreRejected(reason, retry); })) {
        m_createWindow.tryRecord(addr, m_clock->steadyMs());
    }
}

QJsonArray LiveServer::pendingRestores() const
{
    QJsonArray out;
    for (auto it = m_pendingRestores.cbegin(); it != m_pendingRestores.cend(); ++it) {
        out.append(QJsonObject{{QStringLiteral("meetId"), it.key()},
                               {QStringLiteral("locationName"), it->locationName},
                               {QStringLiteral("address"), it->address},
                               {QStringLiteral("requestedAt"), isoTime(it->timeMs)},
                               {QStringLiteral("endpoints"), it->endpoints},
                               {QStringLiteral("approved"), m_approvedRestores.contains(it.key())}});
    }
    return out;
}

void LiveServer::approveRestore(const QString& meetId)
{
    m_refusedRestores.remove(meetId);
    m_approvedRestores.insert(meetId);
}

void LiveServer::refuseRestore(const QString& meetId)
{
    m_approvedRestores.remove(meetId);
    m_pendingRestores.remove(meetId);
    m_refusedRestores.insert(meetId);
    if (m_diag) {
        m_diag->write(QStringLiteral("restore"),
                      QStringLiteral("meet %1: restore refused by the meet director").arg(meetId));
    }
}

QList<RestoreRequestInfo> LiveServer::restoreRequests() const
{
    QList<RestoreRequestInfo> out;
    for (auto it = m_pendingRestores.cbegin(); it != m_pendingRestores.cend(); ++it) {
        out.append(RestoreRequestInfo{it.key(), it->locationName, it->address, it->timeMs, it->endpoints,
                                      m_approvedRestores.contains(it.key())});
    }
    return out;
}

ConnectionInfo LiveServer::infoOf(const ClientConnection& c) const
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

MeetInfo LiveServer::infoOf(const Meet& meet) const
{
    MeetInfo info;
    info.meetId = meet.meetId();
    const QJsonObject& doc = meet.state().document();
    info.meetName = doc.value(QStringLiteral("meet")).toObject().value(QStringLiteral("name")).toString();
    info.lifterCount = static_cast<int>(
        doc.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray().size());
    info.headSeq = meet.assignedSeq();
    info.durableSeq = meet.durableSeq();
    if (meet.isStorageBroken()) {
        info.storage = StorageState::Broken;
        info.storageDetail
            = QStringLiteral("the journal cannot be written (%1); the meet accepts no updates. Free disk space or fix "
                             "the data folder, then restart the server: the browsers keep their updates and send "
                             "them again")
                  .arg(m_storageErrors.value(meet.meetId(), QStringLiteral("write error")));
    }
    info.endpoints = meet.config().endpoints;
    info.conflictCount = meet.conflictCount();
    info.createdMs = meet.config().createdMs;
    info.epoch = meet.epoch();
    return info;
}

QList<ConnectionInfo> LiveServer::connectionInfos() const
{
    QList<ConnectionInfo> out;
    out.reserve(static_cast<qsizetype>(m_connections.size()));
    for (const auto& entry : m_connections) {
        out.append(infoOf(*entry.second));
    }
    std::sort(out.begin(), out.end(),
              [](const ConnectionInfo& a, const ConnectionInfo& b) { return a.connectionId < b.connectionId; });
    return out;
}

void LiveServer::fillSnapshot(ServerSnapshot& snapshot) const
{
    snapshot.bindAddress = m_options.bindAddress;
    snapshot.port = port();
    snapshot.dataDir = m_options.dataDir;
    snapshot.openlifterDir = m_options.site.openlifterDir;
    snapshot.startedMs = m_startedWallMs;
    snapshot.connections = connectionInfos();
    snapshot.restores = restoreRequests();
    snapshot.health = health();
    snapshot.meets.clear();
    snapshot.displayLinks = displayLinks();
    if (!m_registry) {
        return;
    }
    QHash<QString, QSet<QString>> online; // meetId -> clientIds with a bound connection
    for (const ConnectionInfo& c : snapshot.connections) {
        if (c.bound) {
            online[c.meetId].insert(c.clientId);
        }
    }
    for (const Meet* meet : m_registry->meets()) {
        MeetInfo info = infoOf(*meet);
        info.clientsOnline = static_cast<int>(online.value(info.meetId).size());
        snapshot.meets.append(info);
    }
    const QHash<QString, QString> damaged = m_registry->damagedMeets();
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
    for (const QString& id : m_registry->finishedMeets()) {
        MeetInfo info;
        info.meetId = id;
        info.finished = true;
        snapshot.meets.append(info);
    }
    std::sort(snapshot.meets.begin(), snapshot.meets.end(),
              [](const MeetInfo& a, const MeetInfo& b) { return a.meetId < b.meetId; });
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

void LiveServer::installAdminRoutes()
{
    // The meet director's machine only: approving a restore hands a meet ID to whoever asked.
    auto local = [](const QHttpServerRequest& request) { return request.remoteAddress().isLoopback(); };
    auto forbidden = [] {
        return QHttpServerResponse(QJsonObject{{QStringLiteral("error"),
                                                QStringLiteral("admin requests are accepted from this computer only")}},
                                   QHttpServerResponder::StatusCode::Forbidden);
    };
    m_http.route(QStringLiteral("/admin/restores"), QHttpServerRequest::Method::Get,
                 [this, local, forbidden](const QHttpServerRequest& request) {
                     if (!local(request)) {
                         return forbidden();
                     }
                     return QHttpServerResponse(QJsonObject{{QStringLiteral("restores"), pendingRestores()}});
                 });
    m_http.route(QStringLiteral("/admin/restores/<arg>/approve"), QHttpServerRequest::Method::Post,
                 [this, local, forbidden](const QString& typed, const QHttpServerRequest& request) {
                     if (!local(request)) {
                         return forbidden();
                     }
                     const auto id = normalizeMeetId(typed);
                     if (!id) {
                         return QHttpServerResponse(
                             QJsonObject{{QStringLiteral("error"), QStringLiteral("a meet ID is 9 digits")}},
                             QHttpServerResponder::StatusCode::BadRequest);
                     }
                     approveRestore(*id);
                     m_diag->write(QStringLiteral("restore"),
                                   QStringLiteral("meet %1: restore approved by an admin request").arg(*id));
                     return QHttpServerResponse(
                         QJsonObject{{QStringLiteral("meetId"), *id}, {QStringLiteral("approved"), true}});
                 });
    m_http.route(QStringLiteral("/admin/meets/<arg>/conflicts"), QHttpServerRequest::Method::Get,
                 [this, local, forbidden](const QString& typed, const QHttpServerRequest& request) {
                     if (!local(request)) {
                         return forbidden();
                     }
                     const auto id = normalizeMeetId(typed);
                     Meet* meet = id ? m_registry->find(*id) : nullptr;
                     if (!meet) {
                         return QHttpServerResponse(
                             QJsonObject{{QStringLiteral("error"), QStringLiteral("no such meet")}},
                             QHttpServerResponder::StatusCode::NotFound);
                     }
                     QJsonArray list;
                     for (const ConflictRecord& r : meet->conflicts()) {
                         list.append(r.toJson());
                     }
                     return QHttpServerResponse(QJsonObject{{QStringLiteral("meetId"), *id},
                                                            {QStringLiteral("epoch"), meet->epoch()},
                                                            {QStringLiteral("conflicts"), list}});
                 });
}

void LiveServer::releaseAuthSlot(const QString& address)
{
    if (--m_authPerAddress[address] <= 0) {
        m_authPerAddress.remove(address);
    }
}

void LiveServer::finishCreate(quint64 connectionId, CreateMeetRequest req, PasswordHash hash)
{
    MeetConfig config;
    config.meetId = m_registry->reserveMeetId();
    config.endpoints = req.endpoints;
    config.password = std::move(hash);
    config.createdMs = m_clock->nowMs();
    const QString meetId = config.meetId;
    m_registry->createMeet(
        std::move(config),
        [this, connectionId, req, meetId](Meet* meet, const QString& /*error: logged by the registry*/) {
            if (!meet) {
                if (auto* conn = connection(connectionId)) {
                    // The detail (paths, errno) goes to diag.log only.
                    conn->send(Reply::createRejected(
                        QStringLiteral("the server could not store the meet; tell the meet director")));
                }
                return;
            }
            m_diag->write(QStringLiteral("create"),
                          QStringLiteral("meet %1 created by location '%2' client %3 with %4 endpoint(s)")
                              .arg(meetId, req.thisLocationName, req.clientId)
                              .arg(req.endpoints.size()));
            guarded(connection(connectionId), [&] {
                issueSession(connectionId, meet, req.clientId, req.thisLocationName, Role::Update,
                             MsgType::MeetCreated);
            });
        });
}

void LiveServer::handle(ClientConnection* c, const JoinMeetRequest& req)
{
    const auto meetId = normalizeMeetId(req.meetId);
    if (!meetId) {
        c->send(Reply::joinRejected(QStringLiteral("a meet ID is 9 digits (spaces and dashes allowed)")));
        return;
    }
    if (!isValidClientId(req.clientId, m_options.limits.maxClientIdLength)) {
        c->send(Reply::joinRejected(QStringLiteral("clientId must be 1 to %1 characters of A-Z a-z 0-9 - _")
                                        .arg(m_options.limits.maxClientIdLength)));
        return;
    }
    const QString addr = c->peerAddress();
    const qint64 wait = m_throttle.retryAfterMs(addr, *meetId);
    if (wait > 0) {
        c->send(Reply::joinRejected(
            QStringLiteral("too many failed attempts from your address; try again in %1 s").arg((wait + 999) / 1000),
            wait));
        return;
    }
    if (m_registry->damagedMeets().contains(*meetId)) {
        c->send(Reply::joinRejected(QStringLiteral("this meet's data is damaged on the server and must be recovered; "
                                                   "ask the meet director")));
        return;
    }
    if (m_registry->isFinished(*meetId)) {
        c->send(Reply::joinRejected(QStringLiteral("this meet is finished and published; it can no longer be joined")));
        return;
    }
    if (req.password.size() > m_options.limits.maxPasswordLength) {
        m_throttle.recordFailure(addr, *meetId);
        c->send(Reply::joinRejected(QStringLiteral("invalid meet ID or password")));
        return;
    }
    // Checks still running count against the failure budget, so a burst of guesses cannot all be
    // checked before the first failure is counted - while several screens on one machine may
    // still join at the same moment. Once a back-off has passed, one attempt at a time.
    const QString pairKey = addr + u'|' + *meetId;
    const int inFlight = m_joinsInFlight.value(pairKey);
    if (inFlight > 0 && m_throttle.failures(addr, *meetId) + inFlight >= m_options.limits.failedJoinsBeforeBackoff) {
        c->send(Reply::joinRejected(QStringLiteral("too many joins for this meet from your address are being checked; "
                                                   "wait for their answers"),
                                    1000));
        return;
    }
    if (m_authPerAddress.value(addr) >= m_options.limits.maxPendingAuthPerAddress) {
        // One address cannot fill the shared queue of password checks and lock everyone else out.
        c->send(Reply::joinRejected(QStringLiteral("this address already has logins being checked; try again shortly"),
                                    1000));
        return;
    }
    const Meet* meet = m_registry->find(*meetId);
    // Unknown meets are checked against a decoy hash so the answer takes as long as for a real one.
    const PasswordHash stored = meet ? meet->config().password : m_decoyHash;
    const bool exists = meet != nullptr;
    auto ok = std::make_shared<bool>(false);
    const QByteArray password = req.password.toUtf8();
    const quint64 id = c->id();
    const QString mid = *meetId;
    const bool queued
        = m_auth->run([ok, password, stored, exists] { *ok = PasswordHasher::verify(password, stored) && exists; },
                      [this, id, addr, req, mid, ok, pairKey] {
                          releaseAuthSlot(addr);
                          if (--m_joinsInFlight[pairKey] <= 0) {
                              m_joinsInFlight.remove(pairKey);
                          }
                          guarded(connection(id), [&] { finishJoin(id, addr, req, mid, *ok); });
                      });
    if (queued) {
        m_joinsInFlight[pairKey] += 1;
        m_authPerAddress[addr] += 1;
    } else {
        c->send(Reply::joinRejected(QStringLiteral("the server is busy with other logins; try again shortly"), 1000));
    }
}

void LiveServer::finishJoin(quint64 connectionId, const QString& address, const JoinMeetRequest& req,
                            const QString& meetId, bool passwordOk)
{
    ClientConnection* c = connection(connectionId);
    Meet* meet = m_registry->find(meetId);
    if (!passwordOk || !meet) {
        m_throttle.recordFailure(address, meetId);
        m_diag->write(QStringLiteral("join"),
                      QStringLiteral("failed join to meet %1 from %2 (%3 recent failure(s))")
                          .arg(meetId, address)
                          .arg(m_throttle.failures(address, meetId)));
        if (c) {
            c->send(Reply::joinRejected(QStringLiteral("invalid meet ID or password")));
        }
        return;
    }
    m_throttle.recordSuccess(address, meetId);
    if (!c) {
        return; // the client left while its password was checked: issue nothing
    }
    if (!meet->config().priorityOf(req.locationName)) {
        QStringList names;
        for (const Endpoint& ep : meet->config().endpoints) {
            names.append(ep.locationName);
        }
        c->send(Reply::joinRejected(QStringLiteral("unknown location '%1'; this meet's locations are: %2")
                                        .arg(req.locationName.left(64), names.join(QStringLiteral(", ")))));
        return;
    }
    issueSession(connectionId, meet, req.clientId, req.locationName, req.role, MsgType::MeetJoined);
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
                      c->send(Reply::joinRejected(unknownDisplayLink()));
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

void LiveServer::handle(ClientConnection* c, const JoinDisplayRequest& req)
{
    if (!isValidClientId(req.clientId, m_options.limits.maxClientIdLength)) {
        c->send(Reply::joinRejected(QStringLiteral("clientId must be 1 to %1 characters of A-Z a-z 0-9 - _")
                                        .arg(m_options.limits.maxClientIdLength)));
        return;
    }
    const QString addr = c->peerAddress();
    if (const qint64 wait = m_throttle.retryAfterMs(addr, displayThrottleKey()); wait > 0) {
        c->send(Reply::joinRejected(
            QStringLiteral("too many failed attempts from your address; try again in %1 s").arg((wait + 999) / 1000),
            wait));
        return;
    }
    if (!SessionStore::isWellFormedToken(req.displayToken)) {
        // Cannot match any link, so it is no guess: refused without hashing and not counted.
        c->send(Reply::joinRejected(QStringLiteral("a display link token is 43 base64url characters; open the whole "
                                                   "link the meet director copied")));
        return;
    }
    // SHA-256 of 43 characters: cheap enough for the event loop, unlike a password check.
    const QByteArray hash = SessionStore::hashToken(req.displayToken);
    Meet* meet = m_registry->meetForDisplayToken(hash);
    const std::optional<DisplayLink> link = meet ? meet->displayLinks().check(hash) : std::nullopt;
    if (!link) {
        m_throttle.recordFailure(addr, displayThrottleKey());
        m_diag->write(QStringLiteral("join"),
                      QStringLiteral("failed display link join from %1 (%2 recent failure(s))")
                          .arg(addr)
                          .arg(m_throttle.failures(addr, displayThrottleKey())));
        c->send(Reply::joinRejected(unknownDisplayLink()));
        return;
    }
    m_throttle.recordSuccess(addr, displayThrottleKey());
    // A board is at no endpoint: its session is named after the link, which is what the
    // director sees in the client list.
    issueSession(c->id(), meet, req.clientId, link->label, Role::Display, MsgType::MeetJoined, link->linkId);
}

QString LiveServer::displayLinkMeetProblem(const QString& meetId) const
{
    if (!m_registry) {
        return QStringLiteral("the server is not running");
    }
    if (m_registry->isFinished(meetId)) {
        return QStringLiteral("meet %1 is finished; it has no display links").arg(displayMeetId(meetId));
    }
    if (m_registry->damagedMeets().contains(meetId)) {
        return QStringLiteral("meet %1 could not be loaded (its data is damaged)").arg(displayMeetId(meetId));
    }
    if (!m_registry->find(meetId)) {
        return QStringLiteral("there is no meet %1 on this server").arg(meetId.left(32));
    }
    return {};
}

void LiveServer::mintDisplayLink(const QString& meetId, const QString& label,
                                 std::function<void(const DisplayLinkInfo&, const QString&, const QString&)> done)
{
    auto fail = [&done](const QString& why) {
        if (done) {
            done(DisplayLinkInfo{}, QString(), why);
        }
    };
    const QString id = normalizeMeetId(meetId).value_or(meetId);
    if (const QString problem = displayLinkMeetProblem(id); !problem.isEmpty()) {
        return fail(problem);
    }
    if (const QString bad = DisplayLinkStore::validateLabel(label, m_options.limits.maxDisplayLinkLabelLength);
        !bad.isEmpty()) {
        return fail(bad);
    }
    Meet* meet = m_registry->find(id);
    if (meet->displayLinks().size() >= m_options.limits.maxDisplayLinksPerMeet) {
        return fail(QStringLiteral("meet %1 already has %2 display links; revoke one first")
                        .arg(displayMeetId(id))
                        .arg(m_options.limits.maxDisplayLinksPerMeet));
    }
    DisplayLinkStore::Minted minted;
    try {
        minted = meet->displayLinks().mint(label);
    } catch (const std::exception& e) {
        m_diag->write(QStringLiteral("error"),
                      QStringLiteral("display link not minted: %1").arg(QString::fromLocal8Bit(e.what())));
        return fail(QStringLiteral("the server could not draw a random token; try again"));
    }
    m_registry->indexDisplayLink(minted.link.tokenHash, id);
    const DisplayLink link = minted.link;
    const QString token = minted.token;
    // Handed out only once its hash is on disk, so a restart never forgets a link a board holds.
    meet->persistDisplayLinks([this, meet, link, token, done](bool ok, const QString& error) {
        if (!ok) {
            meet->displayLinks().revoke(link.linkId);
            m_registry->unindexDisplayLink(link.tokenHash);
            m_diag->write(QStringLiteral("storage"),
                          QStringLiteral("meet %1: cannot write display-links.json: %2").arg(meet->meetId(), error));
            if (done) {
                done(DisplayLinkInfo{}, QString(),
                     QStringLiteral("the display link could not be saved (%1); check the data folder").arg(error));
            }
            return;
        }
        m_diag->write(
            QStringLiteral("display"),
            QStringLiteral("meet %1: display link %2 '%3' minted").arg(meet->meetId(), link.linkId, link.label));
        if (done) {
            done(DisplayLinkInfo{link.linkId, meet->meetId(), link.label, link.createdMs, 0}, token, QString());
        }
    });
}

void LiveServer::revokeDisplayLink(const QString& meetId, const QString& linkId,
                                   std::function<void(int socketsClosed, const QString& error)> done)
{
    auto fail = [&done](const QString& why) {
        if (done) {
            done(0, why);
        }
    };
    const QString id = normalizeMeetId(meetId).value_or(meetId);
    if (const QString problem = displayLinkMeetProblem(id); !problem.isEmpty()) {
        return fail(problem);
    }
    Meet* meet = m_registry->find(id);
    const std::optional<DisplayLink> link = meet->displayLinks().revoke(linkId);
    if (!link) {
        return fail(QStringLiteral("meet %1 has no display link %2").arg(displayMeetId(id), linkId.left(64)));
    }
    // In memory first, so the token and its sessions stop working now, not when the disk is done.
    m_registry->unindexDisplayLink(link->tokenHash);
    for (const QByteArray& h : meet->sessions().revokeIssuedFrom(link->linkId)) {
        m_registry->unindexSession(h);
    }
    std::vector<quint64> holders;
    for (const auto& [cid, c] : m_connections) {
        const auto& b = c->binding();
        if (b && b->meetId == id && b->session.displayLinkId == link->linkId) {
            holders.push_back(cid);
        }
    }
    int closed = 0;
    for (quint64 cid : holders) {
        // close() may emit disconnected synchronously, which erases from m_connections.
        if (ClientConnection* c = connection(cid)) {
            m_boundByMeet[id].remove(cid);
            c->unbind();
            c->pull.reset();
            c->close(static_cast<QWebSocketProtocol::CloseCode>(kDisplayLinkRevokedCloseCode),
                     QStringLiteral("display link revoked"));
            ++closed;
        }
    }
    m_diag->write(QStringLiteral("display"),
                  QStringLiteral("meet %1: display link %2 '%3' revoked (%4 socket(s) closed)")
                      .arg(id, link->linkId, link->label)
                      .arg(closed));
    // display-links.json decides: sessions of a link missing from it are dropped at load, so a
    // crash before sessions.json is rewritten revives nothing.
    auto linksError = std::make_shared<QString>();
    meet->persistDisplayLinks([this, id, linksError](bool ok, const QString& error) {
        if (!ok) {
            *linksError = error;
            m_diag->write(QStringLiteral("storage"),
                          QStringLiteral("meet %1: cannot write display-links.json: %2").arg(id, error));
        }
    });
    const QList<QByteArray> expired
        = meet->persistSessions([this, id, closed, linksError, done](bool ok, const QString& error) {
              if (!ok) {
                  m_diag->write(QStringLiteral("storage"),
                                QStringLiteral("meet %1: cannot write sessions.json: %2").arg(id, error));
              }
              if (done) {
                  done(closed,
                       linksError->isEmpty()
                           ? QString()
                           : QStringLiteral("the link is revoked, but saving that failed (%1): it would work "
                                            "again after a restart; check the data folder and revoke it again")
                                 .arg(*linksError));
              }
          });
    forgetSessions(expired);
}

QList<DisplayLinkInfo> LiveServer::displayLinks() const
{
    QList<DisplayLinkInfo> out;
    if (!m_registry) {
        return out;
    }
    QHash<QString, int> inUse; // "meetId|linkId" -> open sockets bound through it
    for (const auto& [cid, c] : m_connections) {
        const auto& b = c->binding();
        if (b && !b->session.displayLinkId.isEmpty() && !c->isClosing()) {
            inUse[b->meetId + u'|' + b->session.displayLinkId] += 1;
        }
    }
    const QList<Meet*> meets = m_registry->meets();
    for (const Meet* m : meets) {
        const QList<DisplayLink> links = m->displayLinks().links();
        for (const DisplayLink& l : links) {
            out.append(DisplayLinkInfo{l.linkId, m->meetId(), l.label, l.createdMs,
                                       inUse.value(m->meetId() + u'|' + l.linkId)});
        }
    }
    return out;
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
        Q_EMIT connectionBound(infoOf(*c));
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
