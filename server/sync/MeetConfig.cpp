// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/MeetConfig.h"

#include <QDateTime>
#include <QJsonArray>

namespace oll {

std::optional<qint64> MeetConfig::priorityOf(const QString& locationName) const
{
    for (const Endpoint& ep : endpoints) {
        if (ep.locationName == locationName) {
            return ep.priority;
        }
    }
    return std::nullopt;
}

QJsonArray MeetConfig::endpointsJson() const
{
    QJsonArray arr;
    for (const Endpoint& ep : endpoints) {
        arr.append(QJsonObject{{QStringLiteral("locationName"), ep.locationName},
                               {QStringLiteral("priority"), static_cast<double>(ep.priority)}});
    }
    return arr;
}

QJsonObject MeetConfig::toJson() const
{
    return {
        {QStringLiteral("formatVersion"), 1},
        {QStringLiteral("meetId"), meetId},
        {QStringLiteral("createdAt"), QDateTime::fromMSecsSinceEpoch(createdMs, Qt::UTC).toString(Qt::ISODateWithMs)},
        {QStringLiteral("password"), password.toJson()},
        {QStringLiteral("endpoints"), endpointsJson()}};
}

std::optional<MeetConfig> MeetConfig::fromJson(const QJsonObject& obj, QString* error)
{
    auto fail = [error](const QString& why) -> std::optional<MeetConfig> {
        if (error) {
            *error = why;
        }
        return std::nullopt;
    };
    if (obj.value(QStringLiteral("formatVersion")).toInt() != 1) {
        return fail(QStringLiteral("unsupported formatVersion"));
    }
    MeetConfig c;
    c.meetId = obj.value(QStringLiteral("meetId")).toString();
    if (!normalizeMeetId(c.meetId) || c.meetId.size() != 9) {
        return fail(QStringLiteral("invalid meetId"));
    }
    const auto pw = PasswordHash::fromJson(obj.value(QStringLiteral("password")).toObject());
    if (!pw) {
        return fail(QStringLiteral("invalid password hash"));
    }
    c.password = *pw;
    const QDateTime created
        = QDateTime::fromString(obj.value(QStringLiteral("createdAt")).toString(), Qt::ISODateWithMs);
    c.createdMs = created.isValid() ? created.toMSecsSinceEpoch() : 0;
    const QJsonArray eps = obj.value(QStringLiteral("endpoints")).toArray();
    for (const QJsonValue& v : eps) {
        const QJsonObject o = v.toObject();
        Endpoint ep;
        ep.locationName = o.value(QStringLiteral("locationName")).toString();
        ep.priority = o.value(QStringLiteral("priority")).toInteger();
        if (ep.locationName.isEmpty()) {
            return fail(QStringLiteral("endpoint without a name"));
        }
        c.endpoints.append(ep);
    }
    if (c.endpoints.isEmpty()) {
        return fail(QStringLiteral("no endpoints"));
    }
    return c;
}

} // namespace oll
