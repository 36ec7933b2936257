// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/ConflictRecord.h"

#include <QJsonArray>
#include <QJsonDocument>

namespace oll {
namespace {

QJsonObject partyJson(const ConflictParty& p)
{
    return QJsonObject{{QStringLiteral("serverSeqNum"), p.serverSeqNum},
                       {QStringLiteral("locationName"), p.locationName},
                       {QStringLiteral("clientId"), p.clientId},
                       {QStringLiteral("priority"), p.priority}};
}

ConflictParty partyFrom(const QJsonObject& o)
{
    ConflictParty p;
    p.serverSeqNum = o.value(QStringLiteral("serverSeqNum")).toInteger();
    p.locationName = o.value(QStringLiteral("locationName")).toString();
    p.clientId = o.value(QStringLiteral("clientId")).toString();
    p.priority = o.value(QStringLiteral("priority")).toInteger();
    return p;
}

} // namespace

QJsonObject ConflictRecord::toJson() const
{
    QJsonObject o{{QStringLiteral("outcome"),
                   outcome == Outcome::Rejected ? QStringLiteral("rejected") : QStringLiteral("overruled")},
                  {QStringLiteral("timeMs"), timeMs},
                  {QStringLiteral("updateKey"), key},
                  {QStringLiteral("updateValue"), value},
                  {QStringLiteral("clientId"), clientId},
                  {QStringLiteral("localSeqNum"), localSeqNum},
                  {QStringLiteral("locationName"), locationName},
                  {QStringLiteral("priority"), priority},
                  {QStringLiteral("afterServerSeqNum"), afterServerSeqNum}};
    if (recovered) {
        o.insert(QStringLiteral("recovered"), true);
    }
    if (outcome == Outcome::Rejected) {
        o.insert(QStringLiteral("winner"), partyJson(winner));
    } else {
        o.insert(QStringLiteral("serverSeqNum"), serverSeqNum);
        QJsonArray arr;
        for (const ConflictParty& p : overruled) {
            arr.append(partyJson(p));
        }
        o.insert(QStringLiteral("overruled"), arr);
    }
    return o;
}

QByteArray ConflictRecord::toLine() const
{
    return QJsonDocument(toJson()).toJson(QJsonDocument::Compact) + '\n';
}

std::optional<ConflictRecord> ConflictRecord::fromLine(const QByteArray& line)
{
    const QJsonDocument doc = QJsonDocument::fromJson(line);
    if (!doc.isObject()) {
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    ConflictRecord r;
    const QString outcome = o.value(QStringLiteral("outcome")).toString();
    if (outcome == QStringLiteral("rejected")) {
        r.outcome = Outcome::Rejected;
    } else if (outcome == QStringLiteral("overruled")) {
        r.outcome = Outcome::Overruled;
    } else {
        return std::nullopt;
    }
    if (!o.value(QStringLiteral("updateKey")).isString() || !o.contains(QStringLiteral("updateValue"))
        || !o.value(QStringLiteral("clientId")).isString() || !o.value(QStringLiteral("localSeqNum")).isDouble()) {
        return std::nullopt;
    }
    r.timeMs = o.value(QStringLiteral("timeMs")).toInteger();
    r.key = o.value(QStringLiteral("updateKey")).toString();
    r.value = o.value(QStringLiteral("updateValue"));
    r.clientId = o.value(QStringLiteral("clientId")).toString();
    r.localSeqNum = o.value(QStringLiteral("localSeqNum")).toInteger();
    r.locationName = o.value(QStringLiteral("locationName")).toString();
    r.priority = o.value(QStringLiteral("priority")).toInteger();
    r.afterServerSeqNum = o.value(QStringLiteral("afterServerSeqNum")).toInteger();
    r.recovered = o.value(QStringLiteral("recovered")).toBool();
    if (r.outcome == Outcome::Rejected) {
        r.winner = partyFrom(o.value(QStringLiteral("winner")).toObject());
    } else {
        r.serverSeqNum = o.value(QStringLiteral("serverSeqNum")).toInteger();
        for (const QJsonValue& v : o.value(QStringLiteral("overruled")).toArray()) {
            r.overruled.append(partyFrom(v.toObject()));
        }
    }
    return r;
}

ConflictLoad readConflictLog(const QByteArray& content)
{
    ConflictLoad load;
    qsizetype start = 0;
    while (start < content.size()) {
        const qsizetype end = content.indexOf('\n', start);
        if (end < 0) {
            break; // a torn last line: never flushed, so never reported to anyone
        }
        if (auto r = ConflictRecord::fromLine(content.mid(start, end - start))) {
            load.records.append(*r);
            if (load.badLines == 0) {
                load.validBytes = end + 1;
            }
        } else {
            ++load.badLines;
        }
        start = end + 1;
    }
    return load;
}

} // namespace oll
