// SPDX-License-Identifier: AGPL-3.0-or-later
// The deterministic simulation of the sync guarantees (docs/protocol.md §12, "Recovery"):
// SimWorld runs the real sequencer, conflict rule, recovery and client engines under one seed's
// faults and checks the invariants after convergence. OLL_SIM_SEEDS sets how many seeds run
// (default 2000), OLL_SIM_FIRST_SEED the first one, OLL_SIM_SEED replays exactly one.
#include "SimWorld.h"

#include <QCoreApplication>
#include <QHashFunctions>
#include <QtTest>

#include <cstdio>

using oll::sim::SimConfig;
using oll::sim::SimOutcome;
using oll::sim::SimWorld;

namespace {

quint64 envNumber(const char* name, quint64 fallback)
{
    bool ok = false;
    const quint64 v = qEnvironmentVariable(name).toULongLong(&ok);
    return ok ? v : fallback;
}

} // namespace

class TestSimulation : public QObject
{
    Q_OBJECT

private:
    /// Runs seeds [first, first + count) and fails at the first broken one with its replay line.
    void runSeeds(quint64 first, quint64 count, bool faults, int steps)
    {
        SimOutcome total;
        for (quint64 seed = first; seed < first + count; ++seed) {
            SimConfig config;
            config.seed = seed;
            config.faults = faults;
            config.steps = steps;
            SimWorld world(config);
            const SimOutcome o = world.run();
            if (!o.failure.isEmpty()) {
                const QString replay
                    = QStringLiteral("OLL_SIM_SEED=%1 %2").arg(seed).arg(QCoreApplication::applicationFilePath());
                QFAIL(qPrintable(QStringLiteral("seed %1 failed: %2\n  replay: %3").arg(seed).arg(o.failure, replay)));
            }
            if ((seed - first + 1) % 5000 == 0) {
                std::printf("  ... %llu seeds passed\n", static_cast<unsigned long long>(seed - first + 1));
                std::fflush(stdout);
            }
            total.updates += o.updates;
            total.acked += o.acked;
            total.conflicts += o.conflicts;
            total.crashes += o.crashes;
            total.partialLosses += o.partialLosses;
            total.totalLosses += o.totalLosses;
            total.damagedJournals += o.damagedJournals;
            total.tornTails += o.tornTails;
            total.drops += o.drops;
        }
        std::printf(
            "  %llu seed(s) from %llu: %d updates (%d acked), %d conflicts, %d server crashes "
            "(%d torn tails, %d damaged journals, %d partial and %d total data losses), %d dropped connections\n",
            static_cast<unsigned long long>(count), static_cast<unsigned long long>(first), total.updates, total.acked,
            total.conflicts, total.crashes, total.tornTails, total.damagedJournals, total.partialLosses,
            total.totalLosses, total.drops);
        std::fflush(stdout);
        // A run that exercised nothing would prove nothing.
        QVERIFY(total.updates > 0);
        if (faults && count >= 50) {
            QVERIFY(total.conflicts > 0 && total.crashes > 0 && total.partialLosses > 0 && total.totalLosses > 0
                    && total.tornTails > 0 && total.damagedJournals > 0 && total.drops > 0);
        }
    }

private Q_SLOTS:
    /// Without faults every run converges too (the baseline for the fault runs).
    void faultFreeSeeds() { runSeeds(envNumber("OLL_SIM_FIRST_SEED", 1), 50, false, 300); }

    /// Crashes between journal write and ack, torn tails, partial and total data loss,
    /// dropped connections mid-batch, offline periods and delayed delivery.
    void faultySeeds()
    {
        if (qEnvironmentVariableIsSet("OLL_SIM_SEED")) {
            runSeeds(envNumber("OLL_SIM_SEED", 1), 1, true, 400);
            return;
        }
        runSeeds(envNumber("OLL_SIM_FIRST_SEED", 1), envNumber("OLL_SIM_SEEDS", 2000), true, 400);
    }
};

int main(int argc, char** argv)
{
    // Hash iteration order must not vary between runs of one seed.
    QHashSeed::setDeterministicGlobalSeed();
    // QtTest's watchdog ends a test function after 5 minutes; a soak of 100,000 seeds takes
    // longer (ctest's own timeout still bounds the default run).
    if (!qEnvironmentVariableIsSet("QTEST_FUNCTION_TIMEOUT")) {
        qputenv("QTEST_FUNCTION_TIMEOUT", "86400000");
    }
    QCoreApplication app(argc, argv);
    TestSimulation test;
    return QTest::qExec(&test, argc, argv);
}

#include "tst_simulation.moc"
