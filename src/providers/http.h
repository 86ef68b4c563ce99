/* http.h — what the provider backends share: one libcurl request helper (http/https only,
 * provider timeouts, responses capped at 1 MiB, redirects followed only within the same
 * origin), and small helpers for config
 * validation and for turning hostile provider text into safe error messages. Internal to
 * src/providers; the rest of the server uses provider.h. */
#ifndef AGYN_PROVIDERS_HTTP_H
#define AGYN_PROVIDERS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/dynbuf.h"
#include "core/error.h"
#include "net/url_origin.h"  /* url_origin, used with these helpers */
#include "core/secure_mem.h" /* secure_free, secure_json_wipe */

/* Largest response body a provider may send. */
#define PROVIDER_RESPONSE_LIMIT ((size_t)1024 * 1024)

/* Appends text percent-encoded: everything but RFC 3986 unreserved characters
 * (A-Z a-z 0-9 - . _ ~) becomes %XX. Buffers here are core/dynbuf.h, wiping by default. */
int provider_add_url_escaped(struct dynbuf *buf, const char *text);

struct provider_http_header {
    const char *name;
    const char *value;
};

struct provider_http_request {
    const char *method; /* "GET" or "POST" */
    const char *url;
    const struct provider_http_header *headers;
    size_t header_count;
    const char *body; /* POST only; may be NULL */
    size_t body_len;
};

struct provider_http_response {
    long status;
    char *body; /* NUL-terminated, never NULL after success */
    size_t body_len;
};

/* Sends one request. Non-2xx statuses are not errors here: the caller reads resp->status.
 * Errors (AGYN_UNAVAILABLE, message without provider prefix): "cannot reach <origin>:
 * <curl error>", "response from <origin> is larger than 1 MiB", "refused redirect from
 * <origin> to <other origin>". Header values with CR/LF are AGYN_INTERNAL. URLs in messages
 * are reduced to scheme://host[:port]; header values never appear. */
int provider_http_perform(const struct provider_http_request *req,
                          struct provider_http_response *resp, struct agyn_error *err);
/* Wipes and frees the body. */
void provider_http_response_free(struct provider_http_response *resp);

/* Checks a provider base URL: http or https, a host, no userinfo, query or fragment, at most
 * 2048 bytes. With allow_path false the path must be empty or "/". */
int provider_validate_base_url(const char *url, bool allow_path, const char *field,
                               struct agyn_error *err);

/* Maps an HTTP status from a provider: 401/403 permission denied, 404 not found, 408/429/3xx/5xx
 * unavailable, other 4xx unprocessable. */
enum agyn_code provider_status_to_code(long status);

/* Copies provider text into out as printable UTF-8: control characters and invalid bytes
 * become '?', and long text is cut at a character boundary with "...". */
void provider_sanitize_text(char *out, size_t size, const char *text, size_t len);
/* A fixed description of a provider's HTTP status ("permission denied", "not found", ...):
 * what a message says in place of the provider's own text when that text is withheld
 * because it contains a credential (core/redact.h). Never NULL. */
const char *provider_status_text(long status);

/* True when text is valid UTF-8 without control characters (0x00-0x1f, 0x7f). */
bool provider_text_is_clean(const char *text, size_t len);

/* Config validation helpers. Unknown keys are AGYN_UNPROCESSABLE "config.<key>: unknown key
 * (allowed: a, b, c)". allowed is NULL-terminated. */
int provider_config_check_object(const char *type, const json_t *config, const char *const *allowed,
                                 struct agyn_error *err);
/* Reads config[key] as a string of 1..max_len bytes without control characters. A missing or
 * null key is an error when required, else *out = NULL. Secret fields never echo the value. */
int provider_config_string(const char *type, const json_t *config, const char *key, bool required,
                           size_t max_len, const char **out, struct agyn_error *err);

#endif
