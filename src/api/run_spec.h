/* run_spec.h — the optional command (array of strings), args (array of strings) and env
 * (object of plain string values) of agents, MCP servers and hooks. Absent means the image's
 * own entrypoint, command and environment. env values are shown to every member: they are
 * configuration, never secrets. */
#ifndef AGYN_API_RUN_SPEC_H
#define AGYN_API_RUN_SPEC_H

#include <stdbool.h>

#include <jansson.h>

#include "api/input.h"
#include "core/error.h"

/* Checks body's command, args and env and copies them into out (a row or a PATCH's changes).
 * null means "not set" (the image's own); on create an absent field is null too, on update
 * (for_update) it is left unchanged. A wrong type or a bound exceeded is a 422 naming the
 * field. */
int run_spec_read(json_t *body, bool for_update, json_t *out, struct agyn_error *err);

/* Everything an agent, MCP server or hook runs, besides its name: image (required on create),
 * description and the run spec above, each field's error noted in fe. On create out gets
 * image, description ("" when absent), command, args and env; on update (for_update) only
 * what body carries. */
void run_spec_read_runnable(json_t *body, bool for_update, json_t *out, struct field_errors *fe);

#endif
