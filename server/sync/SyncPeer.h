// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QList>
#include <QPointer>

#include <optional>

namespace oll {

class Meet;

/// One client as the sync protocol sees it: something to send text messages to, with a backlog
/// to pace long answers by. The WebSocket server's ClientConnection is one; a deterministic
/// simulation's in-memory peer is another.
class SyncPeer
{
public:
    virtual ~SyncPeer() = default;
    virtual quint64 peerId() const = 0;
    virtual void send(const QByteArray& json) = 0;
    /// Bytes sent but not yet handed to the network.
    virtual qint64 backlog() const = 0;
    /// True once the peer is being closed: nothing more is sent to it.
    virtual bool isClosing() const = 0;

    // Monitoring hooks: the highest serverSeqNum just sent to this peer as an ack of its own
    // update, as a live relay, or in a pull answer. No-ops by default (simulation peers).
    virtual void noteAcked(qint64 /*serverSeqNum*/) { }
    virtual void noteRelayed(qint64 /*serverSeqNum*/) { }
    virtual void notePulled(qint64 /*serverSeqNum*/) { }

    /// An unfinished answer to CLIENT_PULL, sent in paced chunks (SyncService).
    struct PullAnswer
    {
        QPointer<Meet> meet;
        QList<QByteArray> queued; // compacted chunks still to send, in order
        qint64 cursor = 0; // then the entries after this seq, up to the durable head
    };
    std::optional<PullAnswer> pull;
};

} // namespace oll
