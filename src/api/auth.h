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

/* Forgets every recently verified token (after a revocation). */
void auth_cache_clear(void);

const char *role_name(enum role role);
enum role role_parse(const char *text);

#endif
