/* base64.h — the one base64 codec (RFC 4648): the standard or the URL alphabet, with or
 * without '=' padding, strict decoding (no whitespace, no characters outside the alphabet). */
#ifndef AGYN_CORE_BASE64_H
#define AGYN_CORE_BASE64_H

#include <stddef.h>

#define BASE64_URL 1u   /* "-_" in place of "+/" */
#define BASE64_NOPAD 2u /* encode without '='; decoding rejects '=' */
#define BASE64_CANONICAL                                                                           \
    4u /* decoding rejects non-zero unused trailing bits, so each byte                             \
          string has exactly one accepted encoding */

/* Characters the encoding of byte_count bytes takes (without the NUL). */
size_t base64_encoded_len(size_t byte_count, unsigned flags);
/* Writes the encoding of in plus a NUL into out (base64_encoded_len + 1 bytes); returns the
 * encoded length. */
size_t base64_encode(const void *in, size_t byte_count, char *out, unsigned flags);
/* Most bytes text_len characters decode to. */
size_t base64_decoded_max(size_t text_len);
/* Decodes text_len characters into out (base64_decoded_max bytes; NULL only validates) and
 * sets *out_len (may be NULL). Without BASE64_NOPAD, '=' padding is optional but must be
 * correct when present. Returns -1 for anything malformed. */
int base64_decode(const char *text, size_t text_len, void *out, size_t *out_len, unsigned flags);

#endif
