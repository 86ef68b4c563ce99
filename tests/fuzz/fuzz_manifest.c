/* fuzz_manifest.c — image manifests and indexes from registries. The first byte picks the
 * Content-Type the registry claims; an index is then asked for a platform. */
#include "fuzz_input.h"
#include "registry/manifest.h"

static const char *const content_types[] = {
    NULL,
    MEDIA_TYPE_OCI_INDEX,
    MEDIA_TYPE_OCI_MANIFEST,
    MEDIA_TYPE_DOCKER_LIST,
    MEDIA_TYPE_DOCKER_MANIFEST,
    "application/json",
    "text/html",
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    uint8_t pick = fuzz_take_byte(&data, &len);
    const char *content_type = content_types[pick % (sizeof content_types / sizeof *content_types)];
    struct manifest m;
    struct agyn_error err = {0};
    if (manifest_parse((const char *)data, len, content_type, &m, &err) == 0) {
        if (m.kind == MANIFEST_INDEX) {
            struct agyn_error choose_err = {0};
            (void)manifest_choose_platform(&m, "linux", "arm64", NULL, &choose_err);
            (void)manifest_choose_platform(&m, "linux", "arm", "v7", &choose_err);
        }
        for (size_t i = 0; i < m.entry_count; i++)
            if (!digest_is_sha256(m.entries[i].digest))
                abort(); /* parse accepts only sha256 digests */
        manifest_free(&m);
    }
    return 0;
}
