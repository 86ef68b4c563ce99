/* password_source_rule.c — the exactly-one-source rule for a credential's value (rules in
 * password_source_rule.h). */
#include "core/password_source_rule.h"

#include <stdio.h>
#include <string.h>

static bool option_given(const struct password_source_option *option) {
    return option->given || (option->partner && option->partner_given);
}

/* The field to name for an option that was given: itself, or its partner when only that. */
static const char *given_field(const struct password_source_option *option) {
    return option->given ? option->field : option->partner;
}

/* "password, password_secret_id, or provider_id with remote_path" */
static void list_options(const struct password_source_option *options, size_t count, char *out,
                         size_t size) {
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; i < count && used < size; i++) {
        const char *separator = i == 0           ? ""
                                : i + 1 == count ? (count > 2 ? ", or " : " or ")
                                                 : ", ";
        int n = snprintf(out + used, size - used, "%s%s%s%s", separator, options[i].field,
                         options[i].partner ? " with " : "",
                         options[i].partner ? options[i].partner : "");
        if (n < 0)
            return;
        used += (size_t)n;
    }
}

int password_source_choose(const struct password_source_option *options, size_t count,
                           bool required, struct password_source_choice *choice,
                           struct agyn_error *err) {
    memset(choice, 0, sizeof *choice);
    char list[400];
    list_options(options, count, list, sizeof list);
    for (size_t i = 0; i < count; i++) {
        if (!option_given(&options[i]))
            continue;
        if (choice->chosen) {
            choice->problem = PASSWORD_SOURCE_SEVERAL;
            const char *second = given_field(&options[i]);
            return agyn_fail(err, AGYN_UNPROCESSABLE, second,
                             "Only one of %s may be set, but both %s and %s are set.", list,
                             given_field(choice->chosen), second);
        }
        choice->chosen = &options[i];
    }
    if (!choice->chosen) {
        if (!required || count == 0)
            return 0;
        choice->problem = PASSWORD_SOURCE_MISSING;
        return agyn_fail(err, AGYN_UNPROCESSABLE, options[0].field, "One of %s must be set.", list);
    }
    const struct password_source_option *chosen = choice->chosen;
    if (chosen->partner && chosen->given != chosen->partner_given) {
        const char *missing = chosen->given ? chosen->partner : chosen->field;
        const char *present = chosen->given ? chosen->field : chosen->partner;
        choice->problem = PASSWORD_SOURCE_PARTNER_MISSING;
        return agyn_fail(err, AGYN_UNPROCESSABLE, missing, "%s is required when %s is set.",
                         missing, present);
    }
    return 0;
}
