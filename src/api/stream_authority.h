/* stream_authority.h — what authorized a long-lived response (an event stream), kept so the
 * stream can check it again while it runs: the bearer token's hash or the Console session's,
 * and the organization it reads. */
#ifndef AGYN_API_STREAM_AUTHORITY_H
#define AGYN_API_STREAM_AUTHORITY_H

#include <stdint.h>

#include "api/auth.h"
#include "api/request.h"

enum stream_authority_kind { STREAM_AUTHORITY_TOKEN, STREAM_AUTHORITY_SESSION };

struct stream_authority {
    enum stream_authority_kind kind;
    char hash[TOKEN_HASH_HEX];
    char org_id[AGYN_UUID_LEN + 1];
};

/* Records how req was authenticated (the same rule as the server: an Authorization header
 * wins, else the session cookie). */
int stream_authority_capture(const struct api_request *req, struct stream_authority *out,
                             struct agyn_error *err);

/* 1 while the authority holds, 0 once it has ended (token revoked, session signed out or
 * expired, organization deleted) with err->message saying which, -1 on a store error (try
 * again later). */
int stream_authority_holds(struct app *app, const struct stream_authority *authority,
                           struct agyn_error *err);

/* stream_authority_holds, answered from a check of the same authority (kind, hash and
 * organization) that another stream made at most max_age_ms ago with no revocation since
 * (revocations is auth_revocation_count() read before the call): a thousand streams of one
 * token cost one check per period, not a thousand. Only a check that held is shared; *checked_ms
 * is when it was made, so each stream checks again max_age_ms after it. */
int stream_authority_holds_shared(struct app *app, const struct stream_authority *authority,
                                  uint64_t revocations, int64_t now_ms, int64_t max_age_ms,
                                  int64_t *checked_ms, struct agyn_error *err);

#endif
