/* validate.h — field validators shared by handlers, wrapping the core parsers. */
#ifndef AGYN_API_VALIDATE_H
#define AGYN_API_VALIDATE_H

#include "core/error.h"

#define DESCRIPTION_MAX 4096

int validate_image(const char *image, const char *field, struct agyn_error *err);
int validate_description(const char *description, struct agyn_error *err); /* NULL is fine */
int validate_hook_event(const char *event, struct agyn_error *err);

#endif
