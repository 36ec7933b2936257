// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/DiagLog.h"

#include "util/Clock.h"

#include <QDateTime>
#include <QTextStream>

#include <cstdio>

namespace oll {

DiagLog::DiagLog(const QString& path, const Clock& clock)
    : m_file(path)
    , m_clock(clock)
{
    m_file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered);
}

void DiagLog::write(const QString& category, const QString& message)
{
    rotateIfLarge();
    QString text = message;
    text.replace(u'\n', u' ');
    const qint64 now = m_clock.nowMs();
    const QString line = QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODateWithMs) + u' ' + category
        + u' ' + text + u'\n';
    const QByteArray bytes = line.toUtf8();
    if (m_file.isOpen()) {
        m_file.write(bytes);
    }
    if (m_echo) {
        std::fputs(bytes.constData(), stderr);
    }
    if (m_listener) {
        m_listener(now, category, text);
    }
}

void DiagLog::rotateIfLarge()
{
    if (!m_file.isOpen() || m_file.size() < kRotateBytes) {
        return;
    }
    const QString name = m_file.fileName();
    m_file.close();
    QFile::remove(name + QStringLiteral(".1"));
    QFile::rename(name, name + QStringLiteral(".1"));
    m_file.open(QIODevice::WriteOnly | QIODevice::Append | QIODevice::Unbuffered);
}

} // namespace oll
