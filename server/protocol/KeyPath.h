// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QList>
#include <QString>

#include <optional>

namespace oll {

/// A parsed update key: `slice(.field | [index] | [id=N])*`, e.g.
/// `registration.entries[id=5007].squatKg[1]`.
///
/// Only the canonical spelling parses (no spaces, no leading zeros), so two keys address the
/// same place exactly when their strings are equal, and overlap is a segment-wise prefix test.
class KeyPath
{
public:
    struct Segment
    {
        enum class Kind
        {
            Field,
            Index,
            Id
        };
        Kind kind = Kind::Field;
        QString name; // Field
        qint64 number = 0; // Index or Id
        bool operator==(const Segment& o) const { return kind == o.kind && name == o.name && number == o.number; }
    };

    enum class Problem
    {
        None,
        Syntax,
        TooLong,
        TooDeep
    };

    /// Parses `text`. On failure returns nullopt and, if given, a reason that names the offending
    /// character position and the kind of problem.
    static std::optional<KeyPath> parse(const QString& text, int maxLength, int maxDepth, QString* error = nullptr,
                                        Problem* problem = nullptr);

    const QList<Segment>& segments() const { return m_segments; }
    int depth() const { return static_cast<int>(m_segments.size()); }
    QString toString() const;

    /// True if this key equals `other` or is an ancestor of it (a prefix at a segment boundary).
    bool isPrefixOf(const KeyPath& other) const;
    /// True if one key is a prefix of the other: writing one changes what the other reads.
    bool overlaps(const KeyPath& other) const { return isPrefixOf(other) || other.isPrefixOf(*this); }

    bool operator==(const KeyPath& o) const { return m_segments == o.m_segments; }

private:
    QList<Segment> m_segments;
};

} // namespace oll
