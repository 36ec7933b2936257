#include "util/Clock.h"

#include <QDateTime>

namespace oll {

qint64 SystemClock::nowMs() const
{
    return QDateTime::currentMSecsSinceEpoch();
}

} // namespace oll
