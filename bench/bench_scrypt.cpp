// SPDX-License-Identifier: AGPL-3.0-or-later
// Cost of one password hash (scrypt through OpenSSL EVP_KDF) for several N, to choose the
// default and to report it. Usage: bench_scrypt [runs-per-N]
#include "Percentiles.h"
#include "auth/PasswordHasher.h"

#include <QCoreApplication>
#include <QElapsedTimer>

#include <cstdio>

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    const int runs = argc > 1 ? QString::fromLocal8Bit(argv[1]).toInt() : 10;
    std::printf("scrypt r=8 p=1, %d runs each\n", runs);
    for (int log2n = 14; log2n <= 17; ++log2n) {
        oll::ScryptParams params;
        params.log2N = log2n;
        QList<double> ms;
        for (int i = 0; i < runs; ++i) {
            QElapsedTimer t;
            t.start();
            const QByteArray key = oll::PasswordHasher::derive("a meet password", QByteArray(16, 's'), params, 32);
            ms.append(static_cast<double>(t.nsecsElapsed()) / 1e6);
            if (key.size() != 32) {
                std::fprintf(stderr, "scrypt failed at N=2^%d\n", log2n);
                return 1;
            }
        }
        std::printf("N=2^%d (%llu MiB): %s\n", log2n, static_cast<unsigned long long>(params.memoryBytes() >> 20U),
                    qPrintable(oll::bench::summary(ms)));
    }
    return 0;
}
