/* contents.c — counting and naming what a delete of an organization or an agent would cascade
 * to, so that such a delete never removes more than the caller saw. */
#include "api/contents.h"

#include <stdio.h>
#include <string.h>

#include "core/names.h"
#include "store/tables.h"
#include "core/row.h"

/* Appends {"kind", "count", "names"} to out when rows of table match the filter (column =
 * value, or the whole organization when column is NULL). */
static int add_kind(struct api_request *req, const struct store_table *table, const char *kind,
                    const char *label, const char *column, const char *value, json_t *out,
                    struct agyn_error *err) {
    struct store_filter filter = {column, value};
    struct store_query query = {.organization_id = req->org_id,
                                .filters = column ? &filter : NULL,
                                .filter_count = column ? 1 : 0};
    long long count = 0;
    if (store_count(req->app->store, table, &query, &count, err) != 0)
        return -1;
    if (count == 0)
        return 0;
    query.limit = CONTENTS_NAMES_MAX;
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, table, &query, &rows, &next, err) != 0)
        return -1;
    json_t *names = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_t *name = json_object_get(row, label);
        json_array_append(names, json_is_string(name) ? name : json_object_get(row, "id"));
    }
    json_decref(rows);
    json_array_append_new(out, json_pack("{s:s, s:I, s:o}", "kind", kind, "count",
                                         (json_int_t)count, "names", names));
    return 0;
}

int contents_of_organization(struct api_request *req, json_t **out, struct agyn_error *err) {
    *out = json_array();
    if (add_kind(req, &TABLE_AGENTS, "agent", "name", NULL, NULL, *out, err) != 0 ||
        add_kind(req, &TABLE_MCPS, "mcp", "name", NULL, NULL, *out, err) != 0 ||
        add_kind(req, &TABLE_HOOKS, "hook", "event", NULL, NULL, *out, err) != 0 ||
        add_kind(req, &TABLE_IMAGE_PULL_SECRETS, "image_pull_secret", "name", NULL, NULL, *out,
                 err) != 0 ||
        add_kind(req, &TABLE_ATTACHMENTS, "image_pull_secret_attachment", "id", NULL, NULL, *out,
                 err) != 0 ||
        add_kind(req, &TABLE_SECRETS, "secret", "name", NULL, NULL, *out, err) != 0 ||
        add_kind(req, &TABLE_SECRET_PROVIDERS, "secret_provider", "name", NULL, NULL, *out, err) !=
            0 ||
        /* Workloads are not organization_scoped in the store (the runner claims them across
         * organizations): the organization is a filter of its own, else every organization's
         * workloads would be counted and named here. */
        add_kind(req, &TABLE_WORKLOADS, "workload", "id", "organization_id", req->org_id, *out,
                 err) != 0) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* Adds the ids of the rows of table whose agent_id is agent_id to ids. */
static int ids_of_agent_parts(struct api_request *req, const struct store_table *table,
                              const char *agent_id, json_t *ids, struct agyn_error *err) {
    struct store_filter filter = {"agent_id", agent_id};
    struct store_query query = {
        .organization_id = req->org_id, .filters = &filter, .filter_count = 1};
    json_t *rows = NULL;
    int64_t next = 0;
    if (store_list(req->app->store, table, &query, &rows, &next, err) != 0)
        return -1;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        json_array_append(ids, json_object_get(row, "id"));
    }
    json_decref(rows);
    return 0;
}

/* The attachments of the agent and of its MCP servers and hooks: all go with it. */
static int add_agent_attachments(struct api_request *req, const char *agent_id, json_t *out,
                                 struct agyn_error *err) {
    json_t *mcps = json_array(), *hooks = json_array();
    int rc = ids_of_agent_parts(req, &TABLE_MCPS, agent_id, mcps, err);
    if (rc == 0)
        rc = ids_of_agent_parts(req, &TABLE_HOOKS, agent_id, hooks, err);
    json_t *found = json_array();
    if (rc == 0)
        rc = add_kind(req, &TABLE_ATTACHMENTS, "image_pull_secret_attachment", "id", "agent_id",
                      agent_id, found, err);
    const struct {
        json_t *ids;
        const char *column;
    } parts[] = {{mcps, "mcp_id"}, {hooks, "hook_id"}};
    for (size_t p = 0; rc == 0 && p < 2; p++) {
        size_t i;
        json_t *id;
        json_array_foreach(parts[p].ids, i, id) {
            if (rc == 0)
                rc = add_kind(req, &TABLE_ATTACHMENTS, "image_pull_secret_attachment", "id",
                              parts[p].column, json_string_value(id), found, err);
        }
    }
    if (rc == 0 && json_array_size(found) > 0) { /* one entry summing them */
        json_t *names = json_array();
        json_int_t count = 0;
        size_t i;
        json_t *entry;
        json_array_foreach(found, i, entry) {
            count += json_integer_value(json_object_get(entry, "count"));
            size_t j;
            json_t *name;
            json_array_foreach(json_object_get(entry, "names"), j, name) {
                if (json_array_size(names) < CONTENTS_NAMES_MAX)
                    json_array_append(names, name);
            }
        }
        json_array_append_new(out,
                              json_pack("{s:s, s:I, s:o}", "kind", "image_pull_secret_attachment",
                                        "count", count, "names", names));
    }
    json_decref(found);
    json_decref(mcps);
    json_decref(hooks);
    return rc;
}

int contents_of_agent(struct api_request *req, const char *agent_id, json_t **out,
                      struct agyn_error *err) {
    *out = json_array();
    if (add_kind(req, &TABLE_MCPS, "mcp", "name", "agent_id", agent_id, *out, err) != 0 ||
        add_kind(req, &TABLE_HOOKS, "hook", "event", "agent_id", agent_id, *out, err) != 0 ||
        add_agent_attachments(req, agent_id, *out, err) != 0) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* "2 agents (a, b), 1 mcp (files)" into message; cut on a whole UTF-8 character. */
static void describe(json_t *contents, char *message, size_t size, size_t len) {
    size_t i;
    json_t *entry;
    json_array_foreach(contents, i, entry) {
        long long count = (long long)json_integer_value(json_object_get(entry, "count"));
        const char *kind = row_text(entry, "kind");
        if (len < size)
            len += (size_t)snprintf(message + len, size - len, "%s %lld %s%s (", i ? "," : "",
                                    count, kind ? kind : "?", count == 1 ? "" : "s");
        size_t j;
        json_t *name;
        json_array_foreach(json_object_get(entry, "names"), j, name) {
            if (len < size)
                len += (size_t)snprintf(message + len, size - len, "%s\"%s\"", j ? ", " : "",
                                        json_string_value(name) ? json_string_value(name) : "?");
        }
        if (len < size)
            len += (size_t)snprintf(
                message + len, size - len, "%s)",
                (long long)json_array_size(json_object_get(entry, "names")) < count ? ", ..." : "");
    }
    if (len >= size)
        len = size - 1;
    message[len] = '\0';
    while (len > 0 && !utf8_is_valid(message, len))
        message[--len] = '\0';
}

int contents_conflict(struct api_response *res, const char *what, json_t *contents) {
    char message[1024];
    size_t len =
        (size_t)snprintf(message, sizeof message,
                         "%s is not empty; delete with ?cascade=true to remove it with", what);
    describe(contents, message, sizeof message, len < sizeof message ? len : sizeof message);
    json_t *error =
        json_pack("{s:s, s:s, s:o}", "code", "conflict", "message", message, "contents", contents);
    return respond_json(res, 409, json_pack("{s:o}", "error", error));
}

int contents_removed(struct api_response *res, const char *id, json_t *contents) {
    return respond_json(res, 200, json_pack("{s:s, s:o}", "id", id, "removed", contents));
}
