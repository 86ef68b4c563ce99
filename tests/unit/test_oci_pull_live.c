/* test_oci_pull_live.c — the registry client against real registries: Debian's docker-registry
 * started by tests/fixtures/registry_fixture.py (anonymous, htpasswd with blob redirects to
 * another host, token auth, short-lived tokens behind a throttling proxy, TLS), images pushed
 * with skopeo. Covers pulls with right, wrong and no credentials, unknown tags and
 * repositories, warm pulls that reuse blobs yet still check the credential, multi-arch
 * indexes, logins, tokens expiring mid-pull, corrupted blobs, CA files and concurrent pulls.
 * Finds the fixtures through AGYN_SOURCE_DIR or this file's path; skips (saying why) when
 * docker-registry, skopeo or htpasswd is not installed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "core/error.h"
#include "core/image_ref.h"
#include "net/egress.h"
#include "registry/oci_client.h"
#include "registry/pull_failure.h"

#define FIXTURE_REL "tests/fixtures/registry_fixture.py"
#define START_TIMEOUT_MS 60000
#define MAX_LAYERS 8
#define THROTTLE_BYTES_PER_S "262144"
#define SLOW_LAYERS "[420000,420000,420000]"
#define SHORT_TOKEN_LIFETIME "3"
#define SLOW_PULL_MIN_MS 3500

static const struct registry_auth ALICE = {"alice", "secret-pw-1"};
static const struct registry_auth ALICE_WRONG = {"alice", "wrong-pw-9876"};
static const struct registry_auth NOBODY = {"mallory", "secret-pw-1"};

struct server {
    const char *name;
    pid_t pid;
    int stdin_fd;
    int stdout_fd;
    int port;
    int direct_port;
    char host[64];        /* what clients use */
    char direct_host[64]; /* for pushes, bypassing any throttle */
    char storage[512];
    char ca_file[512];
    char token_stats_url[256];
    char blob_stats_url[256];
    char big_blob[128]; /* HostileRegistry: "<digest> <size>" of evil/big's layer */
    char hosts[512];    /* HostileRegistry: every instance's host */
};

enum server_id {
    ANON,
    HTPASSWD,
    TOKEN,
    TOKEN_SHORT,
    TOKEN_SHORT_HONEST,
    TLS,
    HOSTILE,               /* HostileRegistry: open, misbehaving per repository */
    HOSTILE_TOKEN_CRLF,    /* its token service answers a token holding CR LF */
    HOSTILE_TOKEN_NONE,    /* its token service answers without a token */
    HOSTILE_BAD_CHALLENGE, /* an unterminated WWW-Authenticate */
    SERVER_COUNT
};

static struct server servers[SERVER_COUNT];
static char source_dir[2048];
static char fixture_path[2200];
static bool tools_missing;
static char tools_missing_reason[256];

struct pushed_image {
    char manifest_digest[80];
    char config_digest[80];
    char layers[MAX_LAYERS][80];
    int layer_count;
    uint64_t bytes_total;
};

/* ---- pushing: every image goes up in one batch while the group starts ---- */

enum image_id {
    IMG_APP,
    IMG_DOCKER,
    IMG_PRIVATE,
    IMG_TOKENED,
    IMG_MULTI_OCI,
    IMG_MULTI_DOCKER,
    IMG_SLOW,
    IMG_SLOW_HONEST,
    IMG_CORRUPT,
    IMG_TLS,
    IMG_SHARED,
    IMAGE_COUNT
};

struct image_spec {
    enum server_id server;
    const char *repo_tag; /* "repo:tag" */
    const char *layers;   /* a JSON array of sizes */
    const char *extra;    /* more JSON members, or "" */
};

static const struct image_spec image_specs[IMAGE_COUNT] = {
    [IMG_APP] = {ANON, "team/app:v1", "[2048,100000]", ""},
    [IMG_DOCKER] = {ANON, "team/docker:v1", "[3000,0]",
                    ",\"format\":\"docker\",\"compress\":false"},
    [IMG_PRIVATE] = {HTPASSWD, "team/private:v1", "[4096,8192]", ""},
    [IMG_TOKENED] = {TOKEN, "team/tokened:v1", "[5000]", ""},
    [IMG_MULTI_OCI] = {ANON, "team/multi:oci", "[1500]",
                       ",\"platforms\":[\"linux/arm64/v8\",\"linux/amd64\",\"linux/arm/v7\"]"},
    [IMG_MULTI_DOCKER] = {ANON, "team/multi:docker", "[1500]",
                          ",\"format\":\"docker\",\"platforms\":[\"linux/arm64/v8\","
                          "\"linux/amd64\",\"linux/arm/v7\"]"},
    [IMG_SLOW] = {TOKEN_SHORT, "team/slow:v1", SLOW_LAYERS, ""},
    [IMG_SLOW_HONEST] = {TOKEN_SHORT_HONEST, "team/slow:v1", SLOW_LAYERS, ""},
    [IMG_CORRUPT] = {ANON, "team/corrupt:v1", "[50000,60000]", ""},
    [IMG_TLS] = {TLS, "team/tls:v1", "[1234]", ""},
    [IMG_SHARED] = {TOKEN, "team/shared:v1", "[30000,40000,50000]", ""},
};

static json_t *pushed[IMAGE_COUNT]; /* push_image / push_index results */

static void image_from_json(json_t *obj, struct pushed_image *img) {
    memset(img, 0, sizeof *img);
    snprintf(img->manifest_digest, sizeof img->manifest_digest, "%s",
             json_string_value(json_object_get(obj, "manifest_digest")));
    snprintf(img->config_digest, sizeof img->config_digest, "%s",
             json_string_value(json_object_get(obj, "config_digest")));
    json_t *layers = json_object_get(obj, "layer_digests");
    for (size_t i = 0; i < json_array_size(layers) && i < MAX_LAYERS; i++) {
        snprintf(img->layers[i], sizeof img->layers[i], "%s",
                 json_string_value(json_array_get(layers, i)));
        img->layer_count++;
    }
    img->bytes_total = (uint64_t)json_integer_value(json_object_get(obj, "bytes_total"));
}

static void image_pushed(enum image_id id, struct pushed_image *img) {
    image_from_json(pushed[id], img);
}

/* Runs `registry_fixture.py push-many` with every spec; -1 when it fails. */
static int push_all_images(void) {
    char specs_path[] = "/tmp/agyn-live-specs-XXXXXX";
    int fd = mkstemp(specs_path);
    if (fd < 0)
        return -1;
    FILE *specs = fdopen(fd, "w");
    fputc('[', specs);
    for (int i = 0; i < IMAGE_COUNT; i++) {
        const struct image_spec *spec = &image_specs[i];
        const struct server *srv = &servers[spec->server];
        char repo[128];
        snprintf(repo, sizeof repo, "%s", spec->repo_tag);
        char *colon = strchr(repo, ':');
        *colon = '\0';
        bool with_creds = spec->server != ANON && spec->server != TLS;
        fprintf(specs, "%s{\"registry\":\"%s\",\"repo\":\"%s\",\"tag\":\"%s\",\"layers\":%s%s%s}",
                i ? "," : "", srv->direct_host, repo, colon + 1, spec->layers,
                with_creds ? ",\"creds\":\"alice:secret-pw-1\"" : "", spec->extra);
    }
    fputc(']', specs);
    fclose(specs);
    char cmd[4300];
    snprintf(cmd, sizeof cmd, "python3 '%s' push-many --parallel 6 < '%s'", fixture_path,
             specs_path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    static char out[1 << 20];
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = '\0';
    int status = pclose(p);
    unlink(specs_path);
    json_t *results = status == 0 ? json_loads(out, 0, NULL) : NULL;
    if (json_array_size(results) != IMAGE_COUNT) {
        fprintf(stderr, "push-many failed (status %d)\n", status);
        json_decref(results);
        return -1;
    }
    for (int i = 0; i < IMAGE_COUNT; i++)
        pushed[i] = json_incref(json_array_get(results, i));
    json_decref(results);
    return 0;
}

/* ---- locating the fixtures ---- */

static bool fixture_exists(const char *dir) {
    char path[2200];
    snprintf(path, sizeof path, "%s/%s", dir, FIXTURE_REL);
    return access(path, R_OK) == 0;
}

static int find_source_dir(void) {
    const char *env = getenv("AGYN_SOURCE_DIR");
    if (env && fixture_exists(env)) {
        snprintf(source_dir, sizeof source_dir, "%s", env);
    } else {
        char file[1024], here[2048];
        snprintf(file, sizeof file, "%s", __FILE__);
        char *cut = strstr(file, "tests/unit/");
        if (!cut)
            return -1;
        *cut = '\0';
        snprintf(here, sizeof here, "%s", file);
        if (file[0] != '/') { /* relative to the build's working directory; try ours */
            char cwd[512];
            if (!getcwd(cwd, sizeof cwd))
                return -1;
            snprintf(here, sizeof here, "%s/%s", cwd, file);
        }
        size_t len = strlen(here);
        if (len > 1 && here[len - 1] == '/')
            here[len - 1] = '\0';
        if (!fixture_exists(here))
            return -1;
        snprintf(source_dir, sizeof source_dir, "%s", here);
    }
    snprintf(fixture_path, sizeof fixture_path, "%s/%s", source_dir, FIXTURE_REL);
    return 0;
}

static bool have_program(const char *name) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "command -v %s >/dev/null 2>&1", name);
    return system(cmd) == 0;
}

/* ---- fixture processes ---- */

static int spawn_server(struct server *srv, const char *const *args) {
    const char *argv[32];
    int n = 0;
    argv[n++] = "python3";
    argv[n++] = fixture_path;
    argv[n++] = *args++; /* "serve" or "serve-hostile" */
    argv[n++] = "--exit-on-stdin-eof";
    for (; *args && n < 31; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    srv->pid = pid;
    srv->stdin_fd = in[1];
    srv->stdout_fd = out[0];
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void take_value(const char *line, const char *key, char *out, size_t size) {
    size_t len = strlen(key);
    if (strncmp(line, key, len) != 0 || line[len] != ' ')
        return;
    size_t n = strnlen(line + len + 1, size - 1);
    memcpy(out, line + len + 1, n);
    out[n] = '\0';
}

/* Reads "KEY value" lines up to "READY <port>". */
static int wait_ready(struct server *srv) {
    char line[1024];
    size_t used = 0;
    long long deadline = now_ms() + START_TIMEOUT_MS;
    char direct_port[16] = "";
    for (;;) {
        long long left = deadline - now_ms();
        struct pollfd pfd = {srv->stdout_fd, POLLIN, 0};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            return -1;
        char c;
        ssize_t got = read(srv->stdout_fd, &c, 1);
        if (got <= 0)
            return -1;
        if (c != '\n') {
            if (used + 1 < sizeof line)
                line[used++] = c;
            continue;
        }
        line[used] = '\0';
        used = 0;
        if (strncmp(line, "ERROR", 5) == 0) {
            fprintf(stderr, "fixture %s: %s\n", srv->name, line);
            return -1;
        }
        take_value(line, "STORAGE", srv->storage, sizeof srv->storage);
        take_value(line, "CA_FILE", srv->ca_file, sizeof srv->ca_file);
        take_value(line, "TOKEN_STATS_URL", srv->token_stats_url, sizeof srv->token_stats_url);
        take_value(line, "BLOB_STATS_URL", srv->blob_stats_url, sizeof srv->blob_stats_url);
        take_value(line, "DIRECT_PORT", direct_port, sizeof direct_port);
        take_value(line, "BIG_BLOB", srv->big_blob, sizeof srv->big_blob);
        take_value(line, "HOSTS", srv->hosts, sizeof srv->hosts);
        if (strncmp(line, "READY ", 6) == 0) {
            srv->port = atoi(line + 6);
            srv->direct_port = direct_port[0] ? atoi(direct_port) : srv->port;
            snprintf(srv->host, sizeof srv->host, "127.0.0.1:%d", srv->port);
            snprintf(srv->direct_host, sizeof srv->direct_host, "127.0.0.1:%d", srv->direct_port);
            return srv->port > 0 ? 0 : -1;
        }
    }
}

static void signal_server(struct server *srv) {
    if (srv->pid <= 0)
        return;
    close(srv->stdin_fd); /* the fixture stops on stdin EOF, or SIGTERM */
    kill(srv->pid, SIGTERM);
}

static void stop_server(struct server *srv) {
    if (srv->pid <= 0)
        return;
    int status;
    for (int i = 0; i < 100; i++) {
        if (waitpid(srv->pid, &status, WNOHANG) == srv->pid) {
            srv->pid = 0;
            break;
        }
        usleep(50000);
    }
    if (srv->pid > 0) {
        kill(srv->pid, SIGKILL);
        waitpid(srv->pid, &status, 0);
    }
    close(srv->stdout_fd);
    srv->pid = 0;
}

/* Plain HTTP to a token service or blob store on another origin than the registry needs the
 * operator's --insecure-registry: the fixtures' token issuers and blob stores are listed. */
static char insecure_hosts[SERVER_COUNT * 2][64];
static const char *insecure_list[SERVER_COUNT * 2 + 1];

/* "http://HOST:PORT/..." -> "HOST:PORT" into insecure_list (as_host replaces HOST). */
static void list_insecure(const char *url, const char *as_host) {
    size_t n = 0;
    while (insecure_list[n])
        n++;
    const char *host = strstr(url, "://");
    const char *colon = host ? strchr(host + 3, ':') : NULL;
    if (!colon || n >= SERVER_COUNT * 2)
        return;
    snprintf(insecure_hosts[n], sizeof insecure_hosts[n], "%s:%d", as_host, atoi(colon + 1));
    insecure_list[n] = insecure_hosts[n];
}

/* The fixtures live on loopback, which the egress policy denies unless allowed. */
static void allow_loopback_egress(void) {
    static const char *const allow[] = {"127.0.0.0/8", "::1/128", NULL};
    struct egress_config config = {.allow = allow};
    struct agyn_error err = {0};
    if (egress_configure(&config, &err) != 0)
        fail_msg("egress_configure: %s", err.message);
}

static int setup_servers(void **state) {
    (void)state;
    static const char *missing[] = {"docker-registry", "skopeo", "htpasswd", "openssl", "python3"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        if (!have_program(missing[i])) {
            tools_missing = true;
            snprintf(tools_missing_reason, sizeof tools_missing_reason,
                     "%s is not installed (apt-get install docker-registry skopeo "
                     "apache2-utils)",
                     missing[i]);
            return 0;
        }
    }
    if (find_source_dir() != 0) {
        fprintf(stderr, "cannot find %s: set AGYN_SOURCE_DIR\n", FIXTURE_REL);
        return -1;
    }
    static const char *const anon[] = {"serve", "--auth", "anonymous", NULL};
    static const char *const htpasswd[] = {
        "serve", "--auth", "htpasswd", "--user", "alice:secret-pw-1", "--redirect-blobs", NULL};
    static const char *const token[] = {"serve", "--auth", "token", "--user", "alice:secret-pw-1",
                                        NULL};
    /* The registry rejects pull tokens 3 s after issue while the client is told 300 s: only a
     * refresh after a 401 lets a slow pull finish. */
    static const char *const token_short[] = {"serve",
                                              "--auth",
                                              "token",
                                              "--user",
                                              "alice:secret-pw-1",
                                              "--token-lifetime",
                                              SHORT_TOKEN_LIFETIME,
                                              "--token-expires-in",
                                              "300",
                                              "--throttle",
                                              THROTTLE_BYTES_PER_S,
                                              NULL};
    /* Told the truth (3 s): the client must renew the token before it expires. */
    static const char *const token_short_honest[] = {"serve",
                                                     "--auth",
                                                     "token",
                                                     "--user",
                                                     "alice:secret-pw-1",
                                                     "--token-lifetime",
                                                     SHORT_TOKEN_LIFETIME,
                                                     "--throttle",
                                                     THROTTLE_BYTES_PER_S,
                                                     NULL};
    static const char *const tls[] = {"serve", "--auth", "anonymous", "--tls", NULL};
    /* One process serves every hostile registry: the open one, then one per challenge. */
    static const char *const hostile[] = {
        "serve-hostile",
        "--challenge",
        "Bearer realm=\"http://127.0.0.1:{port}/token-crlf\",service=\"hostile\"",
        "--challenge",
        "Bearer realm=\"http://127.0.0.1:{port}/token-no-token\",service=\"hostile\"",
        "--challenge",
        "Bearer realm=\"http://127.0.0.1/unterminated",
        NULL};
    const char *const *args[SERVER_COUNT] = {
        [ANON] = anon,
        [HTPASSWD] = htpasswd,
        [TOKEN] = token,
        [TOKEN_SHORT] = token_short,
        [TOKEN_SHORT_HONEST] = token_short_honest,
        [TLS] = tls,
        [HOSTILE] = hostile,
    };
    static const char *const names[SERVER_COUNT] = {
        [ANON] = "anonymous",
        [HTPASSWD] = "htpasswd",
        [TOKEN] = "token",
        [TOKEN_SHORT] = "token-short",
        [TOKEN_SHORT_HONEST] = "token-short-honest",
        [TLS] = "tls",
        [HOSTILE] = "hostile",
        [HOSTILE_TOKEN_CRLF] = "hostile-token-crlf",
        [HOSTILE_TOKEN_NONE] = "hostile-token-none",
        [HOSTILE_BAD_CHALLENGE] = "hostile-bad-challenge",
    };
    for (int i = 0; i < SERVER_COUNT; i++) {
        servers[i].name = names[i];
        if (args[i] && spawn_server(&servers[i], args[i]) != 0)
            return -1;
    }
    for (int i = 0; i < SERVER_COUNT; i++) {
        if (args[i] && wait_ready(&servers[i]) != 0) {
            fprintf(stderr, "fixture %s did not start\n", names[i]);
            return -1;
        }
    }
    allow_loopback_egress();
    for (int i = 0; i < SERVER_COUNT; i++) {
        if (servers[i].token_stats_url[0])
            list_insecure(servers[i].token_stats_url, "127.0.0.1");
        if (servers[i].blob_stats_url[0])
            list_insecure(servers[i].blob_stats_url, "localhost");
    }
    /* The other hostile registries, from the HOSTS line, in --challenge order. */
    char *saveptr = NULL, *host = strtok_r(servers[HOSTILE].hosts, " ", &saveptr);
    for (int i = HOSTILE; i <= HOSTILE_BAD_CHALLENGE; i++, host = strtok_r(NULL, " ", &saveptr)) {
        if (!host)
            return -1;
        snprintf(servers[i].host, sizeof servers[i].host, "%s", host);
    }
    return push_all_images();
}

#define REQUIRE_TOOLS()                                                                            \
    do {                                                                                           \
        if (tools_missing) {                                                                       \
            fprintf(stderr, "SKIPPED: %s\n", tools_missing_reason);                                \
            skip();                                                                                \
        }                                                                                          \
    } while (0)

/* ---- pulling ---- */

struct content_dir {
    char path[64];
};

static void content_dir_new(struct content_dir *dir) {
    snprintf(dir->path, sizeof dir->path, "/tmp/agyn-live-store-XXXXXX");
    assert_non_null(mkdtemp(dir->path));
}

static void content_dir_remove(struct content_dir *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir->path);
    assert_int_equal(system(cmd), 0);
}

static struct registry_client *client_new(const char *content_dir, const char *arch,
                                          const char *ca_file, int parallel) {
    struct registry_client_config config = {
        .insecure_registries = insecure_list,
        .content_dir = content_dir,
        .ca_file = ca_file,
        .platform_os = "linux",
        .platform_arch = arch,
        .connect_timeout_ms = 5000,
        .low_speed_timeout_s = 10,
        .max_parallel_blobs = parallel,
    };
    struct registry_client *client = NULL;
    struct agyn_error err = {0};
    if (registry_client_new(&config, &client, &err) != 0)
        fail_msg("registry_client_new: %s", err.message);
    return client;
}

struct pull_outcome {
    int rc;
    enum pull_failure failure;
    struct pull_result result;
    struct agyn_error err;
};

static void pull_with(struct registry_client *client, const char *reference,
                      const struct registry_auth *auth, struct pull_outcome *out) {
    struct image_ref ref;
    memset(out, 0, sizeof *out);
    if (image_ref_parse(reference, "image", &ref, &out->err) != 0)
        fail_msg("bad reference %s: %s", reference, out->err.message);
    out->rc = registry_pull(client, &ref, auth, &out->result, &out->err);
    out->failure = pull_failure_of(&out->err);
}

static void pull_once(const char *reference, const struct registry_auth *auth,
                      struct pull_outcome *out) {
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    pull_with(client, reference, auth, out);
    registry_client_free(client);
    content_dir_remove(&dir);
}

/* Pulls with the client shared by the group (for pulls that are expected to fail). */
static struct registry_client *shared_client;
static struct content_dir shared_dir;

static void pull_shared(const char *reference, const struct registry_auth *auth,
                        struct pull_outcome *out) {
    if (!shared_client) {
        content_dir_new(&shared_dir);
        shared_client = client_new(shared_dir.path, "amd64", NULL, 0);
    }
    pull_with(shared_client, reference, auth, out);
}

static void expect_ok(const struct pull_outcome *out) {
    if (out->rc != 0)
        fail_msg("pull failed (kind %d): %s", out->failure, out->err.message);
    assert_int_equal(out->failure, PULL_OK);
}

static void expect_failure(const struct pull_outcome *out, enum pull_failure kind,
                           const char *message_prefix) {
    if (out->rc == 0)
        fail_msg("pull succeeded, expected failure kind %d", kind);
    if (out->failure != kind)
        fail_msg("failure kind %d, expected %d: %s", out->failure, kind, out->err.message);
    if (message_prefix && strncmp(out->err.message, message_prefix, strlen(message_prefix)) != 0)
        fail_msg("message \"%s\" does not start with \"%s\"", out->err.message, message_prefix);
    /* No secret ever shows. */
    assert_null(strstr(out->err.message, ALICE.password));
    assert_null(strstr(out->err.message, ALICE_WRONG.password));
}

static bool blob_stored(const char *content_dir, const char *digest) {
    char path[256];
    struct stat st;
    snprintf(path, sizeof path, "%.63s/blobs/sha256/%.64s", content_dir, digest + 7);
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int count_files(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static void ref_text(char *buf, size_t size, const struct server *srv, const char *rest) {
    snprintf(buf, size, "%s/%s", srv->host, rest);
}

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata) {
    char *buf = userdata;
    size_t used = strlen(buf), len = size * nmemb;
    if (used + len < 4096) {
        memcpy(buf + used, data, len);
        buf[used + len] = '\0';
    }
    return len;
}

static long stat_value(const char *url, const char *key) {
    char body[4096] = "";
    CURL *easy = curl_easy_init();
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, body);
    assert_int_equal(curl_easy_perform(easy), CURLE_OK);
    curl_easy_cleanup(easy);
    json_t *root = json_loads(body, 0, NULL);
    assert_non_null(root);
    long value = (long)json_integer_value(json_object_get(root, key));
    json_decref(root);
    return value;
}

/* ---- tests ---- */

static void test_anonymous_pull(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[ANON];
    struct pushed_image img;
    image_pushed(IMG_APP, &img);
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/app:v1");
    struct pull_outcome out;
    pull_with(client, ref, NULL, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    assert_int_equal(out.result.blobs_total, 3);
    assert_int_equal(out.result.blobs_cached, 0);
    assert_int_equal(out.result.bytes_total, img.bytes_total);
    assert_int_equal(out.result.bytes_downloaded, img.bytes_total);
    assert_true(blob_stored(dir.path, img.manifest_digest));
    assert_true(blob_stored(dir.path, img.config_digest));
    assert_true(blob_stored(dir.path, img.layers[0]));
    assert_true(blob_stored(dir.path, img.layers[1]));
    char path[256];
    snprintf(path, sizeof path, "%s/oci-layout", dir.path);
    assert_int_equal(access(path, R_OK), 0);
    snprintf(path, sizeof path, "%s/ingest", dir.path);
    assert_int_equal(count_files(path), 0);
    /* By digest, too (the manifest's bytes are checked against it). */
    char by_digest[256];
    snprintf(by_digest, sizeof by_digest, "%s/team/app@%s", srv->host, img.manifest_digest);
    pull_with(client, by_digest, NULL, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    assert_int_equal(out.result.blobs_cached, 3);
    registry_client_free(client);
    content_dir_remove(&dir);
}

static void test_docker_schema2_uncompressed(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[ANON];
    struct pushed_image img;
    image_pushed(IMG_DOCKER, &img);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/docker:v1");
    struct pull_outcome out;
    pull_once(ref, NULL, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    assert_int_equal(out.result.bytes_downloaded, img.bytes_total);
}

static void test_htpasswd_credentials(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[HTPASSWD];
    struct pushed_image img;
    image_pushed(IMG_PRIVATE, &img);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/private:v1");
    long redirected_before = stat_value(srv->blob_stats_url, "requests");
    long leaked_before = stat_value(srv->blob_stats_url, "with_authorization");
    struct pull_outcome out;
    pull_once(ref, &ALICE, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    /* Blob GETs were redirected to the storage host, and Authorization never went there. */
    assert_true(stat_value(srv->blob_stats_url, "requests") >= redirected_before + 3);
    assert_int_equal(stat_value(srv->blob_stats_url, "with_authorization"), leaked_before);

    pull_shared(ref, &ALICE_WRONG, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, "unauthorized: authentication required");
    pull_shared(ref, &NOBODY, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, "unauthorized: authentication required");
    pull_shared(ref, NULL, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, "unauthorized: authentication required");
}

static void test_token_credentials(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[TOKEN];
    struct pushed_image img;
    image_pushed(IMG_TOKENED, &img);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/tokened:v1");
    struct pull_outcome out;
    pull_once(ref, &ALICE, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    /* The token service is not the registry: its refusal is a fixed text, never its body. */
    pull_shared(ref, &ALICE_WRONG, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, "token service at 127.0.0.1:");
    assert_non_null(strstr(out.err.message, " answered 401 Unauthorized"));
    pull_shared(ref, NULL, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, "token service at 127.0.0.1:");
}

static void test_not_found(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    char ref[256];
    struct pull_outcome out;
    ref_text(ref, sizeof ref, &servers[ANON], "team/app:no-such-tag");
    pull_shared(ref, NULL, &out);
    expect_failure(&out, PULL_NOT_FOUND, "manifest unknown: ");
    /* A repository that does not exist, with valid credentials (docker-registry 2.8 says
     * MANIFEST_UNKNOWN here; NAME_UNKNOWN is classified the same way, see the unit tests). */
    ref_text(ref, sizeof ref, &servers[HTPASSWD], "team/never-pushed:v1");
    pull_shared(ref, &ALICE, &out);
    expect_failure(&out, PULL_NOT_FOUND, "manifest unknown: ");
    ref_text(ref, sizeof ref, &servers[TOKEN], "team/never-pushed:v1");
    pull_shared(ref, &ALICE, &out);
    expect_failure(&out, PULL_NOT_FOUND, "manifest unknown: ");
    /* A digest that is not there. */
    ref_text(ref, sizeof ref, &servers[ANON],
             "team/app@sha256:0000000000000000000000000000000000000000000000000000000000000000");
    pull_shared(ref, NULL, &out);
    expect_failure(&out, PULL_NOT_FOUND, "manifest unknown");
}

static void warm_pull_checks_credential(struct server *srv, const char *repo, enum image_id id) {
    struct pushed_image img;
    image_pushed(id, &img);
    char ref[256], rest[128];
    snprintf(rest, sizeof rest, "%s:v1", repo);
    ref_text(ref, sizeof ref, srv, rest);
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    struct pull_outcome out;
    pull_with(client, ref, &ALICE, &out);
    expect_ok(&out);
    assert_int_equal(out.result.blobs_cached, 0);
    int blobs = img.layer_count + 1;
    pull_with(client, ref, &ALICE, &out);
    expect_ok(&out);
    assert_int_equal(out.result.blobs_total, blobs);
    assert_int_equal(out.result.blobs_cached, blobs);
    assert_int_equal(out.result.bytes_downloaded, 0);
    assert_int_equal(out.result.bytes_total, img.bytes_total);
    /* Every blob is cached, yet a wrong credential still fails (same client, same cache). */
    pull_with(client, ref, &ALICE_WRONG, &out);
    expect_failure(&out, PULL_UNAUTHORIZED,
                   srv == &servers[HTPASSWD] ? "unauthorized: authentication required"
                                             : "token service at 127.0.0.1:");
    pull_with(client, ref, NULL, &out);
    expect_failure(&out, PULL_UNAUTHORIZED, NULL);
    /* A fresh client on the same content store reuses the blobs too. */
    registry_client_free(client);
    client = client_new(dir.path, "amd64", NULL, 0);
    pull_with(client, ref, &ALICE, &out);
    expect_ok(&out);
    assert_int_equal(out.result.blobs_cached, blobs);
    registry_client_free(client);
    content_dir_remove(&dir);
}

static void test_warm_pull_htpasswd(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    warm_pull_checks_credential(&servers[HTPASSWD], "team/private", IMG_PRIVATE);
}

static void test_warm_pull_token(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    warm_pull_checks_credential(&servers[TOKEN], "team/shared", IMG_SHARED);
}

static void test_multi_arch_index(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    static const enum image_id indexes[] = {IMG_MULTI_OCI, IMG_MULTI_DOCKER};
    static const char *const tags[] = {"oci", "docker"};
    for (size_t f = 0; f < 2; f++) {
        const char *tag = tags[f];
        json_t *images = json_object_get(pushed[indexes[f]], "images");
        struct pushed_image amd64, arm64;
        image_from_json(json_object_get(images, "linux/amd64"), &amd64);
        image_from_json(json_object_get(images, "linux/arm64/v8"), &arm64);
        char index_digest[80];
        snprintf(index_digest, sizeof index_digest, "%s",
                 json_string_value(json_object_get(pushed[indexes[f]], "index_digest")));
        char ref[256], rest[128];
        snprintf(rest, sizeof rest, "team/multi:%s", tag);
        ref_text(ref, sizeof ref, &servers[ANON], rest);
        struct content_dir dir;
        content_dir_new(&dir);
        struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
        struct pull_outcome out;
        pull_with(client, ref, NULL, &out);
        expect_ok(&out);
        assert_string_equal(out.result.manifest_digest, amd64.manifest_digest);
        assert_true(blob_stored(dir.path, index_digest));
        assert_true(blob_stored(dir.path, amd64.layers[0]));
        assert_false(blob_stored(dir.path, arm64.layers[0]));
        registry_client_free(client);

        client = client_new(dir.path, "arm64", NULL, 0);
        pull_with(client, ref, NULL, &out);
        expect_ok(&out);
        assert_string_equal(out.result.manifest_digest, arm64.manifest_digest);
        registry_client_free(client);

        /* By the index's digest. */
        client = client_new(dir.path, "amd64", NULL, 0);
        snprintf(rest, sizeof rest, "team/multi@%s", index_digest);
        ref_text(ref, sizeof ref, &servers[ANON], rest);
        pull_with(client, ref, NULL, &out);
        expect_ok(&out);
        assert_string_equal(out.result.manifest_digest, amd64.manifest_digest);
        assert_int_equal(out.result.blobs_cached, out.result.blobs_total);
        registry_client_free(client);

        client = client_new(dir.path, "s390x", NULL, 0);
        pull_with(client, ref, NULL, &out);
        expect_failure(&out, PULL_INVALID, "no image for platform linux/s390x");
        registry_client_free(client);
        content_dir_remove(&dir);
    }
}

static void expect_login(enum server_id id, const char *repository,
                         const struct registry_auth *auth, enum pull_failure expected,
                         const char *message_prefix) {
    if (!shared_client) {
        content_dir_new(&shared_dir);
        shared_client = client_new(shared_dir.path, "amd64", NULL, 0);
    }
    enum pull_failure failure;
    struct agyn_error err = {0};
    int rc = registry_login(shared_client, servers[id].host, repository, auth, &err);
    failure = pull_failure_of(&err);
    if (expected == PULL_OK && rc != 0)
        fail_msg("login to %s failed: %s", servers[id].name, err.message);
    assert_int_equal(failure, expected);
    assert_int_equal(rc, expected == PULL_OK ? 0 : -1);
    if (message_prefix)
        assert_int_equal(strncmp(err.message, message_prefix, strlen(message_prefix)), 0);
    assert_null(strstr(err.message, ALICE_WRONG.password));
}

static void test_login(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    expect_login(HTPASSWD, NULL, &ALICE, PULL_OK, NULL);
    expect_login(HTPASSWD, "team/private", &ALICE, PULL_OK, NULL);
    expect_login(HTPASSWD, NULL, &ALICE_WRONG, PULL_UNAUTHORIZED,
                 "unauthorized: authentication required");
    expect_login(HTPASSWD, NULL, NULL, PULL_UNAUTHORIZED, "unauthorized: authentication required");
    expect_login(TOKEN, NULL, &ALICE, PULL_OK, NULL);
    expect_login(TOKEN, "team/tokened", &ALICE, PULL_OK, NULL);
    expect_login(TOKEN, "team/tokened", &ALICE_WRONG, PULL_UNAUTHORIZED,
                 "token service at 127.0.0.1:");
    expect_login(ANON, NULL, NULL, PULL_OK, NULL);
    expect_login(ANON, NULL, &ALICE, PULL_OK, NULL);
}

struct slow_pull {
    enum server_id server;
    enum image_id image;
    struct pull_outcome out;
    long long took_ms;
    long tokens_issued;
};

/* One blob at a time through a 256 KiB/s proxy, so the pull outlives the first token. */
static void *slow_pull_main(void *arg) {
    struct slow_pull *p = arg;
    struct server *srv = &servers[p->server];
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/slow:v1");
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 1);
    long issued_before = stat_value(srv->token_stats_url, "issued");
    long long started = now_ms();
    pull_with(client, ref, &ALICE, &p->out);
    p->took_ms = now_ms() - started;
    p->tokens_issued = stat_value(srv->token_stats_url, "issued") - issued_before;
    registry_client_free(client);
    content_dir_remove(&dir);
    return NULL;
}

static void test_tokens_expiring_mid_pull(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    /* TOKEN_SHORT: the registry rejects a token after 3 s though the client was told 300 s,
     * so the pull must refresh after a 401. TOKEN_SHORT_HONEST: told 3 s, the client must
     * renew before it sends an expired token. Both run at once to save time. */
    struct slow_pull pulls[2] = {{.server = TOKEN_SHORT, .image = IMG_SLOW},
                                 {.server = TOKEN_SHORT_HONEST, .image = IMG_SLOW_HONEST}};
    pthread_t threads[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&threads[i], NULL, slow_pull_main, &pulls[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(threads[i], NULL);
    for (int i = 0; i < 2; i++) {
        struct pushed_image img;
        image_pushed(pulls[i].image, &img);
        expect_ok(&pulls[i].out);
        assert_string_equal(pulls[i].out.result.manifest_digest, img.manifest_digest);
        assert_int_equal(pulls[i].out.result.bytes_downloaded, img.bytes_total);
        if (pulls[i].took_ms < SLOW_PULL_MIN_MS)
            fail_msg("pull from %s took %lld ms, too fast to outlive a token",
                     servers[pulls[i].server].name, pulls[i].took_ms);
        if (pulls[i].tokens_issued < 2)
            fail_msg("pull from %s used %ld token(s), expected a renewal",
                     servers[pulls[i].server].name, pulls[i].tokens_issued);
    }
}

static void test_corrupted_blob_rejected(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[ANON];
    struct pushed_image img;
    image_pushed(IMG_CORRUPT, &img);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "python3 '%s' corrupt --storage '%s' --digest '%s'", fixture_path,
             srv->storage, img.layers[1]);
    assert_int_equal(system(cmd), 0);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/corrupt:v1");
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    struct pull_outcome out;
    pull_with(client, ref, NULL, &out);
    char expected[160];
    snprintf(expected, sizeof expected, "blob %s digest mismatch", img.layers[1]);
    expect_failure(&out, PULL_TRANSIENT, expected);
    assert_string_equal(out.err.message, expected);
    assert_false(blob_stored(dir.path, img.layers[1]));
    assert_false(blob_stored(dir.path, img.manifest_digest)); /* no manifest without blobs */
    char path[256];
    snprintf(path, sizeof path, "%s/ingest", dir.path);
    assert_int_equal(count_files(path), 0);
    /* Again, the same: nothing bad was kept that a retry could trust. */
    pull_with(client, ref, NULL, &out);
    expect_failure(&out, PULL_TRANSIENT, expected);
    assert_false(blob_stored(dir.path, img.layers[1]));
    registry_client_free(client);
    content_dir_remove(&dir);
}

static void test_tls_with_ca_file(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[TLS];
    struct pushed_image img;
    image_pushed(IMG_TLS, &img);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/tls:v1");
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", srv->ca_file, 0);
    struct pull_outcome out;
    pull_with(client, ref, NULL, &out);
    expect_ok(&out);
    assert_string_equal(out.result.manifest_digest, img.manifest_digest);
    registry_client_free(client);
    /* Without the CA the certificate is not trusted, and there is no fallback to HTTP. */
    client = client_new(dir.path, "amd64", NULL, 0);
    pull_with(client, ref, NULL, &out);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "registry %s: ", srv->host);
    expect_failure(&out, PULL_TRANSIENT, prefix);
    registry_client_free(client);
    content_dir_remove(&dir);
}

static void test_unreachable_registry(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct pull_outcome out;
    pull_shared("127.0.0.1:1/team/app:v1", NULL, &out);
    expect_failure(&out, PULL_TRANSIENT, "registry 127.0.0.1:1: ");
}

struct concurrent_pull {
    struct registry_client *client;
    const char *ref;
    struct pull_outcome out;
};

static void *concurrent_pull_main(void *arg) {
    struct concurrent_pull *p = arg;
    pull_with(p->client, p->ref, &ALICE, &p->out);
    return NULL;
}

static void test_concurrent_pulls_share_store(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    struct server *srv = &servers[TOKEN];
    struct pushed_image img;
    image_pushed(IMG_SHARED, &img);
    char ref[256];
    ref_text(ref, sizeof ref, srv, "team/shared:v1");
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 2);
    struct concurrent_pull pulls[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        pulls[i] = (struct concurrent_pull){.client = client, .ref = ref};
        assert_int_equal(pthread_create(&threads[i], NULL, concurrent_pull_main, &pulls[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        expect_ok(&pulls[i].out);
        assert_string_equal(pulls[i].out.result.manifest_digest, img.manifest_digest);
    }
    char path[256];
    snprintf(path, sizeof path, "%s/blobs/sha256", dir.path);
    assert_int_equal(count_files(path), 5); /* config, 3 layers, manifest: each once */
    snprintf(path, sizeof path, "%s/ingest", dir.path);
    assert_int_equal(count_files(path), 0);
    registry_client_free(client);
    content_dir_remove(&dir);
}

/* ---- a misbehaving registry ---- */

/* Pulls evil/<repo>:latest (or @digest) from server into a fresh store and checks that nothing
 * unverified was kept. */
static void pull_hostile(enum server_id id, const char *reference_rest, struct pull_outcome *out) {
    char ref[256];
    ref_text(ref, sizeof ref, &servers[id], reference_rest);
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    pull_with(client, ref, &ALICE, out);
    registry_client_free(client);
    char path[256];
    snprintf(path, sizeof path, "%s/ingest", dir.path);
    assert_int_equal(count_files(path), 0);
    if (out->rc != 0) {
        snprintf(path, sizeof path, "%s/blobs/sha256", dir.path);
        assert_int_equal(count_files(path), 0);
    }
    content_dir_remove(&dir);
}

static void expect_hostile(enum server_id id, const char *reference_rest, enum pull_failure kind,
                           const char *message_part) {
    struct pull_outcome out;
    pull_hostile(id, reference_rest, &out);
    expect_failure(&out, kind, NULL);
    if (!strstr(out.err.message, message_part))
        fail_msg("%s: message \"%s\" lacks \"%s\"", reference_rest, out.err.message, message_part);
}

static void test_hostile_manifests(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    expect_hostile(HOSTILE, "evil/huge-manifest:latest", PULL_INVALID, "is larger than 4194304");
    expect_hostile(HOSTILE, "evil/not-json:latest", PULL_INVALID, "manifest is not valid JSON");
    expect_hostile(HOSTILE,
                   "evil/wrong-digest@sha256:"
                   "0000000000000000000000000000000000000000000000000000000000000001",
                   PULL_TRANSIENT,
                   "manifest sha256:"
                   "0000000000000000000000000000000000000000000000000000000000000001 digest "
                   "mismatch");
    expect_hostile(HOSTILE, "elsewhere/x:latest", PULL_NOT_FOUND, "name unknown: ");
}

static void test_hostile_blobs(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    expect_hostile(HOSTILE, "evil/blob-too-long:latest", PULL_TRANSIENT, "is larger than the");
    expect_hostile(HOSTILE, "evil/blob-too-short:latest", PULL_TRANSIENT, "size mismatch");
    expect_hostile(HOSTILE, "evil/redirect-ftp:latest", PULL_TRANSIENT,
                   "redirect to a location that is not allowed");
    expect_hostile(HOSTILE, "evil/redirect-plain:latest", PULL_TRANSIENT,
                   "redirect to a location that is not allowed");
    expect_hostile(HOSTILE, "evil/redirect-loop:latest", PULL_TRANSIENT, "too many redirects");
    expect_hostile(HOSTILE, "evil/blob-503:latest", PULL_TRANSIENT, "unavailable: try later");
    expect_hostile(HOSTILE, "evil/blob-429:latest", PULL_TRANSIENT, "toomanyrequests: slow down");
    /* One layer fails while the other trickles (it would take ~1000 s): the failure ends the
     * pull at once, the trickling download too. */
    long long started = now_ms();
    expect_hostile(HOSTILE, "evil/trickle-and-503:latest", PULL_TRANSIENT,
                   "unavailable: try later");
    long long took = now_ms() - started;
    if (took > 10000)
        fail_msg("a failed layer ended the pull only after %lld ms", took);
}

static long peak_rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f && fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            kib = atol(line + 6);
    }
    if (f)
        fclose(f);
    return kib;
}

static void test_large_layer_streams_to_disk(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    char digest[80];
    unsigned long long size = 0;
    assert_int_equal(sscanf(servers[HOSTILE].big_blob, "%79s %llu", digest, &size), 2);
    struct content_dir dir;
    content_dir_new(&dir);
    struct registry_client *client = client_new(dir.path, "amd64", NULL, 0);
    char ref[256];
    ref_text(ref, sizeof ref, &servers[HOSTILE], "evil/big:latest");
    /* Reset the peak RSS; a pull that buffered the layer would raise it by its size. */
    FILE *clear = fopen("/proc/self/clear_refs", "w");
    assert_non_null(clear);
    fputs("5", clear);
    fclose(clear);
    long before = peak_rss_kib();
    struct pull_outcome out;
    pull_with(client, ref, NULL, &out);
    long grown_kib = peak_rss_kib() - before;
    expect_ok(&out);
    assert_true(blob_stored(dir.path, digest));
    assert_true(out.result.bytes_downloaded > size);
    if (grown_kib > (long)(size / 1024 / 2))
        fail_msg("peak RSS grew by %ld KiB while pulling a %llu-byte layer", grown_kib, size);
    registry_client_free(client);
    content_dir_remove(&dir);
}

static void test_hostile_auth(void **state) {
    (void)state;
    REQUIRE_TOOLS();
    expect_hostile(HOSTILE_TOKEN_CRLF, "evil/big:latest", PULL_TRANSIENT, "no usable token");
    expect_hostile(HOSTILE_TOKEN_NONE, "evil/big:latest", PULL_TRANSIENT, "no usable token");
    expect_hostile(HOSTILE_BAD_CHALLENGE, "evil/big:latest", PULL_INVALID,
                   "unsupported authentication challenge");
}

static int teardown_servers(void **state) {
    (void)state;
    for (int i = 0; i < SERVER_COUNT; i++)
        signal_server(&servers[i]);
    for (int i = 0; i < SERVER_COUNT; i++)
        stop_server(&servers[i]);
    for (int i = 0; i < IMAGE_COUNT; i++)
        json_decref(pushed[i]);
    if (shared_client) {
        registry_client_free(shared_client);
        content_dir_remove(&shared_dir);
    }
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anonymous_pull),
        cmocka_unit_test(test_docker_schema2_uncompressed),
        cmocka_unit_test(test_htpasswd_credentials),
        cmocka_unit_test(test_token_credentials),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_warm_pull_htpasswd),
        cmocka_unit_test(test_warm_pull_token),
        cmocka_unit_test(test_multi_arch_index),
        cmocka_unit_test(test_login),
        cmocka_unit_test(test_tokens_expiring_mid_pull),
        cmocka_unit_test(test_corrupted_blob_rejected),
        cmocka_unit_test(test_tls_with_ca_file),
        cmocka_unit_test(test_unreachable_registry),
        cmocka_unit_test(test_concurrent_pulls_share_store),
        cmocka_unit_test(test_hostile_manifests),
        cmocka_unit_test(test_hostile_blobs),
        cmocka_unit_test(test_large_layer_streams_to_disk),
        cmocka_unit_test(test_hostile_auth),
    };
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed =
        cmocka_run_group_tests_name("oci_pull_live", tests, setup_servers, teardown_servers);
    curl_global_cleanup();
    return failed;
}
