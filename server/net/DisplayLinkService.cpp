// SPDX-License-Identifier: AGPL-3.0-or-later
#include "net/DisplayLinkService.h"

#include "auth/LoginThrottle.h"
#include "net/LiveServer.h"
#include "storage/DiagLog.h"
#include "sync/MeetRegistry.h"

#include <algorithm>
#include <vector>

namespace oll {
namespace {

/// Failed JOIN_DISPLAYs are counted in the login throttle as if for one meet of this name (no
/// meet ID is 9 digits of this), and in the address's count across all meets.
QString displayThrottleKey()
{
    return QStringLiteral("display-link");
}

} // namespace

DisplayLinkService::DisplayLinkService(const ServerOptions& options, MeetRegistry& registry, DiagLog& diag,
                                       LoginThrottle& throttle, const Connections& connections, Hooks hooks,
                                       QObject* parent)
    : QObject(parent)
    , m_options(options)
    , m_registry(registry)
    , m_diag(diag)
    , m_throttle(throttle)
    , m_connections(connections)
    , m_hooks(std::move(hooks))
    , m_retry(this)
{
    m_retry.setInterval(std::max(1, m_options.displayLinkSaveRetryMs));
    connect(&m_retry, &QTimer::timeout, this, &DisplayLinkService::retryUnsaved);
}

QString DisplayLinkService::unknownLinkReason()
{
    return QStringLiteral("unknown or revoked display link; ask the meet director for a new one");
}

void DisplayLinkService::beginShutdown()
{
    m_shuttingDown = true;
    m_retry.stop();
    retryUnsaved();
}

void DisplayLinkService::join(ClientConnection* c, const JoinDisplayRequest& req)
{
    if (!isValidClientId(req.clientId, m_options.limits.maxClientIdLength)) {
        c->send(Reply::joinRejected(QStringLiteral("clientId must be 1 to %1 characters of A-Z a-z 0-9 - _")
                                        .arg(m_options.limits.maxClientIdLength)));
        return;
    }
    const QString addr = c->peerAddress();
    if (const qint64 wait = m_throttle.retryAfterMs(addr, displayThrottleKey()); wait > 0) {
        c->send(Reply::joinRejected(
            QStringLiteral("too many failed attempts from your address; try again in %1 s").arg((wait + 999) / 1000),
            wait));
        return;
    }
    if (!SessionStore::isWellFormedToken(req.displayToken)) {
        // Cannot match any link, so it is no guess: refused without hashing and not counted.
        c->send(Reply::joinRejected(QStringLiteral("a display link token is 43 base64url characters; open the whole "
                                                   "link the meet director copied")));
        return;
    }
    // SHA-256 of 43 characters: cheap enough for the event loop, unlike a password check.
    const QByteArray hash = SessionStore::hashToken(req.displayToken);
    Meet* meet = m_registry.meetForDisplayToken(hash);
    const std::optional<DisplayLink> link = meet ? meet->displayLinks().check(hash) : std::nullopt;
    if (!link) {
        m_throttle.recordFailure(addr, displayThrottleKey());
        m_diag.write(QStringLiteral("join"),
                     QStringLiteral("failed display link join from %1 (%2 recent failure(s))")
                         .arg(addr)
                         .arg(m_throttle.failures(addr, displayThrottleKey())));
        c->send(Reply::joinRejected(unknownLinkReason()));
        return;
    }
    m_throttle.recordSuccess(addr, displayThrottleKey());
    // A board is at no endpoint: its session is named after the link, which is what the
    // director sees in the client list.
    m_hooks.issueSession(c->id(), meet, req.clientId, link->label, link->linkId);
}

QString DisplayLinkService::meetProblem(const QString& meetId) const
{
    if (m_registry.isFinished(meetId)) {
        return QStringLiteral("meet %1 is finished; it has no display links").arg(displayMeetId(meetId));
    }
    if (m_registry.damagedMeets().contains(meetId)) {
        return QStringLiteral("meet %1 could not be loaded (its data is damaged)").arg(displayMeetId(meetId));
    }
    if (!m_registry.find(meetId)) {
        return QStringLiteral("there is no meet %1 on this server").arg(meetId.left(32));
    }
    return {};
}

void DisplayLinkService::mint(const QString& meetId, const QString& label,
                              std::function<void(const DisplayLinkInfo&, const QString&, const QString&)> done)
{
    auto fail = [&done](const QString& why) {
        if (done) {
            done(DisplayLinkInfo{}, QString(), why);
        }
    };
    const QString id = normalizeMeetId(meetId).value_or(meetId);
    if (const QString problem = meetProblem(id); !problem.isEmpty()) {
        return fail(problem);
    }
    if (const QString bad = DisplayLinkStore::validateLabel(label, m_options.limits.maxDisplayLinkLabelLength);
        !bad.isEmpty()) {
        return fail(bad);
    }
    Meet* meet = m_registry.find(id);
    if (meet->displayLinks().size() >= m_options.limits.maxDisplayLinksPerMeet) {
        return fail(QStringLiteral("meet %1 already has %2 display links; revoke one first")
                        .arg(displayMeetId(id))
                        .arg(m_options.limits.maxDisplayLinksPerMeet));
    }
    DisplayLinkStore::Minted minted;
    try {
        minted = meet->displayLinks().mint(label);
    } catch (const std::exception& e) {
        m_diag.write(QStringLiteral("error"),
                     QStringLiteral("display link not minted: %1").arg(QString::fromLocal8Bit(e.what())));
        return fail(QStringLiteral("the server could not draw a random token; try again"));
    }
    m_registry.indexDisplayLink(minted.link.tokenHash, id);
    const DisplayLink link = minted.link;
    const QString token = minted.token;
    // Handed out only once its hash is on disk, so a restart never forgets a link a board holds.
    persist(meet, [this, meet, link, token, done](bool ok, const QString& error) {
        if (!ok) {
            meet->displayLinks().revoke(link.linkId);
            m_registry.unindexDisplayLink(link.tokenHash);
            if (done) {
                done(DisplayLinkInfo{}, QString(),
                     QStringLiteral("the display link could not be saved (%1); check the data folder").arg(error));
            }
            return;
        }
        m_diag.write(
            QStringLiteral("display"),
            QStringLiteral("meet %1: display link %2 '%3' minted").arg(meet->meetId(), link.linkId, link.label));
        if (done) {
            done(DisplayLinkInfo{link.linkId, meet->meetId(), link.label, link.createdMs, 0}, token, QString());
        }
    });
}

void DisplayLinkService::revoke(
    const QString& meetId, const QString& linkId,
    std::function<void(int socketsClosed, const QString& error, const QString& warning)> done)
{
    auto fail = [&done](const QString& why) {
        if (done) {
            done(0, why, QString());
        }
    };
    const QString id = normalizeMeetId(meetId).value_or(meetId);
    if (const QString problem = meetProblem(id); !problem.isEmpty()) {
        return fail(problem);
    }
    Meet* meet = m_registry.find(id);
    const std::optional<DisplayLink> link = meet->displayLinks().revoke(linkId);
    if (!link) {
        return fail(QStringLiteral("meet %1 has no display link %2").arg(displayMeetId(id), linkId.left(64)));
    }
    // In memory first, so the token and its sessions stop working now, not when the disk is done.
    m_registry.unindexDisplayLink(link->tokenHash);
    for (const QByteArray& h : meet->sessions().revokeIssuedFrom(link->linkId)) {
        m_registry.unindexSession(h);
    }
    std::vector<quint64> holders;
    for (const auto& [cid, c] : m_connections) {
        const auto& b = c->binding();
        if (b && b->meetId == id && b->session.displayLinkId == link->linkId) {
            holders.push_back(cid);
        }
    }
    int closed = 0;
    for (quint64 cid : holders) {
        // close() may emit disconnected synchronously, which erases from m_connections.
        const auto it = m_connections.find(cid);
        if (it != m_connections.end()) {
            ClientConnection* c = it->second.get();
            m_hooks.unbind(c);
            c->pull.reset();
            c->close(static_cast<QWebSocketProtocol::CloseCode>(LiveServer::kDisplayLinkRevokedCloseCode),
                     QStringLiteral("display link revoked"));
            ++closed;
        }
    }
    m_diag.write(QStringLiteral("display"),
                 QStringLiteral("meet %1: display link %2 '%3' revoked (%4 socket(s) closed)")
                     .arg(id, link->linkId, link->label)
                     .arg(closed));
    // display-links.json decides: sessions of a link missing from it are dropped at load, so a
    // crash before sessions.json is rewritten revives nothing. If it cannot be written, the
    // revocation still holds in this run (the boards are cut off): the answer says so, truthfully,
    // with what it means, and the write is retried until it succeeds.
    auto linksError = std::make_shared<QString>();
    persist(meet, [this, id, linksError](bool ok, const QString& error) {
        if (!ok) {
            *linksError = error;
            m_unsavedMeets.insert(id);
            if (!m_shuttingDown) {
                m_retry.start();
            }
        }
    });
    const QList<QByteArray> expired
        = meet->persistSessions([this, id, closed, linksError, done](bool ok, const QString& error) {
              if (!ok) {
                  m_diag.write(QStringLiteral("storage"),
                               QStringLiteral("meet %1: cannot write sessions.json: %2").arg(id, error));
              }
              if (done) {
                  done(closed, QString(),
                       linksError->isEmpty()
                           ? QString()
                           : QStringLiteral("the link is revoked and its displays are disconnected, but saving "
                                            "that failed (%1). The server retries every %2 s; if it stops before "
                                            "a retry succeeds, the link works again after a restart. Free disk "
                                            "space or fix the data folder, and revoke the link again after a "
                                            "restart if it is still listed")
                                 .arg(*linksError)
                                 .arg(std::max(1, m_options.displayLinkSaveRetryMs / 1000)));
              }
          });
    m_hooks.forgetSessions(expired);
}

void DisplayLinkService::persist(Meet* meet, std::function<void(bool ok, const QString& error)> done)
{
    const QString id = meet->meetId();
    meet->persistDisplayLinks([this, id, done = std::move(done)](bool ok, const QString& error) {
        if (ok && m_unsavedMeets.remove(id)) {
            m_diag.write(QStringLiteral("display"),
                         QStringLiteral("meet %1: display-links.json written; its revocations are saved").arg(id));
        } else if (!ok && !m_unsavedMeets.contains(id)) {
            // Logged once per failing streak, not at every retry.
            m_diag.write(QStringLiteral("storage"),
                         QStringLiteral("meet %1: cannot write display-links.json: %2").arg(id, error));
        }
        if (m_unsavedMeets.isEmpty()) {
            m_retry.stop();
        }
        if (done) {
            done(ok, error);
        }
    });
}

void DisplayLinkService::retryUnsaved()
{
    const QSet<QString> unsaved = m_unsavedMeets;
    for (const QString& id : unsaved) {
        Meet* meet = m_registry.find(id);
        if (!meet) {
            m_unsavedMeets.remove(id); // finished or gone: no links of it are loaded any more
            continue;
        }
        persist(meet, [this, id](bool ok, const QString&) {
            if (!ok && m_shuttingDown) {
                m_diag.write(QStringLiteral("storage"),
                             QStringLiteral("meet %1: a display link revocation could not be saved before the "
                                            "server stopped; the link works again after the restart: revoke it "
                                            "again")
                                 .arg(id));
            }
        });
    }
}

QList<DisplayLinkInfo> DisplayLinkService::links() const
{
    QList<DisplayLinkInfo> out;
    QHash<QString, int> inUse; // "meetId|linkId" -> open sockets bound through it
    for (const auto& [cid, c] : m_connections) {
        const auto& b = c->binding();
        if (b && !b->session.displayLinkId.isEmpty() && !c->isClosing()) {
            inUse[b->meetId + u'|' + b->session.displayLinkId] += 1;
        }
    }
    const QList<Meet*> meets = m_registry.meets();
    for (const Meet* m : meets) {
        const QList<DisplayLink> links = m->displayLinks().links();
        for (const DisplayLink& l : links) {
            out.append(DisplayLinkInfo{l.linkId, m->meetId(), l.label, l.createdMs,
                                       inUse.value(m->meetId() + u'|' + l.linkId)});
        }
    }
    return out;
}

} // namespace oll
