// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QObject>
#include <QThreadPool>

#include <functional>

namespace oll {

/// Runs password hashing off the event loop: at most `concurrency` at once (each scrypt holds
/// tens of MiB), at most `maxPending` queued or running. Results come back on this object's
/// thread; destroying the worker waits for running hashes and drops their callbacks.
class AuthWorker : public QObject
{
    Q_OBJECT
public:
    AuthWorker(int concurrency, int maxPending, QObject* parent = nullptr);
    ~AuthWorker() override;
    AuthWorker(const AuthWorker&) = delete;
    AuthWorker& operator=(const AuthWorker&) = delete;

    /// Queues `work` (run on a pool thread) and then `done` (run on this object's thread).
    /// Returns false, running nothing, when `maxPending` jobs are already queued.
    bool run(std::function<void()> work, std::function<void()> done);
    int pending() const { return m_pending; }

private:
    QThreadPool m_pool;
    int m_maxPending;
    int m_pending = 0;
};

} // namespace oll
