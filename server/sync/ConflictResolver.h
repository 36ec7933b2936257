// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/KeyPath.h"
#include "storage/Journal.h"
#include "sync/KeyIndex.h"
#include "sync/MeetConfig.h"

#include <QJsonValue>
#include <QList>

#include <functional>
#include <optional>

namespace oll {

/// One update about to be sequenced, as the conflict rule sees it.
struct Contender
{
    QString key; // canonical
    QJsonValue value;
    QString clientId;
    qint64 priority = 0;
    qint64 afterServerSeqNum = 0;
    /// Entries after afterServerSeqNum that the update saw nevertheless (recovered logs); may be empty.
    std::function<bool(qint64 serverSeqNum)> alsoSeen;
};

/// What the rule decided.
struct Verdict
{
    enum class Kind
    {
        Clean, // no conflict: sequence it
        Rejected, // an entry of equal or higher priority stands
        Overrules // sequence it: every conflicting entry has a lower priority
    };
    Kind kind = Kind::Clean;
    qint64 winnerSeq = 0; // Rejected: the newest conflicting entry of priority >= the update's
    QList<qint64> overruled; // Overrules: the conflicting entries, ascending
};

/// The conflict rule of docs/protocol.md ("Conflicts"; DESIGN.md §4): update u conflicts with a
/// sequenced entry e when their keys overlap, e.serverSeqNum > u.afterServerSeqNum (u did not
/// see e), e came from another client, and the values differ on the overlap.
class ConflictResolver
{
public:
    /// `entries[i]` has serverSeqNum i + 1.
    ConflictResolver(const QList<JournalEntry>& entries, const KeyIndex& index, const MeetConfig& config)
        : m_entries(entries)
        , m_index(index)
        , m_config(config)
    {
    }

    Verdict judge(const Contender& u) const;

    /// True when writing `a` at `keyA` and `b` at `keyB` (overlapping keys) leave different
    /// values where they overlap. Setting an `[id=N]` element to null deletes it, and a deleted or
    /// absent place has no value: two writes that both leave nothing agree.
    static bool differOnOverlap(const QString& keyA, const QJsonValue& a, const QString& keyB, const QJsonValue& b);

    /// The value `written` (at `writtenKey`) leaves at the deeper key `place`, or nullopt if it
    /// leaves nothing there.
    static std::optional<QJsonValue> valueAtPlace(const KeyPath& writtenKey, const QJsonValue& written,
                                                  const KeyPath& place);

private:
    qint64 priorityOf(const QString& location) const;

    const QList<JournalEntry>& m_entries;
    const KeyIndex& m_index;
    const MeetConfig& m_config;
};

} // namespace oll
