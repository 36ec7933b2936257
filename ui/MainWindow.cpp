// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MainWindow.h"

#include "AppIcon.h"
#include "MeetsModel.h"
#include "RestoreDialog.h"
#include "ServerPanel.h"
#include "SettingsDialog.h"
#include "host/ServerHost.h"
#include "meet/MeetView.h"
#include "meet/TableFit.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QCloseEvent>
#include <QGroupBox>
#include <QHeaderView>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSettings>
#include <QSplitter>
#include <QStackedWidget>
#include <QStatusBar>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace oll::ui {

namespace {
const QString kTrayHintShownKey = QStringLiteral("ui/trayHintShown");
const QString kGeometryKey = QStringLiteral("ui/geometry");
const QString kSplitterKey = QStringLiteral("ui/splitter");
constexpr int kMeetRowsShown = 2; // the meets table's first height: room for a few, the rest for the meet
} // namespace

MainWindow::MainWindow(oll::ServerHost* host, QSettings* settings, const ServerSettings& run, oll::ServerOptions base,
                       QWidget* parent)
    : QMainWindow(parent)
    , m_host(host)
    , m_store(settings)
    , m_settings(run)
    , m_base(std::move(base))
    , m_snapshot(host->snapshot())
    , m_panel(new ServerPanel(this))
    , m_meetsStack(new QStackedWidget(this))
    , m_firstLaunch(new QLabel(this))
    , m_meetsTable(new QTableView(this))
    , m_meetsModel(new MeetsModel(this))
    , m_meetView(new MeetView(host, this))
    , m_splitter(new QSplitter(Qt::Vertical, this))
    , m_statusLine(new QLabel(this))
{
    setObjectName(QStringLiteral("mainWindow"));
    setWindowTitle(tr("OpenLifter Live"));
    setWindowIcon(appIcon());

    auto* serverBox = new QGroupBox(tr("Server"), this);
    auto* serverLayout = new QVBoxLayout(serverBox);
    serverLayout->addWidget(m_panel);

    m_firstLaunch->setObjectName(QStringLiteral("firstLaunchHint"));
    m_firstLaunch->setWordWrap(true);
    m_firstLaunch->setTextFormat(Qt::RichText);
    m_firstLaunch->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_firstLaunch->setOpenExternalLinks(true);
    m_firstLaunch->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_firstLaunch->setMargin(12);
    // It shares the meets box with the table: its wrapped text must not set the box's least height.
    m_firstLaunch->setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Ignored);
    QFont hintFont = m_firstLaunch->font();
    hintFont.setPointSizeF(hintFont.pointSizeF() * 1.15);
    m_firstLaunch->setFont(hintFont);

    m_meetsTable->setObjectName(QStringLiteral("meetsTable"));
    m_meetsTable->setModel(m_meetsModel);
    m_meetsTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_meetsTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_meetsTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_meetsTable->verticalHeader()->hide();
    m_meetsTable->setAlternatingRowColors(true);
    fitTable(m_meetsTable, MeetsModel::NameColumn);
    m_meetsTable->setMinimumHeight(m_meetsTable->horizontalHeader()->sizeHint().height()
                                   + m_meetsTable->verticalHeader()->defaultSectionSize() + 4);
    connect(m_meetsTable->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &MainWindow::onSelectionChanged);

    m_meetsStack->addWidget(m_firstLaunch);
    m_meetsStack->addWidget(m_meetsTable);
    auto* meetsBox = new QGroupBox(tr("Meets"), this);
    auto* meetsLayout = new QVBoxLayout(meetsBox);
    meetsLayout->addWidget(m_meetsStack);

    m_meetView->setObjectName(QStringLiteral("meetView"));
    m_splitter->setObjectName(QStringLiteral("mainSplitter"));
    m_splitter->setChildrenCollapsible(false);
    m_splitter->addWidget(meetsBox);
    m_splitter->addWidget(m_meetView);
    // A taller window gives its height to the selected meet, which is what matters on the day.
    m_splitter->setStretchFactor(0, 0);
    m_splitter->setStretchFactor(1, 1);

    auto* central = new QWidget(this);
    auto* layout = new QVBoxLayout(central);
    layout->addWidget(serverBox, 0);
    layout->addWidget(m_splitter, 1);
    setCentralWidget(central);

    m_statusLine->setObjectName(QStringLiteral("statusLine"));
    statusBar()->addWidget(m_statusLine, 1);

    connect(m_panel, &ServerPanel::startRequested, this, &MainWindow::startServer);
    connect(m_panel, &ServerPanel::stopRequested, this, &MainWindow::stopServer);
    connect(m_panel, &ServerPanel::settingsRequested, this, &MainWindow::openSettings);
    connect(m_panel, &ServerPanel::copied, this,
            [this](const QString& text) { statusBar()->showMessage(tr("Copied %1").arg(text), 4000); });

    connect(m_host, &ServerHost::snapshotChanged, this, &MainWindow::render);
    connect(m_host, &ServerHost::stateChanged, this, [this] { renderState(); });
    connect(m_host, &ServerHost::started, this, &MainWindow::onStarted);
    connect(m_host, &ServerHost::stopped, this, &MainWindow::onStopped);
    connect(m_host, &ServerHost::restoreRequested, this, &MainWindow::showRestore);
    connect(m_host, &ServerHost::restoreCompleted, this, [this](const QString& meetId) {
        statusBar()->showMessage(tr("Meet %1 restored.").arg(displayMeetId(meetId)), 8000);
        if (auto dialog = m_restoreDialogs.take(meetId)) {
            dialog->close();
        }
    });

    buildTray();
    if (m_store) {
        restoreGeometry(m_store->value(kGeometryKey).toByteArray());
        m_splitterPlaced = m_splitter->restoreState(m_store->value(kSplitterKey).toByteArray());
    }
    if (size().width() < 900) {
        resize(1280, 860);
    }
    render(m_snapshot);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildTray()
{
    if (!QSystemTrayIcon::isSystemTrayAvailable()) {
        return;
    }
    m_tray = new QSystemTrayIcon(windowIcon(), this);
    auto* menu = new QMenu(this);
    menu->addAction(tr("Show window"), this, &MainWindow::showWindow);
    menu->addAction(tr("Copy join URL"), this, &MainWindow::copyJoinUrl);
    menu->addSeparator();
    menu->addAction(tr("Quit"), this, [this] { requestQuit(true); });
    m_tray->setContextMenu(menu);
    connect(m_tray, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger || reason == QSystemTrayIcon::DoubleClick) {
            showWindow();
        }
    });
    m_tray->show();
}

void MainWindow::startServer()
{
    m_lastError.clear();
    oll::ServerOptions options = m_base;
    m_settings.applyTo(options);
    if (!m_host->start(options)) {
        // Already running or on its way: nothing to do but show the state.
        renderState();
        return;
    }
    renderState();
}

void MainWindow::stopServer()
{
    m_restartPending = false;
    m_host->stop();
    renderState();
}

void MainWindow::applySettings(const ServerSettings& settings)
{
    m_settings = settings;
    if (m_store) {
        settings.save(*m_store);
    }
    const auto state = m_host->state();
    if (state == ServerSnapshot::State::Running || state == ServerSnapshot::State::Starting) {
        m_restartPending = true;
        m_host->stop();
    } else if (state == ServerSnapshot::State::Stopping) {
        m_restartPending = true;
    } else {
        startServer();
    }
    renderState();
}

SettingsDialog* MainWindow::openSettings()
{
    if (!m_settingsDialog) {
        m_settingsDialog = new SettingsDialog(m_settings, this);
        m_settingsDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_settingsDialog, &SettingsDialog::applied, this, &MainWindow::applySettings);
    } else {
        m_settingsDialog->setSettings(m_settings);
    }
    m_settingsDialog->open();
    m_settingsDialog->raise();
    return m_settingsDialog;
}

void MainWindow::onStarted(bool ok, const QString& error)
{
    if (!ok) {
        m_lastError = error;
        showWindow(); // a director working from the tray must see why the server is not there
        if (m_tray) {
            m_tray->showMessage(tr("OpenLifter Live could not start"), error, QSystemTrayIcon::Warning);
        }
    }
    render(m_host->snapshot());
}

void MainWindow::onStopped()
{
    if (m_quitting) {
        QApplication::quit();
        return;
    }
    if (m_restartPending) {
        m_restartPending = false;
        startServer();
        return;
    }
    render(m_host->snapshot());
}

void MainWindow::renderState()
{
    render(m_host->snapshot());
}

void MainWindow::render(const oll::ServerSnapshotPtr& snapshotPtr)
{
    if (!snapshotPtr) {
        return;
    }
    m_snapshot = snapshotPtr;
    // The state is the host's, which may be ahead of its last published snapshot.
    ServerSnapshot shown = *snapshotPtr;
    shown.state = m_host->state();
    if (shown.state == ServerSnapshot::State::Failed && shown.error.isEmpty()) {
        shown.error = m_lastError;
    }
    if (shown.dataDir.isEmpty()) {
        shown.dataDir = m_settings.dataDir;
    }
    if (shown.state != ServerSnapshot::State::Running) {
        shown.openlifterDir = m_settings.openlifterDir;
    }
    m_panel->setSnapshot(shown);

    const QString selected = selectedMeetId();
    m_meetsModel->setMeets(shown.meets);
    if (selected.isEmpty() && m_meetsModel->rowCount() > 0) {
        m_meetsTable->selectRow(0); // the director sees a meet's clients without hunting for it
    }
    updateFirstLaunch(shown);

    // Status line: connections and health.
    int browsers = 0;
    for (const ConnectionInfo& c : std::as_const(shown.connections)) {
        browsers += c.bound ? 1 : 0;
    }
    const QString health = shown.health.value(QStringLiteral("status")).toString();
    QString line;
    switch (shown.state) {
    case ServerSnapshot::State::Running:
        line = tr("Browsers connected: %1 (in a meet: %2) · Meets: %3 · Server health: %4")
                   .arg(shown.connections.size())
                   .arg(browsers)
                   .arg(shown.meets.size())
                   .arg(health.isEmpty() ? tr("unknown") : health);
        break;
    case ServerSnapshot::State::Failed:
        line = tr("Server not running: %1").arg(shown.error);
        break;
    case ServerSnapshot::State::Starting:
        line = tr("Server starting…");
        break;
    case ServerSnapshot::State::Stopping:
        line = tr("Server stopping: writing the last updates to disk…");
        break;
    case ServerSnapshot::State::Stopped:
        line = tr("Server stopped");
        break;
    }
    m_statusLine->setText(line);

    if (m_tray) {
        QString tip = tr("OpenLifter Live");
        if (shown.state == ServerSnapshot::State::Running) {
            tip += QStringLiteral("\n") + tr("Running on port %1").arg(shown.port) + QStringLiteral("\n")
                + tr("Browsers connected: %1").arg(browsers);
        } else if (shown.state == ServerSnapshot::State::Failed) {
            tip += QStringLiteral("\n") + tr("Not running: %1").arg(shown.error);
        } else {
            tip += QStringLiteral("\n") + m_statusLine->text();
        }
        m_tray->setToolTip(tip);
    }
}

void MainWindow::updateFirstLaunch(const oll::ServerSnapshot& snapshot)
{
    const bool noMeets = snapshot.meets.isEmpty();
    m_meetsStack->setCurrentWidget(noMeets ? static_cast<QWidget*>(m_firstLaunch) : m_meetsTable);
    m_meetView->setVisible(!noMeets);
    if (!noMeets) {
        if (!m_splitterPlaced && isVisible()) {
            // Once the splitter has laid out the meet view it has just been given.
            QTimer::singleShot(0, this, &MainWindow::placeSplitter);
        }
        return;
    }
    if (snapshot.state != ServerSnapshot::State::Running) {
        m_firstLaunch->setText(
            snapshot.state == ServerSnapshot::State::Failed
                ? tr("<p><b>No meets yet.</b> The server is not running: fix the problem shown above (usually in "
                     "<b>Settings…</b>), then press <b>Start server</b>.</p>")
                : tr("<p><b>No meets yet.</b> Start the server (above) first: the meets appear here once a desk "
                     "computer makes one live.</p>"));
        return;
    }
    const QList<QUrl> urls = m_panel->joinUrls();
    const QString local = m_panel->localAppUrl().toString().toHtmlEscaped();
    const QString app = snapshot.openlifterDir.isEmpty() ? tr("the demo") : tr("OpenLifter");
    QString text;
    QString firstStep;
    if (urls.isEmpty()) {
        // No tablet can connect yet: say why first, and offer what works on this computer meanwhile.
        text = tr("<p><b>Tablets cannot connect yet.</b> %1</p>").arg(m_panel->reachProblem().toHtmlEscaped());
        firstStep = tr("On this computer, open <a href=\"%1\">%1</a> in a browser. This opens %2.").arg(local, app);
    } else {
        firstStep = tr("On the meet's desk computer, open <a href=\"%1\">%1</a> in a browser (on this computer: "
                       "<a href=\"%2\">%2</a>). This opens %3.")
                        .arg(urls.first().toString().toHtmlEscaped(), local, app);
    }
    text += tr("<p><b>No meets yet.</b> To put a meet live:</p>"
               "<ol>"
               "<li>%1</li>"
               "<li>In its <b>Live</b> panel (OpenLifter's <b>Live (Advanced)</b> tab), list the locations, choose a "
               "meet password and click <b>Go live</b>.</li>"
               "<li>Every other tablet or computer opens the join address shown above (or scans the QR code) and, "
               "under <b>Join a live meet</b>, enters the meet ID and password.</li>"
               "</ol>"
               "<p>The meet then shows here, with every browser that is connected to it.</p>")
                .arg(firstStep);
    m_firstLaunch->setText(text);
}

void MainWindow::onSelectionChanged()
{
    m_meetView->setMeet(selectedMeetId());
}

QString MainWindow::selectedMeetId() const
{
    const auto rows = m_meetsTable->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        return {};
    }
    return rows.first().data(MeetsModel::MeetIdRole).toString();
}

RestoreDialog* MainWindow::restoreDialog(const QString& meetId) const
{
    return m_restoreDialogs.value(meetId);
}

void MainWindow::showRestore(const oll::RestoreRequestInfo& request)
{
    if (auto existing = m_restoreDialogs.value(request.meetId)) {
        existing->updateRequest(request);
        existing->raise();
        return;
    }
    auto* dialog = new RestoreDialog(m_host, request, this);
    m_restoreDialogs.insert(request.meetId, dialog);
    connect(dialog, &QObject::destroyed, this, [this, meetId = request.meetId] {
        // isNull(), not a conversion: converting would cast an object that is mid-destruction.
        if (m_restoreDialogs.value(meetId).isNull()) {
            m_restoreDialogs.remove(meetId);
        }
    });
    dialog->show(); // non-modal: the director can look at the meets before deciding
    dialog->raise();
    if (m_tray && !isVisible()) {
        m_tray->showMessage(tr("Restore request"),
                            tr("A browser asks to restore meet %1.").arg(displayMeetId(request.meetId)),
                            QSystemTrayIcon::Information);
    }
}

void MainWindow::showWindow()
{
    show();
    setWindowState((windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
    raise();
    activateWindow();
}

void MainWindow::copyJoinUrl()
{
    QUrl url = m_panel->selectedUrl();
    if (url.isEmpty() && !m_panel->joinUrls().isEmpty()) {
        url = m_panel->joinUrls().first();
    }
    if (url.isEmpty()) {
        if (m_tray) {
            const QString why = m_panel->reachProblem().isEmpty()
                ? tr("The server is not running: there is no join address.")
                : m_panel->reachProblem();
            m_tray->showMessage(tr("OpenLifter Live"), why, QSystemTrayIcon::Warning);
        }
        return;
    }
    QApplication::clipboard()->setText(url.toString());
}

QString MainWindow::quitQuestion(int browsers)
{
    return browsers == 1 ? tr("1 browser is connected; it will keep working offline and catch up when the server "
                              "runs again. Quit?")
                         : tr("%1 browsers are connected; they will keep working offline and catch up when the "
                              "server runs again. Quit?")
                               .arg(browsers);
}

int MainWindow::connectedBrowsers() const
{
    const auto snapshot = m_host->snapshot();
    return m_host->isRunning() ? static_cast<int>(snapshot->connections.size()) : 0;
}

void MainWindow::askToQuit(const QString& question)
{
    if (m_quitBox) {
        m_quitBox->setText(question);
        m_quitBox->raise();
        return;
    }
    m_quitBox = new QMessageBox(QMessageBox::Question, tr("Quit OpenLifter Live?"), question,
                                QMessageBox::Yes | QMessageBox::No, this);
    m_quitBox->setObjectName(QStringLiteral("quitConfirmation"));
    m_quitBox->setDefaultButton(QMessageBox::No); // a stray Enter keeps the meet served
    m_quitBox->setAttribute(Qt::WA_DeleteOnClose);
    QMessageBox* box = m_quitBox;
    connect(box, &QMessageBox::finished, this, [this, box] {
        if (box->clickedButton() == box->button(QMessageBox::Yes)) {
            requestQuit(false);
        }
    });
    m_quitBox->open();
}

void MainWindow::requestQuit(bool ask)
{
    if (m_quitting) {
        return;
    }
    const int browsers = connectedBrowsers();
    if (ask && browsers > 0) {
        askToQuit(quitQuestion(browsers));
        return;
    }
    m_quitting = true;
    saveLayout();
    // Wait for stopped(): it comes once every acknowledged update is on disk.
    const auto state = m_host->state();
    if (state == ServerSnapshot::State::Running || state == ServerSnapshot::State::Starting) {
        m_host->stop();
    } else if (state != ServerSnapshot::State::Stopping) {
        QApplication::quit();
    }
}

void MainWindow::saveLayout()
{
    if (m_store) {
        m_store->setValue(kGeometryKey, saveGeometry());
        m_store->setValue(kSplitterKey, m_splitter->saveState());
    }
}

void MainWindow::showEvent(QShowEvent* event)
{
    QMainWindow::showEvent(event);
    if (!m_splitterPlaced) {
        QTimer::singleShot(0, this, &MainWindow::placeSplitter);
    }
}

void MainWindow::placeSplitter()
{
    if (m_splitterPlaced || !isVisible() || !m_meetView->isVisible()) {
        return; // again when there is a meet to show below the meets table
    }
    m_splitterPlaced = true;
    // The meets table gets a few rows; everything else goes to the selected meet below it.
    const QWidget* meetsBox = m_splitter->widget(0);
    const int chrome = meetsBox->height() - m_meetsStack->height(); // the group box's title and margins
    const int table = m_meetsTable->horizontalHeader()->sizeHint().height()
        + kMeetRowsShown * m_meetsTable->verticalHeader()->defaultSectionSize() + 2 * m_meetsTable->frameWidth();
    const int meets = qMax(chrome, 0) + table;
    m_splitter->setSizes({meets, qMax(m_splitter->height() - meets, 1)});
}

void MainWindow::closeEvent(QCloseEvent* event)
{
    if (m_quitting) {
        event->accept();
        return;
    }
    event->ignore();
    if (m_tray && m_tray->isVisible()) {
        // Closing the window keeps serving; the tray icon brings it back.
        saveLayout();
        hide();
        if (m_store && !m_store->value(kTrayHintShownKey).toBool()) {
            m_store->setValue(kTrayHintShownKey, true);
            m_tray->showMessage(tr("OpenLifter Live is still serving"),
                                tr("The server keeps running in the background. Use the tray icon to show the "
                                   "window again or to quit."),
                                QSystemTrayIcon::Information);
        }
        return;
    }
    // No tray to keep serving from: closing the window would end the server, so ask first.
    const int browsers = connectedBrowsers();
    askToQuit(browsers > 0 ? quitQuestion(browsers)
                           : tr("There is no system tray to keep serving from: closing the window stops the server. "
                                "Quit OpenLifter Live?"));
}

} // namespace oll::ui
