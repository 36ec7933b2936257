// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QIcon>

namespace oll::ui {

/// The application's icon: the PNGs compiled into the resources (oll_appicons,
/// ":/icons/hicolor/<N>x<N>/apps/org.openlifter.Live.png") when the executable links them, else a
/// drawn plate, so the tray never shows an empty square.
QIcon appIcon();

} // namespace oll::ui
