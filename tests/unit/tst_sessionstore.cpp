// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/SessionStore.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QCryptographicHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using oll::ManualClock;
using oll::Role;
using oll::SeededRandomSource;
using oll::Session;
using oll::SessionStore;

namespace {
constexpr qint64 kDayMs = 24LL * 60 * 60 * 1000;
}

class TestSessionStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// An issued token is 43 base64url characters, well formed, and stored only by its SHA-256.
    void issueShape()
    {
        ManualClock clock;
        SeededRandomSource random(1);
        SessionStore store(clock, random);
        const SessionStore::Issued issued
            = store.issue(QStringLiteral("client-1"), QStringLiteral("Platform A"), Role::Update);
        QCOMPARE(issued.token.size(), 43);
        QVERIFY(SessionStore::isWellFormedToken(issued.token));
        QCOMPARE(QByteArray::fromBase64(issued.token.toLatin1(), QByteArray::Base64UrlEncoding).size(), 32);
        QCOMPARE(issued.session.tokenHash,
                 QCryptographicHash::hash(issued.token.toLatin1(), QCryptographicHash::Sha256));
        QCOMPARE(SessionStore::hashToken(issued.token), issued.session.tokenHash);
        QCOMPARE(issued.session.clientId, QStringLiteral("client-1"));
        QCOMPARE(issued.session.locationName, QStringLiteral("Platform A"));
        QCOMPARE(issued.session.role, Role::Update);
        QCOMPARE(issued.session.issuedMs, clock.nowMs());
        QCOMPARE(issued.session.expiresMs, clock.nowMs() + SessionStore::kLifetimeMs);
        QCOMPARE(store.size(), 1);
    }

    /// Two issues give two different tokens, even for the same client.
    void tokensDistinct()
    {
        ManualClock clock;
        SeededRandomSource random(2);
        SessionStore store(clock, random);
        const auto a = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        const auto b = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        QVERIFY(a.token != b.token);
        QCOMPARE(store.size(), 2);
    }

    /// A token is Valid until 1 ms before issued + 7 days and Expired from exactly that instant.
    void expiryBoundary()
    {
        ManualClock clock;
        SeededRandomSource random(3);
        SessionStore store(clock, random);
        const qint64 t0 = clock.nowMs();
        const auto issued = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Display);
        const QByteArray h = SessionStore::hashToken(issued.token);

        Session out;
        QCOMPARE(store.check(h, &out), SessionStore::Status::Valid);
        QCOMPARE(out.clientId, QStringLiteral("c"));
        QCOMPARE(out.locationName, QStringLiteral("L"));
        QCOMPARE(out.role, Role::Display);

        QCOMPARE(SessionStore::kLifetimeMs, 7 * kDayMs);
        clock.setMs(t0 + 7 * kDayMs - 1);
        QCOMPARE(store.check(h), SessionStore::Status::Valid);
        clock.setMs(t0 + 7 * kDayMs);
        QCOMPARE(store.check(h), SessionStore::Status::Expired);
        clock.setMs(t0 + 30 * kDayMs);
        QCOMPARE(store.check(h), SessionStore::Status::Expired);
    }

    /// An expired check does not hand out the session.
    void expiredDoesNotFillOut()
    {
        ManualClock clock;
        SeededRandomSource random(4);
        SessionStore store(clock, random);
        const auto issued = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        clock.advanceMs(SessionStore::kLifetimeMs);
        Session out;
        QCOMPARE(store.check(issued.session.tokenHash, &out), SessionStore::Status::Expired);
        QVERIFY(out.clientId.isEmpty());
    }

    /// A token that was never issued (or a hash of the wrong size) is Unknown.
    void unknownToken()
    {
        ManualClock clock;
        SeededRandomSource random(5);
        SessionStore store(clock, random);
        const auto issued = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        SeededRandomSource other(999);
        const QString foreign = QString::fromLatin1(
            other.bytes(32).toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals));
        QVERIFY(SessionStore::isWellFormedToken(foreign));
        QVERIFY(foreign != issued.token);
        QCOMPARE(store.check(SessionStore::hashToken(foreign)), SessionStore::Status::Unknown);
        QCOMPARE(store.check(QByteArray()), SessionStore::Status::Unknown);
        QCOMPARE(store.check(issued.session.tokenHash.left(31)), SessionStore::Status::Unknown);
        // The token text itself is not a key: only its hash is.
        QCOMPARE(store.check(issued.token.toLatin1()), SessionStore::Status::Unknown);
    }

    /// toJson stores the token's SHA-256 (base64) and never the token text.
    void toJsonHidesToken()
    {
        ManualClock clock;
        SeededRandomSource random(6);
        SessionStore store(clock, random);
        const auto a = store.issue(QStringLiteral("client-a"), QStringLiteral("Platform A"), Role::Update);
        const auto b = store.issue(QStringLiteral("client-b"), QStringLiteral("Board"), Role::Display);
        const QByteArray text = QJsonDocument(store.toJson()).toJson();
        for (const auto* issued : {&a, &b}) {
            QVERIFY(text.contains(issued->session.tokenHash.toBase64()));
            QVERIFY2(!text.contains(issued->token.toLatin1()), text.constData());
            // Nor the raw bytes in another encoding, nor a large fragment of the token.
            const QByteArray raw = QByteArray::fromBase64(issued->token.toLatin1(), QByteArray::Base64UrlEncoding);
            QVERIFY(!text.contains(raw.toBase64()));
            QVERIFY(!text.contains(raw.toHex()));
            QVERIFY(!text.contains(issued->token.left(16).toLatin1()));
        }
        const QJsonArray sessions = store.toJson().value(QStringLiteral("sessions")).toArray();
        QCOMPARE(sessions.size(), 2);
    }

    /// toJson -> loadJson restores every session with all its fields.
    void loadJsonRoundTrip()
    {
        ManualClock clock;
        SeededRandomSource random(7);
        SessionStore store(clock, random);
        const auto a = store.issue(QStringLiteral("client-a"), QStringLiteral("Platform A"), Role::Update);
        clock.advanceMs(12345);
        const auto b = store.issue(QStringLiteral("client-b"), QStringLiteral("Böard"), Role::Display);

        const QJsonObject reread = QJsonDocument::fromJson(QJsonDocument(store.toJson()).toJson()).object();
        SeededRandomSource random2(8);
        SessionStore loaded(clock, random2);
        QVERIFY(loaded.loadJson(reread));
        QCOMPARE(loaded.size(), 2);
        for (const auto* issued : {&a, &b}) {
            Session s;
            QCOMPARE(loaded.check(SessionStore::hashToken(issued->token), &s), SessionStore::Status::Valid);
            QCOMPARE(s.tokenHash, issued->session.tokenHash);
            QCOMPARE(s.clientId, issued->session.clientId);
            QCOMPARE(s.locationName, issued->session.locationName);
            QCOMPARE(s.role, issued->session.role);
            QCOMPARE(s.issuedMs, issued->session.issuedMs);
            QCOMPARE(s.expiresMs, issued->session.expiresMs);
        }
        // Expiry survives the reload.
        clock.setMs(a.session.expiresMs);
        QCOMPARE(loaded.check(a.session.tokenHash), SessionStore::Status::Expired);
        QCOMPARE(loaded.check(b.session.tokenHash), SessionStore::Status::Valid);
    }

    /// A session issued through a display link keeps its link across a reload; sessions.json of
    /// sessions without one has no such member, as before display links existed.
    void displayLinkIdRoundTrip()
    {
        ManualClock clock;
        SeededRandomSource random(17);
        SessionStore store(clock, random);
        const auto plain = store.issue(QStringLiteral("desk"), QStringLiteral("Desk"), Role::Update);
        const auto board = store.issue(QStringLiteral("board"), QStringLiteral("Main board"), Role::Display,
                                       QStringLiteral("dl-0123abcd"));
        const QByteArray text = QJsonDocument(store.toJson()).toJson();
        QCOMPARE(text.count("displayLinkId"), 1);
        SessionStore loaded(clock, random);
        QVERIFY(loaded.loadJson(QJsonDocument::fromJson(text).object()));
        Session s;
        QCOMPARE(loaded.check(board.session.tokenHash, &s), SessionStore::Status::Valid);
        QCOMPARE(s.displayLinkId, QStringLiteral("dl-0123abcd"));
        QCOMPARE(loaded.check(plain.session.tokenHash, &s), SessionStore::Status::Valid);
        QVERIFY(s.displayLinkId.isEmpty());

        // Revoking the link drops exactly its sessions.
        QCOMPARE(loaded.revokeIssuedFrom(QStringLiteral("dl-0123abcd")), QList<QByteArray>{board.session.tokenHash});
        QVERIFY(loaded.revokeIssuedFrom(QString()).isEmpty());
        QCOMPARE(loaded.size(), 1);
        // Sessions of links that no longer exist go; ordinary ones stay.
        QVERIFY(store.revokeOrphaned({QStringLiteral("dl-0123abcd")}).isEmpty());
        QCOMPARE(store.revokeOrphaned({}), QList<QByteArray>{board.session.tokenHash});
        QCOMPARE(store.check(plain.session.tokenHash), SessionStore::Status::Valid);
    }

    /// An empty session list is a valid document and empties the store.
    void loadJsonEmpty()
    {
        ManualClock clock;
        SeededRandomSource random(9);
        SessionStore store(clock, random);
        store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        QVERIFY(store.loadJson(QJsonObject{{QStringLiteral("sessions"), QJsonArray{}}}));
        QCOMPARE(store.size(), 0);
    }

    /// Malformed sessions.json documents are refused and leave the store as it was.
    void loadJsonRejects_data()
    {
        QTest::addColumn<QJsonObject>("doc");
        const QJsonObject good{{QStringLiteral("tokenSha256"), QString::fromLatin1(QByteArray(32, 'h').toBase64())},
                               {QStringLiteral("clientId"), QStringLiteral("c")},
                               {QStringLiteral("locationName"), QStringLiteral("L")},
                               {QStringLiteral("role"), QStringLiteral("update")},
                               {QStringLiteral("issuedMs"), 1000.0},
                               {QStringLiteral("expiresMs"), 2000.0}};
        auto with = [&good](const QString& field, const QJsonValue& v) {
            QJsonObject o = good;
            if (v.isUndefined()) {
                o.remove(field);
            } else {
                o.insert(field, v);
            }
            return QJsonObject{{QStringLiteral("sessions"), QJsonArray{good, o}}};
        };
        QTest::addRow("empty document") << QJsonObject{};
        QTest::addRow("sessions not an array") << QJsonObject{{QStringLiteral("sessions"), QJsonObject{}}};
        QTest::addRow("session not an object")
            << QJsonObject{{QStringLiteral("sessions"), QJsonArray{good, QStringLiteral("x")}}};
        QTest::addRow("hash missing") << with(QStringLiteral("tokenSha256"), QJsonValue::Undefined);
        QTest::addRow("hash 31 bytes") << with(QStringLiteral("tokenSha256"),
                                               QString::fromLatin1(QByteArray(31, 'h').toBase64()));
        QTest::addRow("hash number") << with(QStringLiteral("tokenSha256"), 5);
        QTest::addRow("clientId missing") << with(QStringLiteral("clientId"), QJsonValue::Undefined);
        QTest::addRow("locationName missing") << with(QStringLiteral("locationName"), QJsonValue::Undefined);
        // A role the server never writes must not silently become the more powerful "update".
        QTest::addRow("role unknown") << with(QStringLiteral("role"), QStringLiteral("Display"));
        // Only a display session can come from a display link.
        QTest::addRow("update through a link") << with(QStringLiteral("displayLinkId"), QStringLiteral("dl-0123abcd"));
    }
    void loadJsonRejects()
    {
        QFETCH(QJsonObject, doc);
        ManualClock clock;
        SeededRandomSource random(10);
        SessionStore store(clock, random);
        const auto issued = store.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update);
        QVERIFY(!store.loadJson(doc));
        QCOMPARE(store.size(), 1);
        QCOMPARE(store.check(issued.session.tokenHash), SessionStore::Status::Valid);
    }

    /// pruneExpired drops exactly the expired sessions.
    void pruneExpired()
    {
        ManualClock clock;
        SeededRandomSource random(11);
        SessionStore store(clock, random);
        const auto old = store.issue(QStringLiteral("c1"), QStringLiteral("L"), Role::Update);
        clock.advanceMs(kDayMs);
        const auto young = store.issue(QStringLiteral("c2"), QStringLiteral("L"), Role::Update);
        QCOMPARE(store.pruneExpired().size(), 0);
        clock.setMs(old.session.expiresMs - 1);
        QCOMPARE(store.pruneExpired().size(), 0);
        clock.setMs(old.session.expiresMs);
        QCOMPARE(store.pruneExpired().size(), 1);
        QCOMPARE(store.size(), 1);
        QCOMPARE(store.check(old.session.tokenHash), SessionStore::Status::Unknown);
        QCOMPARE(store.check(young.session.tokenHash), SessionStore::Status::Valid);
        QCOMPARE(store.tokenHashes(), QList<QByteArray>{young.session.tokenHash});
    }

    /// revoke removes one session (once) and leaves the others valid.
    void revoke()
    {
        ManualClock clock;
        SeededRandomSource random(12);
        SessionStore store(clock, random);
        const auto a = store.issue(QStringLiteral("c1"), QStringLiteral("L"), Role::Update);
        const auto b = store.issue(QStringLiteral("c2"), QStringLiteral("L"), Role::Display);
        QVERIFY(store.revoke(a.session.tokenHash));
        QVERIFY(!store.revoke(a.session.tokenHash));
        QCOMPARE(store.check(a.session.tokenHash), SessionStore::Status::Unknown);
        QCOMPARE(store.check(b.session.tokenHash), SessionStore::Status::Valid);
        QCOMPARE(store.size(), 1);
    }

    /// Seeded randomness gives reproducible tokens (so integration tests can rely on them).
    void seededReproducible()
    {
        ManualClock clock;
        SeededRandomSource r1(77);
        SeededRandomSource r2(77);
        SessionStore s1(clock, r1);
        SessionStore s2(clock, r2);
        QCOMPARE(s1.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update).token,
                 s2.issue(QStringLiteral("c"), QStringLiteral("L"), Role::Update).token);
    }

    /// isWellFormedToken accepts exactly 43 base64url characters.
    void wellFormed_data()
    {
        QTest::addColumn<QString>("token");
        QTest::addColumn<bool>("ok");
        const QString base = QStringLiteral("abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123-_x"); // 43
        QTest::addRow("43 chars") << base << true;
        QTest::addRow("all dashes") << QString(43, u'-') << true;
        QTest::addRow("42 chars") << base.left(42) << false;
        QTest::addRow("44 chars") << (base + u'y') << false;
        QTest::addRow("padded 44") << (base + u'=') << false;
        QTest::addRow("plus") << (base.left(42) + u'+') << false;
        QTest::addRow("slash") << (u'/' + base.left(42)) << false;
        QTest::addRow("equals") << (base.left(20) + u'=' + base.mid(21)) << false;
        QTest::addRow("space") << (base.left(20) + u' ' + base.mid(21)) << false;
        QTest::addRow("non-ascii") << (base.left(20) + QChar(0x00e9) + base.mid(21)) << false;
        QTest::addRow("empty") << QString() << false;
    }
    void wellFormed()
    {
        QFETCH(QString, token);
        QFETCH(bool, ok);
        QCOMPARE(SessionStore::isWellFormedToken(token), ok);
    }
};

QTEST_GUILESS_MAIN(TestSessionStore)
#include "tst_sessionstore.moc"
