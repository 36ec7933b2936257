// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MeetView.h"
#include "WidgetStyle.h"

#include "ClientsModel.h"
#include "ConflictsModel.h"
#include "DisplayLinksModel.h"
#include "DisplayLinksPanel.h"
#include "EndpointsModel.h"
#include "MeetDiagnosticsView.h"
#include "MeetsModel.h"
#include "TableFit.h"

#include "host/ServerHost.h"

#include <QCheckBox>
#include <QDateTime>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>

namespace oll::ui {

namespace {

enum Tab
{
    ClientsTab,
    EndpointsTab,
    ConflictsTab,
    LinksTab,
    DiagnosticsTab
};

const MeetInfo* findMeet(const ServerSnapshot& snapshot, const QString& meetId)
{
    // meets is sorted by meetId: a binary search, not a scan, on every snapshot.
    const auto it = std::lower_bound(snapshot.meets.cbegin(), snapshot.meets.cend(), meetId,
                                     [](const MeetInfo& m, const QString& id) { return m.meetId < id; });
    return it != snapshot.meets.cend() && it->meetId == meetId ? &*it : nullptr;
}

} // namespace

MeetView::MeetView(oll::ServerHost* host, QWidget* parent)
    : QWidget(parent)
    , m_host(host)
    , m_clients(new ClientsModel(this))
    , m_clientsSorted(new QSortFilterProxyModel(this))
    , m_endpoints(new EndpointsModel(this))
    , m_conflicts(new ConflictsModel(this))
    , m_stack(new QStackedWidget(this))
    , m_placeholder(new QLabel(this))
    , m_clock(new QTimer(this))
{
    setObjectName(QStringLiteral("meetView"));
    m_clients->setObjectName(QStringLiteral("clientsModel"));
    m_endpoints->setObjectName(QStringLiteral("endpointsModel"));
    m_conflicts->setObjectName(QStringLiteral("conflictsModel"));
    m_placeholder->setObjectName(QStringLiteral("meetPlaceholder"));
    m_placeholder->setAlignment(Qt::AlignCenter);
    m_placeholder->setWordWrap(true);

    m_clientsSorted->setSourceModel(m_clients);
    m_clientsSorted->setSortRole(ClientsModel::SortRole);
    m_clientsSorted->setSortCaseSensitivity(Qt::CaseInsensitive);

    auto* page = new QWidget(this);
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    pageLayout->addWidget(buildHeader());

    m_tabs = new QTabWidget(page);
    m_tabs->setObjectName(QStringLiteral("meetTabs"));

    m_clientsView = makeTable(m_tabs, QStringLiteral("clientsView"));
    m_clientsView->setModel(m_clientsSorted);
    fitTable(m_clientsView, ClientsModel::Location);
    m_clientsView->setSortingEnabled(true);
    m_clientsView->sortByColumn(ClientsModel::Location, Qt::AscendingOrder);
    m_tabs->addTab(m_clientsView, QString());

    m_endpointsView = makeTable(m_tabs, QStringLiteral("endpointsView"));
    m_endpointsView->setModel(m_endpoints);
    fitTable(m_endpointsView, EndpointsModel::Note);
    m_tabs->addTab(m_endpointsView, QString());

    m_tabs->addTab(buildConflictsTab(), QString());

    m_links = new DisplayLinksPanel(m_host, m_tabs);
    m_links->setObjectName(QStringLiteral("displayLinksPanel"));
    m_tabs->addTab(m_links, QString());

    m_diagnostics = new MeetDiagnosticsView(m_tabs);
    m_diagnostics->setObjectName(QStringLiteral("diagnosticsView"));
    m_tabs->addTab(m_diagnostics, QString());
    pageLayout->addWidget(m_tabs, 1);

    m_stack->addWidget(m_placeholder);
    m_stack->addWidget(page);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    connect(m_host, &ServerHost::snapshotChanged, this, &MeetView::onSnapshot);
    connect(m_host, &ServerHost::conflictRecorded, this, [this](const oll::ConflictInfo& conflict) {
        if (conflict.meetId == m_meetId)
            syncConflicts();
    });
    connect(m_host, &ServerHost::diagnostic, this, [this](const oll::DiagEntry& entry) {
        if (!m_meetId.isEmpty() && entry.meetId == m_meetId)
            m_diagnostics->appendEntry(entry);
    });
    connect(m_showValues, &QCheckBox::toggled, m_conflicts, &ConflictsModel::setShowValues);
    m_clock->setInterval(15000);
    connect(m_clock, &QTimer::timeout, this, [this] { m_clients->setNow(QDateTime::currentMSecsSinceEpoch()); });
    m_clock->start();

    updateTabTitles(nullptr);
    onSnapshot(m_host->snapshot());
}

MeetView::~MeetView() = default;

QWidget* MeetView::buildHeader()
{
    auto* header = new QWidget(this);
    header->setObjectName(QStringLiteral("meetHeader"));
    m_idLabel = new QLabel(header);
    m_idLabel->setObjectName(QStringLiteral("meetIdLabel"));
    m_idLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont big = m_idLabel->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    m_idLabel->setFont(big);
    m_idLabel->setToolTip(tr("The meet ID the browsers join with"));

    m_nameLabel = new QLabel(header);
    m_nameLabel->setObjectName(QStringLiteral("meetNameLabel"));
    QFont name = m_nameLabel->font();
    name.setPointSizeF(name.pointSizeF() * 1.3);
    m_nameLabel->setFont(name);

    m_stateLabel = new QLabel(header);
    m_stateLabel->setObjectName(QStringLiteral("meetStateLabel"));
    m_seqLabel = new QLabel(header);
    m_seqLabel->setObjectName(QStringLiteral("meetSeqLabel"));
    m_storageLabel = new QLabel(header);
    m_storageLabel->setObjectName(QStringLiteral("meetStorageLabel"));
    m_storageAdvice = new QLabel(header);
    m_storageAdvice->setObjectName(QStringLiteral("meetStorageAdvice"));
    m_storageAdvice->setWordWrap(true);
    m_storageAdvice->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* top = new QHBoxLayout;
    top->addWidget(m_idLabel);
    top->addSpacing(16);
    top->addWidget(m_nameLabel, 1);
    top->addWidget(m_stateLabel);
    auto* bottom = new QHBoxLayout;
    bottom->addWidget(m_seqLabel, 1);
    bottom->addWidget(m_storageLabel);
    auto* layout = new QVBoxLayout(header);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(top);
    layout->addLayout(bottom);
    layout->addWidget(m_storageAdvice);
    return header;
}

QWidget* MeetView::buildConflictsTab()
{
    auto* tab = new QWidget(m_tabs);
    m_showValues = new QCheckBox(tr("Show values"), tab);
    m_showValues->setObjectName(QStringLiteral("showConflictValues"));
    auto* note = new QLabel(tr("Values can be personal data (names, bodyweights, dates of birth): they stay hidden "
                               "unless you need them, e.g. to settle a dispute."),
                            tab);
    note->setWordWrap(true);
    m_conflictsView = makeTable(tab, QStringLiteral("conflictsView"));
    m_conflictsView->setModel(m_conflicts);
    fitTable(m_conflictsView, ConflictsModel::Value);
    m_conflictsView->setWordWrap(false);

    auto* bar = new QHBoxLayout;
    bar->addWidget(m_showValues);
    bar->addWidget(note, 1);
    auto* layout = new QVBoxLayout(tab);
    layout->addLayout(bar);
    layout->addWidget(m_conflictsView, 1);
    return tab;
}

QTableView* MeetView::makeTable(QWidget* parent, const QString& objectName)
{
    auto* view = new QTableView(parent);
    view->setObjectName(objectName);
    view->setSelectionBehavior(QAbstractItemView::SelectRows);
    view->setSelectionMode(QAbstractItemView::SingleSelection);
    view->setAlternatingRowColors(true);
    view->verticalHeader()->hide();
    view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    return view;
}

void MeetView::setMeet(const QString& meetId)
{
    if (meetId == m_meetId)
        return;
    m_meetId = meetId;
    m_haveMeet = false;
    m_clients->clear();
    m_endpoints->clear();
    m_conflicts->clear();
    m_showValues->setChecked(false); // values are shown for one meet at a time, on purpose
    m_links->setMeet(meetId);
    m_diagnostics->setEntries(meetId.isEmpty() ? QList<DiagEntry>() : m_host->recentDiagnostics(meetId));
    onSnapshot(m_host->snapshot());
}

QString MeetView::meetId() const
{
    return m_meetId;
}

void MeetView::onSnapshot(const oll::ServerSnapshotPtr& snapshot)
{
    if (!snapshot)
        return;
    const MeetInfo* meet = m_meetId.isEmpty() ? nullptr : findMeet(*snapshot, m_meetId);
    m_links->updateSnapshot(*snapshot, meet != nullptr);
    if (meet)
        showMeet(*snapshot, *meet);
    else
        showPlaceholder(*snapshot);
}

void MeetView::showMeet(const oll::ServerSnapshot& snapshot, const oll::MeetInfo& meet)
{
    m_haveMeet = true;
    m_stack->setCurrentIndex(1);

    m_idLabel->setText(displayMeetId(meet.meetId));
    m_nameLabel->setText(meet.meetName.isEmpty() ? tr("(no meet name yet)") : meet.meetName);
    m_stateLabel->setText(meet.finished ? tr("Finished") : tr("Live"));
    m_seqLabel->setText(
        updatesText(meet) + QStringLiteral(" · ")
        + (meet.lifterCount == 1 ? tr("1 lifter") : tr("%1 lifters").arg(meet.lifterCount)) + QStringLiteral(" · ")
        + (meet.clientsOnline == 1 ? tr("1 client online") : tr("%1 clients online").arg(meet.clientsOnline)));
    m_seqLabel->setToolTip(tr("Updates: the changes the browsers sent that the server has put in order (the "
                              "newest is number %1). Saved: of those, written to disk for good (%2).")
                               .arg(meet.headSeq)
                               .arg(meet.durableSeq));
    const bool ok = meet.storage == StorageState::Ok;
    m_storageLabel->setText(tr("Storage: %1").arg(MeetsModel::storageText(meet)));
    setStyleSheetIfChanged(m_storageLabel, ok ? QString() : QStringLiteral("color: #b00020; font-weight: bold;"));
    m_storageLabel->setToolTip(MeetsModel::storageAdvice(meet));
    m_storageAdvice->setVisible(!ok);
    if (!ok)
        m_storageAdvice->setText(MeetsModel::storageAdvice(meet));

    QHash<QString, QString> labels;
    for (const DisplayLinkInfo& link : snapshot.displayLinks)
        if (link.meetId == meet.meetId)
            labels.insert(link.linkId, link.label);
    m_clients->update(meet.clients, meet.headSeq, labels, QDateTime::currentMSecsSinceEpoch());
    m_endpoints->update(meet.endpoints, meet.clients);
    // Fetch the log only when it grew (or shrank: a restored meet); most snapshots leave it alone.
    if (meet.conflictCount != m_conflicts->recordCount())
        syncConflicts();
    updateTabTitles(&meet);
}

QString MeetView::updatesText(const oll::MeetInfo& meet)
{
    if (meet.headSeq == 0)
        return tr("No updates yet");
    const QString count = meet.headSeq == 1 ? tr("1 update") : tr("%1 updates").arg(meet.headSeq);
    // A gap lasts milliseconds (a group commit in flight); a lasting one is a storage problem.
    if (meet.durableSeq >= meet.headSeq)
        return meet.headSeq == 1 ? tr("%1, saved to disk").arg(count) : tr("%1, all saved to disk").arg(count);
    return tr("%1, %2 saved to disk").arg(count).arg(meet.durableSeq);
}

void MeetView::showPlaceholder(const oll::ServerSnapshot& snapshot)
{
    m_stack->setCurrentIndex(0);
    if (m_meetId.isEmpty()) {
        m_placeholder->setText(tr("Select a meet to see its clients, conflicts and display links."));
    } else if (snapshot.state != ServerSnapshot::State::Running) {
        m_placeholder->setText(
            tr("Meet %1: the server is not running. Start it to see the meet's clients.").arg(displayMeetId(m_meetId)));
    } else {
        m_placeholder->setText(tr("Meet %1 is not on this server (any more).").arg(displayMeetId(m_meetId)));
    }
    // The rows stay as they were: a stop and start of the server should not make the director lose
    // the place; the first snapshot with the meet diffs them back into shape.
    updateTabTitles(nullptr);
}

void MeetView::syncConflicts()
{
    QList<ConflictRecord> records;
    const QList<ConflictInfo> all = m_host->conflicts(m_meetId);
    records.reserve(all.size());
    for (const ConflictInfo& c : all)
        records.append(c.record);
    m_conflicts->setRecords(records);
    updateTabTitles(nullptr);
}

void MeetView::updateTabTitles(const oll::MeetInfo* meet)
{
    if (meet)
        m_tabs->setTabText(ClientsTab,
                           tr("Clients (%1 online of %2)").arg(meet->clientsOnline).arg(meet->clients.size()));
    else if (!m_haveMeet)
        m_tabs->setTabText(ClientsTab, tr("Clients"));
    m_tabs->setTabText(EndpointsTab, tr("Locations"));
    m_tabs->setTabToolTip(EndpointsTab,
                          tr("The meet's locations and their priorities: who wins when two edit the "
                             "same field"));
    m_tabs->setTabText(ConflictsTab,
                       m_conflicts->recordCount() > 0 ? tr("Conflicts (%1)").arg(m_conflicts->recordCount())
                                                      : tr("Conflicts"));
    m_tabs->setTabText(
        LinksTab, m_links->linkCount() > 0 ? tr("Display links (%1)").arg(m_links->linkCount()) : tr("Display links"));
    m_tabs->setTabText(DiagnosticsTab, tr("Diagnostics"));
}

} // namespace oll::ui
