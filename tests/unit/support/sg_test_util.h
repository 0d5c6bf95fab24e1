/* Helpers shared by the Check suites: file reading and fixture paths. */
#ifndef SG_TEST_UTIL_H
#define SG_TEST_UTIL_H

#include <stddef.h>

/* Reads a whole file; NULL when it cannot. *len gets the size. Caller frees. */
char *sg_test_read_file(const char *path, size_t *len);
/* $SG_FIXTURES_DIR/name, else tests/fixtures/api/name (the API task fixtures); caller frees. */
char *sg_test_fixture_path(const char *name);
/* $SG_TEST_FIXTURES_DIR/name, else tests/fixtures/name (the suites' own fixtures). */
char *sg_test_own_fixture_path(const char *name);
/* The whole of the own fixture named by fmt (sg_test_own_fixture_path), failing
 * the test when it cannot be read. *len gets the size unless len is NULL. Caller frees. */
char *sg_test_read_own_fixture(size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes content to a new temporary file and returns its path (caller frees). */
char *sg_test_write_temp(const char *content);

#endif
