/* api.c — see api.h. */
#include "terraform/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/row.h"
#include "base/wiping_alloc.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"

#define API_TIMEOUT_SECONDS 30L
#define API_MAX_RESPONSE (64L * 1024 * 1024)

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *base_url;
static char *token;

struct org_cache_entry {
    char key[160];
    char org[64];
    struct org_cache_entry *next;
};
static struct org_cache_entry *org_cache;

void api_configure(const char *url, const char *tok) {
    pthread_mutex_lock(&lock);
    free(base_url);
    secure_free(token);
    base_url = xstrdup(url);
    size_t n = strlen(base_url);
    while (n > 0 && base_url[n - 1] == '/')
        base_url[--n] = '\0';
    token = tok && *tok ? xstrdup(tok) : NULL;
    pthread_mutex_unlock(&lock);
}

bool api_configured(void) {
    pthread_mutex_lock(&lock);
    bool ok = base_url != NULL;
    pthread_mutex_unlock(&lock);
    return ok;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata) {
    size_t n = size * nmemb;
    return dynbuf_add(userdata, ptr, n) == 0 ? n : 0; /* 0 stops the transfer */
}

bool api_ok(const struct api_result *r) {
    return r->status >= 200 && r->status < 300;
}

void api_result_free(struct api_result *r) {
    json_decref(r->body);
    r->body = NULL;
}

int api_call(const char *method, const char *path, json_t *body, struct api_result *r) {
    memset(r, 0, sizeof *r);
    pthread_mutex_lock(&lock);
    if (!base_url) {
        pthread_mutex_unlock(&lock);
        snprintf(r->message, sizeof r->message, "the provider is not configured (api_url)");
        return -1;
    }
    char *url = xasprintf("%s%s", base_url, path);
    char *auth = token ? xasprintf("Authorization: Bearer %s", token) : NULL;
    pthread_mutex_unlock(&lock);

    CURL *curl = curl_easy_init();
    if (!curl)
        out_of_memory(0); /* curl_easy_init fails only when memory runs out */
    struct curl_slist *headers = NULL;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (auth)
        headers = curl_slist_append(headers, auth);
    char *payload = NULL;
    if (body) {
        payload = json_dumps(body, JSON_COMPACT);
        headers = curl_slist_append(headers, "Content-Type: application/json");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(payload));
    }
    struct dynbuf resp; /* wiping: answers may hold credentials */
    dynbuf_init(&resp, (size_t)API_MAX_RESPONSE, false);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "GET") == 0 && !body)
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, API_TIMEOUT_SECONDS);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "terraform-provider-agyn");
    CURLcode rc = curl_easy_perform(curl);
    int result = 0;
    if (rc != CURLE_OK) {
        snprintf(r->message, sizeof r->message, "%s %s: %s", method, url, curl_easy_strerror(rc));
        result = -1;
    } else {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
        if (resp.len > 0)
            r->body = json_loadb(resp.data, resp.len, 0, NULL);
        if (!api_ok(r)) {
            json_t *err = json_object_get(r->body, "error");
            const char *code = row_text(err, "code");
            const char *message = row_text(err, "message");
            const char *field = row_text(err, "field");
            snprintf(r->code, sizeof r->code, "%s", code ? code : "");
            if (message)
                snprintf(r->message, sizeof r->message, "%s", message);
            else
                snprintf(r->message, sizeof r->message, "%s %s answered HTTP %ld%s%.200s", method,
                         path, r->status, resp.len ? ": " : "", resp.data ? resp.data : "");
            snprintf(r->field, sizeof r->field, "%s", field ? field : "");
            /* A conflict listing referrers carries them in error.details or similar: keep
             * the message as the API wrote it. */
        }
    }
    secure_free(payload);
    dynbuf_free(&resp);
    secure_slist_free(headers); /* the Authorization line holds the token */
    curl_easy_cleanup(curl);
    secure_free(auth);
    free(url);
    return result;
}

static bool cache_get(const char *key, char org_out[64]) {
    bool found = false;
    pthread_mutex_lock(&lock);
    for (struct org_cache_entry *e = org_cache; e; e = e->next) {
        if (strcmp(e->key, key) == 0) {
            memcpy(org_out, e->org, 64);
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&lock);
    return found;
}

static void cache_put(const char *key, const char *org) {
    struct org_cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        return;
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->org, sizeof e->org, "%s", org);
    pthread_mutex_lock(&lock);
    e->next = org_cache;
    org_cache = e;
    pthread_mutex_unlock(&lock);
}

/* 0 found, 1 not there, -1 error. */
static int probe(const char *org, const char *collection, const char *id, struct api_result *r) {
    char path[512];
    snprintf(path, sizeof path, "/api/v1/organizations/%s/%s/%s", org, collection, id);
    struct api_result probe_result;
    if (api_call("GET", path, NULL, &probe_result) != 0) {
        *r = probe_result;
        return -1;
    }
    int rc = api_ok(&probe_result)                                        ? 0
             : (probe_result.status == 404 || probe_result.status == 403) ? 1
                                                                          : -1;
    if (rc == -1)
        *r = probe_result;
    else
        api_result_free(&probe_result);
    return rc;
}

int api_find_org(const char *collection, const char *id, char org_out[64], struct api_result *r) {
    memset(r, 0, sizeof *r);
    char key[160];
    snprintf(key, sizeof key, "%s/%s", collection, id);
    if (cache_get(key, org_out))
        return 0;
    struct api_result me;
    if (api_call("GET", "/api/v1/me", NULL, &me) != 0) {
        *r = me;
        return -1;
    }
    if (!api_ok(&me)) {
        *r = me;
        return -1;
    }
    const char *own = row_text(me.body, "organization_id");
    if (own) {
        snprintf(org_out, 64, "%s", own);
        api_result_free(&me);
        int rc = probe(org_out, collection, id, r);
        if (rc == 0)
            cache_put(key, org_out);
        return rc;
    }
    api_result_free(&me);
    /* The server-admin token: look in every organization. */
    char page_token[64] = "";
    for (int pages = 0; pages < 1000; pages++) {
        char path[256];
        snprintf(path, sizeof path, "/api/v1/organizations?page_size=100%s%s",
                 page_token[0] ? "&page_token=" : "", page_token);
        struct api_result list;
        if (api_call("GET", path, NULL, &list) != 0 || !api_ok(&list)) {
            *r = list;
            return -1;
        }
        size_t i;
        json_t *org;
        json_array_foreach(json_object_get(list.body, "items"), i, org) {
            const char *org_id = row_text(org, "id");
            if (!org_id)
                continue;
            int rc = probe(org_id, collection, id, r);
            if (rc == 0) {
                snprintf(org_out, 64, "%s", org_id);
                cache_put(key, org_out);
                api_result_free(&list);
                return 0;
            }
            if (rc < 0) {
                api_result_free(&list);
                return -1;
            }
        }
        const char *next = row_text(list.body, "next_page_token");
        snprintf(page_token, sizeof page_token, "%s", next ? next : "");
        api_result_free(&list);
        if (!page_token[0])
            break;
    }
    return 1;
}
