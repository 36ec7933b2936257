// SPDX-License-Identifier: AGPL-3.0-or-later
#include "OpenLifterFile.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QSet>

#include <cmath>

namespace oll {

namespace {

constexpr qint64 kMaxFileBytes = 64 * 1024 * 1024; // the largest real meets are a few hundred KB
constexpr double kMaxSafeInteger = 9007199254740991.0;

/// A member name an update key can address with `.name` (docs/protocol.md §7).
bool isFieldName(const QString& name)
{
    static const QRegularExpression re(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*$"));
    return re.match(name).hasMatch();
}

/// OpenLifter's ids: non-negative safe integers (JSON numbers, so read as double).
std::optional<qint64> entryId(const QJsonValue& entry)
{
    if (!entry.isObject()) {
        return std::nullopt;
    }
    const QJsonValue id = entry.toObject().value(QStringLiteral("id"));
    if (!id.isDouble()) {
        return std::nullopt;
    }
    const double d = id.toDouble();
    if (d < 0 || d > kMaxSafeInteger || std::floor(d) != d) {
        return std::nullopt;
    }
    return static_cast<qint64>(d);
}

} // namespace

std::optional<OpenLifterFile> OpenLifterFile::load(const QString& path, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    if (f.size() > kMaxFileBytes) {
        *error = QStringLiteral("%1 is %2 bytes; an OpenLifter meet file is far smaller").arg(path).arg(f.size());
        return std::nullopt;
    }
    return parse(f.readAll(), path, error);
}

std::optional<OpenLifterFile> OpenLifterFile::parse(const QByteArray& bytes, const QString& what, QString* error)
{
    QJsonParseError pe;
    const QJsonDocument doc = QJsonDocument::fromJson(bytes, &pe);
    if (pe.error != QJsonParseError::NoError) {
        *error = QStringLiteral("%1 is not JSON (%2 at offset %3); expected a file saved with OpenLifter's "
                                "Home → Save to File")
                     .arg(what, pe.errorString())
                     .arg(pe.offset);
        return std::nullopt;
    }
    if (!doc.isObject()) {
        *error = QStringLiteral("%1 is not an OpenLifter meet: the top level is not an object").arg(what);
        return std::nullopt;
    }
    const QJsonObject state = doc.object();
    if (!state.value(QStringLiteral("meet")).isObject()) {
        *error = QStringLiteral("%1 is not an OpenLifter meet: it has no \"meet\" object").arg(what);
        return std::nullopt;
    }
    const QJsonValue entries = state.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries"));
    if (!entries.isArray()) {
        *error = QStringLiteral("%1 is not an OpenLifter meet: it has no \"registration.entries\" array").arg(what);
        return std::nullopt;
    }
    OpenLifterFile file;
    file.m_state = state;
    return file;
}

QList<KeyedUpdate> OpenLifterFile::meetUpdates() const
{
    QList<KeyedUpdate> out;
    if (m_state.contains(QStringLiteral("versions"))) {
        out.append({QStringLiteral("versions"), m_state.value(QStringLiteral("versions"))});
    }
    const QJsonObject meet = m_state.value(QStringLiteral("meet")).toObject();
    for (auto it = meet.begin(); it != meet.end(); ++it) {
        if (isFieldName(it.key())) { // not addressable otherwise; the adapter skips them too
            out.append({QStringLiteral("meet.") + it.key(), it.value()});
        }
    }
    const QJsonArray entries
        = m_state.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray();
    QList<KeyedUpdate> perEntry;
    QSet<qint64> seen;
    bool keyed = true;
    for (const QJsonValue& e : entries) {
        const std::optional<qint64> id = entryId(e);
        if (!id || seen.contains(*id)) {
            keyed = false; // only the whole array can say what such a list is
            break;
        }
        seen.insert(*id);
        perEntry.append({QStringLiteral("registration.entries[id=%1]").arg(*id), e});
    }
    if (keyed) {
        out += perEntry;
    } else {
        out.append({QStringLiteral("registration.entries"), entries});
    }
    return out;
}

std::optional<KeyedUpdate> OpenLifterFile::liftingPublication(const QJsonObject& lifting, const QString& locationName,
                                                              const QString& clientId) const
{
    const QJsonValue platform = lifting.value(QStringLiteral("platform"));
    if (!platform.isDouble() || platform.toDouble() < 0 || std::floor(platform.toDouble()) != platform.toDouble()
        || platform.toDouble() > kMaxSafeInteger) {
        return std::nullopt;
    }
    const auto id = static_cast<qint64>(platform.toDouble());
    QJsonObject value{{QStringLiteral("id"), id}};
    // PUBLISHED_LIFTING_FIELDS in redux-adapter.js: the column width stays local.
    for (const QString& f :
         {QStringLiteral("day"), QStringLiteral("platform"), QStringLiteral("flight"), QStringLiteral("lift"),
          QStringLiteral("overrideAttempt"), QStringLiteral("overrideEntryId")}) {
        if (lifting.contains(f)) {
            value.insert(f, lifting.value(f));
        }
    }
    value.insert(QStringLiteral("locationName"), locationName);
    value.insert(QStringLiteral("clientId"), clientId);
    return KeyedUpdate{QStringLiteral("live.platforms[id=%1]").arg(id), value};
}

QString OpenLifterFile::meetName() const
{
    return m_state.value(QStringLiteral("meet")).toObject().value(QStringLiteral("name")).toString();
}

int OpenLifterFile::entryCount() const
{
    return static_cast<int>(
        m_state.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray().size());
}

} // namespace oll
