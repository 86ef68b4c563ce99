/* log.c — logfmt lines on standard error, one write(2) per line so lines never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

void log_event(const char *level, const char *msg, const char *fmt, ...) {
    char line[4096];
    char now[RFC3339_LEN];
    clock_now_rfc3339(now);
    int len = snprintf(line, sizeof line, "ts=%s level=%s msg=\"%s\"", now, level, msg);
    if (fmt && *fmt && len > 0 && (size_t)len < sizeof line - 2) {
        line[len++] = ' ';
        va_list ap;
        va_start(ap, fmt);
        int more = vsnprintf(line + len, sizeof line - (size_t)len - 1, fmt, ap);
        va_end(ap);
        if (more > 0)
            len += more;
    }
    if (len < 0)
        return;
    if ((size_t)len > sizeof line - 2)
        len = (int)sizeof line - 2;
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, (size_t)len);
    (void)ignored;
}
