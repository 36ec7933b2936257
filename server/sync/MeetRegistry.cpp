// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/MeetRegistry.h"

#include "storage/AtomicFile.h"
#include "storage/DiagLog.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <sys/stat.h>

namespace oll {
namespace {

QString errnoText(const QString& what, const QString& path)
{
    return QStringLiteral("%1 %2: %3").arg(what, path, QString::fromLocal8Bit(std::strerror(errno)));
}

/// What the file half of a creation found, handed back to the registry's thread.
struct CreateOutcome
{
    QString error; // empty on success; else the reason handed to `done`
    QString leftover; // a path of the attempt that could not be removed (diag only)
};

QString removeTree(const QString& path)
{
    return QDir(path).removeRecursively() ? QString() : path;
}

/// Takes back a meet directory that was renamed into place but never handed to anyone. It goes
/// back to its staging name first, so a crash part-way leaves a leftover that load() removes,
/// not a damaged meet.
QString withdrawMeetDirectory(const QString& parent, const QString& dir, const QString& staging)
{
    if (::rename(QFile::encodeName(dir).constData(), QFile::encodeName(staging).constData()) != 0) {
        return removeTree(dir);
    }
    AtomicFile::syncDirectory(parent);
    return removeTree(staging);
}

/// Builds the meet's files in `staging`, then renames it to `dir`: only a complete meet ever
/// appears under its ID, whatever point a crash or a failed write stops at.
CreateOutcome buildMeetDirectory(const QString& parent, const QString& staging, const QString& dir,
                                 const QByteArray& auth, const QByteArray& epochs)
{
    CreateOutcome out;
    const QByteArray stagingName = QFile::encodeName(staging);
    if (::mkdir(stagingName.constData(), 0700) != 0) {
        // Nothing was made; a directory that already has this name is not ours to remove.
        out.error = errnoText(QStringLiteral("cannot create"), staging);
        return out;
    }
    // The rename must not publish entries that are not yet durable.
    if (!AtomicFile::write(Meet::authPath(staging), auth, &out.error)
        || !AtomicFile::write(Meet::journalPath(staging), QByteArray(), &out.error)
        || !AtomicFile::write(Meet::conflictsPath(staging), QByteArray(), &out.error)
        || !AtomicFile::write(Meet::epochsPath(staging), epochs, &out.error)
        || !AtomicFile::syncDirectory(staging, &out.error)) {
        out.leftover = removeTree(staging);
        return out;
    }
    if (::rename(stagingName.constData(), QFile::encodeName(dir).constData()) != 0) {
        out.error = errnoText(QStringLiteral("cannot rename to"), dir);
        out.leftover = removeTree(staging);
        return out;
    }
    if (!AtomicFile::syncDirectory(parent, &out.error)) {
        // The meet's name might not survive a crash: refuse rather than tell a client about it.
        out.leftover = withdrawMeetDirectory(parent, dir, staging);
    }
    return out;
}

} // namespace

MeetRegistry::MeetRegistry(QString dataDir, const Clock& clock, RandomSource& random,
                           JournalDeviceFactory journalFactory, const Limits& limits, DiagLog& diag, QObject* parent)
    : QObject(parent)
    , m_dataDir(std::move(dataDir))
    , m_clock(clock)
    , m_random(random)
    , m_journalFactory(std::move(journalFactory))
    , m_limits(limits)
    , m_diag(diag)
{
    // File work is mostly waiting on the disk, so a few more threads than cores is right.
    m_ioPool.setMaxThreadCount(4);
    m_createExecutor = new SerialExecutor(&m_ioPool, this);
}

MeetRegistry::~MeetRegistry()
{
    // Meets and the executor wait for their running jobs; then the pool has nothing left.
    m_meets.clear();
    delete m_createExecutor;
    m_ioPool.waitForDone();
}

bool MeetRegistry::load(QString* error)
{
    for (const QString& dir : {currentDir(), finishedDir()}) {
        if (!QDir().mkpath(dir)) {
            if (error) {
                *error = QStringLiteral("cannot create %1").arg(dir);
            }
            return false;
        }
    }
    const QStringList finished = QDir(finishedDir()).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    for (const QString& id : finished) {
        if (normalizeMeetId(id) == id) {
            m_finished.insert(id);
        }
    }
    removeInterruptedCreations();
    // No QDir::Hidden: staging directories (".creating-*") are never listed as meets.
    const QStringList current = QDir(currentDir()).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    for (const QString& id : current) {
        if (normalizeMeetId(id) != id) {
            m_diag.write(QStringLiteral("load"),
                         QStringLiteral("ignoring directory '%1' in current-meets: not a meet ID").arg(id));
            continue;
        }
        loadMeet(id);
    }
    m_diag.write(QStringLiteral("load"),
                 QStringLiteral("%1 current meet(s) loaded, %2 damaged, %3 finished")
                     .arg(m_meets.size())
                     .arg(m_damaged.size())
                     .arg(m_finished.size()));
    return true;
}

void MeetRegistry::removeInterruptedCreations()
{
    // A staging directory never held a session or an update, so nothing is lost. Symlinks are
    // skipped so that removal never reaches outside current-meets.
    const QStringList staging = QDir(currentDir())
                                    .entryList({QStringLiteral(".creating-*")},
                                               QDir::Dirs | QDir::Hidden | QDir::NoDotAndDotDot | QDir::NoSymLinks);
    for (const QString& name : staging) {
        const QString text = QDir(currentDir() + u'/' + name).removeRecursively()
            ? QStringLiteral("cleaned up an interrupted meet creation: removed '%1' in current-meets")
            : QStringLiteral("cannot remove '%1' in current-meets, left by an interrupted meet creation");
        m_diag.write(QStringLiteral("load"), text.arg(name));
    }
}

void MeetRegistry::loadMeet(const QString& meetId)
{
    const QString dir = currentDir() + u'/' + meetId;
    auto damaged = [&](const QString& why) {
        m_damaged.insert(meetId, why);
        m_diag.write(QStringLiteral("load"), QStringLiteral("meet %1 not loaded: %2").arg(meetId, why));
    };

    QByteArray authBytes;
    QString err;
    if (!AtomicFile::read(Meet::authPath(dir), &authBytes, &err)) {
        damaged(err);
        return;
    }
    const auto config = MeetConfig::fromJson(QJsonDocument::fromJson(authBytes).object(), &err);
    if (!config || config->meetId != meetId) {
        damaged(QStringLiteral("auth.json is invalid: %1").arg(config ? QStringLiteral("meetId mismatch") : err));
        return;
    }

    const QString journalPath = Meet::journalPath(dir);
    JournalLoad replay;
    if (!QFileInfo::exists(journalPath)) {
        // Every meet is created with a journal: a missing one was lost, not empty. Start from
        // nothing under a new epoch; clients that hold the log give it back (SERVER_PULL).
        m_diag.write(
            QStringLiteral("load"),
            QStringLiteral("meet %1: updates.json.log is missing; its log will be recovered from clients").arg(meetId));
    } else {
        replay = JournalReader::readFile(journalPath, &err);
        if (!err.isEmpty() && replay.fileBytes == 0 && replay.entries.isEmpty()) {
            damaged(err);
            return;
        }
    }
    if (!replay.ok()) {
        // Never drop sequenced updates silently: the damaged file is kept as it was, the meet
        // continues from the valid prefix under a new epoch, and clients give back the rest.
        const QString aside = journalPath + QStringLiteral(".damaged-%1").arg(m_clock.nowMs());
        if (!QFile::copy(journalPath, aside)) {
            damaged(QStringLiteral("journal damaged at line %1 (%2) and cannot be copied aside")
                        .arg(replay.damagedLine)
                        .arg(replay.damage));
            return;
        }
        m_diag.write(QStringLiteral("load"),
                     QStringLiteral("meet %1: journal damaged at line %2 (%3); kept as %4, continuing from seq %5 and "
                                    "recovering the rest from clients")
                         .arg(meetId)
                         .arg(replay.damagedLine)
                         .arg(replay.damage, QFileInfo(aside).fileName())
                         .arg(replay.entries.size()));
    }
    auto device = m_journalFactory(journalPath, &err);
    if (!device) {
        damaged(err);
        return;
    }
    // Lines a crashed process wrote but never fdatasync'ed can still be in the page cache: flush
    // them before they are treated as durable (acked to resends, relayed, pulled).
    if (!device->sync()) {
        damaged(QStringLiteral("cannot flush journal: %1").arg(device->errorString()));
        return;
    }
    if (device->size() > replay.validBytes) {
        // A torn tail is an unfinished write from a crash: never flushed, so never acknowledged.
        if (!device->truncate(replay.validBytes)) {
            damaged(QStringLiteral("cannot cut the journal back to its valid part: %1").arg(device->errorString()));
            return;
        }
        if (replay.ok()) {
            m_diag.write(QStringLiteral("load"),
                         QStringLiteral("meet %1: cut off a torn last journal line (%2 bytes) after seq %3")
                             .arg(meetId)
                             .arg(replay.tornTailBytes)
                             .arg(replay.entries.size()));
        }
    }
    const qint64 head = replay.entries.size();

    // Conflict records: informative, so damage is reported and skipped, never fatal.
    Meet::History history;
    history.entries = std::move(replay.entries);
    const QString conflictsPath = Meet::conflictsPath(dir);
    QByteArray conflictBytes;
    if (QFileInfo::exists(conflictsPath) && AtomicFile::read(conflictsPath, &conflictBytes, &err)) {
        ConflictLoad conflicts = readConflictLog(conflictBytes);
        if (conflicts.badLines > 0) {
            m_diag.write(QStringLiteral("load"),
                         QStringLiteral("meet %1: %2 unreadable line(s) in conflicts.json.log skipped")
                             .arg(meetId)
                             .arg(conflicts.badLines));
        }
        for (const ConflictRecord& r : conflicts.records) {
            // An overruling entry that never became durable was never relayed: it is resent and judged again.
            if (r.outcome == ConflictRecord::Outcome::Overruled && r.serverSeqNum > head) {
                continue;
            }
            history.conflicts.append(r);
        }
    }
    auto conflictDevice = m_journalFactory(conflictsPath, &err);
    if (!conflictDevice) {
        damaged(err);
        return;
    }
    {
        // Rewrite the kept records so a torn or stale tail never sits between old and new lines.
        QByteArray kept;
        for (const ConflictRecord& r : history.conflicts) {
            kept += r.toLine();
        }
        if (kept != conflictBytes
            && (!conflictDevice->truncate(0) || !conflictDevice->append(kept) || !conflictDevice->sync())) {
            damaged(QStringLiteral("cannot rewrite conflicts.json.log: %1").arg(conflictDevice->errorString()));
            return;
        }
    }

    // A new epoch for this run: entries a client holds beyond `head` under an older epoch were
    // lost by this server and can be given back.
    QByteArray epochBytes;
    if (AtomicFile::read(Meet::epochsPath(dir), &epochBytes, &err)) {
        if (auto h = EpochHistory::fromJson(QJsonDocument::fromJson(epochBytes).object(), &err)) {
            history.epochs = *h;
        } else {
            m_diag.write(QStringLiteral("load"),
                         QStringLiteral("meet %1: epochs.json unreadable (%2); older clients will re-send their logs")
                             .arg(meetId, err));
        }
    }
    history.epochs.clampTo(head);
    history.epochs.begin(EpochHistory::mint(m_random), head);
    if (!AtomicFile::write(Meet::epochsPath(dir), QJsonDocument(history.epochs.toJson()).toJson(), &err)) {
        m_diag.write(QStringLiteral("load"), QStringLiteral("meet %1: cannot write epochs.json: %2").arg(meetId, err));
    }

    auto meet = std::make_unique<Meet>(*config, dir, std::move(device), std::move(conflictDevice), std::move(history),
                                       m_inlineIo ? nullptr : &m_ioPool, m_clock, m_random, m_limits);
    QByteArray sessionBytes;
    if (AtomicFile::read(Meet::sessionsPath(dir), &sessionBytes, &err)) {
        if (!meet->sessions().loadJson(QJsonDocument::fromJson(sessionBytes).object())) {
            // Sessions are replaceable: clients simply join again.
            m_diag.write(QStringLiteral("load"),
                         QStringLiteral("meet %1: sessions.json unreadable; sessions reset").arg(meetId));
        }
    }
    QByteArray linkBytes;
    const QString linksPath = Meet::displayLinksPath(dir);
    // No file: the meet never had a display link.
    if (QFileInfo::exists(linksPath)
        && (!AtomicFile::read(linksPath, &linkBytes, &err)
            || !meet->displayLinks().loadJson(QJsonDocument::fromJson(linkBytes).object()))) {
        // Fail closed: a link that cannot be read is treated as revoked; the director mints new ones.
        m_diag.write(QStringLiteral("load"),
                     QStringLiteral("meet %1: display-links.json unreadable; every display link of the meet must be "
                                    "minted again")
                         .arg(meetId));
    }
    QSet<QString> linkIds;
    for (const DisplayLink& l : meet->displayLinks().links()) {
        linkIds.insert(l.linkId);
    }
    // A revocation writes display-links.json before sessions.json: a crash in between leaves
    // sessions of a link that no longer exists, which must not outlive it.
    const int orphans = static_cast<int>(meet->sessions().revokeOrphaned(linkIds).size());
    if (orphans > 0) {
        m_diag.write(
            QStringLiteral("load"),
            QStringLiteral("meet %1: dropped %2 session(s) of revoked display links").arg(meetId).arg(orphans));
    }
    meet->sessions().pruneExpired();
    m_diag.write(QStringLiteral("load"),
                 QStringLiteral("meet %1: replayed %2 update(s)").arg(meetId).arg(meet->assignedSeq()));
    adopt(std::move(meet));
}

Meet* MeetRegistry::adopt(std::unique_ptr<Meet> meet)
{
    Meet* raw = meet.get();
    for (const QByteArray& h : raw->sessions().tokenHashes()) {
        m_tokenIndex.insert(h, raw->meetId());
    }
    for (const DisplayLink& l : raw->displayLinks().links()) {
        m_displayTokenIndex.insert(l.tokenHash, raw->meetId());
    }
    m_meets[raw->meetId()] = std::move(meet);
    Q_EMIT meetAdded(raw);
    return raw;
}

Meet* MeetRegistry::find(const QString& meetId) const
{
    const auto it = m_meets.find(meetId);
    return it == m_meets.end() ? nullptr : it->second.get();
}

QList<Meet*> MeetRegistry::meets() const
{
    QList<Meet*> out;
    for (const auto& [id, meet] : m_meets) {
        out.append(meet.get());
    }
    return out;
}

QString MeetRegistry::reserveMeetId()
{
    for (;;) {
        const QString id = m_random.digits(9);
        // Creations in flight are in m_reserved; the staging check is for a leftover load() could
        // not remove.
        if (m_meets.count(id) == 0 && !m_finished.contains(id) && !m_damaged.contains(id) && !m_reserved.contains(id)
            && !QFileInfo::exists(currentDir() + u'/' + id) && !QFileInfo::exists(finishedDir() + u'/' + id)
            && !QFileInfo::exists(stagingDir(id))) {
            m_reserved.insert(id);
            return id;
        }
    }
}

bool MeetRegistry::isReservedOrPresent(const QString& meetId) const
{
    return m_meets.count(meetId) > 0 || m_finished.contains(meetId) || m_damaged.contains(meetId)
        || m_reserved.contains(meetId) || QFileInfo::exists(currentDir() + u'/' + meetId)
        || QFileInfo::exists(finishedDir() + u'/' + meetId) || QFileInfo::exists(stagingDir(meetId));
}

bool MeetRegistry::reserveMeetId(const QString& meetId)
{
    if (isReservedOrPresent(meetId)) {
        return false;
    }
    m_reserved.insert(meetId);
    return true;
}

void MeetRegistry::setInlineIo()
{
    m_inlineIo = true;
    delete m_createExecutor;
    m_createExecutor = new SerialExecutor(nullptr, this);
}

void MeetRegistry::createMeet(MeetConfig config, std::function<void(Meet*, const QString& error)> done,
                              const QString& restoredEpoch)
{
    EpochHistory epochs;
    epochs.begin(EpochHistory::mint(m_random), 0);
    if (!restoredEpoch.isEmpty()) {
        // The restoring client's history, of which this server holds nothing yet.
        epochs.addPast(restoredEpoch, 0);
    }
    const QByteArray epochBytes = QJsonDocument(epochs.toJson()).toJson();
    const QString parent = currentDir();
    const QString dir = parent + u'/' + config.meetId;
    const QString staging = stagingDir(config.meetId);
    const QByteArray auth = QJsonDocument(config.toJson()).toJson(QJsonDocument::Indented);
    auto outcome = std::make_shared<CreateOutcome>();
    // The ID stays reserved until every file of a failed attempt is gone.
    auto fail = [this, meetId = config.meetId, outcome, done](const QString& err) {
        m_reserved.remove(meetId);
        if (!outcome->leftover.isEmpty()) {
            m_diag.write(QStringLiteral("create"),
                         QStringLiteral("meet %1: cannot remove %2").arg(meetId, outcome->leftover));
        }
        m_diag.write(QStringLiteral("create"), QStringLiteral("meet %1 not created: %2").arg(meetId, err));
        done(nullptr, err);
    };
    m_createExecutor->post(
        [parent, staging, dir, auth, epochBytes, outcome] {
            *outcome = buildMeetDirectory(parent, staging, dir, auth, epochBytes);
        },
        [this, config = std::move(config), parent, staging, dir, outcome, fail, done, epochs] {
            if (!outcome->error.isEmpty()) {
                fail(outcome->error);
                return;
            }
            QString err;
            std::unique_ptr<JournalDevice> device = m_journalFactory(Meet::journalPath(dir), &err);
            std::unique_ptr<JournalDevice> conflictDevice
                = device ? m_journalFactory(Meet::conflictsPath(dir), &err) : nullptr;
            if (!device || !conflictDevice) {
                if (err.isEmpty()) {
                    err = QStringLiteral("cannot open the journal of meet %1").arg(config.meetId);
                }
                // Renamed into place but never handed to anyone: take it back (on the I/O pool)
                // rather than leave a meet that no one knows the ID of.
                m_createExecutor->post([parent, staging, dir,
                                        outcome] { outcome->leftover = withdrawMeetDirectory(parent, dir, staging); },
                                       [fail, err] { fail(err); });
                return;
            }
            m_reserved.remove(config.meetId);
            Meet::History history;
            history.epochs = epochs;
            Meet* meet = adopt(std::make_unique<Meet>(config, dir, std::move(device), std::move(conflictDevice),
                                                      std::move(history), m_inlineIo ? nullptr : &m_ioPool, m_clock,
                                                      m_random, m_limits));
            done(meet, QString());
        });
}

Meet* MeetRegistry::meetForToken(const QByteArray& tokenHash) const
{
    const auto it = m_tokenIndex.constFind(tokenHash);
    return it == m_tokenIndex.constEnd() ? nullptr : find(*it);
}

Meet* MeetRegistry::meetForDisplayToken(const QByteArray& tokenHash) const
{
    const auto it = m_displayTokenIndex.constFind(tokenHash);
    return it == m_displayTokenIndex.constEnd() ? nullptr : find(*it);
}

bool MeetRegistry::isIdle() const
{
    if (!m_createExecutor->isIdle()) {
        return false;
    }
    for (const auto& [id, meet] : m_meets) {
        if (!meet->isIdle()) {
            return false;
        }
    }
    return true;
}

} // namespace oll
