/* cmd_admin_token.c — `agynd admin-token rotate`: replaces the server-admin token with a new
 * one, printed once on standard output. The old token stops working at once for new
 * processes and, in a running agynd, within its token cache's second (its Console sessions
 * and event streams end with it). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "agynd/commands.h"
#include "api/auth.h"
#include "store/store.h"
#include "store/tables.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd admin-token rotate [--data-dir DIR] [--database URL]\n"
                 "\n"
                 "Replaces the server-admin token: the old one stops working (also against a\n"
                 "running agynd, within a second) and the new one is printed on standard\n"
                 "output. It is shown only once.\n"
                 "\n"
                 "  --data-dir DIR  data directory (env AGYN_DATA_DIR; default ./var)\n"
                 "  --database URL  database (env AGYN_DATABASE; default sqlite:DIR/agyn.db)\n"
                 "  -h, --help      show this help\n");
}

/* Deletes every server-admin token and creates the new one in one transaction. */
static int rotate(struct store *store, char token[TOKEN_VALUE_LEN + 1], int *removed,
                  struct agyn_error *err) {
    struct store_filter filters[] = {{"role", "admin"}, {"organization_id", NULL}};
    struct store_query query = {.filters = filters, .filter_count = 2};
    if (store_tx_begin(store, err) != 0)
        return -1;
    if (store_delete_where(store, &TABLE_API_TOKENS, &query, removed, err) != 0 ||
        auth_token_create(store, NULL, "server-admin", "admin", token, NULL, err) != 0 ||
        /* serving processes on a shared database drop the old token from their caches */
        store_notify(store, AUTH_REVOCATION_CHANNEL, err) != 0 ||
        store_tx_commit(store, err) != 0) {
        store_tx_rollback(store);
        return -1;
    }
    return 0;
}

/* A missing SQLite file means a wrong --data-dir: rotating there would create a new database. */
static int database_exists(const char *location) {
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
        return 1; /* a server: store_open says whether it answers */
    const char *path = strncmp(location, "sqlite:", 7) == 0 ? location + 7 : location;
    return access(path, F_OK) == 0;
}

int cmd_admin_token(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    struct config_location location = config_location_from_env();
    location.keyring_set = 1; /* no keyring needed */
    static const struct option options[] = {CONFIG_OPTION_DATA_DIR,
                                            CONFIG_OPTION_DATABASE,
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
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
    config_location_finish(&config, &location);
    if (optind + 1 != argc || strcmp(argv[optind], "rotate") != 0) {
        usage(stderr);
        return 2;
    }
    if (!database_exists(config.database)) {
        fprintf(stderr,
                "agynd admin-token rotate: no database at %s; is --data-dir the directory "
                "'agynd init' made?\n",
                config.database);
        return 1;
    }
    struct agyn_error err = {0};
    struct store *store = NULL;
    char token[TOKEN_VALUE_LEN + 1];
    int removed = 0;
    if (store_open(config.database, &store, &err) != 0 ||
        rotate(store, token, &removed, &err) != 0) {
        fprintf(stderr, "agynd admin-token rotate: %s\n", err.message);
        store_close(store);
        return 1;
    }
    store_close(store);
    printf("%s\n", token);
    fflush(stdout);
    OPENSSL_cleanse(token, sizeof token);
    fprintf(stderr,
            "agynd admin-token rotate: replaced %d server-admin token%s.\n"
            "The line above is the new server-admin token; it is not shown again.\n",
            removed, removed == 1 ? "" : "s");
    return 0;
}
