// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "auth/DisplayLinkStore.h"
#include "auth/SessionStore.h"
#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "storage/Journal.h"
#include "storage/JournalDevice.h"
#include "storage/SerialExecutor.h"
#include "sync/ConflictRecord.h"
#include "sync/ConflictResolver.h"
#include "sync/EpochHistory.h"
#include "sync/KeyIndex.h"
#include "sync/MeetConfig.h"
#include "sync/MeetState.h"

#include <QHash>
#include <QMap>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>

class QThreadPool;

namespace oll {

class Clock;
class RandomSource;

/// One live meet: its configuration, its sessions and its sequencer.
///
/// The sequencer gives each accepted update the next serverSeqNum, remembers which
/// (clientId, localSeqNum) got which number so that a resend is never applied twice, and
/// group-commits: updates accepted while a flush is running are written and fdatasync'ed
/// together by the next one. Acks and relays are released (`committed`) only after the flush
/// that holds them has succeeded. All methods run on the owning thread; only file work runs on
/// the meet's SerialExecutor.
class Meet : public QObject
{
    Q_OBJECT
public:
    struct Ack
    {
        qint64 localSeqNum = 0;
        qint64 serverSeqNum = 0;
    };
    struct Rejection
    {
        qint64 localSeqNum = 0;
        QString code;
        QString reason;
        bool conflict = false;
        // Conflict rejections only:
        ConflictParty winner;
        QString key;
        std::optional<QJsonValue> currentValue; // what is at `key` now (durable state); nullopt: nothing

        static Rejection plain(qint64 localSeqNum, QString code, QString reason)
        {
            Rejection r;
            r.localSeqNum = localSeqNum;
            r.code = std::move(code);
            r.reason = std::move(reason);
            return r;
        }
    };
    struct SubmitResult
    {
        QList<Ack> immediateAcks; // resends of updates already durable
        QList<Rejection> rejections; // updates that will never be applied (conflicts come later, once recorded)
        QList<qint64> notStored; // localSeqNums refused for now: the journal is unusable; resend later
    };

    /// What a meet directory held at load: the journal's entries, the epoch history (its current
    /// epoch already minted for this run) and the conflict records.
    struct History
    {
        QList<JournalEntry> entries;
        EpochHistory epochs;
        QList<ConflictRecord> conflicts;
    };

    /// How to answer a CLIENT_PULL.
    struct PullPlan
    {
        enum class Kind
        {
            Entries, // the entries after `from`
            Compacted, // `items` (the state at `through`), then the entries after `through`
            ServerPull // the client holds entries this server lost: ask for them after `from`
        };
        struct Item
        {
            QString key;
            QJsonValue value;
            qint64 lastSeq = 0;
            qint64 approxBytes = 0;
        };
        Kind kind = Kind::Entries;
        qint64 from = 0;
        qint64 through = 0;
        QList<Item> items;
    };

    /// What a RECOVERY_PUSH did.
    struct RecoveryResult
    {
        int restored = 0; // appended with their original serverSeqNums
        int resequenced = 0; // appended with new numbers
        int duplicates = 0; // already held (same clientId + localSeqNum)
        int conflicts = 0; // re-sequencing ran into the conflict rule
        QList<QPair<qint64, QString>> skipped; // serverSeqNum, why
    };

    /// `ioPool` null: file work runs inline and every submit flushes at once (simulations only).
    Meet(MeetConfig config, QString directory, std::unique_ptr<JournalDevice> journal,
         std::unique_ptr<JournalDevice> conflictLog, History history, QThreadPool* ioPool, const Clock& clock,
         RandomSource& random, const Limits& limits, QObject* parent = nullptr);
    ~Meet() override;

    const MeetConfig& config() const { return m_config; }
    const QString& meetId() const { return m_config.meetId; }
    const QString& directory() const { return m_directory; }
    SessionStore& sessions() { return m_sessions; }
    const SessionStore& sessions() const { return m_sessions; }
    DisplayLinkStore& displayLinks() { return m_displayLinks; }
    const DisplayLinkStore& displayLinks() const { return m_displayLinks; }

    /// Validates, de-duplicates and sequences a batch from one session. New updates are acked
    /// later through `committed`; resends of durable ones and rejections come back at once.
    SubmitResult submit(quint64 connectionId, const Session& session, const QList<UpdateRequest>& updates);

    /// Decides how to answer CLIENT_PULL{lastServerSeq, epoch, compact} (docs/protocol.md).
    PullPlan planPull(qint64 lastServerSeq, const QString& epoch, bool compactAllowed) const;
    /// Takes back entries of a client's log that this server lost (RECOVERY_PUSH): restores the
    /// contiguous run it can with the original numbers, re-sequences the rest under the conflict
    /// rule. `done(ok)` runs once all of it is durable (or failed to be).
    void recover(const QString& epoch, const QList<RecoveredEntry>& entries,
                 std::function<void(bool ok, const RecoveryResult& result)> done);
    /// Runs `done(ok)` once everything sequenced or recorded so far is durable (at once if it is).
    void whenDurable(std::function<void(bool ok)> done);

    const QString& epoch() const { return m_epochs.current(); }
    const EpochHistory& epochs() const { return m_epochs; }
    /// The meet as its durable log builds it.
    const MeetState& state() const { return m_state; }
    /// Durable conflict records, oldest first.
    QList<ConflictRecord> conflicts() const { return m_conflicts.mid(0, m_durableConflicts); }
    int conflictCount() const { return static_cast<int>(m_durableConflicts); }

    /// Durable entries with serverSeqNum > after, at most `max` of them.
    QList<JournalEntry> durableEntriesAfter(qint64 after, qint64 max) const;
    /// The head everyone may see: the last serverSeqNum whose flush succeeded.
    qint64 durableSeq() const { return m_durableSeq; }
    /// The last serverSeqNum handed out, durable or not. Not for clients or views: entries past
    /// durableSeq() may still be rolled back.
    qint64 assignedSeq() const { return static_cast<qint64>(m_entries.size()); }
    bool isStorageBroken() const { return m_broken; }

    /// Writes sessions.json atomically on the meet's executor, then calls `done` on this thread.
    /// Expired sessions are dropped first; their token hashes are returned so indexes can forget them.
    QList<QByteArray> persistSessions(std::function<void(bool ok, const QString& error)> done);
    /// Writes display-links.json atomically on the meet's executor (in order with the other file
    /// work), then calls `done` on this thread.
    void persistDisplayLinks(std::function<void(bool ok, const QString& error)> done);
    /// True when no flush or file write is queued or running.
    bool isIdle() const
    {
        return m_executor->isIdle() && m_flushedSeq == assignedSeq() && m_flushedConflicts == m_conflicts.size()
            && !m_flushInFlight;
    }

    static QString journalPath(const QString& dir) { return dir + QStringLiteral("/updates.json.log"); }
    static QString authPath(const QString& dir) { return dir + QStringLiteral("/auth.json"); }
    static QString sessionsPath(const QString& dir) { return dir + QStringLiteral("/sessions.json"); }
    static QString displayLinksPath(const QString& dir) { return dir + QStringLiteral("/display-links.json"); }
    static QString epochsPath(const QString& dir) { return dir + QStringLiteral("/epochs.json"); }
    static QString conflictsPath(const QString& dir) { return dir + QStringLiteral("/conflicts.json.log"); }

Q_SIGNALS:
    /// A flush succeeded: `entries` are durable, in serverSeqNum order. `acks` holds, per
    /// connection, the updates it sent (or re-sent) among them; `rejections` the conflict
    /// rejections whose records this flush made durable.
    void committed(const QList<oll::JournalEntry>& entries, const QHash<quint64, QList<oll::Meet::Ack>>& acks,
                   const QHash<quint64, QList<oll::Meet::Rejection>>& rejections);
    /// A conflict was settled and its record is durable.
    void conflictRecorded(const oll::ConflictRecord& record);
    /// A flush failed: nothing of it is acked; per connection, the localSeqNums to resend later.
    void commitFailed(const QHash<quint64, QList<qint64>>& unacked, const QString& error);
    /// Even cutting the journal back failed: the meet accepts no updates until the server restarts.
    void storageBroken(const QString& error);

private:
    struct Waiter
    {
        quint64 connectionId = 0;
        qint64 localSeqNum = 0;
    };
    /// Checks one update; on success `valueBytes` is the size of its value as compact JSON.
    std::optional<Rejection> validate(const UpdateRequest& update, const Session& session, qint64* valueBytes) const;
    /// Key and value limits only (no role): for updates and recovered entries alike.
    std::optional<Rejection> validateContent(qint64 localSeqNum, const QString& key, const QJsonValue& value,
                                             qint64* valueBytes) const;
    /// Before an update that overrules the deletion of an `[id=N]` element it writes below:
    /// puts the element back as it was before the deletion, or the update would change nothing
    /// (a write below an absent element is ignored) and the higher priority would lose.
    void restoreOverruledDeletion(const Verdict& verdict, const QString& key, const QString& location);
    /// Settles an update the conflict rule judged: a rejection is recorded (its index goes to
    /// `rejectedIndex`) and 0 returned; otherwise the entry is appended - after putting back an
    /// element whose deletion it overrules - an overrule recorded, and its serverSeqNum returned.
    qint64 settle(JournalEntry e, qint64 priority, const Verdict& verdict, bool recovered, int* rejectedIndex);
    /// The value at `key` after applying the entries up to `throughSeq` that touch it.
    std::optional<QJsonValue> valueAfter(const QString& key, qint64 throughSeq) const;
    /// Appends a new entry to the log (not yet durable) and indexes it.
    const JournalEntry& append(JournalEntry e);
    /// Records a conflict (not yet durable); returns its index.
    int record(ConflictRecord r);
    Rejection rejectionFor(int conflictIndex, qint64 localSeqNum) const;
    ConflictParty partyOf(qint64 seq) const;
    void scheduleFlush();
    void startFlush();
    void onFlushDone(bool ok, const QString& error, qint64 lastSeq, int lastConflict, qint64 deviceSize,
                     qint64 conflictBytes);
    void rollBackUnflushed(const QString& error);
    void persistEpochs();
    /// Replaces the file at `path` with `content` on the executor; `done` on this thread.
    void writeFile(const QString& path, const QByteArray& content, std::function<void(bool, const QString&)> done);

    MeetConfig m_config;
    QString m_directory;
    const Clock& m_clock;
    Limits m_limits;
    SessionStore m_sessions;
    DisplayLinkStore m_displayLinks;

    std::shared_ptr<JournalDevice> m_journal; // shared with jobs on the executor
    std::shared_ptr<JournalDevice> m_conflictLog;
    bool m_inlineIo = false;
    SerialExecutor* m_executor; // child
    QTimer m_flushTimer;

    QList<JournalEntry> m_entries; // m_entries[i].serverSeqNum == i + 1
    QHash<QString, QHash<qint64, qint64>> m_seqByClient; // clientId -> localSeqNum -> serverSeqNum
    QMap<qint64, QList<Waiter>> m_waiters; // serverSeqNum -> who awaits its ack
    qint64 m_durableSeq = 0;
    qint64 m_durableBytes = 0;
    qint64 m_flushedSeq = 0; // the last seq handed to a flush

    MeetState m_state; // entries 1..m_durableSeq applied
    KeyIndex m_index; // every assigned entry
    EpochHistory m_epochs;
    QList<ConflictRecord> m_conflicts; // [0, m_durableConflicts) durable
    qsizetype m_durableConflicts = 0;
    qsizetype m_flushedConflicts = 0;
    qint64 m_durableConflictBytes = 0;
    QHash<QString, QHash<qint64, int>> m_rejectedByClient; // clientId -> localSeqNum -> conflict index
    QMap<int, QList<Waiter>> m_rejectWaiters; // conflict index -> who awaits that rejection
    struct DurableWaiter
    {
        qint64 seq = 0;
        qsizetype conflicts = 0;
        std::function<void(bool)> done;
    };
    QList<DurableWaiter> m_durableWaiters;
    bool m_flushInFlight = false;
    bool m_broken = false;
    std::shared_ptr<std::atomic<bool>> m_deviceBroken;
};

} // namespace oll
