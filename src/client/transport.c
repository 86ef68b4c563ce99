/* transport.c — the client's HTTP over libcurl: one request whose answer is collected into a
 * bounded buffer, and an event stream handed on line by line. Buffers that may hold credentials
 * (the Authorization header, answers) are wiped before they are freed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/wiping_alloc.h"
#include "client/client.h"

/* A growable byte buffer that wipes what it leaves behind (no realloc: the old block is copied
 * and wiped, so a credential never lingers in freed memory) and refuses to pass `limit`. */
struct sink {
    char *data;
    size_t len, cap, limit;
    bool too_large, no_memory;
};

static bool sink_append(struct sink *s, const char *bytes, size_t n) {
    if (n > s->limit || s->len + n + 1 > s->limit) {
        s->too_large = true;
        return false;
    }
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + n + 1)
            cap *= 2;
        char *grown = malloc(cap);
        if (!grown) {
            s->no_memory = true;
            return false;
        }
        if (s->data)
            memcpy(grown, s->data, s->len);
        wiping_free(s->data);
        s->data = grown;
        s->cap = cap;
    }
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
    s->data[s->len] = '\0';
    return true;
}

static size_t sink_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    size_t n = size * nmemb;
    return sink_append(userdata, ptr, n) ? n : 0;
}

/* curl_slist copies each string; wipe the copies (the Authorization one holds the token). */
static void free_headers(struct curl_slist *headers) {
    for (struct curl_slist *h = headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data));
    curl_slist_free_all(headers);
}

/* A handle set up for base_url + path with the common options and headers (Accept, the bearer
 * token); NULL with err set when out of memory. The caller frees *headers with free_headers,
 * *url with free and the handle with release(). */
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
    *headers = NULL;
    if (asprintf(url, "%.*s%s", (int)base_len, c->base_url, path) < 0) {
        *url = NULL;
        goto out_of_memory;
    }
    curl_easy_setopt(curl, CURLOPT_URL, *url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    char accept_header[64];
    snprintf(accept_header, sizeof accept_header, "Accept: %s", accept);
    *headers = curl_slist_append(NULL, accept_header);
    if (!*headers)
        goto out_of_memory;
    if (c->token && *c->token) {
        char *auth = NULL;
        if (asprintf(&auth, "Authorization: Bearer %s", c->token) < 0)
            goto out_of_memory;
        struct curl_slist *more = curl_slist_append(*headers, auth);
        wiping_free(auth);
        if (!more)
            goto out_of_memory;
        *headers = more;
    }
    return curl;
out_of_memory:
    agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    if (!c->keep_handle)
        curl_easy_cleanup(curl);
    return NULL;
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
static int transport_failure(CURLcode rc, const char *detail, const struct sink *s,
                             struct agyn_error *err) {
    if (s->too_large)
        return agyn_fail(err, AGYN_PAYLOAD_TOO_LARGE, NULL,
                         "the API's response is larger than %zu bytes", s->limit);
    if (s->no_memory)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
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
    if (!curl) {
        free_headers(headers);
        free(url);
        return -1;
    }
    if (body_text) {
        struct curl_slist *more = curl_slist_append(headers, "Content-Type: application/json");
        if (more)
            headers = more;
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body_text);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0 && !body_text)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, c->timeout_seconds);
    struct sink s = {.limit = CLIENT_ANSWER_MAX};
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, sink_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    release(c, curl);
    free_headers(headers);
    free(url);
    if (rc == CURLE_OK && !s.data && !sink_append(&s, "", 0))
        rc = CURLE_OUT_OF_MEMORY;
    if (rc != CURLE_OK) {
        wiping_free(s.data);
        return transport_failure(rc, detail, &s, err);
    }
    answer->status = status;
    answer->raw = s.data;
    answer->len = s.len;
    if (s.len > 0)
        answer->body = json_loadb(s.data, s.len, 0, NULL);
    if (!client_status_ok(status))
        client_decode_error(status, answer->body, answer->raw, answer->len, &answer->error);
    return (int)status;
}

/* ---- Server-Sent Events ------------------------------------------------------------------ */

struct line_reader {
    const struct client_stream *s;
    CURL *curl;
    long status;
    struct sink pending; /* bytes of a line not yet complete */
    struct sink refused; /* the body of a non-200 answer */
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
            if (!sink_append(&r->pending, ptr + i, 1))
                return 0;
            continue;
        }
        if (r->pending.len && r->pending.data[r->pending.len - 1] == '\r')
            r->pending.data[--r->pending.len] = '\0';
        r->s->on_line(r->pending.data ? r->pending.data : "", r->s->ctx);
        r->pending.len = 0;
        if (r->pending.data)
            r->pending.data[0] = '\0';
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
    if (!curl) {
        free_headers(headers);
        free(url);
        return -1;
    }
    if (s->last_event_id) {
        char header[80];
        snprintf(header, sizeof header, "Last-Event-ID: %.60s", s->last_event_id);
        struct curl_slist *more = curl_slist_append(headers, header);
        if (more)
            headers = more;
    }
    struct line_reader r = {.s = s,
                            .curl = curl,
                            .pending = {.limit = CLIENT_ANSWER_MAX},
                            .refused = {.limit = CLIENT_ANSWER_MAX}};
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
    free_headers(headers);
    free(url);
    wiping_free(r.pending.data);

    int result = 200;
    if (s->stop && *s->stop) {
        *stopped = true;
    } else if (rc != CURLE_OK) {
        result = transport_failure(rc, detail, r.pending.too_large ? &r.pending : &r.refused, err);
    } else if (r.status != 200) {
        result = (int)r.status;
        failed->status = r.status;
        failed->raw = r.refused.data;
        failed->len = r.refused.len;
        r.refused.data = NULL;
        if (failed->len)
            failed->body = json_loadb(failed->raw, failed->len, 0, NULL);
        client_decode_error(r.status, failed->body, failed->raw, failed->len, &failed->error);
    }
    wiping_free(r.refused.data);
    return result;
}
