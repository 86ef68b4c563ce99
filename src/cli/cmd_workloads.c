/* cmd_workloads.c — "agyn workloads" (start an agent, watch and stop it) and "agyn events
 * follow" (the organization's live event stream, printed as it comes until Ctrl-C). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/crud.h"
#include "core/row.h"

static const struct column WORKLOAD_COLUMNS[] = {{"ID", "id"},
                                                 {"AGENT", "agent_name|agent_id"},
                                                 {"STATUS", "status"},
                                                 {"REASON", "failure_reason"},
                                                 {"CREATED", "created_at"},
                                                 {NULL, NULL}};

static const struct column CONTAINER_COLUMNS[] = {{"CONTAINER", "name"},
                                                  {"ROLE", "role"},
                                                  {"IMAGE", "image"},
                                                  {"STATUS", "status"},
                                                  {"REASON", "reason"},
                                                  {"RESTARTS", "restart_count"},
                                                  {"CREDENTIAL", "credential.name"},
                                                  {"MESSAGE", "message"},
                                                  {NULL, NULL}};

const struct collection WORKLOADS = {"workloads", NULL, "workload", "workloads", WORKLOAD_COLUMNS};

/* A workload: JSON as is, or its fields and then a table of its containers. */
static void print_workload(const struct cli *cli, const json_t *workload) {
    if (cli->output == OUTPUT_JSON) {
        output_json(workload);
        return;
    }
    json_t *summary = json_deep_copy(workload);
    json_object_del(summary, "containers");
    output_item(cli, summary);
    json_decref(summary);
    const json_t *containers = json_object_get(workload, "containers");
    if (json_array_size(containers) > 0) {
        putchar('\n');
        output_table(containers, CONTAINER_COLUMNS);
    }
}

static int get_workload(struct cli *cli, const char *id, json_t **out) {
    int rc;
    char *path = org_path(cli, &rc, "/workloads/%s", id);
    if (!path)
        return rc;
    rc = api_call(cli, "GET", path, NULL, out);
    free(path);
    return rc;
}

static bool status_in(const json_t *workload, const char *const *statuses) {
    const char *status = row_text(workload, "status");
    for (; status && *statuses; statuses++)
        if (strcmp(status, *statuses) == 0)
            return true;
    return false;
}

/* --timeout SECONDS (default 120) of --wait; CLI_USAGE (printed) if malformed. */
static int parse_timeout(const struct args *a, const char *where, double *out) {
    const char *text = args_get(a, "timeout");
    char *end = NULL;
    *out = text ? strtod(text, &end) : 120;
    if (text && (end == text || *end || !(*out > 0)))
        return usage_error(where, "--timeout must be a positive number of seconds");
    return CLI_OK;
}

/* Polls the workload until its status is one of until (or timeout seconds pass); prints it.
 * Exit 0 when it ended in one of ok, else 1 with the reason on stderr. */
static int wait_for(struct cli *cli, json_t *workload, const char *const *until,
                    const char *const *ok, double timeout) {
    char id[AGYN_UUID_LEN + 1];
    snprintf(id, sizeof id, "%s", row_text(workload, "id"));
    struct timespec start, now, pause = {0, 250 * 1000000L};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int rc = CLI_OK;
    while (rc == CLI_OK && !status_in(workload, until)) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9 > timeout)
            break;
        nanosleep(&pause, NULL);
        json_decref(workload);
        workload = NULL;
        rc = get_workload(cli, id, &workload);
    }
    if (rc != CLI_OK)
        return rc;
    print_workload(cli, workload);
    const char *status = row_text(workload, "status");
    if (status_in(workload, ok)) {
        rc = CLI_OK;
    } else if (status && strcmp(status, "failed") == 0) {
        const char *reason = row_text(workload, "failure_reason");
        const char *message = row_text(workload, "failure_message");
        fprintf(stderr, "agyn: workload %s failed: %s%s%s\n", id, reason ? reason : "unknown",
                message ? ": " : "", message ? message : "");
        rc = CLI_FAIL;
    } else if (status_in(workload, until)) {
        fprintf(stderr, "agyn: workload %s is %s\n", id, status);
        rc = CLI_FAIL;
    } else {
        fprintf(stderr, "agyn: workload %s is still %s after %g s\n", id,
                status ? status : "unknown", timeout);
        rc = CLI_FAIL;
    }
    json_decref(workload);
    return rc;
}

static int workloads_list(struct cli *cli, const struct args *a, const void *data) {
    char query[QUERY_MAX] = "";
    int rc = crud_filter(cli, a, "agent", &AGENTS, "agent_id", query, sizeof query);
    if (rc == CLI_OK && args_has(a, "status"))
        rc = query_add(cli, query, sizeof query, "status", args_get(a, "status"));
    return rc == CLI_OK ? crud_list(cli, &WORKLOADS, query) : rc;
}

static int workloads_get(struct cli *cli, const struct args *a, const void *data) {
    char id[AGYN_UUID_LEN + 1];
    json_t *workload = NULL;
    int rc = crud_resolve(cli, &WORKLOADS, a->pos[0], id);
    if (rc == CLI_OK)
        rc = get_workload(cli, id, &workload);
    if (rc == CLI_OK)
        print_workload(cli, workload);
    json_decref(workload);
    return rc;
}

static const char *const STARTED[] = {"running",  "succeeded", "failed",
                                      "stopping", "stopped",   NULL};
static const char *const RUNNING[] = {"running", "succeeded", NULL};
static const char *const ENDED[] = {"stopped", "succeeded", "failed", NULL};

static int workloads_start(struct cli *cli, const struct args *a, const void *data) {
    char agent[AGYN_UUID_LEN + 1];
    double timeout;
    int rc = args_require(a, "workloads start", "agent", NULL);
    if (rc == CLI_OK)
        rc = parse_timeout(a, "workloads start", &timeout);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, &AGENTS, args_get(a, "agent"), agent);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/workloads") : NULL;
    if (!path)
        return rc;
    json_t *body = json_pack("{s:s}", "agent_id", agent), *workload = NULL;
    body_set_flag(body, a, "restart-policy", "restart_policy");
    rc = api_call(cli, "POST", path, body, &workload);
    json_decref(body);
    free(path);
    if (rc != CLI_OK)
        return rc;
    if (args_has(a, "wait"))
        return wait_for(cli, workload, STARTED, RUNNING, timeout);
    print_workload(cli, workload);
    json_decref(workload);
    return CLI_OK;
}

static int workloads_stop(struct cli *cli, const struct args *a, const void *data) {
    char id[AGYN_UUID_LEN + 1];
    double timeout;
    int rc = parse_timeout(a, "workloads stop", &timeout);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, &WORKLOADS, a->pos[0], id);
    char *path = rc == CLI_OK ? org_path(cli, &rc, "/workloads/%s/stop", id) : NULL;
    if (!path)
        return rc;
    json_t *workload = NULL;
    rc = api_call(cli, "POST", path, NULL, &workload);
    free(path);
    if (rc != CLI_OK)
        return rc;
    if (args_has(a, "wait"))
        return wait_for(cli, workload, ENDED, ENDED, timeout);
    print_workload(cli, workload);
    json_decref(workload);
    return CLI_OK;
}

/* Prints each line of a container's log as it arrives. */
static void print_log_line(const char *line, void *ctx) {
    (void)ctx;
    puts(line);
    fflush(stdout);
}

/* The workload's main container (the first), or NULL. */
static const char *main_container(const json_t *workload) {
    return json_string_value(
        json_object_get(json_array_get(json_object_get(workload, "containers"), 0), "name"));
}

static int workloads_logs(struct cli *cli, const struct args *a, const void *data) {
    char id[AGYN_UUID_LEN + 1];
    json_t *workload = NULL;
    int rc = crud_resolve(cli, &WORKLOADS, a->pos[0], id);
    if (rc == CLI_OK && a->npos < 2)
        rc = get_workload(cli, id, &workload);
    const char *name = a->npos >= 2 ? a->pos[1] : main_container(workload);
    if (rc == CLI_OK && !name) {
        fprintf(stderr, "agyn: workload %s has no containers\n", id);
        rc = CLI_FAIL;
    }
    const char *tail = args_get(a, "tail");
    char *escaped = rc == CLI_OK ? http_escape(cli, name) : NULL;
    char *tail_escaped = rc == CLI_OK && tail ? http_escape(cli, tail) : NULL;
    char *path = escaped ? org_path(cli, &rc,
                                    "/workloads/%s/containers/%s/logs?follow=%s"
                                    "&timestamps=%s%s%s",
                                    id, escaped, args_has(a, "follow") ? "true" : "false",
                                    args_has(a, "timestamps") ? "true" : "false",
                                    tail ? "&tail=" : "", tail_escaped ? tail_escaped : "")
                         : NULL;
    free(escaped);
    free(tail_escaped);
    json_decref(workload);
    if (!path)
        return rc == CLI_OK ? CLI_FAIL : rc;
    bool interrupted = false;
    int sent = http_stream(cli, path, NULL, print_log_line, NULL, &interrupted);
    free(path);
    return sent == 0 ? CLI_OK : CLI_FAIL;
}

static const char *const LIST_FLAGS[] = {"agent=", "status=", NULL};
static const char *const LOGS_FLAGS[] = {"follow|f", "tail=", "timestamps", NULL};
static const char *const WAIT_FLAGS[] = {"agent=", "restart-policy=", "wait", "timeout=", NULL};
static const char *const STOP_FLAGS[] = {"wait", "timeout=", NULL};

const struct verb WORKLOAD_VERBS[] = {
    {"list", "[--agent ID|NAME] [--status STATUS]", "List workloads",
     "  --agent ID|NAME    only this agent's\n"
     "  --status STATUS    starting, running, stopping, stopped, succeeded or failed\n",
     LIST_FLAGS, 0, 0, workloads_list, NULL},
    {"get", "ID", "Show a workload and its containers (status, reason, credential used)", NULL,
     NULL, 1, 1, workloads_get, NULL},
    {"start", "--agent ID|NAME [--restart-policy POLICY] [--wait [--timeout SECONDS]]",
     "Start a workload: the runner pulls its images with the attached image pull secrets",
     "  --agent ID|NAME      the agent to run\n"
     "  --restart-policy POLICY  never (default), on-failure or always: whether a container\n"
     "                       that ends is started again (docker runtime; back-off\n"
     "                       CrashLoopBackOff, the workload stays running)\n"
     "  --wait               wait until it runs (exit 0) or fails (exit 1, with the\n"
     "                       failure reason and the registry's message)\n"
     "  --timeout SECONDS    how long --wait waits (default 120)\n",
     WAIT_FLAGS, 0, 0, workloads_start, NULL},
    {"stop", "ID [--wait [--timeout SECONDS]]", "Stop a workload",
     "  --wait               wait until it has stopped\n"
     "  --timeout SECONDS    how long --wait waits (default 120)\n",
     STOP_FLAGS, 1, 1, workloads_stop, NULL},
    {"logs", "WORKLOAD [CONTAINER] [-f] [--tail N] [--timestamps]",
     "Print a container's stdout and stderr (docker runtime)",
     "  CONTAINER          the container's name (default: the main container)\n"
     "  -f, --follow       keep printing as the container writes, until it ends\n"
     "  --tail N           only the last N lines\n"
     "  --timestamps       prefix each line with the engine's time stamp\n",
     LOGS_FLAGS, 1, 2, workloads_logs, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};

/* ---- events --------------------------------------------------------------------------------- */

/* -o json: one {"id", "event", "data"} line per event; table: the stream's lines, without
 * heartbeat comments. */
struct event_printer {
    bool json;
    bool in_event; /* table mode: the header was printed */
    json_t *event;
};

/* One event as a table row (TIME-less: the stream is live): ID, EVENT, OBJECT (its name or
 * id), STATUS and DETAIL (reason and message), cells cleaned by output_cell. */
static void event_table_row(const json_t *event, bool header) {
    static const char *const keys[] = {"id", "event", "data.name|data.id",
                                       "data.status|data.container.status",
                                       "data.failure_reason|data.reason|data.container.reason"};
    if (header)
        printf("%-6s  %-28s  %-36s  %-9s  %s\n", "ID", "EVENT", "OBJECT", "STATUS", "DETAIL");
    char bufs[6][256];
    const char *cells[5];
    for (size_t i = 0; i < 5; i++)
        cells[i] = output_cell(event, keys[i], bufs[i], sizeof bufs[i]);
    const char *message = output_cell(
        event, "data.failure_message|data.message|data.container.message", bufs[5], sizeof bufs[5]);
    printf("%-6s  %-28s  %-36s  %-9s  %s%s%s\n", cells[0], cells[1], cells[2], cells[3], cells[4],
           strcmp(message, "-") != 0 ? ": " : "", strcmp(message, "-") != 0 ? message : "");
    fflush(stdout);
}

static void on_line(const char *line, void *ctx) {
    struct event_printer *p = ctx;
    if (line[0] == ':')
        return;
    if (!*line) {
        if (json_object_size(p->event) > 0 && !p->json) {
            event_table_row(p->event, !p->in_event);
            p->in_event = true; /* the header is printed */
        } else if (json_object_size(p->event) > 0) {
            char *text = json_dumps(p->event, JSON_COMPACT);
            if (text)
                puts(text);
            free(text);
            fflush(stdout);
        }
        json_object_clear(p->event);
        return;
    }
    const char *colon = strchr(line, ':');
    if (!colon)
        return;
    char field[16];
    snprintf(field, sizeof field, "%.*s", (int)(colon - line), line);
    const char *value = colon[1] == ' ' ? colon + 2 : colon + 1;
    if (strcmp(field, "data") == 0) {
        json_t *data = json_loads(value, JSON_DECODE_ANY, NULL);
        json_object_set_new(p->event, "data", data ? data : json_string(value));
    } else if (strcmp(field, "id") == 0) {
        json_object_set_new(p->event, "id", json_integer(strtoll(value, NULL, 10)));
    } else if (strcmp(field, "event") == 0) {
        json_object_set_new(p->event, "event", json_string(value));
    }
}

static int events_follow(struct cli *cli, const struct args *a, const void *data) {
    int rc;
    char *path = org_path(cli, &rc, "/events");
    if (!path)
        return rc;
    struct event_printer printer = {cli->output == OUTPUT_JSON, false, json_object()};
    bool interrupted = false;
    int result =
        http_stream(cli, path, args_get(a, "last-event-id"), on_line, &printer, &interrupted);
    free(path);
    json_decref(printer.event);
    if (result != 0)
        return CLI_FAIL;
    if (!interrupted) {
        fprintf(stderr, "agyn: the server ended the event stream\n");
        return CLI_FAIL;
    }
    return CLI_OK;
}

static const char *const FOLLOW_FLAGS[] = {"last-event-id=", NULL};

const struct verb EVENT_VERBS[] = {
    {"follow", "[--last-event-id N]",
     "Print the organization's live events as they come, until Ctrl-C",
     "Events: workload.created, workload.updated, workload.status_changed,\n"
     "image_pull_secret.*, attachment.*. The table format prints one row per event (ID,\n"
     "EVENT, OBJECT, STATUS, DETAIL); -o json one {\"id\",\"event\",\"data\"} object a line.\n"
     "  --last-event-id N    first replay the events after N (0: all that are kept)\n",
     FOLLOW_FLAGS, 0, 0, events_follow, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
