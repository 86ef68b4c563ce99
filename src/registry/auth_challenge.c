/* auth_challenge.c — a strict parser for WWW-Authenticate values:
 *   challenges = challenge *( "," challenge )
 *   challenge  = scheme [ 1*SP ( token68 / auth-param *( "," auth-param ) ) ]
 *   auth-param = token BWS "=" BWS ( token / quoted-string )
 * Only realm, service, scope and error are kept; every other parameter is checked and skipped. */
#include "registry/auth_challenge.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

#define VALUE_SCRATCH_MAX 4096

static bool is_tchar(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static size_t token_length(const char *p) {
    size_t n = 0;
    while (is_tchar((unsigned char)p[n]))
        n++;
    return n;
}

/* p points at the opening quote; returns the position after the closing one, or NULL. */
static const char *read_quoted(const char *p, char *buf, size_t size) {
    size_t n = 0;
    for (p++;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\0')
            return NULL;
        if (c == '"')
            break;
        if (c == '\\') {
            c = (unsigned char)*++p;
            if (c == '\0')
                return NULL;
        }
        if ((c < 0x20 && c != '\t') || c == 0x7f || n + 1 >= size)
            return NULL;
        buf[n++] = (char)c;
    }
    buf[n] = '\0';
    return p + 1;
}

/* An unquoted value: visible ASCII up to a comma, quote or whitespace (more lenient than
 * token so that unquoted URLs still parse). */
static const char *read_bare(const char *p, char *buf, size_t size) {
    size_t n = 0;
    for (;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c <= 0x20 || c >= 0x7f || c == ',' || c == '"' || c == '\\')
            break;
        if (n + 1 >= size)
            return NULL;
        buf[n++] = (char)c;
    }
    if (n == 0)
        return NULL;
    buf[n] = '\0';
    return p;
}

struct param_slot {
    const char *name;
    char *buf;
    size_t size;
    bool seen;
};

/* Stores a known parameter; -1 when it was already given or does not fit. */
static int store_param(struct param_slot *slots, size_t count, const char *name, size_t name_len,
                       const char *value) {
    for (size_t i = 0; i < count; i++) {
        if (strlen(slots[i].name) != name_len || strncasecmp(slots[i].name, name, name_len) != 0)
            continue;
        size_t len = strlen(value);
        if (slots[i].seen || len >= slots[i].size)
            return -1;
        memcpy(slots[i].buf, value, len + 1);
        slots[i].seen = true;
        return 0;
    }
    return 0; /* a parameter we do not use */
}

static enum auth_scheme scheme_of(const char *p, size_t n) {
    if (n == 5 && strncasecmp(p, "Basic", 5) == 0)
        return AUTH_SCHEME_BASIC;
    if (n == 6 && strncasecmp(p, "Bearer", 6) == 0)
        return AUTH_SCHEME_BEARER;
    return AUTH_SCHEME_NONE;
}

/* Parses the parameters after a scheme, from p; returns where the next challenge starts (at its
 * scheme token, or at the end), or NULL when malformed. */
static const char *parse_params(const char *p, struct auth_challenge *cur) {
    char value[VALUE_SCRATCH_MAX];
    struct param_slot slots[] = {
        {"realm", cur->realm, sizeof cur->realm, false},
        {"service", cur->service, sizeof cur->service, false},
        {"scope", cur->scope, sizeof cur->scope, false},
        {"error", cur->error, sizeof cur->error, false},
    };
    bool first = true;
    for (;;) {
        const char *q = skip_ws(p);
        if (*q == '\0')
            return q;
        if (first) {
            if (q == p && *q != ',')
                return NULL; /* the scheme must be followed by whitespace or a comma */
            if (*q == ',')
                return q; /* a challenge without parameters */
        } else {
            if (*q != ',')
                return NULL; /* parameters are comma-separated */
            q = skip_ws(q + 1);
            while (*q == ',')
                q = skip_ws(q + 1);
            if (*q == '\0')
                return q;
        }
        size_t name_len = token_length(q);
        if (name_len == 0)
            return NULL;
        const char *after = skip_ws(q + name_len);
        if (*after != '=')
            return q; /* "Scheme ..." of the next challenge */
        const char *v = after + 1;
        if (*v == '=' || *v == ',' || *v == '\0') { /* token68, e.g. "Negotiate abc==" */
            if (!first)
                return NULL;
            while (*v == '=')
                v++;
            p = v;
            first = false;
            continue;
        }
        v = skip_ws(v);
        const char *end =
            *v == '"' ? read_quoted(v, value, sizeof value) : read_bare(v, value, sizeof value);
        if (!end || store_param(slots, sizeof slots / sizeof slots[0], q, name_len, value) != 0)
            return NULL;
        p = end;
        first = false;
    }
}

int auth_challenge_parse(const char *header, struct auth_challenge *out) {
    struct auth_challenge basic, bearer, cur;
    bool have_basic = false, have_bearer = false;
    memset(out, 0, sizeof *out);
    if (!header)
        return -1;
    const char *p = header;
    for (;;) {
        p = skip_ws(p);
        while (*p == ',')
            p = skip_ws(p + 1);
        if (*p == '\0')
            break;
        size_t n = token_length(p);
        if (n == 0)
            return -1;
        memset(&cur, 0, sizeof cur);
        cur.scheme = scheme_of(p, n);
        p = parse_params(p + n, &cur);
        if (!p)
            return -1;
        if (cur.scheme == AUTH_SCHEME_BEARER && cur.realm[0] == '\0')
            return -1;
        if (cur.scheme == AUTH_SCHEME_BEARER && !have_bearer) {
            bearer = cur;
            have_bearer = true;
        } else if (cur.scheme == AUTH_SCHEME_BASIC && !have_basic) {
            basic = cur;
            have_basic = true;
        }
    }
    if (have_bearer)
        *out = bearer;
    else if (have_basic)
        *out = basic;
    else
        return -1;
    return 0;
}
