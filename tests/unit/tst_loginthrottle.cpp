// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/LoginThrottle.h"
#include "util/Clock.h"

#include <QTest>

using oll::LoginThrottle;
using oll::ManualClock;

namespace {
constexpr int kFree = 5;
constexpr qint64 kBase = 1000;
constexpr qint64 kMax = 5 * 60 * 1000;
const QString kAddr = QStringLiteral("192.0.2.7");
const QString kMeet = QStringLiteral("123456789");
} // namespace

class TestLoginThrottle final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Failures below the threshold never block.
    void belowThresholdNoBlock()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
        for (int i = 1; i < kFree; ++i) {
            t.recordFailure(kAddr, kMeet);
            QCOMPARE(t.failures(kAddr, kMeet), i);
            QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
            clock.advanceMs(10);
        }
    }

    /// At the threshold the block is base ms, then doubles with every further failure, capped at max.
    void backoffDoublesAndCaps()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 1; i < kFree; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        qint64 expected = kBase;
        for (int extra = 0; extra < 15; ++extra) {
            t.recordFailure(kAddr, kMeet);
            QCOMPARE(t.failures(kAddr, kMeet), kFree + extra);
            QCOMPARE(t.retryAfterMs(kAddr, kMeet), qMin(expected, kMax));
            // Wait out the block, as a polite client would, then fail again.
            clock.advanceMs(qMin(expected, kMax));
            QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
            expected *= 2;
        }
        QVERIFY(expected / 2 > kMax); // the cap was reached within the loop
    }

    /// The remaining block shrinks as time passes and reaches zero exactly at its end.
    void blockCountsDown()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 0; i < kFree; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), kBase);
        clock.advanceMs(400);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), kBase - 400);
        clock.advanceMs(kBase - 400 - 1);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(1));
        clock.advanceMs(1);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
    }

    /// Failures while blocked keep growing the block (a client ignoring retryAfterMs gains nothing).
    void failuresWhileBlocked()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 0; i < kFree + 3; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), kBase * 8);
    }

    /// A success clears the record: the next failure counts from one again.
    void successClears()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 0; i < kFree + 2; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QVERIFY(t.retryAfterMs(kAddr, kMeet) > 0);
        t.recordSuccess(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
        QCOMPARE(t.failures(kAddr, kMeet), 0);
        QCOMPARE(t.size(), 1); // the address-wide record stays: a success on one meet says nothing of others
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.failures(kAddr, kMeet), 1);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
    }

    /// A blocked (address, meet) pair does not block another address or another meet.
    void pairsIndependent()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 0; i < kFree + 4; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QVERIFY(t.retryAfterMs(kAddr, kMeet) > 0);
        QCOMPARE(t.retryAfterMs(QStringLiteral("192.0.2.8"), kMeet), qint64(0));
        QCOMPARE(t.retryAfterMs(kAddr, QStringLiteral("987654321")), qint64(0));
        QCOMPARE(t.failures(QStringLiteral("192.0.2.8"), kMeet), 0);
        QCOMPARE(t.failures(kAddr, QStringLiteral("987654321")), 0);
        // A success elsewhere does not clear this pair.
        t.recordSuccess(QStringLiteral("192.0.2.8"), kMeet);
        t.recordSuccess(kAddr, QStringLiteral("987654321"));
        QVERIFY(t.retryAfterMs(kAddr, kMeet) > 0);
    }

    /// A pair quiet for longer than max starts over from one failure, unblocked.
    void quietPairStartsOver()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        for (int i = 0; i < kFree + 3; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        clock.advanceMs(kMax); // exactly max: not yet "longer than"
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.failures(kAddr, kMeet), kFree + 4);
        clock.advanceMs(kMax + 1);
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.failures(kAddr, kMeet), 1);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
    }

    /// prune() forgets records idle for longer than max and keeps recent or still-blocking ones.
    void pruneForgetsIdle()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        t.recordFailure(QStringLiteral("old"), kMeet);
        for (int i = 0; i < kFree + 20; ++i) {
            t.recordFailure(QStringLiteral("blocked"), kMeet);
        }
        clock.advanceMs(kMax / 2);
        t.recordFailure(QStringLiteral("recent"), kMeet);
        QCOMPARE(t.size(), 6); // a pair record and an address record each
        t.prune();
        QCOMPARE(t.size(), 6);
        clock.advanceMs(kMax / 2 + 1); // "old" and "blocked" now idle for max + 1
        t.prune();
        QCOMPARE(t.size(), 2);
        QCOMPARE(t.failures(QStringLiteral("old"), kMeet), 0);
        QCOMPARE(t.failures(QStringLiteral("blocked"), kMeet), 0);
        QCOMPARE(t.failures(QStringLiteral("recent"), kMeet), 1);
        clock.advanceMs(kMax);
        t.prune();
        QCOMPARE(t.size(), 0);
    }

    /// With the threshold at one, the very first failure blocks for base ms.
    void thresholdOne()
    {
        ManualClock clock;
        LoginThrottle t(clock, {1, 1000, 500, 4000, 50000});
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(500));
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(1000));
        for (int i = 0; i < 100; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(4000)); // capped, no shift overflow
    }

    /// One address cycling through meet IDs is stopped by the address-wide budget.
    void addressBudgetAcrossMeets()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 8, kBase, kMax, 50000});
        for (int i = 0; i < 8; ++i) {
            t.recordFailure(kAddr, QStringLiteral("10000000%1").arg(i));
        }
        // Every pair is under its own budget, but the address as a whole is blocked - for any meet.
        QCOMPARE(t.retryAfterMs(kAddr, QStringLiteral("999999999")), kBase);
        QCOMPARE(t.retryAfterMs(QStringLiteral("192.0.2.99"), QStringLiteral("999999999")), qint64(0));
        clock.advanceMs(kBase);
        QCOMPARE(t.retryAfterMs(kAddr, QStringLiteral("999999999")), qint64(0));
    }

    /// The table never holds more than maxRecords: a flood of fresh failures evicts the oldest.
    void recordsAreCapped()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1'000'000, kBase, kMax, 1000});
        for (int i = 0; i < 5000; ++i) {
            clock.advanceMs(1);
            t.recordFailure(QStringLiteral("198.51.100.%1").arg(i % 200), QStringLiteral("%1").arg(100000000 + i));
            QVERIFY(t.size() <= 1001);
        }
        // The newest survive the evictions; the oldest are gone.
        QCOMPARE(
            t.failures(QStringLiteral("198.51.100.%1").arg(4999 % 200), QStringLiteral("%1").arg(100000000 + 4999)), 1);
        QCOMPARE(t.failures(QStringLiteral("198.51.100.0"), QStringLiteral("100000000")), 0);
    }

    /// A pair quiet for longer than max reports no failures (it would start over anyway).
    void staleFailuresDoNotCount()
    {
        ManualClock clock;
        LoginThrottle t(clock, {kFree, 1000, kBase, kMax, 50000});
        t.recordFailure(kAddr, kMeet);
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.failures(kAddr, kMeet), 2);
        clock.advanceMs(kMax + 1);
        QCOMPARE(t.failures(kAddr, kMeet), 0);
    }
};

QTEST_GUILESS_MAIN(TestLoginThrottle)
#include "tst_loginthrottle.moc"
