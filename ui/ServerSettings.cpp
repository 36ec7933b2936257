// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ServerSettings.h"

#include "net/LiveServer.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QSettings>
#include <QStandardPaths>

namespace oll::ui {

namespace {

const QString kPortKey = QStringLiteral("server/port");
const QString kBindKey = QStringLiteral("server/bind");
const QString kAddressKey = QStringLiteral("server/address");
const QString kDataDirKey = QStringLiteral("storage/dataDir");
const QString kOpenlifterKey = QStringLiteral("openlifter/buildDir");

QString bindName(ServerSettings::Bind bind)
{
    switch (bind) {
    case ServerSettings::Bind::AllInterfaces:
        return QStringLiteral("all");
    case ServerSettings::Bind::ThisComputer:
        return QStringLiteral("local");
    case ServerSettings::Bind::Specific:
        return QStringLiteral("address");
    }
    return QStringLiteral("all");
}

QString tr(const char* text)
{
    return ServerSettings::tr(text);
}

} // namespace

ServerSettings ServerSettings::defaults()
{
    ServerSettings s;
    s.dataDir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    return s;
}

ServerSettings ServerSettings::load(const QSettings& settings)
{
    ServerSettings s = defaults();
    bool ok = false;
    const uint port = settings.value(kPortKey, kDefaultPort).toUInt(&ok);
    if (ok && port <= 65535) {
        s.port = static_cast<quint16>(port);
    }
    const QString bind = settings.value(kBindKey).toString();
    if (bind == bindName(Bind::ThisComputer)) {
        s.bind = Bind::ThisComputer;
    } else if (bind == bindName(Bind::Specific)) {
        s.bind = Bind::Specific;
    }
    s.specificAddress = settings.value(kAddressKey).toString();
    const QString dataDir = settings.value(kDataDirKey).toString();
    if (!dataDir.isEmpty()) {
        s.dataDir = dataDir;
    }
    s.openlifterDir = settings.value(kOpenlifterKey).toString();
    return s;
}

void ServerSettings::save(QSettings& settings) const
{
    settings.setValue(kPortKey, port);
    settings.setValue(kBindKey, bindName(bind));
    settings.setValue(kAddressKey, specificAddress);
    settings.setValue(kDataDirKey, dataDir);
    settings.setValue(kOpenlifterKey, openlifterDir);
    settings.sync();
}

QHostAddress ServerSettings::bindAddress() const
{
    switch (bind) {
    case Bind::AllInterfaces:
        return QHostAddress(QHostAddress::Any);
    case Bind::ThisComputer:
        return QHostAddress(QHostAddress::LocalHost);
    case Bind::Specific:
        return QHostAddress(specificAddress.trimmed());
    }
    return QHostAddress(QHostAddress::Any);
}

void ServerSettings::setBindAddress(const QHostAddress& address)
{
    if (address == QHostAddress(QHostAddress::Any) || address == QHostAddress(QHostAddress::AnyIPv4)) {
        bind = Bind::AllInterfaces;
    } else if (address == QHostAddress(QHostAddress::LocalHost)) {
        bind = Bind::ThisComputer;
    } else {
        bind = Bind::Specific;
        specificAddress = address.toString();
    }
}

QString dataFolderProblem(const QString& dir)
{
    if (dir.trimmed().isEmpty()) {
        return tr("Choose a data folder: the server keeps every meet there.");
    }
    QFileInfo info(dir);
    if (info.exists() && !info.isDir()) {
        return tr("The data folder \"%1\" is a file, not a folder.").arg(QDir::toNativeSeparators(dir));
    }
    // A folder that does not exist yet is fine if the nearest existing parent lets us create it.
    while (!info.exists()) {
        const QString parent = info.absolutePath();
        if (parent == info.absoluteFilePath()) {
            break;
        }
        info = QFileInfo(parent);
    }
    if (!info.isDir() || !info.isWritable()) {
        return tr("The data folder \"%1\" is not writable by you. Choose a folder in your home folder, or "
                  "fix its permissions.")
            .arg(QDir::toNativeSeparators(dir));
    }
    return {};
}

QString openlifterFolderProblem(const QString& dir)
{
    if (dir.trimmed().isEmpty()) {
        return {};
    }
    const QFileInfo info(dir);
    if (!info.isDir()) {
        return tr("The OpenLifter build folder \"%1\" does not exist.").arg(QDir::toNativeSeparators(dir));
    }
    if (!QFileInfo(QDir(dir).filePath(QStringLiteral("index.html"))).isFile()) {
        return tr("The OpenLifter build folder \"%1\" has no index.html. Choose the folder a build of "
                  "OpenLifter produced (the one holding index.html), or leave it empty to use the demo.")
            .arg(QDir::toNativeSeparators(dir));
    }
    return {};
}

QStringList ServerSettings::validate(bool allowAnyPort) const
{
    QStringList problems;
    if (port == 0 && !allowAnyPort) {
        problems << tr("The port must be a number from 1 to 65535.");
    }
    if (bind == Bind::Specific) {
        QHostAddress address;
        if (!address.setAddress(specificAddress.trimmed())) {
            problems << tr("\"%1\" is not an IP address. Type one like 192.168.1.20, or choose \"All "
                           "interfaces\".")
                            .arg(specificAddress);
        }
    }
    const QString data = dataFolderProblem(dataDir);
    if (!data.isEmpty()) {
        problems << data;
    }
    const QString openlifter = openlifterFolderProblem(openlifterDir);
    if (!openlifter.isEmpty()) {
        problems << openlifter;
    }
    return problems;
}

void ServerSettings::applyTo(oll::ServerOptions& options) const
{
    options.port = port;
    options.bindAddress = bindAddress();
    options.dataDir = dataDir;
    options.site.openlifterDir = openlifterDir;
}

bool ServerSettings::operator==(const ServerSettings& other) const
{
    return port == other.port && bind == other.bind && specificAddress == other.specificAddress
        && dataDir == other.dataDir && openlifterDir == other.openlifterDir;
}

} // namespace oll::ui
