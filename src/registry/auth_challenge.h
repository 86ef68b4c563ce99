/* auth_challenge.h — parsing WWW-Authenticate challenges (RFC 7235) from a registry: Basic, or
 * Bearer with realm, service and scope as quoted strings or tokens. Input is hostile: anything
 * malformed is rejected, never guessed at. */
#ifndef AGYN_REGISTRY_AUTH_CHALLENGE_H
#define AGYN_REGISTRY_AUTH_CHALLENGE_H

enum auth_scheme {
    AUTH_SCHEME_NONE = 0,
    AUTH_SCHEME_BASIC,
    AUTH_SCHEME_BEARER,
};

struct auth_challenge {
    enum auth_scheme scheme;
    char realm[1024];
    char service[256];
    char scope[1024];
    char error[64];
};

/* Parses a header value holding one or more comma-separated challenges and keeps the first
 * Bearer challenge, else the first Basic one. Returns 0, or -1 (out zeroed) when the value is
 * malformed (bad syntax, unterminated or control characters in a quoted string, a parameter
 * repeated or too long for its field) or holds neither scheme, or Bearer lacks a realm. */
int auth_challenge_parse(const char *header, struct auth_challenge *out);

#endif
