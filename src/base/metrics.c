/* metrics.c — a fixed table of metric series behind one mutex, rendered as Prometheus text. */
#include "base/metrics.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dynbuf.h"

#define MAX_SERIES 1024
#define MAX_DESCRIPTIONS 64

static const double BUCKETS[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};
#define BUCKET_COUNT (sizeof BUCKETS / sizeof BUCKETS[0])

struct series {
    char name[64];
    char labels[256];
    int histogram;
    double value; /* counter value, or histogram sum */
    unsigned long long count;
    unsigned long long buckets[BUCKET_COUNT];
};

struct description {
    char name[64];
    char type[16];
    char help[200];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct series table[MAX_SERIES];
static size_t series_count;
static struct description descriptions[MAX_DESCRIPTIONS];
static size_t description_count;

void metrics_describe(const char *name, const char *type, const char *help) {
    pthread_mutex_lock(&lock);
    for (size_t i = 0; i < description_count; i++)
        if (strcmp(descriptions[i].name, name) == 0) {
            pthread_mutex_unlock(&lock);
            return;
        }
    if (description_count < MAX_DESCRIPTIONS) {
        struct description *d = &descriptions[description_count++];
        snprintf(d->name, sizeof d->name, "%s", name);
        snprintf(d->type, sizeof d->type, "%s", type);
        snprintf(d->help, sizeof d->help, "%s", help);
    }
    pthread_mutex_unlock(&lock);
}

/* Open-addressing index from (name, labels) to a series, so a counter bump on every request
 * is a hash and one or two comparisons. INDEX_SIZE is a power of two above MAX_SERIES. */
#define INDEX_SIZE 2048
static int16_t index_slots[INDEX_SIZE]; /* series number + 1, 0 = empty */

static uint32_t series_hash(const char *name, const char *labels) {
    uint32_t h = 2166136261u; /* FNV-1a */
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    h = (h ^ 0xff) * 16777619u;
    for (const char *p = labels; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return h;
}

/* Called with lock held. */
static struct series *find(const char *name, const char *labels, int histogram) {
    uint32_t slot = series_hash(name, labels) & (INDEX_SIZE - 1);
    for (; index_slots[slot]; slot = (slot + 1) & (INDEX_SIZE - 1)) {
        struct series *s = &table[index_slots[slot] - 1];
        if (strcmp(s->name, name) == 0 && strcmp(s->labels, labels) == 0)
            return s;
    }
    if (series_count == MAX_SERIES)
        return NULL;
    index_slots[slot] = (int16_t)(series_count + 1);
    struct series *s = &table[series_count++];
    snprintf(s->name, sizeof s->name, "%s", name);
    snprintf(s->labels, sizeof s->labels, "%s", labels ? labels : "");
    s->histogram = histogram;
    return s;
}

void metrics_add(const char *name, const char *labels, double value) {
    pthread_mutex_lock(&lock);
    struct series *s = find(name, labels ? labels : "", 0);
    if (s)
        s->value += value;
    pthread_mutex_unlock(&lock);
}

void metrics_observe(const char *name, const char *labels, double seconds) {
    pthread_mutex_lock(&lock);
    struct series *s = find(name, labels ? labels : "", 1);
    if (s) {
        s->value += seconds;
        s->count++;
        for (size_t b = 0; b < BUCKET_COUNT; b++)
            if (seconds <= BUCKETS[b])
                s->buckets[b]++;
    }
    pthread_mutex_unlock(&lock);
}

void metrics_escape(const char *value, char *out, size_t size) {
    size_t o = 0;
    for (const char *p = value; *p && o + 3 < size; p++) {
        if (*p == '"' || *p == '\\')
            out[o++] = '\\', out[o++] = *p;
        else if (*p == '\n')
            out[o++] = '\\', out[o++] = 'n';
        else
            out[o++] = *p;
    }
    out[o] = '\0';
}

static void render_series(struct dynbuf *t, const struct series *s) {
    const char *sep = s->labels[0] ? "," : "";
    if (!s->histogram) {
        dynbuf_addf(t, "%s%s%s%s %.17g\n", s->name, s->labels[0] ? "{" : "", s->labels,
                    s->labels[0] ? "}" : "", s->value);
        return;
    }
    for (size_t b = 0; b < BUCKET_COUNT; b++)
        dynbuf_addf(t, "%s_bucket{%s%sle=\"%g\"} %llu\n", s->name, s->labels, sep, BUCKETS[b],
                    s->buckets[b]);
    dynbuf_addf(t, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", s->name, s->labels, sep, s->count);
    dynbuf_addf(t, "%s_sum%s%s%s %.17g\n", s->name, s->labels[0] ? "{" : "", s->labels,
                s->labels[0] ? "}" : "", s->value);
    dynbuf_addf(t, "%s_count%s%s%s %llu\n", s->name, s->labels[0] ? "{" : "", s->labels,
                s->labels[0] ? "}" : "", s->count);
}

char *metrics_render(size_t *len_out) {
    struct dynbuf t;
    dynbuf_init(&t, 0, true); /* names, labels and numbers: nothing secret */
    pthread_mutex_lock(&lock);
    for (size_t d = 0; d < description_count; d++) {
        dynbuf_addf(&t, "# HELP %s %s\n# TYPE %s %s\n", descriptions[d].name, descriptions[d].help,
                    descriptions[d].name, descriptions[d].type);
        for (size_t i = 0; i < series_count; i++)
            if (strcmp(table[i].name, descriptions[d].name) == 0)
                render_series(&t, &table[i]);
    }
    pthread_mutex_unlock(&lock);
    *len_out = t.len;
    return dynbuf_take(&t);
}
