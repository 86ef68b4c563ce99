/* credential_plugins.c — a login from a kubelet credential-provider plugin: matchImages, the
 * cache by cacheKeyType, one run per image at a time, the CredentialProviderResponse checks
 * and the choice of the auth entry for the image (the kubelet's order: keys sorted in reverse,
 * so longer and non-wildcard keys come first). */
#include "credentials/credential_plugins.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "base/clock.h"
#include "core/duration.h"
#include "core/image_glob.h"
#include "credentials/plugin_exec.h"
#include "credentials/short_lived_cache.h"
#include "crypto/envelope.h"
#include "core/xalloc.h"

#define CACHE_KEY_MAX 900

struct plugin_run {
    const struct keyring *kr;
    const struct credential_plugins *plugins;
    const struct credential_plugin *plugin;
    const char *target;
};

/* Printable ASCII/UTF-8 bytes kept, control characters as '?', cut with "...". */
static void sanitize(char *out, size_t size, const char *text, size_t len) {
    size_t used = 0;
    for (size_t i = 0; i < len && used + 4 < size; i++) {
        unsigned char c = (unsigned char)text[i];
        out[used++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    while (used > 0 && (out[used - 1] == '?' || out[used - 1] == ' ')) /* trailing newlines */
        used--;
    if (used + 4 >= size && len > used)
        memcpy(out + used, "...", 3), used += 3;
    out[used] = '\0';
}

static int run_failure(const struct credential_plugin *plugin,
                       const struct plugin_exec_result *result, const char *what,
                       struct agyn_error *err) {
    char stderr_text[1024] = "";
    if (result->stderr_text)
        sanitize(stderr_text, sizeof stderr_text, result->stderr_text, result->stderr_len);
    return agyn_fail(err, AGYN_UNAVAILABLE, "plugin", "credential-provider plugin \"%s\" %s%s%s",
                     plugin->name, what, stderr_text[0] ? "; its stderr: " : " (nothing on stderr)",
                     stderr_text);
}

static bool clean_text(const char *text) {
    for (const unsigned char *p = (const unsigned char *)text; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Checks the response and keeps {"auth": {...}} with string usernames and passwords. */
static int read_response(const struct credential_plugin *plugin,
                         const struct plugin_exec_result *result, json_t **kept_out,
                         const char **key_type_out, long long *cache_ms_out,
                         struct agyn_error *err) {
    json_error_t parse_error;
    json_t *answer = result->stdout_text
                         ? json_loadb(result->stdout_text, result->stdout_len, 0, &parse_error)
                         : NULL;
    char what[256];
    int rc = -1;
    const char *key_type = row_text(answer, "cacheKeyType");
    const char *api = row_text(answer, "apiVersion");
    const char *kind = row_text(answer, "kind");
    json_t *duration = json_object_get(answer, "cacheDuration");
    json_t *auth = json_object_get(answer, "auth");
    if (!result->stdout_text) {
        rc = run_failure(plugin, result, "exited 0 without writing a response on stdout", err);
    } else if (!answer) {
        /* jansson's text quotes the input near the error: only the position is shown. */
        snprintf(what, sizeof what,
                 "wrote invalid JSON on stdout (line %d, column %d), not a "
                 "CredentialProviderResponse",
                 parse_error.line, parse_error.column);
        rc = run_failure(plugin, result, what, err);
    } else if (!json_is_object(answer) || !api || strcmp(api, CREDENTIAL_PLUGIN_API) != 0 ||
               !kind || strcmp(kind, "CredentialProviderResponse") != 0) {
        rc = run_failure(plugin, result,
                         "answered something other than a CredentialProviderResponse of "
                         "apiVersion " CREDENTIAL_PLUGIN_API,
                         err);
    } else if (!key_type || (strcmp(key_type, "Image") != 0 && strcmp(key_type, "Registry") != 0 &&
                             strcmp(key_type, "Global") != 0)) {
        rc = run_failure(plugin, result,
                         "answered without a valid cacheKeyType (Image, Registry or Global)", err);
    } else if (duration && !json_is_null(duration) &&
               (!json_is_string(duration) ||
                duration_parse_ms(json_string_value(duration), "cacheDuration", cache_ms_out,
                                  err) != 0)) {
        rc = run_failure(plugin, result, "answered an invalid cacheDuration", err);
    } else if (auth && !json_is_null(auth) && !json_is_object(auth)) {
        rc = run_failure(plugin, result, "answered an auth that is not a map", err);
    } else {
        if (!duration || json_is_null(duration))
            *cache_ms_out = plugin->default_cache_ms;
        json_t *kept = json_object();
        const char *key;
        json_t *entry;
        rc = 0;
        json_object_foreach(auth, key, entry) {
            const char *user = row_text(entry, "username");
            const char *pass = row_text(entry, "password");
            if (!json_is_object(entry) || image_glob_validate(key, "auth", err) != 0 ||
                (user && (!clean_text(user) || strchr(user, ':'))) || (pass && !clean_text(pass))) {
                rc = run_failure(plugin, result,
                                 "answered an auth entry that is not {username, password} text "
                                 "under an image glob",
                                 err);
                break;
            }
            json_object_set_new(kept, key,
                                json_pack("{s:s, s:s}", "username", user ? user : "", "password",
                                          pass ? pass : ""));
        }
        *kept_out = rc == 0 ? json_pack("{s:o}", "auth", kept) : NULL;
        if (rc != 0)
            json_decref(kept);
        *key_type_out = strcmp(key_type, "Image") == 0      ? "Image"
                        : strcmp(key_type, "Registry") == 0 ? "Registry"
                                                            : "Global";
    }
    json_decref(answer);
    return rc;
}

/* The cache key for a cacheKeyType: the image, its registry host, or the plugin alone. */
static void cache_key(const struct credential_plugin *plugin, const char *key_type,
                      const char *target, char *out, size_t size) {
    if (strcmp(key_type, "Global") == 0) {
        snprintf(out, size, "plugin/%s/global", plugin->name);
        return;
    }
    if (strcmp(key_type, "Registry") == 0) {
        const char *slash = strchr(target, '/');
        int host_len = slash ? (int)(slash - target) : (int)strlen(target);
        snprintf(out, size, "plugin/%s/registry/%.*s", plugin->name, host_len, target);
        return;
    }
    snprintf(out, size, "plugin/%s/image/%s", plugin->name, target);
}

static int run_plugin(void *arg, char **value_out, double *usable_until, struct agyn_error *err) {
    struct plugin_run *run = arg;
    const struct credential_plugin *plugin = run->plugin;
    *usable_until = 0; /* kept under the key its cacheKeyType names, below */
    json_t *request = json_pack("{s:s, s:s, s:s}", "apiVersion", CREDENTIAL_PLUGIN_API, "kind",
                                "CredentialProviderRequest", "image", run->target);
    char *input = request ? json_dumps(request, JSON_COMPACT) : NULL;
    json_decref(request);
    if (!input)
        return agyn_fail(err, AGYN_INTERNAL, "plugin", "out of memory");
    struct plugin_exec_result result;
    int rc = plugin_exec_run(plugin->path, plugin->argv, plugin->envp, input,
                             run->plugins->timeout_ms, &result, err);
    free(input);
    if (rc != 0) {
        agyn_error_prefix(err, "credential-provider plugin \"%s\"", plugin->name);
        return -1;
    }
    char what[160];
    json_t *kept = NULL;
    const char *key_type = NULL;
    long long cache_ms = 0;
    if (result.timed_out) {
        char timeout[DURATION_TEXT_MAX];
        duration_format_ms(run->plugins->timeout_ms, timeout);
        snprintf(what, sizeof what,
                 "did not answer within %s (--image-credential-provider-timeout): its process "
                 "group was killed",
                 timeout);
        rc = run_failure(plugin, &result, what, err);
    } else if (result.exit_code != 0) {
        if (result.signal)
            snprintf(what, sizeof what, "was killed by signal %d", result.signal);
        else
            snprintf(what, sizeof what, "exited with status %d", result.exit_code);
        rc = run_failure(plugin, &result, what, err);
    } else if (result.stdout_too_large) {
        rc = run_failure(plugin, &result, "wrote more than 1 MiB on stdout", err);
    } else {
        rc = read_response(plugin, &result, &kept, &key_type, &cache_ms, err);
    }
    plugin_exec_result_free(&result);
    if (rc != 0)
        return -1;
    *value_out = json_dumps(kept, JSON_COMPACT);
    json_decref(kept);
    if (!*value_out)
        return agyn_fail(err, AGYN_INTERNAL, "plugin", "out of memory");
    if (cache_ms > 0) {
        char key[CACHE_KEY_MAX];
        cache_key(plugin, key_type, run->target, key, sizeof key);
        short_lived_cache_put(run->kr, key, *value_out,
                              (double)clock_now_unix_ms() / 1000.0 + (double)cache_ms / 1000.0);
    }
    return 0;
}

static int reverse_strcmp(const void *a, const void *b) {
    return strcmp(*(const char *const *)b, *(const char *const *)a);
}

/* The auth entry for target: keys in reverse order, the first that matches. */
static int select_login(const struct credential_plugin *plugin, const char *value,
                        const char *target, char **username_out, char **password_out,
                        struct agyn_error *err) {
    json_t *document = json_loads(value, 0, NULL);
    json_t *auth = json_object_get(document, "auth");
    size_t count = json_object_size(auth);
    const char **keys = xcalloc(count ? count : 1, sizeof *keys);
    size_t n = 0;
    const char *key;
    json_t *entry;
    json_object_foreach(auth, key, entry) {
        keys[n++] = key;
    }
    qsort(keys, n, sizeof *keys, reverse_strcmp);
    int rc = agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                       "credential-provider plugin \"%s\" answered no auth entry that matches "
                       "image \"%s\"",
                       plugin->name, target);
    for (size_t i = 0; i < n; i++) {
        if (!image_glob_matches(keys[i], target))
            continue;
        json_t *chosen = json_object_get(auth, keys[i]);
        const char *username = row_text(chosen, "username");
        const char *password = row_text(chosen, "password");
        agyn_error_clear(err);
        rc = 0;
        if (username && password) {
            *username_out = xstrdup(username);
            *password_out = xstrdup(password);
        } else {
            rc = agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                           "credential-provider plugin \"%s\": the auth entry for \"%s\" lacks "
                           "username or password",
                           plugin->name, keys[i]);
        }
        break;
    }
    free(keys);
    /* jansson frees without wiping: overwrite the passwords first. */
    json_object_foreach(auth, key, entry) {
        json_t *password = json_object_get(entry, "password");
        if (json_is_string(password)) {
            char *text = (char *)json_string_value(password);
            memset(text, 0, strlen(text));
        }
    }
    json_decref(document);
    return rc;
}

int credential_plugin_login(const struct keyring *kr, const struct credential_plugins *plugins,
                            const struct credential_plugin *plugin, const char *target,
                            char **username_out, char **password_out, struct agyn_error *err) {
    *username_out = *password_out = NULL;
    bool handled = false;
    for (size_t i = 0; i < plugin->match_count && !handled; i++)
        handled = image_glob_matches(plugin->match_images[i], target);
    if (!handled)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "plugin",
                         "credential-provider plugin \"%s\" does not serve image \"%s\" (no entry "
                         "of its matchImages matches)",
                         plugin->name, target);
    char key[CACHE_KEY_MAX];
    char *value = NULL;
    static const char *const key_types[] = {"Image", "Registry", "Global"};
    for (size_t i = 0; i < 3 && !value; i++) {
        cache_key(plugin, key_types[i], target, key, sizeof key);
        short_lived_cache_peek(kr, key, &value);
    }
    if (!value) {
        struct plugin_run run = {kr, plugins, plugin, target};
        snprintf(key, sizeof key, "plugin-run/%s/%s", plugin->name, target);
        if (short_lived_cache_get(kr, key, run_plugin, &run, &value, err) != 0)
            return -1;
    }
    int rc = select_login(plugin, value, target, username_out, password_out, err);
    secure_free(value);
    return rc;
}
