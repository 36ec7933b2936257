// SPDX-License-Identifier: AGPL-3.0-or-later
#include "protocol/Messages.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cstring>

using namespace oll;

namespace {

QByteArray encode(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

std::variant<Request, ParseError> parseWith(const QByteArray& text, const Limits& limits = Limits{})
{
    return MessageParser(limits).parse(text);
}

bool sameBits(double a, double b)
{
    return std::memcmp(&a, &b, sizeof a) == 0;
}

QJsonObject validUpdate(qint64 localSeq, const QJsonValue& value = 1)
{
    return {{QStringLiteral("localSeqNum"), static_cast<double>(localSeq)},
            {QStringLiteral("afterServerSeqNum"), 0},
            {QStringLiteral("updateKey"), QStringLiteral("meet.name")},
            {QStringLiteral("updateValue"), value}};
}

QJsonArray endpointArray(int n)
{
    QJsonArray eps;
    for (int i = 0; i < n; ++i) {
        eps.append(QJsonObject{{QStringLiteral("locationName"), QStringLiteral("Loc %1").arg(i)},
                               {QStringLiteral("priority"), i}});
    }
    return eps;
}

CreateMeetRequest validCreate()
{
    CreateMeetRequest r;
    r.thisLocationName = QStringLiteral("Platform 1");
    r.password = QStringLiteral("correct horse");
    r.clientId = QStringLiteral("client-A_1");
    r.endpoints = {Endpoint{QStringLiteral("Platform 1"), 10}, Endpoint{QStringLiteral("Platform 2"), 5}};
    return r;
}

} // namespace

// Unwraps a parse result into request type T, failing the test with the parser's message otherwise.
#define EXPECT_REQUEST(T, var, result)                                                                                 \
    QVERIFY2(                                                                                                          \
        std::holds_alternative<Request>(result),                                                                       \
        qPrintable(std::holds_alternative<ParseError>(result) ? std::get<ParseError>(result).errMsg : QString()));     \
    QVERIFY(std::holds_alternative<T>(std::get<Request>(result)));                                                     \
    const T var = std::get<T>(std::get<Request>(result))

#define EXPECT_ERROR(var, result)                                                                                      \
    QVERIFY2(std::holds_alternative<ParseError>(result), "expected a parse error");                                    \
    const ParseError var = std::get<ParseError>(result)

class TestMessageParser final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// CREATE_MEET with every field present yields all fields, endpoints in order.
    void createMeet_allFields()
    {
        const QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
                              {QStringLiteral("thisLocationName"), QStringLiteral("Platform A")},
                              {QStringLiteral("password"), QStringLiteral("s3cret password")},
                              {QStringLiteral("clientId"), QStringLiteral("abc-123")},
                              {QStringLiteral("endpoints"),
                               QJsonArray{QJsonObject{{QStringLiteral("locationName"), QStringLiteral("Platform A")},
                                                      {QStringLiteral("priority"), 10}},
                                          QJsonObject{{QStringLiteral("locationName"), QStringLiteral("Warm-up")},
                                                      {QStringLiteral("priority"), -3}}}},
                              {QStringLiteral("someFutureField"), true}};
        const auto result = parseWith(encode(msg));
        EXPECT_REQUEST(CreateMeetRequest, req, result);
        QCOMPARE(req.thisLocationName, QStringLiteral("Platform A"));
        QCOMPARE(req.password, QStringLiteral("s3cret password"));
        QCOMPARE(req.clientId, QStringLiteral("abc-123"));
        QCOMPARE(req.endpoints.size(), 2);
        QCOMPARE(req.endpoints[0].locationName, QStringLiteral("Platform A"));
        QCOMPARE(req.endpoints[0].priority, qint64(10));
        QCOMPARE(req.endpoints[1].locationName, QStringLiteral("Warm-up"));
        QCOMPARE(req.endpoints[1].priority, qint64(-3));
    }

    /// JOIN_MEET with every field present yields all fields, including an explicit display role.
    void joinMeet_allFields()
    {
        const QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                              {QStringLiteral("meetId"), QStringLiteral("123 456 789")},
                              {QStringLiteral("password"), QStringLiteral("the password")},
                              {QStringLiteral("locationName"), QStringLiteral("Platform A")},
                              {QStringLiteral("clientId"), QStringLiteral("xyz")},
                              {QStringLiteral("role"), QStringLiteral("display")}};
        const auto result = parseWith(encode(msg));
        EXPECT_REQUEST(JoinMeetRequest, req, result);
        QCOMPARE(req.meetId, QStringLiteral("123 456 789"));
        QCOMPARE(req.password, QStringLiteral("the password"));
        QCOMPARE(req.locationName, QStringLiteral("Platform A"));
        QCOMPARE(req.clientId, QStringLiteral("xyz"));
        QCOMPARE(req.role, Role::Display);
    }

    /// JOIN_DISPLAY carries a display link's token and a clientId, nothing else.
    void joinDisplay_allFields()
    {
        const QJsonObject msg{
            {QStringLiteral("msgType"), QStringLiteral("JOIN_DISPLAY")},
            {QStringLiteral("displayToken"), QStringLiteral("kO54Nh924lmMujGJjkau-x1HxZPJNn9LQHPvvuayz5k")},
            {QStringLiteral("clientId"), QStringLiteral("board-1")},
            {QStringLiteral("password"), QStringLiteral("ignored")}};
        const auto result = parseWith(encode(msg));
        EXPECT_REQUEST(JoinDisplayRequest, req, result);
        QCOMPARE(req.displayToken, QStringLiteral("kO54Nh924lmMujGJjkau-x1HxZPJNn9LQHPvvuayz5k"));
        QCOMPARE(req.clientId, QStringLiteral("board-1"));
    }

    /// Missing or mistyped JOIN_DISPLAY fields are named; the token's shape is the server's business.
    void joinDisplay_malformed_data()
    {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<QString>("error");
        QTest::addRow("no token") << QByteArray(R"({"msgType":"JOIN_DISPLAY","clientId":"b"})")
                                  << QStringLiteral("missing field 'displayToken'");
        QTest::addRow("token number") << QByteArray(R"({"msgType":"JOIN_DISPLAY","displayToken":7,"clientId":"b"})")
                                      << QStringLiteral("field 'displayToken' must be a string");
        QTest::addRow("no clientId") << QByteArray(R"({"msgType":"JOIN_DISPLAY","displayToken":"x"})")
                                     << QStringLiteral("missing field 'clientId'");
        QTest::addRow("clientId null") << QByteArray(R"({"msgType":"JOIN_DISPLAY","displayToken":"x","clientId":null})")
                                       << QStringLiteral("field 'clientId' must be a string");
    }
    void joinDisplay_malformed()
    {
        QFETCH(QByteArray, message);
        QFETCH(QString, error);
        const auto result = parseWith(message);
        const auto* err = std::get_if<ParseError>(&result);
        QVERIFY(err);
        QCOMPARE(err->kind, ParseError::Kind::Malformed);
        QCOMPARE(err->errMsg, error);
    }

    /// "Password" (the specification's spelling) is accepted; "password" wins when both are present.
    void joinMeet_passwordAlias()
    {
        QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                        {QStringLiteral("meetId"), QStringLiteral("123456789")},
                        {QStringLiteral("Password"), QStringLiteral("capitalised")},
                        {QStringLiteral("locationName"), QStringLiteral("A")},
                        {QStringLiteral("clientId"), QStringLiteral("c")}};
        {
            const auto result = parseWith(encode(msg));
            EXPECT_REQUEST(JoinMeetRequest, req, result);
            QCOMPARE(req.password, QStringLiteral("capitalised"));
        }
        msg.insert(QStringLiteral("password"), QStringLiteral("documented"));
        {
            const auto result = parseWith(encode(msg));
            EXPECT_REQUEST(JoinMeetRequest, req, result);
            QCOMPARE(req.password, QStringLiteral("documented"));
        }
        msg.remove(QStringLiteral("password"));
        msg.remove(QStringLiteral("Password"));
        {
            const auto result = parseWith(encode(msg));
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::Malformed);
            QVERIFY2(err.errMsg.contains(QStringLiteral("assword")), qPrintable(err.errMsg));
        }
    }

    /// role: absent means update; "update" and "display" are accepted; anything else is malformed.
    void joinMeet_role_data()
    {
        QTest::addColumn<QJsonValue>("role"); // Undefined = field absent
        QTest::addColumn<bool>("ok");
        QTest::addColumn<int>("expected");
        QTest::addRow("absent") << QJsonValue(QJsonValue::Undefined) << true << int(Role::Update);
        QTest::addRow("update") << QJsonValue(QStringLiteral("update")) << true << int(Role::Update);
        QTest::addRow("display") << QJsonValue(QStringLiteral("display")) << true << int(Role::Display);
        QTest::addRow("unknown word") << QJsonValue(QStringLiteral("admin")) << false << 0;
        QTest::addRow("wrong case") << QJsonValue(QStringLiteral("Display")) << false << 0;
        QTest::addRow("number") << QJsonValue(1) << false << 0;
        QTest::addRow("null") << QJsonValue(QJsonValue::Null) << false << 0;
    }
    void joinMeet_role()
    {
        QFETCH(QJsonValue, role);
        QFETCH(bool, ok);
        QFETCH(int, expected);
        QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("JOIN_MEET")},
                        {QStringLiteral("meetId"), QStringLiteral("123456789")},
                        {QStringLiteral("password"), QStringLiteral("pw")},
                        {QStringLiteral("locationName"), QStringLiteral("A")},
                        {QStringLiteral("clientId"), QStringLiteral("c")}};
        if (!role.isUndefined()) {
            msg.insert(QStringLiteral("role"), role);
        }
        const auto result = parseWith(encode(msg));
        if (ok) {
            EXPECT_REQUEST(JoinMeetRequest, req, result);
            QCOMPARE(int(req.role), expected);
        } else {
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::Malformed);
            QVERIFY2(err.errMsg.contains(QStringLiteral("'role'")), qPrintable(err.errMsg));
        }
    }

    /// UPDATE_INIT yields the token and every update with all four fields, in order.
    void updateInit_allFields()
    {
        const QJsonObject msg{
            {QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
            {QStringLiteral("sessionToken"), QStringLiteral("tok")},
            {QStringLiteral("updates"),
             QJsonArray{QJsonObject{{QStringLiteral("localSeqNum"), 7},
                                    {QStringLiteral("afterServerSeqNum"), 0},
                                    {QStringLiteral("updateKey"), QStringLiteral("meet.name")},
                                    {QStringLiteral("updateValue"), QStringLiteral("Nationals")}},
                        QJsonObject{{QStringLiteral("localSeqNum"), 8},
                                    {QStringLiteral("afterServerSeqNum"), 41},
                                    {QStringLiteral("updateKey"), QStringLiteral("registration.entries[id=5]")},
                                    {QStringLiteral("updateValue"), QJsonValue::Null}},
                        QJsonObject{{QStringLiteral("localSeqNum"), 9},
                                    {QStringLiteral("afterServerSeqNum"), 42},
                                    {QStringLiteral("updateKey"), QStringLiteral("meet.plates")},
                                    {QStringLiteral("updateValue"),
                                     QJsonArray{QJsonObject{{QStringLiteral("weightKg"), 25}}}}}}}};
        const auto result = parseWith(encode(msg));
        EXPECT_REQUEST(UpdateInitRequest, req, result);
        QCOMPARE(req.sessionToken, QStringLiteral("tok"));
        QCOMPARE(req.updates.size(), 3);
        QCOMPARE(req.updates[0].localSeqNum, qint64(7));
        QCOMPARE(req.updates[0].afterServerSeqNum, qint64(0));
        QCOMPARE(req.updates[0].key, QStringLiteral("meet.name"));
        QCOMPARE(req.updates[0].value, QJsonValue(QStringLiteral("Nationals")));
        QCOMPARE(req.updates[1].localSeqNum, qint64(8));
        QCOMPARE(req.updates[1].afterServerSeqNum, qint64(41));
        QCOMPARE(req.updates[1].key, QStringLiteral("registration.entries[id=5]"));
        QVERIFY(req.updates[1].value.isNull()); // null is a value (deletes), not a missing field
        QCOMPARE(req.updates[2].value, QJsonValue(QJsonArray{QJsonObject{{QStringLiteral("weightKg"), 25}}}));
    }

    /// CLIENT_PULL yields the token and lastServerSeq.
    void clientPull_allFields()
    {
        const QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("CLIENT_PULL")},
                              {QStringLiteral("sessionToken"), QStringLiteral("tok")},
                              {QStringLiteral("lastServerSeq"), 1234}};
        const auto result = parseWith(encode(msg));
        EXPECT_REQUEST(ClientPullRequest, req, result);
        QCOMPARE(req.sessionToken, QStringLiteral("tok"));
        QCOMPARE(req.lastServerSeq, qint64(1234));
    }

    /// The largest safe integer 2^53-1 is accepted exactly in every sequence field.
    void integers_maxSafeAccepted()
    {
        const QByteArray pull = R"({"msgType":"CLIENT_PULL","sessionToken":"t","lastServerSeq":9007199254740991})";
        const auto r1 = parseWith(pull);
        EXPECT_REQUEST(ClientPullRequest, p, r1);
        QCOMPARE(p.lastServerSeq, qint64(9007199254740991LL));

        const QByteArray upd = R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[)"
                               R"({"localSeqNum":9007199254740991,"afterServerSeqNum":9007199254740991,)"
                               R"("updateKey":"meet.name","updateValue":1}]})";
        const auto r2 = parseWith(upd);
        EXPECT_REQUEST(UpdateInitRequest, u, r2);
        QCOMPARE(u.updates[0].localSeqNum, qint64(9007199254740991LL));
        QCOMPARE(u.updates[0].afterServerSeqNum, qint64(9007199254740991LL));
    }

    /// Fractional, negative, unsafe (> 2^53-1) and non-number integers are malformed, naming the field.
    void integers_rejected_data()
    {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<QString>("field");
        auto pull = [](const char* v) -> QByteArray {
            return QByteArray(R"({"msgType":"CLIENT_PULL","sessionToken":"t","lastServerSeq":)") + v + "}";
        };
        auto upd = [](const char* local, const char* after) -> QByteArray {
            return QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[{"localSeqNum":)") + local
                + R"(,"afterServerSeqNum":)" + after + R"(,"updateKey":"meet.name","updateValue":1}]})";
        };
        auto create = [](const char* prio) -> QByteArray {
            return QByteArray(R"({"msgType":"CREATE_MEET","thisLocationName":"A","password":"0123456789",)"
                              R"("clientId":"c","endpoints":[{"locationName":"A","priority":)")
                + prio + "}]}";
        };
        const QString lastSeq = QStringLiteral("lastServerSeq");
        const QString local = QStringLiteral("localSeqNum");
        const QString after = QStringLiteral("afterServerSeqNum");
        const QString prio = QStringLiteral("priority");
        QTest::addRow("pull fractional") << pull("1.5") << lastSeq;
        QTest::addRow("pull negative") << pull("-1") << lastSeq;
        QTest::addRow("pull 2^53") << pull("9007199254740992") << lastSeq;
        QTest::addRow("pull 2^53+1") << pull("9007199254740993") << lastSeq;
        QTest::addRow("pull 2^63") << pull("9223372036854775808") << lastSeq;
        QTest::addRow("pull 1e300") << pull("1e300") << lastSeq;
        QTest::addRow("pull string") << pull(R"("5")") << lastSeq;
        QTest::addRow("pull bool") << pull("true") << lastSeq;
        QTest::addRow("pull null") << pull("null") << lastSeq;
        QTest::addRow("local zero") << upd("0", "0") << local;
        QTest::addRow("local fractional") << upd("2.25", "0") << local;
        QTest::addRow("local negative") << upd("-5", "0") << local;
        QTest::addRow("local 2^53") << upd("9007199254740992", "0") << local;
        QTest::addRow("local string") << upd(R"("1")", "0") << local;
        QTest::addRow("after fractional") << upd("1", "0.5") << after;
        QTest::addRow("after negative") << upd("1", "-1") << after;
        QTest::addRow("after 2^53") << upd("1", "9007199254740992") << after;
        QTest::addRow("after string") << upd("1", R"("0")") << after;
        QTest::addRow("priority fractional") << create("1.5") << prio;
        QTest::addRow("priority string") << create(R"("high")") << prio;
        QTest::addRow("priority huge") << create("1e12") << prio;
    }
    void integers_rejected()
    {
        QFETCH(QByteArray, message);
        QFETCH(QString, field);
        const auto result = parseWith(message);
        EXPECT_ERROR(err, result);
        QCOMPARE(err.kind, ParseError::Kind::Malformed);
        QVERIFY2(err.errMsg.contains(QLatin1Char('\'') + field + QLatin1Char('\'')), qPrintable(err.errMsg));
    }

    /// Missing or mistyped structure is malformed with a message that says what is wrong.
    void malformed_data()
    {
        QTest::addColumn<QByteArray>("message");
        QTest::addColumn<QString>("mentions");
        QTest::addRow("invalid JSON") << QByteArray(R"({"msgType":)") << QStringLiteral("JSON");
        QTest::addRow("not an object") << QByteArray(R"(["CLIENT_PULL"])") << QStringLiteral("object");
        QTest::addRow("no msgType") << QByteArray(R"({"lastServerSeq":1})") << QStringLiteral("msgType");
        QTest::addRow("msgType number") << QByteArray(R"({"msgType":5})") << QStringLiteral("msgType");
        QTest::addRow("pull without token")
            << QByteArray(R"({"msgType":"CLIENT_PULL","lastServerSeq":1})") << QStringLiteral("sessionToken");
        QTest::addRow("token number") << QByteArray(R"({"msgType":"CLIENT_PULL","sessionToken":1,"lastServerSeq":1})")
                                      << QStringLiteral("sessionToken");
        QTest::addRow("updates missing") << QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t"})")
                                         << QStringLiteral("updates");
        QTest::addRow("updates empty") << QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[]})")
                                       << QStringLiteral("updates");
        QTest::addRow("update not object")
            << QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[5]})")
            << QStringLiteral("updates[0]");
        QTest::addRow("updateValue missing")
            << QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[)"
                          R"({"localSeqNum":1,"afterServerSeqNum":0,"updateKey":"meet.name"}]})")
            << QStringLiteral("updateValue");
        QTest::addRow("updateKey number")
            << QByteArray(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[)"
                          R"({"localSeqNum":1,"afterServerSeqNum":0,"updateKey":3,"updateValue":1}]})")
            << QStringLiteral("updateKey");
        QTest::addRow("endpoints not array")
            << QByteArray(R"({"msgType":"CREATE_MEET","thisLocationName":"A","password":"0123456789",)"
                          R"("clientId":"c","endpoints":{}})")
            << QStringLiteral("endpoints");
        QTest::addRow("endpoint not object")
            << QByteArray(R"({"msgType":"CREATE_MEET","thisLocationName":"A","password":"0123456789",)"
                          R"("clientId":"c","endpoints":["A"]})")
            << QStringLiteral("endpoints[0]");
        QTest::addRow("endpoint without name")
            << QByteArray(R"({"msgType":"CREATE_MEET","thisLocationName":"A","password":"0123456789",)"
                          R"("clientId":"c","endpoints":[{"priority":1}]})")
            << QStringLiteral("locationName");
        QTest::addRow("create without thisLocationName")
            << QByteArray(R"({"msgType":"CREATE_MEET","password":"0123456789",)"
                          R"("clientId":"c","endpoints":[{"locationName":"A","priority":1}]})")
            << QStringLiteral("thisLocationName");
        QTest::addRow("join without meetId")
            << QByteArray(R"({"msgType":"JOIN_MEET","password":"p","locationName":"A","clientId":"c"})")
            << QStringLiteral("meetId");
    }
    void malformed()
    {
        QFETCH(QByteArray, message);
        QFETCH(QString, mentions);
        const auto result = parseWith(message);
        EXPECT_ERROR(err, result);
        QCOMPARE(err.kind, ParseError::Kind::Malformed);
        QVERIFY2(err.errMsg.contains(mentions), qPrintable(err.errMsg));
    }

    /// Exactly maxUpdatesPerMessage updates parse; one more is LimitExceeded "updatesPerMessage".
    void updatesLimit()
    {
        const Limits limits;
        auto message = [](int n) {
            QJsonArray ups;
            for (int i = 0; i < n; ++i) {
                ups.append(validUpdate(i + 1));
            }
            return encode({{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
                           {QStringLiteral("sessionToken"), QStringLiteral("t")},
                           {QStringLiteral("updates"), ups}});
        };
        {
            const auto result = parseWith(message(limits.maxUpdatesPerMessage), limits);
            EXPECT_REQUEST(UpdateInitRequest, req, result);
            QCOMPARE(req.updates.size(), limits.maxUpdatesPerMessage);
        }
        {
            const auto result = parseWith(message(limits.maxUpdatesPerMessage + 1), limits);
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::LimitExceeded);
            QCOMPARE(err.limitName, QStringLiteral("updatesPerMessage"));
            QCOMPARE(err.limitMax, qint64(limits.maxUpdatesPerMessage));
            QVERIFY(!err.errMsg.isEmpty());
        }
        // The parser honours the limits it was given, not the defaults.
        Limits small;
        small.maxUpdatesPerMessage = 3;
        {
            const auto result = parseWith(message(4), small);
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::LimitExceeded);
            QCOMPARE(err.limitMax, qint64(3));
        }
    }

    /// Exactly maxEndpoints endpoints parse; one more is LimitExceeded "endpoints".
    void endpointsLimit()
    {
        const Limits limits;
        auto message = [](int n) {
            return encode({{QStringLiteral("msgType"), QStringLiteral("CREATE_MEET")},
                           {QStringLiteral("thisLocationName"), QStringLiteral("Loc 0")},
                           {QStringLiteral("password"), QStringLiteral("0123456789")},
                           {QStringLiteral("clientId"), QStringLiteral("c")},
                           {QStringLiteral("endpoints"), endpointArray(n)}});
        };
        {
            const auto result = parseWith(message(limits.maxEndpoints), limits);
            EXPECT_REQUEST(CreateMeetRequest, req, result);
            QCOMPARE(req.endpoints.size(), limits.maxEndpoints);
        }
        {
            const auto result = parseWith(message(limits.maxEndpoints + 1), limits);
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::LimitExceeded);
            QCOMPARE(err.limitName, QStringLiteral("endpoints"));
            QCOMPARE(err.limitMax, qint64(limits.maxEndpoints));
        }
    }

    /// Two updates with the same localSeqNum in one message are malformed.
    void duplicateLocalSeqNum()
    {
        const QJsonObject msg{{QStringLiteral("msgType"), QStringLiteral("UPDATE_INIT")},
                              {QStringLiteral("sessionToken"), QStringLiteral("t")},
                              {QStringLiteral("updates"), QJsonArray{validUpdate(5), validUpdate(6), validUpdate(5)}}};
        const auto result = parseWith(encode(msg));
        EXPECT_ERROR(err, result);
        QCOMPARE(err.kind, ParseError::Kind::Malformed);
        QVERIFY2(err.errMsg.contains(QStringLiteral("localSeqNum")), qPrintable(err.errMsg));
        QVERIFY2(err.errMsg.contains(QStringLiteral("updates[2]")), qPrintable(err.errMsg));
    }

    /// An unknown msgType is UnknownType carrying the type, cut to 64 characters.
    void unknownType()
    {
        {
            const auto result = parseWith(R"({"msgType":"PUBLISH_EVERYTHING"})");
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::UnknownType);
            QCOMPARE(err.msgType, QStringLiteral("PUBLISH_EVERYTHING"));
        }
        {
            const QString longType = QString(200, u'X');
            const auto result = parseWith(encode({{QStringLiteral("msgType"), longType}}));
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::UnknownType);
            QCOMPARE(err.msgType, QString(64, u'X'));
        }
        {
            // Message types are case-sensitive.
            const auto result = parseWith(R"({"msgType":"client_pull","sessionToken":"t","lastServerSeq":0})");
            EXPECT_ERROR(err, result);
            QCOMPARE(err.kind, ParseError::Kind::UnknownType);
        }
    }

    /// Doubles survive parse -> compactJson -> parse bit-exactly (OpenLifter compares kg exactly).
    void doublesBitExact_data()
    {
        QTest::addColumn<QByteArray>("literal");
        QTest::addColumn<double>("expected");
        QTest::addRow("20.41165641") << QByteArray("20.41165641") << 20.41165641;
        QTest::addRow("142.88159666981917") << QByteArray("142.88159666981917") << 142.88159666981917;
        QTest::addRow("0.1") << QByteArray("0.1") << 0.1;
        QTest::addRow("lb to kg") << QByteArray("226.796185") << 226.796185;
        QTest::addRow("tiny") << QByteArray("5e-324") << 5e-324;
        QTest::addRow("huge") << QByteArray("1.7976931348623157e308") << 1.7976931348623157e308;
        QTest::addRow("negative") << QByteArray("-0.30000000000000004") << -0.30000000000000004;
    }
    void doublesBitExact()
    {
        QFETCH(QByteArray, literal);
        QFETCH(double, expected);
        const QByteArray msg = R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[{"localSeqNum":1,)"
                               R"("afterServerSeqNum":0,"updateKey":"registration.entries[id=1].bodyweightKg",)"
                               R"("updateValue":)"
            + literal + R"(},{"localSeqNum":2,"afterServerSeqNum":0,"updateKey":"meet.plates","updateValue":[{"w":)"
            + literal + R"(}]}]})";
        const auto result = parseWith(msg);
        EXPECT_REQUEST(UpdateInitRequest, req, result);
        const double first = req.updates[0].value.toDouble();
        QVERIFY2(sameBits(first, expected), qPrintable(QString::number(first, 'g', 17)));
        const double nested = req.updates[1].value.toArray()[0].toObject().value(QStringLiteral("w")).toDouble();
        QVERIFY(sameBits(nested, expected));

        // Re-encode (as the journal and relays do) and parse again.
        const QByteArray text = compactJson(req.updates[0].value);
        const QByteArray textNested = compactJson(req.updates[1].value);
        const auto again = parseWith(R"({"msgType":"UPDATE_INIT","sessionToken":"t","updates":[{"localSeqNum":1,)"
                                     R"("afterServerSeqNum":0,"updateKey":"a.b","updateValue":)"
                                     + text
                                     + R"(},{"localSeqNum":2,"afterServerSeqNum":0,"updateKey":"a.c",)"
                                       R"("updateValue":)"
                                     + textNested + "}]}");
        EXPECT_REQUEST(UpdateInitRequest, req2, again);
        const double back = req2.updates[0].value.toDouble();
        QVERIFY2(sameBits(back, expected), text.constData());
        const double backNested = req2.updates[1].value.toArray()[0].toObject().value(QStringLiteral("w")).toDouble();
        QVERIFY2(sameBits(backNested, expected), textNested.constData());
    }

    /// compactJson writes scalars as bare JSON and containers without whitespace.
    void compactJsonScalars()
    {
        QCOMPARE(compactJson(QJsonValue(QJsonValue::Null)), QByteArray("null"));
        QCOMPARE(compactJson(true), QByteArray("true"));
        QCOMPARE(compactJson(42), QByteArray("42"));
        const QByteArray quoted("\"a\\\"b\"");
        QCOMPARE(compactJson(QStringLiteral("a\"b")), quoted);
        QCOMPARE(compactJson(QJsonArray{1, 2}), QByteArray("[1,2]"));
        const QByteArray object("{\"k\":1}");
        QCOMPARE(compactJson(QJsonObject{{QStringLiteral("k"), 1}}), object);
    }

    /// normalizeMeetId accepts 9 digits with spaces or dashes and rejects everything else.
    void normalizeMeetId_data()
    {
        QTest::addColumn<QString>("typed");
        QTest::addColumn<QString>("expected"); // empty = rejected
        QTest::addRow("spaces") << "123 456 789"
                                << "123456789";
        QTest::addRow("dashes") << "123-456-789"
                                << "123456789";
        QTest::addRow("plain") << "123456789"
                               << "123456789";
        QTest::addRow("leading zeros") << "000 000 001"
                                       << "000000001";
        QTest::addRow("8 digits") << "12345678"
                                  << "";
        QTest::addRow("10 digits") << "1234567890"
                                   << "";
        QTest::addRow("letter") << "12a456789"
                                << "";
        QTest::addRow("traversal") << "../../etc"
                                   << "";
        QTest::addRow("empty") << ""
                               << "";
        QTest::addRow("slash") << "123/456/789"
                               << "";
        QTest::addRow("arabic-indic digits")
            << QStringLiteral("\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669") << "";
        QTest::addRow("very long padding") << (QString(100, u' ') + QStringLiteral("123456789")) << "";
    }
    void normalizeMeetId()
    {
        QFETCH(QString, typed);
        QFETCH(QString, expected);
        const std::optional<QString> got = oll::normalizeMeetId(typed);
        if (expected.isEmpty()) {
            QVERIFY2(!got.has_value(), qPrintable(got.value_or(QString())));
        } else {
            QVERIFY(got.has_value());
            QCOMPARE(*got, expected);
        }
    }

    /// displayMeetId groups the digits in threes.
    void displayMeetId()
    {
        QCOMPARE(oll::displayMeetId(QStringLiteral("123456789")), QStringLiteral("123 456 789"));
        QCOMPARE(oll::displayMeetId(*oll::normalizeMeetId(QStringLiteral("987-654-321"))),
                 QStringLiteral("987 654 321"));
    }

    /// A well-formed CREATE_MEET passes validation (boundary lengths included).
    void validateCreate_accepts()
    {
        const Limits limits;
        QCOMPARE(validateCreate(validCreate(), limits), QString());
        CreateMeetRequest r = validCreate();
        r.password = QString(limits.minPasswordLength, u'p');
        r.clientId = QString(limits.maxClientIdLength, u'c');
        r.endpoints[1].locationName = QString(limits.maxLocationNameLength, u'n');
        QCOMPARE(validateCreate(r, limits), QString());
        r.password = QString(limits.maxPasswordLength, u'p');
        r.endpoints[1].locationName = QStringLiteral("Salle d'échauffement ü");
        QCOMPARE(validateCreate(r, limits), QString());
    }

    /// Each semantic problem in CREATE_MEET gives a non-empty reason that names it.
    void validateCreate_rejects_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("mentions");
        QTest::addRow("short password") << 0 << QStringLiteral("password");
        QTest::addRow("long password") << 1 << QStringLiteral("password");
        QTest::addRow("clientId with space") << 2 << QStringLiteral("clientId");
        QTest::addRow("clientId empty") << 3 << QStringLiteral("clientId");
        QTest::addRow("clientId too long") << 4 << QStringLiteral("clientId");
        QTest::addRow("no endpoints") << 5 << QStringLiteral("endpoint");
        QTest::addRow("duplicate name") << 6 << QStringLiteral("duplicate");
        QTest::addRow("duplicate name other case") << 7 << QStringLiteral("duplicate");
        QTest::addRow("leading space") << 8 << QStringLiteral("space");
        QTest::addRow("trailing space") << 9 << QStringLiteral("space");
        QTest::addRow("tab") << 10 << QStringLiteral("control");
        QTest::addRow("control char") << 11 << QStringLiteral("control");
        QTest::addRow("name too long") << 12 << QStringLiteral("64");
        QTest::addRow("empty name") << 13 << QStringLiteral("empty");
        QTest::addRow("thisLocationName not an endpoint") << 14 << QStringLiteral("thisLocationName");
        QTest::addRow("thisLocationName empty") << 15 << QStringLiteral("thisLocationName");
        QTest::addRow("thisLocationName other case") << 16 << QStringLiteral("thisLocationName");
        QTest::addRow("zero-width format char") << 17 << QStringLiteral("control");
    }
    void validateCreate_rejects()
    {
        QFETCH(int, which);
        QFETCH(QString, mentions);
        const Limits limits;
        CreateMeetRequest r = validCreate();
        switch (which) {
        case 0:
            r.password = QString(limits.minPasswordLength - 1, u'p');
            break;
        case 1:
            r.password = QString(limits.maxPasswordLength + 1, u'p');
            break;
        case 2:
            r.clientId = QStringLiteral("bad id");
            break;
        case 3:
            r.clientId.clear();
            break;
        case 4:
            r.clientId = QString(limits.maxClientIdLength + 1, u'c');
            break;
        case 5:
            r.endpoints.clear();
            break;
        case 6:
            r.endpoints[1].locationName = QStringLiteral("Platform 1");
            break;
        case 7:
            r.endpoints[1].locationName = QStringLiteral("PLATFORM 1");
            break;
        case 8:
            r.endpoints[1].locationName = QStringLiteral(" Platform 2");
            break;
        case 9:
            r.endpoints[1].locationName = QStringLiteral("Platform 2 ");
            break;
        case 10:
            r.endpoints[1].locationName = QStringLiteral("Platform\t2");
            break;
        case 11:
            r.endpoints[1].locationName = QStringLiteral("Platform\u00012");
            break;
        case 12:
            r.endpoints[1].locationName = QString(limits.maxLocationNameLength + 1, u'n');
            break;
        case 13:
            r.endpoints[1].locationName.clear();
            break;
        case 14:
            r.thisLocationName = QStringLiteral("Platform 3");
            break;
        case 15:
            r.thisLocationName.clear();
            break;
        case 16:
            r.thisLocationName = QStringLiteral("platform 1");
            break;
        case 17:
            r.endpoints[1].locationName = QStringLiteral("Platform\u200b2");
            break;
        default:
            QFAIL("unknown case");
        }
        const QString reason = validateCreate(r, limits);
        QVERIFY2(!reason.isEmpty(), "accepted");
        QVERIFY2(reason.contains(mentions, Qt::CaseInsensitive), qPrintable(reason));
    }
};

QTEST_GUILESS_MAIN(TestMessageParser)
#include "tst_messageparser.moc"
