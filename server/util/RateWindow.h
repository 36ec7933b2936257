// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QHash>
#include <QList>
#include <QString>

namespace oll {

/// Counts events per key within a sliding time window; used to cap how many meets one address
/// may create per hour.
class RateWindow
{
public:
    RateWindow(int maxEvents, qint64 windowMs)
        : m_max(maxEvents)
        , m_windowMs(windowMs)
    {
    }

    /// Records an event for `key` at `nowMs` if the window has room; false (nothing recorded) if not.
    bool tryRecord(const QString& key, qint64 nowMs)
    {
        QList<qint64>& times = m_events[key];
        while (!times.isEmpty() && nowMs - times.first() >= m_windowMs) {
            times.removeFirst();
        }
        if (times.size() >= m_max) {
            return false;
        }
        times.append(nowMs);
        if (m_events.size() > 10'000) {
            prune(nowMs);
        }
        return true;
    }

    /// Milliseconds until `key` has room again (0 if it has room now).
    qint64 retryAfterMs(const QString& key, qint64 nowMs) const
    {
        const QList<qint64> times = m_events.value(key);
        if (times.size() < m_max) {
            return 0;
        }
        return qMax<qint64>(0, times[times.size() - m_max] + m_windowMs - nowMs);
    }

private:
    void prune(qint64 nowMs)
    {
        for (auto it = m_events.begin(); it != m_events.end();) {
            if (it->isEmpty() || nowMs - it->last() >= m_windowMs) {
                it = m_events.erase(it);
            } else {
                ++it;
            }
        }
    }

    int m_max;
    qint64 m_windowMs;
    QHash<QString, QList<qint64>> m_events;
};

} // namespace oll
