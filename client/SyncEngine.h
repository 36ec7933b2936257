// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "sync/MeetState.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QMap>
#include <QObject>
#include <QPair>
#include <QSet>
#include <QString>

#include <functional>
#include <optional>

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
    qint64 afterServerSeqNum = 0; // as its author sent it (0 when the server did not say)
};

/// The entry that won a conflict (UPDATE_REJECTED with "conflict": true).
struct ConflictWinner
{
    qint64 serverSeqNum = 0;
    QString locationName;
    QString clientId;
    qint64 priority = 0;
};

/// An update of this client that the server will never apply (UPDATE_REJECTED), or that the
/// client refused before sending because its key does not parse.
struct RejectedUpdate
{
    PendingUpdate update;
    QString code;
    QString reason;
    bool conflict = false;
    std::optional<ConflictWinner> winner; // conflicts only
    std::optional<QJsonValue> currentValue; // conflicts only: what the server holds at the key, if anything
    qint64 headServerSeq = 0; // conflicts only: the server's head when it decided
};

/// The server's answer to a RECOVERY_PUSH.
struct RecoveryReport
{
    qint64 restored = 0; // taken back with their original serverSeqNums
    qint64 resequenced = 0; // submitted again as updates of their authors
    qint64 duplicates = 0; // already held by the server
    qint64 conflicts = 0; // lost a conflict on re-sequencing
    QList<QPair<qint64, QString>> skipped; // (serverSeqNum, reason)
    qint64 headServerSeq = 0;
    QString epoch;
};

/// What a browser keeps in IndexedDB so that a reload continues where it left off: identity,
/// session, the next localSeqNum, the unacked updates and the canonical log. A compacted pull
/// leaves seqs the client does not hold individually; then the log alone no longer rebuilds the
/// state, so the state at `baseServerSeq` is kept too.
struct PersistedState
{
    QString clientId;
    QString sessionToken;
    QString meetId;
    QString locationName;
    QString role;
    qint64 nextLocalSeqNum = 1;
    QString epoch; // the log history `canonical` belongs to; empty: none known
    QList<Endpoint> endpoints; // the meet's, as the server last reported them (for RESTORE_MEET)
    QList<PendingUpdate> pending; // ascending localSeqNum
    QList<CanonicalEntry> canonical; // ascending serverSeqNum (may have gaps)
    qint64 baseServerSeq = 0; // baseState is the state after seqs 1..baseServerSeq
    QJsonObject baseState;
    /// Set once a compacted part was applied: the lowest seq a compacted part started after.
    /// Seqs 1..compactedAfter are held individually; seqs above it up to baseServerSeq may not be.
    std::optional<qint64> compactedAfter;
    /// RECOVERY_PUSH messages (without token) not yet answered by RECOVERY_ACK: the entries in
    /// them were dropped from `canonical`, so they are the only copy until the server has them.
    QList<QJsonObject> recoveryOutbox;

    QByteArray save() const;
    /// Reads what save() wrote, and the format of earlier versions (no epoch, no base).
    static std::optional<PersistedState> restore(const QByteArray& bytes);
};

/// The whole client side of the live protocol (docs/protocol.md plus the epoch / compaction /
/// conflict / recovery additions), without a transport, timers or clocks: the caller feeds it
/// transport events and received messages and carries what it sends. Many engines can therefore
/// run in one thread under a deterministic simulation; SyncClient wraps one around a QWebSocket.
///
/// It keeps
/// - the canonical log (entries by serverSeqNum, from acks and relays, deduplicated), plus a base
///   snapshot when a compacted pull left seqs it does not hold one by one, and the state they
///   materialize (`canonicalState()`: the base, then the contiguous entries after it);
/// - the pending log (own updates not yet acked), re-applied on top of the canonical state
///   whenever either changes (`localState()`: the rebase);
/// - the session, and the epoch of the log history its canonical log belongs to.
///
/// Nothing here waits: every input is handled to the end before the call returns, and signals
/// are emitted synchronously, so direct connections work without an event loop.
class SyncEngine : public QObject
{
    Q_OBJECT
public:
    enum class Link
    {
        Closed, // no transport
        Open, // transport open, no session yet (call createMeet/joinMeet/restoreMeet)
        LoggingIn, // CREATE_MEET/JOIN_MEET/RESTORE_MEET sent, no answer yet
        Online, // transport open and bound to the session
        NeedsJoin, // the server said INVALID_SESSION: join again
    };
    Q_ENUM(Link)

    /// Carries one outgoing message (compact JSON text) to the server. Called only while the
    /// transport is open.
    using SendFunction = std::function<void(const QByteArray& text)>;

    explicit SyncEngine(const QString& clientId, qint64 firstLocalSeqNum = 1, Limits limits = {},
                        QObject* parent = nullptr);
    /// A "reloaded" engine: continues from a saved state. Starts with the transport closed.
    explicit SyncEngine(const PersistedState& state, Limits limits = {}, QObject* parent = nullptr);

    void setSendFunction(SendFunction send) { m_send = std::move(send); }
    /// false: CLIENT_PULL asks for the full tail ("compact": false). Default true.
    void setAcceptCompactPulls(bool accept) { m_acceptCompact = accept; }

    // --- transport -----------------------------------------------------------------------
    /// The transport is open: sends a queued login, or re-binds (CLIENT_PULL) and resends.
    void transportOpened();
    /// The transport is gone: whatever was sent on it may not have arrived and is sent again on
    /// the next one; an unfinished compacted part is discarded.
    void transportClosed();
    void receive(const QByteArray& text);
    void receive(const QJsonObject& message);

    // --- session -------------------------------------------------------------------------
    /// Sends CREATE_MEET / JOIN_MEET / RESTORE_MEET now if the transport is open, else when it
    /// opens. Answers: loggedIn(), loginRejected() or restoreRejected().
    void createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints);
    void joinMeet(const QString& meetId, const QString& password, const QString& locationName,
                  Role role = Role::Update);
    /// Asks a server that has no trace of the meet to recreate it from this client's log. The
    /// request carries the engine's epoch; after MEET_RESTORED the engine pulls with it, the
    /// server answers SERVER_PULL{0} and the engine's RECOVERY_PUSH refills the meet.
    void restoreMeet(const QString& meetId, const QString& password, const QString& thisLocationName,
                     const QList<Endpoint>& endpoints);

    // --- updates -------------------------------------------------------------------------
    /// Applies the update locally at once and queues it; sends it at once when online.
    /// Returns its localSeqNum, or 0 if the key does not parse (then it is in rejected()).
    qint64 update(const QString& key, const QJsonValue& value);
    /// Several updates made together, sent in one UPDATE_INIT (chunked by the message limit).
    QList<qint64> updateMany(const QList<QPair<QString, QJsonValue>>& updates);
    /// Sends every pending update not yet sent on this transport (after STORAGE_ERROR, say).
    void resendPending();

    // --- state ---------------------------------------------------------------------------
    const MeetState& canonicalState() const { return m_canonicalState; }
    const MeetState& localState() const { return m_localState; }
    QList<CanonicalEntry> canonicalLog() const { return m_canonical.values(); }
    std::optional<CanonicalEntry> entry(qint64 serverSeqNum) const;
    /// The serverSeqNum an own update got, if the client holds it in the canonical log.
    std::optional<qint64> serverSeqOf(qint64 localSeqNum) const;
    const QList<PendingUpdate>& pending() const { return m_pending; }
    int pendingCount() const { return static_cast<int>(m_pending.size()); }
    /// RECOVERY_PUSH messages sent but not yet acknowledged by the server.
    int recoveryOutboxSize() const { return static_cast<int>(m_recoveryOutbox.size()); }
    const QList<RejectedUpdate>& rejected() const { return m_rejected; }
    /// Highest seq s such that the client holds the state after 1..s.
    qint64 lastServerSeq() const { return m_lastServerSeq; }
    /// Highest headServerSeq the server has reported.
    qint64 knownHead() const { return m_knownHead; }
    qint64 nextLocalSeqNum() const { return m_nextLocalSeqNum; }
    QString epoch() const { return m_epoch; }
    qint64 baseServerSeq() const { return m_baseSeq; }
    std::optional<qint64> compactedAfter() const { return m_compactedAfter; }
    /// True while a compacted part is being received (chunks buffered, not applied yet).
    bool receivingCompacted() const { return m_compact.has_value(); }
    Link link() const { return m_link; }
    bool isOnline() const { return m_link == Link::Online; }
    bool pullInFlight() const { return m_pullInFlight; }
    /// True while not bound, or while a pull answer has not reached its final chunk.
    bool outOfSync() const { return m_link != Link::Online || m_pullInFlight; }
    /// The lastServerSeq of the last SERVER_PULL (the server held less than this client), or nullopt.
    std::optional<qint64> serverPullHead() const { return m_serverPullHead; }

    QString clientId() const { return m_clientId; }
    QString sessionToken() const { return m_token; }
    QString meetId() const { return m_meetId; }
    QString locationName() const { return m_locationName; }
    QString role() const { return m_role; }
    QList<Endpoint> endpoints() const { return m_endpoints; }
    QString lastError() const { return m_lastError; }
    const Limits& limits() const { return m_limits; }

    PersistedState persistedState() const;

Q_SIGNALS:
    void linkChanged(oll::SyncEngine::Link link);
    void outOfSyncChanged(bool outOfSync);
    void pendingCountChanged(int count);
    void lastServerSeqChanged(qint64 seq);
    void epochChanged(const QString& epoch);
    void localStateChanged();
    void loggedIn();
    void loginRejected(const QString& reason, qint64 retryAfterMs);
    /// RESTORE_REJECTED. pendingApproval: the meet director has not approved yet; ask again after
    /// retryAfterMs.
    void restoreRejected(const QString& reason, bool pendingApproval, qint64 retryAfterMs);
    /// Every ack received, duplicates included (a resend is acked with its original number).
    void acked(qint64 localSeqNum, qint64 serverSeqNum);
    void updateRejected(const oll::RejectedUpdate& rejected);
    void storageError(const QList<qint64>& localSeqNums);
    /// SERVER_PULL handled: the entries above serverHead went back in RECOVERY_PUSH (update
    /// role), the log now ends at lastServerSeq() <= serverHead and a new pull is on its way.
    void serverPullReceived(qint64 serverHead);
    /// RECOVERY_PUSH sent with this many entries (not emitted when there was nothing to push).
    void recoveryPushed(qint64 entryCount);
    void recoveryAcked(const oll::RecoveryReport& report);
    void recoveryRejected(const QString& reason);
    void protocolError(const QString& msgType, const QString& detail);

private:
    void sendMessage(const QJsonObject& message);
    void sendLogin(const QJsonObject& request);
    void sendPull();
    void flush(); // sends every pending update not yet sent on this transport
    void setLink(Link link);

    void handleLoggedIn(const QJsonObject& m);
    void handleLoginRejected(const QJsonObject& m);
    void handleRestoreRejected(const QJsonObject& m);
    void handleAck(const QJsonObject& m);
    void handleRelay(const QJsonObject& m);
    void handleCompactedChunk(const QJsonObject& m);
    void handleRejected(const QJsonObject& m);
    void handleStorageError(const QJsonObject& m);
    void handleInvalidSession(const QJsonObject& m);
    void handleServerPull(const QJsonObject& m);
    void handleRecoveryAck(const QJsonObject& m);

    bool holdsNothing() const;
    /// Looks at the epoch a message carries. `authoritative`: the message answers this client's
    /// pull, so the server has vouched for the log held so far under the new epoch.
    void noteEpoch(const QJsonObject& m, bool authoritative);
    void adoptEpoch(const QString& epoch);
    /// True if `m` (an ack or relay) belongs to the history this client's log comes from.
    bool sameHistory(const QJsonObject& m) const;
    void clearCanonical();
    /// Drops held entries above `seq`; own ones go back to the pending log when `requeueOwn`.
    void dropEntriesAbove(qint64 seq, bool requeueOwn);
    /// Sends RECOVERY_PUSH with every entry held individually above `seq`; returns the count.
    qint64 pushRecovery(qint64 seq);
    /// Sends every unanswered RECOVERY_PUSH again (after a reconnect or re-login).
    void sendRecoveryOutbox();
    /// The state after seqs 1..seq, if this client can rebuild it.
    std::optional<MeetState> stateAt(qint64 seq) const;
    /// Rebuilds the canonical state from the base and the held entries.
    void recomputeCanonical();

    /// Adds an entry to the canonical log (ignored if that seq is already held); removes a
    /// matching own pending update. Returns true if it was new.
    bool addCanonical(const CanonicalEntry& e);
    /// Advances lastServerSeq over the contiguous entries, applies them, rebases the local state
    /// if anything changed and emits what changed.
    void settle(bool pendingChanged);
    void rebuildLocal();
    void applyTo(MeetState& state, const QString& key, const QJsonValue& value) const;
    int pendingIndex(qint64 localSeqNum) const;
    void emitChanges();

    QString m_clientId;
    Limits m_limits;
    SendFunction m_send;
    bool m_acceptCompact = true;
    qint64 m_nextLocalSeqNum = 1;

    QString m_token;
    QString m_meetId;
    QString m_locationName;
    QString m_role;
    QList<Endpoint> m_endpoints;
    QString m_epoch;
    QString m_lastError;

    struct OutboxItem
    {
        quint64 id = 0;
        QJsonObject message; // epoch + entries
        bool sent = false; // on the current transport and session
        // Answered by RECOVERY_ACK: kept until this client holds the server's log up to the head
        // the answer named, so a server that loses them again can still be given them.
        bool answered = false;
        qint64 answeredHead = 0;
        QString answeredEpoch;
    };
    bool hasUnansweredRecovery() const;
    void pruneOutbox();
    QList<OutboxItem> m_recoveryOutbox; // see PersistedState::recoveryOutbox
    QList<quint64> m_recoveryAwaiting; // ids sent on this transport, in the order replies come
    /// Pending updates wait while the server may still ask for this client's log: sent before the
    /// server has taken the log back, they would take the numbers the log's entries need.
    bool m_holdPending = false;
    /// After SERVER_PULL{k}: pending updates were made on entries above k that went back to the
    /// server; if it could not restore them with their numbers, their afterServerSeqNum is
    /// clamped to this (they saw nothing the server numbers above it).
    std::optional<qint64> m_clampAfterRecovery;
    bool m_recoveryRenumbered = false; // a RECOVERY_ACK reported re-sequenced or refused entries
    void releasePending();
    quint64 m_nextOutboxId = 1;
    void resetOutboxSent();
    bool m_transportOpen = false;
    Link m_link = Link::Closed;
    std::optional<QJsonObject> m_loginRequest; // sent once the transport is open
    bool m_pullInFlight = false;
    bool m_needsJoin = false; // INVALID_SESSION seen; cleared by a successful login
    QSet<qint64> m_sentOnTransport; // localSeqNums sent on the current transport and not bounced

    /// A compacted pull part being received: applied as a whole when its last chunk arrives.
    struct CompactedPart
    {
        qint64 from = 0;
        qint64 through = 0;
        QList<QPair<QString, QJsonValue>> items;
    };
    std::optional<CompactedPart> m_compact;

    QMap<qint64, CanonicalEntry> m_canonical; // by serverSeqNum
    qint64 m_baseSeq = 0; // m_baseState is the state after 1..m_baseSeq
    MeetState m_baseState;
    std::optional<qint64> m_compactedAfter;
    qint64 m_lastServerSeq = 0; // the state after 1..m_lastServerSeq is held
    qint64 m_appliedSeq = 0; // m_canonicalState holds 1..m_appliedSeq
    qint64 m_knownHead = 0;
    std::optional<qint64> m_serverPullHead;
    QList<PendingUpdate> m_pending; // ascending localSeqNum
    QList<RejectedUpdate> m_rejected;
    MeetState m_canonicalState;
    MeetState m_localState;

    // For change signals.
    bool m_reportedOutOfSync = true;
    int m_reportedPendingCount = 0;
    qint64 m_reportedLastServerSeq = 0;
};

} // namespace oll
