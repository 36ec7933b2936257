// SPDX-License-Identifier: AGPL-3.0-or-later
#include "EndpointsModel.h"

#include <QFont>
#include <QHash>

#include <algorithm>
#include <limits>

namespace oll::ui {

EndpointsModel::EndpointsModel(QObject* parent)
    : KeyedTableModel<EndpointRow>(parent)
{
}

void EndpointsModel::update(const QList<Endpoint>& endpoints, const QList<ClientInfo>& clients)
{
    QHash<QString, int> online;
    for (const ClientInfo& c : clients)
        if (c.online)
            ++online[c.locationName];

    QList<EndpointRow> rows;
    rows.reserve(endpoints.size());
    qint64 top = std::numeric_limits<qint64>::min();
    qint64 bottom = std::numeric_limits<qint64>::max();
    for (const Endpoint& e : endpoints) {
        top = std::max(top, e.priority);
        bottom = std::min(bottom, e.priority);
    }
    for (const Endpoint& e : endpoints) {
        EndpointRow row{e, online.value(e.locationName), false, false, {}};
        for (const Endpoint& other : endpoints)
            if (other.priority == e.priority && other.locationName != e.locationName)
                row.tiedWith.append(other.locationName);
        const bool alone = row.tiedWith.isEmpty() && endpoints.size() > 1;
        row.highest = alone && e.priority == top;
        row.lowest = alone && e.priority == bottom;
        rows.append(row);
    }
    std::stable_sort(rows.begin(), rows.end(), [](const EndpointRow& a, const EndpointRow& b) {
        return a.endpoint.priority > b.endpoint.priority;
    });
    // A meet's endpoints are fixed at creation: after the first fill only the counts change.
    applyRows(rows);
}

void EndpointsModel::clear()
{
    clearRows();
}

int EndpointsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant EndpointsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Priority:
        return tr("Priority");
    case Location:
        return tr("Location");
    case Online:
        return tr("Clients online");
    case Note:
        return tr("In a conflict");
    default:
        return {};
    }
}

QString EndpointsModel::note(const EndpointRow& row)
{
    if (row.highest)
        return tr("highest priority: overrules every other location");
    if (row.lowest)
        return tr("lowest priority: every other location overrules it");
    QString text = tr("overrules lower priorities");
    if (!row.tiedWith.isEmpty())
        text += tr("; against %1 (same priority) the first edit stands").arg(row.tiedWith.join(QStringLiteral(", ")));
    return text;
}

KeyedTableModel<EndpointRow>::Rendered EndpointsModel::render(const EndpointRow& row) const
{
    Rendered r;
    r.text << QString::number(row.endpoint.priority) << row.endpoint.locationName << QString::number(row.clientsOnline)
           << note(row);
    r.tip << QString() << QString() << QString()
          << tr("When two locations edit the same field, the edit from the higher priority wins; the "
                "other is logged in Conflicts.");
    return r;
}

QVariant EndpointsModel::extraData(const EndpointRow& row, int column, int role) const
{
    if (role == Qt::FontRole && row.highest) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    if (role == Qt::TextAlignmentRole && (column == Priority || column == Online))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    return {};
}

} // namespace oll::ui
