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
#include "api/outbound.h"
#include "api/retention.h"
#include "api/server.h"
#include "api/sse.h"
#include "base/log.h"
#include "core/byte_size.h"
#include "core/duration.h"
#include "api/log_stream.h"
#include "runner/runtime_docker.h"
#include "crypto/keyring.h"
#include "net/egress.h"
#include "runner/runner.h"
#include "store/event_log.h"
#include "store/work_signal.h"
#include "store/store.h"
#include "api/auth.h"

static void usage(FILE *out) {
    fprintf(out,
            "Usage: agynd serve [options]\n"
            "       agynd runner --database URL --node-name NAME [options]\n"
            "\n"
            "Serves the API (/api/v1), the Console (/), /healthz and /readyz.\n"
            "\n"
            "  --data-dir DIR        data directory made by 'agynd init' (env AGYN_DATA_DIR;\n"
            "                        default ./var)\n"
            "  --listen HOST:PORT    address to listen on (env AGYN_LISTEN;\n"
            "                        default 127.0.0.1:8080)\n"
            "  --keyring-file FILE   encryption keyring (env AGYN_KEYRING_FILE;\n"
            "                        default DIR/keyring.json)\n"
            "  --database URL        sqlite:PATH, or postgres://USER@HOST:PORT/DB?sslmode=...\n"
            "                        (libpq's PG* environment and service file apply; env\n"
            "                        AGYN_DATABASE; default sqlite:DIR/agyn.db)\n"
            "  --database-pool N     PostgreSQL connections at most (default 10)\n"
            "  --no-runner           serve the API only (a replica; runners run as\n"
            "                        'agynd runner' processes)\n"
            "  --http-threads N      HTTP worker threads (default 4)\n"
            "  --tls-cert FILE       serve HTTPS with this PEM certificate chain (with --tls-key)\n"
            "  --tls-key FILE        the PEM private key of --tls-cert\n"
            "  --public-url URL      the URL clients use (e.g. https://agyn.example.com behind a\n"
            "                        TLS proxy); https marks session cookies Secure\n"
            "  --metrics-token TOKEN /metrics requires 'Authorization: Bearer TOKEN'\n"
            "                        (env AGYN_METRICS_TOKEN)\n"
            "  --max-connections-per-client N  open connections one client address may\n"
            "                        hold (default 128)\n"
            "  --max-connections N   open connections in all, event streams included\n"
            "                        (default 1000; raise the open-files limit to match)\n"
            "  --event-retention DUR  events older than this are deleted, and expired Console\n"
            "                        sessions (default 7d); a stream resuming from a deleted\n"
            "                        event gets 'event: reset'\n"
            "  --workload-retention DUR  stopped, failed and succeeded workloads not updated\n"
            "                        for this long are deleted (default 30d)\n"
            "  --outbound-threads N  threads running verify and provider tests (default 8)\n"
            "  --outbound-org-limit N  such checks of one organization running at once\n"
            "                        (default 2; 4 times as many may wait)\n"
            "  --outbound-timeout DUR  deadline of one such check, from its request\n"
            "                        (default 15s)\n"
            "  --metrics-listen HOST:PORT  serve /metrics only on this separate address\n"
            "                        (without --metrics-token, /metrics is not served on\n"
            "                        --listen at all)\n"
            "\n"
            "Egress (every outbound connection: registries, token services, redirects,\n"
            "secret providers; checked on the address actually connected, no proxies):\n"
            "  --egress-allow CIDR|HOST:PORT  allow connections to a non-public destination\n"
            "                        (repeatable): 10.0.0.0/8, 192.168.1.5, [::1]:5000,\n"
            "                        registry.lan:5000 (names resolved once at start).\n"
            "                        Denied unless allowed: loopback, private, unspecified,\n"
            "                        multicast/broadcast and reserved addresses, and agynd's\n"
            "                        own listen address (only an exact HOST:PORT opens it).\n"
            "                        Always denied: link-local and cloud metadata\n"
            "                        (169.254.0.0/16, fe80::/10, fd00:ec2::254).\n"
            "                        Secret providers use plain http only to allowed\n"
            "                        destinations.\n"
            "\n"
            "Runner (pulls the images of started workloads; 'agynd runner' takes the same\n"
            "options and serves only /healthz, /readyz and /metrics on --listen):\n"
            "  --node-name NAME             this runner's node, recorded on the workloads it\n"
            "                               claims; a runner restarted with the same name\n"
            "                               within --lease adopts its running workloads\n"
            "  --lease DUR                  how long a claim holds without a heartbeat (renewed\n"
            "                               every DUR/3); then another runner takes over a\n"
            "                               starting workload and a running one fails\n"
            "                               NodeLost (default 15s)\n"
            "  --runner-threads N           workloads started at once (default 4)\n"
            "  --runner-org-concurrency N   workloads of one organization started at once\n"
            "                               (default half of --runner-threads, at least 1);\n"
            "                               the others' workloads are started first\n"
            "  --runtime NAME               runtime backend: pull-only (default: pulls into\n"
            "                               the content store, runs nothing) or docker\n"
            "                               (runs the workloads with the Docker Engine API,\n"
            "                               Docker or Podman)\n"
            "  --docker-host unix:///PATH   the engine's socket (default $DOCKER_HOST, else\n"
            "                               unix:///var/run/docker.sock)\n"
            "  --docker-network NAME        the main container's network (default bridge;\n"
            "                               none allowed); the others join its namespace\n"
            "  --stop-grace DURATION        SIGTERM to SIGKILL on stop (default 10s)\n"
            "  --crash-backoff-initial DUR  first wait before restarting an ended container\n"
            "                               (restart_policy on-failure or always; default 10s)\n"
            "  --crash-backoff-max DUR      longest wait, doubling from the first (default\n"
            "                               300s)\n"
            "  --content-dir DIR            OCI image layout for pulled blobs\n"
            "                               (default DATA_DIR/content)\n"
            "  --registry-ca-file FILE      extra CA certificates for registries\n"
            "  --insecure-registry HOST:PORT  allow plain HTTP to this registry (repeatable;\n"
            "                               a loopback registry may use HTTP when\n"
            "                               --egress-allow allows it; a redirect or token\n"
            "                               service only on the registry's own origin or\n"
            "                               when listed here)\n"
            "  --pull-backoff-initial DUR   first retry delay after a failed pull (default 10s)\n"
            "  --pull-backoff-max DUR       longest retry delay (default 300s)\n"
            "  --start-grace DUR            fail a workload whose images are not pulled by\n"
            "                               then, counted from its creation; a download in\n"
            "                               progress is cut off too (default 60s); DUR is\n"
            "                               like 250ms, 10s, 5m\n"
            "  --pull-timeout DUR           longest single pull attempt; it is then retried\n"
            "                               with back-off (default 30m)\n"
            "  --max-image-size SIZE        refuse images whose manifest declares more\n"
            "                               (config + layers) than SIZE, before downloading\n"
            "                               (default 20GiB); SIZE is like 512MiB, 20GiB\n"
            "\n"
            "kubelet credential-provider plugins (image pull secrets with password_source\n"
            "\"plugin\"; see docs/providers.md):\n"
            "  --image-credential-provider-config FILE  the kubelet's CredentialProviderConfig\n"
            "                               (YAML or JSON, apiVersion kubelet.config.k8s.io/v1)\n"
            "  --image-credential-provider-bin-dir DIR  where the plugins' executables are\n"
            "  --image-credential-provider-timeout DUR  longest run of one plugin; its process\n"
            "                               group is then killed (default 30s)\n"
            "\n"
            "Quotas per organization (a create beyond one answers 429 naming the flag):\n"
            "  --max-active-workloads-per-org N  workloads starting, running or stopping\n"
            "                               (default 100)\n"
            "  --max-secrets-per-org N      secrets (default 1000)\n"
            "  --max-image-pull-secrets-per-org N  image pull secrets (default 1000)\n"
            "  --max-attachments-per-org N  image pull secret attachments (default 10000)\n"
            "  -h, --help            show this help\n");
}

/* The operator's credential-provider plugins, kept for the process's life (static: still
 * reachable on every early return). */
static struct credential_plugins *plugins;

/* When the keyring cannot be loaded, says which keys the stored values need. */
static void report_needed_keys(const char *database) {
    struct store *store = NULL;
    struct agyn_error err = {0};
    char ids[1024];
    if (store_open(database, &store, &err) == 0 &&
        sealed_values_key_ids(store, ids, sizeof ids, &err) == 0 && ids[0])
        fprintf(stderr,
                "agynd serve: the stored values are encrypted with key(s) %s; restore "
                "a keyring holding them\n",
                ids);
    store_close(store);
}

static int serve_main(int argc, char **argv, int runner_only);

static struct keyring *reloaded_keyring;
static const char *reloaded_keyring_file;

/* Another process changed the keyring (`agynd keys add`, rewrap): read it again now. */
static void reload_keyring(void) {
    struct agyn_error ignored = {0};
    if (reloaded_keyring && keyring_reload(reloaded_keyring, reloaded_keyring_file, &ignored) != 0)
        log_kv("warn", "keyring reload failed", {"error", ignored.message});
}

/* Cross-process wake-ups (PostgreSQL LISTEN/NOTIFY; nothing to do on SQLite). Only the API
 * reads the event log (SSE); the runner wakes for claimable work alone, not every write. */
static int subscribe_all(struct app *app, int api, int runner, struct agyn_error *err) {
    if (api && store_subscribe(app->store, EVENT_LOG_CHANNEL, event_log_notify, err) != 0)
        return -1;
    if (runner && store_subscribe(app->store, WORK_SIGNAL_CHANNEL, work_signal_wake, err) != 0)
        return -1;
    reloaded_keyring = app->keyring;
    reloaded_keyring_file = app->config.keyring_file;
    if (store_subscribe(app->store, KEYRING_CHANGE_CHANNEL, reload_keyring, err) != 0)
        return -1;
    return api ? store_subscribe(app->store, AUTH_REVOCATION_CHANNEL, auth_cache_clear, err) : 0;
}

int cmd_serve(int argc, char **argv) {
    return serve_main(argc, argv, 0);
}

int cmd_runner(int argc, char **argv) {
    return serve_main(argc, argv, 1);
}

/* `agynd serve` (runner_only 0) and `agynd runner` (1: the runner alone, with /healthz,
 * /readyz and /metrics on --listen). */
static int serve_main(int argc, char **argv, int runner_only) {
    const char *self = runner_only ? "agynd runner" : "agynd serve";
    int no_runner = 0;
    const char *node_name = NULL;
    struct app app = {0};
    config_defaults(&app.config);
    int database_set = getenv("AGYN_DATABASE") && *getenv("AGYN_DATABASE");
    int keyring_set = getenv("AGYN_KEYRING_FILE") && *getenv("AGYN_KEYRING_FILE");
    static const struct option options[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"keyring-file", required_argument, NULL, 'k'},
        {"database", required_argument, NULL, 'b'},
        {"http-threads", required_argument, NULL, 't'},
        {"runner-threads", required_argument, NULL, 'r'},
        {"runtime", required_argument, NULL, 'R'},
        {"content-dir", required_argument, NULL, 'c'},
        {"registry-ca-file", required_argument, NULL, 'a'},
        {"insecure-registry", required_argument, NULL, 'i'},
        {"pull-backoff-initial", required_argument, NULL, 'B'},
        {"pull-backoff-max", required_argument, NULL, 'M'},
        {"start-grace", required_argument, NULL, 'G'},
        {"pull-timeout", required_argument, NULL, 2001},
        {"max-image-size", required_argument, NULL, 2002},
        {"runner-org-concurrency", required_argument, NULL, 2003},
        {"tls-cert", required_argument, NULL, 1001},
        {"tls-key", required_argument, NULL, 1002},
        {"public-url", required_argument, NULL, 1003},
        {"metrics-token", required_argument, NULL, 1004},
        {"metrics-listen", required_argument, NULL, 1005},
        {"max-connections-per-client", required_argument, NULL, 1006},
        {"outbound-threads", required_argument, NULL, 1007},
        {"outbound-org-limit", required_argument, NULL, 1008},
        {"outbound-timeout", required_argument, NULL, 1009},
        {"egress-allow", required_argument, NULL, 1010},
        {"event-retention", required_argument, NULL, 1011},
        {"workload-retention", required_argument, NULL, 1012},
        {"max-connections", required_argument, NULL, 1013},
        {"docker-host", required_argument, NULL, 3001},
        {"docker-network", required_argument, NULL, 3002},
        {"stop-grace", required_argument, NULL, 3003},
        {"crash-backoff-initial", required_argument, NULL, 3004},
        {"crash-backoff-max", required_argument, NULL, 3005},
        {"max-active-workloads-per-org", required_argument, NULL, 2004},
        {"max-secrets-per-org", required_argument, NULL, 2005},
        {"max-image-pull-secrets-per-org", required_argument, NULL, 2006},
        {"max-attachments-per-org", required_argument, NULL, 2007},
        {"image-credential-provider-config", required_argument, NULL, 4001},
        {"image-credential-provider-bin-dir", required_argument, NULL, 4002},
        {"image-credential-provider-timeout", required_argument, NULL, 4003},
        {"database-pool", required_argument, NULL, 5001},
        {"no-runner", no_argument, NULL, 5002},
        {"node-name", required_argument, NULL, 5003},
        {"lease", required_argument, NULL, 5004},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    struct retention_config retention_config = {0};
    struct runner_config runner_config = {.threads = 4,
                                          .backoff_initial_ms = 10000,
                                          .backoff_max_ms = 300000,
                                          .start_grace_ms = 60000,
                                          .pull_timeout_ms = 30LL * 60 * 1000,
                                          .lease_ms = 15000,
                                          .runtime = &runtime_pull_only};
    uint64_t max_image_bytes = REGISTRY_DEFAULT_MAX_IMAGE_BYTES;
    char content_dir[4200] = "";
    const char *ca_file = NULL;
    const char *insecure[65] = {0};
    size_t insecure_count = 0;
    const char *egress_allow[EGRESS_ALLOW_MAX + 1] = {0};
    size_t egress_allow_count = 0;
    struct runtime_docker_config docker_config = {0};
    const char *plugin_config = NULL;
    const char *plugin_bin_dir = NULL;
    long long plugin_timeout_ms = CREDENTIAL_PLUGIN_DEFAULT_TIMEOUT_MS;
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
                fprintf(stderr,
                        "agynd serve: unknown --runtime \"%s\" (available: pull-only, docker)\n",
                        optarg);
                return 2;
            }
            break;
        case 3001:
            docker_config.host = optarg;
            break;
        case 3002:
            docker_config.network = optarg;
            break;
        case 3003:
            if (duration_parse_ms(optarg, "--stop-grace", &docker_config.stop_grace_ms, &err) !=
                    0 ||
                docker_config.stop_grace_ms <= 0) {
                fprintf(stderr, "agynd serve: %s\n",
                        err.message[0] ? err.message : "--stop-grace must be longer than 0");
                return 2;
            }
            break;
        case 3004:
        case 3005: {
            const char *name = opt == 3004 ? "--crash-backoff-initial" : "--crash-backoff-max";
            long long *target = opt == 3004 ? &docker_config.crash_backoff_initial_ms
                                            : &docker_config.crash_backoff_max_ms;
            if (duration_parse_ms(optarg, name, target, &err) != 0 || *target <= 0) {
                if (!err.message[0])
                    snprintf(err.message, sizeof err.message, "%s must be longer than 0", name);
                fprintf(stderr, "agynd serve: %s\n", err.message);
                return 2;
            }
            break;
        }
        case 2001: {
            long long *timeout = &runner_config.pull_timeout_ms;
            if (duration_parse_ms(optarg, "--pull-timeout", timeout, &err) != 0 || *timeout <= 0) {
                fprintf(stderr, "agynd serve: %s\n",
                        err.message[0] ? err.message : "--pull-timeout must be longer than 0");
                return 2;
            }
            break;
        }
        case 2002:
            if (byte_size_parse(optarg, "--max-image-size", &max_image_bytes, &err) != 0 ||
                max_image_bytes == 0) {
                fprintf(stderr, "agynd serve: %s\n",
                        err.message[0] ? err.message : "--max-image-size must be more than 0");
                return 2;
            }
            break;
        case 2003:
            runner_config.org_concurrency = atoi(optarg);
            if (runner_config.org_concurrency < 1 || runner_config.org_concurrency > 64) {
                fprintf(stderr, "agynd serve: --runner-org-concurrency must be 1 to 64\n");
                return 2;
            }
            break;
        case 'c':
            snprintf(content_dir, sizeof content_dir, "%s", optarg);
            break;
        case 'a':
            ca_file = optarg;
            break;
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
        case 'd':
            snprintf(c->data_dir, sizeof c->data_dir, "%s", optarg);
            break;
        case 'l':
            snprintf(c->listen, sizeof c->listen, "%s", optarg);
            break;
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
        case 1001:
            snprintf(c->tls_cert, sizeof c->tls_cert, "%s", optarg);
            break;
        case 1002:
            snprintf(c->tls_key, sizeof c->tls_key, "%s", optarg);
            break;
        case 1003:
            if (strncasecmp(optarg, "https://", 8) != 0 && strncasecmp(optarg, "http://", 7) != 0) {
                fprintf(stderr, "agynd serve: --public-url must start with https:// or http://\n");
                return 2;
            }
            snprintf(c->public_url, sizeof c->public_url, "%s", optarg);
            break;
        case 1004:
            snprintf(c->metrics_token, sizeof c->metrics_token, "%s", optarg);
            break;
        case 1005:
            snprintf(c->metrics_listen, sizeof c->metrics_listen, "%s", optarg);
            break;
        case 1006:
        case 1007:
        case 1008: {
            int *target = opt == 1006   ? &c->max_connections_per_client
                          : opt == 1007 ? &c->outbound.threads
                                        : &c->outbound.org_running;
            *target = atoi(optarg);
            if (*target < 1 || *target > 4096) {
                fprintf(stderr, "agynd serve: --%s must be 1 to 4096\n",
                        opt == 1006   ? "max-connections-per-client"
                        : opt == 1007 ? "outbound-threads"
                                      : "outbound-org-limit");
                return 2;
            }
            break;
        }
        case 1009: {
            long long ms = 0;
            if (duration_parse_ms(optarg, "--outbound-timeout", &ms, &err) != 0 || ms <= 0) {
                fprintf(stderr, "agynd serve: --outbound-timeout must be a positive duration\n");
                return 2;
            }
            c->outbound.timeout_ms = ms;
            break;
        }
        case 1013:
            c->max_connections = atoi(optarg);
            if (c->max_connections < 1 || c->max_connections > 65536) {
                fprintf(stderr, "agynd serve: --max-connections must be 1 to 65536\n");
                return 2;
            }
            break;
        case 1011:
        case 1012: {
            const char *name = opt == 1011 ? "--event-retention" : "--workload-retention";
            long long ms = 0;
            if (duration_parse_ms(optarg, name, &ms, &err) != 0 || ms <= 0) {
                fprintf(stderr, "agynd serve: %s must be a positive duration\n", name);
                return 2;
            }
            *(opt == 1011 ? &retention_config.event_retention_ms
                          : &retention_config.workload_retention_ms) = ms;
            break;
        }
        case 1010:
            if (egress_allow_count == EGRESS_ALLOW_MAX) {
                fprintf(stderr, "agynd serve: at most %d --egress-allow options\n",
                        EGRESS_ALLOW_MAX);
                return 2;
            }
            if (egress_check_allow_entry(optarg, &err) != 0) {
                fprintf(stderr, "agynd serve: %s\n", err.message);
                return 2;
            }
            egress_allow[egress_allow_count++] = optarg;
            break;
        case 2004:
        case 2005:
        case 2006:
        case 2007: {
            static const char *const names[] = {
                "--max-active-workloads-per-org", "--max-secrets-per-org",
                "--max-image-pull-secrets-per-org", "--max-attachments-per-org"};
            long long *targets[] = {&c->quotas.active_workloads, &c->quotas.secrets,
                                    &c->quotas.image_pull_secrets, &c->quotas.attachments};
            char *end = NULL;
            long long value = strtoll(optarg, &end, 10);
            if (!*optarg || *end || value < 1 || value > 100000000) {
                fprintf(stderr, "agynd serve: %s must be a number from 1 to 100000000\n",
                        names[opt - 2004]);
                return 2;
            }
            *targets[opt - 2004] = value;
            break;
        }
        case 4001:
            plugin_config = optarg;
            break;
        case 4002:
            plugin_bin_dir = optarg;
            break;
        case 4003:
            if (duration_parse_ms(optarg, "--image-credential-provider-timeout", &plugin_timeout_ms,
                                  &err) != 0 ||
                plugin_timeout_ms <= 0) {
                fprintf(stderr, "agynd serve: %s\n",
                        err.message[0] ? err.message
                                       : "--image-credential-provider-timeout must be longer "
                                         "than 0");
                return 2;
            }
            break;
        case 5001:
            c->database_pool = atoi(optarg);
            if (c->database_pool < 1 || c->database_pool > 1000) {
                fprintf(stderr, "%s: --database-pool must be 1 to 1000\n", self);
                return 2;
            }
            break;
        case 5002:
            no_runner = 1;
            break;
        case 5003:
            node_name = optarg;
            break;
        case 5004:
            if (duration_parse_ms(optarg, "--lease", &runner_config.lease_ms, &err) != 0 ||
                runner_config.lease_ms < 1000) {
                fprintf(stderr, "%s: %s\n", self,
                        err.message[0] ? err.message : "--lease must be at least 1s");
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (runner_only && no_runner) {
        fprintf(stderr, "agynd runner: --no-runner makes no sense here\n");
        return 2;
    }
    if (node_name && (!*node_name || strlen(node_name) > 63)) {
        fprintf(stderr, "%s: --node-name must be 1 to 63 characters\n", self);
        return 2;
    }
    runner_config.node_name = node_name;
    docker_config.node_name = node_name;
    app.config.operational_only = runner_only;
    config_derive_paths(&app.config, database_set, keyring_set);
    if (!app.config.tls_cert[0] != !app.config.tls_key[0]) {
        fprintf(stderr, "agynd serve: --tls-cert and --tls-key go together\n");
        return 2;
    }

    const char *own_listen[3] = {app.config.listen, NULL, NULL};
    if (app.config.metrics_listen[0])
        own_listen[1] = app.config.metrics_listen;
    struct egress_config egress = {.allow = egress_allow, .own_listen = own_listen};
    if (egress_configure(&egress, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        return 2;
    }

    if (!plugin_config != !plugin_bin_dir) {
        fprintf(stderr, "agynd serve: --image-credential-provider-config and "
                        "--image-credential-provider-bin-dir go together\n");
        return 2;
    }
    if (plugin_config && credential_plugins_load(plugin_config, plugin_bin_dir, plugin_timeout_ms,
                                                 &plugins, &err) != 0) {
        fprintf(stderr, "agynd serve: --image-credential-provider-config: %s\n", err.message);
        return 2;
    }

    if (runner_config.runtime == &runtime_docker &&
        runtime_docker_configure(&docker_config, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        return 2;
    }
    app.runtime = runner_config.runtime;

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
    const struct store_options store_options = {.pool_size = app.config.database_pool,
                                                .migrate = true};
    if (store_open_with(app.config.database, &store_options, &app.store, &err) != 0 ||
        subscribe_all(&app, !runner_only, !no_runner, &err) != 0) {
        fprintf(stderr, "%s: %s\n", self, err.message);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    if (sealed_values_check(app.store, app.keyring, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    app.resolve =
        (struct resolve_context){app.store, app.keyring, app.config.keyring_file, plugins};
    struct registry_client_config registry_config = {.content_dir = content_dir,
                                                     .ca_file = ca_file,
                                                     .insecure_registries = insecure,
                                                     .max_image_bytes = max_image_bytes};
    struct runner *runner = NULL;
    struct api_server *server = NULL;
    unsigned port = 0;
    if (registry_client_new(&registry_config, &app.registry, &err) != 0 ||
        (!no_runner &&
         runner_start(&runner_config, &app.resolve, app.registry, &runner, &err) != 0)) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        registry_client_free(app.registry);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    sse_start(app.store);
    app.config.outbound.org_queued = app.config.outbound.org_running * 4;
    struct retention *retention = NULL;
    if ((!runner_only && retention_start(app.store, &retention_config, &retention, &err) != 0) ||
        outbound_pool_start(&app.config.outbound, &app.outbound, &err) != 0 ||
        api_server_start(&app, &server, &port, &err) != 0) {
        fprintf(stderr, "agynd serve: %s\n", err.message);
        retention_stop(retention);
        outbound_pool_free(app.outbound);
        sse_stop();
        runner_stop(runner);
        registry_client_free(app.registry);
        store_close(app.store);
        keyring_free(app.keyring);
        return 1;
    }
    const char *listen_port = strrchr(app.config.listen, ':');
    if (listen_port && strcmp(listen_port, ":0") == 0) { /* the port is known only now */
        char bound[320];
        snprintf(bound, sizeof bound, "%.*s:%u", (int)(listen_port - app.config.listen),
                 app.config.listen, port);
        egress_add_own_address(bound, &err);
    }
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", port);
    log_kv("info", runner_only ? "running" : "serving", {"listen", app.config.listen},
           {"port", port_text}, {"data_dir", app.config.data_dir},
           {"database", store_backend_name(app.store)},
           {"runner", no_runner     ? "none"
                      : runner_only ? "alone"
                                    : "embedded"});

    int received = 0;
    sigwait(&signals, &received);
    log_kv("info", "shutting down", {"signal", received == SIGINT ? "SIGINT" : "SIGTERM"});
    sse_stop();
    log_stream_stop_all();
    outbound_pool_stop(app.outbound); /* waiting requests are answered, workers joined */
    api_server_stop(server, 5000);
    outbound_pool_free(app.outbound);
    retention_stop(retention);
    runner_stop(runner);
    registry_client_free(app.registry);
    store_close(app.store);
    keyring_free(app.keyring);
    credential_plugins_free(plugins);
    plugins = NULL;
    log_fields("info", "stopped", NULL, 0);
    return 0;
}
