// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QJsonObject>
#include <QJsonValue>
#include <QList>
#include <QPair>
#include <QString>

#include <optional>

namespace oll {

using KeyedUpdate = QPair<QString, QJsonValue>;

/// A meet saved by OpenLifter (Home → Save to File: its whole Redux state as one JSON object),
/// turned into the update keys OpenLifter's Redux adapter (resources/web/lib/redux-adapter.js)
/// sends for it. The adapter's diff against a meet document that has the slices but nothing in
/// them gives: `versions` whole, one `meet.<field>` per member, one `registration.entries[id=N]`
/// per entry (the whole array only when ids are missing or repeated); `registration.lookup` and
/// `nextEntryId` are derived or local and never sent; `lifting` is the scoring table's own view,
/// published by that table as `live.platforms[id=<platform>]`.
class OpenLifterFile
{
public:
    /// Reads and checks `path`. nullopt with a message that names the problem otherwise.
    static std::optional<OpenLifterFile> load(const QString& path, QString* error);
    /// The same from bytes already read (`what` names them in messages).
    static std::optional<OpenLifterFile> parse(const QByteArray& bytes, const QString& what, QString* error);

    /// The registration desk's updates: versions, meet members, entries.
    QList<KeyedUpdate> meetUpdates() const;
    /// The scoring table's publication of its platform (as the adapter's liftingPublication),
    /// or nullopt when the file's `lifting` names no platform.
    std::optional<KeyedUpdate> liftingPublication(const QJsonObject& lifting, const QString& locationName,
                                                  const QString& clientId) const;
    QJsonObject lifting() const { return m_state.value(QStringLiteral("lifting")).toObject(); }

    QString meetName() const;
    int entryCount() const;

private:
    QJsonObject m_state;
};

} // namespace oll
