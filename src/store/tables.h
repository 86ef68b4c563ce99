/* tables.h — the tables of the data model (docs/architecture.md), described once for every backend.
 */
#ifndef AGYN_STORE_TABLES_H
#define AGYN_STORE_TABLES_H

#include "store/store.h"

extern const struct store_table TABLE_ORGANIZATIONS;
extern const struct store_table TABLE_API_TOKENS;
extern const struct store_table TABLE_AGENTS;
extern const struct store_table TABLE_MCPS;
extern const struct store_table TABLE_HOOKS;
extern const struct store_table TABLE_SECRET_PROVIDERS;
extern const struct store_table TABLE_SECRETS;
extern const struct store_table TABLE_IMAGE_PULL_SECRETS;
extern const struct store_table TABLE_ATTACHMENTS;
/* Not organization-scoped in lookups (runners claim across organizations); every API query
 * filters on organization_id explicitly. */
extern const struct store_table TABLE_WORKLOADS;
extern const struct store_table TABLE_EVENTS;
extern const struct store_table TABLE_EVENTS_ALL_ORGANIZATIONS; /* not in STORE_ALL_TABLES */
extern const struct store_table TABLE_SESSIONS;

/* Every table, NULL-terminated (used by `agynd keys rewrap` to find sealed columns). */
extern const struct store_table *const STORE_ALL_TABLES[];

#endif
