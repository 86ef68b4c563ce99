/* registry_host.c — validating a registry "host[:port]" by the one grammar image references
 * and registry patterns share (rules in registry_host.h). */
#include "core/registry_host.h"

#include <arpa/inet.h>
#include <string.h>

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static bool is_letter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static bool all_digits(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i]))
            return false;
    }
    return len > 0;
}

static bool port_is_valid(const char *s, size_t len) {
    if (len == 0 || len > 5 || s[0] == '0' || !all_digits(s, len))
        return false;
    long value = 0;
    for (size_t i = 0; i < len; i++)
        value = value * 10 + (s[i] - '0');
    return value <= 65535;
}

/* Four dot-separated decimal octets 0..255 without leading zeros. */
static bool ipv4_is_valid(const char *s, size_t len) {
    size_t start = 0;
    int octets = 0;
    while (start <= len) {
        const char *dot = memchr(s + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - s) : len;
        size_t octet_len = end - start;
        if (octet_len == 0 || octet_len > 3 || !all_digits(s + start, octet_len))
            return false;
        if (octet_len > 1 && s[start] == '0')
            return false;
        int value = 0;
        for (size_t i = start; i < end; i++)
            value = value * 10 + (s[i] - '0');
        if (value > 255 || ++octets > 4)
            return false;
        start = end + 1;
    }
    return octets == 4;
}

static bool ipv6_is_valid(const char *s, size_t len) {
    char address[INET6_ADDRSTRLEN];
    struct in6_addr parsed;
    if (len == 0 || len >= sizeof address)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (!is_hex(s[i]) && s[i] != ':')
            return false; /* no zone ("%eth0"), no embedded IPv4 ("::1.2.3.4") */
    }
    memcpy(address, s, len);
    address[len] = '\0';
    return inet_pton(AF_INET6, address, &parsed) == 1;
}

static const char *label_problem(const char *label, size_t len, bool allow_wildcards) {
    if (len == 0)
        return "host is not a valid host name: it has an empty label (a leading, trailing or "
               "doubled '.')";
    if (len > REGISTRY_HOST_LABEL_MAX)
        return "host is not a valid host name: a label must not be more than 63 characters";
    if (len == 1 && label[0] == '*' && allow_wildcards)
        return NULL;
    if (allow_wildcards && memchr(label, '*', len))
        return "'*' must be a whole label, as in *.example.com";
    for (size_t i = 0; i < len; i++) {
        if (!is_letter(label[i]) && !is_digit(label[i]) && label[i] != '-')
            return "host is not a valid host name: labels may contain only letters, digits "
                   "and '-'";
    }
    if (label[0] == '-' || label[len - 1] == '-')
        return "host is not a valid host name: labels must not start or end with '-'";
    return NULL;
}

static const char *name_problem(const char *s, size_t len, bool allow_wildcards) {
    if (len == 0)
        return "host must not be empty";
    if (len > REGISTRY_HOST_NAME_MAX)
        return "host is not a valid host name: host must not be more than 253 characters";
    const char *last_dot = NULL;
    for (size_t i = len; i > 0 && !last_dot; i--) {
        if (s[i - 1] == '.')
            last_dot = s + i - 1;
    }
    const char *last_label = last_dot ? last_dot + 1 : s;
    size_t last_label_len = len - (size_t)(last_label - s);
    if (all_digits(last_label, last_label_len))
        return ipv4_is_valid(s, len) ? NULL
                                     : "host is not a valid IPv4 address (four numbers 0..255 "
                                       "without leading zeros; '*' is not allowed)";
    size_t start = 0;
    while (start <= len) {
        const char *dot = memchr(s + start, '.', len - start);
        size_t end = dot ? (size_t)(dot - s) : len;
        const char *problem = label_problem(s + start, end - start, allow_wildcards);
        if (problem)
            return problem;
        start = end + 1;
    }
    if (last_label_len == 1 && last_label[0] == '*')
        return "the last label of the host must not be '*'";
    return NULL;
}

const char *registry_host_problem(const char *s, size_t len, bool allow_wildcards) {
    if (!s || len == 0)
        return "host must not be empty";
    const char *port = NULL;
    size_t port_len = 0;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close)
            return "host has '[' without a closing ']'";
        if (!ipv6_is_valid(s + 1, (size_t)(close - s - 1)))
            return "host is not a valid IPv6 address";
        size_t rest = len - (size_t)(close - s) - 1;
        if (rest > 0) {
            if (close[1] != ':')
                return "host has characters after ']' that are not a port";
            port = close + 2;
            port_len = rest - 1;
        }
    } else {
        const char *colon = memchr(s, ':', len);
        size_t name_len = colon ? (size_t)(colon - s) : len;
        if (colon) {
            port = colon + 1;
            port_len = len - name_len - 1;
            if (memchr(port, ':', port_len))
                return "host has more than one ':' (an invalid port; write IPv6 addresses in "
                       "[ ])";
        }
        const char *problem = name_problem(s, name_len, allow_wildcards);
        if (problem)
            return problem;
    }
    if (port && !port_is_valid(port, port_len))
        return "invalid port: port must be a number from 1 to 65535 without leading zeros";
    return NULL;
}
