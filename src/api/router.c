/* router.c — matching request paths against the route table. */
#include "api/router.h"

#include <stdio.h>
#include <string.h>

/* Compares one pattern with the path segment by segment, capturing placeholders. */
static int match_pattern(const char *pattern, const char *path, struct api_request *req) {
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return 0;
        p++, s++;
        const char *p_end = strchr(p, '/');
        const char *s_end = strchr(s, '/');
        size_t p_len = p_end ? (size_t)(p_end - p) : strlen(p);
        size_t s_len = s_end ? (size_t)(s_end - s) : strlen(s);
        if (s_len == 0)
            return 0;
        if (p[0] == '{') {
            char *target = NULL;
            size_t capacity = 0;
            if (strncmp(p, "{org}", p_len) == 0)
                target = req->org_id, capacity = sizeof req->org_id;
            else if (strncmp(p, "{id}", p_len) == 0)
                target = req->id, capacity = sizeof req->id;
            else
                target = req->sub, capacity = sizeof req->sub;
            if (s_len >= capacity) {
                /* Longer than any valid value: keep a marker the validator rejects. */
                snprintf(target, capacity, "%s", "-");
            } else {
                memcpy(target, s, s_len);
                target[s_len] = '\0';
            }
        } else if (p_len != s_len || strncmp(p, s, p_len) != 0) {
            return 0;
        }
        p += p_len, s += s_len;
    }
    return *p == '\0' && *s == '\0';
}

enum route_match router_match(const char *method, const char *path, struct api_request *req,
                              const struct route **out) {
    enum route_match result = ROUTE_NO_PATH;
    for (const struct route *r = API_ROUTES; r->method; r++) {
        if (!match_pattern(r->pattern, path, req))
            continue;
        if (strcmp(r->method, method) == 0 ||
            (strcmp(method, "HEAD") == 0 && strcmp(r->method, "GET") == 0)) {
            *out = r;
            return ROUTE_FOUND;
        }
        result = ROUTE_WRONG_METHOD;
    }
    return result;
}
