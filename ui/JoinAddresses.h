// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QHostAddress>
#include <QList>
#include <QUrl>

namespace oll::ui {

/// The http:// URLs a browser on the venue LAN can reach the server at. Bound to Any (or AnyIPv4 /
/// AnyIPv6): every non-loopback IPv4 address of the interfaces that are up and running, then
/// their global IPv6 addresses, loopback last (a browser on this computer). Bound to one address:
/// just that one. Each URL has the path "/".
QList<QUrl> joinUrls(const QHostAddress& bind, quint16 port);

} // namespace oll::ui
