/* fuzz_provider_answers.c — what secret providers answer: Vault KV v2 reads and errors, AWS
 * Secrets Manager GetSecretValue answers and errors (JSON or XML). The first byte picks the
 * reader; a resolved value is freed wiped, and no error message may contain the credential. */
#include "fuzz_input.h"
#include "providers/answers.h"
#include "providers/http.h"

#define CREDENTIAL "hvs.FUZZ-CREDENTIAL-0123456789"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    uint8_t pick = fuzz_take_byte(&data, &len);
    char *body = fuzz_text(data, len);
    char *value = NULL;
    struct agyn_error err = {0};
    long status = 400 + (pick >> 2) % 110;
    switch (pick & 3) {
    case 0:
        vault_secret_from_answer(body, len, "secret/data/app", "secret", "password", &value, &err);
        break;
    case 1:
        vault_error_from_answer(status, body, len, CREDENTIAL, &err);
        break;
    case 2:
        aws_secret_from_answer(body, len, "app", (pick & 4) ? "password" : NULL, &value, &err);
        break;
    default:
        aws_error_from_answer(status, body, len, CREDENTIAL, &err);
        break;
    }
    if (strstr(err.message, CREDENTIAL))
        abort();
    secure_free(value);
    free(body);
    return 0;
}
