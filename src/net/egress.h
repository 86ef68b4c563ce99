/* egress.h — the one egress policy for every outbound connection agynd makes (registries,
 * token realms, redirect targets, secret providers). The check is on the address a socket is
 * about to connect to (a libcurl CURLOPT_OPENSOCKETFUNCTION hook), so a name is resolved once
 * and the checked address is the one connected: no DNS rebinding, and odd spellings
 * (http://2130706433, http://0, ::ffff:127.0.0.1) are caught as the address they denote.
 *
 * Rules, in order:
 *   1. link-local and cloud metadata (169.254.0.0/16, fe80::/10, fd00:ec2::254) are always
 *      denied; no allow entry opens them;
 *   2. agynd's own listen address is denied unless an allow entry names exactly its host:port;
 *   3. loopback, private (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7), unspecified,
 *      multicast, broadcast and reserved addresses are denied unless an allow entry (CIDR or
 *      host:port) covers them;
 *   4. within one scope (a registry session), once the first connection went to a public
 *      address, every later one (redirects, token realms) must be public too;
 *   5. a request that asked for plain HTTP under the "plain needs allow" rule (providers) may
 *      connect only where an allow entry covers the address;
 *   6. everything else (public addresses) is allowed.
 * Environment proxies are disabled on every handle, so the checked address is the real peer.
 * A denial always reads the same for one address whatever the port's state is. */
#ifndef AGYN_NET_EGRESS_H
#define AGYN_NET_EGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <curl/curl.h>

#include "core/error.h"

#define EGRESS_ALLOW_MAX 64
#define EGRESS_DENIAL_MAX 200

enum egress_class {
    EGRESS_PUBLIC = 0,
    EGRESS_LINK_LOCAL, /* link-local and cloud metadata: never allowed */
    EGRESS_LOOPBACK,
    EGRESS_PRIVATE,
    EGRESS_UNSPECIFIED,
    EGRESS_MULTICAST, /* multicast and broadcast */
    EGRESS_RESERVED,  /* documentation, benchmarking, future use and other special ranges */
};

struct egress_config {
    const char *const *allow;      /* NULL-terminated --egress-allow values; NULL = none */
    const char *const *own_listen; /* NULL-terminated "HOST:PORT" agynd listens on */
};

/* Replaces the process-wide policy (done once at startup, before outbound work starts). A
 * bad entry is AGYN_INVALID_ARGUMENT naming it. Host names in allow entries and listen
 * addresses are resolved now, once. */
int egress_configure(const struct egress_config *config, struct agyn_error *err);
/* Checks one --egress-allow value: "CIDR" (10.0.0.0/8, fd00::/8), an address (one host),
 * or "HOST:PORT" / "[V6]:PORT". */
int egress_check_allow_entry(const char *entry, struct agyn_error *err);
/* Adds an address agynd listens on once it is known (e.g. after binding port 0). */
int egress_add_own_address(const char *host_port, struct agyn_error *err);

enum egress_class egress_classify(const struct sockaddr *addr);
/* "loopback", "private", ... */
const char *egress_class_name(enum egress_class cls);

/* The decision for one address about to be connected; on denial, why gets the fixed text
 * "egress policy denies ADDR:PORT (reason); ...". require_public: rule 4; plain_http: rule 5. */
bool egress_address_allowed(const struct sockaddr *addr, bool require_public, bool plain_http,
                            char *why, size_t size);
/* Whether "host[:port]" given as an address literal (or "localhost") is allowed; port 0
 * stands for default_port. Names other than localhost are not resolved: false. */
bool egress_host_allowed(const char *host_port, unsigned default_port);

/* Shared by the requests of one registry session: whether its first connection went to a
 * public address (rule 4). */
struct egress_scope {
    int first_public; /* -1: nothing connected yet, 0: no, 1: yes */
};

/* Per request (one transfer on one easy handle): the rules that apply and what happened. */
struct egress_request {
    struct egress_scope *scope; /* NULL: no public-to-private rule */
    bool plain_http;            /* rule 5 applies */
    bool denied;                /* at least one address was refused */
    bool tried_allowed;         /* at least one address passed and a socket was opened */
    char denial[EGRESS_DENIAL_MAX];
};

void egress_scope_init(struct egress_scope *scope);
void egress_request_init(struct egress_request *req, struct egress_scope *scope);

/* Puts the policy on easy: the socket hook (req may be NULL: the address rules still apply,
 * nothing is recorded), no proxy, and CURLOPT_TIMEOUT_MS = egress_timeout_ms(timeout_ms). */
void egress_curl_apply(CURL *easy, struct egress_request *req, long timeout_ms);
/* Whether a transfer that failed did so because every address it tried was refused. */
bool egress_request_was_denied(const struct egress_request *req);

/* The calling thread's outbound deadline on clock_monotonic_ms (0 = none). Every handle the
 * registry and provider clients set up afterwards on this thread is capped at it. */
void egress_set_thread_deadline_ms(int64_t monotonic_deadline_ms);
int64_t egress_thread_deadline_ms(void);
bool egress_deadline_passed(void);
/* wanted_ms (0 = no limit) capped at the time left before the thread's deadline; 1 when the
 * deadline has passed (so a transfer fails at once); 0 = no limit at all. */
long egress_timeout_ms(long wanted_ms);
/* "the outbound deadline passed" as AGYN_UNAVAILABLE, prefixed by what. */
int egress_deadline_error(struct agyn_error *err, const char *what);

#endif
