/* sqlite_schema.h — the SQLite backend's versioned migrations. */
#ifndef AGYN_STORE_SQLITE_SCHEMA_H
#define AGYN_STORE_SQLITE_SCHEMA_H

/* NULL-terminated; migration N (1-based) is SQLITE_MIGRATIONS[N-1]. Never edit a released
 * migration: append a new one. */
extern const char *const SQLITE_MIGRATIONS[];

#endif
