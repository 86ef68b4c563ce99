/* base64.c — RFC 4648 base64 and base64url encoding and strict decoding (base64.h). */
#include "core/base64.h"

#include <stdint.h>

#include "core/secure_mem.h"

static const char standard_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int sextet(char c, unsigned flags) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == ((flags & BASE64_URL) ? '-' : '+'))
        return 62;
    if (c == ((flags & BASE64_URL) ? '_' : '/'))
        return 63;
    return -1;
}

size_t base64_encoded_len(size_t byte_count, unsigned flags) {
    if (!(flags & BASE64_NOPAD))
        return (byte_count + 2) / 3 * 4;
    return byte_count / 3 * 4 + (byte_count % 3 ? byte_count % 3 + 1 : 0);
}

size_t base64_encode(const void *in, size_t byte_count, char *out, unsigned flags) {
    const char *alphabet = (flags & BASE64_URL) ? url_alphabet : standard_alphabet;
    const uint8_t *bytes = in;
    char *start = out;
    size_t i = 0;
    for (; i + 3 <= byte_count; i += 3) {
        uint32_t group = (uint32_t)bytes[i] << 16 | (uint32_t)bytes[i + 1] << 8 | bytes[i + 2];
        *out++ = alphabet[group >> 18 & 63];
        *out++ = alphabet[group >> 12 & 63];
        *out++ = alphabet[group >> 6 & 63];
        *out++ = alphabet[group & 63];
    }
    size_t rest = byte_count - i;
    if (rest > 0) {
        uint32_t group = (uint32_t)bytes[i] << 16 | (rest == 2 ? (uint32_t)bytes[i + 1] << 8 : 0);
        *out++ = alphabet[group >> 18 & 63];
        *out++ = alphabet[group >> 12 & 63];
        if (rest == 2)
            *out++ = alphabet[group >> 6 & 63];
        else if (!(flags & BASE64_NOPAD))
            *out++ = '=';
        if (!(flags & BASE64_NOPAD))
            *out++ = '=';
    }
    *out = '\0';
    return (size_t)(out - start);
}

size_t base64_decoded_max(size_t text_len) {
    return text_len / 4 * 3 + 3;
}

int base64_decode(const char *text, size_t text_len, void *out, size_t *out_len, unsigned flags) {
    size_t padding = 0;
    if (!(flags & BASE64_NOPAD)) {
        while (padding < 2 && text_len > 0 && text[text_len - 1] == '=') {
            text_len--;
            padding++;
        }
    }
    if (text_len % 4 == 1 || (padding > 0 && text_len % 4 != 4 - padding))
        return -1;
    uint8_t *bytes = out;
    uint32_t pending = 0;
    int pending_bits = 0;
    size_t written = 0;
    int rc = 0;
    for (size_t i = 0; i < text_len; i++) {
        int value = sextet(text[i], flags);
        if (value < 0) {
            rc = -1;
            break;
        }
        pending = (pending << 6 | (uint32_t)value) & 0xFFFFFFu;
        pending_bits += 6;
        if (pending_bits >= 8) {
            pending_bits -= 8;
            if (bytes)
                bytes[written] = (uint8_t)(pending >> pending_bits);
            written++;
            pending &= (1u << pending_bits) - 1;
        }
    }
    if (rc == 0 && (flags & BASE64_CANONICAL) && pending != 0)
        rc = -1;
    secure_wipe(&pending, sizeof pending); /* the bits may belong to a password */
    if (rc == 0 && out_len)
        *out_len = written;
    return rc;
}
