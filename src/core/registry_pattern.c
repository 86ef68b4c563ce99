/* registry_pattern.c — parsing, formatting, matching and ordering of the registry patterns
 * that say which images an image pull secret applies to (rules in registry_pattern.h). */
#include "core/registry_pattern.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/names.h"
#include "core/registry_host.h"

#define PATH_MAX_LEN 255
#define QUOTE_MAX_BYTES 96

struct parse_context {
    const char *field;
    char quoted[4 * QUOTE_MAX_BYTES + 8];
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
    return agyn_fail(ctx->err, AGYN_UNPROCESSABLE, ctx->field, "registry %s: %s", ctx->quoted,
                     detail);
}

/* Validates the lower-cased "host[:port]" in s[0..len) by the shared host grammar. */
static int validate_host(const struct parse_context *ctx, const char *s, size_t len) {
    const char *problem = registry_host_problem(s, len, true);
    return problem ? reject(ctx, "%s", problem) : 0;
}

static int validate_path(const struct parse_context *ctx, const char *s, size_t len) {
    if (len > PATH_MAX_LEN)
        return reject(ctx, "path must not be more than %d characters", PATH_MAX_LEN);
    size_t start = 0;
    while (start <= len) {
        const char *slash = memchr(s + start, '/', len - start);
        size_t end = slash ? (size_t)(slash - s) : len;
        if (end == start)
            return reject(ctx, "path must not have empty components (a doubled '/')");
        if (!image_ref_path_component_is_valid(s + start, end - start)) {
            char quoted[4 * QUOTE_MAX_BYTES + 8];
            text_quote(s + start, end - start, QUOTE_MAX_BYTES, quoted, sizeof quoted);
            return reject(ctx,
                          "invalid path component %s: use letters and digits separated by '.', "
                          "'_', '__' or '-'",
                          quoted);
        }
        start = end + 1;
    }
    return 0;
}

int registry_pattern_parse(const char *text, const char *field, struct registry_pattern *out,
                           struct agyn_error *err) {
    struct parse_context ctx = {.field = field ? field : "registry", .err = err};
    if (out)
        memset(out, 0, sizeof *out);
    size_t len = text ? strnlen(text, REGISTRY_PATTERN_MAX + 1) : 0;
    text_quote(text, len, QUOTE_MAX_BYTES, ctx.quoted, sizeof ctx.quoted);
    if (!out)
        return agyn_fail(err, AGYN_INTERNAL, ctx.field, "registry_pattern_parse: no output");
    if (len == 0)
        return reject(&ctx, "must not be empty");
    if (len > REGISTRY_PATTERN_MAX)
        return reject(&ctx, "must not be more than %d characters", REGISTRY_PATTERN_MAX);

    char work[REGISTRY_PATTERN_MAX + 1];
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c == 0x7F)
            return reject(&ctx, "must not contain whitespace or control characters");
        if (c >= 0x80)
            return reject(&ctx, "must contain only ASCII characters");
        work[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : (char)c;
    }
    work[len] = '\0';

    char *s = work;
    if (strncmp(s, "https://", 8) == 0)
        s += 8;
    else if (strncmp(s, "http://", 7) == 0)
        s += 7;
    if (strstr(s, "://"))
        return reject(&ctx, "only the http:// and https:// schemes are accepted");
    if (strchr(s, '@'))
        return reject(&ctx, "must not contain user information (\"user@\") or a digest");
    if (strchr(s, '?'))
        return reject(&ctx, "must not contain a query ('?')");
    if (strchr(s, '#'))
        return reject(&ctx, "must not contain a fragment ('#')");

    char *slash = strchr(s, '/');
    size_t host_len = slash ? (size_t)(slash - s) : strlen(s);
    char *path = slash ? slash + 1 : s + host_len;
    size_t path_len = strlen(path);
    if (path_len > 0 && path[path_len - 1] == '/')
        path[--path_len] = '\0';
    if (path_len == 2 && (strcmp(path, "v1") == 0 || strcmp(path, "v2") == 0)) {
        path_len = 0;
    } else if (path_len > 3 && (strcmp(path + path_len - 3, "/v1") == 0 ||
                                strcmp(path + path_len - 3, "/v2") == 0)) {
        path_len -= 3;
    }
    path[path_len] = '\0';

    if (validate_host(&ctx, s, host_len) != 0)
        return -1;
    if (path_len > 0 && validate_path(&ctx, path, path_len) != 0)
        return -1;

    if (image_ref_is_docker_hub_host(s, host_len)) {
        memcpy(out->host, IMAGE_REF_DOCKER_HUB, sizeof IMAGE_REF_DOCKER_HUB);
    } else {
        if (host_len >= sizeof out->host)
            return reject(&ctx, "host must not be more than %zu characters", sizeof out->host - 1);
        memcpy(out->host, s, host_len);
        out->host[host_len] = '\0';
    }
    memcpy(out->path, path, path_len + 1);
    return 0;
}

void registry_pattern_format(const struct registry_pattern *p, char *buf, size_t size) {
    if (!buf || size == 0)
        return;
    if (!p) {
        buf[0] = '\0';
        return;
    }
    snprintf(buf, size, "%s%s%s", p->host, p->path[0] ? "/" : "", p->path);
}

/* Splits "host[:port]" (host possibly "[v6]") into its host name and port ("" when absent). */
static void split_host_port(const char *s, size_t *host_len, const char **port) {
    size_t len = strlen(s);
    const char *colon;
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        colon = close && close[1] == ':' ? close + 1 : NULL;
    } else {
        colon = strrchr(s, ':');
    }
    *host_len = colon ? (size_t)(colon - s) : len;
    *port = colon ? colon + 1 : "";
}

static size_t count_wildcard_labels(const char *host) {
    size_t count = 0;
    for (const char *p = host; *p; p++) {
        if (*p == '*')
            count++;
    }
    return count;
}

static size_t count_path_segments(const char *path) {
    if (!path[0])
        return 0;
    size_t count = 1;
    for (const char *p = path; *p; p++) {
        if (*p == '/')
            count++;
    }
    return count;
}

static int hosts_match(const char *pattern, size_t pattern_len, const char *host, size_t host_len) {
    if (image_ref_is_docker_hub_host(pattern, pattern_len) &&
        image_ref_is_docker_hub_host(host, host_len))
        return 1;
    if (pattern[0] == '[' || host[0] == '[')
        return pattern_len == host_len && strncasecmp(pattern, host, host_len) == 0;
    size_t p = 0, h = 0;
    for (;;) {
        const char *p_dot = memchr(pattern + p, '.', pattern_len - p);
        const char *h_dot = memchr(host + h, '.', host_len - h);
        size_t p_end = p_dot ? (size_t)(p_dot - pattern) : pattern_len;
        size_t h_end = h_dot ? (size_t)(h_dot - host) : host_len;
        size_t p_label = p_end - p, h_label = h_end - h;
        int wildcard = p_label == 1 && pattern[p] == '*';
        if (h_label == 0)
            return 0;
        if (!wildcard && (p_label != h_label || strncasecmp(pattern + p, host + h, h_label) != 0))
            return 0;
        if (!p_dot || !h_dot)
            return !p_dot && !h_dot; /* equal label count */
        p = p_end + 1;
        h = h_end + 1;
    }
}

int registry_pattern_matches(const struct registry_pattern *p, const struct image_ref *image) {
    if (!p || !image || !p->host[0] || !image->registry[0])
        return 0;
    size_t pattern_host_len, image_host_len;
    const char *pattern_port, *image_port;
    split_host_port(p->host, &pattern_host_len, &pattern_port);
    split_host_port(image->registry, &image_host_len, &image_port);
    if (strcmp(pattern_port, image_port) != 0)
        return 0;
    if (!hosts_match(p->host, pattern_host_len, image->registry, image_host_len))
        return 0;
    size_t path_len = strlen(p->path);
    if (path_len == 0)
        return 1;
    return strncmp(image->repository, p->path, path_len) == 0 &&
           (image->repository[path_len] == '\0' || image->repository[path_len] == '/');
}

int registry_pattern_compare_specificity(const struct registry_pattern *a,
                                         const struct registry_pattern *b) {
    size_t wildcards_a = count_wildcard_labels(a->host);
    size_t wildcards_b = count_wildcard_labels(b->host);
    if (wildcards_a != wildcards_b)
        return wildcards_a < wildcards_b ? -1 : 1;
    size_t segments_a = count_path_segments(a->path);
    size_t segments_b = count_path_segments(b->path);
    if (segments_a != segments_b)
        return segments_a > segments_b ? -1 : 1;
    return 0;
}
