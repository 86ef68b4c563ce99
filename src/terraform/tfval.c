/* tfval.c — the Terraform value tree and its msgpack / JSON codecs (see tfval.h). */
#include "terraform/tfval.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>
#include "core/secure_mem.h"
#include "core/xalloc.h"

static struct tfv *tfv_new(enum tfv_kind kind) {
    struct tfv *v = xcalloc(1, sizeof *v);
    v->kind = kind;
    return v;
}

struct tfv *tfv_null(void) {
    return tfv_new(TFV_NULL);
}
struct tfv *tfv_unknown(void) {
    return tfv_new(TFV_UNKNOWN);
}
struct tfv *tfv_object(void) {
    return tfv_new(TFV_OBJECT);
}
struct tfv *tfv_list(void) {
    return tfv_new(TFV_LIST);
}

struct tfv *tfv_string(const char *s) {
    if (!s)
        return tfv_null();
    struct tfv *v = tfv_new(TFV_STRING);
    v->str = xstrdup(s);
    return v;
}

struct tfv *tfv_number(double n) {
    struct tfv *v = tfv_new(TFV_NUMBER);
    v->num = n;
    return v;
}

struct tfv *tfv_bool(bool b) {
    struct tfv *v = tfv_new(TFV_BOOL);
    v->b = b;
    return v;
}

void tfv_free(struct tfv *v) {
    if (!v)
        return;
    secure_free(v->str); /* values may be passwords */
    for (size_t i = 0; i < v->len; i++) {
        if (v->keys)
            free(v->keys[i]);
        tfv_free(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v);
}

static void grow(struct tfv *v) {
    if (v->len < v->cap)
        return;
    v->cap = v->cap ? v->cap * 2 : 8;
    v->items = xrealloc(v->items, v->cap * sizeof *v->items);
    if (v->kind == TFV_OBJECT) {
        v->keys = xrealloc(v->keys, v->cap * sizeof *v->keys);
    }
}

struct tfv *tfv_copy(const struct tfv *v) {
    if (!v)
        return tfv_null();
    struct tfv *c = tfv_new(v->kind);
    c->num = v->num;
    c->b = v->b;
    if (v->str)
        c->str = xstrdup(v->str);
    for (size_t i = 0; i < v->len; i++) {
        if (v->kind == TFV_OBJECT)
            tfv_set(c, v->keys[i], tfv_copy(v->items[i]));
        else
            tfv_list_append(c, tfv_copy(v->items[i]));
    }
    return c;
}

bool tfv_equal(const struct tfv *a, const struct tfv *b) {
    bool a_null = tfv_is_null(a), b_null = tfv_is_null(b);
    if (a_null || b_null)
        return a_null && b_null;
    if (a->kind != b->kind)
        return false;
    switch (a->kind) {
    case TFV_NULL:
    case TFV_UNKNOWN:
        return true;
    case TFV_STRING:
        return strcmp(a->str, b->str) == 0;
    case TFV_NUMBER:
        return a->num == b->num;
    case TFV_BOOL:
        return a->b == b->b;
    case TFV_LIST:
        if (a->len != b->len)
            return false;
        for (size_t i = 0; i < a->len; i++)
            if (!tfv_equal(a->items[i], b->items[i]))
                return false;
        return true;
    case TFV_OBJECT:
        /* Keys present in one and absent in the other compare as null. */
        for (size_t i = 0; i < a->len; i++)
            if (!tfv_equal(a->items[i], tfv_get(b, a->keys[i])))
                return false;
        for (size_t i = 0; i < b->len; i++)
            if (!tfv_equal(b->items[i], tfv_get(a, b->keys[i])))
                return false;
        return true;
    }
    return false;
}

struct tfv *tfv_get(const struct tfv *obj, const char *key) {
    if (!obj || obj->kind != TFV_OBJECT)
        return NULL;
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

void tfv_set(struct tfv *obj, const char *key, struct tfv *value) {
    if (!obj || obj->kind != TFV_OBJECT) {
        tfv_free(value);
        return;
    }
    if (!value)
        value = tfv_null();
    for (size_t i = 0; i < obj->len; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            tfv_free(obj->items[i]);
            obj->items[i] = value;
            return;
        }
    }
    grow(obj);
    obj->keys[obj->len] = xstrdup(key);
    obj->items[obj->len++] = value;
}

void tfv_set_str(struct tfv *obj, const char *key, const char *s) {
    tfv_set(obj, key, tfv_string(s));
}

void tfv_list_append(struct tfv *list, struct tfv *value) {
    if (!list || list->kind != TFV_LIST) {
        tfv_free(value);
        return;
    }
    grow(list);
    list->items[list->len++] = value ? value : tfv_null();
}

bool tfv_is_null(const struct tfv *v) {
    return !v || v->kind == TFV_NULL;
}
bool tfv_is_unknown(const struct tfv *v) {
    return v && v->kind == TFV_UNKNOWN;
}
bool tfv_is_known(const struct tfv *v) {
    return !tfv_is_unknown(v);
}
bool tfv_is_set(const struct tfv *v) {
    return v && v->kind != TFV_NULL && v->kind != TFV_UNKNOWN;
}

bool tfv_wholly_known(const struct tfv *v) {
    if (!v)
        return true;
    if (v->kind == TFV_UNKNOWN)
        return false;
    for (size_t i = 0; i < v->len; i++)
        if (!tfv_wholly_known(v->items[i]))
            return false;
    return true;
}

const char *tfv_str(const struct tfv *obj, const char *key) {
    const struct tfv *v = tfv_get(obj, key);
    return v && v->kind == TFV_STRING ? v->str : NULL;
}

/* ---- msgpack ---- */

static struct tfv *from_object(const msgpack_object *o, int depth) {
    if (depth > 64)
        return NULL;
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
        return tfv_null();
    case MSGPACK_OBJECT_BOOLEAN:
        return tfv_bool(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        return tfv_number((double)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        return tfv_number((double)o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        /* Terraform numbers are finite; a NaN would never equal itself and break plan diffs. */
        return isnan(o->via.f64) ? NULL : tfv_number(o->via.f64);
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN: {
        const char *ptr = o->type == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
        size_t size = o->type == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
        struct tfv *v = tfv_new(TFV_STRING);
        v->str = xmalloc(size + 1);
        if (size) /* an empty str/bin may come with a NULL pointer */
            memcpy(v->str, ptr, size);
        v->str[size] = '\0';
        return v;
    }
    case MSGPACK_OBJECT_EXT:
        /* Type 0 is a plain unknown, type 12 a refined unknown; any extension is unknown. */
        return tfv_unknown();
    case MSGPACK_OBJECT_ARRAY: {
        struct tfv *v = tfv_list();
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            struct tfv *item = from_object(&o->via.array.ptr[i], depth + 1);
            if (!item) {
                tfv_free(v);
                return NULL;
            }
            tfv_list_append(v, item);
        }
        return v;
    }
    case MSGPACK_OBJECT_MAP: {
        struct tfv *v = tfv_object();
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type != MSGPACK_OBJECT_STR) {
                tfv_free(v);
                return NULL;
            }
            char key[256];
            size_t n =
                kv->key.via.str.size < sizeof key - 1 ? kv->key.via.str.size : sizeof key - 1;
            if (n)
                memcpy(key, kv->key.via.str.ptr, n);
            key[n] = '\0';
            struct tfv *item = from_object(&kv->val, depth + 1);
            if (!item) {
                tfv_free(v);
                return NULL;
            }
            tfv_set(v, key, item);
        }
        return v;
    }
    }
    return NULL;
}

/* Reads a big-endian unsigned integer of width bytes at p. */
static uint64_t read_be(const uint8_t *p, size_t width) {
    uint64_t v = 0;
    for (size_t i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

/* True when data[0..len) holds one msgpack value whose every array and map declares no more
 * items than there are bytes left (each item takes at least one). libmsgpack allocates for the
 * declared count before reading items, so 5 bytes claiming 2^32 entries would ask for 64 GiB. */
static bool msgpack_counts_are_plausible(const uint8_t *data, size_t len) {
    size_t pos = 0, pending = 1;
    while (pending > 0) {
        if (pos >= len)
            return false;
        uint8_t b = data[pos++];
        pending--;
        uint64_t items = 0, skip = 0;
        size_t width = 0;
        if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3)
            continue;
        if (b >= 0x80 && b <= 0x8f)
            items = 2u * (b & 0x0f);
        else if (b >= 0x90 && b <= 0x9f)
            items = b & 0x0f;
        else if (b >= 0xa0 && b <= 0xbf)
            skip = b & 0x1f;
        else if (b >= 0xc4 && b <= 0xc6)
            width = (size_t)1 << (b - 0xc4);
        else if (b >= 0xc7 && b <= 0xc9)
            width = (size_t)1 << (b - 0xc7), skip = 1; /* the ext type byte */
        else if (b == 0xca)
            skip = 4;
        else if (b == 0xcb)
            skip = 8;
        else if (b >= 0xcc && b <= 0xcf)
            skip = (uint64_t)1 << (b - 0xcc);
        else if (b >= 0xd0 && b <= 0xd3)
            skip = (uint64_t)1 << (b - 0xd0);
        else if (b >= 0xd4 && b <= 0xd8)
            skip = 1 + ((uint64_t)1 << (b - 0xd4));
        else if (b >= 0xd9 && b <= 0xdb)
            width = (size_t)1 << (b - 0xd9);
        else if (b == 0xdc || b == 0xdd || b == 0xde || b == 0xdf)
            width = (b == 0xdc || b == 0xde) ? 2 : 4;
        else
            return false; /* 0xc1 is never used */
        if (width) {
            if (len - pos < width)
                return false;
            uint64_t n = read_be(data + pos, width);
            pos += width;
            if (b >= 0xdc)
                items = b >= 0xde ? 2 * n : n;
            else
                skip += n;
        }
        if (skip > len - pos)
            return false;
        pos += (size_t)skip;
        if (items > len - pos || pending + items > len - pos)
            return false;
        pending += (size_t)items;
    }
    return true;
}

struct tfv *tfv_from_msgpack(const void *data, size_t len) {
    if (!data || len == 0 || !msgpack_counts_are_plausible(data, len))
        return NULL;
    msgpack_unpacked result;
    msgpack_unpacked_init(&result);
    size_t offset = 0;
    struct tfv *v = NULL;
    if (msgpack_unpack_next(&result, data, len, &offset) == MSGPACK_UNPACK_SUCCESS)
        v = from_object(&result.data, 0);
    msgpack_unpacked_destroy(&result);
    return v;
}

static void pack(msgpack_packer *pk, const struct tfv *v) {
    if (!v || v->kind == TFV_NULL) {
        msgpack_pack_nil(pk);
        return;
    }
    switch (v->kind) {
    case TFV_NULL:
        msgpack_pack_nil(pk);
        break;
    case TFV_UNKNOWN:
        msgpack_pack_ext(pk, 0, 0);
        break;
    case TFV_STRING: {
        size_t n = strlen(v->str);
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, v->str, n);
        break;
    }
    case TFV_NUMBER: {
        /* As a decimal string, which cty reads with ParseNumberVal — as Terraform reads the
         * numbers of a state file. A msgpack int or float gives a big.Float of another
         * precision, which Terraform's refresh-only check (reflect.DeepEqual of the prior and
         * refreshed state) takes for a change: -detailed-exitcode would exit 2, "No changes". */
        char text[40];
        if (v->num == floor(v->num) && fabs(v->num) < 9.0e15)
            snprintf(text, sizeof text, "%" PRId64, (int64_t)v->num);
        else
            snprintf(text, sizeof text, "%.17g", v->num);
        size_t n = strlen(text);
        msgpack_pack_str(pk, n);
        msgpack_pack_str_body(pk, text, n);
        break;
    }
    case TFV_BOOL:
        if (v->b)
            msgpack_pack_true(pk);
        else
            msgpack_pack_false(pk);
        break;
    case TFV_LIST:
        msgpack_pack_array(pk, v->len);
        for (size_t i = 0; i < v->len; i++)
            pack(pk, v->items[i]);
        break;
    case TFV_OBJECT:
        msgpack_pack_map(pk, v->len);
        for (size_t i = 0; i < v->len; i++) {
            size_t n = strlen(v->keys[i]);
            msgpack_pack_str(pk, n);
            msgpack_pack_str_body(pk, v->keys[i], n);
            pack(pk, v->items[i]);
        }
        break;
    }
}

int tfv_to_msgpack(const struct tfv *v, uint8_t **out, size_t *out_len) {
    msgpack_sbuffer sbuf;
    msgpack_sbuffer_init(&sbuf);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sbuf, msgpack_sbuffer_write);
    pack(&pk, v);
    *out = (uint8_t *)sbuf.data;
    *out_len = sbuf.size;
    return 0;
}

/* ---- JSON ---- */

struct tfv *tfv_from_json(const json_t *j) {
    if (!j)
        return tfv_null();
    switch (json_typeof(j)) {
    case JSON_NULL:
        return tfv_null();
    case JSON_TRUE:
        return tfv_bool(true);
    case JSON_FALSE:
        return tfv_bool(false);
    case JSON_INTEGER:
        return tfv_number((double)json_integer_value(j));
    case JSON_REAL:
        return tfv_number(json_real_value(j));
    case JSON_STRING:
        return tfv_string(json_string_value(j));
    case JSON_ARRAY: {
        struct tfv *v = tfv_list();
        size_t i;
        json_t *item;
        json_array_foreach(j, i, item) {
            tfv_list_append(v, tfv_from_json(item));
        }
        return v;
    }
    case JSON_OBJECT: {
        struct tfv *v = tfv_object();
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)j, key, item) {
            tfv_set(v, key, tfv_from_json(item));
        }
        return v;
    }
    }
    return tfv_null();
}

static void debug_append(char **buf, size_t *len, size_t *cap, const char *s) {
    size_t n = strlen(s);
    while (*len + n + 1 > *cap) {
        *cap = *cap ? *cap * 2 : 128;
        *buf = xrealloc(*buf, *cap);
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
}

static void debug_render(const struct tfv *v, char **buf, size_t *len, size_t *cap) {
    char tmp[64];
    if (!v || v->kind == TFV_NULL) {
        debug_append(buf, len, cap, "null");
        return;
    }
    switch (v->kind) {
    case TFV_NULL:
        break;
    case TFV_UNKNOWN:
        debug_append(buf, len, cap, "<unknown>");
        break;
    case TFV_STRING:
        debug_append(buf, len, cap, "\"");
        debug_append(buf, len, cap, v->str);
        debug_append(buf, len, cap, "\"");
        break;
    case TFV_NUMBER:
        snprintf(tmp, sizeof tmp, "%g", v->num);
        debug_append(buf, len, cap, tmp);
        break;
    case TFV_BOOL:
        debug_append(buf, len, cap, v->b ? "true" : "false");
        break;
    case TFV_LIST:
    case TFV_OBJECT:
        debug_append(buf, len, cap, v->kind == TFV_LIST ? "[" : "{");
        for (size_t i = 0; i < v->len; i++) {
            if (i)
                debug_append(buf, len, cap, ", ");
            if (v->kind == TFV_OBJECT) {
                debug_append(buf, len, cap, v->keys[i]);
                debug_append(buf, len, cap, "=");
            }
            debug_render(v->items[i], buf, len, cap);
        }
        debug_append(buf, len, cap, v->kind == TFV_LIST ? "]" : "}");
        break;
    }
}

char *tfv_debug(const struct tfv *v) {
    char *buf = NULL;
    size_t len = 0, cap = 0;
    debug_append(&buf, &len, &cap, "");
    debug_render(v, &buf, &len, &cap);
    return buf;
}
