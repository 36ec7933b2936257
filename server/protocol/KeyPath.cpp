// SPDX-License-Identifier: AGPL-3.0-or-later
#include "protocol/KeyPath.h"

namespace oll {
namespace {

bool isIdentStart(QChar c)
{
    return (c >= u'a' && c <= u'z') || (c >= u'A' && c <= u'Z') || c == u'_';
}

bool isIdentChar(QChar c)
{
    return isIdentStart(c) || (c >= u'0' && c <= u'9');
}

// Largest index or id accepted: JavaScript's Number.MAX_SAFE_INTEGER.
constexpr qint64 kMaxNumber = 9007199254740991LL;

} // namespace

std::optional<KeyPath> KeyPath::parse(const QString& text, int maxLength, int maxDepth, QString* error,
                                      Problem* problem)
{
    Problem kind = Problem::Syntax;
    auto fail = [error, problem, &kind](const QString& why) -> std::optional<KeyPath> {
        if (error) {
            *error = why;
        }
        if (problem) {
            *problem = kind;
        }
        return std::nullopt;
    };
    if (problem) {
        *problem = Problem::None;
    }
    if (text.isEmpty()) {
        return fail(QStringLiteral("key is empty"));
    }
    if (text.size() > maxLength) {
        kind = Problem::TooLong;
        return fail(QStringLiteral("key is %1 characters long; the limit is %2").arg(text.size()).arg(maxLength));
    }

    KeyPath path;
    const qsizetype n = text.size();
    qsizetype i = 0;

    auto readIdent = [&](QString* out) -> bool {
        const qsizetype start = i;
        if (i >= n || !isIdentStart(text[i])) {
            return false;
        }
        while (i < n && isIdentChar(text[i])) {
            ++i;
        }
        *out = text.mid(start, i - start);
        return true;
    };
    auto readNumber = [&](qint64* out) -> bool {
        const qsizetype start = i;
        while (i < n && text[i] >= u'0' && text[i] <= u'9') {
            ++i;
        }
        const qsizetype len = i - start;
        if (len == 0 || len > 16 || (len > 1 && text[start] == u'0')) {
            return false;
        }
        bool ok = false;
        const qint64 v = text.mid(start, len).toLongLong(&ok);
        if (!ok || v > kMaxNumber) {
            return false;
        }
        *out = v;
        return true;
    };

    Segment first;
    if (!readIdent(&first.name)) {
        return fail(
            QStringLiteral(
                "key must start with a field name (a letter or '_', then letters, digits or '_') at position %1")
                .arg(i));
    }
    path.m_segments.append(first);

    while (i < n) {
        Segment seg;
        if (text[i] == u'.') {
            ++i;
            seg.kind = Segment::Kind::Field;
            if (!readIdent(&seg.name)) {
                return fail(QStringLiteral("expected a field name after '.' at position %1").arg(i));
            }
        } else if (text[i] == u'[') {
            ++i;
            if (text.mid(i, 3) == QStringLiteral("id=")) {
                i += 3;
                seg.kind = Segment::Kind::Id;
            } else {
                seg.kind = Segment::Kind::Index;
            }
            const qsizetype numberStart = i;
            if (!readNumber(&seg.number)) {
                const bool digits = i > numberStart && text[numberStart] != u'0';
                return fail(
                    digits ? QStringLiteral("integer at position %1 is larger than 9007199254740991").arg(numberStart)
                           : QStringLiteral("expected a non-negative integer without leading zeros at position %1")
                                 .arg(numberStart));
            }
            if (i >= n || text[i] != u']') {
                return fail(QStringLiteral("expected ']' at position %1").arg(i));
            }
            ++i;
        } else {
            return fail(QStringLiteral("unexpected character at position %1").arg(i));
        }
        path.m_segments.append(seg);
        if (path.depth() > maxDepth) {
            kind = Problem::TooDeep;
            return fail(QStringLiteral("key has more than %1 segments").arg(maxDepth));
        }
    }
    return path;
}

QString KeyPath::toString() const
{
    QString out;
    for (const Segment& s : m_segments) {
        switch (s.kind) {
        case Segment::Kind::Field:
            if (!out.isEmpty()) {
                out += u'.';
            }
            out += s.name;
            break;
        case Segment::Kind::Index:
            out += u'[' + QString::number(s.number) + u']';
            break;
        case Segment::Kind::Id:
            out += QStringLiteral("[id=") + QString::number(s.number) + u']';
            break;
        }
    }
    return out;
}

bool KeyPath::isPrefixOf(const KeyPath& other) const
{
    if (m_segments.size() > other.m_segments.size()) {
        return false;
    }
    for (qsizetype k = 0; k < m_segments.size(); ++k) {
        if (!(m_segments[k] == other.m_segments[k])) {
            return false;
        }
    }
    return true;
}

} // namespace oll
