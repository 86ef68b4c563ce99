/* egress.c — the egress policy (egress.h): address classes, the operator's allow list,
 * agynd's own addresses, the libcurl socket hook and the per-thread outbound deadline. */
#include "net/egress.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/xalloc.h"
#include "base/clock.h"

#define ALLOW_ADDRESSES_MAX 256 /* entries after names are resolved */
#define OWN_MAX 16
#define LOCAL_MAX 64
#define ENTRY_TEXT_MAX 300

/* Every address is kept as 16 bytes, IPv4 as IPv4-mapped IPv6 (::ffff:a.b.c.d). */
struct allow_rule {
    unsigned char addr[16];
    int prefix;    /* bits that must match */
    unsigned port; /* 0: a CIDR (any port); else a host:port entry (prefix 128) */
};

struct own_address {
    unsigned char addr[16];
    unsigned port;
    bool any_local; /* listening on 0.0.0.0 / [::]: every local address at port */
};

struct policy {
    struct allow_rule allow[ALLOW_ADDRESSES_MAX];
    size_t allow_count;
    struct own_address own[OWN_MAX];
    size_t own_count;
    unsigned char local[LOCAL_MAX][16]; /* interface addresses, for a wildcard listen */
    size_t local_count;
};

static pthread_rwlock_t policy_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct policy current;
static _Thread_local int64_t thread_deadline_ms;

static const unsigned char MAPPED_PREFIX[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

/* ---- addresses ------------------------------------------------------------------------- */

static void from_v4(const struct in_addr *v4, unsigned char out[16]) {
    memcpy(out, MAPPED_PREFIX, 12);
    memcpy(out + 12, &v4->s_addr, 4);
}

static bool is_mapped(const unsigned char a[16]) {
    return memcmp(a, MAPPED_PREFIX, 12) == 0;
}

/* 16-byte form and port of a sockaddr; false for families other than IPv4/IPv6. */
static bool from_sockaddr(const struct sockaddr *sa, unsigned char out[16], unsigned *port) {
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)sa;
        from_v4(&v4->sin_addr, out);
        *port = ntohs(v4->sin_port);
        return true;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)sa;
        memcpy(out, v6->sin6_addr.s6_addr, 16);
        *port = ntohs(v6->sin6_port);
        return true;
    }
    return false;
}

/* An address literal ("127.0.0.1", "::1", "[::1]" not accepted here). */
static bool parse_literal(const char *text, unsigned char out[16]) {
    struct in_addr v4;
    struct in6_addr v6;
    if (inet_pton(AF_INET, text, &v4) == 1) {
        from_v4(&v4, out);
        return true;
    }
    if (inet_pton(AF_INET6, text, &v6) == 1) {
        memcpy(out, v6.s6_addr, 16);
        return true;
    }
    return false;
}

static bool in_v4(const unsigned char b[4], unsigned a0, unsigned a1, unsigned a2, unsigned a3,
                  int bits) {
    uint32_t value = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
    uint32_t net = a0 << 24 | a1 << 16 | a2 << 8 | a3;
    uint32_t mask = bits == 0 ? 0 : 0xffffffffu << (32 - bits);
    return (value & mask) == net;
}

static enum egress_class classify_v4(const unsigned char b[4]) {
    if (in_v4(b, 169, 254, 0, 0, 16) || in_v4(b, 100, 100, 100, 200, 32))
        return EGRESS_LINK_LOCAL; /* link-local, AWS/GCP/Azure and Alibaba metadata */
    if (in_v4(b, 0, 0, 0, 0, 8))
        return EGRESS_UNSPECIFIED;
    if (in_v4(b, 127, 0, 0, 0, 8))
        return EGRESS_LOOPBACK;
    if (in_v4(b, 10, 0, 0, 0, 8) || in_v4(b, 172, 16, 0, 0, 12) || in_v4(b, 192, 168, 0, 0, 16) ||
        in_v4(b, 100, 64, 0, 0, 10))
        return EGRESS_PRIVATE;
    if (in_v4(b, 224, 0, 0, 0, 4) || in_v4(b, 255, 255, 255, 255, 32))
        return EGRESS_MULTICAST;
    if (in_v4(b, 240, 0, 0, 0, 4) || in_v4(b, 192, 0, 0, 0, 24) || in_v4(b, 192, 0, 2, 0, 24) ||
        in_v4(b, 192, 88, 99, 0, 24) || in_v4(b, 198, 18, 0, 0, 15) ||
        in_v4(b, 198, 51, 100, 0, 24) || in_v4(b, 203, 0, 113, 0, 24))
        return EGRESS_RESERVED;
    return EGRESS_PUBLIC;
}

static enum egress_class classify16(const unsigned char a[16]) {
    static const unsigned char zero[16] = {0};
    static const unsigned char nat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
    static const unsigned char metadata[16] = {0xfd, 0, 0x0e, 0xc2, 0, 0, 0,    0,
                                               0,    0, 0,    0,    0, 0, 0x02, 0x54};
    if (is_mapped(a) || memcmp(a, nat64, 12) == 0)
        return classify_v4(a + 12);
    if (a[0] == 0x20 && a[1] == 0x02) /* 6to4 carries an IPv4 address */
        return classify_v4(a + 2);
    if (memcmp(a, zero, 16) == 0)
        return EGRESS_UNSPECIFIED;
    if (memcmp(a, zero, 15) == 0 && a[15] == 1)
        return EGRESS_LOOPBACK;
    if (memcmp(a, metadata, 16) == 0 || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80))
        return EGRESS_LINK_LOCAL;
    if ((a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0))
        return EGRESS_PRIVATE; /* unique local, and the old site-local */
    if (a[0] == 0xff)
        return EGRESS_MULTICAST;
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return EGRESS_RESERVED; /* documentation */
    if ((a[0] & 0xe0) == 0x20)
        return EGRESS_PUBLIC; /* global unicast */
    return EGRESS_RESERVED;
}

enum egress_class egress_classify(const struct sockaddr *addr) {
    unsigned char a[16];
    unsigned port;
    if (!addr || !from_sockaddr(addr, a, &port))
        return EGRESS_RESERVED;
    return classify16(a);
}

const char *egress_class_name(enum egress_class cls) {
    switch (cls) {
    case EGRESS_PUBLIC:
        return "public";
    case EGRESS_LINK_LOCAL:
        return "link-local or cloud metadata";
    case EGRESS_LOOPBACK:
        return "loopback";
    case EGRESS_PRIVATE:
        return "private";
    case EGRESS_UNSPECIFIED:
        return "unspecified";
    case EGRESS_MULTICAST:
        return "multicast or broadcast";
    case EGRESS_RESERVED:
        return "reserved";
    }
    return "reserved";
}

static void format_address(const unsigned char a[16], unsigned port, char *out, size_t size) {
    char text[INET6_ADDRSTRLEN];
    if (is_mapped(a)) {
        inet_ntop(AF_INET, a + 12, text, sizeof text);
        snprintf(out, size, "%s:%u", text, port);
    } else {
        inet_ntop(AF_INET6, a, text, sizeof text);
        snprintf(out, size, "[%s]:%u", text, port);
    }
}

static bool prefix_matches(const unsigned char a[16], const unsigned char net[16], int bits) {
    int whole = bits / 8, rest = bits % 8;
    if (memcmp(a, net, (size_t)whole) != 0)
        return false;
    if (rest == 0)
        return true;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (a[whole] & mask) == (net[whole] & mask);
}

/* ---- parsing entries ------------------------------------------------------------------- */

static int parse_port(const char *text, unsigned *out) {
    if (!text[0] || strlen(text) > 5)
        return -1;
    unsigned value = 0;
    for (const char *c = text; *c; c++) {
        if (*c < '0' || *c > '9')
            return -1;
        value = value * 10 + (unsigned)(*c - '0');
    }
    if (value < 1 || value > 65535)
        return -1;
    *out = value;
    return 0;
}

/* Resolves a name once (numeric port). Adds one rule per address to rules. */
static int resolve_name(const char *name, unsigned port, struct allow_rule *rules, size_t max,
                        size_t *count) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *found = NULL;
    if (getaddrinfo(name, NULL, &hints, &found) != 0 || !found)
        return -1;
    int rc = 0;
    for (struct addrinfo *ai = found; ai; ai = ai->ai_next) {
        unsigned char a[16];
        unsigned ignored;
        if (!from_sockaddr(ai->ai_addr, a, &ignored))
            continue;
        bool seen = false;
        for (size_t i = 0; i < *count && !seen; i++)
            seen = rules[i].port == port && memcmp(rules[i].addr, a, 16) == 0;
        if (seen)
            continue;
        if (*count >= max) {
            rc = -1;
            break;
        }
        memcpy(rules[*count].addr, a, 16);
        rules[*count].prefix = 128;
        rules[*count].port = port;
        (*count)++;
    }
    freeaddrinfo(found);
    return rc;
}

static bool text_is_plain(const char *text) {
    size_t len = strlen(text);
    if (len == 0 || len >= ENTRY_TEXT_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c <= 0x20 || c >= 0x7f)
            return false;
    }
    return true;
}

/* "host:port" / "[v6]:port" into host and port; -1 when it is not of that shape. */
static int split_host_port(const char *text, char *host, size_t size, unsigned *port) {
    const char *port_text;
    size_t host_len;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (!close || close[1] != ':')
            return -1;
        host_len = (size_t)(close - text - 1);
        memcpy(host, text + 1, host_len < size ? host_len : 0);
        port_text = close + 2;
    } else {
        const char *colon = strchr(text, ':');
        if (!colon || strchr(colon + 1, ':'))
            return -1;
        host_len = (size_t)(colon - text);
        memcpy(host, text, host_len < size ? host_len : 0);
        port_text = colon + 1;
    }
    if (host_len == 0 || host_len >= size)
        return -1;
    host[host_len] = '\0';
    return parse_port(port_text, port);
}

/* One --egress-allow value into rules (several for a name with several addresses). */
static int parse_allow(const char *entry, struct allow_rule *rules, size_t max, size_t *count,
                       struct agyn_error *err) {
    static const char expected[] =
        "expected a CIDR (10.0.0.0/8, fd00::/8), an address, or HOST:PORT ([::1]:5000)";
    if (!entry || !text_is_plain(entry))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                         "--egress-allow needs a value without spaces (%s)", expected);
    char host[ENTRY_TEXT_MAX];
    unsigned char a[16];
    unsigned port = 0;
    const char *slash = strchr(entry, '/');
    if (*count >= max)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                         "too many --egress-allow addresses (at most %d)", ALLOW_ADDRESSES_MAX);
    if (slash) {
        size_t len = (size_t)(slash - entry);
        const char *bits_text = slash + 1;
        memcpy(host, entry, len);
        host[len] = '\0';
        char *end = NULL;
        long bits = strtol(bits_text, &end, 10);
        bool v4 = strchr(host, ':') == NULL;
        if (!parse_literal(host, a) || !bits_text[0] || *end || bits < 0 || bits > (v4 ? 32 : 128))
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                             "--egress-allow \"%s\" is not a valid CIDR (%s)", entry, expected);
        memcpy(rules[*count].addr, a, 16);
        rules[*count].prefix = (int)bits + (v4 ? 96 : 0);
        rules[*count].port = 0;
        (*count)++;
        return 0;
    }
    if (parse_literal(entry, a)) { /* one address, any port */
        memcpy(rules[*count].addr, a, 16);
        rules[*count].prefix = 128;
        rules[*count].port = 0;
        (*count)++;
        return 0;
    }
    if (split_host_port(entry, host, sizeof host, &port) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                         "--egress-allow \"%s\" is not valid (%s)", entry, expected);
    if (parse_literal(host, a)) {
        memcpy(rules[*count].addr, a, 16);
        rules[*count].prefix = 128;
        rules[*count].port = port;
        (*count)++;
        return 0;
    }
    if (entry[0] == '[')
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                         "--egress-allow \"%s\": not an IPv6 address in brackets", entry);
    if (resolve_name(host, port, rules, max, count) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "egress-allow",
                         "--egress-allow \"%s\": cannot resolve %s", entry, host);
    return 0;
}

int egress_check_allow_entry(const char *entry, struct agyn_error *err) {
    struct allow_rule rules[ALLOW_ADDRESSES_MAX];
    size_t count = 0;
    return parse_allow(entry, rules, ALLOW_ADDRESSES_MAX, &count, err);
}

static void load_local_addresses(struct policy *p) {
    struct ifaddrs *list = NULL;
    if (getifaddrs(&list) != 0)
        return;
    for (struct ifaddrs *ifa = list; ifa && p->local_count < LOCAL_MAX; ifa = ifa->ifa_next) {
        unsigned ignored;
        if (ifa->ifa_addr && from_sockaddr(ifa->ifa_addr, p->local[p->local_count], &ignored))
            p->local_count++;
    }
    freeifaddrs(list);
}

/* One listen address ("127.0.0.1:8080", "[::]:8080", "localhost:8080") into p->own. */
static int add_own(struct policy *p, const char *listen, struct agyn_error *err) {
    char host[ENTRY_TEXT_MAX];
    unsigned port = 0;
    unsigned char a[16];
    const char *last_colon = listen ? strrchr(listen, ':') : NULL;
    if (last_colon && strcmp(last_colon, ":0") == 0)
        return 0; /* not bound yet: egress_add_own_address follows with the real port */
    if (!text_is_plain(listen) || split_host_port(listen, host, sizeof host, &port) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "listen",
                         "listen address \"%s\" is not HOST:PORT", listen ? listen : "");
    if (p->own_count >= OWN_MAX)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "listen", "too many listen addresses");
    if (strcasecmp(host, "localhost") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (!parse_literal(host, a))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "listen",
                         "listen host must be an IP address, got \"%s\"", host);
    struct own_address *own = &p->own[p->own_count++];
    memcpy(own->addr, a, 16);
    own->port = port;
    own->any_local = classify16(a) == EGRESS_UNSPECIFIED;
    if (own->any_local && p->local_count == 0)
        load_local_addresses(p);
    return 0;
}

int egress_configure(const struct egress_config *config, struct agyn_error *err) {
    struct policy *next = xcalloc(1, sizeof *next);
    int rc = 0;
    for (size_t i = 0; rc == 0 && config && config->allow && config->allow[i]; i++)
        rc = parse_allow(config->allow[i], next->allow, ALLOW_ADDRESSES_MAX, &next->allow_count,
                         err);
    for (size_t i = 0; rc == 0 && config && config->own_listen && config->own_listen[i]; i++)
        rc = add_own(next, config->own_listen[i], err);
    if (rc == 0) {
        pthread_rwlock_wrlock(&policy_lock);
        current = *next;
        pthread_rwlock_unlock(&policy_lock);
    }
    free(next);
    return rc;
}

int egress_add_own_address(const char *host_port, struct agyn_error *err) {
    pthread_rwlock_wrlock(&policy_lock);
    int rc = add_own(&current, host_port, err);
    pthread_rwlock_unlock(&policy_lock);
    return rc;
}

/* ---- decisions (callers hold policy_lock for reading) ----------------------------------- */

static bool is_local(const struct policy *p, const unsigned char a[16]) {
    enum egress_class cls = classify16(a);
    if (cls == EGRESS_LOOPBACK || cls == EGRESS_UNSPECIFIED)
        return true;
    for (size_t i = 0; i < p->local_count; i++) {
        if (memcmp(p->local[i], a, 16) == 0)
            return true;
    }
    return false;
}

static bool is_own(const struct policy *p, const unsigned char a[16], unsigned port) {
    for (size_t i = 0; i < p->own_count; i++) {
        const struct own_address *own = &p->own[i];
        if (own->port != port)
            continue;
        /* 0.0.0.0 / [::] at the port reaches a local listener too. */
        if (memcmp(own->addr, a, 16) == 0 || classify16(a) == EGRESS_UNSPECIFIED ||
            (own->any_local && is_local(p, a)))
            return true;
    }
    return false;
}

static bool exact_entry(const struct policy *p, const unsigned char a[16], unsigned port) {
    for (size_t i = 0; i < p->allow_count; i++) {
        if (p->allow[i].port == port && memcmp(p->allow[i].addr, a, 16) == 0)
            return true;
    }
    return false;
}

static bool covered(const struct policy *p, const unsigned char a[16], unsigned port) {
    for (size_t i = 0; i < p->allow_count; i++) {
        const struct allow_rule *rule = &p->allow[i];
        if ((rule->port == 0 || rule->port == port) && prefix_matches(a, rule->addr, rule->prefix))
            return true;
    }
    return false;
}

static bool decide(const unsigned char a[16], unsigned port, bool require_public, bool plain_http,
                   char *why, size_t size) {
    char shown[INET6_ADDRSTRLEN + 16];
    format_address(a, port, shown, sizeof shown);
    enum egress_class cls = classify16(a);
    if (cls == EGRESS_LINK_LOCAL) {
        snprintf(why, size, "egress policy denies %s (%s address; never allowed)", shown,
                 egress_class_name(cls));
        return false;
    }
    pthread_rwlock_rdlock(&policy_lock);
    bool own = is_own(&current, a, port);
    bool own_opened = own && exact_entry(&current, a, port);
    bool allowed = covered(&current, a, port);
    pthread_rwlock_unlock(&policy_lock);
    if (own && !own_opened) {
        snprintf(why, size,
                 "egress policy denies %s (agynd's own address); an operator may allow it "
                 "with --egress-allow %s",
                 shown, shown);
        return false;
    }
    if (cls != EGRESS_PUBLIC && !allowed) {
        snprintf(why, size,
                 "egress policy denies %s (%s); an operator may allow it with --egress-allow",
                 shown, egress_class_name(cls));
        return false;
    }
    if (require_public && cls != EGRESS_PUBLIC) {
        snprintf(why, size,
                 "egress policy denies %s (%s): a request that began at a public address may "
                 "not move to a non-public one",
                 shown, egress_class_name(cls));
        return false;
    }
    if (plain_http && !allowed) {
        snprintf(why, size,
                 "egress policy denies plain HTTP to %s; use https, or an operator may allow "
                 "it with --egress-allow",
                 shown);
        return false;
    }
    return true;
}

bool egress_address_allowed(const struct sockaddr *addr, bool require_public, bool plain_http,
                            char *why, size_t size) {
    unsigned char a[16];
    unsigned port = 0;
    if (!addr || !from_sockaddr(addr, a, &port)) {
        snprintf(why, size, "egress policy denies a connection that is not to an IP address");
        return false;
    }
    return decide(a, port, require_public, plain_http, why, size);
}

bool egress_host_allowed(const char *host_port, unsigned default_port) {
    char host[ENTRY_TEXT_MAX];
    unsigned port = default_port;
    unsigned char a[16];
    char why[EGRESS_DENIAL_MAX];
    if (!host_port || !text_is_plain(host_port))
        return false;
    if (split_host_port(host_port, host, sizeof host, &port) != 0) {
        size_t len = strlen(host_port);
        if (host_port[0] == '[' && host_port[len - 1] == ']' && len - 2 < sizeof host) {
            memcpy(host, host_port + 1, len - 2);
            host[len - 2] = '\0';
        } else {
            snprintf(host, sizeof host, "%s", host_port);
        }
    }
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        snprintf(host, sizeof host, "127.0.0.1");
    if (!parse_literal(host, a))
        return false;
    return decide(a, port, false, false, why, sizeof why);
}

/* ---- libcurl ----------------------------------------------------------------------------- */

void egress_scope_init(struct egress_scope *scope) {
    scope->first_public = -1;
}

void egress_request_init(struct egress_request *req, struct egress_scope *scope) {
    memset(req, 0, sizeof *req);
    req->scope = scope;
}

/* CURLOPT_OPENSOCKETFUNCTION: checks the address curl is about to connect to. */
static curl_socket_t open_checked_socket(void *clientp, curlsocktype purpose,
                                         struct curl_sockaddr *address) {
    struct egress_request *req = clientp;
    char why[EGRESS_DENIAL_MAX];
    bool require_public = req && req->scope && req->scope->first_public == 1;
    bool allowed = purpose == CURLSOCKTYPE_IPCXN &&
                   egress_address_allowed(&address->addr, require_public, req && req->plain_http,
                                          why, sizeof why);
    if (purpose != CURLSOCKTYPE_IPCXN)
        snprintf(why, sizeof why,
                 "egress policy denies a socket that is not an outbound connection");
    if (!allowed) {
        if (req && !req->denied) {
            req->denied = true;
            snprintf(req->denial, sizeof req->denial, "%s", why);
        }
        return CURL_SOCKET_BAD;
    }
    curl_socket_t fd = socket(address->family, address->socktype | SOCK_CLOEXEC, address->protocol);
    if (fd != CURL_SOCKET_BAD && req) {
        req->tried_allowed = true;
        if (req->scope && req->scope->first_public < 0)
            req->scope->first_public = egress_classify(&address->addr) == EGRESS_PUBLIC ? 1 : 0;
    }
    return fd;
}

void egress_curl_apply(CURL *easy, struct egress_request *req, long timeout_ms) {
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_checked_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, req);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); /* no proxy from the environment */
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, egress_timeout_ms(timeout_ms));
}

bool egress_request_was_denied(const struct egress_request *req) {
    return req && req->denied && !req->tried_allowed;
}

/* ---- deadline ---------------------------------------------------------------------------- */

void egress_set_thread_deadline_ms(int64_t monotonic_deadline_ms) {
    thread_deadline_ms = monotonic_deadline_ms > 0 ? monotonic_deadline_ms : 0;
}

int64_t egress_thread_deadline_ms(void) {
    return thread_deadline_ms;
}

bool egress_deadline_passed(void) {
    return thread_deadline_ms > 0 && clock_monotonic_ms() >= thread_deadline_ms;
}

long egress_timeout_ms(long wanted_ms) {
    if (thread_deadline_ms <= 0)
        return wanted_ms > 0 ? wanted_ms : 0;
    int64_t left = thread_deadline_ms - clock_monotonic_ms();
    if (left <= 0)
        return 1;
    if (wanted_ms > 0 && wanted_ms < left)
        return wanted_ms;
    return left > 0x7fffffff ? 0x7fffffff : (long)left;
}

int egress_deadline_error(struct agyn_error *err, const char *what) {
    return agyn_fail(err, AGYN_UNAVAILABLE, "", "%s: the outbound deadline passed",
                     what && what[0] ? what : "outbound request");
}
