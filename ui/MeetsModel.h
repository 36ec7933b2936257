// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QAbstractTableModel>

namespace oll::ui {

/// The meets the server holds, one row each, from ServerSnapshot::meets. Each snapshot is merged
/// into the rows by meetId (rows inserted, removed and changed in place; never a reset), so a
/// selection in the view survives the four snapshots a second a busy meet produces.
class MeetsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        IdColumn,
        NameColumn,
        LiftersColumn,
        HeadSeqColumn,
        StatusColumn,
        ClientsColumn,
        StorageColumn,
        ColumnCount
    };
    /// Qt::UserRole: the row's meet ID (9 digits, unformatted).
    static constexpr int MeetIdRole = Qt::UserRole;

    explicit MeetsModel(QObject* parent = nullptr);

    /// Merges the meets of `snapshot` into the rows.
    void setMeets(const QList<oll::MeetInfo>& meets);
    const QList<oll::MeetInfo>& meets() const { return m_rows; }
    /// The row of `meetId`, or -1.
    int rowOf(const QString& meetId) const;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    /// What the storage column says, and (tooltip) what the director should do about it.
    static QString storageText(const oll::MeetInfo& meet);
    static QString storageAdvice(const oll::MeetInfo& meet);

private:
    static bool sameRow(const oll::MeetInfo& a, const oll::MeetInfo& b);

    QList<oll::MeetInfo> m_rows; // sorted by meetId
};

} // namespace oll::ui
