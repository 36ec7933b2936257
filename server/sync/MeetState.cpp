// SPDX-License-Identifier: AGPL-3.0-or-later
#include "sync/MeetState.h"

#include <QJsonArray>

namespace oll {
namespace {

using Segment = KeyPath::Segment;

/// Index of the element of `array` whose "id" is `id`, or -1.
qsizetype indexOfId(const QJsonArray& array, qint64 id)
{
    for (qsizetype i = 0; i < array.size(); ++i) {
        const QJsonValue v = array.at(i).toObject().value(QStringLiteral("id"));
        if (v.isDouble() && v.toDouble() == static_cast<double>(id)) {
            return i;
        }
    }
    return -1;
}

QJsonValue withId(const QJsonValue& value, qint64 id)
{
    QJsonObject o = value.toObject();
    o.insert(QStringLiteral("id"), id);
    return o;
}

/// Writes `value` at segments[at..] inside `container` and returns the new container.
/// `ignored` is set when the write falls below an absent [id=N] element.
QJsonValue write(const QJsonValue& container, const QList<Segment>& segments, qsizetype at, const QJsonValue& value,
                 bool* ignored)
{
    const Segment& seg = segments[at];
    const bool last = at == segments.size() - 1;

    if (seg.kind == Segment::Kind::Field) {
        QJsonObject obj = container.isObject() ? container.toObject() : QJsonObject();
        obj.insert(seg.name, last ? value : write(obj.value(seg.name), segments, at + 1, value, ignored));
        return obj;
    }

    QJsonArray arr = container.isArray() ? container.toArray() : QJsonArray();
    if (seg.kind == Segment::Kind::Index) {
        if (seg.number > arr.size()) {
            *ignored = true;
            return arr;
        }
        const auto i = static_cast<qsizetype>(seg.number);
        const QJsonValue element = i < arr.size() ? arr.at(i) : QJsonValue();
        const QJsonValue written = last ? value : write(element, segments, at + 1, value, ignored);
        if (i == arr.size()) {
            arr.append(written);
        } else {
            arr[i] = written;
        }
        return arr;
    }

    // [id=N]
    const qsizetype i = indexOfId(arr, seg.number);
    if (last) {
        if (value.isNull()) {
            if (i >= 0) {
                arr.removeAt(i);
            }
        } else if (i >= 0) {
            arr[i] = withId(value, seg.number);
        } else {
            arr.append(withId(value, seg.number));
        }
        return arr;
    }
    if (i < 0) {
        *ignored = true;
        return arr;
    }
    arr[i] = write(arr.at(i), segments, at + 1, value, ignored);
    return arr;
}

} // namespace

bool MeetState::apply(const KeyPath& key, const QJsonValue& value)
{
    bool ignored = false;
    const QJsonValue next = write(m_document, key.segments(), 0, value, &ignored);
    if (ignored) {
        return false;
    }
    m_document = next.toObject();
    return true;
}

std::optional<QJsonValue> MeetState::valueAt(const KeyPath& key) const
{
    QJsonValue current = m_document;
    for (const Segment& seg : key.segments()) {
        switch (seg.kind) {
        case Segment::Kind::Field: {
            if (!current.isObject() || !current.toObject().contains(seg.name)) {
                return std::nullopt;
            }
            current = current.toObject().value(seg.name);
            break;
        }
        case Segment::Kind::Index: {
            const QJsonArray arr = current.toArray();
            if (!current.isArray() || seg.number >= arr.size()) {
                return std::nullopt;
            }
            current = arr.at(static_cast<qsizetype>(seg.number));
            break;
        }
        case Segment::Kind::Id: {
            const QJsonArray arr = current.toArray();
            const qsizetype i = current.isArray() ? indexOfId(arr, seg.number) : -1;
            if (i < 0) {
                return std::nullopt;
            }
            current = arr.at(i);
            break;
        }
        }
    }
    return current;
}

} // namespace oll
