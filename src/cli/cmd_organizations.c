/* cmd_organizations.c — "agyn organizations" (list, create with the server-admin token, get,
 * delete — refused while not empty unless --cascade) and "agyn tokens" (list, create, delete). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cascade_delete.h"
#include "cli/crud.h"

static const struct column ORG_COLUMNS[] = {
    {"ID", "id"}, {"NAME", "name"}, {"CREATED", "created_at"}, {NULL, NULL}};

static int orgs_list(struct cli *cli, const struct args *a, const void *data) {
    json_t *items = NULL;
    int rc = api_list_all(cli, "/api/v1/organizations", &items);
    if (rc == CLI_OK)
        output_list(cli, items, ORG_COLUMNS, "organizations");
    json_decref(items);
    return rc;
}

static int orgs_create(struct cli *cli, const struct args *a, const void *data) {
    json_t *body = json_pack("{s:s}", "name", a->pos[0]), *org = NULL;
    int rc = api_call(cli, "POST", "/api/v1/organizations", body, &org);
    json_decref(body);
    if (rc == CLI_OK)
        output_item(cli, org);
    json_decref(org);
    return rc;
}

static int orgs_get(struct cli *cli, const struct args *a, const void *data) {
    if (a->npos > 0) {
        cli->org_arg = a->pos[0];
        cli->org_id[0] = '\0';
    }
    int rc = cli_org(cli);
    if (rc != CLI_OK)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/organizations/%s", cli->org_id);
    json_t *org = NULL;
    rc = api_call(cli, "GET", path, NULL, &org);
    if (rc == CLI_OK)
        output_item(cli, org);
    json_decref(org);
    return rc;
}

/* Refused while the organization holds anything, unless --cascade/--yes. */
static int orgs_delete(struct cli *cli, const struct args *a, const void *data) {
    cli->org_arg = a->pos[0];
    cli->org_id[0] = '\0';
    int rc = cli_org(cli);
    if (rc != CLI_OK)
        return rc;
    char path[128];
    snprintf(path, sizeof path, "/api/v1/organizations/%s", cli->org_id);
    return cascade_delete(cli, "organization", cli->org_id, path,
                          args_has(a, "cascade") || args_has(a, "yes"));
}

static const char *const ORG_DELETE_FLAGS[] = {"cascade", "yes", NULL};

const struct verb ORGANIZATION_VERBS[] = {
    {"list", "", "List organizations (an organization's token sees only its own)", NULL, NULL, 0, 0,
     orgs_list, NULL},
    {"create", "NAME", "Create an organization (needs the server-admin token)", NULL, NULL, 1, 1,
     orgs_create, NULL},
    {"get", "[ID|NAME]", "Show an organization (default: the current one)", NULL, NULL, 0, 1,
     orgs_get, NULL},
    {"delete", "ID|NAME [--cascade]",
     "Delete an organization (needs the server-admin token; refused while not empty)",
     "  --cascade, --yes   also delete everything in it (without it, an organization that\n"
     "                     holds anything is not deleted; the refusal lists what)\n",
     ORG_DELETE_FLAGS, 1, 1, orgs_delete, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

static const struct column TOKEN_COLUMNS[] = {{"ID", "id"},
                                              {"NAME", "name"},
                                              {"ROLE", "role"},
                                              {"PREFIX", "token_prefix"},
                                              {"CREATED", "created_at"},
                                              {NULL, NULL}};

const struct collection TOKENS = {"tokens", "name", "token", "tokens", TOKEN_COLUMNS};

static int tokens_list(struct cli *cli, const struct args *a, const void *data) {
    return crud_list(cli, &TOKENS, NULL);
}

static const char *const TOKEN_CREATE_FLAGS[] = {"name=", "role=", NULL};

static int tokens_create(struct cli *cli, const struct args *a, const void *data) {
    int rc = args_require(a, "tokens create", "name", NULL);
    if (rc != CLI_OK)
        return rc;
    const char *role = args_get(a, "role");
    json_t *body =
        json_pack("{s:s, s:s}", "name", args_get(a, "name"), "role", role ? role : "member");
    rc = crud_send(cli, &TOKENS, NULL, body);
    json_decref(body);
    if (rc == CLI_OK && cli->output == OUTPUT_TABLE)
        fprintf(stderr, "Keep the token now: it is not shown again.\n");
    return rc;
}

static int tokens_delete(struct cli *cli, const struct args *a, const void *data) {
    return crud_delete(cli, &TOKENS, a->pos[0], NULL);
}

const struct verb TOKEN_VERBS[] = {
    {"list", "", "List the organization's API tokens (never their values)", NULL, NULL, 0, 0,
     tokens_list, NULL},
    {"create", "--name NAME [--role owner|member]",
     "Create an API token; its value is printed once",
     "  --name NAME     a label for the token\n"
     "  --role ROLE     owner (everything) or member (read, attach, start workloads);\n"
     "                  default member\n",
     TOKEN_CREATE_FLAGS, 0, 0, tokens_create, NULL},
    {"delete", "ID|NAME", "Revoke an API token", NULL, NULL, 1, 1, tokens_delete, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
