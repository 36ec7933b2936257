// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QString>
#include <QWidget>

class QCheckBox;
class QLabel;
class QSortFilterProxyModel;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTimer;

namespace oll {
class ServerHost;
}

namespace oll::ui {

class ClientsModel;
class ConflictsModel;
class DisplayLinksPanel;
class EndpointsModel;
class MeetDiagnosticsView;

/// The selected meet: a header (ID, name, head and durable seq, storage state) over tabs with its
/// clients, endpoints, conflict log, display links and recent diagnostics. Everything follows the
/// host's snapshots and typed signals; nothing polls the server.
class MeetView : public QWidget
{
    Q_OBJECT
public:
    explicit MeetView(oll::ServerHost* host, QWidget* parent = nullptr);
    ~MeetView() override;

    /// Shows `meetId` (9 digits); an empty id shows "no meet selected".
    void setMeet(const QString& meetId);
    QString meetId() const;

    ClientsModel* clientsModel() const { return m_clients; }
    EndpointsModel* endpointsModel() const { return m_endpoints; }
    ConflictsModel* conflictsModel() const { return m_conflicts; }
    DisplayLinksPanel* displayLinksPanel() const { return m_links; }
    MeetDiagnosticsView* diagnosticsView() const { return m_diagnostics; }

private:
    void onSnapshot(const oll::ServerSnapshotPtr& snapshot);
    void showMeet(const oll::ServerSnapshot& snapshot, const oll::MeetInfo& meet);
    void showPlaceholder(const oll::ServerSnapshot& snapshot);
    /// "63 updates, all saved to disk": the meet's head and durable seq in the director's words.
    static QString updatesText(const oll::MeetInfo& meet);
    void syncConflicts();
    void updateTabTitles(const oll::MeetInfo* meet);
    QWidget* buildHeader();
    QWidget* buildConflictsTab();
    static QTableView* makeTable(QWidget* parent, const QString& objectName);

    oll::ServerHost* m_host;
    QString m_meetId;
    bool m_haveMeet = false;

    ClientsModel* m_clients;
    QSortFilterProxyModel* m_clientsSorted;
    EndpointsModel* m_endpoints;
    ConflictsModel* m_conflicts;

    QStackedWidget* m_stack;
    QLabel* m_placeholder;
    QLabel* m_idLabel = nullptr;
    QLabel* m_nameLabel = nullptr;
    QLabel* m_stateLabel = nullptr;
    QLabel* m_seqLabel = nullptr;
    QLabel* m_storageLabel = nullptr;
    QLabel* m_storageAdvice = nullptr;
    QTabWidget* m_tabs = nullptr;
    QTableView* m_clientsView = nullptr;
    QTableView* m_endpointsView = nullptr;
    QTableView* m_conflictsView = nullptr;
    QCheckBox* m_showValues = nullptr;
    DisplayLinksPanel* m_links = nullptr;
    MeetDiagnosticsView* m_diagnostics = nullptr;
    QTimer* m_clock; // re-renders "3 min ago" when no snapshot comes (nobody connected)
};

} // namespace oll::ui
