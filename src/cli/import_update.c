/* import_update.c — `ips import --update-existing`: makes a repeated import idempotent. The
 * entries the API refused because a secret named after the registry already exists
 * (error code "conflict") get that secret's username and password updated in place instead. */
#include "cli/import_update.h"

#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "core/docker_config.h"
#include "core/row.h"

/* PATCHes the secret named registry with entry's credentials. */
static int update_one(struct cli *cli, const struct docker_config_entry *entry, json_t *updated) {
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, &IMAGE_PULL_SECRETS, entry->registry, id);
    if (rc != CLI_OK)
        return rc;
    char *path = org_path(cli, &rc, "/image-pull-secrets/%s", id);
    if (!path)
        return rc;
    json_t *body =
        json_pack("{s:s, s:s}", "username", entry->username, "password", entry->password);
    json_t *answer = NULL;
    rc = body ? api_call(cli, "PATCH", path, body, &answer) : CLI_FAIL;
    free(path);
    json_decref(body); /* jansson's copy of the password is wiped by the wiping allocator */
    if (rc == CLI_OK)
        json_array_append(updated, answer);
    json_decref(answer);
    return rc;
}

int import_update_existing(struct cli *cli, const char *config_text, json_t *errors,
                           json_t *updated) {
    struct docker_config_entry *entries = NULL;
    size_t count = 0;
    struct agyn_error err = {0};
    if (docker_config_parse(config_text, strlen(config_text), &entries, &count, &err) != 0)
        return CLI_OK; /* the API already reported the file */
    int rc = CLI_OK;
    size_t i = 0;
    while (i < json_array_size(errors)) {
        const json_t *failure = json_array_get(errors, i);
        const char *key = row_text(failure, "key");
        const char *code =
            json_string_value(json_object_get(json_object_get(failure, "error"), "code"));
        const struct docker_config_entry *entry = NULL;
        for (size_t k = 0; key && k < count && !entry; k++)
            if (strcmp(entries[k].key, key) == 0 && entries[k].error.code == AGYN_OK)
                entry = &entries[k];
        if (entry && code && strcmp(code, "conflict") == 0) {
            int one = update_one(cli, entry, updated);
            if (one == CLI_OK) {
                json_array_remove(errors, i);
                continue;
            }
            rc = one;
        }
        i++;
    }
    docker_config_entries_free(entries, count);
    return rc;
}
