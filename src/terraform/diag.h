/* diag.h — Terraform diagnostics collected during one RPC (protobuf Diagnostic messages in the
 * RPC's arena). An attribute path is written "vault.address" and sent as AttributePath steps. */
#ifndef AGYN_TF_DIAG_H
#define AGYN_TF_DIAG_H

#include <stdbool.h>

#include "terraform/arena.h"
#include "tfplugin6.pb-c.h"

struct diags {
    struct arena *arena;
    Tfplugin6__Diagnostic **items;
    size_t len, cap;
    bool has_error;
};

void diag_add(struct diags *d, bool error, const char *attr_path, const char *summary,
              const char *fmt, ...) __attribute__((format(printf, 5, 6)));
#define diag_error(d, path, summary, ...) diag_add((d), true, (path), (summary), __VA_ARGS__)
#define diag_warning(d, path, summary, ...) diag_add((d), false, (path), (summary), __VA_ARGS__)

/* "a.b" -> AttributePath with steps a, b (in the arena). */
Tfplugin6__AttributePath *diag_path(struct arena *a, const char *attr_path);

#endif
