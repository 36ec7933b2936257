// SPDX-License-Identifier: AGPL-3.0-or-later
#include "protocol/Messages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>
#include <QSet>

#include <algorithm>
#include <cmath>

namespace oll {

QString roleName(Role role)
{
    return role == Role::Display ? QStringLiteral("display") : QStringLiteral("update");
}

namespace {

struct FieldError
{
    QString message;
};

// Each reader returns the field or records why it is missing or mistyped; the first error wins.
class FieldReader
{
public:
    explicit FieldReader(const QJsonObject& obj, QString context = {})
        : m_obj(obj)
        , m_context(std::move(context))
    {
    }

    QString string(const QString& name, bool required = true)
    {
        const QJsonValue v = m_obj.value(name);
        if (v.isUndefined() && !required) {
            return {};
        }
        if (!v.isString()) {
            fail(name, v, QStringLiteral("a string"));
            return {};
        }
        return v.toString();
    }

    /// An integral JSON number within [min, max].
    qint64 integer(const QString& name, qint64 min, qint64 max, bool required = true, qint64 fallback = 0)
    {
        const QJsonValue v = m_obj.value(name);
        if (v.isUndefined() && !required) {
            return fallback;
        }
        if (!v.isDouble()) {
            fail(name, v, QStringLiteral("an integer"));
            return 0;
        }
        const double d = v.toDouble();
        if (!std::isfinite(d) || std::floor(d) != d || d < static_cast<double>(min) || d > static_cast<double>(max)) {
            setError(
                QStringLiteral("field '%1'%2 must be an integer from %3 to %4").arg(name, where()).arg(min).arg(max));
            return 0;
        }
        return static_cast<qint64>(d);
    }

    QJsonArray array(const QString& name)
    {
        const QJsonValue v = m_obj.value(name);
        if (!v.isArray()) {
            fail(name, v, QStringLiteral("an array"));
            return {};
        }
        return v.toArray();
    }

    QJsonValue any(const QString& name)
    {
        const QJsonValue v = m_obj.value(name);
        if (v.isUndefined()) {
            setError(QStringLiteral("missing field '%1'%2").arg(name, where()));
        }
        return v;
    }

    bool ok() const { return m_error.isEmpty(); }
    const QString& error() const { return m_error; }
    void setError(const QString& e)
    {
        if (m_error.isEmpty()) {
            m_error = e;
        }
    }

private:
    QString where() const { return m_context.isEmpty() ? QString() : QStringLiteral(" in ") + m_context; }

    void fail(const QString& name, const QJsonValue& v, const QString& expected)
    {
        if (v.isUndefined()) {
            setError(QStringLiteral("missing field '%1'%2").arg(name, where()));
        } else {
            setError(QStringLiteral("field '%1'%2 must be %3").arg(name, where(), expected));
        }
    }

    QJsonObject m_obj;
    QString m_context;
    QString m_error;
};

ParseError malformed(const QString& msg)
{
    ParseError e;
    e.kind = ParseError::Kind::Malformed;
    e.errMsg = msg;
    return e;
}

/// `count` items where at most `max` are allowed (answered with LIMIT_EXCEEDED).
ParseError tooMany(const QString& limitName, qsizetype count, int max, const QString& what)
{
    ParseError e;
    e.kind = ParseError::Kind::LimitExceeded;
    e.limitName = limitName;
    e.limitMax = max;
    e.errMsg = QStringLiteral("%1 %2; at most %3 are allowed").arg(count).arg(what).arg(max);
    return e;
}

} // namespace

std::variant<Request, ParseError> MessageParser::parse(const QByteArray& utf8) const
{
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(utf8, &perr);
    if (perr.error != QJsonParseError::NoError) {
        return malformed(QStringLiteral("invalid JSON at offset %1: %2").arg(perr.offset).arg(perr.errorString()));
    }
    if (!doc.isObject()) {
        return malformed(QStringLiteral("a message must be a JSON object"));
    }
    const QJsonObject obj = doc.object();
    const QJsonValue typeValue = obj.value(QStringLiteral("msgType"));
    if (!typeValue.isString()) {
        return malformed(typeValue.isUndefined() ? QStringLiteral("missing field 'msgType'")
                                                 : QStringLiteral("field 'msgType' must be a string"));
    }
    const QString type = typeValue.toString();
    FieldReader r(obj);
    const qint64 maxSeq = m_limits.maxSafeInteger;

    // Reads "endpoints" (CREATE_MEET, RESTORE_MEET); nullopt when the count is over the limit.
    auto readEndpoints = [&](QList<Endpoint>* out) -> std::optional<ParseError> {
        const QJsonArray eps = r.array(QStringLiteral("endpoints"));
        if (r.ok() && eps.size() > m_limits.maxEndpoints) {
            return tooMany(QStringLiteral("endpoints"), eps.size(), m_limits.maxEndpoints,
                           QStringLiteral("endpoints given"));
        }
        for (qsizetype i = 0; r.ok() && i < eps.size(); ++i) {
            if (!eps[i].isObject()) {
                r.setError(QStringLiteral("endpoints[%1] must be an object").arg(i));
                break;
            }
            FieldReader er(eps[i].toObject(), QStringLiteral("endpoints[%1]").arg(i));
            Endpoint ep;
            ep.locationName = er.string(QStringLiteral("locationName"));
            ep.priority = er.integer(QStringLiteral("priority"), -1'000'000, 1'000'000);
            if (!er.ok()) {
                r.setError(er.error());
            }
            out->append(ep);
        }
        return std::nullopt;
    };

    if (type == MsgType::CreateMeet) {
        CreateMeetRequest req;
        req.thisLocationName = r.string(QStringLiteral("thisLocationName"));
        req.password = r.string(QStringLiteral("password"));
        req.clientId = r.string(QStringLiteral("clientId"));
        if (auto limit = readEndpoints(&req.endpoints)) {
            return *limit;
        }
        if (!r.ok()) {
            return malformed(r.error());
        }
        return Request{req};
    }
    if (type == MsgType::RestoreMeet) {
        RestoreMeetRequest req;
        req.meetId = r.string(QStringLiteral("meetId"));
        req.password = r.string(QStringLiteral("password"));
        req.thisLocationName = r.string(QStringLiteral("thisLocationName"));
        req.clientId = r.string(QStringLiteral("clientId"));
        req.epoch = r.string(QStringLiteral("epoch"));
        if (r.ok() && !isValidEpoch(req.epoch)) {
            r.setError(QStringLiteral("field 'epoch' must be 16 lowercase hex digits"));
        }
        if (auto limit = readEndpoints(&req.endpoints)) {
            return *limit;
        }
        if (!r.ok()) {
            return malformed(r.error());
        }
        return Request{req};
    }
    if (type == MsgType::JoinMeet) {
        JoinMeetRequest req;
        req.meetId = r.string(QStringLiteral("meetId"));
        // The specification spells the field "Password" once; accept both, prefer the documented one.
        const bool useAlias = !obj.contains(QStringLiteral("password")) && obj.contains(QStringLiteral("Password"));
        req.password = r.string(useAlias ? QStringLiteral("Password") : QStringLiteral("password"));
        req.locationName = r.string(QStringLiteral("locationName"));
        req.clientId = r.string(QStringLiteral("clientId"));
        const QString role = r.string(QStringLiteral("role"), false);
        if (r.ok()) {
            if (role.isEmpty() || role == QStringLiteral("update")) {
                req.role = Role::Update;
            } else if (role == QStringLiteral("display")) {
                req.role = Role::Display;
            } else {
                r.setError(QStringLiteral("field 'role' must be \"update\" or \"display\""));
            }
        }
        if (!r.ok()) {
            return malformed(r.error());
        }
        return Request{req};
    }
    if (type == MsgType::JoinDisplay) {
        JoinDisplayRequest req;
        req.displayToken = r.string(QStringLiteral("displayToken"));
        req.clientId = r.string(QStringLiteral("clientId"));
        if (!r.ok()) {
            return malformed(r.error());
        }
        return Request{req};
    }
    if (type == MsgType::UpdateInit) {
        UpdateInitRequest req;
        req.sessionToken = r.string(QStringLiteral("sessionToken"));
        const QJsonArray ups = r.array(QStringLiteral("updates"));
        if (!r.ok()) {
            return malformed(r.error());
        }
        if (ups.isEmpty()) {
            return malformed(QStringLiteral("field 'updates' must not be empty"));
        }
        if (ups.size() > m_limits.maxUpdatesPerMessage) {
            return tooMany(QStringLiteral("updatesPerMessage"), ups.size(), m_limits.maxUpdatesPerMessage,
                           QStringLiteral("updates in one message"));
        }
        QSet<qint64> seen;
        for (qsizetype i = 0; i < ups.size(); ++i) {
            if (!ups[i].isObject()) {
                return malformed(QStringLiteral("updates[%1] must be an object").arg(i));
            }
            FieldReader ur(ups[i].toObject(), QStringLiteral("updates[%1]").arg(i));
            UpdateRequest u;
            u.key = ur.string(QStringLiteral("updateKey"));
            u.value = ur.any(QStringLiteral("updateValue"));
            u.localSeqNum = ur.integer(QStringLiteral("localSeqNum"), 1, maxSeq);
            u.afterServerSeqNum = ur.integer(QStringLiteral("afterServerSeqNum"), 0, maxSeq);
            if (!ur.ok()) {
                return malformed(ur.error());
            }
            if (seen.contains(u.localSeqNum)) {
                return malformed(
                    QStringLiteral("updates[%1] repeats localSeqNum %2 within one message").arg(i).arg(u.localSeqNum));
            }
            seen.insert(u.localSeqNum);
            req.updates.append(u);
        }
        return Request{req};
    }
    if (type == MsgType::ClientPull) {
        ClientPullRequest req;
        req.sessionToken = r.string(QStringLiteral("sessionToken"));
        req.lastServerSeq = r.integer(QStringLiteral("lastServerSeq"), 0, maxSeq);
        req.epoch = r.string(QStringLiteral("epoch"), false);
        const QJsonValue compact = obj.value(QStringLiteral("compact"));
        if (!compact.isUndefined() && !compact.isBool()) {
            r.setError(QStringLiteral("field 'compact' must be true or false"));
        }
        req.compact = compact.toBool(true);
        if (r.ok() && !req.epoch.isEmpty() && !isValidEpoch(req.epoch)) {
            r.setError(QStringLiteral("field 'epoch' must be 16 lowercase hex digits"));
        }
        if (!r.ok()) {
            return malformed(r.error());
        }
        return Request{req};
    }
    if (type == MsgType::RecoveryPush) {
        RecoveryPushRequest req;
        req.sessionToken = r.string(QStringLiteral("sessionToken"));
        req.epoch = r.string(QStringLiteral("epoch"));
        const QJsonArray entries = r.array(QStringLiteral("entries"));
        if (r.ok() && !isValidEpoch(req.epoch)) {
            r.setError(QStringLiteral("field 'epoch' must be 16 lowercase hex digits"));
        }
        if (!r.ok()) {
            return malformed(r.error());
        }
        if (entries.size() > m_limits.maxUpdatesPerMessage) {
            return tooMany(QStringLiteral("updatesPerMessage"), entries.size(), m_limits.maxUpdatesPerMessage,
                           QStringLiteral("entries in one message"));
        }
        qint64 previous = 0;
        for (qsizetype i = 0; i < entries.size(); ++i) {
            if (!entries[i].isObject()) {
                return malformed(QStringLiteral("entries[%1] must be an object").arg(i));
            }
            FieldReader er(entries[i].toObject(), QStringLiteral("entries[%1]").arg(i));
            RecoveredEntry e;
            e.serverSeqNum = er.integer(QStringLiteral("serverSeqNum"), 1, maxSeq);
            e.key = er.string(QStringLiteral("updateKey"));
            e.value = er.any(QStringLiteral("updateValue"));
            e.clientId = er.string(QStringLiteral("clientId"));
            e.localSeqNum = er.integer(QStringLiteral("localSeqNum"), 1, maxSeq);
            e.locationName = er.string(QStringLiteral("locationName"));
            e.afterServerSeqNum = er.integer(QStringLiteral("afterServerSeqNum"), 0, maxSeq, false, 0);
            if (!er.ok()) {
                return malformed(er.error());
            }
            if (e.serverSeqNum <= previous) {
                return malformed(QStringLiteral("entries[%1]: serverSeqNum %2 is not above the previous entry's %3")
                                     .arg(i)
                                     .arg(e.serverSeqNum)
                                     .arg(previous));
            }
            previous = e.serverSeqNum;
            req.entries.append(e);
        }
        return Request{req};
    }

    ParseError e;
    e.kind = ParseError::Kind::UnknownType;
    e.msgType = type.left(64);
    e.errMsg = QStringLiteral("unknown msgType");
    return e;
}

namespace Reply {

QByteArray encode(const QJsonObject& message)
{
    return QJsonDocument(message).toJson(QJsonDocument::Compact);
}

QByteArray malformed(const QString& errMsg)
{
    return encode({{QStringLiteral("msgType"), MsgType::MalformedMessage}, {QStringLiteral("errMsg"), errMsg}});
}

QByteArray unknownType(const QString& msgType)
{
    return encode({{QStringLiteral("msgType"), MsgType::UnknownMessageType},
                   {QStringLiteral("unknownMsgType"), msgType},
                   {QStringLiteral("errMsg"), QStringLiteral("unknown message type '%1'").arg(msgType)}});
}

QByteArray invalidSession(const QString& sessionToken, const QString& reason)
{
    // Echo the token so a client with several sessions knows which one failed; cap its length so
    // hostile input is not reflected in bulk.
    return encode({{QStringLiteral("msgType"), MsgType::InvalidSession},
                   {QStringLiteral("sessionToken"), sessionToken.left(64)},
                   {QStringLiteral("reason"), reason}});
}

QByteArray limitExceeded(const QString& limitName, qint64 max, const QString& errMsg)
{
    return encode({{QStringLiteral("msgType"), MsgType::LimitExceeded},
                   {QStringLiteral("limit"), limitName},
                   {QStringLiteral("max"), static_cast<double>(max)},
                   {QStringLiteral("errMsg"), errMsg}});
}

QByteArray storageError(const QString& errMsg, const QList<qint64>& localSeqNums)
{
    QJsonArray seqs;
    for (qint64 n : localSeqNums) {
        seqs.append(n);
    }
    return encode({{QStringLiteral("msgType"), MsgType::StorageError},
                   {QStringLiteral("errMsg"), errMsg},
                   {QStringLiteral("localSeqNums"), seqs},
                   {QStringLiteral("retryable"), true}});
}

namespace {
QJsonObject rejected(const QString& type, const QString& reason, qint64 retryAfterMs)
{
    QJsonObject o{{QStringLiteral("msgType"), type}, {QStringLiteral("reason"), reason}};
    if (retryAfterMs > 0) {
        o.insert(QStringLiteral("retryAfterMs"), static_cast<double>(retryAfterMs));
    }
    return o;
}
} // namespace

QByteArray createRejected(const QString& reason, qint64 retryAfterMs)
{
    return encode(rejected(MsgType::CreateRejected, reason, retryAfterMs));
}

QByteArray joinRejected(const QString& reason, qint64 retryAfterMs)
{
    return encode(rejected(MsgType::JoinRejected, reason, retryAfterMs));
}

QByteArray restoreRejected(const QString& reason, qint64 retryAfterMs, bool pendingApproval)
{
    QJsonObject o = rejected(MsgType::RestoreRejected, reason, retryAfterMs);
    if (pendingApproval) {
        o.insert(QStringLiteral("pendingApproval"), true);
    }
    return encode(o);
}

} // namespace Reply

bool isValidEpoch(const QString& epoch)
{
    if (epoch.size() != 16) {
        return false;
    }
    return std::all_of(epoch.cbegin(), epoch.cend(), [](QChar c) {
        return (c >= QLatin1Char('0') && c <= QLatin1Char('9')) || (c >= QLatin1Char('a') && c <= QLatin1Char('f'));
    });
}

std::optional<QString> normalizeMeetId(const QString& typed)
{
    if (typed.size() > 32) {
        return std::nullopt;
    }
    QString digits;
    for (QChar c : typed) {
        if (c == u' ' || c == u'-') {
            continue;
        }
        if (c < u'0' || c > u'9') {
            return std::nullopt;
        }
        digits.append(c);
    }
    if (digits.size() != 9) {
        return std::nullopt;
    }
    return digits;
}

QString displayMeetId(const QString& meetId)
{
    return meetId.mid(0, 3) + u' ' + meetId.mid(3, 3) + u' ' + meetId.mid(6, 3);
}

bool isBase64UrlText(const QString& text)
{
    return std::all_of(text.cbegin(), text.cend(), [](QChar c) {
        return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || (c >= u'0' && c <= u'9') || c == u'-'
            || c == u'_';
    });
}

bool isValidClientId(const QString& clientId, int maxLength)
{
    return !clientId.isEmpty() && clientId.size() <= maxLength && isBase64UrlText(clientId)
        && clientId != ServerClientId;
}

QString validateLocationName(const QString& name, const Limits& limits)
{
    if (name.trimmed().isEmpty()) {
        return QStringLiteral("location names must not be empty");
    }
    if (name.size() > limits.maxLocationNameLength) {
        return QStringLiteral("location name '%1…' is longer than %2 characters")
            .arg(name.left(20))
            .arg(limits.maxLocationNameLength);
    }
    if (name != name.trimmed()) {
        return QStringLiteral("location name '%1' has leading or trailing spaces").arg(name);
    }
    for (QChar c : name) {
        if (c.category() == QChar::Other_Control || c.category() == QChar::Other_Format) {
            return QStringLiteral("location names must not contain control characters");
        }
    }
    return {};
}

QString validateCreate(const CreateMeetRequest& req, const Limits& limits)
{
    if (req.password.size() < limits.minPasswordLength) {
        return QStringLiteral("password must be at least %1 characters").arg(limits.minPasswordLength);
    }
    if (req.password.size() > limits.maxPasswordLength) {
        return QStringLiteral("password must be at most %1 characters").arg(limits.maxPasswordLength);
    }
    if (!isValidClientId(req.clientId, limits.maxClientIdLength)) {
        return QStringLiteral("clientId must be 1 to %1 characters of A-Z a-z 0-9 - _").arg(limits.maxClientIdLength);
    }
    if (req.endpoints.isEmpty()) {
        return QStringLiteral("at least one endpoint is required");
    }
    QSet<QString> names;
    bool found = false;
    for (const Endpoint& ep : req.endpoints) {
        const QString bad = validateLocationName(ep.locationName, limits);
        if (!bad.isEmpty()) {
            return bad;
        }
        // Case-insensitive: "Platform 1" and "platform 1" would confuse people choosing a location.
        const QString folded = ep.locationName.toCaseFolded();
        if (names.contains(folded)) {
            return QStringLiteral("duplicate endpoint name '%1'").arg(ep.locationName);
        }
        names.insert(folded);
        found = found || ep.locationName == req.thisLocationName;
    }
    if (!found) {
        return QStringLiteral("thisLocationName '%1' is not one of the endpoints").arg(req.thisLocationName.left(64));
    }
    return {};
}

int jsonNesting(const QJsonValue& value, int stopAt)
{
    if (stopAt <= 0) {
        return 0;
    }
    int deepest = 0;
    if (value.isArray()) {
        const QJsonArray a = value.toArray();
        for (const QJsonValue& v : a) {
            deepest = qMax(deepest, jsonNesting(v, stopAt - 1));
        }
        return deepest + 1;
    }
    if (value.isObject()) {
        const QJsonObject o = value.toObject();
        for (auto it = o.begin(); it != o.end(); ++it) {
            deepest = qMax(deepest, jsonNesting(it.value(), stopAt - 1));
        }
        return deepest + 1;
    }
    return 0;
}

QByteArray compactJson(const QJsonValue& value)
{
    // QJsonDocument only holds arrays and objects: wrap the value and strip the brackets.
    const QByteArray wrapped = QJsonDocument(QJsonArray{value}).toJson(QJsonDocument::Compact);
    return wrapped.mid(1, wrapped.size() - 2);
}

} // namespace oll
