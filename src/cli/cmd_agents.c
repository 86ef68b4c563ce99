/* cmd_agents.c — "agyn agents", "agyn mcps" and "agyn hooks": the things that run images.
 * MCP servers and hooks belong to an agent (--agent ID|NAME). Each also lists the image pull
 * secrets attached to it, in the order the runner tries them. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cascade_delete.h"
#include "cli/crud.h"

static const struct column AGENT_COLUMNS[] = {
    {"ID", "id"}, {"NAME", "name"}, {"IMAGE", "image"}, {"CREATED", "created_at"}, {NULL, NULL}};
static const struct column MCP_COLUMNS[] = {
    {"ID", "id"}, {"NAME", "name"}, {"AGENT", "agent_id"}, {"IMAGE", "image"}, {NULL, NULL}};
static const struct column HOOK_COLUMNS[] = {
    {"ID", "id"}, {"EVENT", "event"}, {"AGENT", "agent_id"}, {"IMAGE", "image"}, {NULL, NULL}};

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

/* Builds the create/update body from the flags; the agent is resolved from an id or name. */
static int body_from_flags(const struct kind *k, struct cli *cli, const struct args *a,
                           json_t *body) {
    body_set_flag(body, a, k->label, k->label);
    body_set_flag(body, a, "image", "image");
    body_set_flag(body, a, "description", "description");
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
        rc = body_from_flags(k, cli, a, body);
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
    int rc = body_from_flags(k, cli, a, body);
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

static const char *const AGENT_FLAGS[] = {"name=", "image=", "description=", NULL};
static const char *const PART_FLAGS[] = {"agent=", "name=", "image=", "description=", NULL};
static const char *const HOOK_FLAGS[] = {"agent=", "event=", "image=", "description=", NULL};
static const char *const AGENT_FILTER[] = {"agent=", NULL};

#define ATTACHED_SUMMARY "List the image pull secrets attached to it, in the order they are tried"

const struct verb AGENT_VERBS[] = {
    {"list", "", "List agents", NULL, NULL, 0, 0, list, &AGENT},
    {"get", "ID|NAME", "Show an agent", NULL, NULL, 1, 1, get, &AGENT},
    {"create", "--name NAME --image IMAGE [--description TEXT]", "Create an agent",
     "  --name NAME           unique in the organization\n"
     "  --image IMAGE         the agent's image, e.g. ghcr.io/acme/support:1.4\n"
     "  --description TEXT\n",
     AGENT_FLAGS, 0, 0, create, &AGENT},
    {"update", "ID|NAME [--name NAME] [--image IMAGE] [--description TEXT]",
     "Change an agent's name, image or description", NULL, AGENT_FLAGS, 1, 1, update, &AGENT},
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
    {"create", "--agent ID|NAME --name NAME --image IMAGE [--description TEXT]",
     "Create an MCP server for an agent", NULL, PART_FLAGS, 0, 0, create, &MCP},
    {"update", "ID|NAME [--agent ID|NAME] [--name NAME] [--image IMAGE] [--description TEXT]",
     "Change an MCP server", NULL, PART_FLAGS, 1, 1, update, &MCP},
    {"delete", "ID|NAME", "Delete an MCP server", NULL, NULL, 1, 1, delete, &MCP},
    {"image-pull-secrets", "ID|NAME", ATTACHED_SUMMARY, NULL, NULL, 1, 1, attached, &MCP},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

const struct verb HOOK_VERBS[] = {
    {"list", "[--agent ID|NAME]", "List hooks", NULL, AGENT_FILTER, 0, 0, list, &HOOK},
    {"get", "ID", "Show a hook", NULL, NULL, 1, 1, get, &HOOK},
    {"create", "--agent ID|NAME --event EVENT --image IMAGE [--description TEXT]",
     "Create a hook for an agent", NULL, HOOK_FLAGS, 0, 0, create, &HOOK},
    {"update", "ID [--agent ID|NAME] [--event EVENT] [--image IMAGE] [--description TEXT]",
     "Change a hook", NULL, HOOK_FLAGS, 1, 1, update, &HOOK},
    {"delete", "ID", "Delete a hook", NULL, NULL, 1, 1, delete, &HOOK},
    {"image-pull-secrets", "ID", ATTACHED_SUMMARY, NULL, NULL, 1, 1, attached, &HOOK},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
