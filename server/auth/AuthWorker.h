#pragma once

#include <QObject>
#include <QThreadPool>

#include <functional>

namespace oll {

/// Runs password hashing off the event loop: at most `concurrency` at once (each scrypt holds
/// tens of MiB), at most `maxPending` queued or running. Results come back on this object's
/// thread; a callback whose context object is gone by then is dropped.
class AuthWorker : public QObject
{
    Q_OBJECT
public:
    AuthWorker(int concurrency, int maxPending, QObject* parent = nullptr);
    ~AuthWorker() override;
    AuthWorker(const AuthWorker&) = delete;
    AuthWorker& operator=(const AuthWorker&) = delete;

    /// Queues `work` (run on a pool thread) and then `done` (run on this thread while `context`
    /// lives). Returns false, running nothing, when `maxPending` jobs are already queued.
    bool run(std::function<void()> work, QObject* context, std::function<void()> done);
    int pending() const { return m_pending; }

private:
    QThreadPool m_pool;
    int m_maxPending;
    int m_pending = 0;
};

} // namespace oll
