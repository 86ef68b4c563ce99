/* referrers.h — who still uses a provider, a secret or an image pull secret, and the 409
 * that names them when a delete would break them. */
#ifndef AGYN_API_REFERRERS_H
#define AGYN_API_REFERRERS_H

#include <jansson.h>

#include "api/request.h"

/* Each fills *out with an array of {"kind", "id", "name"} (attachments: the attachment
 * objects plus "target_kind"/"target_id"/"target_name"). */
int referrers_of_provider(struct api_request *req, const char *provider_id, json_t **out,
                          struct agyn_error *err);
int referrers_of_secret(struct api_request *req, const char *secret_id, json_t **out,
                        struct agyn_error *err);
int attachments_of_image_pull_secret(struct api_request *req, const char *secret_id, json_t **out,
                                     struct agyn_error *err);

/* 409 {"error": {"code": "conflict", "message": "...", "referrers": [...]}}; steals
 * referrers; returns 0 (the response is complete). */
int referrers_conflict(struct api_response *res, const char *noun, json_t *referrers,
                       const char *hint);

#endif
