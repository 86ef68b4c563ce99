/* test_ingest_writer.c — unit tests for large blobs through a content-store ingest (the writer
 * thread of ingest_writer.c, with O_DIRECT where the file system allows it): a blob whose size
 * is not a multiple of the block size, arriving in odd pieces that straddle the ring's end, is
 * stored byte for byte; a download started over after an unaligned piece is stored whole; a
 * blob that ends short or hashes wrong is refused, without a hang and without a file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/error.h"
#include "registry/content_store.h"

#define BLOB_SIZE (3u * 1024 * 1024 + 123) /* above the writer's 1 MiB, not block-aligned */
#define PIECE 7777                         /* pieces that straddle the 1 MiB ring's end */

static char dir[128];
static unsigned char *blob;
static char digest[80];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/agyn-ingest-writer-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    blob = malloc(BLOB_SIZE);
    if (!blob)
        return -1;
    uint32_t x = 12345;
    for (size_t i = 0; i < BLOB_SIZE; i++) { /* not all one byte: a misplaced piece shows */
        x = x * 1103515245u + 12345u;
        blob[i] = (unsigned char)(x >> 16);
    }
    unsigned char md[32];
    unsigned int md_len = 0;
    EVP_Digest(blob, BLOB_SIZE, md, &md_len, EVP_sha256(), NULL);
    strcpy(digest, "sha256:");
    for (int i = 0; i < 32; i++)
        snprintf(digest + 7 + 2 * i, 3, "%02x", md[i]);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(blob);
    char command[256];
    snprintf(command, sizeof command, "rm -rf '%s'", dir);
    return system(command) == 0 ? 0 : -1;
}

static struct content_store *open_store(void) {
    struct content_store *store = NULL;
    struct agyn_error err = {0};
    assert_int_equal(content_store_open(dir, &store, &err), 0);
    return store;
}

static void write_in_pieces(struct ingest *ingest, const unsigned char *data, size_t len) {
    for (size_t at = 0; at < len; at += PIECE) {
        size_t n = len - at < PIECE ? len - at : PIECE;
        assert_int_equal(content_store_ingest_write(ingest, data + at, n), 0);
    }
}

static void assert_stored_whole(struct content_store *store) {
    char path[4096];
    assert_int_equal(content_store_blob_path(store, digest, path, sizeof path), 0);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *back = malloc(BLOB_SIZE + 1);
    assert_non_null(back);
    assert_int_equal(fread(back, 1, BLOB_SIZE + 1, f), BLOB_SIZE);
    fclose(f);
    assert_memory_equal(back, blob, BLOB_SIZE);
    free(back);
    assert_true(content_store_has_blob(store, digest, BLOB_SIZE));
}

static size_t ingest_files(void) {
    char path[256];
    snprintf(path, sizeof path, "%s/ingest", dir);
    char command[400];
    snprintf(command, sizeof command, "find '%s' -type f ! -name '*.lock' | wc -l", path);
    FILE *p = popen(command, "r");
    unsigned long count = 0;
    if (p) {
        if (fscanf(p, "%lu", &count) != 1)
            count = 9999;
        pclose(p);
    }
    return count;
}

static void test_an_unaligned_blob_in_odd_pieces_is_stored_whole(void **state) {
    (void)state;
    struct content_store *store = open_store();
    struct agyn_error err = {0};
    struct ingest *ingest = NULL;
    assert_int_equal(content_store_ingest_begin(store, digest, BLOB_SIZE, &ingest, &err), 0);
    write_in_pieces(ingest, blob, BLOB_SIZE);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_COMMITTED);
    assert_stored_whole(store);
    assert_int_equal(ingest_files(), 0);
    content_store_close(store);
}

static void test_a_download_started_over_after_an_unaligned_piece_is_stored_whole(void **state) {
    (void)state;
    struct content_store *store = open_store();
    struct agyn_error err = {0};
    struct ingest *ingest = NULL;
    assert_int_equal(content_store_ingest_begin(store, digest, BLOB_SIZE, &ingest, &err), 0);
    /* 1 MiB + 100 bytes, then a redirect or a refreshed token starts it over. */
    write_in_pieces(ingest, blob, 1024 * 1024 + 100);
    assert_int_equal(content_store_ingest_restart(ingest), 0);
    assert_int_equal(content_store_ingest_written(ingest), 0);
    write_in_pieces(ingest, blob, BLOB_SIZE);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_COMMITTED);
    assert_stored_whole(store);
    content_store_close(store);
}

static void test_a_short_or_wrong_blob_is_refused_without_a_file(void **state) {
    (void)state;
    struct content_store *store = open_store();
    struct agyn_error err = {0};
    struct ingest *ingest = NULL;
    assert_int_equal(content_store_ingest_begin(store, digest, BLOB_SIZE, &ingest, &err), 0);
    write_in_pieces(ingest, blob, BLOB_SIZE - 4097); /* ends short, mid-block */
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_SIZE_MISMATCH);
    assert_non_null(strstr(err.message, "size mismatch"));

    unsigned char *wrong = malloc(BLOB_SIZE);
    assert_non_null(wrong);
    memcpy(wrong, blob, BLOB_SIZE);
    wrong[BLOB_SIZE - 1] ^= 1; /* the unaligned tail differs */
    assert_int_equal(content_store_ingest_begin(store, digest, BLOB_SIZE, &ingest, &err), 0);
    write_in_pieces(ingest, wrong, BLOB_SIZE);
    assert_int_equal(content_store_ingest_commit(ingest, &err), INGEST_DIGEST_MISMATCH);
    free(wrong);
    assert_false(content_store_has_blob(store, digest, BLOB_SIZE));
    assert_int_equal(ingest_files(), 0);
    content_store_close(store);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_an_unaligned_blob_in_odd_pieces_is_stored_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_download_started_over_after_an_unaligned_piece_is_stored_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_short_or_wrong_blob_is_refused_without_a_file, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
