#include "client/SyncClient.h"

#include "protocol/KeyPath.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QWebSocket>

namespace oll {
namespace {

QString str(const char* s)
{
    return QString::fromLatin1(s);
}

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
                       {str("locationName"), e.locationName}};
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
    return e;
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
    const QJsonObject o{{str("clientId"), clientId}, {str("sessionToken"), sessionToken},
                        {str("meetId"), meetId},     {str("locationName"), locationName},
                        {str("role"), role},         {str("nextLocalSeqNum"), nextLocalSeqNum},
                        {str("pending"), p},         {str("canonical"), c}};
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
    for (const QJsonValue& v : o.value(str("pending")).toArray()) {
        s.pending.append(pendingFromJson(v.toObject()));
    }
    for (const QJsonValue& v : o.value(str("canonical")).toArray()) {
        s.canonical.append(entryFromJson(v.toObject()));
    }
    return s;
}

// --- SyncClient -------------------------------------------------------------------------------

SyncClient::SyncClient(const QUrl& url, const QString& clientId, qint64 firstLocalSeqNum, SyncClientOptions options,
                       QObject* parent)
    : QObject(parent)
    , m_url(url)
    , m_clientId(clientId)
    , m_options(std::move(options))
    , m_nextLocalSeqNum(firstLocalSeqNum < 1 ? 1 : firstLocalSeqNum)
{
    m_reconnectDelayMs = m_options.reconnectDelayMs;
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        if (m_wantOnline && !m_socket) {
            openSocket();
        }
    });
    m_storageRetryTimer.setSingleShot(true);
    connect(&m_storageRetryTimer, &QTimer::timeout, this, &SyncClient::flush);
}

SyncClient::SyncClient(const QUrl& url, const PersistedState& state, SyncClientOptions options, QObject* parent)
    : SyncClient(url, state.clientId, state.nextLocalSeqNum, std::move(options), parent)
{
    m_token = state.sessionToken;
    m_meetId = state.meetId;
    m_locationName = state.locationName;
    m_role = state.role;
    m_pending = state.pending;
    std::sort(m_pending.begin(), m_pending.end(),
              [](const PendingUpdate& a, const PendingUpdate& b) { return a.localSeqNum < b.localSeqNum; });
    for (const PendingUpdate& p : m_pending) {
        m_nextLocalSeqNum = std::max(m_nextLocalSeqNum, p.localSeqNum + 1);
    }
    for (const CanonicalEntry& e : state.canonical) {
        m_canonical.insert(e.serverSeqNum, e);
    }
    m_lastPendingCount = pendingCount();
    settle(false);
}

SyncClient::~SyncClient()
{
    if (m_socket) {
        disconnect(m_socket, nullptr, this, nullptr);
    }
}

PersistedState SyncClient::persistedState() const
{
    PersistedState s;
    s.clientId = m_clientId;
    s.sessionToken = m_token;
    s.meetId = m_meetId;
    s.locationName = m_locationName;
    s.role = m_role;
    s.nextLocalSeqNum = m_nextLocalSeqNum;
    s.pending = m_pending;
    s.canonical = m_canonical.values();
    return s;
}

std::optional<CanonicalEntry> SyncClient::entry(qint64 serverSeqNum) const
{
    const auto it = m_canonical.constFind(serverSeqNum);
    if (it == m_canonical.cend()) {
        return std::nullopt;
    }
    return *it;
}

std::optional<qint64> SyncClient::serverSeqOf(qint64 localSeqNum) const
{
    for (const CanonicalEntry& e : m_canonical) {
        if (e.clientId == m_clientId && e.localSeqNum == localSeqNum) {
            return e.serverSeqNum;
        }
    }
    return std::nullopt;
}

// --- session ----------------------------------------------------------------------------------

void SyncClient::createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints)
{
    QJsonArray eps;
    for (const Endpoint& e : endpoints) {
        eps.append(QJsonObject{{str("locationName"), e.locationName}, {str("priority"), e.priority}});
    }
    m_loginRequest = QJsonObject{{str("msgType"), MsgType::CreateMeet},
                                 {str("thisLocationName"), thisLocationName},
                                 {str("password"), password},
                                 {str("endpoints"), eps},
                                 {str("clientId"), m_clientId}};
    m_wantOnline = true;
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState) {
        send(*m_loginRequest);
        setStatus(Status::LoggingIn);
    } else if (!m_socket) {
        openSocket();
    }
}

void SyncClient::joinMeet(const QString& meetId, const QString& password, const QString& locationName, Role role)
{
    m_loginRequest = QJsonObject{{str("msgType"), MsgType::JoinMeet}, {str("meetId"), meetId},
                                 {str("password"), password},         {str("locationName"), locationName},
                                 {str("clientId"), m_clientId},       {str("role"), roleName(role)}};
    m_wantOnline = true;
    if (m_socket && m_socket->state() == QAbstractSocket::ConnectedState) {
        send(*m_loginRequest);
        setStatus(Status::LoggingIn);
    } else if (!m_socket) {
        openSocket();
    }
}

// --- updates ----------------------------------------------------------------------------------

qint64 SyncClient::update(const QString& key, const QJsonValue& value)
{
    const QList<qint64> seqs = updateMany({{key, value}});
    return seqs.value(0, 0);
}

QList<qint64> SyncClient::updateMany(const QList<QPair<QString, QJsonValue>>& updates)
{
    QList<qint64> seqs;
    for (const auto& [key, value] : updates) {
        QString error;
        KeyPath::Problem problem = KeyPath::Problem::None;
        const auto path
            = KeyPath::parse(key, m_options.limits.maxKeyLength, m_options.limits.maxKeyDepth, &error, &problem);
        PendingUpdate p;
        p.key = key;
        p.value = value;
        p.afterServerSeqNum = m_lastServerSeq;
        if (!path) {
            // The server would reject it too; refuse it here so it never shows in the local state.
            RejectedUpdate r{p, keyProblemCode(problem), str("updateKey: ") + error, false};
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
    if (m_lastPendingCount != pendingCount()) {
        m_lastPendingCount = pendingCount();
        Q_EMIT pendingCountChanged(m_lastPendingCount);
    }
    flush();
    return seqs;
}

void SyncClient::flush()
{
    if (m_status != Status::Online || !m_socket) {
        return;
    }
    QJsonArray batch;
    qint64 batchBytes = 0;
    // Stay well under the 4 MiB message limit; one value may be up to 1 MiB.
    const qint64 maxBatchBytes = m_options.limits.maxMessageBytes / 2;
    auto sendBatch = [&] {
        if (batch.isEmpty()) {
            return;
        }
        send(QJsonObject{
            {str("msgType"), MsgType::UpdateInit}, {str("sessionToken"), m_token}, {str("updates"), batch}});
        batch = QJsonArray();
        batchBytes = 0;
    };
    for (const PendingUpdate& p : std::as_const(m_pending)) {
        if (m_sentOnSocket.contains(p.localSeqNum)) {
            continue;
        }
        const qint64 size = compactJson(p.value).size() + p.key.size() + 128;
        if (batch.size() >= m_options.limits.maxUpdatesPerMessage
            || (batchBytes + size > maxBatchBytes && !batch.isEmpty())) {
            sendBatch();
        }
        batch.append(QJsonObject{{str("updateKey"), p.key},
                                 {str("updateValue"), p.value},
                                 {str("localSeqNum"), p.localSeqNum},
                                 {str("afterServerSeqNum"), p.afterServerSeqNum}});
        batchBytes += size;
        m_sentOnSocket.insert(p.localSeqNum);
    }
    sendBatch();
}

// --- connectivity -----------------------------------------------------------------------------

void SyncClient::setOnline(bool online)
{
    m_wantOnline = online;
    if (!online) {
        m_reconnectTimer.stop();
        m_storageRetryTimer.stop();
        closeSocket();
        m_pullInFlight = false;
        setStatus(Status::Offline);
        return;
    }
    m_reconnectDelayMs = m_options.reconnectDelayMs;
    if (!m_socket) {
        m_reconnectTimer.stop();
        openSocket();
    }
}

void SyncClient::openSocket()
{
    m_socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    m_sentOnSocket.clear();
    QWebSocket* socket = m_socket;
    connect(socket, &QWebSocket::connected, this, &SyncClient::onConnected);
    connect(socket, &QWebSocket::disconnected, this, &SyncClient::onDisconnected);
    connect(socket, &QWebSocket::textMessageReceived, this, &SyncClient::onMessage);
    connect(socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this, socket](QAbstractSocket::SocketError) {
                if (socket == m_socket && socket->state() == QAbstractSocket::UnconnectedState) {
                    onDisconnected();
                }
            });
    setStatus(Status::Connecting);
    socket->open(m_url);
}

QWebSocket* SyncClient::takeSocket()
{
    // Whatever was sent on this socket may not have arrived: it is sent again on the next one.
    QWebSocket* socket = m_socket;
    m_socket = nullptr;
    m_sentOnSocket.clear();
    disconnect(socket, nullptr, this, nullptr);
    return socket;
}

void SyncClient::closeSocket()
{
    if (!m_socket) {
        return;
    }
    QWebSocket* socket = takeSocket();
    if (socket->state() == QAbstractSocket::ConnectedState) {
        // A clean close: frames already written (an UPDATE_INIT just sent) still reach the server,
        // but nothing the server answers reaches this client any more.
        connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
        socket->close();
    } else {
        socket->abort();
        socket->deleteLater();
    }
}

void SyncClient::onConnected()
{
    m_reconnectDelayMs = m_options.reconnectDelayMs;
    m_sentOnSocket.clear();
    if (m_loginRequest) {
        send(*m_loginRequest);
        setStatus(Status::LoggingIn);
        return;
    }
    if (m_token.isEmpty()) {
        setStatus(Status::Connected);
        return;
    }
    if (m_needsJoin) {
        setStatus(Status::NeedsJoin);
        return;
    }
    setStatus(Status::Online);
    sendPull(); // re-binds the socket and fills the gap; answered before the resends below
    flush();
}

void SyncClient::onDisconnected()
{
    if (!m_socket) {
        return;
    }
    takeSocket()->deleteLater();
    m_pullInFlight = false;
    m_storageRetryTimer.stop();
    setStatus(Status::Offline);
    if (m_wantOnline) {
        m_reconnectTimer.start(m_reconnectDelayMs);
        m_reconnectDelayMs = std::min(std::max(1, m_reconnectDelayMs) * 2, m_options.reconnectMaxDelayMs);
    }
}

void SyncClient::send(const QJsonObject& message)
{
    if (m_socket) {
        m_socket->sendTextMessage(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
    }
}

void SyncClient::sendPull()
{
    send(QJsonObject{{str("msgType"), MsgType::ClientPull},
                     {str("sessionToken"), m_token},
                     {str("lastServerSeq"), m_lastServerSeq}});
    m_pullInFlight = true;
    settle(false);
}

void SyncClient::setStatus(Status s)
{
    if (m_status == s) {
        return;
    }
    const bool wasOnline = m_status == Status::Online;
    m_status = s;
    Q_EMIT statusChanged(s);
    if (wasOnline != (s == Status::Online)) {
        Q_EMIT onlineChanged(s == Status::Online);
    }
    if (m_lastOutOfSync != outOfSync()) {
        m_lastOutOfSync = outOfSync();
        Q_EMIT outOfSyncChanged(m_lastOutOfSync);
    }
}

// --- incoming ---------------------------------------------------------------------------------

void SyncClient::onMessage(const QString& text)
{
    const QJsonObject m = QJsonDocument::fromJson(text.toUtf8()).object();
    const QString type = m.value(str("msgType")).toString();
    if (type == MsgType::UpdateRelay) {
        handleRelay(m);
    } else if (type == MsgType::UpdateAck) {
        handleAck(m);
    } else if (type == MsgType::UpdateRejected) {
        handleRejected(m);
    } else if (type == MsgType::MeetCreated || type == MsgType::MeetJoined) {
        handleLoggedIn(m);
    } else if (type == MsgType::CreateRejected || type == MsgType::JoinRejected) {
        m_loginRequest.reset();
        m_lastError = m.value(str("reason")).toString();
        setStatus(m_needsJoin ? Status::NeedsJoin : (m_token.isEmpty() ? Status::Connected : Status::Online));
        if (m_status == Status::Online) {
            // A failed re-join while the old session is still usable: carry on with it.
            sendPull();
            flush();
        }
        Q_EMIT loginRejected(m_lastError, m.value(str("retryAfterMs")).toInteger());
    } else if (type == MsgType::StorageError) {
        handleStorageError(m);
    } else if (type == MsgType::InvalidSession) {
        handleInvalidSession(m);
    } else if (type == MsgType::ServerPull) {
        m_serverPullHead = m.value(str("lastServerSeq")).toInteger();
        m_pullInFlight = false; // recovery from clients is not implemented yet; just record it
        settle(false);
        Q_EMIT serverPullReceived(*m_serverPullHead);
    } else {
        m_lastError = m.value(str("errMsg")).toString();
        Q_EMIT protocolError(type, m_lastError);
    }
}

void SyncClient::handleLoggedIn(const QJsonObject& m)
{
    const QString meetId = m.value(str("meetId")).toString();
    if (!m_meetId.isEmpty() && meetId != m_meetId) {
        // Another meet: the log held so far belongs to the old one. Pending updates are kept
        // (made before the first login, they belong to the meet this client now serves).
        m_canonical.clear();
        m_canonicalState.clear();
        m_lastServerSeq = 0;
        m_appliedSeq = 0;
        m_serverPullHead.reset();
    }
    m_loginRequest.reset();
    m_needsJoin = false;
    m_token = m.value(str("sessionToken")).toString();
    m_meetId = meetId;
    m_locationName = m.value(str("locationName")).toString();
    m_role = m.value(str("role")).toString();
    const qint64 head = m.value(str("headServerSeq")).toInteger();
    m_knownHead = std::max(m_knownHead, head);
    setStatus(Status::Online);
    if (head != m_lastServerSeq) {
        sendPull();
    } else {
        settle(false);
    }
    m_sentOnSocket.clear(); // anything sent under an earlier session is sent again (idempotent)
    flush();
    Q_EMIT loggedIn();
}

void SyncClient::handleAck(const QJsonObject& m)
{
    const qint64 head = m.value(str("headServerSeq")).toInteger();
    m_knownHead = std::max(m_knownHead, head);
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
        CanonicalEntry e{server, p.key, p.value, m_clientId, local, m_locationName};
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
    if (m_status == Status::Online && !m_pullInFlight && head > m_lastServerSeq) {
        sendPull();
    }
}

void SyncClient::handleRelay(const QJsonObject& m)
{
    m_knownHead = std::max(m_knownHead, m.value(str("headServerSeq")).toInteger());
    for (const QJsonValue& v : m.value(str("updatesRelayed")).toArray()) {
        const QJsonObject o = v.toObject();
        CanonicalEntry e;
        e.serverSeqNum = o.value(str("serverSeqNum")).toInteger();
        e.key = o.value(str("updateKey")).toString();
        e.value = o.value(str("updateValue"));
        e.clientId = o.value(str("clientId")).toString();
        e.localSeqNum = o.value(str("localSeqNum")).toInteger();
        e.locationName = o.value(str("locationName")).toString();
        addCanonical(e);
    }
    if (m.value(str("pull")).toBool() && m.value(str("final")).toBool()) {
        m_pullInFlight = false;
    }
    settle(true);
}

void SyncClient::handleRejected(const QJsonObject& m)
{
    QList<RejectedUpdate> out;
    for (const QJsonValue& v : m.value(str("updatesRejected")).toArray()) {
        const QJsonObject o = v.toObject();
        const int i = pendingIndex(o.value(str("localSeqNum")).toInteger());
        if (i < 0) {
            continue;
        }
        RejectedUpdate r{m_pending.takeAt(i), o.value(str("code")).toString(), o.value(str("reason")).toString(),
                         o.value(str("conflict")).toBool()};
        m_sentOnSocket.remove(r.update.localSeqNum);
        m_rejected.append(r);
        out.append(r);
    }
    settle(true);
    for (const RejectedUpdate& r : out) {
        Q_EMIT updateRejected(r);
    }
}

void SyncClient::handleStorageError(const QJsonObject& m)
{
    QList<qint64> seqs;
    for (const QJsonValue& v : m.value(str("localSeqNums")).toArray()) {
        seqs.append(v.toInteger());
        m_sentOnSocket.remove(v.toInteger()); // not applied: flush() sends it again
    }
    m_lastError = m.value(str("errMsg")).toString();
    m_storageRetryTimer.start(m_options.storageRetryDelayMs);
    Q_EMIT storageError(seqs);
}

void SyncClient::handleInvalidSession(const QJsonObject& m)
{
    const QString token = m.value(str("sessionToken")).toString();
    if (!token.isEmpty() && !m_token.startsWith(token)) {
        return; // about a token this client no longer uses
    }
    m_lastError = m.value(str("reason")).toString();
    m_needsJoin = true;
    m_pullInFlight = false;
    m_sentOnSocket.clear(); // the server acted on none of them; send again after the join
    setStatus(Status::NeedsJoin);
}

// --- logs and states --------------------------------------------------------------------------

int SyncClient::pendingIndex(qint64 localSeqNum) const
{
    for (int i = 0; i < m_pending.size(); ++i) {
        if (m_pending.at(i).localSeqNum == localSeqNum) {
            return i;
        }
    }
    return -1;
}

bool SyncClient::addCanonical(const CanonicalEntry& e)
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
    m_canonical.insert(e.serverSeqNum, e);
    return true;
}

void SyncClient::applyTo(MeetState& state, const QString& key, const QJsonValue& value) const
{
    const auto path = KeyPath::parse(key, m_options.limits.maxKeyLength, m_options.limits.maxKeyDepth);
    if (path) {
        state.apply(*path, value);
    }
}

void SyncClient::settle(bool pendingMayHaveChanged)
{
    const qint64 before = m_lastServerSeq;
    while (m_canonical.contains(m_lastServerSeq + 1)) {
        ++m_lastServerSeq;
    }
    for (qint64 s = m_appliedSeq + 1; s <= m_lastServerSeq; ++s) {
        const CanonicalEntry& e = m_canonical[s];
        applyTo(m_canonicalState, e.key, e.value);
    }
    m_appliedSeq = m_lastServerSeq;
    if (pendingMayHaveChanged || before != m_lastServerSeq) {
        rebuildLocal();
        Q_EMIT localStateChanged();
    }
    if (before != m_lastServerSeq) {
        Q_EMIT lastServerSeqChanged(m_lastServerSeq);
    }
    if (m_lastPendingCount != pendingCount()) {
        m_lastPendingCount = pendingCount();
        Q_EMIT pendingCountChanged(m_lastPendingCount);
    }
    if (m_lastOutOfSync != outOfSync()) {
        m_lastOutOfSync = outOfSync();
        Q_EMIT outOfSyncChanged(m_lastOutOfSync);
    }
}

void SyncClient::rebuildLocal()
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
