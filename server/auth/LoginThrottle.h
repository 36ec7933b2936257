#pragma once

#include <QHash>
#include <QString>

namespace oll {

class Clock;

/// Failed joins per (peer address, meet ID). After `freeFailures` failures each further one
/// blocks the pair for base·2^k ms (capped); a success clears the record. Keeps password
/// guessing at a few attempts per minute without locking out the other locations of the meet.
class LoginThrottle
{
public:
    LoginThrottle(const Clock& clock, int freeFailures, qint64 baseMs, qint64 maxMs)
        : m_clock(clock), m_freeFailures(freeFailures), m_baseMs(baseMs), m_maxMs(maxMs)
    {
    }

    /// 0 if an attempt may proceed now, else the milliseconds until it may.
    qint64 retryAfterMs(const QString& address, const QString& meetId) const;
    void recordFailure(const QString& address, const QString& meetId);
    void recordSuccess(const QString& address, const QString& meetId);
    int failures(const QString& address, const QString& meetId) const;
    /// Forgets records idle for longer than the maximum back-off; bounds memory.
    void prune();
    int size() const { return static_cast<int>(m_records.size()); }

private:
    struct Record
    {
        int failures = 0;
        qint64 blockedUntilMs = 0;
        qint64 lastFailureMs = 0;
    };
    static QString keyOf(const QString& address, const QString& meetId) { return address + u'|' + meetId; }

    const Clock& m_clock;
    int m_freeFailures;
    qint64 m_baseMs;
    qint64 m_maxMs;
    QHash<QString, Record> m_records;
};

} // namespace oll
