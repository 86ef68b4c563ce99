/* manifest.c — parsing manifests and indexes strictly, choosing a platform, and SHA-256
 * digests of manifest bytes (manifest.h). */
#include "registry/manifest.h"
#include "core/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

/* A sanity bound that keeps sums of sizes from overflowing; what a pull accepts is capped by
 * the image size limit (oci_client.c, check_image_size). */
#define MAX_BLOB_SIZE (UINT64_C(1) << 50)
#define PLATFORMS_LISTED_MAX 8

static const char *const SCHEMA1_TYPES[] = {
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
};

bool digest_is_sha256(const char *digest) {
    if (!digest || strncmp(digest, "sha256:", 7) != 0)
        return false;
    const char *hex = digest + 7;
    for (int i = 0; i < 64; i++) {
        if (!((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f')))
            return false;
    }
    return hex[64] == '\0';
}

void digest_sha256(const void *data, size_t len, char out[DIGEST_TEXT_MAX]) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    memcpy(out, "sha256:", 8);
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        out[0] = '\0';
        return;
    }
    for (unsigned int i = 0; i < md_len; i++)
        snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}

/* A copy safe to put in a message: printable ASCII only, bounded. */
static const char *printable(const char *text, char *buf, size_t size) {
    size_t n = 0;
    for (; text && text[n] && n + 1 < size; n++) {
        unsigned char c = (unsigned char)text[n];
        buf[n] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    buf[n] = '\0';
    return buf;
}

static int invalid(struct agyn_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int invalid(struct agyn_error *err, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    agyn_vfail(err, AGYN_UNPROCESSABLE, "", fmt, ap);
    va_end(ap);
    return -1;
}

static bool is_index_type(const char *t) {
    return strcmp(t, MEDIA_TYPE_OCI_INDEX) == 0 || strcmp(t, MEDIA_TYPE_DOCKER_LIST) == 0;
}

static bool is_image_type(const char *t) {
    return strcmp(t, MEDIA_TYPE_OCI_MANIFEST) == 0 || strcmp(t, MEDIA_TYPE_DOCKER_MANIFEST) == 0;
}

static bool is_schema1_type(const char *t) {
    for (size_t i = 0; i < sizeof SCHEMA1_TYPES / sizeof SCHEMA1_TYPES[0]; i++) {
        if (strcmp(t, SCHEMA1_TYPES[i]) == 0)
            return true;
    }
    return false;
}

static bool is_config_type(const char *t) {
    return strcmp(t, "application/vnd.oci.image.config.v1+json") == 0 ||
           strcmp(t, "application/vnd.docker.container.image.v1+json") == 0;
}

static bool is_layer_type(const char *t) {
    return strncmp(t, "application/vnd.oci.image.layer.", 32) == 0 ||
           strncmp(t, "application/vnd.docker.image.rootfs.", 36) == 0;
}

/* Content-Type without parameters and surrounding spaces. */
static void bare_content_type(const char *content_type, char *out, size_t size) {
    out[0] = '\0';
    if (!content_type)
        return;
    while (*content_type == ' ')
        content_type++;
    size_t n = strcspn(content_type, "; ");
    if (n < size) {
        memcpy(out, content_type, n);
        out[n] = '\0';
    }
}

/* Copies an optional string member; -1 when present but not a string or too long. */
static int copy_string(json_t *object, const char *key, char *out, size_t size, bool required) {
    json_t *value = json_object_get(object, key);
    out[0] = '\0';
    if (!value)
        return required ? -1 : 0;
    const char *text = json_string_value(value);
    if (!text || strlen(text) >= size)
        return -1;
    memcpy(out, text, strlen(text) + 1);
    return 0;
}

static int parse_descriptor(json_t *value, const char *what, struct descriptor *out,
                            struct agyn_error *err) {
    char shown[80];
    memset(out, 0, sizeof *out);
    if (!json_is_object(value))
        return invalid(err, "manifest %s is not an object", what);
    if (copy_string(value, "mediaType", out->media_type, sizeof out->media_type, true) != 0)
        return invalid(err, "manifest %s has no valid mediaType", what);
    json_t *digest = json_object_get(value, "digest");
    if (!json_is_string(digest))
        return invalid(err, "manifest %s has no digest", what);
    if (!digest_is_sha256(json_string_value(digest))) {
        const char *text = json_string_value(digest);
        if (strchr(text, ':') && strncmp(text, "sha256:", 7) != 0)
            return invalid(err, "manifest %s digest %s uses an unsupported algorithm", what,
                           printable(text, shown, sizeof shown));
        return invalid(err, "manifest %s digest %s is not valid", what,
                       printable(text, shown, sizeof shown));
    }
    memcpy(out->digest, json_string_value(digest), strlen(json_string_value(digest)) + 1);
    json_t *size = json_object_get(value, "size");
    if (!json_is_integer(size) || json_integer_value(size) < 0 ||
        (uint64_t)json_integer_value(size) > MAX_BLOB_SIZE)
        return invalid(err, "manifest %s has no valid size", what);
    out->size = (uint64_t)json_integer_value(size);
    return 0;
}

static int parse_platform(json_t *entry, struct descriptor *out, struct agyn_error *err) {
    json_t *platform = json_object_get(entry, "platform");
    if (!platform)
        return 0;
    if (!json_is_object(platform) ||
        copy_string(platform, "os", out->os, sizeof out->os, false) != 0 ||
        copy_string(platform, "architecture", out->arch, sizeof out->arch, false) != 0 ||
        copy_string(platform, "variant", out->variant, sizeof out->variant, false) != 0)
        return invalid(err, "image index entry %s has an invalid platform", out->digest);
    return 0;
}

static int parse_entries(json_t *root, const char *key, size_t max, struct manifest *m,
                         struct agyn_error *err) {
    json_t *array = json_object_get(root, key);
    if (!json_is_array(array))
        return invalid(err, "manifest has no %s array", key);
    size_t count = json_array_size(array);
    if (count > max)
        return invalid(err, "manifest lists %zu %s, more than %zu", count, key, max);
    m->entries = xcalloc(count ? count : 1, sizeof *m->entries);
    for (size_t i = 0; i < count; i++) {
        char what[48];
        snprintf(what, sizeof what, "%s[%zu]", key, i);
        struct descriptor *d = &m->entries[i];
        if (parse_descriptor(json_array_get(array, i), what, d, err) != 0)
            return -1;
        m->entry_count++;
        if (m->kind == MANIFEST_INDEX && parse_platform(json_array_get(array, i), d, err) != 0)
            return -1;
        if (m->kind == MANIFEST_IMAGE && !is_layer_type(d->media_type)) {
            char shown[130];
            return invalid(err, "layer media type %s is not a container image layer",
                           printable(d->media_type, shown, sizeof shown));
        }
    }
    return 0;
}

/* Decides the manifest's media type from the body, the Content-Type and the shape. */
static int resolve_media_type(json_t *root, const char *content_type, struct manifest *m,
                              struct agyn_error *err) {
    char header_type[128], shown[130], shown_header[130];
    bare_content_type(content_type, header_type, sizeof header_type);
    json_t *body_type = json_object_get(root, "mediaType");
    if (body_type && (!json_is_string(body_type) ||
                      strlen(json_string_value(body_type)) >= sizeof m->media_type))
        return invalid(err, "manifest mediaType is not valid");
    bool header_known = is_index_type(header_type) || is_image_type(header_type);
    if (body_type) {
        snprintf(m->media_type, sizeof m->media_type, "%s", json_string_value(body_type));
        if (header_known && strcmp(header_type, m->media_type) != 0)
            return invalid(err, "manifest mediaType %s does not match Content-Type %s",
                           printable(m->media_type, shown, sizeof shown),
                           printable(header_type, shown_header, sizeof shown_header));
    } else if (header_known || is_schema1_type(header_type)) {
        snprintf(m->media_type, sizeof m->media_type, "%s", header_type);
    } else if (json_object_get(root, "manifests")) {
        snprintf(m->media_type, sizeof m->media_type, "%s", MEDIA_TYPE_OCI_INDEX);
    } else {
        snprintf(m->media_type, sizeof m->media_type, "%s", MEDIA_TYPE_OCI_MANIFEST);
    }
    if (is_schema1_type(m->media_type))
        return invalid(err, "Docker schema 1 manifests are not supported");
    if (is_index_type(m->media_type))
        m->kind = MANIFEST_INDEX;
    else if (is_image_type(m->media_type))
        m->kind = MANIFEST_IMAGE;
    else
        return invalid(err, "manifest media type %s is not supported",
                       printable(m->media_type, shown, sizeof shown));
    return 0;
}

int manifest_parse(const char *body, size_t len, const char *content_type, struct manifest *out,
                   struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    if (len > MANIFEST_MAX_BYTES)
        return invalid(err, "manifest is larger than %u bytes", MANIFEST_MAX_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return invalid(err, "manifest is not valid JSON (line %d, column %d)", jerr.line,
                       jerr.column);
    int rc = -1;
    if (!json_is_object(root)) {
        invalid(err, "manifest is not a JSON object");
        goto out;
    }
    json_t *version = json_object_get(root, "schemaVersion");
    if (json_is_integer(version) && json_integer_value(version) == 1) {
        invalid(err, "Docker schema 1 manifests are not supported");
        goto out;
    }
    if (!json_is_integer(version) || json_integer_value(version) != 2) {
        invalid(err, "manifest schemaVersion is not 2");
        goto out;
    }
    if (resolve_media_type(root, content_type, out, err) != 0)
        goto out;
    if (out->kind == MANIFEST_INDEX) {
        rc = parse_entries(root, "manifests", MANIFEST_MAX_ENTRIES, out, err);
        goto out;
    }
    if (parse_descriptor(json_object_get(root, "config"), "config", &out->config, err) != 0)
        goto out;
    if (!is_config_type(out->config.media_type)) {
        char shown[130];
        invalid(err, "not a container image: config media type %s",
                printable(out->config.media_type, shown, sizeof shown));
        goto out;
    }
    rc = parse_entries(root, "layers", MANIFEST_MAX_LAYERS, out, err);
out:
    json_decref(root);
    if (rc != 0)
        manifest_free(out);
    return rc;
}

void manifest_free(struct manifest *m) {
    if (!m)
        return;
    free(m->entries);
    m->entries = NULL;
    m->entry_count = 0;
}

const char *manifest_host_arch(void) {
#if defined(__x86_64__)
    return "amd64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__arm__)
    return "arm";
#elif defined(__i386__)
    return "386";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
    return "ppc64le";
#elif defined(__s390x__)
    return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
    return "riscv64";
#else
    return "unknown";
#endif
}

static const char *normalize_arch(const char *arch) {
    static const char *const aliases[][2] = {
        {"x86_64", "amd64"}, {"x86-64", "amd64"}, {"aarch64", "arm64"}, {"armhf", "arm"},
        {"armel", "arm"},    {"i386", "386"},     {"i686", "386"},
    };
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcasecmp(arch, aliases[i][0]) == 0)
            return aliases[i][1];
    }
    return arch;
}

static const char *default_variant(const char *arch) {
    if (strcmp(arch, "arm64") == 0)
        return "v8";
    if (strcmp(arch, "arm") == 0)
        return "v7";
    return "";
}

/* 2: the wanted variant (or none wanted and none given), 1: acceptable, 0: no match. */
static int variant_score(const char *arch, const char *wanted, const char *entry_variant) {
    const char *given = entry_variant;
    if (strcmp(arch, "arm64") == 0 && given[0] == '\0')
        given = "v8"; /* arm64 without a variant is v8 */
    if (wanted[0] == '\0')
        return given[0] == '\0' ? 2 : 1;
    if (strcasecmp(given, wanted) == 0)
        return 2;
    return given[0] == '\0' ? 1 : 0;
}

static void list_platforms(const struct manifest *index, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < index->entry_count && i < PLATFORMS_LISTED_MAX; i++) {
        const struct descriptor *d = &index->entries[i];
        char os[32], arch[32], variant[32];
        int n = snprintf(buf + used, size - used, "%s%s/%s%s%s", used ? ", " : "",
                         printable(d->os, os, sizeof os), printable(d->arch, arch, sizeof arch),
                         d->variant[0] ? "/" : "", printable(d->variant, variant, sizeof variant));
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    if (index->entry_count > PLATFORMS_LISTED_MAX && used + 6 < size)
        memcpy(buf + used, ", ...", 6);
}

const struct descriptor *manifest_choose_platform(const struct manifest *index, const char *os,
                                                  const char *arch, const char *variant,
                                                  struct agyn_error *err) {
    char arch_only[64], wanted_variant[32];
    snprintf(arch_only, sizeof arch_only, "%s", arch && arch[0] ? arch : manifest_host_arch());
    char *slash = strchr(arch_only, '/');
    snprintf(wanted_variant, sizeof wanted_variant, "%s", variant ? variant : "");
    if (slash) {
        *slash = '\0';
        if (!wanted_variant[0])
            snprintf(wanted_variant, sizeof wanted_variant, "%s", slash + 1);
    }
    const char *want_os = os && os[0] ? os : "linux";
    const char *want_arch = normalize_arch(arch_only);
    if (!wanted_variant[0])
        snprintf(wanted_variant, sizeof wanted_variant, "%s", default_variant(want_arch));
    const struct descriptor *best = NULL;
    int best_score = 0;
    for (size_t i = 0; i < index->entry_count; i++) {
        const struct descriptor *d = &index->entries[i];
        if (!is_image_type(d->media_type) || strcasecmp(d->os, want_os) != 0 ||
            strcmp(normalize_arch(d->arch), want_arch) != 0)
            continue;
        int score = variant_score(want_arch, wanted_variant, d->variant);
        if (score > best_score) {
            best = d;
            best_score = score;
        }
    }
    if (!best) {
        char available[400];
        list_platforms(index, available, sizeof available);
        agyn_fail(err, AGYN_UNPROCESSABLE, "", "no image for platform %s/%s%s%s (available: %s)",
                  want_os, want_arch, wanted_variant[0] ? "/" : "", wanted_variant,
                  available[0] ? available : "none");
    }
    return best;
}
