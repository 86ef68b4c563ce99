/* crud.h — shared verbs for the organization's collections (see crud.c) and the collections
 * themselves, so one resource's flags can name another's rows by id or name. */
#ifndef AGYN_CLI_CRUD_H
#define AGYN_CLI_CRUD_H

#include "cli/cli.h"

struct collection {
    const char *path;   /* under /organizations/{org}: "agents" */
    const char *label;  /* the field a name resolves against ("name"); NULL: ids only */
    const char *noun;   /* "agent" */
    const char *plural; /* "agents" */
    const struct column *columns;
};

extern const struct collection AGENTS, MCPS, HOOKS, SECRET_PROVIDERS, SECRETS, IMAGE_PULL_SECRETS,
    ATTACHMENTS, WORKLOADS, TOKENS;

#define QUERY_MAX 4096

/* Appends "name=value" (escaped) to query ("" or "?a=b"); CLI_USAGE (printed) if too long. */
int query_add(struct cli *cli, char *query, size_t size, const char *name, const char *value);
/* If flag was given, resolves its value in target and appends "param=<id>" to query. */
int crud_filter(struct cli *cli, const struct args *a, const char *flag,
                const struct collection *target, const char *param, char *query, size_t size);
int crud_list(struct cli *cli, const struct collection *c, const char *query);
int crud_resolve(struct cli *cli, const struct collection *c, const char *arg,
                 char id[AGYN_UUID_LEN + 1]);
/* GETs one row; prints it unless out is given (then the caller owns *out). */
int crud_get(struct cli *cli, const struct collection *c, const char *arg, json_t **out);
/* POSTs body to the collection (id NULL) or PATCHes the row id; prints the answer. */
int crud_send(struct cli *cli, const struct collection *c, const char *id, const json_t *body);
int crud_delete(struct cli *cli, const struct collection *c, const char *arg, const char *query);
/* POSTs to <collection>/<id>/<action> (verify, test), prints {ok, message}; CLI_FAIL when the
 * answer is not ok. */
int crud_check(struct cli *cli, const struct collection *c, const char *arg, const char *action);
/* CLI_USAGE (printed) when an update has nothing to send. */
int crud_needs_change(const json_t *body, const char *where);
/* Where a write-only value comes from: flags --<prefix>-stdin, --<prefix>-file FILE (and, if
 * inline_flag, the unsafe --<prefix> VALUE) set inline_field; --secret ID|NAME sets
 * secret_field (when not NULL); --provider ID|NAME with --remote-path PATH. */
struct value_source {
    const char *prefix;       /* "password" */
    bool inline_flag;         /* accept --password VALUE */
    const char *inline_field; /* "password" */
    const char *secret_field; /* "password_secret_id", or NULL */
};

/* Adds the one value source the flags give to body; required: one must be given. Returns
 * CLI_OK or an exit code (printed). */
int source_from_flags(struct cli *cli, const struct args *a, const struct value_source *s,
                      bool required, const char *where, json_t *body);
/* body[field] = the flag's value, when the flag was given. */
void body_set_flag(json_t *body, const struct args *a, const char *flag, const char *field);

#endif
