// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QImage>
#include <QWidget>

namespace oll::ui {

/// A QR code (libqrencode, error correction M) as a 1-pixel-per-module image with a quiet zone
/// of four modules, white background. A null image if `text` cannot be encoded.
QImage qrCodeImage(const QString& text);

/// Shows the QR code of a URL, scaled by a whole number of pixels per module so that every
/// module stays crisp for a phone's camera.
class QrCodeWidget : public QWidget
{
    Q_OBJECT
public:
    explicit QrCodeWidget(QWidget* parent = nullptr);

    void setText(const QString& text);
    QString text() const { return m_text; }
    /// The unscaled code (one pixel per module, quiet zone included).
    QImage image() const { return m_image; }

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;
    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override { return width; }

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_text;
    QImage m_image;
};

} // namespace oll::ui
