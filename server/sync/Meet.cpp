// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/Meet.h"

#include "protocol/KeyPath.h"
#include "storage/AtomicFile.h"
#include "sync/ConflictResolver.h"
#include "util/Clock.h"

#include <QJsonDocument>

#include <limits>

namespace oll {

Meet::Meet(MeetConfig config, QString directory, std::unique_ptr<JournalDevice> journal,
           std::unique_ptr<JournalDevice> conflictLog, History history, QThreadPool* ioPool, const Clock& clock,
           RandomSource& random, const Limits& limits, QObject* parent)
    : QObject(parent)
    , m_config(std::move(config))
    , m_directory(std::move(directory))
    , m_clock(clock)
    , m_limits(limits)
    , m_sessions(clock, random)
    , m_displayLinks(clock, random)
    , m_journal(std::move(journal))
    , m_conflictLog(std::move(conflictLog))
    , m_inlineIo(ioPool == nullptr)
    , m_executor(new SerialExecutor(ioPool, this))
    , m_entries(std::move(history.entries))
    , m_epochs(std::move(history.epochs))
    , m_conflicts(std::move(history.conflicts))
    , m_deviceBroken(std::make_shared<std::atomic<bool>>(false))
{
    m_durableSeq = assignedSeq();
    m_flushedSeq = m_durableSeq;
    m_durableBytes = m_journal->size();
    m_durableConflicts = m_conflicts.size();
    m_flushedConflicts = m_durableConflicts;
    m_durableConflictBytes = m_conflictLog ? m_conflictLog->size() : 0;
    for (const JournalEntry& e : m_entries) {
        m_seqByClient[e.clientId].insert(e.localSeqNum, e.serverSeqNum);
        m_index.add(e.key, e.serverSeqNum);
        if (const auto key = KeyPath::parse(e.key, m_limits.maxKeyLength, m_limits.maxKeyDepth)) {
            m_state.apply(*key, e.value);
        }
    }
    for (qsizetype i = 0; i < m_conflicts.size(); ++i) {
        const ConflictRecord& r = m_conflicts[i];
        if (r.outcome == ConflictRecord::Outcome::Rejected) {
            m_rejectedByClient[r.clientId].insert(r.localSeqNum, static_cast<int>(i));
        }
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

std::optional<Meet::Rejection> Meet::validateContent(qint64 localSeqNum, const QString& key, const QJsonValue& value,
                                                     qint64* valueBytes) const
{
    QString why;
    KeyPath::Problem problem = KeyPath::Problem::None;
    if (!KeyPath::parse(key, m_limits.maxKeyLength, m_limits.maxKeyDepth, &why, &problem)) {
        const QString code = problem == KeyPath::Problem::TooLong ? QStringLiteral("KEY_TOO_LONG")
            : problem == KeyPath::Problem::TooDeep                ? QStringLiteral("KEY_TOO_DEEP")
                                                                  : QStringLiteral("KEY_INVALID");
        return Rejection::plain(localSeqNum, code, QStringLiteral("updateKey: ") + why);
    }
    if (jsonNesting(value, m_limits.maxValueNesting + 1) > m_limits.maxValueNesting) {
        return Rejection::plain(
            localSeqNum, QStringLiteral("VALUE_TOO_DEEP"),
            QStringLiteral("updateValue nests more than %1 arrays/objects").arg(m_limits.maxValueNesting));
    }
    const qint64 size = compactJson(value).size();
    if (size > m_limits.maxValueBytes) {
        return Rejection::plain(
            localSeqNum, QStringLiteral("VALUE_TOO_LARGE"),
            QStringLiteral("updateValue is %1 bytes; the limit is %2").arg(size).arg(m_limits.maxValueBytes));
    }
    *valueBytes = size;
    return std::nullopt;
}

std::optional<Meet::Rejection> Meet::validate(const UpdateRequest& u, const Session& session, qint64* valueBytes) const
{
    if (session.role == Role::Display) {
        return Rejection::plain(u.localSeqNum, QStringLiteral("READ_ONLY_SESSION"),
                                QStringLiteral("this is a display-only session; it cannot update the meet"));
    }
    return validateContent(u.localSeqNum, u.key, u.value, valueBytes);
}

std::optional<QJsonValue> Meet::valueAfter(const QString& key, qint64 throughSeq) const
{
    QList<qint64> seqs;
    m_index.forEachOverlap(key, 0, [&](qint64 seq, const QString&) {
        if (seq <= throughSeq) {
            seqs.append(seq);
        }
        return true;
    });
    std::sort(seqs.begin(), seqs.end());
    // Writes elsewhere cannot change what is at `key`, so replaying these is enough.
    MeetState scratch;
    for (qint64 seq : seqs) {
        const JournalEntry& e = m_entries[seq - 1];
        if (const auto k = KeyPath::parse(e.key, m_limits.maxKeyLength, m_limits.maxKeyDepth)) {
            scratch.apply(*k, e.value);
        }
    }
    const auto k = KeyPath::parse(key, m_limits.maxKeyLength, m_limits.maxKeyDepth);
    return k ? scratch.valueAt(*k) : std::nullopt;
}

void Meet::restoreOverruledDeletion(const Verdict& verdict, const QString& key, const QString& location)
{
    qint64 deletion = 0;
    for (qint64 seq : verdict.overruled) {
        const JournalEntry& e = m_entries[seq - 1];
        const bool below = key.size() > e.key.size() && key.startsWith(e.key)
            && (key[e.key.size()] == QLatin1Char('.') || key[e.key.size()] == QLatin1Char('['));
        if (below && e.value.isNull() && KeyIndex::isElementKey(e.key)) {
            deletion = std::max(deletion, seq);
        }
    }
    if (deletion == 0) {
        return;
    }
    const QString element = m_entries[deletion - 1].key;
    if (valueAfter(element, assignedSeq())) {
        return; // it exists again already
    }
    const std::optional<QJsonValue> before = valueAfter(element, deletion - 1);
    if (!before) {
        return; // there was nothing to put back
    }
    JournalEntry e;
    e.key = element;
    e.value = *before;
    e.location = location;
    e.clientId = ServerClientId;
    e.localSeqNum = assignedSeq() + 1; // unique: the server's entries are numbered by their seq
    e.afterServerSeqNum = assignedSeq();
    e.timeMs = m_clock.nowMs();
    e.approxBytes = compactJson(e.value).size() + e.key.size() + 128;
    append(std::move(e));
}

const JournalEntry& Meet::append(JournalEntry e)
{
    e.serverSeqNum = assignedSeq() + 1;
    m_seqByClient[e.clientId].insert(e.localSeqNum, e.serverSeqNum);
    m_index.add(e.key, e.serverSeqNum);
    m_entries.append(std::move(e));
    return m_entries.last();
}

int Meet::record(ConflictRecord r)
{
    r.timeMs = m_clock.nowMs();
    m_conflicts.append(std::move(r));
    const int index = static_cast<int>(m_conflicts.size() - 1);
    const ConflictRecord& stored = m_conflicts.last();
    if (stored.outcome == ConflictRecord::Outcome::Rejected) {
        m_rejectedByClient[stored.clientId].insert(stored.localSeqNum, index);
    }
    return index;
}

ConflictParty Meet::partyOf(qint64 seq) const
{
    const JournalEntry& e = m_entries[seq - 1];
    return ConflictParty{seq, e.location, e.clientId, m_config.priorityOf(e.location).value_or(0)};
}

Meet::Rejection Meet::rejectionFor(int conflictIndex, qint64 localSeqNum) const
{
    const ConflictRecord& r = m_conflicts[conflictIndex];
    Rejection rej;
    rej.localSeqNum = localSeqNum;
    rej.conflict = true;
    rej.code = QStringLiteral("CONFLICT");
    rej.winner = r.winner;
    rej.key = r.key;
    rej.reason = QStringLiteral("conflict on %1: serverSeqNum %2 from location '%3' (priority %4) wrote it after "
                                "serverSeqNum %5, which this update was based on, and priority %6 does not overrule it")
                     .arg(r.key)
                     .arg(r.winner.serverSeqNum)
                     .arg(r.winner.locationName)
                     .arg(r.winner.priority)
                     .arg(r.afterServerSeqNum)
                     .arg(r.priority);
    if (const auto key = KeyPath::parse(r.key, m_limits.maxKeyLength, m_limits.maxKeyDepth)) {
        rej.currentValue = m_state.valueAt(*key);
    }
    return rej;
}

qint64 Meet::settle(JournalEntry e, qint64 priority, const Verdict& verdict, bool recovered, int* rejectedIndex)
{
    ConflictRecord r;
    r.key = e.key;
    r.value = e.value;
    r.clientId = e.clientId;
    r.localSeqNum = e.localSeqNum;
    r.locationName = e.location;
    r.priority = priority;
    r.afterServerSeqNum = e.afterServerSeqNum;
    r.recovered = recovered;
    if (verdict.kind == Verdict::Kind::Rejected) {
        r.outcome = ConflictRecord::Outcome::Rejected;
        r.winner = partyOf(verdict.winnerSeq);
        const int index = record(std::move(r));
        if (rejectedIndex) {
            *rejectedIndex = index;
        }
        return 0;
    }
    if (verdict.kind == Verdict::Kind::Overrules) {
        restoreOverruledDeletion(verdict, e.key, e.location);
    }
    e.timeMs = m_clock.nowMs();
    const qint64 seq = append(std::move(e)).serverSeqNum;
    if (verdict.kind == Verdict::Kind::Overrules) {
        r.outcome = ConflictRecord::Outcome::Overruled;
        r.serverSeqNum = seq;
        for (qint64 s : verdict.overruled) {
            r.overruled.append(partyOf(s));
        }
        record(std::move(r));
    }
    return seq;
}

Meet::SubmitResult Meet::submit(quint64 connectionId, const Session& session, const QList<UpdateRequest>& updates)
{
    SubmitResult result;
    const qint64 priority = m_config.priorityOf(session.locationName).value_or(std::numeric_limits<qint64>::min());
    for (const UpdateRequest& u : updates) {
        const auto known = m_seqByClient.constFind(session.clientId);
        const auto seen = known == m_seqByClient.constEnd() ? QHash<qint64, qint64>::const_iterator()
                                                            : known->constFind(u.localSeqNum);
        if (known != m_seqByClient.constEnd() && seen != known->constEnd()) {
            const JournalEntry& first = m_entries[*seen - 1];
            if (first.key != u.key || first.value != u.value) {
                // Not a resend: two browsers share a clientId, or a client reset its counter.
                // Acking it would silently drop the update, so say so.
                result.rejections.append(
                    Rejection::plain(u.localSeqNum, QStringLiteral("LOCAL_SEQ_REUSED"),
                                     QStringLiteral("localSeqNum %1 of this clientId was already used for a different "
                                                    "update (serverSeqNum %2); each browser needs its own clientId")
                                         .arg(u.localSeqNum)
                                         .arg(*seen)));
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
        const auto lost = m_rejectedByClient.constFind(session.clientId);
        if (lost != m_rejectedByClient.constEnd() && lost->contains(u.localSeqNum)) {
            // A resend of an update that lost a conflict: the same rejection again.
            const int index = lost->value(u.localSeqNum);
            const ConflictRecord& r = m_conflicts[index];
            if (r.key != u.key || r.value != u.value) {
                result.rejections.append(Rejection::plain(
                    u.localSeqNum, QStringLiteral("LOCAL_SEQ_REUSED"),
                    QStringLiteral("localSeqNum %1 of this clientId was already used for a different "
                                   "update, which lost a conflict; each browser needs its own clientId")
                        .arg(u.localSeqNum)));
            } else if (index < m_durableConflicts) {
                result.rejections.append(rejectionFor(index, u.localSeqNum));
            } else {
                m_rejectWaiters[index].append(Waiter{connectionId, u.localSeqNum});
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
        const ConflictResolver resolver(m_entries, m_index, m_config);
        const Verdict verdict = resolver.judge(
            Contender{u.key, u.value, session.clientId, priority, u.afterServerSeqNum, /*alsoSeen=*/{}});
        JournalEntry e;
        e.key = u.key;
        e.value = u.value;
        e.location = session.locationName;
        e.clientId = session.clientId;
        e.localSeqNum = u.localSeqNum;
        e.afterServerSeqNum = u.afterServerSeqNum;
        e.approxBytes = valueBytes + e.key.size() + 128; // key, ids and field names add little
        int rejected = -1;
        if (const qint64 seq = settle(std::move(e), priority, verdict, false, &rejected)) {
            m_waiters[seq].append(Waiter{connectionId, u.localSeqNum});
        } else {
            m_rejectWaiters[rejected].append(Waiter{connectionId, u.localSeqNum});
        }
    }
    scheduleFlush();
    return result;
}

void Meet::recover(const QString& epoch, const QList<RecoveredEntry>& entries,
                   std::function<void(bool ok, const RecoveryResult& result)> done)
{
    RecoveryResult result;
    const std::optional<qint64> known = m_epochs.lastSeqOf(epoch, m_durableSeq);
    const qint64 base = known.value_or(0);
    // Original numbers can be restored only while this server has appended nothing after the
    // part of that history it holds; otherwise they would name different entries.
    bool direct = known.has_value() && epoch != m_epochs.current() && assignedSeq() == base;
    qint64 restoredThrough = base;
    QHash<qint64, qint64> originalOf; // new serverSeqNum -> the pushed entry's original one
    for (const RecoveredEntry& pushed : entries) {
        if (pushed.serverSeqNum <= base && known) {
            continue; // this server holds that part of the history
        }
        if (m_broken) {
            result.skipped.append({pushed.serverSeqNum, QStringLiteral("the journal is unusable; push again later")});
            continue;
        }
        qint64 valueBytes = 0;
        if (auto bad = validateContent(pushed.localSeqNum, pushed.key, pushed.value, &valueBytes)) {
            result.skipped.append({pushed.serverSeqNum, bad->reason});
            direct = false;
            continue;
        }
        const std::optional<qint64> priority = m_config.priorityOf(pushed.locationName);
        if (!priority) {
            result.skipped.append(
                {pushed.serverSeqNum,
                 QStringLiteral("location '%1' is not an endpoint of this meet").arg(pushed.locationName)});
            direct = false;
            continue;
        }
        if (!isValidClientId(pushed.clientId, m_limits.maxClientIdLength) && pushed.clientId != ServerClientId) {
            result.skipped.append({pushed.serverSeqNum, QStringLiteral("clientId is not valid")});
            direct = false;
            continue;
        }
        const bool held = m_seqByClient.value(pushed.clientId).contains(pushed.localSeqNum)
            || m_rejectedByClient.value(pushed.clientId).contains(pushed.localSeqNum);
        if (held) {
            ++result.duplicates;
            direct = false;
            if (const qint64 s = m_seqByClient.value(pushed.clientId).value(pushed.localSeqNum, 0)) {
                originalOf.insert(s, pushed.serverSeqNum);
            }
            continue;
        }
        JournalEntry e;
        e.key = pushed.key;
        e.value = pushed.value;
        e.location = pushed.locationName;
        e.clientId = pushed.clientId;
        e.localSeqNum = pushed.localSeqNum;
        e.timeMs = m_clock.nowMs();
        e.approxBytes = valueBytes + e.key.size() + 128;
        if (direct && pushed.serverSeqNum == assignedSeq() + 1) {
            e.afterServerSeqNum = pushed.afterServerSeqNum;
            append(std::move(e));
            restoredThrough = pushed.serverSeqNum;
            ++result.restored;
            continue;
        }
        direct = false;
        // Re-sequenced: it saw the history up to what this server holds of it, and the pushed
        // entries before it that it was based on - not what this server appended since.
        const qint64 after = restoredThrough;
        const qint64 basedOn = pushed.afterServerSeqNum;
        Contender c{e.key, e.value, e.clientId, *priority, after, [&originalOf, basedOn](qint64 s) {
                        const auto it = originalOf.constFind(s);
                        return it != originalOf.constEnd() && *it <= basedOn;
                    }};
        const Verdict verdict = ConflictResolver(m_entries, m_index, m_config).judge(c);
        e.afterServerSeqNum = after;
        const qint64 seq = settle(std::move(e), *priority, verdict, true, nullptr);
        if (verdict.kind != Verdict::Kind::Clean) {
            ++result.conflicts;
        }
        if (seq != 0) {
            originalOf.insert(seq, pushed.serverSeqNum);
            ++result.resequenced;
        }
    }
    const QString pushedEpoch = epoch;
    const bool extended = restoredThrough > base;
    scheduleFlush();
    whenDurable([this, extended, pushedEpoch, restoredThrough, result, done = std::move(done)](bool ok) {
        if (ok && extended) {
            // Clients of that history holding up to restoredThrough now pull normally.
            m_epochs.extend(pushedEpoch, restoredThrough);
            persistEpochs();
        }
        if (done) {
            done(ok, result);
        }
    });
}

void Meet::whenDurable(std::function<void(bool ok)> done)
{
    if (m_durableSeq == assignedSeq() && m_durableConflicts == m_conflicts.size()) {
        done(true);
        return;
    }
    m_durableWaiters.append(DurableWaiter{assignedSeq(), m_conflicts.size(), std::move(done)});
}

void Meet::persistEpochs()
{
    const QByteArray content = QJsonDocument(m_epochs.toJson()).toJson(QJsonDocument::Indented);
    const QString path = epochsPath(m_directory);
    // Best effort: a lost epochs.json only makes clients of older epochs re-push (de-duplicated).
    m_executor->post([content, path] { AtomicFile::write(path, content, nullptr); });
}

Meet::PullPlan Meet::planPull(qint64 lastServerSeq, const QString& epoch, bool compactAllowed) const
{
    PullPlan plan;
    // No epoch: a client that does not track them; its numbers are taken as this history's.
    const std::optional<qint64> held
        = epoch.isEmpty() ? std::optional<qint64>(m_durableSeq) : m_epochs.lastSeqOf(epoch, m_durableSeq);
    const qint64 limit = held.value_or(0);
    if (lastServerSeq > limit) {
        plan.kind = PullPlan::Kind::ServerPull;
        plan.from = limit;
        return plan;
    }
    plan.from = lastServerSeq;
    plan.through = m_durableSeq;
    const qint64 tail = m_durableSeq - lastServerSeq;
    if (!compactAllowed || tail <= m_limits.compactPullMinEntries) {
        return plan;
    }
    QList<qint64> lastSeqs;
    const QStringList roots = m_index.rootsChangedIn(lastServerSeq, m_durableSeq, &lastSeqs);
    qint64 compactBytes = 0;
    QList<PullPlan::Item> items;
    for (qsizetype i = 0; i < roots.size(); ++i) {
        const auto key = KeyPath::parse(roots[i], m_limits.maxKeyLength, m_limits.maxKeyDepth);
        const std::optional<QJsonValue> value = key ? m_state.valueAt(*key) : std::nullopt;
        if (!value) {
            continue; // absent now and before (or removed with an ancestor that is also a root)
        }
        const qint64 bytes = compactJson(*value).size() + roots[i].size() + 64;
        items.append(PullPlan::Item{roots[i], *value, lastSeqs[i], bytes});
        compactBytes += bytes;
    }
    qint64 plainBytes = 0;
    for (qint64 s = lastServerSeq + 1; s <= m_durableSeq; ++s) {
        plainBytes += m_entries[s - 1].approxBytes;
    }
    if (compactBytes >= plainBytes) {
        return plan;
    }
    plan.kind = PullPlan::Kind::Compacted;
    plan.items = std::move(items);
    return plan;
}

void Meet::scheduleFlush()
{
    const bool work = m_flushedSeq < assignedSeq() || m_flushedConflicts < m_conflicts.size();
    if (!work || m_flushInFlight) {
        return;
    }
    if (m_inlineIo) {
        startFlush();
    } else if (!m_flushTimer.isActive()) {
        // Zero-delay timer: everything else already queued in this event-loop turn joins the batch.
        m_flushTimer.start();
    }
}

void Meet::startFlush()
{
    if (m_flushInFlight || (m_flushedSeq == assignedSeq() && m_flushedConflicts == m_conflicts.size())) {
        return;
    }
    m_flushInFlight = true;
    const QList<JournalEntry> batch = m_entries.mid(m_flushedSeq);
    QList<ConflictRecord> records = m_conflicts.mid(m_flushedConflicts);
    m_flushedSeq = assignedSeq();
    m_flushedConflicts = m_conflicts.size();
    const qint64 lastSeq = m_flushedSeq;
    const int lastConflict = static_cast<int>(m_flushedConflicts);
    auto journal = m_journal;
    auto conflictLog = m_conflictLog;
    auto deviceBroken = m_deviceBroken;
    struct Outcome
    {
        bool ok = false;
        QString error;
        qint64 size = 0;
        qint64 conflictBytes = 0;
    };
    auto outcome = std::make_shared<Outcome>();
    m_executor->post(
        [journal, conflictLog, deviceBroken, batch, records = std::move(records), outcome] {
            // Serialised here, off the event loop, so a large batch never delays other meets.
            if (deviceBroken->load()) {
                outcome->error = QStringLiteral("journal is unusable after an earlier failure");
                return;
            }
            // Conflict records first: a record whose entry never became durable is dropped at
            // load, but an entry that overruled others is never without its record.
            if (!records.isEmpty() && conflictLog) {
                QByteArray lines;
                for (const ConflictRecord& r : records) {
                    lines += r.toLine();
                }
                if (!conflictLog->append(lines) || !conflictLog->sync()) {
                    outcome->error = conflictLog->errorString();
                    return;
                }
            }
            if (!batch.isEmpty()) {
                QByteArray bytes;
                for (const JournalEntry& e : batch) {
                    bytes += e.toLine();
                }
                if (!journal->append(bytes) || !journal->sync()) {
                    outcome->error = journal->errorString();
                    outcome->size = journal->size();
                    return;
                }
            }
            outcome->ok = true;
            outcome->size = journal->size();
            outcome->conflictBytes = conflictLog ? conflictLog->size() : 0;
        },
        [this, outcome, lastSeq, lastConflict] {
            onFlushDone(outcome->ok, outcome->error, lastSeq, lastConflict, outcome->size, outcome->conflictBytes);
        });
}

void Meet::onFlushDone(bool ok, const QString& error, qint64 lastSeq, int lastConflict, qint64 deviceSize,
                       qint64 conflictBytes)
{
    m_flushInFlight = false;
    if (!ok) {
        rollBackUnflushed(error);
        return;
    }
    const qint64 firstSeq = m_durableSeq + 1;
    const qsizetype firstConflict = m_durableConflicts;
    m_durableSeq = lastSeq;
    m_durableBytes = deviceSize;
    m_durableConflicts = lastConflict;
    m_durableConflictBytes = conflictBytes;
    const QList<JournalEntry> durable = m_entries.mid(firstSeq - 1, lastSeq - firstSeq + 1);
    for (const JournalEntry& e : durable) {
        if (const auto key = KeyPath::parse(e.key, m_limits.maxKeyLength, m_limits.maxKeyDepth)) {
            m_state.apply(*key, e.value);
        }
    }
    QHash<quint64, QList<Ack>> acks;
    for (auto it = m_waiters.begin(); it != m_waiters.end() && it.key() <= lastSeq;) {
        for (const Waiter& w : *it) {
            acks[w.connectionId].append(Ack{w.localSeqNum, it.key()});
        }
        it = m_waiters.erase(it);
    }
    // Rejections carry the value that stands now, after this flush's entries.
    QHash<quint64, QList<Rejection>> rejections;
    for (auto it = m_rejectWaiters.begin(); it != m_rejectWaiters.end() && it.key() < lastConflict;) {
        for (const Waiter& w : *it) {
            rejections[w.connectionId].append(rejectionFor(it.key(), w.localSeqNum));
        }
        it = m_rejectWaiters.erase(it);
    }
    Q_EMIT committed(durable, acks, rejections);
    for (qsizetype i = firstConflict; i < lastConflict; ++i) {
        Q_EMIT conflictRecorded(m_conflicts[i]);
    }
    QList<DurableWaiter> ready;
    for (auto it = m_durableWaiters.begin(); it != m_durableWaiters.end();) {
        if (it->seq <= m_durableSeq && it->conflicts <= m_durableConflicts) {
            ready.append(std::move(*it));
            it = m_durableWaiters.erase(it);
        } else {
            ++it;
        }
    }
    for (DurableWaiter& w : ready) {
        w.done(true);
    }
    scheduleFlush();
}

void Meet::rollBackUnflushed(const QString& error)
{
    // Nothing after m_durableSeq was acked or relayed, so it can be forgotten: the clients still
    // hold those updates as pending and resend them. The files are cut back to their durable
    // length so a partly written batch cannot reappear on restart with numbers we hand out again.
    QHash<quint64, QList<qint64>> unacked;
    for (auto it = m_waiters.cbegin(); it != m_waiters.cend(); ++it) {
        for (const Waiter& w : *it) {
            unacked[w.connectionId].append(w.localSeqNum);
        }
    }
    for (auto it = m_rejectWaiters.cbegin(); it != m_rejectWaiters.cend(); ++it) {
        for (const Waiter& w : *it) {
            unacked[w.connectionId].append(w.localSeqNum);
        }
    }
    m_waiters.clear();
    m_rejectWaiters.clear();
    m_flushTimer.stop();
    while (assignedSeq() > m_durableSeq) {
        const JournalEntry e = m_entries.takeLast();
        m_index.removeLast(e.key, e.serverSeqNum);
        auto it = m_seqByClient.find(e.clientId);
        if (it != m_seqByClient.end()) {
            it->remove(e.localSeqNum);
            if (it->isEmpty()) {
                m_seqByClient.erase(it);
            }
        }
    }
    while (m_conflicts.size() > m_durableConflicts) {
        const ConflictRecord r = m_conflicts.takeLast();
        if (r.outcome == ConflictRecord::Outcome::Rejected) {
            auto it = m_rejectedByClient.find(r.clientId);
            if (it != m_rejectedByClient.end()) {
                it->remove(r.localSeqNum);
                if (it->isEmpty()) {
                    m_rejectedByClient.erase(it);
                }
            }
        }
    }
    m_flushedSeq = m_durableSeq;
    m_flushedConflicts = m_durableConflicts;
    QList<DurableWaiter> failed = std::move(m_durableWaiters);
    m_durableWaiters.clear();
    auto journal = m_journal;
    auto conflictLog = m_conflictLog;
    auto deviceBroken = m_deviceBroken;
    const qint64 durableBytes = m_durableBytes;
    const qint64 durableConflictBytes = m_durableConflictBytes;
    auto truncated = std::make_shared<bool>(false);
    auto why = std::make_shared<QString>();
    m_executor->post(
        [journal, conflictLog, deviceBroken, durableBytes, durableConflictBytes, truncated, why] {
            *truncated = journal->truncate(durableBytes);
            if (*truncated && conflictLog && conflictLog->size() != durableConflictBytes) {
                *truncated = conflictLog->truncate(durableConflictBytes);
                if (!*truncated) {
                    *why = conflictLog->errorString();
                }
            } else if (!*truncated) {
                *why = journal->errorString();
            }
            if (!*truncated) {
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
    for (DurableWaiter& w : failed) {
        w.done(false);
    }
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
    writeFile(sessionsPath(m_directory), QJsonDocument(m_sessions.toJson()).toJson(QJsonDocument::Indented),
              std::move(done));
    return dropped;
}

void Meet::persistDisplayLinks(std::function<void(bool ok, const QString& error)> done)
{
    writeFile(displayLinksPath(m_directory), QJsonDocument(m_displayLinks.toJson()).toJson(QJsonDocument::Indented),
              std::move(done));
}

void Meet::writeFile(const QString& path, const QByteArray& content, std::function<void(bool, const QString&)> done)
{
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
}

} // namespace oll
