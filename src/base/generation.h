/* generation.h — a counter that threads wait on for "something changed": one side bumps it,
 * the other remembers the value it last acted on and sleeps until it moves (or a timeout).
 * Used by the event log (new events) and the work signal (claimable work). */
#ifndef AGYN_BASE_GENERATION_H
#define AGYN_BASE_GENERATION_H

#include <pthread.h>
#include <stdint.h>

struct generation {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t value;
};

#define GENERATION_INIT                                                                            \
    { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 }

/* Moves the counter and wakes every waiter. */
void generation_bump(struct generation *gen);

uint64_t generation_read(struct generation *gen);

/* Returns when the counter is no longer `seen`, or after timeout_ms. */
void generation_wait(struct generation *gen, uint64_t seen, int timeout_ms);

#endif
