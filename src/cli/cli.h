/* cli.h — what the files of the agyn command-line client share: the invocation's settings,
 * flag parsing, the API client, output, secret input, and the verb tables of each resource
 * group (one cmd_*.c file each). Exit codes: 0 success, 1 failure (API or I/O), 2 usage. */
#ifndef AGYN_CLI_H
#define AGYN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "client/client.h"
#include "core/names.h"

enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

enum output_format { OUTPUT_TABLE, OUTPUT_JSON };

struct cli {
    const char *api_url;            /* --api-url, AGYN_API_URL, default http://127.0.0.1:8080 */
    const char *token;              /* --token, AGYN_TOKEN or AGYN_API_TOKEN; never printed */
    const char *org_arg;            /* --org or AGYN_ORG: an organization id or name */
    char org_id[AGYN_UUID_LEN + 1]; /* resolved on first use (cli_org) */
    enum output_format output;
    struct agyn_client client; /* the API client, one kept connection for the run (http.c) */
};

/* ---- args.c: flags of one verb ---------------------------------------------------------- */

#define ARGS_MAX 64

/* The parsed command line of one verb: its positional arguments and the flags given. */
struct args {
    const char *pos[4];
    int npos;
    char names[ARGS_MAX][48];
    const char *values[ARGS_MAX]; /* "" for switches */
    int count;
};

/* Handles a global flag (--api-url, --token, -o/--output, --org) at argv[*i], advancing *i
 * past its value. Returns 1 when consumed, 0 when argv[*i] is not a global flag, or -1 after
 * printing a usage problem. */
int args_global(struct cli *cli, int argc, char **argv, int *i);
/* Parses argv against spec, a NULL-terminated list of flag names; a name ending in '=' takes a
 * value ("name="), one ending in "=+" takes a value and may be repeated ("arg=+"; read them
 * with args_all), others are switches. Global flags are accepted anywhere. Returns CLI_OK,
 * CLI_USAGE (printed), or -1 when --help / -h was given. */
int args_parse(struct cli *cli, int argc, char **argv, const char *const *spec, int min_pos,
               int max_pos, const char *where, struct args *out);
const char *args_get(const struct args *a, const char *name); /* value, or NULL if not given */
bool args_has(const struct args *a, const char *name);
/* Every value of a repeatable flag, in command-line order, into out (at most max); the count. */
int args_all(const struct args *a, const char *name, const char **out, int max);
/* CLI_USAGE (printed) unless every flag named (NULL-terminated list) was given. */
int args_require(const struct args *a, const char *where, ...) __attribute__((sentinel));
/* Prints "agyn: <fmt>" and a pointer to --help to stderr; returns CLI_USAGE. */
int usage_error(const char *where, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- http.c: the shared API client, in the CLI's words ------------------------------------ */

/* The shared client set up with this invocation's URL and token (--api-url and --token may
 * change until the first call) and a 120-second request timeout. */
struct agyn_client *http_client(struct cli *cli);
/* Sends one request to API_URL + path through the shared client. body_text (may be NULL) is sent
 * as application/json. Returns the HTTP status with *answer filled (free it with
 * client_answer_free), or -1 after printing why no answer came. */
int http_send(struct cli *cli, const char *method, const char *path, const char *body_text,
              size_t body_len, struct client_answer *answer);
/* Prints why a request got no answer ("agyn: cannot reach the API at URL: ..."). */
void http_print_failure(const struct cli *cli, const struct agyn_error *err);
/* Frees the kept connection at exit. */
void http_close(struct cli *cli);
/* GETs an event stream and hands each complete line (without its newline) to on_line until
 * the server ends it or SIGINT/SIGTERM arrives (*interrupted then set). Returns 0, or -1 after
 * printing the error. */
int http_stream(struct cli *cli, const char *path, const char *last_event_id,
                void (*on_line)(const char *line, void *ctx), void *ctx, bool *interrupted);
/* Percent-encodes text for a URL query; the result is malloc'd (NULL when out of memory). */
char *http_escape(struct cli *cli, const char *text);

/* ---- api.c: JSON calls, organizations, names ----------------------------------------------- */

/* Calls the API: body (may be NULL, borrowed) is sent as JSON, *out gets the parsed response
 * (NULL for 204). On an error status the API's message is printed as "agyn: FIELD: MESSAGE"
 * and CLI_FAIL returned; CLI_OK otherwise. out may be NULL. */
int api_call(struct cli *cli, const char *method, const char *path, const json_t *body,
             json_t **out);
/* Like api_call but returns the status and the parsed body whatever the status (-1 when the
 * server could not be reached); nothing is printed for error statuses. */
int api_call_status(struct cli *cli, const char *method, const char *path, const char *body_text,
                    size_t body_len, json_t **out);
/* Prints the {"error": {...}} of an error response (or the status when there is none) as
 * "agyn: [CONTEXT: ][FIELD: ]MESSAGE". */
void api_print_error(const char *context, int status, const json_t *response);
/* GETs every page of a list (path may carry a query) into *items (a new array). */
int api_list_all(struct cli *cli, const char *path, json_t **items);
/* Resolves the organization once: --org/AGYN_ORG (id or name), else the token's own (GET
 * /api/v1/me). Returns CLI_OK, CLI_FAIL or CLI_USAGE (the server-admin token needs --org). */
int cli_org(struct cli *cli);
/* "/api/v1/organizations/<org>" + the formatted suffix, malloc'd; NULL if cli_org fails (the
 * problem is printed and *rc set). */
char *org_path(struct cli *cli, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Turns arg into the id of a row of the organization's collection ("agents"): an id is taken
 * as is; otherwise the row whose label field ("name") equals arg (label NULL: ids only).
 * Returns CLI_OK or CLI_FAIL (printed). */
int resolve_id(struct cli *cli, const char *collection, const char *label, const char *noun,
               const char *arg, char out[AGYN_UUID_LEN + 1]);

/* ---- output.c -------------------------------------------------------------------------------- */

/* A table column: its header and the field shown, a dotted path ("config.address") with
 * alternatives separated by '|' (the first present wins). */
struct column {
    const char *header;
    const char *keys;
};

/* A list: -o json prints {"items": [...]}; a table prints the columns (or "No <plural>." on
 * stderr when empty). */
void output_list(const struct cli *cli, json_t *items, const struct column *columns,
                 const char *plural);
/* One object: -o json prints it; a table lists "field: value" lines. */
void output_item(const struct cli *cli, const json_t *item);
void output_json(const json_t *value);
void output_table(const json_t *items, const struct column *columns);
/* The text a table cell shows for a field ("-" for null, missing or empty). */
const char *output_cell(const json_t *item, const char *keys, char *buf, size_t size);
/* For commands with no response body (delete): a line in table mode, {"id", <verb>: true} in
 * JSON mode. */
void output_done(const struct cli *cli, const char *noun, const char *id, const char *verb);

/* ---- secret_input.c: write-only values --------------------------------------------------------
 */

/* Reads a secret from stdin (a terminal gets a prompt without echo) or a file, dropping one
 * trailing newline. Returns a malloc'd string (free with secret_free) or NULL after printing
 * the problem. */
char *secret_read_stdin(const char *prompt);
char *secret_read_file(const char *path);
void secret_free(char *value);
/* Reads the value of one of the switch "<prefix>-stdin", "<prefix>-file FILE" or (if allowed)
 * "<prefix> VALUE" into body[field]. Returns 0 if none was given, 1 if one was, or -CLI_USAGE /
 * -CLI_FAIL after printing the problem (two given, unreadable file). */
int secret_flag(const struct args *a, const char *prefix, bool inline_allowed, const char *field,
                const char *where, json_t *body);

/* ---- the resource groups -------------------------------------------------------------------- */

struct verb {
    const char *name;
    const char *usage;        /* what follows "agyn <resource> <verb>" */
    const char *summary;      /* one line */
    const char *help;         /* flags and details for --help (may be NULL) */
    const char *const *flags; /* args_parse spec */
    int min_pos, max_pos;
    int (*run)(struct cli *cli, const struct args *a, const void *data);
    const void *data; /* handed to run: lets one function serve several resources */
};

struct resource {
    const char *name;
    const char *alias; /* may be NULL */
    const char *summary;
    const struct verb *verbs; /* terminated by {NULL} */
};

extern const struct verb ORGANIZATION_VERBS[], TOKEN_VERBS[], AGENT_VERBS[], MCP_VERBS[],
    HOOK_VERBS[], SECRET_PROVIDER_VERBS[], SECRET_VERBS[], IMAGE_PULL_SECRET_VERBS[],
    ATTACHMENT_VERBS[], WORKLOAD_VERBS[], EVENT_VERBS[];

#endif
