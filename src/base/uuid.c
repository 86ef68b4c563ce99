/* uuid.c — random (version 4) UUIDs for new rows and resources. */
#include "base/uuid.h"

#include <stdlib.h>

#include <openssl/rand.h>

void uuid_generate(char out[AGYN_UUID_LEN + 1]) {
    static const char hex_digits[] = "0123456789abcdef";
    unsigned char bytes[16];
    int attempts = 0;
    while (RAND_bytes(bytes, (int)sizeof bytes) != 1) {
        if (++attempts >= 3)
            abort();
    }
    bytes[6] = (unsigned char)((bytes[6] & 0x0F) | 0x40); /* version 4 */
    bytes[8] = (unsigned char)((bytes[8] & 0x3F) | 0x80); /* RFC 4122 variant */
    size_t pos = 0;
    for (size_t i = 0; i < sizeof bytes; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[pos++] = '-';
        out[pos++] = hex_digits[bytes[i] >> 4];
        out[pos++] = hex_digits[bytes[i] & 0x0F];
    }
    out[pos] = '\0';
}
