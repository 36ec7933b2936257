// SPDX-License-Identifier: AGPL-3.0-or-later
#include "host/ServerHost.h"

#include "host/DiagRing.h"
#include "host/ServerMonitor.h"

#include <QDateTime>
#include <QDir>
#include <QMutex>
#include <QMutexLocker>
#include <QPointer>
#include <QThread>

#include <algorithm>

namespace oll {
namespace {

void registerMetaTypes()
{
    // Queued signals and QSignalSpy need the argument types known to the meta-type system.
    static const bool registered = [] {
        qRegisterMetaType<ConnectionInfo>();
        qRegisterMetaType<RestoreRequestInfo>();
        qRegisterMetaType<DisplayLinkInfo>();
        qRegisterMetaType<DiagEntry>();
        qRegisterMetaType<ConflictInfo>();
        qRegisterMetaType<ServerSnapshotPtr>();
        qRegisterMetaType<ServerSnapshot::State>();
        return true;
    }();
    Q_UNUSED(registered);
}

QJsonObject stoppedHealth()
{
    return {{QStringLiteral("status"), QStringLiteral("stopped")}};
}

QString notRunning()
{
    return QStringLiteral("the server is not running");
}

} // namespace

/// Written by the server thread (snapshots, conflicts) and by the host (state changes), read by
/// the host: everything under one mutex, snapshots immutable once stored.
struct ServerHost::Published
{
    mutable QMutex mutex;
    ServerSnapshotPtr snapshot = std::make_shared<ServerSnapshot>();
    QHash<QString, QList<ConflictInfo>> conflicts;
    ServerSnapshot::State state = ServerSnapshot::State::Stopped;
    QString error;
    quint64 version = 0;

    /// Stamps the host's current state and the next version on `s` and makes it the latest.
    ServerSnapshotPtr store(std::shared_ptr<ServerSnapshot> s)
    {
        const QMutexLocker lock(&mutex);
        s->state = state;
        s->error = error;
        s->version = ++version;
        snapshot = std::move(s);
        return snapshot;
    }
};

/// One run of the server, from start() until its thread has finished.
struct ServerHost::Run
{
    QThread* thread = nullptr; // owned; deleted once finished
    QObject* context = nullptr; // lives on `thread`: queued calls into the thread target it
    // Used on the server thread only; the host reads `started` and `startError` after the
    // thread has finished (QThread::wait orders the accesses).
    LiveServer* server = nullptr;
    ServerMonitor* monitor = nullptr;
    bool started = false;
    QString startError;

    /// Queues `call` on the server thread; false once the thread is ending (a failed start, or a
    /// stop that has destroyed the server). Posting and ending are ordered by the mutex, and the
    /// thread ends through a queued call of its own, so whatever was posted before still runs:
    /// nothing is posted to a context the finished thread has deleted, and no call is lost.
    template <typename F>
    bool post(F&& call)
    {
        const QMutexLocker lock(&mutex);
        if (!accepting) {
            return false;
        }
        QMetaObject::invokeMethod(context, std::forward<F>(call), Qt::QueuedConnection);
        return true;
    }
    /// Server thread: takes no more calls, runs those already queued, then ends the thread.
    void finish()
    {
        {
            const QMutexLocker lock(&mutex);
            accepting = false;
        }
        QMetaObject::invokeMethod(
            context, [] { QThread::currentThread()->quit(); }, Qt::QueuedConnection);
    }

private:
    QMutex mutex;
    bool accepting = true;
};

ServerHost::ServerHost(QObject* parent)
    : QObject(parent)
    , m_published(std::make_shared<Published>())
    , m_diag(std::make_unique<DiagRing>(kDiagRingSize))
{
    registerMetaTypes();
}

ServerHost::~ServerHost()
{
    if (!m_run) {
        return;
    }
    // Whoever listens may be half destroyed already (a window closing): say nothing more.
    blockSignals(true);
    if (m_state == ServerSnapshot::State::Running || m_state == ServerSnapshot::State::Starting) {
        stop();
    }
    // The server thread needs nothing from this one to finish: waiting cannot deadlock. Queued
    // file work completes and its acks are sent before the thread ends.
    m_run->thread->wait();
    delete m_run->thread;
    m_run.reset();
}

bool ServerHost::start(ServerOptions options, ServerServices services)
{
    if (m_state != ServerSnapshot::State::Stopped && m_state != ServerSnapshot::State::Failed) {
        return false;
    }
    // The clients an earlier run on this folder saw stay listed, offline since it stopped.
    QHash<QString, QList<ClientInfo>> history;
    {
        const QMutexLocker lock(&m_published->mutex);
        if (m_published->snapshot->dataDir == QDir(options.dataDir).absolutePath()) {
            for (const MeetInfo& meet : m_published->snapshot->meets) {
                if (!meet.clients.isEmpty()) {
                    history.insert(meet.meetId, meet.clients);
                }
            }
        }
    }
    m_options = options;
    auto run = std::make_unique<Run>();
    Run* r = run.get();
    r->thread = new QThread();
    r->thread->setObjectName(QStringLiteral("oll-server"));
    r->context = new QObject();
    r->context->moveToThread(r->thread);
    // The context is deleted on its own thread as that thread finishes (QThread runs the
    // deferred delete after `finished`).
    connect(r->thread, &QThread::finished, r->context, &QObject::deleteLater);
    connect(
        r->thread, &QThread::finished, this, [this, r] { onThreadFinished(r); }, Qt::QueuedConnection);
    m_run = std::move(run);
    setState(ServerSnapshot::State::Starting);
    r->thread->start();

    const std::shared_ptr<Published> published = m_published;
    DiagRing* ring = m_diag.get();
    // Built on its own thread, so that every QObject of the server (sockets, timers, the HTTP
    // server) belongs to that thread from the start.
    r->post([this, r, options = std::move(options), services, published, ring, history] {
        auto* server = new LiveServer(options, services);
        r->server = server;
        // Into the ring here, on the server thread: even the lines of a failed start are kept.
        connect(server, &LiveServer::diagnostic, server, [ring](const DiagEntry& e) { ring->append(e); });
        ServerMonitor::Sink sink;
        sink.snapshot = [this, published](std::shared_ptr<ServerSnapshot> s) {
            const ServerSnapshotPtr p = published->store(std::move(s));
            QMetaObject::invokeMethod(
                this, [this, p] { Q_EMIT snapshotChanged(p); }, Qt::QueuedConnection);
        };
        sink.conflicts = [published](const QString& meetId, const QList<ConflictInfo>& list) {
            const QMutexLocker lock(&published->mutex);
            published->conflicts.insert(meetId, list);
        };
        // The monitor connects first, so its slots have run when an event reaches the host.
        r->monitor = new ServerMonitor(*server, std::move(sink), kSnapshotIntervalMs);
        // Low-rate events, queued to the host's thread (the receiver lives there).
        connect(server, &LiveServer::diagnostic, this, &ServerHost::diagnostic);
        connect(server, &LiveServer::connectionOpened, this, &ServerHost::connectionOpened);
        connect(server, &LiveServer::connectionBound, this, &ServerHost::connectionBound);
        connect(server, &LiveServer::connectionClosed, this, &ServerHost::connectionClosed);
        connect(server, &LiveServer::conflictRecorded, this, &ServerHost::conflictRecorded);
        connect(server, &LiveServer::restoreRequested, this, &ServerHost::restoreRequested);
        connect(server, &LiveServer::restoreCompleted, this, &ServerHost::restoreCompleted);

        QString error;
        if (!server->start(&error)) {
            delete r->monitor;
            r->monitor = nullptr;
            delete server;
            r->server = nullptr;
            r->startError = error;
            r->finish(); // onThreadFinished reports the failure
            return;
        }
        r->started = true;
        r->monitor->seedHistory(history);
        r->monitor->begin();
        QMetaObject::invokeMethod(
            this, [this, r] { onStarted(r); }, Qt::QueuedConnection);
    });
    return true;
}

bool ServerHost::stop()
{
    if (m_state != ServerSnapshot::State::Running && m_state != ServerSnapshot::State::Starting) {
        return false;
    }
    setState(ServerSnapshot::State::Stopping);
    Run* r = m_run.get();
    // Not posted when the start has failed already: the thread is ending, and onThreadFinished
    // reports the stop.
    r->post([r] {
        if (!r->server || r->server->isShuttingDown()) {
            return; // the start failed: the thread is ending already
        }
        r->server->beginShutdown([r] {
            // Called from one of the server's own timers: destroy it from the event loop.
            QMetaObject::invokeMethod(
                r->context,
                [r] {
                    delete r->monitor;
                    r->monitor = nullptr;
                    delete r->server;
                    r->server = nullptr;
                    r->finish();
                },
                Qt::QueuedConnection);
        });
    });
    return true;
}

void ServerHost::onStarted(Run* run)
{
    if (m_run.get() != run) {
        return;
    }
    if (m_state == ServerSnapshot::State::Starting) {
        setState(ServerSnapshot::State::Running);
    }
    Q_EMIT started(true, QString());
}

void ServerHost::onThreadFinished(Run* run)
{
    if (m_run.get() != run) {
        return;
    }
    run->thread->wait();
    const std::unique_ptr<Run> done = std::move(m_run);
    delete done->thread;
    const bool stopping = m_state == ServerSnapshot::State::Stopping;
    if (!done->started) {
        setState(stopping ? ServerSnapshot::State::Stopped : ServerSnapshot::State::Failed, done->startError);
        Q_EMIT started(false, done->startError);
        if (stopping) {
            Q_EMIT stopped();
        }
        return;
    }
    setState(ServerSnapshot::State::Stopped);
    Q_EMIT stopped();
}

void ServerHost::setState(ServerSnapshot::State state, const QString& error)
{
    using State = ServerSnapshot::State;
    m_state = state;
    ServerSnapshotPtr published;
    {
        const QMutexLocker lock(&m_published->mutex);
        m_published->state = state;
        m_published->error = state == State::Failed ? error : QString();
        std::shared_ptr<ServerSnapshot> next;
        if (state == State::Starting || state == State::Failed) {
            // A new run (or none): nothing of an earlier one is shown as current.
            next = std::make_shared<ServerSnapshot>();
            next->bindAddress = m_options.bindAddress;
            next->dataDir = m_options.dataDir;
            next->openlifterDir = m_options.site.openlifterDir;
            next->health = stoppedHealth();
            m_published->conflicts.clear();
        } else {
            next = std::make_shared<ServerSnapshot>(*m_published->snapshot);
        }
        if (state == State::Stopped) {
            // The meets stay listed (as they were when the server stopped); nobody is connected.
            const qint64 now = QDateTime::currentMSecsSinceEpoch();
            next->port = 0;
            next->connections.clear();
            next->restores.clear();
            next->health = stoppedHealth();
            for (MeetInfo& meet : next->meets) {
                meet.clientsOnline = 0;
                for (ClientInfo& c : meet.clients) {
                    if (c.online) {
                        c.online = false;
                        c.connections = 0;
                        c.backlogBytes = 0;
                        c.offlineSinceMs = now;
                    }
                }
            }
            for (DisplayLinkInfo& link : next->displayLinks) {
                link.connections = 0;
            }
        }
        next->state = state;
        next->error = m_published->error;
        next->version = ++m_published->version;
        m_published->snapshot = next;
        published = next;
    }
    Q_EMIT stateChanged(state);
    Q_EMIT snapshotChanged(published);
}

ServerSnapshot::State ServerHost::state() const
{
    return m_state;
}

ServerOptions ServerHost::options() const
{
    return m_options;
}

ServerSnapshotPtr ServerHost::snapshot() const
{
    const QMutexLocker lock(&m_published->mutex);
    return m_published->snapshot;
}

void ServerHost::refresh()
{
    inServerThread([](LiveServer*, ServerMonitor* monitor) {
        if (monitor) {
            monitor->publishNow();
        }
    });
}

QJsonObject ServerHost::health() const
{
    if (m_state != ServerSnapshot::State::Running) {
        return stoppedHealth();
    }
    // A snapshot is republished only on a change (or while clients are connected): the uptime it
    // holds may be old. The rest changes only with events that republish it.
    const ServerSnapshotPtr s = snapshot();
    QJsonObject h = s->health;
    if (s->startedMs > 0 && h.contains(QStringLiteral("uptimeSeconds"))) {
        const qint64 up = std::max<qint64>(0, QDateTime::currentMSecsSinceEpoch() - s->startedMs) / 1000;
        h.insert(QStringLiteral("uptimeSeconds"), static_cast<double>(up));
    }
    return h;
}

QList<DiagEntry> ServerHost::recentDiagnostics(const QString& meetId) const
{
    return m_diag->recent(meetId);
}

QList<ConflictInfo> ServerHost::conflicts(const QString& meetId) const
{
    const QMutexLocker lock(&m_published->mutex);
    return m_published->conflicts.value(meetId);
}

void ServerHost::inServerThread(std::function<void(LiveServer* server, ServerMonitor* monitor)> action)
{
    if (!m_run || m_state == ServerSnapshot::State::Stopping) {
        action(nullptr, nullptr);
        return;
    }
    Run* r = m_run.get();
    auto shared = std::make_shared<std::function<void(LiveServer*, ServerMonitor*)>>(std::move(action));
    const bool posted = r->post([r, shared] {
        const bool live = r->server && r->started && !r->server->isShuttingDown();
        (*shared)(live ? r->server : nullptr, live ? r->monitor : nullptr);
    });
    if (!posted) {
        (*shared)(nullptr, nullptr); // the thread is ending: answered here instead
    }
}

void ServerHost::approveRestore(const QString& meetId)
{
    inServerThread([meetId](LiveServer* server, ServerMonitor* monitor) {
        if (server) {
            server->approveRestore(meetId);
            monitor->publishNow();
        }
    });
}

void ServerHost::refuseRestore(const QString& meetId)
{
    inServerThread([meetId](LiveServer* server, ServerMonitor* monitor) {
        if (server) {
            server->refuseRestore(meetId);
            monitor->publishNow();
        }
    });
}

quint64 ServerHost::mintDisplayLink(const QString& meetId, const QString& label)
{
    const quint64 requestId = m_nextRequestId++;
    inServerThread([this, requestId, meetId, label](LiveServer* server, ServerMonitor* monitor) {
        auto answer = [this, requestId](const DisplayLinkInfo& link, const QString& token, const QString& error) {
            const QString path = error.isEmpty() ? LiveServer::displayLinkPath(token) : QString();
            QMetaObject::invokeMethod(
                this,
                [this, requestId, link, token, path, error] {
                    Q_EMIT displayLinkMinted(requestId, link, token, path, error);
                },
                Qt::QueuedConnection);
        };
        if (!server) {
            answer(DisplayLinkInfo(), QString(), notRunning());
            return;
        }
        const QPointer<ServerMonitor> watch(monitor);
        server->mintDisplayLink(
            meetId, label, [answer, watch](const DisplayLinkInfo& link, const QString& token, const QString& error) {
                if (watch) {
                    watch->markDirty();
                }
                answer(link, token, error);
            });
    });
    return requestId;
}

void ServerHost::revokeDisplayLink(const QString& meetId, const QString& linkId)
{
    inServerThread([this, meetId, linkId](LiveServer* server, ServerMonitor* monitor) {
        auto answer = [this, meetId, linkId](int socketsClosed, const QString& error, const QString& warning) {
            QMetaObject::invokeMethod(
                this,
                [this, meetId, linkId, socketsClosed, error, warning] {
                    if (error.isEmpty()) {
                        Q_EMIT displayLinkRevoked(meetId, linkId, socketsClosed, warning);
                    } else {
                        Q_EMIT displayLinkRevokeFailed(meetId, linkId, error);
                    }
                },
                Qt::QueuedConnection);
        };
        if (!server) {
            answer(0, notRunning(), QString());
            return;
        }
        const QPointer<ServerMonitor> watch(monitor);
        server->revokeDisplayLink(meetId, linkId,
                                  [answer, watch](int socketsClosed, const QString& error, const QString& warning) {
                                      if (watch) {
                                          watch->markDirty();
                                      }
                                      answer(socketsClosed, error, warning);
                                  });
    });
}

} // namespace oll
