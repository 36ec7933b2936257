#pragma once

#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "sync/MeetState.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QObject>
#include <QSet>
#include <QString>
#include <QTimer>
#include <QUrl>

#include <optional>

class QWebSocket;

namespace oll {

/// One update made by this client that the server has not sequenced yet.
struct PendingUpdate
{
    qint64 localSeqNum = 0;
    QString key;
    QJsonValue value;
    qint64 afterServerSeqNum = 0; // the client's lastServerSeq when the update was made
};

/// One entry of the meet's canonical log, as this client holds it.
struct CanonicalEntry
{
    qint64 serverSeqNum = 0;
    QString key;
    QJsonValue value;
    QString clientId;
    qint64 localSeqNum = 0;
    QString locationName;
};

/// An update of this client that the server will never apply (UPDATE_REJECTED), or that the
/// client refused before sending because its key does not parse.
struct RejectedUpdate
{
    PendingUpdate update;
    QString code;
    QString reason;
    bool conflict = false;
};

/// What a browser keeps in IndexedDB so that a reload continues where it left off: identity,
/// session, the next localSeqNum, the unacked updates and the canonical log.
struct PersistedState
{
    QString clientId;
    QString sessionToken;
    QString meetId;
    QString locationName;
    QString role;
    qint64 nextLocalSeqNum = 1;
    QList<PendingUpdate> pending; // ascending localSeqNum
    QList<CanonicalEntry> canonical; // ascending serverSeqNum (may have gaps)

    QByteArray save() const;
    static std::optional<PersistedState> restore(const QByteArray& bytes);
};

/// Timings, injectable so tests run in milliseconds.
struct SyncClientOptions
{
    int reconnectDelayMs = 500; // first automatic reconnect after an unexpected close
    int reconnectMaxDelayMs = 30'000; // the automatic back-off doubles up to this
    int storageRetryDelayMs = 2000; // resend after STORAGE_ERROR
    Limits limits; // key syntax and updates per message, as the server uses
};

/// The client side of the live protocol (docs/protocol.md), GUI-free: what a browser runs, minus
/// the browser. It keeps
/// - the canonical log (entries by serverSeqNum, from acks and relays, deduplicated) and the
///   state it materializes (`canonicalState()`, the contiguous prefix applied in order);
/// - the pending log (own updates not yet acked), re-applied on top of the canonical state
///   whenever either changes (`localState()`: the rebase);
/// - one QWebSocket, reopened on demand, re-bound with CLIENT_PULL{lastServerSeq} and followed
///   by a resend of every unacked update (idempotent on the server: same clientId+localSeqNum).
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
        LoggingIn, // CREATE_MEET/JOIN_MEET sent, no answer yet
        Online, // socket open and bound to the session
        NeedsJoin, // the server said INVALID_SESSION: join again
    };
    Q_ENUM(Status)

    SyncClient(const QUrl& url, const QString& clientId, qint64 firstLocalSeqNum = 1, SyncClientOptions options = {},
               QObject* parent = nullptr);
    /// A "reloaded" client: continues from a saved state (same clientId, token, localSeqNum
    /// counter, pending and canonical logs). Starts offline; call setOnline(true).
    SyncClient(const QUrl& url, const PersistedState& state, SyncClientOptions options = {}, QObject* parent = nullptr);
    ~SyncClient() override;

    // --- session -------------------------------------------------------------------------
    /// Opens the socket if needed and sends CREATE_MEET / JOIN_MEET. Answers: loggedIn() or
    /// loginRejected().
    void createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints);
    void joinMeet(const QString& meetId, const QString& password, const QString& locationName,
                  Role role = Role::Update);

    // --- updates -------------------------------------------------------------------------
    /// Applies the update locally at once and queues it; sends it at once when online.
    /// Returns its localSeqNum, or 0 if the key does not parse (then it is in rejected()).
    qint64 update(const QString& key, const QJsonValue& value);
    /// Several updates made together, sent in one UPDATE_INIT (chunked by the message limit).
    QList<qint64> updateMany(const QList<QPair<QString, QJsonValue>>& updates);

    // --- connectivity --------------------------------------------------------------------
    /// false: closes the socket, stops sending; updates still apply locally and queue.
    /// true: reconnects at once, re-binds with CLIENT_PULL, resends everything unacked.
    void setOnline(bool online);
    bool wantsOnline() const { return m_wantOnline; }

    // --- state ---------------------------------------------------------------------------
    const MeetState& canonicalState() const { return m_canonicalState; }
    const MeetState& localState() const { return m_localState; }
    QList<CanonicalEntry> canonicalLog() const { return m_canonical.values(); }
    std::optional<CanonicalEntry> entry(qint64 serverSeqNum) const;
    /// The serverSeqNum an own update got, if the client holds it in the canonical log.
    std::optional<qint64> serverSeqOf(qint64 localSeqNum) const;
    const QList<PendingUpdate>& pending() const { return m_pending; }
    int pendingCount() const { return static_cast<int>(m_pending.size()); }
    const QList<RejectedUpdate>& rejected() const { return m_rejected; }
    qint64 lastServerSeq() const { return m_lastServerSeq; }
    /// Highest headServerSeq the server has reported.
    qint64 knownHead() const { return m_knownHead; }
    qint64 nextLocalSeqNum() const { return m_nextLocalSeqNum; }
    Status status() const { return m_status; }
    bool isOnline() const { return m_status == Status::Online; }
    /// True while offline / not bound, or while a pull answer has not reached its final chunk.
    bool outOfSync() const { return m_status != Status::Online || m_pullInFlight; }
    /// The head of the last SERVER_PULL (the server holds less than this client), or nullopt.
    std::optional<qint64> serverPullHead() const { return m_serverPullHead; }

    QString clientId() const { return m_clientId; }
    QString sessionToken() const { return m_token; }
    QString meetId() const { return m_meetId; }
    QString locationName() const { return m_locationName; }
    QString role() const { return m_role; }
    QString lastError() const { return m_lastError; }

    PersistedState persistedState() const;

Q_SIGNALS:
    void statusChanged(oll::SyncClient::Status status);
    void onlineChanged(bool online);
    void outOfSyncChanged(bool outOfSync);
    void pendingCountChanged(int count);
    void lastServerSeqChanged(qint64 seq);
    void localStateChanged();
    void loggedIn();
    void loginRejected(const QString& reason, qint64 retryAfterMs);
    /// Every ack received, duplicates included (a resend is acked with its original number).
    void acked(qint64 localSeqNum, qint64 serverSeqNum);
    void updateRejected(const oll::RejectedUpdate& rejected);
    void storageError(const QList<qint64>& localSeqNums);
    void serverPullReceived(qint64 serverHead);
    void protocolError(const QString& msgType, const QString& detail);

private:
    void openSocket();
    void closeSocket();
    /// Detaches the current socket from this client and returns it (not null).
    QWebSocket* takeSocket();
    void onConnected();
    void onDisconnected();
    void onMessage(const QString& text);
    void send(const QJsonObject& message);
    void sendPull();
    void flush(); // sends every pending update not yet sent on this socket
    void setStatus(Status s);

    void handleLoggedIn(const QJsonObject& m);
    void handleAck(const QJsonObject& m);
    void handleRelay(const QJsonObject& m);
    void handleRejected(const QJsonObject& m);
    void handleStorageError(const QJsonObject& m);
    void handleInvalidSession(const QJsonObject& m);

    /// Adds an entry to the canonical log (ignored if that seq is already held); removes a
    /// matching own pending update. Returns true if it was new.
    bool addCanonical(const CanonicalEntry& e);
    /// Advances lastServerSeq over the contiguous prefix, applies it, rebases the local state
    /// and emits what changed.
    void settle(bool pendingChanged);
    void rebuildLocal();
    void applyTo(MeetState& state, const QString& key, const QJsonValue& value) const;
    int pendingIndex(qint64 localSeqNum) const;

    QUrl m_url;
    QString m_clientId;
    SyncClientOptions m_options;
    qint64 m_nextLocalSeqNum = 1;

    QString m_token;
    QString m_meetId;
    QString m_locationName;
    QString m_role;
    QString m_lastError;

    QWebSocket* m_socket = nullptr;
    Status m_status = Status::Offline;
    bool m_wantOnline = false;
    std::optional<QJsonObject> m_loginRequest; // sent once the socket is open
    bool m_pullInFlight = false;
    bool m_needsJoin = false; // INVALID_SESSION seen; cleared by a successful login
    QSet<qint64> m_sentOnSocket; // localSeqNums sent on the current socket and not bounced
    QTimer m_reconnectTimer;
    int m_reconnectDelayMs = 0;
    QTimer m_storageRetryTimer;

    QMap<qint64, CanonicalEntry> m_canonical; // by serverSeqNum
    qint64 m_lastServerSeq = 0; // highest contiguous serverSeqNum held
    qint64 m_appliedSeq = 0; // m_canonicalState holds entries 1..m_appliedSeq
    qint64 m_knownHead = 0;
    std::optional<qint64> m_serverPullHead;
    QList<PendingUpdate> m_pending; // ascending localSeqNum
    QList<RejectedUpdate> m_rejected;
    MeetState m_canonicalState;
    MeetState m_localState;

    // For change signals.
    bool m_lastOutOfSync = true;
    int m_lastPendingCount = 0;
};

} // namespace oll
