/* fuzz_grpc_framing.c — the HTTP/2 + gRPC framing of the Terraform provider: the input is the
 * byte stream a client sends on the plugin connection (preface, frames, length-prefixed
 * messages). The methods here answer an empty message, so only the framing is under test. */
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_input.h"
#include "terraform/grpc.h"
#include "terraform/rpc.h"

static void answer_empty(const uint8_t *request, size_t len, struct rpc_result *out) {
    out->status = len % 7 == 3 ? GRPC_INVALID_ARGUMENT : GRPC_OK;
    snprintf(out->message, sizeof out->message, "cannot decode request");
}

rpc_fn rpc_lookup(const char *path) {
    return strncmp(path, "/tfplugin6.Provider/", 20) == 0 ? answer_empty : NULL;
}

struct feed {
    int fd;
    const uint8_t *data;
    size_t len;
};

/* Writes the client's bytes, then half-closes. */
static void *write_client(void *arg) {
    struct feed *f = arg;
    size_t off = 0;
    while (off < f->len) {
        ssize_t n = write(f->fd, f->data + off, f->len - off);
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    shutdown(f->fd, SHUT_WR);
    return NULL;
}

/* Reads (and drops) what the server answers until it closes. */
static void *drain_server(void *arg) {
    int fd = *(int *)arg;
    uint8_t buf[16384];
    while (read(fd, buf, sizeof buf) > 0) {
    }
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        abort();
    struct feed feed = {.fd = fds[0], .data = data, .len = len};
    pthread_t writer, drainer;
    pthread_create(&writer, NULL, write_client, &feed);
    pthread_create(&drainer, NULL, drain_server, &fds[0]);
    grpc_serve_connection(fds[1], NULL); /* closes fds[1] */
    pthread_join(writer, NULL);
    pthread_join(drainer, NULL);
    close(fds[0]);
    return 0;
}
