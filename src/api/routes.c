/* routes.c — every API route, the access it needs, and what its {id} names. The OpenAPI
 * document (openapi.json) must list each of them; tests/unit/test_openapi.c checks. */
#include "api/handlers.h"

#define ORG "/api/v1/organizations/{org}"

const struct route API_ROUTES[] = {
    {"GET", "/healthz", h_healthz, ACCESS_PUBLIC, NULL},
    {"GET", "/readyz", h_readyz, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/openapi.json", h_openapi, ACCESS_PUBLIC, NULL},
    {"GET", "/api/v1/me", h_me, ACCESS_TOKEN, NULL},

    {"POST", "/api/v1/organizations", h_organizations_create, ACCESS_ADMIN, NULL},
    {"GET", "/api/v1/organizations", h_organizations_list, ACCESS_TOKEN, NULL},
    {"GET", ORG, h_organizations_get, ACCESS_MEMBER, NULL},

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

    {NULL, NULL, NULL, ACCESS_PUBLIC, NULL},
};
