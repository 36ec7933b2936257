// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QObject>

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

class QThreadPool;

namespace oll {

/// Runs one meet's file work (journal flushes, session and auth file writes) in order, one job
/// at a time, on a shared thread pool, and calls each job's `done` back on this object's thread.
/// Flushes therefore never block the event loop, and one meet's slow disk never delays another
/// meet's relays.
class SerialExecutor : public QObject
{
    Q_OBJECT
public:
    /// With a null `pool`, every job runs inline inside post(), completion included: for
    /// deterministic simulations, never for a server that must keep its event loop free.
    explicit SerialExecutor(QThreadPool* pool, QObject* parent = nullptr);
    /// Waits for a running job; queued jobs that have not started are dropped with their callbacks.
    ~SerialExecutor() override;
    SerialExecutor(const SerialExecutor&) = delete;
    SerialExecutor& operator=(const SerialExecutor&) = delete;

    void post(std::function<void()> work, std::function<void()> done = {});
    bool isIdle() const { return !m_running && m_queue.empty(); }

Q_SIGNALS:
    void idle();

private:
    struct Job
    {
        std::function<void()> work;
        std::function<void()> done;
    };
    void startNext();

    QThreadPool* m_pool;
    std::deque<Job> m_queue;
    bool m_running = false;

    std::mutex m_mutex;
    std::condition_variable m_finished;
    // Pool threads still inside a job's lambda. A count, not a flag: job N's thread may still be
    // finishing after job N+1 has started on another thread.
    int m_workersActive = 0;
};

} // namespace oll
