/* runtime_docker_events.h — the `docker` runtime's lifecycle: one thread follows the engine's
 * event stream (GET /events, our labels, die and oom) and records each container's end in
 * its workload (terminated, exit_code, Completed/Error/OOMKilled; the workload succeeded or
 * failed when its main container ends). Whenever the stream (re)connects — at agynd start
 * and after the engine was away — it reconciles: running containers of active workloads are
 * adopted, ended ones recorded, vanished ones fail their workload with ContainerMissing, and
 * containers with our labels that no active or finished workload owns are removed. */
#ifndef AGYN_RUNNER_RUNTIME_DOCKER_EVENTS_H
#define AGYN_RUNNER_RUNTIME_DOCKER_EVENTS_H

#include <stdbool.h>

#include "core/error.h"
#include "store/store.h"

int docker_events_watch(struct store *store, struct agyn_error *err);
void docker_events_unwatch(void);
/* Whether the event stream is connected now (the engine is reachable). */
bool docker_events_connected(void);

#endif
