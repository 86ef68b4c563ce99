/* pull_selection.c — matching and ordering a resource's attached image pull secrets for an
 * image (the rule in pull_selection.h). */
#include "credentials/pull_selection.h"

#include <stdlib.h>
#include <string.h>

#include "core/registry_pattern.h"
#include "core/row.h"
#include "core/xalloc.h"
#include "store/tables.h"

struct ranked {
    struct registry_pattern pattern;
    size_t index; /* attachment order */
};

static int more_specific_first(const void *a, const void *b) {
    const struct ranked *x = a, *y = b;
    int c = registry_pattern_compare_specificity(&x->pattern, &y->pattern);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

size_t pull_selection_rank(const char *const *registries, size_t count,
                           const struct image_ref *image, size_t *try_order) {
    for (size_t i = 0; i < count; i++)
        try_order[i] = 0;
    if (!image || count == 0)
        return 0;
    struct ranked *applying = xmalloc(count * sizeof *applying);
    size_t matched = 0;
    for (size_t i = 0; i < count; i++) {
        struct agyn_error ignored = {0};
        struct ranked *r = &applying[matched];
        if (registries[i] &&
            registry_pattern_parse(registries[i], "registry", &r->pattern, &ignored) == 0 &&
            registry_pattern_matches(&r->pattern, image)) {
            r->index = i;
            matched++;
        }
    }
    qsort(applying, matched, sizeof *applying, more_specific_first);
    for (size_t position = 0; position < matched; position++)
        try_order[applying[position].index] = position + 1;
    free(applying);
    return matched;
}

/* Reads the secret of every attachment, keeping attachment order. A secret that cannot be read
 * (other than gone) fails the load as AGYN_UNAVAILABLE, so a pull is never made with fewer
 * credentials than attached: the runner retries later. */
static int load_secrets(struct store *store, const char *organization_id, json_t *attachments,
                        struct pull_selection *out, struct agyn_error *err) {
    size_t total = json_array_size(attachments);
    out->entries = xcalloc(total ? total : 1, sizeof *out->entries);
    size_t i;
    json_t *attachment;
    json_array_foreach(attachments, i, attachment) {
        json_t *secret = NULL;
        const char *secret_id = row_text_or_empty(attachment, "image_pull_secret_id");
        struct agyn_error read_err = {0};
        if (store_get(store, &TABLE_IMAGE_PULL_SECRETS, organization_id, secret_id, &secret,
                      &read_err) != 0) {
            if (read_err.code == AGYN_NOT_FOUND)
                continue; /* deleted since the list was read: as if never attached */
            return agyn_fail(err, AGYN_UNAVAILABLE, "",
                             "cannot read image pull secret %s attached here: %s", secret_id,
                             read_err.message);
        }
        out->entries[out->count++] =
            (struct pull_selection_entry){json_incref(attachment), secret, 0};
    }
    return 0;
}

int pull_selection_load(struct store *store, const char *organization_id, const char *target_column,
                        const char *target_id, const struct image_ref *image,
                        struct pull_selection *out, struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    struct store_filter filter = {target_column, target_id};
    struct store_query query = {
        .organization_id = organization_id, .filters = &filter, .filter_count = 1};
    json_t *attachments = NULL;
    int64_t next = 0;
    if (store_list(store, &TABLE_ATTACHMENTS, &query, &attachments, &next, err) != 0)
        return -1;
    int rc = load_secrets(store, organization_id, attachments, out, err);
    json_decref(attachments);
    if (rc != 0) {
        pull_selection_free(out);
        return -1;
    }
    const char **registries = xcalloc(out->count ? out->count : 1, sizeof *registries);
    size_t *order = xcalloc(out->count ? out->count : 1, sizeof *order);
    for (size_t e = 0; e < out->count; e++)
        registries[e] = row_text_or_empty(out->entries[e].secret, "registry");
    out->matched = pull_selection_rank(registries, out->count, image, order);
    for (size_t e = 0; e < out->count; e++)
        out->entries[e].try_order = order[e];
    free(registries);
    free(order);
    return 0;
}

const struct pull_selection_entry *pull_selection_at(const struct pull_selection *selection,
                                                     size_t position) {
    for (size_t e = 0; position > 0 && e < selection->count; e++) {
        if (selection->entries[e].try_order == position)
            return &selection->entries[e];
    }
    return NULL;
}

void pull_selection_free(struct pull_selection *selection) {
    for (size_t e = 0; e < selection->count; e++) {
        json_decref(selection->entries[e].attachment);
        json_decref(selection->entries[e].secret);
    }
    free(selection->entries);
    memset(selection, 0, sizeof *selection);
}
