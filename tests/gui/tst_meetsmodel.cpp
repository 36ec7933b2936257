// SPDX-License-Identifier: AGPL-3.0-or-later
// MeetsModel over synthetic snapshots: rows are merged by meetId (inserted, removed, changed in
// place, never reset) so that a view's selection survives every snapshot.
#include "JoinAddresses.h"
#include "MeetsModel.h"
#include "ServerSettings.h"

#include <QAbstractItemModelTester>
#include <QItemSelectionModel>
#include <QSettings>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using oll::MeetInfo;
using oll::ui::MeetsModel;

namespace {

MeetInfo meet(const QString& id, const QString& name = QString(), qint64 head = 0)
{
    MeetInfo m;
    m.meetId = id;
    m.meetName = name;
    m.headSeq = head;
    m.durableSeq = head;
    return m;
}

QStringList ids(const MeetsModel& model)
{
    QStringList out;
    for (int row = 0; row < model.rowCount(); ++row) {
        out << model.index(row, 0).data(MeetsModel::MeetIdRole).toString();
    }
    return out;
}

} // namespace

class TestMeetsModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatsColumns()
    {
        MeetsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        MeetInfo m = meet(QStringLiteral("123456789"), QStringLiteral("Spring Open"), 42);
        m.lifterCount = 17;
        m.clientsOnline = 3;
        m.finished = true;
        model.setMeets({m});
        QCOMPARE(model.rowCount(), 1);
        QCOMPARE(model.index(0, MeetsModel::IdColumn).data().toString(), QStringLiteral("123 456 789"));
        QCOMPARE(model.index(0, MeetsModel::NameColumn).data().toString(), QStringLiteral("Spring Open"));
        QCOMPARE(model.index(0, MeetsModel::LiftersColumn).data().toInt(), 17);
        QCOMPARE(model.index(0, MeetsModel::HeadSeqColumn).data().toLongLong(), 42);
        QCOMPARE(model.index(0, MeetsModel::StatusColumn).data().toString(), QStringLiteral("Finished"));
        QCOMPARE(model.index(0, MeetsModel::ClientsColumn).data().toInt(), 3);
        QCOMPARE(model.index(0, MeetsModel::StorageColumn).data().toString(), QStringLiteral("OK"));

        m.storage = oll::StorageState::Broken;
        m.storageDetail = QStringLiteral("the journal cannot be written (disk full)");
        model.setMeets({m});
        QCOMPARE(model.index(0, MeetsModel::StorageColumn).data().toString(), QStringLiteral("Not saving"));
        const QString tip = model.index(0, MeetsModel::StorageColumn).data(Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(QStringLiteral("disk full")), qPrintable(tip));
        m.storage = oll::StorageState::Damaged;
        m.storageDetail.clear();
        model.setMeets({m});
        QVERIFY(model.index(0, MeetsModel::StorageColumn)
                    .data(Qt::ToolTipRole)
                    .toString()
                    .contains(QStringLiteral("restore")));
    }

    void mergesWithoutReset()
    {
        MeetsModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy resets(&model, &QAbstractItemModel::modelReset);
        QSignalSpy inserted(&model, &QAbstractItemModel::rowsInserted);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        QSignalSpy changed(&model, &QAbstractItemModel::dataChanged);

        const QString a = QStringLiteral("100000001");
        const QString b = QStringLiteral("200000002");
        const QString c = QStringLiteral("300000003");
        const QString d = QStringLiteral("400000004");
        // Unsorted input: the model keeps its rows in meetId order anyway.
        model.setMeets({meet(c), meet(a)});
        QCOMPARE(ids(model), (QStringList{a, c}));
        QCOMPARE(inserted.size(), 2);

        // The same snapshot again: nothing at all is signalled.
        inserted.clear();
        model.setMeets({meet(a), meet(c)});
        QCOMPARE(inserted.size(), 0);
        QCOMPARE(changed.size(), 0);

        // b appears between them, d after; a changes; c stays.
        model.setMeets({meet(a, QStringLiteral("Renamed"), 5), meet(b), meet(c), meet(d)});
        QCOMPARE(ids(model), (QStringList{a, b, c, d}));
        QCOMPARE(inserted.size(), 2);
        QCOMPARE(inserted.at(0).at(1).toInt(), 1); // b at row 1
        QCOMPARE(inserted.at(1).at(1).toInt(), 3); // d at row 3
        QCOMPARE(changed.size(), 1);
        QCOMPARE(changed.at(0).at(0).toModelIndex().row(), 0);
        QCOMPARE(model.index(0, MeetsModel::NameColumn).data().toString(), QStringLiteral("Renamed"));

        // a and c go; b changes.
        changed.clear();
        model.setMeets({meet(b, QStringLiteral("B")), meet(d)});
        QCOMPARE(ids(model), (QStringList{b, d}));
        QCOMPARE(removed.size(), 2);
        QCOMPARE(changed.size(), 1);
        QCOMPARE(model.rowOf(b), 0);
        QCOMPARE(model.rowOf(a), -1);

        // Everything goes, then comes back.
        model.setMeets({});
        QCOMPARE(model.rowCount(), 0);
        model.setMeets({meet(a), meet(b)});
        QCOMPARE(ids(model), (QStringList{a, b}));
        QCOMPARE(resets.size(), 0);
    }

    void selectionSurvivesSnapshots()
    {
        MeetsModel model;
        QTableView view;
        view.setModel(&model);
        view.setSelectionBehavior(QAbstractItemView::SelectRows);
        const QString a = QStringLiteral("100000001");
        const QString b = QStringLiteral("200000002");
        const QString c = QStringLiteral("300000003");
        model.setMeets({meet(a), meet(c)});
        view.selectRow(1); // c
        auto selected = [&view] {
            const auto rows = view.selectionModel()->selectedRows();
            return rows.size() == 1 ? rows.first().data(MeetsModel::MeetIdRole).toString() : QString();
        };
        QCOMPARE(selected(), c);
        for (int head = 1; head <= 20; ++head) {
            model.setMeets({meet(a, QString(), head), meet(c, QStringLiteral("Open"), head * 2)});
            QCOMPARE(selected(), c);
        }
        // A row inserted above the selection moves it down; the selected meet stays selected.
        model.setMeets({meet(a), meet(b), meet(c)});
        QCOMPARE(selected(), c);
        QCOMPARE(view.selectionModel()->selectedRows().first().row(), 2);
        model.setMeets({meet(b), meet(c)});
        QCOMPARE(selected(), c);
        // The selected meet itself going away clears the selection rather than selecting another.
        model.setMeets({meet(b)});
        QCOMPARE(selected(), QString());
    }

    void joinUrlsForOneAddress()
    {
        const auto urls = oll::ui::joinUrls(QHostAddress(QStringLiteral("192.168.1.20")), 8420);
        QCOMPARE(urls, (QList<QUrl>{QUrl(QStringLiteral("http://192.168.1.20:8420/"))}));
        const auto local = oll::ui::joinUrls(QHostAddress::LocalHost, 9000);
        QCOMPARE(local, (QList<QUrl>{QUrl(QStringLiteral("http://127.0.0.1:9000/"))}));
    }

    void joinUrlsForAnyAddress()
    {
        const auto urls = oll::ui::joinUrls(QHostAddress::Any, 8420);
        QVERIFY(!urls.isEmpty());
        QCOMPARE(urls.last(), QUrl(QStringLiteral("http://127.0.0.1:8420/")));
        bool seenV6 = false;
        for (int i = 0; i + 1 < urls.size(); ++i) {
            const QHostAddress host(urls.at(i).host());
            QVERIFY2(!host.isLoopback(), qPrintable(urls.at(i).toString()));
            QVERIFY2(!host.isLinkLocal(), qPrintable(urls.at(i).toString()));
            // IPv4 first, then IPv6.
            if (host.protocol() == QAbstractSocket::IPv6Protocol) {
                seenV6 = true;
            } else {
                QVERIFY2(!seenV6, qPrintable(urls.at(i).toString()));
            }
            QCOMPARE(urls.at(i).port(), 8420);
        }
    }

    void settingsValidation()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        oll::ui::ServerSettings s;
        s.dataDir = tmp.filePath(QStringLiteral("not/yet/there"));
        QVERIFY2(s.validate().isEmpty(), qPrintable(s.validate().join(u'\n')));
        s.port = 0;
        QCOMPARE(s.validate().size(), 1);
        QVERIFY(s.validate(true).isEmpty());
        s.port = 8420;
        s.bind = oll::ui::ServerSettings::Bind::Specific;
        s.specificAddress = QStringLiteral("192.168.1.999");
        QVERIFY(s.validate().join(u'\n').contains(QStringLiteral("not an IP address")));
        s.specificAddress = QStringLiteral("192.168.1.9");
        QVERIFY(s.validate().isEmpty());
        QCOMPARE(s.bindAddress(), QHostAddress(QStringLiteral("192.168.1.9")));
        s.openlifterDir = tmp.path(); // no index.html
        QVERIFY(s.validate().join(u'\n').contains(QStringLiteral("index.html")));
        QFile index(tmp.filePath(QStringLiteral("index.html")));
        QVERIFY(index.open(QIODevice::WriteOnly));
        index.close();
        QVERIFY(s.validate().isEmpty());
        QFile file(tmp.filePath(QStringLiteral("a-file")));
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.close();
        s.dataDir = file.fileName();
        QVERIFY(s.validate().join(u'\n').contains(QStringLiteral("is a file")));

        // Round trip through QSettings.
        s.dataDir = tmp.path();
        QSettings store(tmp.filePath(QStringLiteral("s.ini")), QSettings::IniFormat);
        s.save(store);
        const auto loaded = oll::ui::ServerSettings::load(store);
        QVERIFY(loaded == s);
    }
};

QTEST_MAIN(TestMeetsModel)
#include "tst_meetsmodel.moc"
