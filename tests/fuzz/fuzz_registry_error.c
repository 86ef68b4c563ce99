/* fuzz_registry_error.c — registry error bodies (distribution JSON errors, HTML pages, junk):
 * the first two bytes are the HTTP status. The description must be printable text. */
#include "fuzz_input.h"
#include "registry/error_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    long status =
        100 + (long)((fuzz_take_byte(&data, &len) << 8 | fuzz_take_byte(&data, &len)) % 500);
    char *body = fuzz_text(data, len);
    struct registry_error_info info;
    registry_error_describe(status, body, len, &info);
    if (strnlen(info.text, sizeof info.text) == sizeof info.text)
        abort();
    for (const char *p = info.text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            abort(); /* control characters never reach an event or a log line */
    (void)registry_error_has_code(&info, "MANIFEST_UNKNOWN");
    free(body);
    return 0;
}
