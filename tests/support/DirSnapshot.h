// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QMap>
#include <QString>

namespace oll::test {

/// Every regular file under a directory with its content, for "nothing changed" assertions.
QMap<QString, QByteArray> snapshotDir(const QString& root);

} // namespace oll::test
