// SPDX-License-Identifier: AGPL-3.0-or-later
#include "MeetSeeder.h"

#include "client/SyncClient.h"

#include <QJsonArray>
#include <QRandomGenerator>

#include <algorithm>
#include <cstdio>
#include <tuple>

namespace oll {

namespace {

const QString kDesk = QStringLiteral("Desk");
const QString kWeighIn = QStringLiteral("Weigh-in");
const QString kPlatform = QStringLiteral("Platform A");

void say(const QString& line)
{
    std::printf("%s\n", qPrintable(line));
    std::fflush(stdout); // the screenshot script reads this as it comes
}

/// A clientId like a browser's (sync-client.js): 22 random letters and digits.
QString randomClientId()
{
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString out;
    for (int i = 0; i < 22; ++i) {
        out += QLatin1Char(alphabet[QRandomGenerator::system()->bounded(int(sizeof(alphabet) - 1))]);
    }
    return out;
}

/// One attempt OpenLifter's lifting order would call next.
struct Attempt
{
    qint64 entryId = 0;
    QString lift; // "S", "B", "D"
    QString flight;
    int index = 0; // 0-based attempt
    double kg = 0;
    double lot = 0;
};

QString liftField(const QString& lift)
{
    return lift == QStringLiteral("S") ? QStringLiteral("squat")
        : lift == QStringLiteral("B")  ? QStringLiteral("bench")
                                       : QStringLiteral("deadlift");
}

/// The next declared, untaken attempt on `lifting`'s day and platform, from its lift onwards:
/// flight by flight, round by round, lightest bar first, then lot number (OpenLifter's order,
/// simplified: no 4th attempts, no overrides).
std::optional<Attempt> nextAttempt(const QJsonObject& doc, const QJsonObject& lifting)
{
    const QJsonArray entries
        = doc.value(QStringLiteral("registration")).toObject().value(QStringLiteral("entries")).toArray();
    const QStringList lifts{QStringLiteral("S"), QStringLiteral("B"), QStringLiteral("D")};
    const qsizetype from = std::max<qsizetype>(0, lifts.indexOf(lifting.value(QStringLiteral("lift")).toString()));
    for (qsizetype l = from; l < lifts.size(); ++l) {
        const QString field = liftField(lifts[l]);
        std::optional<Attempt> best;
        for (const QJsonValue& v : entries) {
            const QJsonObject e = v.toObject();
            if (e.value(QStringLiteral("day")) != lifting.value(QStringLiteral("day"))
                || e.value(QStringLiteral("platform")) != lifting.value(QStringLiteral("platform"))) {
                continue;
            }
            const QJsonArray kg = e.value(field + QStringLiteral("Kg")).toArray();
            const QJsonArray status = e.value(field + QStringLiteral("Status")).toArray();
            for (int i = 0; i < 3 && i < kg.size() && i < status.size(); ++i) {
                if (status.at(i).toDouble() != 0) {
                    continue;
                }
                if (kg.at(i).toDouble() > 0) {
                    Attempt a{e.value(QStringLiteral("id")).toInteger(),
                              lifts[l],
                              e.value(QStringLiteral("flight")).toString(),
                              i,
                              kg.at(i).toDouble(),
                              e.value(QStringLiteral("lot")).toDouble()};
                    const auto order = [](const Attempt& x) { return std::tie(x.flight, x.index, x.kg, x.lot); };
                    if (!best || order(a) < order(*best)) {
                        best = a;
                    }
                }
                break; // later attempts wait for this one
            }
        }
        if (best) {
            return best;
        }
    }
    return std::nullopt;
}

} // namespace

MeetSeeder::MeetSeeder(OpenLifterFile file, SeederOptions options, QObject* parent)
    : QObject(parent)
    , m_file(std::move(file))
    , m_options(std::move(options))
    , m_lifting(m_file.lifting())
{
    m_readyTimeout.setSingleShot(true);
    connect(&m_readyTimeout, &QTimer::timeout, this, [this] {
        fail(QStringLiteral("not ready after %1 s, still %2; is the server running at %3?")
                 .arg(m_options.readyTimeoutMs / 1000)
                 .arg(phaseText(m_phase), m_options.url.toString()));
    });
    connect(&m_editTimer, &QTimer::timeout, this, &MeetSeeder::edit);
    m_drainTimeout.setSingleShot(true);
    connect(&m_drainTimeout, &QTimer::timeout, this, [this] {
        say(QStringLiteral("stopping with edits not yet acknowledged"));
        finish(0);
    });
}

MeetSeeder::~MeetSeeder() = default;

QString MeetSeeder::generatePassword()
{
    // No 0/O or 1/l/I: it is read off a terminal and typed on a tablet.
    static const char alphabet[] = "abcdefghijkmnpqrstuvwxyz23456789";
    QString out;
    for (int i = 0; i < 16; ++i) {
        if (i > 0 && i % 4 == 0) {
            out += QLatin1Char('-');
        }
        out += QLatin1Char(alphabet[QRandomGenerator::system()->bounded(int(sizeof(alphabet) - 1))]);
    }
    return out;
}

QString MeetSeeder::phaseText(Phase phase)
{
    switch (phase) {
    case Phase::Creating:
        return QStringLiteral("creating the meet");
    case Phase::Uploading:
        return QStringLiteral("uploading the meet file");
    case Phase::JoiningPlatform:
        return QStringLiteral("joining Platform A");
    case Phase::Publishing:
        return QStringLiteral("publishing Platform A's lifting");
    case Phase::JoiningDisplay:
        return QStringLiteral("joining the display");
    case Phase::CatchingUp:
        return QStringLiteral("waiting for the display to catch up");
    case Phase::Ready:
        return QStringLiteral("ready");
    case Phase::Stopping:
    case Phase::Done:
        return QStringLiteral("stopping");
    }
    return {};
}

SyncClient* MeetSeeder::makeClient(const QString& name)
{
    auto* c = new SyncClient(m_options.url, randomClientId(), 1, {}, this);
    say(QStringLiteral("%1: clientId %2").arg(name, c->clientId()));
    connect(c, &SyncClient::acked, this, [this](qint64, qint64 serverSeq) { m_head = std::max(m_head, serverSeq); });
    return c;
}

void MeetSeeder::login(SyncClient* client, const QString& who, const std::function<void()>& attempt)
{
    connect(client, &SyncClient::loginRejected, this, [this, who, attempt](const QString& reason, qint64 retryAfterMs) {
        if (retryAfterMs > 0 && m_phase != Phase::Stopping) {
            QTimer::singleShot(retryAfterMs, this, attempt); // the server is busy with logins
            return;
        }
        fail(QStringLiteral("%1 could not log in: %2").arg(who, reason));
    });
    attempt();
}

void MeetSeeder::watchRejections(SyncClient* client, const QString& who)
{
    connect(client, &SyncClient::updateRejected, this, [this, who](const RejectedUpdate& r) {
        const QString text = QStringLiteral("%1: update %2 rejected: %3 %4").arg(who, r.update.key, r.code, r.reason);
        if (m_phase == Phase::Ready || m_phase == Phase::Stopping) {
            say(QStringLiteral("warning: ") + text); // a live edit lost a conflict: the demo goes on
        } else {
            fail(text);
        }
    });
    connect(client, &SyncClient::protocolError, this, [who](const QString& type, const QString& detail) {
        say(QStringLiteral("warning: %1: %2 %3").arg(who, type, detail));
    });
}

void MeetSeeder::start()
{
    m_readyTimeout.start(m_options.readyTimeoutMs);
    say(QStringLiteral("seeding \"%1\" (%2 entries) on %3")
            .arg(m_file.meetName())
            .arg(m_file.entryCount())
            .arg(m_options.url.toString()));
    m_desk = makeClient(QStringLiteral("desk"));
    watchRejections(m_desk, kDesk);
    connect(m_desk, &SyncClient::loggedIn, this, [this] {
        if (m_phase != Phase::Creating) {
            return; // a later re-login after a reconnect
        }
        const QString id = m_desk->meetId();
        say(QStringLiteral("meet-id: %1").arg(id));
        say(QStringLiteral("meet-id-display: %1 %2 %3").arg(id.mid(0, 3), id.mid(3, 3), id.mid(6)));
        say(QStringLiteral("password: %1").arg(m_options.password));
        const QList<KeyedUpdate> updates = m_file.meetUpdates();
        m_phase = Phase::Uploading;
        m_desk->updateMany(updates);
        say(QStringLiteral("desk: sent %1 updates").arg(updates.size()));
    });
    connect(m_desk, &SyncClient::pendingCountChanged, this, [this](int n) {
        if (n == 0) {
            onDeskIdle();
        }
    });
    const QList<Endpoint> endpoints{{kDesk, 3}, {kWeighIn, 2}, {kPlatform, 1}};
    login(m_desk, kDesk, [this, endpoints] { m_desk->createMeet(kDesk, m_options.password, endpoints); });
}

void MeetSeeder::onDeskIdle()
{
    if (m_phase == Phase::Stopping) {
        drained();
        return;
    }
    if (m_phase != Phase::Uploading) {
        return;
    }
    m_head = std::max(m_head, m_desk->lastServerSeq());
    say(QStringLiteral("desk: all acknowledged, head %1").arg(m_head));
    m_phase = Phase::JoiningPlatform;
    m_platform = makeClient(QStringLiteral("platform-a"));
    watchRejections(m_platform, kPlatform);
    connect(m_platform, &SyncClient::loggedIn, this, [this] {
        if (m_phase != Phase::JoiningPlatform) {
            return;
        }
        say(QStringLiteral("platform-a: joined"));
        m_phase = Phase::Publishing;
        const std::optional<KeyedUpdate> pub = m_file.liftingPublication(m_lifting, kPlatform, m_platform->clientId());
        if (pub) {
            m_platform->updateMany({*pub});
        } else {
            onPlatformIdle(); // the file names no platform: nothing to publish
        }
    });
    connect(m_platform, &SyncClient::pendingCountChanged, this, [this](int n) {
        if (n == 0) {
            onPlatformIdle();
        }
    });
    login(m_platform, kPlatform,
          [this] { m_platform->joinMeet(m_desk->meetId(), m_options.password, kPlatform, Role::Update); });
}

void MeetSeeder::onPlatformIdle()
{
    if (m_phase == Phase::Stopping) {
        drained();
        return;
    }
    if (m_phase != Phase::Publishing) {
        return;
    }
    m_phase = Phase::JoiningDisplay;
    m_display = makeClient(QStringLiteral("display"));
    connect(m_display, &SyncClient::loggedIn, this, [this] {
        if (m_phase == Phase::JoiningDisplay) {
            say(QStringLiteral("display: joined"));
            m_phase = Phase::CatchingUp;
        }
        checkCaughtUp();
    });
    connect(m_display, &SyncClient::lastServerSeqChanged, this, &MeetSeeder::checkCaughtUp);
    connect(m_display, &SyncClient::outOfSyncChanged, this, &MeetSeeder::checkCaughtUp);
    login(m_display, QStringLiteral("display"),
          [this] { m_display->joinMeet(m_desk->meetId(), m_options.password, kPlatform, Role::Display); });
}

void MeetSeeder::checkCaughtUp()
{
    m_head = std::max({m_head, m_desk->lastServerSeq(), m_platform->lastServerSeq()});
    if (m_phase != Phase::CatchingUp || m_display->outOfSync() || m_display->lastServerSeq() < m_head) {
        return;
    }
    m_phase = Phase::Ready;
    m_readyTimeout.stop();
    say(QStringLiteral("ready: %1 updates; Desk and Platform A (update) and a display on Platform A attached")
            .arg(m_head));
    if (m_options.editEveryMs > 0) {
        m_editTimer.start(m_options.editEveryMs);
    }
}

void MeetSeeder::edit()
{
    // Alternate the two updating clients, so both show recent acks; fall back to the other one
    // when one has nothing left to do.
    const bool platformFirst = (m_edits++ % 2) == 0;
    if (platformFirst ? (platformEdit() || deskEdit()) : (deskEdit() || platformEdit())) {
        return;
    }
    say(QStringLiteral("edit: nothing left to change; live edits stop"));
    m_editTimer.stop();
}

bool MeetSeeder::platformEdit()
{
    const std::optional<Attempt> a = nextAttempt(m_platform->localState().document(), m_lifting);
    if (!a) {
        return false;
    }
    const QString base = QStringLiteral("registration.entries[id=%1].").arg(a->entryId);
    const QString field = liftField(a->lift);
    const bool good = (m_edits % 4) != 3; // now and then a miss
    QList<KeyedUpdate> updates{{base + field + QStringLiteral("Status[%1]").arg(a->index), good ? 1 : -1}};
    if (a->index < 2) {
        // The lifter's next attempt, declared at the table: a small jump after a good lift, the
        // same bar after a miss (the adapter sends attempts one slot at a time).
        const double jump = a->lift == QStringLiteral("B") ? 2.5 : 5;
        updates.append({base + field + QStringLiteral("Kg[%1]").arg(a->index + 1), good ? a->kg + jump : a->kg});
    }
    if (m_lifting.value(QStringLiteral("flight")).toString() != a->flight
        || m_lifting.value(QStringLiteral("lift")).toString() != a->lift) {
        m_lifting.insert(QStringLiteral("flight"), a->flight);
        m_lifting.insert(QStringLiteral("lift"), a->lift);
        if (const auto pub = m_file.liftingPublication(m_lifting, kPlatform, m_platform->clientId())) {
            updates.append(*pub);
        }
    }
    m_platform->updateMany(updates);
    say(QStringLiteral("edit: Platform A: entry %1, %2 attempt %3 at %4 kg: %5")
            .arg(a->entryId)
            .arg(field)
            .arg(a->index + 1)
            .arg(a->kg)
            .arg(good ? QStringLiteral("good lift") : QStringLiteral("no lift")));
    return true;
}

bool MeetSeeder::deskEdit()
{
    const QJsonArray entries = m_desk->localState()
                                   .document()
                                   .value(QStringLiteral("registration"))
                                   .toObject()
                                   .value(QStringLiteral("entries"))
                                   .toArray();
    for (const QJsonValue& v : entries) {
        const QJsonObject e = v.toObject();
        if (e.contains(QStringLiteral("paid")) && !e.value(QStringLiteral("paid")).toBool()) {
            const qint64 id = e.value(QStringLiteral("id")).toInteger();
            m_desk->update(QStringLiteral("registration.entries[id=%1].paid").arg(id), true);
            say(QStringLiteral("edit: Desk: entry %1 paid").arg(id));
            return true;
        }
    }
    return false;
}

void MeetSeeder::stop()
{
    if (m_phase == Phase::Stopping || m_phase == Phase::Done) {
        return;
    }
    const bool wasReady = m_phase == Phase::Ready;
    m_phase = Phase::Stopping;
    m_editTimer.stop();
    m_readyTimeout.stop();
    if (!wasReady) {
        finish(0);
        return;
    }
    m_drainTimeout.start(5000);
    drained();
}

void MeetSeeder::drained()
{
    for (const SyncClient* c : {m_desk, m_platform}) {
        if (c && c->pendingCount() > 0) {
            return; // its pendingCountChanged(0) brings us back here
        }
    }
    finish(0);
}

void MeetSeeder::fail(const QString& why)
{
    std::fprintf(stderr, "oll-meet-seeder: %s\n", qPrintable(why));
    finish(1);
}

void MeetSeeder::finish(int code)
{
    if (m_phase == Phase::Done) {
        return;
    }
    m_phase = Phase::Done;
    if (code == 0) {
        say(QStringLiteral("stopped"));
    }
    m_readyTimeout.stop();
    m_editTimer.stop();
    m_drainTimeout.stop();
    for (SyncClient* c : {m_desk, m_platform, m_display}) {
        if (c) {
            c->setOnline(false);
        }
    }
    // Not from inside a client's signal: the receiver may delete the seeder.
    QTimer::singleShot(0, this, [this, code] { Q_EMIT finished(code); });
}

} // namespace oll
