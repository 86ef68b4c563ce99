/* names.h — validation of user-chosen names and identifiers: resource names, UUIDs. */
#ifndef AGYN_CORE_NAMES_H
#define AGYN_CORE_NAMES_H

#include <stddef.h>

#include "core/error.h"
#include "core/utf8.h" /* utf8_is_valid, used with these checks */

#define AGYN_UUID_LEN 36
#define AGYN_NAME_MAX 128

/* A display name: 1..128 bytes of valid UTF-8, no control characters, not only spaces. */
int name_validate(const char *name, const char *field, struct agyn_error *err);
/* Free text such as a description: at most max_len bytes of UTF-8 without NUL/control chars
 * other than \n and \t. */
int text_validate(const char *text, size_t max_len, const char *field, struct agyn_error *err);
/* Canonical lower-case 8-4-4-4-12 hex UUID. */
int uuid_is_valid(const char *text);

/* Renders untrusted bytes for an error message, in double quotes: printable ASCII as is, '"'
 * and '\\' escaped, every other byte as \xNN; input beyond max_bytes is cut and marked with
 * "...". The result is always NUL-terminated ASCII, hence valid UTF-8 for JSON responses. */
void text_quote(const char *text, size_t len, size_t max_bytes, char *buf, size_t size);

#endif
