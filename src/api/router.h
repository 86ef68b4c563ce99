/* router.h — the route table: method + path pattern -> handler and the access it needs.
 * Patterns are literal segments and the placeholders {org}, {id} (UUIDs) and {sub}. */
#ifndef AGYN_API_ROUTER_H
#define AGYN_API_ROUTER_H

#include "api/request.h"

typedef int (*api_handler)(struct api_request *req, struct api_response *res,
                           struct agyn_error *err);

enum access {
    ACCESS_PUBLIC, /* no token */
    ACCESS_TOKEN,  /* any valid token */
    ACCESS_ADMIN,  /* the server-admin token */
    ACCESS_MEMBER, /* a token of {org}: member, owner, or admin */
    ACCESS_OWNER,  /* a token of {org} with role owner, or admin */
};

struct route {
    const char *method;
    const char *pattern;
    api_handler handler;
    enum access access;
    const char *id_kind; /* what {id} names, for "not found" messages: "agent" */
};

extern const struct route API_ROUTES[]; /* terminated by a NULL method */

enum route_match { ROUTE_FOUND, ROUTE_NO_PATH, ROUTE_WRONG_METHOD };

/* Matches method and path; fills req->org_id/id/sub (unvalidated, truncated copies are
 * rejected as not matching). */
enum route_match router_match(const char *method, const char *path, struct api_request *req,
                              const struct route **out);

#endif
