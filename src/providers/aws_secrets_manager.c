/* aws_secrets_manager.c — the "aws-secrets-manager" provider backend: reads a secret's
 * SecretString (or one string field of it when the SecretString is a JSON object) with a
 * SigV4-signed GetSecretValue call, and tests credentials with ListSecrets.
 * Config: {"region": "eu-west-1", "access_key_id": "AKIA...", "secret_access_key": "...",
 *          "session_token": "...", "endpoint_url": "http://localhost:4566"}.
 * Remote path: "<secret-id>" or "<secret-id>#<json-key>"; the id is a name or an ARN. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "core/redact.h"
#include "core/xalloc.h"
#include "providers/http.h"
#include "providers/answers.h"
#include "providers/provider.h"
#include "providers/sigv4.h"
#include "providers/aws.h"

#define AWS_TYPE "aws-secrets-manager"
#define AWS_SERVICE "secretsmanager"
#define AWS_SECRET_ID_MAX 2048
#define AWS_JSON_KEY_MAX 1024
#define AWS_REGION_MAX 32
#define AWS_ACCESS_KEY_ID_MAX 128
#define AWS_SECRET_ACCESS_KEY_MAX 256
#define AWS_SESSION_TOKEN_MAX 8192
#define AWS_ENDPOINT_MAX 2048
#define AWS_ROLE_ARN_MAX 2048

static const char *const aws_secret_fields[] = {"secret_access_key", "session_token", NULL};
static const char *const aws_destination_fields[] = {"region", "endpoint_url", "ecr_endpoint_url",
                                                     "sts_endpoint_url", NULL};
static const char *const aws_config_keys[] = {
    "region",        "access_key_id",    "secret_access_key",
    "session_token", "endpoint_url",     "ecr_endpoint_url",
    "role_arn",      "sts_endpoint_url", NULL};

int aws_read_config(const json_t *config, struct aws_settings *settings, struct agyn_error *err) {
    memset(settings, 0, sizeof *settings);
    if (provider_config_check_object(AWS_TYPE, config, aws_config_keys, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "region", true, AWS_REGION_MAX, &settings->region,
                               err) != 0 ||
        provider_config_string(AWS_TYPE, config, "access_key_id", true, AWS_ACCESS_KEY_ID_MAX,
                               &settings->access_key_id, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "secret_access_key", true,
                               AWS_SECRET_ACCESS_KEY_MAX, &settings->secret_access_key, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "session_token", false, AWS_SESSION_TOKEN_MAX,
                               &settings->session_token, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "endpoint_url", false, AWS_ENDPOINT_MAX,
                               &settings->endpoint_url, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "ecr_endpoint_url", false, AWS_ENDPOINT_MAX,
                               &settings->ecr_endpoint_url, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "sts_endpoint_url", false, AWS_ENDPOINT_MAX,
                               &settings->sts_endpoint_url, err) != 0 ||
        provider_config_string(AWS_TYPE, config, "role_arn", false, AWS_ROLE_ARN_MAX,
                               &settings->role_arn, err) != 0)
        return -1;
    /* The region and key id go into the host name and the Authorization header. */
    bool region_ok = islower((unsigned char)settings->region[0]);
    for (const char *p = settings->region; *p; p++)
        region_ok =
            region_ok && (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '-');
    if (!region_ok)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "config.region",
                         "%s: config.region must look like \"eu-west-1\" (lower-case letters, "
                         "digits and '-')",
                         AWS_TYPE);
    for (const char *p = settings->access_key_id; *p; p++) {
        if (!isalnum((unsigned char)*p))
            return agyn_fail(err, AGYN_UNPROCESSABLE, "config.access_key_id",
                             "%s: config.access_key_id must contain only letters and digits",
                             AWS_TYPE);
    }
    const char *const urls[][2] = {{settings->endpoint_url, "config.endpoint_url"},
                                   {settings->ecr_endpoint_url, "config.ecr_endpoint_url"},
                                   {settings->sts_endpoint_url, "config.sts_endpoint_url"}};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        if (urls[i][0] && provider_validate_base_url(urls[i][0], false, urls[i][1], err) != 0) {
            agyn_error_prefix(err, AWS_TYPE);
            return -1;
        }
    }
    /* arn:<partition>:iam::<account>:role/<name>: it goes into a signed form body. */
    if (settings->role_arn &&
        (strncmp(settings->role_arn, "arn:", 4) != 0 || !strstr(settings->role_arn, ":iam::") ||
         !strstr(settings->role_arn, ":role/")))
        return agyn_fail(err, AGYN_UNPROCESSABLE, "config.role_arn",
                         "%s: config.role_arn must be an IAM role ARN "
                         "(arn:aws:iam::<account>:role/<name>)",
                         AWS_TYPE);
    return 0;
}

static int aws_validate_config(const json_t *config, struct agyn_error *err) {
    struct aws_settings settings;
    return aws_read_config(config, &settings, err);
}

static int aws_validate_path(const char *remote_path, const char *field, struct agyn_error *err) {
    if (!remote_path || !*remote_path)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field, "%s: %s must not be empty", AWS_TYPE,
                         field);
    const char *hash = strchr(remote_path, '#');
    size_t id_len = hash ? (size_t)(hash - remote_path) : strlen(remote_path);
    if (id_len == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: %s must start with a secret name or ARN (<secret-id>[#<json-key>])",
                         AWS_TYPE, field);
    if (id_len > AWS_SECRET_ID_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the secret id in %s is longer than %d bytes", AWS_TYPE, field,
                         AWS_SECRET_ID_MAX);
    if (!provider_text_is_clean(remote_path, id_len))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the secret id in %s must be UTF-8 text without control characters",
                         AWS_TYPE, field);
    if (!hash)
        return 0;
    const char *key = hash + 1;
    size_t key_len = strlen(key);
    if (key_len == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the JSON key after '#' in %s must not be empty", AWS_TYPE, field);
    if (key_len > AWS_JSON_KEY_MAX)
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the JSON key in %s is longer than %d bytes", AWS_TYPE, field,
                         AWS_JSON_KEY_MAX);
    if (!provider_text_is_clean(key, key_len))
        return agyn_fail(err, AGYN_UNPROCESSABLE, field,
                         "%s: the JSON key in %s must be UTF-8 text without control characters",
                         AWS_TYPE, field);
    return 0;
}

/* The endpoint without a trailing '/', and the Host header value curl would send for it
 * (port only when not the scheme's default). */
static int aws_endpoint(const struct aws_settings *settings, const struct aws_service *service,
                        struct dynbuf *base, struct dynbuf *host, struct agyn_error *err) {
    if (service->endpoint_url) {
        size_t len = strlen(service->endpoint_url);
        while (len > 0 && service->endpoint_url[len - 1] == '/')
            len--;
        dynbuf_add(base, service->endpoint_url, len);
    } else {
        bool china = strncmp(settings->region, "cn-", 3) == 0;
        dynbuf_add_str(base, "https://");
        dynbuf_add_str(base, service->host_prefix);
        dynbuf_add_str(base, ".");
        dynbuf_add_str(base, settings->region);
        dynbuf_add_str(base, china ? ".amazonaws.com.cn" : ".amazonaws.com");
    }

    CURLU *parsed = curl_url();
    char *scheme = NULL;
    char *hostname = NULL;
    char *port = NULL;
    int rc = -1;
    if (!parsed || curl_url_set(parsed, CURLUPART_URL, base->data, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(parsed, CURLUPART_HOST, &hostname, 0) != CURLUE_OK) {
        agyn_fail(err, AGYN_UNPROCESSABLE, service->endpoint_field, "%s: %s is not a valid URL",
                  AWS_TYPE, service->endpoint_field);
        goto done;
    }
    dynbuf_add_str(host, hostname);
    if (curl_url_get(parsed, CURLUPART_PORT, &port, 0) == CURLUE_OK) {
        bool default_port = (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0) ||
                            (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0);
        if (!default_port) {
            dynbuf_add_str(host, ":");
            dynbuf_add_str(host, port);
        }
    }
    rc = 0;
done:
    curl_free(scheme);
    curl_free(hostname);
    curl_free(port);
    curl_url_cleanup(parsed);
    return rc;
}

int aws_signed_post(const struct aws_settings *settings, const struct aws_service *service,
                    const char *target, const char *content_type, const char *body,
                    struct provider_http_response *resp, struct agyn_error *err) {
    struct dynbuf base = {0};
    struct dynbuf host = {0};
    struct dynbuf url = {0};
    int rc = -1;
    char amz_date[SIGV4_AMZ_DATE_LEN + 1];
    sigv4_format_amz_date(time(NULL), amz_date);
    char authorization[512];
    if (aws_endpoint(settings, service, &base, &host, err) != 0)
        goto done;
    dynbuf_add_str(&url, base.data);
    dynbuf_add_str(&url, "/");

    struct sigv4_header signed_headers[5] = {
        {"host", host.data},
        {"x-amz-date", amz_date},
        {"content-type", content_type},
    };
    size_t signed_count = 3;
    if (target)
        signed_headers[signed_count++] = (struct sigv4_header){"x-amz-target", target};
    if (settings->session_token)
        signed_headers[signed_count++] =
            (struct sigv4_header){"x-amz-security-token", settings->session_token};
    struct sigv4_request signing = {
        .method = "POST",
        .canonical_uri = "/",
        .canonical_query = "",
        .headers = signed_headers,
        .header_count = signed_count,
        .payload = body,
        .payload_len = strlen(body),
    };
    struct sigv4_scope scope = {
        .amz_date = amz_date, .region = settings->region, .service = service->signing_name};
    if (sigv4_authorization(&signing, &scope, settings->access_key_id, settings->secret_access_key,
                            authorization, sizeof authorization, err) != 0) {
        agyn_error_prefix(err, AWS_TYPE);
        goto done;
    }

    struct provider_http_header headers[6] = {
        {"Host", host.data},
        {"X-Amz-Date", amz_date},
        {"Content-Type", content_type},
        {"Authorization", authorization},
    };
    size_t header_count = 4;
    if (target)
        headers[header_count++] = (struct provider_http_header){"X-Amz-Target", target};
    if (settings->session_token)
        headers[header_count++] =
            (struct provider_http_header){"X-Amz-Security-Token", settings->session_token};
    struct provider_http_request req = {
        .method = "POST",
        .url = url.data,
        .headers = headers,
        .header_count = header_count,
        .body = body,
        .body_len = strlen(body),
    };
    /* The message names the origin and curl's error: neither holds a credential. */
    if (provider_http_perform(&req, resp, err) != 0) {
        agyn_error_prefix(err, AWS_TYPE);
        goto done;
    }
    rc = 0;
done:
    dynbuf_free(&base);
    dynbuf_free(&host);
    dynbuf_free(&url);
    return rc;
}

/* POSTs a signed Secrets Manager JSON 1.1 request for operation ("GetSecretValue"). */
static int aws_call(const struct aws_settings *settings, const char *operation, const char *body,
                    struct provider_http_response *resp, struct agyn_error *err) {
    char target[96];
    snprintf(target, sizeof target, "secretsmanager.%s", operation);
    const struct aws_service service = {AWS_SERVICE, AWS_SERVICE, settings->endpoint_url,
                                        "config.endpoint_url"};
    return aws_signed_post(settings, &service, target, "application/x-amz-json-1.1", body, resp,
                           err);
}

const char *aws_xml_element(const char *body, const char *tag, size_t *len) {
    char open[48];
    char close[48];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *start = strstr(body, open);
    if (!start)
        return NULL;
    start += strlen(open);
    const char *end = strstr(start, close);
    if (!end)
        return NULL;
    *len = (size_t)(end - start);
    return start;
}

/* Copies the text between <tag> and </tag> of an XML error body. */
bool aws_xml_element_text(const char *body, const char *tag, char *out, size_t size) {
    size_t len = 0;
    const char *start = aws_xml_element(body, tag, &len);
    if (!start)
        return false;
    provider_sanitize_text(out, size, start, len);
    return true;
}

/* "com.amazonaws.secretsmanager#ResourceNotFoundException:http://..." -> the bare name. */
static void aws_error_type_name(const char *raw, char *out, size_t size) {
    const char *hash = strrchr(raw, '#');
    const char *name = hash ? hash + 1 : raw;
    size_t used = 0;
    for (const char *p = name; *p && *p != ':' && used + 1 < size; p++) {
        if (isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-')
            out[used++] = *p;
    }
    out[used] = '\0';
}

static enum agyn_code aws_error_code(const char *type, long status) {
    static const char *const denied[] = {"UnrecognizedClientException",
                                         "AccessDeniedException",
                                         "AccessDenied",
                                         "InvalidSignatureException",
                                         "SignatureDoesNotMatch",
                                         "IncompleteSignature",
                                         "InvalidClientTokenId",
                                         "ExpiredTokenException",
                                         "ExpiredToken",
                                         "MissingAuthenticationToken",
                                         "MissingAuthenticationTokenException",
                                         "NotAuthorized",
                                         "RequestExpired",
                                         "DecryptionFailure",
                                         NULL};
    static const char *const unavailable[] = {"InternalServiceError",
                                              "InternalFailure",
                                              "ServiceUnavailable",
                                              "ThrottlingException",
                                              "Throttling",
                                              "TooManyRequestsException",
                                              "RequestTimeout",
                                              "ServiceUnavailableException",
                                              NULL};
    if (strcmp(type, "ResourceNotFoundException") == 0)
        return AGYN_NOT_FOUND;
    for (const char *const *name = denied; *name; name++) {
        if (strcmp(type, *name) == 0)
            return AGYN_PERMISSION_DENIED;
    }
    for (const char *const *name = unavailable; *name; name++) {
        if (strcmp(type, *name) == 0)
            return AGYN_UNAVAILABLE;
    }
    return provider_status_to_code(status);
}

/* Turns a non-200 answer (AWS JSON {"__type", "message"}, or an XML <Error>) into
 * "aws-secrets-manager: <Type>: <message>", or a fixed description when the answer echoes a
 * credential. */
int aws_status_error(const struct aws_settings *settings, const struct provider_http_response *resp,
                     struct agyn_error *err) {
    char type[96] = "";
    char message[600] = "";
    const char *const credentials[] = {settings->secret_access_key, settings->session_token, NULL};
    /* Looked for in the whole answer and in the decoded fields before anything is cut short:
     * a credential cut at the end of a shortened message would still show its beginning. */
    bool reveals = resp->body && redact_text_reveals(resp->body, credentials);
    json_t *body = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (json_is_object(body)) {
        json_t *raw_type = json_object_get(body, "__type");
        if (!json_is_string(raw_type))
            raw_type = json_object_get(body, "code");
        json_t *raw_message = json_object_get(body, "Message");
        if (!json_is_string(raw_message))
            raw_message = json_object_get(body, "message");
        reveals = reveals ||
                  (json_is_string(raw_type) &&
                   redact_text_reveals(json_string_value(raw_type), credentials)) ||
                  (json_is_string(raw_message) &&
                   redact_text_reveals(json_string_value(raw_message), credentials));
        if (json_is_string(raw_type))
            aws_error_type_name(json_string_value(raw_type), type, sizeof type);
        if (json_is_string(raw_message))
            provider_sanitize_text(message, sizeof message, json_string_value(raw_message),
                                   json_string_length(raw_message));
    } else if (!body && strlen(resp->body) == resp->body_len) {
        char raw_type[96];
        if (aws_xml_element_text(resp->body, "Code", raw_type, sizeof raw_type))
            aws_error_type_name(raw_type, type, sizeof type);
        aws_xml_element_text(resp->body, "Message", message, sizeof message);
    }
    secure_json_wipe(body);
    json_decref(body);

    enum agyn_code code = aws_error_code(type, resp->status);
    /* An answer that echoes a credential is dropped whole (type and message). */
    if (reveals || redact_text_reveals(type, credentials) ||
        redact_text_reveals(message, credentials)) {
        OPENSSL_cleanse(type, sizeof type);
        OPENSSL_cleanse(message, sizeof message);
        return agyn_fail(err, code, "",
                         "%s: %ld: %s (AWS's message withheld: it contains a credential)", AWS_TYPE,
                         resp->status, provider_status_text(resp->status));
    }
    if (type[0] && message[0])
        agyn_fail(err, code, "", "%s: %s: %s", AWS_TYPE, type, message);
    else if (type[0] || message[0])
        agyn_fail(err, code, "", "%s: %ld: %s", AWS_TYPE, resp->status, type[0] ? type : message);
    else
        agyn_fail(err, code, "", "%s: %ld: unexpected response (no AWS error in body)", AWS_TYPE,
                  resp->status);
    return -1;
}

/* Picks the string field key out of a SecretString holding a JSON object. */
static int aws_select_json_key(const char *secret_string, const char *shown_id, const char *key,
                               char **value_out, struct agyn_error *err) {
    json_t *document = json_loads(secret_string, 0, NULL);
    int rc = -1;
    json_t *value = json_object_get(document, key);
    if (!json_is_object(document))
        agyn_fail(err, AGYN_UNPROCESSABLE, "",
                  "%s: the SecretString of \"%s\" is not a JSON object, so \"#%s\" cannot "
                  "select a key",
                  AWS_TYPE, shown_id, key);
    else if (!value)
        agyn_fail(err, AGYN_NOT_FOUND, "", "%s: key \"%s\" not found in secret \"%s\"", AWS_TYPE,
                  key, shown_id);
    else if (!json_is_string(value))
        agyn_fail(err, AGYN_UNPROCESSABLE, "", "%s: key \"%s\" in secret \"%s\" is not a string",
                  AWS_TYPE, key, shown_id);
    else {
        *value_out = xstrdup(json_string_value(value));
        rc = 0;
    }
    secure_json_wipe(document);
    json_decref(document);
    return rc;
}

int aws_error_from_answer(long status, const char *body, size_t len, const char *secret_access_key,
                          struct agyn_error *err) {
    struct aws_settings settings = {.secret_access_key = secret_access_key};
    struct provider_http_response resp = {.status = status, .body = (char *)body, .body_len = len};
    return aws_status_error(&settings, &resp, err);
}

int aws_secret_from_answer(const char *body, size_t len, const char *shown_id, const char *json_key,
                           char **value_out, struct agyn_error *err) {
    *value_out = NULL;
    int rc = -1;
    json_t *answer = json_loadb(body ? body : "", body ? len : 0, 0, NULL);
    json_t *secret_string = json_object_get(answer, "SecretString");
    if (!json_is_object(answer))
        agyn_fail(err, AGYN_UNAVAILABLE, "", "%s: 200: unexpected response (not a JSON object)",
                  AWS_TYPE);
    else if (!json_is_string(secret_string) && json_object_get(answer, "SecretBinary"))
        agyn_fail(err, AGYN_UNPROCESSABLE, "",
                  "%s: secret \"%s\" holds binary data (SecretBinary); only SecretString "
                  "is supported",
                  AWS_TYPE, shown_id);
    else if (!json_is_string(secret_string))
        agyn_fail(err, AGYN_UNAVAILABLE, "", "%s: 200: response for \"%s\" has no SecretString",
                  AWS_TYPE, shown_id);
    else if (json_key)
        rc = aws_select_json_key(json_string_value(secret_string), shown_id, json_key, value_out,
                                 err);
    else {
        *value_out = xstrdup(json_string_value(secret_string));
        rc = 0;
    }
    secure_json_wipe(answer);
    json_decref(answer);
    return rc;
}

static int aws_resolve(const json_t *config, const char *remote_path, char **value_out,
                       struct agyn_error *err) {
    *value_out = NULL;
    struct aws_settings settings;
    if (aws_read_config(config, &settings, err) != 0 ||
        aws_validate_path(remote_path, "remote_path", err) != 0)
        return -1;
    char *secret_id = xstrdup(remote_path);
    char *hash = strchr(secret_id, '#');
    const char *json_key = NULL;
    if (hash) {
        *hash = '\0';
        json_key = hash + 1;
    }
    char shown_id[256];
    provider_sanitize_text(shown_id, sizeof shown_id, secret_id, strlen(secret_id));

    int rc = -1;
    struct provider_http_response resp = {0};
    json_t *request = json_pack("{s:s}", "SecretId", secret_id); /* never NULL: s is a string */
    char *body = json_dumps(request, JSON_COMPACT);
    if (aws_call(&settings, "GetSecretValue", body, &resp, err) != 0)
        goto done;
    if (resp.status != 200) {
        aws_status_error(&settings, &resp, err);
        goto done;
    }
    if (aws_secret_from_answer(resp.body, resp.body_len, shown_id, json_key, value_out, err) != 0)
        goto done;
    rc = 0;
done:
    provider_http_response_free(&resp);
    free(body);
    json_decref(request);
    free(secret_id);
    return rc;
}

static int aws_test(const json_t *config, struct agyn_error *err) {
    struct aws_settings settings;
    if (aws_read_config(config, &settings, err) != 0)
        return -1;
    struct provider_http_response resp = {0};
    int rc = -1;
    if (aws_call(&settings, "ListSecrets", "{\"MaxResults\":1}", &resp, err) != 0)
        goto done;
    if (resp.status != 200) {
        aws_status_error(&settings, &resp, err);
        goto done;
    }
    json_t *answer = json_loadb(resp.body, resp.body_len, 0, NULL);
    bool looks_right = json_is_object(answer);
    json_decref(answer);
    if (!looks_right) {
        agyn_fail(err, AGYN_UNAVAILABLE, "", "%s: 200: unexpected response (not a JSON object)",
                  AWS_TYPE);
        goto done;
    }
    rc = 0;
done:
    provider_http_response_free(&resp);
    return rc;
}

const struct provider_backend aws_secrets_manager_backend = {
    .type = AWS_TYPE,
    .secret_fields = aws_secret_fields,
    .destination_fields = aws_destination_fields,
    .validate_config = aws_validate_config,
    .validate_path = aws_validate_path,
    .resolve = aws_resolve,
    .test = aws_test,
    .registry_login = aws_ecr_registry_login,
};
