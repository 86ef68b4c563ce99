/* uuid.h — generating random identifiers (version 4 UUIDs); validating them is pure and lives
 * in core/names.h. */
#ifndef AGYN_BASE_UUID_H
#define AGYN_BASE_UUID_H

#include "core/names.h"

/* Random (version 4) UUID into out[AGYN_UUID_LEN + 1]. Aborts the process if the OpenSSL random
 * generator fails, since a predictable identifier is worse than stopping. */
void uuid_generate(char out[AGYN_UUID_LEN + 1]);

#endif
