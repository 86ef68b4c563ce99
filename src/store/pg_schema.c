/* pg_schema.c — PostgreSQL DDL, one string per schema version, mirroring sqlite_schema.c:
 * every table has a BIGSERIAL `seq` (creation order, keyset paging; sequence <table>_seq_seq),
 * a UUID `id`, and RFC 3339 created_at/updated_at kept as text (so they compare as SQLite's
 * do). */
#include <stddef.h>

#include "store/pg_schema.h"

#define COMMON                                                                                     \
    "seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL UNIQUE, "                                         \
    "created_at TEXT NOT NULL, updated_at TEXT NOT NULL, "
#define IN_ORG "organization_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE, "

const char *const PG_MIGRATIONS[] = {
    /* 1: organizations, tokens, agents, MCP servers, hooks. */
    "CREATE TABLE organizations (" COMMON "name TEXT NOT NULL UNIQUE);"
    "CREATE TABLE api_tokens (" COMMON
    "organization_id TEXT REFERENCES organizations(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('admin', 'owner', 'member')),"
    " token_hash TEXT NOT NULL UNIQUE, token_prefix TEXT NOT NULL);"
    "CREATE INDEX api_tokens_org ON api_tokens (organization_id, seq);"
    "CREATE TABLE agents (" COMMON IN_ORG
    "name TEXT NOT NULL, image TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " UNIQUE (organization_id, name));"
    "CREATE INDEX agents_org ON agents (organization_id, seq);"
    "CREATE TABLE mcps (" COMMON IN_ORG
    "agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, image TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',"
    " UNIQUE (agent_id, name));"
    "CREATE INDEX mcps_org ON mcps (organization_id, seq);"
    "CREATE INDEX mcps_agent ON mcps (agent_id, seq);"
    "CREATE TABLE hooks (" COMMON IN_ORG
    "agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,"
    " event TEXT NOT NULL, image TEXT NOT NULL, description TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX hooks_org ON hooks (organization_id, seq);"
    "CREATE INDEX hooks_agent ON hooks (agent_id, seq);",

    /* 2: secret providers, secrets, image pull secrets, attachments. */
    "CREATE TABLE secret_providers (" COMMON IN_ORG
    "name TEXT NOT NULL, type TEXT NOT NULL, config TEXT NOT NULL,"
    " credentials_sealed TEXT, credential_fields TEXT NOT NULL DEFAULT '[]',"
    " UNIQUE (organization_id, name));"
    "CREATE TABLE secrets (" COMMON IN_ORG
    "name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', value_sealed TEXT,"
    " provider_id TEXT REFERENCES secret_providers(id), remote_path TEXT,"
    " value_source TEXT NOT NULL CHECK (value_source IN ('inline', 'remote')),"
    " value_updated_at TEXT NOT NULL,"
    " CHECK (num_nonnulls(value_sealed, provider_id) = 1),"
    " UNIQUE (organization_id, name));"
    "CREATE INDEX secret_providers_org ON secret_providers (organization_id, seq);"
    "CREATE INDEX secrets_org ON secrets (organization_id, seq);"
    "CREATE INDEX secrets_provider ON secrets (provider_id);"
    "CREATE TABLE image_pull_secrets (" COMMON IN_ORG
    "name TEXT NOT NULL, description TEXT NOT NULL DEFAULT '', registry TEXT NOT NULL,"
    " username TEXT NOT NULL, password_sealed TEXT,"
    " password_secret_id TEXT REFERENCES secrets(id),"
    " provider_id TEXT REFERENCES secret_providers(id), remote_path TEXT,"
    " password_source TEXT NOT NULL CHECK (password_source IN ('inline', 'secret', 'remote')),"
    " password_updated_at TEXT NOT NULL,"
    " CHECK (num_nonnulls(password_sealed, password_secret_id, provider_id) = 1),"
    " UNIQUE (organization_id, name));"
    "CREATE INDEX image_pull_secrets_org ON image_pull_secrets (organization_id, seq);"
    "CREATE INDEX image_pull_secrets_secret ON image_pull_secrets (password_secret_id);"
    "CREATE INDEX image_pull_secrets_provider ON image_pull_secrets (provider_id);"
    "CREATE TABLE image_pull_secret_attachments (" COMMON IN_ORG
    "image_pull_secret_id TEXT NOT NULL REFERENCES image_pull_secrets(id),"
    " agent_id TEXT REFERENCES agents(id) ON DELETE CASCADE,"
    " mcp_id TEXT REFERENCES mcps(id) ON DELETE CASCADE,"
    " hook_id TEXT REFERENCES hooks(id) ON DELETE CASCADE,"
    " CHECK (num_nonnulls(agent_id, mcp_id, hook_id) = 1));"
    "CREATE UNIQUE INDEX attachments_agent ON image_pull_secret_attachments"
    " (image_pull_secret_id, agent_id) WHERE agent_id IS NOT NULL;"
    "CREATE UNIQUE INDEX attachments_mcp ON image_pull_secret_attachments"
    " (image_pull_secret_id, mcp_id) WHERE mcp_id IS NOT NULL;"
    "CREATE UNIQUE INDEX attachments_hook ON image_pull_secret_attachments"
    " (image_pull_secret_id, hook_id) WHERE hook_id IS NOT NULL;"
    "CREATE INDEX attachments_org ON image_pull_secret_attachments (organization_id, seq);"
    "CREATE INDEX attachments_by_agent ON image_pull_secret_attachments (agent_id, seq);"
    "CREATE INDEX attachments_by_mcp ON image_pull_secret_attachments (mcp_id, seq);"
    "CREATE INDEX attachments_by_hook ON image_pull_secret_attachments (hook_id, seq);",

    /* 3: workloads (runs of an agent, claimed by a runner) and the event log (SSE). */
    "CREATE TABLE workloads (" COMMON IN_ORG
    "agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,"
    " status TEXT NOT NULL CHECK (status IN ('starting', 'running', 'stopping', 'stopped',"
    " 'failed')),"
    " failure_reason TEXT, failure_message TEXT, containers TEXT NOT NULL DEFAULT '[]',"
    " stop_requested INTEGER NOT NULL DEFAULT 0, claimed_by TEXT, claimed_at TEXT);"
    "CREATE INDEX workloads_org ON workloads (organization_id, seq);"
    "CREATE INDEX workloads_unclaimed ON workloads (status, claimed_by);"
    "CREATE TABLE events (" COMMON IN_ORG "type TEXT NOT NULL, payload TEXT NOT NULL);"
    "CREATE INDEX events_org ON events (organization_id, seq);",

    /* 4: Console sessions: an HttpOnly cookie names a session bound to an API token. */
    "CREATE TABLE sessions (" COMMON
    "token_id TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,"
    " session_hash TEXT NOT NULL UNIQUE, csrf_token TEXT NOT NULL, expires_at TEXT NOT NULL);",

    /* 5: workloads that ran to the end (the docker runtime): status 'succeeded'. */
    "ALTER TABLE workloads DROP CONSTRAINT workloads_status_check;"
    "ALTER TABLE workloads ADD CONSTRAINT workloads_status_check CHECK (status IN ('starting',"
    " 'running', 'stopping', 'stopped', 'succeeded', 'failed'));",

    /* 6: what a container runs (command, args, env as JSON; NULL: the image's own) and the
     * workload's restart policy. */
    "ALTER TABLE agents ADD COLUMN command TEXT, ADD COLUMN args TEXT, ADD COLUMN env TEXT;"
    "ALTER TABLE mcps ADD COLUMN command TEXT, ADD COLUMN args TEXT, ADD COLUMN env TEXT;"
    "ALTER TABLE hooks ADD COLUMN command TEXT, ADD COLUMN args TEXT, ADD COLUMN env TEXT;"
    "ALTER TABLE workloads ADD COLUMN restart_policy TEXT NOT NULL DEFAULT 'never'"
    " CONSTRAINT workloads_restart_policy_check"
    " CHECK (restart_policy IN ('never', 'on-failure', 'always'));",

    /* 7: image pull secrets with short-lived passwords: password_source 'ecr' (provider_id
     * names the AWS provider) and 'plugin' (a kubelet credential-provider plugin by name).
     * PostgreSQL changes the CHECKs in place; the attachments keep their reference. */
    "ALTER TABLE image_pull_secrets ADD COLUMN plugin TEXT;"
    "ALTER TABLE image_pull_secrets DROP CONSTRAINT image_pull_secrets_password_source_check;"
    "ALTER TABLE image_pull_secrets ADD CONSTRAINT image_pull_secrets_password_source_check"
    " CHECK (password_source IN ('inline', 'secret', 'remote', 'ecr', 'plugin'));"
    "ALTER TABLE image_pull_secrets DROP CONSTRAINT image_pull_secrets_check;"
    "ALTER TABLE image_pull_secrets ADD CONSTRAINT image_pull_secrets_check"
    " CHECK (num_nonnulls(password_sealed, password_secret_id, provider_id, plugin) = 1);",

    /* 8: claim leases: the node a workload was claimed on (and runs on) and when the claim's
     * lease, renewed by that runner's heartbeat, runs out (RFC 3339, compared as text). */
    "ALTER TABLE workloads ADD COLUMN node TEXT;"
    "ALTER TABLE workloads ADD COLUMN lease_expires_at TEXT;",

    /* 9: what runners look up on every claim and heartbeat: their own claims (claimed_by = ?;
     * workloads_unclaimed leads with status) and the running workloads of their node. */
    "CREATE INDEX workloads_claimed_by ON workloads (claimed_by) WHERE claimed_by IS NOT NULL;"
    "CREATE INDEX workloads_node ON workloads (node, status) WHERE node IS NOT NULL;",

    NULL,
};
