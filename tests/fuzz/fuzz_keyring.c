/* fuzz_keyring.c — the keyring file (keys.json): written to a private temporary file and loaded;
 * a keyring that loads has an active key. */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "crypto/keyring.h"
#include "fuzz_input.h"

static char dir[] = "/tmp/agyn-fuzz-keyring-XXXXXX";
static char path[64];

static void remove_scratch(void) {
    unlink(path);
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len) {
    if (!path[0]) {
        if (!mkdtemp(dir))
            abort();
        snprintf(path, sizeof path, "%s/keys.json", dir);
        atexit(remove_scratch);
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || (len && write(fd, data, len) != (ssize_t)len))
        abort();
    close(fd);
    struct keyring *kr = NULL;
    struct agyn_error err = {0};
    if (keyring_load(path, &kr, &err) == 0) {
        if (!keyring_active_id(kr) || keyring_count(kr) == 0)
            abort();
        keyring_free(kr);
    }
    return 0;
}
