// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"

#include <QPlainTextEdit>

namespace oll::ui {

/// The selected meet's recent diagnostics, one line each, newest at the bottom. Bounded (old lines
/// drop off the top); follows new lines unless the director scrolled up to read something.
class MeetDiagnosticsView : public QPlainTextEdit
{
    Q_OBJECT
public:
    static constexpr int kMaxLines = 1000;

    explicit MeetDiagnosticsView(QWidget* parent = nullptr);

    /// Replaces the lines (oldest first).
    void setEntries(const QList<oll::DiagEntry>& entries);
    void appendEntry(const oll::DiagEntry& entry);

    static QString lineFor(const oll::DiagEntry& entry);
};

} // namespace oll::ui
