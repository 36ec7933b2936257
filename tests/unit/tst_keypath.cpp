// SPDX-License-Identifier: AGPL-3.0-or-later
#include "protocol/KeyPath.h"

#include <QTest>

using oll::KeyPath;

class TestKeyPath final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    /// Canonical keys parse and print back unchanged.
    void roundTrip_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("depth");
        QTest::addRow("slice") << "meet" << 1;
        QTest::addRow("field") << "meet.name" << 2;
        QTest::addRow("array value") << "meet.plates" << 2;
        QTest::addRow("entry by id") << "registration.entries[id=5007]" << 3;
        QTest::addRow("attempt") << "registration.entries[id=5007].squatKg[1]" << 5;
        QTest::addRow("index zero") << "meet.weightClassesKgMen[0]" << 3;
        QTest::addRow("underscore") << "_persist.version" << 2;
        QTest::addRow("live platform") << "live.platforms[id=2].lift" << 4;
    }
    void roundTrip()
    {
        QFETCH(QString, key);
        QFETCH(int, depth);
        QString err;
        const auto k = KeyPath::parse(key, 256, 16, &err);
        QVERIFY2(k.has_value(), qPrintable(err));
        QCOMPARE(k->toString(), key);
        QCOMPARE(k->depth(), depth);
    }

    /// Non-canonical or hostile keys are refused with the right problem kind.
    void rejects_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<int>("problem");
        const int syntax = int(KeyPath::Problem::Syntax);
        QTest::addRow("empty") << "" << syntax;
        QTest::addRow("leading dot") << ".meet" << syntax;
        QTest::addRow("trailing dot") << "meet." << syntax;
        QTest::addRow("double dot") << "meet..name" << syntax;
        QTest::addRow("digit start") << "1meet" << syntax;
        QTest::addRow("index first") << "[0]" << syntax;
        QTest::addRow("leading zero") << "meet.plates[01]" << syntax;
        QTest::addRow("negative") << "meet.plates[-1]" << syntax;
        QTest::addRow("space") << "meet. name" << syntax;
        QTest::addRow("unclosed") << "meet.plates[1" << syntax;
        QTest::addRow("empty id") << "registration.entries[id=]" << syntax;
        QTest::addRow("path traversal") << "../../etc/passwd" << syntax;
        QTest::addRow("slash") << "meet/name" << syntax;
        QTest::addRow("huge index") << "meet.plates[99999999999999999999]" << syntax;
        QTest::addRow("unsafe integer") << "meet.plates[9007199254740992]" << syntax;
        QTest::addRow("unicode field") << QStringLiteral("meet.n\u00e4me") << syntax;
        QTest::addRow("too long") << (QStringLiteral("meet.") + QString(300, u'a')) << int(KeyPath::Problem::TooLong);
        QString deep = QStringLiteral("a");
        for (int i = 0; i < 20; ++i) {
            deep += QStringLiteral(".b");
        }
        QTest::addRow("too deep") << deep << int(KeyPath::Problem::TooDeep);
    }
    void rejects()
    {
        QFETCH(QString, key);
        QFETCH(int, problem);
        QString err;
        KeyPath::Problem got = KeyPath::Problem::None;
        QVERIFY(!KeyPath::parse(key, 256, 16, &err, &got).has_value());
        QVERIFY(!err.isEmpty());
        QCOMPARE(int(got), problem);
    }

    /// Overlap is a prefix at a segment boundary, never a string prefix.
    void overlap()
    {
        auto k = [](const char* s) { return *KeyPath::parse(QString::fromLatin1(s), 256, 16); };
        QVERIFY(k("registration").overlaps(k("registration.entries[id=5].name")));
        QVERIFY(k("registration.entries[id=5].name").overlaps(k("registration.entries[id=5]")));
        QVERIFY(k("meet.name").overlaps(k("meet.name")));
        QVERIFY(!k("meet.name").overlaps(k("meet.nameSuffix")));
        QVERIFY(!k("registration.entries[id=5]").overlaps(k("registration.entries[id=50]")));
        QVERIFY(!k("registration.entries[id=5]").overlaps(k("registration.entries[5]")));
        QVERIFY(k("meet.plates").isPrefixOf(k("meet.plates[2]")));
        QVERIFY(!k("meet.plates[2]").isPrefixOf(k("meet.plates")));
    }
};

QTEST_GUILESS_MAIN(TestKeyPath)
#include "tst_keypath.moc"
