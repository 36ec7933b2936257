// SPDX-License-Identifier: AGPL-3.0-or-later
#include "util/RandomSource.h"

#include <QSet>
#include <QTest>

#include <array>

using oll::CsprngRandomSource;
using oll::RandomSource;
using oll::SeededRandomSource;

namespace {

bool allDigits(const QString& s)
{
    for (QChar c : s) {
        if (c < u'0' || c > u'9') {
            return false;
        }
    }
    return true;
}

} // namespace

class TestRandomSource final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// The CSPRNG gives the requested length and never repeats a 32-byte output.
    void csprngDistinct()
    {
        CsprngRandomSource rng;
        QSet<QByteArray> seen;
        for (int i = 0; i < 1000; ++i) {
            const QByteArray b = rng.bytes(32);
            QCOMPARE(b.size(), 32);
            seen.insert(b);
        }
        QCOMPARE(seen.size(), 1000);
        QVERIFY(!seen.contains(QByteArray(32, '\0')));
        QCOMPARE(rng.bytes(0).size(), 0);
        QCOMPARE(rng.bytes(7).size(), 7);
    }

    /// digits(n) is n ASCII decimal digits, from either source.
    void digits()
    {
        CsprngRandomSource csprng;
        SeededRandomSource seeded(42);
        for (RandomSource* rng : std::array<RandomSource*, 2>{&csprng, &seeded}) {
            QSet<QString> seen;
            for (int i = 0; i < 200; ++i) {
                const QString d = rng->digits(9);
                QCOMPARE(d.size(), 9);
                QVERIFY2(allDigits(d), qPrintable(d));
                seen.insert(d);
            }
            QVERIFY(seen.size() > 190); // 9-digit IDs essentially never repeat in 200 draws
            QCOMPARE(rng->digits(0), QString());
        }
    }

    /// uniform(10) hits every value with roughly equal counts (chi-square, seeded so deterministic).
    void uniformChiSquare_data()
    {
        QTest::addColumn<quint64>("seed");
        QTest::addColumn<quint32>("bound");
        QTest::addRow("bound 10, seed 1") << quint64(1) << quint32(10);
        QTest::addRow("bound 10, seed 2") << quint64(2) << quint32(10);
        QTest::addRow("bound 10, seed 2^64-1") << ~quint64(0) << quint32(10);
        QTest::addRow("bound 3") << quint64(3) << quint32(3);
        QTest::addRow("bound 7") << quint64(4) << quint32(7);
    }
    void uniformChiSquare()
    {
        QFETCH(quint64, seed);
        QFETCH(quint32, bound);
        SeededRandomSource rng(seed);
        const int draws = 100000;
        QList<int> counts(static_cast<int>(bound), 0);
        for (int i = 0; i < draws; ++i) {
            const std::uint32_t v = rng.uniform(bound);
            QVERIFY(v < bound);
            ++counts[static_cast<int>(v)];
        }
        const double expected = double(draws) / bound;
        double chi2 = 0;
        for (int c : counts) {
            QVERIFY(c > 0);
            chi2 += (c - expected) * (c - expected) / expected;
        }
        // bound - 1 <= 9 degrees of freedom: the 99.9th percentile is at most 27.9; be generous.
        QVERIFY2(chi2 < 50.0, qPrintable(QStringLiteral("chi2 = %1").arg(chi2)));
    }

    /// uniform(0) and uniform(1) are 0; uniform(2^32-1) stays in range.
    void uniformEdges()
    {
        SeededRandomSource rng(9);
        QCOMPARE(rng.uniform(0), 0u);
        QCOMPARE(rng.uniform(1), 0u);
        for (int i = 0; i < 100; ++i) {
            QVERIFY(rng.uniform(0xFFFFFFFFu) < 0xFFFFFFFFu);
        }
    }

    /// One seed gives one sequence; another seed gives another.
    void seededReproducible()
    {
        SeededRandomSource a(1234);
        SeededRandomSource b(1234);
        SeededRandomSource c(1235);
        const QByteArray a1 = a.bytes(64);
        QCOMPARE(b.bytes(64), a1);
        QVERIFY(c.bytes(64) != a1);
        QCOMPARE(a.digits(9), b.digits(9));
        // The sequence moves on: the next draw differs from the first.
        QVERIFY(a.bytes(64) != a1);
        // Lengths that are not multiples of 8 are filled completely.
        QCOMPARE(SeededRandomSource(5).bytes(13).size(), 13);
        QCOMPARE(SeededRandomSource(5).bytes(13), SeededRandomSource(5).bytes(13));
    }
};

QTEST_GUILESS_MAIN(TestRandomSource)
#include "tst_randomsource.moc"
