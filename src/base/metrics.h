/* metrics.h — process-wide Prometheus counters and histograms, keyed by metric name and a
 * label string ("route=\"/x\",status=\"200\""). Label values must never hold secrets. */
#ifndef AGYN_BASE_METRICS_H
#define AGYN_BASE_METRICS_H

#include <stddef.h>

/* Registers help text and type ("counter", "histogram", "gauge") for a metric name. */
void metrics_describe(const char *name, const char *type, const char *help);
void metrics_add(const char *name, const char *labels, double value);
/* Histogram observation in seconds (buckets 0.05 .. 300 s). */
void metrics_observe(const char *name, const char *labels, double seconds);
/* Appends the exposition text to a malloc'd buffer; *len_out gets its length. */
char *metrics_render(size_t *len_out);
/* Escapes a label value for the exposition format into out. */
void metrics_escape(const char *value, char *out, size_t size);

#endif
