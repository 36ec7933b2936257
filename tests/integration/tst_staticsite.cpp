// SPDX-License-Identifier: AGPL-3.0-or-later
// The static pages next to /live: the client library and demo (resources/web) and a local
// OpenLifter build. resources/web is served from the copy compiled into the program by default
// and from a folder on disk (--web-dir) when one is given; both are covered. Requests go over a
// raw socket so that paths reach the server exactly as written (no client-side normalisation of
// "..").
#include "net/StaticSite.h"

#include <QDir>
#include <QDirIterator>
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
    QHttpServer m_http; // resources/web overridden by a folder on disk, and an OpenLifter build
    quint16 m_port = 0;
    QHttpServer m_compiledHttp; // the default options: the compiled-in resources/web
    quint16 m_compiledPort = 0;

    /// One request on its own connection. The server runs in this thread, so the reply is
    /// awaited by spinning the event loop (QTest::qWaitFor), never with blocking socket calls.
    Reply get(const QByteArray& rawPath, const QByteArray& extraHeaders = {})
    {
        return getFrom(m_port, rawPath, extraHeaders);
    }

    Reply getFrom(quint16 port, const QByteArray& rawPath, const QByteArray& extraHeaders = {})
    {
        QTcpSocket s;
        QByteArray all;
        connect(&s, &QTcpSocket::readyRead, &s, [&] { all += s.readAll(); });
        s.connectToHost(QHostAddress::LocalHost, port);
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

        QCOMPARE(StaticSiteOptions{}.webDir, QStringLiteral(":/web"));
        installStaticSite(m_compiledHttp, StaticSiteOptions{});
        m_compiledPort = m_compiledHttp.listen(QHostAddress::LocalHost, 0);
        QVERIFY(m_compiledPort != 0);
    }

    /// Every file of resources/web is served byte for byte from the program itself: an
    /// installed app needs no source tree.
    void compiledInCopyIsServedByDefault()
    {
        const QString source = QStringLiteral(OLL_WEB_SOURCE_DIR);
        QDirIterator it(source, QDir::Files, QDirIterator::Subdirectories);
        int files = 0;
        while (it.hasNext()) {
            const QString path = it.next();
            QFile f(path);
            QVERIFY(f.open(QIODevice::ReadOnly));
            const QByteArray url = path.mid(source.size()).toUtf8();
            const Reply r = getFrom(m_compiledPort, url);
            QVERIFY2(r.status == 200, url.constData());
            QVERIFY2(r.body == f.readAll(), url.constData());
            QCOMPARE(r.headers.value("cache-control"), QByteArray("no-cache"));
            ++files;
        }
        QVERIFY(files >= 5);
        QCOMPARE(getFrom(m_compiledPort, "/lib/openlifter-live.js").headers.value("content-type"),
                 QByteArray("text/javascript; charset=utf-8"));
        const Reply page = getFrom(m_compiledPort, "/demo/");
        QCOMPARE(page.status, 200);
        QCOMPARE(page.headers.value("content-type"), QByteArray("text/html; charset=utf-8"));
        QCOMPARE(getFrom(m_compiledPort, "/demo").status, 301);
        QCOMPARE(getFrom(m_compiledPort, "/lib/openlifter-live.js").headers.value("service-worker-allowed"),
                 QByteArray("/"));
    }

    /// A --web-dir folder replaces the compiled-in copy entirely: its files are served, and a
    /// file only the compiled-in copy has is not.
    void webDirOverridesTheCompiledInCopy()
    {
        QCOMPARE(get("/lib/openlifter-live.js").body, QByteArray("export const x = 1;\n"));
        QCOMPARE(getFrom(m_compiledPort, "/demo/demo.js").status, 200);
        QCOMPARE(get("/demo/demo.js").status, 404);
    }

    void compiledInRevalidationIsCheap()
    {
        const Reply first = getFrom(m_compiledPort, "/lib/openlifter-live.js");
        QCOMPARE(first.status, 200);
        const QByteArray etag = first.headers.value("etag");
        QVERIFY(etag.size() > 2 && etag.startsWith('"') && etag.endsWith('"'));
        const Reply again = getFrom(m_compiledPort, "/lib/openlifter-live.js", "If-None-Match: " + etag + "\r\n");
        QCOMPARE(again.status, 304);
        QVERIFY(again.body.isEmpty());
        QCOMPARE(again.headers.value("etag"), etag);
        QCOMPARE(getFrom(m_compiledPort, "/lib/openlifter-live.js", "If-None-Match: \"other\"\r\n").status, 200);
        // The validator is the content's: another file has another one, and the same content
        // compiled into another server instance (a restart) has the same one.
        const Reply other = getFrom(m_compiledPort, "/lib/keypath.js");
        QCOMPARE(other.status, 200);
        QVERIFY(other.headers.value("etag") != etag);
        QCOMPARE(getFrom(m_compiledPort, "/lib/keypath.js", "If-None-Match: " + etag + "\r\n").status, 200);
        QHttpServer restarted;
        installStaticSite(restarted, StaticSiteOptions{});
        const quint16 port = restarted.listen(QHostAddress::LocalHost, 0);
        QVERIFY(port != 0);
        QCOMPARE(getFrom(port, "/lib/openlifter-live.js").headers.value("etag"), etag);
    }

    void noWebDirServesNoPages()
    {
        QHttpServer none;
        installStaticSite(none, StaticSiteOptions{QString(), QString()});
        const quint16 port = none.listen(QHostAddress::LocalHost, 0);
        QVERIFY(port != 0);
        QCOMPARE(getFrom(port, "/lib/openlifter-live.js").status, 404);
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
        QTest::addRow("resource path") << QByteArray("/lib/%3a/web/lib/openlifter-live.js");
        QTest::addRow("resource root") << QByteArray("/web/lib/openlifter-live.js");
        QTest::addRow("dot dot between compiled folders") << QByteArray("/demo/../lib/openlifter-live.js");
        QTest::addRow("encoded dot dot between compiled folders") << QByteArray("/demo/%2e%2e/lib/keypath.js");
        QTest::addRow("no listing of the demo folder") << QByteArray("/demo/index.html/");
    }

    /// The same refusals whether the files come from disk or from the compiled-in copy.
    void refused()
    {
        QFETCH(QByteArray, path);
        for (const quint16 port : {m_port, m_compiledPort}) {
            const Reply r = getFrom(port, path);
            QVERIFY2(r.status == 404 || r.status == 400, QByteArray::number(r.status).constData());
            QVERIFY(!r.body.contains("secret"));
            QVERIFY(!r.body.contains("export"));
        }
    }
};

QTEST_MAIN(TestStaticSite)
#include "tst_staticsite.moc"
