// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

// Invariant checks for the fuzz entry points. A failed check prints what broke and traps, so
// libFuzzer (and the corpus replay under ctest) reports it as a crash with a stack trace, in
// every build type: these are not assert()s and NDEBUG does not remove them.

#include <QByteArray>
#include <QString>

#include <cstdio>

namespace oll::fuzz {

[[noreturn]] inline void checkFailed(const char* expr, const char* file, int line, const QString& detail)
{
    std::fprintf(stderr, "\n==== fuzz invariant violated: %s\n==== at %s:%d\n", expr, file, line);
    if (!detail.isEmpty()) {
        std::fprintf(stderr, "==== %s\n", detail.toUtf8().constData());
    }
    std::fflush(stderr);
    __builtin_trap();
}

/// A short, printable rendering of a value for failure messages.
inline QString show(const QByteArray& bytes)
{
    QByteArray out = bytes.left(200).toPercentEncoding(" !\"#$&'()*+,-./:;<=>?@[\\]^_`{|}~");
    if (bytes.size() > 200) {
        out += "...";
    }
    return QString::fromLatin1(out);
}

inline QString show(const QString& text)
{
    return show(text.toUtf8());
}

} // namespace oll::fuzz

#define FUZZ_CHECK(cond, detail)                                                                                       \
    do {                                                                                                               \
        if (!(cond)) {                                                                                                 \
            ::oll::fuzz::checkFailed(#cond, __FILE__, __LINE__, (detail));                                             \
        }                                                                                                              \
    } while (false)
