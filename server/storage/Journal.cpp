// SPDX-License-Identifier: AGPL-3.0-or-later
#include "storage/Journal.h"

#include "protocol/Messages.h"

#include <QDateTime>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QJsonParseError>

namespace oll {

QByteArray JournalEntry::toLine() const
{
    // Field order is fixed so lines are easy to read and diff; values are compact JSON, so doubles
    // keep Qt's shortest round-trip form and come back bit-identical.
    QByteArray line;
    line.reserve(128);
    line += "{\"serverSeqNum\":" + QByteArray::number(serverSeqNum);
    line += ",\"key\":" + compactJson(key);
    line += ",\"value\":" + compactJson(value);
    line += ",\"location\":" + compactJson(location);
    line += ",\"clientId\":" + compactJson(clientId);
    line += ",\"localSeqNum\":" + QByteArray::number(localSeqNum);
    line += ",\"afterServerSeqNum\":" + QByteArray::number(afterServerSeqNum);
    line += ",\"time\":\"" + QDateTime::fromMSecsSinceEpoch(timeMs, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1();
    line += "\"}\n";
    return line;
}

std::optional<JournalEntry> JournalEntry::fromLine(const QByteArray& line, QString* error)
{
    QJsonParseError perr{};
    const QJsonDocument doc = QJsonDocument::fromJson(line, &perr);
    if (perr.error != QJsonParseError::NoError || !doc.isObject()) {
        if (error) {
            *error = QStringLiteral("not a JSON object (%1)").arg(perr.errorString());
        }
        return std::nullopt;
    }
    const QJsonObject o = doc.object();
    JournalEntry e;
    e.serverSeqNum = o.value(QStringLiteral("serverSeqNum")).toInteger(-1);
    e.key = o.value(QStringLiteral("key")).toString();
    e.value = o.value(QStringLiteral("value"));
    e.location = o.value(QStringLiteral("location")).toString();
    e.clientId = o.value(QStringLiteral("clientId")).toString();
    e.localSeqNum = o.value(QStringLiteral("localSeqNum")).toInteger(-1);
    e.afterServerSeqNum = o.value(QStringLiteral("afterServerSeqNum")).toInteger(-1);
    const QDateTime t = QDateTime::fromString(o.value(QStringLiteral("time")).toString(), Qt::ISODateWithMs);
    e.timeMs = t.isValid() ? t.toMSecsSinceEpoch() : 0;
    e.approxBytes = line.size();
    if (e.serverSeqNum < 1 || e.key.isEmpty() || e.value.isUndefined() || e.clientId.isEmpty() || e.localSeqNum < 1
        || e.afterServerSeqNum < 0) {
        if (error) {
            *error = QStringLiteral("missing or invalid fields");
        }
        return std::nullopt;
    }
    return e;
}

JournalLoad JournalReader::read(const QByteArray& content)
{
    JournalLoad out;
    out.fileBytes = content.size();
    qint64 pos = 0;
    int lineNo = 0;
    while (pos < content.size()) {
        ++lineNo;
        const qint64 nl = content.indexOf('\n', pos);
        const bool last = nl < 0 || nl == content.size() - 1;
        const qint64 end = nl < 0 ? content.size() : nl;
        const QByteArray line = content.mid(pos, end - pos);
        QString why;
        std::optional<JournalEntry> e;
        if (nl >= 0) {
            e = JournalEntry::fromLine(line, &why);
        } else {
            why = QStringLiteral("line has no terminating newline");
        }
        if (e && e->serverSeqNum != static_cast<qint64>(out.entries.size()) + 1) {
            why = QStringLiteral("serverSeqNum %1 where %2 was expected")
                      .arg(e->serverSeqNum)
                      .arg(out.entries.size() + 1);
            e.reset();
            // A sequence error is never a torn write: it is damage even on the last line.
            out.damagedLine = lineNo;
            out.damage = why;
            return out;
        }
        if (!e) {
            if (last) {
                out.tornTailBytes = content.size() - pos;
            } else {
                out.damagedLine = lineNo;
                out.damage = why;
            }
            return out;
        }
        out.entries.append(*e);
        pos = end + 1;
        out.validBytes = pos;
    }
    return out;
}

JournalLoad JournalReader::readFile(const QString& path, QString* error)
{
    QFile f(path);
    if (!f.exists()) {
        return {};
    }
    if (!f.open(QIODevice::ReadOnly)) {
        if (error) {
            *error = QStringLiteral("cannot open %1: %2").arg(path, f.errorString());
        }
        JournalLoad bad;
        bad.damagedLine = 1;
        bad.damage = QStringLiteral("journal cannot be read");
        return bad;
    }
    return read(f.readAll());
}

} // namespace oll
