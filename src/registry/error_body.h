/* error_body.h — turning a registry's error response into text for people: the distribution
 * {"errors":[{"code","message"}]} body becomes "unauthorized: authentication required" (codes
 * lower-cased, several joined by "; "), other JSON shapes and plain-text bodies are used
 * trimmed, and an empty or HTML body becomes "HTTP 401 Unauthorized". Bodies are hostile:
 * the text is bounded, valid UTF-8 and free of control characters. */
#ifndef AGYN_REGISTRY_ERROR_BODY_H
#define AGYN_REGISTRY_ERROR_BODY_H

#include <stdbool.h>
#include <stddef.h>

#define REGISTRY_ERROR_TEXT_MAX 512
#define REGISTRY_ERROR_CODES_MAX 4

struct registry_error_info {
    char text[REGISTRY_ERROR_TEXT_MAX];
    char codes[REGISTRY_ERROR_CODES_MAX][48]; /* as sent, e.g. "MANIFEST_UNKNOWN" */
    int code_count;
};

void registry_error_describe(long status, const char *body, size_t body_len,
                             struct registry_error_info *out);
bool registry_error_has_code(const struct registry_error_info *info, const char *code);
/* "Unauthorized" for 401, "" when unknown. */
const char *http_status_reason(long status);

#endif
