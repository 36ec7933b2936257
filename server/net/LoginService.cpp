// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/LoginService.h"

#include "auth/AuthWorker.h"
#include "auth/LoginThrottle.h"
#include "net/ClientConnection.h"
#include "net/LiveServer.h"
#include "storage/DiagLog.h"
#include "sync/MeetRegistry.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QDateTime>
#include <QJsonObject>

#include <memory>

namespace oll {
namespace {

QString isoTime(qint64 ms)
{
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC).toString(Qt::ISODateWithMs);
}

} // namespace

LoginService::LoginService(const ServerOptions& options, const Clock& clock, RandomSource& random,
                           MeetRegistry& registry, DiagLog& diag, AuthWorker& auth, LoginThrottle& throttle,
                           Hooks hooks, QObject* parent)
    : QObject(parent)
    , m_options(options)
    , m_clock(clock)
    , m_random(random)
    , m_registry(registry)
    , m_diag(diag)
    , m_auth(auth)
    , m_throttle(throttle)
    , m_hooks(std::move(hooks))
    , m_createWindow(m_options.limits.maxMeetsCreatedPerAddressPerHour, 60LL * 60 * 1000)
    , m_approvedRestores(m_options.approvedRestores)
{
    m_decoyHash.params = m_options.scrypt;
    m_decoyHash.salt = m_random.bytes(16);
    m_decoyHash.hash = m_random.bytes(32);
}

void LoginService::create(ClientConnection* c, const CreateMeetRequest& req)
{
    const QString invalid = validateCreate(req, m_options.limits);
    if (!invalid.isEmpty()) {
        c->send(Reply::createRejected(invalid));
        return;
    }
    const QString addr = c->peerAddress();
    if (const qint64 wait = m_createWindow.retryAfterMs(addr, m_clock.steadyMs()); wait > 0) {
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
        m_createWindow.tryRecord(addr, m_clock.steadyMs());
    }
}

bool LoginService::hashPassword(ClientConnection* c, const QString& password,
                                std::function<void(quint64 connectionId, PasswordHash hash)> done,
                                std::function<QByteArray(const QString&, qint64)> reject)
{
    const QString addr = c->peerAddress();
    if (m_authPerAddress.value(addr) >= m_options.limits.maxPendingAuthPerAddress) {
        c->send(reject(QStringLiteral("this address already has logins being checked; try again shortly"), 1000));
        return false;
    }
    // The salt is drawn here, on the event-loop thread, so the random source needs no locking.
    const QByteArray salt = m_random.bytes(16);
    auto hash = std::make_shared<PasswordHash>();
    auto failed = std::make_shared<bool>(false);
    const ScryptParams params = m_options.scrypt;
    const QByteArray utf8 = password.toUtf8();
    const quint64 id = c->id();
    const bool queued = m_auth.run(
        [hash, failed, params, utf8, salt] {
            try {
                *hash = PasswordHasher::hash(utf8, params, salt);
            } catch (const std::exception&) {
                *failed = true;
            }
        },
        [this, id, hash, failed, addr, done = std::move(done), reject] {
            releaseAuthSlot(addr);
            ClientConnection* conn = m_hooks.connection(id);
            if (!conn) {
                return; // the client left while hashing: a meet nobody knows the ID of is not made
            }
            if (*failed) {
                conn->send(reject(QStringLiteral("the server could not hash the password"), 0));
                return;
            }
            m_hooks.guarded(conn, [&] { done(id, *hash); });
        });
    if (!queued) {
        c->send(reject(QStringLiteral("the server is busy with other logins; try again shortly"), 1000));
        return false;
    }
    m_authPerAddress[addr] += 1;
    return true;
}

void LoginService::restore(ClientConnection* c, const RestoreMeetRequest& req)
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
    if (m_registry.find(*meetId) || m_registry.isFinished(*meetId) || m_registry.damagedMeets().contains(*meetId)
        || m_registry.isReservedOrPresent(*meetId)) {
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
            RestoreRequest{req.thisLocationName, addr, m_clock.nowMs(), static_cast<int>(req.endpoints.size())});
        if (fresh) {
            m_diag.write(QStringLiteral("restore"),
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
    if (const qint64 wait = m_createWindow.retryAfterMs(addr, m_clock.steadyMs()); wait > 0) {
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
                if (!m_approvedRestores.contains(mid) || !m_registry.reserveMeetId(mid)) {
                    if (auto* conn = m_hooks.connection(id)) {
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
                config.createdMs = m_clock.nowMs();
                m_registry.createMeet(
                    std::move(config),
                    [this, id, req, mid](Meet* meet, const QString&) {
                        if (!meet) {
                            if (auto* conn = m_hooks.connection(id)) {
                                conn->send(Reply::restoreRejected(
                                    QStringLiteral("the server could not store the meet; tell the meet director")));
                            }
                            return;
                        }
                        m_approvedRestores.remove(mid);
                        m_pendingRestores.remove(mid);
                        m_diag.write(QStringLiteral("restore"),
                                     QStringLiteral("meet %1 restored by location '%2' client %3 from epoch %4")
                                         .arg(mid, req.thisLocationName, req.clientId, req.epoch));
                        Q_EMIT restoreCompleted(mid);
                        m_hooks.guarded(m_hooks.connection(id), [&] {
                            m_hooks.issueSession(id, meet, req.clientId, req.thisLocationName, Role::Update,
                                                 MsgType::MeetRestored);
                        });
                    },
                    req.epoch);
            },
            [](const QString& reason, qint64 retry) { return Reply::restoreRejected(reason, retry); })) {
        m_createWindow.tryRecord(addr, m_clock.steadyMs());
    }
}

QJsonArray LoginService::pendingRestores() const
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

void LoginService::approveRestore(const QString& meetId)
{
    m_refusedRestores.remove(meetId);
    m_approvedRestores.insert(meetId);
}

void LoginService::refuseRestore(const QString& meetId)
{
    m_approvedRestores.remove(meetId);
    m_pendingRestores.remove(meetId);
    m_refusedRestores.insert(meetId);
    m_diag.write(QStringLiteral("restore"),
                 QStringLiteral("meet %1: restore refused by the meet director").arg(meetId));
}

QList<RestoreRequestInfo> LoginService::restoreRequests() const
{
    QList<RestoreRequestInfo> out;
    for (auto it = m_pendingRestores.cbegin(); it != m_pendingRestores.cend(); ++it) {
        out.append(RestoreRequestInfo{it.key(), it->locationName, it->address, it->timeMs, it->endpoints,
                                      m_approvedRestores.contains(it.key())});
    }
    return out;
}

void LoginService::releaseAuthSlot(const QString& address)
{
    if (--m_authPerAddress[address] <= 0) {
        m_authPerAddress.remove(address);
    }
}

void LoginService::finishCreate(quint64 connectionId, CreateMeetRequest req, PasswordHash hash)
{
    MeetConfig config;
    config.meetId = m_registry.reserveMeetId();
    config.endpoints = req.endpoints;
    config.password = std::move(hash);
    config.createdMs = m_clock.nowMs();
    const QString meetId = config.meetId;
    m_registry.createMeet(
        std::move(config),
        [this, connectionId, req, meetId](Meet* meet, const QString& /*error: logged by the registry*/) {
            if (!meet) {
                if (auto* conn = m_hooks.connection(connectionId)) {
                    // The detail (paths, errno) goes to diag.log only.
                    conn->send(Reply::createRejected(
                        QStringLiteral("the server could not store the meet; tell the meet director")));
                }
                return;
            }
            m_diag.write(QStringLiteral("create"),
                         QStringLiteral("meet %1 created by location '%2' client %3 with %4 endpoint(s)")
                             .arg(meetId, req.thisLocationName, req.clientId)
                             .arg(req.endpoints.size()));
            m_hooks.guarded(m_hooks.connection(connectionId), [&] {
                m_hooks.issueSession(connectionId, meet, req.clientId, req.thisLocationName, Role::Update,
                                     MsgType::MeetCreated);
            });
        });
}

void LoginService::join(ClientConnection* c, const JoinMeetRequest& req)
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
    if (m_registry.damagedMeets().contains(*meetId)) {
        c->send(Reply::joinRejected(QStringLiteral("this meet's data is damaged on the server and must be recovered; "
                                                   "ask the meet director")));
        return;
    }
    if (m_registry.isFinished(*meetId)) {
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
    const Meet* meet = m_registry.find(*meetId);
    // Unknown meets are checked against a decoy hash so the answer takes as long as for a real one.
    const PasswordHash stored = meet ? meet->config().password : m_decoyHash;
    const bool exists = meet != nullptr;
    auto ok = std::make_shared<bool>(false);
    const QByteArray password = req.password.toUtf8();
    const quint64 id = c->id();
    const QString mid = *meetId;
    const bool queued
        = m_auth.run([ok, password, stored, exists] { *ok = PasswordHasher::verify(password, stored) && exists; },
                     [this, id, addr, req, mid, ok, pairKey] {
                         releaseAuthSlot(addr);
                         if (--m_joinsInFlight[pairKey] <= 0) {
                             m_joinsInFlight.remove(pairKey);
                         }
                         m_hooks.guarded(m_hooks.connection(id), [&] { finishJoin(id, addr, req, mid, *ok); });
                     });
    if (queued) {
        m_joinsInFlight[pairKey] += 1;
        m_authPerAddress[addr] += 1;
    } else {
        c->send(Reply::joinRejected(QStringLiteral("the server is busy with other logins; try again shortly"), 1000));
    }
}

void LoginService::finishJoin(quint64 connectionId, const QString& address, const JoinMeetRequest& req,
                              const QString& meetId, bool passwordOk)
{
    ClientConnection* c = m_hooks.connection(connectionId);
    Meet* meet = m_registry.find(meetId);
    if (!passwordOk || !meet) {
        m_throttle.recordFailure(address, meetId);
        m_diag.write(QStringLiteral("join"),
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
    m_hooks.issueSession(connectionId, meet, req.clientId, req.locationName, req.role, MsgType::MeetJoined);
}

} // namespace oll
