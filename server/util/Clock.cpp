// SPDX-License-Identifier: AGPL-3.0-or-later
#include "util/Clock.h"

#include <QDateTime>

#include <chrono>

namespace oll {

qint64 SystemClock::nowMs() const
{
    return QDateTime::currentMSecsSinceEpoch();
}

qint64 SystemClock::steadyMs() const
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace oll
