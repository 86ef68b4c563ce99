/* docker_client.c — HTTP over the engine's Unix socket (CURLOPT_UNIX_SOCKET_PATH). */
#include "runner/docker_client.h"
#include "core/row.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

static char socket_path[512] = "/var/run/docker.sock";

int docker_set_host(const char *host, struct agyn_error *err) {
    if (!host || !host[0])
        return 0;
    const char *path = host;
    if (strncmp(host, "unix://", 7) == 0)
        path = host + 7;
    else if (strstr(host, "://"))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "docker-host",
                         "--docker-host must be unix:///path/to/docker.sock");
    if (path[0] != '/' || strlen(path) >= sizeof socket_path)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "docker-host",
                         "--docker-host must name an absolute socket path");
    snprintf(socket_path, sizeof socket_path, "%s", path);
    return 0;
}

const char *docker_socket_path(void) {
    return socket_path;
}

struct transfer {
    struct docker_answer *answer;
    docker_chunk_fn on_chunk;
    void *ctx;
    CURL *easy;
    bool too_large;
};

static size_t on_write(char *data, size_t size, size_t count, void *userdata) {
    struct transfer *t = userdata;
    size_t len = size * count;
    if (t->answer->status == 0)
        curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->answer->status);
    if (t->on_chunk && t->answer->status >= 200 && t->answer->status < 300)
        return t->on_chunk(t->ctx, data, len) == 0 ? len : 0;
    if (dynbuf_add(&t->answer->body, data, len) != 0) {
        t->too_large = true;
        return 0;
    }
    return len;
}

static int on_progress(void *userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow) {
    struct transfer *t = userdata;
    return t->on_chunk && t->on_chunk(t->ctx, NULL, 0) != 0;
}

static int perform(const char *method, const char *path, const char *header, const json_t *body,
                   long timeout_ms, docker_chunk_fn on_chunk, void *ctx,
                   struct docker_answer *answer, struct agyn_error *err) {
    memset(answer, 0, sizeof *answer);
    dynbuf_init(&answer->body, DOCKER_ANSWER_MAX, true); /* the engine's answers hold no secret */
    CURL *easy = curl_easy_init();
    if (!easy)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    char url[2048];
    snprintf(url, sizeof url, "http://localhost" DOCKER_API_PREFIX "%s", path);
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    struct curl_slist *headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (header)
        headers = curl_slist_append(headers, header);
    struct transfer t = {.answer = answer, .on_chunk = on_chunk, .ctx = ctx, .easy = easy};
    curl_easy_setopt(easy, CURLOPT_UNIX_SOCKET_PATH, socket_path);
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
    if (on_chunk) {
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &t);
    }
    if (payload)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload);
    else if (strcmp(method, "POST") == 0)
        curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE, 0L);
    CURLcode rc = curl_easy_perform(easy);
    if (answer->status == 0)
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &answer->status);
    curl_slist_free_all(headers);
    free(payload);
    curl_easy_cleanup(easy);
    if ((rc == CURLE_WRITE_ERROR || rc == CURLE_ABORTED_BY_CALLBACK) && !t.too_large &&
        answer->status)
        return 0; /* the callback ended the stream */
    if (rc != CURLE_OK) {
        bool unreachable = rc == CURLE_COULDNT_CONNECT || answer->status == 0;
        docker_answer_free(answer);
        return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "%s %s",
                         unreachable ? "container engine unavailable:" : "container engine:",
                         t.too_large ? "answer too large" : curl_easy_strerror(rc));
    }
    return 0;
}

int docker_call(const char *method, const char *path, const char *header, const json_t *body,
                long timeout_ms, struct docker_answer *answer, struct agyn_error *err) {
    return perform(method, path, header, body, timeout_ms, NULL, NULL, answer, err);
}

int docker_stream(const char *method, const char *path, const char *header, const json_t *body,
                  docker_chunk_fn on_chunk, void *ctx, struct docker_answer *answer,
                  struct agyn_error *err) {
    return perform(method, path, header, body, 0, on_chunk, ctx, answer, err);
}

void docker_answer_free(struct docker_answer *answer) {
    dynbuf_free(&answer->body);
}

void docker_answer_message(const struct docker_answer *answer, char *out, size_t size) {
    json_t *doc = answer->body.data ? json_loads(answer->body.data, 0, NULL) : NULL;
    const char *message = row_text(doc, "message");
    if (!message)
        message = answer->body.data ? answer->body.data : "";
    snprintf(out, size, "%s", message);
    size_t len = strlen(out);
    while (len > 0 && (out[len - 1] == '\n' || out[len - 1] == '\r'))
        out[--len] = '\0';
    if (!out[0])
        snprintf(out, size, "the engine answered HTTP %ld", answer->status);
    json_decref(doc);
}

bool docker_ping(struct agyn_error *err) {
    struct docker_answer answer;
    if (docker_call("GET", "/_ping", NULL, NULL, 2000, &answer, err) != 0)
        return false;
    bool ok = answer.status == 200;
    if (!ok)
        agyn_fail(err, AGYN_UNAVAILABLE, NULL, "container engine answered /_ping with HTTP %ld",
                  answer.status);
    docker_answer_free(&answer);
    return ok;
}
