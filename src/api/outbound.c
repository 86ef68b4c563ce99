/* outbound.c — the outbound job pool: per-organization fair queue, worker threads, and a
 * watcher that answers waiting requests when their job's deadline passes (see outbound.h for
 * the state diagram). */
#include "api/outbound.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/xalloc.h"
#include "base/clock.h"
#include "core/names.h"
#include "net/egress.h"

#define DEFAULT_THREADS 8
#define DEFAULT_ORG_RUNNING 2
#define DEFAULT_ORG_QUEUED 8
#define DEFAULT_TIMEOUT_MS 15000
#define WATCH_INTERVAL_MS 100

enum job_state { JOB_NEW, JOB_QUEUED, JOB_RUNNING, JOB_DONE };

struct outbound_job {
    pthread_mutex_t lock;
    int refs;
    enum job_state state;
    bool dropped; /* the pool stopped before it finished: answered 503 */
    char org_id[AGYN_UUID_LEN + 1];
    int64_t deadline_ms;
    outbound_run_fn run;
    void *arg;
    void (*free_arg)(void *);
    int status;
    json_t *body;
    bool late; /* finished at or after its deadline: answered with timeout_body */
    json_t *timeout_body;
    /* The suspended request waiting for this job, if any. */
    void (*resume)(void *conn);
    void *conn;
    struct outbound_job *next; /* in the pool's list while queued or running */
};

struct outbound_pool {
    struct outbound_config config;
    pthread_mutex_t lock;
    pthread_cond_t work;       /* a job was queued, a slot freed, or stopping */
    pthread_cond_t tick;       /* wakes the watcher at stop */
    struct outbound_job *jobs; /* queued and running, oldest first */
    bool stopping;
    pthread_t *workers;
    int worker_count;
    int idle_workers; /* waiting for a job, this one included while it chooses */
    pthread_t watcher;
    bool watcher_started;
};

struct outbound_job *outbound_job_new(const char *org_id, outbound_run_fn run, void *arg,
                                      void (*free_arg)(void *), json_t *timeout_body) {
    struct outbound_job *job = calloc(1, sizeof *job);
    if (!job) {
        if (free_arg)
            free_arg(arg);
        json_decref(timeout_body);
        return NULL;
    }
    pthread_mutex_init(&job->lock, NULL);
    job->refs = 1;
    snprintf(job->org_id, sizeof job->org_id, "%s", org_id ? org_id : "");
    job->run = run;
    job->arg = arg;
    job->free_arg = free_arg;
    job->timeout_body = timeout_body;
    return job;
}

void outbound_job_release(struct outbound_job *job) {
    if (!job)
        return;
    pthread_mutex_lock(&job->lock);
    int left = --job->refs;
    pthread_mutex_unlock(&job->lock);
    if (left > 0)
        return;
    if (job->free_arg)
        job->free_arg(job->arg);
    json_decref(job->body);
    json_decref(job->timeout_body);
    pthread_mutex_destroy(&job->lock);
    free(job);
}

/* Resumes the waiter, if any; the caller holds job->lock. */
static void wake_waiter_locked(struct outbound_job *job) {
    if (!job->resume)
        return;
    void (*resume)(void *) = job->resume;
    job->resume = NULL;
    resume(job->conn);
}

int outbound_job_wait(struct outbound_job *job, void (*suspend)(void *conn),
                      void (*resume)(void *conn), void *conn) {
    pthread_mutex_lock(&job->lock);
    if (job->state == JOB_DONE || clock_monotonic_ms() >= job->deadline_ms) {
        pthread_mutex_unlock(&job->lock);
        return 0;
    }
    suspend(conn);
    job->resume = resume;
    job->conn = conn;
    pthread_mutex_unlock(&job->lock);
    return 1;
}

void outbound_job_result(struct outbound_job *job, int *status, const json_t **body) {
    pthread_mutex_lock(&job->lock);
    if (job->state == JOB_DONE && !job->dropped && !job->late && job->body) {
        *status = job->status;
        *body = job->body;
    } else if (job->dropped) {
        *status = 503;
        *body = NULL;
    } else {
        *status = 200;
        *body = job->timeout_body;
    }
    pthread_mutex_unlock(&job->lock);
}

static int org_count(const struct outbound_pool *pool, const char *org_id, enum job_state state) {
    int n = 0;
    for (const struct outbound_job *j = pool->jobs; j; j = j->next)
        if (j->state == state && strcmp(j->org_id, org_id) == 0)
            n++;
    return n;
}

int outbound_submit(struct outbound_pool *pool, struct outbound_job *job, struct agyn_error *err) {
    if (!job)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory");
    pthread_mutex_lock(&pool->lock);
    int rc = 0;
    if (pool->stopping)
        rc = agyn_fail(err, AGYN_UNAVAILABLE, NULL, "agynd is shutting down");
    else if (org_count(pool, job->org_id, JOB_QUEUED) >= pool->config.org_queued)
        rc = agyn_fail(err, AGYN_TOO_MANY_REQUESTS, NULL,
                       "this organization already has %d outbound checks waiting; try again "
                       "when they have finished",
                       pool->config.org_queued);
    if (rc == 0) {
        job->deadline_ms = clock_monotonic_ms() + pool->config.timeout_ms;
        job->state = JOB_QUEUED;
        job->refs++; /* the pool's */
        struct outbound_job **tail = &pool->jobs;
        while (*tail)
            tail = &(*tail)->next;
        job->next = NULL;
        *tail = job;
        pthread_cond_signal(&pool->work);
    }
    pthread_mutex_unlock(&pool->lock);
    if (rc != 0)
        outbound_job_release(job);
    return rc;
}

/* The next job to run, pool->lock held: of the queued jobs whose organization is under its
 * running limit, one of the organization with the fewest running jobs (the oldest among
 * those). An organization that already runs a job gets a second worker only while another
 * worker stays idle, so an organization with nothing running always finds a free worker
 * unless every worker runs a job of a different organization. */
static struct outbound_job *next_runnable(struct outbound_pool *pool) {
    struct outbound_job *best = NULL;
    int best_running = 0;
    for (struct outbound_job *j = pool->jobs; j; j = j->next) {
        if (j->state != JOB_QUEUED)
            continue;
        int running = org_count(pool, j->org_id, JOB_RUNNING);
        if (running >= pool->config.org_running || (running > 0 && pool->idle_workers < 2))
            continue;
        if (!best || running < best_running) {
            best = j;
            best_running = running;
        }
    }
    return best;
}

static void unlink_job(struct outbound_pool *pool, struct outbound_job *job) {
    for (struct outbound_job **p = &pool->jobs; *p; p = &(*p)->next)
        if (*p == job) {
            *p = job->next;
            return;
        }
}

static void *worker_main(void *cls) {
    struct outbound_pool *pool = cls;
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        struct outbound_job *job = NULL;
        pool->idle_workers++;
        while (!pool->stopping && !(job = next_runnable(pool)))
            pthread_cond_wait(&pool->work, &pool->lock);
        pool->idle_workers--;
        if (pool->stopping)
            break;
        job->state = JOB_RUNNING;
        pthread_mutex_unlock(&pool->lock);

        int status = 500;
        json_t *body = NULL;
        if (clock_monotonic_ms() < job->deadline_ms) {
            /* Every request the job makes ends by the job's deadline. */
            egress_set_thread_deadline_ms(job->deadline_ms);
            job->run(job->arg, job->deadline_ms, &status, &body);
            egress_set_thread_deadline_ms(0);
        }

        pthread_mutex_lock(&pool->lock);
        unlink_job(pool, job);
        pthread_cond_broadcast(&pool->work); /* a slot of this organization is free */
        pthread_mutex_unlock(&pool->lock);

        pthread_mutex_lock(&job->lock);
        job->status = status;
        job->body = body;
        job->late = clock_monotonic_ms() >= job->deadline_ms;
        job->state = JOB_DONE;
        wake_waiter_locked(job);
        pthread_mutex_unlock(&job->lock);
        outbound_job_release(job);
        pthread_mutex_lock(&pool->lock);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Answers the requests whose job missed its deadline (the job itself runs on). */
static void *watcher_main(void *cls) {
    struct outbound_pool *pool = cls;
    pthread_mutex_lock(&pool->lock);
    while (!pool->stopping) {
        int64_t now = clock_monotonic_ms();
        for (struct outbound_job *j = pool->jobs; j; j = j->next) {
            if (j->deadline_ms > now)
                continue;
            pthread_mutex_lock(&j->lock);
            wake_waiter_locked(j);
            pthread_mutex_unlock(&j->lock);
        }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += WATCH_INTERVAL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&pool->tick, &pool->lock, &until);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

int outbound_pool_start(const struct outbound_config *config, struct outbound_pool **out,
                        struct agyn_error *err) {
    struct outbound_pool *pool = xcalloc(1, sizeof *pool);
    pool->config = *config;
    if (pool->config.threads <= 0)
        pool->config.threads = DEFAULT_THREADS;
    if (pool->config.org_running <= 0)
        pool->config.org_running = DEFAULT_ORG_RUNNING;
    if (pool->config.org_queued <= 0)
        pool->config.org_queued = DEFAULT_ORG_QUEUED;
    if (pool->config.timeout_ms <= 0)
        pool->config.timeout_ms = DEFAULT_TIMEOUT_MS;
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->tick, NULL);
    pool->workers = xcalloc((size_t)pool->config.threads, sizeof *pool->workers);
    for (int i = 0; i < pool->config.threads; i++) {
        if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0)
            break;
        pool->worker_count++;
    }
    if (pthread_create(&pool->watcher, NULL, watcher_main, pool) == 0)
        pool->watcher_started = true;
    if (pool->worker_count < pool->config.threads || !pool->watcher_started) {
        outbound_pool_free(pool);
        return agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the outbound threads");
    }
    *out = pool;
    return 0;
}

void outbound_pool_stop(struct outbound_pool *pool) {
    if (!pool)
        return;
    pthread_mutex_lock(&pool->lock);
    if (pool->stopping) {
        pthread_mutex_unlock(&pool->lock);
        return;
    }
    pool->stopping = true;
    /* Queued jobs never run; every waiter is answered now (503). */
    struct outbound_job **p = &pool->jobs;
    while (*p) {
        struct outbound_job *job = *p;
        pthread_mutex_lock(&job->lock);
        bool was_queued = job->state == JOB_QUEUED;
        if (was_queued)
            job->state = JOB_DONE;
        job->dropped = true;
        wake_waiter_locked(job);
        pthread_mutex_unlock(&job->lock);
        if (was_queued) {
            *p = job->next;
            outbound_job_release(job); /* the pool's reference */
        } else {
            p = &job->next;
        }
    }
    pthread_cond_broadcast(&pool->work);
    pthread_cond_broadcast(&pool->tick);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->worker_count; i++)
        pthread_join(pool->workers[i], NULL);
    if (pool->watcher_started)
        pthread_join(pool->watcher, NULL);
    pool->worker_count = 0;
    pool->watcher_started = false;
}

void outbound_pool_free(struct outbound_pool *pool) {
    if (!pool)
        return;
    outbound_pool_stop(pool);
    free(pool->workers);
    pthread_cond_destroy(&pool->work);
    pthread_cond_destroy(&pool->tick);
    pthread_mutex_destroy(&pool->lock);
    free(pool);
}
