// SPDX-License-Identifier: AGPL-3.0-or-later
// Fuzz target: the bytes are the content of a meet's files on disk, as the server reads them on
// start: updates.json.log through JournalReader, and the same bytes as auth.json
// (MeetConfig::fromJson) and sessions.json (SessionStore::loadJson).
//
// Invariants, beyond "no crash, no sanitizer report":
//   - validBytes ≤ fileBytes == input size; entries are numbered 1..n;
//   - ok() with a torn tail: validBytes + tornTailBytes == fileBytes; ok() without one:
//     validBytes == fileBytes; damage: no torn tail, a line number and a reason;
//   - cutting the file at validBytes (what the server does with a torn tail) reads back clean,
//     with the same entries;
//   - every entry survives toLine()/fromLine(): key, value and the other fields come back equal,
//     and the rewritten journal reads back clean;
//   - a config or session document that loads also loads again after toJson().

#include "FuzzCheck.h"

#include "auth/SessionStore.h"
#include "protocol/Messages.h"
#include "storage/Journal.h"
#include "sync/MeetConfig.h"
#include "util/Clock.h"
#include "util/RandomSource.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

#include <cstddef>
#include <cstdint>

namespace {

using oll::fuzz::show;

void checkRoundTrip(const oll::JournalEntry& e)
{
    const QByteArray line = e.toLine();
    FUZZ_CHECK(line.endsWith('\n') && line.count('\n') == 1, show(line));
    QString why;
    const auto back = oll::JournalEntry::fromLine(line.chopped(1), &why);
    FUZZ_CHECK(back.has_value(), show(line) + QStringLiteral(": ") + why);
    FUZZ_CHECK(back->key == e.key, show(e.key) + QStringLiteral(" came back as ") + show(back->key));
    FUZZ_CHECK(back->value == e.value,
               show(oll::compactJson(e.value)) + QStringLiteral(" came back as ")
                   + show(oll::compactJson(back->value)));
    FUZZ_CHECK(back->serverSeqNum == e.serverSeqNum, show(line));
    FUZZ_CHECK(back->location == e.location, show(line));
    FUZZ_CHECK(back->clientId == e.clientId, show(line));
    FUZZ_CHECK(back->localSeqNum == e.localSeqNum, show(line));
    FUZZ_CHECK(back->afterServerSeqNum == e.afterServerSeqNum, show(line));
}

void checkJournal(const QByteArray& content)
{
    const oll::JournalLoad load = oll::JournalReader::read(content);
    FUZZ_CHECK(load.fileBytes == content.size(), QString::number(load.fileBytes));
    FUZZ_CHECK(load.validBytes >= 0 && load.validBytes <= load.fileBytes, QString::number(load.validBytes));
    FUZZ_CHECK(load.tornTailBytes >= 0, QString::number(load.tornTailBytes));
    for (qsizetype i = 0; i < load.entries.size(); ++i) {
        FUZZ_CHECK(load.entries[i].serverSeqNum == i + 1, QString::number(load.entries[i].serverSeqNum));
    }
    if (load.ok()) {
        if (load.tornTailBytes > 0) {
            FUZZ_CHECK(
                load.validBytes + load.tornTailBytes == load.fileBytes,
                QStringLiteral("%1 + %2 != %3").arg(load.validBytes).arg(load.tornTailBytes).arg(load.fileBytes));
        } else {
            FUZZ_CHECK(load.validBytes == load.fileBytes, QString::number(load.validBytes));
        }
    } else {
        FUZZ_CHECK(load.tornTailBytes == 0, QString::number(load.tornTailBytes));
        FUZZ_CHECK(load.damagedLine >= 1 && !load.damage.isEmpty(), QString::number(load.damagedLine));
    }
    FUZZ_CHECK(load.validBytes == 0 || content.at(load.validBytes - 1) == '\n', QString::number(load.validBytes));

    // The server cuts a torn tail off: what is left must read back clean and identical.
    const oll::JournalLoad cut = oll::JournalReader::read(content.left(load.validBytes));
    FUZZ_CHECK(cut.ok() && cut.tornTailBytes == 0 && cut.validBytes == load.validBytes, show(content));
    FUZZ_CHECK(cut.entries.size() == load.entries.size(), show(content));

    QByteArray rewritten;
    for (const oll::JournalEntry& e : load.entries) {
        checkRoundTrip(e);
        rewritten += e.toLine();
    }
    const oll::JournalLoad again = oll::JournalReader::read(rewritten);
    FUZZ_CHECK(again.ok() && again.tornTailBytes == 0 && again.entries.size() == load.entries.size(), show(rewritten));
}

void checkMeetConfig(const QJsonObject& obj)
{
    QString why;
    const auto config = oll::MeetConfig::fromJson(obj, &why);
    if (!config) {
        FUZZ_CHECK(!why.isEmpty(), QString());
        return;
    }
    FUZZ_CHECK(!config->endpoints.isEmpty(), QString());
    for (const oll::Endpoint& ep : config->endpoints) {
        FUZZ_CHECK(config->priorityOf(ep.locationName).has_value(), show(ep.locationName));
    }
    (void)config->endpointsJson();
    const auto again = oll::MeetConfig::fromJson(config->toJson(), &why);
    FUZZ_CHECK(again.has_value(), why);
    FUZZ_CHECK(again->meetId == config->meetId && again->endpoints.size() == config->endpoints.size(),
               show(config->meetId));
}

void checkSessions(const QJsonObject& obj)
{
    oll::ManualClock clock;
    oll::SeededRandomSource random(1);
    oll::SessionStore store(clock, random);
    if (!store.loadJson(obj)) {
        FUZZ_CHECK(store.size() == 0, QString::number(store.size()));
        return;
    }
    oll::SessionStore copy(clock, random);
    FUZZ_CHECK(copy.loadJson(store.toJson()) && copy.size() == store.size(), QString::number(store.size()));
    for (const QByteArray& hash : store.tokenHashes()) {
        oll::Session s;
        const auto status = store.check(hash, &s);
        FUZZ_CHECK(status != oll::SessionStore::Status::Unknown, QString());
        if (status == oll::SessionStore::Status::Valid) {
            FUZZ_CHECK(s.tokenHash == hash, QString());
        }
    }
    (void)store.check(QByteArray(32, 'x'));
    (void)store.check(QByteArray());
    (void)store.pruneExpired();
    (void)store.issue(QStringLiteral("fuzz"), QStringLiteral("Platform A"), oll::Role::Update);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray content(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    checkJournal(content);

    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(content, &perr);
    if (perr.error == QJsonParseError::NoError && doc.isObject()) {
        const QJsonObject obj = doc.object();
        checkMeetConfig(obj);
        checkSessions(obj);
    }
    return 0;
}
