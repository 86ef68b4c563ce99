/* http.c — libcurl plumbing for the registry client: global init, policy-applied easy handles,
 * header and capped body capture, the plain-HTTP rule and redirect targets. */
#include "registry/http.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define LOW_SPEED_BYTES_PER_S 1024L
#define USER_AGENT "agyn-registry-client/1"

static pthread_once_t global_init_once = PTHREAD_ONCE_INIT;

static void global_init(void) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

void http_global_init(void) {
    pthread_once(&global_init_once, global_init);
}

/* Splits "host[:port]" / "[v6]:port" / "v6" into the bare host name. */
static int bare_host(const char *host, char *out, size_t size) {
    const char *start = host;
    size_t len = strlen(host);
    if (host[0] == '[') {
        const char *close = strchr(host, ']');
        if (!close)
            return -1;
        start = host + 1;
        len = (size_t)(close - start);
    } else {
        const char *colon = strchr(host, ':');
        if (colon && !strchr(colon + 1, ':'))
            len = (size_t)(colon - host);
    }
    if (len == 0 || len >= size)
        return -1;
    memcpy(out, start, len);
    out[len] = '\0';
    return 0;
}

bool http_host_is_loopback(const char *host) {
    char name[256];
    if (!host || bare_host(host, name, sizeof name) != 0)
        return false;
    if (strcasecmp(name, "localhost") == 0 || strcasecmp(name, "localhost.") == 0)
        return true;
    struct in_addr v4;
    if (inet_pton(AF_INET, name, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    struct in6_addr v6;
    if (inet_pton(AF_INET6, name, &v6) == 1) {
        static const unsigned char mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(&v6, &in6addr_loopback, sizeof v6) == 0)
            return true;
        return memcmp(v6.s6_addr, mapped_prefix, sizeof mapped_prefix) == 0 &&
               v6.s6_addr[12] == 127;
    }
    return false;
}

bool http_plain_allowed(const struct http_policy *policy, const char *host) {
    if (http_host_is_loopback(host))
        return true;
    if (!policy || !policy->insecure_registries)
        return false;
    for (const char *const *entry = policy->insecure_registries; *entry; entry++) {
        if (strcasecmp(*entry, host) == 0)
            return true;
    }
    return false;
}

/* Scheme and "host[:port]" of url; with_default_port fills in 80/443. */
static int url_parts(const char *url, char *scheme, size_t scheme_size, char *host,
                     size_t host_size, bool with_default_port) {
    CURLU *u = curl_url();
    if (!u)
        return -1;
    int rc = -1;
    char *s = NULL, *h = NULL, *p = NULL;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
        goto out;
    if (strcasecmp(s, "http") != 0 && strcasecmp(s, "https") != 0)
        goto out;
    CURLUcode port_rc =
        curl_url_get(u, CURLUPART_PORT, &p, with_default_port ? CURLU_DEFAULT_PORT : 0);
    if (port_rc != CURLUE_OK && port_rc != CURLUE_NO_PORT)
        goto out;
    int n = p ? snprintf(host, host_size, "%s:%s", h, p) : snprintf(host, host_size, "%s", h);
    if (n < 0 || (size_t)n >= host_size || strlen(s) >= scheme_size)
        goto out;
    for (char *c = host; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    for (size_t i = 0; s[i]; i++)
        scheme[i] = (char)tolower((unsigned char)s[i]);
    scheme[strlen(s)] = '\0';
    rc = 0;
out:
    curl_free(s);
    curl_free(h);
    curl_free(p);
    curl_url_cleanup(u);
    return rc;
}

int http_url_host(const char *url, char *host, size_t size) {
    char scheme[16];
    return url_parts(url, scheme, sizeof scheme, host, size, false);
}

bool http_url_allowed(const struct http_policy *policy, const char *url) {
    char scheme[16], host[300];
    if (url_parts(url, scheme, sizeof scheme, host, sizeof host, false) != 0)
        return false;
    if (strcmp(scheme, "https") == 0)
        return true;
    return http_plain_allowed(policy, host);
}

bool http_same_origin(const char *a, const char *b) {
    char scheme_a[16], scheme_b[16], host_a[300], host_b[300];
    if (url_parts(a, scheme_a, sizeof scheme_a, host_a, sizeof host_a, true) != 0 ||
        url_parts(b, scheme_b, sizeof scheme_b, host_b, sizeof host_b, true) != 0)
        return false;
    return strcmp(scheme_a, scheme_b) == 0 && strcmp(host_a, host_b) == 0;
}

CURL *http_easy_new(const struct http_policy *policy, const char *url, char *errbuf) {
    http_global_init();
    CURL *easy = curl_easy_init();
    if (!easy)
        return NULL;
    if (errbuf) {
        errbuf[0] = '\0';
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, errbuf);
    }
    curl_easy_setopt(easy, CURLOPT_URL, url);
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L); /* redirects are followed by hand */
    curl_easy_setopt(easy, CURLOPT_USERAGENT, USER_AGENT);
    curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, policy->connect_timeout_ms);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_LIMIT, LOW_SPEED_BYTES_PER_S);
    curl_easy_setopt(easy, CURLOPT_LOW_SPEED_TIME, policy->low_speed_timeout_s);
    /* The CA directory compiled into libcurl stays in use, so ca_file adds to the system CAs. */
    if (policy->ca_file)
        curl_easy_setopt(easy, CURLOPT_CAINFO, policy->ca_file);
    return easy;
}

void http_response_init(struct http_response *resp, size_t body_max) {
    memset(resp, 0, sizeof *resp);
    resp->body_max = body_max;
}

void http_response_reset(struct http_response *resp) {
    size_t body_max = resp->body_max;
    free(resp->body);
    http_response_init(resp, body_max);
}

void http_response_free(struct http_response *resp) {
    free(resp->body);
    resp->body = NULL;
    resp->body_len = 0;
}

static bool header_is(const char *line, size_t len, const char *name, const char **value,
                      size_t *value_len) {
    size_t name_len = strlen(name);
    if (len <= name_len || line[name_len] != ':' || strncasecmp(line, name, name_len) != 0)
        return false;
    const char *v = line + name_len + 1;
    const char *end = line + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    *value = v;
    *value_len = (size_t)(end - v);
    return true;
}

static size_t on_header(char *data, size_t size, size_t nitems, void *userdata) {
    struct http_response *resp = userdata;
    size_t len = size * nitems;
    const char *value;
    size_t value_len;
    if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
        /* A new response (after 1xx or a proxy's CONNECT answer): forget earlier headers. */
        resp->content_type[0] = '\0';
        resp->www_authenticate[0] = '\0';
        return len;
    }
    if (header_is(data, len, "Content-Type", &value, &value_len)) {
        if (value_len < sizeof resp->content_type) {
            memcpy(resp->content_type, value, value_len);
            resp->content_type[value_len] = '\0';
        }
    } else if (header_is(data, len, "WWW-Authenticate", &value, &value_len)) {
        size_t used = strlen(resp->www_authenticate);
        size_t sep = used ? 2 : 0;
        if (used + sep + value_len < sizeof resp->www_authenticate) {
            memcpy(resp->www_authenticate + used, ", ", sep);
            memcpy(resp->www_authenticate + used + sep, value, value_len);
            resp->www_authenticate[used + sep + value_len] = '\0';
        }
    }
    return len;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
    struct http_response *resp = userdata;
    size_t len = size * nmemb;
    if (len > resp->body_max - resp->body_len) {
        resp->body_too_large = true;
        return 0; /* stops the transfer */
    }
    char *grown = realloc(resp->body, resp->body_len + len + 1);
    if (!grown)
        return 0;
    resp->body = grown;
    memcpy(resp->body + resp->body_len, data, len);
    resp->body_len += len;
    resp->body[resp->body_len] = '\0';
    return len;
}

void http_response_attach(CURL *easy, struct http_response *resp) {
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
}

int http_transport_error(struct agyn_error *err, const char *host, CURLcode code,
                         const char *errbuf) {
    /* curl's own text can name a URL (and so a presigned query); use the generic one then. */
    const char *text = errbuf && errbuf[0] && !strstr(errbuf, "://") ? errbuf
                                                                    : curl_easy_strerror(code);
    return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: %s", host, text);
}

int http_get(const struct http_policy *policy, const char *url, const struct curl_slist *headers,
             struct http_response *resp, CURLcode *curl_code, struct agyn_error *err) {
    char errbuf[CURL_ERROR_SIZE];
    char host[300] = "";
    if (http_url_host(url, host, sizeof host) != 0)
        return agyn_fail(err, AGYN_INTERNAL, "", "registry URL is not usable");
    CURL *easy = http_easy_new(policy, url, errbuf);
    if (!easy)
        return agyn_fail(err, AGYN_INTERNAL, "", "out of memory");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, HTTP_SMALL_REQUEST_TIMEOUT_MS);
    http_response_attach(easy, resp);
    CURLcode code = curl_easy_perform(easy);
    *curl_code = code;
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && resp->body_too_large)) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
        curl_easy_cleanup(easy);
        return 0;
    }
    http_transport_error(err, host, code, errbuf);
    curl_easy_cleanup(easy);
    return -1;
}

bool http_status_is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int http_redirect_target(CURL *easy, const struct http_policy *policy, const char *from_url,
                         char *to, size_t size, bool *same_origin, struct agyn_error *err) {
    char *target = NULL;
    char host[300] = "";
    http_url_host(from_url, host, sizeof host);
    if (curl_easy_getinfo(easy, CURLINFO_REDIRECT_URL, &target) != CURLE_OK || !target)
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: redirect without a location",
                         host);
    if (strlen(target) >= size)
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: redirect location too long",
                         host);
    if (!http_url_allowed(policy, target))
        return agyn_fail(err, AGYN_UNAVAILABLE, "",
                         "registry %s: redirect to a location that is not allowed", host);
    snprintf(to, size, "%s", target);
    *same_origin = http_same_origin(from_url, to);
    return 0;
}
