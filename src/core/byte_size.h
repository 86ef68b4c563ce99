/* byte_size.h — sizes in configuration ("512MiB", "20GiB", "4096") parsed into bytes, and
 * bytes shown back in the same units for messages ("1 TiB", "3.5 MiB"). */
#ifndef AGYN_CORE_BYTE_SIZE_H
#define AGYN_CORE_BYTE_SIZE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

#define BYTE_SIZE_TEXT_MAX 32 /* longest text byte_size_format writes, NUL included */

/* Parses a whole number followed by an optional unit: B, KiB, MiB, GiB, TiB (powers of 1024)
 * or KB, MB, GB, TB (powers of 1000); no unit means bytes. Rejects empty text, signs, spaces,
 * fractions, other units and overflow with AGYN_UNPROCESSABLE naming field. *bytes_out is set
 * only on success. */
int byte_size_parse(const char *text, const char *field, uint64_t *bytes_out,
                    struct agyn_error *err);

/* "512 B", "4 KiB", "1.5 GiB": the largest binary unit with at least 1 of it, at most one
 * decimal (rounded down, trailing ".0" dropped). */
void byte_size_format(uint64_t bytes, char out[BYTE_SIZE_TEXT_MAX]);

#endif
