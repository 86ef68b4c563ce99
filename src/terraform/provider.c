/* provider.c — the tfplugin6.Provider service: schemas, validation, configuration, and the
 * generic plan / apply / read / import logic around the resource operations (resources.c),
 * plus the go-plugin side services (health, controller). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "terraform/api.h"
#include "core/xalloc.h"
#include "terraform/arena.h"
#include "terraform/data_sources.h"
#include "terraform/diag.h"
#include "terraform/rpc.h"
#include "terraform/schema.h"
#include "tfplugin6.pb-c.h"

/* ------------------------------------------------------------------------------------------
 * Plumbing */

static void pack_into(const ProtobufCMessage *msg, struct rpc_result *out) {
    size_t len = protobuf_c_message_get_packed_size(msg);
    out->data = xmalloc(len ? len : 1);
    out->len = protobuf_c_message_pack(msg, out->data);
    out->status = GRPC_OK;
}

static void bad_request(struct rpc_result *out, const char *what) {
    out->status = GRPC_INVALID_ARGUMENT;
    snprintf(out->message, sizeof out->message, "cannot decode %s request", what);
}

/* Decodes a DynamicValue (msgpack, else JSON). NULL/empty is null. Returns NULL only on
 * malformed input. */
static struct tfv *dv_decode(const Tfplugin6__DynamicValue *dv) {
    if (!dv || (dv->msgpack.len == 0 && dv->json.len == 0))
        return tfv_null();
    if (dv->msgpack.len)
        return tfv_from_msgpack(dv->msgpack.data, dv->msgpack.len);
    json_t *j = json_loadb((const char *)dv->json.data, dv->json.len, JSON_DECODE_ANY, NULL);
    if (!j)
        return NULL;
    struct tfv *v = tfv_from_json(j);
    json_decref(j);
    return v;
}

/* Encodes v shaped to block (null stays null) as a msgpack DynamicValue in the arena. */
static Tfplugin6__DynamicValue *dv_encode(struct arena *a, const struct tf_block *block,
                                          const struct tfv *v) {
    Tfplugin6__DynamicValue *dv = ARENA_NEW(a, Tfplugin6__DynamicValue);
    tfplugin6__dynamic_value__init(dv);
    struct tfv *shaped = tfv_is_null(v) ? tfv_null() : tf_conform(block, v);
    uint8_t *data;
    size_t len;
    tfv_to_msgpack(shaped, &data, &len);
    tfv_free(shaped);
    arena_own(a, data);
    dv->msgpack.data = data;
    dv->msgpack.len = len;
    return dv;
}

static bool write_only_allowed(const Tfplugin6__ClientCapabilities *caps) {
    return caps && caps->write_only_attributes_allowed;
}

static void unknown_type(struct diags *d, const char *kind, const char *type_name) {
    diag_error(d, NULL, "Unknown type", "The agyn provider has no %s named \"%s\".", kind,
               type_name);
}

/* ------------------------------------------------------------------------------------------
 * Schemas */

static Tfplugin6__Schema__Block *block_message(struct arena *a, const struct tf_block *b) {
    Tfplugin6__Schema__Block *msg = ARENA_NEW(a, Tfplugin6__Schema__Block);
    tfplugin6__schema__block__init(msg);
    msg->description = (char *)(b->description ? b->description : "");
    size_t n = 0;
    for (const struct tf_attr *attr = b->attrs; attr->name; attr++)
        n++;
    msg->attributes = arena_alloc(a, (n ? n : 1) * sizeof *msg->attributes);
    for (const struct tf_attr *attr = b->attrs; attr->name; attr++) {
        Tfplugin6__Schema__Attribute *am = ARENA_NEW(a, Tfplugin6__Schema__Attribute);
        tfplugin6__schema__attribute__init(am);
        am->name = (char *)attr->name;
        const char *type = attr->type == TF_NUMBER        ? "\"number\""
                           : attr->type == TF_BOOL        ? "\"bool\""
                           : attr->type == TF_STRING_LIST ? "[\"list\",\"string\"]"
                           : attr->type == TF_STRING_MAP  ? "[\"map\",\"string\"]"
                                                          : "\"string\"";
        am->type.data = (uint8_t *)type;
        am->type.len = strlen(type);
        am->description = (char *)(attr->description ? attr->description : "");
        am->required = (attr->flags & A_REQUIRED) != 0;
        am->optional = (attr->flags & A_OPTIONAL) != 0;
        am->computed = (attr->flags & A_COMPUTED) != 0;
        am->sensitive = (attr->flags & A_SENSITIVE) != 0;
        am->write_only = (attr->flags & A_WRITE_ONLY) != 0;
        msg->attributes[msg->n_attributes++] = am;
    }
    n = 0;
    for (const struct tf_nested *nb = b->blocks; nb && nb->name; nb++)
        n++;
    msg->block_types = arena_alloc(a, (n ? n : 1) * sizeof *msg->block_types);
    for (const struct tf_nested *nb = b->blocks; nb && nb->name; nb++) {
        Tfplugin6__Schema__NestedBlock *nm = ARENA_NEW(a, Tfplugin6__Schema__NestedBlock);
        tfplugin6__schema__nested_block__init(nm);
        nm->type_name = (char *)nb->name;
        nm->block = block_message(a, nb->block);
        nm->nesting = TFPLUGIN6__SCHEMA__NESTED_BLOCK__NESTING_MODE__SINGLE;
        msg->block_types[msg->n_block_types++] = nm;
    }
    return msg;
}

static Tfplugin6__Schema *schema_message(struct arena *a, const struct tf_block *b) {
    Tfplugin6__Schema *s = ARENA_NEW(a, Tfplugin6__Schema);
    tfplugin6__schema__init(s);
    s->version = 0;
    s->block = block_message(a, b);
    return s;
}

static Tfplugin6__ServerCapabilities *capabilities(struct arena *a) {
    Tfplugin6__ServerCapabilities *caps = ARENA_NEW(a, Tfplugin6__ServerCapabilities);
    tfplugin6__server_capabilities__init(caps);
    caps->plan_destroy = 1;
    caps->get_provider_schema_optional = 1;
    return caps;
}

static void get_provider_schema(const uint8_t *in, size_t len, struct rpc_result *out) {
    struct arena a = {0};
    Tfplugin6__GetProviderSchema__Response resp = TFPLUGIN6__GET_PROVIDER_SCHEMA__RESPONSE__INIT;
    resp.provider = schema_message(&a, &PROVIDER_SCHEMA);
    size_t n = 0;
    while (TF_RESOURCES[n])
        n++;
    resp.resource_schemas = arena_alloc(&a, n * sizeof *resp.resource_schemas);
    for (size_t i = 0; i < n; i++) {
        Tfplugin6__GetProviderSchema__Response__ResourceSchemasEntry *e =
            ARENA_NEW(&a, Tfplugin6__GetProviderSchema__Response__ResourceSchemasEntry);
        tfplugin6__get_provider_schema__response__resource_schemas_entry__init(e);
        e->key = (char *)TF_RESOURCES[i]->type_name;
        e->value = schema_message(&a, TF_RESOURCES[i]->schema);
        resp.resource_schemas[resp.n_resource_schemas++] = e;
    }
    n = 0;
    while (TF_DATA_SOURCES[n])
        n++;
    resp.data_source_schemas = arena_alloc(&a, n * sizeof *resp.data_source_schemas);
    for (size_t i = 0; i < n; i++) {
        Tfplugin6__GetProviderSchema__Response__DataSourceSchemasEntry *e =
            ARENA_NEW(&a, Tfplugin6__GetProviderSchema__Response__DataSourceSchemasEntry);
        tfplugin6__get_provider_schema__response__data_source_schemas_entry__init(e);
        e->key = (char *)TF_DATA_SOURCES[i]->type_name;
        e->value = schema_message(&a, TF_DATA_SOURCES[i]->schema);
        resp.data_source_schemas[resp.n_data_source_schemas++] = e;
    }
    resp.server_capabilities = capabilities(&a);
    pack_into(&resp.base, out);
    arena_free(&a);
}

static void get_metadata(const uint8_t *in, size_t len, struct rpc_result *out) {
    struct arena a = {0};
    Tfplugin6__GetMetadata__Response resp = TFPLUGIN6__GET_METADATA__RESPONSE__INIT;
    resp.server_capabilities = capabilities(&a);
    size_t n = 0;
    while (TF_RESOURCES[n])
        n++;
    resp.resources = arena_alloc(&a, n * sizeof *resp.resources);
    for (size_t i = 0; i < n; i++) {
        Tfplugin6__GetMetadata__ResourceMetadata *m =
            ARENA_NEW(&a, Tfplugin6__GetMetadata__ResourceMetadata);
        tfplugin6__get_metadata__resource_metadata__init(m);
        m->type_name = (char *)TF_RESOURCES[i]->type_name;
        resp.resources[resp.n_resources++] = m;
    }
    n = 0;
    while (TF_DATA_SOURCES[n])
        n++;
    resp.data_sources = arena_alloc(&a, n * sizeof *resp.data_sources);
    for (size_t i = 0; i < n; i++) {
        Tfplugin6__GetMetadata__DataSourceMetadata *m =
            ARENA_NEW(&a, Tfplugin6__GetMetadata__DataSourceMetadata);
        tfplugin6__get_metadata__data_source_metadata__init(m);
        m->type_name = (char *)TF_DATA_SOURCES[i]->type_name;
        resp.data_sources[resp.n_data_sources++] = m;
    }
    pack_into(&resp.base, out);
    arena_free(&a);
}

/* ------------------------------------------------------------------------------------------
 * Provider configuration */

static bool url_is_http(const char *url) {
    return strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0;
}

static void validate_provider_config(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ValidateProviderConfig__Request *req =
        (Tfplugin6__ValidateProviderConfig__Request *)protobuf_c_message_unpack(
            &tfplugin6__validate_provider_config__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ValidateProviderConfig");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    struct tfv *config = dv_decode(req->config);
    const char *url = tfv_str(config, "api_url");
    if (url && !url_is_http(url))
        diag_error(&d, "api_url", "Invalid API URL",
                   "api_url must be an http:// or https:// URL, got \"%s\".", url);
    Tfplugin6__ValidateProviderConfig__Response resp =
        TFPLUGIN6__VALIDATE_PROVIDER_CONFIG__RESPONSE__INIT;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(config);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* Configure-time check, as HashiCorp's providers do: GET /api/v1/me proves the URL answers
 * and the token is accepted, so a dead server or a bad token fails the plan, not the apply. */
static void check_credentials(struct diags *d, const char *url, const char *token) {
    if (!token || !*token) {
        diag_error(d, "api_token", "Missing API token",
                   "Set api_token in the provider \"agyn\" block or the AGYN_TOKEN (or "
                   "AGYN_API_TOKEN) environment variable to an agyn API token.");
        return;
    }
    struct api_result r;
    if (api_call("GET", "/api/v1/me", NULL, &r) != 0) {
        diag_error(d, "api_url", "Cannot reach the agyn API",
                   "No answer from the agyn server at %s: %s. Check api_url (or AGYN_API_URL) "
                   "and that agynd is running.",
                   url, r.message);
    } else if (r.status == 401 || r.status == 403) {
        diag_error(d, "api_token", "Invalid API token",
                   "The agyn server at %s rejected the API token (HTTP %ld: %s). Check api_token "
                   "(or AGYN_TOKEN / AGYN_API_TOKEN).",
                   url, r.status, r.message);
    } else if (!api_ok(&r)) {
        diag_error(d, "api_url", "Unexpected answer from the agyn API",
                   "GET %s/api/v1/me answered HTTP %ld (%s): is api_url the agyn server?", url,
                   r.status, r.message[0] ? r.message : "no agyn error body");
    }
    api_result_free(&r);
}

static void configure_provider(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ConfigureProvider__Request *req =
        (Tfplugin6__ConfigureProvider__Request *)protobuf_c_message_unpack(
            &tfplugin6__configure_provider__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ConfigureProvider");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    struct tfv *config = dv_decode(req->config);
    const char *url = tfv_str(config, "api_url");
    const char *token = tfv_str(config, "api_token");
    if (!url || !*url)
        url = getenv("AGYN_API_URL");
    if (!token || !*token)
        token = getenv("AGYN_TOKEN"); /* the CLI's variable, first as in the CLI */
    if (!token || !*token)
        token = getenv("AGYN_API_TOKEN");
    if (!url || !*url)
        diag_error(&d, "api_url", "Missing API URL",
                   "Set api_url in the provider \"agyn\" block or the AGYN_API_URL environment "
                   "variable to the agyn server's base URL, e.g. http://127.0.0.1:8080.");
    else if (!url_is_http(url))
        diag_error(&d, "api_url", "Invalid API URL",
                   "The agyn API URL must be an http:// or https:// URL, got \"%s\".", url);
    else {
        api_configure(url, token);
        check_credentials(&d, url, token);
    }
    Tfplugin6__ConfigureProvider__Response resp = TFPLUGIN6__CONFIGURE_PROVIDER__RESPONSE__INIT;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(config);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* ------------------------------------------------------------------------------------------
 * Resources */

static void validate_resource_config(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ValidateResourceConfig__Request *req =
        (Tfplugin6__ValidateResourceConfig__Request *)protobuf_c_message_unpack(
            &tfplugin6__validate_resource_config__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ValidateResourceConfig");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    const struct tf_resource *res = tf_resource_find(req->type_name);
    struct tfv *config = dv_decode(req->config);
    if (!res)
        unknown_type(&d, "resource type", req->type_name);
    else if (config) {
        struct tf_op op = {&d, res, write_only_allowed(req->client_capabilities)};
        res->validate(&op, config);
    }
    Tfplugin6__ValidateResourceConfig__Response resp =
        TFPLUGIN6__VALIDATE_RESOURCE_CONFIG__RESPONSE__INIT;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(config);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void upgrade_resource_state(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__UpgradeResourceState__Request *req =
        (Tfplugin6__UpgradeResourceState__Request *)protobuf_c_message_unpack(
            &tfplugin6__upgrade_resource_state__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "UpgradeResourceState");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__UpgradeResourceState__Response resp =
        TFPLUGIN6__UPGRADE_RESOURCE_STATE__RESPONSE__INIT;
    const struct tf_resource *res = tf_resource_find(req->type_name);
    if (!res) {
        unknown_type(&d, "resource type", req->type_name);
    } else if (!req->raw_state || req->raw_state->json.len == 0) {
        if (req->raw_state && req->raw_state->n_flatmap)
            diag_error(&d, NULL, "Unsupported state format",
                       "The legacy flatmap state format is not supported by the agyn provider.");
        else
            resp.upgraded_state = dv_encode(&a, res->schema, NULL);
    } else {
        json_error_t jerr;
        json_t *j =
            json_loadb((const char *)req->raw_state->json.data, req->raw_state->json.len, 0, &jerr);
        if (!j) {
            diag_error(&d, NULL, "Invalid state", "The stored state is not JSON: %s", jerr.text);
        } else {
            struct tfv *state = tfv_from_json(j);
            resp.upgraded_state = dv_encode(&a, res->schema, state);
            tfv_free(state);
            json_decref(j);
        }
    }
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void null_write_only(const struct tf_block *b, struct tfv *state) {
    for (const struct tf_attr *attr = b->attrs; attr->name; attr++)
        if (attr->flags & A_WRITE_ONLY)
            tfv_set(state, attr->name, tfv_null());
    for (const struct tf_nested *nb = b->blocks; nb && nb->name; nb++) {
        struct tfv *inner = tfv_get(state, nb->name);
        if (inner && inner->kind == TFV_OBJECT)
            null_write_only(nb->block, inner);
    }
}

static bool require_configured(struct diags *d) {
    if (api_configured())
        return true;
    diag_error(d, NULL, "Provider not configured",
               "The agyn provider has no API URL: set api_url or AGYN_API_URL.");
    return false;
}

static void read_resource(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ReadResource__Request *req =
        (Tfplugin6__ReadResource__Request *)protobuf_c_message_unpack(
            &tfplugin6__read_resource__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ReadResource");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__ReadResource__Response resp = TFPLUGIN6__READ_RESOURCE__RESPONSE__INIT;
    const struct tf_resource *res = tf_resource_find(req->type_name);
    struct tfv *current = dv_decode(req->current_state);
    if (!res) {
        unknown_type(&d, "resource type", req->type_name);
    } else if (!current) {
        diag_error(&d, NULL, "Invalid state", "The current state could not be decoded.");
    } else if (tfv_is_null(current)) {
        resp.new_state = dv_encode(&a, res->schema, NULL);
    } else if (!require_configured(&d)) {
        resp.new_state = dv_encode(&a, res->schema, current);
    } else {
        struct tfv *state = tf_conform(res->schema, current);
        struct tf_op op = {&d, res, true};
        bool gone = false;
        int rc = res->read(&op, state, &gone);
        null_write_only(res->schema, state);
        if (rc != 0)
            resp.new_state = dv_encode(&a, res->schema, current);
        else
            resp.new_state = dv_encode(&a, res->schema, gone ? NULL : state);
        tfv_free(state);
    }
    resp.private_ = req->private_;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(current);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* Whether an update changes any attribute or block other than the A_UNKNOWN_ON_UPDATE ones. */
static bool update_changes_something(const struct tf_block *b, const struct tfv *prior,
                                     const struct tfv *proposed) {
    for (const struct tf_attr *attr = b->attrs; attr->name; attr++)
        if (!(attr->flags & (A_UNKNOWN_ON_UPDATE | A_WRITE_ONLY)) &&
            !tfv_equal(tfv_get(prior, attr->name), tfv_get(proposed, attr->name)))
            return true;
    for (const struct tf_nested *nb = b->blocks; nb && nb->name; nb++)
        if (!tfv_equal(tfv_get(prior, nb->name), tfv_get(proposed, nb->name)))
            return true;
    return false;
}

static void plan_resource_change(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__PlanResourceChange__Request *req =
        (Tfplugin6__PlanResourceChange__Request *)protobuf_c_message_unpack(
            &tfplugin6__plan_resource_change__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "PlanResourceChange");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__PlanResourceChange__Response resp = TFPLUGIN6__PLAN_RESOURCE_CHANGE__RESPONSE__INIT;
    const struct tf_resource *res = tf_resource_find(req->type_name);
    struct tfv *prior = dv_decode(req->prior_state);
    struct tfv *proposed = dv_decode(req->proposed_new_state);
    struct tfv *config = dv_decode(req->config);
    if (!res) {
        unknown_type(&d, "resource type", req->type_name);
    } else if (!prior || !proposed || !config) {
        diag_error(&d, NULL, "Invalid plan request", "A value could not be decoded.");
    } else if (tfv_is_null(proposed)) {
        /* Destroy. */
        resp.planned_state = dv_encode(&a, res->schema, NULL);
    } else {
        struct tf_op op = {&d, res, write_only_allowed(req->client_capabilities)};
        res->validate(&op, config);
        struct tfv *planned = tf_conform(res->schema, proposed);
        bool create = tfv_is_null(prior);
        size_t n_attrs = 0;
        for (const struct tf_attr *attr = res->schema->attrs; attr->name; attr++)
            n_attrs++;
        resp.requires_replace = arena_alloc(&a, n_attrs * sizeof *resp.requires_replace);
        for (const struct tf_attr *attr = res->schema->attrs; attr->name; attr++) {
            if (attr->flags & A_WRITE_ONLY) {
                tfv_set(planned, attr->name, tfv_null());
                continue;
            }
            if ((attr->flags & A_COMPUTED) && tfv_is_null(tfv_get(config, attr->name))) {
                if (create)
                    tfv_set(planned, attr->name, tfv_unknown());
                else /* keep the prior value (id, a found organization_id) */
                    tfv_set(planned, attr->name, tfv_copy(tfv_get(prior, attr->name)));
            }
            if (!create && (attr->flags & A_UNKNOWN_ON_UPDATE) &&
                update_changes_something(res->schema, prior, proposed))
                tfv_set(planned, attr->name, tfv_unknown());
            if (!create && (attr->flags & A_FORCE_NEW) &&
                !tfv_equal(tfv_get(prior, attr->name), tfv_get(planned, attr->name)))
                resp.requires_replace[resp.n_requires_replace++] = diag_path(&a, attr->name);
        }
        null_write_only(res->schema, planned); /* those inside nested blocks too */
        resp.planned_state = dv_encode(&a, res->schema, planned);
        tfv_free(planned);
    }
    resp.planned_private = req->prior_private;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(prior);
    tfv_free(proposed);
    tfv_free(config);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* Replaces unknowns left in state after an operation by the config value (or null). */
static void settle_unknowns(const struct tf_block *b, struct tfv *state, const struct tfv *config) {
    for (const struct tf_attr *attr = b->attrs; attr->name; attr++)
        if (tfv_is_unknown(tfv_get(state, attr->name))) {
            const struct tfv *c = tfv_get(config, attr->name);
            tfv_set(state, attr->name, tfv_is_unknown(c) ? tfv_null() : tfv_copy(c));
        }
}

static void apply_resource_change(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ApplyResourceChange__Request *req =
        (Tfplugin6__ApplyResourceChange__Request *)protobuf_c_message_unpack(
            &tfplugin6__apply_resource_change__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ApplyResourceChange");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__ApplyResourceChange__Response resp =
        TFPLUGIN6__APPLY_RESOURCE_CHANGE__RESPONSE__INIT;
    const struct tf_resource *res = tf_resource_find(req->type_name);
    struct tfv *prior = dv_decode(req->prior_state);
    struct tfv *planned = dv_decode(req->planned_state);
    struct tfv *config = dv_decode(req->config);
    if (!res) {
        unknown_type(&d, "resource type", req->type_name);
    } else if (!prior || !planned || !config) {
        diag_error(&d, NULL, "Invalid apply request", "A value could not be decoded.");
    } else if (!require_configured(&d)) {
        resp.new_state = dv_encode(&a, res->schema, prior);
    } else {
        struct tf_op op = {&d, res, write_only_allowed(req->client_capabilities)};
        op.write_only_allowed = true; /* config only holds write-only values when allowed */
        if (tfv_is_null(planned)) {
            struct tfv *shaped = tf_conform(res->schema, prior);
            int rc = tfv_is_null(prior) ? 0 : res->remove(&op, shaped);
            resp.new_state = dv_encode(&a, res->schema, rc == 0 ? NULL : prior);
            tfv_free(shaped);
        } else {
            struct tfv *state = tf_conform(res->schema, planned);
            null_write_only(res->schema, state);
            struct tfv *shaped_config = tf_conform(res->schema, config);
            int rc;
            if (tfv_is_null(prior)) {
                rc = res->create(&op, shaped_config, state);
            } else {
                struct tfv *shaped_prior = tf_conform(res->schema, prior);
                rc = res->update(&op, shaped_prior, shaped_config, state);
                tfv_free(shaped_prior);
            }
            settle_unknowns(res->schema, state, shaped_config);
            null_write_only(res->schema, state);
            if (rc == 0)
                resp.new_state = dv_encode(&a, res->schema, state);
            else
                resp.new_state = dv_encode(&a, res->schema, tfv_is_null(prior) ? NULL : prior);
            tfv_free(shaped_config);
            tfv_free(state);
        }
    }
    resp.private_ = req->planned_private;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    tfv_free(prior);
    tfv_free(planned);
    tfv_free(config);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static bool is_uuid(const char *s) {
    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

static void import_resource_state(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ImportResourceState__Request *req =
        (Tfplugin6__ImportResourceState__Request *)protobuf_c_message_unpack(
            &tfplugin6__import_resource_state__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ImportResourceState");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__ImportResourceState__Response resp =
        TFPLUGIN6__IMPORT_RESOURCE_STATE__RESPONSE__INIT;
    const struct tf_resource *res = tf_resource_find(req->type_name);
    char org[64] = "", id[64] = "";
    const char *slash = strchr(req->id, '/');
    if (slash && (size_t)(slash - req->id) < sizeof org) {
        snprintf(org, sizeof org, "%.*s", (int)(slash - req->id), req->id);
        snprintf(id, sizeof id, "%s", slash + 1);
    } else if (strlen(req->id) < sizeof id) {
        snprintf(id, sizeof id, "%s", req->id);
    }
    if (!res) {
        unknown_type(&d, "resource type", req->type_name);
    } else if (!is_uuid(id) || (org[0] && !is_uuid(org)) || (org[0] && !res->collection)) {
        diag_error(&d, NULL, "Invalid import ID", "Import %s by its id (a UUID)%s; got \"%s\".",
                   req->type_name, res->collection ? " or \"<organization_id>/<id>\"" : "",
                   req->id);
    } else if (require_configured(&d)) {
        if (res->collection && !org[0]) {
            struct api_result r;
            int rc = api_find_org(res->collection, id, org, &r);
            if (rc > 0)
                diag_error(&d, NULL, "Cannot import non-existent remote object",
                           "No %s with id %s is visible to the API token.", res->noun, id);
            else if (rc < 0)
                diag_error(&d, NULL, "Unable to import", "Looking up %s %s failed: %s", res->noun,
                           id, r.message);
            api_result_free(&r);
        }
        if (!d.has_error) {
            struct tfv *state = tf_conform(res->schema, NULL);
            tfv_set_str(state, "id", id);
            if (res->collection)
                tfv_set_str(state, "organization_id", org);
            Tfplugin6__ImportResourceState__ImportedResource *ir =
                ARENA_NEW(&a, Tfplugin6__ImportResourceState__ImportedResource);
            tfplugin6__import_resource_state__imported_resource__init(ir);
            ir->type_name = req->type_name;
            ir->state = dv_encode(&a, res->schema, state);
            tfv_free(state);
            resp.imported_resources = arena_alloc(&a, sizeof *resp.imported_resources);
            resp.imported_resources[0] = ir;
            resp.n_imported_resources = 1;
        }
    }
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

/* Data sources (data_sources.c): looked up by name. */
static void validate_data_resource_config(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ValidateDataResourceConfig__Request *req =
        (Tfplugin6__ValidateDataResourceConfig__Request *)protobuf_c_message_unpack(
            &tfplugin6__validate_data_resource_config__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ValidateDataResourceConfig");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    const struct tf_data_source *ds = tf_data_source_find(req->type_name);
    struct tfv *config = dv_decode(req->config);
    if (!ds)
        unknown_type(&d, "data source", req->type_name);
    else if (config)
        ds->validate(&d, config);
    tfv_free(config);
    Tfplugin6__ValidateDataResourceConfig__Response resp =
        TFPLUGIN6__VALIDATE_DATA_RESOURCE_CONFIG__RESPONSE__INIT;
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void read_data_source(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__ReadDataSource__Request *req =
        (Tfplugin6__ReadDataSource__Request *)protobuf_c_message_unpack(
            &tfplugin6__read_data_source__request__descriptor, NULL, len, in);
    if (!req)
        return bad_request(out, "ReadDataSource");
    struct arena a = {0};
    struct diags d = {.arena = &a};
    Tfplugin6__ReadDataSource__Response resp = TFPLUGIN6__READ_DATA_SOURCE__RESPONSE__INIT;
    const struct tf_data_source *ds = tf_data_source_find(req->type_name);
    struct tfv *config = dv_decode(req->config);
    if (!ds) {
        unknown_type(&d, "data source", req->type_name);
    } else if (!config || tfv_is_null(config)) {
        diag_error(&d, NULL, "Invalid data source request",
                   "The configuration could not be "
                   "decoded.");
    } else if (require_configured(&d)) {
        struct tfv *state = tf_conform(ds->schema, config);
        if (ds->read(&d, state) == 0)
            resp.state = dv_encode(&a, ds->schema, state);
        tfv_free(state);
    }
    tfv_free(config);
    resp.diagnostics = d.items;
    resp.n_diagnostics = d.len;
    pack_into(&resp.base, out);
    arena_free(&a);
    protobuf_c_message_free_unpacked(&req->base, NULL);
}

static void get_functions(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__GetFunctions__Response resp = TFPLUGIN6__GET_FUNCTIONS__RESPONSE__INIT;
    pack_into(&resp.base, out);
}

static void stop_provider(const uint8_t *in, size_t len, struct rpc_result *out) {
    Tfplugin6__StopProvider__Response resp = TFPLUGIN6__STOP_PROVIDER__RESPONSE__INIT;
    pack_into(&resp.base, out);
}

/* ------------------------------------------------------------------------------------------
 * go-plugin services */

/* grpc.health.v1.Health/Check: HealthCheckResponse{status = SERVING (1)}. */
static void health_check(const uint8_t *in, size_t len, struct rpc_result *out) {
    static const uint8_t serving[] = {0x08, 0x01};
    out->data = xmalloc(sizeof serving);
    memcpy(out->data, serving, sizeof serving);
    out->len = sizeof serving;
    out->status = GRPC_OK;
}

/* plugin.GRPCController/Shutdown: google.protobuf.Empty, then exit. */
static void controller_shutdown(const uint8_t *in, size_t len, struct rpc_result *out) {
    out->data = xmalloc(1);
    out->len = 0;
    out->status = GRPC_OK;
    out->shutdown = true;
}

static const struct {
    const char *path;
    rpc_fn fn;
} METHODS[] = {
    {"/tfplugin6.Provider/GetMetadata", get_metadata},
    {"/tfplugin6.Provider/GetProviderSchema", get_provider_schema},
    {"/tfplugin6.Provider/ValidateProviderConfig", validate_provider_config},
    {"/tfplugin6.Provider/ValidateResourceConfig", validate_resource_config},
    {"/tfplugin6.Provider/ValidateDataResourceConfig", validate_data_resource_config},
    {"/tfplugin6.Provider/UpgradeResourceState", upgrade_resource_state},
    {"/tfplugin6.Provider/ConfigureProvider", configure_provider},
    {"/tfplugin6.Provider/ReadResource", read_resource},
    {"/tfplugin6.Provider/PlanResourceChange", plan_resource_change},
    {"/tfplugin6.Provider/ApplyResourceChange", apply_resource_change},
    {"/tfplugin6.Provider/ImportResourceState", import_resource_state},
    {"/tfplugin6.Provider/ReadDataSource", read_data_source},
    {"/tfplugin6.Provider/GetFunctions", get_functions},
    {"/tfplugin6.Provider/StopProvider", stop_provider},
    {"/grpc.health.v1.Health/Check", health_check},
    {"/plugin.GRPCController/Shutdown", controller_shutdown},
};

rpc_fn rpc_lookup(const char *path) {
    for (size_t i = 0; i < sizeof METHODS / sizeof METHODS[0]; i++)
        if (strcmp(METHODS[i].path, path) == 0)
            return METHODS[i].fn;
    return NULL;
}
