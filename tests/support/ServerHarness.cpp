// SPDX-License-Identifier: AGPL-3.0-or-later
#include "ServerHarness.h"

#include <QRegularExpression>
#include <QTest>

namespace oll::test {

ServerOptions testOptions(const QString& dataDir)
{
    ServerOptions o;
    o.dataDir = dataDir;
    o.bindAddress = QHostAddress::LocalHost;
    o.port = 0;
    o.scrypt.log2N = 10;
    return o;
}

InProcessServer::InProcessServer(ServerServices services, Limits limits)
    : m_tmp(std::make_unique<QTemporaryDir>())
    , m_dataDir(m_tmp->path())
    , m_services(std::move(services))
    , m_limits(limits)
{
}

InProcessServer::InProcessServer(const QString& dataDir, ServerServices services, Limits limits)
    : m_dataDir(dataDir)
    , m_services(std::move(services))
    , m_limits(limits)
{
}

InProcessServer::~InProcessServer()
{
    stop();
}

bool InProcessServer::start()
{
    ServerOptions o = testOptions(m_dataDir);
    o.limits = m_limits;
    m_server = std::make_unique<LiveServer>(o, m_services);
    return m_server->start(&m_error);
}

void InProcessServer::stop()
{
    if (m_server) {
        m_server->shutdown();
        m_server.reset();
    }
}

QUrl InProcessServer::url() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(m_server->port()));
}

QString serverBinaryPath()
{
    return QStringLiteral(OLL_SERVER_BINARY);
}

ServerProcess::ServerProcess(QString dataDir)
    : m_dataDir(std::move(dataDir))
{
    m_process.setProgram(serverBinaryPath());
    m_process.setArguments({QStringLiteral("--port"), QStringLiteral("0"), QStringLiteral("--bind"),
                            QStringLiteral("127.0.0.1"), QStringLiteral("--data-dir"), m_dataDir,
                            QStringLiteral("--scrypt-log2n"), QStringLiteral("10")});
    QObject::connect(&m_process, &QProcess::readyReadStandardError, &m_process,
                     [this] { m_stderr += QString::fromUtf8(m_process.readAllStandardError()); });
}

ServerProcess::~ServerProcess()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(5000);
    }
}

bool ServerProcess::start(int timeoutMs)
{
    m_port = 0;
    m_process.start();
    if (!m_process.waitForStarted(timeoutMs)) {
        return false;
    }
    static const QRegularExpression re(QStringLiteral("listening on [^ ]+:(\\d+) "));
    QByteArray out;
    const bool ok = QTest::qWaitFor(
        [&] {
            out += m_process.readAllStandardOutput();
            const auto m = re.match(QString::fromUtf8(out));
            if (m.hasMatch()) {
                m_port = static_cast<quint16>(m.captured(1).toUInt());
                return true;
            }
            return m_process.state() == QProcess::NotRunning;
        },
        timeoutMs);
    return ok && m_port != 0;
}

bool ServerProcess::terminate(int timeoutMs)
{
    m_process.terminate();
    return m_process.waitForFinished(timeoutMs) && m_process.exitStatus() == QProcess::NormalExit;
}

bool ServerProcess::kill(int timeoutMs)
{
    m_process.kill();
    return m_process.waitForFinished(timeoutMs);
}

QUrl ServerProcess::url() const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/live").arg(m_port));
}

} // namespace oll::test
