/* envelope.h — envelope encryption of secret values. Each value gets a fresh random 256-bit
 * data key (DEK); the value is AES-256-GCM encrypted under the DEK; the DEK is AES-256-GCM
 * wrapped under the keyring's active KEK. Both encryptions bind the AAD (the value's
 * organization, table, row and field), so a ciphertext copied to another row fails to open.
 * Stored form (ASCII, safe in any TEXT column):
 *   "agyn1:<kek-id>:<b64 wrap-iv|wrapped-dek|tag>:<b64 iv|ciphertext|tag>" */
#ifndef AGYN_CRYPTO_ENVELOPE_H
#define AGYN_CRYPTO_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "core/secure_mem.h" /* secure_free for what envelope_open returns */
#include "crypto/keyring.h"

/* Largest value envelope_seal accepts (larger is AGYN_PAYLOAD_TOO_LARGE); envelope_open rejects
 * stored forms that would decode to more. */
#define ENVELOPE_MAX_PLAINTEXT_BYTES (16 * 1024 * 1024)

/* The AAD string for a stored value: "<org_id>/<table>/<row_id>/<field>". */
void envelope_aad(char *buf, size_t size, const char *org_id, const char *table, const char *row_id,
                  const char *field);

/* Seals len bytes; returns a malloc'd NUL-terminated stored form, or NULL with err set. */
char *envelope_seal(const struct keyring *kr, const char *aad, const uint8_t *plain, size_t len,
                    struct agyn_error *err);

/* Opens a stored form; *plain_out is malloc'd, NUL-terminated (not counted in *len_out); free
 * it with secure_free. A missing KEK is AGYN_INTERNAL naming the key id; a tag mismatch
 * (tampering, wrong row) is AGYN_INTERNAL "... failed to decrypt ...". */
int envelope_open(const struct keyring *kr, const char *aad, const char *sealed,
                  uint8_t **plain_out, size_t *len_out, struct agyn_error *err);

/* Writes the KEK id a stored form was sealed under into id_out; -1 if malformed. */
int envelope_key_id(const char *sealed, char id_out[KEYRING_ID_MAX]);
/* Strictly checks the structure of a stored form without decrypting it (prefix, key id, both
 * base64url parts canonical and of plausible length); writes the key id into id_out when not
 * NULL. Returns 0, or -1 with an AGYN_INTERNAL error saying what is malformed. */
int envelope_validate(const char *sealed, char id_out[KEYRING_ID_MAX], struct agyn_error *err);

#endif
