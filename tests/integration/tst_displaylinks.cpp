// SPDX-License-Identifier: AGPL-3.0-or-later
// Display links (docs/protocol.md §22) over real sockets on 127.0.0.1: the director mints a
// read-only token for a board, the board joins with JOIN_DISPLAY, follows the meet and cannot
// change it; revoking the link closes its sockets at once and the token and its sessions stop
// working, also across a restart; the token itself is never written anywhere.
#include "ServerHarness.h"
#include "TestClient.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace oll;
using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
const QString kUnknownLink = QStringLiteral("unknown or revoked display link; ask the meet director for a new one");
constexpr int kWaitMs = 30'000;

struct MintResult
{
    bool called = false;
    DisplayLinkInfo link;
    QString token;
    QString error = QStringLiteral("<no answer within the timeout>"); // a call never answered is no success
};

/// Mints through the LiveServer API and waits for `done` (after the hash is on disk).
MintResult mint(LiveServer& server, const QString& meetId, const QString& label)
{
    auto out = std::make_shared<MintResult>();
    server.mintDisplayLink(meetId, label, [out](const DisplayLinkInfo& link, const QString& token, const QString& e) {
        out->called = true;
        out->link = link;
        out->token = token;
        out->error = e;
    });
    (void)QTest::qWaitFor([out] { return out->called; }, kWaitMs);
    return *out;
}

struct RevokeResult
{
    bool called = false;
    int closed = -1;
    QString error = QStringLiteral("<no answer within the timeout>"); // a call never answered is no success
    QString warning;
};

RevokeResult revoke(LiveServer& server, const QString& meetId, const QString& linkId)
{
    auto out = std::make_shared<RevokeResult>();
    server.revokeDisplayLink(meetId, linkId, [out](int closed, const QString& e, const QString& w) {
        out->called = true;
        out->closed = closed;
        out->error = e;
        out->warning = w;
    });
    (void)QTest::qWaitFor([out] { return out->called; }, kWaitMs);
    return *out;
}

std::unique_ptr<TestClient> connected(const QUrl& url)
{
    auto c = std::make_unique<TestClient>(url);
    if (!c->open(kWaitMs)) {
        return nullptr;
    }
    return c;
}

/// Sends JOIN_DISPLAY and returns the answer: MEET_JOINED, JOIN_REJECTED or MALFORMED_MESSAGE.
QJsonObject joinDisplay(TestClient& c, const QString& token, const QString& clientId)
{
    const qsizetype before = c.received().size();
    c.send({{QStringLiteral("msgType"), QStringLiteral("JOIN_DISPLAY")},
            {QStringLiteral("displayToken"), token},
            {QStringLiteral("clientId"), clientId}});
    const QStringList answers{QStringLiteral("MEET_JOINED"), QStringLiteral("JOIN_REJECTED"),
                              QStringLiteral("MALFORMED_MESSAGE")};
    QJsonObject answer;
    (void)QTest::qWaitFor(
        [&] {
            for (qsizetype i = before; i < c.received().size(); ++i) {
                if (answers.contains(c.received()[i].value(QStringLiteral("msgType")).toString())) {
                    answer = c.received()[i];
                    return true;
                }
            }
            return false;
        },
        kWaitMs);
    if (answer.value(QStringLiteral("msgType")).toString() == QStringLiteral("MEET_JOINED")) {
        c.token = answer.value(QStringLiteral("sessionToken")).toString();
    }
    return answer;
}

/// A new connection that joined through the display link `token`; null if it could not connect
/// or was not let in.
std::unique_ptr<TestClient> joinedDisplay(const QUrl& url, const QString& token, const QString& clientId)
{
    auto c = connected(url);
    if (c
        && joinDisplay(*c, token, clientId).value(QStringLiteral("msgType")).toString()
            != QStringLiteral("MEET_JOINED")) {
        c.reset();
    }
    return c;
}

QString reasonOf(const QJsonObject& m)
{
    return m.value(QStringLiteral("reason")).toString();
}

/// Every file under `dir` whose content contains `needle`.
QStringList filesContaining(const QString& dir, const QByteArray& needle)
{
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly) && f.readAll().contains(needle)) {
            out.append(QDir(dir).relativeFilePath(path));
        }
    }
    return out;
}

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class TestDisplayLinks final : public QObject
{
    Q_OBJECT

    std::unique_ptr<InProcessServer> m_server;
    std::unique_ptr<TestClient> m_desk;
    QString m_meetId;

    void startServer(const QString& dataDir = QString())
    {
        m_server = dataDir.isEmpty() ? std::make_unique<InProcessServer>()
                                     : std::make_unique<InProcessServer>(dataDir, ServerServices{}, Limits{});
        QVERIFY2(m_server->start(), qPrintable(m_server->startError()));
    }

    /// A server with a meet created by the desk, which has sent two updates.
    void setUpMeet()
    {
        startServer();
        m_desk = connected(m_server->url());
        QVERIFY(m_desk);
        const QJsonObject created = m_desk->createMeet(QStringLiteral("Desk"), kPassword,
                                                       {{QStringLiteral("Desk"), 10}, {QStringLiteral("Board"), 0}},
                                                       QStringLiteral("desk-1"));
        QCOMPARE(created.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_CREATED"));
        m_meetId = m_desk->meetId;
        m_desk->sendUpdates(m_desk->token,
                            {{QStringLiteral("meet.name"), QJsonValue(QStringLiteral("Spring Open")), 1, 0},
                             {QStringLiteral("meet.city"), QJsonValue(QStringLiteral("Turku")), 2, 0}});
        QCOMPARE(m_desk->expect(QStringLiteral("UPDATE_ACK"), kWaitMs).value(QStringLiteral("headServerSeq")).toInt(),
                 2);
    }

private Q_SLOTS:
    void cleanup()
    {
        m_desk.reset();
        m_server.reset();
    }

    /// A minted link lets a board join read-only, pull, and follow the desk's updates live.
    void boardFollowsButCannotUpdate()
    {
        setUpMeet();
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Warm-up room board"));
        QVERIFY(minted.called);
        QVERIFY2(minted.error.isEmpty(), qPrintable(minted.error));
        QVERIFY(DisplayLinkStore::isValidLinkId(minted.link.linkId));
        QCOMPARE(minted.link.meetId, m_meetId);
        QCOMPARE(minted.link.label, QStringLiteral("Warm-up room board"));
        QVERIFY(minted.link.createdMs > 0);
        QVERIFY(SessionStore::isWellFormedToken(minted.token));
        QCOMPARE(LiveServer::displayLinkPath(minted.token), QStringLiteral("/demo/#display=") + minted.token);

        auto board = connected(m_server->url());
        QVERIFY(board);
        const QJsonObject joined = joinDisplay(*board, minted.token, QStringLiteral("board-1"));
        QCOMPARE(joined.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_JOINED"));
        QCOMPARE(joined.value(QStringLiteral("role")).toString(), QStringLiteral("display"));
        QCOMPARE(joined.value(QStringLiteral("meetId")).toString(), m_meetId);
        QCOMPARE(joined.value(QStringLiteral("locationName")).toString(), QStringLiteral("Warm-up room board"));
        QCOMPARE(joined.value(QStringLiteral("headServerSeq")).toInt(), 2);
        QVERIFY(SessionStore::isWellFormedToken(board->token));
        QVERIFY(board->token != minted.token);
        QVERIFY(!joined.contains(QStringLiteral("password")));

        board->pull(board->token, 0);
        const QJsonObject pulled = board->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs);
        QCOMPARE(pulled.value(QStringLiteral("updatesRelayed")).toArray().size(), 2);

        m_desk->sendUpdates(m_desk->token, {{QStringLiteral("meet.name"), QJsonValue(QStringLiteral("Autumn")), 3, 1}});
        const QJsonObject relay = board->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs);
        const QJsonObject entry = relay.value(QStringLiteral("updatesRelayed")).toArray().first().toObject();
        QCOMPARE(entry.value(QStringLiteral("serverSeqNum")).toInt(), 3);
        QCOMPARE(entry.value(QStringLiteral("updateValue")).toString(), QStringLiteral("Autumn"));

        board->sendUpdates(board->token, {{QStringLiteral("meet.name"), QJsonValue(QStringLiteral("Hacked")), 1, 3}});
        const QJsonObject refused = board->expect(QStringLiteral("UPDATE_REJECTED"), kWaitMs);
        const QJsonObject item = refused.value(QStringLiteral("updatesRejected")).toArray().first().toObject();
        QCOMPARE(item.value(QStringLiteral("code")).toString(), QStringLiteral("READ_ONLY_SESSION"));

        board->send({{QStringLiteral("msgType"), QStringLiteral("RECOVERY_PUSH")},
                     {QStringLiteral("sessionToken"), board->token},
                     {QStringLiteral("epoch"), joined.value(QStringLiteral("epoch")).toString()},
                     {QStringLiteral("entries"), QJsonArray()}});
        board->expect(QStringLiteral("RECOVERY_REJECTED"), kWaitMs);

        const QList<DisplayLinkInfo> links = m_server->server().displayLinks();
        QCOMPARE(links.size(), 1);
        QCOMPARE(links.first().linkId, minted.link.linkId);
        QCOMPARE(links.first().connections, 1);

        const QByteArray diag = readFile(m_server->dataDir() + QStringLiteral("/diag.log"));
        QVERIFY(diag.contains(
            QStringLiteral("display link %1 'Warm-up room board' minted").arg(minted.link.linkId).toUtf8()));
        QVERIFY(diag.contains(QStringLiteral("through display link %1").arg(minted.link.linkId).toUtf8()));
    }

    /// Revoking closes every socket using the link at once (4001) and leaves others alone; the
    /// token and the sessions issued through it stop working.
    void revokeClosesSocketsAndRefusesToken()
    {
        setUpMeet();
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Main board"));
        const MintResult other = mint(m_server->server(), m_meetId, QStringLiteral("Overlay"));
        QVERIFY(minted.error.isEmpty() && other.error.isEmpty());
        auto board = connected(m_server->url());
        auto board2 = connected(m_server->url());
        auto overlay = connected(m_server->url());
        QVERIFY(board && board2 && overlay);
        QCOMPARE(joinDisplay(*board, minted.token, QStringLiteral("board-1")).value(QStringLiteral("msgType")),
                 QStringLiteral("MEET_JOINED"));
        // The second socket binds with the first one's session token, as a reconnecting page does.
        board2->pull(board->token, 0);
        board2->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs);
        QCOMPARE(joinDisplay(*overlay, other.token, QStringLiteral("overlay-1")).value(QStringLiteral("msgType")),
                 QStringLiteral("MEET_JOINED"));
        const QString oldSession = board->token;

        const RevokeResult revoked = revoke(m_server->server(), m_meetId, minted.link.linkId);
        QVERIFY(revoked.called);
        QVERIFY2(revoked.error.isEmpty(), qPrintable(revoked.error));
        QCOMPARE(revoked.closed, 2);
        QTRY_VERIFY_WITH_TIMEOUT(!board->isConnected() && !board2->isConnected(), kWaitMs);
        QCOMPARE(static_cast<int>(board->socket().closeCode()), LiveServer::kDisplayLinkRevokedCloseCode);
        QCOMPARE(board->socket().closeReason(), QStringLiteral("display link revoked"));
        QCOMPARE(static_cast<int>(board2->socket().closeCode()), 4001);
        QVERIFY(overlay->isConnected());
        QVERIFY(m_desk->isConnected());

        // The other link's board still follows the meet.
        m_desk->sendUpdates(m_desk->token, {{QStringLiteral("meet.name"), QJsonValue(QStringLiteral("Later")), 3, 2}});
        overlay->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs);

        auto again = connected(m_server->url());
        QVERIFY(again);
        const QJsonObject refused = joinDisplay(*again, minted.token, QStringLiteral("board-1"));
        QCOMPARE(refused.value(QStringLiteral("msgType")).toString(), QStringLiteral("JOIN_REJECTED"));
        QCOMPARE(reasonOf(refused), kUnknownLink);
        again->pull(oldSession, 0);
        const QJsonObject invalid = again->expect(QStringLiteral("INVALID_SESSION"), kWaitMs);
        QCOMPARE(reasonOf(invalid), QStringLiteral("unknown session; join the meet again"));

        const QList<DisplayLinkInfo> links = m_server->server().displayLinks();
        QCOMPARE(links.size(), 1);
        QCOMPARE(links.first().linkId, other.link.linkId);
        QCOMPARE(links.first().connections, 1);

        const RevokeResult twice = revoke(m_server->server(), m_meetId, minted.link.linkId);
        QVERIFY(twice.called);
        QVERIFY(twice.error.contains(QStringLiteral("has no display link")));

        const QByteArray diag = readFile(m_server->dataDir() + QStringLiteral("/diag.log"));
        QVERIFY(diag.contains(QStringLiteral("display link %1 'Main board' revoked (2 socket(s) closed)")
                                  .arg(minted.link.linkId)
                                  .toUtf8()));
    }

    /// A revocation whose display-links.json cannot be written is still in force and is reported
    /// as done (with the sockets closed) plus a warning that it is not saved yet; the server
    /// writes the file again until it succeeds, so the link stays revoked after a restart.
    void revokeThatCannotBeSavedIsInForceReportedAndRetried()
    {
        setUpMeet();
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Main board"));
        QVERIFY(minted.error.isEmpty());
        auto board = joinedDisplay(m_server->url(), minted.token, QStringLiteral("board-1"));
        QVERIFY(board);

        // A directory where the file goes: the atomic rename over it fails (for root as well).
        const QString linksFile = m_server->dataDir() + QStringLiteral("/current-meets/") + m_meetId
            + QStringLiteral("/display-links.json");
        QVERIFY(QFile::remove(linksFile));
        QVERIFY(QDir().mkpath(linksFile + QStringLiteral("/blocker")));

        const RevokeResult revoked = revoke(m_server->server(), m_meetId, minted.link.linkId);
        QVERIFY(revoked.called);
        QVERIFY2(revoked.error.isEmpty(), qPrintable(revoked.error)); // revoked, not "failed"
        QCOMPARE(revoked.closed, 1);
        QVERIFY2(revoked.warning.contains(QStringLiteral("saving that failed"))
                     && revoked.warning.contains(QStringLiteral("after a restart")),
                 qPrintable(revoked.warning));
        QTRY_VERIFY_WITH_TIMEOUT(!board->isConnected(), kWaitMs);
        QCOMPARE(static_cast<int>(board->socket().closeCode()), LiveServer::kDisplayLinkRevokedCloseCode);
        auto again = connected(m_server->url());
        QVERIFY(again);
        QCOMPARE(reasonOf(joinDisplay(*again, minted.token, QStringLiteral("board-1"))), kUnknownLink);
        QCOMPARE(m_server->server().unsavedDisplayLinkMeets(), QSet<QString>{m_meetId});

        // The folder is fixed: a retry saves the revocation.
        QVERIFY(QDir(linksFile).removeRecursively());
        QTRY_VERIFY_WITH_TIMEOUT(m_server->server().unsavedDisplayLinkMeets().isEmpty(), kWaitMs);
        QVERIFY(QFileInfo(linksFile).isFile());
        QVERIFY(!readFile(linksFile).contains(minted.link.linkId.toUtf8()));
        const QByteArray diag = readFile(m_server->dataDir() + QStringLiteral("/diag.log"));
        QVERIFY(diag.contains("display-links.json written; its revocations are saved"));
        QCOMPARE(diag.count("cannot write display-links.json"), 1); // once per failing streak

        // And it stays revoked across a restart.
        // (The temporary directory belongs to the first server: the data moves out of it.)
        const QString dir = m_server->dataDir();
        auto tmp = std::make_unique<QTemporaryDir>();
        const QString copy = tmp->path() + QStringLiteral("/data");
        board.reset();
        again.reset();
        m_desk.reset();
        m_server->stop();
        QVERIFY(QDir().rename(dir, copy));
        m_server.reset();
        startServer(copy);
        auto afterRestart = connected(m_server->url());
        QVERIFY(afterRestart);
        QCOMPARE(reasonOf(joinDisplay(*afterRestart, minted.token, QStringLiteral("board-1"))), kUnknownLink);
        afterRestart.reset();
        m_server.reset(); // before the folder it runs on goes
    }

    /// Links and their sessions survive a restart; a revoked link stays revoked, and so do its
    /// sessions, even when only display-links.json reached the disk before a crash.
    void linksSurviveRestart()
    {
        setUpMeet();
        const MintResult kept = mint(m_server->server(), m_meetId, QStringLiteral("Kept"));
        const MintResult dropped = mint(m_server->server(), m_meetId, QStringLiteral("Dropped"));
        auto board = joinedDisplay(m_server->url(), kept.token, QStringLiteral("board-1"));
        QVERIFY(board);
        const QString keptSession = board->token;
        auto board2 = joinedDisplay(m_server->url(), dropped.token, QStringLiteral("board-2"));
        QVERIFY(board2);
        const QString droppedSession = board2->token;
        QCOMPARE(revoke(m_server->server(), m_meetId, dropped.link.linkId).closed, 1);
        const QString dir = m_server->dataDir();
        const QByteArray sessionsJson
            = readFile(dir + QStringLiteral("/current-meets/") + m_meetId + QStringLiteral("/sessions.json"));
        QVERIFY(sessionsJson.contains(QStringLiteral("\"displayLinkId\": \"%1\"").arg(kept.link.linkId).toUtf8()));
        QVERIFY(!sessionsJson.contains(dropped.link.linkId.toUtf8()));

        // Restart on the same data directory (the temporary directory belongs to the first server).
        auto tmp = std::make_unique<QTemporaryDir>();
        const QString copy = tmp->path() + QStringLiteral("/data");
        board.reset();
        board2.reset();
        m_desk.reset();
        m_server->stop();
        QVERIFY(QDir().rename(dir, copy));
        m_server.reset();
        startServer(copy);

        const QList<DisplayLinkInfo> links = m_server->server().displayLinks();
        QCOMPARE(links.size(), 1);
        QCOMPARE(links.first().linkId, kept.link.linkId);
        QCOMPARE(links.first().label, QStringLiteral("Kept"));
        QCOMPARE(links.first().createdMs, kept.link.createdMs);

        auto c = connected(m_server->url());
        QVERIFY(c);
        c->pull(keptSession, 0);
        QCOMPARE(
            c->expect(QStringLiteral("UPDATE_RELAY"), kWaitMs).value(QStringLiteral("updatesRelayed")).toArray().size(),
            2);
        QCOMPARE(joinDisplay(*c, kept.token, QStringLiteral("board-1")).value(QStringLiteral("msgType")),
                 QStringLiteral("MEET_JOINED"));
        QCOMPARE(reasonOf(joinDisplay(*c, dropped.token, QStringLiteral("board-2"))), kUnknownLink);
        c->pull(droppedSession, 0);
        c->expect(QStringLiteral("INVALID_SESSION"), kWaitMs);

        // A crash right after display-links.json lost the link but before sessions.json followed:
        // the link's sessions must not outlive it.
        c.reset();
        m_server->stop();
        m_server.reset();
        const QString meetDir = copy + QStringLiteral("/current-meets/") + m_meetId;
        {
            QFile f(meetDir + QStringLiteral("/display-links.json"));
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write("{\"displayLinks\": []}\n");
        }
        startServer(copy);
        QVERIFY(m_server->server().displayLinks().isEmpty());
        auto d = connected(m_server->url());
        QVERIFY(d);
        d->pull(keptSession, 0);
        d->expect(QStringLiteral("INVALID_SESSION"), kWaitMs);
        QCOMPARE(reasonOf(joinDisplay(*d, kept.token, QStringLiteral("board-1"))), kUnknownLink);
        QVERIFY(readFile(copy + QStringLiteral("/diag.log")).contains("dropped 2 session(s) of revoked display links"));
        d.reset();
        m_server->stop();
        m_server.reset();
    }

    /// A meet that never had a link has no display-links.json, and loads with no links.
    void noFileMeansNoLinks()
    {
        setUpMeet();
        const QString meetDir = m_server->dataDir() + QStringLiteral("/current-meets/") + m_meetId;
        QVERIFY(!QFileInfo::exists(meetDir + QStringLiteral("/display-links.json")));
        QVERIFY(m_server->server().displayLinks().isEmpty());
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Board"));
        QVERIFY(minted.error.isEmpty());
        QVERIFY(QFileInfo::exists(meetDir + QStringLiteral("/display-links.json")));
    }

    /// The token is in no file under the data directory; its hash only in display-links.json.
    void tokenNeverStored()
    {
        setUpMeet();
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Board"));
        const MintResult second = mint(m_server->server(), m_meetId, QStringLiteral("Overlay"));
        auto board = joinedDisplay(m_server->url(), minted.token, QStringLiteral("board-1"));
        QVERIFY(board);
        const QString session = board->token;
        auto guesser = connected(m_server->url());
        QCOMPARE(reasonOf(joinDisplay(*guesser, QString(43, u'A'), QStringLiteral("g-1"))), kUnknownLink);
        QCOMPARE(revoke(m_server->server(), m_meetId, second.link.linkId).closed, 0);
        board.reset();
        guesser.reset();
        m_desk.reset();
        const QString dir = m_server->dataDir();
        m_server->stop(); // every queued write done, diag.log closed

        for (const QString& token : {minted.token, second.token, session}) {
            QVERIFY2(filesContaining(dir, token.toUtf8()).isEmpty(),
                     qPrintable(filesContaining(dir, token.toUtf8()).join(u' ')));
        }
        const QByteArray hash = SessionStore::hashToken(minted.token).toBase64();
        QCOMPARE(filesContaining(dir, hash),
                 QStringList{QStringLiteral("current-meets/") + m_meetId + QStringLiteral("/display-links.json")});
        QVERIFY(filesContaining(dir, SessionStore::hashToken(second.token).toBase64()).isEmpty());
        QVERIFY(filesContaining(dir, SessionStore::hashToken(minted.token).toHex()).isEmpty());
        const QByteArray diag = readFile(dir + QStringLiteral("/diag.log"));
        QVERIFY(diag.contains(minted.link.linkId.toUtf8()));
        QVERIFY(!diag.contains(hash));
    }

    void badMintAndRevokeInputs_data()
    {
        QTest::addColumn<QString>("label");
        QTest::addColumn<QString>("error");
        QTest::newRow("empty") << QString() << QStringLiteral("needs a label");
        QTest::newRow("spaces") << QStringLiteral("   ") << QStringLiteral("needs a label");
        QTest::newRow("65 characters") << QString(65, u'x') << QStringLiteral("65 characters long; at most 64");
        QTest::newRow("edge spaces") << QStringLiteral(" Board") << QStringLiteral("start or end with spaces");
        QTest::newRow("control") << QStringLiteral("Bo\nard") << QStringLiteral("control characters");
    }

    void badMintAndRevokeInputs()
    {
        QFETCH(QString, label);
        QFETCH(QString, error);
        setUpMeet();
        const MintResult r = mint(m_server->server(), m_meetId, label);
        QVERIFY(r.called);
        QVERIFY2(r.error.contains(error), qPrintable(r.error));
        QVERIFY(r.token.isEmpty());
        QVERIFY(m_server->server().displayLinks().isEmpty());
        // 64 characters are fine.
        QVERIFY(mint(m_server->server(), m_meetId, QString(64, u'y')).error.isEmpty());
    }

    void unknownAndFinishedMeets()
    {
        auto tmp = std::make_unique<QTemporaryDir>();
        QVERIFY(QDir().mkpath(tmp->path() + QStringLiteral("/finished-meets/123456789")));
        m_server = std::make_unique<InProcessServer>(tmp->path(), ServerServices{}, Limits{});
        QVERIFY(m_server->start());
        MintResult r = mint(m_server->server(), QStringLiteral("987654321"), QStringLiteral("Board"));
        QCOMPARE(r.error, QStringLiteral("there is no meet 987654321 on this server"));
        r = mint(m_server->server(), QStringLiteral("123 456 789"), QStringLiteral("Board"));
        QCOMPARE(r.error, QStringLiteral("meet 123 456 789 is finished; it has no display links"));
        const RevokeResult v = revoke(m_server->server(), QStringLiteral("987654321"), QStringLiteral("dl-00000000"));
        QCOMPARE(v.error, QStringLiteral("there is no meet 987654321 on this server"));
        QCOMPARE(v.closed, 0);
        m_server->stop();
        m_server.reset();

        // Before start: refused, not a crash.
        LiveServer idle(testOptions(tmp->path()));
        bool called = false;
        idle.mintDisplayLink(QStringLiteral("123456789"), QStringLiteral("Board"),
                             [&called](const DisplayLinkInfo&, const QString& token, const QString& e) {
                                 called = true;
                                 QVERIFY(token.isEmpty());
                                 QCOMPARE(e, QStringLiteral("the server is not running"));
                             });
        QVERIFY(called);
        QVERIFY(idle.displayLinks().isEmpty());
    }

    /// At most 64 links per meet; revoking one makes room again.
    void linkLimitPerMeet()
    {
        setUpMeet();
        QString first;
        for (int i = 1; i <= Limits{}.maxDisplayLinksPerMeet; ++i) {
            const MintResult r = mint(m_server->server(), m_meetId, QStringLiteral("Board %1").arg(i));
            QVERIFY2(r.error.isEmpty(), qPrintable(r.error));
            if (i == 1) {
                first = r.link.linkId;
            }
        }
        QCOMPARE(m_server->server().displayLinks().size(), 64);
        const MintResult over = mint(m_server->server(), m_meetId, QStringLiteral("Board 65"));
        QCOMPARE(over.error,
                 QStringLiteral("meet %1 already has 64 display links; revoke one first").arg(displayMeetId(m_meetId)));
        QVERIFY(over.token.isEmpty());
        QVERIFY(revoke(m_server->server(), m_meetId, first).error.isEmpty());
        QVERIFY(mint(m_server->server(), m_meetId, QStringLiteral("Board 65")).error.isEmpty());
        QCOMPARE(m_server->server().displayLinks().size(), 64);
    }

    /// Malformed and guessed tokens are refused with specific reasons; guesses are throttled.
    void badJoinDisplayInputs()
    {
        setUpMeet();
        auto c = connected(m_server->url());
        QVERIFY(c);
        const QString malformed = QStringLiteral(
            "a display link token is 43 base64url characters; open the whole link the meet director copied");
        QCOMPARE(reasonOf(joinDisplay(*c, QStringLiteral("abc"), QStringLiteral("b-1"))), malformed);
        QCOMPARE(reasonOf(joinDisplay(*c, QString(42, u'A') + u'+', QStringLiteral("b-1"))), malformed);
        QCOMPARE(reasonOf(joinDisplay(*c, QString(44, u'A'), QStringLiteral("b-1"))), malformed);
        QCOMPARE(reasonOf(joinDisplay(*c, QString(43, u'A'), QStringLiteral("bad id!"))),
                 QStringLiteral("clientId must be 1 to 64 characters of A-Z a-z 0-9 - _"));

        c->send({{QStringLiteral("msgType"), QStringLiteral("JOIN_DISPLAY")}, {QStringLiteral("clientId"), 7}});
        QCOMPARE(c->expect(QStringLiteral("MALFORMED_MESSAGE"), kWaitMs).value(QStringLiteral("errMsg")).toString(),
                 QStringLiteral("missing field 'displayToken'"));
        c->send({{QStringLiteral("msgType"), QStringLiteral("JOIN_DISPLAY")},
                 {QStringLiteral("displayToken"), QString(43, u'A')}});
        QCOMPARE(c->expect(QStringLiteral("MALFORMED_MESSAGE"), kWaitMs).value(QStringLiteral("errMsg")).toString(),
                 QStringLiteral("missing field 'clientId'"));

        // Five unknown tokens: the fifth starts the back-off, which refuses even a valid link.
        const MintResult minted = mint(m_server->server(), m_meetId, QStringLiteral("Board"));
        for (int i = 0; i < 5; ++i) {
            QCOMPARE(reasonOf(joinDisplay(*c, QString(42, u'B') + QChar(u'a' + i), QStringLiteral("b-1"))),
                     kUnknownLink);
        }
        const QJsonObject blocked = joinDisplay(*c, minted.token, QStringLiteral("b-1"));
        QVERIFY2(reasonOf(blocked).startsWith(QStringLiteral("too many failed attempts from your address")),
                 qPrintable(reasonOf(blocked)));
        QVERIFY(blocked.value(QStringLiteral("retryAfterMs")).toInteger() > 0);
        QTRY_VERIFY_WITH_TIMEOUT(
            joinDisplay(*c, minted.token, QStringLiteral("b-1")).value(QStringLiteral("msgType")).toString()
                == QStringLiteral("MEET_JOINED"),
            kWaitMs);
    }
};

QTEST_GUILESS_MAIN(TestDisplayLinks)
#include "tst_displaylinks.moc"
