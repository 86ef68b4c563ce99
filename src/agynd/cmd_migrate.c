/* cmd_migrate.c — `agynd migrate`: applies the pending schema migrations to a database and
 * exits (before a rolling upgrade of the replicas; they also migrate at start, under the same
 * advisory lock on PostgreSQL). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "agynd/commands.h"
#include "store/store.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd migrate --database URL\n"
                 "\n"
                 "Applies pending schema migrations to URL (sqlite:PATH or postgres://...;\n"
                 "env AGYN_DATABASE) and exits. On PostgreSQL an advisory lock makes\n"
                 "processes migrating at once apply each migration once.\n"
                 "\n"
                 "  --database URL  the database\n"
                 "  -h, --help      show this help\n");
}

int cmd_migrate(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    struct config_location location = config_location_from_env();
    static const struct option options[] = {
        CONFIG_OPTION_DATABASE, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        if (config_location_option(&config, &location, opt, optarg))
            continue;
        switch (opt) {
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!location.database_set || !*config.database) {
        fprintf(stderr, "agynd migrate: --database is required\n");
        return 2;
    }
    struct store *store = NULL;
    struct agyn_error err = {0};
    if (store_open(config.database, &store, &err) != 0) {
        fprintf(stderr, "agynd migrate: %s\n", err.message);
        return 1;
    }
    store_close(store);
    fprintf(stderr, "agynd migrate: the schema is up to date\n");
    return 0;
}
