/* referrers.c — finding the rows that refer to a credential before it is deleted. */
#include "api/referrers.h"

#include <stdio.h>
#include <string.h>

#include "core/row.h"
#include "core/names.h"
#include "store/tables.h"

static int collect(struct api_request *req, const struct store_table *table, const char *kind,
                   const char *column, const char *value, const char *label, json_t *out,
                   struct agyn_error *err) {
    struct store_filter filter = {column, value};
    struct store_query query = {
        .organization_id = req->org_id, .filters = &filter, .filter_count = 1};
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, table, &query, &rows, &next, err) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_array_append_new(out, json_pack("{s:s, s:O, s:O}", "kind", kind, "id",
                                             json_object_get(row, "id"), "name",
                                             json_object_get(row, label)));
    }
    json_decref(rows);
    return 0;
}

int referrers_of_provider(struct api_request *req, const char *provider_id, json_t **out,
                          struct agyn_error *err) {
    *out = json_array();
    if (collect(req, &TABLE_SECRETS, "secret", "provider_id", provider_id, "name", *out, err) !=
            0 ||
        collect(req, &TABLE_IMAGE_PULL_SECRETS, "image_pull_secret", "provider_id", provider_id,
                "name", *out, err) != 0) {
        json_decref(*out);
        return -1;
    }
    return 0;
}

int referrers_of_secret(struct api_request *req, const char *secret_id, json_t **out,
                        struct agyn_error *err) {
    *out = json_array();
    if (collect(req, &TABLE_IMAGE_PULL_SECRETS, "image_pull_secret", "password_secret_id",
                secret_id, "name", *out, err) != 0) {
        json_decref(*out);
        return -1;
    }
    return 0;
}

/* The target of an attachment: its kind, id and display label. */
static void describe_target(struct api_request *req, json_t *attachment) {
    static const struct {
        const char *column, *kind, *label;
        const struct store_table *table;
    } targets[] = {{"agent_id", "agent", "name", &TABLE_AGENTS},
                   {"mcp_id", "mcp", "name", &TABLE_MCPS},
                   {"hook_id", "hook", "event", &TABLE_HOOKS}};
    for (size_t t = 0; t < sizeof targets / sizeof targets[0]; t++) {
        const char *id = row_text(attachment, targets[t].column);
        if (!id)
            continue;
        json_object_set_new(attachment, "target_kind", json_string(targets[t].kind));
        json_object_set_new(attachment, "target_id", json_string(id));
        json_t *row = NULL;
        struct agyn_error ignored;
        if (store_get(req->app->store, targets[t].table, req->org_id, id, &row, &ignored) == 0) {
            json_object_set(attachment, "target_name", json_object_get(row, targets[t].label));
            json_decref(row);
        }
    }
}

int attachments_of_image_pull_secret(struct api_request *req, const char *secret_id, json_t **out,
                                     struct agyn_error *err) {
    struct store_filter filter = {"image_pull_secret_id", secret_id};
    struct store_query query = {
        .organization_id = req->org_id, .filters = &filter, .filter_count = 1};
    int64_t next = 0;
    if (store_list(req->app->store, &TABLE_ATTACHMENTS, &query, out, &next, err) != 0)
        return -1;
    size_t i;
    json_t *attachment;
    json_array_foreach(*out, i, attachment) {
        describe_target(req, attachment);
    }
    return 0;
}

int referrers_conflict(struct api_response *res, const char *noun, json_t *referrers,
                       const char *hint) {
    char message[900];
    size_t len = (size_t)snprintf(message, sizeof message, "%s is still used by", noun);
    size_t i;
    json_t *ref;
    json_array_foreach(referrers, i, ref) {
        const char *kind = row_text(ref, "target_kind");
        const char *name = row_text(ref, "target_name");
        if (!kind) {
            kind = row_text(ref, "kind");
            name = row_text(ref, "name");
        }
        if (len < sizeof message)
            len += (size_t)snprintf(message + len, sizeof message - len, "%s %s \"%s\"",
                                    i ? "," : "", kind ? kind : "?", name ? name : "?");
    }
    if (hint && len < sizeof message)
        snprintf(message + len, sizeof message - len, "; %s", hint);
    /* A cut may fall inside a multi-byte name, and json_pack refuses invalid UTF-8 (the 409
     * would lose its body): end the message on a whole character. */
    size_t end = strlen(message);
    while (end > 0 && !utf8_is_valid(message, end))
        end--;
    message[end] = '\0';
    json_t *error = json_pack("{s:s, s:s, s:o}", "code", "conflict", "message", message,
                              "referrers", referrers);
    return respond_json(res, 409, json_pack("{s:o}", "error", error));
}
