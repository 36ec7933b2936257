// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ServerPanel.h"

#include "JoinAddresses.h"
#include "QrCodeWidget.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QGridLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace oll::ui {

ServerPanel::ServerPanel(QWidget* parent)
    : QWidget(parent)
    , m_state(new QLabel(this))
    , m_detail(new QLabel(this))
    , m_startStop(new QPushButton(this))
    , m_settings(new QPushButton(tr("Settings…"), this))
    , m_openApp(new QPushButton(this))
    , m_openData(new QPushButton(tr("Open data folder"), this))
    , m_urlTable(new QTableWidget(0, 2, this))
    , m_qr(new QrCodeWidget(this))
    , m_qrCaption(new QLabel(this))
{
    m_state->setObjectName(QStringLiteral("serverState"));
    m_detail->setObjectName(QStringLiteral("serverDetail"));
    m_startStop->setObjectName(QStringLiteral("startStopButton"));
    m_settings->setObjectName(QStringLiteral("settingsButton"));
    m_openApp->setObjectName(QStringLiteral("openAppButton"));
    m_openData->setObjectName(QStringLiteral("openDataButton"));
    m_urlTable->setObjectName(QStringLiteral("joinUrlTable"));
    m_qr->setObjectName(QStringLiteral("qrCode"));

    QFont big = m_state->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_state->setFont(big);
    m_state->setTextFormat(Qt::PlainText);
    m_detail->setWordWrap(true);
    m_detail->setTextFormat(Qt::PlainText);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);

    m_urlTable->setHorizontalHeaderLabels({tr("Join address (open on each tablet or computer)"), QString()});
    m_urlTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    // Cell widgets do not count for ResizeToContents: the Copy column gets the button's width.
    m_urlTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Fixed);
    m_urlTable->verticalHeader()->hide();
    m_urlTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_urlTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_urlTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_urlTable->setShowGrid(false);
    m_urlTable->setMinimumWidth(360);
    connect(m_urlTable, &QTableWidget::itemSelectionChanged, this, &ServerPanel::updateQr);

    m_qr->setFixedSize(200, 200);
    m_qrCaption->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_qrCaption->setWordWrap(true);
    m_qrCaption->setTextFormat(Qt::PlainText);
    m_qrCaption->setFixedWidth(240);

    connect(m_startStop, &QPushButton::clicked, this, [this] {
        if (m_lastState == ServerSnapshot::State::Running || m_lastState == ServerSnapshot::State::Starting) {
            Q_EMIT stopRequested();
        } else {
            Q_EMIT startRequested();
        }
    });
    connect(m_settings, &QPushButton::clicked, this, &ServerPanel::settingsRequested);
    connect(m_openApp, &QPushButton::clicked, this, [this] {
        if (m_localAppUrl.isValid()) {
            QDesktopServices::openUrl(m_localAppUrl);
        }
    });
    connect(m_openData, &QPushButton::clicked, this, [this] {
        if (!m_dataDir.isEmpty()) {
            QDir().mkpath(m_dataDir);
            QDesktopServices::openUrl(QUrl::fromLocalFile(m_dataDir));
        }
    });

    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_startStop);
    buttons->addWidget(m_openApp);
    buttons->addWidget(m_openData);
    buttons->addWidget(m_settings);
    buttons->addStretch(1);

    auto* left = new QVBoxLayout;
    left->addWidget(m_state);
    left->addWidget(m_detail);
    left->addSpacing(6);
    left->addLayout(buttons);

    auto* qrBox = new QVBoxLayout;
    qrBox->addWidget(m_qr, 0, Qt::AlignHCenter);
    qrBox->addWidget(m_qrCaption);
    qrBox->addStretch(1);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(left, 2);
    layout->addWidget(m_urlTable, 3);
    layout->addLayout(qrBox, 0);
}

QString ServerPanel::appPath(const oll::ServerSnapshot& snapshot)
{
    return snapshot.openlifterDir.isEmpty() ? QStringLiteral("/demo/") : QStringLiteral("/openlifter/");
}

QString ServerPanel::adviceFor(const QString& error)
{
    if (error.contains(QStringLiteral("in use by another server"))) {
        return tr("Another OpenLifter Live is already serving this data folder. Use that one (look for its "
                  "tray icon), or choose a different data folder in Settings.");
    }
    if (error.contains(QStringLiteral("cannot listen"))) {
        if (error.contains(QStringLiteral("in use"), Qt::CaseInsensitive)) {
            return tr("Another program already uses this port. Close it, or choose another port in Settings "
                      "and give the tablets the new address.");
        }
        return tr("The server cannot listen on this address. Check the address and port in Settings "
                  "(\"All interfaces\" works on any network).");
    }
    if (error.contains(QStringLiteral("data directory")) || error.contains(QStringLiteral("server.lock"))) {
        return tr("The data folder cannot be used. Choose a writable folder in Settings, or free some disk "
                  "space.");
    }
    return tr("Check the settings, then press Start. The data folder's diag.log has the details.");
}

void ServerPanel::setSnapshot(const oll::ServerSnapshot& snapshot)
{
    m_lastState = snapshot.state;
    m_dataDir = snapshot.dataDir;
    m_openData->setEnabled(!m_dataDir.isEmpty());
    m_openData->setToolTip(QDir::toNativeSeparators(m_dataDir));

    const bool openlifter = !snapshot.openlifterDir.isEmpty();
    m_openApp->setText(openlifter ? tr("Open OpenLifter") : tr("Open demo in browser"));

    QString detail;
    switch (snapshot.state) {
    case ServerSnapshot::State::Starting:
        m_state->setText(tr("Starting…"));
        m_startStop->setText(tr("Stop server"));
        break;
    case ServerSnapshot::State::Running:
        m_state->setText(tr("Running on port %1").arg(snapshot.port));
        m_startStop->setText(tr("Stop server"));
        detail = openlifter ? tr("Serving your OpenLifter build. Meets are stored in %1.")
                                  .arg(QDir::toNativeSeparators(snapshot.dataDir))
                            : tr("Serving the built-in demo (no OpenLifter build configured). Meets are stored "
                                 "in %1.")
                                  .arg(QDir::toNativeSeparators(snapshot.dataDir));
        break;
    case ServerSnapshot::State::Stopping:
        m_state->setText(tr("Stopping…"));
        m_startStop->setText(tr("Stop server"));
        detail = tr("Writing the last updates to disk.");
        break;
    case ServerSnapshot::State::Stopped:
        m_state->setText(tr("Stopped"));
        m_startStop->setText(tr("Start server"));
        detail = tr("Browsers keep working offline and catch up when the server runs again.");
        break;
    case ServerSnapshot::State::Failed:
        m_state->setText(tr("Failed to start"));
        m_startStop->setText(tr("Start server"));
        // What to do first, in the director's words; the server's own reason below it.
        detail = adviceFor(snapshot.error) + QStringLiteral("\n\n") + tr("Details: %1").arg(snapshot.error);
        break;
    }
    m_state->setStyleSheet(snapshot.state == ServerSnapshot::State::Failed        ? QStringLiteral("color: #b00020;")
                               : snapshot.state == ServerSnapshot::State::Running ? QStringLiteral("color: #1b7f3b;")
                                                                                  : QString());
    m_detail->setText(detail);
    m_startStop->setEnabled(snapshot.state != ServerSnapshot::State::Stopping);

    QList<QUrl> urls;
    if (snapshot.state == ServerSnapshot::State::Running && snapshot.port != 0) {
        // Interfaces are listed again when the server changes, else every few seconds (a laptop
        // joining the venue Wi-Fi late): not on each of the four snapshots a second.
        const QString key = snapshot.bindAddress.toString() + u':' + QString::number(snapshot.port) + appPath(snapshot);
        if (key != m_urlKey || !m_urlAge.isValid() || m_urlAge.hasExpired(kAddressRecheckMs)) {
            m_urlKey = key;
            m_urlAge.start();
            m_baseUrls = oll::ui::joinUrls(snapshot.bindAddress, snapshot.port);
        }
        const QString path = appPath(snapshot);
        for (QUrl url : std::as_const(m_baseUrls)) {
            url.setPath(path);
            urls.append(url);
        }
    } else {
        m_urlKey.clear();
    }
    m_localAppUrl = urls.isEmpty() ? QUrl() : urls.last(); // loopback last, or the one bound address
    m_openApp->setEnabled(m_localAppUrl.isValid());
    m_openApp->setToolTip(m_localAppUrl.toString());
    setUrls(urls);
    updateQr();
}

void ServerPanel::setUrls(const QList<QUrl>& urls)
{
    if (urls == m_urls) {
        return;
    }
    const QUrl previous = selectedUrl();
    m_urls = urls;
    m_urlTable->setRowCount(static_cast<int>(urls.size()));
    int select = urls.isEmpty() ? -1 : 0;
    for (int row = 0; row < urls.size(); ++row) {
        const QUrl& url = urls.at(row);
        auto* item = new QTableWidgetItem(url.toString());
        const bool loopback = QHostAddress(url.host()).isLoopback();
        item->setToolTip(loopback ? tr("Only a browser on this computer can use this address.")
                                  : tr("Browsers on the same network can use this address."));
        m_urlTable->setItem(row, 0, item);
        auto* copy = new QToolButton(m_urlTable);
        copy->setText(tr("Copy"));
        copy->setObjectName(QStringLiteral("copyUrl%1").arg(row));
        copy->setToolTip(tr("Copy %1").arg(url.toString()));
        connect(copy, &QToolButton::clicked, this, [this, url] { copyUrl(url); });
        m_urlTable->setCellWidget(row, 1, copy);
        if (url == previous) {
            select = row;
        }
    }
    int copyWidth = 0;
    for (int row = 0; row < m_urlTable->rowCount(); ++row) {
        copyWidth = qMax(copyWidth, m_urlTable->cellWidget(row, 1)->sizeHint().width());
    }
    m_urlTable->setColumnWidth(1, copyWidth + 12);
    m_urlTable->resizeRowsToContents();
    if (select >= 0) {
        selectUrl(select);
    }
    updateQr();
}

void ServerPanel::updateQr()
{
    const QUrl url = selectedUrl();
    m_qr->setText(url.toString());
    m_qrCaption->setText(url.isEmpty() ? tr("The server is not running: no address to join yet.")
                                       : tr("Scan with a tablet or phone to open\n%1").arg(url.toString()));
}

QUrl ServerPanel::selectedUrl() const
{
    const auto rows = m_urlTable->selectionModel()->selectedRows();
    if (rows.isEmpty()) {
        return {};
    }
    const int row = rows.first().row();
    return row < m_urls.size() ? m_urls.at(row) : QUrl();
}

void ServerPanel::selectUrl(int row)
{
    m_urlTable->selectRow(row);
}

QUrl ServerPanel::localAppUrl() const
{
    return m_localAppUrl;
}

void ServerPanel::copyUrl(const QUrl& url)
{
    QApplication::clipboard()->setText(url.toString());
    Q_EMIT copied(url.toString());
}

} // namespace oll::ui
