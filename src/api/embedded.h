/* embedded.h — files compiled into the binary (scripts/embed.cmake): the OpenAPI document
 * and the Console's assets, looked up by path relative to src/. */
#ifndef AGYN_API_EMBEDDED_H
#define AGYN_API_EMBEDDED_H

#include <stddef.h>

struct embedded_file {
    const char *path; /* "api/openapi.json", "console/index.html", ... */
    const unsigned char *data;
    size_t size;
};

extern const struct embedded_file embedded_files[]; /* terminated by a NULL path */

const struct embedded_file *embedded_find(const char *path);

#endif
