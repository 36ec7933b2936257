// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Limits.h"
#include "storage/JournalDevice.h"
#include "storage/SerialExecutor.h"
#include "sync/Meet.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QThreadPool>

#include <functional>
#include <map>
#include <memory>

namespace oll {

class Clock;
class DiagLog;
class RandomSource;

/// Every meet under the data directory:
///   DATA/current-meets/<meetId>/{updates.json.log, auth.json, sessions.json, display-links.json, ...}
///   DATA/finished-meets/<meetId>/...
/// Loads and replays them at start, creates new ones, hands out unique meet IDs and maps
/// session token hashes to their meet. A meet under construction lives in the hidden
/// DATA/current-meets/.creating-<meetId>/ until it is complete, so a crash or a failed write never
/// leaves a half-made meet behind; load() deletes such leftovers.
class MeetRegistry : public QObject
{
    Q_OBJECT
public:
    MeetRegistry(QString dataDir, const Clock& clock, RandomSource& random, JournalDeviceFactory journalFactory,
                 const Limits& limits, DiagLog& diag, QObject* parent = nullptr);
    ~MeetRegistry() override;

    /// Creates the directory layout, removes leftovers of interrupted creations and loads every
    /// meet. False only if the data directory itself is unusable; a damaged meet is listed in
    /// damagedMeets() and the rest still load.
    bool load(QString* error);

    Meet* find(const QString& meetId) const;
    QList<Meet*> meets() const;
    /// Meets that could not be loaded, with the reason (they keep their IDs reserved).
    QHash<QString, QString> damagedMeets() const { return m_damaged; }
    bool isFinished(const QString& meetId) const { return m_finished.contains(meetId); }
    QSet<QString> finishedMeets() const { return m_finished; }

    /// A fresh 9-digit ID used by no current, finished, damaged or reserved meet; reserved until
    /// createMeet() finishes with it.
    QString reserveMeetId();
    /// Reserves a given ID (a restore); false if any meet, leftover or reservation has it.
    bool reserveMeetId(const QString& meetId);
    /// True if `meetId` is reserved or has a directory of any kind on disk.
    bool isReservedOrPresent(const QString& meetId) const;

    /// Writes auth.json and an empty journal into a staging directory on the I/O pool, renames it
    /// to the meet's directory, then registers the meet and calls `done` with it. On any failure
    /// nothing of the attempt is left (best effort) and `done` gets nullptr and the reason.
    /// `restoredEpoch` (RESTORE_MEET): the client's log epoch, remembered as a past epoch of
    /// which this server holds nothing, so that the client's log restores the meet.
    void createMeet(MeetConfig config, std::function<void(Meet*, const QString& error)> done,
                    const QString& restoredEpoch = QString());
    /// File work runs inline on the calling thread (deterministic simulations only). Call before load().
    void setInlineIo();

    void indexSession(const QByteArray& tokenHash, const QString& meetId) { m_tokenIndex.insert(tokenHash, meetId); }
    void unindexSession(const QByteArray& tokenHash) { m_tokenIndex.remove(tokenHash); }
    /// The meet a token hash belongs to, or nullptr.
    Meet* meetForToken(const QByteArray& tokenHash) const;
    /// The same for display link tokens (JOIN_DISPLAY).
    void indexDisplayLink(const QByteArray& tokenHash, const QString& meetId)
    {
        m_displayTokenIndex.insert(tokenHash, meetId);
    }
    void unindexDisplayLink(const QByteArray& tokenHash) { m_displayTokenIndex.remove(tokenHash); }
    Meet* meetForDisplayToken(const QByteArray& tokenHash) const;

    bool isIdle() const;
    QThreadPool* ioPool() { return &m_ioPool; }
    QString currentDir() const { return m_dataDir + QStringLiteral("/current-meets"); }
    QString finishedDir() const { return m_dataDir + QStringLiteral("/finished-meets"); }
    /// Where createMeet() builds the meet before renaming it into place.
    QString stagingDir(const QString& meetId) const { return currentDir() + QStringLiteral("/.creating-") + meetId; }

Q_SIGNALS:
    void meetAdded(oll::Meet* meet);

private:
    void removeInterruptedCreations();
    void loadMeet(const QString& meetId);
    Meet* adopt(std::unique_ptr<Meet> meet);

    QString m_dataDir;
    const Clock& m_clock;
    RandomSource& m_random;
    JournalDeviceFactory m_journalFactory;
    Limits m_limits;
    DiagLog& m_diag;

    QThreadPool m_ioPool;
    SerialExecutor* m_createExecutor; // child; serialises directory creation
    std::map<QString, std::unique_ptr<Meet>> m_meets;
    QHash<QString, QString> m_damaged;
    QSet<QString> m_finished;
    QSet<QString> m_reserved;
    QHash<QByteArray, QString> m_tokenIndex;
    QHash<QByteArray, QString> m_displayTokenIndex;
    bool m_inlineIo = false;
};

} // namespace oll
