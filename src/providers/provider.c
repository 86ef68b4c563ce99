/* provider.c — the table of provider backends (found by type name) and the request timeouts
 * they all use. */
#include "providers/provider.h"

#include <stdatomic.h>
#include <string.h>

#include "core/secure_mem.h"
#include "providers/http.h"

#define PROVIDER_DEFAULT_CONNECT_MS 5000L
#define PROVIDER_DEFAULT_TOTAL_MS 10000L

/* Defined in vault.c and aws_secrets_manager.c. */
extern const struct provider_backend vault_backend;
extern const struct provider_backend aws_secrets_manager_backend;

static const struct provider_backend *const all_backends[] = {
    &vault_backend,
    &aws_secrets_manager_backend,
    NULL,
};

static _Atomic long connect_timeout_ms = PROVIDER_DEFAULT_CONNECT_MS;
static _Atomic long total_timeout_ms = PROVIDER_DEFAULT_TOTAL_MS;

const struct provider_backend *provider_find(const char *type) {
    if (!type)
        return NULL;
    for (const struct provider_backend *const *backend = all_backends; *backend; backend++) {
        if (strcmp((*backend)->type, type) == 0)
            return *backend;
    }
    return NULL;
}

const struct provider_backend *const *provider_all(void) {
    return all_backends;
}

/* A value <= 0 restores the default. */
void provider_set_timeouts(long connect_ms, long total_ms) {
    atomic_store(&connect_timeout_ms, connect_ms > 0 ? connect_ms : PROVIDER_DEFAULT_CONNECT_MS);
    atomic_store(&total_timeout_ms, total_ms > 0 ? total_ms : PROVIDER_DEFAULT_TOTAL_MS);
}

long provider_connect_timeout_ms(void) {
    return atomic_load(&connect_timeout_ms);
}

void provider_login_free(struct provider_registry_login *login) {
    if (!login)
        return;
    secure_free(login->username);
    secure_free(login->password);
    memset(login, 0, sizeof *login);
}

long provider_total_timeout_ms(void) {
    return atomic_load(&total_timeout_ms);
}
