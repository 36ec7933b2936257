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

    ClientConnection(quint64 id, std::unique_ptr<QWebSocket> socket, QObject* parent = nullptr);
    ~ClientConnection() override;
    ClientConnection(const ClientConnection&) = delete;
    ClientConnection& operator=(const ClientConnection&) = delete;

    quint64 id() const { return m_id; }
    QString peerAddress() const { return m_peerAddress; }
    QWebSocket* socket() const { return m_socket.get(); }

    void send(const QByteArray& json);
    void close(QWebSocketProtocol::CloseCode code, const QString& reason);

    const std::optional<Binding>& binding() const { return m_binding; }
    void bind(const QString& meetId, const Session& session) { m_binding = Binding{meetId, session}; }

Q_SIGNALS:
    void textReceived(oll::ClientConnection* connection, const QByteArray& utf8);
    void binaryReceived(oll::ClientConnection* connection);
    void closed(oll::ClientConnection* connection);

private:
    quint64 m_id;
    std::unique_ptr<QWebSocket> m_socket;
    QString m_peerAddress;
    std::optional<Binding> m_binding;
};

} // namespace oll
