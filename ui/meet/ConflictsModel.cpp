// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ConflictsModel.h"

#include "MeetFormat.h"

namespace oll::ui {

namespace {

bool sameRecord(const ConflictRecord& a, const ConflictRecord& b)
{
    return a.timeMs == b.timeMs && a.key == b.key && a.clientId == b.clientId && a.localSeqNum == b.localSeqNum
        && a.outcome == b.outcome;
}

QString party(const QString& location, qint64 seq)
{
    return seq > 0 ? ConflictsModel::tr("%1 (update %2)").arg(location).arg(seq) : location;
}

} // namespace

ConflictsModel::ConflictsModel(QObject* parent)
    : QAbstractTableModel(parent)
{
}

void ConflictsModel::setRecords(const QList<ConflictRecord>& records)
{
    const qsizetype have = m_records.size();
    // Same log, grown (the usual case): only the new records are inserted, at the top.
    if (records.size() >= have && (have == 0 || sameRecord(records.at(have - 1), m_records.last()))) {
        if (records.size() == have)
            return;
        const int added = static_cast<int>(records.size() - have);
        beginInsertRows({}, 0, added - 1);
        m_records = records;
        endInsertRows();
        return;
    }
    beginResetModel();
    m_records = records;
    endResetModel();
}

void ConflictsModel::clear()
{
    setRecords({});
}

const ConflictRecord& ConflictsModel::recordAt(int row) const
{
    return m_records.at(m_records.size() - 1 - row);
}

void ConflictsModel::setShowValues(bool show)
{
    if (show == m_showValues)
        return;
    m_showValues = show;
    if (!m_records.isEmpty())
        Q_EMIT dataChanged(index(0, Value), index(rowCount() - 1, Value));
}

int ConflictsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_records.size());
}

int ConflictsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString ConflictsModel::winnerText(const ConflictRecord& r) const
{
    if (r.outcome == ConflictRecord::Outcome::Rejected)
        return party(r.winner.locationName, r.winner.serverSeqNum);
    return party(r.locationName, r.serverSeqNum);
}

QString ConflictsModel::loserText(const ConflictRecord& r) const
{
    if (r.outcome == ConflictRecord::Outcome::Rejected)
        return r.locationName;
    QStringList parts;
    for (const ConflictParty& p : r.overruled)
        parts.append(party(p.locationName, p.serverSeqNum));
    return parts.join(QStringLiteral(", "));
}

QString ConflictsModel::outcomeText(const ConflictRecord& r) const
{
    if (r.outcome == ConflictRecord::Outcome::Rejected)
        return tr("kept %1's value; %2's edit was refused").arg(r.winner.locationName, r.locationName);
    return tr("overruled: %1's edit (priority %2) replaced the lower-priority value")
        .arg(r.locationName)
        .arg(r.priority);
}

QVariant ConflictsModel::data(const QModelIndex& index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const ConflictRecord& r = recordAt(index.row());
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case Time:
            return MeetFormat::clockTime(r.timeMs);
        case Key:
            return r.key;
        case Winner:
            return winnerText(r);
        case Loser:
            return loserText(r);
        case Outcome:
            return outcomeText(r);
        case Value:
            if (!m_showValues)
                return hiddenValue();
            // The record holds the value of the edit that ran into the conflict: refused, or standing.
            return r.outcome == ConflictRecord::Outcome::Rejected ? tr("refused: %1").arg(MeetFormat::value(r.value))
                                                                  : tr("stands: %1").arg(MeetFormat::value(r.value));
        default:
            return {};
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (index.column()) {
        case Time:
            return MeetFormat::dateTime(r.timeMs);
        case Key:
            return MeetFormat::describeKey(r.key);
        case Winner:
        case Loser:
        case Outcome: {
            QString tip = tr("%1 (priority %2, client %3) edited this field, having seen the meet up to update %4.")
                              .arg(r.locationName)
                              .arg(r.priority)
                              .arg(MeetFormat::shortClientId(r.clientId))
                              .arg(r.afterServerSeqNum);
            if (r.outcome == ConflictRecord::Outcome::Rejected)
                tip += QLatin1Char('\n')
                    + tr("%1 (priority %2) had changed it since, in update %3: that value stands.")
                          .arg(r.winner.locationName)
                          .arg(r.winner.priority)
                          .arg(r.winner.serverSeqNum);
            else
                tip += QLatin1Char('\n') + tr("Its higher priority won: it became update %1.").arg(r.serverSeqNum);
            if (r.recovered)
                tip += QLatin1Char('\n') + tr("Recovered from a client's log after the server lost it.");
            return tip;
        }
        case Value:
            return m_showValues ? MeetFormat::value(r.value, 4000)
                                : tr("Hidden: values can be personal data. Tick “Show values” to see them.");
        default:
            return {};
        }
    }
    return {};
}

QVariant ConflictsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return {};
    switch (section) {
    case Time:
        return tr("Time");
    case Key:
        return tr("Field");
    case Winner:
        return tr("Winner");
    case Loser:
        return tr("Loser");
    case Outcome:
        return tr("Outcome");
    case Value:
        return tr("Value of the edit");
    default:
        return {};
    }
}

} // namespace oll::ui
