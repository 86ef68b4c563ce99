/* work_signal.c — the generation counter that wakes idle runner threads for claimable work. */
#include "store/work_signal.h"

#include "base/generation.h"

static struct generation generation = GENERATION_INIT;

int work_signal_publish(struct store *store, struct agyn_error *err) {
    if (store_notify(store, WORK_SIGNAL_CHANNEL, err) != 0)
        return -1;
    /* Woken before the commit, a runner would not see the row yet. */
    store_after_commit(store, work_signal_wake);
    return 0;
}

void work_signal_wake(void) {
    generation_bump(&generation);
}

uint64_t work_signal_generation(void) {
    return generation_read(&generation);
}

void work_signal_wait(uint64_t seen, int timeout_ms) {
    generation_wait(&generation, seen, timeout_ms);
}
