// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/EpochHistory.h"

#include "protocol/Messages.h"
#include "util/RandomSource.h"

#include <QJsonArray>

#include <algorithm>

namespace oll {

QString EpochHistory::mint(RandomSource& random)
{
    return QString::fromLatin1(random.bytes(8).toHex());
}

void EpochHistory::begin(const QString& epoch, qint64 head)
{
    if (!m_current.isEmpty()) {
        m_past.append(Past{m_current, head});
    }
    while (m_past.size() > maxRemembered) {
        m_past.removeFirst();
    }
    m_current = epoch;
}

void EpochHistory::clampTo(qint64 head)
{
    for (Past& p : m_past) {
        p.lastSeq = std::min(p.lastSeq, head);
    }
}

void EpochHistory::addPast(const QString& epoch, qint64 lastSeq)
{
    m_past.append(Past{epoch, lastSeq});
    while (m_past.size() > maxRemembered) {
        m_past.removeFirst();
    }
}

std::optional<qint64> EpochHistory::lastSeqOf(const QString& epoch, qint64 head) const
{
    if (epoch == m_current) {
        return head;
    }
    for (const Past& p : m_past) {
        if (p.epoch == epoch) {
            return p.lastSeq;
        }
    }
    return std::nullopt;
}

void EpochHistory::extend(const QString& epoch, qint64 lastSeq)
{
    for (Past& p : m_past) {
        if (p.epoch == epoch && lastSeq > p.lastSeq) {
            p.lastSeq = lastSeq;
        }
    }
}

QJsonObject EpochHistory::toJson() const
{
    QJsonArray past;
    for (const Past& p : m_past) {
        past.append(QJsonObject{{QStringLiteral("epoch"), p.epoch}, {QStringLiteral("lastSeq"), p.lastSeq}});
    }
    return QJsonObject{{QStringLiteral("current"), m_current}, {QStringLiteral("past"), past}};
}

std::optional<EpochHistory> EpochHistory::fromJson(const QJsonObject& obj, QString* error)
{
    auto fail = [error](const QString& why) -> std::optional<EpochHistory> {
        if (error) {
            *error = why;
        }
        return std::nullopt;
    };
    EpochHistory h;
    h.m_current = obj.value(QStringLiteral("current")).toString();
    if (!isValidEpoch(h.m_current)) {
        return fail(QStringLiteral("'current' is not an epoch"));
    }
    for (const QJsonValue& v : obj.value(QStringLiteral("past")).toArray()) {
        const QJsonObject o = v.toObject();
        const QString epoch = o.value(QStringLiteral("epoch")).toString();
        const QJsonValue last = o.value(QStringLiteral("lastSeq"));
        if (!isValidEpoch(epoch) || !last.isDouble() || last.toInteger(-1) < 0) {
            return fail(QStringLiteral("a past epoch is malformed"));
        }
        h.m_past.append(Past{epoch, last.toInteger()});
    }
    return h;
}

} // namespace oll
