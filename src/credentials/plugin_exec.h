/* plugin_exec.h — running one credential-provider plugin process with a request on stdin and a
 * timeout (see plugin_exec.c). Internal to src/credentials. */
#ifndef AGYN_CREDENTIALS_PLUGIN_EXEC_H
#define AGYN_CREDENTIALS_PLUGIN_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

#define PLUGIN_STDERR_KEPT 2048

struct plugin_exec_result {
    bool timed_out;
    int exit_code; /* -1 when killed by a signal */
    int signal;
    char *stdout_text; /* NULL when nothing was written; wiped on free */
    size_t stdout_len;
    bool stdout_too_large;
    char *stderr_text; /* the first PLUGIN_STDERR_KEPT bytes, NULL when none */
    size_t stderr_len;
};

/* Runs path with argv and envp (no shell), input on stdin. Returns -1 only when the process
 * could not be started; a timeout or an exit status is reported in out. */
int plugin_exec_run(const char *path, char *const argv[], char *const envp[], const char *input,
                    long long timeout_ms, struct plugin_exec_result *out, struct agyn_error *err);
void plugin_exec_result_free(struct plugin_exec_result *result);

#endif
