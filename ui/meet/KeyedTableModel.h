// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QAbstractTableModel>
#include <QHash>
#include <QList>
#include <QStringList>

namespace oll::ui {

/// A table over rows that have a stable key (a clientId, a link id). Each snapshot hands in the
/// whole list; the model diffs it by key so that a view keeps its selection and scroll position:
/// rows that stay are updated in place (dataChanged over the columns whose text changed), rows
/// that went are removed, new rows are appended. Display text and tooltips are rendered once per
/// update and cached, so data() is a lookup and the diff compares what the user actually sees.
template <typename Row>
class KeyedTableModel : public QAbstractTableModel
{
public:
    using QAbstractTableModel::QAbstractTableModel;

    int rowCount(const QModelIndex& parent = {}) const override
    {
        return parent.isValid() ? 0 : static_cast<int>(m_items.size());
    }

    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override
    {
        if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
            return {};
        const Item& item = m_items.at(index.row());
        if (role == Qt::DisplayRole)
            return item.text.value(index.column());
        if (role == Qt::ToolTipRole) {
            const QString tip = item.tip.value(index.column());
            return tip.isEmpty() ? QVariant() : QVariant(tip);
        }
        return extraData(item.row, index.column(), role);
    }

    /// The row's raw value (tests, actions on the selection).
    const Row& rowAt(int row) const { return m_items.at(row).row; }
    /// The row with this key, or -1.
    int rowOf(const QString& key) const
    {
        for (int i = 0; i < m_items.size(); ++i)
            if (keyOf(m_items.at(i).row) == key)
                return i;
        return -1;
    }

protected:
    struct Rendered
    {
        QStringList text;
        QStringList tip;
    };

    virtual QString keyOf(const Row& row) const = 0;
    /// Display text and tooltip of every column (tooltip empty: none).
    virtual Rendered render(const Row& row) const = 0;
    /// Any other role (alignment, colour, sort keys).
    virtual QVariant extraData(const Row& row, int column, int role) const
    {
        Q_UNUSED(row);
        Q_UNUSED(column);
        Q_UNUSED(role);
        return {};
    }

    /// Replaces the rows with `rows`, diffed by key (see the class comment).
    void applyRows(const QList<Row>& rows)
    {
        QHash<QString, int> incoming;
        incoming.reserve(rows.size());
        // The first row of a repeated key is the one kept, as the append loop below does.
        for (int i = 0; i < rows.size(); ++i)
            incoming.insert(keyOf(rows.at(i)), incoming.value(keyOf(rows.at(i)), i));

        // Remove rows whose key is gone, bottom up, one contiguous range at a time.
        for (int end = static_cast<int>(m_items.size()) - 1; end >= 0;) {
            if (incoming.contains(keyOf(m_items.at(end).row))) {
                --end;
                continue;
            }
            int begin = end;
            while (begin > 0 && !incoming.contains(keyOf(m_items.at(begin - 1).row)))
                --begin;
            beginRemoveRows({}, begin, end);
            m_items.erase(m_items.begin() + begin, m_items.begin() + end + 1);
            endRemoveRows();
            end = begin - 1;
        }

        // Update the rows that stay; remember which keys are already shown.
        QHash<QString, int> shown;
        shown.reserve(m_items.size());
        for (int r = 0; r < m_items.size(); ++r) {
            const QString key = keyOf(m_items.at(r).row);
            shown.insert(key, r);
            m_items[r].row = rows.at(incoming.value(key));
            refreshRow(r);
        }

        // Append the new ones, in the order given.
        QList<Item> added;
        for (const Row& row : rows) {
            const QString key = keyOf(row);
            if (shown.contains(key))
                continue; // also a key listed twice: one row per key
            shown.insert(key, -1);
            const Rendered r = render(row);
            added.append(Item{row, r.text, r.tip});
        }
        if (!added.isEmpty()) {
            const int first = static_cast<int>(m_items.size());
            beginInsertRows({}, first, first + static_cast<int>(added.size()) - 1);
            m_items.append(added);
            endInsertRows();
        }
    }

    /// Re-renders every row (after a change of context such as the clock) and signals the cells
    /// whose text changed.
    void refreshAll()
    {
        for (int r = 0; r < m_items.size(); ++r)
            refreshRow(r);
    }

    void clearRows()
    {
        if (m_items.isEmpty())
            return;
        beginResetModel();
        m_items.clear();
        endResetModel();
    }

private:
    struct Item
    {
        Row row;
        QStringList text;
        QStringList tip;
    };

    void refreshRow(int r)
    {
        Item& item = m_items[r];
        const Rendered fresh = render(item.row);
        int first = -1;
        int last = -1;
        const int columns = static_cast<int>(std::max(fresh.text.size(), item.text.size()));
        for (int c = 0; c < columns; ++c) {
            if (fresh.text.value(c) != item.text.value(c) || fresh.tip.value(c) != item.tip.value(c)) {
                if (first < 0)
                    first = c;
                last = c;
            }
        }
        item.text = fresh.text;
        item.tip = fresh.tip;
        if (first >= 0)
            Q_EMIT this->dataChanged(this->index(r, first), this->index(r, last));
    }

    QList<Item> m_items;
};

} // namespace oll::ui
