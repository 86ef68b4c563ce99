/* names.h — validation of user-chosen names and identifiers: resource names, UUIDs. */
#ifndef AGYN_CORE_NAMES_H
#define AGYN_CORE_NAMES_H

#include <stddef.h>

#include "core/error.h"

#define AGYN_UUID_LEN 36
#define AGYN_NAME_MAX 128

/* A display name: 1..128 bytes of valid UTF-8, no control characters, not only spaces. */
int name_validate(const char *name, const char *field, struct agyn_error *err);
/* Free text such as a description: at most max_len bytes of UTF-8 without NUL/control chars
 * other than \n and \t. */
int text_validate(const char *text, size_t max_len, const char *field, struct agyn_error *err);
/* Canonical lower-case 8-4-4-4-12 hex UUID. */
int uuid_is_valid(const char *text);
/* Strict UTF-8: no overlong forms, no surrogates (U+D800..U+DFFF), nothing above U+10FFFF.
 * Returns 1 when valid, 0 otherwise. NUL bytes inside len are valid (U+0000). */
int utf8_is_valid(const char *s, size_t len);

/* Renders untrusted bytes for an error message, in double quotes: printable ASCII as is, '"'
 * and '\\' escaped, every other byte as \xNN; input beyond max_bytes is cut and marked with
 * "...". The result is always NUL-terminated ASCII, hence valid UTF-8 for JSON responses. */
void text_quote(const char *text, size_t len, size_t max_bytes, char *buf, size_t size);

#endif
