/* transience.c — see transience.h. */
#include "core/transience.h"

bool transience_status_is_transient(long status) {
    return status < 100 || status == 408 || status == 429 || status >= 500;
}

bool transience_code_is_transient(enum agyn_code code) {
    return code == AGYN_UNAVAILABLE;
}
