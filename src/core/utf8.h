/* utf8.h — the one strict UTF-8 check (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF). */
#ifndef AGYN_CORE_UTF8_H
#define AGYN_CORE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes the sequence at s (avail > 0 bytes readable): returns its length and stores the code
 * point in *code_point (may be NULL), or returns 0 when it is not valid UTF-8. */
size_t utf8_decode_one(const unsigned char *s, size_t avail, uint32_t *code_point);
/* 1 when the len bytes at s are valid UTF-8 (NULL with len 0 is), else 0. NUL bytes inside
 * len are valid (U+0000). */
int utf8_is_valid(const char *s, size_t len);

#endif
