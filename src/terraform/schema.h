/* schema.h — the provider's schemas (provider config and every resource type) and the
 * operations each resource type implements against the agyn API. */
#ifndef AGYN_TF_SCHEMA_H
#define AGYN_TF_SCHEMA_H

#include <stdbool.h>

#include "terraform/diag.h"
#include "terraform/tfval.h"

/* TF_STRING_LIST: list(string); TF_STRING_MAP: map(string). */
enum tf_type { TF_STRING, TF_NUMBER, TF_BOOL, TF_STRING_LIST, TF_STRING_MAP };

enum {
    A_REQUIRED = 1u << 0,
    A_OPTIONAL = 1u << 1,
    A_COMPUTED = 1u << 2,
    A_SENSITIVE = 1u << 3,
    A_WRITE_ONLY = 1u << 4,
    A_FORCE_NEW = 1u << 5, /* a change plans a replacement */
};

struct tf_attr {
    const char *name;
    enum tf_type type;
    unsigned flags;
    const char *description;
};

struct tf_block;

/* A nested block with nesting mode SINGLE (`vault { ... }`), at most one. */
struct tf_nested {
    const char *name;
    const struct tf_block *block;
};

struct tf_block {
    const struct tf_attr *attrs;    /* terminated by {NULL} */
    const struct tf_nested *blocks; /* terminated by {NULL}; may be NULL */
    const char *description;
};

/* Context of one resource operation. */
struct tf_op {
    struct diags *diags;
    const struct tf_resource *res;
    bool write_only_allowed; /* the client announced write_only_attributes_allowed */
};

struct tf_resource {
    const char *type_name;
    const struct tf_block *schema;
    const char *collection; /* API collection under the organization ("agents"), NULL for orgs */
    const char *noun;       /* "agent" */
    const void *impl;       /* resource-specific description used by its operations */
    /* Plan-time checks on config (values may be unknown). */
    void (*validate)(struct tf_op *op, const struct tfv *config);
    /* state starts as a copy of planned; fill computed values. Return 0 or -1 (diags set). */
    int (*create)(struct tf_op *op, const struct tfv *config, struct tfv *state);
    /* Refresh state in place; *gone when the object no longer exists. */
    int (*read)(struct tf_op *op, struct tfv *state, bool *gone);
    int (*update)(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                  struct tfv *state);
    int (*remove)(struct tf_op *op, const struct tfv *prior);
};

extern const struct tf_block PROVIDER_SCHEMA;
extern const struct tf_resource *const TF_RESOURCES[]; /* NULL-terminated */

const struct tf_resource *tf_resource_find(const char *type_name);
const struct tf_attr *tf_block_attr(const struct tf_block *b, const char *name);
const struct tf_nested *tf_block_nested(const struct tf_block *b, const char *name);

/* A copy of v shaped to the block: every attribute and nested block present (null when
 * missing), unknown keys dropped. v may be NULL/null: returns an object of nulls. */
struct tfv *tf_conform(const struct tf_block *b, const struct tfv *v);

/* Turns an API error field ("registry", "config.address") into an attribute path of the
 * resource, or NULL when it names none. Returned string is static or in the arena. */
const char *tf_field_to_path(struct arena *a, const struct tf_resource *res,
                             const struct tfv *state, const char *field);

#endif
