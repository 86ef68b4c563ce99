/* tls.h — go-plugin AutoMTLS for the plugin's gRPC listener: a fresh self-signed ECDSA server
 * certificate, client certificates verified against PLUGIN_CLIENT_CERT, ALPN "h2". */
#ifndef AGYN_TF_TLS_H
#define AGYN_TF_TLS_H

#include <openssl/ssl.h>

/* Builds the server context. On success returns it and sets *cert_b64 (malloc'd) to the
 * server certificate's DER in standard base64 without padding, for the handshake line. On
 * failure returns NULL and writes the reason to stderr. */
SSL_CTX *tls_server_context(const char *client_cert_pem, char **cert_b64);

#endif
