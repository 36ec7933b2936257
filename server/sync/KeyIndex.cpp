// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/KeyIndex.h"

#include <QHash>
#include <QSet>

#include <algorithm>

namespace oll {

void KeyIndex::add(const QString& key, qint64 seq)
{
    m_byKey[key].append(seq);
}

void KeyIndex::removeLast(const QString& key, qint64 seq)
{
    auto it = m_byKey.find(key);
    if (it == m_byKey.end() || it->isEmpty() || it->last() != seq) {
        return;
    }
    it->removeLast();
    if (it->isEmpty()) {
        m_byKey.erase(it);
    }
}

void KeyIndex::forEachOverlap(const QString& key, qint64 after,
                              const std::function<bool(qint64, const QString&)>& visit) const
{
    auto visitKey = [&](QMap<QString, QList<qint64>>::const_iterator it) {
        const QList<qint64>& seqs = it.value();
        for (auto s = seqs.crbegin(); s != seqs.crend() && *s > after; ++s) {
            if (!visit(*s, it.key())) {
                return;
            }
        }
    };
    // The key itself and its ancestors: string prefixes ending before a segment separator.
    for (qsizetype i = 1; i <= key.size(); ++i) {
        if (i < key.size() && key[i] != QLatin1Char('.') && key[i] != QLatin1Char('[')) {
            continue;
        }
        const auto it = m_byKey.constFind(key.left(i));
        if (it != m_byKey.constEnd()) {
            visitKey(it);
        }
    }
    // Descendants.
    for (const QChar sep : {QLatin1Char('.'), QLatin1Char('[')}) {
        const QString prefix = key + sep;
        for (auto it = m_byKey.lowerBound(prefix); it != m_byKey.constEnd() && it.key().startsWith(prefix); ++it) {
            visitKey(it);
        }
    }
}

bool KeyIndex::isElementKey(const QString& key)
{
    return key.endsWith(QLatin1Char(']'))
        && key.lastIndexOf(QStringLiteral("[id=")) > key.lastIndexOf(QLatin1Char('.'));
}

QString KeyIndex::rootOf(const QString& key)
{
    const qsizetype bracket = key.indexOf(QLatin1Char('['));
    return bracket < 0 ? key : key.left(bracket);
}

QStringList KeyIndex::rootsChangedIn(qint64 after, qint64 through, QList<qint64>* lastSeqs) const
{
    QHash<QString, qint64> lastByRoot;
    for (auto it = m_byKey.cbegin(); it != m_byKey.cend(); ++it) {
        const QList<qint64>& seqs = it.value();
        // The newest write at or below `through`.
        auto upper = std::upper_bound(seqs.cbegin(), seqs.cend(), through);
        if (upper == seqs.cbegin()) {
            continue;
        }
        const qint64 last = *(upper - 1);
        if (last <= after) {
            continue;
        }
        qint64& slot = lastByRoot[rootOf(it.key())];
        slot = std::max(slot, last);
    }
    // A root under another root is covered by it: the ancestor's value holds it. Roots contain
    // only field segments, so ancestors end before a '.'.
    QHash<QString, qint64> kept;
    for (auto it = lastByRoot.cbegin(); it != lastByRoot.cend(); ++it) {
        const QString& root = it.key();
        QString cover; // the outermost root above this one, if any
        for (qsizetype i = root.indexOf(QLatin1Char('.')); i > 0 && cover.isEmpty();
             i = root.indexOf(QLatin1Char('.'), i + 1)) {
            if (lastByRoot.contains(root.left(i))) {
                cover = root.left(i);
            }
        }
        // A covered root's writes count as writes under the root that covers it.
        const QString owner = cover.isEmpty() ? root : cover;
        qint64& slot = kept[owner];
        slot = std::max({slot, it.value(), lastByRoot.value(owner)});
    }
    QList<std::pair<qint64, QString>> ordered;
    for (auto it = kept.cbegin(); it != kept.cend(); ++it) {
        ordered.append({it.value(), it.key()});
    }
    std::sort(ordered.begin(), ordered.end());
    QStringList roots;
    for (const auto& [seq, root] : ordered) {
        roots.append(root);
        if (lastSeqs) {
            lastSeqs->append(seq);
        }
    }
    return roots;
}

} // namespace oll
