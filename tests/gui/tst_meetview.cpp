// SPDX-License-Identifier: AGPL-3.0-or-later
// The selected meet's view over a real in-process ServerHost (127.0.0.1, port 0) and real
// WebSocket clients: rows follow joins and leaves, conflicts reach the log with their values
// hidden, and a display link minted and revoked through the widgets works and then stops working.
#include "ServerHarness.h"
#include "TestClient.h"

#include "host/ServerHost.h"
#include "meet/ClientsModel.h"
#include "meet/ConflictsModel.h"
#include "meet/DisplayLinksModel.h"
#include "meet/DisplayLinksPanel.h"
#include "meet/EndpointsModel.h"
#include "meet/MeetDiagnosticsView.h"
#include "meet/MeetView.h"

#include <QCheckBox>
#include <QClipboard>
#include <QDir>
#include <QFile>
#include <QFrame>
#include <QGuiApplication>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QUrlQuery>

#include <memory>

using namespace oll;
using namespace oll::test;
using namespace oll::ui;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
constexpr int kWaitMs = 30'000;

QString cell(const QAbstractItemModel* model, int row, int column)
{
    return row < 0 ? QString() : model->data(model->index(row, column)).toString();
}

/// A started ServerHost over its own temporary data directory.
class RunningHost
{
public:
    bool start()
    {
        QSignalSpy started(&host, &ServerHost::started);
        if (!host.start(testOptions(m_dir.path())))
            return false;
        if (!QTest::qWaitFor([&] { return started.size() == 1; }, kWaitMs))
            return false;
        return started.first().at(0).toBool() && QTest::qWaitFor([&] { return host.snapshot()->port != 0; }, kWaitMs);
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(host.snapshot()->port)); }
    QString dataDir() const { return m_dir.path(); }

private:
    QTemporaryDir m_dir; // declared first: it outlives the host, which stops the server first

public:
    ServerHost host;
};

std::unique_ptr<TestClient> connected(const QUrl& url)
{
    auto c = std::make_unique<TestClient>(url);
    return c->open(kWaitMs) ? std::move(c) : nullptr;
}

const QList<QPair<QString, int>> kEndpoints{
    {QStringLiteral("Platform A"), 10}, {QStringLiteral("Weigh-in"), 5}, {QStringLiteral("Board"), 0}};

/// A started host, a desk that created "Platform A", and a shown MeetView on that meet's
/// Display links tab. open() fails the test through QVERIFY: check QTest::currentTestFailed().
struct DisplayLinksTab
{
    RunningHost run;
    std::unique_ptr<MeetView> view;
    std::unique_ptr<TestClient> desk;

    void open()
    {
        QVERIFY(run.start());
        view = std::make_unique<MeetView>(&run.host);
        view->resize(1200, 700);
        view->show();
        QVERIFY(QTest::qWaitForWindowExposed(view.get()));
        desk = connected(run.url());
        QVERIFY(desk);
        QCOMPARE(desk->createMeet(QStringLiteral("Platform A"), kPassword, kEndpoints, QStringLiteral("desk-1"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        view->setMeet(desk->meetId);
        auto* tabs = view->findChild<QTabWidget*>(QStringLiteral("meetTabs"));
        QVERIFY(tabs);
        tabs->setCurrentWidget(view->displayLinksPanel());
        QTRY_VERIFY_WITH_TIMEOUT(tabs->isVisible(), kWaitMs); // the meet is in a snapshot
    }
};

/// Selects the display link in `row` (nothing selected before) and revokes it through the
/// widgets, answering yes to the confirmation. Check QTest::currentTestFailed() after.
void revokeSelectedInUi(MeetView& view, int row)
{
    auto* linksView = view.findChild<QTableView*>(QStringLiteral("displayLinksView"));
    auto* revokeButton = view.findChild<QPushButton*>(QStringLiteral("revokeDisplayLinkButton"));
    QVERIFY(linksView && revokeButton);
    QVERIFY(!revokeButton->isEnabled()); // nothing selected
    linksView->selectRow(row);
    QVERIFY(revokeButton->isEnabled());
    QTest::mouseClick(revokeButton, Qt::LeftButton);
    QMessageBox* confirm = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT(
        (confirm = view.findChild<QMessageBox*>(QStringLiteral("revokeDisplayLinkConfirm"))) != nullptr, kWaitMs);
    QTRY_VERIFY_WITH_TIMEOUT(confirm->isVisible(), kWaitMs);
    auto* yes = confirm->findChild<QPushButton*>(QStringLiteral("confirmRevokeButton"));
    QVERIFY(yes);
    yes->click();
}

} // namespace

class TestMeetView : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void clientRowsFollowJoinsAndLeaves()
    {
        RunningHost run;
        QVERIFY(run.start());
        MeetView view(&run.host);
        view.resize(1200, 700);
        view.show();

        auto desk = connected(run.url());
        QVERIFY(desk);
        QCOMPARE(
            desk->createMeet(QStringLiteral("Platform A"), kPassword, kEndpoints, QStringLiteral("desk-0123456789"))
                .value(QStringLiteral("msgType"))
                .toString(),
            QStringLiteral("MEET_CREATED"));
        view.setMeet(desk->meetId);
        QCOMPARE(view.meetId(), desk->meetId);

        auto* idLabel = view.findChild<QLabel*>(QStringLiteral("meetIdLabel"));
        QVERIFY(idLabel);
        QTRY_COMPARE_WITH_TIMEOUT(idLabel->text(), displayMeetId(desk->meetId), kWaitMs);

        const ClientsModel* clients = view.clientsModel();
        QTRY_VERIFY_WITH_TIMEOUT(clients->rowOf(QStringLiteral("desk-0123456789")) >= 0, kWaitMs);
        int row = clients->rowOf(QStringLiteral("desk-0123456789"));
        QCOMPARE(cell(clients, row, ClientsModel::Location), QStringLiteral("Platform A"));
        QCOMPARE(cell(clients, row, ClientsModel::RoleColumn), QStringLiteral("Updating"));
        QCOMPARE(cell(clients, row, ClientsModel::Client), QStringLiteral("desk-012"));
        QCOMPARE(cell(clients, row, ClientsModel::Address), QStringLiteral("127.0.0.1"));
        QVERIFY(cell(clients, row, ClientsModel::Status).startsWith(QStringLiteral("online since")));

        // Endpoints, highest priority first.
        const EndpointsModel* endpoints = view.endpointsModel();
        QTRY_COMPARE_WITH_TIMEOUT(endpoints->rowCount(), 3, kWaitMs);
        QCOMPARE(cell(endpoints, 0, EndpointsModel::Location), QStringLiteral("Platform A"));
        QCOMPARE(cell(endpoints, 2, EndpointsModel::Location), QStringLiteral("Board"));

        // A board joins as display; then it leaves and its row says since when it is offline.
        auto board = connected(run.url());
        QVERIFY(board);
        QCOMPARE(board
                     ->joinMeet(desk->meetId, kPassword, QStringLiteral("Board"), QStringLiteral("board-1"),
                                QStringLiteral("display"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
        QTRY_VERIFY_WITH_TIMEOUT(clients->rowOf(QStringLiteral("board-1")) >= 0, kWaitMs);
        row = clients->rowOf(QStringLiteral("board-1"));
        QCOMPARE(cell(clients, row, ClientsModel::Location), QStringLiteral("Board"));
        QCOMPARE(cell(clients, row, ClientsModel::RoleColumn), QStringLiteral("Display"));
        QTRY_COMPARE_WITH_TIMEOUT(cell(endpoints, 2, EndpointsModel::Online), QStringLiteral("1"), kWaitMs);

        const int deskRow = clients->rowOf(QStringLiteral("desk-0123456789"));
        board->close();
        QVERIFY(board->waitForDisconnect(kWaitMs));
        QTRY_VERIFY_WITH_TIMEOUT(cell(clients, clients->rowOf(QStringLiteral("board-1")), ClientsModel::Status)
                                     .startsWith(QStringLiteral("offline since")),
                                 kWaitMs);
        // Diffed, not reset: the desk kept its row.
        QCOMPARE(clients->rowOf(QStringLiteral("desk-0123456789")), deskRow);
        QVERIFY(cell(clients, deskRow, ClientsModel::Status).startsWith(QStringLiteral("online since")));

        // The meet's diagnostics are there too (the join lines at least).
        QTRY_VERIFY_WITH_TIMEOUT(!view.diagnosticsView()->toPlainText().isEmpty(), kWaitMs);
    }

    void conflictReachesTheLogWithValuesHidden()
    {
        RunningHost run;
        QVERIFY(run.start());
        MeetView view(&run.host);
        view.show();

        auto desk = connected(run.url());
        auto weighIn = connected(run.url());
        QVERIFY(desk && weighIn);
        QCOMPARE(desk->createMeet(QStringLiteral("Platform A"), kPassword, kEndpoints, QStringLiteral("desk-1"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        QCOMPARE(weighIn->joinMeet(desk->meetId, kPassword, QStringLiteral("Weigh-in"), QStringLiteral("wgh-1"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_JOINED"));
        view.setMeet(desk->meetId);

        // Both edit meet.name based on seq 0: Platform A (priority 10) is first, Weigh-in (5) loses.
        desk->sendUpdates(desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Spring Open"), 1, 0}});
        desk->expect(QStringLiteral("UPDATE_ACK"), kWaitMs);
        weighIn->sendUpdates(weighIn->token, {{QStringLiteral("meet.name"), QStringLiteral("Secret Value 77"), 1, 0}});
        const QJsonObject rejected = weighIn->expect(QStringLiteral("UPDATE_REJECTED"), kWaitMs);
        QCOMPARE(rejected.value(QStringLiteral("updatesRejected"))[0][QStringLiteral("code")].toString(),
                 QStringLiteral("CONFLICT"));

        auto* name = view.findChild<QLabel*>(QStringLiteral("meetNameLabel"));
        QVERIFY(name);
        QTRY_COMPARE_WITH_TIMEOUT(name->text(), QStringLiteral("Spring Open"), kWaitMs);

        const ConflictsModel* conflicts = view.conflictsModel();
        QTRY_COMPARE_WITH_TIMEOUT(conflicts->rowCount(), 1, kWaitMs);
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Key), QStringLiteral("meet.name"));
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Winner), QStringLiteral("Platform A (update 1)"));
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Loser), QStringLiteral("Weigh-in"));
        QVERIFY(cell(conflicts, 0, ConflictsModel::Outcome).startsWith(QStringLiteral("kept Platform A's value")));
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Value), ConflictsModel::hiddenValue());
        auto* tabs = view.findChild<QTabWidget*>(QStringLiteral("meetTabs"));
        QVERIFY(tabs);
        QCOMPARE(tabs->tabText(2), QStringLiteral("Conflicts (1)"));

        // Only on demand: the director ticks "Show values".
        auto* show = view.findChild<QCheckBox*>(QStringLiteral("showConflictValues"));
        QVERIFY(show);
        QVERIFY(!show->isChecked());
        show->click();
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Value), QStringLiteral("refused: \"Secret Value 77\""));
        show->click();
        QCOMPARE(cell(conflicts, 0, ConflictsModel::Value), ConflictsModel::hiddenValue());
    }

    void displayLinkMintedAndRevokedInTheUi()
    {
        DisplayLinksTab tab;
        tab.open();
        if (QTest::currentTestFailed())
            return;

        auto* label = tab.view->findChild<QLineEdit*>(QStringLiteral("displayLinkLabelEdit"));
        auto* mintButton = tab.view->findChild<QPushButton*>(QStringLiteral("mintDisplayLinkButton"));
        auto* panel = tab.view->findChild<QFrame*>(QStringLiteral("mintedLinkPanel"));
        auto* urlEdit = tab.view->findChild<QLineEdit*>(QStringLiteral("mintedUrlEdit"));
        QVERIFY(label && mintButton && panel && urlEdit);
        QTRY_VERIFY_WITH_TIMEOUT(label->isEnabled(), kWaitMs);
        QVERIFY(!mintButton->isEnabled()); // no label yet
        QTest::keyClicks(label, QStringLiteral("Warm-up board"));
        QVERIFY(mintButton->isEnabled());
        QTest::mouseClick(mintButton, Qt::LeftButton);

        auto* status = tab.view->findChild<QLabel*>(QStringLiteral("displayLinkStatus"));
        QVERIFY(status);
        QTRY_VERIFY2_WITH_TIMEOUT(panel->isVisible(), qPrintable(status->text()), kWaitMs);
        const QUrl url(urlEdit->text());
        QCOMPARE(url.scheme(), QStringLiteral("http"));
        QCOMPARE(url.port(), int(tab.run.host.snapshot()->port));
        QCOMPARE(url.path(), QStringLiteral("/demo/"));
        QVERIFY2(url.fragment().startsWith(QStringLiteral("display=")), qPrintable(url.toString()));
        QVERIFY(!url.toString().contains(kPassword));
        const QString token = url.fragment().mid(QStringLiteral("display=").size());
        QCOMPARE(token.size(), 43);
        QVERIFY(label->text().isEmpty());
        auto* copy = tab.view->findChild<QPushButton*>(QStringLiteral("copyMintedUrlButton"));
        QVERIFY(copy);
        copy->click();
        QCOMPARE(QGuiApplication::clipboard()->text(), urlEdit->text());

        const DisplayLinksModel* links = tab.view->displayLinksPanel()->model();
        QTRY_COMPARE_WITH_TIMEOUT(links->rowCount(), 1, kWaitMs);
        QCOMPARE(cell(links, 0, DisplayLinksModel::Label), QStringLiteral("Warm-up board"));
        const QString linkId = cell(links, 0, DisplayLinksModel::LinkId);
        QVERIFY(linkId.startsWith(QStringLiteral("dl-")));

        // A board joins with the token from the URL: it pulls and receives relays, but cannot update.
        auto board = connected(tab.run.url());
        QVERIFY(board);
        const QJsonObject joined = board->joinDisplay(token, QStringLiteral("board-1"));
        QCOMPARE(joined.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_JOINED"));
        QCOMPARE(joined.value(QStringLiteral("role")).toString(), QStringLiteral("display"));
        QCOMPARE(joined.value(QStringLiteral("meetId")).toString(), tab.desk->meetId);
        board->pull(board->token, 0);
        const QJsonObject pulled = board->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs); // the pull's answer
        QVERIFY(pulled.value(QStringLiteral("pull")).toBool());
        tab.desk->sendUpdates(tab.desk->token, {{QStringLiteral("meet.name"), QStringLiteral("Spring Open"), 1, 0}});
        tab.desk->expect(QStringLiteral("UPDATE_ACK"), kWaitMs);
        const QJsonObject relay = board->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs);
        QCOMPARE(relay.value(QStringLiteral("updatesRelayed"))[0][QStringLiteral("updateKey")].toString(),
                 QStringLiteral("meet.name"));
        board->sendUpdates(board->token, {{QStringLiteral("meet.name"), QStringLiteral("Hijacked"), 1, 1}});
        const QJsonObject refused = board->expect(QStringLiteral("UPDATE_REJECTED"), kWaitMs);
        QCOMPARE(refused.value(QStringLiteral("updatesRejected"))[0][QStringLiteral("code")].toString(),
                 QStringLiteral("READ_ONLY_SESSION"));

        // The view shows the board as joined through the link, and the link as in use.
        const ClientsModel* clients = tab.view->clientsModel();
        QTRY_VERIFY_WITH_TIMEOUT(clients->rowOf(QStringLiteral("board-1")) >= 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(cell(clients, clients->rowOf(QStringLiteral("board-1")), ClientsModel::RoleColumn),
                                  QStringLiteral("Display (link “Warm-up board”)"), kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(cell(links, 0, DisplayLinksModel::Connections), QStringLiteral("1"), kWaitMs);

        // Revoke it in the UI, confirming the question.
        revokeSelectedInUi(*tab.view, 0);
        if (QTest::currentTestFailed())
            return;

        QVERIFY(board->waitForDisconnect(kWaitMs));
        QCOMPARE(int(board->socket().closeCode()), 4001);
        auto again = connected(tab.run.url());
        QVERIFY(again);
        const QJsonObject refusedJoin = again->joinDisplay(token, QStringLiteral("board-2"));
        QCOMPARE(refusedJoin.value(QStringLiteral("msgType")).toString(), QStringLiteral("JOIN_REJECTED"));

        QTRY_COMPARE_WITH_TIMEOUT(links->rowCount(), 0, kWaitMs);
        QTRY_COMPARE_WITH_TIMEOUT(
            status->text(),
            QStringLiteral("Display link “Warm-up board” (%1) revoked; 1 display was disconnected.").arg(linkId),
            kWaitMs);
        // The revoked link's one-time URL no longer works, so it is no longer on screen.
        QVERIFY(!panel->isVisible());
        QVERIFY(urlEdit->text().isEmpty());
    }

    void revokeThatCannotBeSavedWarnsInTheUi()
    {
        DisplayLinksTab tab;
        tab.open();
        if (QTest::currentTestFailed())
            return;

        QSignalSpy minted(&tab.run.host, &ServerHost::displayLinkMinted);
        tab.run.host.mintDisplayLink(tab.desk->meetId, QStringLiteral("Audience board"));
        QTRY_COMPARE_WITH_TIMEOUT(minted.size(), 1, kWaitMs);
        QVERIFY2(minted.first().at(4).toString().isEmpty(), qPrintable(minted.first().at(4).toString()));
        const DisplayLinksModel* links = tab.view->displayLinksPanel()->model();
        QTRY_COMPARE_WITH_TIMEOUT(links->rowCount(), 1, kWaitMs);

        // A folder where display-links.json belongs: the revocation holds but cannot be saved.
        const QString file = tab.run.dataDir() + QStringLiteral("/current-meets/") + tab.desk->meetId
            + QStringLiteral("/display-links.json");
        QVERIFY(QFile::remove(file));
        QVERIFY(QDir().mkpath(file));

        revokeSelectedInUi(*tab.view, 0);
        if (QTest::currentTestFailed())
            return;

        auto* status = tab.view->findChild<QLabel*>(QStringLiteral("displayLinkStatus"));
        QVERIFY(status);
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("revoked; no display was using it")), kWaitMs);
        QVERIFY2(status->text().contains(QStringLiteral("Warning: ")), qPrintable(status->text()));
        QVERIFY2(!status->text().contains(QStringLiteral("Could not revoke")), qPrintable(status->text()));
        QVERIFY(QDir(file).removeRecursively()); // let the server's retry save it before the test ends
    }

    void mintRefusedWithAClearMessage()
    {
        RunningHost run;
        QVERIFY(run.start());
        MeetView view(&run.host);
        view.show();
        auto desk = connected(run.url());
        QVERIFY(desk);
        QCOMPARE(desk->createMeet(QStringLiteral("Platform A"), kPassword, kEndpoints, QStringLiteral("desk-1"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        view.setMeet(desk->meetId);
        auto* label = view.findChild<QLineEdit*>(QStringLiteral("displayLinkLabelEdit"));
        auto* mintButton = view.findChild<QPushButton*>(QStringLiteral("mintDisplayLinkButton"));
        auto* status = view.findChild<QLabel*>(QStringLiteral("displayLinkStatus"));
        QVERIFY(label && mintButton && status);
        QTRY_VERIFY_WITH_TIMEOUT(label->isEnabled(), kWaitMs);
        // Spaces only: nothing to send.
        QTest::keyClicks(label, QStringLiteral("   "));
        QVERIFY(!mintButton->isEnabled());
        // A control character the server refuses: its reason is shown, nothing is minted.
        label->setText(QStringLiteral("Board\x01"));
        mintButton->click();
        QTRY_VERIFY_WITH_TIMEOUT(status->text().startsWith(QStringLiteral("Could not create the display link")),
                                 kWaitMs);
        QVERIFY(!view.findChild<QFrame*>(QStringLiteral("mintedLinkPanel"))->isVisible());
        QCOMPARE(view.displayLinksPanel()->linkCount(), 0);
    }

    void placeholderWithoutAMeet()
    {
        ServerHost host; // never started: every accessor is safe
        MeetView view(&host);
        auto* placeholder = view.findChild<QLabel*>(QStringLiteral("meetPlaceholder"));
        QVERIFY(placeholder);
        QVERIFY(placeholder->text().startsWith(QStringLiteral("Select a meet")));
        view.setMeet(QStringLiteral("123456789"));
        QVERIFY(placeholder->text().contains(QStringLiteral("123 456 789")));
        QVERIFY(placeholder->text().contains(QStringLiteral("not running")));
        QCOMPARE(view.clientsModel()->rowCount(), 0);
    }
};

QTEST_MAIN(TestMeetView)
#include "tst_meetview.moc"
