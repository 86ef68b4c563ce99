/* resources.c — every resource type of the agyn provider: its schema, plan-time validation,
 * and create / read / update / delete against the agyn HTTP API.
 *
 * Conventions (shared by every resource):
 *  - `id` is computed and kept across updates; import takes the bare id or "<org>/<id>".
 *  - Values the API never returns (passwords, tokens, inline secret values) stay in state as
 *    configured, so a refresh shows no drift; a changed value is an in-place update (PATCH).
 *  - Optional strings the API stores as "" read back as null when state has null.
 *  - An API error becomes an error diagnostic with the API's message, on the attribute the
 *    API's error.field names when there is one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/field_rules.h"
#include "core/row.h"
#include "core/xalloc.h"
#include "core/names.h"
#include "core/password_source_rule.h"
#include "core/registry_pattern.h"
#include "terraform/api.h"
#include "terraform/schema.h"

#define ORG_BASE "/api/v1/organizations"

/* ------------------------------------------------------------------------------------------
 * Schemas */

#define ID_ATTR                                                                                    \
    { "id", TF_STRING, A_COMPUTED, "The object's id (UUID), assigned by agyn." }
#define ORG_ATTR_REQUIRED                                                                          \
    {                                                                                              \
        "organization_id", TF_STRING, A_REQUIRED | A_FORCE_NEW,                                    \
            "Id of the organization that owns the object. Changing it replaces the object."        \
    }
#define ORG_ATTR_OPTIONAL                                                                          \
    {                                                                                              \
        "organization_id", TF_STRING, A_OPTIONAL | A_COMPUTED | A_FORCE_NEW,                       \
            "Id of the organization; found from the parent object when omitted. Changing it "      \
            "replaces the object."                                                                 \
    }
#define DESCRIPTION_ATTR                                                                           \
    { "description", TF_STRING, A_OPTIONAL, "Free-text description." }

static const struct tf_attr PROVIDER_ATTRS[] = {
    {"api_url", TF_STRING, A_OPTIONAL,
     "Base URL of the agyn server, e.g. http://127.0.0.1:8080. Defaults to the AGYN_API_URL "
     "environment variable."},
    {"api_token", TF_STRING, A_OPTIONAL | A_SENSITIVE,
     "API token sent as a bearer token. Defaults to the AGYN_TOKEN (else AGYN_API_TOKEN) "
     "environment variable, as the CLI. "
     "Creating organizations needs the server-admin token; other resources need a token of "
     "their organization (owner role for most writes)."},
    {NULL, 0, 0, NULL},
};
const struct tf_block PROVIDER_SCHEMA = {PROVIDER_ATTRS, NULL,
                                         "The agyn provider manages agyn organizations, "
                                         "credentials and image pull secrets."};

static const struct tf_attr ORGANIZATION_ATTRS[] = {
    ID_ATTR,
    {"name", TF_STRING, A_REQUIRED, "Organization name (1..128 characters)."},
    {"force_destroy", TF_BOOL, A_OPTIONAL,
     "Destroy the organization even while it holds objects this configuration does not manage "
     "(they are deleted with it). Default false: such a destroy fails, naming them."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block ORGANIZATION_SCHEMA = {
    ORGANIZATION_ATTRS, NULL, "An agyn organization. Creating one needs the server-admin token."};

static const struct tf_attr VAULT_ATTRS[] = {
    {"address", TF_STRING, A_REQUIRED, "Vault base URL, e.g. https://vault.example.com:8200."},
    {"token", TF_STRING, A_OPTIONAL | A_SENSITIVE,
     "Vault token (never returned by the API). Exactly one of token or token_wo."},
    {"token_wo", TF_STRING, A_OPTIONAL | A_WRITE_ONLY,
     "Write-only Vault token (Terraform 1.11 or later): sent to agyn, never stored in plan or "
     "state. Change token_wo_version to send a new one."},
    {"token_wo_version", TF_NUMBER, A_OPTIONAL, "Any number; changing it sends token_wo again."},
    {"namespace", TF_STRING, A_OPTIONAL, "Vault Enterprise namespace."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block VAULT_BLOCK = {VAULT_ATTRS, NULL,
                                            "Settings of a HashiCorp Vault (KV v2) provider."};

static const struct tf_attr AWS_ATTRS[] = {
    {"region", TF_STRING, A_REQUIRED, "AWS region, e.g. us-east-1."},
    {"access_key_id", TF_STRING, A_REQUIRED, "AWS access key id."},
    {"secret_access_key", TF_STRING, A_OPTIONAL | A_SENSITIVE,
     "AWS secret access key (never returned by the API). Exactly one of secret_access_key or "
     "secret_access_key_wo."},
    {"secret_access_key_wo", TF_STRING, A_OPTIONAL | A_WRITE_ONLY,
     "Write-only AWS secret access key (Terraform 1.11 or later): sent to agyn, never stored "
     "in plan or state. Change secret_access_key_wo_version to send a new one."},
    {"secret_access_key_wo_version", TF_NUMBER, A_OPTIONAL,
     "Any number; changing it sends secret_access_key_wo again."},
    /* Write-only alone: a second sensitive attribute in the block would make Terraform's
     * sensitive_attributes order, and so refresh-only -detailed-exitcode, vary run to run. */
    {"session_token_wo", TF_STRING, A_OPTIONAL | A_WRITE_ONLY,
     "Write-only AWS session token (Terraform 1.11 or later), optional: sent to agyn, never "
     "stored in plan or state. Change session_token_wo_version to send a new one."},
    {"session_token_wo_version", TF_NUMBER, A_OPTIONAL,
     "Any number; changing it sends session_token_wo again."},
    {"endpoint_url", TF_STRING, A_OPTIONAL,
     "Alternative Secrets Manager endpoint (e.g. a local emulator)."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block AWS_BLOCK = {AWS_ATTRS, NULL,
                                          "Settings of an AWS Secrets Manager provider."};

static const struct tf_attr SECRET_PROVIDER_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_REQUIRED,
    {"name", TF_STRING, A_REQUIRED, "Provider name, unique in the organization."},
    {"type", TF_STRING, A_REQUIRED | A_FORCE_NEW,
     "\"vault\" or \"aws-secrets-manager\". Changing it replaces the provider."},
    {NULL, 0, 0, NULL},
};
static const struct tf_nested SECRET_PROVIDER_BLOCKS[] = {
    {"vault", &VAULT_BLOCK},
    {"aws_secrets_manager", &AWS_BLOCK},
    {NULL, NULL},
};
static const struct tf_block SECRET_PROVIDER_SCHEMA = {
    SECRET_PROVIDER_ATTRS, SECRET_PROVIDER_BLOCKS,
    "A secret provider (Vault or AWS Secrets Manager) that remote secrets and image pull "
    "secret passwords are read from. Give the block matching type."};

static const struct tf_attr SECRET_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_REQUIRED,
    {"name", TF_STRING, A_REQUIRED, "Secret name, unique in the organization."},
    DESCRIPTION_ATTR,
    {"value", TF_STRING, A_OPTIONAL | A_SENSITIVE,
     "Inline value, stored encrypted (never returned by the API). Exactly one of value, "
     "value_wo, or provider_id with remote_path."},
    {"value_wo", TF_STRING, A_OPTIONAL | A_WRITE_ONLY,
     "Write-only inline value (Terraform 1.11 or later): sent to agyn but never stored in plan "
     "or state. Change value_wo_version to send a new one."},
    {"value_wo_version", TF_NUMBER, A_OPTIONAL, "Any number; changing it sends value_wo again."},
    {"provider_id", TF_STRING, A_OPTIONAL, "Secret provider holding the value."},
    {"remote_path", TF_STRING, A_OPTIONAL,
     "Path of the value at the provider (Vault: <mount>/<path>/<key>)."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block SECRET_SCHEMA = {SECRET_ATTRS, NULL,
                                              "A named secret value, inline or remote."};

static const struct tf_attr AGENT_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_REQUIRED,
    {"name", TF_STRING, A_REQUIRED, "Agent name, unique in the organization."},
    {"image", TF_STRING, A_REQUIRED, "Container image of the agent's main container."},
    DESCRIPTION_ATTR,
    {"command", TF_STRING_LIST, A_OPTIONAL, "Entrypoint of the container; unset: the image's own."},
    {"args", TF_STRING_LIST, A_OPTIONAL,
     "Arguments (the image's command); unset: the image's own."},
    {"env", TF_STRING_MAP, A_OPTIONAL,
     "Plain environment variables (shown to every member: never secrets)."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block AGENT_SCHEMA = {AGENT_ATTRS, NULL, "An agent."};

static const struct tf_attr MCP_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_OPTIONAL,
    {"agent_id", TF_STRING, A_REQUIRED | A_FORCE_NEW,
     "Agent the MCP server belongs to. Changing it replaces the MCP server."},
    {"name", TF_STRING, A_REQUIRED, "MCP server name, unique per agent."},
    {"image", TF_STRING, A_REQUIRED, "Container image of the MCP server."},
    DESCRIPTION_ATTR,
    {"command", TF_STRING_LIST, A_OPTIONAL, "Entrypoint of the container; unset: the image's own."},
    {"args", TF_STRING_LIST, A_OPTIONAL,
     "Arguments (the image's command); unset: the image's own."},
    {"env", TF_STRING_MAP, A_OPTIONAL,
     "Plain environment variables (shown to every member: never secrets)."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block MCP_SCHEMA = {MCP_ATTRS, NULL, "An MCP server of an agent."};

static const struct tf_attr HOOK_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_OPTIONAL,
    {"agent_id", TF_STRING, A_REQUIRED | A_FORCE_NEW,
     "Agent the hook belongs to. Changing it replaces the hook."},
    {"event", TF_STRING, A_REQUIRED,
     "Event that runs the hook, e.g. agent.started (a-z, 0-9, '_', '.', '-', ':')."},
    {"image", TF_STRING, A_REQUIRED, "Container image of the hook."},
    DESCRIPTION_ATTR,
    {"command", TF_STRING_LIST, A_OPTIONAL, "Entrypoint of the container; unset: the image's own."},
    {"args", TF_STRING_LIST, A_OPTIONAL,
     "Arguments (the image's command); unset: the image's own."},
    {"env", TF_STRING_MAP, A_OPTIONAL,
     "Plain environment variables (shown to every member: never secrets)."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block HOOK_SCHEMA = {HOOK_ATTRS, NULL, "A hook of an agent."};

static const struct tf_attr IPS_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_REQUIRED,
    {"name", TF_STRING, A_REQUIRED, "Display name, unique in the organization."},
    {"registry", TF_STRING, A_REQUIRED,
     "Registry host (and optional repository prefix) the credential applies to, e.g. "
     "ghcr.io, registry.local:5000/team, *.dkr.ecr.us-west-2.amazonaws.com. The API stores "
     "it normalized (lower case, scheme and /v1/ or /v2/ removed); state keeps the value "
     "as written while the normalized forms agree."},
    {"username", TF_STRING, A_OPTIONAL,
     "Registry username; required, except with password_source \"ecr\" or \"plugin\" "
     "where it must not be set (the token or plugin gives it)."},
    DESCRIPTION_ATTR,
    {"password", TF_STRING, A_OPTIONAL | A_SENSITIVE,
     "Inline password, stored encrypted; never returned by the API (state keeps the "
     "configured value). Exactly one of password, password_wo, password_secret_id, "
     "provider_id with remote_path, or password_source."},
    {"password_source", TF_STRING, A_OPTIONAL,
     "\"ecr\": the password is an Amazon ECR token fetched at each workload start through "
     "provider_id (an aws-secrets-manager agyn_secret_provider), cached until 10 minutes "
     "before it expires. \"plugin\": username and password come from the kubelet "
     "credential-provider plugin named by plugin. Leave unset for the other sources."},
    {"plugin", TF_STRING, A_OPTIONAL,
     "Name of a credential-provider plugin the operator configured (with password_source "
     "\"plugin\")."},
    {"password_wo", TF_STRING, A_OPTIONAL | A_WRITE_ONLY,
     "Write-only inline password (Terraform 1.11 or later): sent to agyn but never stored "
     "in plan or state. Change password_wo_version to send a new one."},
    {"password_wo_version", TF_NUMBER, A_OPTIONAL,
     "Any number; changing it sends password_wo again."},
    {"password_secret_id", TF_STRING, A_OPTIONAL, "Id of an agyn_secret holding the password."},
    {"provider_id", TF_STRING, A_OPTIONAL,
     "Id of an agyn_secret_provider holding the password (with remote_path)."},
    {"remote_path", TF_STRING, A_OPTIONAL,
     "Path of the password at the provider (Vault: <mount>/<path>/<key>)."},
    {"password_updated_at", TF_STRING, A_COMPUTED | A_UNKNOWN_ON_UPDATE,
     "When the password (or its source) was last set. A change made outside Terraform (a "
     "rotation through the API, CLI or Console) is drift: the next plan sends the configured "
     "password (or password_wo) again."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block IPS_SCHEMA = {
    IPS_ATTRS, NULL,
    "Registry credentials the runner uses to pull the images of agents, MCP servers and "
    "hooks they are attached to."};

static const struct tf_attr ATTACHMENT_ATTRS[] = {
    ID_ATTR,
    ORG_ATTR_OPTIONAL,
    {"image_pull_secret_id", TF_STRING, A_REQUIRED | A_FORCE_NEW,
     "The image pull secret to attach."},
    {"agent_id", TF_STRING, A_OPTIONAL | A_FORCE_NEW,
     "Attach to this agent. Exactly one of agent_id, mcp_id, hook_id."},
    {"mcp_id", TF_STRING, A_OPTIONAL | A_FORCE_NEW, "Attach to this MCP server."},
    {"hook_id", TF_STRING, A_OPTIONAL | A_FORCE_NEW, "Attach to this hook."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block ATTACHMENT_SCHEMA = {
    ATTACHMENT_ATTRS, NULL,
    "Attaches an image pull secret to an agent, an MCP server or a hook. Attachments are "
    "immutable: every change replaces them."};

/* ------------------------------------------------------------------------------------------
 * Schema helpers */

const struct tf_attr *tf_block_attr(const struct tf_block *b, const char *name) {
    for (const struct tf_attr *a = b->attrs; a && a->name; a++)
        if (strcmp(a->name, name) == 0)
            return a;
    return NULL;
}

const struct tf_nested *tf_block_nested(const struct tf_block *b, const char *name) {
    for (const struct tf_nested *n = b->blocks; n && n->name; n++)
        if (strcmp(n->name, name) == 0)
            return n;
    return NULL;
}

struct tfv *tf_conform(const struct tf_block *b, const struct tfv *v) {
    struct tfv *out = tfv_object();
    for (const struct tf_attr *a = b->attrs; a->name; a++) {
        const struct tfv *item = tfv_get(v, a->name);
        tfv_set(out, a->name, tfv_copy(item));
    }
    for (const struct tf_nested *n = b->blocks; n && n->name; n++) {
        const struct tfv *item = tfv_get(v, n->name);
        if (item && item->kind == TFV_OBJECT)
            tfv_set(out, n->name, tf_conform(n->block, item));
        else if (item && item->kind == TFV_UNKNOWN)
            tfv_set(out, n->name, tfv_unknown());
        else
            tfv_set(out, n->name, tfv_null());
    }
    return out;
}

/* ------------------------------------------------------------------------------------------
 * Shared operation helpers */

static const char *block_for_type(const char *type) {
    if (!type)
        return NULL;
    if (strcmp(type, "vault") == 0)
        return "vault";
    if (strcmp(type, "aws-secrets-manager") == 0)
        return "aws_secrets_manager";
    return NULL;
}

const char *tf_field_to_path(struct arena *a, const struct tf_resource *res,
                             const struct tfv *state, const char *field) {
    if (!field || !*field)
        return NULL;
    if (strncmp(field, "config.", 7) == 0 && res->schema == &SECRET_PROVIDER_SCHEMA) {
        const char *block = block_for_type(tfv_str(state, "type"));
        const struct tf_nested *n = block ? tf_block_nested(res->schema, block) : NULL;
        if (n && tf_block_attr(n->block, field + 7))
            return arena_printf(a, "%s.%s", block, field + 7);
        return block;
    }
    if (strcmp(field, "config") == 0 && res->schema == &SECRET_PROVIDER_SCHEMA)
        return block_for_type(tfv_str(state, "type"));
    if (strcmp(field, "password") == 0 && res->schema == &IPS_SCHEMA &&
        tfv_is_null(tfv_get(state, "password")))
        return tfv_is_null(tfv_get(state, "password_wo")) ? "password" : "password_wo";
    if (tf_block_attr(res->schema, field))
        return arena_strdup(a, field);
    return NULL;
}

static void api_error(struct tf_op *op, const char *action, const struct api_result *r,
                      const struct tfv *state) {
    char summary[200];
    snprintf(summary, sizeof summary, "Unable to %s %s", action, op->res->type_name);
    if (r->status == 0) {
        diag_error(op->diags, NULL, summary, "%s", r->message);
        return;
    }
    /* A 422 that lists every field error (error.errors): one diagnostic on each attribute. */
    const json_t *errors = json_object_get(json_object_get(r->body, "error"), "errors");
    if (json_array_size(errors) > 1) {
        size_t i;
        const json_t *entry;
        json_array_foreach(errors, i, entry) {
            const char *field = row_text(entry, "field");
            const char *message = row_text(entry, "message");
            const char *at =
                field ? tf_field_to_path(op->diags->arena, op->res, state, field) : NULL;
            diag_error(op->diags, at, summary, "%s (agyn API: HTTP %ld, %s, field %s)",
                       message ? message : "invalid", r->status, r->code, field ? field : "");
        }
        return;
    }
    const char *path = tf_field_to_path(op->diags->arena, op->res, state, r->field);
    diag_error(op->diags, path, summary, "%s (agyn API: HTTP %ld%s%s%s%s)", r->message, r->status,
               r->code[0] ? ", " : "", r->code, r->field[0] ? ", field " : "", r->field);
}

static bool valid_id(const char *id) {
    return id && uuid_is_valid(id);
}

/* The organization of an org-scoped object: state's organization_id, else found through
 * the parent (lookup_attr in lookup_collection), else through the object itself. */
static int object_org(struct tf_op *op, const struct tfv *state, const char *lookup_attr,
                      const char *lookup_collection, char org[64]) {
    const char *given = tfv_str(state, "organization_id");
    if (given) {
        if (!valid_id(given)) {
            diag_error(op->diags, "organization_id", "Invalid organization_id",
                       "organization_id must be a UUID, got \"%s\".", given);
            return -1;
        }
        snprintf(org, 64, "%s", given);
        return 0;
    }
    const char *collection = lookup_attr ? lookup_collection : op->res->collection;
    const char *id = tfv_str(state, lookup_attr ? lookup_attr : "id");
    if (!valid_id(id)) {
        diag_error(op->diags, lookup_attr, "Cannot determine the organization",
                   "%s must be a UUID to find its organization.", lookup_attr ? lookup_attr : "id");
        return -1;
    }
    struct api_result r;
    int rc = api_find_org(collection, id, org, &r);
    if (rc == 0)
        return 0;
    if (rc > 0)
        diag_error(op->diags, lookup_attr, "Cannot determine the organization",
                   "No organization visible to the API token holds %s %s; set organization_id.",
                   collection, id);
    else
        api_error(op, "look up the organization of", &r, state);
    api_result_free(&r);
    return -1;
}

static char *object_path(const char *org, const char *collection, const char *id) {
    char *path = id ? xasprintf(ORG_BASE "/%s/%s/%s", org, collection, id)
                    : xasprintf(ORG_BASE "/%s/%s", org, collection);
    return path;
}

/* Sets state[attr] from the API's string field (null when missing). */
static void read_string(struct tfv *state, const char *attr, json_t *api, const char *field) {
    json_t *v = json_object_get(api, field ? field : attr);
    tfv_set_str(state, attr, json_is_string(v) ? json_string_value(v) : NULL);
}

/* Optional string: the API stores an absent value as ""; keep state's null or "" then. */
static void read_optional(struct tfv *state, const char *attr, json_t *api) {
    json_t *v = json_object_get(api, attr);
    const char *value = json_is_string(v) ? json_string_value(v) : NULL;
    if (!value || !*value) {
        const char *current = tfv_str(state, attr);
        tfv_set_str(state, attr, current && !*current ? "" : NULL);
        return;
    }
    tfv_set_str(state, attr, value);
}

/* Puts state[attr] into body[field] when it is a known string. */
static void put_string(json_t *body, const char *field, const struct tfv *state, const char *attr) {
    const char *v = tfv_str(state, attr ? attr : field);
    if (v)
        json_object_set_new(body, field, json_string(v));
}

/* Optional text on update: null clears it (""). */
static void put_optional(json_t *body, const char *field, const struct tfv *state, bool create) {
    const char *v = tfv_str(state, field);
    if (v || !create)
        json_object_set_new(body, field, json_string(v ? v : ""));
}

static int do_delete(struct tf_op *op, const char *path, const struct tfv *prior) {
    struct api_result r;
    if (api_call("DELETE", path, NULL, &r) != 0 || (!api_ok(&r) && r.status != 404)) {
        api_error(op, "delete", &r, prior);
        api_result_free(&r);
        return -1;
    }
    api_result_free(&r);
    return 0;
}

/* GET path; 0 with *out on success, 1 when gone (404), -1 on error. */
static int do_get(struct tf_op *op, const char *path, const struct tfv *state, json_t **out) {
    struct api_result r;
    if (api_call("GET", path, NULL, &r) != 0) {
        api_error(op, "read", &r, state);
        return -1;
    }
    if (r.status == 404) {
        api_result_free(&r);
        return 1;
    }
    if (!api_ok(&r) || !json_is_object(r.body)) {
        api_error(op, "read", &r, state);
        api_result_free(&r);
        return -1;
    }
    *out = json_incref(r.body);
    api_result_free(&r);
    return 0;
}

/* POST or PATCH body; on success *out is the response object. */
static int do_write(struct tf_op *op, const char *method, const char *path, json_t *body,
                    const struct tfv *state, json_t **out) {
    struct api_result r;
    const char *action = strcmp(method, "POST") == 0 ? "create" : "update";
    int rc = api_call(method, path, body, &r);
    if (rc != 0 || !api_ok(&r) || !json_is_object(r.body)) {
        if (rc == 0 && api_ok(&r))
            snprintf(r.message, sizeof r.message, "the API answered without a JSON object");
        api_error(op, action, &r, state);
        api_result_free(&r);
        return -1;
    }
    *out = json_incref(r.body);
    api_result_free(&r);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Validation helpers (config values may be unknown: unknown counts as "given" for conflicts
 * and never as missing) */

static const char *known_str(const struct tfv *config, const char *attr) {
    return tfv_str(config, attr);
}

static void check_with(struct tf_op *op, const char *attr, const char *what,
                       int (*fn)(const char *, const char *, struct agyn_error *),
                       const char *value) {
    struct agyn_error err = {0};
    if (value && fn(value, attr, &err) != 0)
        diag_error(op->diags, attr, what, "%s", err.message);
}

static int name_check(const char *value, const char *field, struct agyn_error *err) {
    return name_validate(value, field, err);
}

static int image_check(const char *value, const char *field, struct agyn_error *err) {
    return validate_image(value, field, err);
}

static int event_check(const char *value, const char *field, struct agyn_error *err) {
    (void)field;
    return validate_hook_event(value, err);
}

static int description_check(const char *value, const char *field, struct agyn_error *err) {
    (void)field;
    return validate_description(value, err);
}

static int registry_check(const char *value, const char *field, struct agyn_error *err) {
    struct registry_pattern pattern;
    return registry_pattern_parse(value, field, &pattern, err);
}

static int uuid_check(const char *value, const char *field, struct agyn_error *err) {
    if (uuid_is_valid(value))
        return 0;
    return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be a UUID (got \"%.80s\")", field,
                     value);
}

static void check_uuids(struct tf_op *op, const struct tfv *config, const char *const *attrs) {
    for (size_t i = 0; attrs[i]; i++)
        check_with(op, attrs[i], "Invalid id", uuid_check, known_str(config, attrs[i]));
}

/* given: set or unknown (a reference to an object not created yet). */
static bool given(const struct tfv *config, const char *attr) {
    const struct tfv *v = tfv_get(config, attr);
    return v && v->kind != TFV_NULL;
}

struct choice {
    const char *attrs[3]; /* the attributes that make up this choice */
    const char *label;    /* "provider_id with remote_path" */
};

/* Exactly one of the choices. Reports the second given choice on its attribute; "none" only
 * when every attribute is known to be null. */
static void exactly_one(struct tf_op *op, const struct tfv *config, const struct choice *choices,
                        size_t n, const char *summary) {
    char list[256] = "";
    for (size_t i = 0; i < n; i++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s",
                 i == 0       ? ""
                 : i + 1 == n ? ", or "
                              : ", ",
                 choices[i].label);
    }
    const struct choice *first = NULL;
    const char *first_attr = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *attr = NULL;
        for (size_t k = 0; k < 3 && choices[i].attrs[k]; k++)
            if (given(config, choices[i].attrs[k])) {
                attr = choices[i].attrs[k];
                break;
            }
        if (!attr)
            continue;
        if (!first) {
            first = &choices[i];
            first_attr = attr;
            continue;
        }
        diag_error(op->diags, attr, summary,
                   "Only one of %s may be set, but both %s and %s are set.", list, first_attr,
                   attr);
        return;
    }
    if (!first)
        diag_error(op->diags, choices[0].attrs[0], summary, "One of %s must be set.", list);
}

/* ------------------------------------------------------------------------------------------
 * agyn_organization */

static void organization_validate(struct tf_op *op, const struct tfv *config) {
    check_with(op, "name", "Invalid name", name_check, known_str(config, "name"));
}

static int organization_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    int rc = do_write(op, "POST", ORG_BASE, body, state, &out);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    json_decref(out);
    return 0;
}

static int organization_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char path[160];
    snprintf(path, sizeof path, ORG_BASE "/%s", id);
    json_t *org = NULL;
    int rc = do_get(op, path, state, &org);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    read_string(state, "name", org, NULL);
    json_decref(org);
    return 0;
}

static int organization_update(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                               struct tfv *state) {
    if (tfv_equal(tfv_get(prior, "name"), tfv_get(state, "name")))
        return 0; /* only force_destroy changed: it lives in the state alone */
    char path[160];
    snprintf(path, sizeof path, ORG_BASE "/%s", tfv_str(state, "id"));
    json_t *body = json_object();
    put_string(body, "name", state, NULL);
    struct api_result r;
    int rc = api_call("PATCH", path, body, &r);
    json_decref(body);
    if (rc == 0 && r.status == 405) {
        diag_error(op->diags, "name", "Unable to update agyn_organization",
                   "This agyn server does not support renaming organizations (PATCH %s answered "
                   "HTTP 405). Keep the name, or replace the organization.",
                   path);
        api_result_free(&r);
        return -1;
    }
    if (rc != 0 || !api_ok(&r)) {
        api_error(op, "update", &r, state);
        api_result_free(&r);
        return -1;
    }
    api_result_free(&r);
    return 0;
}

static int organization_remove(struct tf_op *op, const struct tfv *prior) {
    const struct tfv *force = tfv_get(prior, "force_destroy");
    bool cascade = force && force->kind == TFV_BOOL && force->b;
    char path[180];
    snprintf(path, sizeof path, ORG_BASE "/%s%s", tfv_str(prior, "id"),
             cascade ? "?cascade=true" : "");
    struct api_result r;
    int rc = api_call("DELETE", path, NULL, &r);
    if (rc == 0 && r.status == 409 && !cascade) {
        diag_error(op->diags, "force_destroy", "Organization not empty",
                   "%s\n\nThese objects are not managed by this configuration. Delete them, "
                   "import them, or set force_destroy = true (and apply) to destroy them with "
                   "the organization.",
                   r.message);
        api_result_free(&r);
        return -1;
    }
    if (rc == 0 && r.status == 405) {
        diag_warning(op->diags, NULL, "Organization not deleted",
                     "This agyn server does not support deleting organizations (DELETE %s "
                     "answered HTTP 405). Organization %s (\"%s\") was removed from the Terraform "
                     "state but still exists; the objects it contained were destroyed.",
                     path, tfv_str(prior, "id"),
                     tfv_str(prior, "name") ? tfv_str(prior, "name") : "");
        api_result_free(&r);
        return 0;
    }
    if (rc != 0 || (!api_ok(&r) && r.status != 404)) {
        api_error(op, "delete", &r, prior);
        api_result_free(&r);
        return -1;
    }
    api_result_free(&r);
    return 0;
}

/* ------------------------------------------------------------------------------------------
 * Simple org-scoped resources: agents, MCP servers, hooks (string fields, PATCH updates) */

struct simple_impl {
    const char *const *fields;    /* API fields = attribute names, required strings */
    const char *const *immutable; /* not sent on update (force replacement instead) */
    const char *lookup_attr;      /* parent for finding the organization, or NULL */
    const char *lookup_collection;
};

static const char *const AGENT_FIELDS[] = {"name", "image", NULL};
static const char *const MCP_FIELDS[] = {"agent_id", "name", "image", NULL};
static const char *const HOOK_FIELDS[] = {"agent_id", "event", "image", NULL};
static const char *const PART_IMMUTABLE[] = {"agent_id", NULL};
static const char *const NONE[] = {NULL};

static const struct simple_impl AGENT_IMPL = {AGENT_FIELDS, NONE, NULL, NULL};
static const struct simple_impl MCP_IMPL = {MCP_FIELDS, PART_IMMUTABLE, "agent_id", "agents"};
static const struct simple_impl HOOK_IMPL = {HOOK_FIELDS, PART_IMMUTABLE, "agent_id", "agents"};

/* command, args, env: state's known list or map as JSON (null when unset). Unknown items
 * cannot reach an apply, so only strings are expected; anything else is left out. */
static json_t *run_value_json(const struct tfv *v) {
    if (!v || v->kind == TFV_NULL || v->kind == TFV_UNKNOWN)
        return json_null();
    json_t *out = v->kind == TFV_LIST ? json_array() : json_object();
    for (size_t i = 0; i < v->len; i++) {
        const struct tfv *item = v->items[i];
        if (!item || item->kind != TFV_STRING)
            continue;
        if (v->kind == TFV_LIST)
            json_array_append_new(out, json_string(item->str));
        else
            json_object_set_new(out, v->keys[i], json_string(item->str));
    }
    return out;
}

static const char *const RUN_FIELDS[] = {"command", "args", "env", NULL};

/* On create only what is set is sent; on update null too (back to the image's own). */
static void put_run_spec(json_t *body, const struct tfv *state, bool create) {
    for (size_t i = 0; RUN_FIELDS[i]; i++) {
        json_t *value = run_value_json(tfv_get(state, RUN_FIELDS[i]));
        if (create && json_is_null(value))
            json_decref(value);
        else
            json_object_set_new(body, RUN_FIELDS[i], value);
    }
}

static void read_run_spec(struct tfv *state, json_t *api) {
    for (size_t i = 0; RUN_FIELDS[i]; i++) {
        json_t *value = json_object_get(api, RUN_FIELDS[i]);
        tfv_set(state, RUN_FIELDS[i],
                json_is_array(value) || json_is_object(value) ? tfv_from_json(value) : tfv_null());
    }
}

static bool in_list(const char *const *list, const char *s) {
    for (size_t i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void simple_validate(struct tf_op *op, const struct tfv *config) {
    check_with(op, "name", "Invalid name", name_check, known_str(config, "name"));
    check_with(op, "image", "Invalid image", image_check, known_str(config, "image"));
    check_with(op, "event", "Invalid event", event_check, known_str(config, "event"));
    check_with(op, "description", "Invalid description", description_check,
               known_str(config, "description"));
    static const char *const ids[] = {"organization_id", "agent_id", NULL};
    check_uuids(op, config, ids);
}

static int simple_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    const struct simple_impl *impl = op->res->impl;
    char org[64];
    if (object_org(op, state, impl->lookup_attr, impl->lookup_collection, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    for (size_t i = 0; impl->fields[i]; i++)
        put_string(body, impl->fields[i], state, NULL);
    put_optional(body, "description", state, true);
    put_run_spec(body, state, true);
    char *path = object_path(org, op->res->collection, NULL);
    int rc = do_write(op, "POST", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    tfv_set_str(state, "organization_id", org);
    json_decref(out);
    return 0;
}

static int simple_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const struct simple_impl *impl = op->res->impl;
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, op->res->collection, id);
    json_t *obj = NULL;
    int rc = do_get(op, path, state, &obj);
    free(path);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    for (size_t i = 0; impl->fields[i]; i++)
        read_string(state, impl->fields[i], obj, NULL);
    read_optional(state, "description", obj);
    read_run_spec(state, obj);
    read_string(state, "organization_id", obj, NULL);
    if (!tfv_str(state, "organization_id"))
        tfv_set_str(state, "organization_id", org);
    json_decref(obj);
    return 0;
}

static int simple_update(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                         struct tfv *state) {
    const struct simple_impl *impl = op->res->impl;
    char org[64];
    if (object_org(op, state, impl->lookup_attr, impl->lookup_collection, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    for (size_t i = 0; impl->fields[i]; i++)
        if (!in_list(impl->immutable, impl->fields[i]))
            put_string(body, impl->fields[i], state, NULL);
    put_optional(body, "description", state, false);
    put_run_spec(body, state, false);
    char *path = object_path(org, op->res->collection, tfv_str(state, "id"));
    int rc = do_write(op, "PATCH", path, body, state, &out);
    free(path);
    json_decref(body);
    json_decref(out);
    if (rc == 0 && tfv_is_unknown(tfv_get(state, "organization_id")))
        tfv_set_str(state, "organization_id", org);
    return rc;
}

static int simple_remove(struct tf_op *op, const struct tfv *prior) {
    char org[64];
    if (object_org(op, prior, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, op->res->collection, tfv_str(prior, "id"));
    int rc = do_delete(op, path, prior);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * agyn_secret_provider */

/* "token" for "token_wo", "secret_access_key" for "secret_access_key_wo_version"; NULL when
 * name is no write-only companion. */
static const char *credential_of_companion(const char *name, char out[64]) {
    size_t len = strlen(name);
    const char *suffixes[] = {"_wo_version", "_wo"};
    for (size_t i = 0; i < 2; i++) {
        size_t n = strlen(suffixes[i]);
        if (len > n && len - n < 64 && strcmp(name + len - n, suffixes[i]) == 0) {
            snprintf(out, 64, "%.*s", (int)(len - n), name);
            return out;
        }
    }
    return NULL;
}

/* In a provider block: exactly one of each credential and its write-only companion. */
static void credential_pair_validate(struct tf_op *op, const struct tf_nested *n,
                                     const struct tfv *values) {
    for (const struct tf_attr *a = n->block->attrs; a->name; a++) {
        if (!(a->flags & A_WRITE_ONLY))
            continue;
        char base[64], path[160], version[96];
        if (!credential_of_companion(a->name, base))
            continue;
        snprintf(version, sizeof version, "%s_version", a->name);
        bool plain = tfv_is_set(tfv_get(values, base)) || tfv_is_unknown(tfv_get(values, base));
        bool wo = tfv_is_set(tfv_get(values, a->name)) || tfv_is_unknown(tfv_get(values, a->name));
        /* A write-only credential without a plain twin (session_token_wo) is optional. */
        bool paired = tf_block_attr(n->block, base) != NULL;
        if (paired && plain == wo) {
            snprintf(path, sizeof path, "%s.%s", n->name, plain ? a->name : base);
            diag_error(
                op->diags, path, plain ? "Conflicting arguments" : "Missing required argument",
                "Exactly one of %s or %s is required in the %s block.", base, a->name, n->name);
        }
        if (wo && !op->write_only_allowed) {
            snprintf(path, sizeof path, "%s.%s", n->name, a->name);
            diag_error(op->diags, path, "Write-only attributes are not supported",
                       "%s is write-only and needs Terraform 1.11 or later; use %s instead.",
                       a->name, base);
        }
        if (!wo && tfv_is_set(tfv_get(values, version))) {
            snprintf(path, sizeof path, "%s.%s", n->name, version);
            diag_error(op->diags, path, "Missing required argument",
                       "%s is only meaningful with %s.", version, a->name);
        }
    }
}

static void secret_provider_validate(struct tf_op *op, const struct tfv *config) {
    check_with(op, "name", "Invalid name", name_check, known_str(config, "name"));
    static const char *const ids[] = {"organization_id", NULL};
    check_uuids(op, config, ids);
    const struct tfv *type = tfv_get(config, "type");
    if (!type || type->kind != TFV_STRING)
        return;
    const char *block = block_for_type(type->str);
    if (!block) {
        diag_error(op->diags, "type", "Invalid provider type",
                   "type must be \"vault\" or \"aws-secrets-manager\", got \"%s\".", type->str);
        return;
    }
    for (const struct tf_nested *n = SECRET_PROVIDER_BLOCKS; n->name; n++) {
        const struct tfv *v = tfv_get(config, n->name);
        bool present = v && v->kind != TFV_NULL;
        if (strcmp(n->name, block) == 0 && !present)
            diag_error(op->diags, NULL, "Missing provider settings",
                       "A %s block is required when type = \"%s\".", block, type->str);
        if (strcmp(n->name, block) != 0 && present)
            diag_error(op->diags, n->name, "Conflicting provider settings",
                       "A %s block cannot be used with type = \"%s\"; use a %s block.", n->name,
                       type->str, block);
        if (strcmp(n->name, block) == 0 && present)
            credential_pair_validate(op, n, v);
    }
}

/* The config object for the API from the block matching type; update sends null for unset
 * optional keys, credentials included (the API removes them; keys not sent would be kept). */
static json_t *provider_config(const struct tfv *state, const struct tfv *tf_config, bool create) {
    const char *block = block_for_type(tfv_str(state, "type"));
    const struct tf_nested *n = block ? tf_block_nested(&SECRET_PROVIDER_SCHEMA, block) : NULL;
    json_t *config = json_object();
    const struct tfv *values = n ? tfv_get(state, n->name) : NULL;
    const struct tfv *configured = n ? tfv_get(tf_config, n->name) : NULL;
    if (!n)
        return config;
    for (const struct tf_attr *a = n->block->attrs; a->name; a++) {
        char base[64];
        if ((a->flags & A_WRITE_ONLY) && credential_of_companion(a->name, base) &&
            !tf_block_attr(n->block, base)) { /* write-only alone: session_token_wo */
            const char *v = tfv_str(configured, a->name);
            if (v)
                json_object_set_new(config, base, json_string(v));
            else if (!create)
                json_object_set_new(config, base, json_null());
            continue;
        }
        if (credential_of_companion(a->name, base))
            continue; /* token_wo goes out as token, below; versions stay in Terraform */
        const char *v = tfv_str(values, a->name);
        if (!v) { /* a credential given write-only: from the configuration, never state */
            char wo[96];
            snprintf(wo, sizeof wo, "%s_wo", a->name);
            if (tf_block_attr(n->block, wo))
                v = tfv_str(configured, wo);
        }
        if (v)
            json_object_set_new(config, a->name, json_string(v));
        else if (!create && !(a->flags & A_REQUIRED))
            json_object_set_new(config, a->name, json_null());
    }
    return config;
}

static int secret_provider_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    put_string(body, "type", state, NULL);
    json_object_set_new(body, "config", provider_config(state, config, true));
    char *path = object_path(org, "secret-providers", NULL);
    int rc = do_write(op, "POST", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    json_decref(out);
    return 0;
}

static int secret_provider_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, "secret-providers", id);
    json_t *obj = NULL;
    int rc = do_get(op, path, state, &obj);
    free(path);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    read_string(state, "name", obj, NULL);
    read_string(state, "type", obj, NULL);
    read_string(state, "organization_id", obj, NULL);
    const char *block = block_for_type(tfv_str(state, "type"));
    json_t *api_config = json_object_get(obj, "config");
    for (const struct tf_nested *n = SECRET_PROVIDER_BLOCKS; n->name; n++) {
        if (!block || strcmp(n->name, block) != 0) {
            tfv_set(state, n->name, tfv_null());
            continue;
        }
        const struct tfv *prior_block = tfv_get(state, n->name);
        struct tfv *values = tfv_object();
        for (const struct tf_attr *a = n->block->attrs; a->name; a++) {
            char base[64];
            if ((a->flags & A_SENSITIVE) || credential_of_companion(a->name, base)) {
                /* Credentials are never returned: keep what state has (write-only ones are
                 * nulled by the caller); their versions live in Terraform alone. */
                tfv_set(values, a->name, tfv_copy(tfv_get(prior_block, a->name)));
                continue;
            }
            json_t *v = json_object_get(api_config, a->name);
            tfv_set_str(values, a->name, json_is_string(v) ? json_string_value(v) : NULL);
        }
        tfv_set(state, n->name, values);
    }
    json_decref(obj);
    return 0;
}

static int secret_provider_update(struct tf_op *op, const struct tfv *prior,
                                  const struct tfv *config, struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    json_object_set_new(body, "config", provider_config(state, config, false));
    char *path = object_path(org, "secret-providers", tfv_str(state, "id"));
    int rc = do_write(op, "PATCH", path, body, state, &out);
    free(path);
    json_decref(body);
    json_decref(out);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * Password / value sources shared by agyn_secret and agyn_image_pull_secret */

struct source_impl {
    const char *inline_attr; /* "password" or "value" */
    const char *wo_attr;     /* "password_wo" or NULL */
    const char *wo_version;  /* "password_wo_version" or NULL */
    const char *secret_attr; /* "password_secret_id" or NULL */
    const char *collection;  /* "image-pull-secrets" */
};

static const struct source_impl IPS_SOURCE = {"password", "password_wo", "password_wo_version",
                                              "password_secret_id", "image-pull-secrets"};
static const struct source_impl SECRET_SOURCE = {"value", "value_wo", "value_wo_version", NULL,
                                                 "secrets"};

static void source_validate(struct tf_op *op, const struct source_impl *s,
                            const struct tfv *config) {
    struct password_source_option options[4];
    size_t n = 0;
    options[n++] = (struct password_source_option){PASSWORD_SOURCE_INLINE, s->inline_attr, NULL,
                                                   given(config, s->inline_attr), false};
    if (s->wo_attr)
        options[n++] = (struct password_source_option){PASSWORD_SOURCE_INLINE, s->wo_attr, NULL,
                                                       given(config, s->wo_attr), false};
    if (s->secret_attr)
        options[n++] = (struct password_source_option){PASSWORD_SOURCE_SECRET, s->secret_attr, NULL,
                                                       given(config, s->secret_attr), false};
    options[n++] =
        (struct password_source_option){PASSWORD_SOURCE_REMOTE, "provider_id", "remote_path",
                                        given(config, "provider_id"), given(config, "remote_path")};
    struct password_source_choice choice;
    struct agyn_error err = {0};
    if (password_source_choose(options, n, true, &choice, &err) != 0) {
        char summary[96];
        snprintf(summary, sizeof summary, "Invalid %s source", s->inline_attr);
        diag_error(op->diags, err.field,
                   choice.problem == PASSWORD_SOURCE_PARTNER_MISSING ? "Missing required argument"
                                                                     : summary,
                   "%s", err.message);
    }
    const char *inline_value = known_str(config, s->inline_attr);
    if (inline_value && !*inline_value)
        diag_error(op->diags, s->inline_attr, "Invalid value", "%s must not be empty.",
                   s->inline_attr);
    if (s->wo_attr && given(config, s->wo_attr) && !op->write_only_allowed)
        diag_error(op->diags, s->wo_attr, "Write-only attributes are not supported",
                   "%s is write-only and needs Terraform 1.11 or later; use %s instead.",
                   s->wo_attr, s->inline_attr);
    if (s->wo_version && given(config, s->wo_version) && !given(config, s->wo_attr))
        diag_error(op->diags, s->wo_version, "Missing required argument",
                   "%s is only meaningful with %s.", s->wo_version, s->wo_attr);
    static const char *const ids[] = {"organization_id", "provider_id", NULL};
    check_uuids(op, config, ids);
    if (s->secret_attr)
        check_with(op, s->secret_attr, "Invalid id", uuid_check, known_str(config, s->secret_attr));
}

static bool source_changed(const struct source_impl *s, const struct tfv *prior,
                           const struct tfv *state) {
    const char *attrs[] = {s->inline_attr, s->secret_attr, "provider_id", "remote_path",
                           s->wo_version};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        if (attrs[i] && !tfv_equal(tfv_get(prior, attrs[i]), tfv_get(state, attrs[i])))
            return true;
    return false;
}

/* Writes the chosen source into body. Write-only values come from config. */
static void source_put(const struct source_impl *s, json_t *body, const struct tfv *state,
                       const struct tfv *config) {
    const char *v;
    if ((v = tfv_str(state, s->inline_attr)))
        json_object_set_new(body, s->inline_attr, json_string(v));
    else if (s->secret_attr && (v = tfv_str(state, s->secret_attr)))
        json_object_set_new(body, s->secret_attr, json_string(v));
    else if (tfv_str(state, "provider_id")) {
        put_string(body, "provider_id", state, NULL);
        put_string(body, "remote_path", state, NULL);
    } else if (s->wo_attr && (v = tfv_str(config, s->wo_attr)))
        json_object_set_new(body, s->inline_attr, json_string(v));
}

/* Maps the API's source back: the inline value is never returned, so state keeps it. */
static void source_read(const struct source_impl *s, struct tfv *state, json_t *obj,
                        const char *source_field) {
    const char *source = row_text(obj, source_field);
    if (!source)
        return;
    if (strcmp(source, "inline") == 0) {
        if (s->secret_attr)
            tfv_set(state, s->secret_attr, tfv_null());
        tfv_set(state, "provider_id", tfv_null());
        tfv_set(state, "remote_path", tfv_null());
        return;
    }
    tfv_set(state, s->inline_attr, tfv_null());
    if (strcmp(source, "secret") == 0 && s->secret_attr) {
        read_string(state, s->secret_attr, obj, NULL);
        tfv_set(state, "provider_id", tfv_null());
        tfv_set(state, "remote_path", tfv_null());
    } else if (strcmp(source, "remote") == 0) {
        if (s->secret_attr)
            tfv_set(state, s->secret_attr, tfv_null());
        read_string(state, "provider_id", obj, NULL);
        read_string(state, "remote_path", obj, NULL);
    }
}

/* ------------------------------------------------------------------------------------------
 * agyn_secret */

static void secret_validate(struct tf_op *op, const struct tfv *config) {
    check_with(op, "name", "Invalid name", name_check, known_str(config, "name"));
    check_with(op, "description", "Invalid description", description_check,
               known_str(config, "description"));
    source_validate(op, &SECRET_SOURCE, config);
}

static int secret_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    put_optional(body, "description", state, true);
    source_put(&SECRET_SOURCE, body, state, config);
    char *path = object_path(org, "secrets", NULL);
    int rc = do_write(op, "POST", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    json_decref(out);
    return 0;
}

static int secret_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, "secrets", id);
    json_t *obj = NULL;
    int rc = do_get(op, path, state, &obj);
    free(path);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    read_string(state, "name", obj, NULL);
    read_optional(state, "description", obj);
    read_string(state, "organization_id", obj, NULL);
    source_read(&SECRET_SOURCE, state, obj, "value_source");
    json_decref(obj);
    return 0;
}

static int secret_update(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                         struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    put_optional(body, "description", state, false);
    if (source_changed(&SECRET_SOURCE, prior, state))
        source_put(&SECRET_SOURCE, body, state, config);
    char *path = object_path(org, "secrets", tfv_str(state, "id"));
    int rc = do_write(op, "PATCH", path, body, state, &out);
    free(path);
    json_decref(body);
    json_decref(out);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * agyn_image_pull_secret */

static int username_check(const char *value, const char *field, struct agyn_error *err) {
    if (!*value)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "username must not be empty");
    if (strchr(value, ':'))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "username must not contain ':'");
    return text_validate(value, 256, field, err);
}

/* password_source "ecr" (provider_id alone) or "plugin" (plugin alone), without username. */
static void ips_validate_short_lived(struct tf_op *op, const struct tfv *config) {
    const char *kind = known_str(config, "password_source");
    if (!kind)
        return; /* unknown until apply: the API checks it */
    if (strcmp(kind, "ecr") != 0 && strcmp(kind, "plugin") != 0) {
        diag_error(op->diags, "password_source", "Invalid password_source",
                   "password_source must be \"ecr\" or \"plugin\" (leave it unset for the "
                   "other sources: they follow from the attributes set).");
        return;
    }
    bool ecr = strcmp(kind, "ecr") == 0;
    static const char *const others[] = {"username",           "password",    "password_wo",
                                         "password_secret_id", "remote_path", NULL};
    for (size_t i = 0; others[i]; i++)
        if (given(config, others[i]))
            diag_error(op->diags, others[i], "Conflicting argument",
                       "%s cannot be set with password_source \"%s\".", others[i], kind);
    const char *needed = ecr ? "provider_id" : "plugin";
    const char *unwanted = ecr ? "plugin" : "provider_id";
    if (!given(config, needed))
        diag_error(op->diags, needed, "Missing required argument",
                   "%s is required with password_source \"%s\".", needed, kind);
    if (given(config, unwanted))
        diag_error(op->diags, unwanted, "Conflicting argument",
                   "%s cannot be set with password_source \"%s\".", unwanted, kind);
    check_with(op, "provider_id", "Invalid id", uuid_check, known_str(config, "provider_id"));
}

static void ips_validate(struct tf_op *op, const struct tfv *config) {
    check_with(op, "name", "Invalid name", name_check, known_str(config, "name"));
    check_with(op, "registry", "Invalid registry", registry_check, known_str(config, "registry"));
    check_with(op, "description", "Invalid description", description_check,
               known_str(config, "description"));
    if (given(config, "password_source")) {
        ips_validate_short_lived(op, config);
        return;
    }
    if (given(config, "plugin"))
        diag_error(op->diags, "plugin", "Conflicting argument",
                   "plugin is only used with password_source = \"plugin\".");
    if (!given(config, "username"))
        diag_error(op->diags, "username", "Missing required argument",
                   "username is required (unless password_source is \"ecr\" or \"plugin\").");
    check_with(op, "username", "Invalid username", username_check, known_str(config, "username"));
    source_validate(op, &IPS_SOURCE, config);
}

/* The short-lived source's fields, when password_source is set; true then. */
static bool ips_put_short_lived(json_t *body, const struct tfv *state) {
    const char *kind = tfv_str(state, "password_source");
    if (!kind)
        return false;
    json_object_set_new(body, "password_source", json_string(kind));
    put_string(body, strcmp(kind, "ecr") == 0 ? "provider_id" : "plugin", state, NULL);
    return true;
}

static bool same_registry(const char *a, const char *b) {
    struct registry_pattern pa, pb;
    struct agyn_error err = {0};
    if (!a || !b || registry_pattern_parse(a, "registry", &pa, &err) != 0 ||
        registry_pattern_parse(b, "registry", &pb, &err) != 0)
        return false;
    char fa[600], fb[600];
    registry_pattern_format(&pa, fa, sizeof fa);
    registry_pattern_format(&pb, fb, sizeof fb);
    return strcmp(fa, fb) == 0;
}

static int ips_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    put_string(body, "registry", state, NULL);
    put_string(body, "username", state, NULL);
    put_optional(body, "description", state, true);
    if (!ips_put_short_lived(body, state))
        source_put(&IPS_SOURCE, body, state, config);
    char *path = object_path(org, "image-pull-secrets", NULL);
    int rc = do_write(op, "POST", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    read_string(state, "password_updated_at", out, NULL);
    json_decref(out);
    return 0;
}

static int ips_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, "image-pull-secrets", id);
    json_t *obj = NULL;
    int rc = do_get(op, path, state, &obj);
    free(path);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    read_string(state, "name", obj, NULL);
    read_optional(state, "description", obj);
    read_string(state, "organization_id", obj, NULL);
    /* ecr and plugin logins bring their own username: state keeps none (as configured). */
    const char *kind = row_text(obj, "password_source");
    bool short_lived = kind && (strcmp(kind, "ecr") == 0 || strcmp(kind, "plugin") == 0);
    if (short_lived) {
        tfv_set(state, "username", tfv_null());
        tfv_set_str(state, "password_source", kind);
        tfv_set(state, "password", tfv_null());
        tfv_set(state, "password_secret_id", tfv_null());
        tfv_set(state, "remote_path", tfv_null());
        if (strcmp(kind, "ecr") == 0) {
            read_string(state, "provider_id", obj, NULL);
            tfv_set(state, "plugin", tfv_null());
        } else {
            read_string(state, "plugin", obj, NULL);
            tfv_set(state, "provider_id", tfv_null());
        }
    } else {
        read_string(state, "username", obj, NULL);
        tfv_set(state, "password_source", tfv_null());
        tfv_set(state, "plugin", tfv_null());
    }
    /* The API normalizes the registry: keep the configured spelling while it agrees. */
    const char *api_registry = row_text(obj, "registry");
    if (!same_registry(tfv_str(state, "registry"), api_registry))
        tfv_set_str(state, "registry", api_registry);
    if (!short_lived)
        source_read(&IPS_SOURCE, state, obj, "password_source");
    /* Set outside Terraform since the last apply: forget the value Terraform sent, so the
     * plan shows the drift and sends the configured one again. */
    const char *known = tfv_str(state, "password_updated_at");
    const char *api_time = row_text(obj, "password_updated_at");
    if (known && api_time && strcmp(known, api_time) != 0) {
        if (tfv_str(state, "password"))
            tfv_set(state, "password", tfv_null());
        if (tfv_is_set(tfv_get(state, "password_wo_version")))
            tfv_set(state, "password_wo_version", tfv_null());
    }
    if (api_time)
        tfv_set_str(state, "password_updated_at", api_time);
    json_decref(obj);
    return 0;
}

static int ips_update(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                      struct tfv *state) {
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "name", state, NULL);
    put_string(body, "registry", state, NULL);
    put_string(body, "username", state, NULL);
    put_optional(body, "description", state, false);
    /* agyn sends a stored password only to the registry it was given for: a new registry
     * needs the password (or its reference) in the same PATCH. */
    bool source_differs =
        source_changed(&IPS_SOURCE, prior, state) ||
        !tfv_equal(tfv_get(prior, "password_source"), tfv_get(state, "password_source")) ||
        !tfv_equal(tfv_get(prior, "plugin"), tfv_get(state, "plugin"));
    if (source_differs || !same_registry(tfv_str(prior, "registry"), tfv_str(state, "registry")))
        if (!ips_put_short_lived(body, state))
            source_put(&IPS_SOURCE, body, state, config);
    char *path = object_path(org, "image-pull-secrets", tfv_str(state, "id"));
    int rc = do_write(op, "PATCH", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc == 0)
        read_string(state, "password_updated_at", out, NULL);
    json_decref(out);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * agyn_image_pull_secret_attachment (alias agyn_agent_image_pull_secret_attachment) */

static const char *const TARGETS[] = {"agent_id", "mcp_id", "hook_id", NULL};

static void attachment_validate(struct tf_op *op, const struct tfv *config) {
    static const struct choice choices[] = {
        {{"agent_id", NULL, NULL}, "agent_id"},
        {{"mcp_id", NULL, NULL}, "mcp_id"},
        {{"hook_id", NULL, NULL}, "hook_id"},
    };
    exactly_one(op, config, choices, 3, "Invalid attachment target");
    static const char *const ids[] = {
        "organization_id", "image_pull_secret_id", "agent_id", "mcp_id", "hook_id", NULL};
    check_uuids(op, config, ids);
}

static int attachment_create(struct tf_op *op, const struct tfv *config, struct tfv *state) {
    char org[64];
    if (object_org(op, state, "image_pull_secret_id", "image-pull-secrets", org) != 0)
        return -1;
    json_t *body = json_object(), *out = NULL;
    put_string(body, "image_pull_secret_id", state, NULL);
    for (size_t i = 0; TARGETS[i]; i++)
        put_string(body, TARGETS[i], state, NULL);
    char *path = object_path(org, "image-pull-secret-attachments", NULL);
    int rc = do_write(op, "POST", path, body, state, &out);
    free(path);
    json_decref(body);
    if (rc != 0)
        return -1;
    read_string(state, "id", out, NULL);
    tfv_set_str(state, "organization_id", org);
    json_decref(out);
    return 0;
}

static int attachment_read(struct tf_op *op, struct tfv *state, bool *gone) {
    const char *id = tfv_str(state, "id");
    if (!valid_id(id)) {
        *gone = true;
        return 0;
    }
    char org[64];
    if (object_org(op, state, NULL, NULL, org) != 0)
        return -1;
    char *path = object_path(org, "image-pull-secret-attachments", id);
    json_t *obj = NULL;
    int rc = do_get(op, path, state, &obj);
    free(path);
    if (rc != 0) {
        *gone = rc > 0;
        return rc > 0 ? 0 : -1;
    }
    read_string(state, "image_pull_secret_id", obj, NULL);
    for (size_t i = 0; TARGETS[i]; i++)
        read_string(state, TARGETS[i], obj, NULL);
    read_string(state, "organization_id", obj, NULL);
    if (!tfv_str(state, "organization_id"))
        tfv_set_str(state, "organization_id", org);
    json_decref(obj);
    return 0;
}

static int attachment_update(struct tf_op *op, const struct tfv *prior, const struct tfv *config,
                             struct tfv *state) {
    /* Every attribute forces replacement; only a computed organization_id can get here. */
    if (tfv_is_unknown(tfv_get(state, "organization_id")))
        tfv_set(state, "organization_id", tfv_copy(tfv_get(prior, "organization_id")));
    return 0;
}

static int attachment_remove(struct tf_op *op, const struct tfv *prior) {
    char org[64];
    if (object_org(op, prior, "image_pull_secret_id", "image-pull-secrets", org) != 0)
        return -1;
    char *path = object_path(org, "image-pull-secret-attachments", tfv_str(prior, "id"));
    int rc = do_delete(op, path, prior);
    free(path);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * The resource table */

static const struct tf_resource ORGANIZATION = {"agyn_organization",
                                                &ORGANIZATION_SCHEMA,
                                                NULL,
                                                "organization",
                                                NULL,
                                                organization_validate,
                                                organization_create,
                                                organization_read,
                                                organization_update,
                                                organization_remove};
static const struct tf_resource SECRET_PROVIDER = {"agyn_secret_provider",
                                                   &SECRET_PROVIDER_SCHEMA,
                                                   "secret-providers",
                                                   "secret provider",
                                                   NULL,
                                                   secret_provider_validate,
                                                   secret_provider_create,
                                                   secret_provider_read,
                                                   secret_provider_update,
                                                   simple_remove};
static const struct tf_resource SECRET = {
    "agyn_secret",   &SECRET_SCHEMA, "secrets",   "secret",      NULL,
    secret_validate, secret_create,  secret_read, secret_update, simple_remove};
static const struct tf_resource AGENT = {"agyn_agent",  &AGENT_SCHEMA,   "agents",      "agent",
                                         &AGENT_IMPL,   simple_validate, simple_create, simple_read,
                                         simple_update, simple_remove};
static const struct tf_resource MCP = {"agyn_mcp",    &MCP_SCHEMA,     "mcps",        "MCP server",
                                       &MCP_IMPL,     simple_validate, simple_create, simple_read,
                                       simple_update, simple_remove};
static const struct tf_resource HOOK = {"agyn_hook",   &HOOK_SCHEMA,    "hooks",       "hook",
                                        &HOOK_IMPL,    simple_validate, simple_create, simple_read,
                                        simple_update, simple_remove};
static const struct tf_resource IMAGE_PULL_SECRET = {"agyn_image_pull_secret",
                                                     &IPS_SCHEMA,
                                                     "image-pull-secrets",
                                                     "image pull secret",
                                                     NULL,
                                                     ips_validate,
                                                     ips_create,
                                                     ips_read,
                                                     ips_update,
                                                     simple_remove};
static const struct tf_resource ATTACHMENT = {"agyn_image_pull_secret_attachment",
                                              &ATTACHMENT_SCHEMA,
                                              "image-pull-secret-attachments",
                                              "image pull secret attachment",
                                              NULL,
                                              attachment_validate,
                                              attachment_create,
                                              attachment_read,
                                              attachment_update,
                                              attachment_remove};
static const struct tf_resource AGENT_ATTACHMENT = {"agyn_agent_image_pull_secret_attachment",
                                                    &ATTACHMENT_SCHEMA,
                                                    "image-pull-secret-attachments",
                                                    "image pull secret attachment",
                                                    NULL,
                                                    attachment_validate,
                                                    attachment_create,
                                                    attachment_read,
                                                    attachment_update,
                                                    attachment_remove};

const struct tf_resource *const TF_RESOURCES[] = {
    &ORGANIZATION,      &SECRET_PROVIDER, &SECRET,           &AGENT, &MCP, &HOOK,
    &IMAGE_PULL_SECRET, &ATTACHMENT,      &AGENT_ATTACHMENT, NULL,
};

const struct tf_resource *tf_resource_find(const char *type_name) {
    for (size_t i = 0; TF_RESOURCES[i]; i++)
        if (strcmp(TF_RESOURCES[i]->type_name, type_name) == 0)
            return TF_RESOURCES[i];
    return NULL;
}
