#pragma once

#include "auth/SessionStore.h"
#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "storage/Journal.h"
#include "storage/JournalDevice.h"
#include "storage/SerialExecutor.h"
#include "sync/MeetConfig.h"

#include <QHash>
#include <QMap>
#include <QObject>
#include <QTimer>

#include <atomic>
#include <memory>

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
    };
    struct SubmitResult
    {
        QList<Ack> immediateAcks; // resends of updates already durable
        QList<Rejection> rejections; // updates that will never be applied
        QList<qint64> notStored; // localSeqNums refused for now: the journal is unusable; resend later
    };

    Meet(MeetConfig config, QString directory, std::unique_ptr<JournalDevice> journal, QList<JournalEntry> replayed,
         QThreadPool* ioPool, const Clock& clock, RandomSource& random, const Limits& limits,
         QObject* parent = nullptr);
    ~Meet() override;

    const MeetConfig& config() const { return m_config; }
    const QString& meetId() const { return m_config.meetId; }
    const QString& directory() const { return m_directory; }
    SessionStore& sessions() { return m_sessions; }
    const SessionStore& sessions() const { return m_sessions; }

    /// Validates, de-duplicates and sequences a batch from one session. New updates are acked
    /// later through `committed`; resends of durable ones and rejections come back at once.
    SubmitResult submit(quint64 connectionId, const Session& session, const QList<UpdateRequest>& updates);

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
    /// True when no flush or file write is queued or running.
    bool isIdle() const { return m_executor->isIdle() && m_unflushed.isEmpty() && !m_flushInFlight; }

    static QString journalPath(const QString& dir) { return dir + QStringLiteral("/updates.json.log"); }
    static QString authPath(const QString& dir) { return dir + QStringLiteral("/auth.json"); }
    static QString sessionsPath(const QString& dir) { return dir + QStringLiteral("/sessions.json"); }

Q_SIGNALS:
    /// A flush succeeded: `entries` are durable, in serverSeqNum order. `acks` holds, per
    /// connection, the updates it sent (or re-sent) among them.
    void committed(const QList<oll::JournalEntry>& entries, const QHash<quint64, QList<oll::Meet::Ack>>& acks);
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
    void startFlush();
    void onFlushDone(bool ok, const QString& error, qint64 firstSeq, qint64 lastSeq, qint64 deviceSize);
    void rollBackUnflushed(const QString& error);

    MeetConfig m_config;
    QString m_directory;
    const Clock& m_clock;
    Limits m_limits;
    SessionStore m_sessions;

    std::shared_ptr<JournalDevice> m_journal; // shared with jobs on the executor
    SerialExecutor* m_executor; // child
    QTimer m_flushTimer;

    QList<JournalEntry> m_entries; // m_entries[i].serverSeqNum == i + 1
    QHash<QString, QHash<qint64, qint64>> m_seqByClient; // clientId -> localSeqNum -> serverSeqNum
    QList<JournalEntry> m_unflushed; // sequenced, not yet handed to a flush
    QMap<qint64, QList<Waiter>> m_waiters; // serverSeqNum -> who awaits its ack
    qint64 m_durableSeq = 0;
    qint64 m_durableBytes = 0;
    bool m_flushInFlight = false;
    bool m_broken = false;
    std::shared_ptr<std::atomic<bool>> m_deviceBroken;
};

} // namespace oll
