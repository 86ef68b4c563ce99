/* log.h — structured log lines (logfmt) on standard error: ts, level, msg, then key=value
 * pairs. Only top-level code logs; values passed here must never be secrets. */
#ifndef AGYN_CORE_LOG_H
#define AGYN_CORE_LOG_H

/* log_event("info", "request", "request_id=%s status=%d", ...) */
void log_event(const char *level, const char *msg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
