/* pull_selection.h — the one rule deciding which of a resource's attached image pull secrets a
 * pull of an image may use, and in which order (docs/semantics.md, rule 2): a secret applies
 * when its registry pattern matches the image (core/registry_pattern); those that apply are
 * tried more specific first (fewer '*' host labels, then more path segments), then in
 * attachment order. The runner pulls in this order (credentials/pull_credentials) and the API
 * shows it (GET .../{agents|mcps|hooks}/{id}/image-pull-secrets: matches_image, try_order). */
#ifndef AGYN_CREDENTIALS_PULL_SELECTION_H
#define AGYN_CREDENTIALS_PULL_SELECTION_H

#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "core/image_ref.h"
#include "store/store.h"

/* registries[i] is the i-th attached secret's registry, in attachment order. Sets
 * try_order[i] to the 1-based position in which a pull of image tries it, or 0 when it does
 * not apply (no match, a pattern that does not parse, or no image). Returns how many apply. */
size_t pull_selection_rank(const char *const *registries, size_t count,
                           const struct image_ref *image, size_t *try_order);

struct pull_selection_entry {
    json_t *attachment; /* the attachment row */
    json_t *secret;     /* the image pull secret's row (sealed columns included) */
    size_t try_order;   /* 1-based position in the pull's order; 0: does not apply */
};

struct pull_selection {
    struct pull_selection_entry *entries; /* in attachment order */
    size_t count;
    size_t matched; /* entries with a try_order */
};

/* Loads the image pull secrets attached to one resource (target_column "agent_id", "mcp_id"
 * or "hook_id") of organization_id, in attachment order, and ranks them for image (NULL: none
 * applies). A store failure fails the call (AGYN_UNAVAILABLE for an attached secret's row:
 * retry later, never pull with fewer credentials than attached); an attachment whose secret is
 * gone by the time it is read (deleted in between) is left out. */
int pull_selection_load(struct store *store, const char *organization_id, const char *target_column,
                        const char *target_id, const struct image_ref *image,
                        struct pull_selection *out, struct agyn_error *err);
/* The entry tried at position (1-based), or NULL when fewer apply. */
const struct pull_selection_entry *pull_selection_at(const struct pull_selection *selection,
                                                     size_t position);
void pull_selection_free(struct pull_selection *selection);

#endif
