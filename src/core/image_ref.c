/* image_ref.c — parsing, normalizing and formatting container image references by the Docker
 * reference grammar (distribution/reference reference.go and normalize.go); see image_ref.h for
 * where this parser is deliberately stricter. */
#include "core/image_ref.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/names.h"
#include "core/registry_host.h"

#define REPOSITORY_MAX 255
#define REGISTRY_MAX 255
#define TAG_MAX 128
#define DIGEST_HEX_MIN 32
#define OFFICIAL_PREFIX "library/"
#define QUOTE_MAX_BYTES 96

struct parse_context {
    const char *field;
    char quoted[4 * QUOTE_MAX_BYTES + 8]; /* the whole input, quoted for messages */
    struct agyn_error *err;
};

static int reject(const struct parse_context *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int reject(const struct parse_context *ctx, const char *fmt, ...) {
    char detail[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    return agyn_fail(ctx->err, AGYN_UNPROCESSABLE, ctx->field, "image %s: %s", ctx->quoted, detail);
}

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

static int is_lower(char c) {
    return c >= 'a' && c <= 'z';
}

static int is_upper(char c) {
    return c >= 'A' && c <= 'Z';
}

static int is_alnum(char c) {
    return is_digit(c) || is_lower(c) || is_upper(c);
}

static int is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int is_word(char c) {
    return is_alnum(c) || c == '_';
}

static char to_lower(char c) {
    return is_upper(c) ? (char)(c - 'A' + 'a') : c;
}

static const char *find_last(const char *s, size_t len, char wanted) {
    for (size_t i = len; i > 0; i--) {
        if (s[i - 1] == wanted)
            return s + i - 1;
    }
    return NULL;
}

int image_ref_path_component_is_valid(const char *s, size_t len) {
    if (!s || len == 0)
        return 0;
    size_t i = 0;
    for (;;) {
        if (i >= len || !(is_lower(s[i]) || is_digit(s[i])))
            return 0; /* every separator must be followed by an alphanumeric run */
        while (i < len && (is_lower(s[i]) || is_digit(s[i])))
            i++;
        if (i == len)
            return 1;
        if (s[i] == '.') {
            i++;
        } else if (s[i] == '_') {
            i++;
            if (i < len && s[i] == '_')
                i++;
        } else if (s[i] == '-') {
            while (i < len && s[i] == '-')
                i++;
        } else {
            return 0;
        }
    }
}

int image_ref_is_docker_hub_host(const char *host, size_t len) {
    static const char *const aliases[] = {"docker.io", "index.docker.io", "registry-1.docker.io"};
    if (!host)
        return 0;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strlen(aliases[i]) == len && strncasecmp(host, aliases[i], len) == 0)
            return 1;
    }
    return 0;
}

/* distribution: a first component is a registry when it has '.' or ':' or is "localhost". */
static int looks_like_registry(const char *s, size_t len) {
    if (memchr(s, '.', len) || memchr(s, ':', len))
        return 1;
    return len == 9 && strncasecmp(s, "localhost", 9) == 0;
}

/* host [':' port] by the host grammar registry patterns share (core/registry_host.h). */
static int validate_registry(const struct parse_context *ctx, const char *s, size_t len) {
    if (len > REGISTRY_MAX)
        return reject(ctx, "registry host must not be more than %d characters", REGISTRY_MAX);
    const char *problem = registry_host_problem(s, len, false);
    if (!problem)
        return 0;
    char quoted[4 * QUOTE_MAX_BYTES + 8];
    text_quote(s, len, QUOTE_MAX_BYTES, quoted, sizeof quoted);
    return reject(ctx, "registry %s: %s", quoted, problem);
}

static int validate_path(const struct parse_context *ctx, const char *s, size_t len) {
    if (len == 0)
        return reject(ctx, "repository name must not be empty");
    for (size_t i = 0; i < len; i++) {
        if (is_upper(s[i]))
            return reject(ctx, "repository name must be lowercase");
    }
    size_t start = 0;
    while (start <= len) {
        const char *slash = memchr(s + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - s) : len;
        if (end == start)
            return reject(ctx, "repository name must not have empty path components (a leading, "
                               "trailing or doubled '/')");
        if (!image_ref_path_component_is_valid(s + start, end - start)) {
            char quoted[4 * QUOTE_MAX_BYTES + 8];
            text_quote(s + start, end - start, QUOTE_MAX_BYTES, quoted, sizeof quoted);
            return reject(ctx,
                          "invalid repository path component %s: use lowercase letters and "
                          "digits separated by '.', '_', '__' or '-'",
                          quoted);
        }
        start = end + 1;
    }
    return 0;
}

static int validate_tag(const struct parse_context *ctx, const char *s, size_t len) {
    if (len > TAG_MAX)
        return reject(ctx, "tag must not be more than %d characters", TAG_MAX);
    int valid = is_word(s[0]);
    for (size_t i = 1; valid && i < len; i++)
        valid = is_word(s[i]) || s[i] == '.' || s[i] == '-';
    if (!valid) {
        char quoted[4 * QUOTE_MAX_BYTES + 8];
        text_quote(s, len, QUOTE_MAX_BYTES, quoted, sizeof quoted);
        return reject(ctx,
                      "invalid tag %s: use letters, digits, '_', '.' and '-', not starting with "
                      "'.' or '-'",
                      quoted);
    }
    return 0;
}

/* digest := algorithm ':' hex; algorithm := component ([-_+.] component)*, component :=
 * [A-Za-z][A-Za-z0-9]*; hex := [0-9a-fA-F]{32,}; then the go-digest rules for known algorithms. */
static int validate_digest(const struct parse_context *ctx, const char *s, size_t len,
                           size_t capacity) {
    static const struct {
        const char *name;
        size_t hex_len;
    } algorithms[] = {{"sha256", 64}, {"sha384", 96}, {"sha512", 128}};
    char quoted[4 * QUOTE_MAX_BYTES + 8];
    text_quote(s, len, QUOTE_MAX_BYTES, quoted, sizeof quoted);
    const char *colon = memchr(s, ':', len);
    size_t algorithm_len = colon ? (size_t)(colon - s) : 0;
    int valid = colon != NULL && algorithm_len > 0;
    for (size_t i = 0; valid && i < algorithm_len; i++) {
        int component_start = i == 0 || strchr("-_+.", s[i - 1]) != NULL;
        if (component_start)
            valid = (is_lower(s[i]) || is_upper(s[i]));
        else
            valid = is_alnum(s[i]) || (strchr("-_+.", s[i]) != NULL && i + 1 < algorithm_len);
    }
    size_t hex_len = colon ? len - algorithm_len - 1 : 0;
    for (size_t i = 0; valid && i < hex_len; i++)
        valid = is_hex(colon[1 + i]);
    if (!valid || hex_len < DIGEST_HEX_MIN)
        return reject(ctx, "invalid digest %s: expected algorithm:hex such as sha256:<64 hex>",
                      quoted);
    size_t known = sizeof algorithms / sizeof algorithms[0];
    size_t index = 0;
    while (index < known && !(strlen(algorithms[index].name) == algorithm_len &&
                              memcmp(algorithms[index].name, s, algorithm_len) == 0))
        index++;
    if (index == known)
        return reject(ctx, "unsupported digest algorithm \"%.*s\": use sha256", (int)algorithm_len,
                      s);
    if (hex_len != algorithms[index].hex_len)
        return reject(ctx, "invalid digest %s: %s needs exactly %zu hex characters", quoted,
                      algorithms[index].name, algorithms[index].hex_len);
    for (size_t i = 0; i < hex_len; i++) {
        if (is_upper(colon[1 + i]))
            return reject(ctx, "invalid digest %s: hex must be lowercase", quoted);
    }
    if (len >= capacity)
        return reject(ctx, "%s digests are not supported: pin the image by its sha256 digest",
                      algorithms[index].name);
    return 0;
}

int image_ref_parse(const char *text, const char *field, struct image_ref *out,
                    struct agyn_error *err) {
    struct parse_context ctx = {.field = field ? field : "image", .err = err};
    if (out)
        memset(out, 0, sizeof *out);
    size_t len = text ? strnlen(text, IMAGE_REF_MAX + 1) : 0;
    text_quote(text, len, QUOTE_MAX_BYTES, ctx.quoted, sizeof ctx.quoted);
    if (!out)
        return agyn_fail(err, AGYN_INTERNAL, ctx.field, "image_ref_parse: no output");
    if (len == 0)
        return reject(&ctx, "must not be empty");
    if (len > IMAGE_REF_MAX)
        return reject(&ctx, "must not be more than %d characters", IMAGE_REF_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c == 0x7F)
            return reject(&ctx, "must not contain whitespace or control characters");
        if (c >= 0x80)
            return reject(&ctx, "must contain only ASCII characters");
    }
    if (strstr(text, "://"))
        return reject(&ctx, "must not include a scheme such as \"https://\"");
    if (len == 64) {
        size_t hex = 0;
        while (hex < len && (is_digit(text[hex]) || (text[hex] >= 'a' && text[hex] <= 'f')))
            hex++;
        if (hex == len)
            return reject(&ctx, "a 64-character hexadecimal identifier is not a repository name");
    }

    /* name [':' tag] ['@' digest]: the digest starts at the first '@', the tag at the last ':'
     * after the last '/' of what precedes it. */
    const char *at = memchr(text, '@', len);
    size_t name_tag_len = at ? (size_t)(at - text) : len;
    if (at && len - name_tag_len - 1 == 0)
        return reject(&ctx, "digest must not be empty after '@'");
    const char *last_slash = find_last(text, name_tag_len, '/');
    size_t last_part = last_slash ? (size_t)(last_slash - text) + 1 : 0;
    const char *colon = find_last(text + last_part, name_tag_len - last_part, ':');
    size_t name_len = colon ? (size_t)(colon - text) : name_tag_len;
    if (colon && name_tag_len - name_len - 1 == 0)
        return reject(&ctx, "tag must not be empty after ':'");
    if (name_len == 0)
        return reject(&ctx, "repository name must not be empty");

    const char *remote = text;
    size_t remote_len = name_len;
    int docker_hub = 1;
    const char *first_slash = memchr(text, '/', name_len);
    if (first_slash && looks_like_registry(text, (size_t)(first_slash - text))) {
        size_t registry_len = (size_t)(first_slash - text);
        if (validate_registry(&ctx, text, registry_len) != 0)
            return -1;
        docker_hub = image_ref_is_docker_hub_host(text, registry_len);
        if (!docker_hub) {
            for (size_t i = 0; i < registry_len; i++)
                out->registry[i] = to_lower(text[i]);
            out->registry[registry_len] = '\0';
        }
        remote = first_slash + 1;
        remote_len = name_len - registry_len - 1;
    }
    if (docker_hub)
        memcpy(out->registry, IMAGE_REF_DOCKER_HUB, sizeof IMAGE_REF_DOCKER_HUB);
    if (validate_path(&ctx, remote, remote_len) != 0)
        goto fail;

    const char *prefix = docker_hub && !memchr(remote, '/', remote_len) ? OFFICIAL_PREFIX : "";
    size_t prefix_len = strlen(prefix);
    if (prefix_len + remote_len > REPOSITORY_MAX) {
        reject(&ctx, "repository name must not be more than %d characters", REPOSITORY_MAX);
        goto fail;
    }
    memcpy(out->repository, prefix, prefix_len);
    memcpy(out->repository + prefix_len, remote, remote_len);
    out->repository[prefix_len + remote_len] = '\0';

    if (colon) {
        size_t tag_len = name_tag_len - name_len - 1;
        if (validate_tag(&ctx, colon + 1, tag_len) != 0)
            goto fail;
        memcpy(out->tag, colon + 1, tag_len);
        out->tag[tag_len] = '\0';
    }
    if (at) {
        size_t digest_len = len - name_tag_len - 1;
        if (validate_digest(&ctx, at + 1, digest_len, sizeof out->digest) != 0)
            goto fail;
        memcpy(out->digest, at + 1, digest_len);
        out->digest[digest_len] = '\0';
    }
    if (!colon && !at)
        memcpy(out->tag, "latest", sizeof "latest");
    return 0;

fail:
    memset(out, 0, sizeof *out);
    return -1;
}

void image_ref_format(const struct image_ref *ref, char *buf, size_t size) {
    if (!buf || size == 0)
        return;
    if (!ref) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "%s/%s%s%s%s%s", ref->registry, ref->repository, ref->tag[0] ? ":" : "",
             ref->tag, ref->digest[0] ? "@" : "", ref->digest);
}

const char *image_ref_api_host(const struct image_ref *ref) {
    if (!ref)
        return "";
    if (strcmp(ref->registry, IMAGE_REF_DOCKER_HUB) == 0)
        return "registry-1.docker.io";
    return ref->registry;
}
