// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QHash>
#include <QString>

namespace oll {

class Clock;

/// Failed joins, counted per (peer address, meet ID) and per address across all meets. After a
/// budget of failures, each further one blocks for base·2^k ms (capped); a success clears the
/// pair. The pair budget keeps guessing one meet's password to a few tries a minute without
/// locking out the meet's other locations; the address budget stops one peer from cycling
/// through meet IDs. Memory is bounded: at most `maxRecords` records, the oldest evicted.
class LoginThrottle
{
public:
    struct Budget
    {
        int perPair = 5;
        int perAddress = 20;
        qint64 baseMs = 1000;
        qint64 maxMs = 5 * 60 * 1000;
        int maxRecords = 50'000;
    };

    LoginThrottle(const Clock& clock, Budget budget)
        : m_clock(clock)
        , m_budget(budget)
    {
    }

    /// 0 if an attempt may proceed now, else the milliseconds until it may.
    qint64 retryAfterMs(const QString& address, const QString& meetId) const;
    void recordFailure(const QString& address, const QString& meetId);
    void recordSuccess(const QString& address, const QString& meetId);
    /// Recent failures of the pair (a pair quiet for longer than the maximum block has none).
    int failures(const QString& address, const QString& meetId) const;
    /// Forgets records quiet for longer than the maximum block, then the oldest beyond maxRecords.
    void prune();
    int size() const { return static_cast<int>(m_records.size()); }

private:
    struct Record
    {
        int failures = 0;
        qint64 blockedUntilMs = 0;
        qint64 lastFailureMs = 0;
    };
    static QString pairKey(const QString& address, const QString& meetId) { return address + u'|' + meetId; }
    static QString addressKey(const QString& address) { return address + QStringLiteral("|*"); }
    void bump(const QString& key, int freeFailures, qint64 now);
    qint64 remaining(const QString& key, qint64 now) const;

    const Clock& m_clock;
    Budget m_budget;
    QHash<QString, Record> m_records;
};

} // namespace oll
