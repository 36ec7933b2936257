// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/AuthWorker.h"

namespace oll {

AuthWorker::AuthWorker(int concurrency, int maxPending, QObject* parent)
    : QObject(parent)
    , m_maxPending(maxPending)
{
    m_pool.setMaxThreadCount(qMax(1, concurrency));
}

AuthWorker::~AuthWorker()
{
    m_pool.clear();
    m_pool.waitForDone();
}

bool AuthWorker::run(std::function<void()> work, std::function<void()> done)
{
    if (m_pending >= m_maxPending) {
        return false;
    }
    ++m_pending;
    m_pool.start([this, work = std::move(work), done = std::move(done)]() mutable {
        work();
        QMetaObject::invokeMethod(
            this,
            [this, done = std::move(done)] {
                --m_pending;
                done();
            },
            Qt::QueuedConnection);
    });
    return true;
}

} // namespace oll
