/* resource.c — shared handler helpers: scoped loads, public views, lists, conflicts. */
#include "api/resource.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/input.h"
#include "api/page_cache.h"
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

/* The cache key of a list page: everything the page depends on (table, organization, page,
 * filters) and everything that authorized it (the principal's role, organization and token),
 * so that a cached page is only ever served to the very authorization it was rendered for.
 * 0 when it does not fit (the page is then simply not cached). */
static int list_page_key(const struct api_request *req, const struct store_table *table,
                         const struct store_query *query, char *key, size_t size) {
    const struct principal *who = &req->principal;
    int used =
        snprintf(key, size, "%s|%s|%d|%s|%s|%d|%lld", table->name, req->org_id, (int)who->role,
                 who->organization_id, who->token_id, query->limit, (long long)query->after_seq);
    for (size_t i = 0; i < query->filter_count && used > 0 && (size_t)used < size; i++) {
        const struct store_filter *filter = &query->filters[i];
        const char *value = filter->value ? filter->value : "";
        /* The value's length first: a value holding '|' cannot pass for two filters. */
        used += snprintf(key + used, size - (size_t)used, "|%s%c%zu:%s", filter->column,
                         filter->value ? '=' : '~', strlen(value), value);
    }
    return used > 0 && (size_t)used < size;
}

static int respond_page(struct api_response *res, struct cached_page *page) {
    res->static_body = page->body;
    res->body_len = page->len;
    res->body_release = page_cache_release;
    res->body_cls = page;
    res->status = 200;
    res->content_type = "application/json";
    return 0;
}

int resource_list(struct api_request *req, struct api_response *res,
                  const struct store_table *table, const struct store_filter *filters,
                  size_t filter_count, struct agyn_error *err) {
    struct store_query query = {
        .organization_id = req->org_id, .filters = filters, .filter_count = filter_count};
    if (input_page(req, &query.limit, &query.after_seq, err) != 0)
        return -1;
    /* The version is read before the rows: a commit after it makes the page stale at once. */
    char key[256];
    uint64_t version = list_page_key(req, table, &query, key, sizeof key)
                           ? store_data_version(req->app->store)
                           : 0;
    struct cached_page *page = page_cache_get(key, version);
    if (page)
        return respond_page(res, page);
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
    page = page_cache_put(key, version, res->body, res->body_len);
    if (page) {
        free(res->body);
        res->body = NULL;
        return respond_page(res, page);
    }
    return 0;
}

void resource_publish(const struct api_request *req, const char *type, json_t *payload) {
    struct agyn_error err = {0};
    if (event_log_append(req->app->store, req->org_id, type, payload, &err) != 0)
        log_kv("error", "publishing event failed", {"request_id", req->request_id}, {"type", type},
               {"error", err.message});
}
