/* answers.c — what the client makes of the API's answers: JSON calls, the API's error shape
 * decoded into code, field and message, every page of a list gathered, and URL escaping. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "client/client.h"
#include "core/row.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"

bool client_status_ok(long status) {
    return status >= 200 && status < 300;
}

void client_answer_free(struct client_answer *answer) {
    json_decref(answer->body);
    answer->body = NULL;
    secure_free(answer->raw);
    answer->raw = NULL;
    answer->len = 0;
}

/* Copies src into dst, control bytes shown as spaces (an error text cannot drive a terminal
 * or break a log line). */
static void copy_clean(char *dst, size_t size, const char *src, size_t len) {
    size_t n = len < size - 1 ? len : size - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[i] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    dst[n] = '\0';
}

void client_decode_error(long status, const json_t *body, const char *raw, size_t len,
                         struct client_api_error *out) {
    memset(out, 0, sizeof *out);
    const json_t *error = json_object_get(body, "error");
    const char *code = row_text(error, "code");
    const char *field = row_text(error, "field");
    const char *message = row_text(error, "message");
    if (code)
        copy_clean(out->code, sizeof out->code, code, strlen(code));
    if (field)
        copy_clean(out->field, sizeof out->field, field, strlen(field));
    if (message) {
        copy_clean(out->message, sizeof out->message, message, strlen(message));
        return;
    }
    int n = snprintf(out->message, sizeof out->message, "the API answered HTTP %ld%s", status,
                     raw && len ? ": " : "");
    if (raw && len && n > 0 && (size_t)n < sizeof out->message)
        copy_clean(out->message + n, sizeof out->message - (size_t)n, raw, len < 200 ? len : 200);
}

int client_call(struct agyn_client *c, const char *method, const char *path, const json_t *body,
                struct client_answer *answer, struct agyn_error *err) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    if (body && !text) { /* json_dumps fails only on a value it cannot write (not memory) */
        memset(answer, 0, sizeof *answer);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "the request body cannot be written as JSON");
    }
    int status = client_request(c, method, path, text, text ? strlen(text) : 0, answer, err);
    secure_free(text);
    return status;
}

char *client_escape(const char *text) {
    char *escaped = curl_easy_escape(NULL, text, 0);
    if (!escaped) /* curl_easy_escape fails only when memory runs out */
        out_of_memory(strlen(text) * 3 + 1);
    char *copy = xstrdup(escaped);
    curl_free(escaped);
    return copy;
}

/* path with page_size=100 and, after the first page, page_token; malloc'd. */
static char *page_path(const char *path, const char *token) {
    char *escaped = token ? client_escape(token) : NULL;
    char *out = xasprintf("%s%spage_size=100%s%s", path, strchr(path, '?') ? "&" : "?",
                          escaped ? "&page_token=" : "", escaped ? escaped : "");
    free(escaped);
    return out;
}

int client_list_all(struct agyn_client *c, const char *path, json_t **items,
                    struct client_answer *failed, struct agyn_error *err) {
    memset(failed, 0, sizeof *failed);
    *items = json_array();
    char *token = NULL;
    int status = -1;
    for (;;) {
        char *next_path = page_path(path, token);
        free(token);
        token = NULL;
        struct client_answer page;
        status = client_request(c, "GET", next_path, NULL, 0, &page, err);
        free(next_path);
        if (status < 0)
            break;
        if (!client_status_ok(status)) {
            *failed = page;
            break;
        }
        json_array_extend(*items, json_object_get(page.body, "items"));
        const char *next = row_text(page.body, "next_page_token");
        if (next && *next)
            token = xstrdup(next);
        client_answer_free(&page);
        if (!token)
            return status;
    }
    json_decref(*items);
    *items = NULL;
    return status;
}
