// SPDX-License-Identifier: AGPL-3.0-or-later
#include "RestoreDialog.h"

#include "host/ServerHost.h"
#include "protocol/Messages.h"

#include <QDateTime>
#include <QDialogButtonBox>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

namespace oll::ui {

RestoreDialog::RestoreDialog(oll::ServerHost* host, const oll::RestoreRequestInfo& request, QWidget* parent)
    : QDialog(parent)
    , m_host(host)
    , m_request(request)
    , m_text(new QLabel(this))
    , m_approve(new QPushButton(tr("Approve restore"), this))
    , m_refuse(new QPushButton(tr("Refuse"), this))
{
    setObjectName(objectNameFor(request.meetId));
    setWindowTitle(tr("Restore request"));
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowModality(Qt::NonModal);

    m_text->setWordWrap(true);
    m_text->setTextFormat(Qt::PlainText);
    m_text->setMinimumWidth(420);
    m_approve->setObjectName(QStringLiteral("approveButton"));
    m_refuse->setObjectName(QStringLiteral("refuseButton"));
    m_refuse->setDefault(true); // a stray Enter must not hand a meet to an unknown copy

    auto* icon = new QLabel(this);
    icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxQuestion).pixmap(48, 48));
    auto* buttons = new QDialogButtonBox(this);
    buttons->addButton(m_approve, QDialogButtonBox::AcceptRole);
    buttons->addButton(m_refuse, QDialogButtonBox::RejectRole);
    connect(m_approve, &QPushButton::clicked, this, &RestoreDialog::approve);
    connect(m_refuse, &QPushButton::clicked, this, &RestoreDialog::refuse);

    auto* top = new QHBoxLayout;
    top->addWidget(icon, 0, Qt::AlignTop);
    top->addWidget(m_text, 1);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(buttons);
    m_text->setText(message());
}

QString RestoreDialog::objectNameFor(const QString& meetId)
{
    return QStringLiteral("restoreDialog-") + meetId;
}

void RestoreDialog::updateRequest(const oll::RestoreRequestInfo& request)
{
    m_request = request;
    m_text->setText(message());
}

QString RestoreDialog::message() const
{
    const QString when = QDateTime::fromMSecsSinceEpoch(m_request.requestedMs).toString(QStringLiteral("HH:mm:ss"));
    const QString location
        = m_request.locationName.isEmpty() ? tr("A browser") : tr("Location \"%1\"").arg(m_request.locationName);
    const QString locations = m_request.endpoints == 1 ? tr("1 location") : tr("%1 locations").arg(m_request.endpoints);
    return tr("%1 at %2 asks to restore meet %3 from its own copy (%4).")
               .arg(location, m_request.address, displayMeetId(m_request.meetId), locations)
        + QStringLiteral("\n\n")
        + tr("This server has no usable copy of that meet. Approve only if this is your meet's desk computer or "
             "another of your tablets (asked at %1). Once restored, every tablet can join it again with the "
             "meet's password.")
              .arg(when);
}

void RestoreDialog::approve()
{
    m_host->approveRestore(m_request.meetId);
    accept();
}

void RestoreDialog::refuse()
{
    m_host->refuseRestore(m_request.meetId);
    reject();
}

} // namespace oll::ui
