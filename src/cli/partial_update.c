/* partial_update.c — updates that keep unchanged companions: `--remote-path` alone on an
 * update moves the value to another path of the provider already in use, so the CLI restates
 * that provider (the API needs provider_id and remote_path together) instead of asking the
 * user to type it again. */
#include "cli/partial_update.h"
#include "core/row.h"

#include <string.h>

int source_from_flags_keeping(struct cli *cli, const struct args *a, const struct value_source *s,
                              const struct collection *c, const char *where, json_t *body) {
    if (!args_has(a, "remote-path") || args_has(a, "provider"))
        return source_from_flags(cli, a, s, false, where, body);
    char flag[64];
    const char *others[] = {"-stdin", "-file", ""};
    for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
        snprintf(flag, sizeof flag, "%s%s", s->prefix, others[i]);
        if ((i < 2 || s->inline_flag) && args_has(a, flag))
            return usage_error(where, "--remote-path goes with --provider, not --%s", flag);
    }
    if (s->secret_field && args_has(a, "secret"))
        return usage_error(where, "--remote-path goes with --provider, not --secret");
    json_t *current = NULL;
    int rc = crud_get(cli, c, a->pos[0], &current);
    const char *provider = row_text(current, "provider_id");
    if (rc == CLI_OK && !provider)
        rc = usage_error(where, "--remote-path needs --provider: this %s reads no provider now",
                         c->noun);
    if (rc == CLI_OK) {
        json_object_set_new(body, "provider_id", json_string(provider));
        body_set_flag(body, a, "remote-path", "remote_path");
    }
    json_decref(current);
    return rc;
}
