// SPDX-License-Identifier: AGPL-3.0-or-later
#include "auth/PasswordHasher.h"

#include <QJsonValue>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <memory>
#include <stdexcept>

namespace oll {

quint64 ScryptParams::memoryBytes() const
{
    return 128ULL * (1ULL << static_cast<unsigned>(log2N)) * static_cast<quint64>(r) * static_cast<quint64>(p);
}

QJsonObject PasswordHash::toJson() const
{
    return {{QStringLiteral("alg"), QStringLiteral("scrypt")},
            {QStringLiteral("log2N"), params.log2N},
            {QStringLiteral("r"), params.r},
            {QStringLiteral("p"), params.p},
            {QStringLiteral("salt"), QString::fromLatin1(salt.toBase64())},
            {QStringLiteral("hash"), QString::fromLatin1(hash.toBase64())}};
}

std::optional<PasswordHash> PasswordHash::fromJson(const QJsonObject& obj)
{
    if (obj.value(QStringLiteral("alg")).toString() != QStringLiteral("scrypt")) {
        return std::nullopt;
    }
    PasswordHash h;
    h.params.log2N = obj.value(QStringLiteral("log2N")).toInt(-1);
    h.params.r = obj.value(QStringLiteral("r")).toInt(-1);
    h.params.p = obj.value(QStringLiteral("p")).toInt(-1);
    h.salt = QByteArray::fromBase64(obj.value(QStringLiteral("salt")).toString().toLatin1());
    h.hash = QByteArray::fromBase64(obj.value(QStringLiteral("hash")).toString().toLatin1());
    if (h.params.log2N < 1 || h.params.log2N > 22 || h.params.r < 1 || h.params.r > 32 || h.params.p < 1
        || h.params.p > 16 || h.salt.size() < 16 || h.hash.size() != 32) {
        return std::nullopt;
    }
    return h;
}

QByteArray PasswordHasher::derive(const QByteArray& password, const QByteArray& salt, const ScryptParams& params,
                                  int keyLength)
{
    std::unique_ptr<EVP_KDF, decltype(&EVP_KDF_free)> kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr), &EVP_KDF_free);
    if (!kdf) {
        return {};
    }
    std::unique_ptr<EVP_KDF_CTX, decltype(&EVP_KDF_CTX_free)> ctx(EVP_KDF_CTX_new(kdf.get()), &EVP_KDF_CTX_free);
    if (!ctx) {
        return {};
    }
    uint64_t n = 1ULL << static_cast<unsigned>(params.log2N);
    uint32_t r = static_cast<uint32_t>(params.r);
    uint32_t p = static_cast<uint32_t>(params.p);
    // OpenSSL's default cap is 32 MiB, which makes N >= 2^15 fail: always pass the real need
    // plus headroom for the KDF's own buffers.
    uint64_t maxmem = params.memoryBytes() * 2 + (1ULL << 20U);
    QByteArray pass = password; // OSSL_PARAM wants non-const pointers
    QByteArray saltCopy = salt;
    OSSL_PARAM ossl[] = {
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD, pass.data(), static_cast<size_t>(pass.size())),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, saltCopy.data(), static_cast<size_t>(saltCopy.size())),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
        OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
        OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &maxmem),
        OSSL_PARAM_construct_end(),
    };
    QByteArray out(keyLength, Qt::Uninitialized);
    if (EVP_KDF_derive(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), static_cast<size_t>(keyLength), ossl)
        != 1) {
        return {};
    }
    OPENSSL_cleanse(pass.data(), static_cast<size_t>(pass.size()));
    return out;
}

PasswordHash PasswordHasher::hash(const QByteArray& password, const ScryptParams& params, const QByteArray& salt)
{
    PasswordHash h;
    h.params = params;
    h.salt = salt;
    h.hash = derive(password, h.salt, params, 32);
    if (h.hash.size() != 32) {
        throw std::runtime_error("scrypt failed");
    }
    return h;
}

bool PasswordHasher::verify(const QByteArray& password, const PasswordHash& stored)
{
    const QByteArray candidate = derive(password, stored.salt, stored.params, 32);
    if (candidate.size() != stored.hash.size()) {
        return false;
    }
    return CRYPTO_memcmp(candidate.constData(), stored.hash.constData(), static_cast<size_t>(candidate.size())) == 0;
}

} // namespace oll
