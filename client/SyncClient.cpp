// SPDX-License-Identifier: AGPL-3.0-or-later
#include "client/SyncClient.h"

#include <QWebSocket>

#include <algorithm>

namespace oll {

SyncClient::SyncClient(const QUrl& url, const QString& clientId, qint64 firstLocalSeqNum, SyncClientOptions options,
                       QObject* parent)
    : QObject(parent)
    , m_url(url)
    , m_options(std::move(options))
    , m_engine(clientId, firstLocalSeqNum, m_options.limits)
{
    connectEngine();
}

SyncClient::SyncClient(const QUrl& url, const PersistedState& state, SyncClientOptions options, QObject* parent)
    : QObject(parent)
    , m_url(url)
    , m_options(std::move(options))
    , m_engine(state, m_options.limits)
{
    connectEngine();
}

SyncClient::~SyncClient()
{
    if (m_socket) {
        disconnect(m_socket, nullptr, this, nullptr);
    }
    m_engine.setSendFunction({});
}

void SyncClient::connectEngine()
{
    m_reconnectDelayMs = m_options.reconnectDelayMs;
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, [this] {
        if (m_wantOnline && !m_socket) {
            openSocket();
        }
    });
    m_storageRetryTimer.setSingleShot(true);
    connect(&m_storageRetryTimer, &QTimer::timeout, &m_engine, &SyncEngine::resendPending);
    m_restoreRetryTimer.setSingleShot(true);
    connect(&m_restoreRetryTimer, &QTimer::timeout, this, [this] {
        if (m_restore) {
            const RestoreRequest r = *m_restore;
            restoreMeet(r.meetId, r.password, r.thisLocationName, r.endpoints);
        }
    });

    m_engine.setSendFunction([this](const QByteArray& text) {
        if (m_socket) {
            m_socket->sendTextMessage(QString::fromUtf8(text));
        }
    });
    connect(&m_engine, &SyncEngine::linkChanged, this, &SyncClient::updateStatus);
    connect(&m_engine, &SyncEngine::outOfSyncChanged, this, &SyncClient::outOfSyncChanged);
    connect(&m_engine, &SyncEngine::pendingCountChanged, this, &SyncClient::pendingCountChanged);
    connect(&m_engine, &SyncEngine::lastServerSeqChanged, this, &SyncClient::lastServerSeqChanged);
    connect(&m_engine, &SyncEngine::localStateChanged, this, &SyncClient::localStateChanged);
    connect(&m_engine, &SyncEngine::loginRejected, this, &SyncClient::loginRejected);
    connect(&m_engine, &SyncEngine::acked, this, &SyncClient::acked);
    connect(&m_engine, &SyncEngine::updateRejected, this, &SyncClient::updateRejected);
    connect(&m_engine, &SyncEngine::serverPullReceived, this, &SyncClient::serverPullReceived);
    connect(&m_engine, &SyncEngine::recoveryAcked, this, &SyncClient::recoveryAcked);
    connect(&m_engine, &SyncEngine::protocolError, this, &SyncClient::protocolError);
    connect(&m_engine, &SyncEngine::loggedIn, this, [this] {
        m_restore.reset();
        m_restoreRetryTimer.stop();
        Q_EMIT loggedIn();
    });
    connect(&m_engine, &SyncEngine::storageError, this, [this](const QList<qint64>& seqs) {
        m_storageRetryTimer.start(m_options.storageRetryDelayMs);
        Q_EMIT storageError(seqs);
    });
    connect(&m_engine, &SyncEngine::restoreRejected, this,
            [this](const QString& reason, bool pendingApproval, qint64 retryAfterMs) {
                if (pendingApproval && m_options.retryPendingRestore && m_restore) {
                    // The server lists the request for the meet director; asking again is how the
                    // client learns of the approval.
                    m_restoreRetryTimer.start(static_cast<int>(std::clamp<qint64>(retryAfterMs, 100, 60'000)));
                } else {
                    m_restore.reset();
                }
                Q_EMIT restoreRejected(reason, pendingApproval, retryAfterMs);
            });
}

// --- session ----------------------------------------------------------------------------------

void SyncClient::createMeet(const QString& thisLocationName, const QString& password, const QList<Endpoint>& endpoints)
{
    m_restore.reset();
    m_restoreRetryTimer.stop();
    m_wantOnline = true;
    m_engine.createMeet(thisLocationName, password, endpoints);
    if (!m_socket) {
        openSocket();
    }
}

void SyncClient::joinMeet(const QString& meetId, const QString& password, const QString& locationName, Role role)
{
    m_restore.reset();
    m_restoreRetryTimer.stop();
    m_wantOnline = true;
    m_engine.joinMeet(meetId, password, locationName, role);
    if (!m_socket) {
        openSocket();
    }
}

void SyncClient::restoreMeet(const QString& meetId, const QString& password, const QString& thisLocationName,
                             const QList<Endpoint>& endpoints)
{
    m_restore = RestoreRequest{meetId, password, thisLocationName, endpoints};
    m_restoreRetryTimer.stop();
    m_wantOnline = true;
    m_engine.restoreMeet(meetId, password, thisLocationName, endpoints);
    if (!m_socket) {
        openSocket();
    }
}

// --- connectivity -----------------------------------------------------------------------------

void SyncClient::setOnline(bool online)
{
    m_wantOnline = online;
    if (!online) {
        m_reconnectTimer.stop();
        m_storageRetryTimer.stop();
        m_restoreRetryTimer.stop();
        closeSocket();
        updateStatus();
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
    m_socketOpen = false;
    QWebSocket* socket = m_socket;
    connect(socket, &QWebSocket::connected, this, &SyncClient::onConnected);
    connect(socket, &QWebSocket::disconnected, this, &SyncClient::onDisconnected);
    connect(socket, &QWebSocket::textMessageReceived, this,
            [this](const QString& text) { m_engine.receive(text.toUtf8()); });
    connect(socket, QOverload<QAbstractSocket::SocketError>::of(&QWebSocket::error), this,
            [this, socket](QAbstractSocket::SocketError) {
                if (socket == m_socket && socket->state() == QAbstractSocket::UnconnectedState) {
                    onDisconnected();
                }
            });
    updateStatus();
    socket->open(m_url);
}

QWebSocket* SyncClient::takeSocket()
{
    QWebSocket* socket = m_socket;
    m_socket = nullptr;
    disconnect(socket, nullptr, this, nullptr);
    if (m_socketOpen) {
        m_socketOpen = false;
        // Whatever was sent on this socket may not have arrived: the engine sends it again on
        // the next one.
        m_engine.transportClosed();
    }
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
    m_socketOpen = true;
    m_engine.transportOpened();
    updateStatus();
}

void SyncClient::onDisconnected()
{
    if (!m_socket) {
        return;
    }
    takeSocket()->deleteLater();
    m_storageRetryTimer.stop();
    updateStatus();
    if (m_wantOnline) {
        m_reconnectTimer.start(m_reconnectDelayMs);
        m_reconnectDelayMs = std::min(std::max(1, m_reconnectDelayMs) * 2, m_options.reconnectMaxDelayMs);
    }
}

void SyncClient::updateStatus()
{
    Status s = Status::Offline;
    if (m_socket) {
        switch (m_engine.link()) {
        case SyncEngine::Link::Closed:
            s = Status::Connecting;
            break;
        case SyncEngine::Link::Open:
            s = Status::Connected;
            break;
        case SyncEngine::Link::LoggingIn:
            s = Status::LoggingIn;
            break;
        case SyncEngine::Link::Online:
            s = Status::Online;
            break;
        case SyncEngine::Link::NeedsJoin:
            s = Status::NeedsJoin;
            break;
        }
    }
    if (m_status == s) {
        return;
    }
    const bool wasOnline = m_status == Status::Online;
    m_status = s;
    Q_EMIT statusChanged(s);
    if (wasOnline != (s == Status::Online)) {
        Q_EMIT onlineChanged(s == Status::Online);
    }
}

} // namespace oll
