// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>

namespace oll {

/// One entry of the meet, as a conflict record names it.
struct ConflictParty
{
    qint64 serverSeqNum = 0;
    QString locationName;
    QString clientId;
    qint64 priority = 0;
};

/// A settled conflict, one line of the meet's conflicts.json.log. Written and flushed before the
/// rejection or the overruling entry reaches anyone, so the losing value is never only in memory.
struct ConflictRecord
{
    enum class Outcome
    {
        Rejected, // the update lost: it was never sequenced
        Overruled // the update won against lower-priority entries: it was sequenced as serverSeqNum
    };
    Outcome outcome = Outcome::Rejected;
    qint64 timeMs = 0;
    // The update that ran into the conflict.
    QString key;
    QJsonValue value;
    QString clientId;
    qint64 localSeqNum = 0;
    QString locationName;
    qint64 priority = 0;
    qint64 afterServerSeqNum = 0;
    bool recovered = false; // re-sequenced from a client's log after the server lost it
    qint64 serverSeqNum = 0; // Overruled: the number it got
    ConflictParty winner; // Rejected: the entry that stands
    QList<ConflictParty> overruled; // Overruled: the entries it overruled

    QJsonObject toJson() const;
    QByteArray toLine() const;
    static std::optional<ConflictRecord> fromLine(const QByteArray& line);
};

/// What reading conflicts.json.log found: whole valid lines; anything else is counted, not fatal
/// (the records inform people; the journal is the source of truth).
struct ConflictLoad
{
    QList<ConflictRecord> records;
    qint64 validBytes = 0; // length of the prefix made of whole valid lines
    int badLines = 0;
};
ConflictLoad readConflictLog(const QByteArray& content);

} // namespace oll
