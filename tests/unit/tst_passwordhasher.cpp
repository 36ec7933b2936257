// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/PasswordHasher.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <stdexcept>

using oll::PasswordHash;
using oll::PasswordHasher;
using oll::ScryptParams;

namespace {

// Cheap parameters for tests that are not about cost: N = 2^10 (1 MiB).
ScryptParams fast()
{
    ScryptParams p;
    p.log2N = 10;
    p.r = 8;
    p.p = 1;
    return p;
}

QByteArray salt(char fill)
{
    return QByteArray(16, fill);
}

} // namespace

class TestPasswordHasher final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// The right password verifies; a wrong, empty or case-changed one does not.
    void verifyRightAndWrong()
    {
        const PasswordHash h = PasswordHasher::hash("correct horse battery", fast(), salt('s'));
        QCOMPARE(h.hash.size(), 32);
        QCOMPARE(h.salt, salt('s'));
        QCOMPARE(h.params.log2N, 10);
        QVERIFY(PasswordHasher::verify("correct horse battery", h));
        QVERIFY(!PasswordHasher::verify("correct horse batterY", h));
        QVERIFY(!PasswordHasher::verify("correct horse battery ", h));
        QVERIFY(!PasswordHasher::verify("", h));
    }

    /// Hashing is deterministic for one salt; another salt gives another hash.
    void saltsDiffer()
    {
        const PasswordHash a = PasswordHasher::hash("password123", fast(), salt('a'));
        const PasswordHash a2 = PasswordHasher::hash("password123", fast(), salt('a'));
        const PasswordHash b = PasswordHasher::hash("password123", fast(), salt('b'));
        QCOMPARE(a.hash, a2.hash);
        QVERIFY(a.hash != b.hash);
        // The stored salt is the one verification uses: swapping salts breaks verification.
        PasswordHash swapped = a;
        swapped.salt = b.salt;
        QVERIFY(!PasswordHasher::verify("password123", swapped));
    }

    /// Verification uses the stored parameters: a hash with altered parameters no longer verifies.
    void paramsMatter()
    {
        PasswordHash h = PasswordHasher::hash("password123", fast(), salt('x'));
        QVERIFY(PasswordHasher::verify("password123", h));
        h.params.log2N = 11;
        QVERIFY(!PasswordHasher::verify("password123", h));
    }

    /// toJson/fromJson round-trip every field, and the JSON names the algorithm.
    void jsonRoundTrip()
    {
        const PasswordHash h
            = PasswordHasher::hash("password123", fast(), QByteArray::fromHex("00112233445566778899aabbccddeeff"));
        const QJsonObject json = h.toJson();
        QCOMPARE(json.value(QStringLiteral("alg")).toString(), QStringLiteral("scrypt"));
        // Through text, as auth.json is written and read.
        const QJsonObject reread = QJsonDocument::fromJson(QJsonDocument(json).toJson()).object();
        const std::optional<PasswordHash> back = PasswordHash::fromJson(reread);
        QVERIFY(back.has_value());
        QCOMPARE(back->params.log2N, h.params.log2N);
        QCOMPARE(back->params.r, h.params.r);
        QCOMPARE(back->params.p, h.params.p);
        QCOMPARE(back->salt, h.salt);
        QCOMPARE(back->hash, h.hash);
        QVERIFY(PasswordHasher::verify("password123", *back));
        QVERIFY(!PasswordHasher::verify("password124", *back));
    }

    /// Tampered or corrupt auth JSON is refused rather than half-loaded.
    void jsonRejectsTampering_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QJsonValue>("value"); // Undefined = remove the field
        const QString b64_15 = QString::fromLatin1(QByteArray(15, 's').toBase64());
        const QString b64_31 = QString::fromLatin1(QByteArray(31, 'h').toBase64());
        const QString b64_33 = QString::fromLatin1(QByteArray(33, 'h').toBase64());
        QTest::addRow("alg bcrypt") << "alg" << QJsonValue(QStringLiteral("bcrypt"));
        QTest::addRow("alg SCRYPT") << "alg" << QJsonValue(QStringLiteral("SCRYPT"));
        QTest::addRow("alg missing") << "alg" << QJsonValue(QJsonValue::Undefined);
        QTest::addRow("salt 15 bytes") << "salt" << QJsonValue(b64_15);
        QTest::addRow("salt empty") << "salt" << QJsonValue(QString());
        QTest::addRow("salt missing") << "salt" << QJsonValue(QJsonValue::Undefined);
        QTest::addRow("hash 31 bytes") << "hash" << QJsonValue(b64_31);
        QTest::addRow("hash 33 bytes") << "hash" << QJsonValue(b64_33);
        QTest::addRow("hash missing") << "hash" << QJsonValue(QJsonValue::Undefined);
        QTest::addRow("log2N 0") << "log2N" << QJsonValue(0);
        QTest::addRow("log2N 23") << "log2N" << QJsonValue(23);
        QTest::addRow("log2N 64") << "log2N" << QJsonValue(64);
        QTest::addRow("log2N negative") << "log2N" << QJsonValue(-1);
        QTest::addRow("log2N fractional") << "log2N" << QJsonValue(10.5);
        QTest::addRow("log2N string") << "log2N" << QJsonValue(QStringLiteral("10"));
        QTest::addRow("log2N missing") << "log2N" << QJsonValue(QJsonValue::Undefined);
        QTest::addRow("r 0") << "r" << QJsonValue(0);
        QTest::addRow("r huge") << "r" << QJsonValue(1 << 20);
        QTest::addRow("p 0") << "p" << QJsonValue(0);
        QTest::addRow("p huge") << "p" << QJsonValue(1 << 20);
        QTest::addRow("p 2^32+1") << "p" << QJsonValue(4294967297.0);
    }
    void jsonRejectsTampering()
    {
        QFETCH(QString, field);
        QFETCH(QJsonValue, value);
        PasswordHash h;
        h.params = fast();
        h.salt = salt('s');
        h.hash = QByteArray(32, 'h');
        QJsonObject json = h.toJson();
        QVERIFY(PasswordHash::fromJson(json).has_value()); // the untampered document loads
        if (value.isUndefined()) {
            json.remove(field);
        } else {
            json.insert(field, value);
        }
        QVERIFY(!PasswordHash::fromJson(json).has_value());
    }

    /// memoryBytes is 128·N·r·p.
    void memoryBytes()
    {
        ScryptParams p;
        p.log2N = 16;
        p.r = 8;
        p.p = 1;
        QCOMPARE(p.memoryBytes(), quint64(64) * 1024 * 1024);
        p.log2N = 10;
        p.p = 16;
        QCOMPARE(p.memoryBytes(), quint64(16) * 1024 * 1024);
    }

    /// REGRESSION: OpenSSL's default maxmem is 32 MiB, so N = 2^15 and 2^16 with r = 8 only work
    /// because derive() passes an explicit maxmem.
    void largeNNeedsExplicitMaxmem_data()
    {
        QTest::addColumn<int>("log2N");
        QTest::addRow("N=2^15 (32 MiB)") << 15;
        QTest::addRow("N=2^16 (64 MiB, the production default)") << 16;
    }
    void largeNNeedsExplicitMaxmem()
    {
        QFETCH(int, log2N);
        ScryptParams p;
        p.log2N = log2N;
        p.r = 8;
        p.p = 1;
        const QByteArray key = PasswordHasher::derive("password", salt('m'), p, 32);
        QCOMPARE(key.size(), 32);
        QVERIFY(key != QByteArray(32, '\0'));
    }

    /// The production default parameters hash and verify (one hash, one verify).
    void defaultParamsWork()
    {
        const ScryptParams defaults;
        QCOMPARE(defaults.log2N, 16);
        const PasswordHash h = PasswordHasher::hash("password", defaults, salt('d'));
        QCOMPARE(h.hash.size(), 32);
        QVERIFY(PasswordHasher::verify("password", h));
    }

    /// Known answers from RFC 7914 §12 (scrypt test vectors).
    void rfc7914Vectors_data()
    {
        QTest::addColumn<QByteArray>("password");
        QTest::addColumn<QByteArray>("saltBytes");
        QTest::addColumn<int>("log2N");
        QTest::addColumn<int>("r");
        QTest::addColumn<int>("p");
        QTest::addColumn<QByteArray>("expectedHex");
        QTest::addRow("empty, N=16 r=1 p=1")
            << QByteArray("") << QByteArray("") << 4 << 1 << 1
            << QByteArray("77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                          "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906");
        QTest::addRow("password/NaCl, N=1024 r=8 p=16")
            << QByteArray("password") << QByteArray("NaCl") << 10 << 8 << 16
            << QByteArray("fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                          "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640");
        QTest::addRow("pleaseletmein/SodiumChloride, N=16384 r=8 p=1")
            << QByteArray("pleaseletmein") << QByteArray("SodiumChloride") << 14 << 8 << 1
            << QByteArray("7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
                          "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887");
    }
    void rfc7914Vectors()
    {
        QFETCH(QByteArray, password);
        QFETCH(QByteArray, saltBytes);
        QFETCH(int, log2N);
        QFETCH(int, r);
        QFETCH(int, p);
        QFETCH(QByteArray, expectedHex);
        ScryptParams params;
        params.log2N = log2N;
        params.r = r;
        params.p = p;
        const QByteArray key = PasswordHasher::derive(password, saltBytes, params, 64);
        QCOMPARE(key.toHex(), expectedHex);
    }

    /// Parameters OpenSSL refuses make derive() return empty and hash() throw; verify() says no.
    void invalidParamsFail()
    {
        ScryptParams bad = fast();
        bad.p = 0;
        QVERIFY(PasswordHasher::derive("password", salt('z'), bad, 32).isEmpty());
        QVERIFY_THROWS_EXCEPTION(std::runtime_error, PasswordHasher::hash("password", bad, salt('z')));
        PasswordHash stored = PasswordHasher::hash("password", fast(), salt('z'));
        stored.params.p = 0;
        QVERIFY(!PasswordHasher::verify("password", stored));
    }
};

QTEST_GUILESS_MAIN(TestPasswordHasher)
#include "tst_passwordhasher.moc"
