/* resource.h — helpers every resource handler shares: loading a row of the caller's
 * organization (404 naming the kind), turning rows into responses (internal and sealed columns
 * never leave), and clear conflict messages. */
#ifndef AGYN_API_RESOURCE_H
#define AGYN_API_RESOURCE_H

#include <jansson.h>

#include "api/request.h"
#include "store/store.h"

/* Loads id from table within req->org_id; a missing row is AGYN_NOT_FOUND with field and a
 * message "<kind> <id> not found". */
int resource_load(const struct api_request *req, const struct store_table *table, const char *kind,
                  const char *field, const char *id, json_t **row_out, struct agyn_error *err);
/* A copy of row without COLUMN_INTERNAL and COLUMN_SEALED columns. */
json_t *resource_public(const struct store_table *table, const json_t *row);
/* Rewrites a store unique-violation error into "<kind> named \"x\" already exists". */
void resource_conflict_message(struct agyn_error *err, const char *kind, const char *name);
/* Standard list handler body: filters + paging + public rows. */
int resource_list(struct api_request *req, struct api_response *res,
                  const struct store_table *table, const struct store_filter *filters,
                  size_t filter_count, struct agyn_error *err);
/* Builds a filter from an optional UUID query argument; returns the new count. */
int resource_query_filter(const struct api_request *req, const char *name,
                          struct store_filter *filters, size_t *count, struct agyn_error *err);
/* Appends an event (image_pull_secret.created, attachment.deleted, ...) for req->org_id;
 * payload is borrowed and must hold no secret. A failure is logged, not returned: the change
 * itself has been made. */
void resource_publish(const struct api_request *req, const char *type, json_t *payload);

#endif
