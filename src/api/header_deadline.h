/* header_deadline.h — closes connections whose request headers do not arrive in time.
 *
 * libmicrohttpd's connection timeout only closes a connection that goes quiet; a client that
 * sends one header byte every few seconds would hold its connection forever. Every connection
 * is watched from the moment it opens (and again after each answered request, for keep-alive)
 * until its next request's headers are complete; one past the deadline is shut down.
 *
 *     opened ──► WAITING ──headers in──► BUSY ──request done──► WAITING
 *                   │
 *                   └──deadline passed──► shut down (libmicrohttpd then closes it)
 */
#ifndef AGYN_API_HEADER_DEADLINE_H
#define AGYN_API_HEADER_DEADLINE_H

#include "core/error.h"

/* Starts the watcher thread (once per process; later calls only count users). */
int header_deadline_start(int deadline_ms, struct agyn_error *err);
/* Stops it when the last user stops. */
void header_deadline_stop(void);

/* A new connection on socket fd: *slot receives the watch (libmicrohttpd's socket context). */
void header_deadline_opened(void **slot, int fd);
/* The current request's headers are complete. */
void header_deadline_headers_in(void *watch);
/* A request on the connection is answered: the next one's headers are awaited again. */
void header_deadline_request_done(void *watch);
/* The connection is closed: forgets the watch (and frees it). */
void header_deadline_closed(void **slot);

#endif
