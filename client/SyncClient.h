// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "client/SyncEngine.h"
#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "sync/MeetState.h"

#include <QJsonValue>
#include <QList>
#include <QObject>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <optional>

class QWebSocket;

namespace oll {

/// Timings, injectable so tests run in milliseconds.
struct SyncClientOptions
{
    int reconnectDelayMs = 500; // first automatic reconnect after an unexpected close
    int reconnectMaxDelayMs = 30'000; // the automatic back-off doubles up to this
    int storageRetryDelayMs = 2000; // resend after STORAGE_ERROR
    bool retryPendingRestore = true; // ask again after RESTORE_REJECTED{pendingApproval, retryAfterMs}
    Limits limits; // key syntax and updates per message, as the server uses
};

/// The client side of the live protocol over a real QWebSocket: a SyncEngine (all protocol
/// logic and state, see there) plus what needs an event loop — one socket, reopened on demand
/// with doubling back-off after an unexpected close, the resend timer after STORAGE_ERROR and
/// the retry of a restore that waits for the meet director's approval.
/// Everything is event-driven; nothing blocks or sleeps.
class SyncClient : public QObject
{
    Q_OBJECT
public:
    enum class Status
    {
        Offline, // no socket (setOnline(false), or waiting to reconnect)
        Connecting, // socket opening
        Connected, // socket open, no session yet (call createMeet/joinMeet)
        LoggingIn, // CREATE_MEET/JOIN_MEET/RESTORE_MEET sent, no answer yet
        Online, // socket open and bound to the session
        NeedsJoin, // the server said INVALID_SESSION: join again
    };
    Q_ENUM(Status)

    SyncClient(const QUrl& url, const QString& clientId, qint64 firstLocalSeqNum = 1, SyncClientOptions options = {},
               QObject* parent = nullptr);
    /// A "reloaded" client: continues from a saved state (same clientId, token, localSeqNum
    /// counter, pending and canonical logs, epoch). Starts offline; call setOnline(true).
    SyncClient(const QUrl& url, const PersistedState& state, SyncClientOptions options = {}, QObject* parent = nullptr);
    ~SyncClient() override;

    /// The protocol engine; its signals carry everything this class does not forward.
    SyncEngine& engine() { return m_engine; }
    const SyncEngine& engine() const { return m_engine; }

    // --- session -------------------------------------------------------------------------
    /// Opens the socket if needed and sends CREATE_MEET / JOIN_MEET / RESTORE_MEET. Answers:
    /// loggedIn(), loginRejected() or restoreRejected().
    void createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints);
    void joinMeet(const QString& meetId, const QString& password, const QString& locationName,
                  Role role = Role::Update);
    /// Recreates a meet the server has no trace of from this client's log (SyncEngine::restoreMeet).
    /// While the server waits for the meet director's approval the request is repeated after the
    /// server's retryAfterMs (unless options.retryPendingRestore is false).
    void restoreMeet(const QString& meetId, const QString& password, const QString& thisLocationName,
                     const QList<Endpoint>& endpoints);

    // --- updates -------------------------------------------------------------------------
    /// Applies the update locally at once and queues it; sends it at once when online.
    /// Returns its localSeqNum, or 0 if the key does not parse (then it is in rejected()).
    qint64 update(const QString& key, const QJsonValue& value) { return m_engine.update(key, value); }
    /// Several updates made together, sent in one UPDATE_INIT (chunked by the message limit).
    QList<qint64> updateMany(const QList<QPair<QString, QJsonValue>>& updates) { return m_engine.updateMany(updates); }

    // --- connectivity --------------------------------------------------------------------
    /// false: closes the socket, stops sending; updates still apply locally and queue.
    /// true: reconnects at once, re-binds with CLIENT_PULL, resends everything unacked.
    void setOnline(bool online);
    bool wantsOnline() const { return m_wantOnline; }

    // --- state ---------------------------------------------------------------------------
    const MeetState& canonicalState() const { return m_engine.canonicalState(); }
    const MeetState& localState() const { return m_engine.localState(); }
    QList<CanonicalEntry> canonicalLog() const { return m_engine.canonicalLog(); }
    std::optional<CanonicalEntry> entry(qint64 serverSeqNum) const { return m_engine.entry(serverSeqNum); }
    /// The serverSeqNum an own update got, if the client holds it in the canonical log.
    std::optional<qint64> serverSeqOf(qint64 localSeqNum) const { return m_engine.serverSeqOf(localSeqNum); }
    const QList<PendingUpdate>& pending() const { return m_engine.pending(); }
    int pendingCount() const { return m_engine.pendingCount(); }
    const QList<RejectedUpdate>& rejected() const { return m_engine.rejected(); }
    qint64 lastServerSeq() const { return m_engine.lastServerSeq(); }
    /// Highest headServerSeq the server has reported.
    qint64 knownHead() const { return m_engine.knownHead(); }
    qint64 nextLocalSeqNum() const { return m_engine.nextLocalSeqNum(); }
    QString epoch() const { return m_engine.epoch(); }
    Status status() const { return m_status; }
    bool isOnline() const { return m_status == Status::Online; }
    /// True while offline / not bound, or while a pull answer has not reached its final chunk.
    bool outOfSync() const { return m_engine.outOfSync(); }
    /// The lastServerSeq of the last SERVER_PULL (the server held less than this client), or nullopt.
    std::optional<qint64> serverPullHead() const { return m_engine.serverPullHead(); }

    QString clientId() const { return m_engine.clientId(); }
    QString sessionToken() const { return m_engine.sessionToken(); }
    QString meetId() const { return m_engine.meetId(); }
    QString locationName() const { return m_engine.locationName(); }
    QString role() const { return m_engine.role(); }
    QString lastError() const { return m_engine.lastError(); }

    PersistedState persistedState() const { return m_engine.persistedState(); }

Q_SIGNALS:
    void statusChanged(oll::SyncClient::Status status);
    void onlineChanged(bool online);
    void outOfSyncChanged(bool outOfSync);
    void pendingCountChanged(int count);
    void lastServerSeqChanged(qint64 seq);
    void localStateChanged();
    void loggedIn();
    void loginRejected(const QString& reason, qint64 retryAfterMs);
    void restoreRejected(const QString& reason, bool pendingApproval, qint64 retryAfterMs);
    /// Every ack received, duplicates included (a resend is acked with its original number).
    void acked(qint64 localSeqNum, qint64 serverSeqNum);
    void updateRejected(const oll::RejectedUpdate& rejected);
    void storageError(const QList<qint64>& localSeqNums);
    void serverPullReceived(qint64 serverHead);
    void recoveryAcked(const oll::RecoveryReport& report);
    void protocolError(const QString& msgType, const QString& detail);

private:
    void connectEngine();
    void openSocket();
    void closeSocket();
    /// Detaches the current socket from this client and returns it (not null).
    QWebSocket* takeSocket();
    void onConnected();
    void onDisconnected();
    void updateStatus();

    QUrl m_url;
    SyncClientOptions m_options;
    SyncEngine m_engine;

    QWebSocket* m_socket = nullptr;
    bool m_socketOpen = false;
    Status m_status = Status::Offline;
    bool m_wantOnline = false;
    QTimer m_reconnectTimer;
    int m_reconnectDelayMs = 0;
    QTimer m_storageRetryTimer;

    struct RestoreRequest
    {
        QString meetId;
        QString password;
        QString thisLocationName;
        QList<Endpoint> endpoints;
    };
    std::optional<RestoreRequest> m_restore; // repeated while approval is pending
    QTimer m_restoreRetryTimer;
};

} // namespace oll
