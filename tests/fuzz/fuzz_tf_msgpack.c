/* fuzz_tf_msgpack.c — Terraform DynamicValue msgpack from Terraform core: decode, and what decodes
 * encodes to bytes that decode and encode again to the same bytes. (Numbers go out as decimal
 * strings, which Terraform reads by the schema's type, so a schema-less decode of our own
 * encoding gives strings where numbers were: equal bytes, not equal values, is the check.) */
#include <string.h>

#include "fuzz_input.h"
#include "terraform/tfval.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    struct tfv *value = tfv_from_msgpack(data, len);
    if (!value)
        return 0;
    uint8_t *encoded = NULL;
    size_t encoded_len = 0;
    if (tfv_to_msgpack(value, &encoded, &encoded_len) == 0) {
        struct tfv *again = tfv_from_msgpack(encoded, encoded_len);
        uint8_t *twice = NULL;
        size_t twice_len = 0;
        if (!again || tfv_to_msgpack(again, &twice, &twice_len) != 0 || twice_len != encoded_len ||
            memcmp(twice, encoded, encoded_len) != 0)
            abort();
        free(twice);
        tfv_free(again);
        free(encoded);
    }
    char *debug = tfv_debug(value);
    free(debug);
    tfv_free(value);
    return 0;
}
