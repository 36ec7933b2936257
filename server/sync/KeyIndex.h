// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/KeyPath.h"

#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>

#include <functional>

namespace oll {

/// Which serverSeqNums wrote which key, so that the conflict rule ("an entry on an overlapping
/// key that the update did not see") and compacted pulls never scan the whole log.
///
/// Keys are canonical strings (KeyPath only parses the canonical spelling), so the ancestors of a
/// key are its string prefixes that end before a '.' or '[', and its descendants are the keys
/// that start with it followed by '.' or '['; a sorted map finds both.
class KeyIndex
{
public:
    /// Records that `seq` wrote `key`; seqs arrive in ascending order.
    void add(const QString& key, qint64 seq);
    /// Forgets the last write of `key` if it was `seq` (a rolled-back flush).
    void removeLast(const QString& key, qint64 seq);
    void clear() { m_byKey.clear(); }

    /// Calls `visit(seq, writtenKey)` for every write with seq > `after` to `key`, to one of its
    /// ancestors or to one of its descendants; newest first within each written key. `visit`
    /// returns false to skip the rest of that written key's writes.
    void forEachOverlap(const QString& key, qint64 after,
                        const std::function<bool(qint64 seq, const QString& writtenKey)>& visit) const;

    /// The compaction roots of the keys written in (after, through]: each key's prefix before its
    /// first array segment, minus roots that lie under another root. Sorted by the last seq that
    /// wrote under them; `lastSeqs` (if given) gets those seqs in the same order.
    QStringList rootsChangedIn(qint64 after, qint64 through, QList<qint64>* lastSeqs = nullptr) const;

    /// True if the last segment of `key` is `[id=N]`: it names an array element by its id.
    static bool isElementKey(const QString& key);
    /// The prefix of `key` before its first array segment (`[n]` or `[id=N]`).
    static QString rootOf(const QString& key);

private:
    QMap<QString, QList<qint64>> m_byKey;
};

} // namespace oll
