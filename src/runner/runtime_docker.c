/* runtime_docker.c — the `docker` runtime: pulls the authorized digest with the container's
 * own credential (unless the engine holds that digest already: the manifest was just checked
 * with this container's credential), creates the container from that digest into the pod
 * and starts it; stops with the grace, then removes. Concurrent pulls of one blob are not
 * shared by agynd here (blob_fetch_shared.h covers agynd's content store only): the engine
 * fetches the blobs and dedupes its own concurrent pulls. */
#include "runner/runtime_docker.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/row.h"
#include "core/image_ref.h"
#include "runner/docker_client.h"
#include "runner/docker_pull.h"
#include "runner/docker_spec.h"
#include "runner/runtime.h"
#include "runner/runtime_docker_events.h"

static char network[128] = "bridge";
static long long stop_grace_ms = 10000;
static long long crash_backoff_initial_ms = 10000;
static long long crash_backoff_max_ms = 300000;
static char node_name[64];

int runtime_docker_configure(const struct runtime_docker_config *config, struct agyn_error *err) {
    const char *host = config->host;
    if (!host || !host[0])
        host = getenv("DOCKER_HOST");
    if (docker_set_host(host, err) != 0)
        return -1;
    if (config->network && config->network[0]) {
        if (strlen(config->network) >= sizeof network || strchr(config->network, '/') ||
            strncmp(config->network, "container:", 10) == 0 || strcmp(config->network, "host") == 0)
            return agyn_fail(err, AGYN_INVALID_ARGUMENT, "docker-network",
                             "--docker-network must name a network (bridge, none or a user "
                             "network); host and container: are not allowed");
        snprintf(network, sizeof network, "%s", config->network);
    }
    if (config->stop_grace_ms > 0)
        stop_grace_ms = config->stop_grace_ms;
    if (config->crash_backoff_initial_ms > 0)
        crash_backoff_initial_ms = config->crash_backoff_initial_ms;
    if (config->crash_backoff_max_ms > 0)
        crash_backoff_max_ms = config->crash_backoff_max_ms;
    snprintf(node_name, sizeof node_name, "%s", config->node_name ? config->node_name : "");
    return 0;
}

const char *runtime_docker_node_name(void) {
    return node_name[0] ? node_name : NULL;
}

long long runtime_docker_crash_backoff_ms(long long restart_count) {
    long long wait = crash_backoff_initial_ms;
    for (long long i = 0; i < restart_count && wait < crash_backoff_max_ms; i++)
        wait *= 2;
    return wait < crash_backoff_max_ms ? wait : crash_backoff_max_ms;
}

const char *runtime_docker_network(void) {
    return network;
}

long long runtime_docker_stop_grace_ms(void) {
    return stop_grace_ms;
}

static int engine_error(const char *what, const struct docker_answer *answer,
                        struct agyn_error *err) {
    char message[900];
    docker_answer_message(answer, message, sizeof message);
    return agyn_fail(err, AGYN_UNAVAILABLE, NULL, "%s: %s", what, message);
}

int runtime_docker_remove(const char *id_or_name, long long grace_ms, struct agyn_error *err) {
    char *escaped = curl_easy_escape(NULL, id_or_name, 0);
    char path[400];
    struct docker_answer answer;
    long long seconds = (grace_ms + 999) / 1000;
    snprintf(path, sizeof path, "/containers/%s/stop?t=%lld", escaped ? escaped : "", seconds);
    int rc = docker_call("POST", path, NULL, NULL, (long)(grace_ms + 30000), &answer, err);
    if (rc == 0)
        docker_answer_free(&answer);
    snprintf(path, sizeof path, "/containers/%s?force=true", escaped ? escaped : "");
    curl_free(escaped);
    if (rc == 0)
        rc = docker_call("DELETE", path, NULL, NULL, 30000, &answer, err);
    if (rc != 0)
        return -1;
    if (answer.status >= 300 && answer.status != 404) {
        engine_error("removing the container", &answer, err);
        rc = -1;
    }
    docker_answer_free(&answer);
    return rc;
}

/* The pod's main container name (NULL when container is the main one). */
static const char *pod_main(const json_t *workload, const json_t *container, char *out,
                            size_t size) {
    const char *role = row_text(container, "role");
    if (role && strcmp(role, "main") == 0)
        return NULL;
    size_t i;
    json_t *other;
    json_array_foreach(json_object_get(workload, "containers"), i, other) {
        const char *other_role = row_text(other, "role");
        if (other_role && strcmp(other_role, "main") == 0) {
            docker_container_name(row_text(workload, "id"), row_text(other, "name"), out, size);
            return out;
        }
    }
    return NULL;
}

static int create(const json_t *workload, const json_t *container, const char *image,
                  const char *name, char *id_out, size_t id_size, enum runtime_failure *failure,
                  struct agyn_error *err) {
    char main_name[200];
    json_t *spec =
        docker_container_spec(workload, container, image, network,
                              pod_main(workload, container, main_name, sizeof main_name));
    char path[300];
    snprintf(path, sizeof path, "/containers/create?name=%s", name);
    struct docker_answer answer;
    int rc = docker_call("POST", path, NULL, spec, 60000, &answer, err);
    if (rc == 0 && answer.status == 409) { /* left from an interrupted start: replace it */
        docker_answer_free(&answer);
        rc = runtime_docker_remove(name, 0, err);
        if (rc == 0)
            rc = docker_call("POST", path, NULL, spec, 60000, &answer, err);
    }
    json_decref(spec);
    if (rc != 0) {
        *failure = RUNTIME_UNAVAILABLE;
        return -1;
    }
    json_t *doc =
        answer.status == 201 ? json_loads(answer.body.data ? answer.body.data : "", 0, NULL) : NULL;
    const char *id = row_text(doc, "Id");
    if (id)
        snprintf(id_out, id_size, "%s", id);
    else {
        *failure = RUNTIME_CREATE_FAILED;
        rc = engine_error("creating the container", &answer, err);
    }
    json_decref(doc);
    docker_answer_free(&answer);
    return rc;
}

static int start_created(const char *id, enum runtime_failure *failure, struct agyn_error *err) {
    char path[200];
    snprintf(path, sizeof path, "/containers/%s/start", id);
    struct docker_answer answer;
    if (docker_call("POST", path, NULL, NULL, 60000, &answer, err) != 0) {
        *failure = RUNTIME_UNAVAILABLE;
        return -1;
    }
    int rc = 0;
    if (answer.status != 204 && answer.status != 304) {
        *failure = RUNTIME_START_FAILED;
        rc = engine_error("starting the container", &answer, err);
    }
    docker_answer_free(&answer);
    return rc;
}

static int docker_start(const json_t *workload, json_t *container,
                        const struct runtime_start *start, enum runtime_failure *failure,
                        struct agyn_error *err) {
    *failure = RUNTIME_OK;
    struct image_ref ref;
    const char *digest = row_text(container, "image_digest");
    if (image_ref_parse(row_text(container, "image"), "image", &ref, err) != 0 || !digest) {
        *failure = RUNTIME_PULL_FAILED;
        return digest ? -1 : agyn_fail(err, AGYN_INTERNAL, NULL, "the image was not authorized");
    }
    char image[700];
    snprintf(image, sizeof image, "%s/%s@%s", ref.registry, ref.repository, digest);
    if (!docker_image_present(image) &&
        docker_pull_image(image, ref.registry, start, failure, err) != 0)
        return -1;
    char name[200], id[80];
    docker_container_name(row_text(workload, "id"), row_text(container, "name"), name, sizeof name);
    if (create(workload, container, image, name, id, sizeof id, failure, err) != 0)
        return -1;
    json_object_set_new(container, "container_id", json_string(id));
    if (start_created(id, failure, err) != 0)
        return -1;
    return 0;
}

static int docker_stop(const json_t *workload, json_t *container, struct agyn_error *err) {
    char name[200];
    const char *id = row_text(container, "container_id");
    if (!id) {
        docker_container_name(row_text(workload, "id"), row_text(container, "name"), name,
                              sizeof name);
        id = name;
    }
    return runtime_docker_remove(id, stop_grace_ms, err);
}

static bool docker_ready(struct agyn_error *err) {
    return docker_ping(err);
}

const struct runtime_backend runtime_docker = {
    .name = "docker",
    .engine_pulls = true,
    .start_container = docker_start,
    .stop_container = docker_stop,
    .ready = docker_ready,
    .watch = docker_events_watch,
    .unwatch = docker_events_unwatch,
};
