/* http.c — the libcurl request helper every provider backend uses, plus the shared helpers
 * declared in http.h (wiping buffers, safe error text, config validation). */
#include "providers/http.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "base/wiping_alloc.h"
#include "core/transience.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "net/egress.h"
#include "net/url_origin.h"
#include "providers/provider.h"

#define HTTP_MAX_REDIRECTS 3
#define HTTP_URL_MAX 2048

/* ---- small helpers -------------------------------------------------------------------- */

int provider_add_url_escaped(struct dynbuf *buf, const char *text) {
    static const char hex[] = "0123456789ABCDEF";
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~') {
            if (dynbuf_add(buf, p, 1) != 0)
                return -1;
        } else {
            char escaped[3] = {'%', hex[*p >> 4], hex[*p & 0x0f]};
            if (dynbuf_add(buf, escaped, sizeof escaped) != 0)
                return -1;
        }
    }
    return 0;
}

bool provider_text_is_clean(const char *text, size_t len) {
    const unsigned char *p = (const unsigned char *)text;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x20 || p[i] == 0x7f)
            return false;
        size_t seq = utf8_decode_one(p + i, len - i, NULL);
        if (seq == 0)
            return false;
        i += seq;
    }
    return true;
}

void provider_sanitize_text(char *out, size_t size, const char *text, size_t len) {
    if (size == 0)
        return;
    const unsigned char *p = (const unsigned char *)text;
    size_t used = 0;
    size_t i = 0;
    while (i < len) {
        size_t seq = (p[i] < 0x20 || p[i] == 0x7f) ? 0 : utf8_decode_one(p + i, len - i, NULL);
        size_t emit = seq ? seq : 1;
        /* Keep room for "..." and the NUL. */
        if (used + emit + 4 > size) {
            if (used + 4 <= size) {
                memcpy(out + used, "...", 3);
                used += 3;
            }
            break;
        }
        if (seq)
            memcpy(out + used, p + i, seq);
        else
            out[used] = '?';
        used += emit;
        i += emit;
    }
    out[used] = '\0';
}

const char *provider_status_text(long status) {
    if (status == 401 || status == 403)
        return "permission denied";
    if (status == 404)
        return "not found";
    if (status == 408 || status == 429)
        return "too many requests or timed out";
    if (status >= 500)
        return "server error";
    return "unexpected response";
}

/* ---- config helpers ------------------------------------------------------------------- */

int provider_config_check_object(const char *type, const json_t *config, const char *const *allowed,
                                 struct agyn_error *err) {
    if (!json_is_object(config))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "config", "%s: config must be an object", type);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)config, key, value) {
        bool known = false;
        for (const char *const *name = allowed; *name; name++)
            known = known || strcmp(key, *name) == 0;
        if (known)
            continue;
        char names[256] = "";
        for (const char *const *name = allowed; *name; name++) {
            size_t used = strlen(names);
            snprintf(names + used, sizeof names - used, "%s%s", name == allowed ? "" : ", ", *name);
        }
        char shown[64];
        provider_sanitize_text(shown, sizeof shown, key, strlen(key));
        char field[96];
        snprintf(field, sizeof field, "config.%s", shown);
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: unknown config key \"%s\" (allowed: %s)", type, shown, names);
    }
    return 0;
}

int provider_config_string(const char *type, const json_t *config, const char *key, bool required,
                           size_t max_len, const char **out, struct agyn_error *err) {
    char field[96];
    snprintf(field, sizeof field, "config.%s", key);
    *out = NULL;
    json_t *value = json_object_get(config, key);
    if (!value || json_is_null(value)) {
        if (required)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s: %s is required", type, field);
        return 0;
    }
    if (!json_is_string(value))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s: %s must be a string", type, field);
    size_t len = json_string_length(value);
    if (len == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s: %s must not be empty", type, field);
    if (len > max_len)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s: %s is longer than %zu bytes", type,
                         field, max_len);
    const char *text = json_string_value(value);
    if (strlen(text) != len || !provider_text_is_clean(text, len))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: %s must be UTF-8 text without control characters", type, field);
    *out = text;
    return 0;
}

/* ---- URLs ----------------------------------------------------------------------------- */

int provider_validate_base_url(const char *url, bool allow_path, const char *field,
                               struct agyn_error *err) {
    if (strlen(url) > HTTP_URL_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s is longer than %d bytes", field,
                         HTTP_URL_MAX);
    CURLU *parsed = curl_url();
    if (!parsed)
        return agyn_fail(err, AGYN_INTERNAL, field, "out of memory");
    int rc = 0;
    char *part = NULL;
    if (curl_url_set(parsed, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must be an absolute http(s) URL", field);
        goto done;
    }
    curl_url_get(parsed, CURLUPART_SCHEME, &part, 0);
    if (!part || (strcmp(part, "http") != 0 && strcmp(part, "https") != 0)) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must use http or https", field);
        goto done;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(parsed, CURLUPART_HOST, &part, 0) != CURLUE_OK || !part || !*part) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must name a host", field);
        goto done;
    }
    curl_free(part);
    part = NULL;
    if (curl_url_get(parsed, CURLUPART_USER, &part, 0) == CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_PASSWORD, &part, 0) == CURLUE_OK) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field,
                       "%s must not contain credentials (user:password@)", field);
        goto done;
    }
    if (curl_url_get(parsed, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not have a query or fragment",
                       field);
        goto done;
    }
    if (!allow_path && curl_url_get(parsed, CURLUPART_PATH, &part, 0) == CURLUE_OK &&
        strcmp(part, "/") != 0) {
        rc = agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s must not have a path", field);
        goto done;
    }
    /* The raw text must not smuggle anything curl tolerates (spaces, control characters). */
    for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f) {
            rc = agyn_fail(err, AGYN_UNPROCESSABLE, field,
                           "%s must not contain spaces, control or non-ASCII characters", field);
            goto done;
        }
    }
done:
    curl_free(part);
    curl_url_cleanup(parsed);
    return rc;
}

enum agyn_code provider_status_to_code(long status) {
    if (status == 401 || status == 403)
        return AGYN_PERMISSION_DENIED;
    if (status == 404)
        return AGYN_NOT_FOUND;
    if (status >= 400 && !transience_status_is_transient(status))
        return AGYN_UNPROCESSABLE;
    return AGYN_UNAVAILABLE; /* transient (core/transience.h): retried like a registry outage */
}

/* ---- requests ------------------------------------------------------------------------- */

static pthread_once_t curl_init_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result = CURLE_FAILED_INIT;

static void provider_http_global_init(void) {
    curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct provider_http_sink {
    struct dynbuf body;
    bool too_large;
};

static size_t provider_http_write_body(char *data, size_t size, size_t count, void *userdata) {
    struct provider_http_sink *sink = userdata;
    size_t len = size * count;
    if (dynbuf_add(&sink->body, data, len) != 0) {
        sink->too_large = sink->body.len + len > PROVIDER_RESPONSE_LIMIT;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return len;
}

static int provider_http_build_headers(const struct provider_http_request *req,
                                       struct curl_slist **out, struct agyn_error *err) {
    struct curl_slist *list = NULL;
    struct dynbuf line = {0};
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name;
        const char *value = req->headers[i].value;
        if (strpbrk(name, "\r\n: ") || strpbrk(value, "\r\n")) {
            dynbuf_free(&line);
            secure_slist_free(list);
            return agyn_fail(err, AGYN_INTERNAL, "", "header %s contains a line break", name);
        }
        dynbuf_clear(&line);
        dynbuf_addf(&line, "%s: %s", name, value);
        list = curl_slist_append(list, dynbuf_str(&line));
    }
    /* No "Expect: 100-continue" round trip for POST bodies. */
    *out = curl_slist_append(list, "Expect:");
    dynbuf_free(&line);
    return 0;
}

/* One request/response exchange without following redirects. *redirect_out is a malloc'd
 * absolute Location for 3xx responses. */
static int provider_http_exchange(CURL *curl, const struct provider_http_request *req,
                                  const char *url, struct curl_slist *headers,
                                  struct provider_http_sink *sink, char **redirect_out,
                                  long *status_out, struct agyn_error *err) {
    char origin[256];
    url_origin(url, origin, sizeof origin);
    if (egress_deadline_passed())
        return egress_deadline_error(err, origin);
    /* Every address is checked before connecting; plain HTTP only where an operator allowed
     * the destination with --egress-allow (a token must not cross the network in clear). */
    struct egress_request egress;
    egress_request_init(&egress, NULL);
    egress.plain_http = strncasecmp(url, "https:", 6) != 0;
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, provider_connect_timeout_ms());
    egress_curl_apply(curl, &egress, provider_total_timeout_ms());
    curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)PROVIDER_RESPONSE_LIMIT);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "agyn");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, provider_http_write_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
    if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") == 0) {
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        return agyn_fail(err, AGYN_INTERNAL, "", "unsupported HTTP method %s", req->method);
    }

    CURLcode rc = curl_easy_perform(curl);
    curl_easy_setopt(curl, CURLOPT_OPENSOCKETDATA, NULL);     /* egress goes out of scope */
    if (rc != CURLE_OK && egress_request_was_denied(&egress)) /* the same whatever the port */
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "%s", egress.denial);
    if (rc == CURLE_OPERATION_TIMEDOUT && egress_deadline_passed())
        return egress_deadline_error(err, origin);
    if (rc == CURLE_FILESIZE_EXCEEDED || (rc == CURLE_WRITE_ERROR && sink->too_large))
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "response from %s is larger than 1 MiB",
                         origin);
    if (rc != CURLE_OK)
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "cannot reach %s: %s", origin,
                         curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status_out);
    *redirect_out = NULL;
    char *location = NULL;
    if (*status_out >= 300 && *status_out < 400 &&
        curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location) == CURLE_OK && location) {
        *redirect_out = xstrdup(location);
    }
    return 0;
}

int provider_http_perform(const struct provider_http_request *req,
                          struct provider_http_response *resp, struct agyn_error *err) {
    memset(resp, 0, sizeof *resp);
    pthread_once(&curl_init_once, provider_http_global_init);
    if (curl_init_result != CURLE_OK)
        return agyn_fail(err, AGYN_INTERNAL, "", "cannot initialise libcurl");

    struct curl_slist *headers = NULL;
    if (provider_http_build_headers(req, &headers, err) != 0)
        return -1;
    CURL *curl = curl_easy_init();
    if (!curl) {
        secure_slist_free(headers);
        return agyn_fail(err, AGYN_INTERNAL, "", "cannot initialise libcurl");
    }

    int rc = -1;
    char *url = xstrdup(req->url);
    struct provider_http_sink sink = {.body = {.limit = PROVIDER_RESPONSE_LIMIT}};
    long status = 0;
    for (int hop = 0;; hop++) {
        char *redirect = NULL;
        dynbuf_free(&sink.body);
        sink.too_large = false;
        if (provider_http_exchange(curl, req, url, headers, &sink, &redirect, &status, err) != 0)
            goto done;
        if (!redirect)
            break;
        /* Follow only within the same origin, so credentials in headers never travel to
         * another host, and only when the method survives the redirect. */
        bool method_kept = strcmp(req->method, "GET") == 0 || status == 307 || status == 308;
        if (!url_same_origin(url, redirect)) {
            char from[256];
            char to[256];
            url_origin(url, from, sizeof from);
            url_origin(redirect, to, sizeof to);
            free(redirect);
            agyn_fail(err, AGYN_UNAVAILABLE, "", "refused redirect from %s to %s", from, to);
            goto done;
        }
        if (!method_kept || hop >= HTTP_MAX_REDIRECTS) {
            free(redirect);
            break; /* the caller sees the 3xx status */
        }
        free(url);
        url = redirect;
    }
    resp->status = status;
    resp->body_len = sink.body.len;
    resp->body = dynbuf_take(&sink.body); /* within the limit: exchange checked it */
    rc = 0;
done:
    dynbuf_free(&sink.body);
    free(url);
    curl_easy_cleanup(curl);
    secure_slist_free(headers);
    return rc;
}

void provider_http_response_free(struct provider_http_response *resp) {
    if (!resp)
        return;
    secure_free(resp->body);
    memset(resp, 0, sizeof *resp);
}
