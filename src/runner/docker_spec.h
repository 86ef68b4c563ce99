/* docker_spec.h — the engine's container for one workload container: its name
 * (agyn-<short workload id>-<container name>), labels, command/args/env, the pod's network
 * (main container on --docker-network, the others in container:<main>) and the hardened host
 * settings (no-new-privileges, the engine's default seccomp and capabilities, never
 * privileged, no mounts, memory/CPU limits from resources). */
#ifndef AGYN_RUNNER_DOCKER_SPEC_H
#define AGYN_RUNNER_DOCKER_SPEC_H

#include <stddef.h>

#include <jansson.h>

#define DOCKER_LABEL_ORGANIZATION "io.agyn.organization"
#define DOCKER_LABEL_WORKLOAD "io.agyn.workload"
#define DOCKER_LABEL_CONTAINER "io.agyn.container"

/* "agyn-<first 12 of workload id>-<container name with characters Docker refuses as '-'>". */
void docker_container_name(const char *workload_id, const char *container_name, char *out,
                           size_t size);

/* The POST /containers/create body; image is "registry/repository@digest", main_name the
 * engine name of the pod's main container (NULL for the main container itself). */
json_t *docker_container_spec(const json_t *workload, const json_t *container, const char *image,
                              const char *network, const char *main_name);

#endif
