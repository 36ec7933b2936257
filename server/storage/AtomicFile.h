// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

namespace oll {

/// Whole-file replacement that survives a crash at any point: write a temporary file in the same
/// directory, fdatasync it, rename it over the target, fsync the directory. Readers see the old
/// or the new content, never a mixture.
class AtomicFile
{
public:
    static bool write(const QString& path, const QByteArray& content, QString* error = nullptr);
    /// fsync on a directory, so that a rename or a new file in it is durable.
    static bool syncDirectory(const QString& dirPath, QString* error = nullptr);
    /// Reads a whole file; false with a reason if it cannot.
    static bool read(const QString& path, QByteArray* out, QString* error = nullptr);
};

} // namespace oll
