// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Messages.h"
#include "sync/ConflictRecord.h"

#include <QHostAddress>
#include <QJsonObject>
#include <QList>
#include <QMetaType>
#include <QString>

#include <algorithm>
#include <memory>

namespace oll {

/// What the monitoring surface reports. Every type here is a plain value: built on the server's
/// thread, copied across to the GUI, never pointing into the server.

/// One WebSocket connection, as the server sees it now.
struct ConnectionInfo
{
    quint64 connectionId = 0;
    QString address; // peer address, as the per-address limits count it
    qint64 openedMs = 0; // wall clock (ms since the epoch)
    // Set once the connection presented a valid session (MEET_CREATED/JOINED/RESTORED or a token).
    bool bound = false;
    QString meetId;
    QString locationName;
    Role role = Role::Update;
    QString clientId;
    QString displayLinkId; // non-empty: joined with this display link (always Role::Display)
    qint64 lastAckedSeq = 0; // highest serverSeqNum acknowledged to this connection's own updates
    qint64 lastRelayedSeq = 0; // highest serverSeqNum relayed to it live
    qint64 lastPulledSeq = 0; // highest serverSeqNum sent to it in answer to a pull
    qint64 backlogBytes = 0; // queued for it and not yet handed to the network
    qint64 rttMs = -1; // last ping round trip; -1 before the first pong

    /// The highest serverSeqNum this connection is known to hold, however it got there.
    qint64 lastSeenSeq() const { return std::max({lastAckedSeq, lastRelayedSeq, lastPulledSeq}); }
};

/// One client (browser) of a meet, kept after it disconnects so the director sees "offline since".
struct ClientInfo
{
    QString clientId;
    QString locationName;
    QString address;
    Role role = Role::Update;
    QString displayLinkId;
    bool online = false;
    int connections = 0; // open connections bound with this clientId (a reloading tab briefly has two)
    qint64 onlineSinceMs = 0; // wall clock of the first bind of the current online period
    qint64 offlineSinceMs = 0; // wall clock of the last close, when offline
    qint64 lastAckedSeq = 0;
    qint64 lastSeenSeq = 0; // max of acked, relayed and pulled: what it is known to hold
    qint64 backlogBytes = 0;
    qint64 rttMs = -1;
};

enum class StorageState
{
    Ok, // journal writable
    Broken, // the journal could not be written or repaired: the meet accepts no updates until a restart
    Damaged // the meet could not be loaded at start (data damaged); clients must restore it
};

struct MeetInfo
{
    QString meetId; // 9 digits; displayMeetId() formats "123 456 789"
    QString meetName; // meet.name in the state, empty until set
    int lifterCount = 0; // elements of registration.entries
    qint64 headSeq = 0; // serverSeqNums assigned
    qint64 durableSeq = 0; // of those, on disk
    bool finished = false;
    StorageState storage = StorageState::Ok;
    QString storageDetail; // what went wrong and what to do, for Broken / Damaged
    QList<Endpoint> endpoints; // with priorities, as created
    int clientsOnline = 0; // distinct clientIds with an open bound connection
    int conflictCount = 0;
    qint64 createdMs = 0;
    QString epoch;
    QList<ClientInfo> clients; // online first, then most recently seen; bounded (kMaxClientsPerMeet)
};

struct RestoreRequestInfo
{
    QString meetId;
    QString locationName;
    QString address;
    qint64 requestedMs = 0;
    int endpoints = 0;
    bool approved = false;
};

struct DisplayLinkInfo
{
    QString linkId; // short public id, e.g. "dl-3f9a1c" (not the secret)
    QString meetId;
    QString label; // what the director called it ("Warm-up room board")
    qint64 createdMs = 0;
    int connections = 0; // sockets using it now
};

struct DiagEntry
{
    qint64 timeMs = 0; // wall clock
    QString category; // as in diag.log: start, join, storage, conflict, restore, ...
    QString message; // never secrets (DiagLog's rule)
    QString meetId; // the meet the line is about, if any
};

struct ConflictInfo
{
    QString meetId;
    ConflictRecord record; // values included: the GUI shows them only on demand
};

struct ServerSnapshot
{
    enum class State
    {
        Stopped,
        Starting,
        Running,
        Stopping,
        Failed
    };
    State state = State::Stopped;
    QString error; // why the last start failed (State::Failed)
    QHostAddress bindAddress;
    quint16 port = 0; // the port actually listened on (0 when not running)
    QString dataDir;
    QString openlifterDir; // configured local OpenLifter build, empty if none
    qint64 startedMs = 0; // wall clock
    QList<MeetInfo> meets; // sorted by meetId
    QList<ConnectionInfo> connections;
    QList<RestoreRequestInfo> restores;
    QList<DisplayLinkInfo> displayLinks;
    QJsonObject health; // what GET /health answers; {"status":"stopped"} when not running
    quint64 version = 0; // increases with every snapshot published by one host

    static constexpr int kMaxClientsPerMeet = 256;
};

using ServerSnapshotPtr = std::shared_ptr<const ServerSnapshot>;

} // namespace oll

Q_DECLARE_METATYPE(oll::ConnectionInfo)
Q_DECLARE_METATYPE(oll::RestoreRequestInfo)
Q_DECLARE_METATYPE(oll::DisplayLinkInfo)
Q_DECLARE_METATYPE(oll::DiagEntry)
Q_DECLARE_METATYPE(oll::ConflictInfo)
Q_DECLARE_METATYPE(oll::ServerSnapshotPtr)
Q_DECLARE_METATYPE(oll::ServerSnapshot::State)
