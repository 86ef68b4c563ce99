/* crud.c — the verbs every organization collection shares: list (every page, with query
 * filters), get, create/update (send a body, print the answer) and delete, by id or name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "cli/table_names.h"

int query_add(struct cli *cli, char *query, size_t size, const char *name, const char *value) {
    char *escaped = http_escape(cli, value);
    size_t len = strlen(query);
    int n =
        escaped ? snprintf(query + len, size - len, "%s%s=%s", len ? "&" : "?", name, escaped) : -1;
    free(escaped);
    if (n >= 0 && (size_t)n < size - len)
        return CLI_OK;
    query[len] = '\0';
    fprintf(stderr, "agyn: the %s filter is too long\n", name);
    return CLI_USAGE;
}

int crud_filter(struct cli *cli, const struct args *a, const char *flag,
                const struct collection *target, const char *param, char *query, size_t size) {
    const char *arg = args_get(a, flag);
    if (!arg)
        return CLI_OK;
    char id[AGYN_UUID_LEN + 1];
    int rc = resolve_id(cli, target->path, target->label, target->noun, arg, id);
    return rc == CLI_OK ? query_add(cli, query, size, param, id) : rc;
}

int crud_list(struct cli *cli, const struct collection *c, const char *query) {
    int rc;
    char *path = org_path(cli, &rc, "/%s%s", c->path, query ? query : "");
    if (!path)
        return rc;
    json_t *items = NULL;
    rc = api_list_all(cli, path, &items);
    free(path);
    if (rc == CLI_OK) {
        table_names_fill(cli, items, c->columns);
        output_list(cli, items, c->columns, c->plural);
    }
    json_decref(items);
    return rc;
}

int crud_resolve(struct cli *cli, const struct collection *c, const char *arg,
                 char id[AGYN_UUID_LEN + 1]) {
    return resolve_id(cli, c->path, c->label, c->noun, arg, id);
}

int crud_get(struct cli *cli, const struct collection *c, const char *arg, json_t **out) {
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, c, arg, id);
    if (rc != CLI_OK)
        return rc;
    char *path = org_path(cli, &rc, "/%s/%s", c->path, id);
    if (!path)
        return rc;
    json_t *item = NULL;
    rc = api_call(cli, "GET", path, NULL, &item);
    free(path);
    if (rc == CLI_OK && out)
        *out = item;
    else if (rc == CLI_OK) {
        output_item(cli, item);
        json_decref(item);
    }
    return rc;
}

int crud_send(struct cli *cli, const struct collection *c, const char *id, const json_t *body) {
    int rc;
    char *path =
        id ? org_path(cli, &rc, "/%s/%s", c->path, id) : org_path(cli, &rc, "/%s", c->path);
    if (!path)
        return rc;
    json_t *item = NULL;
    rc = api_call(cli, id ? "PATCH" : "POST", path, body, &item);
    free(path);
    if (rc == CLI_OK)
        output_item(cli, item);
    json_decref(item);
    return rc;
}

int crud_delete(struct cli *cli, const struct collection *c, const char *arg, const char *query) {
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, c, arg, id);
    if (rc != CLI_OK)
        return rc;
    char *path = org_path(cli, &rc, "/%s/%s%s", c->path, id, query ? query : "");
    if (!path)
        return rc;
    rc = api_call(cli, "DELETE", path, NULL, NULL);
    free(path);
    if (rc == CLI_OK)
        output_done(cli, c->noun, id, "deleted");
    return rc;
}

int crud_needs_change(const json_t *body, const char *where) {
    if (json_object_size(body) == 0)
        return usage_error(where, "nothing to change; give at least one flag");
    return CLI_OK;
}

void body_set_flag(json_t *body, const struct args *a, const char *flag, const char *field) {
    const char *value = args_get(a, flag);
    if (value)
        json_object_set_new(body, field, json_string(value));
}

int crud_check(struct cli *cli, const struct collection *c, const char *arg, const char *action) {
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, c, arg, id);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/%s/%s/%s", c->path, id, action) : NULL;
    if (!path)
        return rc;
    json_t *result = NULL;
    rc = api_call(cli, "POST", path, NULL, &result);
    free(path);
    if (rc == CLI_OK) {
        output_item(cli, result);
        rc = json_is_true(json_object_get(result, "ok")) ? CLI_OK : CLI_FAIL;
    }
    json_decref(result);
    return rc;
}
