/* table_names.h — names instead of ids in the CLI's tables (table_names.c). */
#ifndef AGYN_CLI_TABLE_NAMES_H
#define AGYN_CLI_TABLE_NAMES_H

#include "cli/cli.h"

/* In table mode, for each column keyed "agent_name|agent_id" (also provider_, mcp_), adds
 * "agent_name" to every item from one listing of the agents; nothing in other modes. */
void table_names_fill(struct cli *cli, json_t *items, const struct column *columns);

#endif
