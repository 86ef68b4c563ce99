/* server.h — the HTTP server: libmicrohttpd with a thread pool, serving the API routes. */
#ifndef AGYN_API_SERVER_H
#define AGYN_API_SERVER_H

#include "api/app.h"
#include "core/error.h"

struct api_server;

/* Binds config.listen and starts serving; the bound port goes to *port_out. */
int api_server_start(struct app *app, struct api_server **out, unsigned *port_out,
                     struct agyn_error *err);
/* Stops accepting, lets in-flight requests finish (up to timeout_ms), then stops. */
void api_server_stop(struct api_server *server, int timeout_ms);

#endif
