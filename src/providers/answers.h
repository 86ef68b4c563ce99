/* answers.h — reading what a secret provider answered (Vault KV v2, AWS Secrets Manager), apart
 * from the HTTP exchange, so the parsers can be tested and fuzzed on their own. Bodies are
 * attacker-controlled bytes (not necessarily NUL-terminated for the *_from_answer readers of a
 * 200 answer; the error readers need body[len] == '\0'). Messages never carry the value. */
#ifndef AGYN_PROVIDERS_ANSWERS_H
#define AGYN_PROVIDERS_ANSWERS_H

#include <stddef.h>

#include "core/error.h"

/* A Vault KV v2 read answer: data.data[key] must be a string; *value_out is xstrdup'd
 * (free with secure_free). shown and mount name the secret in messages. */
int vault_secret_from_answer(const char *answer, size_t len, const char *shown, const char *mount,
                             const char *key, char **value_out, struct agyn_error *err);
/* A Vault non-200 answer turned into err (code from the status); always returns -1. An error
 * text that echoes token is withheld. */
int vault_error_from_answer(long status, const char *body, size_t len, const char *token,
                            struct agyn_error *err);
/* An AWS GetSecretValue answer: SecretString, or its json_key field when json_key is not NULL. */
int aws_secret_from_answer(const char *body, size_t len, const char *shown_id, const char *json_key,
                           char **value_out, struct agyn_error *err);
/* An AWS error answer (JSON __type/message, or XML Code/Message) turned into err; returns -1. */
int aws_error_from_answer(long status, const char *body, size_t len, const char *secret_access_key,
                          struct agyn_error *err);

/* An ECR GetAuthorizationToken answer: authorizationData[0].authorizationToken is base64 of
 * "<username>:<password>"; expiresAt (Unix seconds) when given. */
struct provider_registry_login;
int aws_ecr_login_from_answer(const char *body, size_t len, struct provider_registry_login *out,
                              struct agyn_error *err);
/* An STS AssumeRole answer (XML): the three temporary credential fields, malloc'd. */
int aws_sts_credentials_from_answer(const char *body, size_t len, char **access_key_id,
                                    char **secret_access_key, char **session_token,
                                    struct agyn_error *err);

#endif
