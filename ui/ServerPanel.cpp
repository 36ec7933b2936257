// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ServerPanel.h"
#include "WidgetStyle.h"

#include "ElidedLabel.h"
#include "JoinAddresses.h"
#include "QrCodeWidget.h"

#include <QApplication>
#include <QClipboard>
#include <QDesktopServices>
#include <QDir>
#include <QGridLayout>
#include <QHeaderView>
#include <QHostAddress>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace oll::ui {

namespace {

bool isLoopbackUrl(const QUrl& url)
{
    return QHostAddress(url.host()).isLoopback();
}

const QString kWarningStyle = QStringLiteral("color: #b00020; font-weight: bold;");

} // namespace

ServerPanel::ServerPanel(QWidget* parent)
    : QWidget(parent)
    , m_state(new QLabel(this))
    , m_detail(new QLabel(this))
    , m_dataPath(new ElidedLabel(this))
    , m_startStop(new QPushButton(this))
    , m_settings(new QPushButton(tr("Settings…"), this))
    , m_openApp(new QPushButton(this))
    , m_openData(new QPushButton(tr("Open data folder"), this))
    , m_urlHeading(new QLabel(tr("Join address: open it on each tablet or computer at the venue"), this))
    , m_urlTable(new QTableWidget(0, 2, this))
    , m_reach(new QLabel(this))
    , m_localLine(new QLabel(this))
    , m_qr(new QrCodeWidget(this))
    , m_qrCaption(new QLabel(this))
    , m_addressSource(&oll::ui::joinUrls)
{
    m_state->setObjectName(QStringLiteral("serverState"));
    m_detail->setObjectName(QStringLiteral("serverDetail"));
    m_dataPath->setObjectName(QStringLiteral("dataPath"));
    m_startStop->setObjectName(QStringLiteral("startStopButton"));
    m_settings->setObjectName(QStringLiteral("settingsButton"));
    m_openApp->setObjectName(QStringLiteral("openAppButton"));
    m_openData->setObjectName(QStringLiteral("openDataButton"));
    m_urlTable->setObjectName(QStringLiteral("joinUrlTable"));
    m_reach->setObjectName(QStringLiteral("reachProblem"));
    m_localLine->setObjectName(QStringLiteral("localAddress"));
    m_qr->setObjectName(QStringLiteral("qrCode"));
    m_qrCaption->setObjectName(QStringLiteral("qrCaption"));

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(16);
    layout->addLayout(buildServerColumn(), 2);
    layout->addLayout(buildAddressColumn(), 3);

    m_qr->setFixedSize(180, 180);
    m_qrCaption->setAlignment(Qt::AlignHCenter | Qt::AlignTop);
    m_qrCaption->setWordWrap(true);
    m_qrCaption->setTextFormat(Qt::PlainText);
    m_qrCaption->setFixedWidth(240);
    auto* qrBox = new QVBoxLayout;
    qrBox->addWidget(m_qr, 0, Qt::AlignHCenter);
    qrBox->addWidget(m_qrCaption);
    qrBox->addStretch(1);
    layout->addLayout(qrBox, 0);

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
    connect(m_urlTable, &QTableWidget::itemSelectionChanged, this, &ServerPanel::updateQr);
    fitUrlTable();
}

QLayout* ServerPanel::buildServerColumn()
{
    QFont big = m_state->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    m_state->setFont(big);
    m_state->setTextFormat(Qt::PlainText);
    m_detail->setWordWrap(true);
    m_detail->setTextFormat(Qt::PlainText);
    m_detail->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* buttons = new QGridLayout;
    buttons->addWidget(m_startStop, 0, 0);
    buttons->addWidget(m_settings, 0, 1);
    buttons->addWidget(m_openApp, 1, 0);
    buttons->addWidget(m_openData, 1, 1);

    auto* column = new QVBoxLayout;
    column->addWidget(m_state);
    column->addWidget(m_detail);
    column->addWidget(m_dataPath); // one line, shortened in the middle: it never wraps mid-folder
    column->addSpacing(6);
    column->addLayout(buttons);
    column->addStretch(1);
    return column;
}

QLayout* ServerPanel::buildAddressColumn()
{
    QFont bold = m_urlHeading->font();
    bold.setBold(true);
    m_urlHeading->setFont(bold);
    m_urlHeading->setWordWrap(true);

    m_urlTable->horizontalHeader()->hide();
    m_urlTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    // Cell widgets do not count for ResizeToContents: the Copy column gets the button's width.
    m_urlTable->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Fixed);
    m_urlTable->verticalHeader()->hide();
    m_urlTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_urlTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_urlTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_urlTable->setShowGrid(false);
    m_urlTable->setMinimumWidth(320);
    m_urlTable->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);

    m_reach->setWordWrap(true);
    m_reach->setTextFormat(Qt::PlainText);
    m_localLine->setTextFormat(Qt::RichText);
    m_localLine->setTextInteractionFlags(Qt::TextBrowserInteraction);
    m_localLine->setOpenExternalLinks(true);
    m_localLine->setToolTip(tr("No tablet can use this address: 127.0.0.1 always means the device itself."));

    auto* column = new QVBoxLayout;
    column->addWidget(m_urlHeading);
    column->addWidget(m_urlTable);
    column->addWidget(m_reach);
    column->addWidget(m_localLine);
    column->addStretch(1);
    return column;
}

void ServerPanel::setAddressSource(AddressSource source)
{
    m_addressSource = std::move(source);
    m_urlKey.clear(); // list them again on the next snapshot
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
    renderState(snapshot);
    renderAddresses(snapshot);
}

void ServerPanel::renderState(const oll::ServerSnapshot& snapshot)
{
    m_dataDir = snapshot.dataDir;
    m_openData->setEnabled(!m_dataDir.isEmpty());
    const QString path = QDir::toNativeSeparators(m_dataDir);
    m_dataPath->setText(tr("Meets are saved in %1").arg(path));
    m_dataPath->setToolTip(path);
    m_dataPath->setVisible(!m_dataDir.isEmpty());

    const bool openlifter = !snapshot.openlifterDir.isEmpty();
    m_openApp->setText(openlifter ? tr("Open OpenLifter here") : tr("Open demo in browser"));

    QString detail;
    switch (snapshot.state) {
    case ServerSnapshot::State::Starting:
        m_state->setText(tr("Starting…"));
        m_startStop->setText(tr("Stop server"));
        break;
    case ServerSnapshot::State::Running:
        m_state->setText(tr("Running on port %1").arg(snapshot.port));
        m_startStop->setText(tr("Stop server"));
        detail = openlifter ? tr("Serving your OpenLifter build.")
                            : tr("Serving the built-in demo (no OpenLifter build chosen in Settings).");
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
    setStyleSheetIfChanged(m_state,
                           snapshot.state == ServerSnapshot::State::Failed        ? QStringLiteral("color: #b00020;")
                               : snapshot.state == ServerSnapshot::State::Running ? QStringLiteral("color: #1b7f3b;")
                                                                                  : QString());
    m_detail->setText(detail);
    m_detail->setVisible(!detail.isEmpty());
    m_startStop->setEnabled(snapshot.state != ServerSnapshot::State::Stopping);
}

void ServerPanel::renderAddresses(const oll::ServerSnapshot& snapshot)
{
    const bool running = snapshot.state == ServerSnapshot::State::Running && snapshot.port != 0;
    QList<QUrl> lan;
    QUrl local;
    if (running) {
        // Interfaces are listed again when the server changes, else every few seconds (a laptop
        // joining the venue Wi-Fi late): not on each of the four snapshots a second.
        const QString path = appPath(snapshot);
        const QString key = snapshot.bindAddress.toString() + u':' + QString::number(snapshot.port) + path;
        if (key != m_urlKey || !m_urlAge.isValid() || m_urlAge.hasExpired(kAddressRecheckMs)) {
            m_urlKey = key;
            m_urlAge.start();
            m_baseUrls = m_addressSource(snapshot.bindAddress, snapshot.port);
        }
        for (QUrl url : std::as_const(m_baseUrls)) {
            url.setPath(path);
            if (!isLoopbackUrl(url)) {
                lan.append(url);
            } else if (local.isEmpty()) {
                local = url;
            }
        }
    } else {
        m_urlKey.clear();
    }
    // A browser here prefers loopback (it works on any network); bound to one address, that one.
    m_localAppUrl = local.isValid() ? local : lan.value(0);
    m_openApp->setEnabled(m_localAppUrl.isValid());
    m_openApp->setToolTip(m_localAppUrl.toString());

    if (running && lan.isEmpty()) {
        m_reachProblem = snapshot.bindAddress.isLoopback()
            ? tr("The server listens on this computer only, so tablets cannot connect. To let them in, choose "
                 "“All interfaces” under Settings… → Listen on.")
            : tr("This laptop is not on a network: tablets cannot connect until it joins the venue network "
                 "(Wi-Fi or cable). Its address appears here as soon as it does.");
    } else {
        m_reachProblem.clear();
    }
    m_reach->setText(running ? m_reachProblem : tr("No address yet: the server is not running."));
    setStyleSheetIfChanged(m_reach, running ? kWarningStyle : QString());
    m_reach->setVisible(lan.isEmpty());
    m_urlTable->setVisible(!lan.isEmpty());
    m_urlHeading->setEnabled(!lan.isEmpty());

    const bool localOnly = local.isValid();
    m_localLine->setVisible(localOnly);
    if (localOnly) {
        const QString shown = local.toString().toHtmlEscaped();
        m_localLine->setText(tr("On this computer only (not for tablets): <a href=\"%1\">%1</a>").arg(shown));
    }
    setUrls(lan);
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
        item->setToolTip(tr("Tablets and computers on the same network open this address."));
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
    fitUrlTable();
    if (select >= 0) {
        selectUrl(select);
    }
    updateQr();
}

void ServerPanel::fitUrlTable()
{
    int copyWidth = 0;
    for (int row = 0; row < m_urlTable->rowCount(); ++row) {
        copyWidth = qMax(copyWidth, m_urlTable->cellWidget(row, 1)->sizeHint().width());
    }
    m_urlTable->setColumnWidth(1, copyWidth + 12);
    m_urlTable->resizeRowsToContents();
    // As tall as its rows (up to a few; more scroll): no empty box under one or two addresses.
    const int rows = qBound(1, m_urlTable->rowCount(), kUrlRowsShown);
    const int rowHeight
        = m_urlTable->rowCount() > 0 ? m_urlTable->rowHeight(0) : m_urlTable->verticalHeader()->defaultSectionSize();
    m_urlTable->setFixedHeight(rows * rowHeight + 2 * m_urlTable->frameWidth());
}

void ServerPanel::updateQr()
{
    const QUrl url = selectedUrl();
    m_qr->setText(url.toString());
    if (!url.isEmpty()) {
        m_qrCaption->setText(tr("Scan with a tablet or phone to open\n%1").arg(url.toString()));
    } else if (m_lastState == ServerSnapshot::State::Running) {
        m_qrCaption->setText(tr("No QR code: tablets cannot connect yet (see the note beside it)."));
    } else {
        m_qrCaption->setText(tr("The server is not running: no address to join yet."));
    }
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

void ServerPanel::copyUrl(const QUrl& url)
{
    QApplication::clipboard()->setText(url.toString());
    Q_EMIT copied(url.toString());
}

} // namespace oll::ui
