/* registry_host.h — the one grammar of a registry host, "host[:port]", shared by image
 * references (core/image_ref) and the registry patterns of image pull secrets
 * (core/registry_pattern), so that every host an image may name can also be a secret's
 * registry, and the other way round (patterns may add '*' labels). */
#ifndef AGYN_CORE_REGISTRY_HOST_H
#define AGYN_CORE_REGISTRY_HOST_H

#include <stdbool.h>
#include <stddef.h>

#define REGISTRY_HOST_NAME_MAX 253 /* a DNS name, without the port */
#define REGISTRY_HOST_LABEL_MAX 63 /* a DNS label */

/* Checks s[0..len) as "host[:port]", letters in any case. A host is
 *  - a DNS name: labels of 1..63 letters, digits and '-' (not first or last), at most 253
 *    characters; with allow_wildcards a label may be exactly "*", but not the last one;
 *  - an IPv4 address when the last label is all digits: four decimal octets 0..255 without
 *    leading zeros ("1.2.3", "1234" and "example.123" are neither names nor addresses);
 *  - or "[v6]": an IPv6 address in brackets, without a zone or an embedded IPv4 part;
 * and the port, when given, is 1..65535 without leading zeros.
 * Returns NULL when valid, else a static sentence saying what is wrong, starting with "host"
 * or "the last label" (callers put the input in front: `registry "x": <sentence>`). */
const char *registry_host_problem(const char *s, size_t len, bool allow_wildcards);

#endif
