/* generation.c — see generation.h. */
#include "base/generation.h"

#include <time.h>

void generation_bump(struct generation *gen) {
    pthread_mutex_lock(&gen->lock);
    gen->value++;
    pthread_cond_broadcast(&gen->changed);
    pthread_mutex_unlock(&gen->lock);
}

uint64_t generation_read(struct generation *gen) {
    pthread_mutex_lock(&gen->lock);
    uint64_t value = gen->value;
    pthread_mutex_unlock(&gen->lock);
    return value;
}

void generation_wait(struct generation *gen, uint64_t seen, int timeout_ms) {
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline); /* the clock of a default condition variable */
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&gen->lock);
    while (gen->value == seen)
        if (pthread_cond_timedwait(&gen->changed, &gen->lock, &deadline) != 0)
            break;
    pthread_mutex_unlock(&gen->lock);
}
