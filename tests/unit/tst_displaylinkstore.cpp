// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/DisplayLinkStore.h"
#include "auth/SessionStore.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace oll;

class TestDisplayLinkStore final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// A minted link has a public dl- ID, a 43-character token and only the token's SHA-256.
    void mintShape()
    {
        ManualClock clock;
        clock.setMs(1'000'000);
        SeededRandomSource random(1);
        DisplayLinkStore store(clock, random);
        const auto minted = store.mint(QStringLiteral("Main board"));
        QVERIFY(SessionStore::isWellFormedToken(minted.token));
        QVERIFY(DisplayLinkStore::isValidLinkId(minted.link.linkId));
        QCOMPARE(minted.link.label, QStringLiteral("Main board"));
        QCOMPARE(minted.link.createdMs, 1'000'000);
        QCOMPARE(minted.link.tokenHash, SessionStore::hashToken(minted.token));
        const auto found = store.check(SessionStore::hashToken(minted.token));
        QVERIFY(found);
        QCOMPARE(found->linkId, minted.link.linkId);
        QVERIFY(!store.check(SessionStore::hashToken(QString(43, u'A'))));
        QVERIFY(!store.check(QByteArray()));
        const QByteArray json = QJsonDocument(store.toJson()).toJson();
        QVERIFY(!json.contains(minted.token.toLatin1()));
        QVERIFY(json.contains(minted.link.tokenHash.toBase64()));
    }

    /// Link IDs are unique within a meet.
    void idsUnique()
    {
        ManualClock clock;
        SeededRandomSource random(2);
        DisplayLinkStore store(clock, random);
        QSet<QString> ids;
        for (int i = 0; i < 64; ++i) {
            ids.insert(store.mint(QStringLiteral("b%1").arg(i)).link.linkId);
        }
        QCOMPARE(ids.size(), 64);
        QCOMPARE(store.size(), 64);
    }

    void revokeAndReload()
    {
        ManualClock clock;
        SeededRandomSource random(3);
        DisplayLinkStore store(clock, random);
        const auto a = store.mint(QStringLiteral("A"));
        clock.advanceMs(5);
        const auto b = store.mint(QStringLiteral("B"));
        QCOMPARE(store.links().first().linkId, a.link.linkId); // oldest first
        QVERIFY(store.revoke(a.link.linkId));
        QVERIFY(!store.revoke(a.link.linkId));
        QVERIFY(!store.check(a.link.tokenHash));

        DisplayLinkStore loaded(clock, random);
        QVERIFY(loaded.loadJson(QJsonDocument::fromJson(QJsonDocument(store.toJson()).toJson()).object()));
        QCOMPARE(loaded.size(), 1);
        const auto found = loaded.check(SessionStore::hashToken(b.token));
        QVERIFY(found);
        QCOMPARE(found->label, QStringLiteral("B"));
        QCOMPARE(found->createdMs, b.link.createdMs);
        QVERIFY(!loaded.check(a.link.tokenHash));
    }

    void loadRejects_data()
    {
        QTest::addColumn<QJsonObject>("doc");
        const QJsonObject good{{QStringLiteral("linkId"), QStringLiteral("dl-0123abcd")},
                               {QStringLiteral("label"), QStringLiteral("Board")},
                               {QStringLiteral("createdMs"), 5.0},
                               {QStringLiteral("tokenSha256"), QString::fromLatin1(QByteArray(32, 'h').toBase64())}};
        auto with = [&good](const QString& field, const QJsonValue& v) {
            QJsonObject o = good;
            o.insert(field, v);
            return QJsonObject{{QStringLiteral("displayLinks"), QJsonArray{o}}};
        };
        QTest::addRow("empty document") << QJsonObject{};
        QTest::addRow("not an array") << QJsonObject{{QStringLiteral("displayLinks"), 1}};
        QTest::addRow("bad link id") << with(QStringLiteral("linkId"), QStringLiteral("dl-XYZ"));
        QTest::addRow("no label") << with(QStringLiteral("label"), QString());
        QTest::addRow("short hash") << with(QStringLiteral("tokenSha256"),
                                            QString::fromLatin1(QByteArray(31, 'h').toBase64()));
        QTest::addRow("same hash twice") << QJsonObject{{QStringLiteral("displayLinks"), QJsonArray{good, good}}};
    }
    void loadRejects()
    {
        QFETCH(QJsonObject, doc);
        ManualClock clock;
        SeededRandomSource random(4);
        DisplayLinkStore store(clock, random);
        const auto kept = store.mint(QStringLiteral("Kept"));
        QVERIFY(!store.loadJson(doc));
        QVERIFY(store.check(kept.link.tokenHash));
    }

    void labels_data()
    {
        QTest::addColumn<QString>("label");
        QTest::addColumn<bool>("ok");
        QTest::addRow("plain") << QStringLiteral("Warm-up room board") << true;
        QTest::addRow("unicode") << QStringLiteral("Näyttö 2 – lava") << true;
        QTest::addRow("64") << QString(64, u'x') << true;
        QTest::addRow("65") << QString(65, u'x') << false;
        QTest::addRow("empty") << QString() << false;
        QTest::addRow("blank") << QStringLiteral(" \t") << false;
        QTest::addRow("leading space") << QStringLiteral(" Board") << false;
        QTest::addRow("tab inside") << QStringLiteral("Bo\tard") << false;
        QTest::addRow("zero-width space") << QStringLiteral("Bo\u200Bard") << false;
    }
    void labels()
    {
        QFETCH(QString, label);
        QFETCH(bool, ok);
        QCOMPARE(DisplayLinkStore::validateLabel(label, 64).isEmpty(), ok);
    }
};

QTEST_GUILESS_MAIN(TestDisplayLinkStore)
#include "tst_displaylinkstore.moc"
