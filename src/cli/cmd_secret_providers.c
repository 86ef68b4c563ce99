/* cmd_secret_providers.c — "agyn secret-providers": where remote passwords live (Vault,
 * AWS Secrets Manager). The provider's own credential (Vault token, AWS secret access key) is
 * read from stdin or a file, never from the command line, and never shown. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"

static const struct column PROVIDER_COLUMNS[] = {{"ID", "id"},
                                                 {"NAME", "name"},
                                                 {"TYPE", "type"},
                                                 {"ADDRESS/REGION", "config.address|config.region"},
                                                 {"CREATED", "created_at"},
                                                 {NULL, NULL}};

const struct collection SECRET_PROVIDERS = {"secret-providers", "name", "secret provider",
                                            "secret providers", PROVIDER_COLUMNS};

static const char *const PROVIDER_FLAGS[] = {"name=",
                                             "type=",
                                             "address=",
                                             "namespace=",
                                             "region=",
                                             "access-key-id=",
                                             "endpoint-url=",
                                             "vault-token-stdin",
                                             "vault-token-file=",
                                             "aws-secret-access-key-stdin",
                                             "aws-secret-access-key-file=",
                                             "token-stdin", /* the older names of these four */
                                             "token-file=",
                                             "secret-access-key-stdin",
                                             "secret-access-key-file=",
                                             "session-token-file=",
                                             NULL};

/* The config object from the flags: public fields as given, credentials read from stdin or a
 * file. Returns CLI_OK or an exit code (printed). */
static int config_from_flags(const struct args *a, const char *where, json_t *config) {
    body_set_flag(config, a, "address", "address");
    body_set_flag(config, a, "namespace", "namespace");
    body_set_flag(config, a, "region", "region");
    body_set_flag(config, a, "access-key-id", "access_key_id");
    body_set_flag(config, a, "endpoint-url", "endpoint_url");
    static const char *const credential_flags[] = {
        "vault-token-stdin",          "vault-token-file",      "aws-secret-access-key-stdin",
        "aws-secret-access-key-file", "token-stdin",           "token-file",
        "secret-access-key-stdin",    "secret-access-key-file"};
    int credentials_given = 0;
    for (size_t i = 0; i < sizeof credential_flags / sizeof *credential_flags; i++)
        credentials_given += args_has(a, credential_flags[i]);
    if (credentials_given > 1)
        return usage_error(where, "give one of --vault-token-stdin, --vault-token-file, "
                                  "--aws-secret-access-key-stdin or --aws-secret-access-key-file");
    int got = secret_flag(a, "vault-token", false, "token", where, config);
    if (got == 0)
        got = secret_flag(a, "token", false, "token", where, config);
    if (got == 0)
        got = secret_flag(a, "aws-secret-access-key", false, "secret_access_key", where, config);
    if (got == 0)
        got = secret_flag(a, "secret-access-key", false, "secret_access_key", where, config);
    if (got >= 0 && args_has(a, "session-token-file")) {
        char *value = secret_read_file(args_get(a, "session-token-file"));
        if (!value)
            return CLI_FAIL;
        json_object_set_new(config, "session_token", json_string(value));
        secret_free(value);
    }
    return got < 0 ? -got : CLI_OK;
}

static int providers_create(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "secret-providers create";
    int rc = args_require(a, where, "name", "type", NULL);
    if (rc != CLI_OK)
        return rc;
    json_t *config = json_object();
    rc = config_from_flags(a, where, config);
    json_t *body = json_pack("{s:s, s:s, s:o}", "name", args_get(a, "name"), "type",
                             args_get(a, "type"), "config", config);
    if (rc == CLI_OK)
        rc = crud_send(cli, &SECRET_PROVIDERS, NULL, body);
    json_decref(body);
    return rc;
}

static int providers_update(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "secret-providers update";
    char id[AGYN_UUID_LEN + 1];
    json_t *config = json_object(), *body = json_object();
    int rc = config_from_flags(a, where, config);
    body_set_flag(body, a, "name", "name");
    body_set_flag(body, a, "type", "type");
    if (json_object_size(config))
        json_object_set(body, "config", config);
    json_decref(config);
    if (rc == CLI_OK)
        rc = crud_needs_change(body, where);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, &SECRET_PROVIDERS, a->pos[0], id);
    if (rc == CLI_OK)
        rc = crud_send(cli, &SECRET_PROVIDERS, id, body);
    json_decref(body);
    return rc;
}

static int providers_list(struct cli *cli, const struct args *a, const void *data) {
    return crud_list(cli, &SECRET_PROVIDERS, NULL);
}

static int providers_get(struct cli *cli, const struct args *a, const void *data) {
    return crud_get(cli, &SECRET_PROVIDERS, a->pos[0], NULL);
}

static int providers_delete(struct cli *cli, const struct args *a, const void *data) {
    return crud_delete(cli, &SECRET_PROVIDERS, a->pos[0], NULL);
}

/* POST .../test: {ok, message}; exit 1 when not ok. */
static int providers_test(struct cli *cli, const struct args *a, const void *data) {
    return crud_check(cli, &SECRET_PROVIDERS, a->pos[0], "test");
}

static const char PROVIDER_HELP[] =
    "  --name NAME                      unique in the organization\n"
    "  --type TYPE                      vault or aws-secrets-manager\n"
    "Vault (KV v2):\n"
    "  --address URL                    e.g. https://vault.example.com:8200\n"
    "  --vault-token-stdin | --vault-token-file F\n"
    "                                   the Vault token (also --token-stdin/--token-file;\n"
    "                                   --token itself is the API token, refused here)\n"
    "  --namespace NS                   Vault Enterprise namespace\n"
    "AWS Secrets Manager:\n"
    "  --region REGION                  e.g. us-west-2\n"
    "  --access-key-id ID\n"
    "  --aws-secret-access-key-stdin | --aws-secret-access-key-file F\n"
    "                                   (also --secret-access-key-stdin/-file)\n"
    "  --session-token-file F           temporary credentials\n"
    "  --endpoint-url URL               another endpoint (e.g. a VPC endpoint)\n"
    "Credentials are never accepted on the command line and never shown again.\n"
    "Update with a new --address, --region or --endpoint-url needs the credentials again\n"
    "(--vault-token-*, --aws-secret-access-key-*, and --session-token-file if one is set).\n";

const struct verb SECRET_PROVIDER_VERBS[] = {
    {"list", "", "List secret providers", NULL, NULL, 0, 0, providers_list, NULL},
    {"get", "ID|NAME", "Show a secret provider (its credentials are never returned)", NULL, NULL, 1,
     1, providers_get, NULL},
    {"create", "--name NAME --type vault|aws-secrets-manager [config flags]",
     "Create a secret provider", PROVIDER_HELP, PROVIDER_FLAGS, 0, 0, providers_create, NULL},
    {"update", "ID|NAME [--name NAME] [config flags]",
     "Change a provider's name or config; credentials not given are kept", PROVIDER_HELP,
     PROVIDER_FLAGS, 1, 1, providers_update, NULL},
    {"delete", "ID|NAME", "Delete a secret provider that nothing uses", NULL, NULL, 1, 1,
     providers_delete, NULL},
    {"test", "ID|NAME", "Check the provider's connectivity and credentials (exit 1 if not ok)",
     NULL, NULL, 1, 1, providers_test, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
