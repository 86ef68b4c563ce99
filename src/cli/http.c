/* http.c — the CLI's HTTP transport over libcurl: one request with a JSON body, or a
 * Server-Sent Events stream read line by line. The API token goes only into the Authorization
 * header; nothing here prints it, and request buffers are wiped after use. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "base/wiping_alloc.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "cli/cli.h"

#define RESPONSE_MAX (64u * 1024 * 1024)

/* Collects the answer into a wiping dynbuf limited to RESPONSE_MAX - 1 bytes. */
static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata) {
    size_t n = size * nmemb;
    return dynbuf_add(userdata, ptr, n) == 0 ? n : 0;
}

/* Prepares the shared handle for one request to path; the caller frees *headers with
 * secure_slist_free and *url_out with free. */
static CURL *prepare(struct cli *cli, const char *path, const char *accept,
                     struct curl_slist **headers, char **url_out) {
    if (!cli->curl)
        cli->curl = curl_easy_init();
    CURL *curl = cli->curl;
    if (!curl) {
        fprintf(stderr, "agyn: cannot initialize libcurl\n");
        return NULL;
    }
    curl_easy_reset(curl);
    const char *base = cli->api_url;
    size_t base_len = strlen(base);
    while (base_len > 0 && base[base_len - 1] == '/')
        base_len--;
    char *url = NULL;
    if (asprintf(&url, "%.*s%s", (int)base_len, base, path) < 0)
        return NULL;
    *url_out = url;
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "agyn-cli/1.0");
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    char accept_header[64];
    snprintf(accept_header, sizeof accept_header, "Accept: %s", accept);
    *headers = curl_slist_append(NULL, accept_header);
    if (cli->token && *cli->token) {
        char *auth = NULL;
        if (asprintf(&auth, "Authorization: Bearer %s", cli->token) >= 0) {
            *headers = curl_slist_append(*headers, auth);
            secure_free(auth);
        }
    }
    return curl;
}

static void print_transport_error(const struct cli *cli, CURLcode rc, const char *detail) {
    fprintf(stderr, "agyn: cannot reach the API at %s: %s\n", cli->api_url,
            detail && *detail ? detail : curl_easy_strerror(rc));
}

int http_send(struct cli *cli, const char *method, const char *path, const char *body_text,
              size_t body_len, char **body_out, size_t *len_out) {
    struct curl_slist *headers = NULL;
    char *url = NULL;
    *body_out = NULL;
    *len_out = 0;
    CURL *curl = prepare(cli, path, "application/json", &headers, &url);
    if (!curl) {
        free(url);
        return -1;
    }
    if (body_text) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body_text);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
    struct dynbuf response;
    dynbuf_init(&response, RESPONSE_MAX - 1, false); /* answers may hold credentials */
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    secure_slist_free(headers);
    free(url);
    if (rc != CURLE_OK) {
        if (response.failed)
            fprintf(stderr, "agyn: the API's response is larger than %u bytes\n", RESPONSE_MAX);
        else
            print_transport_error(cli, rc, detail);
        dynbuf_free(&response);
        return -1;
    }
    *len_out = response.len;
    *body_out = dynbuf_take(&response);
    return (int)status;
}

char *http_escape(struct cli *cli, const char *text) {
    if (!cli->curl)
        cli->curl = curl_easy_init();
    char *escaped = curl_easy_escape(cli->curl, text, 0);
    char *copy = escaped ? strdup(escaped) : NULL;
    curl_free(escaped);
    return copy;
}

/* ---- Server-Sent Events ------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

struct stream {
    struct dynbuf pending; /* bytes of a line not yet complete */
    void (*on_line)(const char *line, void *ctx);
    void *ctx;
    long status;
    CURL *curl;
    struct dynbuf error_body; /* the body of a non-200 answer */
};

static size_t stream_write(char *ptr, size_t size, size_t nmemb, void *userdata) {
    struct stream *s = userdata;
    size_t n = size * nmemb;
    if (!s->status)
        curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &s->status);
    if (s->status != 200)
        return collect(ptr, size, nmemb, &s->error_body);
    for (size_t i = 0; i < n; i++) {
        if (ptr[i] != '\n') {
            if (dynbuf_add(&s->pending, ptr + i, 1) != 0)
                return 0;
            continue;
        }
        if (s->pending.len && s->pending.data[s->pending.len - 1] == '\r')
            s->pending.data[--s->pending.len] = '\0';
        s->on_line(dynbuf_str(&s->pending), s->ctx);
        dynbuf_clear(&s->pending);
    }
    return n;
}

static int stream_progress(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)p, (void)dt, (void)dn, (void)ut, (void)un;
    return stop_requested ? 1 : 0;
}

int http_stream(struct cli *cli, const char *path, const char *last_event_id,
                void (*on_line)(const char *line, void *ctx), void *ctx, bool *interrupted) {
    struct curl_slist *headers = NULL;
    char *url = NULL;
    *interrupted = false;
    CURL *curl = prepare(cli, path, "text/event-stream", &headers, &url);
    if (!curl) {
        free(url);
        return -1;
    }
    if (last_event_id) {
        char header[80];
        snprintf(header, sizeof header, "Last-Event-ID: %.60s", last_event_id);
        headers = curl_slist_append(headers, header);
    }
    struct sigaction action = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    stop_requested = 0;

    struct stream s = {.on_line = on_line, .ctx = ctx, .curl = curl};
    dynbuf_init(&s.pending, RESPONSE_MAX - 1, true); /* log lines and events: no secrets */
    dynbuf_init(&s.error_body, RESPONSE_MAX - 1, true);
    curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, stream_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, stream_progress);
    char detail[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &s.status);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, NULL);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    secure_slist_free(headers);
    free(url);
    dynbuf_free(&s.pending);

    int result = 0;
    if (stop_requested) {
        *interrupted = true;
    } else if (rc != CURLE_OK) {
        print_transport_error(cli, rc, detail);
        result = -1;
    } else if (s.status != 200) {
        json_t *body = s.error_body.data ? json_loads(s.error_body.data, 0, NULL) : NULL;
        api_print_error(NULL, (int)s.status, body);
        json_decref(body);
        result = -1;
    }
    dynbuf_free(&s.error_body);
    return result;
}
