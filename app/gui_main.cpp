// SPDX-License-Identifier: AGPL-3.0-or-later
// openlifter-live: the desktop app. The meet director's window with the live server inside it.
#include "MainWindow.h"
#include "ServerSettings.h"
#include "UnixSignals.h"
#include "host/ServerHost.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QLibraryInfo>
#include <QLocale>
#include <QSettings>
#include <QTranslator>

#include <cstdio>
#include <memory>

namespace {

/// Without a display QApplication would abort; say what to run instead (README command 1 does).
bool haveDisplay()
{
    return !qEnvironmentVariableIsEmpty("DISPLAY") || !qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY")
        || !qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM");
}

void installTranslations(QApplication& app)
{
    // The app's own strings (":/i18n/openlifter-live_<locale>.qm", when translations are compiled in)
    // and Qt's (standard buttons), for the system locale.
    auto* own = new QTranslator(&app);
    if (own->load(QLocale(), QStringLiteral("openlifter-live"), QStringLiteral("_"), QStringLiteral(":/i18n"))) {
        QApplication::installTranslator(own);
    }
    auto* qt = new QTranslator(&app);
    if (qt->load(QLocale(), QStringLiteral("qtbase"), QStringLiteral("_"),
                 QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        QApplication::installTranslator(qt);
    }
}

int usageError(const QString& text)
{
    std::fprintf(stderr, "openlifter-live: %s\n", qPrintable(text));
    return 2;
}

} // namespace

int main(int argc, char* argv[])
{
    if (!haveDisplay()) {
        std::fprintf(stderr,
                     "openlifter-live: no display (neither DISPLAY nor WAYLAND_DISPLAY is set). "
                     "On a machine without a desktop, run the headless server: openlifter-live-server\n");
        return 3;
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("OpenLifter Live"));
    QApplication::setApplicationName(QStringLiteral("openlifter-live"));
    QApplication::setApplicationDisplayName(QStringLiteral("OpenLifter Live"));
    QApplication::setApplicationVersion(QStringLiteral(OLL_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("org.openlifter.Live"));
    // Closing the window hides it to the tray; only Quit ends the app.
    QApplication::setQuitOnLastWindowClosed(false);
    installTranslations(app);

    QCommandLineParser cli;
    cli.setApplicationDescription(
        QApplication::translate("main",
                                "OpenLifter Live: the meet director's window, with the live-meet server inside it. "
                                "Options given here override the saved settings for this run."));
    cli.addHelpOption();
    cli.addVersionOption();
    const QCommandLineOption portOpt(QStringLiteral("port"),
                                     QApplication::translate("main", "TCP port; 0 picks a free one."),
                                     QStringLiteral("port"));
    const QCommandLineOption bindOpt(
        QStringLiteral("bind"),
        QApplication::translate("main", "Address to listen on (0.0.0.0: all interfaces; 127.0.0.1: this computer)."),
        QStringLiteral("address"));
    const QCommandLineOption dataOpt(QStringLiteral("data-dir"),
                                     QApplication::translate("main", "Where meets are stored."), QStringLiteral("dir"));
    const QCommandLineOption openlifterOpt(
        QStringLiteral("openlifter-dir"),
        QApplication::translate("main", "A local OpenLifter build (with index.html) to serve at /openlifter/."),
        QStringLiteral("dir"));
    const QCommandLineOption webDirOpt(
        QStringLiteral("web-dir"),
        QApplication::translate("main",
                                "Serve the browser client library and /demo from this folder instead of "
                                "the copy built into the program."),
        QStringLiteral("dir"));
    const QCommandLineOption scryptOpt(
        QStringLiteral("scrypt-log2n"),
        QApplication::translate("main", "scrypt cost: N = 2^value for new meets (default 16; 10..20)."),
        QStringLiteral("n"), QStringLiteral("16"));
    const QCommandLineOption settingsOpt(
        QStringLiteral("settings"),
        QApplication::translate("main",
                                "Keep the settings in this file instead of the user's settings "
                                "(scripts, screenshots)."),
        QStringLiteral("file"));
    cli.addOptions({portOpt, bindOpt, dataOpt, openlifterOpt, webDirOpt, scryptOpt, settingsOpt});
    cli.process(app);

    std::unique_ptr<QSettings> store = cli.isSet(settingsOpt)
        ? std::make_unique<QSettings>(cli.value(settingsOpt), QSettings::IniFormat)
        : std::make_unique<QSettings>();
    oll::ui::ServerSettings run = oll::ui::ServerSettings::load(*store);
    if (cli.isSet(portOpt)) {
        bool ok = false;
        const uint port = cli.value(portOpt).toUInt(&ok);
        if (!ok || port > 65535) {
            return usageError(QStringLiteral("--port must be 0..65535"));
        }
        run.port = static_cast<quint16>(port);
    }
    if (cli.isSet(bindOpt)) {
        QHostAddress address;
        if (!address.setAddress(cli.value(bindOpt))) {
            return usageError(QStringLiteral("--bind must be an IP address"));
        }
        run.setBindAddress(address);
    }
    if (cli.isSet(dataOpt)) {
        run.dataDir = QFileInfo(cli.value(dataOpt)).absoluteFilePath();
    }
    if (cli.isSet(openlifterOpt)) {
        run.openlifterDir = QFileInfo(cli.value(openlifterOpt)).absoluteFilePath();
        const QString problem = oll::ui::openlifterFolderProblem(run.openlifterDir);
        if (!problem.isEmpty()) {
            return usageError(problem);
        }
    }

    oll::ServerOptions base;
    bool ok = false;
    const int log2n = cli.value(scryptOpt).toInt(&ok);
    if (!ok || log2n < 10 || log2n > 20) {
        return usageError(QStringLiteral("--scrypt-log2n must be 10..20"));
    }
    base.scrypt.log2N = log2n;
    if (cli.isSet(webDirOpt)) {
        const QFileInfo webDir(cli.value(webDirOpt));
        if (!webDir.isDir()) {
            return usageError(QStringLiteral("--web-dir '%1' is not a folder").arg(cli.value(webDirOpt)));
        }
        base.site.webDir = webDir.absoluteFilePath();
    }

    oll::ServerHost host;
    oll::ui::MainWindow window(&host, store.get(), run, base);
    window.show();
    // A second instance on the same data folder fails here (the folder's lock) and says so in the window.
    window.startServer();

    oll::UnixSignals signals;
    QObject::connect(&signals, &oll::UnixSignals::terminationRequested, &window,
                     [&window](int) { window.requestQuit(false); });
    return app.exec();
}
