// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QFile>
#include <QString>

#include <functional>

namespace oll {

class Clock;

/// DATA/diag.log: one line per notable event (start, meets loaded, torn tails cut, joins,
/// rejections, storage errors). Never passwords, tokens or token hashes: callers pass only
/// identifiers that are not secret (meet ID, location, client ID, peer address).
class DiagLog
{
public:
    DiagLog(const QString& path, const Clock& clock);
    void write(const QString& category, const QString& message);
    QString path() const { return m_file.fileName(); }
    void setEcho(bool echo) { m_echo = echo; }
    /// Called with every line written (wall-clock ms, category, message), on the writer's thread:
    /// the desktop app shows diagnostics live without reading the file back.
    using Listener = std::function<void(qint64 timeMs, const QString& category, const QString& message)>;
    void setListener(Listener listener) { m_listener = std::move(listener); }

    static constexpr qint64 kRotateBytes = 10LL * 1024 * 1024;

private:
    void rotateIfLarge();

    QFile m_file;
    const Clock& m_clock;
    bool m_echo = false;
    Listener m_listener;
};

} // namespace oll
