// SPDX-License-Identifier: AGPL-3.0-or-later
#include "FaultyJournalDevice.h"

namespace oll::test {

bool FaultyJournalDevice::append(const QByteArray& bytes)
{
    const int n = ++m_faults->appends;
    if (n == m_faults->failAppendAt.load()) {
        // Like a disk filling up mid-write: half the bytes land, then an error.
        m_real->append(bytes.left(bytes.size() / 2));
        m_error = QStringLiteral("injected append failure (No space left on device)");
        return false;
    }
    return m_real->append(bytes);
}

bool FaultyJournalDevice::sync()
{
    const int n = ++m_faults->syncs;
    if (m_faults->gateSync.load()) {
        m_faults->syncEntered.release();
        m_faults->releaseSync.acquire();
    }
    if (n == m_faults->failSyncAt.load()) {
        m_error = QStringLiteral("injected fdatasync failure (Input/output error)");
        return false;
    }
    return m_real->sync();
}

bool FaultyJournalDevice::truncate(qint64 size)
{
    if (m_faults->failTruncate.load()) {
        m_error = QStringLiteral("injected truncate failure");
        return false;
    }
    return m_real->truncate(size);
}

JournalDeviceFactory FaultyJournalDevice::factory(std::shared_ptr<JournalFaults> faults)
{
    return [faults](const QString& path, QString* error) -> std::unique_ptr<JournalDevice> {
        auto real = PosixJournalDevice::open(path, error);
        if (!real) {
            return nullptr;
        }
        return std::make_unique<FaultyJournalDevice>(std::move(real), faults);
    };
}

} // namespace oll::test
