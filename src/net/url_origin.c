/* url_origin.c — origins of URLs and the same-origin rule (url_origin.h). */
#include "net/url_origin.h"

#include <stdio.h>
#include <strings.h>

#include <curl/curl.h>

void url_origin(const char *url, char *out, size_t size) {
    snprintf(out, size, "(invalid URL)");
    CURLU *parsed = curl_url();
    if (!parsed)
        return;
    char *scheme = NULL;
    char *host = NULL;
    char *port = NULL;
    if (curl_url_set(parsed, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(parsed, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        if (curl_url_get(parsed, CURLUPART_PORT, &port, 0) == CURLUE_OK)
            snprintf(out, size, "%s://%s:%s", scheme, host, port);
        else
            snprintf(out, size, "%s://%s", scheme, host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(parsed);
}

bool url_same_origin(const char *a, const char *b) {
    CURLU *ua = curl_url();
    CURLU *ub = curl_url();
    bool same = false;
    char *parts[2][3] = {{NULL, NULL, NULL}, {NULL, NULL, NULL}};
    const CURLUPart which[3] = {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT};
    if (ua && ub && curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
        curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK) {
        same = true;
        for (int i = 0; i < 3; i++) {
            if (curl_url_get(ua, which[i], &parts[0][i], CURLU_DEFAULT_PORT) != CURLUE_OK ||
                curl_url_get(ub, which[i], &parts[1][i], CURLU_DEFAULT_PORT) != CURLUE_OK ||
                strcasecmp(parts[0][i], parts[1][i]) != 0)
                same = false;
        }
    }
    for (int i = 0; i < 3; i++) {
        curl_free(parts[0][i]);
        curl_free(parts[1][i]);
    }
    curl_url_cleanup(ua);
    curl_url_cleanup(ub);
    return same;
}
