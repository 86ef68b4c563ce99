/* docker_pull.c — engine pulls by digest, per-pull credentials, progress and errors. */
#include "runner/docker_pull.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "core/redact.h"
#include "runner/docker_auth.h"
#include "runner/docker_client.h"

#define LAYERS_MAX 128
#define LINE_MAX_BYTES 65536

struct layer_progress {
    char id[80];
    unsigned long long current, total;
};

struct pull_stream {
    char line[LINE_MAX_BYTES];
    size_t line_len;
    struct layer_progress layers[LAYERS_MAX];
    size_t layer_count;
    char error[1024];
    const struct runtime_start *start;
};

static struct layer_progress *layer(struct pull_stream *s, const char *id) {
    for (size_t i = 0; i < s->layer_count; i++)
        if (strcmp(s->layers[i].id, id) == 0)
            return &s->layers[i];
    if (s->layer_count == LAYERS_MAX)
        return NULL;
    struct layer_progress *l = &s->layers[s->layer_count++];
    snprintf(l->id, sizeof l->id, "%s", id);
    return l;
}

static void report(struct pull_stream *s) {
    if (!s->start || !s->start->on_progress)
        return;
    unsigned long long done = 0, total = 0;
    for (size_t i = 0; i < s->layer_count; i++) {
        done += s->layers[i].current;
        total += s->layers[i].total;
    }
    s->start->on_progress(s->start->progress_ctx, done, total);
}

static void on_line(struct pull_stream *s, const char *text) {
    json_t *doc = json_loads(text, 0, NULL);
    const char *error = row_text(doc, "error");
    const char *id = row_text(doc, "id");
    const char *status = row_text(doc, "status");
    if (error && !s->error[0]) {
        snprintf(s->error, sizeof s->error, "%s", error);
    } else if (id && status) {
        struct layer_progress *l = layer(s, id);
        json_t *detail = json_object_get(doc, "progressDetail");
        json_int_t current = row_int(detail, "current");
        json_int_t total = row_int(detail, "total");
        if (l && strcmp(status, "Downloading") == 0 && total > 0) {
            l->current = (unsigned long long)current;
            l->total = (unsigned long long)total;
            report(s);
        } else if (l && (strcmp(status, "Download complete") == 0 ||
                         strcmp(status, "Pull complete") == 0 ||
                         strcmp(status, "Already exists") == 0)) {
            l->current = l->total;
            report(s);
        }
    }
    json_decref(doc);
}

static int on_chunk(void *ctx, const char *data, size_t len) {
    struct pull_stream *s = ctx;
    for (size_t i = 0; i < len; i++) {
        if (data[i] == '\n' || s->line_len == sizeof s->line - 1) {
            s->line[s->line_len] = '\0';
            if (s->line_len)
                on_line(s, s->line);
            s->line_len = 0;
            continue;
        }
        s->line[s->line_len++] = data[i];
    }
    return 0;
}

bool docker_image_present(const char *image) {
    char *escaped = curl_easy_escape(NULL, image, 0);
    char path[1200];
    snprintf(path, sizeof path, "/images/%s/json", escaped ? escaped : "");
    curl_free(escaped);
    struct docker_answer answer;
    struct agyn_error ignored;
    if (docker_call("GET", path, NULL, NULL, 10000, &answer, &ignored) != 0)
        return false;
    bool present = answer.status == 200;
    docker_answer_free(&answer);
    return present;
}

int docker_pull_image(const char *image, const char *server, const struct runtime_start *start,
                      enum runtime_failure *failure, struct agyn_error *err) {
    char *escaped = curl_easy_escape(NULL, image, 0);
    char path[1200];
    snprintf(path, sizeof path, "/images/create?fromImage=%s", escaped ? escaped : "");
    curl_free(escaped);
    char *header = docker_auth_header(start->username, start->password, server);
    struct pull_stream *stream = calloc(1, sizeof *stream);
    if (!stream) {
        docker_auth_header_free(header);
        *failure = RUNTIME_PULL_FAILED;
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    }
    stream->start = start;
    struct docker_answer answer;
    int rc = docker_stream("POST", path, header, NULL, on_chunk, stream, &answer, err);
    docker_auth_header_free(header);
    if (rc != 0) {
        *failure = RUNTIME_UNAVAILABLE;
    } else if (answer.status != 200 || stream->error[0]) {
        char message[1024];
        if (stream->error[0])
            snprintf(message, sizeof message, "%s", stream->error);
        else
            docker_answer_message(&answer, message, sizeof message);
        const char *const secrets[] = {start->password, start->username, NULL};
        redact_withhold(message, sizeof message, secrets,
                        "(the engine's answer was withheld: it repeated the credential)");
        *failure = RUNTIME_PULL_FAILED;
        rc = agyn_fail(err, AGYN_UNAVAILABLE, NULL, "the engine could not pull %s: %s", image,
                       message);
    }
    docker_answer_free(&answer);
    free(stream);
    return rc;
}
