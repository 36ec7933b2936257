// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "ServerSettings.h"

#include <QDialog>

class QButtonGroup;
class QLabel;
class QLineEdit;
class QRadioButton;
class QSpinBox;

namespace oll::ui {

/// Edits ServerSettings. OK/Apply validate first and say what is wrong next to the fields; a good
/// set is handed out through applied() (the window saves it and restarts the server with it).
class SettingsDialog : public QDialog
{
    Q_OBJECT
public:
    explicit SettingsDialog(const ServerSettings& current, QWidget* parent = nullptr);

    ServerSettings settings() const;
    void setSettings(const ServerSettings& settings);
    /// Validates; on success emits applied() and returns true, otherwise shows the problems.
    bool apply();

Q_SIGNALS:
    void applied(const oll::ui::ServerSettings& settings);

private:
    void browseDataDir();
    void browseOpenlifterDir();
    void updateEnabled();

    QSpinBox* m_port;
    QRadioButton* m_all;
    QRadioButton* m_local;
    QRadioButton* m_specific;
    QButtonGroup* m_bindGroup;
    QLineEdit* m_address;
    QLineEdit* m_dataDir;
    QLineEdit* m_openlifterDir;
    QLabel* m_problems;
};

} // namespace oll::ui
