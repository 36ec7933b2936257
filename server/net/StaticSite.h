// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QString>

class QHttpServer;

namespace oll {

/// Where the static pages come from. Empty paths are not served.
struct StaticSiteOptions
{
    /// The browser client library, the Live panel and /demo. By default the copy of resources/web
    /// compiled into the program (":/web", from resources/CMakeLists.txt), so that an installed
    /// app needs no source tree; a folder on disk (--web-dir) serves instead, e.g. while editing
    /// it. A program that does not link oll_webassets has no ":/web" and serves no pages.
    QString webDir = QStringLiteral(":/web");
    QString openlifterDir; // a local OpenLifter build, served from this server's own origin
};

/// Registers the HTTP routes that serve static files (the client library, /demo, a local
/// OpenLifter build) on `http`. Requests that would leave a directory are refused.
void installStaticSite(QHttpServer& http, const StaticSiteOptions& options);

} // namespace oll
