// SPDX-License-Identifier: AGPL-3.0-or-later
// SyncEngine, the transport-free client protocol engine, driven with crafted server messages.
#include "client/SyncEngine.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QSignalSpy>
#include <QTest>

using namespace oll;

namespace {

const QString kE1 = QStringLiteral("1111111111111111");
const QString kE2 = QStringLiteral("2222222222222222");
const QString kToken = QStringLiteral("tokenAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
const QString kMeetId = QStringLiteral("123456789");

QString s(const char* text)
{
    return QString::fromUtf8(text);
}

/// An engine whose outgoing messages are collected instead of sent.
struct Rig
{
    explicit Rig(const QString& clientId, Limits limits = {})
        : engine(clientId, 1, limits)
    {
        attach();
    }
    explicit Rig(const PersistedState& state, Limits limits = {})
        : engine(state, limits)
    {
        attach();
    }
    void attach()
    {
        engine.setSendFunction([this](const QByteArray& text) { sent.append(QJsonDocument::fromJson(text).object()); });
    }
    /// The messages sent since the last call, and forgets them.
    QList<QJsonObject> take()
    {
        QList<QJsonObject> out = sent;
        sent.clear();
        return out;
    }
    QList<QJsonObject> takeOfType(const QString& type)
    {
        QList<QJsonObject> out;
        for (const QJsonObject& m : take()) {
            if (m.value(s("msgType")).toString() == type) {
                out.append(m);
            }
        }
        return out;
    }

    SyncEngine engine;
    QList<QJsonObject> sent;
};

QJsonObject loggedIn(const QString& type, const QString& role, qint64 head, const QString& epoch,
                     const QString& token = kToken)
{
    QJsonObject m{{s("msgType"), type},
                  {s("meetId"), kMeetId},
                  {s("meetIdDisplay"), s("123 456 789")},
                  {s("sessionToken"), token},
                  {s("locationName"), role == s("display") ? s("Board") : s("Desk")},
                  {s("role"), role},
                  {s("priority"), 10},
                  {s("headServerSeq"), head},
                  {s("endpoints"),
                   QJsonArray{QJsonObject{{s("locationName"), s("Desk")}, {s("priority"), 10}},
                              QJsonObject{{s("locationName"), s("Board")}, {s("priority"), 0}}}}};
    if (!epoch.isEmpty()) {
        m.insert(s("epoch"), epoch);
    }
    return m;
}

QJsonObject wireEntry(qint64 seq, const QString& key, const QJsonValue& value, const QString& clientId = s("other"),
                      qint64 lsn = 0, qint64 after = 0)
{
    return QJsonObject{{s("serverSeqNum"), seq},
                       {s("updateKey"), key},
                       {s("updateValue"), value},
                       {s("clientId"), clientId},
                       {s("localSeqNum"), lsn > 0 ? lsn : seq},
                       {s("locationName"), s("Platform 1")},
                       {s("afterServerSeqNum"), after}};
}

QJsonObject relay(const QJsonArray& entries, qint64 head, const QString& epoch, bool pull = false, bool final = false)
{
    QJsonObject m{{s("msgType"), s("UPDATE_RELAY")}, {s("headServerSeq"), head}, {s("updatesRelayed"), entries}};
    if (!epoch.isEmpty()) {
        m.insert(s("epoch"), epoch);
    }
    if (pull) {
        m.insert(s("pull"), true);
        m.insert(s("final"), final);
    }
    return m;
}

QJsonObject compactedChunk(qint64 from, qint64 through, const QJsonArray& items, bool last, bool final,
                           const QString& epoch)
{
    return QJsonObject{{s("msgType"), s("UPDATE_RELAY")},
                       {s("pull"), true},
                       {s("compacted"), true},
                       {s("compactedLast"), last},
                       {s("final"), final},
                       {s("fromServerSeq"), from},
                       {s("throughServerSeq"), through},
                       {s("headServerSeq"), through},
                       {s("epoch"), epoch},
                       {s("updatesRelayed"), items}};
}

QJsonObject item(const QString& key, const QJsonValue& value, qint64 seq)
{
    return QJsonObject{{s("updateKey"), key}, {s("updateValue"), value}, {s("serverSeqNum"), seq}};
}

QJsonObject serverPull(qint64 k, const QString& epoch)
{
    return QJsonObject{
        {s("msgType"), s("SERVER_PULL")}, {s("lastServerSeq"), k}, {s("epoch"), epoch}, {s("headServerSeq"), k}};
}

QJsonValue at(const MeetState& state, const char* key)
{
    return state.valueAt(*KeyPath::parse(s(key), 256, 16)).value_or(QJsonValue(QJsonValue::Undefined));
}

/// Logs the rig in as an update (or display) session of a meet whose log is 1..n (entries
/// `k<i>` = i by "other"), epoch kE1, and leaves it caught up with nothing sent pending.
void joinWithLog(Rig& rig, int n, const QString& role = s("update"))
{
    rig.engine.transportOpened();
    rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"),
                        role == s("display") ? Role::Display : Role::Update);
    rig.engine.receive(loggedIn(s("MEET_JOINED"), role, n, kE1));
    QJsonArray entries;
    for (int i = 1; i <= n; ++i) {
        entries.append(wireEntry(i, QStringLiteral("k%1").arg(i), i, s("other"), i, i - 1));
    }
    rig.engine.receive(relay(entries, n, kE1, true, true));
    rig.take();
}

} // namespace

class TestSyncEngine final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Login, update, ack, relay, dedupe: the behaviour SyncClient always had, without a socket.
    void basicFlow()
    {
        Rig rig(s("me"));
        QCOMPARE(rig.engine.update(s("meet.name"), s("Offline")), 1);
        QVERIFY(rig.sent.isEmpty()); // no transport yet
        rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"));
        QVERIFY(rig.sent.isEmpty());
        rig.engine.transportOpened();
        QCOMPARE(rig.engine.link(), SyncEngine::Link::LoggingIn);
        QCOMPARE(rig.takeOfType(s("JOIN_MEET")).size(), 1);

        rig.engine.receive(loggedIn(s("MEET_JOINED"), s("update"), 0, kE1));
        QCOMPARE(rig.engine.link(), SyncEngine::Link::Online);
        QCOMPARE(rig.engine.epoch(), kE1); // held nothing: adopted at once
        QCOMPARE(rig.engine.endpoints().size(), 2);
        QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 1); // head 0 = lastServerSeq: no pull, just the update
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("UPDATE_INIT"));
        QVERIFY(!rig.engine.outOfSync());

        rig.engine.receive(relay({wireEntry(1, s("meet.city"), s("Hamilton"), s("other"), 7, 0)}, 1, kE1));
        rig.engine.receive(
            QJsonObject{{s("msgType"), s("UPDATE_ACK")},
                        {s("headServerSeq"), 2},
                        {s("epoch"), kE1},
                        {s("updateAcks"), QJsonArray{QJsonObject{{s("localSeqNum"), 1}, {s("serverSeqNum"), 2}}}}});
        QCOMPARE(rig.engine.lastServerSeq(), 2);
        QCOMPARE(rig.engine.pendingCount(), 0);
        QCOMPARE(rig.engine.serverSeqOf(1).value_or(-1), 2);
        QCOMPARE(rig.engine.entry(1)->localSeqNum, 7);
        QCOMPARE(at(rig.engine.canonicalState(), "meet.name").toString(), s("Offline"));
        // A repeated entry (pull overlapping a relay) is ignored.
        rig.engine.receive(relay({wireEntry(1, s("meet.city"), s("Elsewhere"))}, 2, kE1));
        QCOMPARE(at(rig.engine.canonicalState(), "meet.city").toString(), s("Hamilton"));

        // Reconnect: re-bind with a pull naming the epoch, then resend what is unacked.
        rig.engine.update(s("meet.units"), s("kg"));
        rig.take();
        rig.engine.transportClosed();
        QCOMPARE(rig.engine.link(), SyncEngine::Link::Closed);
        rig.engine.transportOpened();
        sent = rig.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("CLIENT_PULL"));
        QCOMPARE(sent[0].value(s("lastServerSeq")).toInteger(), 2);
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE1);
        QVERIFY(!sent[0].contains(s("compact"))); // default: compacted answers are welcome
        // The resend waits for the pull answer: had the server lost the log, it would ask for it
        // first, and the resend must not take the numbers the log's entries need.
        rig.engine.receive(relay({}, 2, kE1, true, true));
        sent = rig.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("UPDATE_INIT"));
        QCOMPARE(sent[0].value(s("updates")).toArray().at(0).toObject().value(s("localSeqNum")).toInteger(), 2);
    }

    /// Relayed entries keep their afterServerSeqNum; a client that holds a log keeps its epoch
    /// across a join until a pull answer vouches for the log.
    void epochAndAfterServerSeq()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 3);
        QCOMPARE(rig.engine.entry(3)->afterServerSeqNum, 2);
        QCOMPARE(rig.engine.epoch(), kE1);

        // The server restarted (new epoch) with the same head: still pull, naming the old epoch.
        QSignalSpy epochSpy(&rig.engine, &SyncEngine::epochChanged);
        rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"));
        rig.take();
        rig.engine.receive(loggedIn(s("MEET_JOINED"), s("update"), 3, kE2));
        QCOMPARE(rig.engine.epoch(), kE1);
        const QList<QJsonObject> pulls = rig.takeOfType(s("CLIENT_PULL"));
        QCOMPARE(pulls.size(), 1);
        QCOMPARE(pulls[0].value(s("epoch")).toString(), kE1);
        QCOMPARE(pulls[0].value(s("lastServerSeq")).toInteger(), 3);
        QVERIFY(rig.engine.outOfSync());

        rig.engine.receive(relay({}, 3, kE2, true, true));
        QCOMPARE(rig.engine.epoch(), kE2);
        QCOMPARE(epochSpy.count(), 1);
        QVERIFY(!rig.engine.outOfSync());
        QCOMPARE(rig.engine.lastServerSeq(), 3);

        // compact:false when the caller does not want compacted answers.
        rig.engine.setAcceptCompactPulls(false);
        rig.engine.transportClosed();
        rig.engine.transportOpened();
        QCOMPARE(rig.takeOfType(s("CLIENT_PULL")).value(0).value(s("compact")), QJsonValue(false));
    }

    /// A fresh client pulls without an epoch; compacted chunks are buffered and applied together
    /// when the last one arrives; ordinary chunks continue after throughServerSeq.
    void compactedPartIsBufferedAndApplied()
    {
        Rig rig(s("me"));
        rig.engine.transportOpened();
        rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"));
        rig.take();
        rig.engine.receive(loggedIn(s("MEET_JOINED"), s("update"), 600, kE1));
        const QList<QJsonObject> pulls = rig.takeOfType(s("CLIENT_PULL"));
        QCOMPARE(pulls.size(), 1);
        QCOMPARE(pulls[0].value(s("lastServerSeq")).toInteger(), 0);
        QVERIFY(!pulls[0].contains(s("epoch"))); // holds nothing

        const QJsonObject entries{{s("entries"), QJsonArray{QJsonObject{{s("id"), 5}, {s("name"), s("Sam")}}}}};
        rig.engine.receive(compactedChunk(0, 600, {item(s("registration"), entries, 590)}, false, false, kE1));
        QVERIFY(rig.engine.receivingCompacted());
        QCOMPARE(rig.engine.lastServerSeq(), 0);
        QVERIFY(rig.engine.canonicalState().document().isEmpty()); // nothing applied before the last chunk

        rig.engine.receive(compactedChunk(0, 600,
                                          {item(s("meet"), QJsonObject{{s("name"), s("Open")}}, 12),
                                           item(s("live.platforms"), QJsonArray{1, 2}, 600)},
                                          true, false, kE1));
        QVERIFY(!rig.engine.receivingCompacted());
        QCOMPARE(rig.engine.lastServerSeq(), 600);
        QCOMPARE(rig.engine.baseServerSeq(), 600);
        QCOMPARE(rig.engine.compactedAfter().value_or(-1), 0);
        QVERIFY(rig.engine.canonicalLog().isEmpty()); // 1..600 are not held one by one
        QVERIFY(rig.engine.outOfSync()); // the answer goes on
        QCOMPARE(at(rig.engine.canonicalState(), "registration.entries[id=5].name").toString(), s("Sam"));
        QCOMPARE(at(rig.engine.canonicalState(), "meet.name").toString(), s("Open"));
        QCOMPARE(at(rig.engine.canonicalState(), "live.platforms[1]").toInt(), 2);

        rig.engine.receive(relay({wireEntry(601, s("meet.name"), s("Spring Open")),
                                  wireEntry(602, s("registration.entries[id=5].name"), s("Sam Doe"))},
                                 602, kE1, true, true));
        QCOMPARE(rig.engine.lastServerSeq(), 602);
        QVERIFY(!rig.engine.outOfSync());
        QCOMPARE(at(rig.engine.canonicalState(), "meet.name").toString(), s("Spring Open"));
        QCOMPARE(at(rig.engine.localState(), "registration.entries[id=5].name").toString(), s("Sam Doe"));
    }

    /// A compacted part is applied to the state at its fromServerSeq: what it does not name stays.
    void compactedPartOnTopOfHeldEntries()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 2);
        rig.engine.transportClosed();
        rig.engine.transportOpened();
        QCOMPARE(rig.takeOfType(s("CLIENT_PULL")).value(0).value(s("lastServerSeq")).toInteger(), 2);
        rig.engine.receive(compactedChunk(2, 700, {item(s("k2"), 22, 650), item(s("k3"), 3, 3)}, true, true, kE1));
        QCOMPARE(rig.engine.lastServerSeq(), 700);
        QCOMPARE(at(rig.engine.canonicalState(), "k1").toInt(), 1);
        QCOMPARE(at(rig.engine.canonicalState(), "k2").toInt(), 22);
        QCOMPARE(at(rig.engine.canonicalState(), "k3").toInt(), 3);
        QCOMPARE(rig.engine.compactedAfter().value_or(-1), 2);
        QVERIFY(!rig.engine.outOfSync()); // compactedLast and final in one chunk
    }

    /// The transport drops in the middle of a compacted part: the buffer is discarded and the
    /// next answer starts from scratch.
    void compactedPartDiscardedOnClose()
    {
        Rig rig(s("me"));
        rig.engine.transportOpened();
        rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"));
        rig.engine.receive(loggedIn(s("MEET_JOINED"), s("update"), 600, kE1));
        rig.engine.receive(compactedChunk(0, 600, {item(s("stale"), 1, 1)}, false, false, kE1));
        QVERIFY(rig.engine.receivingCompacted());
        rig.engine.transportClosed();
        QVERIFY(!rig.engine.receivingCompacted());
        QCOMPARE(rig.engine.lastServerSeq(), 0);
        rig.take();

        rig.engine.transportOpened();
        const QList<QJsonObject> pulls = rig.takeOfType(s("CLIENT_PULL"));
        QCOMPARE(pulls.size(), 1);
        QCOMPARE(pulls[0].value(s("lastServerSeq")).toInteger(), 0);
        rig.engine.receive(compactedChunk(0, 601, {item(s("fresh"), 2, 601)}, true, true, kE1));
        QCOMPARE(rig.engine.lastServerSeq(), 601);
        QVERIFY(!rig.engine.canonicalState().document().contains(s("stale")));
        QCOMPARE(at(rig.engine.canonicalState(), "fresh").toInt(), 2);
    }

    /// A conflict rejection drops the pending update and rebases the local state on the canonical
    /// one, which holds the winner's value; the other pending updates stay.
    void conflictRejectionRebases()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 1);
        const qint64 lost = rig.engine.update(s("meet.name"), s("Mine"));
        const qint64 kept = rig.engine.update(s("meet.city"), s("Hamilton"));
        rig.take();
        QCOMPARE(at(rig.engine.localState(), "meet.name").toString(), s("Mine"));

        rig.engine.receive(relay({wireEntry(2, s("meet.name"), s("Theirs"), s("desk-2"), 4, 1)}, 2, kE1));
        QCOMPARE(at(rig.engine.canonicalState(), "meet.name").toString(), s("Theirs"));
        QCOMPARE(at(rig.engine.localState(), "meet.name").toString(), s("Mine")); // pending on top

        QSignalSpy spy(&rig.engine, &SyncEngine::updateRejected);
        rig.engine.receive(QJsonObject{{s("msgType"), s("UPDATE_REJECTED")},
                                       {s("updatesRejected"),
                                        QJsonArray{QJsonObject{{s("localSeqNum"), lost},
                                                               {s("conflict"), true},
                                                               {s("code"), s("CONFLICT")},
                                                               {s("reason"), s("Desk changed it first (seq 2)")},
                                                               {s("winner"),
                                                                QJsonObject{{s("serverSeqNum"), 2},
                                                                            {s("locationName"), s("Desk")},
                                                                            {s("clientId"), s("desk-2")},
                                                                            {s("priority"), 10}}},
                                                               {s("updateKey"), s("meet.name")},
                                                               {s("currentValue"), s("Theirs")},
                                                               {s("headServerSeq"), 2}}}}});
        QCOMPARE(spy.count(), 1);
        QCOMPARE(rig.engine.pendingCount(), 1);
        QCOMPARE(rig.engine.pending().first().localSeqNum, kept);
        QCOMPARE(rig.engine.rejected().size(), 1);
        const RejectedUpdate r = rig.engine.rejected().first();
        QVERIFY(r.conflict);
        QCOMPARE(r.code, s("CONFLICT"));
        QCOMPARE(r.update.localSeqNum, lost);
        QVERIFY(r.winner);
        QCOMPARE(r.winner->serverSeqNum, 2);
        QCOMPARE(r.winner->locationName, s("Desk"));
        QCOMPARE(r.winner->clientId, s("desk-2"));
        QCOMPARE(r.winner->priority, 10);
        QCOMPARE(r.currentValue.value_or(QJsonValue()).toString(), s("Theirs"));
        QCOMPARE(r.headServerSeq, 2);
        QCOMPARE(at(rig.engine.localState(), "meet.name").toString(), s("Theirs"));
        QCOMPARE(at(rig.engine.localState(), "meet.city").toString(), s("Hamilton"));
        QVERIFY(rig.take().isEmpty()); // caught up: no pull; the rejected update is never resent

        // Not caught up with the rejection's head: fetch the winner.
        const qint64 lost2 = rig.engine.update(s("meet.date"), s("2026-11-28"));
        rig.take();
        rig.engine.receive(QJsonObject{{s("msgType"), s("UPDATE_REJECTED")},
                                       {s("updatesRejected"),
                                        QJsonArray{QJsonObject{{s("localSeqNum"), lost2},
                                                               {s("conflict"), true},
                                                               {s("code"), s("CONFLICT")},
                                                               {s("reason"), s("lost")},
                                                               {s("updateKey"), s("meet.date")},
                                                               {s("headServerSeq"), 5}}}}});
        QVERIFY(!rig.engine.rejected().last().currentValue);
        const QList<QJsonObject> pulls = rig.takeOfType(s("CLIENT_PULL"));
        QCOMPARE(pulls.size(), 1);
        QCOMPARE(pulls[0].value(s("lastServerSeq")).toInteger(), 2);
        QVERIFY(!rig.engine.localState().document().value(s("meet")).toObject().contains(s("date")));
    }

    /// SERVER_PULL{k}: RECOVERY_PUSH of the entries above k with the old epoch, chunked; the log
    /// is cut back to k, pending updates clamped, the new epoch adopted, then pull and resend.
    void serverPullPushesTruncatesAndAdopts()
    {
        Limits limits;
        limits.maxUpdatesPerMessage = 2;
        Rig rig(s("me"), limits);
        joinWithLog(rig, 3);
        rig.engine.update(s("own.a"), 4);
        rig.engine.update(s("own.b"), 5);
        rig.engine.receive(QJsonObject{{s("msgType"), s("UPDATE_ACK")},
                                       {s("headServerSeq"), 5},
                                       {s("epoch"), kE1},
                                       {s("updateAcks"),
                                        QJsonArray{QJsonObject{{s("localSeqNum"), 1}, {s("serverSeqNum"), 4}},
                                                   QJsonObject{{s("localSeqNum"), 2}, {s("serverSeqNum"), 5}}}}});
        QCOMPARE(rig.engine.lastServerSeq(), 5);
        const qint64 pendingLsn = rig.engine.update(s("own.c"), 6);
        QCOMPARE(rig.engine.pending().first().afterServerSeqNum, 5);
        rig.take();

        QSignalSpy pushedSpy(&rig.engine, &SyncEngine::recoveryPushed);
        QSignalSpy pullSpy(&rig.engine, &SyncEngine::serverPullReceived);
        rig.engine.receive(serverPull(2, kE2));
        const QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 3); // push (3,4), push (5), pull; the resend waits for the answers
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("RECOVERY_PUSH"));
        QCOMPARE(sent[1].value(s("msgType")).toString(), s("RECOVERY_PUSH"));
        QCOMPARE(sent[2].value(s("msgType")).toString(), s("CLIENT_PULL"));
        QCOMPARE(rig.engine.recoveryOutboxSize(), 2);

        // The push: the old epoch, entries above k ascending with every field.
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE1);
        QCOMPARE(sent[0].value(s("sessionToken")).toString(), kToken);
        const QJsonArray first = sent[0].value(s("entries")).toArray();
        const QJsonArray second = sent[1].value(s("entries")).toArray();
        QCOMPARE(first.size(), 2);
        QCOMPARE(second.size(), 1);
        QCOMPARE(first[0].toObject(), wireEntry(3, s("k3"), 3, s("other"), 3, 2));
        const QJsonObject own = first[1].toObject();
        QCOMPARE(own.value(s("serverSeqNum")).toInteger(), 4);
        QCOMPARE(own.value(s("updateKey")).toString(), s("own.a"));
        QCOMPARE(own.value(s("updateValue")).toInt(), 4);
        QCOMPARE(own.value(s("clientId")).toString(), s("me"));
        QCOMPARE(own.value(s("localSeqNum")).toInteger(), 1);
        QCOMPARE(own.value(s("locationName")).toString(), s("Desk"));
        QCOMPARE(own.value(s("afterServerSeqNum")).toInteger(), 3);
        QCOMPARE(second[0].toObject().value(s("serverSeqNum")).toInteger(), 5);
        QCOMPARE(pushedSpy.count(), 1);
        QCOMPARE(pushedSpy.at(0).at(0).toLongLong(), 3);

        // The pull: from k under the new epoch.
        QCOMPARE(sent[2].value(s("lastServerSeq")).toInteger(), 2);
        QCOMPARE(sent[2].value(s("epoch")).toString(), kE2);

        // The engine's log now ends at k; the pending update keeps its base until the server
        // says whether the entries came back with their numbers.
        QCOMPARE(rig.engine.epoch(), kE2);
        QCOMPARE(rig.engine.lastServerSeq(), 2);
        QCOMPARE(rig.engine.canonicalLog().size(), 2);
        QCOMPARE(rig.engine.serverPullHead().value_or(-1), 2);
        QCOMPARE(rig.engine.pending().first().afterServerSeqNum, 5);
        QVERIFY(!rig.engine.canonicalState().document().contains(s("k3")));
        QVERIFY(!rig.engine.canonicalState().document().contains(s("own")));
        QCOMPARE(at(rig.engine.canonicalState(), "k2").toInt(), 2);
        QCOMPARE(at(rig.engine.localState(), "own.c").toInt(), 6);
        QCOMPARE(pullSpy.count(), 1);
        QVERIFY(rig.engine.outOfSync()); // the new pull is on its way

        // The server's answer.
        QSignalSpy ackSpy(&rig.engine, &SyncEngine::recoveryAcked);
        rig.engine.receive(QJsonObject{
            {s("msgType"), s("RECOVERY_ACK")},
            {s("restored"), 2},
            {s("resequenced"), 1},
            {s("duplicates"), 0},
            {s("conflicts"), 0},
            {s("skipped"), QJsonArray{QJsonObject{{s("serverSeqNum"), 9}, {s("reason"), s("unknown location")}}}},
            {s("headServerSeq"), 5},
            {s("epoch"), kE2}});
        QCOMPARE(ackSpy.count(), 1);
        const auto report = ackSpy.at(0).at(0).value<RecoveryReport>();
        QCOMPARE(report.restored, 2);
        QCOMPARE(report.resequenced, 1);
        QCOMPARE(report.skipped.size(), 1);
        QCOMPARE(report.skipped[0].first, 9);
        QCOMPARE(report.headServerSeq, 5);
        // One push is still unanswered: nothing is resent yet. The answered one stays until this
        // client holds the server's log up to the head the answer named (5).
        QVERIFY(rig.take().isEmpty());
        QCOMPARE(rig.engine.recoveryOutboxSize(), 2);
        rig.engine.receive(QJsonObject{{s("msgType"), s("RECOVERY_ACK")},
                                       {s("restored"), 1},
                                       {s("resequenced"), 0},
                                       {s("duplicates"), 0},
                                       {s("conflicts"), 0},
                                       {s("skipped"), QJsonArray()},
                                       {s("headServerSeq"), 5},
                                       {s("epoch"), kE2}});
        QCOMPARE(rig.engine.recoveryOutboxSize(), 2);
        // Some entries were re-numbered: the update saw nothing the server numbers above k.
        const QList<QJsonObject> resend = rig.take();
        QCOMPARE(resend.size(), 1);
        const QJsonObject resent = resend[0].value(s("updates")).toArray().at(0).toObject();
        QCOMPARE(resent.value(s("localSeqNum")).toInteger(), pendingLsn);
        QCOMPARE(resent.value(s("afterServerSeqNum")).toInteger(), 2);
        QCOMPARE(rig.engine.pending().first().afterServerSeqNum, 2);
        // Caught up with the server's log up to 5: the pushed copies are no longer needed.
        rig.engine.receive(
            relay({wireEntry(3, s("k3"), 3), wireEntry(4, s("x"), 4), wireEntry(5, s("y"), 5)}, 5, kE2, true, true));
        QCOMPARE(rig.engine.lastServerSeq(), 5);
        QCOMPARE(rig.engine.recoveryOutboxSize(), 0);

        QSignalSpy rejectedSpy(&rig.engine, &SyncEngine::recoveryRejected);
        rig.engine.receive(QJsonObject{{s("msgType"), s("RECOVERY_REJECTED")}, {s("reason"), s("display session")}});
        QCOMPARE(rejectedSpy.count(), 1);
        QCOMPARE(rejectedSpy.at(0).at(0).toString(), s("display session"));
    }

    /// A compacted base that covers seqs above k cannot give the state at k: everything is reset
    /// and pulled again from 0. A base above k with every entry up to k held one by one is fine.
    void compactedBaseForcesFullReset()
    {
        Rig rig(s("me"));
        rig.engine.transportOpened();
        rig.engine.joinMeet(kMeetId, s("correct horse battery"), s("Desk"));
        rig.engine.receive(loggedIn(s("MEET_JOINED"), s("update"), 602, kE1));
        rig.engine.receive(compactedChunk(0, 600, {item(s("base"), 1, 600)}, true, false, kE1));
        rig.engine.receive(relay({wireEntry(601, s("a"), 601), wireEntry(602, s("b"), 602)}, 602, kE1, true, true));
        rig.engine.update(s("mine"), 1);
        QCOMPARE(rig.engine.pending().first().afterServerSeqNum, 602);
        rig.take();

        rig.engine.receive(serverPull(300, kE2));
        QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 2);
        // Every pushed entry came back with its number: the update keeps its base.
        rig.engine.receive(QJsonObject{{s("msgType"), s("RECOVERY_ACK")},
                                       {s("restored"), 2},
                                       {s("resequenced"), 0},
                                       {s("duplicates"), 0},
                                       {s("conflicts"), 0},
                                       {s("skipped"), QJsonArray()},
                                       {s("headServerSeq"), 602},
                                       {s("epoch"), kE2}});
        sent.append(rig.take());
        QCOMPARE(sent.size(), 3);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("RECOVERY_PUSH"));
        const QJsonArray pushed = sent[0].value(s("entries")).toArray();
        QCOMPARE(pushed.size(), 2); // only what is held one by one
        QCOMPARE(pushed[0].toObject().value(s("serverSeqNum")).toInteger(), 601);
        QCOMPARE(pushed[1].toObject().value(s("serverSeqNum")).toInteger(), 602);
        QCOMPARE(sent[1].value(s("msgType")).toString(), s("CLIENT_PULL"));
        QCOMPARE(sent[1].value(s("lastServerSeq")).toInteger(), 0);
        QVERIFY(!sent[1].contains(s("epoch"))); // holds nothing any more
        QCOMPARE(sent[2].value(s("updates")).toArray().at(0).toObject().value(s("afterServerSeqNum")).toInteger(), 602);

        QCOMPARE(rig.engine.lastServerSeq(), 0);
        QCOMPARE(rig.engine.baseServerSeq(), 0);
        QVERIFY(!rig.engine.compactedAfter());
        QVERIFY(rig.engine.canonicalLog().isEmpty());
        QVERIFY(rig.engine.canonicalState().document().isEmpty());
        QCOMPARE(at(rig.engine.localState(), "mine").toInt(), 1);
        QCOMPARE(rig.engine.epoch(), kE2);

        // Entries 1..2 held, compacted part (2, 700]: SERVER_PULL{1} rebuilds from the entries.
        Rig rig2(s("me"));
        joinWithLog(rig2, 2);
        rig2.engine.transportClosed();
        rig2.engine.transportOpened();
        rig2.engine.receive(compactedChunk(2, 700, {item(s("k9"), 9, 700)}, true, true, kE1));
        rig2.take();
        rig2.engine.receive(serverPull(1, kE2));
        const QList<QJsonObject> sent2 = rig2.take();
        QCOMPARE(sent2[0].value(s("entries")).toArray().size(), 1); // entry 2
        QCOMPARE(sent2[1].value(s("lastServerSeq")).toInteger(), 1);
        QCOMPARE(sent2[1].value(s("epoch")).toString(), kE2);
        QCOMPARE(rig2.engine.lastServerSeq(), 1);
        QCOMPARE(rig2.engine.baseServerSeq(), 0);
        QCOMPARE(at(rig2.engine.canonicalState(), "k1").toInt(), 1);
        QVERIFY(!rig2.engine.canonicalState().document().contains(s("k9")));
        QVERIFY(!rig2.engine.canonicalState().document().contains(s("k2")));
    }

    /// A display session does not push; it only cuts back and pulls again.
    void displayClientDoesNotPush()
    {
        Rig rig(s("board"));
        joinWithLog(rig, 3, s("display"));
        QCOMPARE(rig.engine.role(), s("display"));
        QSignalSpy pushedSpy(&rig.engine, &SyncEngine::recoveryPushed);
        rig.engine.receive(serverPull(1, kE2));
        const QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("CLIENT_PULL"));
        QCOMPARE(sent[0].value(s("lastServerSeq")).toInteger(), 1);
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE2);
        QCOMPARE(pushedSpy.count(), 0);
        QCOMPARE(rig.engine.lastServerSeq(), 1);
        QCOMPARE(rig.engine.canonicalLog().size(), 1);
    }

    /// Save and restore keep the epoch, endpoints, base and logs; the old format still loads.
    void persistedStateRoundTrip()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 2);
        rig.engine.transportClosed();
        rig.engine.transportOpened();
        rig.engine.receive(compactedChunk(2, 700, {item(s("k9"), QJsonObject{{s("x"), 9}}, 700)}, true, false, kE2));
        rig.engine.receive(relay({wireEntry(701, s("k10"), 10, s("other"), 10, 650)}, 701, kE2, true, true));
        rig.engine.transportClosed();
        rig.engine.update(s("mine"), s("pending"));
        QCOMPARE(rig.engine.epoch(), kE2);

        const QByteArray saved = rig.engine.persistedState().save();
        const std::optional<PersistedState> restored = PersistedState::restore(saved);
        QVERIFY(restored);
        QCOMPARE(restored->epoch, kE2);
        QCOMPARE(restored->endpoints.size(), 2);
        QCOMPARE(restored->endpoints[1].locationName, s("Board"));
        QCOMPARE(restored->baseServerSeq, 700);
        QCOMPARE(restored->compactedAfter.value_or(-1), 2);
        QCOMPARE(restored->canonical.last().afterServerSeqNum, 650);

        Rig reloaded(*restored);
        QCOMPARE(reloaded.engine.clientId(), s("me"));
        QCOMPARE(reloaded.engine.sessionToken(), kToken);
        QCOMPARE(reloaded.engine.epoch(), kE2);
        QCOMPARE(reloaded.engine.lastServerSeq(), 701);
        QCOMPARE(reloaded.engine.baseServerSeq(), 700);
        QCOMPARE(reloaded.engine.compactedAfter().value_or(-1), 2);
        QCOMPARE(reloaded.engine.canonicalState().document(), rig.engine.canonicalState().document());
        QCOMPARE(reloaded.engine.localState().document(), rig.engine.localState().document());
        QCOMPARE(reloaded.engine.pendingCount(), 1);
        QCOMPARE(reloaded.engine.nextLocalSeqNum(), rig.engine.nextLocalSeqNum());
        QCOMPARE(reloaded.engine.persistedState().save(), saved);

        reloaded.engine.transportOpened();
        QList<QJsonObject> sent = reloaded.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("lastServerSeq")).toInteger(), 701);
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE2);
        reloaded.engine.receive(relay({}, 701, kE2, true, true));
        sent = reloaded.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("UPDATE_INIT"));

        // The format before epochs: no epoch, no base. It loads, and its pull names no known
        // history, so the server checks the log (SERVER_PULL) instead of trusting it.
        const QByteArray old
            = R"({"clientId":"me","sessionToken":"tok","meetId":"123456789","locationName":"Desk","role":"update",)"
              R"("nextLocalSeqNum":3,"pending":[{"localSeqNum":2,"key":"a.b","value":1,"afterServerSeqNum":1}],)"
              R"("canonical":[{"serverSeqNum":1,"key":"a.c","value":2,"clientId":"x","localSeqNum":1,"locationName":"Desk"}]})";
        const std::optional<PersistedState> oldState = PersistedState::restore(old);
        QVERIFY(oldState);
        QVERIFY(oldState->epoch.isEmpty());
        QCOMPARE(oldState->baseServerSeq, 0);
        Rig legacy(*oldState);
        QCOMPARE(legacy.engine.lastServerSeq(), 1);
        QCOMPARE(at(legacy.engine.localState(), "a.b").toInt(), 1);
        QCOMPARE(at(legacy.engine.localState(), "a.c").toInt(), 2);
        legacy.engine.transportOpened();
        const QJsonObject pull = legacy.takeOfType(s("CLIENT_PULL")).value(0);
        QCOMPARE(pull.value(s("lastServerSeq")).toInteger(), 1);
        QCOMPARE(pull.value(s("epoch")).toString(), s("0000000000000000"));
    }

    /// RESTORE_MEET carries the engine's epoch; a pending approval is reported; MEET_RESTORED is
    /// followed by a pull with the old epoch, and the SERVER_PULL{0} by a push of the whole log.
    void restoreMeetFlow()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 3);
        rig.engine.receive(QJsonObject{{s("msgType"), s("INVALID_SESSION")},
                                       {s("reason"), s("unknown session; join the meet again")},
                                       {s("sessionToken"), kToken.left(8)}});
        QCOMPARE(rig.engine.link(), SyncEngine::Link::NeedsJoin);

        const QList<Endpoint> eps{{s("Desk"), 10}, {s("Board"), 0}};
        QSignalSpy rejectedSpy(&rig.engine, &SyncEngine::restoreRejected);
        rig.engine.restoreMeet(s("123 456 789"), s("correct horse battery"), s("Desk"), eps);
        QCOMPARE(rig.engine.link(), SyncEngine::Link::LoggingIn);
        QJsonObject req = rig.takeOfType(s("RESTORE_MEET")).value(0);
        QCOMPARE(req.value(s("epoch")).toString(), kE1);
        QCOMPARE(req.value(s("meetId")).toString(), s("123 456 789"));
        QCOMPARE(req.value(s("thisLocationName")).toString(), s("Desk"));
        QCOMPARE(req.value(s("clientId")).toString(), s("me"));
        QCOMPARE(req.value(s("endpoints")).toArray().size(), 2);

        rig.engine.receive(QJsonObject{{s("msgType"), s("RESTORE_REJECTED")},
                                       {s("reason"), s("waiting for the meet director to approve")},
                                       {s("pendingApproval"), true},
                                       {s("retryAfterMs"), 2000}});
        QCOMPARE(rejectedSpy.count(), 1);
        QCOMPARE(rejectedSpy.at(0).at(1).toBool(), true);
        QCOMPARE(rejectedSpy.at(0).at(2).toLongLong(), 2000);
        QCOMPARE(rig.engine.link(), SyncEngine::Link::NeedsJoin);

        rig.engine.restoreMeet(s("123 456 789"), s("correct horse battery"), s("Desk"), eps);
        rig.take();
        const QString newToken = QStringLiteral("tokenBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
        QSignalSpy loggedInSpy(&rig.engine, &SyncEngine::loggedIn);
        rig.engine.receive(loggedIn(s("MEET_RESTORED"), s("update"), 0, kE2, newToken));
        QCOMPARE(loggedInSpy.count(), 1);
        QCOMPARE(rig.engine.link(), SyncEngine::Link::Online);
        QCOMPARE(rig.engine.epoch(), kE1); // not until the server has seen the log
        const QJsonObject pull = rig.takeOfType(s("CLIENT_PULL")).value(0);
        QCOMPARE(pull.value(s("sessionToken")).toString(), newToken);
        QCOMPARE(pull.value(s("lastServerSeq")).toInteger(), 3);
        QCOMPARE(pull.value(s("epoch")).toString(), kE1);

        rig.engine.receive(serverPull(0, kE2));
        const QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 2);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("RECOVERY_PUSH"));
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE1);
        QCOMPARE(sent[0].value(s("sessionToken")).toString(), newToken);
        QCOMPARE(sent[0].value(s("entries")).toArray().size(), 3);
        QCOMPARE(sent[1].value(s("msgType")).toString(), s("CLIENT_PULL"));
        QCOMPARE(sent[1].value(s("lastServerSeq")).toInteger(), 0);
        QCOMPARE(rig.engine.epoch(), kE2);

        // The restored entries come back under the new epoch.
        rig.engine.receive(
            relay({wireEntry(1, s("k1"), 1), wireEntry(2, s("k2"), 2), wireEntry(3, s("k3"), 3)}, 3, kE2, true, true));
        QCOMPARE(rig.engine.lastServerSeq(), 3);
        QVERIFY(!rig.engine.outOfSync());
    }

    /// A pull answer under a new epoch vouches only for the contiguous prefix: entries held beyond
    /// a gap are dropped, own ones go back to the pending log to be resent.
    void newEpochDropsGapEntries()
    {
        Rig rig(s("me"));
        joinWithLog(rig, 2);
        rig.engine.update(s("own"), 1);
        // Acked at 4 while 3 never arrived: a gap.
        rig.engine.receive(
            QJsonObject{{s("msgType"), s("UPDATE_ACK")},
                        {s("headServerSeq"), 4},
                        {s("epoch"), kE1},
                        {s("updateAcks"), QJsonArray{QJsonObject{{s("localSeqNum"), 1}, {s("serverSeqNum"), 4}}}}});
        QCOMPARE(rig.engine.lastServerSeq(), 2);
        QCOMPARE(rig.engine.pendingCount(), 0);
        rig.engine.transportClosed();
        rig.engine.transportOpened();
        rig.take();
        // The restarted server lost 3 and 4 and reused 3.
        rig.engine.receive(relay({wireEntry(3, s("other"), 3)}, 3, kE2, true, true));
        QCOMPARE(rig.engine.epoch(), kE2);
        QCOMPARE(rig.engine.lastServerSeq(), 3);
        QVERIFY(!rig.engine.entry(4));
        QCOMPARE(rig.engine.pendingCount(), 1);
        QCOMPARE(rig.engine.pending().first().localSeqNum, 1);
        QCOMPARE(at(rig.engine.localState(), "own").toInt(), 1);
        // Entry 4 goes back to the server first (this client may be the last to hold it), labelled
        // with the history it came from; the resend waits for the server's answer.
        const QList<QJsonObject> sent = rig.take();
        QCOMPARE(sent.size(), 1);
        QCOMPARE(sent[0].value(s("msgType")).toString(), s("RECOVERY_PUSH"));
        QCOMPARE(sent[0].value(s("epoch")).toString(), kE1);
        QCOMPARE(sent[0].value(s("entries")).toArray().size(), 1);
        QCOMPARE(sent[0].value(s("entries")).toArray().at(0).toObject().value(s("serverSeqNum")).toInteger(), 4);
        rig.engine.receive(QJsonObject{{s("msgType"), s("RECOVERY_ACK")},
                                       {s("restored"), 0},
                                       {s("resequenced"), 1},
                                       {s("duplicates"), 0},
                                       {s("conflicts"), 0},
                                       {s("skipped"), QJsonArray()},
                                       {s("headServerSeq"), 4},
                                       {s("epoch"), kE2}});
        const QList<QJsonObject> resent = rig.takeOfType(s("UPDATE_INIT"));
        QCOMPARE(resent.size(), 1);
        QCOMPARE(resent[0].value(s("updates")).toArray().at(0).toObject().value(s("localSeqNum")).toInteger(), 1);
    }
};

QTEST_GUILESS_MAIN(TestSyncEngine)
#include "tst_syncengine.moc"
