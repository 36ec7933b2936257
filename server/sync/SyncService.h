// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Limits.h"
#include "protocol/Messages.h"
#include "sync/Meet.h"
#include "sync/SyncPeer.h"

#include <QJsonObject>

#include <functional>

namespace oll {

/// The sync protocol of a meet, independent of the transport: takes the requests of
/// authenticated peers (UPDATE_INIT, CLIENT_PULL, RECOVERY_PUSH) to the meet's sequencer and
/// answers them; turns the sequencer's flushes into relays, acks and conflict rejections for the
/// peers bound to the meet; paces long pull answers by each peer's backlog.
///
/// LiveServer owns one for its WebSockets; simulations drive the same code with in-memory peers.
class SyncService
{
public:
    explicit SyncService(const Limits& limits)
        : m_limits(limits)
    {
    }

    void submit(SyncPeer* peer, Meet* meet, const Session& session, const QList<UpdateRequest>& updates);
    void pull(SyncPeer* peer, Meet* meet, const ClientPullRequest& request);
    /// Sends more of an unfinished pull answer while the peer's backlog is low.
    void continuePull(SyncPeer* peer);
    /// RECOVERY_PUSH; `alive` tells later (when the entries are durable) whether the peer still exists.
    void recoveryPush(SyncPeer* peer, Meet* meet, const Session& session, const RecoveryPushRequest& request,
                      std::function<SyncPeer*()> alive);

    /// After a flush: relays to every peer in `bound` (minus what it sent itself; peers in the
    /// middle of a pull answer get the entries from their cursor), then acks and conflict
    /// rejections to whoever awaits them (`byId`).
    void fanOut(Meet* meet, const QList<JournalEntry>& entries, const QHash<quint64, QList<Meet::Ack>>& acks,
                const QHash<quint64, QList<Meet::Rejection>>& rejections, const QList<SyncPeer*>& bound,
                const std::function<SyncPeer*(quint64)>& byId) const;
    /// After a failed flush: tells each peer which of its updates to send again.
    void commitFailed(const QHash<quint64, QList<qint64>>& unacked,
                      const std::function<SyncPeer*(quint64)>& byId) const;

    /// MEET_CREATED / MEET_JOINED / MEET_RESTORED for a session just issued.
    static QByteArray loggedIn(const QString& type, const Meet& meet, const QString& token, const Session& session);
    static QJsonObject relayJson(const JournalEntry& e);
    static QByteArray ackMessage(const QList<Meet::Ack>& acks, qint64 head, const QString& epoch);
    static QByteArray rejectedMessage(const QList<Meet::Rejection>& rejections, qint64 head, const QString& epoch);

private:
    struct RelayItem
    {
        QJsonObject json;
        qint64 approxBytes = 0;
    };
    /// `items` as UPDATE_RELAY messages within the chunk limits; `extra` goes into every chunk
    /// and `finalField` (if set) is true only on the last.
    QList<QByteArray> encodeRelays(const QList<RelayItem>& items, qint64 head, const QString& epoch,
                                   const QJsonObject& extra, const QString& finalField) const;
    void sendAcks(SyncPeer* peer, const QList<Meet::Ack>& acks, qint64 head, const QString& epoch) const;

    Limits m_limits;
};

} // namespace oll
