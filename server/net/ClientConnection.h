#pragma once

#include "auth/SessionStore.h"

#include <QObject>
#include <QWebSocket>

#include <memory>
#include <optional>

namespace oll {

/// One WebSocket client. Knows its peer and the session it is bound to (the last valid token it
/// presented); sends text frames. Parsing and decisions live in LiveServer.
class ClientConnection : public QObject
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
    QString peerAddress() const { return m_peerAddress; }
    QWebSocket* socket() const { return m_socket.get(); }

    void send(const QByteArray& json);
    /// Closes (1008) a client that left more than maxOutgoingBytes of earlier messages unread, so a
    /// stalled reader cannot grow the server's memory without bound. Called before each burst of
    /// messages, so a burst itself never counts against a client that keeps reading.
    bool closeIfBacklogged();
    /// Time of the last frame or pong from the client (for the idle timeout).
    qint64 lastSeenMs() const { return m_lastSeenMs; }
    void touch(qint64 nowMs) { m_lastSeenMs = nowMs; }
    void unbind() { m_binding.reset(); }
    void close(QWebSocketProtocol::CloseCode code, const QString& reason);

    const std::optional<Binding>& binding() const { return m_binding; }
    void bind(const QString& meetId, const Session& session) { m_binding = Binding{meetId, session}; }

Q_SIGNALS:
    void textReceived(oll::ClientConnection* connection, const QByteArray& utf8);
    void binaryReceived(oll::ClientConnection* connection);
    void closed(oll::ClientConnection* connection);
    void pongReceived(oll::ClientConnection* connection);

private:
    quint64 m_id;
    std::unique_ptr<QWebSocket> m_socket;
    QString m_peerAddress;
    qint64 m_maxOutgoingBytes;
    qint64 m_lastSeenMs;
    std::optional<Binding> m_binding;
};

} // namespace oll
