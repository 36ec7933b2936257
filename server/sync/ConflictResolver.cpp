// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/ConflictResolver.h"

#include <QJsonArray>
#include <QJsonObject>

#include <limits>

namespace oll {
namespace {

using Segment = KeyPath::Segment;

std::optional<KeyPath> parseCanonical(const QString& key)
{
    // Keys reaching the resolver were validated already; the generous limits only guard misuse.
    return KeyPath::parse(key, 1 << 20, 1 << 10);
}

} // namespace

std::optional<QJsonValue> ConflictResolver::valueAtPlace(const KeyPath& writtenKey, const QJsonValue& written,
                                                         const KeyPath& place)
{
    const QList<Segment>& w = writtenKey.segments();
    const QList<Segment>& p = place.segments();
    // Null written at [id=N] deletes the element: nothing is left there or below.
    if (!w.isEmpty() && w.last().kind == Segment::Kind::Id && written.isNull()) {
        return std::nullopt;
    }
    QJsonValue current = written;
    if (!w.isEmpty() && w.last().kind == Segment::Kind::Id) {
        // The stored element is always an object carrying its id (MeetState: a non-object
        // becomes {"id": N}).
        QJsonObject o = written.toObject();
        o.insert(QStringLiteral("id"), w.last().number);
        current = o;
    }
    for (qsizetype i = w.size(); i < p.size(); ++i) {
        const Segment& seg = p[i];
        switch (seg.kind) {
        case Segment::Kind::Field:
            if (!current.isObject() || !current.toObject().contains(seg.name)) {
                return std::nullopt;
            }
            current = current.toObject().value(seg.name);
            break;
        case Segment::Kind::Index: {
            const QJsonArray arr = current.toArray();
            if (!current.isArray() || seg.number >= arr.size()) {
                return std::nullopt;
            }
            current = arr.at(static_cast<qsizetype>(seg.number));
            break;
        }
        case Segment::Kind::Id: {
            if (!current.isArray()) {
                return std::nullopt;
            }
            const QJsonArray arr = current.toArray();
            bool found = false;
            for (const QJsonValue& element : arr) {
                const QJsonValue id = element.toObject().value(QStringLiteral("id"));
                if (id.isDouble() && id.toDouble() == static_cast<double>(seg.number)) {
                    current = element;
                    found = true;
                    break;
                }
            }
            if (!found) {
                return std::nullopt;
            }
            break;
        }
        }
    }
    return current;
}

bool ConflictResolver::differOnOverlap(const QString& keyA, const QJsonValue& a, const QString& keyB,
                                       const QJsonValue& b)
{
    if (keyA == keyB && !KeyIndex::isElementKey(keyA)) {
        // The common case needs no parsing. (Elements are compared as stored, id included.)
        return a != b;
    }
    const auto pa = parseCanonical(keyA);
    const auto pb = parseCanonical(keyB);
    if (!pa || !pb) {
        return true;
    }
    // Compare at the deeper of the two keys: what each write leaves there.
    const KeyPath& place = pa->depth() >= pb->depth() ? *pa : *pb;
    const std::optional<QJsonValue> va = valueAtPlace(*pa, a, place);
    const std::optional<QJsonValue> vb = valueAtPlace(*pb, b, place);
    if (!va || !vb) {
        return va.has_value() != vb.has_value();
    }
    return *va != *vb;
}

qint64 ConflictResolver::priorityOf(const QString& location) const
{
    // Endpoints never change after creation; an unknown location cannot win anything.
    return m_config.priorityOf(location).value_or(std::numeric_limits<qint64>::min());
}

Verdict ConflictResolver::judge(const Contender& u) const
{
    Verdict verdict;
    QList<qint64> lower;
    m_index.forEachOverlap(u.key, u.afterServerSeqNum, [&](qint64 seq, const QString& writtenKey) {
        const JournalEntry& e = m_entries[seq - 1];
        if (e.clientId == u.clientId || (u.alsoSeen && u.alsoSeen(seq))) {
            return true;
        }
        if (!differOnOverlap(writtenKey, e.value, u.key, u.value)) {
            return true;
        }
        if (priorityOf(e.location) >= u.priority) {
            // Newest first within a key: older writes of this key cannot change the outcome.
            verdict.winnerSeq = std::max(verdict.winnerSeq, seq);
            return false;
        }
        lower.append(seq);
        return true;
    });
    if (verdict.winnerSeq > 0) {
        verdict.kind = Verdict::Kind::Rejected;
        return verdict;
    }
    if (!lower.isEmpty()) {
        std::sort(lower.begin(), lower.end());
        verdict.kind = Verdict::Kind::Overrules;
        verdict.overruled = lower;
    }
    return verdict;
}

} // namespace oll
