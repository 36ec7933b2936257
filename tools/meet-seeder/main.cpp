// SPDX-License-Identifier: AGPL-3.0-or-later
// oll-meet-seeder: a saved OpenLifter meet, live on a running server, with three clients attached.
// For demos and screenshots; see MeetSeeder.h. Runs until SIGINT/SIGTERM.
#include "MeetSeeder.h"
#include "OpenLifterFile.h"
#include "UnixSignals.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("oll-meet-seeder"));
    QCommandLineParser cli;
    cli.setApplicationDescription(
        QStringLiteral("Creates a meet on a running OpenLifter Live server from a saved OpenLifter meet file "
                       "(Home → Save to File), the way OpenLifter's Redux adapter would send it, and keeps three "
                       "clients attached (Desk and Platform A updating, a display) until interrupted. Prints the "
                       "meet ID and password on stdout."));
    cli.addHelpOption();
    cli.addPositionalArgument(QStringLiteral("file"), QStringLiteral("The .openlifter file to load."));
    const QCommandLineOption urlOpt(QStringLiteral("url"),
                                    QStringLiteral("The server (default http://127.0.0.1:8420; ws:// works too)."),
                                    QStringLiteral("url"), QStringLiteral("http://127.0.0.1:8420"));
    const QCommandLineOption passwordOpt(
        QStringLiteral("password"),
        QStringLiteral("Password for the new meet (default: a random one, printed on stdout)."),
        QStringLiteral("password"));
    const QCommandLineOption editOpt(
        QStringLiteral("edit-every"),
        QStringLiteral("Once loaded, make one small edit every N seconds (Platform A marks the next attempt, the "
                       "desk ticks a lifter off as paid); 0: none (default)."),
        QStringLiteral("seconds"), QStringLiteral("0"));
    const QCommandLineOption timeoutOpt(QStringLiteral("timeout"),
                                        QStringLiteral("Give up if not loaded and attached within N seconds "
                                                       "(default 60)."),
                                        QStringLiteral("seconds"), QStringLiteral("60"));
    cli.addOptions({urlOpt, passwordOpt, editOpt, timeoutOpt});
    cli.process(app);

    auto usageError = [](const QString& text) {
        std::fprintf(stderr, "oll-meet-seeder: %s\n", qPrintable(text));
        return 2;
    };
    if (cli.positionalArguments().size() != 1) {
        return usageError(QStringLiteral("give exactly one .openlifter file (--help for usage)"));
    }
    oll::SeederOptions options;
    QUrl url(cli.value(urlOpt));
    if (url.scheme() == QStringLiteral("http")) {
        url.setScheme(QStringLiteral("ws"));
    } else if (url.scheme() == QStringLiteral("https")) {
        url.setScheme(QStringLiteral("wss"));
    }
    if (!url.isValid() || url.host().isEmpty()
        || (url.scheme() != QStringLiteral("ws") && url.scheme() != QStringLiteral("wss"))) {
        return usageError(QStringLiteral("--url must look like http://host:port (got '%1')").arg(cli.value(urlOpt)));
    }
    if (url.path().isEmpty() || url.path() == QStringLiteral("/")) {
        url.setPath(QStringLiteral("/live"));
    }
    options.url = url;
    options.password = cli.isSet(passwordOpt) ? cli.value(passwordOpt) : oll::MeetSeeder::generatePassword();
    if (options.password.isEmpty()) {
        return usageError(QStringLiteral("--password must not be empty"));
    }
    bool ok = false;
    const int editSeconds = cli.value(editOpt).toInt(&ok);
    if (!ok || editSeconds < 0 || editSeconds > 3600) {
        return usageError(QStringLiteral("--edit-every must be 0..3600 seconds"));
    }
    options.editEveryMs = editSeconds * 1000;
    const int timeoutSeconds = cli.value(timeoutOpt).toInt(&ok);
    if (!ok || timeoutSeconds < 1 || timeoutSeconds > 3600) {
        return usageError(QStringLiteral("--timeout must be 1..3600 seconds"));
    }
    options.readyTimeoutMs = timeoutSeconds * 1000;

    QString error;
    std::optional<oll::OpenLifterFile> file = oll::OpenLifterFile::load(cli.positionalArguments().constFirst(), &error);
    if (!file) {
        return usageError(error);
    }

    oll::MeetSeeder seeder(std::move(*file), options);
    oll::UnixSignals unixSignals;
    QObject::connect(&unixSignals, &oll::UnixSignals::terminationRequested, &seeder, &oll::MeetSeeder::stop);
    QObject::connect(&seeder, &oll::MeetSeeder::finished, &app, &QCoreApplication::exit);
    seeder.start();
    return app.exec();
}
