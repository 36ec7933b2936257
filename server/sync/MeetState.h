// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include "protocol/KeyPath.h"

#include <QJsonObject>
#include <QJsonValue>

#include <optional>

namespace oll {

/// A meet's materialized state: its log applied, in serverSeqNum order, to one JSON document
/// shaped like OpenLifter's Redux state. Applying the same updates in the same order gives the
/// same document on the server and in every browser, so the rules are those of a JavaScript
/// assignment, spelled out (docs/protocol.md, "Update keys"):
///
/// - `.field` sets an object member; `[index]` sets an array element or, at index == length,
///   appends one; `[id=N]` addresses the array element whose `id` is N.
/// - A write at an index past the end is ignored: padding up to an index a client chose (keys
///   allow up to 2^53) would let one update exhaust memory, and OpenLifter's arrays never grow so.
/// - A missing or wrongly typed container on the way is replaced by an empty one of the type the
///   next segment needs (object for `.field`, array for `[index]` and `[id=N]`).
/// - Setting `[id=N]` appends the element when absent (its `id` forced to N; a non-object value
///   becomes `{"id": N}`); setting it to null deletes it. A write *below* an absent `[id=N]`
///   element is ignored: the entry was deleted, and a lone field would not make a valid entry.
/// - null elsewhere is an ordinary value.
class MeetState
{
public:
    /// Applies one update. Returns false (and changes nothing) only when it was ignored by the
    /// rules above.
    bool apply(const KeyPath& key, const QJsonValue& value);
    /// The value at `key`, or nullopt if nothing is there (a member that is absent, an index past
    /// the end, an id that no element has).
    std::optional<QJsonValue> valueAt(const KeyPath& key) const;
    const QJsonObject& document() const { return m_document; }
    void clear() { m_document = QJsonObject(); }

private:
    QJsonObject m_document;
};

} // namespace oll
