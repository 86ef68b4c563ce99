/* backup.h — a consistent copy of a live SQLite database (SQLite's online backup API), taken
 * while agynd serves: `agynd backup --to FILE`. */
#ifndef AGYN_STORE_BACKUP_H
#define AGYN_STORE_BACKUP_H

#include "core/error.h"

/* Copies the database at location ("sqlite:PATH") into the new file to_path (mode 0600; an
 * existing file is refused). Writers of the live database wait at most a few milliseconds per
 * step. Returns 0, or -1 with err set (field "to" or "database"). */
int store_backup(const char *location, const char *to_path, struct agyn_error *err);

#endif
