// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace oll {

class RandomSource;

/// The incarnations of one meet's log. A server mints a new epoch each time it loads a meet (and
/// when a meet is restored from a client), because only then can entries a client holds have
/// gone missing: after a crash of the disk, a restored backup or a damaged journal. For each past
/// epoch it remembers `lastSeq`, the highest serverSeqNum of that epoch's history it still holds,
/// so a client can tell it which history its copy comes from and the server can tell whether
/// that copy is a prefix of its own log or holds entries it lost (docs/protocol.md, "Recovery").
class EpochHistory
{
public:
    static constexpr int maxRemembered = 100; // past epochs kept; an older one counts as unknown

    /// 16 lowercase hex digits from `random`.
    static QString mint(RandomSource& random);

    /// At load: the server holds at most `head` entries of any history, whatever the records say
    /// (a journal can lose its end to a disk that lied or a restored backup).
    void clampTo(qint64 head);
    /// Ends the current epoch at `head` (if there is one) and starts `epoch`.
    void begin(const QString& epoch, qint64 head);
    /// Records a past epoch whose history the server holds up to `lastSeq` (a restored meet).
    void addPast(const QString& epoch, qint64 lastSeq);
    const QString& current() const { return m_current; }
    /// For the current epoch `head`; for a remembered past one its lastSeq; else nullopt.
    std::optional<qint64> lastSeqOf(const QString& epoch, qint64 head) const;
    /// Entries of past `epoch` up to `lastSeq` are now held again (restored with their numbers).
    void extend(const QString& epoch, qint64 lastSeq);

    QJsonObject toJson() const;
    static std::optional<EpochHistory> fromJson(const QJsonObject& obj, QString* error);

private:
    struct Past
    {
        QString epoch;
        qint64 lastSeq = 0;
    };
    QList<Past> m_past; // oldest first
    QString m_current;
};

} // namespace oll
