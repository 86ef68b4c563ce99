/* pull_credentials.h — the credentials one container's pull may use (docs/semantics.md):
 * the image pull secrets credentials/pull_selection chooses for the image among those attached
 * to that container's own resource, in its order, each with its password resolved once at
 * workload start (remote ones fetched from the provider now, never cached). */
#ifndef AGYN_CREDENTIALS_PULL_CREDENTIALS_H
#define AGYN_CREDENTIALS_PULL_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "core/image_ref.h"
#include "credentials/resolve.h"

struct pull_credential {
    char secret_id[40];
    char name[160];
    char source[16]; /* inline, secret, remote, ecr, plugin */
    char *username;
    char *password;          /* NULL when resolving failed */
    struct agyn_error error; /* why resolving failed */
};

struct pull_credentials {
    struct pull_credential *items;
    size_t count;
    char target[520]; /* "<registry>/<repository>" of the image, for short-lived logins */
};

/* target_column is "agent_id", "mcp_id" or "hook_id". Resolution failures do not fail the
 * call; they are kept per credential. A store failure while reading the attachments or an
 * attached secret fails it (AGYN_UNAVAILABLE for a secret's row: retry later), so a pull is
 * never made with fewer credentials than attached; a secret deleted meanwhile is skipped. */
int pull_credentials_collect(const struct resolve_context *ctx, const char *organization_id,
                             const char *target_column, const char *target_id,
                             const struct image_ref *image, struct pull_credentials *out,
                             struct agyn_error *err);
/* True when this credential's password could not be resolved for a transient reason (its
 * provider unreachable, timing out, answering 5xx/429: core/transience.h): a later attempt
 * resolves it again. */
bool pull_credential_unresolved_for_now(const struct pull_credential *credential);
/* Resolves again every credential pull_credential_unresolved_for_now says may work now (the
 * rest of the snapshot is kept); returns how many now have a password. */
size_t pull_credentials_retry_unresolved(const struct resolve_context *ctx,
                                         const char *organization_id,
                                         struct pull_credentials *credentials);
/* Wipes passwords and frees. */
void pull_credentials_free(struct pull_credentials *credentials);

#endif
