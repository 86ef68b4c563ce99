/* docker_helpers.c — the credential stores and helpers of a Docker config.json, resolved as
 * Docker does before `ips import` sends the file: each registry named in "credHelpers", and
 * each "auths" entry without credentials when "credsStore" is set, is asked of
 * `docker-credential-<helper> get` (the registry on stdin, {"Username","Secret"} on stdout).
 * What cannot be resolved is reported per entry and left out, never silently dropped. */
#include "cli/docker_helpers.h"
#include "core/row.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_OUTPUT_MAX 65536

static bool helper_name_ok(const char *name) {
    if (!name || !*name || strlen(name) > 64)
        return false;
    for (const char *p = name; *p; p++)
        if (!(('a' <= *p && *p <= 'z') || ('A' <= *p && *p <= 'Z') || ('0' <= *p && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    return true;
}

/* Runs docker-credential-<helper> get for server; *out gets its parsed answer. Returns NULL or
 * a static description of the failure. */
static const char *run_helper(const char *helper, const char *server, json_t **out, char *why,
                              size_t why_size) {
    char program[96];
    snprintf(program, sizeof program, "docker-credential-%s", helper);
    int to_child[2], from_child[2];
    if (pipe(to_child) != 0)
        return "cannot create a pipe";
    if (pipe(from_child) != 0) {
        close(to_child[0]);
        close(to_child[1]);
        return "cannot create a pipe";
    }
    pid_t pid = fork();
    if (pid < 0)
        return "cannot start a process";
    if (pid == 0) {
        dup2(to_child[0], STDIN_FILENO);
        dup2(from_child[1], STDOUT_FILENO);
        close(to_child[0]);
        close(to_child[1]);
        close(from_child[0]);
        close(from_child[1]);
        execlp(program, program, "get", (char *)NULL);
        _exit(127);
    }
    close(to_child[0]);
    close(from_child[1]);
    void (*old_pipe)(int) = signal(SIGPIPE, SIG_IGN);
    ssize_t ignored = write(to_child[1], server, strlen(server));
    (void)ignored;
    close(to_child[1]);
    char *text = malloc(HELPER_OUTPUT_MAX + 1);
    size_t len = 0;
    ssize_t n;
    while (text && len < HELPER_OUTPUT_MAX &&
           (n = read(from_child[0], text + len, HELPER_OUTPUT_MAX - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    close(from_child[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    signal(SIGPIPE, old_pipe);
    if (!text)
        return "out of memory";
    text[len] = '\0';
    const char *failure = NULL;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        snprintf(why, why_size,
                 "%s is not installed: credential helpers are unsupported here "
                 "unless it is on PATH",
                 program);
        failure = why;
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* The helper's stdout says why ("credentials not found in native keychain"); it holds
         * no secret when the helper failed. */
        text[strcspn(text, "\r\n")] = '\0';
        snprintf(why, why_size, "%s get failed: %.200s", program, *text ? text : "no output");
        failure = why;
    } else if (!(*out = json_loads(text, 0, NULL))) {
        snprintf(why, why_size, "%s get did not answer JSON", program);
        failure = why;
    }
    explicit_bzero(text, len);
    free(text);
    return failure;
}

static void report(json_t *problems, const char *key, const char *message) {
    json_array_append_new(problems, json_pack("{s:s, s:s}", "key", key, "message", message));
}

/* Asks helper for key's credentials; on success auths[key] = {username, password}. */
static void resolve(json_t *auths, const char *key, const char *helper, json_t *problems) {
    char why[512];
    if (!helper_name_ok(helper)) {
        report(problems, key, "credential helper name is not a plain name");
        json_object_del(auths, key);
        return;
    }
    json_t *answer = NULL;
    const char *failure = run_helper(helper, key, &answer, why, sizeof why);
    const char *user = row_text(answer, "Username");
    const char *secret = row_text(answer, "Secret");
    if (!failure && (!user || !secret))
        failure = "the helper's answer has no Username and Secret";
    if (!failure && strcmp(user, "<token>") == 0)
        failure = "the helper holds an identity token (OAuth), not a password: unsupported";
    if (failure) {
        report(problems, key, failure);
        json_object_del(auths, key);
    } else {
        json_object_set_new(auths, key,
                            json_pack("{s:s, s:s}", "username", user, "password", secret));
    }
    json_decref(answer); /* jansson's strings are freed through the wiping allocator */
}

static bool has_credentials(const json_t *entry) {
    return json_object_get(entry, "auth") || json_object_get(entry, "password") ||
           json_object_get(entry, "identitytoken");
}

void docker_config_resolve_helpers(json_t *config, json_t *problems) {
    json_t *auths = json_object_get(config, "auths");
    if (!json_is_object(auths)) {
        auths = json_object();
        json_object_set_new(config, "auths", auths);
    }
    const char *store = row_text(config, "credsStore");
    json_t *helpers = json_object_get(config, "credHelpers");
    const char *key;
    json_t *value;
    void *tmp;
    json_object_foreach_safe(auths, tmp, key, value) {
        if (json_is_object(helpers) && json_object_get(helpers, key))
            continue; /* its own helper, below */
        if (store && !has_credentials(value))
            resolve(auths, key, store, problems);
    }
    if (json_is_object(helpers))
        json_object_foreach(helpers, key, value) {
            if (json_is_string(value))
                resolve(auths, key, json_string_value(value), problems);
            else
                report(problems, key, "credHelpers entry is not a helper name");
        }
    json_object_del(config, "credsStore");
    json_object_del(config, "credHelpers");
}
