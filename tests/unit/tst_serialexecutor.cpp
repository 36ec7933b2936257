// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/SerialExecutor.h"

#include <QCoreApplication>
#include <QMutex>
#include <QSemaphore>
#include <QSignalSpy>
#include <QTest>
#include <QThread>
#include <QThreadPool>

#include <atomic>
#include <memory>
#include <thread>

using oll::SerialExecutor;

namespace {

// Gives other pool threads a chance to run, so overlapping jobs would actually overlap.
void spin()
{
    for (int k = 0; k < 200; ++k) {
        std::this_thread::yield();
    }
}

} // namespace

class TestSerialExecutor final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Jobs run one at a time, off the main thread, in posting order; each `done` runs on the main thread in order.
    void orderNoOverlapDoneOnMain()
    {
        QThreadPool pool;
        pool.setMaxThreadCount(4);
        SerialExecutor ex(&pool);
        QThread* const mainThread = QThread::currentThread();
        constexpr int kJobs = 200;

        QMutex mutex;
        QList<int> ran;
        bool workOnMain = false;
        std::atomic<int> active{0};
        std::atomic<int> maxActive{0};
        QList<int> doneOrder;
        bool doneOffMain = false;

        for (int i = 0; i < kJobs; ++i) {
            ex.post(
                [&, i] {
                    const int now = ++active;
                    int seen = maxActive.load();
                    while (now > seen && !maxActive.compare_exchange_weak(seen, now)) { }
                    spin();
                    {
                        QMutexLocker lock(&mutex);
                        ran.append(i);
                        workOnMain = workOnMain || QThread::currentThread() == mainThread;
                    }
                    --active;
                },
                [&, i] {
                    doneOrder.append(i);
                    doneOffMain = doneOffMain || QThread::currentThread() != mainThread;
                });
        }
        // QSignalSpy::wait runs a real event loop; QTRY_* would sleep 10 ms between job hand-offs.
        QSignalSpy idleSpy(&ex, &SerialExecutor::idle);
        QVERIFY(idleSpy.wait(10000));
        QCOMPARE(idleSpy.count(), 1);
        QCOMPARE(doneOrder.size(), kJobs);
        QList<int> expected;
        for (int i = 0; i < kJobs; ++i) {
            expected.append(i);
        }
        {
            QMutexLocker lock(&mutex);
            QCOMPARE(ran, expected);
            QVERIFY(!workOnMain);
        }
        QCOMPARE(doneOrder, expected);
        QVERIFY(!doneOffMain);
        QCOMPARE(maxActive.load(), 1);
        QVERIFY(ex.isIdle());
    }

    /// Two executors on one pool each keep their own order and may run side by side.
    void twoExecutorsIndependent()
    {
        QThreadPool pool;
        pool.setMaxThreadCount(2);
        SerialExecutor a(&pool);
        SerialExecutor b(&pool);
        QSemaphore aStarted;
        QSemaphore bRan;
        bool aDone = false;
        bool bDone = false;
        // a's job waits for b's job: this only finishes if b is not queued behind a.
        a.post(
            [&] {
                aStarted.release();
                bRan.acquire();
            },
            [&] { aDone = true; });
        QVERIFY(aStarted.tryAcquire(1, 5000));
        b.post([&] { bRan.release(); }, [&] { bDone = true; });
        QTRY_VERIFY(bDone);
        QTRY_VERIFY(aDone);
    }

    /// isIdle() is false while work is queued or running; idle() is emitted once the queue drains.
    void idleSignal()
    {
        QThreadPool pool;
        SerialExecutor ex(&pool);
        QVERIFY(ex.isIdle());
        QSignalSpy spy(&ex, &SerialExecutor::idle);
        QSemaphore gate;
        int dones = 0;
        ex.post([&] { gate.acquire(); }, [&] { ++dones; });
        ex.post([] {}, [&] { ++dones; });
        ex.post([] {}); // no callback
        QVERIFY(!ex.isIdle());
        QCoreApplication::processEvents();
        QVERIFY(!ex.isIdle());
        QCOMPARE(spy.count(), 0);
        gate.release();
        QTRY_COMPARE(spy.count(), 1);
        QVERIFY(ex.isIdle());
        QCOMPARE(dones, 2);
        QCoreApplication::processEvents();
        QCOMPARE(spy.count(), 1); // once per drain, not once per job

        ex.post([] {});
        QVERIFY(!ex.isIdle());
        QTRY_COMPARE(spy.count(), 2);
        QVERIFY(ex.isIdle());
    }

    /// A `done` callback may post more work; it runs after, in order.
    void postFromDone()
    {
        QThreadPool pool;
        SerialExecutor ex(&pool);
        QMutex mutex;
        QStringList log;
        auto note = [&](const QString& s) {
            QMutexLocker lock(&mutex);
            log.append(s);
        };
        ex.post([&] { note(QStringLiteral("w1")); },
                [&] {
                    note(QStringLiteral("d1"));
                    ex.post([&] { note(QStringLiteral("w3")); }, [&] { note(QStringLiteral("d3")); });
                });
        ex.post([&] { note(QStringLiteral("w2")); }, [&] { note(QStringLiteral("d2")); });
        QSignalSpy spy(&ex, &SerialExecutor::idle);
        QTRY_COMPARE(spy.count(), 1);
        QMutexLocker lock(&mutex);
        QCOMPARE(log,
                 (QStringList{QStringLiteral("w1"), QStringLiteral("d1"), QStringLiteral("w2"), QStringLiteral("d2"),
                              QStringLiteral("w3"), QStringLiteral("d3")}));
    }

    /// Destroying the executor while a job runs waits for that job, then drops queued jobs and callbacks.
    void destroyWhileRunning()
    {
        QThreadPool pool;
        pool.setMaxThreadCount(2);
        auto ex = std::make_unique<SerialExecutor>(&pool);
        QSemaphore started;
        QSemaphore gate;
        std::atomic<bool> firstFinished{false};
        std::atomic<bool> secondRan{false};
        bool firstDone = false;
        bool secondDone = false;
        ex->post(
            [&] {
                started.release();
                gate.acquire();
                firstFinished = true;
            },
            [&] { firstDone = true; });
        ex->post([&] { secondRan = true; }, [&] { secondDone = true; });
        QVERIFY(started.tryAcquire(1, 5000));
        // Open the gate from another thread once the main thread is (very likely) blocked in the
        // destructor. The assertions below hold whatever the timing.
        std::thread opener([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            gate.release();
        });
        ex.reset();
        QVERIFY(firstFinished.load()); // the destructor waited for the running job
        opener.join();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        pool.waitForDone();
        QCoreApplication::processEvents();
        QVERIFY(!firstDone); // its completion event died with the executor
        QVERIFY(!secondRan); // never started
        QVERIFY(!secondDone);
    }

    /// Destroying the executor after a job's work finished but before its `done` ran drops the callback.
    void destroyWithPendingCallback()
    {
        QThreadPool pool;
        auto ex = std::make_unique<SerialExecutor>(&pool);
        QSemaphore finished;
        bool done = false;
        ex->post([&] { finished.release(); }, [&] { done = true; });
        QVERIFY(finished.tryAcquire(1, 5000)); // blocks without running the event loop
        ex.reset();
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        pool.waitForDone();
        QCoreApplication::processEvents();
        QVERIFY(!done);
    }

    /// Destroying an idle executor returns at once; one that never ran anything too.
    void destroyIdle()
    {
        QThreadPool pool;
        {
            SerialExecutor ex(&pool);
        }
        auto ex = std::make_unique<SerialExecutor>(&pool);
        bool done = false;
        ex->post([] {}, [&] { done = true; });
        QTRY_VERIFY(done);
        QTRY_VERIFY(ex->isIdle());
        ex.reset();
        QVERIFY(pool.waitForDone(5000));
    }
};

QTEST_GUILESS_MAIN(TestSerialExecutor)
#include "tst_serialexecutor.moc"
