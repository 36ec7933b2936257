// SPDX-License-Identifier: AGPL-3.0-or-later
#include "util/RandomSource.h"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace oll {

std::uint32_t RandomSource::uniform(std::uint32_t bound)
{
    if (bound < 2) {
        return 0;
    }
    // Largest multiple of bound that fits in 2^32; values at or above it are redrawn.
    const std::uint64_t range = std::uint64_t{1} << 32U;
    const std::uint64_t limit = range - (range % bound);
    for (;;) {
        const QByteArray raw = bytes(4);
        std::uint32_t v = 0;
        std::memcpy(&v, raw.constData(), sizeof v);
        if (v < limit) {
            return v % bound;
        }
    }
}

QString RandomSource::digits(int n)
{
    QString out;
    out.reserve(n);
    for (int i = 0; i < n; ++i) {
        out.append(QChar(u'0' + static_cast<char16_t>(uniform(10))));
    }
    return out;
}

QByteArray CsprngRandomSource::bytes(int n)
{
    QByteArray out(n, Qt::Uninitialized);
    if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), n) != 1) {
        throw std::runtime_error("OpenSSL RAND_bytes failed");
    }
    return out;
}

QByteArray SeededRandomSource::bytes(int n)
{
    QByteArray out(n, Qt::Uninitialized);
    for (int i = 0; i < n; i += 8) {
        m_state += 0x9E3779B97F4A7C15ULL;
        std::uint64_t z = m_state;
        z = (z ^ (z >> 30U)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27U)) * 0x94D049BB133111EBULL;
        z ^= z >> 31U;
        std::memcpy(out.data() + i, &z, static_cast<size_t>(qMin(8, n - i)));
    }
    return out;
}

} // namespace oll
