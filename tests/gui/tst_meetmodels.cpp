// SPDX-License-Identifier: AGPL-3.0-or-later
// The meet view's models over synthetic snapshot values: diffing keeps rows, values stay hidden.
#include "meet/ClientsModel.h"
#include "meet/ConflictsModel.h"
#include "meet/DisplayLinksModel.h"
#include "meet/EndpointsModel.h"
#include "meet/MeetDiagnosticsView.h"
#include "meet/MeetFormat.h"

#include <QDateTime>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTest>
#include <QTextDocument>

using namespace oll;
using namespace oll::ui;

namespace {

constexpr qint64 kNow = 1795867963000; // a fixed wall clock

ClientInfo client(const QString& id, const QString& location, bool online, qint64 lastSeen)
{
    ClientInfo c;
    c.clientId = id;
    c.locationName = location;
    c.address = QStringLiteral("192.168.1.20");
    c.online = online;
    c.connections = online ? 1 : 0;
    c.onlineSinceMs = kNow - 60000;
    c.offlineSinceMs = online ? 0 : kNow - 5 * 60000;
    c.lastAckedSeq = lastSeen;
    c.lastSeenSeq = lastSeen;
    c.rttMs = online ? 12 : -1;
    return c;
}

QString text(const QAbstractItemModel& m, int row, int column, int role = Qt::DisplayRole)
{
    return m.data(m.index(row, column), role).toString();
}

ConflictRecord rejected(qint64 timeMs, const QString& key, const QJsonValue& value)
{
    ConflictRecord r;
    r.outcome = ConflictRecord::Outcome::Rejected;
    r.timeMs = timeMs;
    r.key = key;
    r.value = value;
    r.clientId = QStringLiteral("reg-1");
    r.localSeqNum = timeMs;
    r.locationName = QStringLiteral("Registration");
    r.priority = 5;
    r.afterServerSeqNum = 1;
    r.winner = ConflictParty{2, QStringLiteral("Weigh-in"), QStringLiteral("wgh-1"), 5};
    return r;
}

} // namespace

class TestMeetModels : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void clientsRender()
    {
        ClientsModel model;
        ClientInfo display = client(QStringLiteral("board-longclientid"), QStringLiteral("Board"), true, 7);
        display.role = Role::Display;
        display.displayLinkId = QStringLiteral("dl-3f9a1c");
        model.update({client(QStringLiteral("abcdefghijkl"), QStringLiteral("Platform A"), true, 10), display,
                      client(QStringLiteral("gone-1"), QStringLiteral("Weigh-in"), false, 4)},
                     10, {{QStringLiteral("dl-3f9a1c"), QStringLiteral("Warm-up board")}}, kNow);
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(model.columnCount(), int(ClientsModel::ColumnCount));

        QCOMPARE(text(model, 0, ClientsModel::Location), QStringLiteral("Platform A"));
        QCOMPARE(text(model, 0, ClientsModel::RoleColumn), QStringLiteral("Updating"));
        QCOMPARE(text(model, 0, ClientsModel::Client), QStringLiteral("abcdefgh"));
        QVERIFY(text(model, 0, ClientsModel::Client, Qt::ToolTipRole).contains(QStringLiteral("abcdefghijkl")));
        QCOMPARE(text(model, 0, ClientsModel::Lag), QStringLiteral("up to date"));
        QCOMPARE(text(model, 0, ClientsModel::LastAcked), QStringLiteral("10"));
        QCOMPARE(text(model, 0, ClientsModel::Status),
                 QStringLiteral("online since ") + MeetFormat::clockTime(kNow - 60000));

        QCOMPARE(text(model, 1, ClientsModel::RoleColumn), QStringLiteral("Display (link “Warm-up board”)"));
        QCOMPARE(text(model, 1, ClientsModel::Lag), QStringLiteral("3 behind"));

        QCOMPARE(text(model, 2, ClientsModel::Status),
                 QStringLiteral("offline since %1 (5 min ago)").arg(MeetFormat::clockTime(kNow - 5 * 60000)));
        QCOMPARE(text(model, 2, ClientsModel::Rtt), QStringLiteral("–"));
        QCOMPARE(text(model, 0, ClientsModel::Rtt), QStringLiteral("12 ms"));

        QVERIFY(model.data(model.index(2, 0), Qt::ForegroundRole).isValid()); // greyed out
        QVERIFY(!model.data(model.index(0, 0), Qt::ForegroundRole).isValid());

        // Just connected, no pong yet: measuring, not a dash that reads as broken.
        ClientInfo fresh = client(QStringLiteral("fresh-1"), QStringLiteral("Weigh-in"), true, 10);
        fresh.rttMs = -1;
        model.update({fresh}, 10, {}, kNow);
        QCOMPARE(text(model, 0, ClientsModel::Rtt), QStringLiteral("measuring…"));
        QVERIFY(!text(model, 0, ClientsModel::Rtt, Qt::ToolTipRole).isEmpty());
    }

    void clientsDiffKeepsRows()
    {
        ClientsModel model;
        const ClientInfo a = client(QStringLiteral("a"), QStringLiteral("Platform A"), true, 5);
        const ClientInfo b = client(QStringLiteral("b"), QStringLiteral("Weigh-in"), true, 5);
        model.update({a, b}, 5, {}, kNow);

        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        // Same data again: nothing to say.
        model.update({a, b}, 5, {}, kNow);
        QCOMPARE(changed.size(), 0);

        // b falls behind; the snapshot also lists b first now. The rows stay where they were.
        ClientInfo b2 = b;
        b2.lastAckedSeq = 6;
        model.update({b2, a}, 9, {}, kNow);
        QCOMPARE(reset.size(), 0);
        QCOMPARE(inserted.size(), 0);
        QCOMPARE(removed.size(), 0);
        QCOMPARE(model.rowOf(QStringLiteral("a")), 0);
        QCOMPARE(model.rowOf(QStringLiteral("b")), 1);
        QCOMPARE(text(model, 0, ClientsModel::Lag), QStringLiteral("4 behind"));
        QCOMPARE(text(model, 1, ClientsModel::LastAcked), QStringLiteral("6"));
        QCOMPARE(changed.size(), 2); // one per row, each over the columns that changed
        for (const QList<QVariant>& args : changed) {
            const auto topLeft = args.at(0).value<QModelIndex>();
            const auto bottomRight = args.at(1).value<QModelIndex>();
            QCOMPARE(topLeft.row(), bottomRight.row());
            QVERIFY(topLeft.column() <= ClientsModel::Lag && bottomRight.column() >= ClientsModel::Lag);
            QVERIFY(bottomRight.column() < ClientsModel::Status); // status text did not change
        }

        // b goes offline: its row changes in place; a new client c is appended; a is dropped.
        changed.clear();
        ClientInfo b3 = b2;
        b3.online = false;
        b3.offlineSinceMs = kNow;
        const ClientInfo c = client(QStringLiteral("c"), QStringLiteral("Board"), true, 9);
        model.update({c, b3}, 9, {}, kNow);
        QCOMPARE(reset.size(), 0);
        QCOMPARE(removed.size(), 1);
        QCOMPARE(removed.first().at(1).toInt(), 0); // a's row
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 1); // appended after b
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.rowOf(QStringLiteral("b")), 0);
        QCOMPARE(model.rowOf(QStringLiteral("c")), 1);
        QVERIFY(text(model, 0, ClientsModel::Status).startsWith(QStringLiteral("offline since")));
    }

    void clientsClockOnlyTouchesChangedCells()
    {
        ClientsModel model;
        model.update({client(QStringLiteral("on"), QStringLiteral("A"), true, 1),
                      client(QStringLiteral("off"), QStringLiteral("B"), false, 1)},
                     1, {}, kNow);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setNow(kNow + 10 * 60000);
        QVERIFY(text(model, 1, ClientsModel::Status).endsWith(QStringLiteral("(15 min ago)")));
        // The offline row's status text changed; the online row's tooltip ("for N min") too; nothing else.
        QCOMPARE(changed.size(), 2);
        for (const QList<QVariant>& args : changed) {
            QCOMPARE(args.at(0).value<QModelIndex>().column(), int(ClientsModel::Status));
            QCOMPARE(args.at(1).value<QModelIndex>().column(), int(ClientsModel::Status));
        }
    }

    void conflictsHideValuesByDefault()
    {
        ConflictsModel model;
        QVERIFY(!model.showValues());
        model.setRecords({rejected(kNow, QStringLiteral("registration.entries[id=1001007].bodyweightKg"), 82.5)});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(text(model, 0, ConflictsModel::Value), ConflictsModel::hiddenValue());
        QVERIFY(!text(model, 0, ConflictsModel::Value, Qt::ToolTipRole).contains(QStringLiteral("82.5")));
        for (int column = 0; column < model.columnCount(); ++column)
            QVERIFY2(!text(model, 0, column).contains(QStringLiteral("82.5")), qPrintable(QString::number(column)));

        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        model.setShowValues(true);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.first().at(0).value<QModelIndex>().column(), int(ConflictsModel::Value));
        QCOMPARE(text(model, 0, ConflictsModel::Value), QStringLiteral("refused: 82.5"));
        model.setShowValues(false);
        QCOMPARE(text(model, 0, ConflictsModel::Value), ConflictsModel::hiddenValue());
    }

    void conflictsDescribeBothOutcomes()
    {
        ConflictsModel model;
        ConflictRecord over;
        over.outcome = ConflictRecord::Outcome::Overruled;
        over.timeMs = kNow + 1000;
        over.key = QStringLiteral("registration.entries[id=5007].division");
        over.value = QStringLiteral("Open");
        over.clientId = QStringLiteral("tblA-1");
        over.locationName = QStringLiteral("Platform A");
        over.priority = 10;
        over.serverSeqNum = 8;
        over.overruled = {ConflictParty{5, QStringLiteral("Weigh-in"), QStringLiteral("wgh-1"), 5}};
        model.setRecords({rejected(kNow, QStringLiteral("meet.name"), QStringLiteral("x")), over});

        // Newest first.
        QCOMPARE(text(model, 0, ConflictsModel::Winner), QStringLiteral("Platform A (update 8)"));
        QCOMPARE(text(model, 0, ConflictsModel::Loser), QStringLiteral("Weigh-in (update 5)"));
        QVERIFY(text(model, 0, ConflictsModel::Outcome).startsWith(QStringLiteral("overruled")));
        QCOMPARE(text(model, 1, ConflictsModel::Winner), QStringLiteral("Weigh-in (update 2)"));
        QCOMPARE(text(model, 1, ConflictsModel::Loser), QStringLiteral("Registration"));
        QVERIFY(text(model, 1, ConflictsModel::Outcome).startsWith(QStringLiteral("kept Weigh-in's value")));
        QCOMPARE(text(model, 1, ConflictsModel::Time), MeetFormat::clockTime(kNow));
        QCOMPARE(text(model, 0, ConflictsModel::Key, Qt::ToolTipRole),
                 QStringLiteral("registration › entry id 5007 › division"));
    }

    void conflictsGrowByInsertingAtTheTop()
    {
        ConflictsModel model;
        const ConflictRecord first = rejected(kNow, QStringLiteral("a"), 1);
        const ConflictRecord second = rejected(kNow + 1, QStringLiteral("b"), 2);
        const ConflictRecord third = rejected(kNow + 2, QStringLiteral("c"), 3);
        model.setRecords({first});
        QSignalSpy reset(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        model.setRecords({first, second, third});
        QCOMPARE(reset.size(), 0);
        QCOMPARE(inserted.size(), 1);
        QCOMPARE(inserted.first().at(1).toInt(), 0);
        QCOMPARE(inserted.first().at(2).toInt(), 1);
        QCOMPARE(text(model, 0, ConflictsModel::Key), QStringLiteral("c"));
        QCOMPARE(text(model, 2, ConflictsModel::Key), QStringLiteral("a"));
        model.setRecords({first, second, third}); // unchanged: nothing
        QCOMPARE(inserted.size(), 1);
        // A different log (the meet was restored): a reset.
        model.setRecords({second});
        QCOMPARE(reset.size(), 1);
        QCOMPARE(model.rowCount(), 1);
    }

    void endpointsHighestFirst()
    {
        EndpointsModel model;
        model.update(
            {{QStringLiteral("Board"), 0}, {QStringLiteral("Platform A"), 10}, {QStringLiteral("Weigh-in"), 5}},
            {client(QStringLiteral("x"), QStringLiteral("Weigh-in"), true, 0),
             client(QStringLiteral("y"), QStringLiteral("Weigh-in"), true, 0),
             client(QStringLiteral("z"), QStringLiteral("Board"), false, 0)});
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(text(model, 0, EndpointsModel::Location), QStringLiteral("Platform A"));
        QCOMPARE(text(model, 1, EndpointsModel::Location), QStringLiteral("Weigh-in"));
        QCOMPARE(text(model, 2, EndpointsModel::Location), QStringLiteral("Board"));
        QCOMPARE(text(model, 1, EndpointsModel::Online), QStringLiteral("2"));
        QCOMPARE(text(model, 2, EndpointsModel::Online), QStringLiteral("0"));
        QVERIFY(text(model, 0, EndpointsModel::Note).startsWith(QStringLiteral("highest priority")));
        QCOMPARE(text(model, 1, EndpointsModel::Note), QStringLiteral("overrules lower priorities"));
        QVERIFY(text(model, 2, EndpointsModel::Note).startsWith(QStringLiteral("lowest priority")));

        // Two locations share the top priority: neither is "the" highest.
        EndpointsModel tie;
        tie.update({{QStringLiteral("A"), 3}, {QStringLiteral("B"), 3}}, {});
        QVERIFY(!text(tie, 0, EndpointsModel::Note).startsWith(QStringLiteral("highest priority")));
        QVERIFY(text(tie, 0, EndpointsModel::Note).contains(QStringLiteral("against B (same priority)")));
    }

    void displayLinksOfOneMeet()
    {
        DisplayLinksModel model;
        const DisplayLinkInfo mine{QStringLiteral("dl-1"), QStringLiteral("111111111"), QStringLiteral("Board"), kNow,
                                   2};
        const DisplayLinkInfo other{QStringLiteral("dl-2"), QStringLiteral("222222222"), QStringLiteral("Other"), kNow,
                                    0};
        model.update({mine, other}, QStringLiteral("111111111"));
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(text(model, 0, DisplayLinksModel::Label), QStringLiteral("Board"));
        QCOMPARE(text(model, 0, DisplayLinksModel::Connections), QStringLiteral("2"));
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);
        DisplayLinkInfo fewer = mine;
        fewer.connections = 0;
        model.update({other, fewer}, QStringLiteral("111111111"));
        QCOMPARE(changed.size(), 1);
        QCOMPARE(text(model, 0, DisplayLinksModel::Connections), QStringLiteral("0"));
        model.update({other}, QStringLiteral("111111111"));
        QCOMPARE(model.rowCount(), 0);
    }

    void diagnosticsFollowUnlessScrolledUp()
    {
        MeetDiagnosticsView view;
        view.resize(600, 200);
        view.show();
        QList<DiagEntry> entries;
        for (int i = 0; i < 50; ++i)
            entries.append(
                DiagEntry{kNow + i, QStringLiteral("join"), QStringLiteral("line %1").arg(i), QStringLiteral("1")});
        view.setEntries(entries);
        QScrollBar* bar = view.verticalScrollBar();
        QVERIFY(bar->maximum() > 0);
        QCOMPARE(bar->value(), bar->maximum()); // newest at the bottom, in view
        view.appendEntry(DiagEntry{kNow + 50, QStringLiteral("join"), QStringLiteral("line 50"), QStringLiteral("1")});
        QCOMPARE(bar->value(), bar->maximum()); // followed
        bar->setValue(0); // the director scrolls up to read
        view.appendEntry(DiagEntry{kNow + 51, QStringLiteral("join"), QStringLiteral("line 51"), QStringLiteral("1")});
        QCOMPARE(bar->value(), 0); // left where it was
        QVERIFY(view.toPlainText().endsWith(QStringLiteral("line 51")));
        QVERIFY(view.toPlainText().contains(QStringLiteral("join")));

        // Bounded: the oldest lines drop off the top.
        for (int i = 0; i < MeetDiagnosticsView::kMaxLines + 10; ++i)
            view.appendEntry(DiagEntry{kNow, QStringLiteral("x"), QStringLiteral("more %1").arg(i), QString()});
        QCOMPARE(view.document()->blockCount(), MeetDiagnosticsView::kMaxLines);
        QVERIFY(!view.toPlainText().contains(QStringLiteral("line 0\n")));
    }

    void formatting()
    {
        QCOMPARE(MeetFormat::describeKey(QStringLiteral("registration.entries[id=1001007].bodyweightKg")),
                 QStringLiteral("registration › entry id 1001007 › bodyweightKg"));
        QCOMPARE(MeetFormat::describeKey(QStringLiteral("registration.entries[id=5].squatKg[1]")),
                 QStringLiteral("registration › entry id 5 › squatKg #2"));
        QCOMPARE(MeetFormat::describeKey(QStringLiteral("not a key!")), QStringLiteral("not a key!"));
        QCOMPARE(MeetFormat::value(QJsonValue::Null), QStringLiteral("(deleted)"));
        QCOMPARE(MeetFormat::value(QString(300, QLatin1Char('x'))).size(), 120);
        QCOMPARE(MeetFormat::ago(kNow - 30000, kNow), QStringLiteral("just now"));
        QCOMPARE(MeetFormat::ago(kNow - 2 * 3600 * 1000, kNow), QStringLiteral("2 h ago"));
        QCOMPARE(MeetFormat::bytes(512), QStringLiteral("512 B"));
        QCOMPARE(MeetFormat::shortClientId(QStringLiteral("0123456789abcdef")), QStringLiteral("01234567"));
    }
};

QTEST_MAIN(TestMeetModels)
#include "tst_meetmodels.moc"
