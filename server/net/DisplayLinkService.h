// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"
#include "net/ClientConnection.h"

#include <QObject>
#include <QSet>
#include <QTimer>

#include <functional>
#include <memory>
#include <unordered_map>

namespace oll {

class DiagLog;
class LoginThrottle;
class Meet;
class MeetRegistry;
struct JoinDisplayRequest;
struct ServerOptions;

/// Display links (docs/protocol.md §22): minting and revoking them for the director, JOIN_DISPLAY
/// for boards, and retrying a revocation that could not be saved. Lives on the server's thread,
/// next to the LiveServer that owns it; sessions and sockets stay the server's, reached through
/// `Hooks`.
class DisplayLinkService : public QObject
{
    Q_OBJECT
public:
    using Connections = std::unordered_map<quint64, std::unique_ptr<ClientConnection>>;
    struct Hooks
    {
        /// Unbinds a socket from its session (it gets no further relay).
        std::function<void(ClientConnection* c)> unbind;
        /// Drops sessions the store expired or trimmed.
        std::function<void(const QList<QByteArray>& tokenHashes)> forgetSessions;
        /// Issues a display session through `linkId`, writes it, then answers MEET_JOINED.
        std::function<void(quint64 connectionId, Meet* meet, const QString& clientId, const QString& label,
                           const QString& linkId)>
            issueSession;
    };

    DisplayLinkService(const ServerOptions& options, MeetRegistry& registry, DiagLog& diag, LoginThrottle& throttle,
                       const Connections& connections, Hooks hooks, QObject* parent = nullptr);

    /// The refusal for a token that never existed and one that was revoked: a guesser learns nothing.
    static QString unknownLinkReason();

    void mint(const QString& meetId, const QString& label,
              std::function<void(const DisplayLinkInfo& link, const QString& token, const QString& error)> done);
    void revoke(const QString& meetId, const QString& linkId,
                std::function<void(int socketsClosed, const QString& error, const QString& warning)> done);
    void join(ClientConnection* c, const JoinDisplayRequest& req);
    /// Every meet's links, oldest first per meet, with the sockets using each now.
    QList<DisplayLinkInfo> links() const;
    QSet<QString> unsavedMeets() const { return m_unsavedMeets; }
    /// The server stops: one last write of every unsaved revocation, and no more retries.
    void beginShutdown();

private:
    /// Why a display link cannot be minted for or revoked from `meetId` now, or empty.
    QString meetProblem(const QString& meetId) const;
    /// Writes `meet`'s display-links.json; a success also saves any revocation that had failed.
    void persist(Meet* meet, std::function<void(bool ok, const QString& error)> done);
    /// Writes display-links.json again for every meet with an unsaved revocation.
    void retryUnsaved();

    const ServerOptions& m_options;
    MeetRegistry& m_registry;
    DiagLog& m_diag;
    LoginThrottle& m_throttle;
    const Connections& m_connections;
    Hooks m_hooks;
    QSet<QString> m_unsavedMeets; // meets whose display-links.json lacks a revocation
    QTimer m_retry; // rewrites those while there are any
    bool m_shuttingDown = false;
};

} // namespace oll
