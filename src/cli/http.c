/* http.c — the CLI's side of the shared API client (client/client.h): the invocation's URL and
 * token handed to it, one kept connection for the whole run, problems printed in the CLI's words
 * ("agyn: cannot reach the API at ..."), and Ctrl-C ending an event stream cleanly. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

struct agyn_client *http_client(struct cli *cli) {
    cli->client.base_url = cli->api_url;
    cli->client.token = cli->token;
    cli->client.user_agent = "agyn-cli/1.0";
    cli->client.timeout_seconds = 120;
    cli->client.keep_handle = true;
    return &cli->client;
}

void http_print_failure(const struct cli *cli, const struct agyn_error *err) {
    if (err->code == AGYN_UNAVAILABLE)
        fprintf(stderr, "agyn: cannot reach the API at %s: %s\n", cli->api_url, err->message);
    else
        fprintf(stderr, "agyn: %s\n", err->message);
}

int http_send(struct cli *cli, const char *method, const char *path, const char *body_text,
              size_t body_len, struct client_answer *answer) {
    struct agyn_error err = {0};
    int status = client_request(http_client(cli), method, path, body_text, body_len, answer, &err);
    if (status < 0)
        http_print_failure(cli, &err);
    return status;
}

char *http_escape(struct cli *cli, const char *text) {
    (void)cli;
    return client_escape(text);
}

void http_close(struct cli *cli) {
    client_close(&cli->client);
}

/* ---- Server-Sent Events ------------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

int http_stream(struct cli *cli, const char *path, const char *last_event_id,
                void (*on_line)(const char *line, void *ctx), void *ctx, bool *interrupted) {
    struct sigaction action = {.sa_handler = on_signal}, old_int, old_term;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int);
    sigaction(SIGTERM, &action, &old_term);
    stop_requested = 0;

    struct agyn_client *c = http_client(cli);
    c->timeout_seconds = 0; /* a stream lasts as long as the server keeps it open */
    struct client_stream stream = {.path = path,
                                   .last_event_id = last_event_id,
                                   .on_line = on_line,
                                   .ctx = ctx,
                                   .stop = &stop_requested};
    struct client_answer failed;
    struct agyn_error err = {0};
    int status = client_stream(c, &stream, interrupted, &failed, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);

    int result = 0;
    if (status < 0) {
        http_print_failure(cli, &err);
        result = -1;
    } else if (status != 200) {
        api_print_error(NULL, status, failed.body);
        result = -1;
    }
    client_answer_free(&failed);
    return result;
}
