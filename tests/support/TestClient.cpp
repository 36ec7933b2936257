// SPDX-License-Identifier: AGPL-3.0-or-later
#include "TestClient.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

namespace oll::test {

TestClient::TestClient(const QUrl& url, QObject* parent)
    : QObject(parent)
    , m_url(url)
{
    connect(&m_socket, &QWebSocket::textMessageReceived, this, [this](const QString& text) {
        m_received.append(QJsonDocument::fromJson(text.toUtf8()).object());
        m_taken.append(false);
    });
}

bool TestClient::open(int timeoutMs)
{
    QSignalSpy connected(&m_socket, &QWebSocket::connected);
    m_socket.open(m_url);
    return connected.wait(timeoutMs) || isConnected();
}

void TestClient::send(const QJsonObject& message)
{
    sendText(QString::fromUtf8(QJsonDocument(message).toJson(QJsonDocument::Compact)));
}

void TestClient::sendText(const QString& text)
{
    m_socket.sendTextMessage(text);
}

void TestClient::sendBinary(const QByteArray& bytes)
{
    m_socket.sendBinaryMessage(bytes);
}

void TestClient::close()
{
    m_socket.close();
}

bool TestClient::waitForDisconnect(int timeoutMs)
{
    return QTest::qWaitFor([this] { return m_socket.state() == QAbstractSocket::UnconnectedState; }, timeoutMs);
}

std::optional<QJsonObject> TestClient::next(const QString& msgType, int timeoutMs)
{
    return takeFirstOf({msgType}, timeoutMs);
}

std::optional<QJsonObject> TestClient::takeFirstOf(const QStringList& types, int timeoutMs)
{
    std::optional<QJsonObject> found;
    (void)QTest::qWaitFor(
        [&] {
            for (qsizetype i = 0; i < m_received.size(); ++i) {
                if (!m_taken[i] && types.contains(m_received[i].value(QStringLiteral("msgType")).toString())) {
                    m_taken[i] = true;
                    found = m_received[i];
                    return true;
                }
            }
            return false;
        },
        timeoutMs);
    return found;
}

QJsonObject TestClient::expect(const QString& msgType, int timeoutMs)
{
    auto m = next(msgType, timeoutMs);
    if (!m) {
        QStringList seen;
        for (const QJsonObject& o : m_received) {
            seen.append(QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)).left(200));
        }
        QTest::qFail(qPrintable(QStringLiteral("no %1 arrived; received: %2").arg(msgType, seen.join(u'\n'))), __FILE__,
                     __LINE__);
        return {};
    }
    return *m;
}

QJsonObject TestClient::expectOneOf(const QStringList& types, int timeoutMs)
{
    return takeFirstOf(types, timeoutMs).value_or(QJsonObject());
}

QList<QJsonObject> TestClient::pending(const QString& msgType) const
{
    QList<QJsonObject> out;
    for (qsizetype i = 0; i < m_received.size(); ++i) {
        if (!m_taken[i] && m_received[i].value(QStringLiteral("msgType")).toString() == msgType) {
            out.append(m_received[i]);
        }
    }
    return out;
}

QJsonObject TestClient::createMeet(const QString& location, const QString& password,
                                   const QList<QPair<QString, int>>& endpoints, const QString& clientId)
{
    QJsonArray eps;
    for (const auto& [name, prio] : endpoints) {
        eps.append(QJsonObject{{QStringLiteral("locationName"), name}, {QStringLiteral("priority"), prio}});
    }
    send({{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
          {QStringLiteral("thisLocationName"), location},
          {QStringLiteral("password"), password},
          {QStringLiteral("endpoints"), eps},
          {QStringLiteral("clientId"), clientId}});
    const QJsonObject reply = expectOneOf({QStringLiteral("MEET_CREATED"), QStringLiteral("CREATE_REJECTED"),
                                           QStringLiteral("MALFORMED_MESSAGE"), QStringLiteral("LIMIT_EXCEEDED")},
                                          10000);
    if (reply.value(QStringLiteral("msgType")).toString() == QStringLiteral("MEET_CREATED")) {
        token = reply.value(QStringLiteral("sessionToken")).toString();
        meetId = reply.value(QStringLiteral("meetId")).toString();
    }
    return reply;
}

QJsonObject TestClient::joinMeet(const QString& id, const QString& password, const QString& location,
                                 const QString& clientId, const QString& role)
{
    return sendJoin({{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                     {QStringLiteral("meetId"), id},
                     {QStringLiteral("password"), password},
                     {QStringLiteral("locationName"), location},
                     {QStringLiteral("clientId"), clientId},
                     {QStringLiteral("role"), role}});
}

QJsonObject TestClient::joinDisplay(const QString& displayToken, const QString& clientId)
{
    return sendJoin({{QStringLiteral("msgType"), QStringLiteral("JOIN_DISPLAY")},
                     {QStringLiteral("displayToken"), displayToken},
                     {QStringLiteral("clientId"), clientId}});
}

QJsonObject TestClient::sendJoin(const QJsonObject& message)
{
    send(message);
    const QJsonObject reply = expectOneOf(
        {QStringLiteral("MEET_JOINED"), QStringLiteral("JOIN_REJECTED"), QStringLiteral("MALFORMED_MESSAGE")}, 10000);
    if (reply.value(QStringLiteral("msgType")).toString() == QStringLiteral("MEET_JOINED")) {
        token = reply.value(QStringLiteral("sessionToken")).toString();
        meetId = reply.value(QStringLiteral("meetId")).toString();
    }
    return reply;
}

void TestClient::sendUpdates(const QString& sessionToken,
                             const QList<std::tuple<QString, QJsonValue, qint64, qint64>>& updates)
{
    QJsonArray arr;
    for (const auto& [key, value, local, after] : updates) {
        arr.append(QJsonObject{{QStringLiteral("updateKey"), key},
                               {QStringLiteral("updateValue"), value},
                               {QStringLiteral("localSeqNum"), local},
                               {QStringLiteral("afterServerSeqNum"), after}});
    }
    send({{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
          {QStringLiteral("sessionToken"), sessionToken},
          {QStringLiteral("updates"), arr}});
}

void TestClient::pull(const QString& sessionToken, qint64 lastServerSeq, bool compact)
{
    QJsonObject m{{QStringLiteral("msgType"), QStringLiteral("CLIENT_PULL")},
                  {QStringLiteral("sessionToken"), sessionToken},
                  {QStringLiteral("lastServerSeq"), lastServerSeq}};
    if (!compact) {
        m.insert(QStringLiteral("compact"), false);
    }
    send(m);
}

} // namespace oll::test
