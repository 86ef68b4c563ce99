/* api.h — the provider's client for the agyn HTTP/JSON API (libcurl + jansson): bearer token
 * auth, JSON bodies, and the API's error shape {"error":{"code","message","field"}}. */
#ifndef AGYN_TF_API_H
#define AGYN_TF_API_H

#include <stdbool.h>

#include <jansson.h>

struct api_result {
    long status;   /* HTTP status; 0 when the request did not complete */
    json_t *body;  /* parsed JSON response body or NULL */
    char code[64]; /* error.code */
    char message[1024];
    char field[128]; /* error.field, "" when none */
};

/* Sets the base URL (trailing '/' removed) and token (may be NULL/empty). Thread-safe. */
void api_configure(const char *url, const char *token);
bool api_configured(void);

/* method path-relative-to-base body(borrowed, may be NULL). Returns 0 when an HTTP response was
 * received (any status; check r->status), -1 on a transport failure (r->message says why).
 * The caller frees r with api_result_free. */
int api_call(const char *method, const char *path, json_t *body, struct api_result *r);
void api_result_free(struct api_result *r);
bool api_ok(const struct api_result *r); /* 2xx */

/* Finds the organization holding /organizations/{org}/<collection>/<id>: the token's own
 * organization (GET /api/v1/me) or, for the server-admin token, each organization in turn.
 * Returns 0 with org_out filled, 1 when not found, -1 on error (r describes it). Results
 * are cached for the life of the process. */
int api_find_org(const char *collection, const char *id, char org_out[64], struct api_result *r);

#endif
