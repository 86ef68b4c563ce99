/* contents.h — what deleting an organization or an agent would take with it, and the 409
 * that lists it when the caller did not ask for ?cascade=true. */
#ifndef AGYN_API_CONTENTS_H
#define AGYN_API_CONTENTS_H

#include <jansson.h>

#include "api/request.h"

/* Each fills *out with an array of {"kind", "count", "names"} — one entry per kind that has
 * rows (names: at most CONTENTS_NAMES_MAX of them, in creation order); empty when nothing
 * would go. */
#define CONTENTS_NAMES_MAX 20
int contents_of_organization(struct api_request *req, json_t **out, struct agyn_error *err);
int contents_of_agent(struct api_request *req, const char *agent_id, json_t **out,
                      struct agyn_error *err);

/* 409 {"error": {"code": "conflict", "message": "...", "contents": [...]}}; steals
 * contents; returns 0 (the response is complete). */
int contents_conflict(struct api_response *res, const char *what, json_t *contents);

/* 200 {"id": id, "removed": contents}: what a cascading delete took; steals contents. */
int contents_removed(struct api_response *res, const char *id, json_t *contents);

#endif
