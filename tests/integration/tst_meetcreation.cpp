// SPDX-License-Identifier: AGPL-3.0-or-later
// Meet creation on disk: a meet is built in current-meets/.creating-<id> and renamed into place,
// so neither an interrupted nor a failed creation ever leaves a half-made (damaged) meet behind.
#include "ServerHarness.h"
#include "TestClient.h"
#include "sync/MeetRegistry.h"

#include <QDir>
#include <QFile>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <memory>
#include <sys/resource.h>
#include <sys/stat.h>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
const QString kDesk = QStringLiteral("Desk");
const QString kBoard = QStringLiteral("Board");

QList<QPair<QString, int>> endpoints()
{
    return {{kDesk, 10}, {QStringLiteral("Platform 1"), 5}, {kBoard, 0}};
}

QString msgType(const QJsonObject& o)
{
    return o.value(QStringLiteral("msgType")).toString();
}

QString currentMeets(const QString& dataDir)
{
    return dataDir + QStringLiteral("/current-meets");
}

/// Every entry of a directory, hidden ones included, sorted by name.
QStringList entries(const QString& dir)
{
    return QDir(dir).entryList(QDir::AllEntries | QDir::Hidden | QDir::System | QDir::NoDotAndDotDot, QDir::Name);
}

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

bool writeFile(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
}

/// A meet can be created and then joined by a second client.
void createAndJoin(InProcessServer& server, QString* meetId)
{
    TestClient desk(server.url());
    QVERIFY(desk.open());
    QCOMPARE(msgType(desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"))),
             QStringLiteral("MEET_CREATED"));
    TestClient board(server.url());
    QVERIFY(board.open());
    QCOMPARE(
        msgType(board.joinMeet(desk.meetId, kPassword, kBoard, QStringLiteral("board-1"), QStringLiteral("display"))),
        QStringLiteral("MEET_JOINED"));
    *meetId = desk.meetId;
}

void verifyHealthy(InProcessServer& server, int meets)
{
    const QJsonObject health = server.server().health();
    QCOMPARE(health.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
    QCOMPARE(health.value(QStringLiteral("damagedMeets")).toInt(), 0);
    QCOMPARE(health.value(QStringLiteral("meets")).toInt(), meets);
}

/// Caps the size of any file this process writes (RLIMIT_FSIZE applies to root too, unlike
/// permission bits), with SIGXFSZ ignored so a write past the cap fails with EFBIG instead.
class FileSizeCap
{
public:
    explicit FileSizeCap(rlim_t bytes)
    {
        if (::getrlimit(RLIMIT_FSIZE, &m_old) != 0) {
            return;
        }
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit cap = m_old;
        cap.rlim_cur = bytes;
        m_active = ::setrlimit(RLIMIT_FSIZE, &cap) == 0;
        if (!m_active) {
            std::signal(SIGXFSZ, m_oldHandler);
        }
    }
    ~FileSizeCap()
    {
        if (m_active) {
            ::setrlimit(RLIMIT_FSIZE, &m_old);
            std::signal(SIGXFSZ, m_oldHandler);
        }
    }
    FileSizeCap(const FileSizeCap&) = delete;
    FileSizeCap& operator=(const FileSizeCap&) = delete;
    bool ok() const { return m_active; }

private:
    rlimit m_old{};
    void (*m_oldHandler)(int) = SIG_DFL;
    bool m_active = false;
};

} // namespace

class TestMeetCreation final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// A successful creation leaves exactly the meet's files and no staging directory.
    void normalCreationLeavesOnlyTheMeet()
    {
        InProcessServer server;
        QVERIFY2(server.start(), qPrintable(server.startError()));
        QString meetId;
        createAndJoin(server, &meetId);
        if (QTest::currentTestFailed()) {
            return;
        }
        const QString cur = currentMeets(server.dataDir());
        QCOMPARE(entries(cur), QStringList{meetId});
        QCOMPARE(entries(cur + u'/' + meetId),
                 (QStringList{QStringLiteral("auth.json"), QStringLiteral("conflicts.json.log"),
                              QStringLiteral("epochs.json"), QStringLiteral("sessions.json"),
                              QStringLiteral("updates.json.log")}));
        QCOMPARE(readFile(cur + u'/' + meetId + QStringLiteral("/updates.json.log")), QByteArray());
        struct stat st
        {
        };
        QCOMPARE(::stat(QFile::encodeName(cur + u'/' + meetId).constData(), &st), 0);
        QCOMPARE(st.st_mode & 0777, 0700u);
        verifyHealthy(server, 1);
    }

    /// Staging directories left by a crash are removed on start and logged; they are not meets,
    /// and the meets next to them load as before.
    void interruptedCreationIsCleanedUp()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QString cur = currentMeets(data.path());
        QString existing;
        {
            InProcessServer first(data.path(), {}, {});
            QVERIFY2(first.start(), qPrintable(first.startError()));
            createAndJoin(first, &existing);
            if (QTest::currentTestFailed()) {
                return;
            }
        }
        const QString partial = cur + QStringLiteral("/.creating-123456789");
        const QString empty = cur + QStringLiteral("/.creating-987654321");
        QVERIFY(QDir().mkpath(partial));
        QVERIFY(QDir().mkpath(empty));
        QVERIFY(writeFile(partial + QStringLiteral("/auth.json"), QByteArray("{\"meetId\":\"123456789\",\"endpoi")));
        QVERIFY(writeFile(partial + QStringLiteral("/updates.json.log.tmp"), QByteArray()));

        InProcessServer server(data.path(), {}, {});
        QVERIFY2(server.start(), qPrintable(server.startError()));
        verifyHealthy(server, 1);
        QVERIFY(server.server().registry().damagedMeets().isEmpty());
        QCOMPARE(entries(cur), QStringList{existing});

        const QByteArray diag = readFile(data.path() + QStringLiteral("/diag.log"));
        for (const char* name : {".creating-123456789", ".creating-987654321"}) {
            QVERIFY2(diag.contains(
                         QByteArray(QByteArray("cleaned up an interrupted meet creation: removed '") + name + "'")),
                     diag.right(2000).constData());
        }
        QVERIFY2(!diag.contains("not loaded") && !diag.contains("not a meet ID"), diag.right(2000).constData());

        TestClient board(server.url());
        QVERIFY(board.open());
        QCOMPARE(
            msgType(board.joinMeet(existing, kPassword, kBoard, QStringLiteral("board-2"), QStringLiteral("display"))),
            QStringLiteral("MEET_JOINED"));
        QString meetId;
        createAndJoin(server, &meetId);
        if (QTest::currentTestFailed()) {
            return;
        }
        QStringList both{existing, meetId};
        both.sort();
        QCOMPARE(entries(cur), both);
        verifyHealthy(server, 2);
    }

    /// The journal cannot be opened after the rename: the client is refused, the renamed
    /// directory is taken back, and a restart finds nothing damaged.
    void failedJournalOpenLeavesNothing()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QString cur = currentMeets(data.path());
        auto calls = std::make_shared<std::atomic<int>>(0);
        ServerServices services;
        services.journalFactory = [calls](const QString& path, QString* error) -> std::unique_ptr<JournalDevice> {
            if (calls->fetch_add(1) == 0) {
                *error = QStringLiteral("injected: cannot open %1").arg(path);
                return nullptr;
            }
            return PosixJournalDevice::open(path, error);
        };
        {
            InProcessServer server(data.path(), services, {});
            QVERIFY2(server.start(), qPrintable(server.startError()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            const QJsonObject rejected = desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"));
            QCOMPARE(msgType(rejected), QStringLiteral("CREATE_REJECTED"));
            const QString reason = rejected.value(QStringLiteral("reason")).toString();
            QVERIFY2(reason.contains(QStringLiteral("could not store the meet")), qPrintable(reason));
            QCOMPARE(calls->load(), 1);
            // The reply is sent only once the directory is gone.
            QCOMPARE(entries(cur), QStringList());
            QVERIFY(server.server().registry().meets().isEmpty());
            verifyHealthy(server, 0);
            const QByteArray diag = readFile(data.path() + QStringLiteral("/diag.log"));
            QVERIFY2(diag.contains("not created: injected"), diag.right(2000).constData());
            QVERIFY2(!diag.contains("cannot remove"), diag.right(2000).constData());

            // The next attempt works.
            QString meetId;
            createAndJoin(server, &meetId);
            if (QTest::currentTestFailed()) {
                return;
            }
            QCOMPARE(entries(cur), QStringList{meetId});
        }
        InProcessServer restarted(data.path(), {}, {});
        QVERIFY2(restarted.start(), qPrintable(restarted.startError()));
        verifyHealthy(restarted, 1);
    }

    /// A write fails while the meet is being built (as on a full disk): the client is refused,
    /// the staging directory is removed, and a restart finds nothing damaged.
    void failedWriteLeavesNothing()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QString cur = currentMeets(data.path());
        {
            InProcessServer server(data.path(), {}, {});
            QVERIFY2(server.start(), qPrintable(server.startError()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            QJsonObject reply;
            QString capError;
            {
                // auth.json is several hundred bytes. Nothing is verified while the cap is on, so
                // a failure message can never be cut short by it.
                FileSizeCap cap(64);
                if (cap.ok()) {
                    reply = desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"));
                } else {
                    capError = QString::fromLocal8Bit(std::strerror(errno));
                }
            }
            QVERIFY2(capError.isEmpty(), qPrintable(capError));
            QCOMPARE(msgType(reply), QStringLiteral("CREATE_REJECTED"));
            const QString reason = reply.value(QStringLiteral("reason")).toString();
            // (The registry's diag line about it was refused by the cap as well.)
            QVERIFY2(reason.contains(QStringLiteral("could not store the meet")), qPrintable(reason));
            QCOMPARE(entries(cur), QStringList());
            verifyHealthy(server, 0);

            QString meetId;
            createAndJoin(server, &meetId);
            if (QTest::currentTestFailed()) {
                return;
            }
            QCOMPARE(entries(cur), QStringList{meetId});
        }
        InProcessServer restarted(data.path(), {}, {});
        QVERIFY2(restarted.start(), qPrintable(restarted.startError()));
        verifyHealthy(restarted, 1);
    }

    /// A meet whose journal file has gone missing is not taken as empty: it starts a new epoch and
    /// asks a client that saw updates for them (SERVER_PULL); its other files are left as they were.
    void missingJournalIsRecoveredFromClients()
    {
        QTemporaryDir data;
        QString meetId;
        QString token;
        {
            InProcessServer server(data.path(), {}, {});
            QVERIFY2(server.start(), qPrintable(server.startError()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            QCOMPARE(msgType(desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk"))),
                     QStringLiteral("MEET_CREATED"));
            meetId = desk.meetId;
            token = desk.token;
            desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("Lost"), 1, 0}});
            desk.expect(QStringLiteral("UPDATE_ACK"));
        }
        const QString dir = currentMeets(data.path()) + u'/' + meetId;
        QVERIFY(QFile::remove(dir + QStringLiteral("/updates.json.log")));
        const QByteArray auth = readFile(dir + QStringLiteral("/auth.json"));

        InProcessServer server(data.path(), {}, {});
        QVERIFY2(server.start(), qPrintable(server.startError()));
        const QJsonObject health = server.server().health();
        QCOMPARE(health.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QVERIFY(server.server().registry().damagedMeets().isEmpty());
        QCOMPARE(readFile(dir + QStringLiteral("/auth.json")), auth);
        QCOMPARE(readFile(dir + QStringLiteral("/updates.json.log")), QByteArray());
        QVERIFY(readFile(data.path() + QStringLiteral("/diag.log")).contains("updates.json.log is missing"));

        TestClient desk(server.url());
        QVERIFY(desk.open());
        desk.pull(token, 1);
        const auto serverPull = desk.next(QStringLiteral("SERVER_PULL"));
        QVERIFY(serverPull);
        QCOMPARE(serverPull->value(QStringLiteral("lastServerSeq")).toInteger(), 0);
    }
};

QTEST_GUILESS_MAIN(TestMeetCreation)
#include "tst_meetcreation.moc"
