// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "KeyedTableModel.h"

#include "host/ServerSnapshot.h"

#include <QStringList>

namespace oll::ui {

struct EndpointRow
{
    Endpoint endpoint;
    int clientsOnline = 0; // online clients at this location
    bool highest = false; // the only location with the meet's highest priority
    bool lowest = false; // the only location with the meet's lowest priority
    QStringList tiedWith; // other locations with the same priority
};

/// The meet's endpoints (the locations it was created with), highest priority first: the one
/// whose edits overrule every other location's in a conflict is marked.
class EndpointsModel : public KeyedTableModel<EndpointRow>
{
    Q_OBJECT
public:
    enum Column
    {
        Priority,
        Location,
        Online,
        Note,
        ColumnCount
    };

    explicit EndpointsModel(QObject* parent = nullptr);

    void update(const QList<Endpoint>& endpoints, const QList<ClientInfo>& clients);
    void clear();

    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

protected:
    QString keyOf(const EndpointRow& row) const override { return row.endpoint.locationName; }
    Rendered render(const EndpointRow& row) const override;
    QVariant extraData(const EndpointRow& row, int column, int role) const override;

private:
    static QString note(const EndpointRow& row);
};

} // namespace oll::ui
