// SPDX-License-Identifier: AGPL-3.0-or-later
#include "client/SyncEngine.h"

#include "protocol/KeyPath.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <algorithm>

namespace oll {
namespace {

QString str(const char* s)
{
    return QString::fromLatin1(s);
}

// The message types of the sync additions, spelled here so that the client does not depend on
// the server's parser tables.
const QString kMeetRestored = QStringLiteral("MEET_RESTORED");
const QString kRestoreMeet = QStringLiteral("RESTORE_MEET");
const QString kRestoreRejected = QStringLiteral("RESTORE_REJECTED");
const QString kRecoveryPush = QStringLiteral("RECOVERY_PUSH");
const QString kRecoveryAck = QStringLiteral("RECOVERY_ACK");
const QString kRecoveryRejected = QStringLiteral("RECOVERY_REJECTED");
const QString kDisplayRole = QStringLiteral("display");

/// Sent as the epoch of a log whose history is not known (state saved before epochs existed, or
/// never told one by the server). It is well-formed, so the server accepts it, and it names no
/// history the server has, so the server treats everything the client holds as unverified
/// (SERVER_PULL{0}) instead of trusting it.
const QString kUnknownEpoch = QStringLiteral("0000000000000000");

QJsonObject pendingToJson(const PendingUpdate& p)
{
    return QJsonObject{{str("localSeqNum"), p.localSeqNum},
                       {str("key"), p.key},
                       {str("value"), p.value},
                       {str("afterServerSeqNum"), p.afterServerSeqNum}};
}

PendingUpdate pendingFromJson(const QJsonObject& o)
{
    PendingUpdate p;
    p.localSeqNum = o.value(str("localSeqNum")).toInteger();
    p.key = o.value(str("key")).toString();
    p.value = o.value(str("value"));
    p.afterServerSeqNum = o.value(str("afterServerSeqNum")).toInteger();
    return p;
}

QJsonObject entryToJson(const CanonicalEntry& e)
{
    return QJsonObject{{str("serverSeqNum"), e.serverSeqNum},
                       {str("key"), e.key},
                       {str("value"), e.value},
                       {str("clientId"), e.clientId},
                       {str("localSeqNum"), e.localSeqNum},
                       {str("locationName"), e.locationName},
                       {str("afterServerSeqNum"), e.afterServerSeqNum}};
}

CanonicalEntry entryFromJson(const QJsonObject& o)
{
    CanonicalEntry e;
    e.serverSeqNum = o.value(str("serverSeqNum")).toInteger();
    e.key = o.value(str("key")).toString();
    e.value = o.value(str("value"));
    e.clientId = o.value(str("clientId")).toString();
    e.localSeqNum = o.value(str("localSeqNum")).toInteger();
    e.locationName = o.value(str("locationName")).toString();
    e.afterServerSeqNum = o.value(str("afterServerSeqNum")).toInteger();
    return e;
}

/// An entry as the server sends it (relays, pull chunks).
CanonicalEntry entryFromWire(const QJsonObject& o)
{
    CanonicalEntry e;
    e.serverSeqNum = o.value(str("serverSeqNum")).toInteger();
    e.key = o.value(str("updateKey")).toString();
    e.value = o.value(str("updateValue"));
    e.clientId = o.value(str("clientId")).toString();
    e.localSeqNum = o.value(str("localSeqNum")).toInteger();
    e.locationName = o.value(str("locationName")).toString();
    e.afterServerSeqNum = o.value(str("afterServerSeqNum")).toInteger();
    return e;
}

QJsonArray endpointsToJson(const QList<Endpoint>& endpoints)
{
    QJsonArray eps;
    for (const Endpoint& e : endpoints) {
        eps.append(QJsonObject{{str("locationName"), e.locationName}, {str("priority"), e.priority}});
    }
    return eps;
}

QList<Endpoint> endpointsFromJson(const QJsonArray& array)
{
    QList<Endpoint> out;
    for (const QJsonValue& v : array) {
        const QJsonObject o = v.toObject();
        out.append(Endpoint{o.value(str("locationName")).toString(), o.value(str("priority")).toInteger()});
    }
    return out;
}

/// MeetState has no setter for a whole document; its top-level members are field writes, which
/// store the value as it is.
MeetState stateFromDocument(const QJsonObject& document, const Limits& limits)
{
    MeetState state;
    for (auto it = document.begin(); it != document.end(); ++it) {
        if (const auto path = KeyPath::parse(it.key(), limits.maxKeyLength, limits.maxKeyDepth)) {
            state.apply(*path, it.value());
        }
    }
    return state;
}

QString keyProblemCode(KeyPath::Problem problem)
{
    switch (problem) {
    case KeyPath::Problem::TooLong:
        return str("KEY_TOO_LONG");
    case KeyPath::Problem::TooDeep:
        return str("KEY_TOO_DEEP");
    default:
        return str("KEY_INVALID");
    }
}

/// Estimated wire size of one update or entry, to keep messages well under the 4 MiB limit.
qint64 wireSize(const QString& key, const QJsonValue& value)
{
    return compactJson(value).size() + key.size() + 256;
}

} // namespace

// --- PersistedState ---------------------------------------------------------------------------

QByteArray PersistedState::save() const
{
    QJsonArray p;
    for (const PendingUpdate& u : pending) {
        p.append(pendingToJson(u));
    }
    QJsonArray c;
    for (const CanonicalEntry& e : canonical) {
        c.append(entryToJson(e));
    }
    QJsonObject o{{str("clientId"), clientId},
                  {str("sessionToken"), sessionToken},
                  {str("meetId"), meetId},
                  {str("locationName"), locationName},
                  {str("role"), role},
                  {str("nextLocalSeqNum"), nextLocalSeqNum},
                  {str("epoch"), epoch},
                  {str("endpoints"), endpointsToJson(endpoints)},
                  {str("pending"), p},
                  {str("canonical"), c},
                  {str("baseServerSeq"), baseServerSeq},
                  {str("baseState"), baseState}};
    if (compactedAfter) {
        o.insert(str("compactedAfter"), *compactedAfter);
    }
    if (!recoveryOutbox.isEmpty()) {
        QJsonArray outbox;
        for (const QJsonObject& m : recoveryOutbox) {
            outbox.append(m);
        }
        o.insert(str("recoveryOutbox"), outbox);
    }
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::optional<PersistedState> PersistedState::restore(const QByteArray& bytes)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    PersistedState s;
    s.clientId = o.value(str("clientId")).toString();
    if (s.clientId.isEmpty()) {
        return std::nullopt;
    }
    s.sessionToken = o.value(str("sessionToken")).toString();
    s.meetId = o.value(str("meetId")).toString();
    s.locationName = o.value(str("locationName")).toString();
    s.role = o.value(str("role")).toString();
    s.nextLocalSeqNum = o.value(str("nextLocalSeqNum")).toInteger(1);
    // Absent in the format before epochs: then nothing is known about the history, see kUnknownEpoch.
    s.epoch = o.value(str("epoch")).toString();
    s.endpoints = endpointsFromJson(o.value(str("endpoints")).toArray());
    for (const QJsonValue& v : o.value(str("pending")).toArray()) {
        s.pending.append(pendingFromJson(v.toObject()));
    }
    for (const QJsonValue& v : o.value(str("canonical")).toArray()) {
        s.canonical.append(entryFromJson(v.toObject()));
    }
    s.baseServerSeq = std::max<qint64>(0, o.value(str("baseServerSeq")).toInteger());
    s.baseState = o.value(str("baseState")).toObject();
    if (o.value(str("compactedAfter")).isDouble()) {
        s.compactedAfter = o.value(str("compactedAfter")).toInteger();
    }
    for (const QJsonValue& v : o.value(str("recoveryOutbox")).toArray()) {
        s.recoveryOutbox.append(v.toObject());
    }
    return s;
}

// --- SyncEngine: construction and accessors ---------------------------------------------------

SyncEngine::SyncEngine(const QString& clientId, qint64 firstLocalSeqNum, Limits limits, QObject* parent)
    : QObject(parent)
    , m_clientId(clientId)
    , m_limits(limits)
    , m_nextLocalSeqNum(firstLocalSeqNum < 1 ? 1 : firstLocalSeqNum)
{
}

SyncEngine::SyncEngine(const PersistedState& state, Limits limits, QObject* parent)
    : SyncEngine(state.clientId, state.nextLocalSeqNum, limits, parent)
{
    m_token = state.sessionToken;
    m_meetId = state.meetId;
    m_locationName = state.locationName;
    m_role = state.role;
    m_endpoints = state.endpoints;
    m_epoch = state.epoch;
    m_pending = state.pending;
    std::sort(m_pending.begin(), m_pending.end(),
              [](const PendingUpdate& a, const PendingUpdate& b) { return a.localSeqNum < b.localSeqNum; });
    for (const PendingUpdate& p : std::as_const(m_pending)) {
        m_nextLocalSeqNum = std::max(m_nextLocalSeqNum, p.localSeqNum + 1); // never reuse one
    }
    for (const CanonicalEntry& e : state.canonical) {
        m_canonical.insert(e.serverSeqNum, e);
    }
    m_baseSeq = state.baseServerSeq;
    m_baseState = stateFromDocument(state.baseState, m_limits);
    m_compactedAfter = state.compactedAfter;
    for (const QJsonObject& m : state.recoveryOutbox) {
        m_recoveryOutbox.append(OutboxItem{m_nextOutboxId++, m, false, false, 0, QString()});
    }
    m_reportedPendingCount = pendingCount();
    recomputeCanonical();
    m_reportedLastServerSeq = m_lastServerSeq;
}

PersistedState SyncEngine::persistedState() const
{
    PersistedState s;
    s.clientId = m_clientId;
    s.sessionToken = m_token;
    s.meetId = m_meetId;
    s.locationName = m_locationName;
    s.role = m_role;
    s.nextLocalSeqNum = m_nextLocalSeqNum;
    s.epoch = m_epoch;
    s.endpoints = m_endpoints;
    s.pending = m_pending;
    s.canonical = m_canonical.values();
    s.baseServerSeq = m_baseSeq;
    s.baseState = m_baseState.document();
    s.compactedAfter = m_compactedAfter;
    for (const OutboxItem& item : m_recoveryOutbox) {
        s.recoveryOutbox.append(item.message);
    }
    return s;
}

std::optional<CanonicalEntry> SyncEngine::entry(qint64 serverSeqNum) const
{
    const auto it = m_canonical.constFind(serverSeqNum);
    if (it == m_canonical.cend()) {
        return std::nullopt;
    }
    return *it;
}

std::optional<qint64> SyncEngine::serverSeqOf(qint64 localSeqNum) const
{
    for (const CanonicalEntry& e : m_canonical) {
        if (e.clientId == m_clientId && e.localSeqNum == localSeqNum) {
            return e.serverSeqNum;
        }
    }
    return std::nullopt;
}

// --- transport --------------------------------------------------------------------------------

void SyncEngine::transportOpened()
{
    m_transportOpen = true;
    m_sentOnTransport.clear();
    if (m_loginRequest) {
        sendMessage(*m_loginRequest);
        setLink(Link::LoggingIn);
        return;
    }
    if (m_token.isEmpty()) {
        setLink(Link::Open);
        return;
    }
    if (m_needsJoin) {
        setLink(Link::NeedsJoin);
        return;
    }
    setLink(Link::Online);
    sendPull(); // re-binds the transport and fills the gap
    sendRecoveryOutbox();
    // A client holding a log sends its pending updates once the server has answered the pull:
    // if the server lost entries of that log, it asks for them first (SERVER_PULL).
    m_holdPending = !holdsNothing() || !m_recoveryOutbox.isEmpty();
    flush();
}

void SyncEngine::transportClosed()
{
    m_transportOpen = false;
    m_holdPending = false;
    // Whatever was sent may not have arrived: it is sent again on the next transport.
    m_sentOnTransport.clear();
    resetOutboxSent();
    m_pullInFlight = false;
    // The server drops an unfinished pull answer with the socket; the next pull starts over
    // from lastServerSeq, so a half-received compacted part is of no use.
    m_compact.reset();
    setLink(Link::Closed);
}

void SyncEngine::sendMessage(const QJsonObject& message)
{
    if (m_transportOpen && m_send) {
        m_send(QJsonDocument(message).toJson(QJsonDocument::Compact));
    }
}

void SyncEngine::setLink(Link link)
{
    if (m_link != link) {
        m_link = link;
        Q_EMIT linkChanged(link);
    }
    emitChanges();
}

void SyncEngine::emitChanges()
{
    if (m_reportedLastServerSeq != m_lastServerSeq) {
        m_reportedLastServerSeq = m_lastServerSeq;
        Q_EMIT lastServerSeqChanged(m_lastServerSeq);
    }
    if (m_reportedPendingCount != pendingCount()) {
        m_reportedPendingCount = pendingCount();
        Q_EMIT pendingCountChanged(m_reportedPendingCount);
    }
    if (m_reportedOutOfSync != outOfSync()) {
        m_reportedOutOfSync = outOfSync();
        Q_EMIT outOfSyncChanged(m_reportedOutOfSync);
    }
}

// --- session ----------------------------------------------------------------------------------

void SyncEngine::sendLogin(const QJsonObject& request)
{
    m_loginRequest = request;
    if (m_transportOpen) {
        sendMessage(request);
        setLink(Link::LoggingIn);
    }
}

void SyncEngine::createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints)
{
    sendLogin(QJsonObject{{str("msgType"), MsgType::CreateMeet},
                          {str("thisLocationName"), thisLocationName},
                          {str("password"), password},
                          {str("endpoints"), endpointsToJson(endpoints)},
                          {str("clientId"), m_clientId}});
}

void SyncEngine::joinMeet(const QString& meetId, const QString& password, const QString& locationName, Role role)
{
    sendLogin(QJsonObject{{str("msgType"), MsgType::JoinMeet},
                          {str("meetId"), meetId},
                          {str("password"), password},
                          {str("locationName"), locationName},
                          {str("clientId"), m_clientId},
                          {str("role"), roleName(role)}});
}

void SyncEngine::restoreMeet(const QString& meetId, const QString& password, const QString& thisLocationName,
                             const QList<Endpoint>& endpoints)
{
    // The epoch names the history this client's log belongs to: the server records it with
    // lastSeq 0, so the pull after MEET_RESTORED is answered with SERVER_PULL{0}.
    sendLogin(QJsonObject{{str("msgType"), kRestoreMeet},
                          {str("meetId"), meetId},
                          {str("password"), password},
                          {str("thisLocationName"), thisLocationName},
                          {str("endpoints"), endpointsToJson(endpoints)},
                          {str("clientId"), m_clientId},
                          {str("epoch"), m_epoch.isEmpty() ? kUnknownEpoch : m_epoch}});
}

// --- updates ----------------------------------------------------------------------------------

qint64 SyncEngine::update(const QString& key, const QJsonValue& value)
{
    const QList<qint64> seqs = updateMany({{key, value}});
    return seqs.value(0, 0);
}

QList<qint64> SyncEngine::updateMany(const QList<QPair<QString, QJsonValue>>& updates)
{
    QList<qint64> seqs;
    for (const auto& [key, value] : updates) {
        QString error;
        KeyPath::Problem problem = KeyPath::Problem::None;
        const auto path = KeyPath::parse(key, m_limits.maxKeyLength, m_limits.maxKeyDepth, &error, &problem);
        PendingUpdate p;
        p.key = key;
        p.value = value;
        p.afterServerSeqNum = m_lastServerSeq;
        if (!path) {
            // The server would reject it too; refuse it here so it never shows in the local state.
            RejectedUpdate r;
            r.update = p;
            r.code = keyProblemCode(problem);
            r.reason = str("updateKey: ") + error;
            m_rejected.append(r);
            Q_EMIT updateRejected(r);
            seqs.append(0);
            continue;
        }
        p.localSeqNum = m_nextLocalSeqNum++;
        m_pending.append(p);
        m_localState.apply(*path, value); // the pending log is replayed last, so this is the rebase
        seqs.append(p.localSeqNum);
    }
    Q_EMIT localStateChanged();
    emitChanges();
    flush();
    return seqs;
}

void SyncEngine::resendPending()
{
    flush();
}

void SyncEngine::flush()
{
    if (m_link != Link::Online || !m_transportOpen || m_holdPending) {
        return;
    }
    QJsonArray batch;
    qint64 batchBytes = 0;
    // Stay well under the 4 MiB message limit; one value may be up to 1 MiB.
    const qint64 maxBatchBytes = m_limits.maxMessageBytes / 2;
    auto sendBatch = [&] {
        if (batch.isEmpty()) {
            return;
        }
        sendMessage(QJsonObject{
            {str("msgType"), MsgType::UpdateInit}, {str("sessionToken"), m_token}, {str("updates"), batch}});
        batch = QJsonArray();
        batchBytes = 0;
    };
    for (const PendingUpdate& p : std::as_const(m_pending)) {
        if (m_sentOnTransport.contains(p.localSeqNum)) {
            continue;
        }
        const qint64 size = wireSize(p.key, p.value);
        if (batch.size() >= m_limits.maxUpdatesPerMessage || (batchBytes + size > maxBatchBytes && !batch.isEmpty())) {
            sendBatch();
        }
        batch.append(QJsonObject{{str("updateKey"), p.key},
                                 {str("updateValue"), p.value},
                                 {str("localSeqNum"), p.localSeqNum},
                                 {str("afterServerSeqNum"), p.afterServerSeqNum}});
        batchBytes += size;
        m_sentOnTransport.insert(p.localSeqNum);
    }
    sendBatch();
}

void SyncEngine::sendPull()
{
    QJsonObject m{
        {str("msgType"), MsgType::ClientPull}, {str("sessionToken"), m_token}, {str("lastServerSeq"), m_lastServerSeq}};
    if (!holdsNothing()) {
        // The server answers from lastServerSeq only if its history under this epoch reaches that
        // far; otherwise it asks for the log back (SERVER_PULL).
        m.insert(str("epoch"), m_epoch.isEmpty() ? kUnknownEpoch : m_epoch);
    }
    if (!m_acceptCompact) {
        m.insert(str("compact"), false);
    }
    sendMessage(m);
    // A new pull replaces an unfinished answer on the server: chunks of a compacted part that
    // arrive from now on belong to the new answer.
    m_compact.reset();
    m_pullInFlight = true;
    emitChanges();
}

// --- incoming ---------------------------------------------------------------------------------

void SyncEngine::receive(const QByteArray& text)
{
    QJsonParseError err{};
    const QJsonDocument doc = QJsonDocument::fromJson(text, &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        m_lastError = str("the server sent a message that is not a JSON object");
        Q_EMIT protocolError(QString(), m_lastError);
        return;
    }
    receive(doc.object());
}

void SyncEngine::receive(const QJsonObject& m)
{
    const QString type = m.value(str("msgType")).toString();
    if (type == MsgType::UpdateRelay) {
        handleRelay(m);
    } else if (type == MsgType::UpdateAck) {
        handleAck(m);
    } else if (type == MsgType::UpdateRejected) {
        handleRejected(m);
    } else if (type == MsgType::MeetCreated || type == MsgType::MeetJoined || type == kMeetRestored) {
        handleLoggedIn(m);
    } else if (type == MsgType::CreateRejected || type == MsgType::JoinRejected) {
        handleLoginRejected(m);
    } else if (type == kRestoreRejected) {
        handleRestoreRejected(m);
    } else if (type == MsgType::StorageError) {
        handleStorageError(m);
    } else if (type == MsgType::InvalidSession) {
        handleInvalidSession(m);
    } else if (type == MsgType::ServerPull) {
        handleServerPull(m);
    } else if (type == kRecoveryAck) {
        handleRecoveryAck(m);
    } else if (type == kRecoveryRejected) {
        m_lastError = m.value(str("reason")).toString(m.value(str("errMsg")).toString());
        // The oldest unanswered push was refused (the server could not store it): it stays in
        // the outbox and goes again with the next transport or login.
        if (!m_recoveryAwaiting.isEmpty()) {
            const quint64 id = m_recoveryAwaiting.takeFirst();
            for (OutboxItem& item : m_recoveryOutbox) {
                if (item.id == id) {
                    item.sent = false;
                }
            }
        }
        // Scoring must go on: send the pending updates, as updates that saw nothing above k'.
        m_recoveryRenumbered = true;
        releasePending();
        Q_EMIT recoveryRejected(m_lastError);
    } else {
        m_lastError = m.value(str("errMsg")).toString();
        Q_EMIT protocolError(type, m_lastError);
    }
}

void SyncEngine::handleLoggedIn(const QJsonObject& m)
{
    const QString meetId = m.value(str("meetId")).toString();
    if (!m_meetId.isEmpty() && meetId != m_meetId) {
        // Another meet: the log held so far belongs to the old one. Pending updates are kept
        // (made before the first login, they belong to the meet this client now serves).
        clearCanonical();
        m_epoch.clear();
        m_serverPullHead.reset();
    }
    m_loginRequest.reset();
    m_needsJoin = false;
    m_token = m.value(str("sessionToken")).toString();
    m_meetId = meetId;
    m_locationName = m.value(str("locationName")).toString();
    m_role = m.value(str("role")).toString();
    if (m.value(str("endpoints")).isArray()) {
        m_endpoints = endpointsFromJson(m.value(str("endpoints")).toArray());
    }
    const qint64 head = m.value(str("headServerSeq")).toInteger();
    m_knownHead = std::max(m_knownHead, head);
    // A client that holds a log keeps its epoch until the server has vouched for the log (pull
    // answer) or asked for it back (SERVER_PULL): the pull must name the history it came from.
    const QString epoch = m.value(str("epoch")).toString();
    if (!epoch.isEmpty() && holdsNothing()) {
        adoptEpoch(epoch);
    }
    setLink(Link::Online);
    if (head != m_lastServerSeq || (!epoch.isEmpty() && epoch != m_epoch)) {
        sendPull();
        m_holdPending = !holdsNothing() || !m_recoveryOutbox.isEmpty();
    }
    settle(false);
    m_sentOnTransport.clear(); // anything sent under an earlier session is sent again (idempotent)
    resetOutboxSent();
    sendRecoveryOutbox();
    flush();
    Q_EMIT loggedIn();
}

void SyncEngine::handleLoginRejected(const QJsonObject& m)
{
    m_loginRequest.reset();
    m_lastError = m.value(str("reason")).toString();
    setLink(m_needsJoin ? Link::NeedsJoin : (m_token.isEmpty() ? Link::Open : Link::Online));
    if (m_link == Link::Online) {
        // A failed re-join while the old session is still usable: carry on with it.
        sendPull();
        flush();
    }
    Q_EMIT loginRejected(m_lastError, m.value(str("retryAfterMs")).toInteger());
}

void SyncEngine::handleRestoreRejected(const QJsonObject& m)
{
    m_loginRequest.reset();
    m_lastError = m.value(str("reason")).toString();
    setLink(m_needsJoin ? Link::NeedsJoin : (m_token.isEmpty() ? Link::Open : Link::Online));
    if (m_link == Link::Online) {
        sendPull();
        flush();
    }
    Q_EMIT restoreRejected(m_lastError, m.value(str("pendingApproval")).toBool(),
                           m.value(str("retryAfterMs")).toInteger());
}

void SyncEngine::handleAck(const QJsonObject& m)
{
    const qint64 head = m.value(str("headServerSeq")).toInteger();
    m_knownHead = std::max(m_knownHead, head);
    noteEpoch(m, false);
    if (!sameHistory(m)) {
        // The server numbered these updates in a history this client's log is not reconciled
        // with yet (noteEpoch asked for a pull). They stay pending: the pull answer carries them
        // as entries, and a resend would be de-duplicated to the same numbers.
        return;
    }
    QList<QPair<qint64, qint64>> acks;
    for (const QJsonValue& v : m.value(str("updateAcks")).toArray()) {
        const QJsonObject a = v.toObject();
        const qint64 local = a.value(str("localSeqNum")).toInteger();
        const qint64 server = a.value(str("serverSeqNum")).toInteger();
        acks.append({local, server});
        const int i = pendingIndex(local);
        if (i < 0) {
            continue; // already moved to the canonical log (by a pull answer or an earlier ack)
        }
        const PendingUpdate& p = m_pending.at(i);
        const CanonicalEntry e{server, p.key, p.value, m_clientId, local, m_locationName, p.afterServerSeqNum};
        if (!addCanonical(e)) {
            m_pending.removeAt(i); // the seq is held already; it can only be this update
        }
    }
    settle(true);
    for (const auto& [local, server] : acks) {
        Q_EMIT acked(local, server);
    }
    // docs/protocol.md §11: after an ack with head H a caught-up socket holds every entry <= H.
    // If it does not (it was not caught up), fetch the gap.
    if (m_link == Link::Online && !m_pullInFlight && head > m_lastServerSeq) {
        sendPull();
    }
}

void SyncEngine::handleRelay(const QJsonObject& m)
{
    if (m.value(str("pull")).toBool() && m.value(str("compacted")).toBool()) {
        handleCompactedChunk(m);
        return;
    }
    m_knownHead = std::max(m_knownHead, m.value(str("headServerSeq")).toInteger());
    const bool pullAnswer = m.value(str("pull")).toBool() && m_pullInFlight;
    noteEpoch(m, pullAnswer);
    if (!sameHistory(m)) {
        // Entries of another history must never mix with this log's; the pull noteEpoch sent
        // brings them once the server has reconciled the two.
        return;
    }
    for (const QJsonValue& v : m.value(str("updatesRelayed")).toArray()) {
        addCanonical(entryFromWire(v.toObject()));
    }
    if (pullAnswer && m.value(str("final")).toBool()) {
        m_pullInFlight = false;
    }
    settle(true);
    if (pullAnswer && m_holdPending && !hasUnansweredRecovery()) {
        // The server vouched for this log (no SERVER_PULL): nothing of it needs giving back.
        releasePending();
    }
}

void SyncEngine::handleCompactedChunk(const QJsonObject& m)
{
    m_knownHead = std::max(m_knownHead, m.value(str("headServerSeq")).toInteger());
    const qint64 from = m.value(str("fromServerSeq")).toInteger();
    const qint64 through = m.value(str("throughServerSeq")).toInteger();
    if (!m_pullInFlight) {
        return; // the rest of an answer this client has replaced or given up on
    }
    noteEpoch(m, true);
    if (m_compact && (m_compact->from != from || m_compact->through != through)) {
        m_compact.reset(); // a new answer started; what was buffered belongs to an older one
    }
    if (!m_compact) {
        m_compact = CompactedPart{from, through, {}};
    }
    for (const QJsonValue& v : m.value(str("updatesRelayed")).toArray()) {
        const QJsonObject o = v.toObject();
        m_compact->items.append({o.value(str("updateKey")).toString(), o.value(str("updateValue"))});
    }
    if (!m.value(str("compactedLast")).toBool()) {
        emitChanges();
        return;
    }
    // The items are whole values at `through`: applied in order to the state at `from` they give
    // the state at `through`, and only all of them together do.
    const CompactedPart part = *m_compact;
    m_compact.reset();
    if (part.through > m_lastServerSeq) {
        std::optional<MeetState> state = stateAt(part.from);
        if (!state) {
            m_lastError = str("a compacted pull part starts at %1, a state this client cannot rebuild").arg(part.from);
            Q_EMIT protocolError(MsgType::UpdateRelay, m_lastError);
            m_pullInFlight = false;
            emitChanges();
            return;
        }
        for (const auto& [key, value] : part.items) {
            applyTo(*state, key, value);
        }
        // Seqs from+1..through are not held one by one: the state at `through` becomes the base.
        m_baseState = *state;
        m_baseSeq = part.through;
        m_compactedAfter = std::min(m_compactedAfter.value_or(part.from), part.from);
        m_canonicalState = *state;
        m_lastServerSeq = part.through;
        m_appliedSeq = part.through;
    }
    if (m.value(str("final")).toBool()) {
        m_pullInFlight = false;
    }
    settle(true);
}

void SyncEngine::handleRejected(const QJsonObject& m)
{
    QList<RejectedUpdate> out;
    qint64 conflictHead = 0;
    for (const QJsonValue& v : m.value(str("updatesRejected")).toArray()) {
        const QJsonObject o = v.toObject();
        const int i = pendingIndex(o.value(str("localSeqNum")).toInteger());
        if (i < 0) {
            continue;
        }
        RejectedUpdate r;
        r.update = m_pending.takeAt(i);
        r.code = o.value(str("code")).toString();
        r.reason = o.value(str("reason")).toString();
        r.conflict = o.value(str("conflict")).toBool();
        if (r.conflict) {
            const QJsonObject w = o.value(str("winner")).toObject();
            if (!w.isEmpty()) {
                r.winner
                    = ConflictWinner{w.value(str("serverSeqNum")).toInteger(), w.value(str("locationName")).toString(),
                                     w.value(str("clientId")).toString(), w.value(str("priority")).toInteger()};
            }
            if (o.contains(str("currentValue"))) {
                r.currentValue = o.value(str("currentValue"));
            }
            r.headServerSeq = o.value(str("headServerSeq")).toInteger();
            conflictHead = std::max(conflictHead, r.headServerSeq);
        }
        m_sentOnTransport.remove(r.update.localSeqNum);
        m_rejected.append(r);
        out.append(r);
    }
    m_knownHead = std::max(m_knownHead, conflictHead);
    // The rebase: the rejected update leaves the local state, which becomes the canonical state
    // plus the remaining pending updates.
    settle(true);
    for (const RejectedUpdate& r : out) {
        Q_EMIT updateRejected(r);
    }
    // The winner's entry was relayed before the rejection; a client that was not caught up
    // fetches it, so that its local state shows the value that won.
    if (m_link == Link::Online && !m_pullInFlight && conflictHead > m_lastServerSeq) {
        sendPull();
    }
}

void SyncEngine::handleStorageError(const QJsonObject& m)
{
    QList<qint64> seqs;
    for (const QJsonValue& v : m.value(str("localSeqNums")).toArray()) {
        seqs.append(v.toInteger());
        m_sentOnTransport.remove(v.toInteger()); // not applied: resendPending() sends it again
    }
    m_lastError = m.value(str("errMsg")).toString();
    Q_EMIT storageError(seqs);
}

void SyncEngine::handleInvalidSession(const QJsonObject& m)
{
    const QString token = m.value(str("sessionToken")).toString();
    if (!token.isEmpty() && !m_token.startsWith(token)) {
        return; // about a token this client no longer uses
    }
    m_lastError = m.value(str("reason")).toString();
    m_needsJoin = true;
    m_pullInFlight = false;
    m_compact.reset();
    m_sentOnTransport.clear(); // the server acted on none of them; send again after the join
    setLink(Link::NeedsJoin);
}

void SyncEngine::handleServerPull(const QJsonObject& m)
{
    const qint64 k = std::max<qint64>(0, m.value(str("lastServerSeq")).toInteger());
    const QString newEpoch = m.value(str("epoch")).toString();
    m_knownHead = std::max(m_knownHead, m.value(str("headServerSeq")).toInteger());
    m_serverPullHead = k;
    m_pullInFlight = false; // no pull answer follows a SERVER_PULL
    m_compact.reset();

    // 1. Give the server back what it lost, labelled with the history it belongs to (the old
    //    epoch). A display session may not write, so it only resynchronizes.
    if (m_role != kDisplayRole) {
        pushRecovery(k);
    }

    // 2. Drop what the server does not hold under the history it continues with. The state at
    //    k can be rebuilt from the base (k >= base) or from entries held one by one (k at or
    //    below the first compacted part); otherwise start over from nothing.
    if (k >= m_baseSeq) {
        dropEntriesAbove(k, false);
    } else if (m_compactedAfter && k <= *m_compactedAfter) {
        dropEntriesAbove(k, false);
        m_baseSeq = 0;
        m_baseState.clear();
        m_compactedAfter.reset();
    } else {
        clearCanonical();
    }
    recomputeCanonical();
    const qint64 kPrime = m_lastServerSeq;

    // 3. Pending updates were made on top of entries that may come back with new numbers:
    //    they wait for the server's answer to the push (releasePending decides).
    m_clampAfterRecovery = kPrime;
    m_recoveryRenumbered = false;

    // 4. Continue under the server's history: pull what it holds after k', resend the pending.
    if (!newEpoch.isEmpty()) {
        adoptEpoch(newEpoch);
    }
    if (m_link == Link::Online) {
        sendPull();
        m_sentOnTransport.clear();
    }
    if (!hasUnansweredRecovery()) {
        releasePending();
    } else {
        m_holdPending = true;
    }
    settle(true);
    Q_EMIT serverPullReceived(k);
}

qint64 SyncEngine::pushRecovery(qint64 seq)
{
    const QString epoch = m_epoch.isEmpty() ? kUnknownEpoch : m_epoch;
    const qint64 maxBatchBytes = m_limits.maxMessageBytes / 2;
    QJsonArray batch;
    qint64 batchBytes = 0;
    qint64 count = 0;
    auto sendBatch = [&] {
        if (batch.isEmpty()) {
            return;
        }
        // Kept until the server answers: these entries leave the canonical log below, so a
        // dropped connection must not lose them (sendRecoveryOutbox sends them again).
        m_recoveryOutbox.append(OutboxItem{
            m_nextOutboxId++, QJsonObject{{str("epoch"), epoch}, {str("entries"), batch}}, false, false, 0, QString()});
        batch = QJsonArray();
        batchBytes = 0;
    };
    for (auto it = m_canonical.upperBound(seq); it != m_canonical.end(); ++it) {
        const CanonicalEntry& e = *it;
        const qint64 size = wireSize(e.key, e.value) + e.clientId.size() + e.locationName.size();
        if (batch.size() >= m_limits.maxUpdatesPerMessage || (batchBytes + size > maxBatchBytes && !batch.isEmpty())) {
            sendBatch();
        }
        batch.append(QJsonObject{{str("serverSeqNum"), e.serverSeqNum},
                                 {str("updateKey"), e.key},
                                 {str("updateValue"), e.value},
                                 {str("clientId"), e.clientId},
                                 {str("localSeqNum"), e.localSeqNum},
                                 {str("locationName"), e.locationName},
                                 {str("afterServerSeqNum"), e.afterServerSeqNum}});
        batchBytes += size;
        ++count;
    }
    sendBatch();
    sendRecoveryOutbox();
    if (count > 0) {
        Q_EMIT recoveryPushed(count);
    }
    return count;
}

void SyncEngine::sendRecoveryOutbox()
{
    if (m_link != Link::Online) {
        return;
    }
    // The server answers each RECOVERY_PUSH with one RECOVERY_ACK/REJECTED, in order.
    for (OutboxItem& item : m_recoveryOutbox) {
        if (item.sent) {
            continue;
        }
        QJsonObject m = item.message;
        m.insert(str("msgType"), kRecoveryPush);
        m.insert(str("sessionToken"), m_token);
        sendMessage(m);
        item.sent = true;
        m_recoveryAwaiting.append(item.id);
    }
}

void SyncEngine::releasePending()
{
    if (m_clampAfterRecovery && (m_recoveryRenumbered || hasUnansweredRecovery())) {
        // The entries they were made on came back with other numbers (or not yet): they saw
        // nothing the server numbers above k'.
        for (PendingUpdate& p : m_pending) {
            p.afterServerSeqNum = std::min(p.afterServerSeqNum, *m_clampAfterRecovery);
        }
    }
    if (!hasUnansweredRecovery()) {
        m_clampAfterRecovery.reset();
        m_recoveryRenumbered = false;
    }
    m_holdPending = false;
    m_sentOnTransport.clear();
    flush();
}

bool SyncEngine::hasUnansweredRecovery() const
{
    return std::any_of(m_recoveryOutbox.cbegin(), m_recoveryOutbox.cend(),
                       [](const OutboxItem& item) { return !item.answered; });
}

void SyncEngine::pruneOutbox()
{
    // The server holds what was pushed, and so does this client again (it caught up with the
    // head the answer named, in the same history): the copy in the outbox is no longer needed.
    m_recoveryOutbox.removeIf([this](const OutboxItem& item) {
        return item.answered && !m_recoveryAwaiting.contains(item.id)
            && (item.answeredEpoch.isEmpty() || item.answeredEpoch == m_epoch) && m_lastServerSeq >= item.answeredHead;
    });
}

void SyncEngine::resetOutboxSent()
{
    // Replies to pushes of an earlier transport or session never come: send those again.
    m_recoveryAwaiting.clear();
    for (OutboxItem& item : m_recoveryOutbox) {
        item.sent = false;
        item.answered = false; // the server may have lost them again since: ask again
    }
}

void SyncEngine::handleRecoveryAck(const QJsonObject& m)
{
    RecoveryReport r;
    r.restored = m.value(str("restored")).toInteger();
    r.resequenced = m.value(str("resequenced")).toInteger();
    r.duplicates = m.value(str("duplicates")).toInteger();
    r.conflicts = m.value(str("conflicts")).toInteger();
    for (const QJsonValue& v : m.value(str("skipped")).toArray()) {
        const QJsonObject o = v.toObject();
        r.skipped.append({o.value(str("serverSeqNum")).toInteger(), o.value(str("reason")).toString()});
    }
    r.headServerSeq = m.value(str("headServerSeq")).toInteger();
    r.epoch = m.value(str("epoch")).toString();
    m_knownHead = std::max(m_knownHead, r.headServerSeq);
    if (!m_recoveryAwaiting.isEmpty()) {
        const quint64 id = m_recoveryAwaiting.takeFirst();
        for (OutboxItem& item : m_recoveryOutbox) {
            if (item.id == id) {
                item.answered = true;
                item.answeredHead = r.headServerSeq;
                item.answeredEpoch = r.epoch;
            }
        }
    }
    if (r.resequenced > 0 || r.conflicts > 0 || !r.skipped.isEmpty()) {
        m_recoveryRenumbered = true;
    }
    pruneOutbox();
    if (!hasUnansweredRecovery()) {
        releasePending();
    }
    Q_EMIT recoveryAcked(r);
    // The restored and re-sequenced entries come as relays; if this client is not caught up
    // with the head the server reports, fetch the rest.
    if (m_link == Link::Online && !m_pullInFlight && r.headServerSeq > m_lastServerSeq) {
        sendPull();
    }
}

// --- epochs -----------------------------------------------------------------------------------

bool SyncEngine::holdsNothing() const
{
    return m_canonical.isEmpty() && m_baseSeq == 0 && m_lastServerSeq == 0;
}

void SyncEngine::noteEpoch(const QJsonObject& m, bool authoritative)
{
    const QString epoch = m.value(str("epoch")).toString();
    if (epoch.isEmpty() || epoch == m_epoch) {
        return;
    }
    if (holdsNothing()) {
        adoptEpoch(epoch);
        return;
    }
    if (authoritative) {
        // The server answered the pull from lastServerSeq, so it holds that prefix under its
        // history. Entries held beyond a gap are not vouched for: they may be ones it lost and
        // whose numbers it reused. They go back to it (labelled with their history, so it keeps
        // what it has and re-sequences the rest, never twice) before they leave this log: this
        // client may be the last one holding them.
        // Own entries also go back to the pending log, so the local state keeps showing them; a
        // resend is de-duplicated against the pushed copy.
        const qint64 pushed = m_role == kDisplayRole ? 0 : pushRecovery(m_lastServerSeq);
        dropEntriesAbove(m_lastServerSeq, true);
        adoptEpoch(epoch);
        if (pushed > 0) {
            // Pending updates wait for the answer, as after SERVER_PULL.
            m_clampAfterRecovery = m_lastServerSeq;
            m_recoveryRenumbered = false;
            m_holdPending = true;
        }
        return;
    }
    // Another history than the one the log came from, not yet reconciled: let the server decide
    // with a pull that names the old epoch.
    if (m_link == Link::Online && !m_pullInFlight) {
        sendPull();
    }
}

bool SyncEngine::sameHistory(const QJsonObject& m) const
{
    // No epoch in the message (an older server) or none held yet: nothing to tell them apart by.
    const QString epoch = m.value(str("epoch")).toString();
    return epoch.isEmpty() || m_epoch.isEmpty() || epoch == m_epoch;
}

void SyncEngine::adoptEpoch(const QString& epoch)
{
    if (epoch != m_epoch) {
        m_epoch = epoch;
        Q_EMIT epochChanged(epoch);
    }
}

// --- logs and states --------------------------------------------------------------------------

void SyncEngine::clearCanonical()
{
    m_canonical.clear();
    m_baseSeq = 0;
    m_baseState.clear();
    m_compactedAfter.reset();
    m_canonicalState.clear();
    m_lastServerSeq = 0;
    m_appliedSeq = 0;
}

void SyncEngine::dropEntriesAbove(qint64 seq, bool requeueOwn)
{
    bool requeued = false;
    for (auto it = m_canonical.upperBound(seq); it != m_canonical.end();) {
        if (requeueOwn && it->clientId == m_clientId && it->localSeqNum > 0 && pendingIndex(it->localSeqNum) < 0) {
            m_pending.append(PendingUpdate{it->localSeqNum, it->key, it->value, std::min(it->afterServerSeqNum, seq)});
            requeued = true;
        }
        it = m_canonical.erase(it);
    }
    if (requeued) {
        std::sort(m_pending.begin(), m_pending.end(),
                  [](const PendingUpdate& a, const PendingUpdate& b) { return a.localSeqNum < b.localSeqNum; });
    }
    if (m_lastServerSeq > seq) {
        // Only reached from SERVER_PULL, which recomputes the canonical state right after.
        m_lastServerSeq = seq;
        m_appliedSeq = std::min(m_appliedSeq, seq);
    }
}

std::optional<MeetState> SyncEngine::stateAt(qint64 seq) const
{
    if (seq > m_lastServerSeq || seq < 0) {
        return std::nullopt;
    }
    if (seq == m_lastServerSeq) {
        return m_canonicalState;
    }
    MeetState state;
    qint64 from = 0;
    if (seq >= m_baseSeq) {
        state = m_baseState;
        from = m_baseSeq;
    } else if (!m_compactedAfter || seq > *m_compactedAfter) {
        return std::nullopt; // inside a range held only as a compacted base
    }
    // Entries from+1..seq are held one by one: seq is at most lastServerSeq, and below the first
    // compacted part every entry is held.
    for (auto it = m_canonical.upperBound(from); it != m_canonical.end() && it.key() <= seq; ++it) {
        applyTo(state, it->key, it->value);
    }
    return state;
}

void SyncEngine::recomputeCanonical()
{
    m_canonicalState = m_baseState;
    m_lastServerSeq = m_baseSeq;
    m_appliedSeq = m_baseSeq;
    settle(true);
}

int SyncEngine::pendingIndex(qint64 localSeqNum) const
{
    for (int i = 0; i < m_pending.size(); ++i) {
        if (m_pending.at(i).localSeqNum == localSeqNum) {
            return i;
        }
    }
    return -1;
}

bool SyncEngine::addCanonical(const CanonicalEntry& e)
{
    if (e.serverSeqNum < 1 || m_canonical.contains(e.serverSeqNum)) {
        return false; // a duplicate (overlapping pull chunk, live relay repeated by a pull)
    }
    if (e.clientId == m_clientId) {
        // Our own update came back (a pull after a lost ack, or another socket of this client).
        const int i = pendingIndex(e.localSeqNum);
        if (i >= 0) {
            m_pending.removeAt(i);
        }
    }
    // An entry at or below lastServerSeq that was not held (inside a compacted part) is already
    // in the canonical state; it is kept for serverSeqOf() and a later RECOVERY_PUSH.
    m_canonical.insert(e.serverSeqNum, e);
    return true;
}

void SyncEngine::applyTo(MeetState& state, const QString& key, const QJsonValue& value) const
{
    const auto path = KeyPath::parse(key, m_limits.maxKeyLength, m_limits.maxKeyDepth);
    if (path) {
        state.apply(*path, value);
    }
}

void SyncEngine::settle(bool pendingMayHaveChanged)
{
    const qint64 before = m_appliedSeq;
    while (m_canonical.contains(m_lastServerSeq + 1)) {
        ++m_lastServerSeq;
    }
    for (auto it = m_canonical.upperBound(m_appliedSeq); it != m_canonical.end() && it.key() <= m_lastServerSeq; ++it) {
        applyTo(m_canonicalState, it->key, it->value);
    }
    m_appliedSeq = m_lastServerSeq;
    if (pendingMayHaveChanged || before != m_lastServerSeq) {
        rebuildLocal();
        Q_EMIT localStateChanged();
    }
    if (before != m_lastServerSeq) {
        pruneOutbox();
    }
    emitChanges();
}

void SyncEngine::rebuildLocal()
{
    // The rebase: the canonical state, then entries already held beyond a gap (in seq order),
    // then the pending updates in localSeqNum order.
    m_localState = m_canonicalState;
    for (auto it = m_canonical.upperBound(m_lastServerSeq); it != m_canonical.end(); ++it) {
        applyTo(m_localState, it->key, it->value);
    }
    for (const PendingUpdate& p : std::as_const(m_pending)) {
        applyTo(m_localState, p.key, p.value);
    }
}

} // namespace oll
