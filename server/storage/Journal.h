// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>

namespace oll {

/// One sequenced update, as stored on one line of updates.json.log and as replayed.
struct JournalEntry
{
    qint64 serverSeqNum = 0;
    QString key;
    QJsonValue value;
    QString location;
    QString clientId;
    qint64 localSeqNum = 0;
    qint64 afterServerSeqNum = 0;
    qint64 timeMs = 0;
    /// Rough size on the wire (not stored): known when the entry is accepted or read back, so
    /// relaying and pulling never serialise a value just to measure it.
    qint64 approxBytes = 0;

    /// The line as written, newline included.
    QByteArray toLine() const;
    static std::optional<JournalEntry> fromLine(const QByteArray& line, QString* error = nullptr);
};

/// What replaying a journal file found.
struct JournalLoad
{
    QList<JournalEntry> entries;
    qint64 validBytes = 0; // length of the prefix made of whole, valid, contiguous lines
    qint64 fileBytes = 0;
    qint64 tornTailBytes = 0; // bytes after the last whole line that were not a valid line
    int damagedLine = 0; // 1-based line where damage other than a torn tail starts; 0 if none
    QString damage; // what was wrong there
    bool ok() const { return damagedLine == 0; }
};

/// Reads updates.json.log. A torn last line (a write cut short by a crash; it was never flushed,
/// so never acknowledged) is reported in tornTailBytes so the caller can cut it off. Anything
/// else wrong - an unparsable line before the end, a gap or repeat in serverSeqNum - is damage:
/// the entries before it are returned and nothing is dropped silently.
class JournalReader
{
public:
    static JournalLoad read(const QByteArray& content);
    static JournalLoad readFile(const QString& path, QString* error);
};

} // namespace oll
