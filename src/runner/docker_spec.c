/* docker_spec.c — container create bodies with agyn's names, labels and hardened defaults. */
#include "runner/docker_spec.h"
#include "core/row.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void docker_container_name(const char *workload_id, const char *container_name, char *out,
                           size_t size) {
    char clean[96];
    size_t n = 0;
    for (const char *c = container_name ? container_name : ""; *c && n < sizeof clean - 1; c++)
        clean[n++] = isalnum((unsigned char)*c) || *c == '_' || *c == '.' || *c == '-' ? *c : '-';
    clean[n] = '\0';
    snprintf(out, size, "agyn-%.12s-%s", workload_id ? workload_id : "", clean);
}

static json_t *string_array(const json_t *value) {
    if (!json_is_array(value))
        return NULL;
    json_t *out = json_array();
    size_t i;
    json_t *item;
    json_array_foreach(value, i, item) {
        if (json_is_string(item))
            json_array_append(out, item);
    }
    return out;
}

static json_t *env_list(const json_t *env) {
    json_t *out = json_array();
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)env, key, value) {
        if (!json_is_string(value))
            continue;
        char *line = NULL;
        if (asprintf(&line, "%s=%s", key, json_string_value(value)) >= 0) {
            json_array_append_new(out, json_string(line));
            free(line);
        }
    }
    return out;
}

static void set_resources(json_t *host, const json_t *resources) {
    json_t *memory = json_object_get(resources, "memory");
    json_t *cpus = json_object_get(resources, "cpus");
    if (json_is_integer(memory) && json_integer_value(memory) > 0)
        json_object_set(host, "Memory", memory);
    if (json_is_number(cpus) && json_number_value(cpus) > 0)
        json_object_set_new(host, "NanoCpus",
                            json_integer((json_int_t)(json_number_value(cpus) * 1e9)));
}

json_t *docker_container_spec(const json_t *workload, const json_t *container, const char *image,
                              const char *network, const char *main_name) {
    const char *org = row_text(workload, "organization_id");
    const char *id = row_text(workload, "id");
    const char *name = row_text(container, "name");
    char mode[300];
    if (main_name)
        snprintf(mode, sizeof mode, "container:%s", main_name);
    else
        snprintf(mode, sizeof mode, "%s", network);
    json_t *host =
        json_pack("{s:s, s:[s], s:b, s:b, s:[], s:{s:s}, s:b}", "NetworkMode", mode, "SecurityOpt",
                  "no-new-privileges:true", "Privileged", 0, "PublishAllPorts", 0, "Binds",
                  "RestartPolicy", "Name", "no", "ReadonlyRootfs", 0);
    set_resources(host, json_object_get(workload, "resources"));
    json_t *spec =
        json_pack("{s:s, s:{s:s, s:s, s:s}, s:o}", "Image", image, "Labels",
                  DOCKER_LABEL_ORGANIZATION, org ? org : "", DOCKER_LABEL_WORKLOAD, id ? id : "",
                  DOCKER_LABEL_CONTAINER, name ? name : "", "HostConfig", host);
    json_t *command = string_array(json_object_get(container, "command"));
    json_t *args = string_array(json_object_get(container, "args"));
    if (command)
        json_object_set_new(spec, "Entrypoint", command);
    if (args)
        json_object_set_new(spec, "Cmd", args);
    json_t *env = json_object_get(container, "env");
    if (json_is_object(env))
        json_object_set_new(spec, "Env", env_list(env));
    return spec;
}
