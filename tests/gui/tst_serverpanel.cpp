// SPDX-License-Identifier: AGPL-3.0-or-later
// The server panel on its own, fed synthetic snapshots and a fixed list of interface addresses:
// which addresses are offered to tablets, which one the QR code shows, and what the panel says
// when no tablet can connect.
#include "ElidedLabel.h"
#include "QrCodeWidget.h"
#include "ServerPanel.h"

#include <QAbstractButton>
#include <QApplication>
#include <QClipboard>
#include <QHostAddress>
#include <QLabel>
#include <QTableWidget>
#include <QTest>

using oll::ServerSnapshot;
using oll::ui::ServerPanel;

namespace {

/// A running server's snapshot as the panel gets it, without a server: the addresses come from
/// ServerPanel::setAddressSource.
ServerSnapshot runningSnapshot(const QHostAddress& bind)
{
    ServerSnapshot s;
    s.state = ServerSnapshot::State::Running;
    s.port = 8420;
    s.bindAddress = bind;
    s.dataDir = QStringLiteral("/srv/openlifter-live/a/rather/deep/folder/for/the/meets");
    return s;
}

ServerPanel::AddressSource fixedAddresses(const QStringList& hosts)
{
    return [hosts](const QHostAddress&, quint16 port) {
        QList<QUrl> urls;
        for (const QString& host : hosts) {
            QUrl url;
            url.setScheme(QStringLiteral("http"));
            url.setHost(host);
            url.setPort(port);
            url.setPath(QStringLiteral("/"));
            urls.append(url);
        }
        return urls;
    };
}

} // namespace

class TestServerPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void lanAddressesJoinLoopbackListedApart()
    {
        ServerPanel panel;
        panel.setAddressSource(
            fixedAddresses({QStringLiteral("192.168.1.20"), QStringLiteral("10.0.0.5"), QStringLiteral("127.0.0.1")}));
        panel.setSnapshot(runningSnapshot(QHostAddress(QHostAddress::Any)));
        panel.show();
        const QUrl lan(QStringLiteral("http://192.168.1.20:8420/demo/"));
        QCOMPARE(panel.joinUrls(), (QList<QUrl>{lan, QUrl(QStringLiteral("http://10.0.0.5:8420/demo/"))}));
        QCOMPARE(panel.localAppUrl(), QUrl(QStringLiteral("http://127.0.0.1:8420/demo/")));
        QVERIFY(panel.reachProblem().isEmpty());
        QVERIFY(!panel.findChild<QLabel*>(QStringLiteral("reachProblem"))->isVisible());
        auto* localLine = panel.findChild<QLabel*>(QStringLiteral("localAddress"));
        QVERIFY(localLine->isVisible());
        QVERIFY2(localLine->text().contains(QStringLiteral("not for tablets")), qPrintable(localLine->text()));

        auto* table = panel.findChild<QTableWidget*>(QStringLiteral("joinUrlTable"));
        QVERIFY(table && table->isVisible());
        QCOMPARE(table->rowCount(), 2);
        QCOMPARE(table->item(0, 0)->text(), lan.toString());
        // As tall as its two rows: no empty box under them.
        QCOMPARE(table->height(), 2 * table->rowHeight(0) + 2 * table->frameWidth());
        // The QR code is of the first LAN address, never of loopback.
        QCOMPARE(panel.selectedUrl(), lan);
        QCOMPARE(panel.qrCode()->text(), lan.toString());
        panel.selectUrl(1);
        QCOMPARE(panel.qrCode()->text(), QStringLiteral("http://10.0.0.5:8420/demo/"));

        const QImage code = panel.qrCode()->image();
        QVERIFY(!code.isNull());
        QVERIFY(code.width() >= 21 + 8); // version 1 and the quiet zone at least
        // The quiet zone is white; the finder pattern's corner (just inside it) is dark.
        QCOMPARE(qGray(code.pixel(0, 0)), 255);
        QCOMPARE(qGray(code.pixel(4, 4)), 0);
        // And it renders: the widget's own pixels hold dark modules on white.
        const QImage shown = panel.qrCode()->grab().toImage();
        QVERIFY(!shown.isNull());
        int dark = 0;
        for (int y = 0; y < shown.height(); ++y) {
            for (int x = 0; x < shown.width(); ++x) {
                dark += qGray(shown.pixel(x, y)) < 64 ? 1 : 0;
            }
        }
        QVERIFY2(dark > shown.width() * shown.height() / 10, qPrintable(QString::number(dark)));

        // Copy puts the URL on the clipboard.
        auto* copy = qobject_cast<QAbstractButton*>(table->cellWidget(0, 1));
        QVERIFY(copy);
        copy->click();
        QCOMPARE(QApplication::clipboard()->text(), lan.toString());

        // The data folder is one line, shortened in the middle, with the whole path in its tooltip.
        auto* path = panel.findChild<oll::ui::ElidedLabel*>(QStringLiteral("dataPath"));
        QVERIFY(path);
        QCOMPARE(path->text(), QStringLiteral("Meets are saved in ") + runningSnapshot({}).dataDir);
        QCOMPARE(path->toolTip(), runningSnapshot({}).dataDir);
        // Room for about 48 of its 76 characters: the middle of the path gives way.
        path->resize(
            path->fontMetrics().horizontalAdvance(QStringLiteral("Meets are saved in /srv/openlifter-live/a/rather")),
            path->height());
        QVERIFY2(path->shownText().contains(QChar(0x2026)), qPrintable(path->shownText()));
        QVERIFY(path->shownText().startsWith(QStringLiteral("Meets are saved in")));
        QVERIFY(path->shownText().endsWith(QStringLiteral("meets")));
    }

    void noNetworkSaysTabletsCannotConnect()
    {
        ServerPanel panel;
        panel.setAddressSource(fixedAddresses({QStringLiteral("127.0.0.1")})); // only loopback is up
        panel.setSnapshot(runningSnapshot(QHostAddress(QHostAddress::Any)));
        panel.show();
        QVERIFY(panel.joinUrls().isEmpty());
        QVERIFY(panel.qrCode()->text().isEmpty());
        QCOMPARE(panel.localAppUrl(), QUrl(QStringLiteral("http://127.0.0.1:8420/demo/")));
        QVERIFY2(panel.reachProblem().contains(QStringLiteral("not on a network")), qPrintable(panel.reachProblem()));
        QVERIFY(panel.findChild<QLabel*>(QStringLiteral("reachProblem"))->isVisible());
        QVERIFY(!panel.findChild<QTableWidget*>(QStringLiteral("joinUrlTable"))->isVisible());

        // The laptop joins the venue Wi-Fi: its address appears at the next recheck of the interfaces.
        panel.setAddressSource(fixedAddresses({QStringLiteral("192.168.1.20"), QStringLiteral("127.0.0.1")}));
        panel.setSnapshot(runningSnapshot(QHostAddress(QHostAddress::Any)));
        QCOMPARE(panel.joinUrls(), QList<QUrl>{QUrl(QStringLiteral("http://192.168.1.20:8420/demo/"))});
        QCOMPARE(panel.qrCode()->text(), QStringLiteral("http://192.168.1.20:8420/demo/"));
        QVERIFY(panel.reachProblem().isEmpty());
        QVERIFY(!panel.findChild<QLabel*>(QStringLiteral("reachProblem"))->isVisible());
    }
};

QTEST_MAIN(TestServerPanel)
#include "tst_serverpanel.moc"
