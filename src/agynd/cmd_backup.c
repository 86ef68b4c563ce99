/* cmd_backup.c — `agynd backup --to FILE`: a consistent copy of the SQLite database, taken
 * while agynd serves (store_backup). The keyring is not in it: back it up separately
 * (docs/operations.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agynd/commands.h"
#include "store/backup.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd backup --to FILE [--data-dir DIR] [--database URL]\n"
                 "\n"
                 "Copies the database into FILE (created 0600; an existing FILE is refused)\n"
                 "with SQLite's online backup API: safe while agynd serves, one consistent\n"
                 "snapshot. The keyring (encryption keys) is NOT in the copy: back up\n"
                 "DIR/keyring.json (or --keyring-file) separately, and keep the two apart.\n"
                 "\n"
                 "  --to FILE       the new backup file\n"
                 "  --data-dir DIR  data directory (env AGYN_DATA_DIR; default ./var)\n"
                 "  --database URL  database (env AGYN_DATABASE; default sqlite:DIR/agyn.db)\n"
                 "  -h, --help      show this help\n");
}

int cmd_backup(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    struct config_location location = config_location_from_env();
    location.keyring_set = 1; /* no keyring needed */
    const char *to = NULL;
    static const struct option options[] = {{"to", required_argument, NULL, 't'},
                                            CONFIG_OPTION_DATA_DIR,
                                            CONFIG_OPTION_DATABASE,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (config_location_option(&config, &location, opt, optarg))
            continue;
        switch (opt) {
        case 't':
            to = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !to || !*to) {
        usage(stderr);
        return 2;
    }
    config_location_finish(&config, &location);
    struct agyn_error err = {0};
    if (store_backup(config.database, to, &err) != 0) {
        fprintf(stderr, "agynd backup: %s\n", err.message);
        return 1;
    }
    fprintf(stderr, "agynd backup: copied %s to %s (the keyring is not included)\n",
            config.database + (strncmp(config.database, "sqlite:", 7) == 0 ? 7 : 0), to);
    return 0;
}
