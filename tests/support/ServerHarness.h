// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "net/LiveServer.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QUrl>

#include <memory>

namespace oll::test {

/// Test defaults: loopback, port 0, and a cheap scrypt (N = 2^10) so logins take milliseconds.
ServerOptions testOptions(const QString& dataDir);

/// An in-process LiveServer on 127.0.0.1 with its own temporary data directory.
class InProcessServer
{
public:
    explicit InProcessServer(ServerServices services = {}, Limits limits = {});
    /// Same, over an existing data directory (restart scenarios).
    InProcessServer(const QString& dataDir, ServerServices services, Limits limits);
    ~InProcessServer();

    bool start();
    void stop(); // graceful: shutdown() then destroy
    LiveServer& server() { return *m_server; }
    QUrl url() const;
    QString dataDir() const { return m_dataDir; }
    QString startError() const { return m_error; }

private:
    std::unique_ptr<QTemporaryDir> m_tmp;
    QString m_dataDir;
    ServerServices m_services;
    Limits m_limits;
    std::unique_ptr<LiveServer> m_server;
    QString m_error;
};

/// The real openlifter-live-server binary as a child process (restart and crash tests).
class ServerProcess
{
public:
    explicit ServerProcess(QString dataDir);
    ~ServerProcess();
    /// Starts the binary on 127.0.0.1:0 and reads the port from its first stdout line.
    bool start(int timeoutMs = 10000);
    /// SIGTERM and wait: the graceful stop a director's Ctrl-C gives.
    bool terminate(int timeoutMs = 10000);
    /// SIGKILL and wait: a crash or power cut as far as the process is concerned.
    bool kill(int timeoutMs = 10000);
    QUrl url() const;
    quint16 port() const { return m_port; }
    QString stderrText() const { return m_stderr; }
    QProcess& process() { return m_process; }

private:
    QString m_dataDir;
    QProcess m_process;
    quint16 m_port = 0;
    QString m_stderr;
};

/// Path of the built server binary (set by CMake).
QString serverBinaryPath();

} // namespace oll::test
