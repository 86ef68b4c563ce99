/* table_names.c — names instead of ids in tables: a column keyed "agent_name|agent_id" shows
 * the agent's name, looked up once per list (one GET of the agents), falling back to the id
 * when the row is gone or the lookup fails. Only tables: -o json stays the API's answer. */
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "cli/table_names.h"
#include "core/row.h"

static const struct {
    const char *field; /* "agent_name": filled from <field minus _name>_id */
    const struct collection *target;
} NAMED[] = {
    {"agent_name", &AGENTS},
    {"provider_name", &SECRET_PROVIDERS},
    {"mcp_name", &MCPS},
};

/* Sets item[field] = the name of the row whose id is item[id_field], for every item. */
static void fill(struct cli *cli, json_t *items, const char *field,
                 const struct collection *target) {
    char id_field[64];
    snprintf(id_field, sizeof id_field, "%.*s_id", (int)(strlen(field) - 5), field);
    int rc;
    char *path = org_path(cli, &rc, "/%s", target->path);
    json_t *rows = NULL;
    if (!path || api_list_all(cli, path, &rows) != CLI_OK) {
        free(path);
        return;
    }
    free(path);
    size_t i, k;
    json_t *item, *row;
    json_array_foreach(items, i, item) {
        const char *id = json_string_value(json_object_get(item, id_field));
        json_array_foreach(rows, k, row) {
            const char *row_id = row_text(row, "id");
            json_t *name = json_object_get(row, target->label ? target->label : "id");
            if (id && row_id && strcmp(id, row_id) == 0 && json_is_string(name)) {
                json_object_set(item, field, name);
                break;
            }
        }
    }
    json_decref(rows);
}

void table_names_fill(struct cli *cli, json_t *items, const struct column *columns) {
    if (cli->output != OUTPUT_TABLE || json_array_size(items) == 0 || !columns)
        return;
    for (const struct column *c = columns; c->header; c++)
        for (size_t n = 0; n < sizeof NAMED / sizeof *NAMED; n++) {
            size_t len = strlen(NAMED[n].field);
            if (strncmp(c->keys, NAMED[n].field, len) == 0 && c->keys[len] == '|')
                fill(cli, items, NAMED[n].field, NAMED[n].target);
        }
}
