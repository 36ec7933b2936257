// SPDX-License-Identifier: AGPL-3.0-or-later
#include "AppIcon.h"

#include <QFile>
#include <QPainter>
#include <QPixmap>

namespace oll::ui {

namespace {

QPixmap drawnIcon(int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    const qreal s = size;
    // A plate seen from the side: a red disc with a hub, and a bar through it.
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0xc6, 0x28, 0x28));
    p.drawEllipse(QRectF(s * 0.08, s * 0.08, s * 0.84, s * 0.84));
    p.setBrush(QColor(0x21, 0x21, 0x21));
    p.drawRoundedRect(QRectF(0, s * 0.44, s, s * 0.12), s * 0.04, s * 0.04);
    p.setBrush(Qt::white);
    p.drawEllipse(QRectF(s * 0.38, s * 0.38, s * 0.24, s * 0.24));
    return pixmap;
}

} // namespace

QIcon appIcon()
{
    // resources/icons (oll_appicons), when the executable links it; PNGs need no SVG plugin.
    QIcon icon;
    for (int size : {16, 32, 48, 64, 128, 256, 512}) {
        const QString path = QStringLiteral(":/icons/hicolor/%1x%1/apps/org.openlifter.Live.png").arg(size);
        if (QFile::exists(path)) {
            icon.addFile(path, QSize(size, size));
        }
    }
    if (!icon.isNull()) {
        return icon;
    }
    for (int size : {16, 22, 32, 48, 64, 128}) {
        icon.addPixmap(drawnIcon(size));
    }
    return icon;
}

} // namespace oll::ui
