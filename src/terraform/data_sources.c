/* data_sources.c — agyn_organization, agyn_agent and agyn_image_pull_secret as data sources:
 * the object of that name (in organization_id), found by listing the collection, with its id
 * and readable attributes; none or an unreadable list is a diagnostic on `name`. */
#include "terraform/data_sources.h"

#include <stdio.h>
#include <string.h>

#include "core/names.h"
#include "terraform/api.h"
#include "core/row.h"

#define LIST_PAGES_MAX 1000 /* 100 000 objects: a bound on a hostile server's paging */

/* The item of the list at path whose "name" is name: 0 found (*item owned by the caller),
 * 1 none, -1 error (diagnostic added). */
static int find_by_name(struct diags *d, const char *path, const char *name, const char *noun,
                        json_t **item) {
    char token[512] = "";
    for (int page = 0; page < LIST_PAGES_MAX; page++) {
        char url[1024];
        snprintf(url, sizeof url, "%s?page_size=100%s%s", path, token[0] ? "&page_token=" : "",
                 token);
        struct api_result r;
        if (api_call("GET", url, NULL, &r) != 0 || !api_ok(&r)) {
            diag_error(d, "name", "Unable to read agyn data source", "Listing %ss failed: %s%s",
                       noun, r.message, r.status ? "" : " (is the agyn server reachable?)");
            api_result_free(&r);
            return -1;
        }
        size_t i;
        json_t *entry;
        json_array_foreach(json_object_get(r.body, "items"), i, entry) {
            const char *entry_name = row_text(entry, "name");
            if (entry_name && strcmp(entry_name, name) == 0) {
                *item = json_incref(entry);
                api_result_free(&r);
                return 0;
            }
        }
        const char *next = row_text(r.body, "next_page_token");
        bool more = next && *next && strlen(next) < sizeof token && !strpbrk(next, "&?# ");
        if (more)
            snprintf(token, sizeof token, "%s", next);
        api_result_free(&r);
        if (!more)
            return 1;
    }
    return 1;
}

static void copy_strings(struct tfv *state, json_t *item, const char *const *fields) {
    for (size_t i = 0; fields[i]; i++) {
        json_t *v = json_object_get(item, fields[i]);
        tfv_set(state, fields[i],
                json_is_string(v) ? tfv_string(json_string_value(v)) : tfv_null());
    }
}

static bool known_name(struct diags *d, const struct tfv *config) {
    const struct tfv *name = tfv_get(config, "name");
    if (tfv_is_unknown(name))
        return false;
    if (!name || name->kind != TFV_STRING || !name->str[0]) {
        diag_error(d, "name", "Missing name", "name must be a non-empty string.");
        return false;
    }
    return true;
}

static void validate_org_scoped(struct diags *d, const struct tfv *config) {
    known_name(d, config);
    const struct tfv *org = tfv_get(config, "organization_id");
    if (org && org->kind == TFV_STRING && !uuid_is_valid(org->str))
        diag_error(d, "organization_id", "Invalid organization_id",
                   "organization_id must be a UUID, got \"%s\".", org->str);
}

static int read_named(struct diags *d, struct tfv *state, const char *collection, const char *noun,
                      const char *const *fields) {
    const char *name = tfv_str(state, "name");
    const char *org = tfv_str(state, "organization_id");
    char path[256];
    if (collection)
        snprintf(path, sizeof path, "/api/v1/organizations/%s/%s", org ? org : "", collection);
    else
        snprintf(path, sizeof path, "/api/v1/organizations");
    json_t *item = NULL;
    int rc = find_by_name(d, path, name ? name : "", noun, &item);
    if (rc > 0) {
        diag_error(d, "name", "No such agyn object",
                   "No %s named \"%s\" is visible to the API token%s%s.", noun, name ? name : "",
                   collection ? " in organization " : "", collection ? org : "");
        return -1;
    }
    if (rc < 0)
        return -1;
    copy_strings(state, item, fields);
    json_decref(item);
    return 0;
}

/* agyn_organization */

static const struct tf_attr ORGANIZATION_DS_ATTRS[] = {
    {"name", TF_STRING, A_REQUIRED, "Name of the organization."},
    {"id", TF_STRING, A_COMPUTED, "Id of the organization."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block ORGANIZATION_DS_SCHEMA = {
    ORGANIZATION_DS_ATTRS, NULL, "An existing agyn organization, looked up by name."};

static void organization_validate(struct diags *d, const struct tfv *config) {
    known_name(d, config);
}

static int organization_read(struct diags *d, struct tfv *state) {
    static const char *const fields[] = {"id", NULL};
    return read_named(d, state, NULL, "organization", fields);
}

/* agyn_agent */

static const struct tf_attr AGENT_DS_ATTRS[] = {
    {"organization_id", TF_STRING, A_REQUIRED, "Organization holding the agent."},
    {"name", TF_STRING, A_REQUIRED, "Name of the agent."},
    {"id", TF_STRING, A_COMPUTED, "Id of the agent."},
    {"image", TF_STRING, A_COMPUTED, "The agent's image."},
    {"description", TF_STRING, A_COMPUTED, "The agent's description."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block AGENT_DS_SCHEMA = {
    AGENT_DS_ATTRS, NULL, "An existing agent, looked up by name in its organization."};

static int agent_read(struct diags *d, struct tfv *state) {
    static const char *const fields[] = {"id", "image", "description", NULL};
    return read_named(d, state, "agents", "agent", fields);
}

/* agyn_image_pull_secret */

static const struct tf_attr IPS_DS_ATTRS[] = {
    {"organization_id", TF_STRING, A_REQUIRED, "Organization holding the image pull secret."},
    {"name", TF_STRING, A_REQUIRED, "Name of the image pull secret."},
    {"id", TF_STRING, A_COMPUTED, "Id of the image pull secret."},
    {"registry", TF_STRING, A_COMPUTED, "Registry (normalized) the credential applies to."},
    {"username", TF_STRING, A_COMPUTED, "Registry username."},
    {"description", TF_STRING, A_COMPUTED, "Description."},
    {"password_source", TF_STRING, A_COMPUTED, "inline, secret or remote (never the password)."},
    {"password_updated_at", TF_STRING, A_COMPUTED, "When the password was last set."},
    {NULL, 0, 0, NULL},
};
static const struct tf_block IPS_DS_SCHEMA = {
    IPS_DS_ATTRS, NULL,
    "An existing image pull secret, looked up by name (never its password), e.g. to attach "
    "one managed elsewhere."};

static int ips_read(struct diags *d, struct tfv *state) {
    static const char *const fields[] = {"id",          "registry",        "username",
                                         "description", "password_source", "password_updated_at",
                                         NULL};
    return read_named(d, state, "image-pull-secrets", "image pull secret", fields);
}

static const struct tf_data_source ORGANIZATION_DS = {"agyn_organization", &ORGANIZATION_DS_SCHEMA,
                                                      organization_validate, organization_read};
static const struct tf_data_source AGENT_DS = {"agyn_agent", &AGENT_DS_SCHEMA, validate_org_scoped,
                                               agent_read};
static const struct tf_data_source IPS_DS = {"agyn_image_pull_secret", &IPS_DS_SCHEMA,
                                             validate_org_scoped, ips_read};

const struct tf_data_source *const TF_DATA_SOURCES[] = {&ORGANIZATION_DS, &AGENT_DS, &IPS_DS, NULL};

const struct tf_data_source *tf_data_source_find(const char *type_name) {
    for (size_t i = 0; TF_DATA_SOURCES[i]; i++)
        if (strcmp(TF_DATA_SOURCES[i]->type_name, type_name) == 0)
            return TF_DATA_SOURCES[i];
    return NULL;
}
