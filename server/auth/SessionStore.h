// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Messages.h"

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QSet>
#include <QString>

#include <optional>

namespace oll {

class Clock;
class RandomSource;

struct Session
{
    QByteArray tokenHash; // SHA-256 of the token; the token itself is never stored
    QString clientId;
    QString locationName;
    Role role = Role::Update;
    qint64 issuedMs = 0;
    qint64 expiresMs = 0;
    QString displayLinkId; // non-empty: issued through this display link (JOIN_DISPLAY); always Role::Display
};

/// The sessions of one meet. Tokens are 32 CSPRNG bytes in base64url, handed to the client once;
/// only their SHA-256 is kept, in memory and in sessions.json.
class SessionStore
{
public:
    static constexpr qint64 kLifetimeMs = 7LL * 24 * 60 * 60 * 1000;

    SessionStore(const Clock& clock, RandomSource& random)
        : m_clock(clock)
        , m_random(random)
    {
    }

    struct Issued
    {
        QString token;
        Session session;
    };
    Issued issue(const QString& clientId, const QString& locationName, Role role,
                 const QString& displayLinkId = QString());

    enum class Status
    {
        Valid,
        Unknown,
        Expired
    };
    /// Looks a token hash up, confirms it in constant time and checks expiry.
    Status check(const QByteArray& tokenHash, Session* out = nullptr) const;

    /// Drops expired sessions; returns their token hashes.
    QList<QByteArray> pruneExpired();
    /// While more than `max` sessions exist, drops the oldest-issued; returns their token hashes.
    QList<QByteArray> trimTo(int max);
    bool revoke(const QByteArray& tokenHash) { return m_sessions.remove(tokenHash) > 0; }
    /// Drops every session issued through the display link; returns their token hashes.
    QList<QByteArray> revokeIssuedFrom(const QString& displayLinkId);
    /// Drops sessions issued through a display link that is not in `links` (revoked before a
    /// crash let sessions.json catch up); returns their token hashes.
    QList<QByteArray> revokeOrphaned(const QSet<QString>& links);
    int size() const { return static_cast<int>(m_sessions.size()); }
    QList<QByteArray> tokenHashes() const { return m_sessions.keys(); }

    /// {"sessions": [...]}; token hashes in base64.
    QJsonObject toJson() const;
    /// Replaces the content from sessions.json; returns false on a malformed document.
    bool loadJson(const QJsonObject& obj);

    /// Well-formed tokens only: 43 base64url characters (32 bytes). Anything else is not hashed.
    static bool isWellFormedToken(const QString& token);
    static QByteArray hashToken(const QString& token);
    /// A new secret: 32 CSPRNG bytes in base64url without padding (43 characters).
    static QString newToken(RandomSource& random);

private:
    const Clock& m_clock;
    RandomSource& m_random;
    QHash<QByteArray, Session> m_sessions;
};

} // namespace oll
