// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "storage/JournalDevice.h"

#include <QSemaphore>

#include <atomic>
#include <memory>

namespace oll::test {

/// Shared control panel for FaultyJournalDevice, kept by the test after the device is handed
/// to the server. Counts are 1-based: failSyncAt = 3 makes the third sync() fail.
struct JournalFaults
{
    std::atomic<int> appends{0};
    std::atomic<int> syncs{0};
    std::atomic<int> failAppendAt{0};
    std::atomic<int> failSyncAt{0};
    std::atomic<bool> failTruncate{false};
    /// When set, sync() waits for `releaseSync` before touching the disk, after posting `syncEntered`.
    std::atomic<bool> gateSync{false};
    QSemaphore syncEntered;
    QSemaphore releaseSync;
};

/// A real journal file whose append, sync and truncate can be made to fail or stall on cue.
class FaultyJournalDevice final : public JournalDevice
{
public:
    FaultyJournalDevice(std::unique_ptr<JournalDevice> real, std::shared_ptr<JournalFaults> faults)
        : m_real(std::move(real))
        , m_faults(std::move(faults))
    {
    }

    bool append(const QByteArray& bytes) override;
    bool sync() override;
    bool truncate(qint64 size) override;
    qint64 size() const override { return m_real->size(); }
    QString errorString() const override { return m_error.isEmpty() ? m_real->errorString() : m_error; }

    /// A factory for ServerServices that wraps every journal with the same faults.
    static JournalDeviceFactory factory(std::shared_ptr<JournalFaults> faults);

private:
    std::unique_ptr<JournalDevice> m_real;
    std::shared_ptr<JournalFaults> m_faults;
    QString m_error;
};

} // namespace oll::test
