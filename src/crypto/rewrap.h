/* rewrap.h — re-sealing stored values under the keyring's active key, so that after
 * `agynd keys add` every value can be moved to the new key and the old key removed. */
#ifndef AGYN_CRYPTO_REWRAP_H
#define AGYN_CRYPTO_REWRAP_H

#include "core/error.h"
#include "crypto/keyring.h"

/* When sealed (stored at aad) was sealed under a key other than the active one: opens it and
 * returns it newly sealed under the active key with a fresh data key, *changed = 1. When it is
 * already under the active key: returns a copy after checking its structure (it is not
 * decrypted), *changed = 0. The result is malloc'd (free it with free or secure_free); NULL
 * with err set on failure (malformed value, unknown key, tag mismatch), *changed = 0. */
char *envelope_rewrap(const struct keyring *kr, const char *aad, const char *sealed, int *changed,
                      struct agyn_error *err);

#endif
