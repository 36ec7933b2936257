// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/ClientConnection.h"

#include <QTimer>

namespace oll {

ClientConnection::ClientConnection(quint64 id, std::unique_ptr<QWebSocket> socket, qint64 maxOutgoingBytes,
                                   qint64 nowMs, QObject* parent)
    : QObject(parent)
    , m_id(id)
    , m_socket(std::move(socket))
    , m_maxOutgoingBytes(maxOutgoingBytes)
    , m_lastSeenMs(nowMs)
{
    QHostAddress peer = m_socket->peerAddress();
    // Report IPv4 peers as a.b.c.d even when they arrive on a dual-stack socket.
    bool isV4 = false;
    const quint32 v4 = peer.toIPv4Address(&isV4);
    m_peerAddress = isV4 ? QHostAddress(v4).toString() : peer.toString();

    connect(m_socket.get(), &QWebSocket::textMessageReceived, this,
            [this](const QString& text) { Q_EMIT textReceived(this, text.toUtf8()); });
    connect(m_socket.get(), &QWebSocket::binaryMessageReceived, this,
            [this](const QByteArray&) { Q_EMIT binaryReceived(this); });
    connect(m_socket.get(), &QWebSocket::disconnected, this, [this] { Q_EMIT closed(this); });
    connect(m_socket.get(), &QWebSocket::pong, this, [this](quint64 elapsedMs, const QByteArray&) {
        m_rttMs = static_cast<qint64>(elapsedMs);
        Q_EMIT pongReceived(this);
    });
    connect(m_socket.get(), &QWebSocket::bytesWritten, this, [this](qint64) { Q_EMIT drained(this); });
}

ClientConnection::~ClientConnection()
{
    m_socket->disconnect(this);
    m_socket->abort();
}

void ClientConnection::send(const QByteArray& json)
{
    if (m_closing || m_socket->state() != QAbstractSocket::ConnectedState) {
        return;
    }
    if (m_socket->bytesToWrite() > m_maxOutgoingBytes) {
        close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("client is not reading its messages"));
        return;
    }
    m_socket->sendTextMessage(QString::fromUtf8(json));
}

void ClientConnection::close(QWebSocketProtocol::CloseCode code, const QString& reason)
{
    if (m_closing) {
        return;
    }
    m_closing = true;
    pull.reset();
    m_socket->close(code, reason);
    // A peer that never reads never completes the close handshake: do not hold its buffers for ever.
    QTimer::singleShot(5000, this, [this] { m_socket->abort(); });
}

} // namespace oll
