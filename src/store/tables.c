/* tables.c — column lists of every table. The SQL schema lives with each backend. */
#include "store/tables.h"

#define COLUMNS(...)                                                                               \
    (const struct store_column[]) {                                                                \
        __VA_ARGS__                                                                                \
    }
#define COUNT(...)                                                                                 \
    (sizeof((const struct store_column[]){__VA_ARGS__}) / sizeof(struct store_column))
#define TABLE(sql_name, scoped, ...)                                                               \
    {                                                                                              \
        .name = sql_name, .columns = COLUMNS(__VA_ARGS__), .column_count = COUNT(__VA_ARGS__),     \
        .organization_scoped = scoped                                                              \
    }

#define TEXT(n)                                                                                    \
    { n, COLUMN_TEXT, 0 }
#define TEXT_NULL(n)                                                                               \
    { n, COLUMN_TEXT, COLUMN_NULLABLE }
#define JSON_NULL(n)                                                                               \
    { n, COLUMN_JSON, COLUMN_NULLABLE }
/* What a container runs: absent (NULL) means the image's own entrypoint, command, env. */
#define RUN_SPEC JSON_NULL("command"), JSON_NULL("args"), JSON_NULL("env")

const struct store_table TABLE_ORGANIZATIONS = TABLE("organizations", false, TEXT("name"));

const struct store_table TABLE_API_TOKENS =
    TABLE("api_tokens", false, TEXT_NULL("organization_id"), TEXT("name"), TEXT("role"),
          {"token_hash", COLUMN_TEXT, COLUMN_INTERNAL}, TEXT("token_prefix"));

const struct store_table TABLE_AGENTS =
    TABLE("agents", true, TEXT("name"), TEXT("image"), TEXT("description"), RUN_SPEC);

const struct store_table TABLE_MCPS = TABLE("mcps", true, TEXT("agent_id"), TEXT("name"),
                                            TEXT("image"), TEXT("description"), RUN_SPEC);

const struct store_table TABLE_HOOKS = TABLE("hooks", true, TEXT("agent_id"), TEXT("event"),
                                             TEXT("image"), TEXT("description"), RUN_SPEC);

const struct store_table TABLE_SECRET_PROVIDERS =
    TABLE("secret_providers", true, TEXT("name"), TEXT("type"), TEXT("config"),
          {"credentials_sealed", COLUMN_TEXT, COLUMN_SEALED | COLUMN_NULLABLE},
          {"credential_fields", COLUMN_TEXT, COLUMN_INTERNAL});

const struct store_table TABLE_SECRETS =
    TABLE("secrets", true, TEXT("name"), TEXT("description"),
          {"value_sealed", COLUMN_TEXT, COLUMN_SEALED | COLUMN_NULLABLE}, TEXT_NULL("provider_id"),
          TEXT_NULL("remote_path"), TEXT("value_source"), TEXT("value_updated_at"));

const struct store_table TABLE_IMAGE_PULL_SECRETS =
    TABLE("image_pull_secrets", true, TEXT("name"), TEXT("description"), TEXT("registry"),
          TEXT("username"), {"password_sealed", COLUMN_TEXT, COLUMN_SEALED | COLUMN_NULLABLE},
          TEXT_NULL("password_secret_id"), TEXT_NULL("provider_id"), TEXT_NULL("remote_path"),
          TEXT_NULL("plugin"), TEXT("password_source"), TEXT("password_updated_at"));

const struct store_table TABLE_ATTACHMENTS =
    TABLE("image_pull_secret_attachments", true, TEXT("image_pull_secret_id"),
          TEXT_NULL("agent_id"), TEXT_NULL("mcp_id"), TEXT_NULL("hook_id"));

const struct store_table TABLE_WORKLOADS =
    TABLE("workloads", false, TEXT("organization_id"), TEXT("agent_id"), TEXT("status"),
          TEXT_NULL("failure_reason"), TEXT_NULL("failure_message"), TEXT("containers"),
          {"stop_requested", COLUMN_INTEGER, COLUMN_INTERNAL},
          {"claimed_by", COLUMN_TEXT, COLUMN_NULLABLE | COLUMN_INTERNAL},
          {"claimed_at", COLUMN_TEXT, COLUMN_NULLABLE | COLUMN_INTERNAL}, TEXT("restart_policy"),
          {"node", COLUMN_TEXT, COLUMN_NULLABLE | COLUMN_INTERNAL},
          {"lease_expires_at", COLUMN_TEXT, COLUMN_NULLABLE | COLUMN_INTERNAL});

const struct store_table TABLE_EVENTS = TABLE("events", true, TEXT("type"), TEXT("payload"));
/* The same rows read across organizations (each row names its own): only the event log's
 * process-wide reader (event_log_read_all) uses it, never a request. */
const struct store_table TABLE_EVENTS_ALL_ORGANIZATIONS =
    TABLE("events", false, TEXT("organization_id"), TEXT("type"), TEXT("payload"));

const struct store_table TABLE_SESSIONS =
    TABLE("sessions", false, TEXT("token_id"), {"session_hash", COLUMN_TEXT, COLUMN_INTERNAL},
          {"csrf_token", COLUMN_TEXT, COLUMN_INTERNAL}, TEXT("expires_at"));

const struct store_table *const STORE_ALL_TABLES[] = {&TABLE_ORGANIZATIONS,
                                                      &TABLE_API_TOKENS,
                                                      &TABLE_AGENTS,
                                                      &TABLE_MCPS,
                                                      &TABLE_HOOKS,
                                                      &TABLE_SECRET_PROVIDERS,
                                                      &TABLE_SECRETS,
                                                      &TABLE_IMAGE_PULL_SECRETS,
                                                      &TABLE_ATTACHMENTS,
                                                      &TABLE_WORKLOADS,
                                                      &TABLE_EVENTS,
                                                      &TABLE_SESSIONS,
                                                      NULL};
