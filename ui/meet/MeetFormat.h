// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QCoreApplication>
#include <QJsonValue>
#include <QString>

namespace oll::ui {

/// How the meet view writes times, sizes, keys and values. Pure functions of their arguments
/// (the clock is passed in), so the models that use them are testable with synthetic data.
class MeetFormat
{
    Q_DECLARE_TR_FUNCTIONS(MeetFormat)
public:
    /// "14:03:27" in local time.
    static QString clockTime(qint64 wallMs);
    /// "2026-12-02 14:03:27" in local time (tooltips).
    static QString dateTime(qint64 wallMs);
    /// "just now", "3 min ago", "2 h ago", "5 days ago" (from `thenMs` to `nowMs`).
    static QString ago(qint64 thenMs, qint64 nowMs);
    /// "for 3 min" style duration since `thenMs`.
    static QString since(qint64 thenMs, qint64 nowMs);
    /// "0 B", "12.3 KB", "4.0 MB".
    static QString bytes(qint64 count);
    /// A key such as registration.entries[id=1001007].bodyweightKg spelled for people:
    /// "registration › entry id 1001007 › bodyweightKg". Falls back to the key itself.
    static QString describeKey(const QString& key);
    /// A JSON value as compact text, cut at `maxChars` with an ellipsis.
    static QString value(const QJsonValue& value, int maxChars = 120);
    /// First 8 characters of a clientId (the table column); the full id goes in the tooltip.
    static QString shortClientId(const QString& clientId);
};

} // namespace oll::ui
