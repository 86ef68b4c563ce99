/* main.c — agynd's entry point: dispatches to init, serve, keys and admin-token. */
#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "agynd/commands.h"
#include "base/version.h"
#include "base/wiping_alloc.h"

static void usage(FILE *out) {
    fprintf(out, "agynd — the agyn server: image pull secrets for agents, MCP servers and hooks\n"
                 "\n"
                 "Usage: agynd <command> [options]\n"
                 "\n"
                 "Commands:\n"
                 "  init    create a data directory: database, keyring, server-admin token\n"
                 "  serve   serve the API and the Console\n"
                 "  runner  run a runner process alone (scale-out, on PostgreSQL)\n"
                 "  migrate apply pending database migrations and exit\n"
                 "  keys    list, add and remove encryption keys; re-encrypt stored values\n"
                 "  admin-token rotate\n"
                 "          replace the server-admin token (prints the new one)\n"
                 "  backup --to FILE\n"
                 "          copy the database while agynd serves (SQLite online backup)\n"
                 "  version print the version and git commit (also --version)\n"
                 "\n"
                 "Run 'agynd <command> --help' for the options of a command.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    wiping_alloc_install();
    /* Few malloc arenas: the HTTP, runner and SSE threads would otherwise each keep one. */
    mallopt(M_ARENA_MAX, 2);
    umask(077); /* the database, keyring and logs hold secrets: owner-only files */
    const char *command = argv[1];
    if (strcmp(command, "--help") == 0 || strcmp(command, "-h") == 0 ||
        strcmp(command, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("agynd %s (commit %s)\n", agyn_version(), agyn_commit());
        return 0;
    }
    if (strcmp(command, "backup") == 0)
        return cmd_backup(argc - 1, argv + 1);
    if (strcmp(command, "init") == 0)
        return cmd_init(argc - 1, argv + 1);
    if (strcmp(command, "serve") == 0)
        return cmd_serve(argc - 1, argv + 1);
    if (strcmp(command, "runner") == 0)
        return cmd_runner(argc - 1, argv + 1);
    if (strcmp(command, "migrate") == 0)
        return cmd_migrate(argc - 1, argv + 1);
    if (strcmp(command, "keys") == 0)
        return cmd_keys(argc - 1, argv + 1);
    if (strcmp(command, "admin-token") == 0)
        return cmd_admin_token(argc - 1, argv + 1);
    fprintf(stderr, "agynd: unknown command \"%s\"\n\n", command);
    usage(stderr);
    return 2;
}
