/* url_origin.h — the origin (scheme, host, effective port) of an absolute URL, and whether two
 * URLs share one: the rule that keeps credentials from following a redirect to another host.
 * Parsing is libcurl's (the same parser that will fetch the URL). */
#ifndef AGYN_NET_URL_ORIGIN_H
#define AGYN_NET_URL_ORIGIN_H

#include <stdbool.h>
#include <stddef.h>

/* scheme://host[:port] of url, without userinfo, path or query; "(invalid URL)" if
 * unparsable. For messages: never carries a credential from the URL. */
void url_origin(const char *url, char *out, size_t size);

/* True when both URLs parse and their schemes, hosts and ports (the scheme's default port
 * when none is written) are equal, ignoring case. */
bool url_same_origin(const char *a, const char *b);

#endif
