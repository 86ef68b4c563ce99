/* import_update.h — `ips import --update-existing` (import_update.c). */
#ifndef AGYN_CLI_IMPORT_UPDATE_H
#define AGYN_CLI_IMPORT_UPDATE_H

#include "cli/cli.h"

/* For each entry of errors (the import answer's) that failed with "conflict", updates the
 * existing secret named after its registry with the entry's credentials from config_text,
 * appends the updated secret to updated and removes the error. Returns CLI_OK or CLI_FAIL
 * (printed) when an update failed (its error stays in errors). */
int import_update_existing(struct cli *cli, const char *config_text, json_t *errors,
                           json_t *updated);

#endif
