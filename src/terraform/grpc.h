/* grpc.h — a minimal gRPC server over HTTP/2 (nghttp2): unary calls only, each request
 * message handed to rpc_lookup()'s handler; unknown methods answer UNIMPLEMENTED (12). */
#ifndef AGYN_TF_GRPC_H
#define AGYN_TF_GRPC_H

#include <openssl/ssl.h>

/* Serves one accepted connection until the peer closes it (TLS when ssl_ctx is not NULL,
 * else HTTP/2 with prior knowledge). Returns when the connection is done; the fd is closed.
 * Calls exit(0) after answering plugin.GRPCController/Shutdown. */
void grpc_serve_connection(int fd, SSL_CTX *ssl_ctx);

#endif
