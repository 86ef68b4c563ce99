/* sealed_values.h — whole-database passes over every sealed column: the start-up check that
 * the keyring can open every stored value, and `agynd keys rewrap`. */
#ifndef AGYN_AGYND_SEALED_VALUES_H
#define AGYN_AGYND_SEALED_VALUES_H

#include "core/error.h"
#include "crypto/keyring.h"
#include "store/store.h"

struct sealed_values_report {
    long long values;    /* sealed values seen */
    long long rewrapped; /* re-encrypted under the active key */
};

/* Fails (naming the key id and a row) when a stored value names a key the keyring lacks or
 * that does not open it. Opens one value per key id: the database groups each sealed column by
 * key id in one pass (store_sealed_samples), so start-up does not read every row. */
int sealed_values_check(struct store *store, struct keyring *kr, struct agyn_error *err);
/* Opens (decrypts) every stored value, counting them in *opened; fails at the first that
 * does not open, naming it. `agynd keys verify`, e.g. after restoring a backup. */
int sealed_values_open_all(struct store *store, struct keyring *kr, long long *opened,
                           struct agyn_error *err);
/* Re-encrypts every value not under the active key, one row per transaction, so it can run
 * beside a serving agynd. */
int sealed_values_rewrap(struct store *store, struct keyring *kr,
                         struct sealed_values_report *report, struct agyn_error *err);
/* Counts values still sealed under key_id (0 means the key may be removed). */
int sealed_values_count_key(struct store *store, const char *key_id, long long *count,
                            struct agyn_error *err);
/* The distinct key ids stored values are sealed under, as "k-1, k-2" ("" when none). */
int sealed_values_key_ids(struct store *store, char *out, size_t size, struct agyn_error *err);

#endif
