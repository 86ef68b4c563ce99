/* password_source_rule.h — the one rule for where a stored credential's value (an image pull
 * secret's password, a Secret's value) comes from: exactly one source — an inline value, a
 * Secret, or a provider's remote path, whose two fields (provider_id and remote_path) go
 * together. Pure: the API, the CLI and the Terraform provider each say which of their fields
 * or flags were given and what they call them; the Console relies on the API's 422. */
#ifndef AGYN_CORE_PASSWORD_SOURCE_RULE_H
#define AGYN_CORE_PASSWORD_SOURCE_RULE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"

enum password_source_kind {
    PASSWORD_SOURCE_NONE,
    PASSWORD_SOURCE_INLINE, /* "password" / "value"; the CLI's --x-stdin, --x-file, --x */
    PASSWORD_SOURCE_SECRET, /* "password_secret_id" */
    PASSWORD_SOURCE_REMOTE, /* "provider_id" with "remote_path" */
};

/* One way the caller's input can give the value: one field, or (remote) two that go
 * together. A caller may offer several options of one kind (the CLI's stdin, file and
 * command-line password; Terraform's password and password_wo): they exclude each other too. */
struct password_source_option {
    enum password_source_kind kind;
    const char *field;   /* the caller's name: "password", "--password-file", "provider_id" */
    const char *partner; /* the field that must come with it ("remote_path"), or NULL */
    bool given;
    bool partner_given;
};

enum password_source_problem {
    PASSWORD_SOURCE_OK,
    PASSWORD_SOURCE_SEVERAL,         /* more than one option given */
    PASSWORD_SOURCE_MISSING,         /* none given, one required */
    PASSWORD_SOURCE_PARTNER_MISSING, /* provider_id without remote_path or the reverse */
};

struct password_source_choice {
    const struct password_source_option *chosen; /* NULL when none was given */
    enum password_source_problem problem;
};

/* Applies the rule to options[0..count). On success returns 0 with choice->chosen (NULL when
 * none was given and required is false). Otherwise -1, choice->problem saying which part of
 * the rule failed, and err AGYN_UNPROCESSABLE naming the field to correct:
 *  - several given: the second one given; "Only one of password, password_secret_id, or
 *    provider_id with remote_path may be set, but both password and provider_id are set.";
 *  - none given but required: options[0].field; "One of ... must be set.";
 *  - one half of a pair: the missing half; "remote_path is required when provider_id is set." */
int password_source_choose(const struct password_source_option *options, size_t count,
                           bool required, struct password_source_choice *choice,
                           struct agyn_error *err);

#endif
