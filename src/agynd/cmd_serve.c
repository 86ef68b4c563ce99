/* cmd_serve.c — `agynd serve`: loads the keyring, opens the store (applying migrations),
 * serves HTTP until SIGTERM or SIGINT, then drains in-flight requests and closes cleanly. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agynd/commands.h"
#include "api/server.h"
#include "core/log.h"
#include "crypto/keyring.h"
#include "store/store.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: agynd serve [options]\n"
            "\n"
            "Serves the API (/api/v1), the Console (/), /healthz and /readyz.\n"
            "\n"
            "  --data-dir DIR        data directory made by 'agynd init' (env AGYN_DATA_DIR;\n"
            "                        default ./var)\n"
            "  --listen HOST:PORT    address to listen on (env AGYN_LISTEN;\n"
            "                        default 127.0.0.1:8080)\n"
            "  --keyring-file FILE   encryption keyring (env AGYN_KEYRING_FILE;\n"
            "                        default DIR/keyring.json)\n"
            "  --database URL        sqlite:PATH (env AGYN_DATABASE; default\n"
            "                        sqlite:DIR/agyn.db)\n"
            "  --http-threads N      HTTP worker threads (default 4)\n"
            "  -h, --help            show this help\n");
}

int cmd_serve(int argc, char **argv) {
    struct app app = {0};
    config_defaults(&app.config);
    int database_set = getenv("AGYN_DATABASE") && *getenv("AGYN_DATABASE");
    int keyring_set = getenv("AGYN_KEYRING_FILE") && *getenv("AGYN_KEYRING_FILE");
    static const struct option options[] = {{"data-dir", required_argument, NULL, 'd'},
                                            {"listen", required_argument, NULL, 'l'},
                                            {"keyring-file", required_argument, NULL, 'k'},
                                            {"database", required_argument, NULL, 'b'},
                                            {"http-threads", required_argument, NULL, 't'},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        struct app_config *c = &app.config;
        switch (opt) {
        case 'd': snprintf(c->data_dir, sizeof c->data_dir, "%s", optarg); break;
        case 'l': snprintf(c->listen, sizeof c->listen, "%s", optarg); break;
        case 'k':
            snprintf(c->keyring_file, sizeof c->keyring_file, "%s", optarg);
            keyring_set = 1;
            break;
        case 'b':
            snprintf(c->database, sizeof c->database, "%s", optarg);
            database_set = 1;
            break;
        case 't':
            c->http_threads = atoi(optarg);
            if (c->http_threads < 1 || c->http_threads > 256) {
                fprintf(stderr, "agynd serve: --http-threads must be 1 to 256\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    config_derive_paths(&app.config, database_set, keyring_set);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct agyn_error err = {0};
    if (keyring_load(app.config.keyring_file, &app.keyring, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        return 1;
    }
    if (store_open(app.config.database, &app.store, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        keyring_free(app.keyring);
        return 1;
    }
    struct api_server *server = NULL;
    unsigned port = 0;
    if (api_server_start(&app, &server, &port, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    log_event("info", "serving", "listen=%s port=%u data_dir=%s", app.config.listen, port,
              app.config.data_dir);

    int received = 0;
    sigwait(&signals, &received);
    log_event("info", "shutting down", "signal=%s", received == SIGINT ? "SIGINT" : "SIGTERM");
    api_server_stop(server, 5000);
    store_close(app.store);
    keyring_free(app.keyring);
    log_event("info", "stopped", NULL);
    return 0;
}
