/* routes.c — every API route, the access it needs, and what its {id} names. The OpenAPI
 * document (openapi.json) must list each of them; tests/unit/test_openapi.c checks. */
#include "api/handlers.h"

#define ORG "/api/v1/organizations/{org}"

const struct route API_ROUTES[] = {
    {"GET", "/healthz", h_healthz, ACCESS_PUBLIC, NULL},
    {"GET", "/readyz", h_readyz, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/openapi.json", h_openapi, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/me", h_me, ACCESS_TOKEN, NULL},
    {"POST", "/api/v1/session", h_session_create, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/session", h_session_get, ACCESS_TOKEN, NULL},
    {"DELETE", "/api/v1/session", h_session_delete, ACCESS_TOKEN, NULL},
    {"GET", "/api/v1/credential-provider-plugins", h_credential_plugins_list, ACCESS_TOKEN, NULL},

    {"POST", "/api/v1/organizations", h_organizations_create, ACCESS_ADMIN, NULL},
    {"GET", "/api/v1/organizations", h_organizations_list, ACCESS_TOKEN, NULL},
    {"GET", ORG, h_organizations_get, ACCESS_MEMBER, NULL},
    {"PATCH", ORG, h_organizations_update, ACCESS_OWNER, NULL},
    {"DELETE", ORG, h_organizations_delete, ACCESS_ADMIN, NULL},

    {"POST", ORG "/tokens", h_tokens_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/tokens", h_tokens_list, ACCESS_OWNER, NULL},
    {"DELETE", ORG "/tokens/{id}", h_tokens_delete, ACCESS_OWNER, "token"},

    {"POST", ORG "/agents", h_agents_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/agents", h_agents_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/agents/{id}", h_agents_get, ACCESS_MEMBER, "agent"},
    {"PATCH", ORG "/agents/{id}", h_agents_update, ACCESS_OWNER, "agent"},
    {"DELETE", ORG "/agents/{id}", h_agents_delete, ACCESS_OWNER, "agent"},

    {"POST", ORG "/mcps", h_mcps_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/mcps", h_mcps_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/mcps/{id}", h_mcps_get, ACCESS_MEMBER, "MCP server"},
    {"PATCH", ORG "/mcps/{id}", h_mcps_update, ACCESS_OWNER, "MCP server"},
    {"DELETE", ORG "/mcps/{id}", h_mcps_delete, ACCESS_OWNER, "MCP server"},

    {"POST", ORG "/hooks", h_hooks_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/hooks", h_hooks_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/hooks/{id}", h_hooks_get, ACCESS_MEMBER, "hook"},
    {"PATCH", ORG "/hooks/{id}", h_hooks_update, ACCESS_OWNER, "hook"},
    {"DELETE", ORG "/hooks/{id}", h_hooks_delete, ACCESS_OWNER, "hook"},

    {"GET", ORG "/agents/{id}/image-pull-secrets", h_agents_image_pull_secrets, ACCESS_MEMBER,
     "agent"},
    {"GET", ORG "/mcps/{id}/image-pull-secrets", h_mcps_image_pull_secrets, ACCESS_MEMBER,
     "MCP server"},
    {"GET", ORG "/hooks/{id}/image-pull-secrets", h_hooks_image_pull_secrets, ACCESS_MEMBER,
     "hook"},

    {"POST", ORG "/secret-providers", h_secret_providers_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/secret-providers", h_secret_providers_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/secret-providers/{id}", h_secret_providers_get, ACCESS_MEMBER, "secret provider"},
    {"PATCH", ORG "/secret-providers/{id}", h_secret_providers_update, ACCESS_OWNER,
     "secret provider"},
    {"DELETE", ORG "/secret-providers/{id}", h_secret_providers_delete, ACCESS_OWNER,
     "secret provider"},
    {"POST", ORG "/secret-providers/{id}/test", h_secret_providers_test, ACCESS_OWNER,
     "secret provider"},

    {"POST", ORG "/secrets", h_secrets_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/secrets", h_secrets_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/secrets/{id}", h_secrets_get, ACCESS_MEMBER, "secret"},
    {"PATCH", ORG "/secrets/{id}", h_secrets_update, ACCESS_OWNER, "secret"},
    {"DELETE", ORG "/secrets/{id}", h_secrets_delete, ACCESS_OWNER, "secret"},

    {"POST", ORG "/image-pull-secrets", h_image_pull_secrets_create, ACCESS_OWNER, NULL},
    {"GET", ORG "/image-pull-secrets", h_image_pull_secrets_list, ACCESS_MEMBER, NULL},
    {"POST", ORG "/image-pull-secrets/import", h_image_pull_secrets_import, ACCESS_OWNER, NULL},
    {"GET", ORG "/image-pull-secrets/{id}", h_image_pull_secrets_get, ACCESS_MEMBER,
     "image pull secret"},
    {"PATCH", ORG "/image-pull-secrets/{id}", h_image_pull_secrets_update, ACCESS_OWNER,
     "image pull secret"},
    {"DELETE", ORG "/image-pull-secrets/{id}", h_image_pull_secrets_delete, ACCESS_OWNER,
     "image pull secret"},

    {"POST", ORG "/image-pull-secret-attachments", h_attachments_create, ACCESS_MEMBER, NULL},
    {"GET", ORG "/image-pull-secret-attachments", h_attachments_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/image-pull-secret-attachments/{id}", h_attachments_get, ACCESS_MEMBER,
     "image pull secret attachment"},
    {"DELETE", ORG "/image-pull-secret-attachments/{id}", h_attachments_delete, ACCESS_MEMBER,
     "image pull secret attachment"},

    {"POST", ORG "/image-pull-secrets/{id}/verify", h_image_pull_secrets_verify, ACCESS_MEMBER,
     "image pull secret"},

    {"POST", ORG "/workloads", h_workloads_create, ACCESS_MEMBER, NULL},
    {"GET", ORG "/workloads", h_workloads_list, ACCESS_MEMBER, NULL},
    {"GET", ORG "/workloads/{id}", h_workloads_get, ACCESS_MEMBER, "workload"},
    {"POST", ORG "/workloads/{id}/stop", h_workloads_stop, ACCESS_MEMBER, "workload"},
    {"GET", ORG "/workloads/{id}/containers/{name}/logs", h_workload_logs, ACCESS_MEMBER,
     "workload"},
    {"GET", ORG "/events", h_events, ACCESS_MEMBER, NULL},
    {"GET", "/metrics", h_metrics, ACCESS_PUBLIC, NULL},

    {NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};
