// SPDX-License-Identifier: AGPL-3.0-or-later
#include "DisplayLinksModel.h"

#include "MeetFormat.h"

#include <QBrush>
#include <QColor>

namespace oll::ui {

DisplayLinksModel::DisplayLinksModel(QObject* parent)
    : KeyedTableModel<DisplayLinkInfo>(parent)
{
}

void DisplayLinksModel::update(const QList<DisplayLinkInfo>& allLinks, const QString& meetId)
{
    QList<DisplayLinkInfo> mine;
    for (const DisplayLinkInfo& link : allLinks)
        if (link.meetId == meetId)
            mine.append(link);
    applyRows(mine);
}

void DisplayLinksModel::clear()
{
    clearRows();
}

int DisplayLinksModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant DisplayLinksModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Label:
        return tr("Label");
    case LinkId:
        return tr("Link ID");
    case Created:
        return tr("Created");
    case Connections:
        return tr("Connected now");
    default:
        return {};
    }
}

KeyedTableModel<DisplayLinkInfo>::Rendered DisplayLinksModel::render(const DisplayLinkInfo& row) const
{
    Rendered r;
    r.text << row.label << row.linkId << MeetFormat::dateTime(row.createdMs) << QString::number(row.connections);
    r.tip << QString()
          << tr("The link's public ID. Its secret part was shown once when it was created; the server keeps "
                "only a hash of it.")
          << QString()
          << (row.connections == 1 ? tr("1 display is using this link now")
                                   : tr("%1 displays are using this link now").arg(row.connections));
    return r;
}

QVariant DisplayLinksModel::extraData(const DisplayLinkInfo& row, int column, int role) const
{
    if (column != Connections)
        return {};
    if (role == Qt::TextAlignmentRole)
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ForegroundRole && row.connections == 0)
        return QBrush(QColor(0x80, 0x80, 0x80));
    return {};
}

} // namespace oll::ui
