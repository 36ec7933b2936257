// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/SessionStore.h"

#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QCryptographicHash>
#include <QJsonArray>

#include <openssl/crypto.h>

namespace oll {

SessionStore::Issued SessionStore::issue(const QString& clientId, const QString& locationName, Role role,
                                         const QString& displayLinkId)
{
    Issued out;
    out.token = newToken(m_random);
    Session& s = out.session;
    s.tokenHash = hashToken(out.token);
    s.clientId = clientId;
    s.locationName = locationName;
    s.role = role;
    s.issuedMs = m_clock.nowMs();
    s.expiresMs = s.issuedMs + kLifetimeMs;
    s.displayLinkId = displayLinkId;
    m_sessions.insert(s.tokenHash, s);
    return out;
}

QString SessionStore::newToken(RandomSource& random)
{
    return QString::fromLatin1(
        random.bytes(32).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
}

SessionStore::Status SessionStore::check(const QByteArray& tokenHash, Session* out) const
{
    // The hash table finds the candidate by SHA-256 of the token, which tells a timing observer
    // nothing about any valid token; the final comparison is constant-time anyway.
    const auto it = m_sessions.constFind(tokenHash);
    if (it == m_sessions.constEnd() || it.key().size() != tokenHash.size()
        || CRYPTO_memcmp(it.key().constData(), tokenHash.constData(), static_cast<size_t>(tokenHash.size())) != 0) {
        return Status::Unknown;
    }
    if (m_clock.nowMs() >= it->expiresMs) {
        return Status::Expired;
    }
    if (out) {
        *out = *it;
    }
    return Status::Valid;
}

QList<QByteArray> SessionStore::pruneExpired()
{
    const qint64 now = m_clock.nowMs();
    QList<QByteArray> dropped;
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (now >= it->expiresMs) {
            dropped.append(it.key());
            it = m_sessions.erase(it);
        } else {
            ++it;
        }
    }
    return dropped;
}

QList<QByteArray> SessionStore::revokeIssuedFrom(const QString& displayLinkId)
{
    QList<QByteArray> dropped;
    if (displayLinkId.isEmpty()) {
        return dropped;
    }
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (it->displayLinkId == displayLinkId) {
            dropped.append(it.key());
            it = m_sessions.erase(it);
        } else {
            ++it;
        }
    }
    return dropped;
}

QList<QByteArray> SessionStore::revokeOrphaned(const QSet<QString>& links)
{
    QList<QByteArray> dropped;
    for (auto it = m_sessions.begin(); it != m_sessions.end();) {
        if (!it->displayLinkId.isEmpty() && !links.contains(it->displayLinkId)) {
            dropped.append(it.key());
            it = m_sessions.erase(it);
        } else {
            ++it;
        }
    }
    return dropped;
}

QList<QByteArray> SessionStore::trimTo(int max)
{
    QList<QByteArray> dropped;
    if (m_sessions.size() <= max) {
        return dropped;
    }
    QList<Session> byAge = m_sessions.values();
    std::sort(byAge.begin(), byAge.end(), [](const Session& a, const Session& b) { return a.issuedMs < b.issuedMs; });
    for (qsizetype i = 0; i < byAge.size() - max; ++i) {
        m_sessions.remove(byAge[i].tokenHash);
        dropped.append(byAge[i].tokenHash);
    }
    return dropped;
}

QJsonObject SessionStore::toJson() const
{
    QJsonArray arr;
    for (const Session& s : m_sessions) {
        QJsonObject o{{QStringLiteral("tokenSha256"), QString::fromLatin1(s.tokenHash.toBase64())},
                      {QStringLiteral("clientId"), s.clientId},
                      {QStringLiteral("locationName"), s.locationName},
                      {QStringLiteral("role"), roleName(s.role)},
                      {QStringLiteral("issuedMs"), static_cast<double>(s.issuedMs)},
                      {QStringLiteral("expiresMs"), static_cast<double>(s.expiresMs)}};
        // Only when set, so files of sessions without a link read the same as before.
        if (!s.displayLinkId.isEmpty()) {
            o.insert(QStringLiteral("displayLinkId"), s.displayLinkId);
        }
        arr.append(o);
    }
    return {{QStringLiteral("sessions"), arr}};
}

bool SessionStore::loadJson(const QJsonObject& obj)
{
    const QJsonValue v = obj.value(QStringLiteral("sessions"));
    if (!v.isArray()) {
        return false;
    }
    QHash<QByteArray, Session> loaded;
    const QJsonArray arr = v.toArray();
    for (const QJsonValue& e : arr) {
        const QJsonObject o = e.toObject();
        Session s;
        s.tokenHash = QByteArray::fromBase64(o.value(QStringLiteral("tokenSha256")).toString().toLatin1());
        s.clientId = o.value(QStringLiteral("clientId")).toString();
        s.locationName = o.value(QStringLiteral("locationName")).toString();
        // An unknown role must never load as the more powerful one.
        const QString role = o.value(QStringLiteral("role")).toString();
        if (role == QStringLiteral("display")) {
            s.role = Role::Display;
        } else if (role == QStringLiteral("update")) {
            s.role = Role::Update;
        } else {
            return false;
        }
        s.issuedMs = o.value(QStringLiteral("issuedMs")).toInteger();
        s.expiresMs = o.value(QStringLiteral("expiresMs")).toInteger();
        // Absent in files written before display links existed: not issued through one.
        s.displayLinkId = o.value(QStringLiteral("displayLinkId")).toString();
        if (s.tokenHash.size() != 32 || s.clientId.isEmpty() || s.locationName.isEmpty()
            || (!s.displayLinkId.isEmpty() && s.role != Role::Display)) {
            return false;
        }
        loaded.insert(s.tokenHash, s);
    }
    m_sessions = std::move(loaded);
    return true;
}

bool SessionStore::isWellFormedToken(const QString& token)
{
    return token.size() == 43 && isBase64UrlText(token);
}

QByteArray SessionStore::hashToken(const QString& token)
{
    return QCryptographicHash::hash(token.toLatin1(), QCryptographicHash::Sha256);
}

} // namespace oll
