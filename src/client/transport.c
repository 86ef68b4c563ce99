/* transport.c — the client's HTTP over libcurl: one request whose answer is collected into a
 * bounded buffer, and an event stream handed on line by line. Buffers that may hold credentials
 * (the Authorization header, answers) are wiped before they are freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/wiping_alloc.h"
#include "client/client.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"

/* Collects into a wiping struct dynbuf (answers may hold credentials); 0 stops the transfer
 * when the buffer's limit is passed. */
static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    size_t n = size * nmemb;
    return dynbuf_add(userdata, ptr, n) == 0 ? n : 0;
}

/* A handle set up for base_url + path with the common options and headers (Accept, the bearer
 * token); NULL with err set when libcurl cannot start. The caller frees *headers with
 * secure_slist_free, *url with free and the handle with release(). */
static CURL *prepare(struct agyn_client *c, const char *path, const char *accept,
                     struct curl_slist **headers, char **url, struct agyn_error *err) {
    CURL *curl = c->curl;
    if (!curl)
        curl = curl_easy_init();
    if (!curl) {
        agyn_fail(err, AGYN_INTERNAL, NULL, "cannot initialize libcurl");
        return NULL;
    }
    curl_easy_reset(curl);
    if (c->keep_handle)
        c->curl = curl;
    size_t base_len = strlen(c->base_url);
    while (base_len > 0 && c->base_url[base_len - 1] == '/')
        base_len--;
    *url = xasprintf("%.*s%s", (int)base_len, c->base_url, path);
    curl_easy_setopt(curl, CURLOPT_URL, *url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    char accept_header[64];
    snprintf(accept_header, sizeof accept_header, "Accept: %s", accept);
    *headers = curl_slist_append(NULL, accept_header);
    if (c->token && *c->token) {
        char *auth = xasprintf("Authorization: Bearer %s", c->token);
        *headers = curl_slist_append(*headers, auth);
        secure_free(auth);
    }
    return curl;
}

/* Detaches what a request set on a kept handle, or frees a one-off handle. */
static void release(struct agyn_client *c, CURL *curl) {
    if (c->keep_handle) {
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    } else {
        curl_easy_cleanup(curl);
    }
}

/* Sets err for a request that got no answer. */
static int transport_failure(CURLcode rc, const char *detail, const struct dynbuf *s,
                             struct agyn_error *err) {
    if (s->failed)
        return agyn_fail(err, AGYN_PAYLOAD_TOO_LARGE, NULL,
                         "the API's response is larger than %zu bytes", s->limit + 1);
    return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "%s",
                     detail && *detail ? detail : curl_easy_strerror(rc));
}

int client_global_init(struct agyn_error *err) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot initialize libcurl");
    return 0;
}

void client_global_cleanup(void) {
    curl_global_cleanup();
}

void client_close(struct agyn_client *c) {
    if (c->curl)
        curl_easy_cleanup(c->curl);
    c->curl = NULL;
}

int client_request(struct agyn_client *c, const char *method, const char *path,
                   const char *body_text, size_t body_len, struct client_answer *answer,
                   struct agyn_error *err) {
    memset(answer, 0, sizeof *answer);
    struct curl_slist *headers = NULL;
    char *url = NULL;
    CURL *curl = prepare(c, path, "application/json", &headers, &url, err);
    if (!curl)
        return -1;
    if (body_text) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body_text);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0 && !body_text)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_seconds);
    struct dynbuf s; /* wiping: answers may hold credentials */
    dynbuf_init(&s, CLIENT_ANSWER_MAX - 1, false);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    release(c, curl);
    secure_slist_free(headers);
    free(url);
    if (rc != CURLE_OK) {
        int failure = transport_failure(rc, detail, &s, err);
        dynbuf_free(&s);
        return failure;
    }
    answer->status = status;
    answer->len = s.len;
    answer->raw = dynbuf_take(&s);
    if (answer->len > 0)
        answer->body = json_loadb(answer->raw, answer->len, 0, NULL);
    if (!client_status_ok(status))
        client_decode_error(status, answer->body, answer->raw, answer->len, &answer->error);
    return (int)status;
}

/* ---- Server-Sent Events ------------------------------------------------------------------ */

struct line_reader {
    const struct client_stream *s;
    CURL *curl;
    long status;
    struct dynbuf pending; /* bytes of a line not yet complete */
    struct dynbuf refused; /* the body of a non-200 answer */
};

static size_t read_lines(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct line_reader *r = userdata;
    size_t n = size * nmemb;
    if (!r->status)
        curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (r->status != 200)
        return sink_write(ptr, size, nmemb, &r->refused);
    for (size_t i = 0; i < n; i++) {
        if (ptr[i] != '\n') {
            if (dynbuf_add(&r->pending, ptr + i, 1) != 0)
                return 0;
            continue;
        }
        if (r->pending.len && r->pending.data[r->pending.len - 1] == '\r')
            r->pending.data[--r->pending.len] = '\0';
        r->s->on_line(dynbuf_str(&r->pending), r->s->ctx);
        dynbuf_clear(&r->pending);
    }
    return n;
}

static int poll_stop(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    const struct client_stream *s = userdata;
    (void)dt, (void)dn, (void)ut, (void)un;
    return s->stop && *s->stop ? 1 : 0;
}

int client_stream(struct agyn_client *c, const struct client_stream *s, bool *stopped,
                  struct client_answer *failed, struct agyn_error *err) {
    memset(failed, 0, sizeof *failed);
    *stopped = false;
    struct curl_slist *headers = NULL;
    char *url = NULL;
    CURL *curl = prepare(c, s->path, "text/event-stream", &headers, &url, err);
    if (!curl)
        return -1;
    if (s->last_event_id) {
        char header[80];
        snprintf(header, sizeof header, "Last-Event-ID: %.60s", s->last_event_id);
        headers = curl_slist_append(headers, header);
    }
    struct line_reader r = {.s = s, .curl = curl};
    dynbuf_init(&r.pending, CLIENT_ANSWER_MAX - 1, false);
    dynbuf_init(&r.refused, CLIENT_ANSWER_MAX - 1, false);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, read_lines);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, poll_stop);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, (void *)s);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r.status);
    release(c, curl);
    secure_slist_free(headers);
    free(url);

    int result = 200;
    if (s->stop && *s->stop) {
        *stopped = true;
    } else if (rc != CURLE_OK) {
        result = transport_failure(rc, detail, r.pending.failed ? &r.pending : &r.refused, err);
    } else if (r.status != 200) {
        result = (int)r.status;
        failed->status = r.status;
        failed->len = r.refused.len;
        failed->raw = dynbuf_take(&r.refused);
        if (failed->len)
            failed->body = json_loadb(failed->raw, failed->len, 0, NULL);
        client_decode_error(r.status, failed->body, failed->raw, failed->len, &failed->error);
    }
    dynbuf_free(&r.pending);
    dynbuf_free(&r.refused);
    return result;
}
