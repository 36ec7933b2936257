// SPDX-License-Identifier: AGPL-3.0-or-later
#pragma once

#include <QByteArray>
#include <QJsonObject>

#include <optional>

namespace oll {

/// scrypt parameters, stored beside every hash so they can be raised later without
/// invalidating existing meets.
struct ScryptParams
{
    int log2N = 16; // N = 2^16: 64 MiB and ~0.36 s per hash on the reference VM (README)
    int r = 8;
    int p = 1;
    /// Memory the KDF needs, 128·N·r·p bytes.
    quint64 memoryBytes() const;
};

struct PasswordHash
{
    ScryptParams params;
    QByteArray salt; // 16 bytes
    QByteArray hash; // 32 bytes

    QJsonObject toJson() const;
    static std::optional<PasswordHash> fromJson(const QJsonObject& obj);
};

/// scrypt through OpenSSL 3's EVP_KDF. Thread-safe; slow by design, so callers run it off the
/// event loop (AuthWorker).
class PasswordHasher
{
public:
    /// Hashes with the given salt (16 CSPRNG bytes, drawn by the caller on its own thread).
    /// Throws std::runtime_error if OpenSSL fails.
    static PasswordHash hash(const QByteArray& password, const ScryptParams& params, const QByteArray& salt);
    /// Recomputes with the stored salt and parameters and compares in constant time.
    static bool verify(const QByteArray& password, const PasswordHash& stored);
    /// Raw scrypt; returns an empty array on failure.
    static QByteArray derive(const QByteArray& password, const QByteArray& salt, const ScryptParams& params,
                             int keyLength);
};

} // namespace oll
