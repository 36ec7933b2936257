// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QString>
#include <QWidget>

namespace oll::ui {

/// Sets a style sheet only when it differs: every setStyleSheet() re-polishes the widget and
/// invalidates its layout, and the callers run on every snapshot (4 Hz) with the same value.
inline void setStyleSheetIfChanged(QWidget* widget, const QString& styleSheet)
{
    if (widget->styleSheet() != styleSheet) {
        widget->setStyleSheet(styleSheet);
    }
}

} // namespace oll::ui
