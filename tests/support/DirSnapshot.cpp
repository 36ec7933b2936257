// SPDX-License-Identifier: AGPL-3.0-or-later
#include "DirSnapshot.h"

#include <QDirIterator>
#include <QFile>

namespace oll::test {

QMap<QString, QByteArray> snapshotDir(const QString& root)
{
    QMap<QString, QByteArray> out;
    QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly)) {
            out.insert(path.mid(root.size()), f.readAll());
        }
    }
    return out;
}

} // namespace oll::test
