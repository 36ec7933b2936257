// SPDX-License-Identifier: AGPL-3.0-or-later
#include "JoinAddresses.h"

#include <QNetworkInterface>

namespace oll::ui {

namespace {

QUrl urlFor(const QHostAddress& address, quint16 port)
{
    QUrl url;
    url.setScheme(QStringLiteral("http"));
    QHostAddress host = address;
    host.setScopeId(QString()); // a zone id means nothing to another machine
    url.setHost(host.toString());
    url.setPort(port);
    url.setPath(QStringLiteral("/"));
    return url;
}

bool isGlobalIpv6(const QHostAddress& a)
{
    return a.protocol() == QAbstractSocket::IPv6Protocol && a.isGlobal() && !a.isLinkLocal() && !a.isLoopback();
}

} // namespace

QList<QUrl> joinUrls(const QHostAddress& bind, quint16 port)
{
    const bool any = bind == QHostAddress(QHostAddress::Any);
    const bool anyV4 = bind == QHostAddress(QHostAddress::AnyIPv4);
    const bool anyV6 = bind == QHostAddress(QHostAddress::AnyIPv6);
    if (!any && !anyV4 && !anyV6) {
        QHostAddress one = bind;
        // An IPv4-mapped IPv6 address is the IPv4 address as far as a browser is concerned.
        bool mapped = false;
        const quint32 v4 = one.toIPv4Address(&mapped);
        if (mapped && one.protocol() == QAbstractSocket::IPv6Protocol) {
            one = QHostAddress(v4);
        }
        return {urlFor(one, port)};
    }

    QList<QHostAddress> v4;
    QList<QHostAddress> v6;
    const auto interfaces = QNetworkInterface::allInterfaces();
    for (const QNetworkInterface& iface : interfaces) {
        const auto flags = iface.flags();
        if (!flags.testFlag(QNetworkInterface::IsUp) || !flags.testFlag(QNetworkInterface::IsRunning)
            || flags.testFlag(QNetworkInterface::IsLoopBack)) {
            continue;
        }
        const auto entries = iface.addressEntries();
        for (const QNetworkAddressEntry& entry : entries) {
            const QHostAddress a = entry.ip();
            if (a.isLoopback()) {
                continue;
            }
            if (a.protocol() == QAbstractSocket::IPv4Protocol && !anyV6 && !v4.contains(a)) {
                v4.append(a);
            } else if (isGlobalIpv6(a) && !anyV4 && !v6.contains(a)) {
                v6.append(a);
            }
        }
    }

    QList<QUrl> urls;
    for (const QHostAddress& a : std::as_const(v4)) {
        urls.append(urlFor(a, port));
    }
    for (const QHostAddress& a : std::as_const(v6)) {
        urls.append(urlFor(a, port));
    }
    urls.append(
        urlFor(anyV6 ? QHostAddress(QHostAddress::LocalHostIPv6) : QHostAddress(QHostAddress::LocalHost), port));
    return urls;
}

} // namespace oll::ui
