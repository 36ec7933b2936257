// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/StaticSite.h"

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QMimeDatabase>
#include <QUrl>

#include <memory>
#include <optional>

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

/// A file ready to send: its validator, and its bytes or where to read them.
struct StaticFile
{
    QString name; // picks the content type
    QByteArray etag; // a strong validator, quoted
    QByteArray body; // the bytes, when they are already in memory (compiled-in files)
    QString diskPath; // otherwise read from here, and only when a body is sent (not for a 304)
};

/// `..`, `.`, empty segments, hidden names (".git", ".env"), backslashes and NULs are refused
/// outright, whatever the files come from.
bool isPlainRelativePath(const QString& relative)
{
    if (relative.contains(QLatin1Char('\\')) || relative.contains(QChar(0))) {
        return false;
    }
    const QStringList segments = relative.split(QLatin1Char('/'));
    for (const QString& s : segments) {
        if (s.isEmpty() || s.startsWith(QLatin1Char('.'))) {
            return false;
        }
    }
    return true;
}

/// The files under one mount.
class FileTree
{
public:
    virtual ~FileTree() = default;
    virtual bool usable() const = 0;
    /// The regular file at `relative` (already checked by isPlainRelativePath) inside the tree.
    virtual std::optional<StaticFile> find(const QString& relative) const = 0;
};

/// A folder on disk (--web-dir, an OpenLifter build), read at each request so that edits show
/// on the next reload.
class DiskTree final : public FileTree
{
public:
    explicit DiskTree(const QString& dir)
        : m_root(QFileInfo(dir).canonicalFilePath())
    {
    }

    bool usable() const override { return !m_root.isEmpty() && QFileInfo(m_root).isDir(); }

    std::optional<StaticFile> find(const QString& relative) const override
    {
        const QFileInfo info(m_root + QLatin1Char('/') + relative);
        if (!info.exists() || !info.isFile() || info.size() > maxStaticFileBytes) {
            return std::nullopt;
        }
        // The canonical-path check refuses symbolic links that lead out of the root.
        const QString canonical = info.canonicalFilePath();
        if (canonical.isEmpty() || !canonical.startsWith(m_root + QLatin1Char('/'))) {
            return std::nullopt;
        }
        // Size and modification time: a validator without reading the file, so that a tablet
        // revalidating a multi-MiB OpenLifter bundle costs a stat, not a read.
        StaticFile file;
        file.name = canonical;
        file.etag = "\"" + QByteArray::number(info.size(), 16) + '-'
            + QByteArray::number(info.lastModified().toMSecsSinceEpoch(), 16) + '"';
        file.diskPath = canonical;
        return file;
    }

private:
    QString m_root; // canonical directory path, or empty
};

/// A folder of the program's own resources (":/web/lib"). The files cannot change while the
/// program runs, so they are read and hashed once, when the routes are installed, and each
/// request only looks a path up: no file access and no hashing on the event loop. Only the exact
/// names compiled in exist, so there is nothing to traverse to and no link to follow.
class ResourceTree final : public FileTree
{
public:
    explicit ResourceTree(const QString& dir)
    {
        const QString root = dir.endsWith(QLatin1Char('/')) ? dir : dir + QLatin1Char('/');
        QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories);
        while (it.hasNext()) {
            const QString path = it.next();
            const QString relative = path.mid(root.size());
            QFile f(path);
            if (!path.startsWith(root) || !isPlainRelativePath(relative) || f.size() > maxStaticFileBytes
                || !f.open(QIODevice::ReadOnly)) {
                continue;
            }
            StaticFile file;
            file.name = relative;
            file.body = f.readAll();
            // A content hash: the same build serves the same validator after every restart, and
            // a new build with a changed file never matches a browser's cached copy.
            file.etag = "\"" + QCryptographicHash::hash(file.body, QCryptographicHash::Sha256).left(12).toHex() + '"';
            m_files.insert(relative, file);
        }
    }

    bool usable() const override { return !m_files.isEmpty(); }

    std::optional<StaticFile> find(const QString& relative) const override
    {
        const auto it = m_files.constFind(relative);
        if (it == m_files.cend()) {
            return std::nullopt;
        }
        return *it;
    }

private:
    QHash<QString, StaticFile> m_files; // by path relative to the folder
};

bool isResourcePath(const QString& path)
{
    return path.startsWith(QLatin1Char(':'));
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
        , m_kind(kind)
    {
        if (isResourcePath(dir)) {
            m_tree = std::make_unique<const ResourceTree>(dir);
        } else {
            m_tree = std::make_unique<const DiskTree>(dir);
        }
    }

    bool usable() const { return m_tree->usable(); }
    const QString& prefix() const { return m_prefix; }

    /// Answers a GET for `urlPath` (decoded), which starts with prefix() + "/". `ifNoneMatch` is
    /// the request's If-None-Match header: a matching validator gets 304 without a body.
    QHttpServerResponse serve(const QString& urlPath, const QByteArray& ifNoneMatch = {}) const
    {
        QString relative = urlPath.mid(m_prefix.size() + 1);
        if (relative.isEmpty() || relative.endsWith(QLatin1Char('/'))) {
            relative += QStringLiteral("index.html"); // a directory's page; never a listing
        }
        std::optional<StaticFile> file = resolve(relative);
        if (!file) {
            // OpenLifter's deep links (/lifting/, /registration/) are small redirect pages in its
            // build; a build without them still works when unknown paths give its index.html.
            if (m_kind == Kind::OpenLifterBuild && !relative.contains(QLatin1Char('.'))) {
                if (const std::optional<StaticFile> index = resolve(QStringLiteral("index.html"))) {
                    return fileResponse(*index, ifNoneMatch);
                }
            }
            return notFound();
        }
        QHttpServerResponse response = fileResponse(*file, ifNoneMatch);
        if (m_kind == Kind::AppFiles) {
            // The library's offline cache (lib/offline-sw.js) serves pages outside /lib/ (the
            // demo, OpenLifter under /openlifter/); its scope may be wider than its folder.
            response.addHeader(QByteArrayLiteral("Service-Worker-Allowed"), QByteArrayLiteral("/"));
        }
        return response;
    }

private:
    std::optional<StaticFile> resolve(const QString& relative) const
    {
        if (!isPlainRelativePath(relative)) {
            return std::nullopt;
        }
        return m_tree->find(relative);
    }

    static QHttpServerResponse fileResponse(const StaticFile& file, const QByteArray& ifNoneMatch)
    {
        // Pages and the library change with the app; a stale cached module next to a new one
        // would mix protocol versions, so browsers revalidate every time ("no-cache"). The
        // validator makes that revalidation a 304 without a body.
        const auto addCommonHeaders = [&file](QHttpServerResponse& r) {
            r.addHeader(QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-cache"));
            r.addHeader(QByteArrayLiteral("ETag"), file.etag);
            r.addHeader(QByteArrayLiteral("X-Content-Type-Options"), QByteArrayLiteral("nosniff"));
        };
        if (!ifNoneMatch.isEmpty()) {
            for (const QByteArray& candidate : ifNoneMatch.split(',')) {
                const QByteArray tag = candidate.trimmed();
                if (tag == file.etag || tag == "W/" + file.etag || tag == "*") {
                    QHttpServerResponse notModified(QHttpServerResponse::StatusCode::NotModified);
                    addCommonHeaders(notModified);
                    return notModified;
                }
            }
        }
        QByteArray body = file.body;
        if (!file.diskPath.isEmpty()) {
            QFile f(file.diskPath);
            if (!f.open(QIODevice::ReadOnly)) {
                return notFound();
            }
            body = f.readAll();
        }
        QHttpServerResponse response(contentTypeFor(file.name), body);
        addCommonHeaders(response);
        return response;
    }

    QString m_prefix; // "/lib", "/demo", "/openlifter"
    Kind m_kind = Kind::AppFiles;
    std::unique_ptr<const FileTree> m_tree;
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
