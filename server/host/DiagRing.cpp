// SPDX-License-Identifier: AGPL-3.0-or-later
#include "host/DiagRing.h"

#include <QMutexLocker>

#include <algorithm>

namespace oll {

DiagRing::DiagRing(int capacity)
    : m_capacity(std::max(1, capacity))
{
}

void DiagRing::append(const DiagEntry& entry)
{
    const QMutexLocker lock(&m_mutex);
    m_entries.push_back(entry);
    while (static_cast<int>(m_entries.size()) > m_capacity) {
        m_entries.pop_front();
    }
}

QList<DiagEntry> DiagRing::recent(const QString& meetId) const
{
    const QMutexLocker lock(&m_mutex);
    QList<DiagEntry> out;
    out.reserve(static_cast<qsizetype>(m_entries.size()));
    for (const DiagEntry& e : m_entries) {
        if (meetId.isEmpty() || e.meetId == meetId) {
            out.append(e);
        }
    }
    return out;
}

int DiagRing::size() const
{
    const QMutexLocker lock(&m_mutex);
    return static_cast<int>(m_entries.size());
}

} // namespace oll
