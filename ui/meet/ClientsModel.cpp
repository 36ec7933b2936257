// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ClientsModel.h"

#include "MeetFormat.h"

#include <QBrush>
#include <QColor>

namespace oll::ui {

ClientsModel::ClientsModel(QObject* parent)
    : KeyedTableModel<ClientInfo>(parent)
{
}

void ClientsModel::update(const QList<ClientInfo>& clients, qint64 headSeq, const QHash<QString, QString>& linkLabels,
                          qint64 nowMs)
{
    m_headSeq = headSeq;
    m_linkLabels = linkLabels;
    m_nowMs = nowMs;
    applyRows(clients);
}

void ClientsModel::setNow(qint64 nowMs)
{
    m_nowMs = nowMs;
    refreshAll();
}

void ClientsModel::clear()
{
    clearRows();
}

int ClientsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ClientsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::DisplayRole) {
        switch (section) {
        case Location:
            return tr("Location");
        case Address:
            return tr("Address");
        case RoleColumn:
            return tr("Role");
        case Client:
            return tr("Client");
        case LastAcked:
            return tr("Last acked");
        case Lag:
            return tr("Lag");
        case Status:
            return tr("Status");
        case Rtt:
            return tr("RTT");
        case Backlog:
            return tr("Backlog");
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case LastAcked:
            return tr("The number of this browser's latest own change that the server saved and confirmed to it");
        case Lag:
            return tr("How many of the meet's updates this browser has not received yet");
        case Location:
            return tr("The location (desk, platform, weigh-in…) the browser joined as");
        case Client:
            return tr("The start of the browser's client ID: tells two browsers at the same location apart");
        case Rtt:
            return tr("Round-trip time: how long the server's last ping took to reach the browser and come "
                      "back. Hundreds of milliseconds mean a weak network link.");
        case Backlog:
            return tr("Data queued for the client and not yet handed to the network");
        default:
            return {};
        }
    }
    return {};
}

QString ClientsModel::roleText(const ClientInfo& row) const
{
    if (row.role == Role::Update)
        return tr("Updating");
    if (row.displayLinkId.isEmpty())
        return tr("Display");
    const QString label = m_linkLabels.value(row.displayLinkId);
    return label.isEmpty() ? tr("Display (link %1)").arg(row.displayLinkId) : tr("Display (link “%1”)").arg(label);
}

KeyedTableModel<ClientInfo>::Rendered ClientsModel::render(const ClientInfo& row) const
{
    Rendered r;
    r.text.reserve(ColumnCount);
    r.tip.reserve(ColumnCount);
    const qint64 lag = std::max<qint64>(0, m_headSeq - row.lastSeenSeq);

    r.text << row.locationName << row.address << roleText(row) << MeetFormat::shortClientId(row.clientId)
           << (row.lastAckedSeq > 0 ? QString::number(row.lastAckedSeq) : tr("none"))
           << (lag == 0 ? tr("up to date") : tr("%1 behind").arg(lag));
    r.tip << QString() << QString() << QString() << tr("Client ID %1").arg(row.clientId) << QString()
          << tr("Has updates up to number %1 of %2").arg(row.lastSeenSeq).arg(m_headSeq);

    if (row.online) {
        r.text << tr("online since %1").arg(MeetFormat::clockTime(row.onlineSinceMs));
        QString tip = tr("Online since %1 (%2)")
                          .arg(MeetFormat::dateTime(row.onlineSinceMs), MeetFormat::since(row.onlineSinceMs, m_nowMs));
        if (row.connections > 1)
            tip += QLatin1Char('\n') + tr("%1 open connections").arg(row.connections);
        r.tip << tip;
        // No ping answered yet (just connected): not a broken link, so not a bare dash.
        r.text << (row.rttMs >= 0 ? tr("%1 ms").arg(row.rttMs) : tr("measuring…"))
               << MeetFormat::bytes(row.backlogBytes);
        r.tip << (row.rttMs >= 0 ? QString()
                                 : tr("The server pings each browser when it joins and then regularly; the first "
                                      "answer has not come back yet."))
              << QString();
    } else {
        r.text << tr("offline since %1 (%2)")
                      .arg(MeetFormat::clockTime(row.offlineSinceMs), MeetFormat::ago(row.offlineSinceMs, m_nowMs));
        r.tip << tr("Offline since %1").arg(MeetFormat::dateTime(row.offlineSinceMs));
        r.text << tr("–") << tr("–");
        r.tip << tr("Offline: nothing to measure") << tr("Offline: nothing queued");
    }
    return r;
}

QVariant ClientsModel::extraData(const ClientInfo& row, int column, int role) const
{
    if (role == Qt::ForegroundRole && !row.online)
        return QBrush(QColor(0x80, 0x80, 0x80));
    if (role == Qt::TextAlignmentRole && (column == LastAcked || column == Lag || column == Rtt || column == Backlog))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role != SortRole)
        return {};
    switch (column) {
    case Location:
        return row.locationName;
    case Address:
        return row.address;
    case RoleColumn:
        return roleText(row);
    case Client:
        return row.clientId;
    case LastAcked:
        return row.lastAckedSeq;
    case Lag:
        return std::max<qint64>(0, m_headSeq - row.lastSeenSeq);
    case Status:
        // Online first (most recent first), then offline by how recently they left.
        return row.online ? (Q_INT64_C(1) << 62) + row.onlineSinceMs : row.offlineSinceMs;
    case Rtt:
        return row.online ? row.rttMs : -1;
    case Backlog:
        return row.online ? row.backlogBytes : -1;
    default:
        return {};
    }
}

} // namespace oll::ui
