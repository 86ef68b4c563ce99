/* args.c — command-line flags: the global ones (accepted before the resource and after the
 * verb alike) and each verb's own, as "--flag value" or "--flag=value". */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int usage_error(const char *where, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("agyn: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nRun 'agyn %s%s--help' for usage.\n", where ? where : "",
            where && *where ? " " : "");
    return CLI_USAGE;
}

/* Matches argv[*i] against --name / --name=value (or -s for short); the value is returned in
 * *value (advancing *i when it is the next argument). 1 on match, 0 if not, -1 on a missing
 * value. */
static int match_flag(int argc, char **argv, int *i, const char *name, char short_name,
                      bool takes_value, const char **value) {
    const char *arg = argv[*i];
    const char *rest = NULL;
    if (arg[0] == '-' && arg[1] == '-' && strncmp(arg + 2, name, strlen(name)) == 0) {
        rest = arg + 2 + strlen(name);
        if (*rest != '\0' && *rest != '=')
            return 0;
    } else if (short_name && arg[0] == '-' && arg[1] == short_name) {
        rest = arg + 2;
    } else {
        return 0;
    }
    if (!takes_value) {
        if (*rest == '=')
            return usage_error("", "--%s takes no value", name), -1;
        if (*rest != '\0')
            return 0;
        *value = "";
        return 1;
    }
    if (*rest == '=' || (short_name && arg[1] == short_name && *rest)) {
        *value = *rest == '=' ? rest + 1 : rest;
        return 1;
    }
    if (*i + 1 >= argc) {
        usage_error("", "--%s needs a value", name);
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int args_global(struct cli *cli, int argc, char **argv, int *i) {
    static const char *const names[] = {"api-url", "token", "org", "output"};
    const char *value = NULL;
    size_t k = 0;
    int m = 0;
    for (; k < 4 && m == 0; k++)
        m = match_flag(argc, argv, i, names[k], k == 3 ? 'o' : 0, true, &value);
    if (m <= 0)
        return m;
    switch (k - 1) {
    case 0:
        cli->api_url = value;
        break;
    case 1:
        cli->token = value;
        break;
    case 2:
        cli->org_arg = value;
        cli->org_id[0] = '\0';
        break;
    default:
        /* yaml and name are renderings of the JSON answer (output_set_style). */
        cli->output = strcmp(value, "table") == 0 ? OUTPUT_TABLE : OUTPUT_JSON;
        if (strcmp(value, "json") == 0 || strcmp(value, "table") == 0)
            output_set_style(STYLE_JSON);
        else if (strcmp(value, "yaml") == 0)
            output_set_style(STYLE_YAML);
        else if (strcmp(value, "name") == 0)
            output_set_style(STYLE_NAME);
        else
            return usage_error("", "-o must be table, json, yaml or name, not \"%s\"", value), -1;
    }
    return 1;
}

const char *args_get(const struct args *a, const char *name) {
    for (int k = 0; k < a->count; k++)
        if (strcmp(a->names[k], name) == 0)
            return a->values[k];
    return NULL;
}

bool args_has(const struct args *a, const char *name) {
    return args_get(a, name) != NULL;
}

int args_all(const struct args *a, const char *name, const char **out, int max) {
    int n = 0;
    for (int k = 0; k < a->count && n < max; k++)
        if (strcmp(a->names[k], name) == 0)
            out[n++] = a->values[k];
    return n;
}

int args_parse(struct cli *cli, int argc, char **argv, const char *const *spec, int min_pos,
               int max_pos, const char *where, struct args *out) {
    memset(out, 0, sizeof *out);
    bool only_positional = false;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            if (out->npos >= max_pos || out->npos >= 4)
                return usage_error(where, "unexpected argument \"%s\"", arg);
            out->pos[out->npos++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
            return -1;
        int m = args_global(cli, argc, argv, &i);
        if (m < 0)
            return CLI_USAGE;
        if (m > 0)
            continue;
        for (const char *const *s = spec; s && *s && m == 0; s++) {
            size_t len = strlen(*s);
            bool repeatable = len > 1 && strcmp(*s + len - 2, "=+") == 0;
            if (repeatable)
                len--;
            bool takes_value = len > 0 && (*s)[len - 1] == '=';
            char name[48];
            snprintf(name, sizeof name, "%.*s", (int)(takes_value ? len - 1 : len), *s);
            /* "follow|f": --follow, also -f */
            char short_name = 0;
            char *bar = strchr(name, '|');
            if (bar) {
                short_name = bar[1];
                *bar = '\0';
            }
            const char *value = NULL;
            m = match_flag(argc, argv, &i, name, short_name, takes_value, &value);
            if (m < 0)
                return CLI_USAGE;
            if (m == 0)
                continue;
            if (!repeatable && args_has(out, name))
                return usage_error(where, "--%s given twice", name);
            if (out->count >= ARGS_MAX)
                return usage_error(where, "too many flags");
            snprintf(out->names[out->count], sizeof out->names[0], "%s", name);
            out->values[out->count++] = value;
        }
        if (m == 0)
            return usage_error(where, "unknown flag \"%s\"", arg);
    }
    if (out->npos < min_pos)
        return usage_error(where, "missing argument");
    return CLI_OK;
}

int args_require(const struct args *a, const char *where, ...) {
    va_list ap;
    va_start(ap, where);
    int rc = CLI_OK;
    for (const char *name; rc == CLI_OK && (name = va_arg(ap, const char *)) != NULL;)
        if (!args_has(a, name))
            rc = usage_error(where, "--%s is required", name);
    va_end(ap);
    return rc;
}
