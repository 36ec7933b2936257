// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QString>

#include <functional>
#include <memory>

namespace oll {

/// The append-only file under a meet's journal. A seam: production writes a real file with
/// write(2) and fdatasync(2); tests substitute devices that fail or stall at chosen points to
/// prove that nothing is acknowledged before it is stable.
///
/// A device is used by one thread at a time (the meet's SerialExecutor).
class JournalDevice
{
public:
    virtual ~JournalDevice() = default;
    /// Appends all bytes or fails.
    virtual bool append(const QByteArray& bytes) = 0;
    /// Makes every appended byte durable (fdatasync).
    virtual bool sync() = 0;
    /// Cuts the file back to `size` bytes and makes that durable.
    virtual bool truncate(qint64 size) = 0;
    virtual qint64 size() const = 0;
    virtual QString errorString() const = 0;
};

class PosixJournalDevice final : public JournalDevice
{
public:
    /// Opens (creating if needed) `path` for appending.
    static std::unique_ptr<JournalDevice> open(const QString& path, QString* error);
    ~PosixJournalDevice() override;
    PosixJournalDevice(const PosixJournalDevice&) = delete;
    PosixJournalDevice& operator=(const PosixJournalDevice&) = delete;

    bool append(const QByteArray& bytes) override;
    bool sync() override;
    bool truncate(qint64 size) override;
    qint64 size() const override { return m_size; }
    QString errorString() const override { return m_error; }

private:
    PosixJournalDevice(int fd, qint64 size, QString path)
        : m_fd(fd)
        , m_size(size)
        , m_path(std::move(path))
    {
    }
    bool fail(const QString& what);

    int m_fd;
    qint64 m_size;
    QString m_path;
    QString m_error;
};

using JournalDeviceFactory = std::function<std::unique_ptr<JournalDevice>(const QString& path, QString* error)>;

} // namespace oll
