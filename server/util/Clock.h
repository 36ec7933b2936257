// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QtGlobal>

namespace oll {

/// Time, injected everywhere it matters so tests can move it explicitly.
class Clock
{
public:
    virtual ~Clock() = default;
    /// Wall-clock milliseconds since the Unix epoch: for what is stored or must survive a restart
    /// (session expiry, journal timestamps).
    virtual qint64 nowMs() const = 0;
    /// Monotonic milliseconds from an arbitrary origin: for durations kept in memory (idle
    /// timeouts, login back-off, rate windows), so a corrected wall clock - an offline venue
    /// laptop that syncs its time - cannot drop healthy clients or lift a back-off.
    virtual qint64 steadyMs() const = 0;
};

class SystemClock final : public Clock
{
public:
    qint64 nowMs() const override;
    qint64 steadyMs() const override;
};

/// A clock that only moves when told to; for tests. Both readings move together.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 startMs = 1'790'000'000'000)
        : m_now(startMs)
    {
    }
    qint64 nowMs() const override { return m_now; }
    qint64 steadyMs() const override { return m_now; }
    void advanceMs(qint64 ms) { m_now += ms; }
    void setMs(qint64 ms) { m_now = ms; }

private:
    qint64 m_now;
};

} // namespace oll
