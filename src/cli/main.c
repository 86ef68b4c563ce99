/* main.c — agyn, the command-line client of the agyn API: global flags and environment, help
 * at every level, and dispatch of "agyn <resource> <verb>" to the verb tables of cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/wiping_alloc.h"
#include "cli/cli.h"

static const struct resource RESOURCES[] = {
    {"organizations", "orgs", "organizations (the server-admin token creates them)",
     ORGANIZATION_VERBS},
    {"tokens", NULL, "API tokens of an organization", TOKEN_VERBS},
    {"agents", NULL, "agents (name and image)", AGENT_VERBS},
    {"mcps", NULL, "MCP servers of an agent", MCP_VERBS},
    {"hooks", NULL, "hooks of an agent", HOOK_VERBS},
    {"secret-providers", "providers", "remote secret providers (Vault, AWS Secrets Manager)",
     SECRET_PROVIDER_VERBS},
    {"secrets", NULL, "secrets (inline or read from a provider)", SECRET_VERBS},
    {"image-pull-secrets", "ips", "container registry credentials", IMAGE_PULL_SECRET_VERBS},
    {"attachments", NULL, "image pull secrets attached to agents, MCP servers and hooks",
     ATTACHMENT_VERBS},
    {"workloads", NULL, "runs of an agent", WORKLOAD_VERBS},
    {"events", NULL, "the organization's live event stream", EVENT_VERBS},
    {NULL, NULL, NULL, NULL},
};

static const char GLOBAL_FLAGS[] =
    "Global flags (before the resource or after the verb):\n"
    "  --api-url URL       API address (env AGYN_API_URL; default http://127.0.0.1:8080)\n"
    "  --token TOKEN       API token (env AGYN_TOKEN or AGYN_API_TOKEN); prefer the\n"
    "                      environment: a flag is visible to other users in ps\n"
    "  --org ID|NAME       organization (env AGYN_ORG; default: the token's own)\n"
    "  -o, --output FMT    table (default) or json\n"
    "  -h, --help          help for agyn, a resource or a verb\n";

static void top_help(FILE *out) {
    fprintf(out, "Usage: agyn [global flags] <resource> <verb> [flags]\n\n"
                 "The command-line client of agyn: container registry credentials (image pull\n"
                 "secrets) for agents, MCP servers and hooks, and the workloads that use them.\n\n"
                 "Resources:\n");
    for (const struct resource *r = RESOURCES; r->name; r++) {
        char name[48];
        snprintf(name, sizeof name, "%s%s%s%s", r->name, r->alias ? " (" : "",
                 r->alias ? r->alias : "", r->alias ? ")" : "");
        fprintf(out, "  %-32s %s\n", name, r->summary);
    }
    fprintf(out,
            "\n%s\nRun 'agyn <resource> --help' for its verbs. Exit status: 0 success, 1 "
            "error, 2 usage.\n",
            GLOBAL_FLAGS);
}

static void resource_help(FILE *out, const struct resource *r) {
    fprintf(out, "Usage: agyn %s <verb> [flags]\n\n%s.\n\nVerbs:\n", r->name, r->summary);
    for (const struct verb *v = r->verbs; v->name; v++)
        fprintf(out, "  %-10s %s\n", v->name, v->summary);
    fprintf(out, "\nRun 'agyn %s <verb> --help' for its flags.\n", r->name);
}

static void verb_help(FILE *out, const struct resource *r, const struct verb *v) {
    fprintf(out, "Usage: agyn %s %s%s%s\n\n%s.\n", r->name, v->name, *v->usage ? " " : "", v->usage,
            v->summary);
    if (v->help)
        fprintf(out, "\n%s", v->help);
    fprintf(out, "\n%s", GLOBAL_FLAGS);
}

static const struct resource *find_resource(const char *name) {
    for (const struct resource *r = RESOURCES; r->name; r++)
        if (strcmp(r->name, name) == 0 || (r->alias && strcmp(r->alias, name) == 0))
            return r;
    return NULL;
}

static const struct verb *find_verb(const struct resource *r, const char *name) {
    for (const struct verb *v = r->verbs; v->name; v++)
        if (strcmp(v->name, name) == 0)
            return v;
    return NULL;
}

/* "agyn help [resource [verb]]" */
static int help_command(int argc, char **argv) {
    const struct resource *r = argc > 0 ? find_resource(argv[0]) : NULL;
    if (argc == 0) {
        top_help(stdout);
        return CLI_OK;
    }
    if (!r)
        return usage_error("", "unknown resource \"%s\"", argv[0]);
    const struct verb *v = argc > 1 ? find_verb(r, argv[1]) : NULL;
    if (argc > 1 && !v)
        return usage_error(r->name, "unknown verb \"%s\"", argv[1]);
    if (v)
        verb_help(stdout, r, v);
    else
        resource_help(stdout, r);
    return CLI_OK;
}

static int run(struct cli *cli, int argc, char **argv) {
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            top_help(stdout);
            return CLI_OK;
        }
        int m = args_global(cli, argc, argv, &i);
        if (m < 0)
            return CLI_USAGE;
        if (m == 0)
            return usage_error("", "unknown flag \"%s\"", argv[i]);
    }
    if (i >= argc) {
        top_help(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[i], "help") == 0)
        return help_command(argc - i - 1, argv + i + 1);
    const struct resource *r = find_resource(argv[i]);
    if (!r)
        return usage_error("", "unknown resource \"%s\"", argv[i]);
    i++;
    if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
        resource_help(i >= argc ? stderr : stdout, r);
        return i >= argc ? CLI_USAGE : CLI_OK;
    }
    const struct verb *v = find_verb(r, argv[i]);
    if (!v)
        return usage_error(r->name, "unknown verb \"%s\"", argv[i]);
    char where[96];
    snprintf(where, sizeof where, "%s %s", r->name, v->name);
    struct args args;
    int rc =
        args_parse(cli, argc - i - 1, argv + i + 1, v->flags, v->min_pos, v->max_pos, where, &args);
    if (rc < 0) {
        verb_help(stdout, r, v);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    if (!cli->token || !*cli->token) {
        fprintf(stderr, "agyn: no API token: set AGYN_TOKEN (or pass --token)\n");
        return CLI_USAGE;
    }
    for (const unsigned char *p = (const unsigned char *)cli->token; *p; p++)
        if (*p <= ' ' || *p == 0x7f) {
            fprintf(stderr, "agyn: the API token contains whitespace or control characters\n");
            return CLI_USAGE;
        }
    return v->run(cli, &args, v->data);
}

int main(int argc, char **argv) {
    wiping_alloc_install();
    struct agyn_error err = {0};
    if (client_global_init(&err) != 0) {
        fprintf(stderr, "agyn: %s\n", err.message);
        return CLI_FAIL;
    }
    struct cli cli = {.api_url = getenv("AGYN_API_URL"),
                      .token = getenv("AGYN_TOKEN"),
                      .org_arg = getenv("AGYN_ORG")};
    if (!cli.api_url || !*cli.api_url)
        cli.api_url = "http://127.0.0.1:8080";
    if (!cli.token || !*cli.token)
        cli.token = getenv("AGYN_API_TOKEN");
    if (cli.org_arg && !*cli.org_arg)
        cli.org_arg = NULL;
    int rc = run(&cli, argc, argv);
    http_close(&cli);
    client_global_cleanup();
    if (fflush(stdout) != 0 && rc == CLI_OK)
        rc = CLI_FAIL;
    return rc;
}
