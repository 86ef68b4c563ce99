/* cmd_keys.c — `agynd keys`: list the keyring, add a new active key, re-encrypt every stored
 * value under it (safe beside a running server), and remove a key no value uses any more. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agynd/commands.h"
#include "agynd/sealed_values.h"
#include "crypto/keyring.h"
#include "store/store.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd keys <list|add|rewrap|verify|remove KEY_ID> [--data-dir DIR] "
                 "[--keyring-file FILE]\n"
                 "\n"
                 "  list           show the keys; '*' marks the active one\n"
                 "  add            add a new key and make it active for new values\n"
                 "  rewrap         re-encrypt every stored value under the active key (may run\n"
                 "                 while agynd serves; it picks up the new key by itself)\n"
                 "  verify         decrypt every stored value (nothing is written); fails\n"
                 "                 naming the first value that does not open\n"
                 "  remove KEY_ID  delete a key that is not active and no value uses\n"
                 "  --database URL       database (env AGYN_DATABASE; default sqlite:DIR/agyn.db)\n"
                 "  --data-dir DIR       data directory (env AGYN_DATA_DIR; default ./var)\n"
                 "  --keyring-file FILE  keyring (env AGYN_KEYRING_FILE;\n"
                 "                       default DIR/keyring.json)\n");
}

/* On a shared database (PostgreSQL), tells every serving process to reload the keyring now
 * rather than when it first meets the new key id. Best effort: they reload then anyway. */
static void announce_keyring_change(const struct app_config *config) {
    if (strncmp(config->database, "postgres", 8) != 0)
        return;
    struct store *store = NULL;
    struct agyn_error err = {0};
    const struct store_options options = {.pool_size = 1};
    if (store_open_with(config->database, &options, &store, &err) != 0 ||
        store_notify(store, KEYRING_CHANGE_CHANNEL, &err) != 0)
        fprintf(stderr,
                "agynd keys: could not tell the replicas (%s); they reload the keyring "
                "when they meet a new key id\n",
                err.message);
    store_close(store);
}

static int verify(const struct app_config *config) {
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    struct store *store = NULL;
    long long opened = 0;
    int rc = 1;
    if (keyring_load(config->keyring_file, &kr, &err) == 0 &&
        store_open(config->database, &store, &err) == 0 &&
        sealed_values_open_all(store, kr, &opened, &err) == 0) {
        printf("opened all %lld stored values\n", opened);
        rc = 0;
    } else {
        fprintf(stderr, "agynd keys verify: %s\n", err.message);
    }
    store_close(store);
    keyring_free(kr);
    return rc;
}

static int rewrap(const struct app_config *config) {
    struct agyn_error err = {0};
    struct keyring *kr = NULL;
    struct store *store = NULL;
    struct sealed_values_report report;
    int rc = 1;
    if (keyring_load(config->keyring_file, &kr, &err) == 0 &&
        store_open(config->database, &store, &err) == 0 &&
        sealed_values_rewrap(store, kr, &report, &err) == 0) {
        printf("re-encrypted %lld of %lld stored values under key %s\n", report.rewrapped,
               report.values, keyring_active_id(kr));
        rc = 0;
    } else {
        fprintf(stderr, "agynd keys rewrap: %s\n", err.message);
    }
    store_close(store);
    keyring_free(kr);
    return rc;
}

int cmd_keys(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    struct config_location location = config_location_from_env();
    static const struct option options[] = {CONFIG_OPTION_DATA_DIR,
                                            CONFIG_OPTION_KEYRING_FILE,
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
    if (optind >= argc) {
        usage(stderr);
        return 2;
    }
    const char *action = argv[optind];
    struct agyn_error err = {0};
    if (strcmp(action, "list") == 0) {
        struct keyring *kr = NULL;
        if (keyring_load(config.keyring_file, &kr, &err) != 0) {
            fprintf(stderr, "agynd keys: %s\n", err.message);
            return 1;
        }
        for (size_t i = 0; i < keyring_count(kr); i++) {
            const char *created = NULL;
            int active = 0;
            const char *id = keyring_id_at(kr, i, &created, &active);
            printf("%s %s %s\n", active ? "*" : " ", id, created ? created : "");
        }
        keyring_free(kr);
        return 0;
    }
    if (strcmp(action, "add") == 0) {
        char id[KEYRING_ID_MAX];
        if (keyring_add_key(config.keyring_file, id, &err) != 0) {
            fprintf(stderr, "agynd keys: %s\n", err.message);
            return 1;
        }
        printf("%s\n", id);
        announce_keyring_change(&config);
        return 0;
    }
    if (strcmp(action, "rewrap") == 0)
        return rewrap(&config);
    if (strcmp(action, "verify") == 0)
        return verify(&config);
    if (strcmp(action, "remove") == 0 && optind + 1 < argc) {
        const char *key_id = argv[optind + 1];
        struct store *store = NULL;
        long long in_use = 0;
        if (store_open(config.database, &store, &err) != 0 ||
            sealed_values_count_key(store, key_id, &in_use, &err) != 0) {
            fprintf(stderr, "agynd keys: %s\n", err.message);
            store_close(store);
            return 1;
        }
        store_close(store);
        if (in_use > 0) {
            fprintf(stderr,
                    "agynd keys: %lld stored values are still encrypted with %s; run "
                    "'agynd keys rewrap' first\n",
                    in_use, key_id);
            return 1;
        }
        if (keyring_remove_key(config.keyring_file, key_id, &err) != 0) {
            fprintf(stderr, "agynd keys: %s\n", err.message);
            return 1;
        }
        announce_keyring_change(&config);
        return 0;
    }
    usage(stderr);
    return 2;
}
