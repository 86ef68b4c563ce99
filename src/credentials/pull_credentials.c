/* pull_credentials.c — matching, ordering and resolving a container's attached credentials. */
#include "credentials/pull_credentials.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "base/metrics.h"
#include "core/registry_pattern.h"
#include "core/transience.h"
#include "core/xalloc.h"
#include "crypto/envelope.h"
#include "store/tables.h"

struct candidate {
    json_t *row;
    struct registry_pattern pattern;
    size_t order;
};

static int by_specificity(const void *a, const void *b) {
    const struct candidate *x = a, *y = b;
    int c = registry_pattern_compare_specificity(&x->pattern, &y->pattern);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

int pull_credentials_collect(const struct resolve_context *ctx, const char *organization_id,
                             const char *target_column, const char *target_id,
                             const struct image_ref *image, struct pull_credentials *out,
                             struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    struct store_filter filter = {target_column, target_id};
    struct store_query query = {.organization_id = organization_id, .filters = &filter,
                                .filter_count = 1};
    json_t *attachments = NULL;
    int64_t next = 0;
    if (store_list(ctx->store, &TABLE_ATTACHMENTS, &query, &attachments, &next, err) != 0)
        return -1;
    size_t total = json_array_size(attachments), matched = 0;
    struct candidate *candidates = xcalloc(total ? total : 1, sizeof *candidates);
    size_t i;
    json_t *attachment;
    json_array_foreach(attachments, i, attachment) {
        json_t *row = NULL;
        const char *secret_id = row_text_or_empty(attachment, "image_pull_secret_id");
        struct agyn_error read_err = {0};
        if (store_get(ctx->store, &TABLE_IMAGE_PULL_SECRETS, organization_id, secret_id, &row,
                      &read_err) != 0) {
            if (read_err.code == AGYN_NOT_FOUND)
                continue; /* deleted since the list was read: as if never attached */
            /* Never pull with fewer credentials than attached: the caller retries. */
            for (size_t c = 0; c < matched; c++)
                json_decref(candidates[c].row);
            free(candidates);
            json_decref(attachments);
            return agyn_fail(err, AGYN_UNAVAILABLE, "",
                             "cannot read image pull secret %s attached here: %s", secret_id,
                             read_err.message);
        }
        struct registry_pattern pattern;
        struct agyn_error
            ignored; /* a stored pattern always parses; one that does not matches nothing */
        if (registry_pattern_parse(row_text_or_empty(row, "registry"), "registry", &pattern, &ignored) != 0 ||
            !registry_pattern_matches(&pattern, image)) {
            json_decref(row);
            continue;
        }
        candidates[matched++] = (struct candidate){row, pattern, i};
    }
    json_decref(attachments);
    qsort(candidates, matched, sizeof *candidates, by_specificity);
    out->items = xcalloc(matched ? matched : 1, sizeof *out->items);
    out->count = matched;
    for (size_t c = 0; c < matched; c++) {
        struct pull_credential *cred = &out->items[c];
        json_t *row = candidates[c].row;
        snprintf(cred->secret_id, sizeof cred->secret_id, "%s", row_text_or_empty(row, "id"));
        snprintf(cred->name, sizeof cred->name, "%s", row_text_or_empty(row, "name"));
        snprintf(cred->source, sizeof cred->source, "%s", row_text_or_empty(row, "password_source"));
        cred->username = xstrdup(row_text_or_empty(row, "username"));
        int rc = resolve_image_pull_password(ctx, row, &cred->password, &cred->error);
        char labels[128];
        snprintf(labels, sizeof labels, "source=\"%s\",result=\"%s\"", cred->source,
                 rc == 0 ? "success" : "error");
        metrics_add("agyn_credential_resolutions_total", labels, 1);
        if (rc != 0)
            cred->password = NULL;
        json_decref(row);
    }
    free(candidates);
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
        if (rc == 0)
            rc = resolve_image_pull_password(ctx, row, &cred->password, &err);
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
        free(credentials->items[i].username);
        secure_free(credentials->items[i].password);
    }
    free(credentials->items);
    memset(credentials, 0, sizeof *credentials);
}
