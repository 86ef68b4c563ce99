/* fuzz_token_answer.c — answers of registry token services (Docker token authentication). A
 * token taken from the answer is never longer than the answer and holds visible ASCII only. */
#include "fuzz_input.h"
#include "registry/token_service.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    struct token_grant grant = {0};
    struct agyn_error err = {0};
    if (token_grant_parse((const char *)data, len, "auth.example", &grant, &err) == 0) {
        for (const char *p = grant.token; *p; p++)
            if (*p <= ' ' || *p > '~')
                abort();
    }
    token_grant_free(&grant);
    return 0;
}
