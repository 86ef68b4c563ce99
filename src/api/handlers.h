/* handlers.h — every route handler, one file per resource (h_<resource>.c; MCP servers and hooks
 * share h_agent_parts.c). */
#ifndef AGYN_API_HANDLERS_H
#define AGYN_API_HANDLERS_H

#include "api/router.h"

#define HANDLER(name)                                                                              \
    int name(struct api_request *req, struct api_response *res, struct agyn_error *err)

/* h_meta.c */
HANDLER(h_healthz);
HANDLER(h_readyz);
HANDLER(h_openapi);
HANDLER(h_me);
/* h_credential_plugins.c */
HANDLER(h_credential_plugins_list);
/* h_organizations.c */
HANDLER(h_organizations_create);
HANDLER(h_organizations_list);
HANDLER(h_organizations_get);
HANDLER(h_organizations_update);
HANDLER(h_organizations_delete);
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
/* h_agent_parts.c: MCP servers */
HANDLER(h_mcps_create);
HANDLER(h_mcps_list);
HANDLER(h_mcps_get);
HANDLER(h_mcps_update);
HANDLER(h_mcps_delete);
/* h_agent_parts.c: hooks */
HANDLER(h_hooks_create);
HANDLER(h_hooks_list);
HANDLER(h_hooks_get);
HANDLER(h_hooks_update);
HANDLER(h_hooks_delete);
/* h_secret_providers.c */
HANDLER(h_secret_providers_create);
HANDLER(h_secret_providers_list);
HANDLER(h_secret_providers_get);
HANDLER(h_secret_providers_update);
HANDLER(h_secret_providers_delete);
HANDLER(h_secret_providers_test);
/* h_secrets.c */
HANDLER(h_secrets_create);
HANDLER(h_secrets_list);
HANDLER(h_secrets_get);
HANDLER(h_secrets_update);
HANDLER(h_secrets_delete);
/* h_image_pull_secrets.c */
HANDLER(h_image_pull_secrets_create);
HANDLER(h_image_pull_secrets_list);
HANDLER(h_image_pull_secrets_get);
HANDLER(h_image_pull_secrets_update);
HANDLER(h_image_pull_secrets_delete);
HANDLER(h_image_pull_secrets_import);
/* h_attachments.c */
HANDLER(h_attachments_create);
HANDLER(h_attachments_list);
HANDLER(h_attachments_get);
HANDLER(h_attachments_delete);
HANDLER(h_agents_image_pull_secrets);
HANDLER(h_mcps_image_pull_secrets);
HANDLER(h_hooks_image_pull_secrets);
/* h_workloads.c, h_events.c, h_metrics.c, h_verify.c */
HANDLER(h_workloads_create);
HANDLER(h_workloads_list);
HANDLER(h_workloads_get);
HANDLER(h_workloads_stop);
HANDLER(h_workload_logs);
HANDLER(h_events);
HANDLER(h_metrics);
HANDLER(h_image_pull_secrets_verify);
/* session.c */
HANDLER(h_session_create);
HANDLER(h_session_get);
HANDLER(h_session_delete);

#endif
