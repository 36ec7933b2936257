// SPDX-License-Identifier: AGPL-3.0-or-later
#include "util/PosixIo.h"

#include <cerrno>
#include <unistd.h>

namespace oll {

bool writeFully(int fd, const QByteArray& bytes, qint64* written)
{
    const char* p = bytes.constData();
    qint64 left = bytes.size();
    qint64 done = 0;
    while (left > 0) {
        const ssize_t n = ::write(fd, p, static_cast<size_t>(left));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            if (written) {
                *written = done;
            }
            return false;
        }
        p += n;
        left -= n;
        done += n;
    }
    if (written) {
        *written = done;
    }
    return true;
}

} // namespace oll
