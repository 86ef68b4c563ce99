/* output_yaml.c — -o yaml: a JSON value written as block-style YAML. Every string is written
 * double-quoted with JSON escapes (valid YAML), so no value can be misread as a number,
 * boolean, null or another key, whatever a tenant put in it; keys are quoted unless they are
 * plain identifiers (all of the API's own). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

static void scalar(const json_t *value) {
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT);
    fputs(text ? text : "null", stdout);
    free(text);
}

static bool is_empty_container(const json_t *value) {
    return (json_is_object(value) && json_object_size(value) == 0) ||
           (json_is_array(value) && json_array_size(value) == 0);
}

static void node(const json_t *value, int indent, bool first_indented);

static void key_text(const char *key) {
    bool plain = isalpha((unsigned char)*key) || *key == '_';
    for (const char *p = key; plain && *p; p++)
        plain = isalnum((unsigned char)*p) || *p == '_';
    if (plain) {
        fputs(key, stdout);
        return;
    }
    json_t *quoted = json_string(key);
    scalar(quoted);
    json_decref(quoted);
}

/* After "key:" or "-": a scalar or empty container on the same line, else a nested block. */
static void child(const json_t *value, int indent, bool in_list) {
    if (json_is_object(value) || json_is_array(value)) {
        if (is_empty_container(value)) {
            fputs(json_is_object(value) ? " {}\n" : " []\n", stdout);
            return;
        }
        if (in_list && json_is_object(value)) { /* "- key: value" */
            putchar(' ');
            node(value, indent, false);
            return;
        }
        putchar('\n');
        node(value, indent, true);
        return;
    }
    putchar(' ');
    scalar(value);
    putchar('\n');
}

static void node(const json_t *value, int indent, bool first_indented) {
    if (json_is_object(value)) {
        const char *key;
        const json_t *member;
        bool first = true;
        json_object_foreach((json_t *)value, key, member) {
            printf("%*s", first && !first_indented ? 0 : indent, "");
            first = false;
            key_text(key);
            putchar(':');
            child(member, indent + 2, false);
        }
    } else if (json_is_array(value)) {
        size_t i;
        const json_t *item;
        json_array_foreach(value, i, item) {
            printf("%*s-", indent, "");
            child(item, indent + 2, true);
        }
    } else {
        printf("%*s", indent, "");
        scalar(value);
        putchar('\n');
    }
}

void output_yaml(const json_t *value) {
    if (is_empty_container(value)) {
        puts(json_is_object(value) ? "{}" : "[]");
        return;
    }
    node(value, 0, true);
}
