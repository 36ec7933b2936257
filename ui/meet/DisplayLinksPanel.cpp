// SPDX-License-Identifier: AGPL-3.0-or-later
#include "DisplayLinksPanel.h"

#include "DisplayLinksModel.h"
#include "JoinAddresses.h"
#include "TableFit.h"

#include "host/ServerHost.h"
#include "protocol/Limits.h"

#include <QClipboard>
#include <QComboBox>
#include <QFrame>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace oll::ui {

DisplayLinksPanel::DisplayLinksPanel(oll::ServerHost* host, QWidget* parent)
    : QWidget(parent)
    , m_host(host)
    , m_model(new DisplayLinksModel(this))
    , m_view(new QTableView(this))
    , m_labelEdit(new QLineEdit(this))
    , m_mintButton(new QPushButton(tr("New display link"), this))
    , m_revokeButton(new QPushButton(tr("Revoke…"), this))
    , m_status(new QLabel(this))
    , m_mintedPanel(new QFrame(this))
    , m_mintedNote(new QLabel(m_mintedPanel))
    , m_addressCombo(new QComboBox(m_mintedPanel))
    , m_urlEdit(new QLineEdit(m_mintedPanel))
    , m_copyButton(new QPushButton(tr("Copy URL"), m_mintedPanel))
{
    m_model->setObjectName(QStringLiteral("displayLinksModel"));
    m_view->setObjectName(QStringLiteral("displayLinksView"));
    m_labelEdit->setObjectName(QStringLiteral("displayLinkLabelEdit"));
    m_mintButton->setObjectName(QStringLiteral("mintDisplayLinkButton"));
    m_revokeButton->setObjectName(QStringLiteral("revokeDisplayLinkButton"));
    m_status->setObjectName(QStringLiteral("displayLinkStatus"));
    m_mintedPanel->setObjectName(QStringLiteral("mintedLinkPanel"));
    m_addressCombo->setObjectName(QStringLiteral("mintedAddressCombo"));
    m_urlEdit->setObjectName(QStringLiteral("mintedUrlEdit"));
    m_copyButton->setObjectName(QStringLiteral("copyMintedUrlButton"));

    auto* intro = new QLabel(tr("A display link lets a scoreboard, a warm-up room screen or a stream overlay follow "
                                "this meet without the meet password. It can read, never change, and you can "
                                "revoke it at any time."),
                             this);
    intro->setWordWrap(true);

    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->verticalHeader()->hide();
    m_view->setWordWrap(false);
    fitTable(m_view, DisplayLinksModel::Label);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setAlternatingRowColors(true);

    m_labelEdit->setPlaceholderText(tr("Label, e.g. Warm-up room board"));
    m_labelEdit->setMaxLength(Limits{}.maxDisplayLinkLabelLength);
    m_labelEdit->setClearButtonEnabled(true);
    m_labelEdit->setMaximumWidth(m_labelEdit->fontMetrics().averageCharWidth() * 48);

    auto* mintRow = new QHBoxLayout;
    mintRow->addWidget(new QLabel(tr("Label:"), this));
    mintRow->addWidget(m_labelEdit, 1);
    mintRow->addWidget(m_mintButton);
    mintRow->addStretch(1);
    mintRow->addWidget(m_revokeButton);

    // The one-time URL: a framed box that stays until the director dismisses it.
    m_mintedPanel->setFrameShape(QFrame::StyledPanel);
    m_mintedNote->setWordWrap(true);
    m_urlEdit->setReadOnly(true);
    auto* dismiss = new QPushButton(tr("Done"), m_mintedPanel);
    dismiss->setObjectName(QStringLiteral("dismissMintedLinkButton"));
    auto* urlRow = new QHBoxLayout;
    urlRow->addWidget(m_addressCombo);
    urlRow->addWidget(m_urlEdit, 1);
    urlRow->addWidget(m_copyButton);
    urlRow->addWidget(dismiss);
    auto* mintedLayout = new QVBoxLayout(m_mintedPanel);
    mintedLayout->addWidget(m_mintedNote);
    mintedLayout->addLayout(urlRow);
    m_mintedPanel->hide();

    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(mintRow);
    layout->addWidget(m_mintedPanel);
    layout->addWidget(m_status);
    layout->addWidget(m_view, 1);

    connect(m_labelEdit, &QLineEdit::textChanged, this, &DisplayLinksPanel::updateButtons);
    connect(m_labelEdit, &QLineEdit::returnPressed, this, &DisplayLinksPanel::mint);
    connect(m_mintButton, &QPushButton::clicked, this, &DisplayLinksPanel::mint);
    connect(m_revokeButton, &QPushButton::clicked, this, &DisplayLinksPanel::askRevoke);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &DisplayLinksPanel::updateButtons);
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, &DisplayLinksPanel::updateButtons);
    connect(m_addressCombo, &QComboBox::currentIndexChanged, this, &DisplayLinksPanel::showMintedUrl);
    connect(m_copyButton, &QPushButton::clicked, this, [this] {
        QGuiApplication::clipboard()->setText(m_urlEdit->text());
        m_copyButton->setText(tr("Copied"));
    });
    connect(dismiss, &QPushButton::clicked, this, &DisplayLinksPanel::dismissMinted);
    connect(m_host, &ServerHost::displayLinkMinted, this, &DisplayLinksPanel::onMinted);
    connect(m_host, &ServerHost::displayLinkRevoked, this, &DisplayLinksPanel::onRevoked);
    connect(m_host, &ServerHost::displayLinkRevokeFailed, this,
            [this](const QString& meetId, const QString& linkId, const QString& error) {
                if (meetId == m_meetId)
                    m_status->setText(tr("Could not revoke display link %1: %2").arg(linkId, error));
            });
    updateButtons();
}

void DisplayLinksPanel::setMeet(const QString& meetId)
{
    if (meetId == m_meetId)
        return;
    m_meetId = meetId;
    m_model->clear();
    m_status->clear();
    // A minted URL belongs to the meet it was made for; an answer still on its way is dropped.
    dismissMinted();
    m_pendingMint = 0;
    updateButtons();
}

void DisplayLinksPanel::updateSnapshot(const oll::ServerSnapshot& snapshot, bool meetLoaded)
{
    m_running = snapshot.state == ServerSnapshot::State::Running && meetLoaded;
    m_bindAddress = snapshot.bindAddress;
    m_port = snapshot.port;
    m_model->update(snapshot.displayLinks, m_meetId);
    updateButtons();
}

int DisplayLinksPanel::linkCount() const
{
    return m_model->rowCount();
}

void DisplayLinksPanel::mint()
{
    const QString label = m_labelEdit->text().trimmed();
    if (label.isEmpty() || m_meetId.isEmpty() || !m_running || m_pendingMint != 0)
        return;
    dismissMinted();
    m_status->setText(tr("Creating display link “%1”…").arg(label));
    m_pendingMint = m_host->mintDisplayLink(m_meetId, label);
    updateButtons();
}

void DisplayLinksPanel::onMinted(quint64 requestId, const oll::DisplayLinkInfo& link, const QString& token,
                                 const QString& path, const QString& error)
{
    Q_UNUSED(token); // `path` carries it in its fragment; nothing else needs it
    if (requestId == 0 || requestId != m_pendingMint)
        return;
    m_pendingMint = 0;
    if (!error.isEmpty()) {
        m_status->setText(tr("Could not create the display link: %1").arg(error));
        updateButtons();
        return;
    }
    m_labelEdit->clear();
    m_status->clear();
    m_mintedPath = path;
    m_mintedLinkId = link.linkId;
    m_addressCombo->blockSignals(true);
    m_addressCombo->clear();
    for (const QUrl& url : joinUrls(m_bindAddress, m_port))
        m_addressCombo->addItem(url.toString(QUrl::RemovePath));
    m_addressCombo->blockSignals(false);
    m_addressCombo->setVisible(m_addressCombo->count() > 1);
    m_addressCombo->setToolTip(tr("The address the display reaches this computer at"));
    m_mintedNote->setText(tr("<b>Display link “%1” created.</b> Copy its URL now and open it on the display: it is "
                             "shown only this once, because the server keeps only a fingerprint of it. Anyone with "
                             "the URL can watch this meet until you revoke the link.")
                              .arg(link.label.toHtmlEscaped()));
    showMintedUrl();
    m_copyButton->setText(tr("Copy URL"));
    m_mintedPanel->show();
    // The new row arrives with the next snapshot; ask for it now instead of waiting.
    m_host->refresh();
    updateButtons();
}

void DisplayLinksPanel::showMintedUrl()
{
    if (m_mintedPath.isEmpty())
        return;
    const QUrl base(m_addressCombo->count() > 0 ? m_addressCombo->currentText() + QLatin1Char('/')
                                                : QStringLiteral("http://localhost:%1/").arg(m_port));
    m_urlEdit->setText(base.resolved(QUrl(m_mintedPath)).toString());
    m_urlEdit->setCursorPosition(0);
    m_copyButton->setText(tr("Copy URL"));
}

void DisplayLinksPanel::dismissMinted()
{
    m_mintedPanel->hide();
    m_mintedPath.clear();
    m_mintedLinkId.clear();
    m_urlEdit->clear();
    m_addressCombo->clear();
}

void DisplayLinksPanel::askRevoke()
{
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    const DisplayLinkInfo link = m_model->rowAt(rows.first().row());
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Revoke display link"),
                                tr("Revoke display link “%1”?").arg(link.label), QMessageBox::NoButton, this);
    box->setObjectName(QStringLiteral("revokeDisplayLinkConfirm"));
    box->setInformativeText(
        link.connections > 0
            ? (link.connections == 1
                   ? tr("The display using it will be disconnected at once, and its URL will no longer work.")
                   : tr("The %1 displays using it will be disconnected at once, and its URL will no longer work.")
                         .arg(link.connections))
            : tr("Its URL will no longer work."));
    QPushButton* revoke = box->addButton(tr("Revoke"), QMessageBox::DestructiveRole);
    revoke->setObjectName(QStringLiteral("confirmRevokeButton"));
    box->addButton(QMessageBox::Cancel);
    box->setDefaultButton(QMessageBox::Cancel);
    box->setAttribute(Qt::WA_DeleteOnClose);
    const QString meetId = m_meetId;
    // open(), not exec(): no nested event loop while the director decides.
    connect(box, &QMessageBox::finished, this, [this, box, revoke, meetId, link] {
        if (box->clickedButton() != revoke || meetId != m_meetId)
            return;
        m_status->setText(tr("Revoking “%1”…").arg(link.label));
        m_host->revokeDisplayLink(meetId, link.linkId);
    });
    box->open();
}

void DisplayLinksPanel::onRevoked(const QString& meetId, const QString& linkId, int socketsClosed,
                                  const QString& warning)
{
    if (meetId != m_meetId)
        return;
    const int row = m_model->rowOf(linkId);
    const QString name = row >= 0 ? tr("“%1” (%2)").arg(m_model->rowAt(row).label, linkId) : linkId;
    if (socketsClosed == 0)
        m_status->setText(tr("Display link %1 revoked; no display was using it.").arg(name));
    else if (socketsClosed == 1)
        m_status->setText(tr("Display link %1 revoked; 1 display was disconnected.").arg(name));
    else
        m_status->setText(tr("Display link %1 revoked; %2 displays were disconnected.").arg(name).arg(socketsClosed));
    // In force but not yet on disk: the director must know it comes back if the laptop restarts now.
    if (!warning.isEmpty())
        m_status->setText(m_status->text() + u'\n' + tr("Warning: %1").arg(warning));
    // Its one-time URL, if still on screen, no longer works: take it away.
    if (linkId == m_mintedLinkId)
        dismissMinted();
    m_host->refresh();
}

void DisplayLinksPanel::updateButtons()
{
    const bool canAct = m_running && !m_meetId.isEmpty();
    m_mintButton->setEnabled(canAct && m_pendingMint == 0 && !m_labelEdit->text().trimmed().isEmpty());
    m_labelEdit->setEnabled(canAct);
    m_revokeButton->setEnabled(canAct && m_view->selectionModel()->hasSelection());
    m_mintButton->setToolTip(m_running ? QString() : tr("Start the server to create or revoke display links."));
}

} // namespace oll::ui
