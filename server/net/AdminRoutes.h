// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

class QHttpServer;

namespace oll {

class LiveServer;

/// The meet director's HTTP routes, answered for loopback peers only (docs/protocol.md §1, §21):
/// GET /admin/restores, POST /admin/restores/<meetId>/approve and
/// GET /admin/meets/<meetId>/conflicts. Install once per QHttpServer: it keeps every route.
void installAdminRoutes(QHttpServer& http, LiveServer& server);

} // namespace oll
