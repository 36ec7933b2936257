// SPDX-License-Identifier: AGPL-3.0-or-later
// The director's window over a real in-process ServerHost (127.0.0.1, port 0, a temporary data
// folder) with real WebSocket clients: what the window shows follows what the clients do, and what
// the director clicks reaches the server.
#include "MainWindow.h"
#include "MeetsModel.h"
#include "QrCodeWidget.h"
#include "RestoreDialog.h"
#include "ServerHarness.h"
#include "ServerPanel.h"
#include "SettingsDialog.h"
#include "TestClient.h"
#include "host/ServerHost.h"

#include <QApplication>
#include <QClipboard>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QRadioButton>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QSplitter>
#include <QSystemTrayIcon>
#include <QTableView>
#include <QTableWidget>
#include <QTcpServer>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using oll::ServerHost;
using oll::ServerSnapshot;
using oll::test::TestClient;
using oll::ui::MainWindow;
using oll::ui::MeetsModel;

namespace {

constexpr int kWait = 30'000; // generous: the machine may be loaded
const QString kPassword = QStringLiteral("a perfectly long password");

QList<QPair<QString, int>> endpoints()
{
    return {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}};
}

/// One window with its host over a temporary data folder and settings file.
struct Fixture
{
    explicit Fixture(const QString& dataDir = QString(), quint16 port = 0)
    {
        settings = std::make_unique<QSettings>(tmp.filePath(QStringLiteral("settings.ini")), QSettings::IniFormat);
        run.port = port;
        run.bind = oll::ui::ServerSettings::Bind::ThisComputer;
        run.dataDir = dataDir.isEmpty() ? tmp.filePath(QStringLiteral("data")) : dataDir;
        host = std::make_unique<ServerHost>();
        window = std::make_unique<MainWindow>(host.get(), settings.get(), run, oll::test::testOptions(run.dataDir));
        window->show();
    }
    ~Fixture()
    {
        window.reset();
        host.reset(); // stops and waits
    }

    QUrl liveUrl() const
    {
        QUrl url;
        url.setScheme(QStringLiteral("ws"));
        url.setHost(QStringLiteral("127.0.0.1"));
        url.setPort(host->snapshot()->port);
        url.setPath(QStringLiteral("/live"));
        return url;
    }
    /// Starts the server from the window and waits until it runs.
    bool startedRunning()
    {
        window->startServer();
        return QTest::qWaitFor([&] { return host->state() == ServerSnapshot::State::Running; }, kWait);
    }
    QString stateText() const { return window->findChild<QLabel*>(QStringLiteral("serverState"))->text(); }
    QString detailText() const { return window->findChild<QLabel*>(QStringLiteral("serverDetail"))->text(); }
    QPushButton* startStop() const { return window->findChild<QPushButton*>(QStringLiteral("startStopButton")); }
    /// The meets table's text in `column` for `meetId`, or a null string if the meet has no row.
    QString cell(const QString& meetId, int column) const
    {
        QAbstractItemModel* model = window->meetsTable()->model();
        for (int row = 0; row < model->rowCount(); ++row) {
            if (model->index(row, 0).data(MeetsModel::MeetIdRole).toString() == meetId) {
                return model->index(row, column).data().toString();
            }
        }
        return QString();
    }

    QTemporaryDir tmp;
    std::unique_ptr<QSettings> settings;
    oll::ui::ServerSettings run;
    std::unique_ptr<ServerHost> host;
    std::unique_ptr<MainWindow> window;
};

/// Sends `restore` and takes the RESTORE_REJECTED answer: true if it says the request waits for
/// the director's approval.
bool restoreAwaitsApproval(TestClient& desk, const QJsonObject& restore)
{
    desk.send(restore);
    return desk.expect(QStringLiteral("RESTORE_REJECTED"), kWait).value(QStringLiteral("pendingApproval")).toBool();
}

bool restoreApproved(ServerHost& host, const QString& meetId)
{
    host.refresh();
    const auto snapshot = host.snapshot();
    for (const oll::RestoreRequestInfo& r : snapshot->restores) {
        if (r.meetId == meetId && r.approved) {
            return true;
        }
    }
    return false;
}

/// The quit question the window shows (window-modal, so findChild finds it), once it is up.
QMessageBox* quitBox(MainWindow& window)
{
    QMessageBox* box = window.quitConfirmation();
    return box && box->isVisible() ? box : nullptr;
}

QJsonObject restoreMessage(const QString& meetId)
{
    QJsonArray eps;
    for (const auto& [name, priority] : endpoints()) {
        eps.append(QJsonObject{{QStringLiteral("locationName"), name}, {QStringLiteral("priority"), priority}});
    }
    return {{QStringLiteral("msgType"), QStringLiteral("RESTORE_MEET")},
            {QStringLiteral("meetId"), meetId},
            {QStringLiteral("password"), kPassword},
            {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
            {QStringLiteral("endpoints"), eps},
            {QStringLiteral("clientId"), QStringLiteral("desk-client")},
            {QStringLiteral("epoch"), QStringLiteral("0123456789abcdef")}};
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        qRegisterMetaType<oll::ServerSnapshotPtr>();
        qRegisterMetaType<oll::RestoreRequestInfo>();
    }

    void firstLaunchTellsWhatToDo()
    {
        Fixture f;
        QVERIFY(f.tmp.isValid());
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        QTRY_VERIFY_WITH_TIMEOUT(f.stateText().startsWith(QStringLiteral("Running on port ")), kWait);
        QCOMPARE(f.stateText(), QStringLiteral("Running on port %1").arg(f.host->snapshot()->port));
        auto* hint = f.window->findChild<QLabel*>(QStringLiteral("firstLaunchHint"));
        QVERIFY(hint);
        QTRY_VERIFY_WITH_TIMEOUT(hint->isVisible(), kWait);
        QVERIFY2(hint->text().contains(QStringLiteral("Go live")), qPrintable(hint->text()));
        QVERIFY2(hint->text().contains(QStringLiteral("/demo/")), qPrintable(hint->text()));
        QVERIFY(!f.window->meetsTable()->isVisible());
    }

    void boundToThisComputerTabletsCannotJoin()
    {
        Fixture f; // listens on 127.0.0.1 only
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        const quint16 port = f.host->snapshot()->port;
        const QUrl local(QStringLiteral("http://127.0.0.1:%1/demo/").arg(port));
        auto* panel = f.window->serverPanel();
        QTRY_COMPARE_WITH_TIMEOUT(panel->localAppUrl(), local, kWait);
        // 127.0.0.1 is no join address: no tablet reaches it, so no row, no QR code, and a reason.
        QVERIFY(panel->joinUrls().isEmpty());
        QVERIFY(panel->qrCode()->text().isEmpty());
        QVERIFY2(panel->reachProblem().contains(QStringLiteral("this computer only")),
                 qPrintable(panel->reachProblem()));
        auto* reach = f.window->findChild<QLabel*>(QStringLiteral("reachProblem"));
        QVERIFY(reach && reach->isVisible());
        QCOMPARE(reach->text(), panel->reachProblem());
        auto* localLine = f.window->findChild<QLabel*>(QStringLiteral("localAddress"));
        QVERIFY(localLine && localLine->isVisible());
        QVERIFY2(localLine->text().contains(local.toString()), qPrintable(localLine->text()));
        QVERIFY(!f.window->findChild<QTableWidget*>(QStringLiteral("joinUrlTable"))->isVisible());
        // The first-launch steps say so too, instead of offering an address no tablet can open.
        auto* hint = f.window->findChild<QLabel*>(QStringLiteral("firstLaunchHint"));
        QTRY_VERIFY_WITH_TIMEOUT(hint->text().contains(QStringLiteral("Tablets cannot connect yet")), kWait);
    }

    void closingWithoutTrayAsksFirst()
    {
        if (QSystemTrayIcon::isSystemTrayAvailable()) {
            QSKIP("this platform has a system tray: closing hides the window instead");
        }
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        QVERIFY(!quitBox(*f.window));

        // No tray to serve from: closing would stop the server, so the window asks and stays.
        QVERIFY(!f.window->close());
        QTRY_VERIFY_WITH_TIMEOUT(quitBox(*f.window), kWait);
        QVERIFY2(quitBox(*f.window)->text().contains(QStringLiteral("stops the server")),
                 qPrintable(quitBox(*f.window)->text()));
        QVERIFY(f.window->isVisible());
        QCOMPARE(f.host->state(), ServerSnapshot::State::Running); // the question does not block the server

        // No: everything stays as it was.
        quitBox(*f.window)->button(QMessageBox::No)->click();
        QTRY_VERIFY_WITH_TIMEOUT(!f.window->quitConfirmation(), kWait);
        QVERIFY(f.window->isVisible());
        QCOMPARE(f.host->state(), ServerSnapshot::State::Running);

        // Closing again asks again; Yes stops the server (every update on disk) to quit.
        QSignalSpy stopped(f.host.get(), &ServerHost::stopped);
        QVERIFY(!f.window->close());
        QTRY_VERIFY_WITH_TIMEOUT(quitBox(*f.window), kWait);
        quitBox(*f.window)->button(QMessageBox::Yes)->click();
        QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, kWait);
        QCOMPARE(f.host->state(), ServerSnapshot::State::Stopped);
    }

    void quittingWithNobodyConnectedDoesNotAsk()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        QSignalSpy stopped(f.host.get(), &ServerHost::stopped);
        f.window->requestQuit(true);
        QVERIFY(!f.window->quitConfirmation());
        QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, kWait);
    }

    void quittingWithClientsConnectedAsksFirst()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        TestClient a(f.liveUrl());
        QVERIFY(a.open(kWait));
        a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
        QVERIFY(!a.meetId.isEmpty());
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(a.meetId, MeetsModel::ClientsColumn), QStringLiteral("1"), kWait);

        f.window->requestQuit(true);
        QTRY_VERIFY_WITH_TIMEOUT(quitBox(*f.window), kWait);
        QVERIFY2(quitBox(*f.window)->text().startsWith(QStringLiteral("1 browser is connected")),
                 qPrintable(quitBox(*f.window)->text()));
        // Asking again while the question is up shows the same box, not a second one.
        f.window->requestQuit(true);
        QCOMPARE(f.window->findChildren<QMessageBox*>(QStringLiteral("quitConfirmation")).size(), 1);

        quitBox(*f.window)->button(QMessageBox::No)->click();
        QTRY_VERIFY_WITH_TIMEOUT(!f.window->quitConfirmation(), kWait);
        QCOMPARE(f.host->state(), ServerSnapshot::State::Running);
        QVERIFY(a.isConnected());

        QSignalSpy stopped(f.host.get(), &ServerHost::stopped);
        f.window->requestQuit(true);
        QTRY_VERIFY_WITH_TIMEOUT(quitBox(*f.window), kWait);
        quitBox(*f.window)->button(QMessageBox::Yes)->click();
        QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, kWait);
        QVERIFY(a.waitForDisconnect(kWait));
    }

    void meetNameChangeUpdatesTable()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        TestClient a(f.liveUrl());
        QVERIFY(a.open(kWait));
        QCOMPARE(a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        const QString meetId = a.meetId;
        const QString shownId = meetId.left(3) + u' ' + meetId.mid(3, 3) + u' ' + meetId.mid(6);
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::IdColumn), shownId, kWait);
        QVERIFY(f.window->meetsTable()->isVisible());
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::ClientsColumn), QStringLiteral("1"), kWait);
        // The only meet is selected, so its view is showing.
        QCOMPARE(f.window->selectedMeetId(), meetId);
        // The meets table starts a few rows tall; the selected meet below it gets the height.
        auto* splitter = f.window->findChild<QSplitter*>(QStringLiteral("mainSplitter"));
        QVERIFY(splitter);
        QTRY_VERIFY_WITH_TIMEOUT(splitter->sizes().value(1) > 2 * splitter->sizes().value(0), kWait);
        // The name takes the spare width; the numbers are sized to their contents, not squeezed.
        const QHeaderView* header = f.window->meetsTable()->horizontalHeader();
        QCOMPARE(header->sectionResizeMode(MeetsModel::NameColumn), QHeaderView::Stretch);
        for (int column :
             {int(MeetsModel::LiftersColumn), int(MeetsModel::HeadSeqColumn), int(MeetsModel::ClientsColumn)}) {
            QCOMPARE(header->sectionResizeMode(column), QHeaderView::ResizeToContents);
            QVERIFY(header->sectionSize(column) >= header->minimumSectionSize());
            QVERIFY(header->sectionSize(column) < header->sectionSize(MeetsModel::NameColumn));
        }

        QSignalSpy resets(f.window->meetsModel(), &QAbstractItemModel::modelReset);
        a.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open"), 1, 0}});
        a.expect(QStringLiteral("UPDATE_ACK"), kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::NameColumn), QStringLiteral("Canterbury Winter Open"),
                                  kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::HeadSeqColumn), QStringLiteral("1"), kWait);
        a.sendUpdates(a.token, {{QStringLiteral("meet.name"), QStringLiteral("Canterbury Spring Open"), 2, 1}});
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::NameColumn), QStringLiteral("Canterbury Spring Open"),
                                  kWait);
        QCOMPARE(resets.size(), 0);
        QCOMPARE(f.window->selectedMeetId(), meetId); // the selection survived every snapshot

        // Its client goes away: the online count follows.
        a.close();
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::ClientsColumn), QStringLiteral("0"), kWait);
    }

    void restoreApprovedInDialog()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        const QString meetId = QStringLiteral("123456789");
        const QJsonObject restore = restoreMessage(meetId);
        TestClient desk(f.liveUrl());
        QVERIFY(desk.open(kWait));
        QVERIFY(restoreAwaitsApproval(desk, restore));

        // The window asks the director; the dialog names the location, the address and the meet.
        QTRY_VERIFY_WITH_TIMEOUT(f.window->restoreDialog(meetId) != nullptr, kWait);
        auto* dialog = f.window->findChild<QDialog*>(oll::ui::RestoreDialog::objectNameFor(meetId));
        QVERIFY(dialog);
        QVERIFY(dialog->isVisible());
        QVERIFY(!dialog->isModal()); // the window (and the server) stay usable meanwhile
        QString text;
        bool named = false;
        for (QLabel* label : dialog->findChildren<QLabel*>()) {
            text += label->text();
            named = named
                || (label->text().contains(QStringLiteral("Desk"))
                    && label->text().contains(QStringLiteral("127.0.0.1"))
                    && label->text().contains(QStringLiteral("123 456 789")));
        }
        QVERIFY2(named, qPrintable(text));
        // Until approved, asking again is still refused.
        QVERIFY(restoreAwaitsApproval(desk, restore));

        auto* approve = dialog->findChild<QPushButton*>(QStringLiteral("approveButton"));
        QVERIFY(approve);
        QTest::mouseClick(approve, Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!f.window->restoreDialog(meetId) || !f.window->restoreDialog(meetId)->isVisible(),
                                 kWait);

        // The approval reaches the server's thread (the snapshot says so); the client's retry then
        // restores the meet, and the meets table lists it.
        QTRY_VERIFY_WITH_TIMEOUT(restoreApproved(*f.host, meetId), kWait);
        desk.send(restore);
        const QJsonObject reply = desk.expect(QStringLiteral("MEET_RESTORED"), kWait);
        QCOMPARE(reply.value(QStringLiteral("meetId")).toString(), meetId);
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meetId, MeetsModel::IdColumn), QStringLiteral("123 456 789"), kWait);
    }

    void refusedInDialog()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        const QString meetId = QStringLiteral("987654321");
        const QJsonObject restore = restoreMessage(meetId);
        TestClient desk(f.liveUrl());
        QVERIFY(desk.open(kWait));
        QVERIFY(restoreAwaitsApproval(desk, restore));
        QTRY_VERIFY_WITH_TIMEOUT(f.window->restoreDialog(meetId) != nullptr, kWait);
        QTest::mouseClick(f.window->restoreDialog(meetId)->findChild<QPushButton*>(QStringLiteral("refuseButton")),
                          Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(f.window->restoreDialog(meetId) == nullptr, kWait);
        // Refused: asking again is not even queued for approval any more.
        QTRY_VERIFY_WITH_TIMEOUT(!restoreAwaitsApproval(desk, restore), kWait);
        QVERIFY(f.cell(meetId, MeetsModel::IdColumn).isNull());
    }

    void stopStartFiveTimesKeepsEveryMeet()
    {
        Fixture f;
        QVERIFY2(f.startedRunning(), qPrintable(f.stateText()));
        QStringList meets;
        for (int m = 0; m < 2; ++m) {
            TestClient a(f.liveUrl());
            QVERIFY(a.open(kWait));
            a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-%1").arg(m));
            QVERIFY(!a.meetId.isEmpty());
            a.sendUpdates(a.token,
                          {{QStringLiteral("meet.name"), QStringLiteral("Meet %1").arg(m), 1, 0},
                           {QStringLiteral("meet.units"), QStringLiteral("kg"), 2, 0},
                           {QStringLiteral("meet.date"), QStringLiteral("2026-12-02"), 3, 0}});
            a.expect(QStringLiteral("UPDATE_ACK"), kWait);
            meets << a.meetId;
        }
        for (const QString& id : std::as_const(meets)) {
            QTRY_COMPARE_WITH_TIMEOUT(f.cell(id, MeetsModel::HeadSeqColumn), QStringLiteral("3"), kWait);
        }

        for (int round = 0; round < 5; ++round) {
            QVERIFY(f.startStop()->isEnabled());
            QCOMPARE(f.startStop()->text(), QStringLiteral("Stop server"));
            QTest::mouseClick(f.startStop(), Qt::LeftButton);
            QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Stopped, kWait);
            QTRY_COMPARE_WITH_TIMEOUT(f.stateText(), QStringLiteral("Stopped"), kWait);
            QTRY_COMPARE_WITH_TIMEOUT(f.startStop()->text(), QStringLiteral("Start server"), kWait);
            QTest::mouseClick(f.startStop(), Qt::LeftButton);
            QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Running, kWait);
            QTRY_VERIFY_WITH_TIMEOUT(f.stateText().startsWith(QStringLiteral("Running on port")), kWait);
            for (int m = 0; m < meets.size(); ++m) {
                QTRY_COMPARE_WITH_TIMEOUT(f.cell(meets.at(m), MeetsModel::HeadSeqColumn), QStringLiteral("3"), kWait);
                QCOMPARE(f.cell(meets.at(m), MeetsModel::NameColumn), QStringLiteral("Meet %1").arg(m));
            }
        }
        // And the meets still take updates after the last restart.
        TestClient b(f.liveUrl());
        QVERIFY(b.open(kWait));
        QCOMPARE(b.joinMeet(meets.first(), kPassword, QStringLiteral("Platform 1"), QStringLiteral("client-b"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
        b.sendUpdates(b.token, {{QStringLiteral("meet.name"), QStringLiteral("Meet 0, renamed"), 1, 3}});
        b.expect(QStringLiteral("UPDATE_ACK"), kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.cell(meets.first(), MeetsModel::HeadSeqColumn), QStringLiteral("4"), kWait);
    }

    void startFailureShowsErrorAndSettingsFixIt()
    {
        QTcpServer squatter;
        QVERIFY(squatter.listen(QHostAddress::LocalHost, 0));
        Fixture f(QString(), squatter.serverPort());
        f.window->startServer();
        QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Failed, kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.stateText(), QStringLiteral("Failed to start"), kWait);
        QVERIFY2(f.detailText().contains(QString::number(squatter.serverPort())), qPrintable(f.detailText()));
        QVERIFY2(f.detailText().contains(QStringLiteral("Another program already uses this port")),
                 qPrintable(f.detailText()));
        QCOMPARE(f.startStop()->text(), QStringLiteral("Start server"));
        QVERIFY(f.window->serverPanel()->joinUrls().isEmpty());

        // The director picks another port in Settings and applies: the server starts.
        QTcpServer probe; // a port that is free right now
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        const quint16 freePort = probe.serverPort();
        probe.close();
        oll::ui::SettingsDialog* dialog = f.window->openSettings();
        QVERIFY(dialog);
        dialog->findChild<QSpinBox*>(QStringLiteral("portSpin"))->setValue(freePort);
        QVERIFY(dialog->apply());
        QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Running, kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.stateText(), QStringLiteral("Running on port %1").arg(freePort), kWait);
        // Saved for the next launch.
        QCOMPARE(f.settings->value(QStringLiteral("server/port")).toInt(), int(freePort));
        dialog->close();

        // Applying while running restarts the server with the new settings (back to any free port).
        oll::ui::ServerSettings s = f.window->currentSettings();
        s.port = 0;
        QSignalSpy stopped(f.host.get(), &ServerHost::stopped);
        f.window->applySettings(s);
        QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, kWait);
        QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Running, kWait);
        QTRY_VERIFY_WITH_TIMEOUT(f.host->snapshot()->port != 0 && f.host->snapshot()->port != freePort, kWait);
    }

    void secondInstanceOnSameFolderSaysSo()
    {
        Fixture first;
        first.window->startServer();
        QTRY_COMPARE_WITH_TIMEOUT(first.host->state(), ServerSnapshot::State::Running, kWait);
        Fixture second(first.run.dataDir);
        second.window->startServer();
        QTRY_COMPARE_WITH_TIMEOUT(second.host->state(), ServerSnapshot::State::Failed, kWait);
        QTRY_COMPARE_WITH_TIMEOUT(second.stateText(), QStringLiteral("Failed to start"), kWait);
        QVERIFY2(second.detailText().contains(QStringLiteral("Another OpenLifter Live is already serving")),
                 qPrintable(second.detailText()));
    }

    void quitStopsTheServerWithEveryAckOnDisk()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        QString meetId;
        {
            Fixture f(data.path());
            f.window->startServer();
            QTRY_COMPARE_WITH_TIMEOUT(f.host->state(), ServerSnapshot::State::Running, kWait);
            TestClient a(f.liveUrl());
            QVERIFY(a.open(kWait));
            a.createMeet(QStringLiteral("Desk"), kPassword, endpoints(), QStringLiteral("client-a"));
            meetId = a.meetId;
            QVERIFY(!meetId.isEmpty());
            QList<std::tuple<QString, QJsonValue, qint64, qint64>> batch;
            for (int i = 1; i <= 40; ++i) {
                batch.append({QStringLiteral("meet.name"), QStringLiteral("Name %1").arg(i), i, 0});
            }
            a.sendUpdates(a.token, batch);
            a.expect(QStringLiteral("UPDATE_ACK"), kWait);
            QSignalSpy stopped(f.host.get(), &ServerHost::stopped);
            f.window->requestQuit(false); // the director confirmed
            QTRY_COMPARE_WITH_TIMEOUT(stopped.size(), 1, kWait);
            QCOMPARE(f.host->state(), ServerSnapshot::State::Stopped);
            QVERIFY(a.waitForDisconnect(kWait));
        }
        // The next launch on the same folder has every acknowledged update.
        Fixture next(data.path());
        next.window->startServer();
        QTRY_COMPARE_WITH_TIMEOUT(next.host->state(), ServerSnapshot::State::Running, kWait);
        QTRY_COMPARE_WITH_TIMEOUT(next.cell(meetId, MeetsModel::HeadSeqColumn), QStringLiteral("40"), kWait);
        QCOMPARE(next.cell(meetId, MeetsModel::NameColumn), QStringLiteral("Name 40"));
    }

    void settingsDialogRefusesBadValues()
    {
        Fixture f;
        oll::ui::SettingsDialog* dialog = f.window->openSettings();
        QVERIFY(dialog);
        QSignalSpy applied(dialog, &oll::ui::SettingsDialog::applied);
        auto* problems = dialog->findChild<QLabel*>(QStringLiteral("problemsLabel"));
        dialog->findChild<QRadioButton*>(QStringLiteral("bindSpecific"))->setChecked(true);
        dialog->findChild<QLineEdit*>(QStringLiteral("addressEdit"))->setText(QStringLiteral("10.0.0.300"));
        dialog->findChild<QLineEdit*>(QStringLiteral("openlifterDirEdit"))->setText(f.tmp.path());
        QVERIFY(!dialog->apply());
        QVERIFY(problems->isVisible());
        QVERIFY2(problems->text().contains(QStringLiteral("not an IP address")), qPrintable(problems->text()));
        QVERIFY2(problems->text().contains(QStringLiteral("index.html")), qPrintable(problems->text()));
        QCOMPARE(applied.size(), 0);
        QCOMPARE(f.host->state(), ServerSnapshot::State::Stopped); // nothing was started
        dialog->close();
    }
};

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
