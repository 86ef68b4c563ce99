/* commands.h — agynd's subcommands, one file each, and the options they share. */
#ifndef AGYN_AGYND_COMMANDS_H
#define AGYN_AGYND_COMMANDS_H

#include "api/app.h"

int cmd_init(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_admin_token(int argc, char **argv);
int cmd_runner(int argc, char **argv);
int cmd_migrate(int argc, char **argv);

/* store_notify channel: the keyring file changed (keys add, remove, rewrap); every serving
 * process reloads it. */
#define KEYRING_CHANGE_CHANNEL "agyn_keyring"

/* Fills data_dir, database and keyring_file from the environment (AGYN_DATA_DIR,
 * AGYN_DATABASE, AGYN_KEYRING_FILE, AGYN_LISTEN) and defaults. */
void config_defaults(struct app_config *config);
/* Recomputes database/keyring paths after --data-dir changed, unless set explicitly. */
void config_derive_paths(struct app_config *config, int database_set, int keyring_set);

#endif
