// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QObject>

class QSocketNotifier;

namespace oll {

/// Turns SIGINT, SIGTERM and SIGHUP into a Qt signal on the event loop (self-pipe trick), so the server
/// can stop cleanly: finish flushes, close clients, release the data-directory lock.
class UnixSignals : public QObject
{
    Q_OBJECT
public:
    explicit UnixSignals(QObject* parent = nullptr);
    ~UnixSignals() override;
    UnixSignals(const UnixSignals&) = delete;
    UnixSignals& operator=(const UnixSignals&) = delete;

Q_SIGNALS:
    void terminationRequested(int signalNumber);

private:
    QSocketNotifier* m_notifier = nullptr;
};

} // namespace oll
