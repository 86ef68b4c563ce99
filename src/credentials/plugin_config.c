/* plugin_config.c — reading the operator's CredentialProviderConfig (YAML through libyaml, so
 * JSON works too) into struct credential_plugins, with the kubelet's checks: apiVersion
 * kubelet.config.k8s.io/v1, kind CredentialProviderConfig, providers with name, matchImages,
 * defaultCacheDuration and apiVersion credentialprovider.kubelet.k8s.io/v1 required, args and
 * env optional, unknown keys refused. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "core/row.h"
#include "core/duration.h"
#include "core/image_glob.h"
#include "credentials/credential_plugins.h"
#include "core/xalloc.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define YAML_DEPTH_MAX 32
#define PLUGIN_NAME_MAX 128
#define PLUGIN_ARG_MAX 4096

/* ---- YAML document to JSON (every scalar a string; null, ~ and empty plain scalars null) -- */

static json_t *yaml_node_to_json(yaml_document_t *doc, yaml_node_t *node, int depth) {
    if (!node || depth > YAML_DEPTH_MAX)
        return NULL;
    switch (node->type) {
    case YAML_SCALAR_NODE: {
        const char *value = (const char *)node->data.scalar.value;
        size_t len = node->data.scalar.length;
        if (node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            (len == 0 || strcmp(value, "null") == 0 || strcmp(value, "~") == 0))
            return json_null();
        return json_stringn(value, len);
    }
    case YAML_SEQUENCE_NODE: {
        json_t *array = json_array();
        for (yaml_node_item_t *item = node->data.sequence.items.start;
             item < node->data.sequence.items.top; item++) {
            json_t *value = yaml_node_to_json(doc, yaml_document_get_node(doc, *item), depth + 1);
            if (!value) {
                json_decref(array);
                return NULL;
            }
            json_array_append_new(array, value);
        }
        return array;
    }
    case YAML_MAPPING_NODE: {
        json_t *object = json_object();
        for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
             pair < node->data.mapping.pairs.top; pair++) {
            yaml_node_t *key = yaml_document_get_node(doc, pair->key);
            json_t *value =
                yaml_node_to_json(doc, yaml_document_get_node(doc, pair->value), depth + 1);
            if (!key || key->type != YAML_SCALAR_NODE || !value) {
                json_decref(value);
                json_decref(object);
                return NULL;
            }
            json_object_setn_new(object, (const char *)key->data.scalar.value,
                                 key->data.scalar.length, value);
        }
        return object;
    }
    default:
        return NULL;
    }
}

static int load_document(const char *path, json_t **out, struct agyn_error *err) {
    FILE *file = fopen(path, "rb");
    if (!file)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "", "cannot read %s: %s", path,
                         strerror(errno));
    char *text = xmalloc(CONFIG_FILE_MAX + 1);
    size_t len = fread(text, 1, CONFIG_FILE_MAX + 1, file);
    fclose(file);
    if (len > CONFIG_FILE_MAX) {
        free(text);
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "", "%s is larger than 1 MiB", path);
    }
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_parser_initialize(&parser);
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int rc = -1;
    if (!yaml_parser_load(&parser, &doc)) {
        agyn_fail(err, AGYN_INVALID_ARGUMENT, "", "%s: line %zu: %s", path,
                  parser.problem_mark.line + 1, parser.problem ? parser.problem : "invalid YAML");
    } else {
        *out = yaml_node_to_json(&doc, yaml_document_get_root_node(&doc), 0);
        yaml_document_delete(&doc);
        if (!*out)
            agyn_fail(err, AGYN_INVALID_ARGUMENT, "",
                      "%s: empty, nested too deeply, or uses YAML features the config has no "
                      "use for (non-scalar keys)",
                      path);
        else
            rc = 0;
    }
    yaml_parser_delete(&parser);
    free(text);
    return rc;
}

/* ---- checks ---------------------------------------------------------------------------- */

static int check_keys(const json_t *object, const char *where, const char *const *allowed,
                      struct agyn_error *err) {
    if (!json_is_object(object))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s must be a mapping", where);
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)object, key, value) {
        bool known = false;
        for (const char *const *name = allowed; *name; name++)
            known = known || strcmp(*name, key) == 0;
        if (!known)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s: unknown field \"%.64s\"",
                             where, key);
    }
    return 0;
}

static int get_string(const json_t *object, const char *key, const char *where, bool required,
                      const char **out, struct agyn_error *err) {
    json_t *value = json_object_get(object, key);
    *out = json_string_value(value);
    if ((!value || json_is_null(value)) && !required)
        return 0;
    if (!json_is_string(value) || !**out || strlen(*out) != json_string_length(value))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where,
                         "%s.%s is required (a non-empty string)", where, key);
    return 0;
}

static int expect_value(const json_t *object, const char *key, const char *where,
                        const char *expected, struct agyn_error *err) {
    const char *value;
    if (get_string(object, key, where, true, &value, err) != 0)
        return -1;
    if (strcmp(value, expected) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s.%s must be \"%s\" (got \"%.64s\")",
                         where, key, expected, value);
    return 0;
}

static bool plain_file_name(const char *name) {
    if (strlen(name) > PLUGIN_NAME_MAX || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        return false;
    for (const char *p = name; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return false;
    }
    return true;
}

/* A NULL-terminated copy of a list of strings, after first when it is not NULL. */
static int string_list(const json_t *array, const char *where, bool non_empty, const char *first,
                       char ***out, size_t *count_out, struct agyn_error *err) {
    if (array && !json_is_null(array) && !json_is_array(array))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s must be a list of strings", where);
    size_t count = json_array_size(array);
    if (non_empty && count == 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s must list at least one entry",
                         where);
    size_t extra = first ? 1 : 0;
    char **list = xcalloc(count + extra + 1, sizeof *list);
    *out = list;
    if (first)
        list[0] = xstrdup(first);
    *count_out = count;
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(array, i);
        if (!json_is_string(item) || strlen(json_string_value(item)) != json_string_length(item) ||
            json_string_length(item) > PLUGIN_ARG_MAX)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, where,
                             "%s[%zu] must be a string of at most %d bytes", where, i,
                             PLUGIN_ARG_MAX);
        list[extra + i] = xstrdup(json_string_value(item));
    }
    return 0;
}

static int read_env(const json_t *env, const char *where, char ***out, struct agyn_error *err) {
    if (env && !json_is_null(env) && !json_is_array(env))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where, "%s must be a list of name/value",
                         where);
    size_t count = json_array_size(env);
    char **list = xcalloc(count + 2, sizeof *list); /* + PATH + NULL */
    *out = list;
    static const char *const keys[] = {"name", "value", NULL};
    for (size_t i = 0; i < count; i++) {
        json_t *item = json_array_get(env, i);
        char item_where[96];
        snprintf(item_where, sizeof item_where, "%s[%zu]", where, i);
        const char *name, *value;
        if (check_keys(item, item_where, keys, err) != 0 ||
            get_string(item, "name", item_where, true, &name, err) != 0)
            return -1;
        value = row_text(item, "value");
        if (strchr(name, '=') || strcmp(name, "PATH") == 0)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, item_where,
                             "%s.name must not contain '=' nor be PATH", item_where);
        list[i] = xasprintf("%s=%s", name, value ? value : "");
    }
    const char *path = getenv("PATH");
    path = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    list[count] = xasprintf("PATH=%s", path);
    return 0;
}

static int read_provider(const json_t *item, size_t index, const char *bin_dir,
                         struct credential_plugin *plugin, struct agyn_error *err) {
    static const char *const keys[] = {
        "name", "matchImages", "defaultCacheDuration", "apiVersion", "args", "env", NULL};
    char where[64];
    snprintf(where, sizeof where, "providers[%zu]", index);
    const char *name, *duration;
    char field[96];
    if (json_is_object(item) && json_object_get(item, "tokenAttributes"))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where,
                         "%s.tokenAttributes: service-account tokens are not supported (agyn "
                         "workloads have no Kubernetes service account)",
                         where);
    if (check_keys(item, where, keys, err) != 0 ||
        get_string(item, "name", where, true, &name, err) != 0 ||
        expect_value(item, "apiVersion", where, CREDENTIAL_PLUGIN_API, err) != 0 ||
        get_string(item, "defaultCacheDuration", where, true, &duration, err) != 0)
        return -1;
    if (!plain_file_name(name))
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where,
                         "%s.name must be a file name in the bin dir (letters, digits, '-', '_', "
                         "'.'; no '/')",
                         where);
    snprintf(field, sizeof field, "%s.defaultCacheDuration", where);
    if (duration_parse_ms(duration, field, &plugin->default_cache_ms, err) != 0) {
        err->code = AGYN_INVALID_ARGUMENT;
        return -1;
    }
    plugin->name = xstrdup(name);
    plugin->path = xasprintf("%s/%s", bin_dir, name);

    snprintf(field, sizeof field, "%s.matchImages", where);
    if (string_list(json_object_get(item, "matchImages"), field, true, NULL, &plugin->match_images,
                    &plugin->match_count, err) != 0)
        return -1;
    for (size_t i = 0; i < plugin->match_count; i++) {
        char glob_field[128];
        snprintf(glob_field, sizeof glob_field, "%s[%zu]", field, i);
        if (image_glob_validate(plugin->match_images[i], glob_field, err) != 0) {
            err->code = AGYN_INVALID_ARGUMENT;
            return -1;
        }
    }
    size_t arg_count = 0;
    snprintf(field, sizeof field, "%s.args", where);
    if (string_list(json_object_get(item, "args"), field, false, name, &plugin->argv, &arg_count,
                    err) != 0)
        return -1;
    snprintf(field, sizeof field, "%s.env", where);
    if (read_env(json_object_get(item, "env"), field, &plugin->envp, err) != 0)
        return -1;
    struct stat st;
    if (stat(plugin->path, &st) != 0 || !S_ISREG(st.st_mode) || access(plugin->path, X_OK) != 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, where,
                         "%s: %s is not an executable file (--image-credential-provider-bin-dir)",
                         where, plugin->path);
    return 0;
}

int credential_plugins_from_json(const json_t *document, const char *bin_dir, long long timeout_ms,
                                 struct credential_plugins **out, struct agyn_error *err) {
    *out = NULL;
    static const char *const keys[] = {"apiVersion", "kind", "providers", NULL};
    if (check_keys(document, "config", keys, err) != 0 ||
        expect_value(document, "apiVersion", "config", CREDENTIAL_PLUGIN_CONFIG_API, err) != 0 ||
        expect_value(document, "kind", "config", "CredentialProviderConfig", err) != 0)
        return -1;
    json_t *providers = json_object_get(document, "providers");
    if (!json_is_array(providers) || json_array_size(providers) == 0)
        return agyn_fail(err, AGYN_INVALID_ARGUMENT, "providers",
                         "providers must list at least one plugin");
    struct credential_plugins *plugins = xcalloc(1, sizeof *plugins);
    plugins->items = xcalloc(json_array_size(providers), sizeof *plugins->items);
    plugins->timeout_ms = timeout_ms > 0 ? timeout_ms : CREDENTIAL_PLUGIN_DEFAULT_TIMEOUT_MS;
    size_t i;
    json_t *item;
    json_array_foreach(providers, i, item) {
        plugins->count = i + 1;
        if (read_provider(item, i, bin_dir, &plugins->items[i], err) != 0) {
            credential_plugins_free(plugins);
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(plugins->items[j].name, plugins->items[i].name) == 0) {
                agyn_fail(err, AGYN_INVALID_ARGUMENT, "providers",
                          "providers[%zu].name \"%s\" is already used by providers[%zu]", i,
                          plugins->items[i].name, j);
                credential_plugins_free(plugins);
                return -1;
            }
        }
    }
    *out = plugins;
    return 0;
}

int credential_plugins_load(const char *config_file, const char *bin_dir, long long timeout_ms,
                            struct credential_plugins **out, struct agyn_error *err) {
    json_t *document = NULL;
    if (load_document(config_file, &document, err) != 0)
        return -1;
    int rc = credential_plugins_from_json(document, bin_dir, timeout_ms, out, err);
    json_decref(document);
    if (rc != 0 && !strstr(err->message, config_file))
        agyn_error_prefix(err, "%s", config_file);
    return rc;
}

static void free_list(char **list) {
    for (char **item = list; item && *item; item++)
        free(*item);
    free(list);
}

void credential_plugins_free(struct credential_plugins *plugins) {
    if (!plugins)
        return;
    for (size_t i = 0; i < plugins->count; i++) {
        struct credential_plugin *plugin = &plugins->items[i];
        free(plugin->name);
        free(plugin->path);
        free_list(plugin->match_images);
        free_list(plugin->argv);
        free_list(plugin->envp);
    }
    free(plugins->items);
    free(plugins);
}

const struct credential_plugin *credential_plugins_find(const struct credential_plugins *plugins,
                                                        const char *name) {
    for (size_t i = 0; plugins && name && i < plugins->count; i++) {
        if (strcmp(plugins->items[i].name, name) == 0)
            return &plugins->items[i];
    }
    return NULL;
}
