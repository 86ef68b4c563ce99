/* cmd_serve.c — `agynd serve`: loads the keyring, opens the store (applying migrations),
 * serves HTTP until SIGTERM or SIGINT, then drains in-flight requests and closes cleanly. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agynd/commands.h"
#include "agynd/sealed_values.h"
#include "api/sse.h"
#include "core/duration.h"
#include "runner/runner.h"
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
            "  --tls-cert FILE       serve HTTPS with this PEM certificate chain (with --tls-key)\n"
            "  --tls-key FILE        the PEM private key of --tls-cert\n"
            "  --public-url URL      the URL clients use (e.g. https://agyn.example.com behind a\n"
            "                        TLS proxy); https marks session cookies Secure\n"
            "  --metrics-token TOKEN /metrics requires 'Authorization: Bearer TOKEN'\n"
            "                        (env AGYN_METRICS_TOKEN)\n"
            "  --metrics-listen HOST:PORT  serve /metrics only on this separate address\n"
            "                        (without --metrics-token, /metrics is not served on\n"
            "                        --listen at all)\n"
            "\n"
            "Runner (pulls the images of started workloads):\n"
            "  --runner-threads N           workloads started at once (default 4)\n"
            "  --runtime NAME               runtime backend: pull-only (default)\n"
            "  --content-dir DIR            OCI image layout for pulled blobs\n"
            "                               (default DATA_DIR/content)\n"
            "  --registry-ca-file FILE      extra CA certificates for registries\n"
            "  --insecure-registry HOST:PORT  allow plain HTTP to this registry (repeatable;\n"
            "                               loopback registries always may use HTTP)\n"
            "  --pull-backoff-initial DUR   first retry delay after a failed pull (default 10s)\n"
            "  --pull-backoff-max DUR       longest retry delay (default 300s)\n"
            "  --start-grace DUR            fail a workload whose images are not pulled by\n"
            "                               then (default 60s); DUR is like 250ms, 10s, 5m\n"
            "  -h, --help            show this help\n");
}

/* When the keyring cannot be loaded, says which keys the stored values need. */
static void report_needed_keys(const char *database) {
    struct store *store = NULL;
    struct agyn_error err = {0};
    char ids[1024];
    if (store_open(database, &store, &err) == 0 &&
        sealed_values_key_ids(store, ids, sizeof ids, &err) == 0 && ids[0])
        fprintf(stderr, "agynd serve: the stored values are encrypted with key(s) %s; restore "
                        "a keyring holding them\n",
                ids);
    store_close(store);
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
                                            {"runner-threads", required_argument, NULL, 'r'},
                                            {"runtime", required_argument, NULL, 'R'},
                                            {"content-dir", required_argument, NULL, 'c'},
                                            {"registry-ca-file", required_argument, NULL, 'a'},
                                            {"insecure-registry", required_argument, NULL, 'i'},
                                            {"pull-backoff-initial", required_argument, NULL,
                                             'B'},
                                            {"pull-backoff-max", required_argument, NULL, 'M'},
                                            {"start-grace", required_argument, NULL, 'G'},
                                            {"tls-cert", required_argument, NULL, 1001},
                                            {"tls-key", required_argument, NULL, 1002},
                                            {"public-url", required_argument, NULL, 1003},
                                            {"metrics-token", required_argument, NULL, 1004},
                                            {"metrics-listen", required_argument, NULL, 1005},
                                            {"help", no_argument, NULL, 'h'},
                                            {NULL, 0, NULL, 0}};
    struct runner_config runner_config = {.threads = 4,
                                          .backoff_initial_ms = 10000,
                                          .backoff_max_ms = 300000,
                                          .start_grace_ms = 60000,
                                          .runtime = &runtime_pull_only};
    char content_dir[4200] = "";
    const char *ca_file = NULL;
    const char *insecure[65] = {0};
    size_t insecure_count = 0;
    struct agyn_error err = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        struct app_config *c = &app.config;
        switch (opt) {
        case 'r':
            runner_config.threads = atoi(optarg);
            if (runner_config.threads < 1 || runner_config.threads > 64) {
                fprintf(stderr, "agynd serve: --runner-threads must be 1 to 64\n");
                return 2;
            }
            break;
        case 'R':
            runner_config.runtime = runtime_find(optarg);
            if (!runner_config.runtime) {
                fprintf(stderr, "agynd serve: unknown --runtime \"%s\" (available: pull-only)\n",
                        optarg);
                return 2;
            }
            break;
        case 'c': snprintf(content_dir, sizeof content_dir, "%s", optarg); break;
        case 'a': ca_file = optarg; break;
        case 'i':
            if (insecure_count == 64) {
                fprintf(stderr, "agynd serve: at most 64 --insecure-registry options\n");
                return 2;
            }
            insecure[insecure_count++] = optarg;
            break;
        case 'B':
        case 'M':
        case 'G': {
            long long *target = opt == 'B'   ? &runner_config.backoff_initial_ms
                                : opt == 'M' ? &runner_config.backoff_max_ms
                                             : &runner_config.start_grace_ms;
            const char *name = opt == 'B'   ? "--pull-backoff-initial"
                               : opt == 'M' ? "--pull-backoff-max"
                                            : "--start-grace";
            if (duration_parse_ms(optarg, name, target, &err) != 0) {
                fprintf(stderr, "agynd serve: %s\n", err.message);
                return 2;
            }
            if (opt != 'G' && *target <= 0) {
                fprintf(stderr, "agynd serve: %s must be longer than 0\n", name);
                return 2;
            }
            break;
        }
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
        case 1001: snprintf(c->tls_cert, sizeof c->tls_cert, "%s", optarg); break;
        case 1002: snprintf(c->tls_key, sizeof c->tls_key, "%s", optarg); break;
        case 1003:
            if (strncasecmp(optarg, "https://", 8) != 0 && strncasecmp(optarg, "http://", 7) != 0) {
                fprintf(stderr, "agynd serve: --public-url must start with https:// or http://\n");
                return 2;
            }
            snprintf(c->public_url, sizeof c->public_url, "%s", optarg);
            break;
        case 1004: snprintf(c->metrics_token, sizeof c->metrics_token, "%s", optarg); break;
        case 1005: snprintf(c->metrics_listen, sizeof c->metrics_listen, "%s", optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    config_derive_paths(&app.config, database_set, keyring_set);
    if (!app.config.tls_cert[0] != !app.config.tls_key[0]) {
        fprintf(stderr, "agynd serve: --tls-cert and --tls-key go together\n");
        return 2;
    }

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (!content_dir[0])
        snprintf(content_dir, sizeof content_dir, "%s/content", app.config.data_dir);
    if (keyring_load(app.config.keyring_file, &app.keyring, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        report_needed_keys(app.config.database);
        return 1;
    }
    if (store_open(app.config.database, &app.store, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        keyring_free(app.keyring);
        return 1;
    }
    if (sealed_values_check(app.store, app.keyring, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    app.resolve = (struct resolve_context){app.store, app.keyring, app.config.keyring_file};
    struct registry_client_config registry_config = {.content_dir = content_dir,
                                                     .ca_file = ca_file,
                                                     .insecure_registries = insecure};
    struct runner *runner = NULL;
    struct api_server *server = NULL;
    unsigned port = 0;
    if (registry_client_new(&registry_config, &app.registry, &err) != 0 ||
        runner_start(&runner_config, &app.resolve, app.registry, &runner, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        registry_client_free(app.registry);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    sse_start();
    if (api_server_start(&app, &server, &port, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        sse_stop();
        runner_stop(runner);
        registry_client_free(app.registry);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    log_kv("info", "serving", {"listen", app.config.listen}, {"port", port_text},
           {"data_dir", app.config.data_dir});

    int received = 0;
    sigwait(&signals, &received);
    log_kv("info", "shutting down", {"signal", received == SIGINT ? "SIGINT" : "SIGTERM"});
    sse_stop();
    api_server_stop(server, 5000);
    runner_stop(runner);
    registry_client_free(app.registry);
    store_close(app.store);
    keyring_free(app.keyring);
    log_fields("info", "stopped", NULL, 0);
    return 0;
}
