/* backup.c — copies a live SQLite database page by page with sqlite3_backup_*, a few hundred
 * pages per step so that agynd's writers are held up only briefly; the copy is one consistent
 * snapshot (SQLite restarts the copy when the source changes under it). */
#include "store/backup.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#define PAGES_PER_STEP 256
#define BUSY_PAUSE_MS 20

int store_backup(const char *location, const char *to_path, struct agyn_error *err) {
    /* The location is never repeated: a PostgreSQL URL may hold a password. */
    if (strncmp(location, "postgres://", 11) == 0 || strncmp(location, "postgresql://", 13) == 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "database",
                         "backup copies SQLite databases; back up PostgreSQL with pg_dump or "
                         "continuous archiving (docs/scale-out.md)");
    if (strncmp(location, "sqlite:", 7) != 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "database",
                         "backup copies SQLite databases (sqlite:PATH) only");
    const char *from_path = location + 7;
    if (access(from_path, R_OK) != 0)
        return agyn_fail(err, AGYN_NOT_FOUND, "database", "cannot read %s (%s)", from_path,
                         strerror(errno));
    /* Created here, owner-only, and never over an existing file. */
    int fd = open(to_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return agyn_fail(err, AGYN_UNPROCESSABLE, "to", "cannot create %s (%s)", to_path,
                         strerror(errno));
    close(fd);
    sqlite3 *source = NULL, *target = NULL;
    int rc = sqlite3_open_v2(from_path, &source, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(to_path, &target, SQLITE_OPEN_READWRITE, NULL);
    sqlite3_backup *backup = NULL;
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(source, 10000);
        backup = sqlite3_backup_init(target, "main", source, "main");
        if (!backup)
            rc = sqlite3_errcode(target);
    }
    while (backup) {
        rc = sqlite3_backup_step(backup, PAGES_PER_STEP);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        sqlite3_sleep(BUSY_PAUSE_MS);
    }
    if (backup) {
        sqlite3_backup_finish(backup);
        if (rc == SQLITE_DONE)
            rc = sqlite3_errcode(target);
    }
    const char *why = rc == SQLITE_OK ? NULL : sqlite3_errstr(rc);
    sqlite3_close(target);
    sqlite3_close(source);
    if (why) {
        unlink(to_path);
        return agyn_fail(err, AGYN_UNAVAILABLE, "database", "backup of %s failed: %s", from_path,
                         why);
    }
    return 0;
}
