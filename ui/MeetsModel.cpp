// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MeetsModel.h"

#include "protocol/Messages.h"

#include <QColor>
#include <QSet>

#include <algorithm>

namespace oll::ui {

MeetsModel::MeetsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

int MeetsModel::rowOf(const QString& meetId) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).meetId == meetId) {
            return i;
        }
    }
    return -1;
}

bool MeetsModel::sameRow(const oll::MeetInfo& a, const oll::MeetInfo& b)
{
    // Only what a column shows: a change elsewhere (a client's lag) repaints nothing here.
    return a.meetName == b.meetName && a.lifterCount == b.lifterCount && a.headSeq == b.headSeq
        && a.durableSeq == b.durableSeq && a.finished == b.finished && a.storage == b.storage
        && a.storageDetail == b.storageDetail && a.clientsOnline == b.clientsOnline;
}

void MeetsModel::setMeets(const QList<oll::MeetInfo>& meets)
{
    QList<oll::MeetInfo> next = meets;
    std::stable_sort(next.begin(), next.end(),
                     [](const oll::MeetInfo& a, const oll::MeetInfo& b) { return a.meetId < b.meetId; });
    QSet<QString> nextIds;
    for (const oll::MeetInfo& m : std::as_const(next)) {
        nextIds.insert(m.meetId);
    }

    // 1. Rows whose meet is gone, removed from the bottom up in contiguous runs.
    for (int row = m_rows.size() - 1; row >= 0;) {
        if (nextIds.contains(m_rows.at(row).meetId)) {
            --row;
            continue;
        }
        int first = row;
        while (first > 0 && !nextIds.contains(m_rows.at(first - 1).meetId)) {
            --first;
        }
        beginRemoveRows(QModelIndex(), first, row);
        m_rows.erase(m_rows.begin() + first, m_rows.begin() + row + 1);
        endRemoveRows();
        row = first - 1;
    }

    // 2. Both lists are now sorted and the rows are a subsequence of `next`: walk them together,
    // inserting the new meets and updating the rest in place.
    int row = 0;
    for (int i = 0; i < next.size(); ++i) {
        const oll::MeetInfo& meet = next.at(i);
        if (row < m_rows.size() && m_rows.at(row).meetId == meet.meetId) {
            const bool changed = !sameRow(m_rows.at(row), meet);
            m_rows[row] = meet;
            if (changed) {
                Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
            }
        } else {
            beginInsertRows(QModelIndex(), row, row);
            m_rows.insert(row, meet);
            endInsertRows();
        }
        ++row;
    }
}

int MeetsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int MeetsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString MeetsModel::storageText(const oll::MeetInfo& meet)
{
    switch (meet.storage) {
    case StorageState::Ok:
        return tr("OK");
    case StorageState::Broken:
        return tr("Not saving");
    case StorageState::Damaged:
        return tr("Damaged");
    }
    return QString();
}

QString MeetsModel::storageAdvice(const oll::MeetInfo& meet)
{
    QString advice;
    switch (meet.storage) {
    case StorageState::Ok:
        return tr("Every confirmed update is saved to disk (%1 of %2).").arg(meet.durableSeq).arg(meet.headSeq);
    case StorageState::Broken:
        advice = tr("The meet's journal could not be written, so the server accepts no updates for it. "
                    "Free disk space or fix the data folder's permissions, then stop and start the server. "
                    "The browsers keep every change offline and send it again.");
        break;
    case StorageState::Damaged:
        advice = tr("The meet's files could not be read when the server started. Ask the desk computer to "
                    "restore the meet from its own copy (OpenLifter's Live tab) and approve the request here.");
        break;
    }
    // The server's own detail already says what went wrong and what to do; ours is the fallback.
    return meet.storageDetail.isEmpty() ? advice : meet.storageDetail;
}

QVariant MeetsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= m_rows.size()) {
        return {};
    }
    const oll::MeetInfo& meet = m_rows.at(index.row());
    if (role == MeetIdRole) {
        return meet.meetId;
    }
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case IdColumn:
            return displayMeetId(meet.meetId);
        case NameColumn:
            return meet.meetName.isEmpty() ? tr("(no name yet)") : meet.meetName;
        case LiftersColumn:
            return meet.lifterCount;
        case HeadSeqColumn:
            return meet.headSeq;
        case StatusColumn:
            return meet.finished ? tr("Finished") : tr("Live");
        case ClientsColumn:
            return meet.clientsOnline;
        case StorageColumn:
            return storageText(meet);
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        if (index.column() == StorageColumn) {
            return storageAdvice(meet);
        }
        if (index.column() == HeadSeqColumn) {
            return tr("Updates put in order so far: %1 (saved to disk: %2)").arg(meet.headSeq).arg(meet.durableSeq);
        }
        return {};
    }
    if (role == Qt::TextAlignmentRole) {
        switch (index.column()) {
        case LiftersColumn:
        case HeadSeqColumn:
        case ClientsColumn:
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        default:
            return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        }
    }
    if (role == Qt::ForegroundRole && index.column() == StorageColumn && meet.storage != StorageState::Ok) {
        return QColor(Qt::red);
    }
    if (role == Qt::ForegroundRole && index.column() == NameColumn && meet.meetName.isEmpty()) {
        return QColor(Qt::gray);
    }
    return {};
}

QVariant MeetsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation == Qt::Horizontal && role == Qt::ToolTipRole) {
        switch (section) {
        case IdColumn:
            return tr("What the browsers type, with the meet password, to join the meet");
        case LiftersColumn:
            return tr("Lifters registered in the meet");
        case HeadSeqColumn:
            return tr("How many changes the browsers sent that the server has put in order; a browser that has "
                      "all of them is up to date");
        case StatusColumn:
            return tr("Live: browsers can change it. Finished: the meet was published and is read-only.");
        case ClientsColumn:
            return tr("Browsers connected to this meet right now");
        case StorageColumn:
            return tr("Whether the meet's updates are being saved to disk; hover over a problem for what to do");
        default:
            return {};
        }
    }
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    switch (section) {
    case IdColumn:
        return tr("Meet ID");
    case NameColumn:
        return tr("Meet name");
    case LiftersColumn:
        return tr("Lifters");
    case HeadSeqColumn:
        return tr("Updates");
    case StatusColumn:
        return tr("Status");
    case ClientsColumn:
        return tr("Clients online");
    case StorageColumn:
        return tr("Storage");
    default:
        return {};
    }
}

} // namespace oll::ui
