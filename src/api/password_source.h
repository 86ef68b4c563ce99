/* password_source.h — the ways a stored credential gets its value, shared by Secrets
 * (value | provider_id + remote_path) and image pull secrets (password | password_secret_id |
 * provider_id + remote_path): reading which one a request chose, validating it against the
 * organization's providers and secrets, and writing the columns (sealing inline values). */
#ifndef AGYN_API_PASSWORD_SOURCE_H
#define AGYN_API_PASSWORD_SOURCE_H

#include <stdbool.h>

#include <jansson.h>

#include "api/request.h"

struct password_source {
    const char *inline_value; /* the request's inline value (password / value) */
    const char *secret_id;    /* password_secret_id */
    const char *provider_id;
    const char *remote_path;
    const char *plugin; /* a configured credential-provider plugin's name */
    /* "inline", "secret", "remote", "ecr" (provider_id names an AWS provider), "plugin", or
     * NULL when none given */
    const char *kind;
};

struct password_source_fields {
    const char *inline_field; /* "password" or "value" */
    const char *secret_field; /* "password_secret_id" or NULL when not offered */
    const char *table;        /* for sealing: "image_pull_secrets" / "secrets" */
    const char *sealed_column;
    const char *source_column;  /* "password_source" / "value_source" */
    const char *updated_column; /* "password_updated_at" / "value_updated_at" */
    /* Image pull secrets: "password_source" may name "ecr" or "plugin" (short-lived logins
     * whose username comes with the password), with the "plugin" column. */
    bool offers_short_lived;
};

/* True for "ecr" and "plugin": the login's username comes with its password. */
bool password_source_is_short_lived(const char *kind);

/* Reads the source from the body. With required, exactly one must be given; otherwise at most
 * one (kind NULL when none). Validates provider and secret references in req->org_id. */
int password_source_read(struct api_request *req, const struct password_source_fields *fields,
                         bool required, struct password_source *out, struct agyn_error *err);
/* Sets the source's columns in row (clearing the other sources' columns), sealing an inline
 * value for row_id. */
int password_source_write(struct api_request *req, const struct password_source_fields *fields,
                          const struct password_source *source, const char *row_id, json_t *row,
                          struct agyn_error *err);

#endif
