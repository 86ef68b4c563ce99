/* docker_logs.c — reading and demultiplexing a container's log stream. */
#include "runner/docker_logs.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "runner/docker_client.h"

struct demux {
    docker_logs_fn on_text;
    void *ctx;
    unsigned char header[8];
    size_t header_len;
    uint32_t remaining; /* payload bytes left in the current frame */
};

static int on_chunk(void *ctx, const char *data, size_t len) {
    struct demux *d = ctx;
    if (!data)
        return d->on_text(d->ctx, NULL, 0);
    while (len > 0) {
        if (d->remaining == 0) {
            size_t take = sizeof d->header - d->header_len;
            take = take < len ? take : len;
            memcpy(d->header + d->header_len, data, take);
            d->header_len += take, data += take, len -= take;
            if (d->header_len == sizeof d->header) {
                d->remaining = (uint32_t)d->header[4] << 24 | (uint32_t)d->header[5] << 16 |
                               (uint32_t)d->header[6] << 8 | d->header[7];
                d->header_len = 0;
            }
            continue;
        }
        size_t take = d->remaining < len ? d->remaining : len;
        if (d->on_text(d->ctx, data, take) != 0)
            return 1;
        d->remaining -= (uint32_t)take, data += take, len -= take;
    }
    return 0;
}

int docker_logs_read(const char *container_id, const struct docker_logs_options *options,
                     docker_logs_fn on_text, void *ctx, struct agyn_error *err) {
    char path[300], tail[32];
    if (options->tail >= 0)
        snprintf(tail, sizeof tail, "%ld", options->tail);
    else
        snprintf(tail, sizeof tail, "all");
    snprintf(path, sizeof path,
             "/containers/%s/logs?stdout=true&stderr=true&follow=%s&tail=%s"
             "&timestamps=%s",
             container_id, options->follow ? "true" : "false", tail,
             options->timestamps ? "true" : "false");
    struct demux d = {.on_text = on_text, .ctx = ctx};
    struct docker_answer answer;
    if (docker_stream("GET", path, NULL, NULL, on_chunk, &d, &answer, err) != 0)
        return -1;
    int rc = 0;
    if (answer.status == 404)
        rc = agyn_fail(err, AGYN_NOT_FOUND, "container", "the engine has no such container");
    else if (answer.status >= 300) {
        char message[600];
        docker_answer_message(&answer, message, sizeof message);
        rc = agyn_fail(err, AGYN_UNAVAILABLE, NULL, "container engine: %s", message);
    }
    docker_answer_free(&answer);
    return rc;
}
