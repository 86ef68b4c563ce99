/* main.c — terraform-provider-agyn: the go-plugin server side of Terraform's plugin protocol 6.
 *
 * Terraform starts the binary with TF_PLUGIN_MAGIC_COOKIE (checked), PLUGIN_PROTOCOL_VERSIONS
 * (must include 6), optional PLUGIN_MIN_PORT / PLUGIN_MAX_PORT, and PLUGIN_CLIENT_CERT when
 * AutoMTLS is on (it is unless Terraform runs with TF_DISABLE_PLUGIN_TLS). The plugin listens
 * on 127.0.0.1, prints the handshake line
 *     1|6|tcp|127.0.0.1:PORT|grpc|<server certificate DER, base64 without padding>
 * and serves gRPC (tfplugin6.Provider, grpc.health.v1.Health, plugin.GRPCController). It exits
 * on GRPCController/Shutdown (how Terraform closes a provider) or when its parent process goes
 * away (polled with getppid, since a killed Terraform cannot tell its children). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/wiping_alloc.h"
#include "core/xalloc.h"
#include "client/client.h"
#include "terraform/grpc.h"
#include "terraform/tls.h"

#define MAGIC_COOKIE_KEY "TF_PLUGIN_MAGIC_COOKIE"
#define MAGIC_COOKIE_VALUE "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
#define PROVIDER_VERSION "0.1.0"

static SSL_CTX *ssl_ctx;
static pid_t parent_pid;

struct conn_arg {
    int fd;
};

static void *connection_thread(void *arg) {
    struct conn_arg *ca = arg;
    int fd = ca->fd;
    free(ca);
    grpc_serve_connection(fd, ssl_ctx);
    /* A closed connection alone does not end the plugin: gRPC clients drop idle connections
     * and dial again. Terraform ends it with GRPCController/Shutdown (then SIGKILL), and the
     * parent watch covers Terraform going away. */
    return NULL;
}

static void *parent_watch(void *arg) {
    for (;;) {
        usleep(500 * 1000);
        if (getppid() != parent_pid)
            exit(0);
    }
    return NULL;
}

static bool versions_include_6(const char *list) {
    if (!list || !*list)
        return true;
    char *copy = xstrdup(list), *save = NULL;
    bool found = false;
    for (char *part = strtok_r(copy, ",", &save); part; part = strtok_r(NULL, ",", &save))
        if (atoi(part) == 6)
            found = true;
    free(copy);
    return found;
}

static int listen_on(int min_port, int max_port, int *port_out) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool bound = false;
    if (min_port > 0 && max_port >= min_port) {
        for (int port = min_port; port <= max_port && !bound; port++) {
            addr.sin_port = htons((uint16_t)port);
            bound = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
        }
    } else {
        addr.sin_port = 0;
        bound = bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0;
    }
    if (!bound || listen(fd, 16) != 0) {
        close(fd);
        return -1;
    }
    socklen_t len = sizeof addr;
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *port_out = ntohs(addr.sin_port);
    return fd;
}

int main(int argc, char **argv) {
    wiping_alloc_install(); /* jansson buffers (API answers, configured tokens) wiped on free */
    if (argc > 1 && (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-v") == 0)) {
        printf("terraform-provider-agyn %s (plugin protocol 6)\n", PROVIDER_VERSION);
        return 0;
    }
    const char *cookie = getenv(MAGIC_COOKIE_KEY);
    if (!cookie || strcmp(cookie, MAGIC_COOKIE_VALUE) != 0) {
        fprintf(stderr, "This binary is a plugin. These are not meant to be executed directly.\n"
                        "Please execute the program that consumes these plugins, which will\n"
                        "load any plugins automatically\n");
        return 1;
    }
    if (!versions_include_6(getenv("PLUGIN_PROTOCOL_VERSIONS"))) {
        fprintf(stderr,
                "terraform-provider-agyn: only plugin protocol 6 is supported, "
                "Terraform offered %s\n",
                getenv("PLUGIN_PROTOCOL_VERSIONS"));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, SIG_IGN); /* Terraform forwards Ctrl-C itself (StopProvider) */
    parent_pid = getppid();
    struct agyn_error err = {0};
    if (client_global_init(&err) != 0) {
        fprintf(stderr, "terraform-provider-agyn: %s\n", err.message);
        return 1;
    }

    char *cert_b64 = NULL;
    const char *client_cert = getenv("PLUGIN_CLIENT_CERT");
    if (client_cert && *client_cert) {
        ssl_ctx = tls_server_context(client_cert, &cert_b64);
        if (!ssl_ctx)
            return 1;
    }
    const char *min_env = getenv("PLUGIN_MIN_PORT"), *max_env = getenv("PLUGIN_MAX_PORT");
    int min_port = min_env ? atoi(min_env) : 0, max_port = max_env ? atoi(max_env) : 0;
    int port = 0;
    int listener = listen_on(min_port, max_port, &port);
    if (listener < 0) {
        fprintf(stderr, "terraform-provider-agyn: cannot listen on 127.0.0.1: %s\n",
                strerror(errno));
        return 1;
    }
    if (cert_b64)
        printf("1|6|tcp|127.0.0.1:%d|grpc|%s\n", port, cert_b64);
    else
        printf("1|6|tcp|127.0.0.1:%d|grpc\n", port);
    fflush(stdout);
    free(cert_b64);
    /* Nothing else may appear on stdout: send stray output to stderr (Terraform's log). */
    dup2(STDERR_FILENO, STDOUT_FILENO);

    pthread_t watcher;
    pthread_create(&watcher, NULL, parent_watch, NULL);
    pthread_detach(watcher);

    for (;;) {
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            fprintf(stderr, "terraform-provider-agyn: accept: %s\n", strerror(errno));
            return 1;
        }
        struct conn_arg *ca = xmalloc(sizeof *ca);
        ca->fd = fd;
        pthread_t thread;
        if (pthread_create(&thread, NULL, connection_thread, ca) != 0) {
            close(fd);
            free(ca);
            continue;
        }
        pthread_detach(thread);
    }
}
