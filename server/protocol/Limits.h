// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace oll {

/// Every limit the server enforces on client input. Each is documented in docs/protocol.md
/// ("Limits") and each has a test that crosses it.
struct Limits
{
    qint64 maxMessageBytes = 4 * 1024 * 1024; // one WebSocket message (all frames)
    qint64 maxFrameBytes = 4 * 1024 * 1024; // one WebSocket frame
    int maxUpdatesPerMessage = 1000; // UPDATE_INIT.updates
    int maxKeyLength = 256; // characters in an updateKey
    int maxKeyDepth = 16; // segments in an updateKey
    qint64 maxValueBytes = 1024 * 1024; // compact JSON of one updateValue
    int maxValueNesting = 64; // arrays/objects inside one updateValue
    int maxConnections = 512; // WebSockets open at once
    int maxConnectionsPerAddress = 64; // from one peer address
    int maxEndpoints = 32; // CREATE_MEET.endpoints
    int maxLocationNameLength = 64;
    int minPasswordLength = 10;
    int maxPasswordLength = 1024;
    int maxClientIdLength = 64;
    int maxPendingAuth = 16; // password hashes queued or running at once
    int authConcurrency = 2; // password hashes running at once
    int maxPendingAuthPerAddress = 4; // of those, queued or running for one peer address
    int failedJoinsBeforeBackoff = 5; // per (address, meet)
    int failedJoinsPerAddressBeforeBackoff = 20; // per address, across all meets
    int maxThrottleRecords = 50'000; // failed-join records kept; the oldest go first
    qint64 backoffBaseMs = 1000; // first block; doubles per further failure
    qint64 backoffMaxMs = 5 * 60 * 1000;
    int relayChunkEntries = 1000; // entries per UPDATE_RELAY (live or pull)
    qint64 relayChunkBytes = 1024 * 1024; // a relay chunk closes once its (estimated) size reaches this
    int ackChunkEntries = 5000; // acks per UPDATE_ACK
    qint64 compactPullMinEntries = 500; // a longer pull tail may be answered compacted (latest value per key)
    int maxSessionsPerMeet = 2000; // oldest-issued sessions are dropped beyond this
    int maxDisplayLinksPerMeet = 64; // display links minted and not revoked; minting another is refused
    int maxDisplayLinkLabelLength = 64; // characters in a display link's label
    int maxMeetsCreatedPerAddressPerHour = 20;
    qint64 heartbeatIntervalMs = 30'000; // server pings every client this often
    qint64 idleTimeoutMs = 90'000; // a client silent this long (no pong either) is closed
    qint64 maxOutgoingBytes = 64LL * 1024 * 1024; // unsent bytes a client may leave unread before it is closed
    qint64 maxSafeInteger = 9007199254740991LL; // 2^53 - 1: seq numbers must survive JavaScript
};

} // namespace oll
