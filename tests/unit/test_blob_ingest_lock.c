/* test_blob_ingest_lock.c — unit tests for blob_ingest_lock: one claim per blob in this
 * process and across processes (a forked child holds the flock), a waiter woken by a release,
 * a crashed holder's lock taken over, and a content store opened by a second user keeping the
 * first user's partial downloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "registry/blob_ingest_lock.h"
#include "registry/content_store.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[128];

static int make_dir(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/agyn-ingest-lock-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state) {
    (void)state;
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command) == 0 ? 0 : -1;
}

static bool lock_file_exists(const char *digest) {
    char path[300];
    snprintf(path, sizeof path, "%s/%s.lock", dir, digest + 7);
    return access(path, F_OK) == 0;
}

static int64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_one_claim_per_blob_in_this_process(void **state) {
    (void)state;
    struct agyn_error err = {0};
    struct blob_ingest_lock *a = NULL, *again = NULL, *b = NULL;
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &a, &err), 1);
    assert_non_null(a);
    assert_true(lock_file_exists(DIGEST_A));
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &again, &err), 0); /* busy */
    assert_null(again);
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_B, &b, &err), 1); /* another blob */
    unsigned long before = blob_ingest_lock_releases();
    blob_ingest_lock_release(a);
    assert_int_equal(blob_ingest_lock_releases(), before + 1);
    assert_false(lock_file_exists(DIGEST_A)); /* no lock files pile up */
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &again, &err), 1);
    blob_ingest_lock_release(again);
    blob_ingest_lock_release(b);
    assert_int_equal(blob_ingest_lock_try(dir, "sha256:short", &a, &err), -1);
    assert_null(a);
}

static void *release_later(void *arg) {
    usleep(100 * 1000);
    blob_ingest_lock_release(arg);
    return NULL;
}

static void test_a_waiter_wakes_at_the_release_and_times_out_without_one(void **state) {
    (void)state;
    struct agyn_error err = {0};
    struct blob_ingest_lock *held = NULL;
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &held, &err), 1);
    unsigned long seen = blob_ingest_lock_releases();
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, release_later, held), 0);
    int64_t start = now_ms();
    blob_ingest_lock_wait(seen, 10000);
    assert_true(now_ms() - start < 5000); /* woken, not timed out */
    pthread_join(thread, NULL);
    struct blob_ingest_lock *mine = NULL;
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &mine, &err), 1);
    blob_ingest_lock_release(mine);

    seen = blob_ingest_lock_releases();
    start = now_ms();
    blob_ingest_lock_wait(seen, 60);
    int64_t waited = now_ms() - start;
    assert_true(waited >= 50 && waited < 5000);
}

/* A child process claims DIGEST_A, reports over a pipe, then releases it when told (or, with
 * crash, exits holding it). */
static pid_t child_holding(bool crash, int *tell_fd, int *hear_fd) {
    int to_child[2], from_child[2];
    assert_int_equal(pipe(to_child), 0);
    assert_int_equal(pipe(from_child), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct agyn_error err = {0};
        struct blob_ingest_lock *lock = NULL;
        char c = blob_ingest_lock_try(dir, DIGEST_A, &lock, &err) == 1 ? 'y' : 'n';
        if (write(from_child[1], &c, 1) != 1 || read(to_child[0], &c, 1) != 1)
            _exit(2);
        if (!crash)
            blob_ingest_lock_release(lock);
        _exit(0);
    }
    close(to_child[0]);
    close(from_child[1]);
    *tell_fd = to_child[1];
    *hear_fd = from_child[0];
    char c = 0;
    assert_int_equal(read(*hear_fd, &c, 1), 1);
    assert_int_equal(c, 'y');
    return pid;
}

static void finish_child(pid_t pid, int tell_fd, int hear_fd) {
    assert_int_equal(write(tell_fd, "x", 1), 1);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(tell_fd);
    close(hear_fd);
}

static void test_a_claim_in_another_process_is_busy_until_released(void **state) {
    (void)state;
    int tell, hear;
    pid_t pid = child_holding(false, &tell, &hear);
    struct agyn_error err = {0};
    struct blob_ingest_lock *lock = NULL;
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &lock, &err), 0);
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_B, &lock, &err), 1); /* other blobs free */
    blob_ingest_lock_release(lock);
    finish_child(pid, tell, hear);
    assert_false(lock_file_exists(DIGEST_A));
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &lock, &err), 1);
    blob_ingest_lock_release(lock);
}

static void test_a_crashed_holders_claim_is_taken_over(void **state) {
    (void)state;
    int tell, hear;
    pid_t pid = child_holding(true, &tell, &hear);
    struct agyn_error err = {0};
    struct blob_ingest_lock *lock = NULL;
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &lock, &err), 0);
    finish_child(pid, tell, hear);
    assert_true(lock_file_exists(DIGEST_A)); /* left behind by the crash */
    assert_int_equal(blob_ingest_lock_try(dir, DIGEST_A, &lock, &err), 1);
    blob_ingest_lock_release(lock);
}

static void test_a_second_store_user_keeps_the_first_users_downloads(void **state) {
    (void)state;
    char root[200], partial[300];
    snprintf(root, sizeof root, "%s/store", dir);
    snprintf(partial, sizeof partial, "%s/ingest/aaaaaaaaaaaaaaaa.partial", root);
    struct agyn_error err = {0};
    struct content_store *first = NULL, *second = NULL, *third = NULL;
    assert_int_equal(content_store_open(root, &first, &err), 0);
    FILE *f = fopen(partial, "w"); /* the first user's download in progress */
    assert_non_null(f);
    fclose(f);
    assert_int_equal(content_store_open(root, &second, &err), 0);
    assert_int_equal(access(partial, F_OK), 0);
    content_store_close(second);
    content_store_close(first);
    assert_int_equal(content_store_open(root, &third, &err), 0); /* alone: a leftover now */
    assert_int_not_equal(access(partial, F_OK), 0);
    content_store_close(third);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_claim_per_blob_in_this_process, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(
            test_a_waiter_wakes_at_the_release_and_times_out_without_one, make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_claim_in_another_process_is_busy_until_released,
                                        make_dir, remove_dir),
        cmocka_unit_test_setup_teardown(test_a_crashed_holders_claim_is_taken_over, make_dir,
                                        remove_dir),
        cmocka_unit_test_setup_teardown(test_a_second_store_user_keeps_the_first_users_downloads,
                                        make_dir, remove_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
