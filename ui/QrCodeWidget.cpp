// SPDX-License-Identifier: AGPL-3.0-or-later
#include "QrCodeWidget.h"

#include <QPainter>

#include <qrencode.h>

#include <memory>

namespace oll::ui {

namespace {
constexpr int kQuietZone = 4; // modules of white around the code, as ISO/IEC 18004 asks
}

QImage qrCodeImage(const QString& text)
{
    if (text.isEmpty()) {
        return {};
    }
    const QByteArray utf8 = text.toUtf8();
    std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
        QRcode_encodeString(utf8.constData(), 0, QR_ECLEVEL_M, QR_MODE_8, 1), &QRcode_free);
    if (!code) {
        return {};
    }
    const int modules = code->width;
    const int side = modules + 2 * kQuietZone;
    QImage image(side, side, QImage::Format_Grayscale8);
    image.fill(Qt::white);
    for (int y = 0; y < modules; ++y) {
        uchar* line = image.scanLine(y + kQuietZone);
        for (int x = 0; x < modules; ++x) {
            // Bit 0 of each byte: 1 = dark module.
            if (code->data[y * modules + x] & 1) {
                line[x + kQuietZone] = 0;
            }
        }
    }
    return image;
}

QrCodeWidget::QrCodeWidget(QWidget* parent)
    : QWidget(parent)
{
    QSizePolicy policy(QSizePolicy::Preferred, QSizePolicy::Preferred);
    policy.setHeightForWidth(true);
    setSizePolicy(policy);
}

void QrCodeWidget::setText(const QString& text)
{
    if (text == m_text) {
        return;
    }
    m_text = text;
    m_image = qrCodeImage(text);
    setToolTip(text);
    update();
}

QSize QrCodeWidget::sizeHint() const
{
    return {200, 200};
}

QSize QrCodeWidget::minimumSizeHint() const
{
    return {120, 120};
}

void QrCodeWidget::paintEvent(QPaintEvent*)
{
    QPainter painter(this);
    if (m_image.isNull()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter | Qt::TextWordWrap, tr("No address to show"));
        return;
    }
    const int side = qMin(width(), height());
    const int scale = qMax(1, side / m_image.width()); // whole pixels per module: no blurred edges
    const int drawn = scale * m_image.width();
    const QRect target((width() - drawn) / 2, (height() - drawn) / 2, drawn, drawn);
    painter.setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter.drawImage(target, m_image);
}

} // namespace oll::ui
