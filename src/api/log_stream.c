/* log_stream.c — container logs streamed over libmicrohttpd with suspend/resume. */
#include "api/log_stream.h"

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BUFFER_MAX (256 * 1024)

struct log_stream {
    pthread_mutex_t lock;
    pthread_cond_t space; /* the reader waits here while the buffer is full */
    struct MHD_Connection *connection;
    char container_id[80];
    struct docker_logs_options options;
    char *buffer;
    size_t len;
    bool done;      /* the engine's stream ended */
    bool closed;    /* the client went away: the reader ends */
    bool suspended; /* the connection waits for bytes */
    int refs;       /* the reader thread and the response */
    struct log_stream *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_stream *streams;
static atomic_int shutting_down;

static void resume_locked(struct log_stream *s) {
    if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->connection);
    }
}

static void release(struct log_stream *s) {
    pthread_mutex_lock(&s->lock);
    int left = --s->refs;
    pthread_mutex_unlock(&s->lock);
    if (left > 0)
        return;
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->space);
    free(s->buffer);
    free(s);
}

static int on_text(void *ctx, const char *data, size_t len) {
    struct log_stream *s = ctx;
    pthread_mutex_lock(&s->lock);
    while (data && !s->closed && s->len + len > BUFFER_MAX && s->len > 0)
        pthread_cond_wait(&s->space, &s->lock);
    bool end = s->closed || atomic_load(&shutting_down);
    if (!end && data && len > 0) {
        size_t take = len > BUFFER_MAX ? BUFFER_MAX : len;
        memcpy(s->buffer + s->len, data, take);
        s->len += take;
        resume_locked(s);
    }
    pthread_mutex_unlock(&s->lock);
    return end;
}

static void *reader(void *arg) {
    struct log_stream *s = arg;
    struct agyn_error ignored;
    docker_logs_read(s->container_id, &s->options, on_text, s, &ignored);
    pthread_mutex_lock(&s->lock);
    s->done = true;
    resume_locked(s);
    pthread_mutex_unlock(&s->lock);
    release(s);
    return NULL;
}

static ssize_t log_read(void *cls, uint64_t pos, char *out, size_t max) {
    struct log_stream *s = cls;
    (void)pos;
    pthread_mutex_lock(&s->lock);
    ssize_t n = 0;
    if (s->len > 0) {
        size_t take = s->len < max ? s->len : max;
        memcpy(out, s->buffer, take);
        memmove(s->buffer, s->buffer + take, s->len - take);
        s->len -= take;
        n = (ssize_t)take;
        pthread_cond_signal(&s->space);
    } else if (s->done || atomic_load(&shutting_down)) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = true;
        MHD_suspend_connection(s->connection);
    }
    pthread_mutex_unlock(&s->lock);
    return n;
}

static void log_free(void *cls) {
    struct log_stream *s = cls;
    pthread_mutex_lock(&registry_lock);
    for (struct log_stream **p = &streams; *p; p = &(*p)->next)
        if (*p == s) {
            *p = s->next;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_lock(&s->lock);
    s->closed = true;
    pthread_cond_signal(&s->space);
    pthread_mutex_unlock(&s->lock);
    release(s);
}

int log_stream_open(struct api_request *req, struct api_response *res, const char *container_id,
                    const struct docker_logs_options *options, struct agyn_error *err) {
    struct log_stream *s = calloc(1, sizeof *s);
    char *buffer = malloc(BUFFER_MAX);
    if (!s || !buffer) {
        free(s);
        free(buffer);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->space, NULL);
    s->buffer = buffer;
    s->connection = req->connection;
    snprintf(s->container_id, sizeof s->container_id, "%s", container_id);
    s->options = *options;
    s->refs = 2;
    pthread_t thread;
    if (pthread_create(&thread, NULL, reader, s) != 0) {
        s->refs = 1;
        release(s);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the log reader");
    }
    pthread_detach(thread);
    pthread_mutex_lock(&registry_lock);
    s->next = streams;
    streams = s;
    pthread_mutex_unlock(&registry_lock);
    res->status = 200;
    res->content_type = "text/plain; charset=utf-8";
    res->cache_control = "no-cache";
    res->stream_read = log_read;
    res->stream_free = log_free;
    res->stream_cls = s;
    return 0;
}

void log_stream_stop_all(void) {
    atomic_store(&shutting_down, 1);
    pthread_mutex_lock(&registry_lock);
    for (struct log_stream *s = streams; s; s = s->next) {
        pthread_mutex_lock(&s->lock);
        resume_locked(s);
        pthread_cond_signal(&s->space);
        pthread_mutex_unlock(&s->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}
