// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QCoreApplication>
#include <QHostAddress>
#include <QString>
#include <QStringList>

class QSettings;

namespace oll {
struct ServerOptions;
}

namespace oll::ui {

/// What the director configures about the in-process server, persisted with QSettings.
struct ServerSettings
{
    Q_DECLARE_TR_FUNCTIONS(oll::ui::ServerSettings)

public:
    enum class Bind
    {
        AllInterfaces, // reachable from the venue LAN
        ThisComputer, // 127.0.0.1 only
        Specific // one address of this computer
    };

    static constexpr quint16 kDefaultPort = 8420;

    quint16 port = kDefaultPort;
    Bind bind = Bind::AllInterfaces;
    QString specificAddress; // for Bind::Specific
    QString dataDir; // where meets are stored
    QString openlifterDir; // a local OpenLifter build (served at /openlifter/); empty for none

    /// The defaults: port 8420, all interfaces, the user's app-data folder, no OpenLifter build.
    static ServerSettings defaults();
    static ServerSettings load(const QSettings& settings);
    void save(QSettings& settings) const;

    QHostAddress bindAddress() const;
    /// Chooses the bind mode that listening on `address` means.
    void setBindAddress(const QHostAddress& address);

    /// What is wrong with these settings, one clear sentence per problem; empty when they are good.
    /// `allowAnyPort`: port 0 (pick a free one) is accepted (command line, tests), not in the dialog.
    QStringList validate(bool allowAnyPort = false) const;
    /// Puts these settings into `options` (port, bind address, data folder, OpenLifter folder),
    /// leaving the rest (limits, scrypt cost, web folder) as they are.
    void applyTo(oll::ServerOptions& options) const;

    bool operator==(const ServerSettings& other) const;
    bool operator!=(const ServerSettings& other) const { return !(*this == other); }
};

/// Why `dir` cannot hold the server's data, or empty if it can (it may not exist yet if it can be
/// created).
QString dataFolderProblem(const QString& dir);
/// Why `dir` is not an OpenLifter build, or empty if it is (or is empty: none configured).
QString openlifterFolderProblem(const QString& dir);

} // namespace oll::ui
