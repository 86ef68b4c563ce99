/* lazy_ca_bundle.c — an X509_LOOKUP that loads the default CA file into its store at the first
 * lookup, then answers from the store (lazy_ca_bundle.h). */
#include "registry/lazy_ca_bundle.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

struct bundle_state {
    pthread_mutex_t lock;
    bool loaded;
};

static pthread_once_t method_once = PTHREAD_ONCE_INIT;
static X509_LOOKUP_METHOD *method; /* lives as long as the process */

static const char *default_cert_file(void) {
    const char *file = getenv(X509_get_default_cert_file_env());
    return file ? file : X509_get_default_cert_file();
}

/* Loads the bundle into the lookup's store once; a missing bundle leaves it empty, as
 * X509_STORE_set_default_paths does. */
static void load_once(X509_LOOKUP *lookup, struct bundle_state *state) {
    pthread_mutex_lock(&state->lock);
    if (!state->loaded) {
        state->loaded = true;
        if (X509_load_cert_crl_file(lookup, default_cert_file(), X509_FILETYPE_PEM) <= 0)
            ERR_clear_error();
    }
    pthread_mutex_unlock(&state->lock);
}

static int by_subject(X509_LOOKUP *lookup, X509_LOOKUP_TYPE type, const X509_NAME *name,
                      X509_OBJECT *ret) {
    struct bundle_state *state = X509_LOOKUP_get_method_data(lookup);
    X509_STORE *store = X509_LOOKUP_get_store(lookup);
    if (!state || !store)
        return 0;
    load_once(lookup, state);
    int found = 0;
    X509_STORE_lock(store);
    X509_OBJECT *object =
        X509_OBJECT_retrieve_by_subject(X509_STORE_get0_objects(store), type, (X509_NAME *)name);
    /* Like OpenSSL's own lookups, ret borrows the store's reference (the caller takes its
     * own): set1 takes one, so it is given back at once. */
    if (object && type == X509_LU_X509) {
        X509 *cert = X509_OBJECT_get0_X509(object);
        found = X509_OBJECT_set1_X509(ret, cert);
        if (found)
            X509_free(cert);
    } else if (object && type == X509_LU_CRL) {
        X509_CRL *crl = X509_OBJECT_get0_X509_CRL(object);
        found = X509_OBJECT_set1_X509_CRL(ret, crl);
        if (found)
            X509_CRL_free(crl);
    }
    X509_STORE_unlock(store);
    return found;
}

static int new_state(X509_LOOKUP *lookup) {
    struct bundle_state *state = calloc(1, sizeof *state);
    if (!state)
        return 0;
    pthread_mutex_init(&state->lock, NULL);
    return X509_LOOKUP_set_method_data(lookup, state);
}

static void free_state(X509_LOOKUP *lookup) {
    struct bundle_state *state = X509_LOOKUP_get_method_data(lookup);
    if (state) {
        pthread_mutex_destroy(&state->lock);
        free(state);
    }
}

static void make_method(void) {
    method = X509_LOOKUP_meth_new("agyn lazy CA bundle");
    if (method && (X509_LOOKUP_meth_set_new_item(method, new_state) != 1 ||
                   X509_LOOKUP_meth_set_free(method, free_state) != 1 ||
                   X509_LOOKUP_meth_set_get_by_subject(method, by_subject) != 1)) {
        X509_LOOKUP_meth_free(method);
        method = NULL;
    }
}

int lazy_ca_bundle_add(X509_STORE *store) {
    pthread_once(&method_once, make_method);
    if (!method || !X509_STORE_add_lookup(store, method))
        return -1;
    X509_LOOKUP *dir = X509_STORE_add_lookup(store, X509_LOOKUP_hash_dir());
    if (!dir)
        return -1;
    X509_LOOKUP_add_dir(dir, NULL, X509_FILETYPE_DEFAULT); /* read file by file, on demand */
    ERR_clear_error();
    return 0;
}
