#include "sync/Meet.h"

#include "protocol/KeyPath.h"
#include "storage/AtomicFile.h"
#include "util/Clock.h"

#include <QJsonDocument>

namespace oll {

Meet::Meet(MeetConfig config, QString directory, std::unique_ptr<JournalDevice> journal, QList<JournalEntry> replayed,
           QThreadPool* ioPool, const Clock& clock, RandomSource& random, const Limits& limits, QObject* parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_directory(std::move(directory))
    , m_clock(clock)
    , m_limits(limits)
    , m_sessions(clock, random)
    , m_journal(std::move(journal))
    , m_executor(new SerialExecutor(ioPool, this))
    , m_entries(std::move(replayed))
    , m_deviceBroken(std::make_shared<std::atomic<bool>>(false))
{
    m_durableSeq = assignedSeq();
    m_durableBytes = m_journal->size();
    for (const JournalEntry& e : m_entries) {
        m_seqByClient[e.clientId].insert(e.localSeqNum, e.serverSeqNum);
    }
    m_flushTimer.setSingleShot(true);
    m_flushTimer.setInterval(0);
    connect(&m_flushTimer, &QTimer::timeout, this, &Meet::startFlush);
}

Meet::~Meet()
{
    // The executor is a child and would otherwise outlive this object's members by a moment;
    // destroying it first waits for a running flush and discards its completion while every
    // member it could touch still exists.
    delete m_executor;
}

std::optional<Meet::Rejection> Meet::validate(const UpdateRequest& u, const Session& session, qint64* valueBytes) const
{
    if (session.role == Role::Display) {
        return Rejection{u.localSeqNum, QStringLiteral("READ_ONLY_SESSION"),
                         QStringLiteral("this is a display-only session; it cannot update the meet")};
    }
    QString why;
    KeyPath::Problem problem = KeyPath::Problem::None;
    if (!KeyPath::parse(u.key, m_limits.maxKeyLength, m_limits.maxKeyDepth, &why, &problem)) {
        const QString code = problem == KeyPath::Problem::TooLong ? QStringLiteral("KEY_TOO_LONG")
            : problem == KeyPath::Problem::TooDeep                ? QStringLiteral("KEY_TOO_DEEP")
                                                                  : QStringLiteral("KEY_INVALID");
        return Rejection{u.localSeqNum, code, QStringLiteral("updateKey: ") + why};
    }
    if (jsonNesting(u.value, m_limits.maxValueNesting + 1) > m_limits.maxValueNesting) {
        return Rejection{u.localSeqNum, QStringLiteral("VALUE_TOO_DEEP"),
                         QStringLiteral("updateValue nests more than %1 arrays/objects").arg(m_limits.maxValueNesting)};
    }
    const qint64 size = compactJson(u.value).size();
    if (size > m_limits.maxValueBytes) {
        return Rejection{
            u.localSeqNum, QStringLiteral("VALUE_TOO_LARGE"),
            QStringLiteral("updateValue is %1 bytes; the limit is %2").arg(size).arg(m_limits.maxValueBytes)};
    }
    *valueBytes = size;
    return std::nullopt;
}

Meet::SubmitResult Meet::submit(quint64 connectionId, const Session& session, const QList<UpdateRequest>& updates)
{
    SubmitResult result;
    QHash<qint64, qint64>& known = m_seqByClient[session.clientId];
    for (const UpdateRequest& u : updates) {
        const auto seen = known.constFind(u.localSeqNum);
        if (seen != known.constEnd()) {
            const JournalEntry& first = m_entries[*seen - 1];
            if (first.key != u.key || first.value != u.value) {
                // Not a resend: two browsers share a clientId, or a client reset its counter.
                // Acking it would silently drop the update, so say so.
                result.rejections.append(
                    Rejection{u.localSeqNum, QStringLiteral("LOCAL_SEQ_REUSED"),
                              QStringLiteral("localSeqNum %1 of this clientId was already used for a different "
                                             "update (serverSeqNum %2); each browser needs its own clientId")
                                  .arg(u.localSeqNum)
                                  .arg(*seen)});
                continue;
            }
            // A resend: same answer as the first time, never a second application.
            if (*seen <= m_durableSeq) {
                result.immediateAcks.append(Ack{u.localSeqNum, *seen});
            } else {
                QList<Waiter>& waiting = m_waiters[*seen];
                const bool already = std::any_of(waiting.cbegin(), waiting.cend(), [&](const Waiter& w) {
                    return w.connectionId == connectionId && w.localSeqNum == u.localSeqNum;
                });
                if (!already) {
                    waiting.append(Waiter{connectionId, u.localSeqNum});
                }
            }
            continue;
        }
        qint64 valueBytes = 0;
        if (auto rejection = validate(u, session, &valueBytes)) {
            result.rejections.append(*rejection);
            continue;
        }
        if (m_broken) {
            result.notStored.append(u.localSeqNum);
            continue;
        }
        JournalEntry e;
        e.serverSeqNum = assignedSeq() + 1;
        e.key = u.key;
        e.value = u.value;
        e.location = session.locationName;
        e.clientId = session.clientId;
        e.localSeqNum = u.localSeqNum;
        e.afterServerSeqNum = u.afterServerSeqNum;
        e.timeMs = m_clock.nowMs();
        e.approxBytes = valueBytes + e.key.size() + 128; // key, ids and field names add little
        m_entries.append(e);
        m_unflushed.append(e);
        known.insert(u.localSeqNum, e.serverSeqNum);
        m_waiters[e.serverSeqNum].append(Waiter{connectionId, u.localSeqNum});
    }
    if (known.isEmpty()) {
        m_seqByClient.remove(session.clientId);
    }
    if (!m_unflushed.isEmpty() && !m_flushInFlight && !m_flushTimer.isActive()) {
        // Zero-delay timer: everything else already queued in this event-loop turn joins the batch.
        m_flushTimer.start();
    }
    return result;
}

void Meet::startFlush()
{
    if (m_flushInFlight || m_unflushed.isEmpty()) {
        return;
    }
    m_flushInFlight = true;
    QList<JournalEntry> batch = std::move(m_unflushed);
    m_unflushed.clear();
    const qint64 firstSeq = batch.first().serverSeqNum;
    const qint64 lastSeq = batch.last().serverSeqNum;
    auto journal = m_journal;
    auto deviceBroken = m_deviceBroken;
    auto outcome = std::make_shared<std::pair<bool, QString>>(false, QString());
    auto size = std::make_shared<qint64>(0);
    m_executor->post(
        [journal, deviceBroken, batch = std::move(batch), outcome, size] {
            // Serialised here, off the event loop, so a large batch never delays other meets.
            if (deviceBroken->load()) {
                *outcome = {false, QStringLiteral("journal is unusable after an earlier failure")};
                return;
            }
            QByteArray bytes;
            for (const JournalEntry& e : batch) {
                bytes += e.toLine();
            }
            const bool ok = journal->append(bytes) && journal->sync();
            *outcome = {ok, ok ? QString() : journal->errorString()};
            *size = journal->size();
        },
        [this, outcome, size, firstSeq, lastSeq] {
            onFlushDone(outcome->first, outcome->second, firstSeq, lastSeq, *size);
        });
}

void Meet::onFlushDone(bool ok, const QString& error, qint64 firstSeq, qint64 lastSeq, qint64 deviceSize)
{
    m_flushInFlight = false;
    if (!ok) {
        rollBackUnflushed(error);
        return;
    }
    m_durableSeq = lastSeq;
    m_durableBytes = deviceSize;
    QHash<quint64, QList<Ack>> acks;
    for (auto it = m_waiters.begin(); it != m_waiters.end() && it.key() <= lastSeq;) {
        for (const Waiter& w : *it) {
            acks[w.connectionId].append(Ack{w.localSeqNum, it.key()});
        }
        it = m_waiters.erase(it);
    }
    const QList<JournalEntry> durable = m_entries.mid(firstSeq - 1, lastSeq - firstSeq + 1);
    Q_EMIT committed(durable, acks);
    if (!m_unflushed.isEmpty()) {
        startFlush();
    }
}

void Meet::rollBackUnflushed(const QString& error)
{
    // Nothing after m_durableSeq was acked or relayed, so it can be forgotten: the clients still
    // hold those updates as pending and resend them. The file is cut back to its durable length
    // so a partly written batch cannot reappear on restart with numbers we hand out again.
    QHash<quint64, QList<qint64>> unacked;
    for (auto it = m_waiters.cbegin(); it != m_waiters.cend(); ++it) {
        for (const Waiter& w : *it) {
            unacked[w.connectionId].append(w.localSeqNum);
        }
    }
    m_waiters.clear();
    m_unflushed.clear();
    m_flushTimer.stop();
    while (assignedSeq() > m_durableSeq) {
        const JournalEntry e = m_entries.takeLast();
        auto it = m_seqByClient.find(e.clientId);
        if (it != m_seqByClient.end()) {
            it->remove(e.localSeqNum);
            if (it->isEmpty()) {
                m_seqByClient.erase(it);
            }
        }
    }
    auto journal = m_journal;
    auto deviceBroken = m_deviceBroken;
    const qint64 durableBytes = m_durableBytes;
    auto truncated = std::make_shared<bool>(false);
    auto why = std::make_shared<QString>();
    m_executor->post(
        [journal, deviceBroken, durableBytes, truncated, why] {
            *truncated = journal->truncate(durableBytes);
            if (!*truncated) {
                *why = journal->errorString();
                deviceBroken->store(true);
            }
        },
        [this, truncated, why] {
            if (!*truncated) {
                m_broken = true;
                Q_EMIT storageBroken(*why);
            }
        });
    Q_EMIT commitFailed(unacked, error);
}

QList<JournalEntry> Meet::durableEntriesAfter(qint64 after, qint64 max) const
{
    if (after < 0 || max <= 0 || after >= m_durableSeq) {
        return {};
    }
    const qint64 count = qMin<qint64>(max, m_durableSeq - after);
    return m_entries.mid(after, count);
}

QList<QByteArray> Meet::persistSessions(std::function<void(bool ok, const QString& error)> done)
{
    const QList<QByteArray> dropped = m_sessions.pruneExpired();
    const QByteArray content = QJsonDocument(m_sessions.toJson()).toJson(QJsonDocument::Indented);
    const QString path = sessionsPath(m_directory);
    auto outcome = std::make_shared<std::pair<bool, QString>>(false, QString());
    m_executor->post(
        [content, path, outcome] {
            QString err;
            outcome->first = AtomicFile::write(path, content, &err);
            outcome->second = err;
        },
        [outcome, done = std::move(done)] {
            if (done) {
                done(outcome->first, outcome->second);
            }
        });
    return dropped;
}

} // namespace oll
