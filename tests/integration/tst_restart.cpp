// SPDX-License-Identifier: AGPL-3.0-or-later
// Restart durability with the real openlifter-live-server binary: every acknowledged update
// survives a graceful stop and a SIGKILL, byte-equal and under the same serverSeqNum; resends
// after a restart are not applied twice; a torn journal tail is cut and reported; a damaged
// journal keeps its meet offline without dropping anything; two servers never share a data dir.
#include "DirSnapshot.h"
#include "ServerHarness.h"
#include "TestClient.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <cstring>
#include <memory>
#include <optional>

using namespace oll::test;

namespace {

const QString kPassword = QStringLiteral("correct horse battery");
const QString kDesk = QStringLiteral("Desk");
const QString kPlatform1 = QStringLiteral("Platform 1");
const QString kPlatform2 = QStringLiteral("Platform 2");
const QString kBoard = QStringLiteral("Board");

QList<QPair<QString, int>> endpoints()
{
    return {{kDesk, 10}, {kPlatform1, 5}, {kPlatform2, 5}, {kBoard, 0}};
}

struct Update
{
    QString key;
    QJsonValue value;
};

/// What the server acknowledged under one serverSeqNum.
struct Acked
{
    QString key;
    QJsonValue value;
    QString clientId;
    qint64 localSeqNum = 0;
};
using Log = QMap<qint64, Acked>; // serverSeqNum -> update

using Wire = std::tuple<QString, QJsonValue, qint64, qint64>; // key, value, localSeqNum, afterServerSeqNum
using Message = QList<Wire>;

QString compact(const QJsonObject& o, int max = 300)
{
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact)).left(max);
}

QString dump(const TestClient& c)
{
    QStringList out;
    for (const QJsonObject& o : c.received()) {
        out.append(compact(o, 200));
    }
    return out.join(u'\n');
}

/// The next not-yet-taken message of any of these types (the first type listed wins).
std::optional<QJsonObject> nextOf(TestClient& c, const QStringList& types, int timeoutMs = 20000)
{
    QString found;
    (void)QTest::qWaitFor(
        [&] {
            for (const QString& t : types) {
                if (!c.pending(t).isEmpty()) {
                    found = t;
                    return true;
                }
            }
            return false;
        },
        timeoutMs);
    if (found.isEmpty()) {
        return std::nullopt;
    }
    return c.next(found, 0);
}

QString msgType(const QJsonObject& o)
{
    return o.value(QStringLiteral("msgType")).toString();
}

QJsonObject fixtureState()
{
    QFile f(QStringLiteral(OLL_TEST_DATA_DIR "/meets/midmeet-kg.openlifter"));
    if (!f.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(f.readAll()).object();
}

QString entryKey(qint64 id)
{
    return QStringLiteral("registration.entries[id=%1]").arg(id);
}

QString fieldKey(qint64 id, const QString& field)
{
    return entryKey(id) + field;
}

/// The whole `meet` and `lifting` slices, as a desk that loads a saved meet would send them.
QList<Update> sliceUpdates(const QJsonObject& state)
{
    return {{QStringLiteral("meet"), state.value(QStringLiteral("meet"))},
            {QStringLiteral("lifting"), state.value(QStringLiteral("lifting"))}};
}

/// Every registration entry as one whole object.
QList<Update> entryUpdates(const QJsonObject& state)
{
    QList<Update> out;
    const QJsonArray entries
        = state.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray();
    for (const QJsonValue& v : entries) {
        const QJsonObject e = v.toObject();
        out.append({entryKey(e.value(QStringLiteral("id")).toInteger()), e});
    }
    return out;
}

/// Per-field updates of every entry: bodyweight and every attempt weight and status.
QList<Update> fieldUpdates(const QJsonObject& state)
{
    QList<Update> out;
    const QJsonArray entries
        = state.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray();
    for (const QJsonValue& v : entries) {
        const QJsonObject e = v.toObject();
        const QString base = entryKey(e.value(QStringLiteral("id")).toInteger());
        out.append({base + QStringLiteral(".bodyweightKg"), e.value(QStringLiteral("bodyweightKg"))});
        for (const QString& lift : {QStringLiteral("squat"), QStringLiteral("bench"), QStringLiteral("deadlift")}) {
            const QJsonArray kg = e.value(lift + QStringLiteral("Kg")).toArray();
            const QJsonArray status = e.value(lift + QStringLiteral("Status")).toArray();
            for (int i = 0; i < kg.size(); ++i) {
                out.append({base + QStringLiteral(".%1Kg[%2]").arg(lift).arg(i), kg.at(i)});
                out.append({base + QStringLiteral(".%1Status[%2]").arg(lift).arg(i), status.at(i)});
            }
        }
    }
    return out;
}

/// Values that a sloppy serializer would change: extreme and unrounded doubles, big integers,
/// empty and non-ASCII strings, nesting, and the JSON literals.
QList<Update> awkwardUpdates()
{
    const QString nulString = QString(QStringLiteral("before") + QChar(0) + QStringLiteral("after"));
    const QJsonValue nestedArrays = QJsonArray{
        QJsonArray{1, QJsonArray{2.5, QJsonArray{}, QJsonArray{QJsonArray{20.41165641}}}},
        QJsonObject{{QStringLiteral("a"),
                     QJsonObject{{QStringLiteral("b"), QJsonArray{QJsonValue::Null, true, false, QString(), 1e-7}}}}},
        QJsonObject{}};
    const QJsonValue nestedObject
        = QJsonObject{{QStringLiteral("zeta"), 142.88159666981917},
                      {QStringLiteral("alpha"),
                       QJsonObject{{QStringLiteral("deep"), QJsonArray{QJsonObject{{QStringLiteral("x"), -0.5}}}}}},
                      {QStringLiteral("ü"), QStringLiteral("漢字")},
                      {QString(), QJsonValue::Null}};
    return {
        {fieldKey(23880, QStringLiteral(".bodyweightKg")), 20.41165641},
        {fieldKey(23881, QStringLiteral(".squatKg[1]")), 142.88159666981917},
        {fieldKey(23882, QStringLiteral(".bodyweightKg")), 1e-7},
        {fieldKey(23883, QStringLiteral(".bodyweightKg")), 5e-324},
        {fieldKey(23884, QStringLiteral(".bodyweightKg")), 1.7976931348623157e308},
        {fieldKey(23885, QStringLiteral(".benchKg[2]")), -0.5},
        {QStringLiteral("registration.nextEntryId"), QJsonValue(qint64(9007199254740991LL))},
        {fieldKey(23886, QStringLiteral(".bodyweightKg")), 0.1 + 0.2},
        {fieldKey(23887, QStringLiteral(".deadliftKg[0]")), -2.2250738585072014e-308},
        {fieldKey(23887, QStringLiteral(".notes")), QString()},
        {fieldKey(23888, QStringLiteral(".name")), QStringLiteral("Ł ü 漢字 🏋️")},
        {fieldKey(23889, QStringLiteral(".notes")),
         QString(nulString + QStringLiteral(" \"quoted\" back\\slash\ttab\nline"))},
        {QStringLiteral("lifting.overrideWeightKg"), nestedArrays},
        {QStringLiteral("meet.extra"), nestedObject},
        {fieldKey(23890, QStringLiteral(".guest")), true},
        {fieldKey(23891, QStringLiteral(".paid")), false},
        {QStringLiteral("lifting.overrideEntryId"), QJsonValue::Null},
        {fieldKey(23892, QStringLiteral(".divisions")), QJsonArray{}},
        {fieldKey(23893, QStringLiteral(".lot")), 0},
        {fieldKey(23894, QStringLiteral(".squatKg[4]")), -142.5},
    };
}

/// Splits updates into UPDATE_INIT messages whose sizes cycle through `sizes`, numbering the
/// updates from *nextLocal on.
QList<Message> messages(const QList<Update>& updates, const QList<int>& sizes, qint64* nextLocal, qint64 after = 0)
{
    QList<Message> out;
    int s = 0;
    for (qsizetype i = 0; i < updates.size();) {
        Message m;
        const int n = sizes.at(s++ % sizes.size());
        for (int k = 0; k < n && i < updates.size(); ++k, ++i) {
            m.append({updates[i].key, updates[i].value, (*nextLocal)++, after});
        }
        out.append(m);
    }
    return out;
}

/// Sends the messages without waiting; returns localSeqNum -> update for awaitAcks().
QHash<qint64, Update> sendAll(TestClient& c, const QString& token, const QList<Message>& msgs)
{
    QHash<qint64, Update> waiting;
    for (const Message& m : msgs) {
        c.sendUpdates(token, m);
        for (const auto& [key, value, local, after] : m) {
            waiting.insert(local, {key, value});
        }
    }
    return waiting;
}

/// Collects UPDATE_ACKs until every update in `waiting` is acknowledged, adding them to `log`.
/// Any rejection, storage error or session error is a failure.
bool awaitAcks(TestClient& c, const QString& clientId, QHash<qint64, Update> waiting, Log* log, QString* err)
{
    while (!waiting.isEmpty()) {
        const auto m = nextOf(c,
                              {QStringLiteral("UPDATE_ACK"), QStringLiteral("UPDATE_REJECTED"),
                               QStringLiteral("STORAGE_ERROR"), QStringLiteral("INVALID_SESSION"),
                               QStringLiteral("MALFORMED_MESSAGE"), QStringLiteral("LIMIT_EXCEEDED")});
        if (!m) {
            *err = QStringLiteral("%1 update(s) of %2 never acked; received:\n%3")
                       .arg(waiting.size())
                       .arg(clientId, dump(c));
            return false;
        }
        if (msgType(*m) != QStringLiteral("UPDATE_ACK")) {
            *err = QStringLiteral("%1 got %2").arg(clientId, compact(*m));
            return false;
        }
        const QJsonArray acks = m->value(QStringLiteral("updateAcks")).toArray();
        for (const QJsonValue& v : acks) {
            const qint64 local = v.toObject().value(QStringLiteral("localSeqNum")).toInteger();
            const qint64 server = v.toObject().value(QStringLiteral("serverSeqNum")).toInteger();
            const auto it = waiting.find(local);
            if (it == waiting.end()) {
                *err = QStringLiteral("%1: ack for localSeqNum %2, which is not waiting for one")
                           .arg(clientId)
                           .arg(local);
                return false;
            }
            if (log->contains(server)) {
                *err = QStringLiteral("%1: serverSeqNum %2 acked twice").arg(clientId).arg(server);
                return false;
            }
            log->insert(server, Acked{it->key, it->value, clientId, local});
            waiting.erase(it);
        }
    }
    return true;
}

/// Sends CLIENT_PULL and gathers the answer's chunks (UPDATE_RELAY, pull: true) until final: true.
bool pullAll(TestClient& c, const QString& token, qint64 after, QList<QJsonObject>* entries, qint64* head, QString* err)
{
    c.pull(token, after, /*compact=*/false);
    for (int chunk = 0;; ++chunk) {
        const auto m = nextOf(c,
                              {QStringLiteral("UPDATE_RELAY"), QStringLiteral("INVALID_SESSION"),
                               QStringLiteral("SERVER_PULL"), QStringLiteral("MALFORMED_MESSAGE")});
        if (!m) {
            *err = QStringLiteral("no pull answer (chunk %1); received:\n%2").arg(chunk).arg(dump(c));
            return false;
        }
        if (msgType(*m) != QStringLiteral("UPDATE_RELAY") || !m->value(QStringLiteral("pull")).toBool()) {
            *err = QStringLiteral("expected a pull answer, got %1").arg(compact(*m));
            return false;
        }
        const qint64 h = m->value(QStringLiteral("headServerSeq")).toInteger(-1);
        if (chunk > 0 && h != *head) {
            *err = QStringLiteral("headServerSeq changed between chunks: %1 then %2").arg(*head).arg(h);
            return false;
        }
        *head = h;
        const QJsonArray arr = m->value(QStringLiteral("updatesRelayed")).toArray();
        for (const QJsonValue& v : arr) {
            entries->append(v.toObject());
        }
        if (m->value(QStringLiteral("final")).toBool()) {
            return true;
        }
    }
}

/// Structural equality where every number must have the very same double bits.
bool sameJson(const QJsonValue& got, const QJsonValue& want, const QString& where, QString* err)
{
    if (got.type() != want.type()) {
        *err = QStringLiteral("%1: JSON type %2, expected %3").arg(where).arg(int(got.type())).arg(int(want.type()));
        return false;
    }
    switch (want.type()) {
    case QJsonValue::Double: {
        const double g = got.toDouble();
        const double w = want.toDouble();
        if (std::memcmp(&g, &w, sizeof(double)) != 0 || got.toInteger() != want.toInteger()) {
            *err = QStringLiteral("%1: number %2, expected %3 (bits differ)")
                       .arg(where, QString::number(g, 'g', 17), QString::number(w, 'g', 17));
            return false;
        }
        return true;
    }
    case QJsonValue::String:
        if (got.toString() != want.toString()) {
            *err = QStringLiteral("%1: string '%2', expected '%3'")
                       .arg(where, got.toString().left(80), want.toString().left(80));
            return false;
        }
        return true;
    case QJsonValue::Bool:
        if (got.toBool() != want.toBool()) {
            *err = QStringLiteral("%1: bool differs").arg(where);
            return false;
        }
        return true;
    case QJsonValue::Array: {
        const QJsonArray g = got.toArray();
        const QJsonArray w = want.toArray();
        if (g.size() != w.size()) {
            *err = QStringLiteral("%1: array of %2, expected %3").arg(where).arg(g.size()).arg(w.size());
            return false;
        }
        for (qsizetype i = 0; i < w.size(); ++i) {
            if (!sameJson(g.at(i), w.at(i), QStringLiteral("%1[%2]").arg(where).arg(i), err)) {
                return false;
            }
        }
        return true;
    }
    case QJsonValue::Object: {
        const QJsonObject g = got.toObject();
        const QJsonObject w = want.toObject();
        if (g.keys() != w.keys()) {
            *err = QStringLiteral("%1: members %2, expected %3").arg(where, g.keys().join(u','), w.keys().join(u','));
            return false;
        }
        for (auto it = w.begin(); it != w.end(); ++it) {
            if (!sameJson(g.value(it.key()), it.value(), where + u'.' + it.key(), err)) {
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

/// The pulled log must be exactly 1..N with each entry as acked: key, sender and value bits.
bool matchesLog(const QList<QJsonObject>& pulled, const Log& log, QString* err)
{
    if (pulled.size() != log.size()) {
        *err = QStringLiteral("pulled %1 entries, %2 were acked").arg(pulled.size()).arg(log.size());
        return false;
    }
    for (qsizetype i = 0; i < pulled.size(); ++i) {
        const QJsonObject& e = pulled[i];
        const qint64 seq = e.value(QStringLiteral("serverSeqNum")).toInteger();
        if (seq != i + 1) {
            *err = QStringLiteral("entry %1 has serverSeqNum %2, expected %3").arg(i).arg(seq).arg(i + 1);
            return false;
        }
        const auto it = log.constFind(seq);
        if (it == log.constEnd()) {
            *err = QStringLiteral("serverSeqNum %1 was never acked").arg(seq);
            return false;
        }
        const QString where = QStringLiteral("seq %1 (%2)").arg(seq).arg(it->key);
        if (e.value(QStringLiteral("updateKey")).toString() != it->key) {
            *err = QStringLiteral("%1: updateKey is '%2'").arg(where, e.value(QStringLiteral("updateKey")).toString());
            return false;
        }
        if (e.value(QStringLiteral("clientId")).toString() != it->clientId
            || e.value(QStringLiteral("localSeqNum")).toInteger() != it->localSeqNum) {
            *err = QStringLiteral("%1: sent by %2/%3, expected %4/%5")
                       .arg(where, e.value(QStringLiteral("clientId")).toString())
                       .arg(e.value(QStringLiteral("localSeqNum")).toInteger())
                       .arg(it->clientId)
                       .arg(it->localSeqNum);
            return false;
        }
        if (!e.contains(QStringLiteral("updateValue"))) {
            *err = QStringLiteral("%1: no updateValue").arg(where);
            return false;
        }
        if (!sameJson(e.value(QStringLiteral("updateValue")), it->value, where, err)) {
            return false;
        }
    }
    return true;
}

QString journalPath(const QString& dataDir, const QString& meetId)
{
    return dataDir + QStringLiteral("/current-meets/") + meetId + QStringLiteral("/updates.json.log");
}

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

/// The acks `log` gave the updates of message `m`, as {localSeqNum, serverSeqNum} objects in sent order.
QJsonArray expectedAcks(const Message& m, const Log& log)
{
    QHash<qint64, qint64> byLocal;
    for (auto it = log.cbegin(); it != log.cend(); ++it) {
        byLocal.insert(it->localSeqNum, it.key());
    }
    QJsonArray out;
    for (const auto& [key, value, local, after] : m) {
        out.append(QJsonObject{{QStringLiteral("localSeqNum"), local},
                               {QStringLiteral("serverSeqNum"), byLocal.value(local)}});
    }
    return out;
}

enum class Stop
{
    Graceful,
    Kill
};

} // namespace

class TestRestart final : public QObject
{
    Q_OBJECT

private:
    /// Shared body of the graceful and SIGKILL restart tests.
    void restartKeepsEveryAckedUpdate(Stop how)
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QJsonObject state = fixtureState();
        QVERIFY2(state.contains(QStringLiteral("registration")), "fixture midmeet-kg.openlifter is not readable");

        Log log;
        QString oldToken;
        QString meetId;
        qint64 nextLocal = 1;
        {
            ServerProcess server(data.path());
            QVERIFY2(server.start(), qPrintable(server.stderrText()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            const QJsonObject created = desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"));
            QCOMPARE(msgType(created), QStringLiteral("MEET_CREATED"));
            oldToken = desk.token;
            meetId = desk.meetId;

            QList<Message> msgs;
            msgs += messages(sliceUpdates(state), {2}, &nextLocal);
            msgs += messages(entryUpdates(state), {1000}, &nextLocal);
            msgs += messages(fieldUpdates(state), {700, 1000}, &nextLocal); // 1116 updates: two big messages
            msgs += messages(awkwardUpdates(), {1, 3, 5}, &nextLocal);
            QVERIFY(msgs.size() >= 8);
            QString err;
            QVERIFY2(awaitAcks(desk, QStringLiteral("desk-1"), sendAll(desk, oldToken, msgs), &log, &err),
                     qPrintable(err));
            QCOMPARE(qint64(log.size()), nextLocal - 1);
            QCOMPARE(log.firstKey(), qint64(1));
            QCOMPARE(log.lastKey(), nextLocal - 1);

            if (how == Stop::Graceful) {
                QVERIFY(server.terminate());
                QCOMPARE(server.process().exitCode(), 0);
                QVERIFY(desk.waitForDisconnect());
                QCOMPARE(desk.socket().closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
            } else {
                QVERIFY(server.kill()); // at once: the last ack has just arrived
                QCOMPARE(server.process().exitStatus(), QProcess::CrashExit);
            }
        }
        const qint64 n = log.size();
        QVERIFY(n > 1000); // the pull below needs more than one chunk

        ServerProcess restarted(data.path());
        QVERIFY2(restarted.start(), qPrintable(restarted.stderrText()));
        TestClient board(restarted.url());
        QVERIFY(board.open());
        const QJsonObject joined
            = board.joinMeet(meetId, kPassword, kBoard, QStringLiteral("board-1"), QStringLiteral("display"));
        QCOMPARE(msgType(joined), QStringLiteral("MEET_JOINED"));
        QCOMPARE(joined.value(QStringLiteral("headServerSeq")).toInteger(), n);

        QList<QJsonObject> pulled;
        qint64 head = -1;
        QString err;
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QCOMPARE(head, n);
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));

        // The token handed out before the restart is still a valid session.
        TestClient desk2(restarted.url());
        QVERIFY(desk2.open());
        QList<QJsonObject> none;
        QVERIFY2(pullAll(desk2, oldToken, n, &none, &head, &err), qPrintable(err));
        QVERIFY(none.isEmpty());
        QCOMPARE(head, n);
        QVERIFY(desk2.pending(QStringLiteral("INVALID_SESSION")).isEmpty());
        // ... and can keep updating: the next number follows on.
        QVERIFY2(awaitAcks(
                     desk2, QStringLiteral("desk-1"),
                     sendAll(desk2, oldToken,
                             messages({{QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open – day 2")}},
                                      {1}, &nextLocal, n)),
                     &log, &err),
                 qPrintable(err));
        QCOMPARE(log.lastKey(), n + 1);
        const QJsonObject relay = board.expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(relay.value(QStringLiteral("updatesRelayed"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("serverSeqNum"))
                     .toInteger(),
                 n + 1);
    }

private Q_SLOTS:
    /// SIGTERM, then restart on the same data dir: a pull from 0 returns every acked update bit-for-bit.
    void gracefulRestartKeepsEveryAckedUpdate() { restartKeepsEveryAckedUpdate(Stop::Graceful); }

    /// SIGKILL right after the last ack, then restart: a pull from 0 returns every acked update bit-for-bit.
    void sigkillRestartKeepsEveryAckedUpdate() { restartKeepsEveryAckedUpdate(Stop::Kill); }

    /// After a SIGKILL restart a resend of already-acked updates gets the original numbers and moves nothing.
    void resendAfterRestartIsNotAppliedTwice()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QJsonObject state = fixtureState();
        QVERIFY2(state.contains(QStringLiteral("registration")), "fixture midmeet-kg.openlifter is not readable");

        Log log;
        QString token;
        QString meetId;
        qint64 nextLocal = 1;
        Message last;
        {
            ServerProcess server(data.path());
            QVERIFY2(server.start(), qPrintable(server.stderrText()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            QCOMPARE(msgType(desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"))),
                     QStringLiteral("MEET_CREATED"));
            token = desk.token;
            meetId = desk.meetId;
            QList<Message> msgs = messages(entryUpdates(state), {12}, &nextLocal);
            msgs += messages(awkwardUpdates(), {1000}, &nextLocal);
            last = msgs.last();
            QString err;
            QVERIFY2(awaitAcks(desk, QStringLiteral("desk-1"), sendAll(desk, token, msgs), &log, &err),
                     qPrintable(err));
            QVERIFY(server.kill());
        }
        const qint64 n = log.size();

        ServerProcess restarted(data.path());
        QVERIFY2(restarted.start(), qPrintable(restarted.stderrText()));
        TestClient watcher(restarted.url());
        QVERIFY(watcher.open());
        const QJsonObject joined
            = watcher.joinMeet(meetId, kPassword, kBoard, QStringLiteral("board-1"), QStringLiteral("display"));
        QCOMPARE(msgType(joined), QStringLiteral("MEET_JOINED"));
        QCOMPARE(joined.value(QStringLiteral("headServerSeq")).toInteger(), n);

        // The desk reconnects with its old token and resends its last message as it was.
        TestClient desk(restarted.url());
        QVERIFY(desk.open());
        desk.sendUpdates(token, last);
        const auto ack = nextOf(
            desk, {QStringLiteral("UPDATE_ACK"), QStringLiteral("UPDATE_REJECTED"), QStringLiteral("INVALID_SESSION")});
        QVERIFY2(ack && msgType(*ack) == QStringLiteral("UPDATE_ACK"), qPrintable(dump(desk)));
        QCOMPARE(ack->value(QStringLiteral("updateAcks")).toArray(), expectedAcks(last, log));
        QCOMPARE(ack->value(QStringLiteral("headServerSeq")).toInteger(), n);

        // Again from a brand-new session of the same client: still the original numbers.
        TestClient rejoined(restarted.url());
        QVERIFY(rejoined.open());
        QCOMPARE(msgType(rejoined.joinMeet(meetId, kPassword, kDesk, QStringLiteral("desk-1"))),
                 QStringLiteral("MEET_JOINED"));
        rejoined.sendUpdates(rejoined.token, last);
        QCOMPARE(rejoined.expect(QStringLiteral("UPDATE_ACK")).value(QStringLiteral("updateAcks")).toArray(),
                 expectedAcks(last, log));

        // Ordering barrier: had a resend been applied, its relay would precede this pull answer.
        QList<QJsonObject> none;
        qint64 head = -1;
        QString err;
        QVERIFY2(pullAll(watcher, watcher.token, n, &none, &head, &err), qPrintable(err));
        QVERIFY(none.isEmpty());
        QCOMPARE(head, n);

        // A genuinely new update takes the next number, and is the only thing the watcher is sent.
        QVERIFY2(
            awaitAcks(desk, QStringLiteral("desk-1"),
                      sendAll(desk, token,
                              messages({{QStringLiteral("lifting.flight"), QStringLiteral("B")}}, {1}, &nextLocal, n)),
                      &log, &err),
            qPrintable(err));
        QCOMPARE(log.lastKey(), n + 1);
        const QJsonObject relay = watcher.expect(QStringLiteral("UPDATE_RELAY"));
        QVERIFY(!relay.contains(QStringLiteral("pull")));
        const QJsonArray relayed = relay.value(QStringLiteral("updatesRelayed")).toArray();
        QCOMPARE(relayed.size(), 1);
        QCOMPARE(relayed.at(0).toObject().value(QStringLiteral("serverSeqNum")).toInteger(), n + 1);
        QVERIFY(desk.pending(QStringLiteral("UPDATE_ACK")).isEmpty());
        QVERIFY(rejoined.pending(QStringLiteral("UPDATE_ACK")).isEmpty());

        QList<QJsonObject> pulled;
        QVERIFY2(pullAll(watcher, watcher.token, 0, &pulled, &head, &err), qPrintable(err));
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));
        QCOMPARE(qint64(readFile(journalPath(data.path(), meetId)).count('\n')), n + 1);
    }

    /// Torn tails a crash can leave: half a line, a whole line whose newline never made it, zeros.
    void tornTailIsCutAndReported_data()
    {
        QTest::addColumn<QByteArray>("tail");
        QTest::newRow("half a line") << QByteArray(
            R"({"serverSeqNum":%NEXT%,"key":"registration.entries[id=23880].bodyweightKg","value":83.)");
        QTest::newRow("whole line without newline") << QByteArray(
            R"({"serverSeqNum":%NEXT%,"key":"meet.name","value":"never acked","location":"Desk","clientId":"desk-1","localSeqNum":999,"afterServerSeqNum":0,"time":"2026-08-08T09:00:00.000Z"})");
        QTest::newRow("zero-filled block") << QByteArray(4096, '\0');
    }

    /// A write cut short by a crash is cut off on restart, reported in diag.log, and nothing acked is lost.
    void tornTailIsCutAndReported()
    {
        QFETCH(QByteArray, tail);
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QJsonObject state = fixtureState();
        QVERIFY2(state.contains(QStringLiteral("registration")), "fixture midmeet-kg.openlifter is not readable");

        Log log;
        QString token;
        QString meetId;
        qint64 nextLocal = 1;
        {
            ServerProcess server(data.path());
            QVERIFY2(server.start(), qPrintable(server.stderrText()));
            TestClient desk(server.url());
            QVERIFY(desk.open());
            QCOMPARE(msgType(desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"))),
                     QStringLiteral("MEET_CREATED"));
            token = desk.token;
            meetId = desk.meetId;
            QList<Message> msgs = messages(sliceUpdates(state), {2}, &nextLocal);
            msgs += messages(awkwardUpdates(), {4}, &nextLocal);
            QString err;
            QVERIFY2(awaitAcks(desk, QStringLiteral("desk-1"), sendAll(desk, token, msgs), &log, &err),
                     qPrintable(err));
            QVERIFY(server.kill());
        }
        const qint64 n = log.size();
        const QString journal = journalPath(data.path(), meetId);
        const QByteArray durable = readFile(journal);
        QVERIFY(durable.endsWith('\n'));
        QCOMPARE(qint64(durable.count('\n')), n);
        tail.replace("%NEXT%", QByteArray::number(n + 1));
        {
            QFile f(journal);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Append));
            QCOMPARE(f.write(tail), qint64(tail.size()));
        }

        ServerProcess restarted(data.path());
        QVERIFY2(restarted.start(), qPrintable(restarted.stderrText()));

        // Cut back to exactly the acked lines, and said so.
        QCOMPARE(readFile(journal), durable);
        const QList<QByteArray> diag = readFile(data.path() + QStringLiteral("/diag.log")).split('\n');
        const auto report = std::find_if(diag.cbegin(), diag.cend(), [&](const QByteArray& line) {
            return line.contains(meetId.toLatin1()) && line.toLower().contains("torn");
        });
        QVERIFY2(report != diag.cend(), "diag.log has no line about the torn journal tail");
        QVERIFY2(report->contains(QByteArray::number(tail.size())), report->constData());

        TestClient board(restarted.url());
        QVERIFY(board.open());
        QCOMPARE(
            msgType(board.joinMeet(meetId, kPassword, kBoard, QStringLiteral("board-1"), QStringLiteral("display"))),
            QStringLiteral("MEET_JOINED"));
        QList<QJsonObject> pulled;
        qint64 head = -1;
        QString err;
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QCOMPARE(head, n);
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));

        // The next update takes the number the torn line would have had, on a well-formed line.
        TestClient desk(restarted.url());
        QVERIFY(desk.open());
        QVERIFY2(awaitAcks(
                     desk, QStringLiteral("desk-1"),
                     sendAll(desk, token,
                             messages({{fieldKey(23880, QStringLiteral(".bodyweightKg")), 83.25}}, {1}, &nextLocal, n)),
                     &log, &err),
                 qPrintable(err));
        QCOMPARE(log.lastKey(), n + 1);
        const QByteArray after = readFile(journal);
        QVERIFY(after.startsWith(durable));
        QVERIFY(after.endsWith('\n'));
        QCOMPARE(qint64(after.count('\n')), n + 1);
        const QJsonObject relay = board.expect(QStringLiteral("UPDATE_RELAY"));
        QCOMPARE(relay.value(QStringLiteral("updatesRelayed"))
                     .toArray()
                     .at(0)
                     .toObject()
                     .value(QStringLiteral("serverSeqNum"))
                     .toInteger(),
                 n + 1);
        pulled.clear();
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));
    }

    /// A journal damaged before its last line is kept aside as it was; the meet continues from the
    /// valid prefix and asks clients that hold more for it (SERVER_PULL); other meets serve on.
    void damagedJournalIsKeptAsideAndRecoveredFromClients()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        const QJsonObject state = fixtureState();
        QVERIFY2(state.contains(QStringLiteral("registration")), "fixture midmeet-kg.openlifter is not readable");

        Log logA;
        Log logB;
        QString tokenA;
        QString tokenB;
        QString meetA;
        QString meetB;
        {
            ServerProcess server(data.path());
            QVERIFY2(server.start(), qPrintable(server.stderrText()));
            TestClient a(server.url());
            TestClient b(server.url());
            QVERIFY(a.open() && b.open());
            QCOMPARE(msgType(a.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-a"))),
                     QStringLiteral("MEET_CREATED"));
            QCOMPARE(msgType(b.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-b"))),
                     QStringLiteral("MEET_CREATED"));
            tokenA = a.token;
            tokenB = b.token;
            meetA = a.meetId;
            meetB = b.meetId;
            QVERIFY(meetA != meetB);
            qint64 localA = 1;
            qint64 localB = 1;
            const QList<Update> entries = entryUpdates(state);
            const auto waitingA = sendAll(a, tokenA, messages(entries.mid(0, 6), {2}, &localA));
            const auto waitingB = sendAll(b, tokenB, messages(entries.mid(6, 4), {4}, &localB));
            QString err;
            QVERIFY2(awaitAcks(a, QStringLiteral("desk-a"), waitingA, &logA, &err), qPrintable(err));
            QVERIFY2(awaitAcks(b, QStringLiteral("desk-b"), waitingB, &logB, &err), qPrintable(err));
            QVERIFY(server.terminate());
        }

        // Cut line 3 of meet A's journal in the middle: damage that is not a torn tail.
        const QString journalA = journalPath(data.path(), meetA);
        QList<QByteArray> lines = readFile(journalA).split('\n');
        QCOMPARE(lines.size(), logA.size() + 1); // the file ends with '\n'
        lines[2] = lines[2].left(lines[2].size() / 2);
        {
            QFile f(journalA);
            QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
            f.write(lines.join('\n'));
        }
        const QString dirA = data.path() + QStringLiteral("/current-meets/") + meetA;
        const QMap<QString, QByteArray> beforeA = snapshotDir(dirA);
        QVERIFY(beforeA.contains(QStringLiteral("/updates.json.log")));

        ServerProcess restarted(data.path());
        QVERIFY2(restarted.start(), qPrintable(restarted.stderrText()));

        QNetworkAccessManager nam;
        std::unique_ptr<QNetworkReply> reply(
            nam.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/health").arg(restarted.port())))));
        QTRY_VERIFY(reply->isFinished());
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        const QJsonObject health = QJsonDocument::fromJson(reply->readAll()).object();
        QCOMPARE(health.value(QStringLiteral("status")).toString(), QStringLiteral("ok"));
        QCOMPARE(health.value(QStringLiteral("damagedMeets")).toInt(), 0);
        QCOMPARE(health.value(QStringLiteral("meets")).toInt(), 2);

        // Meet A: the damaged file is kept byte for byte; the journal holds the two valid lines.
        QByteArray damagedCopy;
        for (const QString& name : QDir(dirA).entryList({QStringLiteral("updates.json.log.damaged-*")}, QDir::Files)) {
            damagedCopy = readFile(dirA + u'/' + name);
        }
        QCOMPARE(damagedCopy, beforeA.value(QStringLiteral("/updates.json.log")));
        QCOMPARE(readFile(journalA), lines.mid(0, 2).join('\n') + '\n');
        // A client that saw six entries is asked for what the server lost.
        TestClient a(restarted.url());
        QVERIFY(a.open());
        a.pull(tokenA, logA.size());
        const auto serverPull = a.next(QStringLiteral("SERVER_PULL"));
        QVERIFY(serverPull);
        QCOMPARE(serverPull->value(QStringLiteral("lastServerSeq")).toInteger(), 2);
        QVERIFY(a.pending(QStringLiteral("UPDATE_RELAY")).isEmpty());

        // Meet B: business as usual.
        TestClient board(restarted.url());
        QVERIFY(board.open());
        const QJsonObject joinedB
            = board.joinMeet(meetB, kPassword, kBoard, QStringLiteral("board-b"), QStringLiteral("display"));
        QCOMPARE(msgType(joinedB), QStringLiteral("MEET_JOINED"));
        QList<QJsonObject> pulled;
        qint64 head = -1;
        QString err;
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QVERIFY2(matchesLog(pulled, logB, &err), qPrintable(err));
        TestClient b(restarted.url());
        QVERIFY(b.open());
        qint64 localB = logB.size() + 1;
        QVERIFY2(awaitAcks(
                     b, QStringLiteral("desk-b"),
                     sendAll(b, tokenB,
                             messages({{QStringLiteral("meet.city"), QStringLiteral("Ōtautahi")}}, {1}, &localB, head)),
                     &logB, &err),
                 qPrintable(err));
        QCOMPARE(logB.lastKey(), head + 1);

        const QByteArray diag = readFile(data.path() + QStringLiteral("/diag.log"));
        QVERIFY2(diag.contains(QStringLiteral("meet %1: journal damaged at line 3").arg(meetA).toUtf8()),
                 diag.right(2000).constData());
    }

    /// Closing the terminal the server runs in (SIGHUP) stops it cleanly, like Ctrl-C.
    void hangupStopsCleanly()
    {
        QTemporaryDir data;
        ServerProcess server(data.path());
        QVERIFY(server.start());
        TestClient desk(server.url());
        QVERIFY(desk.open());
        desk.createMeet(QStringLiteral("Desk"), QStringLiteral("correct horse battery"), {{QStringLiteral("Desk"), 10}},
                        QStringLiteral("desk"));
        desk.sendUpdates(desk.token, {{QStringLiteral("meet.name"), QStringLiteral("Hangup"), 1, 0}});
        desk.expect(QStringLiteral("UPDATE_ACK"));
        QVERIFY(::kill(static_cast<pid_t>(server.process().processId()), SIGHUP) == 0);
        QVERIFY(server.process().waitForFinished(10000));
        QCOMPARE(server.process().exitStatus(), QProcess::NormalExit);
        QCOMPARE(server.process().exitCode(), 0);
        QFile diag(data.path() + QStringLiteral("/diag.log"));
        QVERIFY(diag.open(QIODevice::ReadOnly));
        QVERIFY(diag.readAll().contains("server stopped"));
    }

    /// A second server on a data directory in use exits non-zero and says why; the first serves on.
    void secondServerOnSameDataDirIsRefused()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        ServerProcess first(data.path());
        QVERIFY2(first.start(), qPrintable(first.stderrText()));
        TestClient desk(first.url());
        QVERIFY(desk.open());
        QCOMPARE(msgType(desk.createMeet(kDesk, kPassword, endpoints(), QStringLiteral("desk-1"))),
                 QStringLiteral("MEET_CREATED"));
        Log log;
        qint64 nextLocal = 1;
        QString err;
        QVERIFY2(awaitAcks(desk, QStringLiteral("desk-1"),
                           sendAll(desk, desk.token,
                                   messages({{QStringLiteral("meet.name"), QStringLiteral("Canterbury Winter Open")}},
                                            {1}, &nextLocal)),
                           &log, &err),
                 qPrintable(err));
        const QByteArray journalBefore = readFile(journalPath(data.path(), desk.meetId));

        ServerProcess second(data.path());
        QVERIFY(!second.start());
        QTRY_COMPARE(second.process().state(), QProcess::NotRunning);
        QCOMPARE(second.process().exitStatus(), QProcess::NormalExit);
        QVERIFY(second.process().exitCode() != 0);
        QTRY_VERIFY2(second.stderrText().contains(QStringLiteral("in use")), qPrintable(second.stderrText()));
        QVERIFY2(second.stderrText().contains(QStringLiteral("data directory")), qPrintable(second.stderrText()));
        QCOMPARE(readFile(journalPath(data.path(), desk.meetId)), journalBefore);
        QVERIFY(QFile::exists(data.path() + QStringLiteral("/server.lock")));

        // The first server is unaffected: updates, logins and pulls all work.
        QCOMPARE(first.process().state(), QProcess::Running);
        QVERIFY(desk.isConnected());
        QVERIFY2(awaitAcks(desk, QStringLiteral("desk-1"),
                           sendAll(desk, desk.token,
                                   messages({{QStringLiteral("meet.city"), QStringLiteral("Christchurch")}}, {1},
                                            &nextLocal, 1)),
                           &log, &err),
                 qPrintable(err));
        QCOMPARE(log.lastKey(), qint64(2));
        TestClient board(first.url());
        QVERIFY(board.open());
        QCOMPARE(msgType(board.joinMeet(desk.meetId, kPassword, kBoard, QStringLiteral("board-1"),
                                        QStringLiteral("display"))),
                 QStringLiteral("MEET_JOINED"));
        QList<QJsonObject> pulled;
        qint64 head = -1;
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));

        // Once the first has stopped, the directory is free again.
        QVERIFY(first.terminate());
        ServerProcess third(data.path());
        QVERIFY2(third.start(), qPrintable(third.stderrText()));
    }

    /// Ten rounds of two clients' acked batches each followed by SIGKILL: nothing lost, nothing doubled.
    void repeatedKillsLoseNothing()
    {
        QTemporaryDir data;
        QVERIFY(data.isValid());
        constexpr int kRounds = 10;
        const QString idA = QStringLiteral("platform-1-table");
        const QString idB = QStringLiteral("platform-2-table");
        Log log;
        QString tokenA;
        QString tokenB;
        QString meetId;
        qint64 localA = 1;
        qint64 localB = 1;
        for (int round = 0; round < kRounds; ++round) {
            ServerProcess server(data.path());
            QVERIFY2(server.start(), qPrintable(QStringLiteral("round %1: %2").arg(round).arg(server.stderrText())));
            TestClient a(server.url());
            TestClient b(server.url());
            QVERIFY(a.open() && b.open());
            QString err;
            const qint64 total = log.size();
            if (round == 0) {
                QCOMPARE(msgType(a.createMeet(kPlatform1, kPassword, endpoints(), idA)),
                         QStringLiteral("MEET_CREATED"));
                QCOMPARE(msgType(b.joinMeet(a.meetId, kPassword, kPlatform2, idB)), QStringLiteral("MEET_JOINED"));
                tokenA = a.token;
                tokenB = b.token;
                meetId = a.meetId;
            } else {
                // Reconnected with the old tokens; the head is exactly what was acked before the kill.
                for (auto [c, token] : {std::pair{&a, tokenA}, std::pair{&b, tokenB}}) {
                    QList<QJsonObject> none;
                    qint64 head = -1;
                    QVERIFY2(pullAll(*c, token, total, &none, &head, &err),
                             qPrintable(QStringLiteral("round %1: %2").arg(round).arg(err)));
                    QVERIFY(none.isEmpty());
                    QCOMPARE(head, total);
                }
            }

            QList<Update> forA;
            QList<Update> forB;
            for (int i = 0; i < 10; ++i) {
                const int k = round * 10 + i;
                // Attempts typed in lb and stored in kg, and reweighed bodyweights: unrounded doubles.
                forA.append({QStringLiteral("registration.entries[id=%1].squatKg[%2]").arg(23880 + k % 36).arg(k % 5),
                             (135 + 5 * k) * 0.45359237});
                forB.append({QStringLiteral("registration.entries[id=%1].bodyweightKg").arg(23880 + (k * 7) % 36),
                             52.0 + k / 7.0});
            }
            const QList<Message> msgsA = messages(forA, {1, 4, 5}, &localA, total);
            const QList<Message> msgsB = messages(forB, {2, 3, 5}, &localB, total);
            QHash<qint64, Update> waitingA;
            QHash<qint64, Update> waitingB;
            for (int m = 0; m < 3; ++m) { // interleaved, so the two streams share journal writes
                waitingA.insert(sendAll(a, tokenA, {msgsA.at(m)}));
                waitingB.insert(sendAll(b, tokenB, {msgsB.at(m)}));
            }
            QVERIFY2(awaitAcks(a, idA, waitingA, &log, &err),
                     qPrintable(QStringLiteral("round %1: %2").arg(round).arg(err)));
            QVERIFY2(awaitAcks(b, idB, waitingB, &log, &err),
                     qPrintable(QStringLiteral("round %1: %2").arg(round).arg(err)));
            QCOMPARE(qint64(log.size()), total + 20);
            QCOMPARE(log.lastKey(), total + 20);
            QVERIFY(server.kill());
        }

        ServerProcess server(data.path());
        QVERIFY2(server.start(), qPrintable(server.stderrText()));
        TestClient board(server.url());
        QVERIFY(board.open());
        QCOMPARE(
            msgType(board.joinMeet(meetId, kPassword, kBoard, QStringLiteral("board-1"), QStringLiteral("display"))),
            QStringLiteral("MEET_JOINED"));
        QList<QJsonObject> pulled;
        qint64 head = -1;
        QString err;
        QVERIFY2(pullAll(board, board.token, 0, &pulled, &head, &err), qPrintable(err));
        QCOMPARE(head, qint64(kRounds * 20));
        QVERIFY2(matchesLog(pulled, log, &err), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestRestart)
#include "tst_restart.moc"
