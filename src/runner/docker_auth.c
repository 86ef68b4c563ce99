/* docker_auth.c — X-Registry-Auth headers that exist only for the one pull that uses them. */
#include "runner/docker_auth.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/base64.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"

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
    size_t size = sizeof HEADER_NAME + base64_encoded_len(len, BASE64_URL);
    char *header = xmalloc(size);
    memcpy(header, HEADER_NAME, sizeof HEADER_NAME - 1);
    /* base64url with padding, as the engine expects */
    base64_encode(text, len, header + sizeof HEADER_NAME - 1, BASE64_URL);
    secure_free(text);
    return header;
}

void docker_auth_header_free(char *header) {
    secure_free(header);
}
