// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"

#include "host/ServerSnapshot.h"

namespace oll::ui {

/// The selected meet's display links (label, id, created, sockets using it now), diffed by link id.
/// The secret token is never here: the server keeps only its hash.
class DisplayLinksModel : public KeyedTableModel<DisplayLinkInfo>
{
    Q_OBJECT
public:
    enum Column
    {
        Label,
        LinkId,
        Created,
        Connections,
        ColumnCount
    };

    explicit DisplayLinksModel(QObject* parent = nullptr);

    /// Keeps the links of `meetId` out of every meet's links.
    void update(const QList<DisplayLinkInfo>& allLinks, const QString& meetId);
    void clear();

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    QString keyOf(const DisplayLinkInfo& row) const override { return row.linkId; }
    Rendered render(const DisplayLinkInfo& row) const override;
    QVariant extraData(const DisplayLinkInfo& row, int column, int role) const override;
};

} // namespace oll::ui
