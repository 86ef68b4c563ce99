/* envelope.c — envelope encryption of secret values (see envelope.h): a fresh AES-256-GCM data
 * key per value, wrapped under the keyring's active KEK, both bound to the value's AAD, stored
 * as "agyn1:<kek-id>:<b64url wrap-iv|wrapped-dek|tag>:<b64url iv|ciphertext|tag>" (base64url
 * without padding). Stored forms are parsed as hostile input; every buffer that held a key or
 * plaintext is wiped with OPENSSL_cleanse. */
#include "crypto/envelope.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/secure_mem.h"

#define ENVELOPE_PREFIX "agyn1:"
#define ENVELOPE_PREFIX_LEN (sizeof ENVELOPE_PREFIX - 1)
#define DEK_BYTES 32
#define GCM_IV_BYTES 12
#define GCM_TAG_BYTES 16
#define GCM_OVERHEAD (GCM_IV_BYTES + GCM_TAG_BYTES)
#define WRAPPED_DEK_BYTES (GCM_IV_BYTES + DEK_BYTES + GCM_TAG_BYTES)
#define AAD_MAX_BYTES 4096

#define GCM_TAG_MISMATCH (-2)

/* ---- base64url without padding, strict (core/base64.h) ---- */

#define B64_FLAGS (BASE64_URL | BASE64_NOPAD | BASE64_CANONICAL)

static size_t base64url_encoded_len(size_t byte_count) {
    return base64_encoded_len(byte_count, B64_FLAGS);
}

/* Bytes that text_len characters decode to; -1 for a length no encoding produces. */
static int base64url_decoded_len(size_t text_len, size_t *byte_count) {
    if (text_len % 4 == 1)
        return -1;
    *byte_count = text_len / 4 * 3 + (text_len % 4 ? text_len % 4 - 1 : 0);
    return 0;
}

/* Writes the encoding of in (no NUL kept) and returns the position after it. */
static char *base64url_encode(const uint8_t *in, size_t byte_count, char *out) {
    return out + base64_encode(in, byte_count, out, B64_FLAGS);
}

/* Decodes into out (NULL: only validate). Rejects characters outside the alphabet, padding,
 * impossible lengths and non-zero unused trailing bits, so each byte string has exactly one
 * accepted encoding and no character can change without changing the bytes. */
static int base64url_decode(const char *text, size_t text_len, uint8_t *out) {
    return base64_decode(text, text_len, out, NULL, B64_FLAGS);
}

/* ---- AES-256-GCM ---- */

static int gcm_encrypt(const uint8_t key[32], const uint8_t iv[GCM_IV_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                       uint8_t tag[GCM_TAG_BYTES]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int written = 0;
    int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_BYTES, NULL) == 1 &&
             EVP_EncryptInit_ex(ctx, NULL, NULL, key, iv) == 1;
    if (ok && aad_len > 0)
        ok = EVP_EncryptUpdate(ctx, NULL, &written, aad, (int)aad_len) == 1;
    if (ok && len > 0)
        ok = EVP_EncryptUpdate(ctx, out, &written, in, (int)len) == 1 && (size_t)written == len;
    if (ok)
        ok = EVP_EncryptFinal_ex(ctx, out + len, &written) == 1 && written == 0;
    if (ok)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, GCM_TAG_BYTES, tag) == 1;
    EVP_CIPHER_CTX_free(ctx); /* also wipes the key schedule */
    return ok ? 0 : -1;
}

/* 0 on success, GCM_TAG_MISMATCH when authentication fails, -1 on any other failure. out may
 * hold unauthenticated plaintext on failure: the caller wipes it. */
static int gcm_decrypt(const uint8_t key[32], const uint8_t iv[GCM_IV_BYTES], const uint8_t *aad,
                       size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
                       const uint8_t tag[GCM_TAG_BYTES]) {
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int written = 0;
    int ok = ctx && EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
             EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, GCM_IV_BYTES, NULL) == 1 &&
             EVP_DecryptInit_ex(ctx, NULL, NULL, key, iv) == 1;
    if (ok && aad_len > 0)
        ok = EVP_DecryptUpdate(ctx, NULL, &written, aad, (int)aad_len) == 1;
    if (ok && len > 0)
        ok = EVP_DecryptUpdate(ctx, out, &written, in, (int)len) == 1 && (size_t)written == len;
    if (ok)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, GCM_TAG_BYTES, (void *)tag) == 1;
    int rc = ok ? 0 : -1;
    if (ok && EVP_DecryptFinal_ex(ctx, out + len, &written) <= 0)
        rc = GCM_TAG_MISMATCH;
    EVP_CIPHER_CTX_free(ctx);
    return rc;
}

/* "<kek-id>|<aad>", so the wrapped DEK is bound to both the key id and the value's place. */
static uint8_t *wrap_aad_for(const char *kek_id, const char *aad, size_t aad_len,
                             size_t *wrap_aad_len) {
    size_t id_len = strlen(kek_id);
    uint8_t *wrap_aad = malloc(id_len + 1 + aad_len);
    if (!wrap_aad)
        return NULL;
    memcpy(wrap_aad, kek_id, id_len);
    wrap_aad[id_len] = '|';
    memcpy(wrap_aad + id_len + 1, aad, aad_len);
    *wrap_aad_len = id_len + 1 + aad_len;
    return wrap_aad;
}

/* ---- parsing the stored form ---- */

struct sealed_parts {
    char key_id[KEYRING_ID_MAX];
    const char *wrapped_text;
    size_t wrapped_text_len;
    const char *value_text;
    size_t value_text_len;
    size_t value_bytes; /* decoded iv|ciphertext|tag */
};

static size_t max_sealed_len(void) {
    return ENVELOPE_PREFIX_LEN + (KEYRING_ID_MAX - 1) + 1 +
           base64url_encoded_len(WRAPPED_DEK_BYTES) + 1 +
           base64url_encoded_len((size_t)ENVELOPE_MAX_PLAINTEXT_BYTES + GCM_OVERHEAD);
}

static int malformed(struct agyn_error *err, const char *what) {
    /* The input itself is never quoted: a misplaced plaintext secret could be in it. */
    return agyn_fail(err, AGYN_INTERNAL, NULL, "stored value is not a valid agyn1 envelope: %s",
                     what);
}

static int split_sealed(const char *sealed, struct sealed_parts *parts, struct agyn_error *err) {
    memset(parts, 0, sizeof *parts);
    if (!sealed)
        return malformed(err, "it is missing");
    size_t limit = max_sealed_len();
    size_t total = strnlen(sealed, limit + 1);
    if (total > limit)
        return malformed(err, "it is longer than any value this server seals");
    if (total < ENVELOPE_PREFIX_LEN || memcmp(sealed, ENVELOPE_PREFIX, ENVELOPE_PREFIX_LEN) != 0)
        return malformed(err, "it does not start with \"" ENVELOPE_PREFIX "\"");
    const char *end = sealed + total;

    const char *id = sealed + ENVELOPE_PREFIX_LEN;
    const char *colon = memchr(id, ':', (size_t)(end - id));
    if (!colon)
        return malformed(err, "it has no wrapped data key part");
    size_t id_len = (size_t)(colon - id);
    if (id_len == 0 || id_len >= KEYRING_ID_MAX)
        return malformed(err, "its key id is empty or too long");
    memcpy(parts->key_id, id, id_len);
    parts->key_id[id_len] = '\0';
    if (!keyring_id_is_valid(parts->key_id))
        return malformed(err, "its key id has characters outside A-Z a-z 0-9 . _ -");

    parts->wrapped_text = colon + 1;
    colon = memchr(parts->wrapped_text, ':', (size_t)(end - parts->wrapped_text));
    if (!colon)
        return malformed(err, "it has no ciphertext part");
    parts->wrapped_text_len = (size_t)(colon - parts->wrapped_text);
    if (parts->wrapped_text_len != base64url_encoded_len(WRAPPED_DEK_BYTES))
        return malformed(err, "its wrapped data key has the wrong length");
    if (base64url_decode(parts->wrapped_text, parts->wrapped_text_len, NULL) != 0)
        return malformed(err, "its wrapped data key is not canonical unpadded base64url");

    parts->value_text = colon + 1;
    parts->value_text_len = (size_t)(end - parts->value_text);
    if (base64url_decoded_len(parts->value_text_len, &parts->value_bytes) != 0 ||
        base64url_decode(parts->value_text, parts->value_text_len, NULL) != 0)
        return malformed(err, "its ciphertext is not canonical unpadded base64url");
    if (parts->value_bytes < GCM_OVERHEAD)
        return malformed(err, "its ciphertext is truncated");
    if (parts->value_bytes - GCM_OVERHEAD > ENVELOPE_MAX_PLAINTEXT_BYTES)
        return malformed(err, "its ciphertext is longer than any value this server seals");
    return 0;
}

/* ---- public API ---- */

void envelope_aad(char *buf, size_t size, const char *org_id, const char *table, const char *row_id,
                  const char *field) {
    if (!buf || size == 0)
        return;
    snprintf(buf, size, "%s/%s/%s/%s", org_id ? org_id : "", table ? table : "",
             row_id ? row_id : "", field ? field : "");
}

char *envelope_seal(const struct keyring *kr, const char *aad, const uint8_t *plain, size_t len,
                    struct agyn_error *err) {
    if (!kr || !aad || (!plain && len > 0)) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot seal value: missing keyring, AAD or value");
        return NULL;
    }
    if (len > ENVELOPE_MAX_PLAINTEXT_BYTES) {
        agyn_fail(err, AGYN_PAYLOAD_TOO_LARGE, NULL,
                  "secret value is too large (%zu bytes; the limit is %d)", len,
                  ENVELOPE_MAX_PLAINTEXT_BYTES);
        return NULL;
    }
    size_t aad_len = strlen(aad);
    if (aad_len > AAD_MAX_BYTES) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot seal value: AAD is longer than %d bytes",
                  AAD_MAX_BYTES);
        return NULL;
    }

    char kek_id[KEYRING_ID_MAX];
    uint8_t kek[KEYRING_KEY_BYTES];
    uint8_t dek[DEK_BYTES];
    uint8_t wrapped[WRAPPED_DEK_BYTES]; /* wrap-iv | wrapped-dek | tag */
    uint8_t *value = NULL;              /* iv | ciphertext | tag */
    uint8_t *wrap_aad = NULL;
    size_t wrap_aad_len = 0;
    char *sealed = NULL;
    const char *failure = NULL;

    if (keyring_copy_active(kr, kek_id, kek) != 0) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot seal value: the keyring has no active key");
        return NULL;
    }
    wrap_aad = wrap_aad_for(kek_id, aad, aad_len, &wrap_aad_len);
    value = malloc(len + GCM_OVERHEAD);
    if (!wrap_aad || !value)
        failure = "out of memory";
    else if (RAND_bytes(dek, sizeof dek) != 1 || RAND_bytes(wrapped, GCM_IV_BYTES) != 1 ||
             RAND_bytes(value, GCM_IV_BYTES) != 1)
        failure = "random number generator failed";
    else if (gcm_encrypt(dek, value, (const uint8_t *)aad, aad_len, plain, len,
                         value + GCM_IV_BYTES, value + GCM_IV_BYTES + len) != 0 ||
             gcm_encrypt(kek, wrapped, wrap_aad, wrap_aad_len, dek, DEK_BYTES,
                         wrapped + GCM_IV_BYTES, wrapped + GCM_IV_BYTES + DEK_BYTES) != 0)
        failure = "encryption failed";
    OPENSSL_cleanse(kek, sizeof kek);
    OPENSSL_cleanse(dek, sizeof dek);

    if (!failure) {
        size_t id_len = strlen(kek_id);
        size_t size = ENVELOPE_PREFIX_LEN + id_len + 1 + base64url_encoded_len(WRAPPED_DEK_BYTES) +
                      1 + base64url_encoded_len(len + GCM_OVERHEAD) + 1;
        sealed = malloc(size);
        if (!sealed) {
            failure = "out of memory";
        } else {
            char *out = sealed;
            memcpy(out, ENVELOPE_PREFIX, ENVELOPE_PREFIX_LEN);
            out += ENVELOPE_PREFIX_LEN;
            memcpy(out, kek_id, id_len);
            out += id_len;
            *out++ = ':';
            out = base64url_encode(wrapped, sizeof wrapped, out);
            *out++ = ':';
            out = base64url_encode(value, len + GCM_OVERHEAD, out);
            *out = '\0';
        }
    }
    free(value);
    free(wrap_aad);
    if (failure)
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot seal value: %s", failure);
    return sealed;
}

int envelope_open(const struct keyring *kr, const char *aad, const char *sealed,
                  uint8_t **plain_out, size_t *len_out, struct agyn_error *err) {
    if (plain_out)
        *plain_out = NULL;
    if (len_out)
        *len_out = 0;
    if (!kr || !aad || !plain_out || !len_out)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "cannot open value: missing keyring, AAD or output");
    size_t aad_len = strlen(aad);
    if (aad_len > AAD_MAX_BYTES)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot open value: AAD is longer than %d bytes",
                         AAD_MAX_BYTES);
    struct sealed_parts parts;
    if (split_sealed(sealed, &parts, err) != 0)
        return -1;

    uint8_t kek[KEYRING_KEY_BYTES];
    if (keyring_copy_key(kr, parts.key_id, kek) != 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL,
                         "value was encrypted with key %s, which is not in the keyring",
                         parts.key_id);

    uint8_t dek[DEK_BYTES];
    uint8_t wrapped[WRAPPED_DEK_BYTES];
    size_t len = parts.value_bytes - GCM_OVERHEAD;
    uint8_t *value = malloc(parts.value_bytes);
    uint8_t *plain = malloc(len + 1);
    size_t wrap_aad_len = 0;
    uint8_t *wrap_aad = wrap_aad_for(parts.key_id, aad, aad_len, &wrap_aad_len);
    int rc = 0;
    if (!value || !plain || !wrap_aad) {
        rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot open value: out of memory");
    } else {
        /* Both decode calls succeed: split_sealed validated the same text. */
        base64url_decode(parts.wrapped_text, parts.wrapped_text_len, wrapped);
        base64url_decode(parts.value_text, parts.value_text_len, value);
        int unwrapped = gcm_decrypt(kek, wrapped, wrap_aad, wrap_aad_len, wrapped + GCM_IV_BYTES,
                                    DEK_BYTES, dek, wrapped + GCM_IV_BYTES + DEK_BYTES);
        int decrypted = unwrapped != 0 ? unwrapped
                                       : gcm_decrypt(dek, value, (const uint8_t *)aad, aad_len,
                                                     value + GCM_IV_BYTES, len, plain,
                                                     value + GCM_IV_BYTES + len);
        if (decrypted == GCM_TAG_MISMATCH)
            rc = agyn_fail(err, AGYN_INTERNAL, NULL,
                           "failed to decrypt the value of %s: authentication tag mismatch "
                           "(wrong key or value moved from another row)",
                           aad);
        else if (decrypted != 0)
            rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot open value: decryption failed");
    }
    OPENSSL_cleanse(kek, sizeof kek);
    OPENSSL_cleanse(dek, sizeof dek);
    free(value);
    free(wrap_aad);
    if (rc != 0) {
        secure_free(plain);
        return rc;
    }
    plain[len] = '\0';
    *plain_out = plain;
    *len_out = len;
    return 0;
}

int envelope_validate(const char *sealed, char id_out[KEYRING_ID_MAX], struct agyn_error *err) {
    struct sealed_parts parts;
    if (split_sealed(sealed, &parts, err) != 0)
        return -1;
    if (id_out)
        memcpy(id_out, parts.key_id, KEYRING_ID_MAX);
    return 0;
}

int envelope_key_id(const char *sealed, char id_out[KEYRING_ID_MAX]) {
    return envelope_validate(sealed, id_out, NULL);
}
