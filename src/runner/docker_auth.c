/* docker_auth.c — X-Registry-Auth headers that exist only for the one pull that uses them. */
#include "runner/docker_auth.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define HEADER_NAME "X-Registry-Auth: "

char *docker_auth_header(const char *username, const char *password, const char *server) {
    if (!username || !password)
        return NULL;
    json_t *doc = json_pack("{s:s, s:s, s:s}", "username", username, "password", password,
                            "serveraddress", server ? server : "");
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc); /* jansson wipes what it frees (core/wiping_alloc) */
    if (!text)
        return NULL;
    size_t len = strlen(text);
    size_t size = sizeof HEADER_NAME + 4 * ((len + 2) / 3) + 1;
    char *header = malloc(size);
    if (header) {
        memcpy(header, HEADER_NAME, sizeof HEADER_NAME - 1);
        char *b64 = header + sizeof HEADER_NAME - 1;
        int n = EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)text, (int)len);
        b64[n] = '\0';
        for (char *c = b64; *c; c++) /* base64url, as the engine expects */
            *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    }
    OPENSSL_cleanse(text, len);
    free(text);
    return header;
}

void docker_auth_header_free(char *header) {
    if (!header)
        return;
    OPENSSL_cleanse(header, strlen(header));
    free(header);
}
