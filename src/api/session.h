/* session.h — Console sign-in. POST /api/v1/session exchanges an API token for a session: an
 * HttpOnly, SameSite=Strict cookie naming a server-side session bound to that token, plus a
 * CSRF token the page sends back in X-CSRF-Token on every unsafe request. The API token never
 * reaches the URL or browser storage. Sessions last 12 hours and end when their token is
 * revoked. */
#ifndef AGYN_API_SESSION_H
#define AGYN_API_SESSION_H

#include "api/request.h"

#define SESSION_COOKIE "agyn_session"

/* Authenticates a request that carries no Authorization header from its Cookie header; unsafe
 * methods must carry the session's CSRF token. */
int session_authenticate(struct app *app, const char *cookie_header, const char *method,
                         const char *csrf_header, struct principal *out, struct agyn_error *err);

/* The stored hash of the session a Cookie header names; -1 when it names none. */
int session_hash_from_cookie(const char *cookie_header, char hash[65]);
/* 1 while the session with this hash is signed in (not signed out, not expired, its token not
 * revoked), 0 once it has ended, -1 on a store error. */
int session_hash_is_active(struct app *app, const char hash[65], struct agyn_error *err);

/* Serves the Console: an embedded asset for its path, or index.html for application routes
 * (/organizations/...). Returns -1 (not found) for paths with a file extension that is not an
 * asset. */
int console_serve(const char *path, struct api_response *res, struct agyn_error *err);

#endif
