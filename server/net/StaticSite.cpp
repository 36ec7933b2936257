#include "net/StaticSite.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QMimeDatabase>
#include <QUrl>

#include <memory>

namespace oll {
namespace {

/// Files larger than this are not served: a static page, a script or an OpenLifter bundle is a
/// few MiB at most, and the whole body is read into memory before it is sent.
constexpr qint64 maxStaticFileBytes = 64 * 1024 * 1024;

/// Content types by extension. Browsers refuse ES modules served with a non-JavaScript type and
/// would render HTML as text without one, so the common web types are fixed here instead of being
/// left to the shared MIME database (which differs between machines); anything else falls back
/// to it.
QByteArray contentTypeFor(const QString& fileName)
{
    static const QHash<QString, QByteArray> known{
        {QStringLiteral("html"), "text/html; charset=utf-8"},
        {QStringLiteral("htm"), "text/html; charset=utf-8"},
        {QStringLiteral("js"), "text/javascript; charset=utf-8"},
        {QStringLiteral("mjs"), "text/javascript; charset=utf-8"},
        {QStringLiteral("css"), "text/css; charset=utf-8"},
        {QStringLiteral("json"), "application/json"},
        {QStringLiteral("map"), "application/json"},
        {QStringLiteral("webmanifest"), "application/manifest+json"},
        {QStringLiteral("txt"), "text/plain; charset=utf-8"},
        {QStringLiteral("md"), "text/plain; charset=utf-8"},
        {QStringLiteral("svg"), "image/svg+xml"},
        {QStringLiteral("png"), "image/png"},
        {QStringLiteral("jpg"), "image/jpeg"},
        {QStringLiteral("jpeg"), "image/jpeg"},
        {QStringLiteral("gif"), "image/gif"},
        {QStringLiteral("ico"), "image/x-icon"},
        {QStringLiteral("webp"), "image/webp"},
        {QStringLiteral("woff"), "font/woff"},
        {QStringLiteral("woff2"), "font/woff2"},
        {QStringLiteral("ttf"), "font/ttf"},
        {QStringLiteral("otf"), "font/otf"},
        {QStringLiteral("eot"), "application/vnd.ms-fontobject"},
        {QStringLiteral("wasm"), "application/wasm"},
        {QStringLiteral("openlifter"), "application/json"},
    };
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    const auto it = known.constFind(suffix);
    if (it != known.cend()) {
        return *it;
    }
    static const QMimeDatabase db;
    const QMimeType type = db.mimeTypeForFile(fileName, QMimeDatabase::MatchExtension);
    return type.isValid() && !type.isDefault() ? type.name().toUtf8() : QByteArrayLiteral("application/octet-stream");
}

QHttpServerResponse notFound()
{
    return QHttpServerResponse(QHttpServerResponse::StatusCode::NotFound);
}

QHttpServerResponse redirectTo(const QString& location)
{
    QHttpServerResponse response(QHttpServerResponse::StatusCode::MovedPermanently);
    response.addHeader(QByteArrayLiteral("Location"), location.toUtf8());
    return response;
}

/// One directory served under one URL prefix.
class Mount
{
public:
    enum class Kind
    {
        AppFiles, // the app's own pages and library (resources/web)
        OpenLifterBuild, // a local OpenLifter build: unknown paths fall back to its index.html
    };

    Mount(QString prefix, const QString& dir, Kind kind)
        : m_prefix(std::move(prefix))
        , m_root(QFileInfo(dir).canonicalFilePath())
        , m_kind(kind)
    {
    }

    bool usable() const { return !m_root.isEmpty() && QFileInfo(m_root).isDir(); }
    const QString& prefix() const { return m_prefix; }

    /// Answers a GET for `urlPath` (decoded), which starts with prefix() + "/". `ifNoneMatch` is
    /// the request's If-None-Match header: a matching validator gets 304 without a body.
    QHttpServerResponse serve(const QString& urlPath, const QByteArray& ifNoneMatch = {}) const
    {
        QString relative = urlPath.mid(m_prefix.size() + 1);
        if (relative.isEmpty() || relative.endsWith(QLatin1Char('/'))) {
            relative += QStringLiteral("index.html"); // a directory's page; never a listing
        }
        const QString file = resolve(relative);
        if (file.isEmpty()) {
            // OpenLifter's deep links (/lifting/, /registration/) are small redirect pages in its
            // build; a build without them still works when unknown paths give its index.html.
            if (m_kind == Kind::OpenLifterBuild && !relative.contains(QLatin1Char('.'))) {
                const QString index = resolve(QStringLiteral("index.html"));
                if (!index.isEmpty()) {
                    return fileResponse(index, ifNoneMatch);
                }
            }
            return notFound();
        }
        QHttpServerResponse response = fileResponse(file, ifNoneMatch);
        if (m_kind == Kind::AppFiles) {
            // The library's offline cache (lib/offline-sw.js) serves pages outside /lib/ (the
            // demo, OpenLifter under /openlifter/); its scope may be wider than its folder.
            response.addHeader(QByteArrayLiteral("Service-Worker-Allowed"), QByteArrayLiteral("/"));
        }
        return response;
    }

private:
    /// The canonical path of `relative` inside the root, or empty when it is not a regular file
    /// inside the root. `..`, `.`, empty segments, hidden names (".git", ".env"), backslashes and
    /// NULs are refused outright; the canonical-path check also refuses symbolic links that lead
    /// out of the root.
    QString resolve(const QString& relative) const
    {
        if (relative.contains(QLatin1Char('\\')) || relative.contains(QChar(0))) {
            return {};
        }
        const QStringList segments = relative.split(QLatin1Char('/'));
        for (const QString& s : segments) {
            if (s.isEmpty() || s.startsWith(QLatin1Char('.'))) {
                return {};
            }
        }
        const QFileInfo info(m_root + QLatin1Char('/') + relative);
        if (!info.exists() || !info.isFile()) {
            return {};
        }
        const QString canonical = info.canonicalFilePath();
        if (canonical.isEmpty() || !canonical.startsWith(m_root + QLatin1Char('/'))) {
            return {};
        }
        return canonical;
    }

    static QHttpServerResponse fileResponse(const QString& path, const QByteArray& ifNoneMatch)
    {
        QFile f(path);
        if (f.size() > maxStaticFileBytes || !f.open(QIODevice::ReadOnly)) {
            return notFound();
        }
        // Pages and the library change with the app; a stale cached module next to a new one
        // would mix protocol versions, so browsers revalidate every time ("no-cache"). The
        // validator (size and modification time) makes that revalidation a 304 without a body,
        // so a tablet reloading a multi-MiB OpenLifter bundle does not fetch it again.
        const QFileInfo info(f);
        const QByteArray etag = "\"" + QByteArray::number(info.size(), 16) + '-'
            + QByteArray::number(info.lastModified().toMSecsSinceEpoch(), 16) + '"';
        const auto addCommonHeaders = [&etag](QHttpServerResponse& r) {
            r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache"));
            r.addHeader(QByteArrayLiteral("ETag"), etag);
            r.addHeader(QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff"));
        };
        if (!ifNoneMatch.isEmpty()) {
            for (const QByteArray& candidate : ifNoneMatch.split(',')) {
                const QByteArray tag = candidate.trimmed();
                if (tag == etag || tag == "W/" + etag || tag == "*") {
                    QHttpServerResponse notModified(QHttpServerResponse::StatusCode::NotModified);
                    addCommonHeaders(notModified);
                    return notModified;
                }
            }
        }
        QHttpServerResponse response(contentTypeFor(path), f.readAll());
        addCommonHeaders(response);
        return response;
    }

    QString m_prefix; // "/lib", "/demo", "/openlifter"
    QString m_root; // canonical directory path, or empty
    Kind m_kind = Kind::AppFiles;
};

void addMount(QHttpServer& http, const std::shared_ptr<const Mount>& mount)
{
    if (!mount->usable()) {
        return;
    }
    // "/demo" -> "/demo/", so that relative URLs inside the page resolve below the prefix.
    http.route(mount->prefix(), QHttpServerRequest::Method::Get,
               [mount](const QHttpServerRequest&) { return redirectTo(mount->prefix() + QLatin1Char('/')); });
    // QUrl-typed arguments match the rest of the path, slashes included ("<arg>" becomes ".*").
    http.route(mount->prefix() + QStringLiteral("/<arg>"), QHttpServerRequest::Method::Get,
               [mount](const QUrl&, const QHttpServerRequest& request) {
                   return mount->serve(request.url().path(QUrl::FullyDecoded),
                                       request.value(QByteArrayLiteral("If-None-Match")));
               });
}

} // namespace

void installStaticSite(QHttpServer& http, const StaticSiteOptions& options)
{
    if (!options.webDir.isEmpty()) {
        const QDir web(options.webDir);
        // Each folder of the web directory is served under its own name: /lib/ (the client
        // library), /demo/, and the pages other parts of the app add (boards, overlays). Only
        // these prefixes are claimed, so routes registered elsewhere stay reachable.
        const QStringList folders = web.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        for (const QString& folder : folders) {
            static const QStringList reserved{QStringLiteral("live"), QStringLiteral("health"), QStringLiteral("admin"),
                                              QStringLiteral("openlifter")};
            if (reserved.contains(folder) || folder.startsWith(QLatin1Char('.'))) {
                continue;
            }
            addMount(
                http,
                std::make_shared<const Mount>(QLatin1Char('/') + folder, web.filePath(folder), Mount::Kind::AppFiles));
        }
    }
    if (!options.openlifterDir.isEmpty()) {
        addMount(http,
                 std::make_shared<const Mount>(QStringLiteral("/openlifter"), options.openlifterDir,
                                               Mount::Kind::OpenLifterBuild));
    }
}

} // namespace oll
