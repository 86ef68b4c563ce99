/* outbound.h — the pool that runs outbound work for API requests (a registry login for
 * verify, a provider round trip for test) off the HTTP worker threads.
 *
 * A handler creates a job and submits it; the server suspends the request's connection and
 * answers it when the job is done or when the job's deadline passes, whichever comes first.
 * A job that misses its deadline goes on running in the background (its own network
 * deadline ends it soon after) but nobody waits for it.
 *
 * Fairness: each organization has at most `org_running` jobs running and `org_queued` jobs
 * waiting; a worker takes the oldest waiting job of an organization that is under its running
 * limit, so one organization's slow targets cannot occupy the whole pool, and a submit over
 * the waiting limit is refused (429) instead of queueing without bound.
 *
 * Job states:
 *
 *     submit ──► QUEUED ──worker──► RUNNING ──run returns──► DONE
 *                  │                   │
 *                  └──deadline/stop────┴──► the waiter is answered with the timeout result
 *                                           (the job still ends in DONE, unobserved)
 */
#ifndef AGYN_API_OUTBOUND_H
#define AGYN_API_OUTBOUND_H

#include <stdint.h>

#include <jansson.h>

#include "core/error.h"

struct outbound_pool;
struct outbound_job;

struct outbound_config {
    int threads;        /* workers; 0 = 8 */
    int org_running;    /* jobs of one organization running at once; 0 = 2 */
    int org_queued;     /* jobs of one organization waiting; 0 = 8 */
    int64_t timeout_ms; /* deadline of a job from its submission; 0 = 15000 */
};

/* The work: runs on a pool thread, must finish by deadline_ms (clock_monotonic_ms) and
 * returns the response: *status and a JSON body (owned by the job afterwards). */
typedef void (*outbound_run_fn)(void *arg, int64_t deadline_ms, int *status, json_t **body);

int outbound_pool_start(const struct outbound_config *config, struct outbound_pool **out,
                        struct agyn_error *err);
/* Answers every waiting request (503, "shutting down"), drops queued jobs and joins the
 * workers (each running job ends by its deadline). Later submits fail with 503; the pool
 * stays valid until outbound_pool_free, so the HTTP server can drain first. */
void outbound_pool_stop(struct outbound_pool *pool);
void outbound_pool_free(struct outbound_pool *pool); /* stops first if needed */

/* A job for org_id running run(arg); free_arg releases arg after the run (or when the job is
 * dropped unrun). timeout_body is the answer when the deadline passes first (stolen). */
struct outbound_job *outbound_job_new(const char *org_id, outbound_run_fn run, void *arg,
                                      void (*free_arg)(void *), json_t *timeout_body);
/* Queues the job. -1 with AGYN_TOO_MANY_REQUESTS when org_id has too many waiting, or
 * AGYN_UNAVAILABLE when stopping; the job is then released. On success the caller keeps its
 * reference for outbound_job_wait / outbound_job_result. */
int outbound_submit(struct outbound_pool *pool, struct outbound_job *job, struct agyn_error *err);

/* Registers the waiter unless the job is done already (returns 0: answer now). Otherwise
 * calls suspend(conn) under the job's lock and returns 1; resume(conn) is called exactly
 * once later — after the suspend — when the job is done or its deadline passed. */
int outbound_job_wait(struct outbound_job *job, void (*suspend)(void *conn),
                      void (*resume)(void *conn), void *conn);
/* The answer: the job's own when it is done, else its timeout answer. Steals nothing: the
 * body stays owned by the job; copy or serialize it before outbound_job_release. */
void outbound_job_result(struct outbound_job *job, int *status, const json_t **body);
/* Drops the caller's reference. */
void outbound_job_release(struct outbound_job *job);

#endif
