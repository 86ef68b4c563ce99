/* fuzz_auth_challenge.c — WWW-Authenticate challenges sent by registries. */
#include "fuzz_input.h"
#include "registry/auth_challenge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    char *header = fuzz_text(data, len);
    struct auth_challenge challenge;
    if (auth_challenge_parse(header, &challenge) == 0) {
        if (strnlen(challenge.realm, sizeof challenge.realm) == sizeof challenge.realm ||
            strnlen(challenge.scope, sizeof challenge.scope) == sizeof challenge.scope)
            abort(); /* every field is NUL-terminated */
    }
    free(header);
    return 0;
}
