/* docker_config.c — extracting registry credentials from Docker config.json /
 * .dockerconfigjson bodies with jansson; secrets are wiped from every buffer this module
 * allocates, jansson's parsed copies included (the caller's body is the caller's to wipe). */
#include "core/docker_config.h"

#include <jansson.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/secure_mem.h"
#include "core/names.h"
#include "core/registry_pattern.h"

#define DOCUMENT_FIELD "auths"
/* A key is shown in field names (96 bytes in all), quoted and cut to fit this buffer. */
#define QUOTED_KEY_SIZE 72
/* Credentials sit at depth 3 (root, auths, entry); deeper junk is not worth the recursion. */

static void entry_fail(struct docker_config_entry *entry, const char *quoted_key,
                       const char *member, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records a problem with one entry: field auths[<key>]<member>, message "<field> <detail>".
 * Callers go on returning 0: a bad entry is not a failure of the whole parse. */
static void entry_fail(struct docker_config_entry *entry, const char *quoted_key,
                       const char *member, const char *fmt, ...) {
    char field[sizeof entry->error.field];
    snprintf(field, sizeof field, DOCUMENT_FIELD "[%s]%s", quoted_key, member);
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    agyn_fail(&entry->error, AGYN_UNPROCESSABLE, field, "%s %s", field, detail);
}

static void free_secret(char **secret) {
    if (*secret) {
        OPENSSL_cleanse(*secret, strlen(*secret));
        free(*secret);
        *secret = NULL;
    }
}

static char *copy_bytes(const char *bytes, size_t len) {
    char *copy = malloc(len + 1);
    if (copy) {
        memcpy(copy, bytes, len);
        copy[len] = '\0';
    }
    return copy;
}

static int has_control_char(const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p == 0x7F)
            return 1;
    }
    return 0;
}

/* Reads a required string member into a fresh copy; 1 = copied, 0 = entry error, -1 = OOM. */
static int copy_string_member(struct docker_config_entry *entry, const char *quoted_key,
                              json_t *object, const char *name, char **out) {
    char member[32];
    snprintf(member, sizeof member, ".%s", name);
    json_t *value = json_object_get(object, name);
    if (!value) {
        entry_fail(entry, quoted_key, member, "is required when \"auth\" is not set");
        return 0;
    }
    if (!json_is_string(value)) {
        entry_fail(entry, quoted_key, member, "must be a string");
        return 0;
    }
    const char *text = json_string_value(value);
    size_t len = json_string_length(value);
    if (memchr(text, '\0', len)) {
        entry_fail(entry, quoted_key, member, "must not contain NUL bytes");
        return 0;
    }
    *out = copy_bytes(text, len);
    return *out ? 1 : -1;
}

/* Fills username and password from "auth" or from "username"/"password". Returns -1 only
 * when memory runs out; problems with the entry go into entry->error. */
static int read_credentials(struct docker_config_entry *entry, const char *quoted_key,
                            json_t *value) {
    const char *source = ".auth";
    json_t *auth = json_object_get(value, "auth");
    if (auth && !json_is_string(auth)) {
        entry_fail(entry, quoted_key, ".auth", "must be a string");
        return 0;
    }
    if (auth && json_string_length(auth) > 0) {
        const char *encoded = json_string_value(auth);
        size_t encoded_len = json_string_length(auth);
        size_t capacity = base64_decoded_max(encoded_len);
        unsigned char *decoded = malloc(capacity);
        if (!decoded)
            return -1;
        size_t decoded_len = 0;
        int status = 0;
        const char *problem = NULL;
        if (base64_decode(encoded, encoded_len, decoded, &decoded_len, 0) != 0) {
            problem = "is not valid base64";
        } else if (memchr(decoded, '\0', decoded_len)) {
            problem = "decodes to text containing a NUL byte";
        } else {
            const unsigned char *colon = memchr(decoded, ':', decoded_len);
            if (!colon) {
                problem = "must decode to \"username:password\"";
            } else {
                size_t user_len = (size_t)(colon - decoded);
                entry->username = copy_bytes((const char *)decoded, user_len);
                entry->password = copy_bytes((const char *)colon + 1, decoded_len - user_len - 1);
                if (!entry->username || !entry->password)
                    status = -1;
            }
        }
        OPENSSL_cleanse(decoded, capacity);
        free(decoded);
        if (problem)
            entry_fail(entry, quoted_key, ".auth", "%s", problem);
        if (status != 0 || problem)
            return status;
    } else {
        source = ".username";
        int copied = copy_string_member(entry, quoted_key, value, "username", &entry->username);
        if (copied == 1)
            copied = copy_string_member(entry, quoted_key, value, "password", &entry->password);
        if (copied != 1)
            return copied;
    }

    const char *password_source = strcmp(source, ".auth") == 0 ? ".auth" : ".password";
    if (entry->username[0] == '\0') {
        entry_fail(entry, quoted_key, source, "has an empty username");
        return 0;
    }
    if (!utf8_is_valid(entry->username, strlen(entry->username))) {
        entry_fail(entry, quoted_key, source, "has a username that is not UTF-8");
        return 0;
    }
    if (has_control_char(entry->username)) {
        entry_fail(entry, quoted_key, source, "has a username with control characters");
        return 0;
    }
    if (strchr(entry->username, ':')) {
        entry_fail(entry, quoted_key, source, "has a username containing ':'");
        return 0;
    }
    if (entry->password[0] == '\0') {
        entry_fail(entry, quoted_key, password_source, "has an empty password");
        return 0;
    }
    if (!utf8_is_valid(entry->password, strlen(entry->password))) {
        entry_fail(entry, quoted_key, password_source, "has a password that is not UTF-8");
        return 0;
    }
    return 0;
}

/* Returns -1 only when memory runs out. */
static int read_entry(const char *key, size_t key_len, json_t *value,
                      struct docker_config_entry *entry) {
    char quoted_key[QUOTED_KEY_SIZE];
    text_quote(key, key_len, key_len, quoted_key, sizeof quoted_key);
    entry->key = copy_bytes(key, key_len);
    if (!entry->key)
        return -1;
    if (memchr(key, '\0', key_len)) {
        entry_fail(entry, quoted_key, "", "must not contain NUL bytes");
        return 0;
    }

    char field[sizeof entry->error.field];
    snprintf(field, sizeof field, DOCUMENT_FIELD "[%s]", quoted_key);
    struct registry_pattern pattern;
    if (registry_pattern_parse(key, field, &pattern, &entry->error) != 0)
        return 0;
    char formatted[sizeof pattern.host + sizeof pattern.path + 1];
    registry_pattern_format(&pattern, formatted, sizeof formatted);
    entry->registry = copy_bytes(formatted, strlen(formatted));
    if (!entry->registry)
        return -1;

    if (!json_is_object(value)) {
        entry_fail(entry, quoted_key, "", "must be an object");
        return 0;
    }
    int status = read_credentials(entry, quoted_key, value);
    if (status != 0 || entry->error.code != AGYN_OK) {
        free_secret(&entry->username);
        free_secret(&entry->password);
    }
    return status;
}

int docker_config_parse(const char *body, size_t len, struct docker_config_entry **entries,
                        size_t *count, struct agyn_error *err) {
    if (!entries || !count)
        return agyn_fail(err, AGYN_INTERNAL, DOCUMENT_FIELD, "docker_config_parse: no output");
    *entries = NULL;
    *count = 0;
    if (len > DOCKER_CONFIG_MAX_BYTES)
        return agyn_fail(err, AGYN_PAYLOAD_TOO_LARGE, DOCUMENT_FIELD,
                         "docker config must not be larger than %d bytes", DOCKER_CONFIG_MAX_BYTES);
    if (!body || len == 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, DOCUMENT_FIELD, "docker config is empty");

    json_error_t json_error;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &json_error);
    if (!root) {
        /* json_error.text quotes the input near the error, which may be a secret: not used. */
        if (json_error_code(&json_error) == json_error_duplicate_key)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, DOCUMENT_FIELD,
                             "docker config has a duplicate key (line %d, column %d)",
                             json_error.line, json_error.column);
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, DOCUMENT_FIELD,
                         "docker config is not valid JSON (line %d, column %d)", json_error.line,
                         json_error.column);
    }

    int status = 0;
    json_t *auths = json_is_object(root) ? json_object_get(root, "auths") : NULL;
    if (!json_is_object(root)) {
        status = agyn_fail(err, AGYN_UNPROCESSABLE, DOCUMENT_FIELD,
                           "docker config must be a JSON object");
    } else if (!auths) {
        status = agyn_fail(err, AGYN_UNPROCESSABLE, DOCUMENT_FIELD,
                           "docker config has no \"auths\" object");
    } else if (!json_is_object(auths)) {
        status = agyn_fail(err, AGYN_UNPROCESSABLE, DOCUMENT_FIELD, "auths must be an object");
    } else if (json_object_size(auths) > DOCKER_CONFIG_MAX_ENTRIES) {
        status = agyn_fail(err, AGYN_UNPROCESSABLE, DOCUMENT_FIELD,
                           "auths must not have more than %d entries", DOCKER_CONFIG_MAX_ENTRIES);
    } else if (json_object_size(auths) > 0) {
        size_t total = json_object_size(auths);
        struct docker_config_entry *list = calloc(total, sizeof *list);
        size_t filled = 0;
        if (!list)
            status = -1;
        for (void *iter = json_object_iter(auths); list && iter && filled < total;
             iter = json_object_iter_next(auths, iter)) {
            if (read_entry(json_object_iter_key(iter), json_object_iter_key_len(iter),
                           json_object_iter_value(iter), &list[filled++]) != 0) {
                status = -1;
                break;
            }
        }
        if (status != 0) {
            docker_config_entries_free(list, filled);
            agyn_fail(err, AGYN_INTERNAL, DOCUMENT_FIELD, "out of memory reading docker config");
        } else {
            *entries = list;
            *count = filled;
        }
    }
    secure_json_wipe(root); /* jansson frees without wiping */
    json_decref(root);
    return status;
}

void docker_config_entries_free(struct docker_config_entry *entries, size_t count) {
    if (!entries)
        return;
    for (size_t i = 0; i < count; i++) {
        free(entries[i].key);
        free(entries[i].registry);
        free_secret(&entries[i].username);
        free_secret(&entries[i].password);
    }
    OPENSSL_cleanse(entries, count * sizeof *entries);
    free(entries);
}
