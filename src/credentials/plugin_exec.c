/* plugin_exec.c — running one credential-provider plugin process: posix_spawn (no shell) of the
 * configured executable with the configured argv and environment only, in its own process
 * group, every other descriptor closed; the request on stdin; stdout (at most 1 MiB) and the
 * head of stderr collected; the whole process group killed when the timeout passes and after
 * the plugin exits (so nothing it started outlives it). */
#include "credentials/plugin_exec.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "core/dynbuf.h"
#include "core/secure_mem.h"

#define STDOUT_LIMIT ((size_t)1024 * 1024)

/* Keeps the head of a stream: what passes the buffer's limit is dropped and noted. */
struct sink {
    struct dynbuf kept; /* wiping: stdout holds credentials */
    bool overflow;
};

static void sink_append(struct sink *sink, const char *bytes, size_t len) {
    size_t room = sink->kept.limit - sink->kept.len;
    if (len > room) {
        sink->overflow = true;
        len = room;
    }
    if (len > 0)
        dynbuf_add(&sink->kept, bytes, len);
}

/* The kept bytes (malloc'd, NULL when none) and their length. */
static char *sink_take(struct sink *sink, size_t *len_out) {
    *len_out = sink->kept.len;
    if (sink->kept.len == 0) {
        dynbuf_free(&sink->kept);
        return NULL;
    }
    return dynbuf_take(&sink->kept);
}

static void close_pipe(int fds[2]) {
    for (int i = 0; i < 2; i++)
        if (fds[i] >= 0)
            close(fds[i]);
}

int plugin_exec_run(const char *path, char *const argv[], char *const envp[], const char *input,
                    long long timeout_ms, struct plugin_exec_result *out, struct agyn_error *err) {
    memset(out, 0, sizeof *out);
    int in[2] = {-1, -1}, so[2] = {-1, -1}, se[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(so, O_CLOEXEC) != 0 || pipe2(se, O_CLOEXEC) != 0) {
        int saved = errno;
        close_pipe(in), close_pipe(so), close_pipe(se);
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "cannot create pipes: %s", strerror(saved));
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, so[1], 1);
    posix_spawn_file_actions_adddup2(&actions, se[1], 2);
    posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    sigset_t no_signals, default_signals;
    sigemptyset(&no_signals);
    sigfillset(&default_signals);
    posix_spawnattr_setsigmask(&attr, &no_signals); /* agynd blocks SIGTERM in its threads */
    posix_spawnattr_setsigdefault(&attr, &default_signals);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    pid_t pid = -1;
    int spawned = posix_spawn(&pid, path, &actions, &attr, argv, envp);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(in[0]), close(so[1]), close(se[1]);
    if (spawned != 0) {
        close(in[1]), close(so[0]), close(se[0]);
        return agyn_fail(err, AGYN_UNAVAILABLE, "", "cannot start %s: %s", path, strerror(spawned));
    }

    /* The request is small (an image name): one non-blocking write fits the pipe. A plugin that
     * exits without reading makes it fail with EPIPE (agynd ignores SIGPIPE). */
    size_t input_len = strlen(input);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    ssize_t written = write(in[1], input, input_len);
    (void)written;
    close(in[1]);

    struct sink stdout_sink = {0}, stderr_sink = {0};
    dynbuf_init(&stdout_sink.kept, STDOUT_LIMIT, false);
    dynbuf_init(&stderr_sink.kept, PLUGIN_STDERR_KEPT, false);
    int64_t deadline = clock_monotonic_ms() + timeout_ms;
    struct pollfd fds[2] = {{so[0], POLLIN, 0}, {se[0], POLLIN, 0}};
    int open_count = 2;
    while (open_count > 0) {
        int64_t left = deadline - clock_monotonic_ms();
        if (left <= 0) {
            out->timed_out = true;
            break;
        }
        int ready = poll(fds, 2, (int)(left > 1000 ? 1000 : left));
        if (ready < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2 && ready > 0; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                sink_append(i == 0 ? &stdout_sink : &stderr_sink, buf, (size_t)n);
            } else if (n == 0 || errno != EINTR) {
                close(fds[i].fd);
                fds[i].fd = -1;
                open_count--;
            }
            secure_wipe(buf, sizeof buf);
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);

    /* Wait for the plugin itself (until the deadline), then end its whole group. */
    int status = 0;
    pid_t waited = 0;
    while (!out->timed_out && (waited = waitpid(pid, &status, WNOHANG)) == 0) {
        if (clock_monotonic_ms() >= deadline) {
            out->timed_out = true;
            break;
        }
        usleep(10000);
    }
    kill(-pid, SIGKILL);
    if (waited != pid)
        waitpid(pid, &status, 0);
    out->exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    out->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    out->stdout_text = sink_take(&stdout_sink, &out->stdout_len);
    out->stdout_too_large = stdout_sink.overflow;
    out->stderr_text = sink_take(&stderr_sink, &out->stderr_len);
    return 0;
}

void plugin_exec_result_free(struct plugin_exec_result *result) {
    secure_free(result->stdout_text);
    secure_free(result->stderr_text);
    memset(result, 0, sizeof *result);
}
