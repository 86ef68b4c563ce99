/* image_glob.c — kubelet-style image glob matching (see image_glob.h). */
#include "core/image_glob.h"

#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

struct glob_parts {
    char host[IMAGE_GLOB_MAX + 1];
    char port[16];
    char path[IMAGE_GLOB_MAX + 1];
};

/* "scheme://host[:port][/path]" into parts; -1 when too long or without a host. */
static int split(const char *text, struct glob_parts *out) {
    memset(out, 0, sizeof *out);
    if (strncasecmp(text, "https://", 8) == 0)
        text += 8;
    else if (strncasecmp(text, "http://", 7) == 0)
        text += 7;
    if (strlen(text) > IMAGE_GLOB_MAX)
        return -1;
    const char *slash = strchr(text, '/');
    size_t host_len = slash ? (size_t)(slash - text) : strlen(text);
    snprintf(out->path, sizeof out->path, "%s", slash ? slash : "");
    memcpy(out->host, text, host_len);
    out->host[host_len] = '\0';
    /* A port follows the last ':' outside an IPv6 literal's brackets. */
    char *bracket = strrchr(out->host, ']');
    char *colon = strrchr(bracket ? bracket : out->host, ':');
    if (colon) {
        if (strlen(colon + 1) >= sizeof out->port)
            return -1;
        snprintf(out->port, sizeof out->port, "%s", colon + 1);
        *colon = '\0';
    }
    return out->host[0] ? 0 : -1;
}

static size_t label_count(const char *host) {
    size_t count = 1;
    for (const char *p = host; *p; p++)
        count += *p == '.';
    return count;
}

int image_glob_validate(const char *glob, const char *field, struct agyn_error *err) {
    for (const unsigned char *p = (const unsigned char *)glob; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                             "%s must be printable ASCII without spaces", field);
    }
    struct glob_parts parts;
    if (!*glob || split(glob, &parts) != 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s must be a host glob with an optional port and path (at most %d "
                         "bytes), e.g. \"*.dkr.ecr.*.amazonaws.com\"",
                         field, IMAGE_GLOB_MAX);
    return 0;
}

bool image_glob_matches(const char *glob, const char *target) {
    struct glob_parts g, t;
    if (split(glob, &g) != 0 || split(target, &t) != 0)
        return false;
    if (strcmp(g.port, t.port) != 0 || strncmp(t.path, g.path, strlen(g.path)) != 0 ||
        label_count(g.host) != label_count(t.host))
        return false;
    char *g_save = NULL, *t_save = NULL;
    char *g_label = strtok_r(g.host, ".", &g_save);
    char *t_label = strtok_r(t.host, ".", &t_save);
    while (g_label && t_label) {
        if (fnmatch(g_label, t_label, 0) != 0)
            return false;
        g_label = strtok_r(NULL, ".", &g_save);
        t_label = strtok_r(NULL, ".", &t_save);
    }
    /* strtok_r skips empty labels: both must run out together ("a..b" vs "a.b.c"). */
    return !g_label && !t_label;
}
