// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "auth/PasswordHasher.h"
#include "host/ServerSnapshot.h"
#include "protocol/Messages.h"
#include "util/RateWindow.h"

#include <QHash>
#include <QJsonArray>
#include <QMap>
#include <QObject>
#include <QSet>

#include <functional>

namespace oll {

class AuthWorker;
class ClientConnection;
class Clock;
class DiagLog;
class LoginThrottle;
class Meet;
class MeetRegistry;
class RandomSource;
struct ServerOptions;

/// How a browser gets a session with a password: CREATE_MEET, JOIN_MEET and RESTORE_MEET (with
/// the director's approval gate). Passwords are checked on the auth pool, never on the event
/// loop; failed joins go through the login throttle, and an unknown meet is checked against a
/// decoy hash so that the answer's timing reveals nothing. Issuing the session and binding the
/// socket stay the server's (`Hooks`).
class LoginService : public QObject
{
    Q_OBJECT
public:
    struct Hooks
    {
        /// The open connection with this id, or null if it has gone.
        std::function<ClientConnection*(quint64 connectionId)> connection;
        /// Runs `handler`, answering the client instead of crashing if it throws.
        std::function<void(ClientConnection* c, const std::function<void()>& handler)> guarded;
        /// Issues a session, writes it, then sends `replyType` and binds the socket.
        std::function<void(quint64 connectionId, Meet* meet, const QString& clientId, const QString& location,
                           Role role, const QString& replyType)>
            issueSession;
    };

    LoginService(const ServerOptions& options, const Clock& clock, RandomSource& random, MeetRegistry& registry,
                 DiagLog& diag, AuthWorker& auth, LoginThrottle& throttle, Hooks hooks, QObject* parent = nullptr);

    void create(ClientConnection* c, const CreateMeetRequest& req);
    void join(ClientConnection* c, const JoinMeetRequest& req);
    void restore(ClientConnection* c, const RestoreMeetRequest& req);

    void approveRestore(const QString& meetId);
    void refuseRestore(const QString& meetId);
    /// Restore requests waiting for approval, as shown at GET /admin/restores.
    QJsonArray pendingRestores() const;
    QList<RestoreRequestInfo> restoreRequests() const;

Q_SIGNALS:
    void restoreRequested(const oll::RestoreRequestInfo& request);
    void restoreCompleted(const QString& meetId);

private:
    /// Hashes `password` on the auth pool and calls `done(connectionId, hash)` if the client is
    /// still there (refusals are sent with `reject`). False if the request was refused at once.
    bool hashPassword(ClientConnection* c, const QString& password,
                      std::function<void(quint64 connectionId, PasswordHash hash)> done,
                      std::function<QByteArray(const QString&, qint64)> reject);
    void finishCreate(quint64 connectionId, CreateMeetRequest req, PasswordHash hash);
    void finishJoin(quint64 connectionId, const QString& address, const JoinMeetRequest& req, const QString& meetId,
                    bool passwordOk);
    void releaseAuthSlot(const QString& address);

    const ServerOptions& m_options;
    const Clock& m_clock;
    RandomSource& m_random;
    MeetRegistry& m_registry;
    DiagLog& m_diag;
    AuthWorker& m_auth;
    LoginThrottle& m_throttle;
    Hooks m_hooks;
    PasswordHash m_decoyHash; // verified against when a meet ID is unknown, so timing reveals nothing
    QHash<QString, int> m_joinsInFlight; // "address|meetId" -> password checks running for the pair
    QHash<QString, int> m_authPerAddress; // address -> password checks queued or running
    RateWindow m_createWindow; // meets created per address per hour
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
    QSet<QString> m_refusedRestores; // refused by the director in this run
};

} // namespace oll
