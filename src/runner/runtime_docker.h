/* runtime_docker.h — settings of the `docker` runtime (Docker Engine API over a Unix socket,
 * Docker or Podman), given once at startup before the runner starts. */
#ifndef AGYN_RUNNER_RUNTIME_DOCKER_H
#define AGYN_RUNNER_RUNTIME_DOCKER_H

#include "core/error.h"

struct runtime_docker_config {
    const char *host;        /* "unix:///var/run/docker.sock"; NULL: $DOCKER_HOST, else that */
    const char *network;     /* the main container's network; NULL = "bridge" */
    long long stop_grace_ms; /* SIGTERM to SIGKILL on stop; 0 = 10 s */
    /* Wait before restarting an ended container (restart_policy on-failure / always): the
     * first, doubling with each restart up to the max. 0 = 10 s and 300 s. */
    long long crash_backoff_initial_ms;
    long long crash_backoff_max_ms;
    /* The runner process's --node-name: at (re)connection it reconciles only the running
     * workloads of this node (the others' containers are on other engines). NULL: the
     * embedded runner, alone, reconciles every running workload. */
    const char *node_name;
};

int runtime_docker_configure(const struct runtime_docker_config *config, struct agyn_error *err);
const char *runtime_docker_network(void);
long long runtime_docker_stop_grace_ms(void);
/* The configured node_name, or NULL. */
const char *runtime_docker_node_name(void);
/* The wait before the restart that follows restart_count earlier restarts. */
long long runtime_docker_crash_backoff_ms(long long restart_count);

/* Stops (grace, then kill) and removes one engine container by id or name; a container that
 * is already gone is fine. */
int runtime_docker_remove(const char *id_or_name, long long grace_ms, struct agyn_error *err);

#endif
