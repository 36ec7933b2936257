// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "OpenLifterFile.h"

#include <QObject>
#include <QTimer>
#include <QUrl>

#include <functional>
#include <memory>

namespace oll {

class SyncClient;

struct SeederOptions
{
    QUrl url; // ws://host:port/live
    QString password; // the new meet's password
    int editEveryMs = 0; // 0: no live edits once seeded
    int readyTimeoutMs = 60'000; // give up if the meet is not seeded and attached by then
};

/// Loads a saved OpenLifter meet into a running server and keeps three clients attached, the way
/// a venue would: the registration desk creates the meet (endpoints Desk 3, Weigh-in 2,
/// Platform A 1) and uploads the file as the Redux adapter's keys; Platform A's scoring table
/// joins and publishes its lifting; a display (a board) joins and catches up. Then, optionally,
/// Platform A marks the next attempt and the desk ticks a lifter off as paid every few seconds.
///
/// Progress goes to stdout, one line per step; the meet ID and the password are printed there
/// once and nowhere else. The line starting "ready:" says the meet is loaded and all three are
/// attached and caught up.
class MeetSeeder : public QObject
{
    Q_OBJECT
public:
    MeetSeeder(OpenLifterFile file, SeederOptions options, QObject* parent = nullptr);
    ~MeetSeeder() override;
    MeetSeeder(const MeetSeeder&) = delete;
    MeetSeeder& operator=(const MeetSeeder&) = delete;

    void start();
    /// Stops editing, waits (briefly) for unacknowledged edits, closes the clients; then finished(0).
    void stop();

    /// A password for a demo meet: 16 random letters and digits in groups of four.
    static QString generatePassword();

Q_SIGNALS:
    void finished(int exitCode);

private:
    enum class Phase
    {
        Creating,
        Uploading,
        JoiningPlatform,
        Publishing,
        JoiningDisplay,
        CatchingUp,
        Ready,
        Stopping,
        Done
    };

    SyncClient* makeClient(const QString& name);
    /// Runs `attempt` (a create or join) and repeats it when the server asks to retry later.
    void login(SyncClient* client, const QString& who, const std::function<void()>& attempt);
    void watchRejections(SyncClient* client, const QString& who);
    void onDeskIdle();
    void onPlatformIdle();
    void checkCaughtUp();
    void fail(const QString& why);
    void finish(int code);
    void edit();
    bool platformEdit();
    bool deskEdit();
    void drained();
    static QString phaseText(Phase phase);

    OpenLifterFile m_file;
    SeederOptions m_options;
    Phase m_phase = Phase::Creating;
    SyncClient* m_desk = nullptr;
    SyncClient* m_platform = nullptr;
    SyncClient* m_display = nullptr;
    qint64 m_head = 0; // highest serverSeqNum acknowledged to the seeding clients
    QJsonObject m_lifting; // Platform A's lifting view (the file's, then advanced by edits)
    int m_edits = 0;
    QTimer m_readyTimeout;
    QTimer m_editTimer;
    QTimer m_drainTimeout;
};

} // namespace oll
