// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/SyncService.h"

#include <QDateTime>
#include <QJsonArray>
#include <QSet>

#include <algorithm>

namespace oll {
namespace {

QJsonObject partyJson(const ConflictParty& p)
{
    return QJsonObject{{QStringLiteral("serverSeqNum"), p.serverSeqNum},
                       {QStringLiteral("locationName"), p.locationName},
                       {QStringLiteral("clientId"), p.clientId},
                       {QStringLiteral("priority"), p.priority}};
}

} // namespace

QByteArray SyncService::loggedIn(const QString& type, const Meet& meet, const QString& token, const Session& session)
{
    return Reply::encode({{QStringLiteral("msgType"), type},
                          {QStringLiteral("meetId"), meet.meetId()},
                          {QStringLiteral("meetIdDisplay"), displayMeetId(meet.meetId())},
                          {QStringLiteral("sessionToken"), token},
                          {QStringLiteral("expiresAt"),
                           QDateTime::fromMSecsSinceEpoch(session.expiresMs, Qt::UTC).toString(Qt::ISODateWithMs)},
                          {QStringLiteral("locationName"), session.locationName},
                          {QStringLiteral("priority"), meet.config().priorityOf(session.locationName).value_or(0)},
                          {QStringLiteral("role"), roleName(session.role)},
                          {QStringLiteral("endpoints"), meet.config().endpointsJson()},
                          {QStringLiteral("headServerSeq"), meet.durableSeq()},
                          {QStringLiteral("epoch"), meet.epoch()}});
}

QJsonObject SyncService::relayJson(const JournalEntry& e)
{
    return QJsonObject{{QStringLiteral("serverSeqNum"), e.serverSeqNum},
                       {QStringLiteral("updateKey"), e.key},
                       {QStringLiteral("updateValue"), e.value},
                       {QStringLiteral("locationName"), e.location},
                       {QStringLiteral("clientId"), e.clientId},
                       {QStringLiteral("localSeqNum"), e.localSeqNum},
                       {QStringLiteral("afterServerSeqNum"), e.afterServerSeqNum}};
}

QByteArray SyncService::ackMessage(const QList<Meet::Ack>& acks, qint64 head, const QString& epoch)
{
    QJsonArray arr;
    for (const Meet::Ack& a : acks) {
        arr.append(QJsonObject{{QStringLiteral("localSeqNum"), a.localSeqNum},
                               {QStringLiteral("serverSeqNum"), a.serverSeqNum}});
    }
    return Reply::encode({{QStringLiteral("msgType"), MsgType::UpdateAck},
                          {QStringLiteral("updateAcks"), arr},
                          {QStringLiteral("headServerSeq"), head},
                          {QStringLiteral("epoch"), epoch}});
}

QByteArray SyncService::rejectedMessage(const QList<Meet::Rejection>& rejections, qint64 head, const QString& epoch)
{
    QJsonArray arr;
    for (const Meet::Rejection& r : rejections) {
        QJsonObject item{{QStringLiteral("localSeqNum"), r.localSeqNum},
                         {QStringLiteral("conflict"), r.conflict},
                         {QStringLiteral("code"), r.code},
                         {QStringLiteral("reason"), r.reason}};
        if (r.conflict) {
            item.insert(QStringLiteral("headServerSeq"), head); // the head the current value is from
            item.insert(QStringLiteral("winner"), partyJson(r.winner));
            item.insert(QStringLiteral("updateKey"), r.key);
            if (r.currentValue) {
                item.insert(QStringLiteral("currentValue"), *r.currentValue);
            }
        }
        arr.append(item);
    }
    return Reply::encode({{QStringLiteral("msgType"), MsgType::UpdateRejected},
                          {QStringLiteral("updatesRejected"), arr},
                          {QStringLiteral("headServerSeq"), head},
                          {QStringLiteral("epoch"), epoch}});
}

void SyncService::sendAcks(SyncPeer* peer, const QList<Meet::Ack>& acks, qint64 head, const QString& epoch) const
{
    const int n = m_limits.ackChunkEntries;
    for (qsizetype i = 0; i < acks.size(); i += n) {
        peer->send(ackMessage(acks.mid(i, n), head, epoch));
    }
    qint64 highest = 0;
    for (const Meet::Ack& a : acks) {
        highest = std::max(highest, a.serverSeqNum);
    }
    peer->noteAcked(highest);
}

void SyncService::submit(SyncPeer* peer, Meet* meet, const Session& session, const QList<UpdateRequest>& updates)
{
    const Meet::SubmitResult result = meet->submit(peer->peerId(), session, updates);
    if (!result.immediateAcks.isEmpty()) {
        sendAcks(peer, result.immediateAcks, meet->durableSeq(), meet->epoch());
    }
    if (!result.notStored.isEmpty()) {
        peer->send(Reply::storageError(QStringLiteral("the server cannot write this meet's journal; these updates "
                                                      "were not applied - keep them and send them again later"),
                                       result.notStored));
    }
    if (!result.rejections.isEmpty()) {
        peer->send(rejectedMessage(result.rejections, meet->durableSeq(), meet->epoch()));
    }
}

void SyncService::pull(SyncPeer* peer, Meet* meet, const ClientPullRequest& request)
{
    const Meet::PullPlan plan = meet->planPull(request.lastServerSeq, request.epoch, request.compact);
    if (plan.kind == Meet::PullPlan::Kind::ServerPull) {
        // The client holds entries this server lost (or a history it does not know): ask for them.
        peer->pull.reset();
        peer->send(Reply::encode({{QStringLiteral("msgType"), MsgType::ServerPull},
                                  {QStringLiteral("lastServerSeq"), plan.from},
                                  {QStringLiteral("headServerSeq"), meet->durableSeq()},
                                  {QStringLiteral("epoch"), meet->epoch()}}));
        return;
    }
    // A new pull replaces an unfinished one; chunks already sent may overlap (entries carry seqs).
    SyncPeer::PullAnswer answer;
    answer.meet = meet;
    answer.cursor = plan.from;
    if (plan.kind == Meet::PullPlan::Kind::Compacted) {
        QList<RelayItem> items;
        items.reserve(plan.items.size());
        for (const Meet::PullPlan::Item& item : plan.items) {
            items.append(RelayItem{QJsonObject{{QStringLiteral("updateKey"), item.key},
                                               {QStringLiteral("updateValue"), item.value},
                                               {QStringLiteral("serverSeqNum"), item.lastSeq}},
                                   item.approxBytes});
        }
        const QJsonObject extra{{QStringLiteral("pull"), true},
                                {QStringLiteral("final"), false},
                                {QStringLiteral("compacted"), true},
                                {QStringLiteral("fromServerSeq"), plan.from},
                                {QStringLiteral("throughServerSeq"), plan.through}};
        answer.queued = encodeRelays(items, plan.through, meet->epoch(), extra, QStringLiteral("compactedLast"));
        answer.cursor = plan.through;
    }
    peer->pull = std::move(answer);
    continuePull(peer);
}

void SyncService::continuePull(SyncPeer* peer)
{
    while (peer->pull && !peer->isClosing() && peer->backlog() < m_limits.relayChunkBytes) {
        Meet* meet = peer->pull->meet;
        if (!meet) {
            peer->pull.reset();
            return;
        }
        if (!peer->pull->queued.isEmpty()) {
            peer->send(peer->pull->queued.takeFirst());
            if (peer->pull->queued.isEmpty()) {
                peer->notePulled(peer->pull->cursor); // the compacted state is through the cursor
            }
            continue;
        }
        // The cursor runs up to the durable head as it is now: updates committed while a long
        // answer is sent join it instead of being relayed out of order (fanOut skips this peer
        // until the final chunk).
        const qint64 head = meet->durableSeq();
        QList<RelayItem> chunk;
        qint64 bytes = 0;
        qint64 next = peer->pull->cursor;
        for (const JournalEntry& e : meet->durableEntriesAfter(next, m_limits.relayChunkEntries)) {
            chunk.append(RelayItem{relayJson(e), e.approxBytes});
            bytes += e.approxBytes;
            ++next;
            if (bytes >= m_limits.relayChunkBytes) {
                break;
            }
        }
        const bool final = next >= head;
        // Only the answer's very last chunk says final: true.
        const QJsonObject extra = final ? QJsonObject{{QStringLiteral("pull"), true}}
                                        : QJsonObject{{QStringLiteral("pull"), true}, {QStringLiteral("final"), false}};
        const QList<QByteArray> messages
            = encodeRelays(chunk, head, meet->epoch(), extra, final ? QStringLiteral("final") : QString());
        for (const QByteArray& m : messages) {
            peer->send(m);
        }
        if (!chunk.isEmpty()) {
            peer->notePulled(next);
        }
        if (final) {
            peer->pull.reset();
        } else {
            peer->pull->cursor = next;
        }
    }
}

void SyncService::recoveryPush(SyncPeer* peer, Meet* meet, const Session& session, const RecoveryPushRequest& request,
                               std::function<SyncPeer*()> alive)
{
    if (session.role == Role::Display) {
        peer->send(Reply::encode({{QStringLiteral("msgType"), MsgType::RecoveryRejected},
                                  {QStringLiteral("reason"),
                                   QStringLiteral("a display-only session cannot give back "
                                                  "updates; an updating client will")}}));
        return;
    }
    meet->recover(
        request.epoch, request.entries, [meet, alive = std::move(alive)](bool ok, const Meet::RecoveryResult& result) {
            SyncPeer* p = alive();
            if (!p) {
                return;
            }
            if (!ok) {
                p->send(Reply::encode({{QStringLiteral("msgType"), MsgType::RecoveryRejected},
                                       {QStringLiteral("reason"),
                                        QStringLiteral("the server could not store the "
                                                       "recovered entries; push them again "
                                                       "later")}}));
                return;
            }
            QJsonArray skipped;
            for (const auto& [seq, why] : result.skipped) {
                skipped.append(QJsonObject{{QStringLiteral("serverSeqNum"), seq}, {QStringLiteral("reason"), why}});
            }
            p->send(Reply::encode({{QStringLiteral("msgType"), MsgType::RecoveryAck},
                                   {QStringLiteral("restored"), result.restored},
                                   {QStringLiteral("resequenced"), result.resequenced},
                                   {QStringLiteral("duplicates"), result.duplicates},
                                   {QStringLiteral("conflicts"), result.conflicts},
                                   {QStringLiteral("skipped"), skipped},
                                   {QStringLiteral("headServerSeq"), meet->durableSeq()},
                                   {QStringLiteral("epoch"), meet->epoch()}}));
        });
}

void SyncService::fanOut(Meet* meet, const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                         const QHash<quint64, QList<Meet::Rejection>>& rejections, const QList<SyncPeer*>& bound,
                         const std::function<SyncPeer*(quint64)>& byId) const
{
    const qint64 head = meet->durableSeq();
    const QString epoch = meet->epoch();
    QList<RelayItem> relayed;
    relayed.reserve(entries.size());
    for (const JournalEntry& e : entries) {
        relayed.append(RelayItem{relayJson(e), e.approxBytes});
    }
    std::optional<QList<QByteArray>> shared; // the whole batch, encoded once for everyone who gets it all
    if (!entries.isEmpty()) {
        for (SyncPeer* peer : bound) {
            if (peer->pull) {
                continue; // a peer still receiving a pull answer gets these entries from its cursor
            }
            const auto own = acks.constFind(peer->peerId());
            if (own == acks.constEnd()) {
                if (!shared) {
                    shared = encodeRelays(relayed, head, epoch, {}, QString());
                }
                for (const QByteArray& m : *shared) {
                    peer->send(m);
                }
                peer->noteRelayed(entries.last().serverSeqNum);
                continue;
            }
            // Everything in the batch except what this peer sent itself (it gets acks for those).
            QSet<qint64> mine;
            for (const Meet::Ack& a : *own) {
                mine.insert(a.serverSeqNum);
            }
            QList<RelayItem> others;
            qint64 lastOther = 0;
            for (qsizetype i = 0; i < entries.size(); ++i) {
                if (!mine.contains(entries[i].serverSeqNum)) {
                    others.append(relayed[i]);
                    lastOther = entries[i].serverSeqNum;
                }
            }
            for (const QByteArray& m : encodeRelays(others, head, epoch, {}, QString())) {
                peer->send(m);
            }
            if (lastOther > 0) {
                peer->noteRelayed(lastOther);
            }
        }
    }
    // Acks and rejections after relays: once a client has them, it holds everything up to `head`
    // and the value that stands. They go to whoever sent the update, even a peer since bound elsewhere.
    for (auto it = acks.cbegin(); it != acks.cend(); ++it) {
        if (SyncPeer* p = byId(it.key())) {
            sendAcks(p, *it, head, epoch);
        }
    }
    for (auto it = rejections.cbegin(); it != rejections.cend(); ++it) {
        if (SyncPeer* p = byId(it.key())) {
            p->send(rejectedMessage(*it, head, epoch));
        }
    }
}

void SyncService::commitFailed(const QHash<quint64, QList<qint64>>& unacked,
                               const std::function<SyncPeer*(quint64)>& byId) const
{
    for (auto it = unacked.cbegin(); it != unacked.cend(); ++it) {
        if (SyncPeer* p = byId(it.key())) {
            p->send(Reply::storageError(
                QStringLiteral("the server could not store these updates; they were not applied - send them again"),
                *it));
        }
    }
}

QList<QByteArray> SyncService::encodeRelays(const QList<RelayItem>& items, qint64 head, const QString& epoch,
                                            const QJsonObject& extra, const QString& finalField) const
{
    QList<QByteArray> out;
    auto flush = [&](const QJsonArray& chunk, bool last) {
        QJsonObject msg = extra;
        msg.insert(QStringLiteral("msgType"), MsgType::UpdateRelay);
        msg.insert(QStringLiteral("updatesRelayed"), chunk);
        msg.insert(QStringLiteral("headServerSeq"), head);
        msg.insert(QStringLiteral("epoch"), epoch);
        if (!finalField.isEmpty()) {
            msg.insert(finalField, last);
        }
        out.append(Reply::encode(msg));
    };
    QJsonArray chunk;
    qint64 chunkBytes = 0;
    for (qsizetype i = 0; i < items.size(); ++i) {
        chunk.append(items[i].json);
        chunkBytes += items[i].approxBytes;
        const bool last = i == items.size() - 1;
        if (!last && (chunk.size() >= m_limits.relayChunkEntries || chunkBytes >= m_limits.relayChunkBytes)) {
            flush(chunk, false);
            chunk = QJsonArray();
            chunkBytes = 0;
        }
    }
    if (!chunk.isEmpty() || !finalField.isEmpty()) {
        flush(chunk, true);
    }
    return out;
}

} // namespace oll
