// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "auth/SessionStore.h"
#include "sync/SyncPeer.h"

#include <QObject>
#include <QWebSocket>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

namespace oll {

/// One WebSocket client. Knows its peer and the session it is bound to (the last valid token it
/// presented); sends text frames. Parsing and decisions live in LiveServer.
class ClientConnection : public QObject, public SyncPeer
{
    Q_OBJECT
public:
    struct Binding
    {
        QString meetId;
        Session session;
    };

    ClientConnection(quint64 id, std::unique_ptr<QWebSocket> socket, qint64 maxOutgoingBytes, qint64 nowMs,
                     QObject* parent = nullptr);
    ~ClientConnection() override;
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    quint64 id() const { return m_id; }
    quint64 peerId() const override { return m_id; }
    QString peerAddress() const { return m_peerAddress; }
    QWebSocket* socket() const { return m_socket.get(); }

    /// Sends a text frame. A client that has left more than maxOutgoingBytes unread is closed
    /// (1008) instead, and aborted if it still has not gone 5 s later: a peer that sends but never
    /// reads cannot grow the server's memory without bound.
    void send(const QByteArray& json) override;
    /// Bytes queued for this client and not yet handed to the network.
    qint64 backlog() const override { return m_socket->bytesToWrite(); }
    /// True once the server has started closing this client; its further frames are ignored.
    bool isClosing() const override { return m_closing; }

    // What the monitoring surface reports about this connection (see SyncPeer).
    void noteAcked(qint64 serverSeqNum) override { m_lastAckedSeq = std::max(m_lastAckedSeq, serverSeqNum); }
    void noteRelayed(qint64 serverSeqNum) override { m_lastRelayedSeq = std::max(m_lastRelayedSeq, serverSeqNum); }
    void notePulled(qint64 serverSeqNum) override { m_lastPulledSeq = std::max(m_lastPulledSeq, serverSeqNum); }
    qint64 lastAckedSeq() const { return m_lastAckedSeq; }
    qint64 lastRelayedSeq() const { return m_lastRelayedSeq; }
    qint64 lastPulledSeq() const { return m_lastPulledSeq; }
    /// Round trip of the last ping, from QWebSocket::pong; -1 before the first pong.
    qint64 rttMs() const { return m_rttMs; }
    /// Wall clock (ms since the epoch) when the connection was accepted.
    qint64 openedMs() const { return m_openedMs; }
    void setOpenedMs(qint64 wallMs) { m_openedMs = wallMs; }

    /// Time of the last frame or pong from the client (for the idle timeout).
    qint64 lastSeenMs() const { return m_lastSeenMs; }
    void touch(qint64 nowMs) { m_lastSeenMs = nowMs; }
    void unbind() { m_binding.reset(); }
    /// True the first time only: the server pings a connection once when it first binds.
    bool takeFirstBind() { return std::exchange(m_firstBind, false); }
    void close(QWebSocketProtocol::CloseCode code, const QString& reason);

    const std::optional<Binding>& binding() const { return m_binding; }
    void bind(const QString& meetId, const Session& session) { m_binding = Binding{meetId, session}; }

Q_SIGNALS:
    void textReceived(oll::ClientConnection* connection, const QByteArray& utf8);
    void binaryReceived(oll::ClientConnection* connection);
    void closed(oll::ClientConnection* connection);
    void pongReceived(oll::ClientConnection* connection);
    /// Some queued bytes reached the network (continue a paced pull answer).
    void drained(oll::ClientConnection* connection);

private:
    quint64 m_id;
    std::unique_ptr<QWebSocket> m_socket;
    QString m_peerAddress;
    qint64 m_maxOutgoingBytes;
    qint64 m_lastSeenMs;
    bool m_closing = false;
    std::optional<Binding> m_binding;
    qint64 m_lastAckedSeq = 0;
    qint64 m_lastRelayedSeq = 0;
    qint64 m_lastPulledSeq = 0;
    qint64 m_rttMs = -1;
    qint64 m_openedMs = 0;
    bool m_firstBind = true;
};

} // namespace oll
