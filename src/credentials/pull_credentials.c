/* pull_credentials.c — resolving the passwords of the credentials a container's pull may use,
 * in the order credentials/pull_selection decides. */
#include "credentials/pull_credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "base/metrics.h"
#include "core/transience.h"
#include "core/xalloc.h"
#include "credentials/pull_selection.h"
#include "crypto/envelope.h"
#include "store/tables.h"

int pull_credentials_collect(const struct resolve_context *ctx, const char *organization_id,
                             const char *target_column, const char *target_id,
                             const struct image_ref *image, struct pull_credentials *out,
                             struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->target, sizeof out->target, "%s/%s", image->registry, image->repository);
    struct pull_selection selection;
    if (pull_selection_load(ctx->store, organization_id, target_column, target_id, image,
                            &selection, err) != 0)
        return -1;
    out->items = xcalloc(selection.matched ? selection.matched : 1, sizeof *out->items);
    out->count = selection.matched;
    for (size_t c = 0; c < selection.matched; c++) {
        struct pull_credential *cred = &out->items[c];
        const json_t *row = pull_selection_at(&selection, c + 1)->secret;
        snprintf(cred->secret_id, sizeof cred->secret_id, "%s", row_text_or_empty(row, "id"));
        snprintf(cred->name, sizeof cred->name, "%s", row_text_or_empty(row, "name"));
        snprintf(cred->source, sizeof cred->source, "%s",
                 row_text_or_empty(row, "password_source"));
        int rc = resolve_image_pull_login(ctx, row, out->target, &cred->username, &cred->password,
                                          &cred->error);
        char labels[128];
        snprintf(labels, sizeof labels, "source=\"%s\",result=\"%s\"", cred->source,
                 rc == 0 ? "success" : "error");
        metrics_add("agyn_credential_resolutions_total", labels, 1);
        if (rc != 0) {
            cred->password = NULL;
            cred->username = xstrdup(row_text_or_empty(row, "username"));
        }
    }
    pull_selection_free(&selection);
    return 0;
}

bool pull_credential_unresolved_for_now(const struct pull_credential *credential) {
    return !credential->password && transience_code_is_transient(credential->error.code);
}

size_t pull_credentials_retry_unresolved(const struct resolve_context *ctx,
                                         const char *organization_id,
                                         struct pull_credentials *credentials) {
    size_t resolved = 0;
    for (size_t i = 0; i < credentials->count; i++) {
        struct pull_credential *cred = &credentials->items[i];
        if (!pull_credential_unresolved_for_now(cred))
            continue;
        json_t *row = NULL;
        struct agyn_error err = {0};
        int rc = store_get(ctx->store, &TABLE_IMAGE_PULL_SECRETS, organization_id, cred->secret_id,
                           &row, &err);
        char *username = NULL;
        if (rc == 0)
            rc = resolve_image_pull_login(ctx, row, credentials->target, &username, &cred->password,
                                          &err);
        if (rc == 0) {
            secure_free(cred->username);
            cred->username = username;
        }
        json_decref(row);
        char labels[128];
        snprintf(labels, sizeof labels, "source=\"%s\",result=\"%s\"", cred->source,
                 rc == 0 ? "success" : "error");
        metrics_add("agyn_credential_resolutions_total", labels, 1);
        if (rc != 0) {
            cred->password = NULL;
            cred->error = err; /* a deleted secret or provider is permanent from now on */
            continue;
        }
        agyn_error_clear(&cred->error);
        resolved++;
    }
    return resolved;
}

void pull_credentials_free(struct pull_credentials *credentials) {
    for (size_t i = 0; i < credentials->count; i++) {
        secure_free(credentials->items[i].username);
        secure_free(credentials->items[i].password);
    }
    free(credentials->items);
    memset(credentials, 0, sizeof *credentials);
}
