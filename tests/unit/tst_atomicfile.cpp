// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/AtomicFile.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using oll::AtomicFile;

namespace {

QStringList entries(const QString& dirPath)
{
    return QDir(dirPath).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

} // namespace

class TestAtomicFile final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// write creates a file with exactly the given bytes and leaves no temporary file.
    void writeCreates()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("auth.json"));
        const QByteArray content = QByteArray("{\"a\":1}\n") + QByteArray(1, '\0') + QByteArray(100000, 'x');
        QString err;
        QVERIFY2(AtomicFile::write(path, content, &err), qPrintable(err));
        QByteArray back;
        QVERIFY2(AtomicFile::read(path, &back, &err), qPrintable(err));
        QCOMPARE(back, content);
        QCOMPARE(entries(dir.path()), QStringList{QStringLiteral("auth.json")});
    }

    /// write replaces existing content entirely (longer by shorter too) and leaves no temporary file.
    void writeReplaces()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("sessions.json"));
        QString err;
        QVERIFY2(AtomicFile::write(path, QByteArray(5000, 'L'), &err), qPrintable(err));
        QVERIFY2(AtomicFile::write(path, "short", &err), qPrintable(err));
        QByteArray back;
        QVERIFY(AtomicFile::read(path, &back, &err));
        QCOMPARE(back, QByteArray("short"));
        QVERIFY2(AtomicFile::write(path, QByteArray(), &err), qPrintable(err));
        QVERIFY(AtomicFile::read(path, &back, &err));
        QCOMPARE(back, QByteArray());
        QCOMPARE(entries(dir.path()), QStringList{QStringLiteral("sessions.json")});
    }

    /// A stale temporary file left by an earlier crash is overwritten, not appended to, and removed.
    void staleTempFileIgnored()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("auth.json"));
        {
            QFile stale(path + QStringLiteral(".tmp"));
            QVERIFY(stale.open(QIODevice::WriteOnly));
            stale.write(QByteArray(1000, 'S'));
        }
        QString err;
        QVERIFY2(AtomicFile::write(path, "new", &err), qPrintable(err));
        QByteArray back;
        QVERIFY(AtomicFile::read(path, &back, &err));
        QCOMPARE(back, QByteArray("new"));
        QCOMPARE(entries(dir.path()), QStringList{QStringLiteral("auth.json")});
    }

    /// The written file is private to the server's user.
    void writePermissions()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("auth.json"));
        QVERIFY(AtomicFile::write(path, "secret"));
        const QFile::Permissions perms = QFile(path).permissions();
        QVERIFY(perms & QFile::ReadOwner);
        QCOMPARE(perms & (QFile::ReadGroup | QFile::WriteGroup | QFile::ReadOther | QFile::WriteOther),
                 QFile::Permissions());
    }

    /// write into a missing directory fails with a message naming the path, and creates nothing.
    void writeMissingDirectoryFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("missing/auth.json"));
        QString err;
        QVERIFY(!AtomicFile::write(path, "x", &err));
        QVERIFY(!err.isEmpty());
        QVERIFY2(err.contains(QStringLiteral("missing/auth.json")), qPrintable(err));
        QVERIFY(entries(dir.path()).isEmpty());
        // Without an error pointer it still fails cleanly.
        QVERIFY(!AtomicFile::write(path, "x"));
    }

    /// read of a missing file fails with a message naming the path.
    void readMissingFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("nope.json"));
        QByteArray out("untouched");
        QString err;
        QVERIFY(!AtomicFile::read(path, &out, &err));
        QVERIFY2(err.contains(path), qPrintable(err));
    }

    /// syncDirectory succeeds on a directory and fails with a message on a missing one.
    void syncDirectory()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QString err;
        QVERIFY2(AtomicFile::syncDirectory(dir.path(), &err), qPrintable(err));
        QVERIFY(!AtomicFile::syncDirectory(dir.filePath(QStringLiteral("gone")), &err));
        QVERIFY(!err.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomicfile.moc"
