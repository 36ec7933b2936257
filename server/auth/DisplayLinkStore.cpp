// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/DisplayLinkStore.h"

#include "auth/SessionStore.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QJsonArray>

#include <algorithm>

namespace oll {

DisplayLinkStore::Minted DisplayLinkStore::mint(const QString& label)
{
    Minted out;
    out.token = SessionStore::newToken(m_random); // the same format, so isWellFormedToken holds
    DisplayLink& link = out.link;
    do {
        link.linkId = QStringLiteral("dl-") + QString::fromLatin1(m_random.bytes(4).toHex());
    } while (find(link.linkId));
    link.label = label;
    link.createdMs = m_clock.nowMs();
    link.tokenHash = SessionStore::hashToken(out.token);
    m_links.insert(link.tokenHash, link);
    return out;
}

std::optional<DisplayLink> DisplayLinkStore::check(const QByteArray& tokenHash) const
{
    // The key is the SHA-256 of the token: how long the lookup takes tells a timing observer
    // nothing about any valid token, so a plain lookup is the whole check.
    const auto it = m_links.constFind(tokenHash);
    if (it == m_links.constEnd()) {
        return std::nullopt;
    }
    return *it;
}

std::optional<DisplayLink> DisplayLinkStore::find(const QString& linkId) const
{
    for (const DisplayLink& l : m_links) {
        if (l.linkId == linkId) {
            return l;
        }
    }
    return std::nullopt;
}

std::optional<DisplayLink> DisplayLinkStore::revoke(const QString& linkId)
{
    const std::optional<DisplayLink> link = find(linkId);
    if (link) {
        m_links.remove(link->tokenHash);
    }
    return link;
}

QList<DisplayLink> DisplayLinkStore::links() const
{
    QList<DisplayLink> out = m_links.values();
    std::sort(out.begin(), out.end(), [](const DisplayLink& a, const DisplayLink& b) {
        return a.createdMs != b.createdMs ? a.createdMs < b.createdMs : a.linkId < b.linkId;
    });
    return out;
}

QJsonObject DisplayLinkStore::toJson() const
{
    QJsonArray arr;
    for (const DisplayLink& l : links()) {
        arr.append(QJsonObject{{QStringLiteral("linkId"), l.linkId},
                               {QStringLiteral("label"), l.label},
                               {QStringLiteral("createdMs"), static_cast<double>(l.createdMs)},
                               {QStringLiteral("tokenSha256"), QString::fromLatin1(l.tokenHash.toBase64())}});
    }
    return {{QStringLiteral("displayLinks"), arr}};
}

bool DisplayLinkStore::loadJson(const QJsonObject& obj)
{
    const QJsonValue v = obj.value(QStringLiteral("displayLinks"));
    if (!v.isArray()) {
        return false;
    }
    QHash<QByteArray, DisplayLink> loaded;
    const QJsonArray arr = v.toArray();
    for (const QJsonValue& e : arr) {
        const QJsonObject o = e.toObject();
        DisplayLink l;
        l.linkId = o.value(QStringLiteral("linkId")).toString();
        l.label = o.value(QStringLiteral("label")).toString();
        l.createdMs = o.value(QStringLiteral("createdMs")).toInteger();
        l.tokenHash = QByteArray::fromBase64(o.value(QStringLiteral("tokenSha256")).toString().toLatin1());
        if (!isValidLinkId(l.linkId) || l.label.isEmpty() || l.tokenHash.size() != 32 || loaded.contains(l.tokenHash)) {
            return false;
        }
        loaded.insert(l.tokenHash, l);
    }
    m_links = std::move(loaded);
    return true;
}

QString DisplayLinkStore::validateLabel(const QString& label, int maxLength)
{
    if (label.trimmed().isEmpty()) {
        return QStringLiteral("a display link needs a label (for example \"Warm-up room board\")");
    }
    if (label.size() > maxLength) {
        return QStringLiteral("the label is %1 characters long; at most %2 are allowed")
            .arg(label.size())
            .arg(maxLength);
    }
    if (label != label.trimmed()) {
        return QStringLiteral("the label must not start or end with spaces");
    }
    for (QChar c : label) {
        if (c.category() == QChar::Other_Control || c.category() == QChar::Other_Format) {
            return QStringLiteral("the label must not contain control characters");
        }
    }
    return {};
}

bool DisplayLinkStore::isValidLinkId(const QString& linkId)
{
    if (linkId.size() != 11 || !linkId.startsWith(QStringLiteral("dl-"))) {
        return false;
    }
    return std::all_of(linkId.cbegin() + 3, linkId.cend(),
                       [](QChar c) { return (c >= u'0' && c <= u'9') || (c >= u'a' && c <= u'f'); });
}

} // namespace oll
