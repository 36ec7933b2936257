#pragma once

#include <QtGlobal>

namespace oll {

/// Wall-clock time in milliseconds since the Unix epoch. Injected everywhere time matters
/// (session expiry, login back-off, journal timestamps) so tests can move time explicitly.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual qint64 nowMs() const = 0;
};

class SystemClock final : public Clock
{
public:
    qint64 nowMs() const override;
};

/// A clock that only moves when told to; for tests.
class ManualClock final : public Clock
{
public:
    explicit ManualClock(qint64 startMs = 1'790'000'000'000) : m_now(startMs) {}
    qint64 nowMs() const override { return m_now; }
    void advanceMs(qint64 ms) { m_now += ms; }
    void setMs(qint64 ms) { m_now = ms; }

private:
    qint64 m_now;
};

} // namespace oll
