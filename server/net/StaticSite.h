#pragma once

#include <QString>

class QHttpServer;

namespace oll {

/// Where the static pages come from. Empty directories are not served.
struct StaticSiteOptions
{
    QString webDir; // resources/web: the browser client library, the Live panel and /demo
    QString openlifterDir; // a local OpenLifter build, served from this server's own origin
};

/// Registers the HTTP routes that serve static files (the client library, /demo, a local
/// OpenLifter build) on `http`. Requests that would leave a directory are refused.
void installStaticSite(QHttpServer& http, const StaticSiteOptions& options);

} // namespace oll
