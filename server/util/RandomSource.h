// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

#include <cstdint>

namespace oll {

/// Source of random bytes. Production uses the OpenSSL CSPRNG; tests may inject a seeded one so
/// that meet IDs and tokens are reproducible.
class RandomSource
{
public:
    virtual ~RandomSource() = default;
    /// Fills and returns n random bytes. Throws std::runtime_error if the generator fails: a
    /// weak token is worse than a refused request.
    virtual QByteArray bytes(int n) = 0;

    /// Uniform integer in [0, bound) by rejection sampling (no modulo bias).
    std::uint32_t uniform(std::uint32_t bound);
    /// n decimal digits, each uniform; leading zeros allowed.
    QString digits(int n);
};

class CsprngRandomSource final : public RandomSource
{
public:
    QByteArray bytes(int n) override;
};

/// Deterministic generator (splitmix64) for tests only.
class SeededRandomSource final : public RandomSource
{
public:
    explicit SeededRandomSource(std::uint64_t seed)
        : m_state(seed)
    {
    }
    QByteArray bytes(int n) override;

private:
    std::uint64_t m_state;
};

} // namespace oll
