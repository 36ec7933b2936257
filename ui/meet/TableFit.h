// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QAbstractItemModel>
#include <QApplication>
#include <QHeaderView>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QTimer>

namespace oll::ui {

/// Keeps a table's columns fitted to their contents as rows arrive and change. A header in
/// ResizeToContents mode refits only on layout changes, not when rows are inserted into a visible
/// view (Qt 6.4), so a new display link showed up as "Wa…". Refits are coalesced: at most one per
/// event-loop turn however many snapshots changed cells. Call after setModel().
inline void fitColumnsToContents(QTableView* view)
{
    auto* timer = new QTimer(view);
    timer->setSingleShot(true);
    timer->setInterval(0);
    QObject::connect(timer, &QTimer::timeout, view, [view] {
        // Only the content-sized columns: a stretched one (or the stretched last) keeps the spare width.
        const QHeaderView* header = view->horizontalHeader();
        const int last = header->count() - 1;
        for (int c = 0; c <= last; ++c)
            if (header->sectionResizeMode(c) == QHeaderView::ResizeToContents
                && !(c == last && header->stretchLastSection()))
                view->resizeColumnToContents(c);
    });
    QAbstractItemModel* model = view->model();
    const auto later = [timer] { timer->start(); };
    QObject::connect(model, &QAbstractItemModel::rowsInserted, timer, later);
    QObject::connect(model, &QAbstractItemModel::dataChanged, timer, later);
    QObject::connect(model, &QAbstractItemModel::modelReset, timer, later);
}

/// Draws cells with some air left and right of the text, so that a right-aligned number does not
/// touch the next column's text; the selection and row colours still fill the whole cell.
class PaddedItemDelegate : public QStyledItemDelegate
{
public:
    static constexpr int kPadding = 6;
    using QStyledItemDelegate::QStyledItemDelegate;

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        QSize size = QStyledItemDelegate::sizeHint(option, index);
        size.rwidth() += 2 * kPadding;
        return size;
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override
    {
        QStyleOptionViewItem opt = option;
        initStyleOption(&opt, index);
        QStyle* style = opt.widget ? opt.widget->style() : QApplication::style();
        // The cell's background (row colour, selection) over its full width, then the text inset.
        style->drawPrimitive(QStyle::PE_PanelItemViewItem, &opt, painter, opt.widget);
        opt.rect.adjust(kPadding, 0, -kPadding, 0);
        opt.state &= ~QStyle::State_HasFocus;
        style->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
    }
};

/// A header whose sections are as wide as their titles plus the cells' padding: "Clients online"
/// does not touch its neighbours when the column is sized to the header.
class PaddedHeaderView : public QHeaderView
{
public:
    using QHeaderView::QHeaderView;

protected:
    QSize sectionSizeFromContents(int logicalIndex) const override
    {
        QSize size = QHeaderView::sectionSizeFromContents(logicalIndex);
        if (orientation() == Qt::Horizontal)
            size.rwidth() += 2 * PaddedItemDelegate::kPadding;
        return size;
    }
};

/// Lays a table out for reading at a glance: `stretchColumn` (the one free-text column: a name, a
/// location, a note) takes the spare width, every other column is as wide as its contents and
/// never narrower than a six-digit number, and each cell has some padding. Call after setModel().
inline void fitTable(QTableView* view, int stretchColumn)
{
    view->setItemDelegate(new PaddedItemDelegate(view));
    auto* header = new PaddedHeaderView(Qt::Horizontal, view);
    header->setSectionsClickable(view->horizontalHeader()->sectionsClickable());
    header->setHighlightSections(view->horizontalHeader()->highlightSections());
    view->setHorizontalHeader(header);
    header->setStretchLastSection(false);
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(stretchColumn, QHeaderView::Stretch);
    header->setMinimumSectionSize(view->fontMetrics().horizontalAdvance(QStringLiteral("000000"))
                                  + 2 * PaddedItemDelegate::kPadding);
    fitColumnsToContents(view);
}

} // namespace oll::ui
