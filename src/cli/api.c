/* api.c — JSON calls to the agyn API on top of http.c: error reporting in the API's own words
 * ("agyn: registry: ..."), paging through lists, finding the organization, and turning names
 * into ids. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/secure_mem.h"
#include "core/row.h"
#include "core/xalloc.h"
#include "cli/cli.h"

/* Control bytes of server text are shown as spaces, so a message cannot drive the terminal. */
static void print_clean(FILE *out, const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        fputc(*p < 0x20 || *p == 0x7f ? ' ' : *p, out);
}

/* One "agyn: [context: ][field: ]message" line. */
static void print_error_line(const char *context, const char *field, const char *message) {
    fputs("agyn: ", stderr);
    if (context) {
        print_clean(stderr, context);
        fputs(": ", stderr);
    }
    if (field && field[0]) {
        print_clean(stderr, field);
        fputs(": ", stderr);
    }
    print_clean(stderr, message);
    fputc('\n', stderr);
}

void api_print_error(const char *context, int status, const json_t *response) {
    /* A 422 that lists every field error (error.errors) prints one line per field. */
    const json_t *errors = json_object_get(json_object_get(response, "error"), "errors");
    if (json_array_size(errors) > 1) {
        size_t i;
        const json_t *entry;
        json_array_foreach(errors, i, entry) {
            const char *message = row_text(entry, "message");
            print_error_line(context, row_text(entry, "field"), message ? message : "invalid");
        }
        return;
    }
    struct client_api_error error;
    client_decode_error(status, response, NULL, 0, &error);
    print_error_line(context, error.field, error.message);
}

int api_call_status(struct cli *cli, const char *method, const char *path, const char *body_text,
                    size_t body_len, json_t **out) {
    *out = NULL;
    if (!body_text && (strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0)) {
        body_text = "{}"; /* an action without input (verify, stop, test) */
        body_len = 2;
    }
    struct client_answer answer;
    int status = http_send(cli, method, path, body_text, body_len, &answer);
    if (status < 0)
        return -1;
    *out = json_incref(answer.body);
    if (answer.len > 0 && !*out && status < 300) {
        fprintf(stderr, "agyn: the API answered HTTP %d with a body that is not JSON\n", status);
        status = -1;
    }
    client_answer_free(&answer);
    return status;
}

int api_call(struct cli *cli, const char *method, const char *path, const json_t *body,
             json_t **out) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *response = NULL;
    int status = api_call_status(cli, method, path, text, text ? strlen(text) : 0, &response);
    secure_free(text);
    if (status < 0)
        return CLI_FAIL;
    if (status >= 300) {
        api_print_error(NULL, status, response);
        json_decref(response);
        return CLI_FAIL;
    }
    if (out)
        *out = response;
    else
        json_decref(response);
    return CLI_OK;
}

int api_list_all(struct cli *cli, const char *path, json_t **items) {
    struct client_answer failed;
    struct agyn_error err = {0};
    int status = client_list_all(http_client(cli), path, items, &failed, &err);
    if (status < 0) {
        http_print_failure(cli, &err);
        return CLI_FAIL;
    }
    if (!client_status_ok(status)) {
        api_print_error(NULL, status, failed.body);
        client_answer_free(&failed);
        return CLI_FAIL;
    }
    return CLI_OK;
}

/* The id of the row of items whose label equals name; CLI_FAIL (printed) for none or many. */
static int find_by_label(const json_t *items, const char *label, const char *name, const char *noun,
                         char out[AGYN_UUID_LEN + 1]) {
    const char *found = NULL;
    size_t i, matches = 0;
    const json_t *item;
    json_array_foreach(items, i, item) {
        const char *value = row_text(item, label);
        if (value && strcmp(value, name) == 0) {
            found = row_text(item, "id");
            matches++;
        }
    }
    if (matches == 1 && found && uuid_is_valid(found)) {
        snprintf(out, AGYN_UUID_LEN + 1, "%s", found);
        return CLI_OK;
    }
    if (matches > 1)
        fprintf(stderr, "agyn: %zu %ss are named \"%s\"; give the id instead\n", matches, noun,
                name);
    else
        fprintf(stderr, "agyn: %s \"%s\" not found\n", noun, name);
    return CLI_FAIL;
}

int cli_org(struct cli *cli) {
    if (cli->org_id[0])
        return CLI_OK;
    json_t *found = NULL;
    if (cli->org_arg && uuid_is_valid(cli->org_arg)) {
        snprintf(cli->org_id, sizeof cli->org_id, "%s", cli->org_arg);
        return CLI_OK;
    }
    if (cli->org_arg) {
        if (api_list_all(cli, "/api/v1/organizations", &found) != CLI_OK)
            return CLI_FAIL;
        int rc = find_by_label(found, "name", cli->org_arg, "organization", cli->org_id);
        json_decref(found);
        return rc;
    }
    if (api_call(cli, "GET", "/api/v1/me", NULL, &found) != CLI_OK)
        return CLI_FAIL;
    const char *org = row_text(found, "organization_id");
    int rc = CLI_OK;
    if (org && uuid_is_valid(org)) {
        snprintf(cli->org_id, sizeof cli->org_id, "%s", org);
    } else {
        fprintf(stderr, "agyn: this token is not bound to an organization (server-admin); "
                        "name one with --org ID|NAME or AGYN_ORG\n");
        rc = CLI_USAGE;
    }
    json_decref(found);
    return rc;
}

char *org_path(struct cli *cli, int *rc, const char *fmt, ...) {
    *rc = cli_org(cli);
    if (*rc != CLI_OK)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    char *suffix = xvasprintf(fmt, ap);
    va_end(ap);
    char *path = xasprintf("/api/v1/organizations/%s%s", cli->org_id, suffix);
    free(suffix);
    return path;
}

int resolve_id(struct cli *cli, const char *collection, const char *label, const char *noun,
               const char *arg, char out[AGYN_UUID_LEN + 1]) {
    if (uuid_is_valid(arg)) {
        snprintf(out, AGYN_UUID_LEN + 1, "%s", arg);
        return CLI_OK;
    }
    if (!label) {
        fprintf(stderr, "agyn: %s \"%s\" not found: not a valid id\n", noun, arg);
        return CLI_FAIL;
    }
    int rc;
    char *path = org_path(cli, &rc, "/%s", collection);
    if (!path)
        return rc;
    json_t *items = NULL;
    rc = api_list_all(cli, path, &items);
    free(path);
    if (rc == CLI_OK)
        rc = find_by_label(items, label, arg, noun, out);
    json_decref(items);
    return rc;
}
