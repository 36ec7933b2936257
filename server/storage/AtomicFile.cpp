// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/AtomicFile.h"

#include "util/PosixIo.h"

#include <QFile>
#include <QFileInfo>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>

namespace oll {
namespace {

QString errnoText(const QString& what, const QString& path)
{
    return QStringLiteral("%1 %2: %3").arg(what, path, QString::fromLocal8Bit(std::strerror(errno)));
}

void setError(QString* error, const QString& text)
{
    if (error) {
        *error = text;
    }
}

} // namespace

bool AtomicFile::write(const QString& path, const QByteArray& content, QString* error)
{
    const QString tmp = path + QStringLiteral(".tmp");
    const QByteArray tmpName = QFile::encodeName(tmp);
    const int fd = ::open(tmpName.constData(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        setError(error, errnoText(QStringLiteral("cannot create"), tmp));
        return false;
    }
    if (!writeFully(fd, content)) {
        setError(error, errnoText(QStringLiteral("cannot write"), tmp));
        ::close(fd);
        ::unlink(tmpName.constData());
        return false;
    }
    if (::fdatasync(fd) != 0) {
        setError(error, errnoText(QStringLiteral("cannot flush"), tmp));
        ::close(fd);
        ::unlink(tmpName.constData());
        return false;
    }
    ::close(fd);
    if (::rename(tmpName.constData(), QFile::encodeName(path).constData()) != 0) {
        setError(error, errnoText(QStringLiteral("cannot rename over"), path));
        ::unlink(tmpName.constData());
        return false;
    }
    return syncDirectory(QFileInfo(path).absolutePath(), error);
}

bool AtomicFile::syncDirectory(const QString& dirPath, QString* error)
{
    const int fd = ::open(QFile::encodeName(dirPath).constData(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        setError(error, errnoText(QStringLiteral("cannot open directory"), dirPath));
        return false;
    }
    const bool ok = ::fsync(fd) == 0;
    if (!ok) {
        setError(error, errnoText(QStringLiteral("cannot flush directory"), dirPath));
    }
    ::close(fd);
    return ok;
}

bool AtomicFile::read(const QString& path, QByteArray* out, QString* error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        setError(error, QStringLiteral("cannot open %1: %2").arg(path, f.errorString()));
        return false;
    }
    *out = f.readAll();
    if (f.error() != QFile::NoError) {
        setError(error, QStringLiteral("cannot read %1: %2").arg(path, f.errorString()));
        return false;
    }
    return true;
}

} // namespace oll
