#include "auth/LoginThrottle.h"

#include "util/Clock.h"

namespace oll {

qint64 LoginThrottle::retryAfterMs(const QString& address, const QString& meetId) const
{
    const auto it = m_records.constFind(keyOf(address, meetId));
    if (it == m_records.constEnd()) {
        return 0;
    }
    return qMax<qint64>(0, it->blockedUntilMs - m_clock.steadyMs());
}

void LoginThrottle::recordFailure(const QString& address, const QString& meetId)
{
    Record& r = m_records[keyOf(address, meetId)];
    const qint64 now = m_clock.steadyMs();
    // A pair that stayed quiet for longer than the longest block starts over.
    if (r.lastFailureMs != 0 && now - r.lastFailureMs > m_maxMs) {
        r = Record{};
    }
    ++r.failures;
    r.lastFailureMs = now;
    if (r.failures >= m_freeFailures) {
        const int excess = qMin(r.failures - m_freeFailures, 30);
        const qint64 block = qMin(m_maxMs, m_baseMs << excess);
        r.blockedUntilMs = now + block;
    }
    if (m_records.size() > 100'000) {
        prune();
    }
}

void LoginThrottle::recordSuccess(const QString& address, const QString& meetId)
{
    m_records.remove(keyOf(address, meetId));
}

int LoginThrottle::failures(const QString& address, const QString& meetId) const
{
    return m_records.value(keyOf(address, meetId)).failures;
}

void LoginThrottle::prune()
{
    const qint64 now = m_clock.steadyMs();
    for (auto it = m_records.begin(); it != m_records.end();) {
        if (now - it->lastFailureMs > m_maxMs && now >= it->blockedUntilMs) {
            it = m_records.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace oll
