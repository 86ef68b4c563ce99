/* api.c — the provider's side of the shared API client (client/client.h): the configured URL
 * and token, taken under a lock for each call, answers in the provider's api_result shape, and
 * the organization of an object found and cached. */
#include "terraform/api.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "core/row.h"
#include "core/secure_mem.h"
#include "core/xalloc.h"

#define API_TIMEOUT_SECONDS 30L

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

bool api_ok(const struct api_result *r) {
    return client_status_ok(r->status);
}

void api_result_free(struct api_result *r) {
    json_decref(r->body);
    r->body = NULL;
}

/* Copies the configured URL and token (the caller wipes and frees both with drop_settings);
 * false when the provider is not configured (r->message says so). */
static bool take_settings(char **url, char **tok, struct api_result *r) {
    pthread_mutex_lock(&lock);
    bool configured = base_url != NULL;
    *url = configured ? xstrdup(base_url) : NULL;
    *tok = configured && token ? xstrdup(token) : NULL;
    pthread_mutex_unlock(&lock);
    if (!configured)
        snprintf(r->message, sizeof r->message, "the provider is not configured (api_url)");
    return configured;
}

static void drop_settings(char *url, char *tok) {
    free(url);
    secure_free(tok);
}

/* The shared client for one call: a handle of its own (calls run on several threads). */
static struct agyn_client client_for(const char *url, const char *tok) {
    return (struct agyn_client){.base_url = url,
                                .token = tok,
                                .user_agent = "terraform-provider-agyn",
                                .timeout_seconds = API_TIMEOUT_SECONDS};
}

/* Fills r from what the shared client returned (status -1: err says why no answer came). */
static int to_result(int status, struct client_answer *answer, const struct agyn_error *err,
                     const char *method, const char *url, const char *path, struct api_result *r) {
    if (status < 0) {
        snprintf(r->message, sizeof r->message, "%s %s%s: %s", method, url, path, err->message);
        return -1;
    }
    r->status = status;
    r->body = json_incref(answer->body);
    if (!api_ok(r)) {
        snprintf(r->code, sizeof r->code, "%s", answer->error.code);
        snprintf(r->field, sizeof r->field, "%s", answer->error.field);
        snprintf(r->message, sizeof r->message, "%s", answer->error.message);
    }
    client_answer_free(answer);
    return 0;
}

int api_call(const char *method, const char *path, json_t *body, struct api_result *r) {
    memset(r, 0, sizeof *r);
    char *url, *tok;
    if (!take_settings(&url, &tok, r))
        return -1;
    struct agyn_client client = client_for(url, tok);
    struct client_answer answer;
    struct agyn_error err = {0};
    int status = client_call(&client, method, path, body, &answer, &err);
    int rc = to_result(status, &answer, &err, method, url, path, r);
    drop_settings(url, tok);
    return rc;
}

/* Every organization visible to the token, as an array (caller owns); NULL with r set. */
static json_t *list_organizations(struct api_result *r) {
    const char *path = "/api/v1/organizations";
    char *url, *tok;
    if (!take_settings(&url, &tok, r))
        return NULL;
    struct agyn_client client = client_for(url, tok);
    json_t *items = NULL;
    struct client_answer failed;
    struct agyn_error err = {0};
    int status = client_list_all(&client, path, &items, &failed, &err);
    if (status < 0 || !client_status_ok(status)) {
        to_result(status, &failed, &err, "GET", url, path, r);
        items = NULL;
    }
    drop_settings(url, tok);
    return items;
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
    struct org_cache_entry *e = xcalloc(1, sizeof *e);
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
    json_t *orgs = list_organizations(r);
    if (!orgs)
        return -1;
    size_t i;
    json_t *org;
    json_array_foreach(orgs, i, org) {
        const char *org_id = row_text(org, "id");
        if (!org_id)
            continue;
        int rc = probe(org_id, collection, id, r);
        if (rc == 0) {
            snprintf(org_out, 64, "%s", org_id);
            cache_put(key, org_out);
        }
        if (rc <= 0) {
            json_decref(orgs);
            return rc;
        }
    }
    json_decref(orgs);
    return 1;
}
