/* sealed_field.h — sealing and opening one stored column value (a password, a secret value,
 * a provider's credentials) bound to its organization, table, row and column. Opening reloads
 * the keyring file once when the value names a key this process has not loaded yet (another
 * process may have run `agynd keys add` and `agynd keys rewrap`). */
#ifndef AGYN_CRYPTO_SEALED_FIELD_H
#define AGYN_CRYPTO_SEALED_FIELD_H

#include "core/error.h"
#include "crypto/keyring.h"

struct sealed_location {
    const char *organization_id;
    const char *table;
    const char *row_id;
    const char *column;
};

/* Returns the stored form (malloc'd) of plain, or NULL with err set. */
char *sealed_field_seal(const struct keyring *kr, const struct sealed_location *where,
                        const char *plain, struct agyn_error *err);
/* Opens stored into a malloc'd NUL-terminated string (free with secure_free). */
int sealed_field_open(struct keyring *kr, const char *keyring_path,
                      const struct sealed_location *where, const char *stored, char **plain_out,
                      struct agyn_error *err);

#endif
