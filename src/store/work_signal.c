/* work_signal.c — the generation counter that wakes idle runner threads for claimable work. */
#include "store/work_signal.h"

#include <pthread.h>
#include <time.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static uint64_t generation;

int work_signal_publish(struct store *store, struct agyn_error *err) {
    if (store_notify(store, WORK_SIGNAL_CHANNEL, err) != 0)
        return -1;
    /* Woken before the commit, a runner would not see the row yet. */
    store_after_commit(store, work_signal_wake);
    return 0;
}

void work_signal_wake(void) {
    pthread_mutex_lock(&lock);
    generation++;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

uint64_t work_signal_generation(void) {
    pthread_mutex_lock(&lock);
    uint64_t value = generation;
    pthread_mutex_unlock(&lock);
    return value;
}

void work_signal_wait(uint64_t seen, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&lock);
    while (generation == seen)
        if (pthread_cond_timedwait(&changed, &lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&lock);
}
