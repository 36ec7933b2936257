// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/LoginThrottle.h"

#include "util/Clock.h"

#include <algorithm>
#include <vector>

namespace oll {

qint64 LoginThrottle::remaining(const QString& key, qint64 now) const
{
    const auto it = m_records.constFind(key);
    return it == m_records.constEnd() ? 0 : qMax<qint64>(0, it->blockedUntilMs - now);
}

qint64 LoginThrottle::retryAfterMs(const QString& address, const QString& meetId) const
{
    const qint64 now = m_clock.steadyMs();
    return qMax(remaining(pairKey(address, meetId), now), remaining(addressKey(address), now));
}

void LoginThrottle::bump(const QString& key, int freeFailures, qint64 now)
{
    Record& r = m_records[key];
    // A record that stayed quiet for longer than the longest block starts over.
    if (r.lastFailureMs != 0 && now - r.lastFailureMs > m_budget.maxMs) {
        r = Record{};
    }
    ++r.failures;
    r.lastFailureMs = now;
    if (r.failures >= freeFailures) {
        const int excess = qMin(r.failures - freeFailures, 30);
        r.blockedUntilMs = now + qMin(m_budget.maxMs, m_budget.baseMs << excess);
    }
}

void LoginThrottle::recordFailure(const QString& address, const QString& meetId)
{
    const qint64 now = m_clock.steadyMs();
    bump(pairKey(address, meetId), m_budget.perPair, now);
    bump(addressKey(address), m_budget.perAddress, now);
    if (m_records.size() > m_budget.maxRecords) {
        prune();
    }
}

void LoginThrottle::recordSuccess(const QString& address, const QString& meetId)
{
    m_records.remove(pairKey(address, meetId));
}

int LoginThrottle::failures(const QString& address, const QString& meetId) const
{
    const auto it = m_records.constFind(pairKey(address, meetId));
    if (it == m_records.constEnd() || m_clock.steadyMs() - it->lastFailureMs > m_budget.maxMs) {
        return 0;
    }
    return it->failures;
}

void LoginThrottle::prune()
{
    const qint64 now = m_clock.steadyMs();
    for (auto it = m_records.begin(); it != m_records.end();) {
        if (now - it->lastFailureMs > m_budget.maxMs && now >= it->blockedUntilMs) {
            it = m_records.erase(it);
        } else {
            ++it;
        }
    }
    if (m_records.size() <= m_budget.maxRecords) {
        return;
    }
    // Still too many (a flood of fresh failures): drop the oldest quarter in one pass, so the
    // cost is paid rarely rather than on every failure.
    std::vector<qint64> times;
    times.reserve(static_cast<size_t>(m_records.size()));
    for (const Record& r : std::as_const(m_records)) {
        times.push_back(r.lastFailureMs);
    }
    const size_t cut = times.size() / 4;
    std::nth_element(times.begin(), times.begin() + static_cast<std::ptrdiff_t>(cut), times.end());
    const qint64 threshold = times[cut];
    // Count what goes, so that many records sharing one millisecond still free a quarter.
    size_t erased = 0;
    for (auto it = m_records.begin(); it != m_records.end() && erased < cut + 1;) {
        if (it->lastFailureMs <= threshold) {
            it = m_records.erase(it);
            ++erased;
        } else {
            ++it;
        }
    }
}

} // namespace oll
