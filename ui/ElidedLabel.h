// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QWidget>

namespace oll::ui {

/// One line of text that never wraps: when it does not fit, its middle gives way to "…" (a path
/// keeps its start and its last folders). The tooltip is the full text unless set after setText().
class ElidedLabel : public QWidget
{
    Q_OBJECT
public:
    explicit ElidedLabel(QWidget* parent = nullptr);

    void setText(const QString& text);
    /// The full text.
    QString text() const { return m_text; }
    /// What is drawn at the current width.
    QString shownText() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    QString m_text;
};

} // namespace oll::ui
