/* The strict Basic decoder's answers, and what it leaves in the caller's
 * buffer: callers wipe only the *n bytes of an accepted credential (the
 * whole 3 KiB on every request was a visible share of a cache hit), so a
 * refused decode must leave nothing behind and an accepted one nothing past
 * *n. */
#include <check.h>
#include <string.h>

#include "snapgate/basic_header.h"
#include "snapgate/common.h"

static unsigned char buf[SG_BASIC_DECODED_MAX];

static int parse(const char *hdr, size_t *n, size_t *colon)
{
    memset(buf, 0, sizeof(buf));
    return sg_basic_header_parse(hdr, strlen(hdr), buf, n, colon);
}

static void assert_zero_from(size_t from)
{
    for (size_t i = from; i < sizeof(buf); i++)
        ck_assert_msg(buf[i] == 0, "byte %zu left as %u", i, buf[i]);
}

START_TEST(test_an_accepted_credential_is_exactly_n_bytes)
{
    size_t n, colon;
    /* "user:pass" and "user:passw" (one and two padding characters). */
    ck_assert_int_eq(parse("Basic dXNlcjpwYXNz", &n, &colon), SG_OK);
    ck_assert_uint_eq(n, 9);
    ck_assert_uint_eq(colon, 4);
    ck_assert_int_eq(memcmp(buf, "user:pass", 9), 0);
    assert_zero_from(n);
    ck_assert_int_eq(parse("Basic dXNlcjpwYXNzdw==", &n, &colon), SG_OK);
    ck_assert_uint_eq(n, 10);
    assert_zero_from(n);
    ck_assert_int_eq(parse("Basic dXNlcjpwYXNzdzE=", &n, &colon), SG_OK);
    ck_assert_uint_eq(n, 11);
    assert_zero_from(n);
}
END_TEST

START_TEST(test_a_refused_decode_leaves_nothing)
{
    size_t n, colon;
    /* base64 of "no-colon-here-secret": decoded, then refused. */
    ck_assert_int_eq(parse("Basic bm8tY29sb24taGVyZS1zZWNyZXQ=", &n, &colon), SG_DENIED);
    ck_assert_uint_eq(n, 0);
    assert_zero_from(0);
    /* "a:b\0secret": a NUL would cut crypt()'s password short. */
    ck_assert_int_eq(parse("Basic YTpiAHNlY3JldA==", &n, &colon), SG_DENIED);
    ck_assert_uint_eq(n, 0);
    assert_zero_from(0);
}
END_TEST

START_TEST(test_other_schemes_and_bad_base64)
{
    size_t n, colon;
    ck_assert_int_eq(parse("Bearer abc", &n, &colon), SG_DECLINED);
    ck_assert_int_eq(parse("Basicx dXNlcjpwYXNz", &n, &colon), SG_DECLINED);
    ck_assert_int_eq(parse("Basic", &n, &colon), SG_DENIED);
    ck_assert_int_eq(parse("Basic dXNlcjpwYXN", &n, &colon), SG_DENIED); /* not a multiple of 4 */
    ck_assert_int_eq(parse("Basic dXNlcjpwYXNzdx==", &n, &colon),
                     SG_DENIED); /* bits set past the end */
    ck_assert_int_eq(parse("Basic dXNlcjpw*XNz", &n, &colon), SG_DENIED);
    assert_zero_from(0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("basic_header");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_an_accepted_credential_is_exactly_n_bytes);
    tcase_add_test(tc, test_a_refused_decode_leaves_nothing);
    tcase_add_test(tc, test_other_schemes_and_bad_base64);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
