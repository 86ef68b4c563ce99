/* cmd_init.c — `agynd init`: creates the data directory (mode 0700) with the SQLite database,
 * the keyring and a server-admin token, printed as the only line on standard output. Refuses
 * to touch a data directory that already has contents. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "agynd/commands.h"
#include "api/auth.h"
#include "crypto/keyring.h"
#include "store/store.h"
#include "store/tables.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd init [--data-dir DIR] [--keyring-file FILE] [--database URL]\n"
                 "\n"
                 "Creates DIR (default $AGYN_DATA_DIR or ./var) holding the SQLite database\n"
                 "agyn.db and the encryption keyring keyring.json, and prints a new\n"
                 "server-admin token on standard output. The token is shown only once.\n"
                 "With --database postgres://..., the schema is created in that database\n"
                 "(which must hold no agyn tokens yet) and DIR holds only the keyring.\n"
                 "\n"
                 "  --data-dir DIR       data directory to create (env AGYN_DATA_DIR)\n"
                 "  --database URL       sqlite:PATH or postgres://... (default\n"
                 "                       sqlite:DIR/agyn.db)\n"
                 "  --keyring-file FILE  keyring path (env AGYN_KEYRING_FILE;\n"
                 "                       default DIR/keyring.json)\n"
                 "  -h, --help           show this help\n");
}

static int directory_is_empty_or_missing(const char *path) {
    DIR *dir = opendir(path);
    if (!dir)
        return errno == ENOENT ? 1 : 0;
    struct dirent *entry;
    int empty = 1;
    while ((entry = readdir(dir)))
        if (strcmp(entry->d_name, ".") != 0 && strcmp(entry->d_name, "..") != 0)
            empty = 0;
    closedir(dir);
    return empty;
}

int cmd_init(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    struct config_location location = config_location_from_env();
    location.database_set = 0; /* the database is DIR/agyn.db unless --database says otherwise */
    static const struct option options[] = {CONFIG_OPTION_DATA_DIR,
                                            CONFIG_OPTION_DATABASE,
                                            CONFIG_OPTION_KEYRING_FILE,
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
    if (!directory_is_empty_or_missing(config.data_dir)) {
        fprintf(stderr,
                "agynd init: %s already exists and is not empty; refusing to overwrite it.\n"
                "Use another --data-dir, or remove it if you mean to start over.\n",
                config.data_dir);
        return 1;
    }
    if ((mkdir(config.data_dir, 0700) != 0 && errno != EEXIST) ||
        chmod(config.data_dir, 0700) != 0) {
        fprintf(stderr, "agynd init: cannot create %s: %s\n", config.data_dir, strerror(errno));
        return 1;
    }
    struct agyn_error err = {0};
    char key_id[KEYRING_ID_MAX];
    if (keyring_create_file(config.keyring_file, key_id, &err) != 0) {
        fprintf(stderr, "agynd init: %s\n", err.message);
        return 1;
    }
    struct store *store = NULL;
    if (store_open(config.database, &store, &err) != 0) {
        fprintf(stderr, "agynd init: %s\n", err.message);
        return 1;
    }
    /* A shared database (PostgreSQL) is initialized once, whichever data directory asks. */
    long long tokens = 0;
    struct store_query all = {0};
    if (store_count(store, &TABLE_API_TOKENS, &all, &tokens, &err) != 0 || tokens > 0) {
        fprintf(stderr, "agynd init: %s\n",
                tokens > 0 ? "the database is already initialized (it holds tokens); use "
                             "'agynd admin-token rotate' for a new server-admin token"
                           : err.message);
        store_close(store);
        return 1;
    }
    char token[TOKEN_VALUE_LEN + 1];
    int rc = auth_token_create(store, NULL, "server-admin", "admin", token, NULL, &err);
    store_close(store);
    if (rc != 0) {
        fprintf(stderr, "agynd init: cannot create the admin token: %s\n", err.message);
        return 1;
    }
    printf("%s\n", token);
    fflush(stdout);
    OPENSSL_cleanse(token, sizeof token);
    fprintf(stderr,
            "agynd init: created %s (database %s, keyring key %s).\n"
            "The line above is the server-admin token; it is not shown again.\n",
            config.data_dir, location.database_set ? "as given" : "agyn.db", key_id);
    return 0;
}
