/* cascade_delete.h — DELETE of an organization or an agent, refused while it holds something
 * unless cascade (the CLI's --cascade / --yes); prints what went. */
#ifndef AGYN_CLI_CASCADE_DELETE_H
#define AGYN_CLI_CASCADE_DELETE_H

#include <stdbool.h>

#include "cli/cli.h"

/* DELETE path (plus ?cascade=true when cascade); on a 409 prints the API's list and the hint;
 * on success "NOUN ID deleted" and one line per kind removed. Returns a CLI exit code. */
int cascade_delete(struct cli *cli, const char *noun, const char *id, const char *path,
                   bool cascade);

#endif
