/* sealed_values.c — walking every sealed column of every organization's rows. */
#include "agynd/sealed_values.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/row.h"
#include "crypto/envelope.h"
#include "crypto/rewrap.h"
#include "store/tables.h"

#define MAX_KEY_IDS 64

typedef int (*sealed_visitor)(struct store *store, const struct store_table *table,
                              const json_t *row, const char *column, void *state,
                              struct agyn_error *err);

static int visit_table(struct store *store, const struct store_table *table, const char *org,
                       sealed_visitor visit, void *state, struct agyn_error *err) {
    struct store_query query = {.organization_id = org, .limit = 200};
    for (;;) {
        json_t *rows = NULL;
        int64_t next = 0;
        if (store_list(store, table, &query, &rows, &next, err) != 0)
            return -1;
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) {
            for (size_t c = 0; c < table->column_count; c++) {
                const struct store_column *column = &table->columns[c];
                if (!(column->flags & COLUMN_SEALED) ||
                    !json_is_string(json_object_get(row, column->name)))
                    continue;
                if (visit(store, table, row, column->name, state, err) != 0) {
                    json_decref(rows);
                    return -1;
                }
            }
        }
        json_decref(rows);
        if (next == 0)
            return 0;
        query.after_seq = next;
    }
}

static int visit_all(struct store *store, sealed_visitor visit, void *state,
                     struct agyn_error *err) {
    struct store_query orgs_query = {0};
    json_t *orgs = NULL;
    int64_t next = 0;
    if (store_list(store, &TABLE_ORGANIZATIONS, &orgs_query, &orgs, &next, err) != 0)
        return -1;
    size_t i;
    json_t *org;
    int rc = 0;
    json_array_foreach(orgs, i, org) {
        const char *org_id = row_text(org, "id");
        for (size_t t = 0; rc == 0 && STORE_ALL_TABLES[t]; t++) {
            const struct store_table *table = STORE_ALL_TABLES[t];
            int has_sealed = 0;
            for (size_t c = 0; c < table->column_count; c++)
                has_sealed |= (table->columns[c].flags & COLUMN_SEALED) != 0;
            if (has_sealed && table->organization_scoped)
                rc = visit_table(store, table, org_id, visit, state, err);
        }
        if (rc != 0)
            break;
    }
    json_decref(orgs);
    return rc;
}

static void row_aad(const struct store_table *table, const json_t *row, const char *column,
                    char *aad, size_t size) {
    envelope_aad(aad, size, row_text(row, "organization_id"), table->name, row_text(row, "id"),
                 column);
}

struct check_state {
    struct keyring *kr;
    char verified[MAX_KEY_IDS][KEYRING_ID_MAX];
    size_t verified_count;
    bool every;       /* open every value, not one per key id */
    long long opened; /* values opened */
};

static int check_value(struct store *store, const struct store_table *table, const json_t *row,
                       const char *column, void *opaque, struct agyn_error *err) {
    struct check_state *state = opaque;
    const char *sealed = row_text(row, column);
    const char *row_id = row_text(row, "id");
    char key_id[KEYRING_ID_MAX];
    if (envelope_key_id(sealed, key_id) != 0)
        return agyn_fail(err, AGYN_INTERNAL, column, "%s.%s of row %s is not a sealed value",
                         table->name, column, row_id);
    if (!keyring_has(state->kr, key_id))
        return agyn_fail(err, AGYN_INTERNAL, column,
                         "key %s, which encrypted %s.%s of row %s, is not in the keyring; "
                         "restore it (agynd keys list shows what is there)",
                         key_id, table->name, column, row_id);
    for (size_t i = 0; i < state->verified_count && !state->every; i++)
        if (strcmp(state->verified[i], key_id) == 0)
            return 0;
    char aad[512];
    row_aad(table, row, column, aad, sizeof aad);
    uint8_t *plain = NULL;
    size_t len = 0;
    if (envelope_open(state->kr, aad, sealed, &plain, &len, err) != 0) {
        agyn_error_prefix(err, "key %s does not open %s.%s of row %s (wrong key material?)", key_id,
                          table->name, column, row_id);
        return -1;
    }
    secure_free(plain);
    state->opened++;
    if (state->verified_count < MAX_KEY_IDS)
        snprintf(state->verified[state->verified_count++], KEYRING_ID_MAX, "%s", key_id);
    return 0;
}

/* One sample per key id, from the database's own pass over each sealed column (no row is
 * returned to agynd beyond the samples): each sample's key id must be in the keyring and open
 * it. That checks every value's key id, since the samples are grouped by it. */
struct sample_state {
    const struct store_table *table;
    const char *column;
    struct check_state *check;
};

static int check_sample(void *opaque, const char *org, const char *id, const char *sealed,
                        struct agyn_error *err) {
    struct sample_state *state = opaque;
    json_t *row =
        json_pack("{s:s?, s:s?, s:s?}", "organization_id", org, "id", id, state->column, sealed);
    if (!row)
        return agyn_fail(err, AGYN_INTERNAL, NULL, "out of memory checking sealed values");
    int rc = check_value(NULL, state->table, row, state->column, state->check, err);
    json_decref(row);
    return rc;
}

int sealed_values_check(struct store *store, struct keyring *kr, struct agyn_error *err) {
    struct check_state check = {.kr = kr};
    for (size_t t = 0; STORE_ALL_TABLES[t]; t++) {
        const struct store_table *table = STORE_ALL_TABLES[t];
        if (!table->organization_scoped)
            continue;
        for (size_t c = 0; c < table->column_count; c++) {
            if (!(table->columns[c].flags & COLUMN_SEALED))
                continue;
            struct sample_state state = {table, table->columns[c].name, &check};
            if (store_sealed_samples(store, table, state.column, check_sample, &state, err) != 0)
                return -1;
        }
    }
    return 0;
}

int sealed_values_open_all(struct store *store, struct keyring *kr, long long *opened,
                           struct agyn_error *err) {
    struct check_state state = {.kr = kr, .every = true};
    int rc = visit_all(store, check_value, &state, err);
    *opened = state.opened;
    return rc;
}

struct rewrap_state {
    struct keyring *kr;
    struct sealed_values_report *report;
};

static int rewrap_value(struct store *store, const struct store_table *table, const json_t *row,
                        const char *column, void *opaque, struct agyn_error *err) {
    struct rewrap_state *state = opaque;
    const char *org = row_text(row, "organization_id");
    const char *row_id = row_text(row, "id");
    state->report->values++;
    if (store_tx_begin(store, err) != 0)
        return -1;
    /* Re-read inside the transaction: a concurrent PATCH must not be overwritten. */
    json_t *current = NULL;
    if (store_get(store, table, org, row_id, &current, err) != 0) {
        store_tx_rollback(store);
        return err->code == AGYN_NOT_FOUND ? 0 : -1;
    }
    const char *sealed = row_text(current, column);
    int rc = 0, changed = 0;
    if (sealed) {
        char aad[512];
        row_aad(table, current, column, aad, sizeof aad);
        char *fresh = envelope_rewrap(state->kr, aad, sealed, &changed, err);
        if (!fresh) {
            if (!strstr(err->message, row_id)) /* say which value failed */
                agyn_error_prefix(err, "%s.%s of row %s", table->name, column, row_id);
            rc = -1;
        }
        if (rc == 0 && changed) {
            json_t *changes = json_pack("{s:s}", column, fresh);
            rc = store_update_quietly(store, table, org, row_id, changes, err);
            json_decref(changes);
        }
        free(fresh);
    }
    json_decref(current);
    if (rc == 0 && store_tx_commit(store, err) == 0) {
        state->report->rewrapped += changed;
        return 0;
    }
    store_tx_rollback(store);
    return -1;
}

int sealed_values_rewrap(struct store *store, struct keyring *kr,
                         struct sealed_values_report *report, struct agyn_error *err) {
    memset(report, 0, sizeof *report);
    struct rewrap_state state = {kr, report};
    return visit_all(store, rewrap_value, &state, err);
}

struct count_state {
    const char *key_id;
    long long count;
};

static int count_value(struct store *store, const struct store_table *table, const json_t *row,
                       const char *column, void *opaque, struct agyn_error *err) {
    struct count_state *state = opaque;
    char key_id[KEYRING_ID_MAX];
    if (envelope_key_id(row_text(row, column), key_id) == 0 && strcmp(key_id, state->key_id) == 0)
        state->count++;
    return 0;
}

int sealed_values_count_key(struct store *store, const char *key_id, long long *count,
                            struct agyn_error *err) {
    struct count_state state = {key_id, 0};
    int rc = visit_all(store, count_value, &state, err);
    *count = state.count;
    return rc;
}

struct key_ids_state {
    char *out;
    size_t size;
};

static int collect_key_id(struct store *store, const struct store_table *table, const json_t *row,
                          const char *column, void *opaque, struct agyn_error *err) {
    struct key_ids_state *state = opaque;
    char key_id[KEYRING_ID_MAX];
    if (envelope_key_id(row_text(row, column), key_id) != 0)
        return 0;
    size_t len = strlen(state->out), id_len = strlen(key_id);
    for (const char *p = strstr(state->out, key_id); p; p = strstr(p + 1, key_id))
        if ((p == state->out || p[-1] == ' ') && (p[id_len] == ',' || p[id_len] == '\0'))
            return 0;
    snprintf(state->out + len, state->size - len, "%s%s", len ? ", " : "", key_id);
    return 0;
}

int sealed_values_key_ids(struct store *store, char *out, size_t size, struct agyn_error *err) {
    out[0] = '\0';
    struct key_ids_state state = {out, size};
    return visit_all(store, collect_key_id, &state, err);
}
