/* sealed_field.c — envelope encryption of one column value at a known location. */
#include "crypto/sealed_field.h"

#include <string.h>

#include "crypto/envelope.h"

static void location_aad(const struct sealed_location *where, char *aad, size_t size) {
    envelope_aad(aad, size, where->organization_id, where->table, where->row_id, where->column);
}

char *sealed_field_seal(const struct keyring *kr, const struct sealed_location *where,
                        const char *plain, struct agyn_error *err) {
    char aad[512];
    location_aad(where, aad, sizeof aad);
    return envelope_seal(kr, aad, (const uint8_t *)plain, strlen(plain), err);
}

int sealed_field_open(struct keyring *kr, const char *keyring_path,
                      const struct sealed_location *where, const char *stored, char **plain_out,
                      struct agyn_error *err) {
    char key_id[KEYRING_ID_MAX];
    if (envelope_key_id(stored, key_id) != 0)
        return agyn_fail(err, AGYN_INTERNAL, where->column,
                         "stored %s of %s %s is not a sealed value", where->column, where->table,
                         where->row_id);
    if (keyring_path && keyring_ensure_key(kr, keyring_path, key_id, err) != 0)
        return -1;
    char aad[512];
    location_aad(where, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (envelope_open(kr, aad, stored, &plain, &len, err) != 0)
        return -1;
    if (strlen((const char *)plain) != len) {
        secure_free(plain);
        return agyn_fail(err, AGYN_INTERNAL, where->column, "sealed %s holds a NUL byte",
                         where->column);
    }
    *plain_out = (char *)plain;
    return 0;
}
