/* utf8.c — strict UTF-8 decoding and validation (utf8.h). */
#include "core/utf8.h"

size_t utf8_decode_one(const unsigned char *s, size_t avail, uint32_t *code_point) {
    unsigned char lead = s[0];
    if (lead < 0x80) {
        if (code_point)
            *code_point = lead;
        return 1;
    }
    size_t length;
    unsigned char second_min = 0x80, second_max = 0xBF;
    uint32_t value;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
        value = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        value = lead & 0x0Fu;
        if (lead == 0xE0)
            second_min = 0xA0; /* overlong */
        else if (lead == 0xED)
            second_max = 0x9F; /* surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        value = lead & 0x07u;
        if (lead == 0xF0)
            second_min = 0x90; /* overlong */
        else if (lead == 0xF4)
            second_max = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* continuation byte, C0/C1 overlong lead, or F5..FF */
    }
    if (avail < length)
        return 0;
    if (s[1] < second_min || s[1] > second_max)
        return 0;
    value = (value << 6) | (s[1] & 0x3Fu);
    for (size_t i = 2; i < length; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        value = (value << 6) | (s[i] & 0x3Fu);
    }
    if (code_point)
        *code_point = value;
    return length;
}

int utf8_is_valid(const char *s, size_t len) {
    if (!s)
        return len == 0;
    const unsigned char *bytes = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        size_t step = utf8_decode_one(bytes + i, len - i, NULL);
        if (step == 0)
            return 0;
        i += step;
    }
    return 1;
}
