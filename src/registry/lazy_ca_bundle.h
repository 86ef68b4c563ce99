/* lazy_ca_bundle.h — the system CA certificates in an X509_STORE, read only when a
 * certificate is first looked up (the first TLS verification), not when the store is built:
 * a pull from a plain-HTTP registry never pays for parsing the bundle. Trusts exactly what
 * X509_STORE_set_default_paths would (the default CA file, SSL_CERT_FILE, and the hashed
 * default directory, SSL_CERT_DIR). */
#ifndef AGYN_REGISTRY_LAZY_CA_BUNDLE_H
#define AGYN_REGISTRY_LAZY_CA_BUNDLE_H

#include <openssl/x509.h>

/* Adds the lookups to store; 0 on success, -1 when out of memory. */
int lazy_ca_bundle_add(X509_STORE *store);

#endif
