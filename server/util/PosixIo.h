// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>

namespace oll {

/// write(2) until every byte is written, retrying on EINTR. On failure returns false with errno
/// set; `written` (if given) says how many bytes did reach the file.
bool writeFully(int fd, const QByteArray& bytes, qint64* written = nullptr);

} // namespace oll
