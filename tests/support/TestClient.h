// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QList>
#include <QUrl>
#include <QWebSocket>

#include <optional>

namespace oll::test {

/// A protocol client for tests: a real QWebSocket that records every message it receives and
/// lets a test wait for the next one of a type (waiting on a condition, never sleeping).
class TestClient : public QObject
{
    Q_OBJECT
public:
    explicit TestClient(const QUrl& url, QObject* parent = nullptr);

    bool open(int timeoutMs = 5000);
    void send(const QJsonObject& message);
    void sendText(const QString& text);
    void sendBinary(const QByteArray& bytes);
    void close();
    bool isConnected() const { return m_socket.state() == QAbstractSocket::ConnectedState; }
    bool waitForDisconnect(int timeoutMs = 5000);
    QWebSocket& socket() { return m_socket; }

    /// The next not-yet-taken message of this type, waiting up to timeoutMs for it.
    std::optional<QJsonObject> next(const QString& msgType, int timeoutMs = 5000);
    /// Like next(), but fails the current test if nothing arrives.
    QJsonObject expect(const QString& msgType, int timeoutMs = 5000);
    /// Messages received so far (taken or not).
    const QList<QJsonObject>& received() const { return m_received; }
    /// Messages of a type not yet taken, without waiting.
    QList<QJsonObject> pending(const QString& msgType) const;

    // Protocol conveniences. They return the server's reply (whatever type it was).
    QJsonObject createMeet(const QString& location, const QString& password,
                           const QList<QPair<QString, int>>& endpoints, const QString& clientId);
    QJsonObject joinMeet(const QString& meetId, const QString& password, const QString& location,
                         const QString& clientId, const QString& role = QStringLiteral("update"));
    /// JOIN_DISPLAY with a display link's token (docs/protocol.md §22).
    QJsonObject joinDisplay(const QString& displayToken, const QString& clientId);
    /// Sends UPDATE_INIT with updates {key, value, localSeqNum, afterServerSeqNum}.
    void sendUpdates(const QString& token, const QList<std::tuple<QString, QJsonValue, qint64, qint64>>& updates);
    /// CLIENT_PULL; `compact` false asks for every entry even when the tail is long.
    void pull(const QString& token, qint64 lastServerSeq, bool compact = true);

    QString token; // the last sessionToken received
    QString meetId; // the last meetId received

private:
    /// Sends a JOIN_MEET or JOIN_DISPLAY and waits for its answer, keeping the session it grants.
    QJsonObject sendJoin(const QJsonObject& message);
    QJsonObject expectOneOf(const QStringList& types, int timeoutMs);
    std::optional<QJsonObject> takeFirstOf(const QStringList& types, int timeoutMs);

    QUrl m_url;
    QWebSocket m_socket;
    QList<QJsonObject> m_received;
    QList<bool> m_taken;
};

} // namespace oll::test
