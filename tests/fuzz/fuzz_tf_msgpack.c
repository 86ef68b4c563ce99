/* fuzz_tf_msgpack.c — Terraform DynamicValue msgpack from Terraform core: decode, and what decodes
 * encodes and decodes again to an equal value. */
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
        if (!again || !tfv_equal(value, again))
            abort();
        tfv_free(again);
        free(encoded);
    }
    char *debug = tfv_debug(value);
    free(debug);
    tfv_free(value);
    return 0;
}
