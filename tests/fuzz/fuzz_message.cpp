// SPDX-License-Identifier: AGPL-3.0-or-later
// Fuzz target: one WebSocket text frame through the message parser, then through what the server
// does next with each parsed request (LiveServer::onText and the handlers it dispatches to).
//
// Invariants, beyond "no crash, no sanitizer report":
//   - a key that KeyPath::parse accepts prints back as exactly the input (canonical spelling),
//     and is a prefix of, and overlaps, itself; a refused key names a problem;
//   - jsonNesting(v, stopAt) never exceeds stopAt;
//   - compactJson(value), as written to the journal and relayed, parses back to an equal value
//     and re-serialises to the same bytes.

#include "FuzzCheck.h"

#include "auth/SessionStore.h"
#include "protocol/KeyPath.h"
#include "protocol/Limits.h"
#include "protocol/Messages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonParseError>

#include <cstddef>
#include <cstdint>
#include <variant>

namespace {

using oll::fuzz::show;

void checkKey(const QString& key, const oll::Limits& limits)
{
    QString why;
    oll::KeyPath::Problem problem = oll::KeyPath::Problem::None;
    const auto path = oll::KeyPath::parse(key, limits.maxKeyLength, limits.maxKeyDepth, &why, &problem);
    if (!path) {
        FUZZ_CHECK(problem != oll::KeyPath::Problem::None, show(key));
        FUZZ_CHECK(!why.isEmpty(), show(key));
        return;
    }
    FUZZ_CHECK(problem == oll::KeyPath::Problem::None, show(key));
    const QString printed = path->toString();
    FUZZ_CHECK(printed == key, show(key) + QStringLiteral(" printed as ") + show(printed));
    FUZZ_CHECK(path->isPrefixOf(*path), show(key));
    FUZZ_CHECK(path->overlaps(*path), show(key));
    FUZZ_CHECK(path->depth() >= 1 && path->depth() <= limits.maxKeyDepth, show(key));
}

void checkValue(const QJsonValue& value, const oll::Limits& limits)
{
    // As Meet does before accepting an update.
    const int stopAt = limits.maxValueNesting + 1;
    const int nesting = oll::jsonNesting(value, stopAt);
    FUZZ_CHECK(nesting >= 0 && nesting <= stopAt, QString::number(nesting));
    FUZZ_CHECK((nesting == 0) == !(value.isArray() || value.isObject()), QString::number(nesting));

    const QByteArray text = oll::compactJson(value);
    FUZZ_CHECK(!text.isEmpty(), QString());

    // The journal and every relay carry `text`; what a reader gets back must be the same value.
    QByteArray wrapped;
    wrapped.reserve(text.size() + 2);
    wrapped.append('[').append(text).append(']');
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(wrapped, &perr);
    FUZZ_CHECK(perr.error == QJsonParseError::NoError && doc.isArray() && doc.array().size() == 1,
               show(text) + QStringLiteral(": ") + perr.errorString());
    const QJsonValue back = doc.array().at(0);
    FUZZ_CHECK(back == value,
               QStringLiteral("compactJson ") + show(text) + QStringLiteral(" re-parses as ")
                   + show(oll::compactJson(back)));
    FUZZ_CHECK(oll::compactJson(back) == text, show(text));
}

void handle(const oll::CreateMeetRequest& req, const oll::Limits& limits)
{
    const QString reason = oll::validateCreate(req, limits);
    if (reason.isEmpty()) {
        // Accepted: the server hashes the password and stores the endpoints.
        FUZZ_CHECK(req.password.size() >= limits.minPasswordLength, QString());
        FUZZ_CHECK(oll::isValidClientId(req.clientId, limits.maxClientIdLength), show(req.clientId));
        FUZZ_CHECK(!req.endpoints.isEmpty(), QString());
        for (const oll::Endpoint& ep : req.endpoints) {
            FUZZ_CHECK(oll::validateLocationName(ep.locationName, limits).isEmpty(), show(ep.locationName));
        }
        (void)req.password.toUtf8();
    } else {
        (void)oll::Reply::createRejected(reason);
    }
}

void handle(const oll::JoinMeetRequest& req, const oll::Limits& limits)
{
    const auto meetId = oll::normalizeMeetId(req.meetId);
    if (meetId) {
        FUZZ_CHECK(meetId->size() == 9, show(*meetId));
        for (QChar c : *meetId) {
            FUZZ_CHECK(c >= u'0' && c <= u'9', show(*meetId));
        }
        FUZZ_CHECK(oll::normalizeMeetId(*meetId) == meetId, show(*meetId));
        const QString display = oll::displayMeetId(*meetId);
        FUZZ_CHECK(display.size() == 11 && oll::normalizeMeetId(display) == meetId, show(display));
    }
    const bool clientOk = oll::isValidClientId(req.clientId, limits.maxClientIdLength);
    if (clientOk) {
        FUZZ_CHECK(!req.clientId.isEmpty() && req.clientId.size() <= limits.maxClientIdLength, show(req.clientId));
    }
    (void)oll::validateLocationName(req.locationName, limits);
    (void)oll::roleName(req.role);
    if (!meetId || !clientOk) {
        (void)oll::Reply::joinRejected(QStringLiteral("rejected"));
    }
}

void checkToken(const QString& token)
{
    if (oll::SessionStore::isWellFormedToken(token)) {
        FUZZ_CHECK(oll::SessionStore::hashToken(token).size() == 32, show(token));
    } else {
        (void)oll::Reply::invalidSession(token, QStringLiteral("malformed"));
    }
}

void handle(const oll::UpdateInitRequest& req, const oll::Limits& limits)
{
    checkToken(req.sessionToken);
    FUZZ_CHECK(!req.updates.isEmpty() && req.updates.size() <= limits.maxUpdatesPerMessage,
               QString::number(req.updates.size()));
    for (const oll::UpdateRequest& u : req.updates) {
        FUZZ_CHECK(u.localSeqNum >= 1 && u.localSeqNum <= limits.maxSafeInteger, QString::number(u.localSeqNum));
        FUZZ_CHECK(u.afterServerSeqNum >= 0 && u.afterServerSeqNum <= limits.maxSafeInteger,
                   QString::number(u.afterServerSeqNum));
        FUZZ_CHECK(!u.value.isUndefined(), QString());
        checkKey(u.key, limits);
        checkValue(u.value, limits);
    }
}

void handle(const oll::ClientPullRequest& req, const oll::Limits& limits)
{
    checkToken(req.sessionToken);
    FUZZ_CHECK(req.lastServerSeq >= 0 && req.lastServerSeq <= limits.maxSafeInteger,
               QString::number(req.lastServerSeq));
    FUZZ_CHECK(req.epoch.isEmpty() || oll::isValidEpoch(req.epoch), show(req.epoch));
}

void handle(const oll::RecoveryPushRequest& req, const oll::Limits& limits)
{
    checkToken(req.sessionToken);
    FUZZ_CHECK(oll::isValidEpoch(req.epoch), show(req.epoch));
    FUZZ_CHECK(req.entries.size() <= limits.maxUpdatesPerMessage, QString::number(req.entries.size()));
    qint64 previous = 0;
    for (const oll::RecoveredEntry& e : req.entries) {
        FUZZ_CHECK(e.serverSeqNum > previous && e.serverSeqNum <= limits.maxSafeInteger,
                   QString::number(e.serverSeqNum));
        previous = e.serverSeqNum;
        FUZZ_CHECK(e.localSeqNum >= 1 && !e.value.isUndefined(), QString::number(e.localSeqNum));
        checkKey(e.key, limits);
        checkValue(e.value, limits);
    }
}

void handle(const oll::RestoreMeetRequest& req, const oll::Limits& limits)
{
    FUZZ_CHECK(oll::isValidEpoch(req.epoch), show(req.epoch));
    FUZZ_CHECK(req.endpoints.size() <= limits.maxEndpoints, QString::number(req.endpoints.size()));
    (void)oll::normalizeMeetId(req.meetId);
    (void)oll::validateCreate(oll::CreateMeetRequest{req.thisLocationName, req.password, req.endpoints, req.clientId},
                              limits);
    (void)oll::Reply::restoreRejected(QStringLiteral("rejected"), 2000, true);
}

void handle(const oll::JoinDisplayRequest& req, const oll::Limits& limits)
{
    // As LiveServer does: only a well-formed token is hashed; the clientId is checked first.
    (void)oll::isValidClientId(req.clientId, limits.maxClientIdLength);
    checkToken(req.displayToken);
    (void)oll::Reply::joinRejected(QStringLiteral("unknown or revoked display link"));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const oll::Limits limits{};
    if (size > static_cast<size_t>(limits.maxMessageBytes)) {
        return 0; // Qt closes the socket before the parser sees such a frame.
    }
    const QByteArray frame(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    const auto parsed = oll::MessageParser(limits).parse(frame);
    if (const auto* err = std::get_if<oll::ParseError>(&parsed)) {
        switch (err->kind) {
        case oll::ParseError::Kind::Malformed:
            FUZZ_CHECK(!err->errMsg.isEmpty(), QString());
            (void)oll::Reply::malformed(err->errMsg);
            break;
        case oll::ParseError::Kind::UnknownType:
            FUZZ_CHECK(err->msgType.size() <= 64, show(err->msgType));
            (void)oll::Reply::unknownType(err->msgType);
            break;
        case oll::ParseError::Kind::LimitExceeded:
            FUZZ_CHECK(!err->limitName.isEmpty() && err->limitMax > 0, err->limitName);
            (void)oll::Reply::limitExceeded(err->limitName, err->limitMax, err->errMsg);
            break;
        }
        return 0;
    }
    std::visit([&limits](const auto& request) { handle(request, limits); }, std::get<oll::Request>(parsed));
    return 0;
}
