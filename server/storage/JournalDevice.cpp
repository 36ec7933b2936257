// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/JournalDevice.h"

#include "util/PosixIo.h"

#include <QFile>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace oll {

std::unique_ptr<JournalDevice> PosixJournalDevice::open(const QString& path, QString* error)
{
    const int fd = ::open(QFile::encodeName(path).constData(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (error) {
            *error
                = QStringLiteral("cannot open journal %1: %2").arg(path, QString::fromLocal8Bit(std::strerror(errno)));
        }
        return nullptr;
    }
    struct stat st
    {
    };
    if (::fstat(fd, &st) != 0) {
        if (error) {
            *error = QStringLiteral("cannot stat journal %1").arg(path);
        }
        ::close(fd);
        return nullptr;
    }
    return std::unique_ptr<JournalDevice>(new PosixJournalDevice(fd, st.st_size, path));
}

PosixJournalDevice::~PosixJournalDevice()
{
    ::close(m_fd);
}

bool PosixJournalDevice::fail(const QString& what)
{
    m_error = QStringLiteral("%1 %2: %3").arg(what, m_path, QString::fromLocal8Bit(std::strerror(errno)));
    return false;
}

bool PosixJournalDevice::append(const QByteArray& bytes)
{
    qint64 written = 0;
    const bool ok = writeFully(m_fd, bytes, &written);
    // On failure, whatever part did reach the file is cut off again by the caller's truncate().
    m_size += written;
    return ok || fail(QStringLiteral("cannot append to"));
}

bool PosixJournalDevice::sync()
{
    return ::fdatasync(m_fd) == 0 || fail(QStringLiteral("cannot flush"));
}

bool PosixJournalDevice::truncate(qint64 size)
{
    if (::ftruncate(m_fd, size) != 0) {
        return fail(QStringLiteral("cannot truncate"));
    }
    m_size = size;
    return sync();
}

} // namespace oll
