// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/SerialExecutor.h"

#include <QThreadPool>

namespace oll {

SerialExecutor::SerialExecutor(QThreadPool* pool, QObject* parent)
    : QObject(parent)
    , m_pool(pool)
{
}

SerialExecutor::~SerialExecutor()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    m_finished.wait(lock, [this] { return m_workersActive == 0; });
}

void SerialExecutor::post(std::function<void()> work, std::function<void()> done)
{
    if (!m_pool) {
        // Inline mode (deterministic simulations): the job and its completion run right here.
        work();
        if (done) {
            done();
        }
        return;
    }
    m_queue.push_back(Job{std::move(work), std::move(done)});
    if (!m_running) {
        startNext();
    }
}

void SerialExecutor::startNext()
{
    if (m_queue.empty()) {
        m_running = false;
        Q_EMIT idle();
        return;
    }
    m_running = true;
    Job job = std::move(m_queue.front());
    m_queue.pop_front();
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        ++m_workersActive;
    }
    auto done = std::move(job.done);
    m_pool->start([this, work = std::move(job.work), done = std::move(done)]() mutable {
        work();
        // Post the completion before signalling the destructor: once posted, deleting this object
        // discards the event safely; after the notify this object may be gone.
        QMetaObject::invokeMethod(
            this,
            [this, done = std::move(done)] {
                if (done) {
                    done();
                }
                startNext();
            },
            Qt::QueuedConnection);
        std::lock_guard<std::mutex> lock(m_mutex);
        --m_workersActive;
        m_finished.notify_all();
    });
}

} // namespace oll
