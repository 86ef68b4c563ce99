/* rewrap.c — moving a stored value to the keyring's active key (see rewrap.h). */
#include "crypto/rewrap.h"

#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"
#include "crypto/envelope.h"

char *envelope_rewrap(const struct keyring *kr, const char *aad, const char *sealed, int *changed,
                      struct agyn_error *err) {
    if (changed)
        *changed = 0;
    if (!kr || !aad) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot rewrap value: missing keyring or AAD");
        return NULL;
    }
    char key_id[KEYRING_ID_MAX];
    if (envelope_validate(sealed, key_id, err) != 0)
        return NULL;

    /* Interned by the keyring: valid until keyring_free even if a reload happens now. */
    const char *active_id = keyring_active_id(kr);
    if (active_id && strcmp(key_id, active_id) == 0) {
        return xstrdup(sealed);
    }

    uint8_t *plain = NULL;
    size_t len = 0;
    if (envelope_open(kr, aad, sealed, &plain, &len, err) != 0)
        return NULL;
    char *resealed = envelope_seal(kr, aad, plain, len, err);
    secure_free(plain);
    if (resealed && changed)
        *changed = 1;
    return resealed;
}
