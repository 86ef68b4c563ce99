/* aws_ecr.c — registry logins from Amazon ECR for the aws-secrets-manager provider: a
 * SigV4-signed GetAuthorizationToken call (JSON 1.1, service "ecr"), made with the provider's
 * own credentials or, when config.role_arn is set, with temporary credentials from an STS
 * AssumeRole call (query protocol, service "sts"). The token "AWS:<password>" (base64) becomes
 * username and password. Requests go through provider_http_perform, so the egress policy and
 * the provider timeouts apply to both endpoints. No credential or token reaches a message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"
#include "providers/answers.h"
#include "providers/aws.h"
#include "providers/http.h"
#include "providers/provider.h"

#define ECR_TARGET "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken"
#define ECR_TOKEN_MAX (64 * 1024)
#define STS_FIELD_MAX (16 * 1024)

/* Temporary credentials from AssumeRole, malloc'd and wiped on free. */
struct sts_credentials {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
};

static void sts_credentials_free(struct sts_credentials *creds) {
    secure_free(creds->access_key_id);
    secure_free(creds->secret_access_key);
    secure_free(creds->session_token);
    memset(creds, 0, sizeof *creds);
}

/* The raw text of <tag>...</tag> (no entity decoding: the fields are base64 and key ids);
 * NULL when absent, empty, too long or not clean text. */
static char *xml_field_copy(const char *body, const char *tag) {
    size_t len = 0;
    const char *start = aws_xml_element(body, tag, &len);
    if (!start || len == 0 || len > STS_FIELD_MAX || !provider_text_is_clean(start, len) ||
        memchr(start, '<', len) || memchr(start, '&', len))
        return NULL;
    return xmemdup_str(start, len);
}

int aws_sts_credentials_from_answer(const char *body, size_t len, char **access_key_id,
                                    char **secret_access_key, char **session_token,
                                    struct agyn_error *err) {
    *access_key_id = *secret_access_key = *session_token = NULL;
    if (!body || strlen(body) != len)
        return agyn_fail(err, AGYN_UNAVAILABLE, "",
                         "STS AssumeRole: 200: unexpected response (not XML text)");
    *access_key_id = xml_field_copy(body, "AccessKeyId");
    *secret_access_key = xml_field_copy(body, "SecretAccessKey");
    *session_token = xml_field_copy(body, "SessionToken");
    if (*access_key_id && *secret_access_key && *session_token)
        return 0;
    secure_free(*access_key_id);
    secure_free(*secret_access_key);
    secure_free(*session_token);
    *access_key_id = *secret_access_key = *session_token = NULL;
    return agyn_fail(err, AGYN_UNAVAILABLE, "",
                     "STS AssumeRole: 200: unexpected response (no Credentials with "
                     "AccessKeyId, SecretAccessKey and SessionToken)");
}

static int sts_assume_role(const struct aws_settings *settings, struct sts_credentials *out,
                           struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    struct dynbuf body = {0};
    dynbuf_add_str(&body, "Action=AssumeRole&Version=2011-06-15&RoleArn=");
    provider_add_url_escaped(&body, settings->role_arn);
    dynbuf_add_str(&body, "&RoleSessionName=agyn&DurationSeconds=900");
    const struct aws_service sts = {"sts", "sts", settings->sts_endpoint_url,
                                    "config.sts_endpoint_url"};
    struct provider_http_response resp = {0};
    int rc =
        aws_signed_post(settings, &sts, NULL, "application/x-www-form-urlencoded; charset=utf-8",
                        body.data, &resp, err);
    if (rc == 0 && resp.status != 200)
        rc = aws_status_error(settings, &resp, err);
    if (rc == 0)
        rc = aws_sts_credentials_from_answer(resp.body, resp.body_len, &out->access_key_id,
                                             &out->secret_access_key, &out->session_token, err);
    if (rc != 0)
        agyn_error_prefix(err, "STS AssumeRole of %s", settings->role_arn);
    provider_http_response_free(&resp);
    dynbuf_free(&body);
    return rc;
}

/* Standard base64 with correct padding into a malloc'd NUL-terminated string (caller wipes
 * and frees); NULL when not base64 or longer than ECR_TOKEN_MAX. */
static char *base64_decode_text(const char *in, size_t len, size_t *out_len) {
    if (len == 0 || len % 4 != 0 || len > ECR_TOKEN_MAX)
        return NULL;
    char *out = xmalloc(base64_decoded_max(len) + 1);
    if (base64_decode(in, len, out, out_len, 0) != 0) {
        secure_free(out);
        return NULL;
    }
    out[*out_len] = '\0';
    return out;
}

int aws_ecr_login_from_answer(const char *body, size_t len, struct provider_registry_login *out,
                              struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    json_t *answer = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    json_t *data = json_array_get(json_object_get(answer, "authorizationData"), 0);
    json_t *token = json_object_get(data, "authorizationToken");
    json_t *expires = json_object_get(data, "expiresAt");
    int rc = -1;
    size_t decoded_len = 0;
    char *decoded =
        json_is_string(token)
            ? base64_decode_text(json_string_value(token), json_string_length(token), &decoded_len)
            : NULL;
    char *colon = decoded ? memchr(decoded, ':', decoded_len) : NULL;
    if (!json_is_object(data) || !json_is_string(token))
        agyn_fail(err, AGYN_UNAVAILABLE, "",
                  "ECR GetAuthorizationToken: 200: unexpected response (no "
                  "authorizationData[0].authorizationToken)");
    else if (!decoded || !colon || colon == decoded || strlen(decoded) != decoded_len ||
             !provider_text_is_clean(decoded, decoded_len))
        agyn_fail(err, AGYN_UNAVAILABLE, "",
                  "ECR GetAuthorizationToken: the authorizationToken is not base64 of "
                  "\"<username>:<password>\"");
    else {
        *colon = '\0';
        out->username = xstrdup(decoded);
        out->password = xstrdup(colon + 1);
        out->expires_at = json_is_number(expires) ? json_number_value(expires) : 0;
        rc = 0;
    }
    secure_free(decoded);
    secure_json_free(answer);
    return rc;
}

int aws_ecr_registry_login(const json_t *config, struct provider_registry_login *out,
                           struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    struct aws_settings settings;
    if (aws_read_config(config, &settings, err) != 0)
        return -1;
    struct sts_credentials assumed = {0};
    if (settings.role_arn) {
        if (sts_assume_role(&settings, &assumed, err) != 0)
            return -1;
        settings.access_key_id = assumed.access_key_id;
        settings.secret_access_key = assumed.secret_access_key;
        settings.session_token = assumed.session_token;
    }
    const struct aws_service ecr = {"ecr", "api.ecr", settings.ecr_endpoint_url,
                                    "config.ecr_endpoint_url"};
    struct provider_http_response resp = {0};
    int rc = aws_signed_post(&settings, &ecr, ECR_TARGET, "application/x-amz-json-1.1", "{}", &resp,
                             err);
    if (rc == 0 && resp.status != 200)
        rc = aws_status_error(&settings, &resp, err);
    if (rc == 0)
        rc = aws_ecr_login_from_answer(resp.body, resp.body_len, out, err);
    if (rc != 0 && !strstr(err->message, "GetAuthorizationToken"))
        agyn_error_prefix(err, "ECR GetAuthorizationToken");
    provider_http_response_free(&resp);
    sts_credentials_free(&assumed);
    return rc;
}
