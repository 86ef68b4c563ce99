/* output.c — what the CLI prints on stdout: aligned tables (the default), the API's JSON
 * (-o json), the same as YAML (-o yaml, output_yaml.c) or only names (-o name). Table cells are
 * single-line and free of control bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static enum structured_style style = STYLE_JSON;

void output_set_style(enum structured_style chosen) {
    style = chosen;
}

/* -o name: each item's name (its id when it has none), one a line. */
static void print_name(const json_t *value) {
    const json_t *label = json_object_get(value, "name");
    if (!json_is_string(label))
        label = json_object_get(value, "id");
    if (json_is_string(label))
        puts(json_string_value(label));
}

void output_json(const json_t *value) {
    if (style == STYLE_YAML) {
        output_yaml(value);
        return;
    }
    if (style == STYLE_NAME) {
        const json_t *items = json_object_get(value, "items");
        size_t i;
        const json_t *item;
        if (json_is_array(items))
            json_array_foreach(items, i, item) print_name(item);
        else
            print_name(value);
        return;
    }
    char *text = json_dumps(value, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (text) {
        puts(text);
        free(text);
    }
}

/* Follows a dotted path ("config.address") into item. */
static const json_t *lookup(const json_t *item, const char *path, size_t len) {
    char key[128];
    const json_t *node = item;
    while (node && len > 0) {
        const char *dot = memchr(path, '.', len);
        size_t part = dot ? (size_t)(dot - path) : len;
        snprintf(key, sizeof key, "%.*s", (int)part, path);
        node = json_object_get(node, key);
        path += dot ? part + 1 : part;
        len -= dot ? part + 1 : part;
    }
    return node;
}

static void clean_into(const char *text, char *buf, size_t size) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && n + 1 < size; p++)
        buf[n++] = (char)(*p < 0x20 || *p == 0x7f ? ' ' : *p);
    buf[n] = '\0';
}

static const char *scalar_text(const json_t *value, char *buf, size_t size) {
    if (!value || json_is_null(value))
        return "-";
    if (json_is_string(value)) {
        const char *s = json_string_value(value);
        if (!*s)
            return "-";
        clean_into(s, buf, size);
        return buf;
    }
    if (json_is_true(value))
        return "true";
    if (json_is_false(value))
        return "false";
    char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
    clean_into(text ? text : "", buf, size);
    free(text);
    return buf;
}

const char *output_cell(const json_t *item, const char *keys, char *buf, size_t size) {
    const char *p = keys;
    for (;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        const json_t *value = lookup(item, p, len);
        if ((value && !json_is_null(value)) || !bar)
            return scalar_text(value, buf, size);
        p = bar + 1;
    }
}

/* Display width of UTF-8 text: one column per code point. */
static size_t width(const char *s) {
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

#define CELL_MAX 1024

void output_table(const json_t *items, const struct column *columns) {
    size_t ncols = 0, nrows = json_array_size(items);
    while (columns[ncols].header)
        ncols++;
    char **cells = calloc((nrows + 1) * ncols, sizeof *cells);
    size_t *widths = calloc(ncols, sizeof *widths);
    if (!cells || !widths) {
        free(cells);
        free(widths);
        return;
    }
    char buf[CELL_MAX];
    for (size_t c = 0; c < ncols; c++)
        cells[c] = strdup(columns[c].header);
    for (size_t r = 0; r < nrows; r++)
        for (size_t c = 0; c < ncols; c++)
            cells[(r + 1) * ncols + c] =
                strdup(output_cell(json_array_get(items, r), columns[c].keys, buf, sizeof buf));
    for (size_t i = 0; i < (nrows + 1) * ncols; i++)
        if (cells[i] && width(cells[i]) > widths[i % ncols])
            widths[i % ncols] = width(cells[i]);
    for (size_t r = 0; r <= nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = cells[r * ncols + c] ? cells[r * ncols + c] : "";
            if (c + 1 == ncols)
                printf("%s\n", cell);
            else
                printf("%s%*s", cell, (int)(widths[c] - width(cell) + 2), "");
        }
    }
    for (size_t i = 0; i < (nrows + 1) * ncols; i++)
        free(cells[i]);
    free(cells);
    free(widths);
}

void output_list(const struct cli *cli, json_t *items, const struct column *columns,
                 const char *plural) {
    if (cli->output == OUTPUT_JSON) {
        json_t *page = json_pack("{s:O}", "items", items);
        output_json(page);
        json_decref(page);
    } else if (json_array_size(items) == 0) {
        fprintf(stderr, "No %s.\n", plural);
    } else {
        output_table(items, columns);
    }
}

void output_item(const struct cli *cli, const json_t *item) {
    if (cli->output == OUTPUT_JSON) {
        output_json(item);
        return;
    }
    size_t key_width = 0;
    const char *key;
    const json_t *value;
    json_object_foreach((json_t *)item, key, value) {
        if (strlen(key) > key_width)
            key_width = strlen(key);
    }
    char buf[CELL_MAX];
    json_object_foreach((json_t *)item, key, value) {
        printf("%s:%*s%s\n", key, (int)(key_width - strlen(key) + 1), "",
               scalar_text(value, buf, sizeof buf));
    }
}

void output_done(const struct cli *cli, const char *noun, const char *id, const char *verb) {
    if (cli->output == OUTPUT_JSON) {
        json_t *done = json_pack("{s:s, s:b}", "id", id, verb, 1);
        output_json(done);
        json_decref(done);
    } else {
        printf("%s %s %s\n", noun, id, verb);
    }
}
