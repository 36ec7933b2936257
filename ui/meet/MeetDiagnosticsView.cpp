// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MeetDiagnosticsView.h"

#include "MeetFormat.h"

#include <QFontDatabase>
#include <QScrollBar>

namespace oll::ui {

MeetDiagnosticsView::MeetDiagnosticsView(QWidget* parent)
    : QPlainTextEdit(parent)
{
    setReadOnly(true);
    setMaximumBlockCount(kMaxLines);
    setLineWrapMode(QPlainTextEdit::NoWrap);
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    setPlaceholderText(tr("No diagnostics for this meet yet."));
}

void MeetDiagnosticsView::setEntries(const QList<oll::DiagEntry>& entries)
{
    QStringList lines;
    const qsizetype first = std::max<qsizetype>(0, entries.size() - kMaxLines);
    lines.reserve(entries.size() - first);
    for (qsizetype i = first; i < entries.size(); ++i)
        lines.append(lineFor(entries.at(i)));
    setPlainText(lines.join(QLatin1Char('\n')));
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void MeetDiagnosticsView::appendEntry(const oll::DiagEntry& entry)
{
    QScrollBar* bar = verticalScrollBar();
    const bool following = bar->value() >= bar->maximum();
    appendPlainText(lineFor(entry));
    if (following)
        bar->setValue(bar->maximum());
}

QString MeetDiagnosticsView::lineFor(const oll::DiagEntry& entry)
{
    return MeetFormat::dateTime(entry.timeMs) + QStringLiteral("  ") + entry.category.leftJustified(9)
        + QLatin1Char(' ') + entry.message;
}

} // namespace oll::ui
