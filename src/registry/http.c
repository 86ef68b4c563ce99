/* http.c — libcurl plumbing for the registry client: global init, policy-applied easy handles,
 * header and capped body capture, the plain-HTTP rule and redirect targets. */
#include "registry/http.h"
#include "registry/lazy_ca_bundle.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/ssl.h>

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

static bool listed_insecure(const struct http_policy *policy, const char *host) {
    if (!policy || !policy->insecure_registries)
        return false;
    for (const char *const *entry = policy->insecure_registries; *entry; entry++) {
        if (strcasecmp(*entry, host) == 0)
            return true;
    }
    return false;
}

bool http_plain_allowed(const struct http_policy *policy, const char *host) {
    if (listed_insecure(policy, host))
        return true;
    return http_host_is_loopback(host) && egress_host_allowed(host, 80);
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
    const char *origin = policy ? policy->registry_origin : NULL;
    if (origin && strncasecmp(origin, "https:", 6) == 0)
        return false; /* the registry speaks https: nothing it sends may downgrade that */
    if (origin && url_same_origin(origin, url))
        return true;
    return listed_insecure(policy, host);
}

struct shared_store {
    char *ca_file; /* NULL for the system CAs alone */
    X509_STORE *store;
    int refs;
    struct shared_store *next;
};

static pthread_mutex_t shared_stores_lock = PTHREAD_MUTEX_INITIALIZER;
static struct shared_store *shared_stores;

static int load_store(const char *ca_file, X509_STORE **out, struct agyn_error *err) {
    X509_STORE *store = X509_STORE_new();
    if (!store)
        return agyn_fail(err, AGYN_INTERNAL, "", "out of memory");
    if (lazy_ca_bundle_add(store) != 0) { /* read at the first TLS verification */
        X509_STORE_free(store);
        return agyn_fail(err, AGYN_INTERNAL, "", "cannot load the system CA certificates");
    }
    if (ca_file && X509_STORE_load_file(store, ca_file) != 1) {
        X509_STORE_free(store);
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "ca_file",
                         "cannot load CA certificates from %s", ca_file);
    }
    *out = store;
    return 0;
}

static bool same_ca_file(const char *a, const char *b) {
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A new entry for ca_file with its store loaded, or NULL with err set. */
static struct shared_store *new_shared_store(const char *ca_file, struct agyn_error *err) {
    struct shared_store *entry = calloc(1, sizeof *entry);
    if (!entry || (ca_file && !(entry->ca_file = strdup(ca_file)))) {
        free(entry);
        agyn_fail(err, AGYN_INTERNAL, "", "out of memory");
        return NULL;
    }
    if (load_store(ca_file, &entry->store, err) != 0) {
        free(entry->ca_file);
        free(entry);
        return NULL;
    }
    return entry;
}

int http_trust_store_acquire(const char *ca_file, X509_STORE **out, struct agyn_error *err) {
    *out = NULL;
    pthread_mutex_lock(&shared_stores_lock);
    struct shared_store *entry = shared_stores;
    while (entry && !same_ca_file(entry->ca_file, ca_file))
        entry = entry->next;
    if (!entry && (entry = new_shared_store(ca_file, err))) {
        entry->next = shared_stores;
        shared_stores = entry;
    }
    if (entry) {
        entry->refs++;
        *out = entry->store;
    }
    pthread_mutex_unlock(&shared_stores_lock);
    return entry ? 0 : -1;
}

void http_trust_store_release(X509_STORE *store) {
    if (!store)
        return;
    pthread_mutex_lock(&shared_stores_lock);
    for (struct shared_store **link = &shared_stores; *link; link = &(*link)->next) {
        struct shared_store *entry = *link;
        if (entry->store != store)
            continue;
        if (--entry->refs == 0) {
            *link = entry->next;
            X509_STORE_free(entry->store);
            free(entry->ca_file);
            free(entry);
        }
        break;
    }
    pthread_mutex_unlock(&shared_stores_lock);
}

/* CURLOPT_SSL_CTX_FUNCTION: every connection's context verifies against the shared store. */
static CURLcode use_trust_store(CURL *easy, void *ssl_ctx, void *userdata) {
    (void)easy;
    if (userdata)
        SSL_CTX_set1_cert_store(ssl_ctx, userdata);
    return CURLE_OK;
}

/* curl calls this about once a second and on every chunk; non-zero aborts the transfer. */
static int transfer_progress(void *data, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                             curl_off_t ulnow) {
    const struct http_policy *policy = data;
    return policy->cancelled(policy->cancel_ctx) ? 1 : 0;
}

void http_easy_prepare(CURL *easy, const struct http_policy *policy, const char *url,
                       char *errbuf) {
    curl_easy_reset(easy);
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
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    if (policy->cancelled) {
        curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, transfer_progress);
        curl_easy_setopt(easy, CURLOPT_XFERINFODATA, (void *)policy);
    }
    /* The egress policy checks every address connected; http_response_attach gives it the
     * transfer's record. No total timeout beyond the thread's outbound deadline here. */
    egress_curl_apply(easy, NULL, 0);
    if (policy->trust_store) {
        /* curl loads no CA files of its own; the shared store is put in place instead. */
        curl_easy_setopt(easy, CURLOPT_CAINFO, NULL);
        curl_easy_setopt(easy, CURLOPT_CAPATH, NULL);
        curl_easy_setopt(easy, CURLOPT_SSL_CTX_FUNCTION, use_trust_store);
        curl_easy_setopt(easy, CURLOPT_SSL_CTX_DATA, policy->trust_store);
    }
}

CURL *http_easy_new(const struct http_policy *policy, const char *url, char *errbuf) {
    http_global_init();
    CURL *easy = curl_easy_init();
    if (easy)
        http_easy_prepare(easy, policy, url, errbuf);
    return easy;
}

void http_response_init(struct http_response *resp, size_t body_max) {
    memset(resp, 0, sizeof *resp);
    resp->body_max = body_max;
}

void http_response_reset(struct http_response *resp) {
    size_t body_max = resp->body_max;
    dynbuf_free(&resp->body);
    http_response_init(resp, body_max);
}

void http_response_free(struct http_response *resp) {
    dynbuf_free(&resp->body); /* wiped: may be a token-service answer */
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

bool http_response_append(struct http_response *resp, const char *data, size_t len) {
    /* Keeps what fits below body_max (error bodies are described from their start). */
    bool fits = len <= resp->body_max - resp->body.len;
    if (!fits)
        len = resp->body_max - resp->body.len;
    dynbuf_add(&resp->body, data, len);
    if (!fits)
        resp->body_too_large = true;
    return fits;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
    size_t len = size * nmemb;
    return http_response_append(userdata, data, len) ? len : 0; /* 0 stops the transfer */
}

void http_response_attach(CURL *easy, const struct http_policy *policy,
                          struct http_response *resp) {
    egress_request_init(&resp->egress, policy ? policy->egress_scope : NULL);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &resp->egress);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, resp);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, resp);
}

int http_transport_error(struct agyn_error *err, const char *host, CURLcode code,
                         const char *errbuf, const struct http_response *resp) {
    if (code == CURLE_ABORTED_BY_CALLBACK)
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: pull cancelled", host);
    /* A refused address reads the same whatever its port's state: the policy's text only. */
    if (resp && egress_request_was_denied(&resp->egress))
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: %s", host, resp->egress.denial);
    if (code == CURLE_OPERATION_TIMEDOUT && egress_deadline_passed()) {
        char what[320];
        snprintf(what, sizeof what, "registry %s", host);
        return egress_deadline_error(err, what);
    }
    /* curl's own text can name a URL (and so a presigned query); use the generic one then. */
    const char *text =
        errbuf && errbuf[0] && !strstr(errbuf, "://") ? errbuf : curl_easy_strerror(code);
    return agyn_fail(err, AGYN_UNAVAILABLE, "", "registry %s: %s", host, text);
}

int http_get(const struct http_policy *policy, CURL *reuse, const char *url,
             const struct curl_slist *headers, struct http_response *resp, CURLcode *curl_code,
             struct agyn_error *err) {
    char errbuf[CURL_ERROR_SIZE];
    char host[300] = "";
    *curl_code = CURLE_OK;
    if (http_url_host(url, host, sizeof host) != 0)
        return agyn_fail(err, AGYN_INTERNAL, "", "registry URL is not usable");
    if (egress_deadline_passed()) {
        char what[320];
        snprintf(what, sizeof what, "registry %s", host);
        return egress_deadline_error(err, what);
    }
    CURL *easy = reuse;
    if (easy)
        http_easy_prepare(easy, policy, url, errbuf);
    else
        easy = http_easy_new(policy, url, errbuf);
    if (!easy)
        return agyn_fail(err, AGYN_INTERNAL, "", "out of memory");
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, egress_timeout_ms(HTTP_SMALL_REQUEST_TIMEOUT_MS));
    http_response_attach(easy, policy, resp);
    CURLcode code = curl_easy_perform(easy);
    *curl_code = code;
    int rc = 0;
    if (code == CURLE_OK || (code == CURLE_WRITE_ERROR && resp->body_too_large))
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &resp->status);
    else
        rc = http_transport_error(err, host, code, errbuf, resp);
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, NULL); /* errbuf goes out of scope */
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, NULL);
    if (!reuse)
        curl_easy_cleanup(easy);
    return rc;
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
    bool downgrade =
        strncasecmp(from_url, "https:", 6) == 0 && strncasecmp(target, "https:", 6) != 0;
    if (downgrade || !http_url_allowed(policy, target))
        return agyn_fail(err, AGYN_UNAVAILABLE, "",
                         "registry %s: redirect to a location that is not allowed", host);
    snprintf(to, size, "%s", target);
    *same_origin = url_same_origin(from_url, to);
    return 0;
}
