/* h_tokens.c — an organization's API tokens: the value is shown once, on create. */
#include <string.h>

#include <openssl/crypto.h>

#include "api/auth.h"
#include "api/handlers.h"
#include "api/input.h"
#include "api/resource.h"
#include "store/tables.h"

HANDLER(h_tokens_create) {
    static const char *const fields[] = {"name", "role", NULL};
    const char *name = NULL, *role = NULL;
    struct field_errors fe = {0};
    struct agyn_error *e = &fe.scratch;
    if (input_object_fields(req, fields, &fe, err) != 0)
        return -1;
    if (field_check(&fe, input_string(req->body, "name", true, &name, e)))
        field_check(&fe, name_validate(name, "name", e));
    if (field_check(&fe, input_string(req->body, "role", true, &role, e)) &&
        strcmp(role, "owner") != 0 && strcmp(role, "member") != 0)
        field_check(
            &fe, agyn_fail(e, AGYN_UNPROCESSABLE, "role", "role must be \"owner\" or \"member\""));
    if (field_errors_finish(req, &fe, err) != 0)
        return -1;
    char value[TOKEN_VALUE_LEN + 1];
    json_t *row = NULL;
    if (auth_token_create(req->app->store, req->org_id, name, role, value, &row, err) != 0)
        return -1;
    json_t *out = resource_public(&TABLE_API_TOKENS, row);
    json_decref(row);
    json_object_set_new(out, "token", json_string(value));
    OPENSSL_cleanse(value, sizeof value);
    return respond_json(res, 201, out);
}

HANDLER(h_tokens_list) {
    return resource_list(req, res, &TABLE_API_TOKENS,
                         &(struct store_filter){"organization_id", req->org_id}, 1, err);
}

HANDLER(h_tokens_delete) {
    struct store_filter filters[] = {{"id", req->id}, {"organization_id", req->org_id}};
    struct store_query query = {.filters = filters, .filter_count = 2};
    int removed = 0;
    if (store_delete_where(req->app->store, &TABLE_API_TOKENS, &query, &removed, err) != 0)
        return -1;
    if (removed == 0)
        return agyn_fail(err, AGYN_NOT_FOUND, "id", "token %s not found", req->id);
    auth_revoked(req->app->store, NULL); /* here and on every replica */
    res->status = 204;
    return 0;
}
