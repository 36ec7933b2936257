// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/Limits.h"

#include <QByteArray>
#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QString>

#include <optional>
#include <variant>

namespace oll {

/// Message type names, exactly as on the wire (docs/protocol.md).
namespace MsgType {
inline const QString CreateMeet = QStringLiteral("CREATE_MEET");
inline const QString MeetCreated = QStringLiteral("MEET_CREATED");
inline const QString CreateRejected = QStringLiteral("CREATE_REJECTED");
inline const QString JoinMeet = QStringLiteral("JOIN_MEET");
inline const QString MeetJoined = QStringLiteral("MEET_JOINED");
inline const QString JoinRejected = QStringLiteral("JOIN_REJECTED");
inline const QString JoinDisplay = QStringLiteral("JOIN_DISPLAY");
inline const QString UpdateInit = QStringLiteral("UPDATE_INIT");
inline const QString UpdateAck = QStringLiteral("UPDATE_ACK");
inline const QString UpdateRejected = QStringLiteral("UPDATE_REJECTED");
inline const QString UpdateRelay = QStringLiteral("UPDATE_RELAY");
inline const QString ClientPull = QStringLiteral("CLIENT_PULL");
inline const QString ServerPull = QStringLiteral("SERVER_PULL");
inline const QString MalformedMessage = QStringLiteral("MALFORMED_MESSAGE");
inline const QString UnknownMessageType = QStringLiteral("UNKNOWN_MESSAGE_TYPE");
inline const QString InvalidSession = QStringLiteral("INVALID_SESSION");
inline const QString LimitExceeded = QStringLiteral("LIMIT_EXCEEDED");
inline const QString StorageError = QStringLiteral("STORAGE_ERROR");
inline const QString RecoveryPush = QStringLiteral("RECOVERY_PUSH");
inline const QString RecoveryAck = QStringLiteral("RECOVERY_ACK");
inline const QString RecoveryRejected = QStringLiteral("RECOVERY_REJECTED");
inline const QString RestoreMeet = QStringLiteral("RESTORE_MEET");
inline const QString MeetRestored = QStringLiteral("MEET_RESTORED");
inline const QString RestoreRejected = QStringLiteral("RESTORE_REJECTED");
} // namespace MsgType

enum class Role
{
    Update,
    Display
};
QString roleName(Role role);

struct Endpoint
{
    QString locationName;
    qint64 priority = 0;
};

struct CreateMeetRequest
{
    QString thisLocationName;
    QString password;
    QList<Endpoint> endpoints;
    QString clientId;
};

struct JoinMeetRequest
{
    QString meetId; // as typed; normalise with normalizeMeetId()
    QString password;
    QString locationName;
    QString clientId;
    Role role = Role::Update;
};

/// A board or overlay joins read-only with a display link's token (no meet ID, no password).
struct JoinDisplayRequest
{
    QString displayToken;
    QString clientId;
};

struct UpdateRequest
{
    qint64 localSeqNum = 0;
    qint64 afterServerSeqNum = 0;
    QString key;
    QJsonValue value;
};

struct UpdateInitRequest
{
    QString sessionToken;
    QList<UpdateRequest> updates;
};

struct ClientPullRequest
{
    QString sessionToken;
    qint64 lastServerSeq = 0;
    QString epoch; // the log incarnation the client's copy comes from; empty if it holds nothing
    bool compact = true; // the client accepts a compacted answer
};

/// One entry of a client's canonical log, sent back to a server that lost it.
struct RecoveredEntry
{
    qint64 serverSeqNum = 0;
    QString key;
    QJsonValue value;
    QString clientId;
    qint64 localSeqNum = 0;
    QString locationName;
    qint64 afterServerSeqNum = 0;
};

struct RecoveryPushRequest
{
    QString sessionToken;
    QString epoch;
    QList<RecoveredEntry> entries; // ascending serverSeqNum
};

/// A client asks a server with no trace of its meet to recreate it (after approval).
struct RestoreMeetRequest
{
    QString meetId; // as typed
    QString password;
    QString thisLocationName;
    QList<Endpoint> endpoints;
    QString clientId;
    QString epoch;
};

using Request = std::variant<CreateMeetRequest, JoinMeetRequest, UpdateInitRequest, ClientPullRequest,
                             RecoveryPushRequest, RestoreMeetRequest, JoinDisplayRequest>;

/// Why a message could not be turned into a Request. Each kind maps to one error message type.
struct ParseError
{
    enum class Kind
    {
        Malformed,
        UnknownType,
        LimitExceeded
    };
    Kind kind = Kind::Malformed;
    QString errMsg;
    QString msgType; // UnknownType: the type the client sent
    QString limitName; // LimitExceeded
    qint64 limitMax = 0;
};

/// Turns one text frame into a typed request, checking JSON syntax, field presence and types.
/// Semantic checks (password length, key syntax, ...) belong to the component that decides.
class MessageParser
{
public:
    explicit MessageParser(const Limits& limits)
        : m_limits(limits)
    {
    }
    std::variant<Request, ParseError> parse(const QByteArray& utf8) const;

private:
    Limits m_limits;
};

/// Builders for every server→client message, as compact JSON text.
namespace Reply {
QByteArray encode(const QJsonObject& message);
QByteArray malformed(const QString& errMsg);
QByteArray unknownType(const QString& msgType);
QByteArray invalidSession(const QString& sessionToken, const QString& reason);
QByteArray limitExceeded(const QString& limitName, qint64 max, const QString& errMsg);
QByteArray storageError(const QString& errMsg, const QList<qint64>& localSeqNums);
QByteArray createRejected(const QString& reason, qint64 retryAfterMs = 0);
QByteArray joinRejected(const QString& reason, qint64 retryAfterMs = 0);
QByteArray restoreRejected(const QString& reason, qint64 retryAfterMs = 0, bool pendingApproval = false);
} // namespace Reply

/// True for a log epoch as the server mints them: 16 lowercase hex digits.
bool isValidEpoch(const QString& epoch);

/// Strips spaces and dashes; returns the 9-digit ID or nullopt.
std::optional<QString> normalizeMeetId(const QString& typed);
/// "123456789" -> "123 456 789".
QString displayMeetId(const QString& meetId);
/// The clientId of entries the server writes itself (docs/protocol.md, "Conflicts"); no client
/// may use it.
inline const QString ServerClientId = QStringLiteral("oll-server");
/// 1..maxLength base64url characters, and not the server's own ID.
bool isValidClientId(const QString& clientId, int maxLength);
/// True if every character is in the base64url alphabet (A-Z a-z 0-9 - _): session tokens and
/// client IDs.
bool isBase64UrlText(const QString& text);
/// Empty if valid, else the reason for CREATE_REJECTED.
QString validateCreate(const CreateMeetRequest& req, const Limits& limits);
/// Reason a location name is unacceptable, or empty.
QString validateLocationName(const QString& name, const Limits& limits);
/// Nesting depth of arrays/objects in a JSON value (a scalar is 0).
int jsonNesting(const QJsonValue& value, int stopAt);
/// Compact JSON text of any value, scalars included.
QByteArray compactJson(const QJsonValue& value);

} // namespace oll
