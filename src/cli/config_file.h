/* config_file.h — saved logins and contexts of the CLI (config_file.c). */
#ifndef AGYN_CLI_CONFIG_FILE_H
#define AGYN_CLI_CONFIG_FILE_H

#include "cli/cli.h"

/* Fills what neither a flag nor the environment gave (API URL, token and with it the
 * organization) from the current context (AGYN_CONTEXT, else the file's current one). */
void config_apply(struct cli *cli);
/* Frees what config_apply loaded (at exit). */
void config_release(void);
/* agyn login --api-url URL --token-stdin [--context NAME] */
int login_command(struct cli *cli, int argc, char **argv);
/* agyn context list|current|use NAME|delete NAME */
int context_command(struct cli *cli, int argc, char **argv);
/* agyn completion bash|zsh|fish: a completion script built from the resource table. */
int completion_command(const struct resource *resources, int argc, char **argv);

#endif
