/* client.h — the one client of agyn's own REST API, shared by the CLI and the Terraform
 * provider (libcurl + jansson): a request with a JSON body, the answer collected within a limit
 * and wiped after use, the API's error shape {"error":{"code","field","message"}} decoded, every
 * page of a list, and a Server-Sent Events stream read line by line. The token goes only into
 * the Authorization header. Nothing here prints: a failure to get an answer is returned in a
 * struct agyn_error, an answer with an error status in struct client_answer. */
#ifndef AGYN_CLIENT_CLIENT_H
#define AGYN_CLIENT_CLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/error.h"

/* Largest answer accepted; a larger one fails with AGYN_PAYLOAD_TOO_LARGE. */
#define CLIENT_ANSWER_MAX (64u * 1024 * 1024)

/* Where and how to reach the API. Strings are borrowed and must outlive every call. */
struct agyn_client {
    const char *base_url;   /* "http://host:port"; trailing '/' ignored */
    const char *token;      /* bearer token, NULL or "" for none; never put in an error */
    const char *user_agent; /* "agyn-cli/1.0" */
    long timeout_seconds;   /* whole request (not streams); 0 for none */
    bool keep_handle;       /* reuse one libcurl handle (and connection) across calls */
    void *curl;             /* the kept handle; freed by client_close */
};

/* The error of a non-2xx answer, as the API wrote it. When the body does not have the API's
 * error shape, message is "the API answered HTTP <status>" plus up to 200 bytes of the body. */
struct client_api_error {
    char code[64];   /* error.code, "" when none */
    char field[128]; /* error.field, "" when none */
    char message[1024];
};

/* One answer. The caller frees it with client_answer_free (which wipes the raw bytes). */
struct client_answer {
    long status;  /* HTTP status */
    char *raw;    /* the body as received, NUL-terminated (never NULL after success) */
    size_t len;   /* bytes in raw */
    json_t *body; /* raw parsed as JSON; NULL when empty or not JSON */
    struct client_api_error error; /* decoded when status is not 2xx */
};

/* Process-wide setup and teardown of libcurl, once each, before and after any other call
 * (after wiping_alloc_install, so curl's buffers are wiped too). client_global_init returns 0,
 * or -1 with err set. */
int client_global_init(struct agyn_error *err);
void client_global_cleanup(void);

/* Frees the kept libcurl handle (if any). */
void client_close(struct agyn_client *c);

/* Sends one request to base_url + path; body_text (may be NULL, borrowed) is sent as
 * application/json. Returns the HTTP status with *answer filled, or -1 with err set when no
 * answer came: AGYN_UNAVAILABLE (could not connect, timed out; the message is libcurl's),
 * AGYN_PAYLOAD_TOO_LARGE (more than CLIENT_ANSWER_MAX), AGYN_INTERNAL (out of memory). */
int client_request(struct agyn_client *c, const char *method, const char *path,
                   const char *body_text, size_t body_len, struct client_answer *answer,
                   struct agyn_error *err);
/* client_request with a JSON body (borrowed, may be NULL); the serialized text is wiped. */
int client_call(struct agyn_client *c, const char *method, const char *path, const json_t *body,
                struct client_answer *answer, struct agyn_error *err);
void client_answer_free(struct client_answer *answer);
bool client_status_ok(long status); /* 2xx */

/* Decodes the API's error shape from body (may be NULL); raw (may be NULL) supplies the excerpt
 * when body has no error message. */
void client_decode_error(long status, const json_t *body, const char *raw, size_t len,
                         struct client_api_error *out);

/* GETs every page of a list (path may carry a query) and gathers the "items" into *items (a new
 * array, caller owns). Returns the last HTTP status: 2xx on success; any other status with
 * *failed holding that answer (caller frees); -1 with err set when no answer came. */
int client_list_all(struct agyn_client *c, const char *path, json_t **items,
                    struct client_answer *failed, struct agyn_error *err);

/* Percent-encodes text for a URL path segment or query value; malloc'd (out of memory ends
 * the process, core/xalloc.h). */
char *client_escape(const char *text);

/* A Server-Sent Events request (GET, Accept: text/event-stream). */
struct client_stream {
    const char *path;
    const char *last_event_id; /* may be NULL */
    /* Called with each complete line, without its line end. */
    void (*on_line)(const char *line, void *ctx);
    void *ctx;
    /* Polled while waiting; when it becomes non-zero the stream ends and *stopped is set. */
    const volatile sig_atomic_t *stop;
};

/* Reads the stream until the server ends it or *stop is set. Returns 200 when the stream was
 * read (ended or stopped: *stopped says which); another status with *failed holding the
 * answer (caller frees); -1 with err set when no answer came. */
int client_stream(struct agyn_client *c, const struct client_stream *s, bool *stopped,
                  struct client_answer *failed, struct agyn_error *err);

#endif
