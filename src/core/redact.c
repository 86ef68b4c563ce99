/* redact.c — dropping remote text that echoes a credential (see redact.h). */
#include "core/redact.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

bool redact_text_reveals(const char *text, const char *const *credentials) {
    if (!text || !credentials)
        return false;
    for (const char *const *c = credentials; *c; c++)
        if (**c && strstr(text, *c))
            return true;
    return false;
}

bool redact_withhold(char *text, size_t size, const char *const *credentials,
                     const char *replacement) {
    if (size == 0 || !redact_text_reveals(text, credentials))
        return false;
    OPENSSL_cleanse(text, size);
    snprintf(text, size, "%s", replacement);
    return true;
}
