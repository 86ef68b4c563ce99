/* cmd_keys.c — `agynd keys`: list the keyring, add a new active key, remove an old one. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agynd/commands.h"
#include "crypto/keyring.h"

static void usage(FILE *out) {
    fprintf(out, "Usage: agynd keys <list|add|remove KEY_ID> [--data-dir DIR] "
                 "[--keyring-file FILE]\n"
                 "\n"
                 "  list           show the keys; '*' marks the active one\n"
                 "  add            add a new key and make it active for new values\n"
                 "  remove KEY_ID  delete a key that is no longer active\n"
                 "  --data-dir DIR       data directory (env AGYN_DATA_DIR; default ./var)\n"
                 "  --keyring-file FILE  keyring (env AGYN_KEYRING_FILE;\n"
                 "                       default DIR/keyring.json)\n");
}

int cmd_keys(int argc, char **argv) {
    struct app_config config;
    config_defaults(&config);
    int keyring_set = getenv("AGYN_KEYRING_FILE") && *getenv("AGYN_KEYRING_FILE");
    static const struct option options[] = {{"data-dir", required_argument, NULL, 'd'},
                                            {"keyring-file", required_argument, NULL, 'k'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'd': snprintf(config.data_dir, sizeof config.data_dir, "%s", optarg); break;
        case 'k':
            snprintf(config.keyring_file, sizeof config.keyring_file, "%s", optarg);
            keyring_set = 1;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    config_derive_paths(&config, 0, keyring_set);
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
        return 0;
    }
    if (strcmp(action, "remove") == 0 && optind + 1 < argc) {
        if (keyring_remove_key(config.keyring_file, argv[optind + 1], &err) != 0) {
            fprintf(stderr, "agynd keys: %s\n", err.message);
            return 1;
        }
        return 0;
    }
    usage(stderr);
    return 2;
}
