// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/AdminRoutes.h"

#include "net/LiveServer.h"
#include "sync/MeetRegistry.h"

#include <QHttpServer>
#include <QHttpServerRequest>
#include <QHttpServerResponse>
#include <QJsonArray>
#include <QJsonObject>

namespace oll {

void installAdminRoutes(QHttpServer& http, LiveServer& server)
{
    // The meet director's machine only: approving a restore hands a meet ID to whoever asked.
    auto local = [](const QHttpServerRequest& request) { return request.remoteAddress().isLoopback(); };
    auto forbidden = [] {
        return QHttpServerResponse(QJsonObject{{QStringLiteral("error"),
                                                QStringLiteral("admin requests are accepted from this computer only")}},
                                   QHttpServerResponder::StatusCode::Forbidden);
    };
    http.route(QStringLiteral("/admin/restores"), QHttpServerRequest::Method::Get,
               [&server, local, forbidden](const QHttpServerRequest& request) {
                   if (!local(request)) {
                       return forbidden();
                   }
                   return QHttpServerResponse(QJsonObject{{QStringLiteral("restores"), server.pendingRestores()}});
               });
    http.route(QStringLiteral("/admin/restores/<arg>/approve"), QHttpServerRequest::Method::Post,
               [&server, local, forbidden](const QString& typed, const QHttpServerRequest& request) {
                   if (!local(request)) {
                       return forbidden();
                   }
                   const auto id = normalizeMeetId(typed);
                   if (!id) {
                       return QHttpServerResponse(
                           QJsonObject{{QStringLiteral("error"), QStringLiteral("a meet ID is 9 digits")}},
                           QHttpServerResponder::StatusCode::BadRequest);
                   }
                   server.approveRestore(*id);
                   server.writeDiagnostic(QStringLiteral("restore"),
                                          QStringLiteral("meet %1: restore approved by an admin request").arg(*id));
                   return QHttpServerResponse(
                       QJsonObject{{QStringLiteral("meetId"), *id}, {QStringLiteral("approved"), true}});
               });
    http.route(QStringLiteral("/admin/meets/<arg>/conflicts"), QHttpServerRequest::Method::Get,
               [&server, local, forbidden](const QString& typed, const QHttpServerRequest& request) {
                   if (!local(request)) {
                       return forbidden();
                   }
                   const auto id = normalizeMeetId(typed);
                   Meet* meet = id ? server.registry().find(*id) : nullptr;
                   if (!meet) {
                       return QHttpServerResponse(
                           QJsonObject{{QStringLiteral("error"), QStringLiteral("no such meet")}},
                           QHttpServerResponder::StatusCode::NotFound);
                   }
                   QJsonArray list;
                   for (const ConflictRecord& r : meet->conflicts()) {
                       list.append(r.toJson());
                   }
                   return QHttpServerResponse(QJsonObject{{QStringLiteral("meetId"), *id},
                                                          {QStringLiteral("epoch"), meet->epoch()},
                                                          {QStringLiteral("conflicts"), list}});
               });
}

} // namespace oll
