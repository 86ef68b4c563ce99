/* keyring.h — the key-encryption keys (KEKs) that wrap every per-value data key. A keyring
 * file (JSON, mode 0600) holds named 256-bit keys and says which one is active:
 *   {"active": "k-20261126-1a2b", "keys": [{"id": "k-...", "key": "<base64 32 bytes>",
 *    "created_at": "2026-11-26T19:00:00Z"}]}
 * New values are sealed under the active key; any listed key opens values sealed under it. */
#ifndef AGYN_CRYPTO_KEYRING_H
#define AGYN_CRYPTO_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define KEYRING_KEY_BYTES 32
#define KEYRING_ID_MAX 64

struct keyring;

/* Creates a new file at path (fails with AGYN_CONFLICT if it exists) holding one fresh active
 * key; writes its id into id_out (KEYRING_ID_MAX bytes) when not NULL. */
int keyring_create_file(const char *path, char *id_out, struct agyn_error *err);
/* Adds a fresh key to the file and makes it active (atomic replace, mode 0600). */
int keyring_add_key(const char *path, char *id_out, struct agyn_error *err);
/* Removes a key that is not active from the file. */
int keyring_remove_key(const char *path, const char *key_id, struct agyn_error *err);

/* Loads the file; validates every key (32 bytes, unique ids, active present). */
int keyring_load(const char *path, struct keyring **out, struct agyn_error *err);
/* Re-reads the file into an existing keyring (keys added/removed while running); thread-safe
 * with concurrent seal/open. */
int keyring_reload(struct keyring *kr, const char *path, struct agyn_error *err);
void keyring_free(struct keyring *kr); /* wipes key material */

/* Strings returned by keyring_active_id and keyring_id_at stay valid until keyring_free, even
 * across reloads that drop the key. */
const char *keyring_active_id(const struct keyring *kr);
size_t keyring_count(const struct keyring *kr);
/* i-th key id (0-based), its created_at ("" if none) and whether it is active. */
const char *keyring_id_at(const struct keyring *kr, size_t i, const char **created_at, int *active);
int keyring_has(const struct keyring *kr, const char *key_id);

/* Copies key material for key_id into key (KEYRING_KEY_BYTES); -1 if absent. Internal to crypto. */
int keyring_copy_key(const struct keyring *kr, const char *key_id, uint8_t key[KEYRING_KEY_BYTES]);
/* Copies the active key's id (KEYRING_ID_MAX bytes) and material under one lock, so a reload
 * cannot pair one key's id with another's material; -1 if the keyring is empty. Internal to
 * crypto. */
int keyring_copy_active(const struct keyring *kr, char id_out[KEYRING_ID_MAX],
                        uint8_t key[KEYRING_KEY_BYTES]);

/* Returns 0 if key_id is known; otherwise reloads from path once (another process, such as
 * `agynd keys add`, may have changed the file) and returns 0 if it is known now, else -1 with an
 * AGYN_INTERNAL error naming the key id and the path. */
int keyring_ensure_key(struct keyring *kr, const char *path, const char *key_id,
                       struct agyn_error *err);

/* 1 if id is usable as a key id: 1 to KEYRING_ID_MAX-1 characters of A-Z a-z 0-9 . _ - */
int keyring_id_is_valid(const char *id);

#endif
