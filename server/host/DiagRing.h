// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QList>
#include <QMutex>

#include <deque>

namespace oll {

/// The most recent diagnostics in memory, the way qBittorrent's Logger keeps its messages: the
/// server thread appends, the GUI reads; the oldest entries drop out once it holds `capacity`.
/// Thread-safe.
class DiagRing
{
public:
    explicit DiagRing(int capacity);

    void append(const DiagEntry& entry);
    /// Oldest first; with a meet ID, only the entries about that meet.
    QList<DiagEntry> recent(const QString& meetId = QString()) const;
    int capacity() const { return m_capacity; }
    int size() const;

private:
    const int m_capacity;
    mutable QMutex m_mutex;
    std::deque<DiagEntry> m_entries;
};

} // namespace oll
