/* secret_input.c — reading write-only values (passwords, secret values, provider credentials)
 * from stdin or a file, so they stay out of the process list and the shell history. A terminal
 * on stdin gets a prompt with echo off. Buffers are wiped when freed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/dynbuf.h"
#include "core/secure_mem.h"
#include "cli/cli.h"

#define SECRET_MAX (1024 * 1024)

void secret_free(char *value) {
    secure_free(value);
}

/* Reads fd to its end (or, with one_line, to the first newline) with read(2), so no stdio
 * buffer keeps a copy; at most SECRET_MAX bytes. Drops one trailing "\n" or "\r\n". */
static char *read_fd(int fd, bool one_line, const char *what) {
    struct dynbuf buf;
    dynbuf_init(&buf, SECRET_MAX - 1, false);
    char chunk[4096];
    const char *problem = NULL;
    for (;;) {
        ssize_t n = read(fd, chunk, one_line ? 1 : sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            fprintf(stderr, "agyn: cannot read %s: %s\n", what, strerror(errno));
            problem = "read";
            break;
        }
        if (n == 0)
            break;
        if (dynbuf_add(&buf, chunk, (size_t)n) != 0) {
            fprintf(stderr, "agyn: %s is larger than %d bytes\n", what, SECRET_MAX);
            problem = "size";
            break;
        }
        if (one_line && chunk[n - 1] == '\n')
            break;
    }
    secure_wipe(chunk, sizeof chunk);
    size_t len = buf.len;
    char *text = problem ? NULL : dynbuf_take(&buf);
    dynbuf_free(&buf);
    if (!text)
        return NULL;
    if (len > 0 && text[len - 1] == '\n')
        text[--len] = '\0';
    if (len > 0 && text[len - 1] == '\r')
        text[--len] = '\0';
    if (strlen(text) != len) {
        fprintf(stderr, "agyn: %s contains a NUL byte\n", what);
        secure_free(text);
        return NULL;
    }
    return text;
}

static char *read_terminal(const char *prompt) {
    struct termios saved, quiet;
    bool restore = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        quiet = saved;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    fprintf(stderr, "%s: ", prompt);
    fflush(stderr);
    char *line = read_fd(STDIN_FILENO, true, "the terminal");
    if (restore)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fputc('\n', stderr);
    return line;
}

char *secret_read_stdin(const char *prompt) {
    if (isatty(STDIN_FILENO))
        return read_terminal(prompt);
    return read_fd(STDIN_FILENO, false, "stdin");
}

char *secret_read_file(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "agyn: cannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    char *value = read_fd(fd, false, path);
    close(fd);
    return value;
}

int secret_flag(const struct args *a, const char *prefix, bool inline_allowed, const char *field,
                const char *where, json_t *body) {
    char stdin_flag[64], file_flag[64];
    snprintf(stdin_flag, sizeof stdin_flag, "%s-stdin", prefix);
    snprintf(file_flag, sizeof file_flag, "%s-file", prefix);
    const char *file = args_get(a, file_flag);
    const char *given = inline_allowed ? args_get(a, prefix) : NULL;
    int count = args_has(a, stdin_flag) + (file != NULL) + (given != NULL);
    if (count == 0)
        return 0;
    if (count > 1)
        return -usage_error(where, "give only one of --%s, --%s%s%s", stdin_flag, file_flag,
                            inline_allowed ? " or --" : "", inline_allowed ? prefix : "");
    char prompt[64];
    snprintf(prompt, sizeof prompt, "%s", prefix);
    for (char *p = prompt; *p; p++)
        if (*p == '-')
            *p = ' ';
    char *value = given ? strdup(given) : file ? secret_read_file(file) : secret_read_stdin(prompt);
    if (!value)
        return -CLI_FAIL;
    json_t *text = json_string(value);
    secret_free(value);
    if (!text) {
        fprintf(stderr, "agyn: the %s is not valid UTF-8\n", prompt);
        return -CLI_FAIL;
    }
    json_object_set_new(body, field, text);
    return 1;
}
