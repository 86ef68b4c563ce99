/* cmd_secrets.c — "agyn secrets": named values, inline (read from stdin or a file, encrypted
 * by the server) or read from a provider's remote path. Also the value-source flags shared
 * with image pull secrets (source_from_flags). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/crud.h"
#include "cli/partial_update.h"
#include "core/password_source_rule.h"

static const struct column SECRET_COLUMNS[] = {{"ID", "id"},
                                               {"NAME", "name"},
                                               {"SOURCE", "value_source"},
                                               {"PROVIDER", "provider_name|provider_id"},
                                               {"REMOTE PATH", "remote_path"},
                                               {"UPDATED", "value_updated_at"},
                                               {NULL, NULL}};

const struct collection SECRETS = {"secrets", "name", "secret", "secrets", SECRET_COLUMNS};

int source_from_flags(struct cli *cli, const struct args *a, const struct value_source *s,
                      bool required, const char *where, json_t *body) {
    char stdin_flag[48], file_flag[48], stdin_name[50], file_name[50], inline_name[50];
    snprintf(stdin_flag, sizeof stdin_flag, "%s-stdin", s->prefix);
    snprintf(file_flag, sizeof file_flag, "%s-file", s->prefix);
    snprintf(stdin_name, sizeof stdin_name, "--%s", stdin_flag);
    snprintf(file_name, sizeof file_name, "--%s", file_flag);
    snprintf(inline_name, sizeof inline_name, "--%s", s->prefix);
    struct password_source_option options[5] = {
        {PASSWORD_SOURCE_INLINE, stdin_name, NULL, args_has(a, stdin_flag), false},
        {PASSWORD_SOURCE_INLINE, file_name, NULL, args_has(a, file_flag), false},
    };
    size_t count = 2;
    if (s->inline_flag)
        options[count++] = (struct password_source_option){PASSWORD_SOURCE_INLINE, inline_name,
                                                           NULL, args_has(a, s->prefix), false};
    if (s->secret_field)
        options[count++] = (struct password_source_option){PASSWORD_SOURCE_SECRET, "--secret", NULL,
                                                           args_has(a, "secret"), false};
    options[count++] =
        (struct password_source_option){PASSWORD_SOURCE_REMOTE, "--provider", "--remote-path",
                                        args_has(a, "provider"), args_has(a, "remote-path")};
    struct password_source_choice choice;
    struct agyn_error err = {0};
    if (password_source_choose(options, count, required, &choice, &err) != 0)
        return usage_error(where, "%s", err.message);
    enum password_source_kind kind = choice.chosen ? choice.chosen->kind : PASSWORD_SOURCE_NONE;
    bool inline_given = kind == PASSWORD_SOURCE_INLINE;
    bool secret_given = kind == PASSWORD_SOURCE_SECRET;
    bool remote_given = kind == PASSWORD_SOURCE_REMOTE;
    char id[AGYN_UUID_LEN + 1];
    int rc = CLI_OK;
    if (inline_given) {
        int got = secret_flag(a, s->prefix, s->inline_flag, s->inline_field, where, body);
        rc = got < 0 ? -got : CLI_OK;
    } else if (secret_given) {
        rc = crud_resolve(cli, &SECRETS, args_get(a, "secret"), id);
        if (rc == CLI_OK)
            json_object_set_new(body, s->secret_field, json_string(id));
    } else if (remote_given) {
        rc = crud_resolve(cli, &SECRET_PROVIDERS, args_get(a, "provider"), id);
        if (rc == CLI_OK)
            json_object_set_new(body, "provider_id", json_string(id));
        body_set_flag(body, a, "remote-path", "remote_path");
    }
    return rc;
}

static const struct value_source VALUE = {"value", false, "value", NULL};

static const char *const SECRET_FLAGS[] = {
    "name=", "description=", "value-stdin", "value-file=", "provider=", "remote-path=", NULL};

static int secrets_create(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "secrets create";
    json_t *body = json_object();
    int rc = args_require(a, where, "name", NULL);
    body_set_flag(body, a, "name", "name");
    body_set_flag(body, a, "description", "description");
    if (rc == CLI_OK)
        rc = source_from_flags(cli, a, &VALUE, true, where, body);
    if (rc == CLI_OK)
        rc = crud_send(cli, &SECRETS, NULL, body);
    json_decref(body);
    return rc;
}

static int secrets_update(struct cli *cli, const struct args *a, const void *data) {
    const char *where = "secrets update";
    char id[AGYN_UUID_LEN + 1];
    json_t *body = json_object();
    body_set_flag(body, a, "name", "name");
    body_set_flag(body, a, "description", "description");
    int rc = source_from_flags_keeping(cli, a, &VALUE, &SECRETS, where, body);
    if (rc == CLI_OK)
        rc = crud_needs_change(body, where);
    if (rc == CLI_OK)
        rc = crud_resolve(cli, &SECRETS, a->pos[0], id);
    if (rc == CLI_OK)
        rc = crud_send(cli, &SECRETS, id, body);
    json_decref(body);
    return rc;
}

static int secrets_list(struct cli *cli, const struct args *a, const void *data) {
    return crud_list(cli, &SECRETS, NULL);
}

static int secrets_get(struct cli *cli, const struct args *a, const void *data) {
    return crud_get(cli, &SECRETS, a->pos[0], NULL);
}

static int secrets_delete(struct cli *cli, const struct args *a, const void *data) {
    return crud_delete(cli, &SECRETS, a->pos[0], NULL);
}

static const char SECRET_HELP[] =
    "  --name NAME              unique in the organization\n"
    "  --description TEXT\n"
    "The value, from exactly one source (update: optional, replaces the old one):\n"
    "  --value-stdin            read it from stdin (a terminal prompts without echo)\n"
    "  --value-file FILE        read it from a file\n"
    "  --provider ID|NAME --remote-path PATH\n"
    "                           read it from a secret provider at each use\n"
    "A trailing newline of the value read is dropped. Values are never shown.\n";

const struct verb SECRET_VERBS[] = {
    {"list", "", "List secrets (never their values)", NULL, NULL, 0, 0, secrets_list, NULL},
    {"get", "ID|NAME", "Show a secret", NULL, NULL, 1, 1, secrets_get, NULL},
    {"create", "--name NAME (--value-stdin | --value-file FILE | --provider ID --remote-path PATH)",
     "Create a secret", SECRET_HELP, SECRET_FLAGS, 0, 0, secrets_create, NULL},
    {"update", "ID|NAME [--name NAME] [--description TEXT] [value source]",
     "Change a secret's name, description or value", SECRET_HELP, SECRET_FLAGS, 1, 1,
     secrets_update, NULL},
    {"delete", "ID|NAME", "Delete a secret that no image pull secret uses", NULL, NULL, 1, 1,
     secrets_delete, NULL},
    {NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL},
};
