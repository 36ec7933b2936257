// The static pages next to /live: the client library and demo (resources/web) and a local
// OpenLifter build. Requests go over a raw socket so that paths reach the server exactly as
// written (no client-side normalisation of "..").
#include "net/StaticSite.h"

#include <QDir>
#include <QFile>
#include <QHttpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace oll;

namespace {

struct Reply
{
    int status = 0;
    QMap<QByteArray, QByteArray> headers; // lower-case names
    QByteArray body;
};

void writeFile(const QString& path, const QByteArray& content)
{
    QDir().mkpath(QFileInfo(path).path());
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(content);
}

} // namespace

class TestStaticSite : public QObject
{
    Q_OBJECT

private:
    QTemporaryDir m_tmp;
    QHttpServer m_http;
    quint16 m_port = 0;

    /// One request on its own connection. The server runs in this thread, so the reply is
    /// awaited by spinning the event loop (QTest::qWaitFor), never with blocking socket calls.
    Reply get(const QByteArray& rawPath, const QByteArray& extraHeaders = {})
    {
        QTcpSocket s;
        QByteArray all;
        connect(&s, &QTcpSocket::readyRead, &s, [&] { all += s.readAll(); });
        s.connectToHost(QHostAddress::LocalHost, m_port);
        s.write("GET " + rawPath + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + extraHeaders + "\r\n");
        auto complete = [&] {
            if (s.state() == QAbstractSocket::UnconnectedState) {
                return true;
            }
            const qsizetype end = all.indexOf("\r\n\r\n");
            if (end < 0) {
                return false;
            }
            const QByteArray head = all.left(end).toLower();
            const qsizetype cl = head.indexOf("content-length:");
            const qsizetype length
                = cl < 0 ? 0 : head.mid(cl + 15, head.indexOf('\r', cl) - cl - 15).trimmed().toLongLong();
            return all.size() - end - 4 >= length;
        };
        if (!QTest::qWaitFor(complete, 5000)) {
            return {};
        }
        Reply r;
        const qsizetype split = all.indexOf("\r\n\r\n");
        const QList<QByteArray> lines = all.left(split).split('\n');
        if (lines.isEmpty()) {
            return r;
        }
        r.status = lines.first().split(' ').value(1).toInt();
        for (qsizetype i = 1; i < lines.size(); ++i) {
            const qsizetype colon = lines[i].indexOf(':');
            if (colon > 0) {
                r.headers.insert(lines[i].left(colon).trimmed().toLower(), lines[i].mid(colon + 1).trimmed());
            }
        }
        r.body = all.mid(split + 4);
        return r;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const QString web = m_tmp.filePath(QStringLiteral("web"));
        writeFile(web + QStringLiteral("/lib/openlifter-live.js"), "export const x = 1;\n");
        writeFile(web + QStringLiteral("/lib/sub/deep.js"), "export {};\n");
        writeFile(web + QStringLiteral("/demo/index.html"), "<!doctype html><title>demo</title>\n");
        writeFile(web + QStringLiteral("/demo/style.css"), "body{}\n");
        writeFile(web + QStringLiteral("/demo/data.json"), "{}\n");
        writeFile(web + QStringLiteral("/demo/.env"), "secret\n");
        writeFile(web + QStringLiteral("/demo/.git/config"), "secret\n");
        QDir().mkpath(web + QStringLiteral("/empty/sub"));
        writeFile(m_tmp.filePath(QStringLiteral("secret.txt")), "secret\n");
        QVERIFY(QFile::link(m_tmp.filePath(QStringLiteral("secret.txt")), web + QStringLiteral("/lib/link.js")));
        const QString ol = m_tmp.filePath(QStringLiteral("openlifter"));
        writeFile(ol + QStringLiteral("/index.html"), "<!doctype html><title>OpenLifter</title>\n");
        writeFile(ol + QStringLiteral("/static/js/main.123.js"), "console.log(1);\n");

        installStaticSite(m_http, StaticSiteOptions{web, ol});
        m_port = m_http.listen(QHostAddress::LocalHost, 0);
        QVERIFY(m_port != 0);
    }

    void contentTypes_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<QByteArray>("type");
        QTest::addRow("module") << QByteArray("/lib/openlifter-live.js")
                                << QByteArray("text/javascript; charset=utf-8");
        QTest::addRow("nested module") << QByteArray("/lib/sub/deep.js")
                                       << QByteArray("text/javascript; charset=utf-8");
        QTest::addRow("page") << QByteArray("/demo/index.html") << QByteArray("text/html; charset=utf-8");
        QTest::addRow("directory page") << QByteArray("/demo/") << QByteArray("text/html; charset=utf-8");
        QTest::addRow("css") << QByteArray("/demo/style.css") << QByteArray("text/css; charset=utf-8");
        QTest::addRow("json") << QByteArray("/demo/data.json") << QByteArray("application/json");
        QTest::addRow("openlifter") << QByteArray("/openlifter/") << QByteArray("text/html; charset=utf-8");
        QTest::addRow("openlifter bundle")
            << QByteArray("/openlifter/static/js/main.123.js") << QByteArray("text/javascript; charset=utf-8");
    }

    void contentTypes()
    {
        QFETCH(QByteArray, path);
        QFETCH(QByteArray, type);
        const Reply r = get(path);
        QCOMPARE(r.status, 200);
        QCOMPARE(r.headers.value("content-type"), type);
        QVERIFY(!r.body.isEmpty());
    }

    void bareFolderRedirectsToItsPage()
    {
        const Reply r = get("/demo");
        QCOMPARE(r.status, 301);
        QCOMPARE(r.headers.value("location"), QByteArray("/demo/"));
    }

    void libraryMayServeAWiderServiceWorker()
    {
        QCOMPARE(get("/lib/openlifter-live.js").headers.value("service-worker-allowed"), QByteArray("/"));
        QVERIFY(!get("/openlifter/").headers.contains("service-worker-allowed"));
    }

    void revalidationIsCheap()
    {
        const Reply first = get("/lib/openlifter-live.js");
        QCOMPARE(first.status, 200);
        QCOMPARE(first.headers.value("cache-control"), QByteArray("no-cache"));
        QCOMPARE(first.headers.value("x-content-type-options"), QByteArray("nosniff"));
        const QByteArray etag = first.headers.value("etag");
        QVERIFY(etag.startsWith('"') && etag.endsWith('"'));
        const Reply again = get("/lib/openlifter-live.js", "If-None-Match: " + etag + "\r\n");
        QCOMPARE(again.status, 304);
        QVERIFY(again.body.isEmpty());
        QCOMPARE(again.headers.value("etag"), etag);
        QCOMPARE(get("/lib/openlifter-live.js", "If-None-Match: \"other\"\r\n").status, 200);
        // A different file never matches another's validator.
        QCOMPARE(get("/demo/data.json", "If-None-Match: " + etag + "\r\n").status == 304,
                 get("/demo/data.json").headers.value("etag") == etag);
    }

    void openLifterDeepLinksGetItsIndex()
    {
        const Reply r = get("/openlifter/lifting");
        QCOMPARE(r.status, 200);
        QVERIFY(r.body.contains("OpenLifter"));
        QCOMPARE(get("/openlifter/static/js/missing.js").status, 404); // a file, not a route
    }

    void refused_data()
    {
        QTest::addColumn<QByteArray>("path");
        QTest::addRow("dot dot") << QByteArray("/lib/../secret.txt");
        QTest::addRow("dot dot to sibling") << QByteArray("/lib/../demo/index.html");
        QTest::addRow("encoded dot dot") << QByteArray("/lib/%2e%2e/%2e%2e/secret.txt");
        QTest::addRow("encoded slash") << QByteArray("/lib/..%2f..%2fsecret.txt");
        QTest::addRow("backslash") << QByteArray("/lib/..%5c..%5csecret.txt");
        QTest::addRow("dot segment") << QByteArray("/lib/./openlifter-live.js");
        QTest::addRow("double slash") << QByteArray("/lib//openlifter-live.js");
        QTest::addRow("nul") << QByteArray("/lib/openlifter-live.js%00.html");
        QTest::addRow("hidden file") << QByteArray("/demo/.env");
        QTest::addRow("hidden folder") << QByteArray("/demo/.git/config");
        QTest::addRow("encoded hidden file") << QByteArray("/demo/%2eenv");
        QTest::addRow("symlink out of the root") << QByteArray("/lib/link.js");
        QTest::addRow("no listing") << QByteArray("/lib/");
        QTest::addRow("no listing of a sub folder") << QByteArray("/lib/sub/");
        QTest::addRow("empty folder") << QByteArray("/empty/sub/");
        QTest::addRow("missing") << QByteArray("/lib/nothing.js");
        QTest::addRow("openlifter dot dot") << QByteArray("/openlifter/../secret.txt");
        QTest::addRow("openlifter encoded") << QByteArray("/openlifter/%2e%2e/secret.txt");
        QTest::addRow("not a mount") << QByteArray("/secret.txt");
    }

    void refused()
    {
        QFETCH(QByteArray, path);
        const Reply r = get(path);
        QVERIFY2(r.status == 404 || r.status == 400, QByteArray::number(r.status).constData());
        QVERIFY(!r.body.contains("secret"));
    }
};

QTEST_MAIN(TestStaticSite)
#include "tst_staticsite.moc"
