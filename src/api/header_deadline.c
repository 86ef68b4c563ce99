/* header_deadline.c — the watch list of connections waiting for request headers and the thread
 * that shuts down those past their deadline (see header_deadline.h). shutdown(2) runs under
 * the list's lock and libmicrohttpd reports a connection closed (and forgets its watch here)
 * before it closes the socket, so a descriptor is never shut down after its reuse. */
#include "api/header_deadline.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "base/clock.h"

#define SCAN_INTERVAL_MS 250

struct watch {
    int fd;
    int64_t waiting_since_ms; /* 0 while a request is being handled */
    struct watch *prev, *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static struct watch *watches;
static int users;
static bool stopping;
static int64_t deadline;
static pthread_t thread;

static void *scan(void *unused) {
    (void)unused;
    pthread_mutex_lock(&lock);
    while (!stopping) {
        int64_t now = clock_monotonic_ms();
        for (struct watch *w = watches; w; w = w->next)
            if (w->waiting_since_ms && now - w->waiting_since_ms > deadline) {
                shutdown(w->fd, SHUT_RDWR);
                w->waiting_since_ms = 0;
            }
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += SCAN_INTERVAL_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&wake, &lock, &until);
    }
    pthread_mutex_unlock(&lock);
    return NULL;
}

int header_deadline_start(int deadline_ms, struct agyn_error *err) {
    pthread_mutex_lock(&lock);
    int rc = 0;
    if (users++ == 0) {
        deadline = deadline_ms;
        stopping = false;
        if (pthread_create(&thread, NULL, scan, NULL) != 0) {
            users = 0;
            rc = agyn_fail(err, AGYN_INTERNAL, NULL, "cannot start the header deadline thread");
        }
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

void header_deadline_stop(void) {
    pthread_mutex_lock(&lock);
    bool last = users > 0 && --users == 0;
    if (last) {
        stopping = true;
        pthread_cond_broadcast(&wake);
    }
    pthread_mutex_unlock(&lock);
    if (last)
        pthread_join(thread, NULL);
}

void header_deadline_opened(void **slot, int fd) {
    struct watch *w = calloc(1, sizeof *w);
    *slot = w;
    if (!w)
        return; /* unwatched: still bounded by the idle timeout */
    w->fd = fd;
    w->waiting_since_ms = clock_monotonic_ms();
    pthread_mutex_lock(&lock);
    w->next = watches;
    if (watches)
        watches->prev = w;
    watches = w;
    pthread_mutex_unlock(&lock);
}

static void set_waiting(void *watch, int64_t since) {
    struct watch *w = watch;
    if (!w)
        return;
    pthread_mutex_lock(&lock);
    w->waiting_since_ms = since;
    pthread_mutex_unlock(&lock);
}

void header_deadline_headers_in(void *watch) {
    set_waiting(watch, 0);
}

void header_deadline_request_done(void *watch) {
    set_waiting(watch, clock_monotonic_ms());
}

void header_deadline_closed(void **slot) {
    struct watch *w = *slot;
    if (!w)
        return;
    pthread_mutex_lock(&lock);
    if (w->prev)
        w->prev->next = w->next;
    else
        watches = w->next;
    if (w->next)
        w->next->prev = w->prev;
    pthread_mutex_unlock(&lock);
    free(w);
    *slot = NULL;
}
