/* config_file.c — the CLI's saved logins, like kubectl's contexts: `agyn login` stores an API
 * URL and token in $XDG_CONFIG_HOME/agyn/config.json (default ~/.config/agyn/; directory 0700,
 * file 0600, replaced atomically), `agyn context list|use|current` picks one, and every run
 * without --api-url/--token (or AGYN_API_URL/AGYN_TOKEN) uses the current context's. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/config_file.h"
#include "core/row.h"

static json_t *loaded; /* the config read by config_apply, kept while its strings are used */

/* "$XDG_CONFIG_HOME/agyn" (or "$HOME/.config/agyn") into dir; false when neither is set. */
static bool config_dir(char *dir, size_t size) {
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && *xdg)
        return (size_t)snprintf(dir, size, "%s/agyn", xdg) < size;
    if (home && *home)
        return (size_t)snprintf(dir, size, "%s/.config/agyn", home) < size;
    return false;
}

static bool config_path(char *path, size_t size) {
    char dir[4096];
    return config_dir(dir, sizeof dir) &&
           (size_t)snprintf(path, size, "%s/config.json", dir) < size;
}

/* The config file's JSON, or a new empty one when there is none; NULL (printed) when it is
 * unreadable or malformed. */
static json_t *config_load(void) {
    char path[4200];
    if (!config_path(path, sizeof path) || access(path, F_OK) != 0)
        return json_pack("{s:n, s:{}}", "current_context", "contexts");
    json_error_t error;
    json_t *config = json_load_file(path, 0, &error);
    if (!config || !json_is_object(json_object_get(config, "contexts"))) {
        fprintf(stderr, "agyn: %s: not a config file of agyn (%s)\n", path,
                config ? "no \"contexts\" object" : error.text);
        json_decref(config);
        return NULL;
    }
    return config;
}

/* Writes the config through a 0600 temporary file renamed over the old one. */
static int config_save(const json_t *config) {
    char dir[4096], path[4200], tmp[4300];
    if (!config_dir(dir, sizeof dir) || !config_path(path, sizeof path)) {
        fprintf(stderr, "agyn: neither XDG_CONFIG_HOME nor HOME is set\n");
        return CLI_FAIL;
    }
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", dir);
    char *slash = strrchr(parent, '/');
    if (slash && slash != parent) {
        *slash = '\0';
        mkdir(parent, 0700); /* ~/.config; an existing one is kept as it is */
    }
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "agyn: cannot create %s (%s)\n", dir, strerror(errno));
        return CLI_FAIL;
    }
    chmod(dir, 0700);
    snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        fprintf(stderr, "agyn: cannot write %s (%s)\n", tmp, strerror(errno));
        return CLI_FAIL;
    }
    int rc = json_dumpfd(config, fd, JSON_INDENT(2) | JSON_SORT_KEYS);
    if (rc == 0)
        rc = write(fd, "\n", 1) == 1 ? 0 : -1;
    if (close(fd) != 0 || rc != 0 || rename(tmp, path) != 0) {
        fprintf(stderr, "agyn: cannot write %s (%s)\n", path, strerror(errno));
        unlink(tmp);
        return CLI_FAIL;
    }
    return CLI_OK;
}

void config_apply(struct cli *cli) {
    bool need_url = !cli->api_url || !*cli->api_url;
    bool need_token = !cli->token || !*cli->token;
    if (!need_url && !need_token)
        return;
    char path[4200];
    if (!config_path(path, sizeof path) || access(path, F_OK) != 0)
        return;
    loaded = config_load();
    const char *name = getenv("AGYN_CONTEXT");
    if (!name || !*name)
        name = row_text(loaded, "current_context");
    json_t *context = name ? json_object_get(json_object_get(loaded, "contexts"), name) : NULL;
    if (!context)
        return;
    const char *saved_url = row_text(context, "api_url");
    /* The saved token goes only to the server it was saved for. */
    if (!need_url && (!saved_url || strcmp(saved_url, cli->api_url) != 0))
        return;
    if (need_url)
        cli->api_url = saved_url;
    if (need_token)
        cli->token = row_text(context, "token");
    if (need_token && !cli->org_arg) /* the saved organization goes with the saved token */
        cli->org_arg = row_text(context, "org");
}

void config_release(void) {
    json_decref(loaded);
    loaded = NULL;
}

static const char LOGIN_USAGE[] =
    "Usage: agyn login --api-url URL --token-stdin [--context NAME] [--org ID|NAME]\n\n"
    "Checks the token against the API (GET /api/v1/me) and saves URL and token as the\n"
    "context NAME (default \"default\"), which becomes the current one, in\n"
    "$XDG_CONFIG_HOME/agyn/config.json (default ~/.config/agyn/; 0600). --api-url,\n"
    "--token and the AGYN_* variables still take precedence over the saved context.\n";

int login_command(struct cli *cli, int argc, char **argv) {
    static const char *const flags[] = {"token-stdin", "context=", NULL};
    struct args a;
    int rc = args_parse(cli, argc, argv, flags, 0, 0, "login", &a);
    if (rc < 0) {
        fputs(LOGIN_USAGE, stdout);
        return CLI_OK;
    }
    if (rc != CLI_OK)
        return rc;
    bool url_given = false;
    for (int k = 0; k < argc; k++)
        url_given |= strncmp(argv[k], "--api-url", 9) == 0;
    if (!url_given || !args_has(&a, "token-stdin"))
        return usage_error("login", "--api-url URL and --token-stdin are required");
    char *token = secret_read_stdin("API token");
    if (!token)
        return CLI_FAIL;
    const char *name = args_has(&a, "context") ? args_get(&a, "context") : "default";
    cli->token = token;
    json_t *me = NULL;
    int status = api_call_status(cli, "GET", "/api/v1/me", NULL, 0, &me);
    if (status != 200) {
        if (status > 0)
            api_print_error("login", status, me);
        json_decref(me);
        secret_free(token);
        cli->token = NULL;
        return CLI_FAIL;
    }
    json_t *config = config_load();
    json_t *context = json_pack("{s:s, s:s}", "api_url", cli->api_url, "token", token);
    if (cli->org_arg && context)
        json_object_set_new(context, "org", json_string(cli->org_arg));
    rc = config && context ? CLI_OK : CLI_FAIL;
    if (rc == CLI_OK) {
        json_object_set_new(json_object_get(config, "contexts"), name, context);
        context = NULL;
        json_object_set_new(config, "current_context", json_string(name));
        rc = config_save(config);
    }
    if (rc == CLI_OK) {
        const char *who = row_text(me, "name");
        const char *role = row_text(me, "role");
        fprintf(stderr, "agyn: logged in to %s as %s (%s); context \"%s\" is current\n",
                cli->api_url, who ? who : "token", role ? role : "-", name);
    }
    json_decref(context);
    json_decref(config);
    json_decref(me);
    cli->token = NULL;
    secret_free(token);
    return rc;
}

int context_command(struct cli *cli, int argc, char **argv) {
    const char *verb = argc > 0 ? argv[0] : "";
    if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || !*verb) {
        fputs("Usage: agyn context list|current|use NAME|delete NAME\n\n"
              "The contexts saved by 'agyn login' (AGYN_CONTEXT picks one for one run).\n",
              *verb ? stdout : stderr);
        return *verb ? CLI_OK : CLI_USAGE;
    }
    json_t *config = config_load();
    if (!config)
        return CLI_FAIL;
    json_t *contexts = json_object_get(config, "contexts");
    const char *current = row_text(config, "current_context");
    int rc = CLI_OK;
    if ((strcmp(verb, "list") == 0 || strcmp(verb, "ls") == 0) && argc == 1) {
        json_t *items = json_array();
        const char *key;
        json_t *value;
        json_object_foreach(contexts, key, value) {
            json_array_append_new(items,
                                  json_pack("{s:s, s:s, s:O?, s:O?}", "current",
                                            current && strcmp(current, key) == 0 ? "*" : "", "name",
                                            key, "api_url", json_object_get(value, "api_url"),
                                            "org", json_object_get(value, "org")));
        }
        static const struct column columns[] = {{"CURRENT", "current"},
                                                {"NAME", "name"},
                                                {"API URL", "api_url"},
                                                {"ORG", "org"},
                                                {NULL, NULL}};
        output_list(cli, items, columns, "contexts");
        json_decref(items);
    } else if (strcmp(verb, "current") == 0 && argc == 1) {
        if (current)
            printf("%s\n", current);
        else
            rc = (fprintf(stderr, "agyn: no current context: run 'agyn login'\n"), CLI_FAIL);
    } else if ((strcmp(verb, "use") == 0 || strcmp(verb, "delete") == 0) && argc == 2) {
        if (!json_object_get(contexts, argv[1])) {
            fprintf(stderr, "agyn: no context \"%s\" (see 'agyn context list')\n", argv[1]);
            rc = CLI_FAIL;
        } else if (strcmp(verb, "use") == 0) {
            json_object_set_new(config, "current_context", json_string(argv[1]));
            rc = config_save(config);
        } else {
            if (current && strcmp(current, argv[1]) == 0)
                json_object_set_new(config, "current_context", json_null());
            json_object_del(contexts, argv[1]);
            rc = config_save(config);
        }
    } else {
        rc = usage_error("context", "expected list, current, use NAME or delete NAME");
    }
    json_decref(config);
    return rc;
}
