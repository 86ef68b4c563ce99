/* handlers.h — every route handler, one file per resource (h_<resource>.c). */
#ifndef AGYN_API_HANDLERS_H
#define AGYN_API_HANDLERS_H

#include "api/router.h"

#define HANDLER(name) int name(struct api_request *req, struct api_response *res, \
                               struct agyn_error *err)

/* h_meta.c */
HANDLER(h_healthz);
HANDLER(h_readyz);
HANDLER(h_openapi);
HANDLER(h_me);
/* h_organizations.c */
HANDLER(h_organizations_create);
HANDLER(h_organizations_list);
HANDLER(h_organizations_get);
/* h_tokens.c */
HANDLER(h_tokens_create);
HANDLER(h_tokens_list);
HANDLER(h_tokens_delete);
/* h_agents.c */
HANDLER(h_agents_create);
HANDLER(h_agents_list);
HANDLER(h_agents_get);
HANDLER(h_agents_update);
HANDLER(h_agents_delete);
/* h_mcps.c */
HANDLER(h_mcps_create);
HANDLER(h_mcps_list);
HANDLER(h_mcps_get);
HANDLER(h_mcps_update);
HANDLER(h_mcps_delete);
/* h_hooks.c */
HANDLER(h_hooks_create);
HANDLER(h_hooks_list);
HANDLER(h_hooks_get);
HANDLER(h_hooks_update);
HANDLER(h_hooks_delete);

#endif
