/* tfval.h — Terraform values as the provider sees them: a small tree (null, unknown, string,
 * number, bool, object, list) decoded from and encoded to the plugin protocol's msgpack
 * DynamicValue (unknowns are msgpack extension values), plus JSON state decoding for
 * UpgradeResourceState. Objects keep their keys in insertion order. */
#ifndef AGYN_TF_TFVAL_H
#define AGYN_TF_TFVAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

enum tfv_kind { TFV_NULL, TFV_UNKNOWN, TFV_STRING, TFV_NUMBER, TFV_BOOL, TFV_OBJECT, TFV_LIST };

struct tfv {
    enum tfv_kind kind;
    char *str;  /* TFV_STRING */
    double num; /* TFV_NUMBER */
    bool b;     /* TFV_BOOL */
    size_t len; /* TFV_OBJECT, TFV_LIST: item count */
    size_t cap;
    char **keys; /* TFV_OBJECT */
    struct tfv **items;
};

struct tfv *tfv_null(void);
struct tfv *tfv_unknown(void);
struct tfv *tfv_string(const char *s);
struct tfv *tfv_number(double n);
struct tfv *tfv_bool(bool b);
struct tfv *tfv_object(void);
struct tfv *tfv_list(void);
void tfv_free(struct tfv *v);
struct tfv *tfv_copy(const struct tfv *v);
/* Deep equality; two unknowns are equal, an unknown never equals a known value. */
bool tfv_equal(const struct tfv *a, const struct tfv *b);

/* Object access: get returns a borrowed item or NULL when the key is absent; set takes
 * ownership of value (replacing an existing key). NULL objects read as absent. */
struct tfv *tfv_get(const struct tfv *obj, const char *key);
void tfv_set(struct tfv *obj, const char *key, struct tfv *value);
void tfv_set_str(struct tfv *obj, const char *key, const char *s); /* NULL s sets null */
void tfv_list_append(struct tfv *list, struct tfv *value);

/* Convenience readers on an object's attribute. */
bool tfv_is_null(const struct tfv *v);    /* NULL pointer or TFV_NULL */
bool tfv_is_unknown(const struct tfv *v); /* TFV_UNKNOWN */
bool tfv_is_known(const struct tfv *v);   /* not unknown (null counts as known) */
bool tfv_is_set(const struct tfv *v);     /* known and not null */
bool tfv_wholly_known(const struct tfv *v);
/* The string value of obj[key], or NULL when absent, null, unknown or not a string. */
const char *tfv_str(const struct tfv *obj, const char *key);

/* msgpack. decode returns NULL on malformed input. encode writes a malloc'd buffer. */
struct tfv *tfv_from_msgpack(const void *data, size_t len);
int tfv_to_msgpack(const struct tfv *v, uint8_t **out, size_t *out_len);

/* jansson conversion (no unknowns in JSON; numbers stay numbers). */
struct tfv *tfv_from_json(const json_t *j);

/* Debug rendering (unknown as "<unknown>"), malloc'd. */
char *tfv_debug(const struct tfv *v);

#endif
