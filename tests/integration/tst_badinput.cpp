// SPDX-License-Identifier: AGPL-3.0-or-later
// Hostile and malformed client input (DESIGN.md §4 "Errors"): every bad message gets its own,
// specific error; the server keeps serving everybody else; nothing rejected reaches the data
// directory (only diag.log may grow, and never with a secret in it).
#include "DirSnapshot.h"
#include "ServerHarness.h"
#include "TestClient.h"
#include "auth/SessionStore.h"
#include "protocol/Limits.h"
#include "sync/MeetRegistry.h"
#include "util/Clock.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace oll;
using namespace oll::test;
using namespace Qt::StringLiterals;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
constexpr qint64 kStartMs = 1790000000000LL;
constexpr qint64 kDayMs = 24LL * 60 * 60 * 1000;
const QString kDiag = QStringLiteral("/diag.log");
// Well-formed (43 base64url characters) but never issued.
const QString kForgedToken = QStringLiteral("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
// Replies to a single message stay small: hostile input must never be reflected in bulk.
constexpr qsizetype kMaxReplyBytes = 2048;
// One rejected message may add a line or two to diag.log, never a copy of the input.
constexpr qsizetype kMaxDiagGrowth = 1024;

QString json(const QJsonObject& o)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QString compact(const QJsonObject& o)
{
    return json(o).left(300);
}

/// `base` with `field` set to `value`, or removed when `value` is undefined.
QString with(QJsonObject base, const QString& field, const QJsonValue& value)
{
    if (value.isUndefined()) {
        base.remove(field);
    } else {
        base.insert(field, value);
    }
    return json(base);
}

QJsonArray endpoints(const QList<QPair<QString, QJsonValue>>& eps)
{
    QJsonArray arr;
    for (const auto& [name, prio] : eps) {
        arr.append(QJsonObject{{QStringLiteral("locationName"), name}, {QStringLiteral("priority"), prio}});
    }
    return arr;
}

QJsonObject createBase()
{
    return {{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
            {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
            {QStringLiteral("password"), QStringLiteral("a perfectly long password")},
            {QStringLiteral("endpoints"), endpoints({{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}})},
            {QStringLiteral("clientId"), QStringLiteral("hostile-creator")}};
}

QJsonObject joinBase()
{
    return {{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
            {QStringLiteral("meetId"), QStringLiteral("%MEETID%")},
            {QStringLiteral("password"), QStringLiteral("%PASSWORD%")},
            {QStringLiteral("locationName"), QStringLiteral("Platform 2")},
            {QStringLiteral("clientId"), QStringLiteral("hostile-joiner")},
            {QStringLiteral("role"), QStringLiteral("update")}};
}

QJsonObject updateEntry()
{
    return {{QStringLiteral("updateKey"), QStringLiteral("live.platforms[id=2].note")},
            {QStringLiteral("updateValue"), QStringLiteral("hostile")},
            {QStringLiteral("localSeqNum"), 1},
            {QStringLiteral("afterServerSeqNum"), 0}};
}

QString updateMsg(const QJsonArray& updates, const QString& token = QStringLiteral("%UPDATER%"))
{
    return json({{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
                 {QStringLiteral("sessionToken"), token},
                 {QStringLiteral("updates"), updates}});
}

/// UPDATE_INIT with one update whose `field` is set to `value` (removed when undefined).
QString updateWith(const QString& field, const QJsonValue& value)
{
    QJsonObject u = updateEntry();
    if (value.isUndefined()) {
        u.remove(field);
    } else {
        u.insert(field, value);
    }
    return updateMsg(QJsonArray{u});
}

QJsonObject pullBase()
{
    return {{QStringLiteral("msgType"), QStringLiteral("CLIENT_PULL")},
            {QStringLiteral("sessionToken"), QStringLiteral("%UPDATER%")},
            {QStringLiteral("lastServerSeq"), 0}};
}

/// One entry of a RECOVERY_PUSH, as a client's canonical log holds it.
QJsonObject recoveryEntry(qint64 serverSeqNum)
{
    return {{QStringLiteral("serverSeqNum"), serverSeqNum},
            {QStringLiteral("updateKey"), QStringLiteral("live.platforms[id=2].note")},
            {QStringLiteral("updateValue"), QStringLiteral("hostile")},
            {QStringLiteral("clientId"), QStringLiteral("hostile-updater")},
            {QStringLiteral("localSeqNum"), serverSeqNum},
            {QStringLiteral("locationName"), QStringLiteral("Platform 2")},
            {QStringLiteral("afterServerSeqNum"), 0}};
}

QJsonObject recoveryBase()
{
    return {{QStringLiteral("msgType"), QStringLiteral("RECOVERY_PUSH")},
            {QStringLiteral("sessionToken"), QStringLiteral("%UPDATER%")},
            {QStringLiteral("epoch"), QStringLiteral("0123456789abcdef")},
            {QStringLiteral("entries"), QJsonArray{recoveryEntry(1)}}};
}

/// RECOVERY_PUSH with one entry whose `field` is set to `value` (removed when undefined).
QString recoveryWith(const QString& field, const QJsonValue& value)
{
    QJsonObject e = recoveryEntry(1);
    if (value.isUndefined()) {
        e.remove(field);
    } else {
        e.insert(field, value);
    }
    return with(recoveryBase(), QStringLiteral("entries"), QJsonArray{e});
}

QJsonObject restoreBase()
{
    return {{QStringLiteral("msgType"), QStringLiteral("RESTORE_MEET")},
            {QStringLiteral("meetId"), QStringLiteral("%MEETID%")},
            {QStringLiteral("password"), QStringLiteral("a perfectly long password")},
            {QStringLiteral("thisLocationName"), QStringLiteral("Desk")},
            {QStringLiteral("endpoints"), endpoints({{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}})},
            {QStringLiteral("clientId"), QStringLiteral("hostile-restorer")},
            {QStringLiteral("epoch"), QStringLiteral("0123456789abcdef")}};
}

QJsonValue nested(int depth)
{
    QJsonValue v = 1;
    for (int i = 0; i < depth; ++i) {
        v = QJsonArray{v};
    }
    return v;
}

QJsonValue nestedObjects(int depth)
{
    QJsonValue v = true;
    for (int i = 0; i < depth; ++i) {
        v = QJsonObject{{QStringLiteral("a"), v}};
    }
    return v;
}

QString describe(const QList<QJsonObject>& messages)
{
    QStringList out;
    for (const QJsonObject& m : messages) {
        out.append(compact(m));
    }
    return out.join(u'\n');
}

std::unique_ptr<TestClient> connected(const QUrl& url)
{
    auto c = std::make_unique<TestClient>(url);
    return c->open() ? std::move(c) : nullptr;
}

/// A meet on a server: Desk (creator, priority 10), a bystander at Platform 1 and a client at
/// Platform 2 whose token hostile messages borrow.
struct MeetFixture
{
    std::unique_ptr<TestClient> desk;
    std::unique_ptr<TestClient> bystander;
    std::unique_ptr<TestClient> updater;
    QString meetId;
    qint64 bystanderSeq = 0;

    static QList<QPair<QString, int>> endpointList()
    {
        return {{QStringLiteral("Desk"), 10}, {QStringLiteral("Platform 1"), 5}, {QStringLiteral("Platform 2"), 5}};
    }

    void setUp(InProcessServer& srv)
    {
        desk = connected(srv.url());
        QVERIFY(desk);
        const QJsonObject created
            = desk->createMeet(QStringLiteral("Desk"), kPassword, endpointList(), QStringLiteral("desk-client"));
        QCOMPARE(created.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_CREATED"));
        meetId = desk->meetId;
        join(srv, bystander, QStringLiteral("Platform 1"), QStringLiteral("platform-1"));
        join(srv, updater, QStringLiteral("Platform 2"), QStringLiteral("platform-2"));
    }

    void join(InProcessServer& srv, std::unique_ptr<TestClient>& c, const QString& location, const QString& clientId,
              const QString& role = QStringLiteral("update"))
    {
        c = connected(srv.url());
        QVERIFY(c);
        const QJsonObject r = c->joinMeet(meetId, kPassword, location, clientId, role);
        QVERIFY2(r.value(QStringLiteral("msgType")).toString() == QStringLiteral("MEET_JOINED"),
                 qPrintable(compact(r)));
    }
};

/// The bystander sends one valid update and is acked; every watcher receives it as a relay.
/// With `onlyBystander`, every relay a watcher gets on the way must hold only the bystander's
/// updates (nothing hostile was ever relayed).
void proveStillServing(TestClient& bystander, qint64& seq, const QList<TestClient*>& watchers, bool onlyBystander)
{
    ++seq;
    const QString key = QStringLiteral("live.platforms[id=1].heartbeat");
    bystander.sendUpdates(bystander.token, {{key, QJsonValue(static_cast<double>(seq)), seq, 0}});
    const auto ack = bystander.next(QStringLiteral("UPDATE_ACK"), 10000);
    QVERIFY2(ack,
             qPrintable(QStringLiteral("bystander got no UPDATE_ACK; received: ") + describe(bystander.received())));
    const QJsonArray acks = ack->value(QStringLiteral("updateAcks")).toArray();
    QCOMPARE(acks.size(), 1);
    QCOMPARE(acks[0].toObject().value(QStringLiteral("localSeqNum")).toInteger(), seq);
    const qint64 serverSeq = acks[0].toObject().value(QStringLiteral("serverSeqNum")).toInteger();
    QVERIFY(serverSeq > 0);
    QVERIFY(bystander.pending(QStringLiteral("UPDATE_REJECTED")).isEmpty());

    for (TestClient* w : watchers) {
        bool found = false;
        while (!found) {
            const auto relay = w->next(QStringLiteral("UPDATE_RELAY"), 10000);
            QVERIFY2(relay,
                     qPrintable(QStringLiteral("no UPDATE_RELAY of seq %1; received: %2")
                                    .arg(serverSeq)
                                    .arg(describe(w->received()))));
            const QJsonArray entries = relay->value(QStringLiteral("updatesRelayed")).toArray();
            for (const QJsonValue& v : entries) {
                const QJsonObject e = v.toObject();
                if (onlyBystander) {
                    QVERIFY2(e.value(QStringLiteral("clientId")).toString() == QStringLiteral("platform-1")
                                 && e.value(QStringLiteral("locationName")).toString() == QStringLiteral("Platform 1"),
                             qPrintable(QStringLiteral("something else was relayed: ") + compact(e)));
                }
                if (e.value(QStringLiteral("serverSeqNum")).toInteger() == serverSeq) {
                    QCOMPARE(e.value(QStringLiteral("updateKey")).toString(), key);
                    QCOMPARE(e.value(QStringLiteral("updateValue")).toDouble(), static_cast<double>(seq));
                    QCOMPARE(e.value(QStringLiteral("localSeqNum")).toInteger(), seq);
                    QCOMPARE(e.value(QStringLiteral("locationName")).toString(), QStringLiteral("Platform 1"));
                    found = true;
                }
            }
        }
    }
}

/// Every file but diag.log is byte-identical; diag.log only grew, by a little, without secrets.
void compareDataDir(const QMap<QString, QByteArray>& before, const QMap<QString, QByteArray>& after,
                    const QStringList& secrets)
{
    QMap<QString, QByteArray> a = before;
    QMap<QString, QByteArray> b = after;
    const QByteArray oldDiag = a.take(kDiag);
    const QByteArray newDiag = b.take(kDiag);
    QStringList changed;
    for (auto it = b.cbegin(); it != b.cend(); ++it) {
        if (!a.contains(it.key())) {
            changed.append(QStringLiteral("new file ") + it.key());
        } else if (a.value(it.key()) != it.value()) {
            changed.append(QStringLiteral("changed ") + it.key());
        }
    }
    for (auto it = a.cbegin(); it != a.cend(); ++it) {
        if (!b.contains(it.key())) {
            changed.append(QStringLiteral("removed ") + it.key());
        }
    }
    QVERIFY2(changed.isEmpty(), qPrintable(changed.join(QStringLiteral(", "))));
    QVERIFY2(newDiag.startsWith(oldDiag), "diag.log was rewritten, not appended to");
    const QByteArray tail = newDiag.mid(oldDiag.size());
    QVERIFY2(
        tail.size() <= kMaxDiagGrowth,
        qPrintable(
            QStringLiteral("diag.log grew by %1 bytes: %2").arg(tail.size()).arg(QString::fromUtf8(tail.left(300)))));
    for (const QString& s : secrets) {
        QVERIFY2(!tail.contains(s.toUtf8()),
                 qPrintable(QStringLiteral("diag.log received a secret: %1").arg(QString::fromUtf8(tail.left(300)))));
    }
}

} // namespace

class TestBadInput final : public QObject
{
    Q_OBJECT

    ManualClock m_clock{kStartMs};
    std::unique_ptr<InProcessServer> m_server;
    MeetFixture m_meet; // Desk, bystander (Platform 1), updater (Platform 2)
    std::unique_ptr<TestClient> m_display; // role "display"
    QString m_expiringToken; // issued at kStartMs, everything else a day later

    QStringList secrets() const
    {
        return {kPassword,        m_meet.desk->token, m_meet.bystander->token, m_meet.updater->token,
                m_display->token, m_expiringToken};
    }

    QString otherMeetId() const
    {
        QString id = m_meet.meetId;
        id[0] = QChar(u'0' + (id[0].unicode() - u'0' + 1) % 10);
        return id;
    }

    QString substitute(QString text) const
    {
        text.replace(QStringLiteral("%UPDATER%"), m_meet.updater->token);
        text.replace(QStringLiteral("%DISPLAY%"), m_display->token);
        text.replace(QStringLiteral("%EXPIRED%"), m_expiringToken);
        text.replace(QStringLiteral("%OTHERMEETID%"), otherMeetId());
        text.replace(QStringLiteral("%MEETID%"), m_meet.meetId);
        text.replace(QStringLiteral("%PASSWORD%"), kPassword);
        return text;
    }

private Q_SLOTS:
    void initTestCase()
    {
        ServerServices services;
        services.clock = &m_clock;
        m_server = std::make_unique<InProcessServer>(services);
        QVERIFY2(m_server->start(), qPrintable(m_server->startError()));

        // The meet is created at kStartMs; its creator's session is the one that will expire.
        auto creator = connected(m_server->url());
        QVERIFY(creator);
        const QJsonObject created = creator->createMeet(QStringLiteral("Desk"), kPassword, MeetFixture::endpointList(),
                                                        QStringLiteral("creator"));
        QCOMPARE(created.value(QStringLiteral("msgType")).toString(), QStringLiteral("MEET_CREATED"));
        m_meet.meetId = creator->meetId;
        m_expiringToken = creator->token;
        creator->close();
        QVERIFY(creator->waitForDisconnect());

        // Everybody else joins a day later, so their sessions outlive the creator's.
        m_clock.advanceMs(kDayMs);
        m_meet.join(*m_server, m_meet.desk, QStringLiteral("Desk"), QStringLiteral("desk-client"));
        m_meet.join(*m_server, m_display, QStringLiteral("Desk"), QStringLiteral("board-1"), QStringLiteral("display"));
        m_meet.join(*m_server, m_meet.bystander, QStringLiteral("Platform 1"), QStringLiteral("platform-1"));
        m_meet.join(*m_server, m_meet.updater, QStringLiteral("Platform 2"), QStringLiteral("hostile-updater"));
        QVERIFY(!QTest::currentTestFailed());

        QTRY_VERIFY(m_server->server().registry().isIdle());
        const QByteArray diag = snapshotDir(m_server->dataDir()).value(kDiag);
        QVERIFY(!diag.isEmpty());
        for (const QString& s : secrets()) {
            QVERIFY2(!diag.contains(s.toUtf8()), "diag.log holds a secret after setup");
        }
    }

    void cleanupTestCase()
    {
        m_display.reset();
        m_meet = MeetFixture{};
        m_server.reset();
    }

    void hostileMessage_data()
    {
        QTest::addColumn<QString>("message");
        QTest::addColumn<QString>("replyType");
        // errMsg/reason substring (case-insensitive); UPDATE_REJECTED: the code of every rejection;
        // LIMIT_EXCEEDED: the limit's name.
        QTest::addColumn<QString>("detail");

        const QString malformed = QStringLiteral("MALFORMED_MESSAGE");
        const QString unknown = QStringLiteral("UNKNOWN_MESSAGE_TYPE");
        const QString createRejected = QStringLiteral("CREATE_REJECTED");
        const QString joinRejected = QStringLiteral("JOIN_REJECTED");
        const QString invalidSession = QStringLiteral("INVALID_SESSION");
        const QString updateRejected = QStringLiteral("UPDATE_REJECTED");
        const QString limit = QStringLiteral("LIMIT_EXCEEDED");
        const QJsonValue absent(QJsonValue::Undefined);
        const QString seqRange = QStringLiteral("must be an integer from 1 to 9007199254740991");

        // --- Not a JSON object, or no usable msgType --------------------------------------------
        QTest::addRow("not JSON") << "hello, server" << malformed << "invalid JSON";
        QTest::addRow("empty text") << "" << malformed << "invalid JSON";
        QTest::addRow("truncated JSON") << "{\"msgType\":\"CREATE_MEET\",\"password\":" << malformed << "invalid JSON";
        QTest::addRow("trailing garbage") << "{\"msgType\":\"CLIENT_PULL\"} {" << malformed << "invalid JSON";
        QTest::addRow("JSON array") << "[{\"msgType\":\"CLIENT_PULL\"}]" << malformed << "must be a JSON object";
        QTest::addRow("JSON number") << "42" << malformed << "invalid JSON";
        QTest::addRow("JSON nested 5000 deep")
            << QString(5000, u'[') + QString(5000, u']') << malformed << "invalid JSON";
        QTest::addRow("missing msgType") << "{\"type\":\"CREATE_MEET\"}" << malformed << "missing field 'msgType'";
        QTest::addRow("msgType number") << "{\"msgType\":7}" << malformed << "field 'msgType' must be a string";
        QTest::addRow("msgType null") << "{\"msgType\":null}" << malformed << "field 'msgType' must be a string";
        QTest::addRow("msgType array") << "{\"msgType\":[\"JOIN_MEET\"]}" << malformed
                                       << "field 'msgType' must be a string";
        QTest::addRow("unknown msgType") << "{\"msgType\":\"DROP_MEET\"}" << unknown << "'DROP_MEET'";
        QTest::addRow("msgType lower case")
            << with(createBase(), u"msgType"_s, u"create_meet"_s) << unknown << "'create_meet'";
        QTest::addRow("server-only msgType")
            << "{\"msgType\":\"UPDATE_ACK\",\"updateAcks\":[]}" << unknown << "'UPDATE_ACK'";
        QTest::addRow("empty msgType") << "{\"msgType\":\"\"}" << unknown << "unknown message type";
        QTest::addRow("10k-character msgType")
            << json({{u"msgType"_s, QString(10000, u'X')}}) << unknown << "unknown message type 'XXXX";

        // --- CREATE_MEET: fields missing or mistyped --------------------------------------------
        QTest::addRow("create: no thisLocationName")
            << with(createBase(), u"thisLocationName"_s, absent) << malformed << "missing field 'thisLocationName'";
        QTest::addRow("create: thisLocationName number")
            << with(createBase(), u"thisLocationName"_s, 1) << malformed << "field 'thisLocationName' must be a string";
        QTest::addRow("create: no password")
            << with(createBase(), u"password"_s, absent) << malformed << "missing field 'password'";
        QTest::addRow("create: password null")
            << with(createBase(), u"password"_s, QJsonValue::Null) << malformed << "field 'password' must be a string";
        QTest::addRow("create: no endpoints")
            << with(createBase(), u"endpoints"_s, absent) << malformed << "missing field 'endpoints'";
        QTest::addRow("create: endpoints object")
            << with(createBase(), u"endpoints"_s, QJsonObject{{u"locationName"_s, u"Desk"_s}, {u"priority"_s, 1}})
            << malformed << "field 'endpoints' must be an array";
        QTest::addRow("create: endpoint a string")
            << with(createBase(), u"endpoints"_s,
                    QJsonArray{QJsonObject{{u"locationName"_s, u"Desk"_s}, {u"priority"_s, 1}}, u"Platform 1"_s})
            << malformed << "endpoints[1] must be an object";
        QTest::addRow("create: endpoint without locationName")
            << with(createBase(), u"endpoints"_s, QJsonArray{QJsonObject{{u"priority"_s, 1}}}) << malformed
            << "missing field 'locationName' in endpoints[0]";
        QTest::addRow("create: endpoint without priority")
            << with(createBase(), u"endpoints"_s,
                    QJsonArray{QJsonObject{{u"locationName"_s, u"Desk"_s}, {u"priority"_s, 1}},
                               QJsonObject{{u"locationName"_s, u"Platform 1"_s}}})
            << malformed << "missing field 'priority' in endpoints[1]";
        QTest::addRow("create: priority string")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, u"10"_s}})) << malformed
            << "field 'priority' in endpoints[0] must be an integer";
        QTest::addRow("create: priority fractional")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 2.5}})) << malformed
            << "field 'priority' in endpoints[0] must be an integer from";
        QTest::addRow("create: priority out of range")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 1e12}})) << malformed
            << "field 'priority' in endpoints[0] must be an integer from";
        QTest::addRow("create: no clientId")
            << with(createBase(), u"clientId"_s, absent) << malformed << "missing field 'clientId'";
        {
            QList<QPair<QString, QJsonValue>> many;
            for (int i = 0; i < 33; ++i) {
                many.append({QStringLiteral("Platform %1").arg(i), i});
            }
            QTest::addRow("create: 33 endpoints")
                << with(createBase(), u"endpoints"_s, endpoints(many)) << limit << "endpoints";
        }

        // --- CREATE_MEET: well-formed but unacceptable -------------------------------------------
        QTest::addRow("create: 9-character password") << with(createBase(), u"password"_s, u"123456789"_s)
                                                      << createRejected << "password must be at least 10 characters";
        QTest::addRow("create: empty password")
            << with(createBase(), u"password"_s, u""_s) << createRejected << "password must be at least 10 characters";
        QTest::addRow("create: 1025-character password") << with(createBase(), u"password"_s, QString(1025, u'p'))
                                                         << createRejected << "password must be at most 1024";
        QTest::addRow("create: no endpoints at all")
            << with(createBase(), u"endpoints"_s, QJsonArray{}) << createRejected << "at least one endpoint";
        QTest::addRow("create: duplicate endpoint names") << with(
            createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u"Platform 1"_s, 5}, {u"Platform 1"_s, 4}}))
                                                          << createRejected << "duplicate endpoint name 'Platform 1'";
        QTest::addRow("create: duplicate names differing in case")
            << with(createBase(), u"endpoints"_s,
                    endpoints({{u"Desk"_s, 10}, {u"Platform 1"_s, 5}, {u"PLATFORM 1"_s, 4}}))
            << createRejected << "duplicate endpoint name 'PLATFORM 1'";
        QTest::addRow("create: thisLocationName not an endpoint")
            << with(createBase(), u"thisLocationName"_s, u"Warm-up room"_s) << createRejected
            << "thisLocationName 'Warm-up room' is not one of the endpoints";
        QTest::addRow("create: thisLocationName differs in case")
            << with(createBase(), u"thisLocationName"_s, u"desk"_s) << createRejected << "is not one of the endpoints";
        QTest::addRow("create: empty location name")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u""_s, 5}})) << createRejected
            << "location names must not be empty";
        QTest::addRow("create: blank location name")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u"   "_s, 5}})) << createRejected
            << "location names must not be empty";
        QTest::addRow("create: 65-character location name")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {QString(65, u'L'), 5}}))
            << createRejected << "longer than 64 characters";
        QTest::addRow("create: location name with leading space")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u" Platform 1"_s, 5}})) << createRejected
            << "leading or trailing spaces";
        QTest::addRow("create: location name with control character")
            << with(createBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {QStringLiteral("Plat\nform"), 5}}))
            << createRejected << "must not contain control characters";
        QTest::addRow("create: empty clientId")
            << with(createBase(), u"clientId"_s, u""_s) << createRejected << "clientId must be 1 to 64 characters";
        QTest::addRow("create: clientId with path characters")
            << with(createBase(), u"clientId"_s, u"../../etc"_s) << createRejected
            << "clientId must be 1 to 64 characters";
        QTest::addRow("create: 65-character clientId") << with(createBase(), u"clientId"_s, QString(65, u'c'))
                                                       << createRejected << "clientId must be 1 to 64 characters";

        // --- JOIN_MEET: fields missing or mistyped -----------------------------------------------
        QTest::addRow("join: no meetId") << with(joinBase(), u"meetId"_s, absent) << malformed
                                         << "missing field 'meetId'";
        QTest::addRow("join: meetId number")
            << with(joinBase(), u"meetId"_s, 123456789) << malformed << "field 'meetId' must be a string";
        QTest::addRow("join: no password")
            << with(joinBase(), u"password"_s, absent) << malformed << "missing field 'password'";
        QTest::addRow("join: password number")
            << with(joinBase(), u"password"_s, 1234567890) << malformed << "field 'password' must be a string";
        QTest::addRow("join: no locationName")
            << with(joinBase(), u"locationName"_s, absent) << malformed << "missing field 'locationName'";
        QTest::addRow("join: no clientId")
            << with(joinBase(), u"clientId"_s, absent) << malformed << "missing field 'clientId'";
        QTest::addRow("join: unknown role")
            << with(joinBase(), u"role"_s, u"admin"_s) << malformed << "field 'role' must be \"update\" or \"display\"";
        QTest::addRow("join: role number")
            << with(joinBase(), u"role"_s, 1) << malformed << "field 'role' must be a string";

        // --- JOIN_MEET: meet IDs that are not 9 digits -------------------------------------------
        const QString notAnId = QStringLiteral("a meet ID is 9 digits");
        QTest::addRow("join: meetId ../../etc")
            << with(joinBase(), u"meetId"_s, u"../../etc"_s) << joinRejected << notAnId;
        QTest::addRow("join: meetId 12345678/")
            << with(joinBase(), u"meetId"_s, u"12345678/"_s) << joinRejected << notAnId;
        QTest::addRow("join: meetId with NUL")
            << with(joinBase(), u"meetId"_s, QString(QStringLiteral("123456789") + QChar(0))) << joinRejected
            << notAnId;
        QTest::addRow("join: meetId /etc/passwd")
            << with(joinBase(), u"meetId"_s, u"/etc/passwd"_s) << joinRejected << notAnId;
        QTest::addRow("join: meetId with backslash")
            << with(joinBase(), u"meetId"_s, u"123\\456\\789"_s) << joinRejected << notAnId;
        QTest::addRow("join: 8-digit meetId")
            << with(joinBase(), u"meetId"_s, u"12345678"_s) << joinRejected << notAnId;
        QTest::addRow("join: 10-digit meetId")
            << with(joinBase(), u"meetId"_s, u"1234567890"_s) << joinRejected << notAnId;
        QTest::addRow("join: empty meetId") << with(joinBase(), u"meetId"_s, u""_s) << joinRejected << notAnId;
        QTest::addRow("join: full-width digits")
            << with(joinBase(), u"meetId"_s, QStringLiteral("\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16\uFF17\uFF18\uFF19"))
            << joinRejected << notAnId;
        QTest::addRow("join: 10k-character meetId")
            << with(joinBase(), u"meetId"_s, QString(10000, u'1')) << joinRejected << notAnId;

        // --- JOIN_MEET: well-formed but refused ---------------------------------------------------
        QTest::addRow("join: clientId with spaces")
            << with(joinBase(), u"clientId"_s, u"a b"_s) << joinRejected << "clientId must be 1 to 64 characters";
        QTest::addRow("join: wrong password") << with(joinBase(), u"password"_s, u"not the password at all"_s)
                                              << joinRejected << "invalid meet ID or password";
        QTest::addRow("join: unknown meet")
            << with(joinBase(), u"meetId"_s, u"%OTHERMEETID%"_s) << joinRejected << "invalid meet ID or password";
        QTest::addRow("join: 2000-character password")
            << with(joinBase(), u"password"_s, QString(2000, u'p')) << joinRejected << "invalid meet ID or password";
        QTest::addRow("join: unknown location")
            << with(joinBase(), u"locationName"_s, u"Platform 9"_s) << joinRejected << "unknown location 'Platform 9'";
        QTest::addRow("join: location differs in case")
            << with(joinBase(), u"locationName"_s, u"platform 2"_s) << joinRejected << "unknown location 'platform 2'";
        {
            QJsonObject display = joinBase();
            display.insert(u"role"_s, u"display"_s);
            QTest::addRow("join: display at unknown location")
                << with(display, u"locationName"_s, u"Lobby"_s) << joinRejected << "unknown location 'Lobby'";
        }

        // --- UPDATE_INIT: fields missing or mistyped ---------------------------------------------
        QTest::addRow("update: no sessionToken")
            << json({{u"msgType"_s, u"UPDATE_INIT"_s}, {u"updates"_s, QJsonArray{updateEntry()}}}) << malformed
            << "missing field 'sessionToken'";
        QTest::addRow("update: sessionToken number") << json(
            {{u"msgType"_s, u"UPDATE_INIT"_s}, {u"sessionToken"_s, 42}, {u"updates"_s, QJsonArray{updateEntry()}}})
                                                     << malformed << "field 'sessionToken' must be a string";
        QTest::addRow("update: no updates")
            << json({{u"msgType"_s, u"UPDATE_INIT"_s}, {u"sessionToken"_s, u"%UPDATER%"_s}}) << malformed
            << "missing field 'updates'";
        QTest::addRow("update: updates an object") << json(
            {{u"msgType"_s, u"UPDATE_INIT"_s}, {u"sessionToken"_s, u"%UPDATER%"_s}, {u"updates"_s, updateEntry()}})
                                                   << malformed << "field 'updates' must be an array";
        QTest::addRow("update: empty updates")
            << updateMsg(QJsonArray{}) << malformed << "field 'updates' must not be empty";
        QTest::addRow("update: update a number")
            << updateMsg(QJsonArray{1}) << malformed << "updates[0] must be an object";
        QTest::addRow("update: no updateKey")
            << updateWith(u"updateKey"_s, absent) << malformed << "missing field 'updateKey' in updates[0]";
        QTest::addRow("update: updateKey array") << updateWith(u"updateKey"_s, QJsonArray{u"meet"_s, u"name"_s})
                                                 << malformed << "field 'updateKey' in updates[0] must be a string";
        QTest::addRow("update: no updateValue")
            << updateWith(u"updateValue"_s, absent) << malformed << "missing field 'updateValue' in updates[0]";
        QTest::addRow("update: no localSeqNum")
            << updateWith(u"localSeqNum"_s, absent) << malformed << "missing field 'localSeqNum' in updates[0]";
        QTest::addRow("update: localSeqNum string") << updateWith(u"localSeqNum"_s, u"1"_s) << malformed
                                                    << "field 'localSeqNum' in updates[0] must be an integer";
        QTest::addRow("update: localSeqNum negative") << updateWith(u"localSeqNum"_s, -1) << malformed << seqRange;
        QTest::addRow("update: localSeqNum zero") << updateWith(u"localSeqNum"_s, 0) << malformed << seqRange;
        QTest::addRow("update: localSeqNum fractional") << updateWith(u"localSeqNum"_s, 1.5) << malformed << seqRange;
        QTest::addRow("update: localSeqNum 2^53")
            << updateMsg(QJsonArray{updateEntry()})
                   .replace(QStringLiteral("\"localSeqNum\":1"), QStringLiteral("\"localSeqNum\":9007199254740992"))
            << malformed << seqRange;
        QTest::addRow("update: localSeqNum 1e300") << updateWith(u"localSeqNum"_s, 1e300) << malformed << seqRange;
        QTest::addRow("update: no afterServerSeqNum") << updateWith(u"afterServerSeqNum"_s, absent) << malformed
                                                      << "missing field 'afterServerSeqNum' in updates[0]";
        QTest::addRow("update: afterServerSeqNum negative")
            << updateWith(u"afterServerSeqNum"_s, -5) << malformed
            << "field 'afterServerSeqNum' in updates[0] must be an integer from 0";
        {
            // The first update is fine: nothing of a message with a bad part may be applied.
            QJsonObject bad = updateEntry();
            bad.insert(u"localSeqNum"_s, u"two"_s);
            QTest::addRow("update: second of two malformed") << updateMsg(QJsonArray{updateEntry(), bad}) << malformed
                                                             << "field 'localSeqNum' in updates[1] must be an integer";
        }
        {
            QJsonArray many;
            for (int i = 1; i <= 1001; ++i) {
                QJsonObject u = updateEntry();
                u.insert(u"localSeqNum"_s, i);
                many.append(u);
            }
            QTest::addRow("update: 1001 updates") << updateMsg(many) << limit << "updatesPerMessage";
        }
        {
            QJsonObject a = updateEntry();
            a.insert(u"localSeqNum"_s, 7);
            QJsonObject b = a;
            b.insert(u"updateKey"_s, u"meet.name"_s);
            QTest::addRow("update: duplicate localSeqNum")
                << updateMsg(QJsonArray{a, b}) << malformed << "repeats localSeqNum 7";
        }

        // --- UPDATE_INIT: sessions that do not allow it -------------------------------------------
        QTest::addRow("update: forged token")
            << updateMsg(QJsonArray{updateEntry()}, kForgedToken) << invalidSession << "unknown session";
        QTest::addRow("update: 3-character token")
            << updateMsg(QJsonArray{updateEntry()}, u"abc"_s) << invalidSession << "43 base64url characters";
        QTest::addRow("update: token with base64 '+' and '/'")
            << updateMsg(QJsonArray{updateEntry()}, QString(41, u'A') + QStringLiteral("+/")) << invalidSession
            << "43 base64url characters";
        QTest::addRow("update: 44-character token")
            << updateMsg(QJsonArray{updateEntry()}, QString(44, u'A')) << invalidSession << "43 base64url characters";
        QTest::addRow("update: empty token")
            << updateMsg(QJsonArray{updateEntry()}, u""_s) << invalidSession << "43 base64url characters";
        QTest::addRow("update: expired token")
            << updateMsg(QJsonArray{updateEntry()}, u"%EXPIRED%"_s) << invalidSession << "session expired";
        QTest::addRow("update: display session")
            << updateMsg(QJsonArray{updateEntry()}, u"%DISPLAY%"_s) << updateRejected << "READ_ONLY_SESSION";
        {
            QJsonObject a = updateEntry();
            QJsonObject b = updateEntry();
            b.insert(u"localSeqNum"_s, 2);
            b.insert(u"updateKey"_s, u"meet.name"_s);
            QTest::addRow("update: display session, two updates")
                << updateMsg(QJsonArray{a, b}, u"%DISPLAY%"_s) << updateRejected << "READ_ONLY_SESSION";
        }

        // --- UPDATE_INIT: keys and values over the line -------------------------------------------
        QTest::addRow("update: key syntax")
            << updateWith(u"updateKey"_s, u"meet..name"_s) << updateRejected << "KEY_INVALID";
        QTest::addRow("update: key ../x") << updateWith(u"updateKey"_s, u"../x"_s) << updateRejected << "KEY_INVALID";
        QTest::addRow("update: key /etc/passwd")
            << updateWith(u"updateKey"_s, u"/etc/passwd"_s) << updateRejected << "KEY_INVALID";
        QTest::addRow("update: empty key") << updateWith(u"updateKey"_s, u""_s) << updateRejected << "KEY_INVALID";
        QTest::addRow("update: key with NUL")
            << updateWith(u"updateKey"_s, QString(QStringLiteral("meet") + QChar(0) + u"name"_s)) << updateRejected
            << "KEY_INVALID";
        QTest::addRow("update: 257-character key")
            << updateWith(u"updateKey"_s, QString(QStringLiteral("meet.") + QString(252, u'n'))) << updateRejected
            << "KEY_TOO_LONG";
        {
            QString deep = QStringLiteral("meet");
            for (int i = 0; i < 16; ++i) {
                deep += QStringLiteral("[0]");
            }
            QTest::addRow("update: 17-segment key")
                << updateWith(u"updateKey"_s, deep) << updateRejected << "KEY_TOO_DEEP";
        }
        {
            QJsonObject a = updateEntry();
            a.insert(u"updateKey"_s, u"a b"_s);
            QJsonObject b = updateEntry();
            b.insert(u"localSeqNum"_s, 2);
            b.insert(u"updateKey"_s, u"registration.entries[id=01]"_s);
            QTest::addRow("update: two bad keys") << updateMsg(QJsonArray{a, b}) << updateRejected << "KEY_INVALID";
        }
        QTest::addRow("update: value over 1 MiB")
            << updateWith(u"updateValue"_s, QString(1024 * 1024, u'v')) << updateRejected << "VALUE_TOO_LARGE";
        QTest::addRow("update: value 65 arrays deep")
            << updateWith(u"updateValue"_s, nested(65)) << updateRejected << "VALUE_TOO_DEEP";
        QTest::addRow("update: value 65 objects deep")
            << updateWith(u"updateValue"_s, nestedObjects(65)) << updateRejected << "VALUE_TOO_DEEP";

        // --- CLIENT_PULL -----------------------------------------------------------------------------
        QTest::addRow("pull: no sessionToken")
            << with(pullBase(), u"sessionToken"_s, absent) << malformed << "missing field 'sessionToken'";
        QTest::addRow("pull: sessionToken object") << with(pullBase(), u"sessionToken"_s, QJsonObject{}) << malformed
                                                   << "field 'sessionToken' must be a string";
        QTest::addRow("pull: no lastServerSeq")
            << with(pullBase(), u"lastServerSeq"_s, absent) << malformed << "missing field 'lastServerSeq'";
        QTest::addRow("pull: lastServerSeq string")
            << with(pullBase(), u"lastServerSeq"_s, u"0"_s) << malformed << "field 'lastServerSeq' must be an integer";
        QTest::addRow("pull: lastServerSeq negative") << with(pullBase(), u"lastServerSeq"_s, -1) << malformed
                                                      << "field 'lastServerSeq' must be an integer from 0";
        QTest::addRow("pull: lastServerSeq fractional") << with(pullBase(), u"lastServerSeq"_s, 0.5) << malformed
                                                        << "field 'lastServerSeq' must be an integer from 0";
        QTest::addRow("pull: lastServerSeq above 2^53") << with(pullBase(), u"lastServerSeq"_s, 1e17) << malformed
                                                        << "field 'lastServerSeq' must be an integer from 0";
        QTest::addRow("pull: forged token")
            << with(pullBase(), u"sessionToken"_s, kForgedToken) << invalidSession << "unknown session";
        QTest::addRow("pull: expired token")
            << with(pullBase(), u"sessionToken"_s, u"%EXPIRED%"_s) << invalidSession << "session expired";
        const QString epochFormat = QStringLiteral("field 'epoch' must be 16 lowercase hex digits");
        QTest::addRow("pull: epoch upper case")
            << with(pullBase(), u"epoch"_s, u"0123456789ABCDEF"_s) << malformed << epochFormat;
        QTest::addRow("pull: epoch 15 digits")
            << with(pullBase(), u"epoch"_s, u"0123456789abcde"_s) << malformed << epochFormat;
        QTest::addRow("pull: epoch not hex")
            << with(pullBase(), u"epoch"_s, u"0123456789abcdeg"_s) << malformed << epochFormat;
        QTest::addRow("pull: epoch number")
            << with(pullBase(), u"epoch"_s, 12345) << malformed << "field 'epoch' must be a string";
        const QString compactBool = QStringLiteral("field 'compact' must be true or false");
        QTest::addRow("pull: compact string") << with(pullBase(), u"compact"_s, u"true"_s) << malformed << compactBool;
        QTest::addRow("pull: compact number") << with(pullBase(), u"compact"_s, 1) << malformed << compactBool;
        QTest::addRow("pull: compact null")
            << with(pullBase(), u"compact"_s, QJsonValue::Null) << malformed << compactBool;

        // --- RECOVERY_PUSH ---------------------------------------------------------------------------
        QTest::addRow("recovery: no epoch")
            << with(recoveryBase(), u"epoch"_s, absent) << malformed << "missing field 'epoch'";
        QTest::addRow("recovery: empty epoch") << with(recoveryBase(), u"epoch"_s, u""_s) << malformed << epochFormat;
        QTest::addRow("recovery: epoch upper case")
            << with(recoveryBase(), u"epoch"_s, u"0123456789ABCDEF"_s) << malformed << epochFormat;
        QTest::addRow("recovery: epoch 17 digits")
            << with(recoveryBase(), u"epoch"_s, u"0123456789abcdef0"_s) << malformed << epochFormat;
        QTest::addRow("recovery: epoch number")
            << with(recoveryBase(), u"epoch"_s, 7) << malformed << "field 'epoch' must be a string";
        QTest::addRow("recovery: no sessionToken")
            << with(recoveryBase(), u"sessionToken"_s, absent) << malformed << "missing field 'sessionToken'";
        QTest::addRow("recovery: no entries")
            << with(recoveryBase(), u"entries"_s, absent) << malformed << "missing field 'entries'";
        QTest::addRow("recovery: entries an object")
            << with(recoveryBase(), u"entries"_s, recoveryEntry(1)) << malformed << "field 'entries' must be an array";
        QTest::addRow("recovery: entry a number")
            << with(recoveryBase(), u"entries"_s, QJsonArray{1}) << malformed << "entries[0] must be an object";
        QTest::addRow("recovery: entries descending")
            << with(recoveryBase(), u"entries"_s, QJsonArray{recoveryEntry(2), recoveryEntry(1)}) << malformed
            << "entries[1]: serverSeqNum 1 is not above the previous entry's 2";
        QTest::addRow("recovery: entries repeat a serverSeqNum")
            << with(recoveryBase(), u"entries"_s, QJsonArray{recoveryEntry(1), recoveryEntry(3), recoveryEntry(3)})
            << malformed << "entries[2]: serverSeqNum 3 is not above the previous entry's 3";
        {
            QJsonArray many;
            for (int i = 1; i <= 1001; ++i) {
                many.append(recoveryEntry(i));
            }
            QTest::addRow("recovery: 1001 entries")
                << with(recoveryBase(), u"entries"_s, many) << limit << "updatesPerMessage";
        }
        for (const char* field :
             {"serverSeqNum", "updateKey", "updateValue", "clientId", "localSeqNum", "locationName"}) {
            QTest::addRow("recovery: entry without %s", field)
                << recoveryWith(QString::fromLatin1(field), absent) << malformed
                << QStringLiteral("missing field '%1' in entries[0]").arg(QString::fromLatin1(field));
        }
        QTest::addRow("recovery: serverSeqNum zero") << recoveryWith(u"serverSeqNum"_s, 0) << malformed
                                                     << "field 'serverSeqNum' in entries[0] must be an integer from 1";
        QTest::addRow("recovery: serverSeqNum string") << recoveryWith(u"serverSeqNum"_s, u"1"_s) << malformed
                                                       << "field 'serverSeqNum' in entries[0] must be an integer";
        QTest::addRow("recovery: localSeqNum fractional")
            << recoveryWith(u"localSeqNum"_s, 1.5) << malformed
            << "field 'localSeqNum' in entries[0] must be an integer from 1";
        QTest::addRow("recovery: updateKey number")
            << recoveryWith(u"updateKey"_s, 3) << malformed << "field 'updateKey' in entries[0] must be a string";
        QTest::addRow("recovery: afterServerSeqNum negative")
            << recoveryWith(u"afterServerSeqNum"_s, -1) << malformed
            << "field 'afterServerSeqNum' in entries[0] must be an integer from 0";
        QTest::addRow("recovery: display session")
            << with(recoveryBase(), u"sessionToken"_s, u"%DISPLAY%"_s) << u"RECOVERY_REJECTED"_s << "display-only";
        QTest::addRow("recovery: forged token")
            << with(recoveryBase(), u"sessionToken"_s, kForgedToken) << invalidSession << "unknown session";
        QTest::addRow("recovery: expired token")
            << with(recoveryBase(), u"sessionToken"_s, u"%EXPIRED%"_s) << invalidSession << "session expired";

        // --- RESTORE_MEET ------------------------------------------------------------------------------
        const QString restoreRejected = QStringLiteral("RESTORE_REJECTED");
        QTest::addRow("restore: no epoch")
            << with(restoreBase(), u"epoch"_s, absent) << malformed << "missing field 'epoch'";
        QTest::addRow("restore: epoch not hex")
            << with(restoreBase(), u"epoch"_s, u"not-an-epoch-123"_s) << malformed << epochFormat;
        QTest::addRow("restore: empty epoch") << with(restoreBase(), u"epoch"_s, u""_s) << malformed << epochFormat;
        QTest::addRow("restore: no meetId")
            << with(restoreBase(), u"meetId"_s, absent) << malformed << "missing field 'meetId'";
        QTest::addRow("restore: meetId number")
            << with(restoreBase(), u"meetId"_s, 123456789) << malformed << "field 'meetId' must be a string";
        QTest::addRow("restore: no password")
            << with(restoreBase(), u"password"_s, absent) << malformed << "missing field 'password'";
        QTest::addRow("restore: no clientId")
            << with(restoreBase(), u"clientId"_s, absent) << malformed << "missing field 'clientId'";
        QTest::addRow("restore: endpoints object")
            << with(restoreBase(), u"endpoints"_s, QJsonObject{{u"locationName"_s, u"Desk"_s}, {u"priority"_s, 1}})
            << malformed << "field 'endpoints' must be an array";
        QTest::addRow("restore: priority string")
            << with(restoreBase(), u"endpoints"_s, endpoints({{u"Desk"_s, u"10"_s}})) << malformed
            << "field 'priority' in endpoints[0] must be an integer";
        {
            QList<QPair<QString, QJsonValue>> many;
            for (int i = 0; i < 33; ++i) {
                many.append({QStringLiteral("Platform %1").arg(i), i});
            }
            QTest::addRow("restore: 33 endpoints")
                << with(restoreBase(), u"endpoints"_s, endpoints(many)) << limit << "endpoints";
        }
        QTest::addRow("restore: meetId ../../etc")
            << with(restoreBase(), u"meetId"_s, u"../../etc"_s) << restoreRejected << notAnId;
        QTest::addRow("restore: 8-digit meetId")
            << with(restoreBase(), u"meetId"_s, u"12345678"_s) << restoreRejected << notAnId;
        QTest::addRow("restore: empty meetId") << with(restoreBase(), u"meetId"_s, u""_s) << restoreRejected << notAnId;
        QTest::addRow("restore: 9-character password") << with(restoreBase(), u"password"_s, u"123456789"_s)
                                                       << restoreRejected << "password must be at least 10 characters";
        QTest::addRow("restore: no endpoints at all")
            << with(restoreBase(), u"endpoints"_s, QJsonArray{}) << restoreRejected << "at least one endpoint";
        QTest::addRow("restore: duplicate endpoint names")
            << with(restoreBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u"Desk"_s, 5}})) << restoreRejected
            << "duplicate endpoint name 'Desk'";
        QTest::addRow("restore: thisLocationName not an endpoint")
            << with(restoreBase(), u"thisLocationName"_s, u"Warm-up room"_s) << restoreRejected
            << "thisLocationName 'Warm-up room' is not one of the endpoints";
        QTest::addRow("restore: empty location name")
            << with(restoreBase(), u"endpoints"_s, endpoints({{u"Desk"_s, 10}, {u""_s, 5}})) << restoreRejected
            << "location names must not be empty";
        QTest::addRow("restore: clientId with path characters")
            << with(restoreBase(), u"clientId"_s, u"../../etc"_s) << restoreRejected
            << "clientId must be 1 to 64 characters";
        QTest::addRow("restore: existing meet") << json(restoreBase()) << restoreRejected << "exists on this server";
    }

    void hostileMessage()
    {
        QFETCH(QString, message);
        QFETCH(QString, replyType);
        QFETCH(QString, detail);

        if (message.contains(QStringLiteral("%EXPIRED%"))) {
            // The creator's session was issued at kStartMs; everyone else's a day later.
            m_clock.setMs(qMax(m_clock.nowMs(), kStartMs + SessionStore::kLifetimeMs + 1));
        }
        const QString text = substitute(message);
        QVERIFY2(text.toUtf8().size() < Limits{}.maxMessageBytes, "the row itself is over the message limit");

        TestClient attacker(m_server->url());
        QVERIFY(attacker.open());
        QTRY_VERIFY(m_server->server().registry().isIdle());
        const QMap<QString, QByteArray> before = snapshotDir(m_server->dataDir());

        attacker.sendText(text);
        QVERIFY2(QTest::qWaitFor([&] { return !attacker.received().isEmpty(); }, 10000), "no reply at all");
        const QJsonObject reply = attacker.received().first();
        QVERIFY2(reply.value(QStringLiteral("msgType")).toString() == replyType,
                 qPrintable(QStringLiteral("expected %1, got %2").arg(replyType, compact(reply))));
        const qsizetype replyBytes = QJsonDocument(reply).toJson(QJsonDocument::Compact).size();
        QVERIFY2(replyBytes <= kMaxReplyBytes, qPrintable(QStringLiteral("%1-byte reply").arg(replyBytes)));

        if (replyType == QStringLiteral("UPDATE_REJECTED")) {
            const QJsonArray sent
                = QJsonDocument::fromJson(text.toUtf8()).object().value(QStringLiteral("updates")).toArray();
            const QJsonArray rejected = reply.value(QStringLiteral("updatesRejected")).toArray();
            QVERIFY2(rejected.size() == sent.size(), qPrintable(compact(reply)));
            for (qsizetype i = 0; i < rejected.size(); ++i) {
                const QJsonObject r = rejected[i].toObject();
                QCOMPARE(r.value(QStringLiteral("code")).toString(), detail);
                QCOMPARE(r.value(QStringLiteral("conflict")).toBool(true), false);
                QCOMPARE(r.value(QStringLiteral("localSeqNum")).toInteger(),
                         sent[i].toObject().value(QStringLiteral("localSeqNum")).toInteger());
                QVERIFY2(!r.value(QStringLiteral("reason")).toString().isEmpty(), "rejection without a reason");
            }
        } else if (replyType == QStringLiteral("LIMIT_EXCEEDED")) {
            QCOMPARE(reply.value(QStringLiteral("limit")).toString(), detail);
            QVERIFY(reply.value(QStringLiteral("max")).toInteger() > 0);
            QVERIFY(!reply.value(QStringLiteral("errMsg")).toString().isEmpty());
        } else {
            const QString why = reply.contains(QStringLiteral("errMsg"))
                ? reply.value(QStringLiteral("errMsg")).toString()
                : reply.value(QStringLiteral("reason")).toString();
            QVERIFY2(why.contains(detail, Qt::CaseInsensitive),
                     qPrintable(QStringLiteral("expected '%1' in: %2").arg(detail, compact(reply))));
            if (replyType == QStringLiteral("UNKNOWN_MESSAGE_TYPE")) {
                const QString echoed = reply.value(QStringLiteral("unknownMsgType")).toString();
                QVERIFY(echoed.size() <= 64);
                QVERIFY(QJsonDocument::fromJson(text.toUtf8())
                            .object()
                            .value(QStringLiteral("msgType"))
                            .toString()
                            .startsWith(echoed));
            }
            if (replyType == QStringLiteral("INVALID_SESSION")) {
                QVERIFY(reply.contains(QStringLiteral("sessionToken")));
            }
            if (replyType == QStringLiteral("JOIN_REJECTED") || replyType == QStringLiteral("CREATE_REJECTED")) {
                QVERIFY2(!reply.contains(QStringLiteral("retryAfterMs")), "a single bad attempt must not be throttled");
            }
        }

        // Nothing the server decided may be on its way to the disk.
        QTRY_VERIFY(m_server->server().registry().isIdle());
        QStringList secrets = this->secrets();
        const QJsonObject sent = QJsonDocument::fromJson(text.toUtf8()).object();
        for (const QString& field : {QStringLiteral("password"), QStringLiteral("Password")}) {
            const QString pw = sent.value(field).toString();
            if (pw.size() >= 8) {
                secrets.append(pw);
            }
        }
        compareDataDir(before, snapshotDir(m_server->dataDir()), secrets);
        if (QTest::currentTestFailed()) {
            return;
        }

        // Everybody else is still served, and nothing hostile was relayed.
        proveStillServing(*m_meet.bystander, m_meet.bystanderSeq, {m_meet.desk.get(), m_display.get()}, true);
        if (QTest::currentTestFailed()) {
            return;
        }
        // The attacker got its one answer and nothing else (relays reach it only if its message
        // carried a valid token, which binds the socket to that session).
        QList<QJsonObject> others;
        for (const QJsonObject& m : attacker.received()) {
            if (m.value(QStringLiteral("msgType")).toString() != QStringLiteral("UPDATE_RELAY")) {
                others.append(m);
            }
        }
        QVERIFY2(others.size() == 1, qPrintable(describe(others)));
        attacker.close();
        QVERIFY(attacker.waitForDisconnect());
    }

    /// A binary frame is answered MALFORMED_MESSAGE, even when it holds a valid update.
    void binaryFrameIsMalformed()
    {
        TestClient attacker(m_server->url());
        QVERIFY(attacker.open());
        QTRY_VERIFY(m_server->server().registry().isIdle());
        const QMap<QString, QByteArray> before = snapshotDir(m_server->dataDir());
        const QJsonObject update{{QStringLiteral("updateKey"), QStringLiteral("meet.name")},
                                 {QStringLiteral("updateValue"), QStringLiteral("binary")},
                                 {QStringLiteral("localSeqNum"), 1000},
                                 {QStringLiteral("afterServerSeqNum"), 0}};
        attacker.sendBinary(updateMsg(QJsonArray{update}, m_meet.updater->token).toUtf8());
        const QJsonObject reply = attacker.expect(QStringLiteral("MALFORMED_MESSAGE"));
        QVERIFY2(reply.value(QStringLiteral("errMsg"))
                     .toString()
                     .contains(QStringLiteral("binary frames are not supported")),
                 qPrintable(compact(reply)));
        attacker.sendBinary(QByteArray("\x00\xff\xfe garbage", 12));
        attacker.expect(QStringLiteral("MALFORMED_MESSAGE"));
        QTRY_VERIFY(m_server->server().registry().isIdle());
        compareDataDir(before, snapshotDir(m_server->dataDir()), secrets());
        if (QTest::currentTestFailed()) {
            return;
        }
        QVERIFY(attacker.isConnected());
        proveStillServing(*m_meet.bystander, m_meet.bystanderSeq, {m_meet.desk.get(), m_display.get()}, true);
        QCOMPARE(attacker.received().size(), 2);
    }

    /// A message over maxMessageBytes, in one frame or in many small ones, closes that socket with
    /// 1009 before it is buffered or applied; everyone else carries on.
    void oversizedMessageClosesWith1009_data()
    {
        QTest::addColumn<int>("outgoingFrameBytes");
        QTest::addRow("one big frame") << 0;
        QTest::addRow("many 8 KiB frames") << 8 * 1024;
    }
    void oversizedMessageClosesWith1009()
    {
        QFETCH(int, outgoingFrameBytes);
        ManualClock clock(kStartMs);
        ServerServices services;
        services.clock = &clock;
        Limits limits;
        limits.maxMessageBytes = 64 * 1024;
        limits.maxFrameBytes = 64 * 1024;
        InProcessServer srv(services, limits);
        QVERIFY2(srv.start(), qPrintable(srv.startError()));
        MeetFixture meet;
        meet.setUp(srv);
        QVERIFY(!QTest::currentTestFailed());

        // Just under the limit is still an ordinary message.
        TestClient near(srv.url());
        QVERIFY(near.open());
        near.send({{QStringLiteral("msgType"), QStringLiteral("PADDING")},
                   {QStringLiteral("pad"), QString(60 * 1024, u'x')}});
        near.expect(QStringLiteral("UNKNOWN_MESSAGE_TYPE"));

        QTRY_VERIFY(srv.server().registry().isIdle());
        const QMap<QString, QByteArray> before = snapshotDir(srv.dataDir());
        const int connectionsBefore = srv.server().connectionCount();

        TestClient big(srv.url());
        QVERIFY(big.open());
        QTRY_COMPARE(srv.server().connectionCount(), connectionsBefore + 1);
        if (outgoingFrameBytes > 0) {
            big.socket().setOutgoingFrameSize(static_cast<quint64>(outgoingFrameBytes));
        }
        // A valid update: were it buffered and applied, the journal would show it.
        const QJsonObject update{{QStringLiteral("updateKey"), QStringLiteral("meet.name")},
                                 {QStringLiteral("updateValue"), QString(100 * 1024, u'b')},
                                 {QStringLiteral("localSeqNum"), 1},
                                 {QStringLiteral("afterServerSeqNum"), 0}};
        big.sendText(updateMsg(QJsonArray{update}, meet.updater->token));
        QVERIFY(big.waitForDisconnect(10000));
        QCOMPARE(big.socket().closeCode(), QWebSocketProtocol::CloseCodeTooMuchData);
        QVERIFY2(big.received().isEmpty(), qPrintable(describe(big.received())));
        QTRY_COMPARE(srv.server().connectionCount(), connectionsBefore);

        QTRY_VERIFY(srv.server().registry().isIdle());
        compareDataDir(before, snapshotDir(srv.dataDir()),
                       {kPassword, meet.desk->token, meet.bystander->token, meet.updater->token});
        if (QTest::currentTestFailed()) {
            return;
        }
        QVERIFY(near.isConnected());
        near.sendText(QStringLiteral("{}"));
        near.expect(QStringLiteral("MALFORMED_MESSAGE"));
        proveStillServing(*meet.bystander, meet.bystanderSeq, {meet.desk.get(), meet.updater.get()}, true);
    }

    /// Failed joins from one address to one meet back off: after failedJoinsBeforeBackoff failures
    /// even the right password is refused (with retryAfterMs) until the clock passes the block;
    /// the block doubles with further failures; another meet is not affected.
    void wrongPasswordRepeatedBacksOff()
    {
        ManualClock clock(kStartMs);
        ServerServices services;
        services.clock = &clock;
        const Limits limits;
        InProcessServer srv(services, limits);
        QVERIFY2(srv.start(), qPrintable(srv.startError()));
        MeetFixture meet;
        meet.setUp(srv);
        QVERIFY(!QTest::currentTestFailed());
        auto otherDesk = connected(srv.url());
        QVERIFY(otherDesk);
        const QString otherPassword = QStringLiteral("another meet's password");
        QCOMPARE(otherDesk
                     ->createMeet(QStringLiteral("Desk"), otherPassword, MeetFixture::endpointList(),
                                  QStringLiteral("other-desk"))
                     .value(QStringLiteral("msgType"))
                     .toString(),
                 QStringLiteral("MEET_CREATED"));
        const QString otherMeet = otherDesk->meetId;
        QVERIFY(otherMeet != meet.meetId);

        TestClient guesser(srv.url());
        QVERIFY(guesser.open());
        QTRY_VERIFY(srv.server().registry().isIdle());
        const QMap<QString, QByteArray> before = snapshotDir(srv.dataDir());
        QStringList guesses;
        auto join = [&](const QString& id, const QString& password) {
            return guesser.joinMeet(id, password, QStringLiteral("Platform 1"), QStringLiteral("guesser"));
        };
        auto type = [](const QJsonObject& o) { return o.value(QStringLiteral("msgType")).toString(); };

        for (int i = 0; i < limits.failedJoinsBeforeBackoff; ++i) {
            guesses.append(QStringLiteral("wrong guess number %1").arg(i));
            // Spaces and dashes in the ID are the same meet.
            const QJsonObject r = join(i % 2 ? displayMeetId(meet.meetId) : meet.meetId, guesses.last());
            QCOMPARE(type(r), QStringLiteral("JOIN_REJECTED"));
            QVERIFY2(
                r.value(QStringLiteral("reason")).toString().contains(QStringLiteral("invalid meet ID or password")),
                qPrintable(compact(r)));
            QVERIFY2(!r.contains(QStringLiteral("retryAfterMs")), qPrintable(compact(r)));
        }

        // Blocked now: a wrong password and then even the right one.
        guesses.append(QStringLiteral("one more wrong guess"));
        QJsonObject r = join(meet.meetId, guesses.last());
        QCOMPARE(type(r), QStringLiteral("JOIN_REJECTED"));
        const qint64 retry = r.value(QStringLiteral("retryAfterMs")).toInteger();
        QVERIFY2(retry > 0 && retry <= limits.backoffBaseMs, qPrintable(compact(r)));
        r = join(meet.meetId, kPassword);
        QCOMPARE(type(r), QStringLiteral("JOIN_REJECTED"));
        QVERIFY2(r.value(QStringLiteral("retryAfterMs")).toInteger() > 0, qPrintable(compact(r)));
        QVERIFY(!r.contains(QStringLiteral("sessionToken")));

        // Nothing was stored for all that; diag.log holds none of the passwords tried.
        QTRY_VERIFY(srv.server().registry().isIdle());
        compareDataDir(before, snapshotDir(srv.dataDir()),
                       QStringList{kPassword, otherPassword, meet.desk->token, meet.bystander->token,
                                   meet.updater->token, otherDesk->token}
                           + guesses);
        if (QTest::currentTestFailed()) {
            return;
        }

        // Another meet from the same address is not blocked.
        TestClient elsewhere(srv.url());
        QVERIFY(elsewhere.open());
        r = elsewhere.joinMeet(otherMeet, otherPassword, QStringLiteral("Platform 2"), QStringLiteral("guesser"));
        QVERIFY2(type(r) == QStringLiteral("MEET_JOINED"), qPrintable(compact(r)));

        // One millisecond short of the block: still refused. At the block's end: let in.
        clock.advanceMs(retry - 1);
        r = join(meet.meetId, kPassword);
        QVERIFY2(type(r) == QStringLiteral("JOIN_REJECTED") && r.value(QStringLiteral("retryAfterMs")).toInteger() == 1,
                 qPrintable(compact(r)));
        clock.advanceMs(1);
        // A further failure after the block doubles the next one.
        r = join(meet.meetId, QStringLiteral("still the wrong one"));
        QVERIFY2(type(r) == QStringLiteral("JOIN_REJECTED") && !r.contains(QStringLiteral("retryAfterMs")),
                 qPrintable(compact(r)));
        r = join(meet.meetId, kPassword);
        QCOMPARE(type(r), QStringLiteral("JOIN_REJECTED"));
        const qint64 retry2 = r.value(QStringLiteral("retryAfterMs")).toInteger();
        QVERIFY2(retry2 == 2 * limits.backoffBaseMs, qPrintable(compact(r)));
        clock.advanceMs(retry2);
        r = join(meet.meetId, kPassword);
        QVERIFY2(type(r) == QStringLiteral("MEET_JOINED"), qPrintable(compact(r)));

        // Success clears the record: the next mistake is an ordinary one.
        r = join(meet.meetId, QStringLiteral("a fresh typo here"));
        QVERIFY2(type(r) == QStringLiteral("JOIN_REJECTED") && !r.contains(QStringLiteral("retryAfterMs")),
                 qPrintable(compact(r)));
        proveStillServing(*meet.bystander, meet.bystanderSeq, {meet.desk.get()}, true);
    }

    /// maxConnectionsPerAddress: the socket over the limit is told LIMIT_EXCEEDED and closed; the
    /// others keep working; once one closes, a new socket is accepted.
    void connectionLimitPerAddress()
    {
        Limits limits;
        limits.maxConnectionsPerAddress = 3;
        InProcessServer srv({}, limits);
        QVERIFY2(srv.start(), qPrintable(srv.startError()));

        std::vector<std::unique_ptr<TestClient>> clients;
        for (int i = 0; i < 3; ++i) {
            clients.push_back(connected(srv.url()));
            QVERIFY(clients.back());
        }
        QTRY_COMPARE(srv.server().connectionCount(), 3);

        TestClient fourth(srv.url());
        fourth.socket().open(srv.url());
        const QJsonObject refusal = fourth.expect(QStringLiteral("LIMIT_EXCEEDED"));
        QCOMPARE(refusal.value(QStringLiteral("limit")).toString(), QStringLiteral("connectionsPerAddress"));
        QCOMPARE(refusal.value(QStringLiteral("max")).toInt(), 3);
        QVERIFY(fourth.waitForDisconnect());
        QCOMPARE(fourth.socket().closeCode(), QWebSocketProtocol::CloseCodePolicyViolated);
        QCOMPARE(srv.server().connectionCount(), 3);

        for (auto& c : clients) {
            QVERIFY(c->isConnected());
            c->sendText(QStringLiteral("[]"));
            c->expect(QStringLiteral("MALFORMED_MESSAGE"));
        }

        clients.front()->close();
        QVERIFY(clients.front()->waitForDisconnect());
        QTRY_COMPARE(srv.server().connectionCount(), 2);

        TestClient fifth(srv.url());
        QVERIFY(fifth.open());
        QTRY_COMPARE(srv.server().connectionCount(), 3);
        fifth.sendText(QStringLiteral("[]"));
        fifth.expect(QStringLiteral("MALFORMED_MESSAGE"));
        QVERIFY(fifth.pending(QStringLiteral("LIMIT_EXCEEDED")).isEmpty());
        QVERIFY(fifth.isConnected());
    }

    /// Sockets that vanish mid-conversation (aborted right after an UPDATE_INIT, with or without
    /// the bytes leaving; a TCP connection cut inside a WebSocket frame; one cut inside the HTTP
    /// upgrade) disturb nobody; an aborted update resent later is applied at most once.
    void abortedSocketsDoNotDisturbOthers()
    {
        ManualClock clock(kStartMs);
        ServerServices services;
        services.clock = &clock;
        InProcessServer srv(services);
        QVERIFY2(srv.start(), qPrintable(srv.startError()));
        MeetFixture meet;
        meet.setUp(srv);
        QVERIFY(!QTest::currentTestFailed());
        const int baseline = srv.server().connectionCount();
        const QString token = meet.updater->token;
        auto noteUpdate = [](qint64 local) {
            return std::tuple<QString, QJsonValue, qint64, qint64>{QStringLiteral("live.platforms[id=2].note"),
                                                                   QStringLiteral("note %1").arg(local), local, 0};
        };

        for (qint64 local = 1; local <= 10; ++local) {
            TestClient a(srv.url());
            QVERIFY(a.open());
            QTRY_COMPARE(srv.server().connectionCount(), baseline + 1);
            a.sendUpdates(token, {noteUpdate(local)});
            if (local % 2 == 0) {
                a.socket().flush(); // the message leaves; the socket is gone before the ack
            }
            a.socket().abort();
            QTRY_COMPARE(srv.server().connectionCount(), baseline);
        }

        // Cut inside a WebSocket frame: the header announces 1000 bytes, 500 arrive.
        {
            QTcpSocket raw;
            raw.connectToHost(QHostAddress::LocalHost, srv.server().port());
            QVERIFY(raw.waitForConnected(5000));
            raw.write(QStringLiteral("GET /live HTTP/1.1\r\nHost: 127.0.0.1:%1\r\nUpgrade: websocket\r\n"
                                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                     "Sec-WebSocket-Version: 13\r\n\r\n")
                          .arg(srv.server().port())
                          .toLatin1());
            QByteArray response;
            QVERIFY(QTest::qWaitFor(
                [&] {
                    response += raw.readAll();
                    return response.contains("\r\n\r\n");
                },
                5000));
            QVERIFY2(response.startsWith("HTTP/1.1 101"), response.constData());
            QTRY_COMPARE(srv.server().connectionCount(), baseline + 1);
            QByteArray frame;
            frame.append(char(0x81)); // FIN, text
            frame.append(char(0x80 | 126)); // masked, 16-bit length follows
            frame.append(char(1000 >> 8));
            frame.append(char(1000 & 0xff));
            const char mask[4] = {0x11, 0x22, 0x33, 0x44};
            frame.append(mask, 4);
            const QByteArray payload = QByteArray("{\"msgType\":\"CLIENT_PULL\",\"sessionToken\":\"") + token.toLatin1()
                + QByteArray(500, ' ');
            for (int i = 0; i < 500; ++i) {
                frame.append(char(payload[i] ^ mask[i % 4]));
            }
            raw.write(frame);
            raw.flush();
            raw.abort();
            QTRY_COMPARE(srv.server().connectionCount(), baseline);
        }
        // Cut inside the HTTP upgrade request.
        {
            QTcpSocket raw;
            raw.connectToHost(QHostAddress::LocalHost, srv.server().port());
            QVERIFY(raw.waitForConnected(5000));
            raw.write("GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webso");
            raw.flush();
            raw.abort();
        }

        proveStillServing(*meet.bystander, meet.bystanderSeq, {meet.desk.get()}, false);
        if (QTest::currentTestFailed()) {
            return;
        }

        // The client comes back and resends all ten; each is acked, none is applied twice.
        meet.updater->sendUpdates(token,
                                  {noteUpdate(1), noteUpdate(2), noteUpdate(3), noteUpdate(4), noteUpdate(5),
                                   noteUpdate(6), noteUpdate(7), noteUpdate(8), noteUpdate(9), noteUpdate(10)});
        QSet<qint64> acked;
        while (acked.size() < 10) {
            const auto ack = meet.updater->next(QStringLiteral("UPDATE_ACK"), 10000);
            QVERIFY2(ack, qPrintable(describe(meet.updater->received())));
            for (const QJsonValue& v : ack->value(QStringLiteral("updateAcks")).toArray()) {
                acked.insert(v.toObject().value(QStringLiteral("localSeqNum")).toInteger());
            }
        }
        QVERIFY(meet.updater->pending(QStringLiteral("UPDATE_REJECTED")).isEmpty());

        TestClient reader(srv.url());
        QVERIFY(reader.open());
        reader.pull(meet.desk->token, 0);
        QMap<qint64, int> timesApplied;
        QList<qint64> seqs;
        bool final = false;
        while (!final) {
            const QJsonObject relay = reader.expect(QStringLiteral("UPDATE_RELAY"));
            QVERIFY(!relay.isEmpty());
            final = relay.value(QStringLiteral("final")).toBool();
            for (const QJsonValue& v : relay.value(QStringLiteral("updatesRelayed")).toArray()) {
                const QJsonObject e = v.toObject();
                seqs.append(e.value(QStringLiteral("serverSeqNum")).toInteger());
                if (e.value(QStringLiteral("clientId")).toString() == QStringLiteral("platform-2")) {
                    timesApplied[e.value(QStringLiteral("localSeqNum")).toInteger()] += 1;
                }
            }
        }
        for (qsizetype i = 0; i < seqs.size(); ++i) {
            QCOMPARE(seqs[i], i + 1);
        }
        QCOMPARE(timesApplied.size(), 10);
        for (auto it = timesApplied.cbegin(); it != timesApplied.cend(); ++it) {
            QVERIFY2(it.value() == 1,
                     qPrintable(QStringLiteral("localSeqNum %1 applied %2 times").arg(it.key()).arg(it.value())));
        }
        proveStillServing(*meet.bystander, meet.bystanderSeq, {meet.desk.get()}, false);
    }
};

QTEST_GUILESS_MAIN(TestBadInput)
#include "tst_badinput.moc"
