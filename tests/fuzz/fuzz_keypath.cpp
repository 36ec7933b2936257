// SPDX-License-Identifier: AGPL-3.0-or-later
// Fuzz target: the bytes, as UTF-8, are one update key for KeyPath::parse with the server's
// default limits.
//
// Invariants:
//   - accepted ⇒ toString() is exactly the input, depth ≤ maxKeyDepth, length ≤ maxKeyLength;
//   - refused ⇒ a reason and a problem kind are given; TooLong only for over-long input;
//   - the limits only ever refuse more: without them, an accepted key still parses to the same
//     path, and a syntax error stays a syntax error;
//   - overlap is symmetric, and isPrefixOf agrees with the canonical strings (the other key's
//     text starts with this key's text at a segment boundary), against a few fixed keys.

#include "FuzzCheck.h"

#include "protocol/KeyPath.h"
#include "protocol/Limits.h"

#include <cstddef>
#include <cstdint>
#include <limits>

namespace {

using oll::KeyPath;
using oll::fuzz::show;

const char* const kFixedKeys[] = {
    "meet",
    "meet.name",
    "meet.names",
    "registration",
    "registration.entries",
    "registration.entries[id=5007]",
    "registration.entries[id=5007].squatKg",
    "registration.entries[id=5007].squatKg[1]",
    "registration.entries[id=500]",
    "registration.entries[5007]",
    "a",
    "a[0]",
    "a[0][1]",
    "a_b.C9[0][12][id=0]",
};

/// The string form of "prefix at a segment boundary" for canonical keys.
bool textIsPrefix(const QString& a, const QString& b)
{
    if (!b.startsWith(a)) {
        return false;
    }
    return b.size() == a.size() || b[a.size()] == u'.' || b[a.size()] == u'[';
}

void checkPair(const KeyPath& p, const QString& pText, const KeyPath& q, const QString& qText)
{
    const QString both = show(pText) + QStringLiteral(" vs ") + show(qText);
    FUZZ_CHECK(p.overlaps(q) == q.overlaps(p), both);
    FUZZ_CHECK(p.isPrefixOf(q) == textIsPrefix(pText, qText), both);
    FUZZ_CHECK(q.isPrefixOf(p) == textIsPrefix(qText, pText), both);
    FUZZ_CHECK((p == q) == (pText == qText), both);
    FUZZ_CHECK((p == q) == (p.isPrefixOf(q) && q.isPrefixOf(p)), both);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const oll::Limits limits{};
    const QString key = QString::fromUtf8(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));

    QString why;
    KeyPath::Problem problem = KeyPath::Problem::None;
    const auto path = KeyPath::parse(key, limits.maxKeyLength, limits.maxKeyDepth, &why, &problem);

    constexpr int kNoLimit = std::numeric_limits<int>::max();
    KeyPath::Problem freeProblem = KeyPath::Problem::None;
    const auto unlimited = KeyPath::parse(key, kNoLimit, kNoLimit, nullptr, &freeProblem);
    FUZZ_CHECK(freeProblem != KeyPath::Problem::TooLong && freeProblem != KeyPath::Problem::TooDeep, show(key));

    if (!path) {
        FUZZ_CHECK(problem != KeyPath::Problem::None, show(key));
        FUZZ_CHECK(!why.isEmpty(), show(key));
        switch (problem) {
        case KeyPath::Problem::TooLong:
            FUZZ_CHECK(key.size() > limits.maxKeyLength, show(key));
            break;
        case KeyPath::Problem::TooDeep:
            FUZZ_CHECK(!unlimited || unlimited->depth() > limits.maxKeyDepth, show(key));
            break;
        case KeyPath::Problem::Syntax:
            FUZZ_CHECK(!unlimited, show(key));
            break;
        case KeyPath::Problem::None:
            break;
        }
        return 0;
    }

    FUZZ_CHECK(problem == KeyPath::Problem::None, show(key));
    const QString printed = path->toString();
    FUZZ_CHECK(printed == key, show(key) + QStringLiteral(" printed as ") + show(printed));
    FUZZ_CHECK(path->depth() >= 1 && path->depth() <= limits.maxKeyDepth, show(key));
    FUZZ_CHECK(key.size() <= limits.maxKeyLength, show(key));
    FUZZ_CHECK(unlimited && *unlimited == *path, show(key));
    FUZZ_CHECK(path->segments().first().kind == KeyPath::Segment::Kind::Field, show(key));

    // Parsing the printed form gives the same path again.
    const auto again = KeyPath::parse(printed, limits.maxKeyLength, limits.maxKeyDepth);
    FUZZ_CHECK(again && *again == *path, show(printed));

    checkPair(*path, key, *path, key);
    for (const char* fixedText : kFixedKeys) {
        const QString fixedKey = QString::fromLatin1(fixedText);
        const auto fixed = KeyPath::parse(fixedKey, limits.maxKeyLength, limits.maxKeyDepth);
        FUZZ_CHECK(fixed.has_value(), show(fixedKey));
        checkPair(*path, key, *fixed, fixedKey);
    }
    return 0;
}
