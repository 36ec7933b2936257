// SPDX-License-Identifier: AGPL-3.0-or-later
// openlifter-live-server: the headless live-meet server (the same core the desktop app hosts).
#include "UnixSignals.h"
#include "net/LiveServer.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QFileInfo>
#include <QStandardPaths>

#include <cstdio>

int main(int argc, char* argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setOrganizationName(QStringLiteral("OpenLifter Live"));
    QCoreApplication::setApplicationName(QStringLiteral("openlifter-live"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OLL_VERSION));

    QCommandLineParser cli;
    cli.setApplicationDescription(QStringLiteral("OpenLifter Live meet server (HTTP + WebSocket on one port)."));
    cli.addHelpOption();
    cli.addVersionOption();
    const QCommandLineOption portOpt(QStringLiteral("port"),
                                     QStringLiteral("TCP port; 0 picks a free one (default 8420)."),
                                     QStringLiteral("port"), QStringLiteral("8420"));
    const QCommandLineOption bindOpt(
        QStringLiteral("bind"), QStringLiteral("Address to listen on (default: all interfaces, reachable on the LAN)."),
        QStringLiteral("address"), QStringLiteral("0.0.0.0"));
    const QCommandLineOption dataOpt(QStringLiteral("data-dir"),
                                     QStringLiteral("Where meets are stored (default: the user's app-data folder)."),
                                     QStringLiteral("dir"));
    const QCommandLineOption scryptOpt(QStringLiteral("scrypt-log2n"),
                                       QStringLiteral("scrypt cost: N = 2^value for new meets (default 16; 10..20)."),
                                       QStringLiteral("n"), QStringLiteral("16"));
    const QCommandLineOption maxConnOpt(QStringLiteral("max-connections"),
                                        QStringLiteral("WebSocket connections allowed at once (default 512)."),
                                        QStringLiteral("n"), QStringLiteral("512"));
    const QCommandLineOption webDirOpt(
        QStringLiteral("web-dir"),
        QStringLiteral("Serve the browser client library and /demo from this folder instead of the copy built into "
                       "the program (e.g. resources/web of a checkout, while editing it)."),
        QStringLiteral("dir"));
    const QCommandLineOption openlifterOpt(
        QStringLiteral("openlifter-dir"),
        QStringLiteral("A local OpenLifter build to serve at /openlifter/ from this server's own origin."),
        QStringLiteral("dir"));
    const QCommandLineOption approveRestoreOpt(
        QStringLiteral("approve-restore"),
        QStringLiteral("Allow a client to restore this meet ID, which the data directory has no trace of "
                       "(repeatable)."),
        QStringLiteral("meetId"));
    cli.addOptions({portOpt, bindOpt, dataOpt, scryptOpt, maxConnOpt, webDirOpt, openlifterOpt, approveRestoreOpt});
    cli.process(app);

    auto usageError = [](const QString& text) {
        std::fprintf(stderr, "openlifter-live-server: %s\n", qPrintable(text));
        return 2;
    };
    oll::ServerOptions options;
    options.echoDiagnostics = true;
    bool ok = false;
    const uint port = cli.value(portOpt).toUInt(&ok);
    if (!ok || port > 65535) {
        return usageError(QStringLiteral("--port must be 0..65535"));
    }
    options.port = static_cast<quint16>(port);
    if (!options.bindAddress.setAddress(cli.value(bindOpt))) {
        return usageError(QStringLiteral("--bind must be an IP address"));
    }
    const int log2n = cli.value(scryptOpt).toInt(&ok);
    if (!ok || log2n < 10 || log2n > 20) {
        return usageError(QStringLiteral("--scrypt-log2n must be 10..20"));
    }
    options.scrypt.log2N = log2n;
    const int maxConn = cli.value(maxConnOpt).toInt(&ok);
    if (!ok || maxConn < 1 || maxConn > 100000) {
        return usageError(QStringLiteral("--max-connections must be 1..100000"));
    }
    options.limits.maxConnections = maxConn;
    options.dataDir
        = cli.isSet(dataOpt) ? cli.value(dataOpt) : QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);

    if (cli.isSet(webDirOpt)) {
        const QFileInfo webDir(cli.value(webDirOpt));
        if (!webDir.isDir()) {
            return usageError(QStringLiteral("--web-dir '%1' is not a folder").arg(cli.value(webDirOpt)));
        }
        options.site.webDir = webDir.absoluteFilePath();
    }
    options.site.openlifterDir = cli.value(openlifterOpt);
    for (const QString& typed : cli.values(approveRestoreOpt)) {
        const auto id = oll::normalizeMeetId(typed);
        if (!id) {
            return usageError(QStringLiteral("--approve-restore needs a 9-digit meet ID, got '%1'").arg(typed));
        }
        options.approvedRestores.insert(*id);
    }

    oll::LiveServer server(options);
    QString error;
    if (!server.start(&error)) {
        std::fprintf(stderr, "openlifter-live-server: %s\n", qPrintable(error));
        return 1;
    }
    // One machine-readable line on stdout: tests and scripts started with --port 0 read the port here.
    std::printf("openlifter-live-server listening on %s:%u data=%s\n", qPrintable(server.address().toString()),
                server.port(), qPrintable(server.dataDir()));
    std::fflush(stdout);

    oll::UnixSignals signals;
    QObject::connect(&signals, &oll::UnixSignals::terminationRequested, &app, [&](int) {
        server.shutdown();
        app.quit();
    });
    return app.exec();
}
