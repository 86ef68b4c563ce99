/* h_metrics.c — GET /metrics: Prometheus text. Counters kept in-process (pulls, bytes, pull
 * durations, credential resolutions, HTTP requests) plus workloads by status read from the
 * store at scrape time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/handlers.h"
#include "base/metrics.h"
#include "store/tables.h"

HANDLER(h_metrics) {
    size_t len = 0;
    char *counters = metrics_render(&len);
    static const char *const statuses[] = {"starting", "running", "stopping", "stopped", "failed"};
    char gauges[1024];
    size_t g = (size_t)snprintf(gauges, sizeof gauges,
                                "# HELP agyn_workloads Workloads by status.\n"
                                "# TYPE agyn_workloads gauge\n");
    for (size_t i = 0; i < 5; i++) {
        struct store_filter filter = {"status", statuses[i]};
        struct store_query query = {.filters = &filter, .filter_count = 1};
        long long count = 0;
        if (store_count(req->app->store, &TABLE_WORKLOADS, &query, &count, err) != 0) {
            free(counters);
            return -1;
        }
        g += (size_t)snprintf(gauges + g, sizeof gauges - g, "agyn_workloads{status=\"%s\"} %lld\n",
                              statuses[i], count);
    }
    char *body = malloc(len + g + 1);
    memcpy(body, counters ? counters : "", len);
    memcpy(body + len, gauges, g + 1);
    free(counters);
    res->status = 200;
    res->body = body;
    res->body_len = len + g;
    res->content_type = "text/plain; version=0.0.4";
    return 0;
}
