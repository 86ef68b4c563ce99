/* field_rules.h — validation rules for resource fields (image, description, hook event) that
 * the API and the Terraform provider share, so each rule has one implementation. */
#ifndef AGYN_CORE_FIELD_RULES_H
#define AGYN_CORE_FIELD_RULES_H

#include "core/error.h"

#define DESCRIPTION_MAX 4096

int validate_image(const char *image, const char *field, struct agyn_error *err);
int validate_description(const char *description, struct agyn_error *err); /* NULL is fine */
int validate_hook_event(const char *event, struct agyn_error *err);

#endif
