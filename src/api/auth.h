/* auth.h — API tokens: generation, hashing at rest, and turning an Authorization header into
 * a principal. Token values are "agyn_" + 43 base64url characters (256 random bits); only
 * their SHA-256 is stored, and the lookup compares hashes in constant time. */
#ifndef AGYN_API_AUTH_H
#define AGYN_API_AUTH_H

#include "api/request.h"

#define TOKEN_VALUE_LEN 48 /* "agyn_" + 43 */
#define TOKEN_HASH_HEX 65

/* Fresh token value into value (TOKEN_VALUE_LEN + 1) and its hash (hex) into hash. */
void auth_token_generate(char value[TOKEN_VALUE_LEN + 1], char hash[TOKEN_HASH_HEX]);
void auth_token_hash(const char *value, char hash[TOKEN_HASH_HEX]);

/* Creates a token row; fills value with the token to show once. */
int auth_token_create(struct store *store, const char *organization_id, const char *name,
                      const char *role, char value[TOKEN_VALUE_LEN + 1], json_t **row_out,
                      struct agyn_error *err);

/* Resolves "Bearer <token>" (or NULL) into a principal; AGYN_UNAUTHENTICATED otherwise. */
int auth_authenticate(struct store *store, const char *authorization, struct principal *out,
                      struct agyn_error *err);

/* Forgets every recently verified token: call after every revocation (token or organization
 * deleted, Console session signed out). It also counts the revocation and calls the listener,
 * so long-lived streams check their authority again at once. */
void auth_cache_clear(void);
/* How many revocations this process has seen (auth_cache_clear calls). */
uint64_t auth_revocation_count(void);
/* A token was revoked (deleted, signed out, its organization deleted): clears this process's
 * cache and, through the store (inside the revoking transaction: once it commits), every
 * other process's subscribed to AUTH_REVOCATION_CHANNEL with auth_cache_clear. */
#define AUTH_REVOCATION_CHANNEL "agyn_auth"
int auth_revoked(struct store *store, struct agyn_error *err);
/* listener runs (on the revoking thread) after each revocation; NULL to unset. */
void auth_set_revocation_listener(void (*listener)(void));

/* 1 while a token with this hash exists, 0 once it is gone, -1 on a store error. Reads the
 * store directly (no cache): for re-checking a stream's token. */
int auth_token_hash_is_active(struct store *store, const char hash[TOKEN_HASH_HEX],
                              struct agyn_error *err);

const char *role_name(enum role role);
enum role role_parse(const char *text);

#endif
