// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"

#include "host/ServerSnapshot.h"

#include <QHash>

namespace oll::ui {

/// Every client (browser) of the selected meet, online or not, one row per clientId. Fed the
/// meet's ClientInfo list on each snapshot and diffed by clientId, so a row that changes only
/// repaints its changed cells and the selection stays put.
class ClientsModel : public KeyedTableModel<ClientInfo>
{
    Q_OBJECT
public:
    enum Column
    {
        Location,
        Address,
        RoleColumn,
        Client,
        LastAcked,
        Lag,
        Status,
        Rtt,
        Backlog,
        ColumnCount
    };
    /// Raw value of a cell for sorting (numbers as numbers, times as ms).
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit ClientsModel(QObject* parent = nullptr);

    /// The meet's clients as of a snapshot. `linkLabels` maps display link ids to their labels;
    /// `nowMs` is the wall clock the relative times ("3 min ago") are measured against.
    void update(const QList<ClientInfo>& clients, qint64 headSeq, const QHash<QString, QString>& linkLabels,
                qint64 nowMs);
    /// Only the clock moved: re-renders the relative times.
    void setNow(qint64 nowMs);
    void clear();

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    QString keyOf(const ClientInfo& row) const override { return row.clientId; }
    Rendered render(const ClientInfo& row) const override;
    QVariant extraData(const ClientInfo& row, int column, int role) const override;

private:
    QString roleText(const ClientInfo& row) const;

    qint64 m_headSeq = 0;
    qint64 m_nowMs = 0;
    QHash<QString, QString> m_linkLabels;
};

} // namespace oll::ui
