// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QHash>
#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace oll {

class Clock;
class RandomSource;

/// A read-only, revocable way into one meet for a board or an overlay, minted by the director.
struct DisplayLink
{
    QString linkId; // "dl-" + 8 hex digits: public, names the link in the app and in diag.log
    QString label; // what the director called it
    qint64 createdMs = 0;
    QByteArray tokenHash; // SHA-256 of the token; the token itself is never stored
};

/// The display links of one meet. A link's token is 32 CSPRNG bytes in base64url (the same form
/// as a session token), handed to the director once; only its SHA-256 is kept, in memory and in
/// display-links.json.
class DisplayLinkStore
{
public:
    DisplayLinkStore(const Clock& clock, RandomSource& random)
        : m_clock(clock)
        , m_random(random)
    {
    }

    struct Minted
    {
        QString token;
        DisplayLink link;
    };
    /// A new link with a fresh token and a linkId no other link of this meet has. The label must
    /// have passed validateLabel(). Throws if the CSPRNG fails.
    Minted mint(const QString& label);

    /// The link whose token hashes to `tokenHash`, confirmed in constant time.
    std::optional<DisplayLink> check(const QByteArray& tokenHash) const;
    std::optional<DisplayLink> find(const QString& linkId) const;
    /// Removes the link; returns it, or nullopt if there is none with that ID.
    std::optional<DisplayLink> revoke(const QString& linkId);
    /// Oldest first.
    QList<DisplayLink> links() const;
    int size() const { return static_cast<int>(m_links.size()); }

    /// {"displayLinks": [...]}; token hashes in base64.
    QJsonObject toJson() const;
    /// Replaces the content from display-links.json; false (content unchanged) on a malformed document.
    bool loadJson(const QJsonObject& obj);

    /// Why a label is unacceptable (empty, too long, edge spaces, control characters), or empty.
    static QString validateLabel(const QString& label, int maxLength);
    /// "dl-" followed by 8 lowercase hex digits.
    static bool isValidLinkId(const QString& linkId);

private:
    const Clock& m_clock;
    RandomSource& m_random;
    QHash<QByteArray, DisplayLink> m_links; // by token hash
};

} // namespace oll
