// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QAbstractTableModel>

namespace oll::ui {

/// The selected meet's conflict log, newest first. The log only grows, so an update with more
/// records inserts the new ones at the top and leaves the rest alone. Values can be personal data
/// (bodyweights, dates of birth, names): they show as "•••" until setShowValues(true).
class ConflictsModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Time,
        Key,
        Winner,
        Loser,
        Outcome,
        Value,
        ColumnCount
    };

    explicit ConflictsModel(QObject* parent = nullptr);

    /// The meet's records, oldest first (ServerHost::conflicts order).
    void setRecords(const QList<ConflictRecord>& records);
    void clear();
    int recordCount() const { return static_cast<int>(m_records.size()); }
    /// The record shown at `row` (newest first).
    const ConflictRecord& recordAt(int row) const;

    void setShowValues(bool show);
    bool showValues() const { return m_showValues; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    static QString hiddenValue() { return QStringLiteral("•••"); }

private:
    QString winnerText(const ConflictRecord& r) const;
    QString loserText(const ConflictRecord& r) const;
    QString outcomeText(const ConflictRecord& r) const;

    QList<ConflictRecord> m_records; // oldest first, as the log
    bool m_showValues = false;
};

} // namespace oll::ui
