/* diag.c — see diag.h. */
#include "terraform/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xalloc.h"

Tfplugin6__AttributePath *diag_path(struct arena *a, const char *attr_path) {
    Tfplugin6__AttributePath *path = ARENA_NEW(a, Tfplugin6__AttributePath);
    tfplugin6__attribute_path__init(path);
    size_t count = 1;
    for (const char *p = attr_path; *p; p++)
        count += *p == '.';
    path->steps = arena_alloc(a, count * sizeof *path->steps);
    char *copy = arena_strdup(a, attr_path);
    char *save = NULL;
    for (char *part = strtok_r(copy, ".", &save); part; part = strtok_r(NULL, ".", &save)) {
        Tfplugin6__AttributePath__Step *step = ARENA_NEW(a, Tfplugin6__AttributePath__Step);
        tfplugin6__attribute_path__step__init(step);
        step->selector_case = TFPLUGIN6__ATTRIBUTE_PATH__STEP__SELECTOR_ATTRIBUTE_NAME;
        step->attribute_name = part;
        path->steps[path->n_steps++] = step;
    }
    return path;
}

void diag_add(struct diags *d, bool error, const char *attr_path, const char *summary,
              const char *fmt, ...) {
    if (d->len == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 8;
        Tfplugin6__Diagnostic **items = arena_alloc(d->arena, cap * sizeof *items);
        if (d->len)
            memcpy(items, d->items, d->len * sizeof *items);
        d->items = items;
        d->cap = cap;
    }
    Tfplugin6__Diagnostic *diag = ARENA_NEW(d->arena, Tfplugin6__Diagnostic);
    tfplugin6__diagnostic__init(diag);
    diag->severity =
        error ? TFPLUGIN6__DIAGNOSTIC__SEVERITY__ERROR : TFPLUGIN6__DIAGNOSTIC__SEVERITY__WARNING;
    diag->summary = arena_strdup(d->arena, summary);
    va_list ap;
    va_start(ap, fmt);
    char *detail = NULL;
    detail = xvasprintf(fmt, ap);
    va_end(ap);
    arena_own(d->arena, detail);
    diag->detail = detail;
    if (attr_path && *attr_path)
        diag->attribute = diag_path(d->arena, attr_path);
    d->items[d->len++] = diag;
    if (error)
        d->has_error = true;
}
