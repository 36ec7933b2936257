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
        LoginThrottle t(clock, kFree, kBase, kMax);
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
        LoginThrottle t(clock, kFree, kBase, kMax);
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
        LoginThrottle t(clock, kFree, kBase, kMax);
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
        LoginThrottle t(clock, kFree, kBase, kMax);
        for (int i = 0; i < kFree + 3; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), kBase * 8);
    }

    /// A success clears the record: the next failure counts from one again.
    void successClears()
    {
        ManualClock clock;
        LoginThrottle t(clock, kFree, kBase, kMax);
        for (int i = 0; i < kFree + 2; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QVERIFY(t.retryAfterMs(kAddr, kMeet) > 0);
        t.recordSuccess(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
        QCOMPARE(t.failures(kAddr, kMeet), 0);
        QCOMPARE(t.size(), 0);
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.failures(kAddr, kMeet), 1);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(0));
    }

    /// A blocked (address, meet) pair does not block another address or another meet.
    void pairsIndependent()
    {
        ManualClock clock;
        LoginThrottle t(clock, kFree, kBase, kMax);
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
        LoginThrottle t(clock, kFree, kBase, kMax);
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
        LoginThrottle t(clock, kFree, kBase, kMax);
        t.recordFailure(QStringLiteral("old"), kMeet);
        for (int i = 0; i < kFree + 20; ++i) {
            t.recordFailure(QStringLiteral("blocked"), kMeet);
        }
        clock.advanceMs(kMax / 2);
        t.recordFailure(QStringLiteral("recent"), kMeet);
        QCOMPARE(t.size(), 3);
        t.prune();
        QCOMPARE(t.size(), 3);
        clock.advanceMs(kMax / 2 + 1); // "old" and "blocked" now idle for max + 1
        t.prune();
        QCOMPARE(t.size(), 1);
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
        LoginThrottle t(clock, 1, 500, 4000);
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(500));
        t.recordFailure(kAddr, kMeet);
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(1000));
        for (int i = 0; i < 100; ++i) {
            t.recordFailure(kAddr, kMeet);
        }
        QCOMPARE(t.retryAfterMs(kAddr, kMeet), qint64(4000)); // capped, no shift overflow
    }
};

QTEST_GUILESS_MAIN(TestLoginThrottle)
#include "tst_loginthrottle.moc"
