/* partial_update.h — update flags that keep unchanged companions (partial_update.c). */
#ifndef AGYN_CLI_PARTIAL_UPDATE_H
#define AGYN_CLI_PARTIAL_UPDATE_H

#include "cli/crud.h"

/* source_from_flags for an update of the row a->pos[0] of c: --remote-path without --provider
 * restates the row's current provider_id. Returns CLI_OK or an exit code (printed). */
int source_from_flags_keeping(struct cli *cli, const struct args *a, const struct value_source *s,
                              const struct collection *c, const char *where, json_t *body);

#endif
