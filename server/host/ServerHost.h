// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "host/ServerSnapshot.h"
#include "net/LiveServer.h"

#include <QObject>

#include <functional>
#include <memory>

class QThread;

namespace oll {

class DiagRing;
class ServerMonitor;

/// The façade the desktop app (and its tests) drive the live server through. The server runs on
/// a thread of its own, built there by start() and torn down there by stop(): a busy or modal
/// GUI never delays an ack or a relay. Everything here is called from the thread that owns the
/// host (the GUI thread); results come back as signals on that thread. Every accessor is safe
/// before start(), while starting, after a failed start and after stop().
class ServerHost : public QObject
{
    Q_OBJECT
public:
    explicit ServerHost(QObject* parent = nullptr);
    /// Stops a running server and waits for it: queued journal writes finish and their acks are
    /// sent before the thread ends, so destroying the host loses nothing acknowledged.
    ~ServerHost() override;
    ServerHost(const ServerHost&) = delete;
    ServerHost& operator=(const ServerHost&) = delete;

    /// Starts the server with `options` (services: test seams; they must outlive the run).
    /// Emits started(ok, error) once. Ignored (returns false) unless the state is Stopped or Failed.
    bool start(ServerOptions options, ServerServices services = {});
    /// Stops accepting, lets queued file work finish and its acks go out, closes every client
    /// (1001) and ends the thread; then emits stopped(). No nested event loop on either thread.
    /// Ignored (returns false) unless Running or Starting.
    bool stop();
    ServerSnapshot::State state() const;
    bool isRunning() const { return state() == ServerSnapshot::State::Running; }
    /// Options of the current (or last) run.
    ServerOptions options() const;

    /// The latest published snapshot (never null). Republished when something changes, at most
    /// every kSnapshotIntervalMs, and at least that often while clients are connected.
    ServerSnapshotPtr snapshot() const;
    /// Asks for a snapshot now (e.g. after an action); it arrives through snapshotChanged.
    void refresh();
    /// What GET /health would answer; {"status":"stopped"} when the server is not running.
    QJsonObject health() const;
    /// The most recent diagnostics (bounded ring, oldest first), also across restarts of the host.
    QList<DiagEntry> recentDiagnostics(const QString& meetId = QString()) const;
    /// Settled conflicts of one meet, oldest first (values included), as of the last snapshot.
    QList<ConflictInfo> conflicts(const QString& meetId) const;

    // Actions. Each is asynchronous; its outcome is a signal (and shows in the next snapshot).
    void approveRestore(const QString& meetId);
    void refuseRestore(const QString& meetId);
    /// Mints a read-only display link for `meetId`; answers with displayLinkMinted(requestId, ...).
    quint64 mintDisplayLink(const QString& meetId, const QString& label);
    void revokeDisplayLink(const QString& meetId, const QString& linkId);

    static constexpr int kSnapshotIntervalMs = 250;
    static constexpr int kDiagRingSize = 2000;

Q_SIGNALS:
    void started(bool ok, const QString& error);
    void stopped();
    void stateChanged(oll::ServerSnapshot::State state);
    void snapshotChanged(const oll::ServerSnapshotPtr& snapshot);

    void connectionOpened(const oll::ConnectionInfo& info);
    void connectionBound(const oll::ConnectionInfo& info);
    void connectionClosed(const oll::ConnectionInfo& info);
    void conflictRecorded(const oll::ConflictInfo& conflict);
    void restoreRequested(const oll::RestoreRequestInfo& request);
    void restoreCompleted(const QString& meetId);
    void diagnostic(const oll::DiagEntry& entry);

    /// `token` is the secret: shown to the director once, never stored or logged by the server.
    /// `url` is the path and fragment a display opens (e.g. "/demo/#display=<token>"); the GUI
    /// prefixes it with a join address. On failure `error` says why and the rest is empty.
    void displayLinkMinted(quint64 requestId, const oll::DisplayLinkInfo& link, const QString& token,
                           const QString& path, const QString& error);
    /// The link is revoked: its token and sessions are refused and `socketsClosed` displays were
    /// cut off. `warning` non-empty: display-links.json could not be written, so a restart before
    /// one of the server's retries succeeds would bring the link back; show it to the director.
    void displayLinkRevoked(const QString& meetId, const QString& linkId, int socketsClosed, const QString& warning);
    /// A revocation that did not happen (unknown link, meet not loaded, server not running): why.
    void displayLinkRevokeFailed(const QString& meetId, const QString& linkId, const QString& error);

private:
    struct Run; // one start..stop: the thread and what lives on it
    struct Published; // the latest snapshot and conflicts, shared with the server thread
    void setState(ServerSnapshot::State state, const QString& error = QString());
    void onStarted(Run* run);
    void onThreadFinished(Run* run);
    /// Runs `action` on the server thread with the running server and its monitor, or with two
    /// nulls when there is none (then perhaps on this thread): an action always gets an answer.
    void inServerThread(std::function<void(LiveServer* server, ServerMonitor* monitor)> action);

    std::unique_ptr<Run> m_run;
    std::shared_ptr<Published> m_published;
    std::unique_ptr<DiagRing> m_diag; // outlives runs: diagnostics survive restarts
    ServerSnapshot::State m_state = ServerSnapshot::State::Stopped;
    ServerOptions m_options;
    quint64 m_nextRequestId = 1;
};

} // namespace oll
