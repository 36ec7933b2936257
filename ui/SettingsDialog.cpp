// SPDX-License-Identifier: AGPL-3.0-or-later
#include "SettingsDialog.h"

#include <QButtonGroup>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace oll::ui {

SettingsDialog::SettingsDialog(const ServerSettings& current, QWidget* parent)
    : QDialog(parent)
    , m_port(new QSpinBox(this))
    , m_all(new QRadioButton(tr("All interfaces (tablets on the venue network can connect)"), this))
    , m_local(new QRadioButton(tr("This computer only"), this))
    , m_specific(new QRadioButton(tr("This address only:"), this))
    , m_bindGroup(new QButtonGroup(this))
    , m_address(new QLineEdit(this))
    , m_dataDir(new QLineEdit(this))
    , m_openlifterDir(new QLineEdit(this))
    , m_problems(new QLabel(this))
{
    setObjectName(QStringLiteral("settingsDialog"));
    setWindowTitle(tr("Server settings"));

    m_port->setObjectName(QStringLiteral("portSpin"));
    m_port->setRange(1, 65535);
    m_port->setMaximumWidth(140);
    m_port->setToolTip(tr("The TCP port browsers connect to (default %1).").arg(ServerSettings::kDefaultPort));
    m_all->setObjectName(QStringLiteral("bindAll"));
    m_local->setObjectName(QStringLiteral("bindLocal"));
    m_specific->setObjectName(QStringLiteral("bindSpecific"));
    m_bindGroup->addButton(m_all);
    m_bindGroup->addButton(m_local);
    m_bindGroup->addButton(m_specific);
    m_address->setObjectName(QStringLiteral("addressEdit"));
    m_address->setPlaceholderText(tr("e.g. 192.168.1.20"));
    m_dataDir->setObjectName(QStringLiteral("dataDirEdit"));
    m_openlifterDir->setObjectName(QStringLiteral("openlifterDirEdit"));
    m_openlifterDir->setPlaceholderText(tr("None: browsers open the built-in demo"));
    m_problems->setObjectName(QStringLiteral("problemsLabel"));
    m_problems->setWordWrap(true);
    m_problems->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_problems->setTextFormat(Qt::PlainText);
    m_problems->hide();

    auto* bindBox = new QVBoxLayout;
    bindBox->setSpacing(2);
    bindBox->addWidget(m_all);
    bindBox->addWidget(m_local);
    auto* specificRow = new QHBoxLayout;
    specificRow->addWidget(m_specific);
    specificRow->addWidget(m_address, 1);
    bindBox->addLayout(specificRow);

    auto folderRow = [this](QLineEdit* edit, void (SettingsDialog::*browse)()) {
        auto* row = new QHBoxLayout;
        row->addWidget(edit, 1);
        auto* button = new QPushButton(tr("Browse…"), this);
        connect(button, &QPushButton::clicked, this, browse);
        row->addWidget(button);
        return row;
    };

    auto* form = new QFormLayout;
    form->addRow(tr("Port:"), m_port);
    form->addRow(tr("Listen on:"), bindBox);
    form->addRow(tr("Data folder:"), folderRow(m_dataDir, &SettingsDialog::browseDataDir));
    form->addRow(tr("OpenLifter build:"), folderRow(m_openlifterDir, &SettingsDialog::browseOpenlifterDir));
    auto* hint = new QLabel(tr("Applying restarts the server. Browsers reconnect by themselves within seconds; "
                               "nothing they sent is lost."),
                            this);
    hint->setWordWrap(true);
    hint->setEnabled(false);

    auto* buttons
        = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Apply | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(buttons->button(QDialogButtonBox::Ok), &QPushButton::clicked, this, [this] {
        if (apply()) {
            accept();
        }
    });
    connect(buttons->button(QDialogButtonBox::Apply), &QPushButton::clicked, this, [this] { apply(); });

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problems);
    layout->addWidget(hint);
    layout->addWidget(buttons);

    connect(m_specific, &QRadioButton::toggled, this, &SettingsDialog::updateEnabled);
    setSettings(current);
    resize(640, sizeHint().height());
}

void SettingsDialog::setSettings(const ServerSettings& s)
{
    m_port->setValue(s.port == 0 ? ServerSettings::kDefaultPort : s.port);
    switch (s.bind) {
    case ServerSettings::Bind::AllInterfaces:
        m_all->setChecked(true);
        break;
    case ServerSettings::Bind::ThisComputer:
        m_local->setChecked(true);
        break;
    case ServerSettings::Bind::Specific:
        m_specific->setChecked(true);
        break;
    }
    m_address->setText(s.specificAddress);
    m_dataDir->setText(QDir::toNativeSeparators(s.dataDir));
    m_openlifterDir->setText(QDir::toNativeSeparators(s.openlifterDir));
    m_problems->hide();
    updateEnabled();
}

ServerSettings SettingsDialog::settings() const
{
    ServerSettings s;
    s.port = static_cast<quint16>(m_port->value());
    s.bind = m_specific->isChecked() ? ServerSettings::Bind::Specific
        : m_local->isChecked()       ? ServerSettings::Bind::ThisComputer
                                     : ServerSettings::Bind::AllInterfaces;
    s.specificAddress = m_address->text().trimmed();
    s.dataDir = QDir::fromNativeSeparators(m_dataDir->text().trimmed());
    s.openlifterDir = QDir::fromNativeSeparators(m_openlifterDir->text().trimmed());
    return s;
}

bool SettingsDialog::apply()
{
    const ServerSettings s = settings();
    const QStringList problems = s.validate();
    if (!problems.isEmpty()) {
        m_problems->setText(problems.join(QLatin1Char('\n')));
        m_problems->show();
        return false;
    }
    m_problems->hide();
    Q_EMIT applied(s);
    return true;
}

void SettingsDialog::browseDataDir()
{
    const QString dir
        = QFileDialog::getExistingDirectory(this, tr("Choose the data folder"), m_dataDir->text().trimmed());
    if (!dir.isEmpty()) {
        m_dataDir->setText(QDir::toNativeSeparators(dir));
    }
}

void SettingsDialog::browseOpenlifterDir()
{
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Choose the OpenLifter build folder (with index.html)"), m_openlifterDir->text().trimmed());
    if (!dir.isEmpty()) {
        m_openlifterDir->setText(QDir::toNativeSeparators(dir));
    }
}

void SettingsDialog::updateEnabled()
{
    m_address->setEnabled(m_specific->isChecked());
}

} // namespace oll::ui
