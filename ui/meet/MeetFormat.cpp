// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MeetFormat.h"

#include "protocol/KeyPath.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

namespace oll::ui {

QString MeetFormat::clockTime(qint64 wallMs)
{
    return QDateTime::fromMSecsSinceEpoch(wallMs).toString(QStringLiteral("HH:mm:ss"));
}

QString MeetFormat::dateTime(qint64 wallMs)
{
    return QDateTime::fromMSecsSinceEpoch(wallMs).toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

QString MeetFormat::ago(qint64 thenMs, qint64 nowMs)
{
    const qint64 seconds = std::max<qint64>(0, (nowMs - thenMs) / 1000);
    if (seconds < 60)
        return tr("just now");
    if (seconds < 3600)
        return tr("%1 min ago").arg(seconds / 60);
    if (seconds < 86400)
        return tr("%1 h ago").arg(seconds / 3600);
    return seconds < 2 * 86400 ? tr("1 day ago") : tr("%1 days ago").arg(seconds / 86400);
}

QString MeetFormat::since(qint64 thenMs, qint64 nowMs)
{
    const qint64 seconds = std::max<qint64>(0, (nowMs - thenMs) / 1000);
    if (seconds < 60)
        return tr("for less than a minute");
    if (seconds < 3600)
        return tr("for %1 min").arg(seconds / 60);
    if (seconds < 86400)
        return tr("for %1 h").arg(seconds / 3600);
    return seconds < 2 * 86400 ? tr("for 1 day") : tr("for %1 days").arg(seconds / 86400);
}

QString MeetFormat::bytes(qint64 count)
{
    if (count < 1024)
        return tr("%1 B").arg(count);
    if (count < 1024 * 1024)
        return tr("%1 KB").arg(QLocale().toString(static_cast<double>(count) / 1024.0, 'f', 1));
    return tr("%1 MB").arg(QLocale().toString(static_cast<double>(count) / (1024.0 * 1024.0), 'f', 1));
}

QString MeetFormat::describeKey(const QString& key)
{
    // Generous bounds: this only formats keys the server already accepted.
    const auto path = KeyPath::parse(key, 1 << 16, 1 << 10);
    if (!path)
        return key;
    QStringList parts;
    for (const KeyPath::Segment& s : path->segments()) {
        switch (s.kind) {
        case KeyPath::Segment::Kind::Field:
            parts.append(s.name);
            break;
        case KeyPath::Segment::Kind::Index:
            if (parts.isEmpty())
                parts.append(tr("item %1").arg(s.number + 1));
            else
                parts.last() = tr("%1 #%2").arg(parts.last()).arg(s.number + 1);
            break;
        case KeyPath::Segment::Kind::Id:
            // "entries" + [id=1001007] reads as "entry id 1001007".
            if (!parts.isEmpty() && parts.last() == QLatin1String("entries"))
                parts.last() = tr("entry id %1").arg(s.number);
            else if (!parts.isEmpty())
                parts.last() = tr("%1 id %2").arg(parts.last()).arg(s.number);
            else
                parts.append(tr("id %1").arg(s.number));
            break;
        }
    }
    return parts.join(QStringLiteral(" › "));
}

QString MeetFormat::value(const QJsonValue& value, int maxChars)
{
    QString text;
    switch (value.type()) {
    case QJsonValue::Null:
    case QJsonValue::Undefined:
        text = tr("(deleted)");
        break;
    case QJsonValue::Bool:
        text = value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
        break;
    case QJsonValue::Double:
        text = QString::number(value.toDouble(), 'g', 15);
        break;
    case QJsonValue::String:
        text = QLatin1Char('"') + value.toString() + QLatin1Char('"');
        break;
    case QJsonValue::Array:
        text = QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Object:
        text = QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
        break;
    }
    if (text.size() > maxChars)
        text = text.left(maxChars - 1) + QChar(0x2026);
    return text;
}

QString MeetFormat::shortClientId(const QString& clientId)
{
    return clientId.left(8);
}

} // namespace oll::ui
