/* test_providers.c — tests for src/providers: SigV4 against AWS's published test-suite
 * vectors, remote path and config validation tables, the shared helpers, and live tests that
 * start their own servers: tests/fixtures/vault_fixture.py (Vault KV v2 API), moto_server
 * (AWS Secrets Manager, with moto's IAM signature checking switched on) and an in-process
 * "hostile" HTTP server that answers with garbage, oversized bodies and redirects. Every
 * error is checked for leaked tokens, keys and secret values. Spawned servers are killed in
 * the group teardowns, at exit, and by the kernel (PR_SET_PDEATHSIG) if this process dies. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/row.h"
#include "core/redact.h"
#include "net/egress.h"
#include "providers/http.h"
#include "providers/provider.h"
#include "providers/sigv4.h"

/* ---- secrets that must never show up in an error message ------------------------------ */

#define VAULT_TOKEN "vault-root-token-3b9f1c"
#define VAULT_WRONG_TOKEN "vault-wrong-token-7d41e0"
#define VAULT_NS_TOKEN "vault-ns-token-51aa0e"
#define VAULT_PASSWORD "hunter2-registry-password"
#define VAULT_ROTATED "rotated-password-v2-c0ffee"
#define VAULT_NS_VALUE "ns-scoped-secret-value-91"
#define VAULT_ENCODED_VALUE "value-behind-odd-path-77"
#define AWS_PLAIN_VALUE "plain-s3cret-value-1"
#define AWS_JSON_PASSWORD "json-s3cret-value-42"
#define AWS_ROTATION_1 "rotation-value-one-aa"
#define AWS_ROTATION_2 "rotation-value-two-bb"
#define AWS_WRONG_SECRET "wrong-secret-access-key-ffff"
#define AWS_SESSION_TOKEN "FwoGZXIvYXdzEXAMPLE-session-token-0042"
#define HOSTILE_SECRET_KEY "hostile-secret-key-9a8b7c"

static const char *forbidden_texts[32] = {
    VAULT_TOKEN,    VAULT_WRONG_TOKEN,   VAULT_NS_TOKEN,    VAULT_PASSWORD,     VAULT_ROTATED,
    VAULT_NS_VALUE, VAULT_ENCODED_VALUE, AWS_PLAIN_VALUE,   AWS_JSON_PASSWORD,  AWS_ROTATION_1,
    AWS_ROTATION_2, AWS_WRONG_SECRET,    AWS_SESSION_TOKEN, HOSTILE_SECRET_KEY,
};

static void forbid_text(const char *text) {
    for (size_t i = 0; i < sizeof forbidden_texts / sizeof *forbidden_texts; i++) {
        if (!forbidden_texts[i]) {
            forbidden_texts[i] = text;
            return;
        }
    }
    fail_msg("forbidden_texts is full");
}

static void assert_no_secret_in(const char *text) {
    for (size_t i = 0; i < sizeof forbidden_texts / sizeof *forbidden_texts; i++) {
        if (forbidden_texts[i] && strstr(text, forbidden_texts[i]))
            fail_msg("secret \"%s\" leaked into: %s", forbidden_texts[i], text);
    }
}

/* Checks a failed call: rc -1, the code, the exact message (when given), no leaked secret. */
static void expect_error(int rc, const struct agyn_error *err, enum agyn_code code,
                         const char *message) {
    if (rc != -1 || err->code != code || (message && strcmp(err->message, message) != 0))
        fail_msg("expected rc -1, %s, \"%s\"\n     got rc %d, %s, \"%s\"", agyn_code_name(code),
                 message ? message : "(any message)", rc, agyn_code_name(err->code), err->message);
    assert_no_secret_in(err->message);
    assert_no_secret_in(err->field);
}

static void expect_error_prefix(int rc, const struct agyn_error *err, enum agyn_code code,
                                const char *prefix) {
    if (rc != -1 || err->code != code || strncmp(err->message, prefix, strlen(prefix)) != 0)
        fail_msg("expected rc -1, %s, \"%s...\"\n     got rc %d, %s, \"%s\"", agyn_code_name(code),
                 prefix, rc, agyn_code_name(err->code), err->message);
    assert_no_secret_in(err->message);
}

static void expect_resolved(int rc, const struct agyn_error *err, char *value,
                            const char *expected) {
    if (rc != 0)
        fail_msg("expected \"%s\", got error %s: %s", expected, agyn_code_name(err->code),
                 err->message);
    assert_non_null(value);
    assert_string_equal(value, expected);
    secure_free(value);
}

/* ---- spawned servers ------------------------------------------------------------------ */

static pid_t spawned_pids[8];

static void remember_child(pid_t pid) {
    for (size_t i = 0; i < sizeof spawned_pids / sizeof *spawned_pids; i++) {
        if (spawned_pids[i] == 0) {
            spawned_pids[i] = pid;
            return;
        }
    }
    kill(pid, SIGKILL);
    fail_msg("too many spawned servers");
}

/* SIGTERM, up to 3 s to exit, then SIGKILL; always reaps. */
static void stop_child(pid_t pid) {
    if (pid <= 0)
        return;
    kill(pid, SIGTERM);
    for (int waited_ms = 0; waited_ms < 3000; waited_ms += 20) {
        if (waitpid(pid, NULL, WNOHANG) == pid)
            goto forget;
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
forget:
    for (size_t i = 0; i < sizeof spawned_pids / sizeof *spawned_pids; i++) {
        if (spawned_pids[i] == pid)
            spawned_pids[i] = 0;
    }
}

static void stop_all_children(void) {
    for (size_t i = 0; i < sizeof spawned_pids / sizeof *spawned_pids; i++)
        stop_child(spawned_pids[i]);
}

/* fork/exec argv with stdout to stdout_fd (or /dev/null when -1) and, when quiet, stderr to
 * /dev/null. The child dies with us (PR_SET_PDEATHSIG). */
static pid_t spawn(char *const argv[], int stdout_fd, bool quiet) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        dup2(stdout_fd >= 0 ? stdout_fd : devnull, STDOUT_FILENO);
        if (quiet)
            dup2(devnull, STDERR_FILENO);
        execvp(argv[0], argv);
        _exit(127);
    }
    remember_child(pid);
    return pid;
}

static int free_tcp_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
    close(fd);
    return ntohs(addr.sin_port);
}

static bool port_answers(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons((uint16_t)port),
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    close(fd);
    return ok;
}

/* Where tests/fixtures lives: $AGYN_SOURCE_DIR, a -DAGYN_SOURCE_DIR="..." compile definition,
 * or the directory two levels above this file. */
static void source_dir(char *out, size_t size) {
    const char *dir = getenv("AGYN_SOURCE_DIR");
#ifdef AGYN_SOURCE_DIR
    if (!dir || !*dir)
        dir = AGYN_SOURCE_DIR;
#endif
    if (dir && *dir) {
        snprintf(out, size, "%s", dir);
        return;
    }
    static const char suffix[] = "tests/unit/test_providers.c";
    const char *file = __FILE__;
    size_t len = strlen(file);
    size_t suffix_len = strlen(suffix);
    if (len >= suffix_len && strcmp(file + len - suffix_len, suffix) == 0 && len > suffix_len)
        snprintf(out, size, "%.*s", (int)(len - suffix_len - 1), file);
    else
        snprintf(out, size, ".");
}

/* Starts the Vault fixture and returns its port once it printed "READY <port>". */
static int start_vault_fixture(const char *token, const char *namespace_name, int delay_ms,
                               pid_t *pid_out) {
    char root[1024];
    char script[1100];
    char delay[32];
    source_dir(root, sizeof root);
    snprintf(script, sizeof script, "%s/tests/fixtures/vault_fixture.py", root);
    snprintf(delay, sizeof delay, "%d", delay_ms);
    char *argv[12] = {"python3",     script,       "--port", "0", "--token",
                      (char *)token, "--delay-ms", delay,    NULL};
    if (namespace_name) {
        argv[8] = "--namespace";
        argv[9] = (char *)namespace_name;
        argv[10] = NULL;
    }
    int pipe_fds[2];
    assert_int_equal(pipe(pipe_fds), 0);
    *pid_out = spawn(argv, pipe_fds[1], false);
    close(pipe_fds[1]);
    assert_true(*pid_out > 0);

    char line[128] = "";
    size_t used = 0;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (!strchr(line, '\n') && used + 1 < sizeof line) {
        struct pollfd pfd = {.fd = pipe_fds[0], .events = POLLIN};
        if (poll(&pfd, 1, 500) <= 0) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec - start.tv_sec > 20)
                break;
            continue;
        }
        ssize_t n = read(pipe_fds[0], line + used, sizeof line - used - 1);
        if (n <= 0)
            break;
        used += (size_t)n;
        line[used] = '\0';
    }
    close(pipe_fds[0]);
    int port = 0;
    if (sscanf(line, "READY %d", &port) != 1 || port <= 0)
        fail_msg("vault fixture %s did not print READY <port> (got \"%s\")", script, line);
    return port;
}

/* ---- a hostile HTTP server in a thread ------------------------------------------------ */

struct canned_response {
    int status;
    const char *extra_headers; /* "Name: value\r\n..." or NULL */
    const char *body;
    size_t body_len;      /* 0: strlen(body) */
    bool close_delimited; /* no Content-Length; the body ends when the connection closes */
};

static struct {
    int listen_fd;
    int port;
    pthread_t thread;
    pthread_mutex_t lock;
    bool stop;
    struct canned_response queue[4];
    size_t queue_len;
    int request_count;
    char requests[4][16384]; /* raw text of the first four requests received */
} hostile = {.listen_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

static void hostile_serve_one(int fd) {
    char request[16384];
    size_t used = 0;
    size_t wanted = 0;
    for (;;) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 2000) <= 0)
            break;
        ssize_t n = recv(fd, request + used, sizeof request - used - 1, 0);
        if (n <= 0)
            break;
        used += (size_t)n;
        request[used] = '\0';
        char *end = strstr(request, "\r\n\r\n");
        if (!end)
            continue;
        if (!wanted) {
            const char *length = strcasestr(request, "\r\nContent-Length:");
            wanted = (size_t)(end + 4 - request) +
                     (length && length < end ? strtoul(length + 17, NULL, 10) : 0);
        }
        if (used >= wanted || used + 1 >= sizeof request)
            break;
    }
    request[used] = '\0';

    pthread_mutex_lock(&hostile.lock);
    int index = hostile.request_count++;
    if (index < 4)
        memcpy(hostile.requests[index], request, used + 1);
    struct canned_response reply =
        hostile.queue[(size_t)index < hostile.queue_len ? (size_t)index : hostile.queue_len - 1];
    pthread_mutex_unlock(&hostile.lock);

    size_t body_len = reply.body_len ? reply.body_len : strlen(reply.body);
    char head[1024];
    int head_len;
    if (reply.close_delimited)
        head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 %d Canned\r\nContent-Type: application/json\r\n%s"
                            "Connection: close\r\n\r\n",
                            reply.status, reply.extra_headers ? reply.extra_headers : "");
    else
        head_len = snprintf(head, sizeof head,
                            "HTTP/1.1 %d Canned\r\nContent-Type: application/json\r\n%s"
                            "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                            reply.status, reply.extra_headers ? reply.extra_headers : "", body_len);
    send(fd, head, (size_t)head_len, MSG_NOSIGNAL);
    for (size_t sent = 0; sent < body_len;) {
        ssize_t n = send(fd, reply.body + sent, body_len - sent, MSG_NOSIGNAL);
        if (n <= 0)
            break; /* the client hung up (size limit) */
        sent += (size_t)n;
    }
    close(fd);
}

static void *hostile_loop(void *unused) {
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&hostile.lock);
        bool stop = hostile.stop;
        pthread_mutex_unlock(&hostile.lock);
        if (stop)
            return NULL;
        struct pollfd pfd = {.fd = hostile.listen_fd, .events = POLLIN};
        if (poll(&pfd, 1, 50) <= 0)
            continue;
        int fd = accept(hostile.listen_fd, NULL, NULL);
        if (fd >= 0)
            hostile_serve_one(fd);
    }
}

/* Sets the answers for the next requests (the last one repeats) and forgets old requests. */
static void hostile_answer(const struct canned_response *replies, size_t count) {
    pthread_mutex_lock(&hostile.lock);
    memcpy(hostile.queue, replies, count * sizeof *replies);
    hostile.queue_len = count;
    hostile.request_count = 0;
    memset(hostile.requests, 0, sizeof hostile.requests);
    pthread_mutex_unlock(&hostile.lock);
}

static int hostile_requests_seen(void) {
    pthread_mutex_lock(&hostile.lock);
    int count = hostile.request_count;
    pthread_mutex_unlock(&hostile.lock);
    return count;
}

static bool starts_with(const char *text, const char *prefix) {
    return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* The value of header name in raw request text, copied into out; false when absent. */
static bool request_header(const char *request, const char *name, char *out, size_t size) {
    char needle[128];
    snprintf(needle, sizeof needle, "\r\n%s:", name);
    const char *at = strcasestr(request, needle);
    if (!at)
        return false;
    at += strlen(needle);
    while (*at == ' ')
        at++;
    const char *end = strstr(at, "\r\n");
    snprintf(out, size, "%.*s", (int)(end ? end - at : (long)strlen(at)), at);
    return true;
}

static int hostile_setup(void **state) {
    (void)state;
    hostile.listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof addr;
    if (bind(hostile.listen_fd, (struct sockaddr *)&addr, sizeof addr) != 0 ||
        listen(hostile.listen_fd, 16) != 0 ||
        getsockname(hostile.listen_fd, (struct sockaddr *)&addr, &len) != 0)
        return -1;
    hostile.port = ntohs(addr.sin_port);
    hostile.stop = false;
    return pthread_create(&hostile.thread, NULL, hostile_loop, NULL) == 0 ? 0 : -1;
}

static int hostile_teardown(void **state) {
    (void)state;
    pthread_mutex_lock(&hostile.lock);
    hostile.stop = true;
    pthread_mutex_unlock(&hostile.lock);
    pthread_join(hostile.thread, NULL);
    close(hostile.listen_fd);
    hostile.listen_fd = -1;
    return 0;
}

/* ---- config builders ------------------------------------------------------------------ */

static json_t *vault_config(const char *address, const char *token, const char *namespace_name) {
    json_t *config = json_pack("{s:s, s:s}", "address", address, "token", token);
    if (namespace_name)
        json_object_set_new(config, "namespace", json_string(namespace_name));
    return config;
}

static json_t *aws_config(const char *endpoint, const char *access_key_id,
                          const char *secret_access_key, const char *session_token) {
    json_t *config =
        json_pack("{s:s, s:s, s:s, s:s}", "region", "us-east-1", "access_key_id", access_key_id,
                  "secret_access_key", secret_access_key, "endpoint_url", endpoint);
    if (session_token)
        json_object_set_new(config, "session_token", json_string(session_token));
    return config;
}

/* =======================================================================================
 * Offline tests
 * ======================================================================================= */

/* AWS SigV4 test suite (aws-sig-v4-test-suite): credentials, date, region and service shared
 * by every vector. */
#define SUITE_ACCESS_KEY "AKIDEXAMPLE"
#define SUITE_SECRET_KEY "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_DATE "20150830T123600Z"
#define SUITE_EMPTY_HASH "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_vector {
    const char *name;
    const char *method;
    struct sigv4_header headers[6];
    size_t header_count;
    const char *payload;
    const char *service;
    const char *access_key;
    const char *canonical_request; /* NULL: not checked */
    const char *string_to_sign;    /* NULL: not checked */
    const char *authorization;
};

static const struct sigv4_vector sigv4_vectors[] = {
    {
        .name = "get-vanilla",
        .method = "GET",
        .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", SUITE_DATE}},
        .header_count = 2,
        .payload = "",
        .service = "service",
        .access_key = SUITE_ACCESS_KEY,
        .canonical_request = "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n"
                             "\nhost;x-amz-date\n" SUITE_EMPTY_HASH,
        .string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
                          "aws4_request\n"
                          "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fb"
                         "f31",
    },
    {
        .name = "post-vanilla",
        .method = "POST",
        .headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", SUITE_DATE}},
        .header_count = 2,
        .payload = "",
        .service = "service",
        .access_key = SUITE_ACCESS_KEY,
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;x-amz-date, "
                         "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5"
                         "d6b",
    },
    {
        .name = "get-header-value-trim",
        .method = "GET",
        .headers = {{"Host", "example.amazonaws.com"},
                    {"My-Header1", " value1"},
                    {"My-Header2", " \"a   b   c\""},
                    {"X-Amz-Date", SUITE_DATE}},
        .header_count = 4,
        .payload = "",
        .service = "service",
        .access_key = SUITE_ACCESS_KEY,
        .canonical_request = "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\n"
                             "my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\n"
                             "host;my-header1;my-header2;x-amz-date\n" SUITE_EMPTY_HASH,
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, "
                         "Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c"
                         "736",
    },
    {
        .name = "get-header-key-duplicate",
        .method = "GET",
        .headers = {{"Host", "example.amazonaws.com"},
                    {"My-Header1", "value2"},
                    {"My-Header1", "value2"},
                    {"My-Header1", "value1"},
                    {"X-Amz-Date", SUITE_DATE}},
        .header_count = 5,
        .payload = "",
        .service = "service",
        .access_key = SUITE_ACCESS_KEY,
        .canonical_request =
            "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
            "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" SUITE_EMPTY_HASH,
        .string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/"
                          "aws4_request\n"
                          "dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c",
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/"
                         "aws4_request, SignedHeaders=host;my-header1;x-amz-date, "
                         "Signature=c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a513"
                         "8ea",
    },
    {
        /* Not from the suite: a GetSecretValue request shaped like the backend's, signed
         * with botocore's SigV4Auth (botocore 1.x) to pin the session-token case. */
        .name = "secretsmanager-get-secret-value-with-session-token",
        .method = "POST",
        .headers = {{"Host", "secretsmanager.us-east-1.amazonaws.com"},
                    {"X-Amz-Date", SUITE_DATE},
                    {"X-Amz-Target", "secretsmanager.GetSecretValue"},
                    {"Content-Type", "application/x-amz-json-1.1"},
                    {"X-Amz-Security-Token", "session-token-example"}},
        .header_count = 5,
        .payload = "{\"SecretId\":\"prod/registry\"}",
        .service = "secretsmanager",
        .access_key = SUITE_ACCESS_KEY,
        .canonical_request =
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\n"
            "host:secretsmanager.us-east-1.amazonaws.com\nx-amz-date:20150830T123600Z\n"
            "x-amz-security-token:session-token-example\n"
            "x-amz-target:secretsmanager.GetSecretValue\n\n"
            "content-type;host;x-amz-date;x-amz-security-token;x-amz-target\n"
            "f429e298d23ccca23d7886a61014cac8d1b2d4e2a509ffa8d90c62cd2db2dfa0",
        .string_to_sign = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/secretsmanager/"
                          "aws4_request\n"
                          "2d0684ccf034ae00cf4ffe682dabc967f1e8c99b2ee52d34d6e0c7718e11ca78",
        .authorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/"
                         "secretsmanager/aws4_request, "
                         "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-"
                         "target, "
                         "Signature=0eddc8c2bcbf589f4c8b8cd62ab5607162891f8c5f0d01a857e8ae270b65d"
                         "e19",
    },
};

static void test_sigv4_known_answers(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof sigv4_vectors / sizeof *sigv4_vectors; i++) {
        const struct sigv4_vector *vector = &sigv4_vectors[i];
        struct sigv4_request req = {
            .method = vector->method,
            .canonical_uri = "/",
            .canonical_query = "",
            .headers = vector->headers,
            .header_count = vector->header_count,
            .payload = vector->payload,
            .payload_len = strlen(vector->payload),
        };
        struct sigv4_scope scope = {
            .amz_date = SUITE_DATE, .region = "us-east-1", .service = vector->service};
        if (vector->canonical_request) {
            char *canonical = sigv4_canonical_request(&req);
            assert_non_null(canonical);
            if (strcmp(canonical, vector->canonical_request) != 0)
                fail_msg("%s: canonical request\n%s", vector->name, canonical);
            free(canonical);
        }
        if (vector->string_to_sign) {
            char *to_sign = sigv4_string_to_sign(&req, &scope);
            assert_non_null(to_sign);
            if (strcmp(to_sign, vector->string_to_sign) != 0)
                fail_msg("%s: string to sign\n%s", vector->name, to_sign);
            free(to_sign);
        }
        char authorization[512];
        struct agyn_error err = {0};
        assert_int_equal(sigv4_authorization(&req, &scope, vector->access_key, SUITE_SECRET_KEY,
                                             authorization, sizeof authorization, &err),
                         0);
        if (strcmp(authorization, vector->authorization) != 0)
            fail_msg("%s: authorization\n%s", vector->name, authorization);
    }
}

static void test_sigv4_date_and_errors(void **state) {
    (void)state;
    char date[SIGV4_AMZ_DATE_LEN + 1];
    sigv4_format_amz_date(1440938160, date); /* 2015-08-30 12:36:00 UTC */
    assert_string_equal(date, SUITE_DATE);

    char digest[65];
    sigv4_sha256_hex("", 0, digest);
    assert_string_equal(digest, SUITE_EMPTY_HASH);

    struct sigv4_header headers[] = {{"Host", "example.amazonaws.com"}};
    struct sigv4_request req = {
        .method = "GET", .canonical_uri = "/", .headers = headers, .header_count = 1};
    struct sigv4_scope bad_date = {.amz_date = "2015-08-30", .region = "r", .service = "s"};
    char out[512];
    struct agyn_error err = {0};
    expect_error(
        sigv4_authorization(&req, &bad_date, "AKID", SUITE_SECRET_KEY, out, sizeof out, &err), &err,
        AGYN_INTERNAL, "sigv4: malformed x-amz-date");
    assert_null(sigv4_string_to_sign(&req, &bad_date));

    struct sigv4_scope scope = {.amz_date = SUITE_DATE, .region = "r", .service = "s"};
    char tiny[16];
    expect_error(
        sigv4_authorization(&req, &scope, "AKID", SUITE_SECRET_KEY, tiny, sizeof tiny, &err), &err,
        AGYN_INTERNAL, "sigv4: authorization header too long");
    assert_null(strstr(err.message, SUITE_SECRET_KEY));
}

static void test_registry_and_timeouts(void **state) {
    (void)state;
    const struct provider_backend *vault = provider_find("vault");
    const struct provider_backend *aws = provider_find("aws-secrets-manager");
    assert_non_null(vault);
    assert_non_null(aws);
    assert_string_equal(vault->type, "vault");
    assert_string_equal(aws->type, "aws-secrets-manager");
    assert_null(provider_find("Vault"));
    assert_null(provider_find("gcp-secret-manager"));
    assert_null(provider_find(""));
    assert_null(provider_find(NULL));

    const struct provider_backend *const *all = provider_all();
    assert_ptr_equal(all[0], vault);
    assert_ptr_equal(all[1], aws);
    assert_null(all[2]);

    assert_string_equal(vault->secret_fields[0], "token");
    assert_null(vault->secret_fields[1]);
    assert_string_equal(aws->secret_fields[0], "secret_access_key");
    assert_string_equal(aws->secret_fields[1], "session_token");
    assert_null(aws->secret_fields[2]);

    assert_int_equal(provider_connect_timeout_ms(), 5000);
    assert_int_equal(provider_total_timeout_ms(), 10000);
    provider_set_timeouts(250, 750);
    assert_int_equal(provider_connect_timeout_ms(), 250);
    assert_int_equal(provider_total_timeout_ms(), 750);
    provider_set_timeouts(0, -1);
    assert_int_equal(provider_connect_timeout_ms(), 5000);
    assert_int_equal(provider_total_timeout_ms(), 10000);
}

struct path_case {
    const char *path;
    const char *message; /* NULL: valid */
};

static void check_path_cases(const char *type, const struct path_case *cases, size_t count) {
    const struct provider_backend *backend = provider_find(type);
    for (size_t i = 0; i < count; i++) {
        struct agyn_error err = {0};
        int rc = backend->validate_path(cases[i].path, "remote_path", &err);
        if (!cases[i].message) {
            if (rc != 0)
                fail_msg("%s: \"%s\" should be valid: %s", type, cases[i].path, err.message);
            continue;
        }
        if (rc != -1 || err.code != AGYN_UNPROCESSABLE || strcmp(err.field, "remote_path") != 0 ||
            strcmp(err.message, cases[i].message) != 0)
            fail_msg("%s: case %zu: expected \"%s\", got rc %d %s field \"%s\" \"%s\"", type, i,
                     cases[i].message, rc, agyn_code_name(err.code), err.field, err.message);
    }
}

static void test_vault_path_validation(void **state) {
    (void)state;
    static char too_long[1100];
    memset(too_long, 'a', sizeof too_long - 1);
    too_long[1] = '/';
    too_long[3] = '/';
    static const char shape[] = "vault: remote_path must have the form <mount>/<path>/<key>";
    static const char empty_segment[] =
        "vault: remote_path has an empty segment (leading, trailing or double '/')";
    static const char dots[] = "vault: remote_path must not contain \".\" or \"..\" segments";
    static const char dirty[] = "vault: remote_path must be UTF-8 text without control characters";
    const struct path_case cases[] = {
        {"secret/app/password", NULL},
        {"secret/team/ci/registry/password", NULL},
        {"kv/with space/ü-ñ/key.with.dots", NULL},
        {"secret/app/key#with?odd&chars%2F", NULL},
        {"secret/.hidden/..key", NULL},
        {NULL, "vault: remote_path must not be empty"},
        {"", "vault: remote_path must not be empty"},
        {"secret", shape},
        {"secret/password", shape},
        {"/secret/app/password", empty_segment},
        {"secret/app/password/", empty_segment},
        {"secret//app/password", empty_segment},
        {"secret/app//", empty_segment},
        {"///", empty_segment},
        {"secret/../sys/password", dots},
        {"secret/./app/password", dots},
        {"secret/app/..", dots},
        {"../../v1/sys/raw", dots},
        {"secret/app\n/password", dirty},
        {"secret/app/pass\rword", dirty},
        {"secret/app/\x7f", dirty},
        {"secret/\xff\xfe/password", dirty},
        {"secret/\xc0\xaf/password", dirty}, /* overlong '/' */
        {too_long, "vault: remote_path is longer than 1024 bytes"},
    };
    check_path_cases("vault", cases, sizeof cases / sizeof *cases);
}

static void test_aws_path_validation(void **state) {
    (void)state;
    static char long_id[2100];
    memset(long_id, 'x', sizeof long_id - 1);
    static const char dirty_id[] =
        "aws-secrets-manager: the secret id in remote_path must be UTF-8 text without control "
        "characters";
    static const char dirty_key[] =
        "aws-secrets-manager: the JSON key in remote_path must be UTF-8 text without control "
        "characters";
    const struct path_case cases[] = {
        {"prod/registry", NULL},
        {"arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/registry-AbCdEf", NULL},
        {"prod/registry#password", NULL},
        {"prod/registry#nested.key with space", NULL},
        {"name#key#with-hash", NULL},
        {"ünïcode-name", NULL},
        {NULL, "aws-secrets-manager: remote_path must not be empty"},
        {"", "aws-secrets-manager: remote_path must not be empty"},
        {"#password", "aws-secrets-manager: remote_path must start with a secret name or ARN "
                      "(<secret-id>[#<json-key>])"},
        {"prod/registry#",
         "aws-secrets-manager: the JSON key after '#' in remote_path must not be empty"},
        {"prod/registry\n", dirty_id},
        {"prod\x01/registry#password", dirty_id},
        {"\xc3\x28", dirty_id},
        {"prod/registry#pass\rword", dirty_key},
        {"prod/registry#\xff", dirty_key},
        {long_id, "aws-secrets-manager: the secret id in remote_path is longer than 2048 bytes"},
    };
    check_path_cases("aws-secrets-manager", cases, sizeof cases / sizeof *cases);
}

struct config_case {
    const char *json;
    const char *field; /* NULL: valid */
    const char *message;
};

static void check_config_cases(const char *type, const struct config_case *cases, size_t count) {
    const struct provider_backend *backend = provider_find(type);
    for (size_t i = 0; i < count; i++) {
        json_error_t parse_error;
        json_t *config = json_loads(cases[i].json, JSON_DECODE_ANY, &parse_error);
        if (!config)
            fail_msg("%s: case %zu is not JSON: %s", type, i, parse_error.text);
        struct agyn_error err = {0};
        int rc = backend->validate_config(config, &err);
        json_decref(config);
        if (!cases[i].field) {
            if (rc != 0)
                fail_msg("%s: case %zu should be valid: %s", type, i, err.message);
            continue;
        }
        if (rc != -1 || err.code != AGYN_UNPROCESSABLE || strcmp(err.field, cases[i].field) != 0 ||
            strcmp(err.message, cases[i].message) != 0)
            fail_msg("%s: case %zu: expected %s \"%s\", got rc %d %s field \"%s\" \"%s\"", type, i,
                     cases[i].field, cases[i].message, rc, agyn_code_name(err.code), err.field,
                     err.message);
        assert_no_secret_in(err.message);
    }
}

static void test_vault_config_validation(void **state) {
    (void)state;
    const struct config_case cases[] = {
        {"{\"address\": \"http://127.0.0.1:8200\", \"token\": \"t\"}", NULL, NULL},
        {"{\"address\": \"https://vault.example.com/\", \"token\": \"t\", \"namespace\": \"a/b\"}",
         NULL, NULL},
        {"{\"address\": \"https://proxy.example.com/vault\", \"token\": \"t\", \"namespace\": "
         "null}",
         NULL, NULL},
        {"[]", "config", "vault: config must be an object"},
        {"\"vault\"", "config", "vault: config must be an object"},
        {"{\"token\": \"t\"}", "config.address", "vault: config.address is required"},
        {"{\"address\": \"http://v\"}", "config.token", "vault: config.token is required"},
        {"{\"address\": \"http://v\", \"token\": null}", "config.token",
         "vault: config.token is required"},
        {"{\"address\": \"http://v\", \"token\": 42}", "config.token",
         "vault: config.token must be a string"},
        {"{\"address\": \"http://v\", \"token\": \"\"}", "config.token",
         "vault: config.token must not be empty"},
        {"{\"address\": \"http://v\", \"token\": \"" VAULT_TOKEN "\\r\\nX-Evil: 1\"}",
         "config.token", "vault: config.token must be UTF-8 text without control characters"},
        {"{\"address\": \"http://v\", \"token\": \"t\", \"tokn\": \"" VAULT_TOKEN "\"}",
         "config.tokn", "vault: unknown config key \"tokn\" (allowed: address, token, namespace)"},
        {"{\"address\": \"http://v\", \"token\": \"t\", \"namespace\": 7}", "config.namespace",
         "vault: config.namespace must be a string"},
        {"{\"address\": \"http://v\", \"token\": \"t\", \"namespace\": \"\"}", "config.namespace",
         "vault: config.namespace must not be empty"},
        {"{\"address\": 8200, \"token\": \"t\"}", "config.address",
         "vault: config.address must be a string"},
        {"{\"address\": \"vault.example.com:8200\", \"token\": \"t\"}", "config.address",
         "vault: config.address must be an absolute http(s) URL"},
        {"{\"address\": \"ftp://vault.example.com\", \"token\": \"t\"}", "config.address",
         "vault: config.address must use http or https"},
        {"{\"address\": \"file:///etc/passwd\", \"token\": \"t\"}", "config.address",
         "vault: config.address must use http or https"},
        {"{\"address\": \"http://user:" VAULT_TOKEN "@vault\", \"token\": \"t\"}", "config.address",
         "vault: config.address must not contain credentials (user:password@)"},
        {"{\"address\": \"http://vault/?x=1\", \"token\": \"t\"}", "config.address",
         "vault: config.address must not have a query or fragment"},
        {"{\"address\": \"http://vault/#top\", \"token\": \"t\"}", "config.address",
         "vault: config.address must not have a query or fragment"},
    };
    check_config_cases("vault", cases, sizeof cases / sizeof *cases);
}

static void test_aws_config_validation(void **state) {
    (void)state;
#define AWS_BASE "\"region\": \"us-east-1\", \"access_key_id\": \"AKIAEXAMPLE\""
    const struct config_case cases[] = {
        {"{" AWS_BASE ", \"secret_access_key\": \"s\"}", NULL, NULL},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"session_token\": \"t\", "
         "\"endpoint_url\": \"http://127.0.0.1:4566/\"}",
         NULL, NULL},
        {"{\"region\": \"cn-north-1\", \"access_key_id\": \"A\", \"secret_access_key\": \"s\", "
         "\"session_token\": null}",
         NULL, NULL},
        {"null", "config", "aws-secrets-manager: config must be an object"},
        {"{\"access_key_id\": \"A\", \"secret_access_key\": \"s\"}", "config.region",
         "aws-secrets-manager: config.region is required"},
        {"{\"region\": \"us-east-1\", \"secret_access_key\": \"s\"}", "config.access_key_id",
         "aws-secrets-manager: config.access_key_id is required"},
        {"{" AWS_BASE "}", "config.secret_access_key",
         "aws-secrets-manager: config.secret_access_key is required"},
        {"{" AWS_BASE ", \"secret_access_key\": [\"" HOSTILE_SECRET_KEY "\"]}",
         "config.secret_access_key",
         "aws-secrets-manager: config.secret_access_key must be a string"},
        {"{" AWS_BASE ", \"secret_access_key\": \"" HOSTILE_SECRET_KEY "\\u0001\"}",
         "config.secret_access_key",
         "aws-secrets-manager: config.secret_access_key must be UTF-8 text without control "
         "characters"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"session_token\": \"" AWS_SESSION_TOKEN
         "\\n\"}",
         "config.session_token",
         "aws-secrets-manager: config.session_token must be UTF-8 text without control "
         "characters"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"session_token\": 1}",
         "config.session_token", "aws-secrets-manager: config.session_token must be a string"},
        {"{\"region\": \"US-EAST-1\", \"access_key_id\": \"A\", \"secret_access_key\": \"s\"}",
         "config.region",
         "aws-secrets-manager: config.region must look like \"eu-west-1\" (lower-case letters, "
         "digits and '-')"},
        {"{\"region\": \"us-east-1.evil.com/\", \"access_key_id\": \"A\", \"secret_access_key\": "
         "\"s\"}",
         "config.region",
         "aws-secrets-manager: config.region must look like \"eu-west-1\" (lower-case letters, "
         "digits and '-')"},
        {"{\"region\": \"us-east-1\", \"access_key_id\": \"AKIA/x, Signature\", "
         "\"secret_access_key\": \"s\"}",
         "config.access_key_id",
         "aws-secrets-manager: config.access_key_id must contain only letters and digits"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"endpoint_url\": \"http://h:1/prefix\"}",
         "config.endpoint_url", "aws-secrets-manager: config.endpoint_url must not have a path"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"endpoint_url\": \"gopher://h\"}",
         "config.endpoint_url", "aws-secrets-manager: config.endpoint_url must use http or https"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"endpoint_url\": \"http://h/ x\"}",
         "config.endpoint_url",
         "aws-secrets-manager: config.endpoint_url must be an absolute http(s) URL"},
        {"{" AWS_BASE ", \"secret_access_key\": \"s\", \"endpoint\": \"http://h\"}",
         "config.endpoint",
         "aws-secrets-manager: unknown config key \"endpoint\" (allowed: region, access_key_id, "
         "secret_access_key, session_token, endpoint_url, ecr_endpoint_url, role_arn, "
         "sts_endpoint_url)"},
    };
#undef AWS_BASE
    check_config_cases("aws-secrets-manager", cases, sizeof cases / sizeof *cases);
}

static void test_resolve_rejects_bad_input_before_network(void **state) {
    (void)state;
    struct agyn_error err = {0};
    char *value = (char *)"untouched";
    json_t *config = vault_config("http://127.0.0.1:1", VAULT_TOKEN, NULL);
    expect_error(provider_find("vault")->resolve(config, "secret/../x/key", &value, &err), &err,
                 AGYN_UNPROCESSABLE,
                 "vault: remote_path must not contain \".\" or \"..\" segments");
    assert_null(value);
    json_decref(config);

    config = json_pack("{s:s}", "address", "http://127.0.0.1:1");
    expect_error(provider_find("vault")->test(config, &err), &err, AGYN_UNPROCESSABLE,
                 "vault: config.token is required");
    json_decref(config);

    config = aws_config("http://127.0.0.1:1", "AKIA", "s", NULL);
    value = (char *)"untouched";
    expect_error(provider_find("aws-secrets-manager")->resolve(config, "#k", &value, &err), &err,
                 AGYN_UNPROCESSABLE,
                 "aws-secrets-manager: remote_path must start with a secret name or ARN "
                 "(<secret-id>[#<json-key>])");
    assert_null(value);
    json_decref(config);
}

static void test_shared_helpers(void **state) {
    (void)state;
    struct dynbuf buf = {0};
    assert_int_equal(provider_add_url_escaped(&buf, "a b/ü~-._%?#&"), 0);
    assert_string_equal(dynbuf_str(&buf), "a%20b%2F%C3%BC~-._%25%3F%23%26");
    dynbuf_free(&buf);
    assert_string_equal(dynbuf_str(&buf), "");

    struct dynbuf limited = {.limit = 8};
    assert_int_equal(dynbuf_add_str(&limited, "12345678"), 0);
    assert_int_equal(dynbuf_add_str(&limited, "9"), -1);
    assert_null(dynbuf_str(&limited));
    dynbuf_free(&limited);

    char out[64];
    provider_sanitize_text(out, sizeof out, "bad\x01\x1b[31mred\n\xff\xfe ok ü", 21);
    assert_string_equal(out, "bad??[31mred??? ok ü");
    char small[10];
    provider_sanitize_text(small, sizeof small, "üüüüüü", strlen("üüüüüü"));
    assert_string_equal(small, "üüü..."); /* cut at a character boundary */

    /* Remote text holding a credential is replaced whole, never edited inside. */
    const char *const credentials[] = {"", VAULT_TOKEN, NULL};
    char remote[96];
    snprintf(remote, sizeof remote, "token %s rejected (%s)", VAULT_TOKEN, VAULT_TOKEN);
    assert_true(redact_text_reveals(remote, credentials));
    assert_true(redact_withhold(remote, sizeof remote, credentials, "permission denied"));
    assert_string_equal(remote, "permission denied");
    snprintf(remote, sizeof remote, "no such path");
    assert_false(redact_withhold(remote, sizeof remote, credentials, "x"));
    assert_string_equal(remote, "no such path");
    assert_false(redact_text_reveals("anything", (const char *const[]){"", NULL}));
    assert_false(redact_text_reveals("anything", NULL));
    assert_string_equal(provider_status_text(403), "permission denied");
    assert_string_equal(provider_status_text(404), "not found");
    assert_string_equal(provider_status_text(503), "server error");

    assert_true(provider_text_is_clean("plain ü €", strlen("plain ü €")));
    assert_false(provider_text_is_clean("tab\there", 8));
    assert_false(provider_text_is_clean("\xed\xa0\x80", 3)); /* UTF-16 surrogate */

    json_t *doc = json_pack("{s:s, s:[s]}", "a", "wipe-me", "b", "and-me");
    json_t *a = json_object_get(doc, "a");
    secure_json_wipe(doc);
    assert_int_equal(json_string_value(a)[0], '\0');
    json_decref(doc);

    url_origin("https://user:" VAULT_TOKEN "@vault.example.com:8200/v1/x?y=1", out, sizeof out);
    assert_string_equal(out, "https://vault.example.com:8200");
    url_origin("not a url", out, sizeof out);
    assert_string_equal(out, "(invalid URL)");

    assert_int_equal(provider_status_to_code(401), AGYN_PERMISSION_DENIED);
    assert_int_equal(provider_status_to_code(403), AGYN_PERMISSION_DENIED);
    assert_int_equal(provider_status_to_code(404), AGYN_NOT_FOUND);
    assert_int_equal(provider_status_to_code(400), AGYN_UNPROCESSABLE);
    assert_int_equal(provider_status_to_code(429), AGYN_UNAVAILABLE);
    assert_int_equal(provider_status_to_code(503), AGYN_UNAVAILABLE);
    assert_int_equal(provider_status_to_code(302), AGYN_UNAVAILABLE);
}

/* =======================================================================================
 * Vault, live against tests/fixtures/vault_fixture.py
 * ======================================================================================= */

static struct {
    pid_t main_pid, namespace_pid, slow_pid;
    char address[64];           /* token VAULT_TOKEN, no namespace */
    char namespace_address[64]; /* token VAULT_NS_TOKEN, namespace "team-a" */
    char slow_address[64];      /* answers after 1.5 s */
} vault;

/* Writes a KV v2 secret through the fixture's HTTP API. */
static void vault_write(const char *address, const char *token, const char *namespace_name,
                        const char *path, const char *data_json) {
    char url[512];
    snprintf(url, sizeof url, "%s/v1/%s", address, path);
    char body[1024];
    snprintf(body, sizeof body, "{\"data\": %s}", data_json);
    struct provider_http_header headers[2] = {{"X-Vault-Token", token},
                                              {"X-Vault-Namespace", namespace_name}};
    struct provider_http_request req = {.method = "POST",
                                        .url = url,
                                        .headers = headers,
                                        .header_count = namespace_name ? 2 : 1,
                                        .body = body,
                                        .body_len = strlen(body)};
    struct provider_http_response resp;
    struct agyn_error err = {0};
    if (provider_http_perform(&req, &resp, &err) != 0)
        fail_msg("seeding %s: %s", path, err.message);
    if (resp.status != 200)
        fail_msg("seeding %s: HTTP %ld %s", path, resp.status, resp.body);
    provider_http_response_free(&resp);
}

static int vault_setup(void **state) {
    (void)state;
    int port = start_vault_fixture(VAULT_TOKEN, NULL, 0, &vault.main_pid);
    snprintf(vault.address, sizeof vault.address, "http://127.0.0.1:%d", port);
    port = start_vault_fixture(VAULT_NS_TOKEN, "team-a", 0, &vault.namespace_pid);
    snprintf(vault.namespace_address, sizeof vault.namespace_address, "http://127.0.0.1:%d", port);
    port = start_vault_fixture(VAULT_TOKEN, NULL, 1500, &vault.slow_pid);
    snprintf(vault.slow_address, sizeof vault.slow_address, "http://127.0.0.1:%d", port);

    vault_write(vault.address, VAULT_TOKEN, NULL, "secret/data/ci/registry",
                "{\"username\": \"robot\", \"password\": \"" VAULT_PASSWORD "\", "
                "\"port\": 5000, \"nested\": {\"inner\": \"" VAULT_PASSWORD "\"}, "
                "\"nothing\": null}");
    /* Segments that need percent-encoding: space, '#', '?', '%', non-ASCII. */
    vault_write(vault.address, VAULT_TOKEN, NULL, "secret/data/odd%20dir/%23hash%3F/%25pct%C3%BC",
                "{\"key with space\": \"" VAULT_ENCODED_VALUE "\"}");
    vault_write(vault.namespace_address, VAULT_NS_TOKEN, "team-a", "secret/data/app",
                "{\"password\": \"" VAULT_NS_VALUE "\"}");
    return 0;
}

static int vault_teardown(void **state) {
    (void)state;
    stop_child(vault.main_pid);
    stop_child(vault.namespace_pid);
    stop_child(vault.slow_pid);
    provider_set_timeouts(0, 0);
    return 0;
}

static int vault_resolve(const char *address, const char *token, const char *namespace_name,
                         const char *path, char **value, struct agyn_error *err) {
    json_t *config = vault_config(address, token, namespace_name);
    *value = NULL;
    int rc = provider_find("vault")->resolve(config, path, value, err);
    json_decref(config);
    return rc;
}

static void test_vault_resolve_ok(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/password", &value,
                           &err);
    expect_resolved(rc, &err, value, VAULT_PASSWORD);
    rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/username", &value,
                       &err);
    expect_resolved(rc, &err, value, "robot");

    /* Trailing slashes on the address are fine; odd characters are percent-encoded. */
    char with_slash[80];
    snprintf(with_slash, sizeof with_slash, "%s//", vault.address);
    rc = vault_resolve(with_slash, VAULT_TOKEN, NULL, "secret/odd dir/#hash?/%pctü/key with space",
                       &value, &err);
    expect_resolved(rc, &err, value, VAULT_ENCODED_VALUE);
}

static void test_vault_wrong_token(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = vault_resolve(vault.address, VAULT_WRONG_TOKEN, NULL, "secret/ci/registry/password",
                           &value, &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED, "vault: 403: permission denied");
    assert_null(value);
}

/* A Vault dev token is often just "root"; a token may even be one character. No message may
 * contain the token where a remote's text could have put it, and every message stays whole
 * and readable (no "[redacted]" gaps that would show where the token's characters were). */
static void test_vault_short_tokens_stay_out_of_messages(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    /* Vault's own "permission denied" holds neither "root" nor "x": kept as is. */
    int rc =
        vault_resolve(vault.address, "root", NULL, "secret/ci/registry/password", &value, &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED, "vault: 403: permission denied");
    rc = vault_resolve(vault.address, "x", NULL, "secret/ci/registry/password", &value, &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED, "vault: 403: permission denied");
    /* With "r", Vault's text contains the token's only character: it is dropped whole. */
    rc = vault_resolve(vault.address, "r", NULL, "secret/ci/registry/password", &value, &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED,
                 "vault: 403: permission denied (Vault's message withheld: it contains the token)");
    /* Transport errors are built from the address and curl's text only: whole, whatever
     * characters the token has. */
    static const char *const tokens[] = {"root", "o", "n"};
    for (size_t i = 0; i < 3; i++) {
        json_t *config = vault_config("http://127.0.0.1:1", tokens[i], NULL);
        rc = provider_find("vault")->test(config, &err);
        json_decref(config);
        expect_error(rc, &err, AGYN_UNAVAILABLE,
                     "vault: cannot reach http://127.0.0.1:1: Couldn't connect to server");
    }
}

static void test_vault_missing_key_and_path(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc =
        vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/nope", &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND,
                 "vault: key \"nope\" not found at secret/data/ci/registry");
    rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/absent/password", &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND, "vault: 404: no secret at secret/data/ci/absent");
    rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "kv/ci/registry/password", &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND,
                 "vault: 404: no handler for route \"kv/data/ci/registry\". route entry not "
                 "found.");
    assert_null(value);
}

static void test_vault_non_string_values(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc =
        vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/port", &value, &err);
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "vault: key \"port\" at secret/data/ci/registry is not a string");
    rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/nested", &value, &err);
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "vault: key \"nested\" at secret/data/ci/registry is not a string");
    rc =
        vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/registry/nothing", &value, &err);
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "vault: key \"nothing\" at secret/data/ci/registry is not a string");
    assert_null(value);
}

static void test_vault_namespace(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = vault_resolve(vault.namespace_address, VAULT_NS_TOKEN, "team-a", "secret/app/password",
                           &value, &err);
    expect_resolved(rc, &err, value, VAULT_NS_VALUE);
    rc = vault_resolve(vault.namespace_address, VAULT_NS_TOKEN, NULL, "secret/app/password", &value,
                       &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED, "vault: 403: permission denied");
    rc = vault_resolve(vault.namespace_address, VAULT_NS_TOKEN, "team-b", "secret/app/password",
                       &value, &err);
    expect_error(rc, &err, AGYN_PERMISSION_DENIED, "vault: 403: permission denied");
}

static void test_vault_unreachable(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = vault_resolve("http://127.0.0.1:1", VAULT_TOKEN, NULL, "secret/ci/registry/password",
                           &value, &err);
    expect_error(rc, &err, AGYN_UNAVAILABLE,
                 "vault: cannot reach http://127.0.0.1:1: Couldn't connect to server");
    assert_null(value);
}

static void test_vault_timeout(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    provider_set_timeouts(1000, 300);
    int rc = vault_resolve(vault.slow_address, VAULT_TOKEN, NULL, "secret/ci/registry/password",
                           &value, &err);
    provider_set_timeouts(0, 0);
    char expected[128];
    snprintf(expected, sizeof expected, "vault: cannot reach %s: Timeout was reached",
             vault.slow_address);
    expect_error(rc, &err, AGYN_UNAVAILABLE, expected);
}

static void test_vault_rotation(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    vault_write(vault.address, VAULT_TOKEN, NULL, "secret/data/ci/rotating",
                "{\"password\": \"" VAULT_PASSWORD "\"}");
    int rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/rotating/password", &value,
                           &err);
    expect_resolved(rc, &err, value, VAULT_PASSWORD);
    vault_write(vault.address, VAULT_TOKEN, NULL, "secret/data/ci/rotating",
                "{\"password\": \"" VAULT_ROTATED "\"}");
    rc = vault_resolve(vault.address, VAULT_TOKEN, NULL, "secret/ci/rotating/password", &value,
                       &err);
    expect_resolved(rc, &err, value, VAULT_ROTATED);
}

static void test_vault_test_connectivity(void **state) {
    (void)state;
    const struct provider_backend *backend = provider_find("vault");
    struct agyn_error err = {0};
    json_t *config = vault_config(vault.address, VAULT_TOKEN, NULL);
    if (backend->test(config, &err) != 0)
        fail_msg("test() failed: %s", err.message);
    json_decref(config);

    config = vault_config(vault.address, VAULT_WRONG_TOKEN, NULL);
    expect_error(backend->test(config, &err), &err, AGYN_PERMISSION_DENIED,
                 "vault: 403: permission denied");
    json_decref(config);

    config = vault_config(vault.namespace_address, VAULT_NS_TOKEN, "team-a");
    if (backend->test(config, &err) != 0)
        fail_msg("test() with namespace failed: %s", err.message);
    json_decref(config);

    config = vault_config("http://127.0.0.1:1", VAULT_TOKEN, NULL);
    expect_error(backend->test(config, &err), &err, AGYN_UNAVAILABLE,
                 "vault: cannot reach http://127.0.0.1:1: Couldn't connect to server");
    json_decref(config);
}

/* =======================================================================================
 * Hostile server: what a broken or malicious provider can send
 * ======================================================================================= */

static int hostile_vault_resolve(const char *path, char **value, struct agyn_error *err) {
    char address[64];
    snprintf(address, sizeof address, "http://127.0.0.1:%d", hostile.port);
    return vault_resolve(address, VAULT_TOKEN, "team-a", path, value, err);
}

/* Vault answering with the dev token "root" (or a 1-character token) inside its errors. */
static void test_hostile_vault_echoes_a_short_token(void **state) {
    (void)state;
    char address[64];
    snprintf(address, sizeof address, "http://127.0.0.1:%d", hostile.port);
    static const char *const tokens[] = {"root", "o"};
    for (size_t i = 0; i < 2; i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"errors\": [\"bad token %s for root of the tree\"]}",
                 tokens[i]);
        hostile_answer(&(struct canned_response){403, NULL, body, 0, false}, 1);
        char *value = NULL;
        struct agyn_error err = {0};
        int rc = vault_resolve(address, tokens[i], "team-a", "secret/app/password", &value, &err);
        expect_error(rc, &err, AGYN_PERMISSION_DENIED,
                     "vault: 403: permission denied (Vault's message withheld: it contains the "
                     "token)");
        hostile_answer(&(struct canned_response){403, NULL, body, 0, false}, 1);
        json_t *config = vault_config(address, tokens[i], NULL);
        rc = provider_find("vault")->test(config, &err);
        json_decref(config);
        assert_int_equal(rc, -1);
        assert_string_equal(err.message, "vault: 403: permission denied (Vault's message "
                                         "withheld: it contains the token)");
    }
}

static void test_hostile_vault_garbage(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    char expected[160];

    hostile_answer(
        &(struct canned_response){200, NULL, "<html>" VAULT_PASSWORD "</html>", 0, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 200: unexpected response (not JSON)");

    hostile_answer(&(struct canned_response){200, NULL, "{\"data\": {\"data\": \"x\"}}", 0, false},
                   1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 200: response for secret/data/app has no data.data object (is secret a "
                 "KV version 2 mount?)");

    /* A provider echoing the token and sending terminal escapes in its errors. */
    hostile_answer(&(struct canned_response){500, NULL,
                                             "{\"errors\": [\"token " VAULT_TOKEN
                                             " rejected\\u001b[2J\", "
                                             "42, \"line\\nbreak\"]}",
                                             0, false},
                   1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 500: server error (Vault's message withheld: it contains the token)");

    hostile_answer(&(struct canned_response){502, NULL, "Bad Gateway", 0, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 502: unexpected response (not JSON)");

    hostile_answer(&(struct canned_response){429, NULL, "{\"errors\": []}", 0, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 429: unexpected response");

    /* 2 MiB, announced by Content-Length and then without it. */
    size_t big_len = 2 * PROVIDER_RESPONSE_LIMIT;
    char *big = malloc(big_len);
    memset(big, 'A', big_len);
    big[0] = '"';
    snprintf(expected, sizeof expected,
             "vault: response from http://127.0.0.1:%d is larger than 1 MiB", hostile.port);
    hostile_answer(&(struct canned_response){200, NULL, big, big_len, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 expected);
    hostile_answer(&(struct canned_response){200, NULL, big, big_len, true}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 expected);
    /* One more exchange, so the server thread is done sending big before it is freed. */
    hostile_answer(&(struct canned_response){200, NULL, "{}", 0, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 NULL);
    free(big);
    assert_null(value);
}

static void test_hostile_vault_request_shape(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    hostile_answer(&(struct canned_response){200, NULL,
                                             "{\"data\": {\"data\": {\"k y\": \"" VAULT_PASSWORD
                                             "\"}, \"metadata\": {\"version\": 3}}}",
                                             0, false},
                   1);
    int rc = hostile_vault_resolve("secret/a b/ü/k y", &value, &err);
    expect_resolved(rc, &err, value, VAULT_PASSWORD);
    const char *request = hostile.requests[0];
    assert_true(starts_with(request, "GET /v1/secret/data/a%20b/%C3%BC HTTP/1.1\r\n"));
    char header[256];
    assert_true(request_header(request, "X-Vault-Token", header, sizeof header));
    assert_string_equal(header, VAULT_TOKEN);
    assert_true(request_header(request, "X-Vault-Namespace", header, sizeof header));
    assert_string_equal(header, "team-a");

    /* Without a namespace, no namespace header at all. */
    char address[64];
    snprintf(address, sizeof address, "http://127.0.0.1:%d/", hostile.port);
    hostile_answer(
        &(struct canned_response){
            200, NULL, "{\"data\": {\"data\": {\"k y\": \"" VAULT_PASSWORD "\"}}}", 0, false},
        1);
    rc = vault_resolve(address, VAULT_TOKEN, NULL, "secret/a b/ü/k y", &value, &err);
    expect_resolved(rc, &err, value, VAULT_PASSWORD);
    assert_false(request_header(hostile.requests[0], "X-Vault-Namespace", header, sizeof header));
}

static void test_hostile_redirects(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    char location[128];
    char expected[160];

    /* Another host: refused before a second request could carry the token there. */
    snprintf(location, sizeof location, "Location: http://127.0.0.2:%d/v1/secret/data/app\r\n",
             hostile.port);
    hostile_answer(&(struct canned_response){307, location, "{}", 0, false}, 1);
    snprintf(expected, sizeof expected,
             "vault: refused redirect from http://127.0.0.1:%d to http://127.0.0.2:%d",
             hostile.port, hostile.port);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 expected);
    assert_int_equal(hostile_requests_seen(), 1);

    /* Another scheme on the same host is another origin too. */
    snprintf(location, sizeof location, "Location: https://127.0.0.1:%d/v1/secret/data/app\r\n",
             hostile.port);
    hostile_answer(&(struct canned_response){302, location, "{}", 0, false}, 1);
    expect_error_prefix(hostile_vault_resolve("secret/app/password", &value, &err), &err,
                        AGYN_UNAVAILABLE, "vault: refused redirect from");
    assert_int_equal(hostile_requests_seen(), 1);

    /* Same origin (a standby pointing at a moved path): followed, token kept. */
    const struct canned_response same_origin[] = {
        {307, "Location: /v1/secret/data/moved\r\n", "{}", 0, false},
        {200, NULL, "{\"data\": {\"data\": {\"password\": \"" VAULT_PASSWORD "\"}}}", 0, false},
    };
    hostile_answer(same_origin, 2);
    int rc = hostile_vault_resolve("secret/app/password", &value, &err);
    expect_resolved(rc, &err, value, VAULT_PASSWORD);
    assert_int_equal(hostile_requests_seen(), 2);
    assert_true(starts_with(hostile.requests[1], "GET /v1/secret/data/moved HTTP/1.1\r\n"));

    /* A redirect loop stops after a few hops and reports the status. */
    hostile_answer(
        &(struct canned_response){307, "Location: /v1/secret/data/loop\r\n", "{}", 0, false}, 1);
    expect_error(hostile_vault_resolve("secret/app/password", &value, &err), &err, AGYN_UNAVAILABLE,
                 "vault: 307: unexpected response");
    assert_int_equal(hostile_requests_seen(), 4);
}

static json_t *hostile_aws_config(void) {
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%d", hostile.port);
    return aws_config(endpoint, "AKIAHOSTILE", HOSTILE_SECRET_KEY, AWS_SESSION_TOKEN);
}

struct aws_error_case {
    int status;
    const char *body;
    enum agyn_code code;
    const char *message;
};

static void test_hostile_aws_errors(void **state) {
    (void)state;
    const struct aws_error_case cases[] = {
        {400,
         "{\"__type\": \"com.amazonaws.secretsmanager#ResourceNotFoundException\", \"Message\": "
         "\"Secrets Manager can't find the specified secret.\"}",
         AGYN_NOT_FOUND,
         "aws-secrets-manager: ResourceNotFoundException: Secrets Manager can't find the "
         "specified secret."},
        {400,
         "{\"__type\": \"UnrecognizedClientException\", \"message\": \"The security token "
         "included in the request is invalid.\"}",
         AGYN_PERMISSION_DENIED,
         "aws-secrets-manager: UnrecognizedClientException: The security token included in the "
         "request is invalid."},
        {400,
         "{\"__type\": \"AccessDeniedException\", \"Message\": \"User: arn:aws:iam::1:user/x is "
         "not authorized\"}",
         AGYN_PERMISSION_DENIED,
         "aws-secrets-manager: AccessDeniedException: User: arn:aws:iam::1:user/x is not "
         "authorized"},
        {403,
         "{\"__type\": \"InvalidSignatureException:http://internal.amazon.com/\", \"message\": "
         "\"Signature expired\"}",
         AGYN_PERMISSION_DENIED,
         "aws-secrets-manager: InvalidSignatureException: Signature expired"},
        {403,
         "<?xml version=\"1.0\"?><ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code>"
         "<Message>The request signature we calculated does not match.</Message></Error>"
         "</Errors></ErrorResponse>",
         AGYN_PERMISSION_DENIED,
         "aws-secrets-manager: SignatureDoesNotMatch: The request signature we calculated does "
         "not match."},
        {400,
         "{\"__type\": \"InvalidRequestException\", \"Message\": \"You can't perform this "
         "operation on the secret because it was marked for deletion.\"}",
         AGYN_UNPROCESSABLE,
         "aws-secrets-manager: InvalidRequestException: You can't perform this operation on the "
         "secret because it was marked for deletion."},
        {500, "{\"__type\": \"InternalServiceError\"}", AGYN_UNAVAILABLE,
         "aws-secrets-manager: 500: InternalServiceError"},
        {400, "{\"__type\": \"ThrottlingException\", \"message\": \"Rate exceeded\"}",
         AGYN_UNAVAILABLE, "aws-secrets-manager: ThrottlingException: Rate exceeded"},
        {502, "<html>Bad Gateway</html>", AGYN_UNAVAILABLE,
         "aws-secrets-manager: 502: unexpected response (no AWS error in body)"},
        {403, "", AGYN_PERMISSION_DENIED,
         "aws-secrets-manager: 403: unexpected response (no AWS error in body)"},
        /* Hostile: the error echoes the secret key and session token, with control bytes. */
        {400,
         "{\"__type\": \"Weird\\u0007<script>\", \"message\": \"key " HOSTILE_SECRET_KEY
         " token " AWS_SESSION_TOKEN "\\r\\n\"}",
         AGYN_UNPROCESSABLE,
         "aws-secrets-manager: 400: unexpected response (AWS's message withheld: it contains a "
         "credential)"},
        {200, "{\"Name\": \"bin\", \"SecretBinary\": \"AAEC\"}", AGYN_UNPROCESSABLE,
         "aws-secrets-manager: secret \"prod/registry\" holds binary data (SecretBinary); only "
         "SecretString is supported"},
        {200, "{\"Name\": \"x\"}", AGYN_UNAVAILABLE,
         "aws-secrets-manager: 200: response for \"prod/registry\" has no SecretString"},
        {200, "[\"" AWS_PLAIN_VALUE "\"]", AGYN_UNAVAILABLE,
         "aws-secrets-manager: 200: unexpected response (not a JSON object)"},
        {200, AWS_PLAIN_VALUE, AGYN_UNAVAILABLE,
         "aws-secrets-manager: 200: unexpected response (not a JSON object)"},
    };
    json_t *config = hostile_aws_config();
    const struct provider_backend *backend = provider_find("aws-secrets-manager");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hostile_answer(&(struct canned_response){cases[i].status, NULL, cases[i].body, 0, false},
                       1);
        char *value = NULL;
        struct agyn_error err = {0};
        int rc = backend->resolve(config, "prod/registry", &value, &err);
        if (rc != -1 || err.code != cases[i].code || strcmp(err.message, cases[i].message) != 0)
            fail_msg("case %zu: expected %s \"%s\"\n got rc %d %s \"%s\"", i,
                     agyn_code_name(cases[i].code), cases[i].message, rc, agyn_code_name(err.code),
                     err.message);
        assert_no_secret_in(err.message);
        assert_null(value);
    }
    json_decref(config);
}

static void test_hostile_aws_request_shape(void **state) {
    (void)state;
    hostile_answer(&(struct canned_response){200, NULL,
                                             "{\"Name\": \"prod/registry\", \"SecretString\": "
                                             "\"" AWS_PLAIN_VALUE "\"}",
                                             0, false},
                   1);
    json_t *config = hostile_aws_config();
    char *value = NULL;
    struct agyn_error err = {0};
    int rc = provider_find("aws-secrets-manager")
                 ->resolve(config, "prod/registry#ignored?", &value, &err);
    /* "#ignored?" asks for a key of a plain-string secret. */
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "aws-secrets-manager: the SecretString of \"prod/registry\" is not a JSON "
                 "object, so \"#ignored?\" cannot select a key");
    json_decref(config);

    const char *request = hostile.requests[0];
    char header[512];
    char host[64];
    snprintf(host, sizeof host, "127.0.0.1:%d", hostile.port);
    assert_true(starts_with(request, "POST / HTTP/1.1\r\n"));
    assert_true(request_header(request, "Host", header, sizeof header));
    assert_string_equal(header, host);
    assert_true(request_header(request, "X-Amz-Target", header, sizeof header));
    assert_string_equal(header, "secretsmanager.GetSecretValue");
    assert_true(request_header(request, "Content-Type", header, sizeof header));
    assert_string_equal(header, "application/x-amz-json-1.1");
    assert_true(request_header(request, "X-Amz-Security-Token", header, sizeof header));
    assert_string_equal(header, AWS_SESSION_TOKEN);
    assert_true(request_header(request, "X-Amz-Date", header, sizeof header));
    assert_int_equal(strlen(header), SIGV4_AMZ_DATE_LEN);
    char scope_prefix[128];
    snprintf(scope_prefix, sizeof scope_prefix, "AWS4-HMAC-SHA256 Credential=AKIAHOSTILE/%.8s/",
             header);
    assert_true(request_header(request, "Authorization", header, sizeof header));
    assert_true(starts_with(header, scope_prefix));
    assert_non_null(strstr(header, "/us-east-1/secretsmanager/aws4_request, SignedHeaders="
                                   "content-type;host;x-amz-date;x-amz-security-token;"
                                   "x-amz-target, Signature="));
    assert_non_null(strstr(request, "\r\n\r\n{\"SecretId\":\"prod/registry\"}"));
    assert_null(strstr(request, HOSTILE_SECRET_KEY));
}

/* =======================================================================================
 * AWS Secrets Manager, live against moto_server with IAM signature checking on
 * ======================================================================================= */

static struct {
    pid_t pid;
    char endpoint[64];
    char access_key_id[64];
    char secret_access_key[128];
    char plain_arn[256];
    /* Temporary credentials from STS AssumeRole, for the session-token path. */
    char session_key_id[64];
    char session_secret[128];
    char session_token[2048];
} moto;

/* A SigV4-signed POST / to the moto endpoint: JSON 1.1 when target is set, else a form. */
static void aws_signed_post(const char *service, const char *target, const char *body,
                            const char *access_key_id, const char *secret_access_key,
                            struct provider_http_response *resp) {
    char host[64];
    snprintf(host, sizeof host, "%s", moto.endpoint + strlen("http://"));
    char url[80];
    snprintf(url, sizeof url, "%s/", moto.endpoint);
    char amz_date[SIGV4_AMZ_DATE_LEN + 1];
    sigv4_format_amz_date(time(NULL), amz_date);
    const char *content_type =
        target ? "application/x-amz-json-1.1" : "application/x-www-form-urlencoded; charset=utf-8";
    struct sigv4_header signed_headers[4] = {{"host", host},
                                             {"x-amz-date", amz_date},
                                             {"content-type", content_type},
                                             {"x-amz-target", target}};
    struct sigv4_request signing = {.method = "POST",
                                    .canonical_uri = "/",
                                    .canonical_query = "",
                                    .headers = signed_headers,
                                    .header_count = target ? 4 : 3,
                                    .payload = body,
                                    .payload_len = strlen(body)};
    struct sigv4_scope scope = {.amz_date = amz_date, .region = "us-east-1", .service = service};
    char authorization[512];
    struct agyn_error err = {0};
    assert_int_equal(sigv4_authorization(&signing, &scope, access_key_id, secret_access_key,
                                         authorization, sizeof authorization, &err),
                     0);
    struct provider_http_header headers[5] = {{"X-Amz-Date", amz_date},
                                              {"Content-Type", content_type},
                                              {"Authorization", authorization},
                                              {"X-Amz-Target", target}};
    struct provider_http_request req = {.method = "POST",
                                        .url = url,
                                        .headers = headers,
                                        .header_count = target ? 4 : 3,
                                        .body = body,
                                        .body_len = strlen(body)};
    if (provider_http_perform(&req, resp, &err) != 0)
        fail_msg("%s %s: %s", service, target ? target : body, err.message);
}

/* Copies the text of <tag>...</tag> from an XML answer. */
static void xml_value(const char *xml, const char *tag, char *out, size_t size) {
    char open[64];
    char close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *start = strstr(xml, open);
    const char *end = start ? strstr(start, close) : NULL;
    if (!start || !end)
        fail_msg("no <%s> in %s", tag, xml);
    start += strlen(open);
    snprintf(out, size, "%.*s", (int)(end - start), start);
}

static void iam_call(const char *form, struct provider_http_response *resp) {
    aws_signed_post("iam", NULL, form, "AKIAANYTHING", "any-secret", resp);
    if (resp->status != 200)
        fail_msg("IAM %s: HTTP %ld %s", form, resp->status, resp->body);
}

static void secretsmanager_call(const char *operation, const char *body,
                                struct provider_http_response *resp) {
    char target[64];
    snprintf(target, sizeof target, "secretsmanager.%s", operation);
    aws_signed_post("secretsmanager", target, body, moto.access_key_id, moto.secret_access_key,
                    resp);
    if (resp->status != 200)
        fail_msg("%s: HTTP %ld %s", operation, resp->status, resp->body);
}

static int moto_setup(void **state) {
    (void)state;
    int port = free_tcp_port();
    char port_text[16];
    snprintf(port_text, sizeof port_text, "%d", port);
    char *argv[] = {"moto_server", "-H", "127.0.0.1", "-p", port_text, NULL};
    moto.pid = spawn(argv, -1, true);
    assert_true(moto.pid > 0);
    snprintf(moto.endpoint, sizeof moto.endpoint, "http://127.0.0.1:%d", port);
    /* Poll the TCP port only: every HTTP request would count against moto's auth budget. */
    bool up = false;
    for (int i = 0; i < 600 && !up; i++) {
        up = port_answers(port);
        if (!up)
            usleep(50 * 1000);
        if (waitpid(moto.pid, NULL, WNOHANG) == moto.pid)
            fail_msg("moto_server exited during start-up (is moto installed?)");
    }
    if (!up)
        fail_msg("moto_server did not listen on %d within 30 s", port);

    /* moto accepts any credentials by default. Create an IAM user with a key and a policy
     * while auth is off, then switch moto's IAM checks on (/moto-api/reset-auth 0): from then
     * on moto recomputes every SigV4 signature with botocore and rejects unknown keys. */
    struct provider_http_response resp;
    iam_call("Action=CreateUser&UserName=agyn-test&Version=2010-05-08", &resp);
    provider_http_response_free(&resp);
    iam_call("Action=CreateAccessKey&UserName=agyn-test&Version=2010-05-08", &resp);
    xml_value(resp.body, "AccessKeyId", moto.access_key_id, sizeof moto.access_key_id);
    xml_value(resp.body, "SecretAccessKey", moto.secret_access_key, sizeof moto.secret_access_key);
    provider_http_response_free(&resp);
    forbid_text(moto.secret_access_key);
    struct dynbuf form = {0};
    dynbuf_add_str(&form, "Action=PutUserPolicy&UserName=agyn-test&PolicyName=secrets"
                          "&Version=2010-05-08&PolicyDocument=");
    provider_add_url_escaped(&form,
                             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                             "\"Allow\",\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"}]}");
    iam_call(form.data, &resp);
    provider_http_response_free(&resp);
    dynbuf_free(&form);

    /* A role the test can assume, for temporary credentials with a session token. */
    dynbuf_add_str(&form, "Action=CreateRole&RoleName=agyn-role&Version=2010-05-08"
                          "&AssumeRolePolicyDocument=");
    provider_add_url_escaped(&form, "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                                    "\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":"
                                    "\"sts:AssumeRole\"}]}");
    iam_call(form.data, &resp);
    char role_arn[256];
    xml_value(resp.body, "Arn", role_arn, sizeof role_arn);
    provider_http_response_free(&resp);
    dynbuf_free(&form);
    dynbuf_add_str(&form, "Action=PutRolePolicy&RoleName=agyn-role&PolicyName=secrets"
                          "&Version=2010-05-08&PolicyDocument=");
    provider_add_url_escaped(&form,
                             "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":"
                             "\"Allow\",\"Action\":\"secretsmanager:*\",\"Resource\":\"*\"}]}");
    iam_call(form.data, &resp);
    provider_http_response_free(&resp);
    dynbuf_free(&form);
    dynbuf_add_str(&form, "Action=AssumeRole&RoleSessionName=agyn-test&Version=2011-06-15"
                          "&RoleArn=");
    provider_add_url_escaped(&form, role_arn);
    aws_signed_post("sts", NULL, form.data, "AKIAANYTHING", "any-secret", &resp);
    if (resp.status != 200)
        fail_msg("AssumeRole: HTTP %ld %s", resp.status, resp.body);
    xml_value(resp.body, "AccessKeyId", moto.session_key_id, sizeof moto.session_key_id);
    xml_value(resp.body, "SecretAccessKey", moto.session_secret, sizeof moto.session_secret);
    xml_value(resp.body, "SessionToken", moto.session_token, sizeof moto.session_token);
    provider_http_response_free(&resp);
    dynbuf_free(&form);
    forbid_text(moto.session_secret);
    forbid_text(moto.session_token);

    char url[96];
    snprintf(url, sizeof url, "%s/moto-api/reset-auth", moto.endpoint);
    /* text/plain: with a form content type the body would be parsed away before moto sees it. */
    struct provider_http_header plain_text = {"Content-Type", "text/plain"};
    struct provider_http_request reset = {.method = "POST",
                                          .url = url,
                                          .headers = &plain_text,
                                          .header_count = 1,
                                          .body = "0",
                                          .body_len = 1};
    struct agyn_error err = {0};
    if (provider_http_perform(&reset, &resp, &err) != 0)
        fail_msg("enabling moto auth failed: %s", err.message);
    if (resp.status != 200)
        fail_msg("enabling moto auth failed: HTTP %ld", resp.status);
    provider_http_response_free(&resp);

    /* Seeding with the new key also proves the signer against moto's botocore check. */
    secretsmanager_call("CreateSecret",
                        "{\"Name\":\"agyn/plain\",\"SecretString\":\"" AWS_PLAIN_VALUE "\"}",
                        &resp);
    json_t *created = json_loads(resp.body, 0, NULL);
    snprintf(moto.plain_arn, sizeof moto.plain_arn, "%s", row_text(created, "ARN"));
    json_decref(created);
    provider_http_response_free(&resp);
    secretsmanager_call(
        "CreateSecret",
        "{\"Name\":\"agyn/json\",\"SecretString\":\"{\\\"username\\\":\\\"robot\\\","
        "\\\"password\\\":\\\"" AWS_JSON_PASSWORD "\\\",\\\"port\\\":5432}\"}",
        &resp);
    provider_http_response_free(&resp);
    secretsmanager_call("CreateSecret",
                        "{\"Name\":\"agyn/rotating\",\"SecretString\":\"" AWS_ROTATION_1 "\"}",
                        &resp);
    provider_http_response_free(&resp);
    return 0;
}

static int moto_teardown(void **state) {
    (void)state;
    stop_child(moto.pid);
    return 0;
}

static int aws_resolve(const char *path, const char *session_token, char **value,
                       struct agyn_error *err) {
    json_t *config =
        aws_config(moto.endpoint, moto.access_key_id, moto.secret_access_key, session_token);
    *value = NULL;
    int rc = provider_find("aws-secrets-manager")->resolve(config, path, value, err);
    json_decref(config);
    return rc;
}

static void test_aws_resolve_plain_and_json_key(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = aws_resolve("agyn/plain", NULL, &value, &err);
    expect_resolved(rc, &err, value, AWS_PLAIN_VALUE);
    assert_true(starts_with(moto.plain_arn, "arn:aws:secretsmanager:us-east-1:"));
    rc = aws_resolve(moto.plain_arn, NULL, &value, &err);
    expect_resolved(rc, &err, value, AWS_PLAIN_VALUE);
    rc = aws_resolve("agyn/json#password", NULL, &value, &err);
    expect_resolved(rc, &err, value, AWS_JSON_PASSWORD);
    rc = aws_resolve("agyn/json#username", NULL, &value, &err);
    expect_resolved(rc, &err, value, "robot");
}

/* Temporary credentials: moto checks that X-Amz-Security-Token matches the assumed role's
 * token and verifies the signature that covers it. */
static void test_aws_session_credentials(void **state) {
    (void)state;
    const struct provider_backend *backend = provider_find("aws-secrets-manager");
    char *value = NULL;
    struct agyn_error err = {0};
    json_t *config =
        aws_config(moto.endpoint, moto.session_key_id, moto.session_secret, moto.session_token);
    int rc = backend->resolve(config, "agyn/json#password", &value, &err);
    expect_resolved(rc, &err, value, AWS_JSON_PASSWORD);
    if (backend->test(config, &err) != 0)
        fail_msg("test() with session credentials failed: %s", err.message);
    json_decref(config);

    config = aws_config(moto.endpoint, moto.session_key_id, moto.session_secret, AWS_SESSION_TOKEN);
    value = NULL;
    expect_error(backend->resolve(config, "agyn/plain", &value, &err), &err, AGYN_PERMISSION_DENIED,
                 "aws-secrets-manager: InvalidClientTokenId: The security token included in the "
                 "request is invalid.");
    assert_null(value);
    json_decref(config);
}

static void test_aws_json_key_errors(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = aws_resolve("agyn/json#nope", NULL, &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND,
                 "aws-secrets-manager: key \"nope\" not found in secret \"agyn/json\"");
    rc = aws_resolve("agyn/json#port", NULL, &value, &err);
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "aws-secrets-manager: key \"port\" in secret \"agyn/json\" is not a string");
    rc = aws_resolve("agyn/plain#password", NULL, &value, &err);
    expect_error(rc, &err, AGYN_UNPROCESSABLE,
                 "aws-secrets-manager: the SecretString of \"agyn/plain\" is not a JSON object, "
                 "so \"#password\" cannot select a key");
    assert_null(value);
}

static void test_aws_missing_secret(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = aws_resolve("agyn/absent", NULL, &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND,
                 "aws-secrets-manager: ResourceNotFoundException: Secrets Manager can't find the "
                 "specified secret.");
    rc = aws_resolve("agyn/absent#password", NULL, &value, &err);
    expect_error(rc, &err, AGYN_NOT_FOUND,
                 "aws-secrets-manager: ResourceNotFoundException: Secrets Manager can't find the "
                 "specified secret.");
    assert_null(value);
}

static void test_aws_bad_credentials(void **state) {
    (void)state;
    const struct provider_backend *backend = provider_find("aws-secrets-manager");
    char *value = NULL;
    struct agyn_error err = {0};
    json_t *config = aws_config(moto.endpoint, moto.access_key_id, AWS_WRONG_SECRET, NULL);
    expect_error(backend->resolve(config, "agyn/plain", &value, &err), &err, AGYN_PERMISSION_DENIED,
                 "aws-secrets-manager: SignatureDoesNotMatch: The request signature we "
                 "calculated does not match the signature you provided. Check your AWS Secret "
                 "Access Key and signing method. Consult the service documentation for "
                 "details.");
    expect_error(backend->test(config, &err), &err, AGYN_PERMISSION_DENIED,
                 "aws-secrets-manager: SignatureDoesNotMatch: The request signature we "
                 "calculated does not match the signature you provided. Check your AWS Secret "
                 "Access Key and signing method. Consult the service documentation for "
                 "details.");
    json_decref(config);

    config = aws_config(moto.endpoint, "AKIAUNKNOWN000000000", moto.secret_access_key, NULL);
    expect_error(backend->resolve(config, "agyn/plain", &value, &err), &err, AGYN_PERMISSION_DENIED,
                 "aws-secrets-manager: InvalidClientTokenId: The security token included in the "
                 "request is invalid.");
    json_decref(config);
    assert_null(value);
}

static void test_aws_rotation(void **state) {
    (void)state;
    char *value;
    struct agyn_error err = {0};
    int rc = aws_resolve("agyn/rotating", NULL, &value, &err);
    expect_resolved(rc, &err, value, AWS_ROTATION_1);
    struct provider_http_response resp;
    secretsmanager_call("PutSecretValue",
                        "{\"SecretId\":\"agyn/rotating\",\"SecretString\":\"" AWS_ROTATION_2 "\"}",
                        &resp);
    provider_http_response_free(&resp);
    rc = aws_resolve("agyn/rotating", NULL, &value, &err);
    expect_resolved(rc, &err, value, AWS_ROTATION_2);
}

static void test_aws_test_connectivity(void **state) {
    (void)state;
    const struct provider_backend *backend = provider_find("aws-secrets-manager");
    struct agyn_error err = {0};
    json_t *config = aws_config(moto.endpoint, moto.access_key_id, moto.secret_access_key, NULL);
    if (backend->test(config, &err) != 0)
        fail_msg("test() failed: %s", err.message);
    json_decref(config);

    config = aws_config("http://127.0.0.1:1", moto.access_key_id, moto.secret_access_key, NULL);
    expect_error(backend->test(config, &err), &err, AGYN_UNAVAILABLE,
                 "aws-secrets-manager: cannot reach http://127.0.0.1:1: Couldn't connect to "
                 "server");
    char *value = NULL;
    expect_error(backend->resolve(config, "agyn/plain", &value, &err), &err, AGYN_UNAVAILABLE,
                 "aws-secrets-manager: cannot reach http://127.0.0.1:1: Couldn't connect to "
                 "server");
    assert_null(value);
    json_decref(config);
}

/* The fixtures listen on loopback, which the egress policy denies unless allowed; allowing it
 * also lets their plain-HTTP addresses through. */
static void allow_loopback_egress(void) {
    static const char *const allow[] = {"127.0.0.0/8", "::1/128", NULL};
    struct egress_config config = {.allow = allow};
    struct agyn_error err = {0};
    if (egress_configure(&config, &err) != 0) {
        fprintf(stderr, "egress_configure: %s\n", err.message);
        exit(1);
    }
}

int main(void) {
    atexit(stop_all_children);
    allow_loopback_egress();
    const struct CMUnitTest offline_tests[] = {
        cmocka_unit_test(test_sigv4_known_answers),
        cmocka_unit_test(test_sigv4_date_and_errors),
        cmocka_unit_test(test_registry_and_timeouts),
        cmocka_unit_test(test_vault_path_validation),
        cmocka_unit_test(test_aws_path_validation),
        cmocka_unit_test(test_vault_config_validation),
        cmocka_unit_test(test_aws_config_validation),
        cmocka_unit_test(test_resolve_rejects_bad_input_before_network),
        cmocka_unit_test(test_shared_helpers),
    };
    const struct CMUnitTest vault_tests[] = {
        cmocka_unit_test(test_vault_resolve_ok),
        cmocka_unit_test(test_vault_wrong_token),
        cmocka_unit_test(test_vault_short_tokens_stay_out_of_messages),
        cmocka_unit_test(test_vault_missing_key_and_path),
        cmocka_unit_test(test_vault_non_string_values),
        cmocka_unit_test(test_vault_namespace),
        cmocka_unit_test(test_vault_unreachable),
        cmocka_unit_test(test_vault_timeout),
        cmocka_unit_test(test_vault_rotation),
        cmocka_unit_test(test_vault_test_connectivity),
    };
    const struct CMUnitTest hostile_tests[] = {
        cmocka_unit_test(test_hostile_vault_garbage),
        cmocka_unit_test(test_hostile_vault_echoes_a_short_token),
        cmocka_unit_test(test_hostile_vault_request_shape),
        cmocka_unit_test(test_hostile_redirects),
        cmocka_unit_test(test_hostile_aws_errors),
        cmocka_unit_test(test_hostile_aws_request_shape),
    };
    const struct CMUnitTest aws_tests[] = {
        cmocka_unit_test(test_aws_resolve_plain_and_json_key),
        cmocka_unit_test(test_aws_session_credentials),
        cmocka_unit_test(test_aws_json_key_errors),
        cmocka_unit_test(test_aws_missing_secret),
        cmocka_unit_test(test_aws_bad_credentials),
        cmocka_unit_test(test_aws_rotation),
        cmocka_unit_test(test_aws_test_connectivity),
    };
    int failures = 0;
    failures += cmocka_run_group_tests_name("providers/offline", offline_tests, NULL, NULL);
    failures +=
        cmocka_run_group_tests_name("providers/vault", vault_tests, vault_setup, vault_teardown);
    failures += cmocka_run_group_tests_name("providers/hostile", hostile_tests, hostile_setup,
                                            hostile_teardown);
    failures += cmocka_run_group_tests_name("providers/aws", aws_tests, moto_setup, moto_teardown);
    curl_global_cleanup();
    return failures ? 1 : 0;
}
