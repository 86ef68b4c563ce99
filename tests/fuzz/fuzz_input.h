/* fuzz_input.h — helpers shared by the fuzz targets: a NUL-terminated copy of the input and a
 * selector byte taken off its front. */
#ifndef AGYN_FUZZ_INPUT_H
#define AGYN_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* malloc'd copy of data with a NUL appended (the parsers of text see at most len bytes). */
static inline char *fuzz_text(const uint8_t *data, size_t len) {
    char *text = malloc(len + 1);
    if (!text)
        abort();
    if (len)
        memcpy(text, data, len);
    text[len] = '\0';
    return text;
}

/* Takes one byte off the front (0 when empty). */
static inline uint8_t fuzz_take_byte(const uint8_t **data, size_t *len) {
    if (*len == 0)
        return 0;
    uint8_t b = **data;
    (*data)++;
    (*len)--;
    return b;
}

#endif
