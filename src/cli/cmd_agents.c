/* cmd_agents.c — "agyn agents", "agyn mcps" and "agyn hooks": the things that run images.
 * MCP servers and hooks belong to an agent (--agent ID|NAME). Each also lists the image pull
 * secrets attached to it, in the order the runner tries them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cascade_delete.h"
#include "cli/crud.h"

static const struct column AGENT_COLUMNS[] = {
    {"ID", "id"}, {"NAME", "name"}, {"IMAGE", "image"}, {"CREATED", "created_at"}, {NULL, NULL}};
static const struct column MCP_COLUMNS[] = {{"ID", "id"},
                                            {"NAME", "name"},
                                            {"AGENT", "agent_name|agent_id"},
                                            {"IMAGE", "image"},
                                            {NULL, NULL}};
static const struct column HOOK_COLUMNS[] = {{"ID", "id"},
                                             {"EVENT", "event"},
                                             {"AGENT", "agent_name|agent_id"},
                                             {"IMAGE", "image"},
                                             {NULL, NULL}};

const struct collection AGENTS = {"agents", "name", "agent", "agents", AGENT_COLUMNS};
const struct collection MCPS = {"mcps", "name", "MCP server", "MCP servers", MCP_COLUMNS};
const struct collection HOOKS = {"hooks", NULL, "hook", "hooks", HOOK_COLUMNS};

/* What differs between the three: the collection, and the label flag (--name or --event). */
struct kind {
    const struct collection *c;
    const char *resource; /* "mcps" */
    const char *label;    /* "name" or "event" */
    bool has_agent;
};

static const struct kind AGENT = {&AGENTS, "agents", "name", false};
static const struct kind MCP = {&MCPS, "mcps", "name", true};
static const struct kind HOOK = {&HOOKS, "hooks", "event", true};

static int list(struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    char query[QUERY_MAX] = "";
    int rc = k->has_agent ? crud_filter(cli, a, "agent", &AGENTS, "agent_id", query, sizeof query)
                          : CLI_OK;
    return rc == CLI_OK ? crud_list(cli, k->c, query) : rc;
}

/* command, args and env from --command/--arg (repeatable, in order), --env KEY=VALUE
 * (repeatable) and --no-command/--no-args/--no-env (back to the image's own). */
static int run_spec_from_flags(const struct args *a, const char *where, json_t *body) {
    static const char *const lists[][3] = {{"command", "command", "no-command"},
                                           {"arg", "args", "no-args"}};
    const char *values[ARGS_MAX];
    for (size_t i = 0; i < 2; i++) {
        int n = args_all(a, lists[i][0], values, ARGS_MAX);
        if (n && args_has(a, lists[i][2]))
            return usage_error(where, "--%s and --%s exclude each other", lists[i][0], lists[i][2]);
        if (args_has(a, lists[i][2]))
            json_object_set_new(body, lists[i][1], json_null());
        if (!n)
            continue;
        json_t *list = json_array();
        for (int j = 0; j < n; j++)
            json_array_append_new(list, json_string(values[j]));
        json_object_set_new(body, lists[i][1], list);
    }
    int n = args_all(a, "env", values, ARGS_MAX);
    if (n && args_has(a, "no-env"))
        return usage_error(where, "--env and --no-env exclude each other");
    if (args_has(a, "no-env"))
        json_object_set_new(body, "env", json_null());
    if (!n)
        return CLI_OK;
    json_t *env = json_object();
    json_object_set_new(body, "env", env);
    for (int j = 0; j < n; j++) {
        const char *eq = strchr(values[j], '=');
        if (!eq || eq == values[j])
            return usage_error(where, "--env takes KEY=VALUE, not \"%s\"", values[j]);
        char key[300];
        snprintf(key, sizeof key, "%.*s", (int)(eq - values[j]), values[j]);
        json_object_set_new(env, key, json_string(eq + 1));
    }
    return CLI_OK;
}

/* Builds the create/update body from the flags; the agent is resolved from an id or name. */
static int body_from_flags(const struct kind *k, struct cli *cli, const struct args *a,
                           const char *where, json_t *body) {
    body_set_flag(body, a, k->label, k->label);
    body_set_flag(body, a, "image", "image");
    body_set_flag(body, a, "description", "description");
    int spec = run_spec_from_flags(a, where, body);
    if (spec != CLI_OK)
        return spec;
    const char *agent = k->has_agent ? args_get(a, "agent") : NULL;
    if (!agent)
        return CLI_OK;
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, &AGENTS, agent, id);
    if (rc == CLI_OK)
        json_object_set_new(body, "agent_id", json_string(id));
    return rc;
}

static int create(struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    char where[64];
    snprintf(where, sizeof where, "%s create", k->resource);
    int rc = k->has_agent ? args_require(a, where, "agent", k->label, "image", NULL)
                          : args_require(a, where, k->label, "image", NULL);
    json_t *body = json_object();
    if (rc == CLI_OK)
        rc = body_from_flags(k, cli, a, where, body);
    if (rc == CLI_OK)
        rc = crud_send(cli, k->c, NULL, body);
    json_decref(body);
    return rc;
}

static int update(struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    char where[64], id[AGYN_UUID_LEN + 1];
    snprintf(where, sizeof where, "%s update", k->resource);
    json_t *body = json_object();
    int rc = body_from_flags(k, cli, a, where, body);
    if (rc == CLI_OK)
        rc = crud_needs_change(body, where);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, k->c, a->pos[0], id);
    if (rc == CLI_OK)
        rc = crud_send(cli, k->c, id, body);
    json_decref(body);
    return rc;
}

static const struct column ATTACHED_COLUMNS[] = {{"ATTACHMENT", "attachment_id"},
                                                 {"ID", "id"},
                                                 {"NAME", "name"},
                                                 {"REGISTRY", "registry"},
                                                 {"USERNAME", "username"},
                                                 {"SOURCE", "password_source"},
                                                 {NULL, NULL}};

/* GET /{agents|mcps|hooks}/{id}/image-pull-secrets */
static int attached(struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, k->c, a->pos[0], id);
    if (rc != CLI_OK)
        return rc;
    char *path = org_path(cli, &rc, "/%s/%s/image-pull-secrets", k->c->path, id);
    if (!path)
        return rc;
    json_t *items = NULL;
    rc = api_list_all(cli, path, &items);
    free(path);
    if (rc == CLI_OK)
        output_list(cli, items, ATTACHED_COLUMNS, "image pull secrets attached");
    json_decref(items);
    return rc;
}

static int get(struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    return crud_get(cli, k->c, a->pos[0], NULL);
}

static int delete (struct cli *cli, const struct args *a, const void *data) {
    const struct kind *k = data;
    return crud_delete(cli, k->c, a->pos[0], NULL);
}

/* Refused while the agent has MCP servers, hooks or attachments, unless --cascade/--yes. */
static int delete_agent(struct cli *cli, const struct args *a, const void *data) {
    char id[AGYN_UUID_LEN + 1];
    int rc = crud_resolve(cli, &AGENTS, a->pos[0], id);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/agents/%s", id) : NULL;
    if (!path)
        return rc;
    rc = cascade_delete(cli, "agent", id, path, args_has(a, "cascade") || args_has(a, "yes"));
    free(path);
    return rc;
}

static const char *const CASCADE_FLAGS[] = {"cascade", "yes", NULL};

#define RUN_FLAGS "command=+", "arg=+", "env=+", "no-command", "no-args", "no-env"
static const char *const AGENT_FLAGS[] = {"name=", "image=", "description=", RUN_FLAGS, NULL};
static const char *const PART_FLAGS[] = {
    "agent=", "name=", "image=", "description=", RUN_FLAGS, NULL};
static const char *const HOOK_FLAGS[] = {
    "agent=", "event=", "image=", "description=", RUN_FLAGS, NULL};

#define RUN_HELP                                                                                   \
    "  --command ARG         the entrypoint, one --command per word (repeatable; default:\n"       \
    "                        the image's own)\n"                                                   \
    "  --arg ARG             an argument (repeatable, in order; default: the image's own)\n"       \
    "  --env KEY=VALUE       an environment variable (repeatable); plain values only,\n"           \
    "                        shown to every member: never secrets\n"                               \
    "  --no-command, --no-args, --no-env   (update) back to the image's own\n"
#define RUN_USAGE " [--command ARG]... [--arg ARG]... [--env KEY=VALUE]..."
static const char *const AGENT_FILTER[] = {"agent=", NULL};

#define ATTACHED_SUMMARY "List the image pull secrets attached to it, in the order they are tried"

const struct verb AGENT_VERBS[] = {
    {"list", "", "List agents", NULL, NULL, 0, 0, list, &AGENT},
    {"get", "ID|NAME", "Show an agent", NULL, NULL, 1, 1, get, &AGENT},
    {"create", "--name NAME --image IMAGE [--description TEXT]" RUN_USAGE, "Create an agent",
     "  --name NAME           unique in the organization\n"
     "  --image IMAGE         the agent's image, e.g. ghcr.io/acme/support:1.4\n"
     "  --description TEXT\n" RUN_HELP,
     AGENT_FLAGS, 0, 0, create, &AGENT},
    {"update", "ID|NAME [--name NAME] [--image IMAGE] [--description TEXT]" RUN_USAGE,
     "Change an agent's name, image, description, command, args or env", RUN_HELP, AGENT_FLAGS, 1,
     1, update, &AGENT},
    {"delete", "ID|NAME [--cascade]", "Delete an agent (refused while it has parts)",
     "  --cascade, --yes   also delete its MCP servers, hooks and attachments (without it,\n"
     "                     an agent that has any is not deleted; the refusal lists them)\n",
     CASCADE_FLAGS, 1, 1, delete_agent, &AGENT},
    {"image-pull-secrets", "ID|NAME", ATTACHED_SUMMARY, NULL, NULL, 1, 1, attached, &AGENT},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct verb MCP_VERBS[] = {
    {"list", "[--agent ID|NAME]", "List MCP servers", NULL, AGENT_FILTER, 0, 0, list, &MCP},
    {"get", "ID|NAME", "Show an MCP server", NULL, NULL, 1, 1, get, &MCP},
    {"create", "--agent ID|NAME --name NAME --image IMAGE [--description TEXT]" RUN_USAGE,
     "Create an MCP server for an agent", RUN_HELP, PART_FLAGS, 0, 0, create, &MCP},
    {"update",
     "ID|NAME [--agent ID|NAME] [--name NAME] [--image IMAGE] [--description TEXT]" RUN_USAGE,
     "Change an MCP server", RUN_HELP, PART_FLAGS, 1, 1, update, &MCP},
    {"delete", "ID|NAME", "Delete an MCP server", NULL, NULL, 1, 1, delete, &MCP},
    {"image-pull-secrets", "ID|NAME", ATTACHED_SUMMARY, NULL, NULL, 1, 1, attached, &MCP},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct verb HOOK_VERBS[] = {
    {"list", "[--agent ID|NAME]", "List hooks", NULL, AGENT_FILTER, 0, 0, list, &HOOK},
    {"get", "ID", "Show a hook", NULL, NULL, 1, 1, get, &HOOK},
    {"create", "--agent ID|NAME --event EVENT --image IMAGE [--description TEXT]" RUN_USAGE,
     "Create a hook for an agent", RUN_HELP, HOOK_FLAGS, 0, 0, create, &HOOK},
    {"update",
     "ID [--agent ID|NAME] [--event EVENT] [--image IMAGE] [--description TEXT]" RUN_USAGE,
     "Change a hook", RUN_HELP, HOOK_FLAGS, 1, 1, update, &HOOK},
    {"delete", "ID", "Delete a hook", NULL, NULL, 1, 1, delete, &HOOK},
    {"image-pull-secrets", "ID", ATTACHED_SUMMARY, NULL, NULL, 1, 1, attached, &HOOK},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
