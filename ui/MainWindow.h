// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "ServerSettings.h"
#include "host/ServerSnapshot.h"
#include "net/LiveServer.h"

#include <QHash>
#include <QMainWindow>
#include <QMessageBox>
#include <QPointer>

class QLabel;
class QSettings;
class QSplitter;
class QStackedWidget;
class QSystemTrayIcon;
class QTableView;

namespace oll {
class ServerHost;
}

namespace oll::ui {

class MeetView;
class MeetsModel;
class RestoreDialog;
class ServerPanel;
class SettingsDialog;

/// The meet director's window: the server panel, the meets table, the selected meet (MeetView),
/// a status line and the tray icon. It drives the host (start, stop, restart with new settings,
/// approve restores) and never blocks it: every dialog here is non-blocking.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    /// `settings`: where ServerSettings persist (the default QSettings in the app, a temporary file in
    /// tests); `run` overrides what was saved for this run only (command line). `base` supplies what
    /// the settings do not cover (limits, scrypt cost, web folder).
    MainWindow(oll::ServerHost* host, QSettings* settings, const ServerSettings& run, oll::ServerOptions base,
               QWidget* parent = nullptr);
    ~MainWindow() override;

    /// Starts the server with the current settings.
    void startServer();
    void stopServer();
    /// Saves `settings` and restarts the server with them (stop, then start once stopped).
    void applySettings(const ServerSettings& settings);
    ServerSettings currentSettings() const { return m_settings; }

    /// Asks first when browsers are connected (unless `ask` is false), then stops the server, waits
    /// until every acknowledged update is on disk, and quits the application. The question is a
    /// window-modal box (quitConfirmation()), not a nested event loop: the server keeps serving and
    /// the window keeps updating while the director decides.
    void requestQuit(bool ask = true);
    /// The open "Quit OpenLifter Live?" box, or null. Its Yes quits as requestQuit(false) does.
    QMessageBox* quitConfirmation() const { return m_quitBox; }

    ServerPanel* serverPanel() const { return m_panel; }
    QTableView* meetsTable() const { return m_meetsTable; }
    MeetsModel* meetsModel() const { return m_meetsModel; }
    MeetView* meetView() const { return m_meetView; }
    QString selectedMeetId() const;
    RestoreDialog* restoreDialog(const QString& meetId) const;
    SettingsDialog* openSettings();

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    void buildTray();
    void render(const oll::ServerSnapshotPtr& snapshot);
    void renderState();
    void updateFirstLaunch(const oll::ServerSnapshot& snapshot);
    void onSelectionChanged();
    void onStarted(bool ok, const QString& error);
    void onStopped();
    void showRestore(const oll::RestoreRequestInfo& request);
    void showWindow();
    void copyJoinUrl();
    void askToQuit(const QString& question);
    void placeSplitter();
    void saveLayout();
    int connectedBrowsers() const;
    static QString quitQuestion(int browsers);

    oll::ServerHost* m_host;
    QSettings* m_store;
    ServerSettings m_settings;
    oll::ServerOptions m_base;
    oll::ServerSnapshotPtr m_snapshot;
    QString m_lastError; // of the last failed start, until the next start

    ServerPanel* m_panel;
    QStackedWidget* m_meetsStack;
    QLabel* m_firstLaunch;
    QTableView* m_meetsTable;
    MeetsModel* m_meetsModel;
    MeetView* m_meetView;
    QSplitter* m_splitter;
    QLabel* m_statusLine;
    QSystemTrayIcon* m_tray = nullptr;
    QPointer<SettingsDialog> m_settingsDialog;
    QHash<QString, QPointer<RestoreDialog>> m_restoreDialogs;
    QPointer<QMessageBox> m_quitBox;

    bool m_restartPending = false; // stop in progress; start again once stopped
    bool m_quitting = false;
    bool m_splitterPlaced = false; // sized once, on the first show, unless restored from the settings
};

} // namespace oll::ui
