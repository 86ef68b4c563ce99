/* data_sources.h — the provider's data sources: agyn_organization, agyn_agent and
 * agyn_image_pull_secret, each looked up by name. */
#ifndef AGYN_TF_DATA_SOURCES_H
#define AGYN_TF_DATA_SOURCES_H

#include "terraform/diag.h"
#include "terraform/schema.h"
#include "terraform/tfval.h"

struct tf_data_source {
    const char *type_name;
    const struct tf_block *schema;
    /* Plan-time checks on config (values may be unknown). */
    void (*validate)(struct diags *d, const struct tfv *config);
    /* Fills state (a copy of config shaped to the schema); 0, or -1 with diags set. */
    int (*read)(struct diags *d, struct tfv *state);
};

extern const struct tf_data_source *const TF_DATA_SOURCES[]; /* NULL-terminated */

const struct tf_data_source *tf_data_source_find(const char *type_name);

#endif
