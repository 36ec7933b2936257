// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>

#include <algorithm>
#include <cmath>

namespace oll::bench {

/// Nearest-rank percentile of a sample (p in 0..100).
inline double percentile(QList<double> v, double p)
{
    if (v.isEmpty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    const auto rank = static_cast<qsizetype>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
    return v[std::clamp<qsizetype>(rank - 1, 0, v.size() - 1)];
}

inline QString summary(const QList<double>& ms)
{
    return QStringLiteral("n=%1 p50=%2 ms p90=%3 ms p99=%4 ms max=%5 ms")
        .arg(ms.size())
        .arg(percentile(ms, 50), 0, 'f', 2)
        .arg(percentile(ms, 90), 0, 'f', 2)
        .arg(percentile(ms, 99), 0, 'f', 2)
        .arg(percentile(ms, 100), 0, 'f', 2);
}

} // namespace oll::bench
