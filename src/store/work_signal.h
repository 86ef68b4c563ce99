/* work_signal.h — wakes runner threads when claimable work may have appeared: a workload
 * created, a stop requested, a claim released or taken over after its lease ran out. Unlike the
 * event log's generation (every write of every organization), it changes only for those, so
 * idle runners do not probe the store on every API write. Across processes it travels on its
 * own notify channel (PostgreSQL LISTEN/NOTIFY). */
#ifndef AGYN_STORE_WORK_SIGNAL_H
#define AGYN_STORE_WORK_SIGNAL_H

#include <stdint.h>

#include "core/error.h"
#include "store/store.h"

/* The store_notify channel: runner processes subscribe work_signal_wake to it
 * (store_subscribe(store, WORK_SIGNAL_CHANNEL, work_signal_wake)). */
#define WORK_SIGNAL_CHANNEL "agyn_work"

/* Says that claimable work may exist once the transaction open on this thread commits (at
 * once outside a transaction): notifies the other processes and wakes this one's waiters. */
int work_signal_publish(struct store *store, struct agyn_error *err);
/* Wakes this process's waiters (a notification from another process, a freed per-organization
 * slot, shutdown). */
void work_signal_wake(void);
/* A counter bumped by every wake; work_signal_wait blocks until it differs from seen or
 * timeout_ms passes. */
uint64_t work_signal_generation(void);
void work_signal_wait(uint64_t seen, int timeout_ms);

#endif
