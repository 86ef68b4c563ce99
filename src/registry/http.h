/* http.h — libcurl plumbing for the registry client: one-time global init, easy handles with
 * the transport policy (http/https only, timeouts, CA file, no automatic redirects, the egress
 * policy of net/egress.h), response capture with a body cap, the rules for when plain HTTP is
 * allowed, and redirect targets. */
#ifndef AGYN_REGISTRY_HTTP_H
#define AGYN_REGISTRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>
#include <openssl/x509.h>

#include "core/dynbuf.h"
#include "core/error.h"
#include "net/egress.h"
#include "net/url_origin.h" /* url_same_origin: redirects and token realms */

#define HTTP_HEADER_VALUE_MAX 4096
#define HTTP_URL_MAX 4096
#define HTTP_MAX_REDIRECTS 5
#define HTTP_SMALL_REQUEST_TIMEOUT_MS 300000L /* manifests, tokens, pings: 5 minutes at most */

struct http_policy {
    X509_STORE *trust_store; /* system CAs plus the extra CA file, built once and shared */
    const char *const *insecure_registries; /* NULL-terminated "host[:port]" allowed over HTTP */
    long connect_timeout_ms;
    long low_speed_timeout_s; /* abort below 1 KiB/s for this long */
    /* Per pull: returns non-zero to abort every transfer now (stop, shutdown, deadline). */
    int (*cancelled)(void *ctx);
    void *cancel_ctx;
    /* Per registry session (NULL elsewhere): the egress scope its requests share, and the
     * registry's own origin ("https://host:port" or "http://...") once the ping chose it. */
    struct egress_scope *egress_scope;
    const char *registry_origin;
};

struct http_response {
    long status;
    char content_type[256];
    /* Every WWW-Authenticate value of the final response, joined by ", "; a value that would
     * not fit whole is left out rather than cut. */
    char www_authenticate[HTTP_HEADER_VALUE_MAX];
    struct dynbuf body; /* wiping: token-service answers and error bodies hold bearer tokens */
    size_t body_max;
    bool body_too_large;          /* the body exceeded body_max and the transfer was stopped */
    struct egress_request egress; /* what the egress policy did during the transfer */
};

void http_global_init(void);

/* "127.0.0.1:5000", "[::1]:5000", "localhost" and the like. */
bool http_host_is_loopback(const char *host);
/* Whether the registry the user named (host) may be spoken to over plain HTTP: it is listed
 * in insecure_registries, or it is a loopback address the egress policy allows. */
bool http_plain_allowed(const struct http_policy *policy, const char *host);
/* Whether a URL the registry sent (a redirect target, a token realm) may be fetched: https,
 * or http when the registry itself is plain HTTP and url is on its origin or on a host listed
 * in insecure_registries. Never because a host is loopback; https never downgrades to http. */
bool http_url_allowed(const struct http_policy *policy, const char *url);
/* "host[:port]" of an absolute http(s) URL (port only when present); -1 when unparsable. */
int http_url_host(const char *url, char *host, size_t size);

/* The CAs every TLS connection trusts: OpenSSL's default locations (the system CAs) plus
 * ca_file when not NULL. Loading a bundle once, rather than per connection, saves tens of
 * milliseconds of CPU per handshake; clients asking for the same ca_file share one store
 * (reference-counted; files are read when the first such client acquires it). -1 when
 * ca_file cannot be loaded. */
int http_trust_store_acquire(const char *ca_file, X509_STORE **out, struct agyn_error *err);
void http_trust_store_release(X509_STORE *store);

/* A new easy handle for url with the policy applied; errbuf receives curl's error text. */
CURL *http_easy_new(const struct http_policy *policy, const char *url, char *errbuf);
/* Resets a used handle (keeping its connections) and applies the policy for url. */
void http_easy_prepare(CURL *easy, const struct http_policy *policy, const char *url, char *errbuf);

void http_response_init(struct http_response *resp, size_t body_max);
void http_response_reset(struct http_response *resp); /* for another attempt */
void http_response_free(struct http_response *resp);
/* Appends to resp->body, keeping at most body_max bytes; false (body_too_large set) when
 * data did not fit whole, or when out of memory. */
bool http_response_append(struct http_response *resp, const char *data, size_t len);
/* Routes the handle's headers and body into resp, and records the egress policy's decisions
 * for this transfer in resp->egress (with policy's egress scope). */
void http_response_attach(CURL *easy, const struct http_policy *policy, struct http_response *resp);

/* GET url with headers into resp, on easy (reused) or a new handle when easy is NULL. Returns 0
 * when a response arrived (any status, possibly body_too_large), -1 on a transport failure
 * with err set (AGYN_UNAVAILABLE) and *curl_code. */
int http_get(const struct http_policy *policy, CURL *easy, const char *url,
             const struct curl_slist *headers, struct http_response *resp, CURLcode *curl_code,
             struct agyn_error *err);

/* For a 3xx answer on easy (which fetched from_url): the absolute target in to, whether it is
 * the same origin, and a check of the scheme policy. -1 with err set when there is no usable
 * Location or the target is not allowed. */
int http_redirect_target(CURL *easy, const struct http_policy *policy, const char *from_url,
                         char *to, size_t size, bool *same_origin, struct agyn_error *err);
bool http_status_is_redirect(long status);

/* "registry <host>: <curl text>" with AGYN_UNAVAILABLE; never includes a URL's query. When
 * the egress policy refused every address (resp->egress), the policy's fixed text instead;
 * when the thread's outbound deadline passed, says so. resp may be NULL. */
int http_transport_error(struct agyn_error *err, const char *host, CURLcode code,
                         const char *errbuf, const struct http_response *resp);

#endif
