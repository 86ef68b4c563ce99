/* aws.h — what the AWS calls share (internal to src/providers): the provider config read into
 * settings, one SigV4-signed POST to a service endpoint, and AWS error answers turned into
 * messages. aws_secrets_manager.c holds them; aws_ecr.c (ECR tokens, STS AssumeRole) uses them. */
#ifndef AGYN_PROVIDERS_AWS_H
#define AGYN_PROVIDERS_AWS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/error.h"
#include "providers/http.h"

struct aws_settings {
    const char *region;
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token;    /* NULL when not set */
    const char *endpoint_url;     /* Secrets Manager; NULL: the public endpoint of the region */
    const char *ecr_endpoint_url; /* NULL: https://api.ecr.<region>.amazonaws.com */
    const char *role_arn;         /* NULL: no role to assume before calling ECR */
    const char *sts_endpoint_url; /* NULL: https://sts.<region>.amazonaws.com */
};

/* One AWS service endpoint: the SigV4 signing name, the host prefix of its public endpoint
 * (<prefix>.<region>.amazonaws.com[.cn]), and the configured override with its config field. */
struct aws_service {
    const char *signing_name; /* "secretsmanager", "ecr", "sts" */
    const char *host_prefix;  /* "secretsmanager", "api.ecr", "sts" */
    const char *endpoint_url; /* NULL: the public endpoint */
    const char *endpoint_field;
};

/* Checks the config and points settings into it (no copies). */
int aws_read_config(const json_t *config, struct aws_settings *settings, struct agyn_error *err);
/* POSTs body to the service's "/" signed with settings' credentials. target (NULL for the query
 * protocol) is the X-Amz-Target header. Non-2xx answers are in resp->status. */
int aws_signed_post(const struct aws_settings *settings, const struct aws_service *service,
                    const char *target, const char *content_type, const char *body,
                    struct provider_http_response *resp, struct agyn_error *err);
/* A non-2xx answer (JSON __type/message or XML Code/Message) as "aws-secrets-manager: <Type>:
 * <message>" with the code from the transient/permanent table; always returns -1. */
int aws_status_error(const struct aws_settings *settings, const struct provider_http_response *resp,
                     struct agyn_error *err);
/* The sanitized text between <tag> and </tag>; false when absent. */
bool aws_xml_element_text(const char *body, const char *tag, char *out, size_t size);
/* Where the text between the first <tag> and the following </tag> of body starts (*len bytes,
 * not NUL-terminated); NULL when either is missing. */
const char *aws_xml_element(const char *body, const char *tag, size_t *len);

/* The aws-secrets-manager backend's registry_login (aws_ecr.c). */
struct provider_registry_login;
int aws_ecr_registry_login(const json_t *config, struct provider_registry_login *out,
                           struct agyn_error *err);

#endif
