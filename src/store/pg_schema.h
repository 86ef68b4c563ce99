/* pg_schema.h — the PostgreSQL backend's versioned migrations. */
#ifndef AGYN_STORE_PG_SCHEMA_H
#define AGYN_STORE_PG_SCHEMA_H

/* NULL-terminated; migration N (1-based) is PG_MIGRATIONS[N-1], the same tables, columns and
 * constraints as SQLITE_MIGRATIONS[N-1]. Never edit a released migration: append a new one. */
extern const char *const PG_MIGRATIONS[];

#endif
