/* tls.c — see tls.h. The certificate mirrors go-plugin's own (hashicorp/go-plugin mtls.go):
 * CN and DNS SAN "localhost", O "HashiCorp", a CA certificate with digital signature, key
 * encipherment, key agreement and cert sign usages, server and client auth, long validity. */
#include "terraform/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/base64.h"
#include "core/xalloc.h"

static void tls_fail(const char *what) {
    fprintf(stderr, "terraform-provider-agyn: TLS setup failed: %s\n", what);
    ERR_print_errors_fp(stderr);
}

static int add_ext(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

static X509 *make_cert(EVP_PKEY *key) {
    X509 *cert = X509_new();
    if (!cert)
        return NULL;
    BIGNUM *serial = BN_new();
    ASN1_INTEGER *serial_asn1 = NULL;
    int ok = serial && BN_rand(serial, 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
             (serial_asn1 = BN_to_ASN1_INTEGER(serial, NULL)) && X509_set_version(cert, 2) &&
             X509_set_serialNumber(cert, serial_asn1) &&
             X509_gmtime_adj(X509_getm_notBefore(cert), -30) &&
             X509_time_adj_ex(X509_getm_notAfter(cert), 365 * 30, 0, NULL) &&
             X509_set_pubkey(cert, key);
    BN_free(serial);
    ASN1_INTEGER_free(serial_asn1);
    X509_NAME *name = X509_get_subject_name(cert);
    ok = ok &&
         X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"HashiCorp", -1,
                                    -1, 0) &&
         X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost",
                                    -1, -1, 0) &&
         X509_set_issuer_name(cert, name);
    ok = ok && add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") == 0 &&
         add_ext(cert, NID_key_usage,
                 "critical,digitalSignature,keyEncipherment,keyAgreement,keyCertSign") == 0 &&
         add_ext(cert, NID_ext_key_usage, "serverAuth,clientAuth") == 0 &&
         add_ext(cert, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") == 0 &&
         add_ext(cert, NID_subject_key_identifier, "hash") == 0 &&
         X509_sign(cert, key, EVP_sha256()) > 0;
    if (!ok) {
        X509_free(cert);
        return NULL;
    }
    return cert;
}

static char *der_base64_nopad(X509 *cert) {
    unsigned char *der = NULL;
    int len = i2d_X509(cert, &der);
    if (len <= 0)
        return NULL;
    char *out = xmalloc(base64_encoded_len((size_t)len, BASE64_NOPAD) + 1);
    base64_encode(der, (size_t)len, out, BASE64_NOPAD);
    OPENSSL_free(der);
    return out;
}

static int select_h2(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                     const unsigned char *in, unsigned int inlen, void *arg) {
    static const unsigned char h2[] = {2, 'h', '2'};
    unsigned char *selected = NULL;
    if (SSL_select_next_proto(&selected, outlen, h2, sizeof h2, in, inlen) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

static int load_client_cas(SSL_CTX *ctx, const char *pem) {
    BIO *bio = BIO_new_mem_buf(pem, -1);
    if (!bio)
        return -1;
    X509_STORE *store = SSL_CTX_get_cert_store(ctx);
    int count = 0;
    X509 *cert;
    while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (X509_STORE_add_cert(store, cert))
            count++;
        X509_free(cert);
    }
    ERR_clear_error(); /* the loop ends on a "no start line" error */
    BIO_free(bio);
    return count > 0 ? 0 : -1;
}

SSL_CTX *tls_server_context(const char *client_cert_pem, char **cert_b64) {
    *cert_b64 = NULL;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    if (!key) {
        tls_fail("generating the ECDSA key");
        return NULL;
    }
    X509 *cert = make_cert(key);
    if (!cert) {
        tls_fail("creating the server certificate");
        EVP_PKEY_free(key);
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    int ok = ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) &&
             SSL_CTX_use_certificate(ctx, cert) == 1 && SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
             SSL_CTX_check_private_key(ctx) == 1;
    if (ok && load_client_cas(ctx, client_cert_pem) != 0) {
        tls_fail("PLUGIN_CLIENT_CERT holds no PEM certificate");
        ok = 0;
    }
    if (ok) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        SSL_CTX_set_alpn_select_cb(ctx, select_h2, NULL);
        SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
        *cert_b64 = der_base64_nopad(cert);
        ok = *cert_b64 != NULL;
    } else if (ctx) {
        tls_fail("configuring the TLS context");
    }
    X509_free(cert);
    EVP_PKEY_free(key);
    if (!ok) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}
