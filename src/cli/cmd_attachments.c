/* cmd_attachments.c — "agyn attachments": which image pull secrets an agent, MCP server or
 * hook uses. Attachments are immutable: attach, list, detach. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "core/row.h"

static const struct column ATTACHMENT_COLUMNS[] = {{"ID", "id"},
                                                   {"SECRET", "secret_name|image_pull_secret_id"},
                                                   {"TARGET", "target"},
                                                   {"CREATED", "created_at"},
                                                   {NULL, NULL}};

const struct collection ATTACHMENTS = {"image-pull-secret-attachments", NULL, "attachment",
                                       "attachments", ATTACHMENT_COLUMNS};

/* The three kinds of target: flag, API field, collection. */
static const struct {
    const char *flag, *field, *kind;
    const struct collection *c;
} TARGETS[] = {{"agent", "agent_id", "agent", &AGENTS},
               {"mcp", "mcp_id", "mcp", &MCPS},
               {"hook", "hook_id", "hook", &HOOKS}};
#define TARGET_COUNT (sizeof TARGETS / sizeof TARGETS[0])

/* The attachments matching the filter flags (--secret, --agent, --mcp, --hook). */
static int list_matching(struct cli *cli, const struct args *a, json_t **items) {
    char query[QUERY_MAX] = "";
    int rc = crud_filter(cli, a, "secret", &IMAGE_PULL_SECRETS, "image_pull_secret_id", query,
                         sizeof query);
    for (size_t t = 0; t < TARGET_COUNT && rc == CLI_OK; t++)
        rc = crud_filter(cli, a, TARGETS[t].flag, TARGETS[t].c, TARGETS[t].field, query,
                         sizeof query);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/%s%s", ATTACHMENTS.path, query) : NULL;
    if (!path)
        return rc;
    rc = api_list_all(cli, path, items);
    free(path);
    return rc;
}

/* The label (name, or a hook's event) of the row with this id in rows, or the id. */
static const char *label_of(const json_t *rows, const char *id, const char *label) {
    size_t i;
    const json_t *row;
    json_array_foreach(rows, i, row) {
        const char *row_id = row_text(row, "id");
        const char *text = row_text(row, label);
        if (row_id && text && strcmp(row_id, id) == 0)
            return text;
    }
    return id;
}

/* For the table: "secret_name" and "target" ("agent support") from the named rows. */
static int add_names(struct cli *cli, json_t *items) {
    const struct collection *lists[] = {&IMAGE_PULL_SECRETS, &AGENTS, &MCPS, &HOOKS};
    json_t *rows[4] = {NULL};
    int rc = CLI_OK;
    for (size_t k = 0; k < 4 && rc == CLI_OK; k++) {
        char *path = org_path(cli, &rc, "/%s", lists[k]->path);
        if (path)
            rc = api_list_all(cli, path, &rows[k]);
        free(path);
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) {
        if (rc != CLI_OK)
            break;
        const char *secret = row_text(item, "image_pull_secret_id");
        if (secret)
            json_object_set_new(item, "secret_name",
                                json_string(label_of(rows[0], secret, "name")));
        for (size_t t = 0; t < TARGET_COUNT; t++) {
            const char *id = row_text(item, TARGETS[t].field);
            if (!id)
                continue;
            char text[400];
            snprintf(text, sizeof text, "%s %s", TARGETS[t].kind,
                     label_of(rows[t + 1], id, t == 2 ? "event" : "name"));
            json_object_set_new(item, "target", json_string(text));
        }
    }
    for (size_t k = 0; k < 4; k++)
        json_decref(rows[k]);
    return rc;
}

static int attachments_list(struct cli *cli, const struct args *a, const void *data) {
    json_t *items = NULL;
    int rc = list_matching(cli, a, &items);
    if (rc == CLI_OK && cli->output == OUTPUT_TABLE)
        rc = add_names(cli, items);
    if (rc == CLI_OK)
        output_list(cli, items, ATTACHMENT_COLUMNS, "attachments");
    json_decref(items);
    return rc;
}

/* Exactly one of --agent, --mcp, --hook; its index, or -1 after printing the problem. */
static int one_target(const struct args *a, const char *where) {
    int found = -1;
    for (size_t t = 0; t < TARGET_COUNT; t++) {
        if (!args_has(a, TARGETS[t].flag))
            continue;
        if (found >= 0) {
            usage_error(where, "give only one of --agent, --mcp or --hook");
            return -1;
        }
        found = (int)t;
    }
    if (found < 0)
        usage_error(where, "one of --agent, --mcp or --hook is required");
    return found;
}

static int attachments_attach(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "attachments attach";
    int rc = args_require(a, where, "secret", NULL);
    int t = rc == CLI_OK ? one_target(a, where) : -1;
    if (t < 0)
        return CLI_USAGE;
    char secret[AGYN_UUID_LEN + 1], target[AGYN_UUID_LEN + 1];
    rc = crud_resolve(cli, &IMAGE_PULL_SECRETS, args_get(a, "secret"), secret);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, TARGETS[t].c, args_get(a, TARGETS[t].flag), target);
    if (rc != CLI_OK)
        return rc;
    json_t *body =
        json_pack("{s:s, s:s}", "image_pull_secret_id", secret, TARGETS[t].field, target);
    rc = crud_send(cli, &ATTACHMENTS, NULL, body);
    json_decref(body);
    return rc;
}

/* detach ID, or detach --secret S --agent|--mcp|--hook T (finds that attachment). */
static int attachments_detach(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "attachments detach";
    if (a->npos == 1 && a->count == 0)
        return crud_delete(cli, &ATTACHMENTS, a->pos[0], NULL);
    if (a->npos == 1)
        return usage_error(where, "give an attachment ID, or --secret with the target");
    int rc = args_require(a, where, "secret", NULL);
    if (rc != CLI_OK || one_target(a, where) < 0)
        return CLI_USAGE;
    json_t *items = NULL;
    rc = list_matching(cli, a, &items);
    if (rc == CLI_OK && json_array_size(items) == 0) {
        fprintf(stderr, "agyn: that image pull secret is not attached there\n");
        rc = CLI_FAIL;
    }
    if (rc == CLI_OK)
        rc = crud_delete(cli, &ATTACHMENTS, row_text(json_array_get(items, 0), "id"), NULL);
    json_decref(items);
    return rc;
}

static const char *const FILTER_FLAGS[] = {"secret=", "agent=", "mcp=", "hook=", NULL};

const struct verb ATTACHMENT_VERBS[] = {
    {"list", "[--secret ID|NAME] [--agent ID|NAME | --mcp ID|NAME | --hook ID]",
     "List attachments, oldest first", NULL, FILTER_FLAGS, 0, 0, attachments_list, NULL},
    {"attach", "--secret ID|NAME (--agent ID|NAME | --mcp ID|NAME | --hook ID)",
     "Attach an image pull secret; the runner uses it for that resource's image",
     "  --secret ID|NAME    the image pull secret\n"
     "  --agent ID|NAME     attach it to an agent,\n"
     "  --mcp ID|NAME       to an MCP server,\n"
     "  --hook ID           or to a hook\n",
     FILTER_FLAGS, 0, 0, attachments_attach, NULL},
    {"detach", "ID | --secret ID|NAME (--agent ID|NAME | --mcp ID|NAME | --hook ID)",
     "Detach: delete an attachment", NULL, FILTER_FLAGS, 0, 1, attachments_detach, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
