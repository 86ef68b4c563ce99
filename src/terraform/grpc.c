/* grpc.c — see grpc.h. gRPC over HTTP/2: a request is HEADERS (:path names the method) then
 * DATA holding length-prefixed messages (1 byte compressed flag, 4 bytes big-endian length);
 * the response is HEADERS (:status 200, content-type application/grpc), DATA with one
 * length-prefixed message, and trailers grpc-status / grpc-message. Errors are sent as
 * "trailers-only" responses. Requests are handled in arrival order on the connection's
 * thread; a message may be up to 256 MiB. */
#include "terraform/grpc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nghttp2/nghttp2.h>

#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"
#include "terraform/rpc.h"

#define MAX_MESSAGE (256u * 1024 * 1024)
#define STREAM_WINDOW (4 * 1024 * 1024)
#define CONNECTION_WINDOW (16 * 1024 * 1024)

struct stream {
    int32_t id;
    char path[256];
    struct dynbuf in; /* the request message; wiping: it carries passwords */
    bool too_large;
    bool queued;
    bool answered;
    /* response body (prefixed message) */
    uint8_t *out;
    size_t out_len, out_off;
    struct stream *next;                /* ready queue */
    struct stream *all_prev, *all_next; /* every open stream of the connection */
};

struct conn {
    int fd;
    SSL *ssl;
    nghttp2_session *session;
    struct stream *ready_head, *ready_tail;
    struct stream *all;
    bool shutdown_after_send;
    bool failed;
};

static int write_all(struct conn *c, const uint8_t *data, size_t len) {
    while (len > 0) {
        ssize_t n;
        if (c->ssl) {
            int w = SSL_write(c->ssl, data, len > 1u << 30 ? 1 << 30 : (int)len);
            if (w <= 0)
                return -1;
            n = w;
        } else {
            n = write(c->fd, data, len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                return -1;
        }
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

static ssize_t read_some(struct conn *c, uint8_t *buf, size_t size) {
    for (;;) {
        if (c->ssl) {
            int n = SSL_read(c->ssl, buf, (int)size);
            return n > 0 ? n : -1;
        }
        ssize_t n = read(c->fd, buf, size);
        if (n < 0 && errno == EINTR)
            continue;
        return n > 0 ? n : -1;
    }
}

static int flush_session(struct conn *c) {
    for (;;) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0)
            return -1;
        if (n == 0)
            return 0;
        if (write_all(c, data, (size_t)n) != 0)
            return -1;
    }
}

static void enqueue(struct conn *c, struct stream *s) {
    if (s->queued || s->answered)
        return;
    s->queued = true;
    s->next = NULL;
    if (c->ready_tail)
        c->ready_tail->next = s;
    else
        c->ready_head = s;
    c->ready_tail = s;
}

static void unqueue(struct conn *c, struct stream *s) {
    struct stream **pp = &c->ready_head, *prev = NULL;
    while (*pp) {
        if (*pp == s) {
            *pp = s->next;
            if (c->ready_tail == s)
                c->ready_tail = prev;
            s->queued = false;
            return;
        }
        prev = *pp;
        pp = &(*pp)->next;
    }
}

static void free_stream(struct conn *c, struct stream *s) {
    unqueue(c, s);
    if (s->all_prev)
        s->all_prev->all_next = s->all_next;
    else
        c->all = s->all_next;
    if (s->all_next)
        s->all_next->all_prev = s->all_prev;
    dynbuf_free(&s->in);
    secure_free(s->out);
    free(s);
}

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    struct conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct stream *s = xcalloc(1, sizeof *s);
    dynbuf_init(&s->in, (size_t)MAX_MESSAGE + 5, false);
    s->id = frame->hd.stream_id;
    s->all_next = c->all;
    if (c->all)
        c->all->all_prev = s;
    c->all = s;
    nghttp2_session_set_stream_user_data(session, s->id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                     void *user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (s && namelen == 5 && memcmp(name, ":path", 5) == 0)
        snprintf(s->path, sizeof s->path, "%.*s", (int)valuelen, (const char *)value);
    return 0;
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                         const uint8_t *data, size_t len, void *user_data) {
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!s || s->too_large || s->answered)
        return 0;
    if (dynbuf_add(&s->in, data, len) != 0) { /* the limit is MAX_MESSAGE + 5 */
        s->too_large = true;
        dynbuf_free(&s->in);
    }
    return 0;
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame, void *user_data) {
    struct conn *c = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
        return 0;
    struct stream *s = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (!s)
        return 0;
    /* Streaming methods (GRPCStdio, GRPCBroker) are answered at once: UNIMPLEMENTED. */
    if (frame->hd.type == NGHTTP2_HEADERS && !rpc_lookup(s->path))
        enqueue(c, s);
    else if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM)
        enqueue(c, s);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                           void *user_data) {
    struct conn *c = user_data;
    struct stream *s = nghttp2_session_get_stream_user_data(session, stream_id);
    if (!s)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    free_stream(c, s);
    return 0;
}

static ssize_t read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                         uint32_t *data_flags, nghttp2_data_source *source, void *user_data) {
    struct stream *s = source->ptr;
    size_t left = s->out_len - s->out_off;
    size_t n = left < length ? left : length;
    memcpy(buf, s->out + s->out_off, n);
    s->out_off += n;
    if (s->out_off == s->out_len) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        static const nghttp2_nv trailers[] = {
            {(uint8_t *)"grpc-status", (uint8_t *)"0", 11, 1, NGHTTP2_NV_FLAG_NONE},
        };
        if (nghttp2_submit_trailer(session, stream_id, trailers, 1) != 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

#define NV(name, value)                                                                            \
    { (uint8_t *)(name), (uint8_t *)(value), sizeof(name) - 1, strlen(value), NGHTTP2_NV_FLAG_NONE }

/* grpc-message is percent-encoded (RFC 3986 unreserved and most printable ASCII pass). */
static void percent_encode(const char *in, char *out, size_t size) {
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && o + 4 < size; p++) {
        if (*p >= 0x20 && *p < 0x7f && *p != '%') {
            out[o++] = (char)*p;
        } else {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        }
    }
    out[o] = '\0';
}

static void answer_error(struct conn *c, struct stream *s, int status, const char *message) {
    char code[16], encoded[1600];
    snprintf(code, sizeof code, "%d", status);
    percent_encode(message, encoded, sizeof encoded);
    nghttp2_nv headers[] = {
        NV(":status", "200"),
        NV("content-type", "application/grpc"),
        NV("grpc-status", code),
        NV("grpc-message", encoded),
    };
    nghttp2_submit_response(c->session, s->id, headers, 4, NULL);
}

static void handle(struct conn *c, struct stream *s) {
    s->answered = true;
    rpc_fn fn = rpc_lookup(s->path);
    if (!fn) {
        char message[400];
        snprintf(message, sizeof message, "unknown method %s", s->path);
        answer_error(c, s, GRPC_UNIMPLEMENTED, message);
        return;
    }
    if (s->too_large) {
        answer_error(c, s, 8 /* RESOURCE_EXHAUSTED */, "request message larger than 256 MiB");
        return;
    }
    const uint8_t *body = (const uint8_t *)s->in.data;
    size_t body_len = s->in.len;
    if (body_len < 5) {
        /* An empty body is not a valid unary request; treat as an empty message. */
        if (body_len != 0) {
            answer_error(c, s, GRPC_INTERNAL, "truncated gRPC message");
            return;
        }
    } else {
        if (body[0] != 0) {
            answer_error(c, s, GRPC_UNIMPLEMENTED, "compressed messages are not supported");
            return;
        }
        uint32_t msg_len = ((uint32_t)body[1] << 24) | ((uint32_t)body[2] << 16) |
                           ((uint32_t)body[3] << 8) | body[4];
        if ((size_t)msg_len + 5 != body_len) {
            answer_error(c, s, GRPC_INTERNAL, "gRPC message length does not match the body");
            return;
        }
    }
    struct rpc_result result = {0};
    fn(body_len >= 5 ? body + 5 : (const uint8_t *)"", body_len >= 5 ? body_len - 5 : 0, &result);
    if (result.status != GRPC_OK) {
        answer_error(c, s, result.status, result.message);
        secure_free(result.data);
        return;
    }
    s->out_len = result.len + 5;
    s->out = xmalloc(s->out_len);
    s->out[0] = 0;
    s->out[1] = (uint8_t)(result.len >> 24);
    s->out[2] = (uint8_t)(result.len >> 16);
    s->out[3] = (uint8_t)(result.len >> 8);
    s->out[4] = (uint8_t)result.len;
    if (result.len)
        memcpy(s->out + 5, result.data, result.len);
    secure_free(result.data);
    nghttp2_nv headers[] = {
        NV(":status", "200"),
        NV("content-type", "application/grpc"),
    };
    nghttp2_data_provider provider = {.source.ptr = s, .read_callback = read_body};
    nghttp2_submit_response(c->session, s->id, headers, 2, &provider);
    if (result.shutdown)
        c->shutdown_after_send = true;
}

void grpc_serve_connection(int fd, SSL_CTX *ssl_ctx) {
    struct conn c = {.fd = fd};
    if (ssl_ctx) {
        c.ssl = SSL_new(ssl_ctx);
        if (!c.ssl || SSL_set_fd(c.ssl, fd) != 1 || SSL_accept(c.ssl) != 1) {
            SSL_free(c.ssl);
            close(fd);
            return;
        }
    }
    nghttp2_session_callbacks *callbacks;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_session_server_new(&c.session, callbacks, &c);
    nghttp2_session_callbacks_del(callbacks);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, STREAM_WINDOW},
    };
    nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 2);
    nghttp2_session_set_local_window_size(c.session, NGHTTP2_FLAG_NONE, 0, CONNECTION_WINDOW);

    enum { READ_BUFFER = 64 * 1024 };
    uint8_t *inbuf = xmalloc(READ_BUFFER);
    while (flush_session(&c) == 0) {
        if (c.shutdown_after_send) {
            /* The Shutdown answer is on the wire: stop like go-plugin's GracefulStop. */
            if (c.ssl)
                SSL_shutdown(c.ssl);
            exit(0);
        }
        if (!nghttp2_session_want_read(c.session) && !nghttp2_session_want_write(c.session))
            break;
        ssize_t n = read_some(&c, inbuf, READ_BUFFER);
        if (n <= 0)
            break;
        if (nghttp2_session_mem_recv(c.session, inbuf, (size_t)n) < 0)
            break;
        while (c.ready_head) {
            struct stream *s = c.ready_head;
            unqueue(&c, s);
            handle(&c, s);
        }
    }
    free(inbuf);
    nghttp2_session_del(c.session);
    while (c.all)
        free_stream(&c, c.all);
    if (c.ssl) {
        SSL_shutdown(c.ssl);
        SSL_free(c.ssl);
    }
    close(fd);
}
