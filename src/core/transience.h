/* transience.h — the one table of which failures are worth retrying, shared by registries, token
 * services and secret providers (docs/semantics.md, "Transient or permanent"): no answer,
 * 408, 429 and 5xx are transient; every other answer is permanent. */
#ifndef AGYN_CORE_TRANSIENCE_H
#define AGYN_CORE_TRANSIENCE_H

#include <stdbool.h>

#include "core/error.h"

/* An HTTP status from a registry, token service or provider: 408, 429, 5xx, or below 100 (no
 * answer at all: connection refused or reset, timeout, TLS failure). */
bool transience_status_is_transient(long status);

/* An error a provider or the resolution of a stored credential returned: AGYN_UNAVAILABLE (the
 * provider could not be reached, timed out, answered 408/429/5xx or something that is not an
 * answer of its API) is transient; 403, 404, a missing key, a value of the wrong type, a
 * deleted provider or secret and a key the keyring lacks are permanent. */
bool transience_code_is_transient(enum agyn_code code);

#endif
