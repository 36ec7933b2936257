// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "auth/PasswordHasher.h"
#include "protocol/Messages.h"

#include <QJsonArray>
#include <QJsonObject>

#include <optional>

namespace oll {

/// What auth.json holds for a meet: its ID, its endpoints (locations with priorities) and the
/// scrypt hash of its password.
struct MeetConfig
{
    QString meetId;
    QList<Endpoint> endpoints;
    PasswordHash password;
    qint64 createdMs = 0;

    std::optional<qint64> priorityOf(const QString& locationName) const;
    QJsonObject toJson() const;
    static std::optional<MeetConfig> fromJson(const QJsonObject& obj, QString* error);
    /// Endpoints as sent to clients: [{locationName, priority}].
    QJsonArray endpointsJson() const;
};

} // namespace oll
