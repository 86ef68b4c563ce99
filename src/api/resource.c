/* resource.c — shared handler helpers: scoped loads, public views, lists, conflicts. */
#include "api/resource.h"

#include <stdio.h>
#include <string.h>

#include "api/input.h"
#include "base/log.h"
#include "store/event_log.h"

int resource_load(const struct api_request *req, const struct store_table *table, const char *kind,
                  const char *field, const char *id, json_t **row_out, struct agyn_error *err) {
    if (!uuid_is_valid(id))
        return agyn_fail(err, AGYN_NOT_FOUND, field, "%s \"%s\" not found", kind, id);
    if (store_get(req->app->store, table, table->organization_scoped ? req->org_id : NULL, id,
                  row_out, err) != 0) {
        if (err->code == AGYN_NOT_FOUND)
            agyn_fail(err, AGYN_NOT_FOUND, field, "%s %s not found", kind, id);
        return -1;
    }
    return 0;
}

json_t *resource_public(const struct store_table *table, const json_t *row) {
    json_t *copy = json_deep_copy(row);
    for (size_t i = 0; i < table->column_count; i++)
        if (table->columns[i].flags & (COLUMN_INTERNAL | COLUMN_SEALED))
            json_object_del(copy, table->columns[i].name);
    return copy;
}

void resource_conflict_message(struct agyn_error *err, const char *kind, const char *name) {
    if (err->code != AGYN_CONFLICT || strcmp(err->field, "name") != 0)
        return;
    char message[sizeof err->message];
    snprintf(message, sizeof message, "%s named \"%.200s\" already exists", kind, name ? name : "");
    snprintf(err->message, sizeof err->message, "%s", message);
}

int resource_query_filter(const struct api_request *req, const char *name,
                          struct store_filter *filters, size_t *count, struct agyn_error *err) {
    const char *value = NULL;
    if (input_query_uuid(req, name, &value, err) != 0)
        return -1;
    if (value) {
        filters[*count].column = name;
        filters[*count].value = value;
        (*count)++;
    }
    return 0;
}

int resource_list(struct api_request *req, struct api_response *res,
                  const struct store_table *table, const struct store_filter *filters,
                  size_t filter_count, struct agyn_error *err) {
    struct store_query query = {
        .organization_id = req->org_id, .filters = filters, .filter_count = filter_count};
    if (input_page(req, &query.limit, &query.after_seq, err) != 0)
        return -1;
    struct json_writer out = {0};
    int64_t next = 0;
    json_writer_text(&out, "{\"items\":");
    if (store_list_public_json(req->app->store, table, &query, &out, &next, err) != 0) {
        json_writer_discard(&out);
        return -1;
    }
    char token[32];
    output_page_token(next, token);
    json_writer_text(&out, ",\"next_page_token\":\"");
    json_writer_text(&out, token);
    json_writer_text(&out, "\"}");
    res->body = json_writer_finish(&out, &res->body_len);
    if (!res->body)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory writing the response");
    res->status = 200;
    res->content_type = "application/json";
    return 0;
}

void resource_publish(const struct api_request *req, const char *type, json_t *payload) {
    struct agyn_error err = {0};
    if (event_log_append(req->app->store, req->org_id, type, payload, &err) != 0)
        log_kv("error", "publishing event failed", {"request_id", req->request_id}, {"type", type},
               {"error", err.message});
}
