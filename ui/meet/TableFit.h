// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QAbstractItemModel>
#include <QHeaderView>
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

} // namespace oll::ui
