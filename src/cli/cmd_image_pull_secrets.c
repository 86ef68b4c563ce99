/* cmd_image_pull_secrets.c — "agyn image-pull-secrets": registry credentials. The password is
 * write-only: it comes from stdin, a file, a Secret or a provider's remote path (the --password
 * flag exists but shows in ps and shell history), and no output ever carries it. Also import of
 * a Docker config.json and verification against the registry. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "cli/docker_helpers.h"
#include "cli/import_update.h"
#include "cli/partial_update.h"
#include "core/row.h"

static const struct column IPS_COLUMNS[] = {{"ID", "id"},
                                            {"NAME", "name"},
                                            {"REGISTRY", "registry"},
                                            {"USERNAME", "username"},
                                            {"SOURCE", "password_source"},
                                            {"PASSWORD UPDATED", "password_updated_at"},
                                            {NULL, NULL}};

const struct collection IMAGE_PULL_SECRETS = {"image-pull-secrets", "name", "image pull secret",
                                              "image pull secrets", IPS_COLUMNS};

static const struct value_source PASSWORD = {"password", true, "password", "password_secret_id"};

static const char *const IPS_FLAGS[] = {
    "name=",          "registry=", "username=", "description=", "password-stdin",
    "password-file=", "password=", "secret=",   "provider=",    "remote-path=",
    "ecr-provider=",  "plugin=",   NULL};

/* --ecr-provider or --plugin: a short-lived login whose username comes with the password.
 * Returns CLI_OK with *given false when neither is used. */
static int short_lived_from_flags(struct cli *cli, const struct args *a, const char *where,
                                  json_t *body, bool *given) {
    bool ecr = args_has(a, "ecr-provider"), plugin = args_has(a, "plugin");
    *given = ecr || plugin;
    if (!*given)
        return CLI_OK;
    static const char *const others[] = {"password-stdin", "password-file", "password", "secret",
                                         "provider",       "remote-path",   "username", NULL};
    for (const char *const *flag = others; *flag; flag++)
        if (args_has(a, *flag))
            return usage_error(where,
                               "--%s cannot be used with --%s (it gives the username "
                               "and password)",
                               *flag, ecr ? "ecr-provider" : "plugin");
    if (ecr && plugin)
        return usage_error(where, "give only one of --ecr-provider and --plugin");
    json_object_set_new(body, "password_source", json_string(ecr ? "ecr" : "plugin"));
    if (plugin) {
        body_set_flag(body, a, "plugin", "plugin");
        return CLI_OK;
    }
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, &SECRET_PROVIDERS, args_get(a, "ecr-provider"), id);
    if (rc == CLI_OK)
        json_object_set_new(body, "provider_id", json_string(id));
    return rc;
}

static int ips_create(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "image-pull-secrets create";
    json_t *body = json_object();
    bool short_lived = false;
    int rc = short_lived_from_flags(cli, a, where, body, &short_lived);
    if (rc == CLI_OK)
        rc = short_lived ? args_require(a, where, "name", "registry", NULL)
                         : args_require(a, where, "name", "registry", "username", NULL);
    body_set_flag(body, a, "name", "name");
    body_set_flag(body, a, "description", "description");
    body_set_flag(body, a, "registry", "registry");
    body_set_flag(body, a, "username", "username");
    if (rc == CLI_OK && !short_lived)
        rc = source_from_flags(cli, a, &PASSWORD, true, where, body);
    if (rc == CLI_OK)
        rc = crud_send(cli, &IMAGE_PULL_SECRETS, NULL, body);
    json_decref(body);
    return rc;
}

/* Edits in place; a new password (rotation) is used by the next workload start. */
static int ips_update(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "image-pull-secrets update";
    char id[AGYN_UUID_LEN + 1];
    json_t *body = json_object();
    body_set_flag(body, a, "name", "name");
    body_set_flag(body, a, "description", "description");
    body_set_flag(body, a, "registry", "registry");
    body_set_flag(body, a, "username", "username");
    bool short_lived = false;
    int rc = short_lived_from_flags(cli, a, where, body, &short_lived);
    if (rc == CLI_OK && !short_lived)
        rc = source_from_flags_keeping(cli, a, &PASSWORD, &IMAGE_PULL_SECRETS, where, body);
    if (rc == CLI_OK)
        rc = crud_needs_change(body, where);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, &IMAGE_PULL_SECRETS, a->pos[0], id);
    if (rc == CLI_OK)
        rc = crud_send(cli, &IMAGE_PULL_SECRETS, id, body);
    json_decref(body);
    return rc;
}

static int ips_list(struct cli *cli, const struct args *a, const void *data) {
    char query[QUERY_MAX] = "";
    int rc = crud_filter(cli, a, "provider", &SECRET_PROVIDERS, "provider_id", query, sizeof query);
    if (rc == CLI_OK)
        rc = crud_filter(cli, a, "secret", &SECRETS, "password_secret_id", query, sizeof query);
    if (rc == CLI_OK && args_has(a, "registry"))
        rc = query_add(cli, query, sizeof query, "registry", args_get(a, "registry"));
    return rc == CLI_OK ? crud_list(cli, &IMAGE_PULL_SECRETS, query) : rc;
}

static int ips_get(struct cli *cli, const struct args *a, const void *data) {
    return crud_get(cli, &IMAGE_PULL_SECRETS, a->pos[0], NULL);
}

/* Refused while attached (the API lists where) unless --detach. */
static int ips_delete(struct cli *cli, const struct args *a, const void *data) {
    char id[AGYN_UUID_LEN + 1];
    bool detach = args_has(a, "detach");
    int rc = crud_resolve(cli, &IMAGE_PULL_SECRETS, a->pos[0], id);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/image-pull-secrets/%s%s", id,
                                         detach ? "?detach=true" : "")
                              : NULL;
    if (!path)
        return rc;
    json_t *response = NULL;
    int status = api_call_status(cli, "DELETE", path, NULL, 0, &response);
    free(path);
    if (status >= 300) {
        api_print_error(NULL, status, response);
        if (status == 409 && !detach)
            fprintf(stderr, "agyn: add --detach to detach it everywhere and delete it\n");
    } else if (status >= 0) {
        output_done(cli, "image pull secret", id, "deleted");
    }
    json_decref(response);
    return status >= 0 && status < 300 ? CLI_OK : CLI_FAIL;
}

static const struct column IMPORTED_COLUMNS[] = {{"ID", "id"},
                                                 {"NAME", "name"},
                                                 {"REGISTRY", "registry"},
                                                 {"USERNAME", "username"},
                                                 {NULL, NULL}};

/* The config text with its credsStore / credHelpers entries resolved (docker_helpers.c); the
 * text as it was when it is not such a JSON object (the API then says what is wrong). The old
 * text is freed; NULL when out of memory. */
static char *resolve_credential_helpers(char *text, json_t *problems) {
    json_t *config = json_loads(text, 0, NULL);
    if (!json_is_object(config) ||
        (!json_object_get(config, "credsStore") && !json_object_get(config, "credHelpers"))) {
        json_decref(config);
        return text;
    }
    secret_free(text);
    docker_config_resolve_helpers(config, problems);
    char *resolved = json_dumps(config, JSON_COMPACT);
    json_decref(config);
    return resolved;
}

/* POST .../import with a Docker config.json: one secret per "auths" entry; entries the API
 * refuses are reported one by one (exit 1 if any). */
static int ips_import(struct cli *cli, const struct args *a, const void *data) {
    const char *file = a->pos[0];
    char *text = secret_read_file(strcmp(file, "-") == 0 ? "/dev/stdin" : file);
    if (!text)
        return CLI_FAIL;
    json_t *problems = json_array(); /* credential helper entries that could not be resolved */
    text = resolve_credential_helpers(text, problems);
    if (!text) {
        json_decref(problems);
        return CLI_FAIL;
    }
    int rc;
    char *path = org_path(cli, &rc, "/image-pull-secrets/import");
    json_t *result = NULL;
    int status = path ? api_call_status(cli, "POST", path, text, strlen(text), &result) : -1;
    free(path);
    if (!path || status < 0) {
        secret_free(text);
        json_decref(problems);
        return path ? CLI_FAIL : rc;
    }
    json_t *created = json_object_get(result, "created");
    json_t *errors = json_object_get(result, "errors");
    if (!json_is_array(created) || !json_is_array(errors)) {
        secret_free(text);
        api_print_error(NULL, status, result);
        json_decref(result);
        json_decref(problems);
        return CLI_FAIL;
    }
    json_t *updated = json_array();
    if (args_has(a, "update-existing"))
        import_update_existing(cli, text, errors, updated);
    secret_free(text);
    json_object_set_new(result, "updated", updated);
    if (cli->output == OUTPUT_JSON)
        output_json(result);
    else if (json_array_size(created) + json_array_size(updated) > 0) {
        json_t *rows = json_array();
        json_array_extend(rows, created);
        json_array_extend(rows, updated);
        output_table(rows, IMPORTED_COLUMNS);
        json_decref(rows);
    }
    size_t i;
    const json_t *entry;
    json_array_foreach(errors, i, entry) {
        const char *key = row_text(entry, "key");
        json_t *wrapped = json_pack("{s:O}", "error", json_object_get(entry, "error"));
        api_print_error(key ? key : "?", status, wrapped);
        json_decref(wrapped);
    }
    json_array_foreach(problems, i, entry) {
        fprintf(stderr, "agyn: %s: %s\n", row_text(entry, "key"), row_text(entry, "message"));
    }
    size_t failed = json_array_size(errors) + json_array_size(problems);
    if (cli->output == OUTPUT_TABLE)
        fprintf(stderr, "Imported %zu of %zu entries%s.\n",
                json_array_size(created) + json_array_size(updated),
                json_array_size(created) + json_array_size(updated) + failed,
                json_array_size(updated) ? " (existing ones updated)" : "");
    rc = failed == 0 ? CLI_OK : CLI_FAIL;
    json_decref(result);
    json_decref(problems);
    return rc;
}

/* POST .../verify: logs in to the registry now; exit 1 when that fails. */
static int ips_verify(struct cli *cli, const struct args *a, const void *data) {
    return crud_check(cli, &IMAGE_PULL_SECRETS, a->pos[0], "verify");
}

static const char IPS_HELP[] =
    "  --name NAME              display name, unique in the organization\n"
    "  --registry HOST          registry host[:port][/path], e.g. ghcr.io,\n"
    "                           123456789012.dkr.ecr.us-west-2.amazonaws.com, *.corp.io\n"
    "  --username USER          registry username\n"
    "  --description TEXT\n"
    "The password, from exactly one source (update: optional; rotates it in place):\n"
    "  --password-stdin         read it from stdin (a terminal prompts without echo)\n"
    "  --password-file FILE     read it from a file\n"
    "  --secret ID|NAME         use a Secret's value\n"
    "  --provider ID|NAME --remote-path PATH\n"
    "                           read it from a secret provider at each workload start\n"
    "  --password PASSWORD      UNSAFE: visible in ps and shell history\n"
    "Or a short-lived login fetched at each workload start (no --username: it comes with\n"
    "the password):\n"
    "  --ecr-provider ID|NAME   an Amazon ECR token (GetAuthorizationToken) through this\n"
    "                           aws-secrets-manager provider, cached until 10 minutes\n"
    "                           before it expires\n"
    "  --plugin NAME            a kubelet credential-provider plugin the operator\n"
    "                           configured (GET /api/v1/credential-provider-plugins)\n"
    "A trailing newline of the password read is dropped. The password is never shown.\n"
    "Update with a new --registry needs the password source again (agyn sends a stored\n"
    "password only to the registry it was given for).\n";

static const char *const LIST_FLAGS[] = {"registry=", "provider=", "secret=", NULL};
static const char *const DELETE_FLAGS[] = {"detach", NULL};
static const char *const IMPORT_FLAGS[] = {"update-existing", NULL};

const struct verb IMAGE_PULL_SECRET_VERBS[] = {
    {"list", "[--registry HOST] [--provider ID|NAME] [--secret ID|NAME]",
     "List image pull secrets (never their passwords)",
     "  --registry HOST       only those for this registry (normalized like on create)\n"
     "  --provider ID|NAME    only those reading from this provider\n"
     "  --secret ID|NAME      only those using this Secret\n",
     LIST_FLAGS, 0, 0, ips_list, NULL},
    {"get", "ID|NAME", "Show an image pull secret", NULL, NULL, 1, 1, ips_get, NULL},
    {"create",
     "--name NAME --registry HOST (--username USER (--password-stdin | --password-file FILE | "
     "--secret ID | --provider ID --remote-path PATH) | --ecr-provider ID | --plugin NAME) "
     "[--description TEXT]",
     "Create an image pull secret", IPS_HELP, IPS_FLAGS, 0, 0, ips_create, NULL},
    {"update", "ID|NAME [--password-stdin | ...] [--name NAME] [--registry HOST] ...",
     "Edit an image pull secret in place, e.g. rotate its password", IPS_HELP, IPS_FLAGS, 1, 1,
     ips_update, NULL},
    {"delete", "ID|NAME [--detach]", "Delete an image pull secret",
     "  --detach    also detach it from every agent, MCP server and hook (without it, a\n"
     "              secret still attached somewhere is not deleted)\n",
     DELETE_FLAGS, 1, 1, ips_delete, NULL},
    {"import", "FILE [--update-existing]",
     "Create one image pull secret per entry of a Docker config.json (FILE - reads stdin)",
     "Each \"auths\" entry becomes a secret named after its registry, with an inline password.\n"
     "Entries kept by a credential store or helper (\"credsStore\", \"credHelpers\") are read\n"
     "with docker-credential-<helper> get, as Docker does. Entries that cannot be imported or\n"
     "resolved are reported one by one (exit status 1).\n"
     "  --update-existing    update the username and password of a secret that an\n"
     "                       earlier import made, instead of reporting it as existing\n",
     IMPORT_FLAGS, 1, 1, ips_import, NULL},
    {"verify", "ID|NAME", "Log in to the registry with it now (exit 1 if that fails)", NULL, NULL,
     1, 1, ips_verify, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
