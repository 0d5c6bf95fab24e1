/* The shared tier's byte form of an entry: round trip, and every kind of
 * damage a reader must turn into "not an entry" instead of a crash. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "snapgate/cache_codec.h"
#include "snapgate/common.h"

#define RPC ",\"result\":{\"output\":{\"STRUCTURE\":{}}}}"

static struct sg_cache_entry *sample(void)
{
    static const char body[] = "{\"status\":\"RUNNING\",\"bin\":\"\x01\x00\xff\"}";
    struct sg_cache_entry *e =
        sg_cache_entry_new(200, 1, body, sizeof(body) - 1, 1700000000123ULL, 1700000001123ULL);
    strcpy(e->owner, "vc-1");
    e->completed = 42;
    e->rpc = sg_xstrdup(RPC);
    e->rpc_len = sizeof(RPC) - 1;
    return e;
}

/* Offsets past the etag in sample()'s encoding. */
static long after_etag(const struct sg_cache_entry *e)
{
    return 26 + (long)strlen(e->etag);
}

START_TEST(test_round_trip_keeps_every_field)
{
    struct sg_cache_entry *e = sample();
    struct sg_cache_entry *neg = sg_cache_entry_new(404, -1, "", 0, 5, 6);
    struct sg_cache_entry *in[] = {e, neg};
    for (size_t i = 0; i < SG_ARRAY_LEN(in); i++) {
        size_t len;
        char *buf = sg_cache_codec_encode(in[i], &len);
        ck_assert_mem_eq(buf, "SGCE\x03", 5);
        const char *why = NULL;
        struct sg_cache_entry *out = sg_cache_codec_decode(buf, len, &why);
        ck_assert_ptr_nonnull(out);
        ck_assert_int_eq(out->refs, 1);
        ck_assert_int_eq(out->http_status, in[i]->http_status);
        ck_assert_int_eq(out->task_status, in[i]->task_status);
        ck_assert_uint_eq(out->fetched_at_ms, in[i]->fetched_at_ms);
        ck_assert_uint_eq(out->expires_at_ms, in[i]->expires_at_ms);
        ck_assert_str_eq(out->etag, in[i]->etag);
        ck_assert_str_eq(out->owner, in[i]->owner);
        ck_assert_int_eq(out->completed, in[i]->completed);
        ck_assert_uint_eq(out->len, in[i]->len);
        ck_assert(memcmp(out->body, in[i]->body, out->len) == 0);
        ck_assert_uint_eq(out->rpc_len, in[i]->rpc_len);
        if (in[i]->rpc)
            ck_assert_str_eq(out->rpc, in[i]->rpc);
        else
            ck_assert_ptr_null(out->rpc);
        sg_cache_entry_put(out);
        free(buf);
    }
    sg_cache_entry_put(e);
    sg_cache_entry_put(neg);
}
END_TEST

/* Each case damages a good encoding at one offset (or its length). */
static const struct {
    const char *name;
    long off;   /* byte to change; -1: none */
    int val;    /* its new value */
    long delta; /* change of the length */
    const char *why;
} damage[] = {
    {"bad magic", 0, 'X', 0, "bad magic"},
    {"version 1", 4, 1, 0, "unknown version"},
    {"status 0", 6, 0, 0, "status out of range"},
    {"task status 9", 8, 9, 0, "status out of range"},
    {"etag length 0", 25, 0, 0, "bad etag length"},
    {"etag length 32", 25, 32, 0, "bad etag length"},
    {"etag length past the end", 25, 250, 0, "bad etag length"},
    {"etag byte", 27, 'z', 0, "etag does not match the body"},
    {"body byte", -2, 'Q', 0, "etag does not match the body"},
    {"body length", -3, 0x7f, 0, "bad body length"},
    {"owner length 65", -4, 65, 0, "bad owner"},
    {"owner length past the end", -4, 200, 0, "bad owner"},
    {"owner with a NUL", -5, 0, 0, "bad owner"},
    {"completed negative", -6, 0x80, 0, "completed out of range"},
    {"truncated", -1, 0, -1, "bad rpc length"},
    {"trailing byte", -1, 0, 1, "bad rpc length"},
    {"truncated into the body", -1, 0, -(long)sizeof(RPC) - 4, "bad body length"},
    {"rpc frame", -7, '[', 0, "bad rpc part"},
    {"rpc end", -8, '!', 0, "bad rpc part"},
    {"rpc on a 148", 6, 0x94, 0, "bad rpc part"},
    {"header only", -1, 0, -1000, "bad magic"},
};

START_TEST(test_damage_is_rejected)
{
    struct sg_cache_entry *e = sample();
    size_t len;
    char *good = sg_cache_codec_encode(e, &len);
    char *buf = calloc(1, len + 8);
    memcpy(buf, good, len);
    long off = damage[_i].off;
    long rpc_at = (long)len - (long)(sizeof(RPC) - 1);
    if (off == -2)
        off = rpc_at - 4 - 1; /* last body byte */
    else if (off == -7)
        off = rpc_at; /* the rpc part's first byte */
    else if (off == -8)
        off = (long)len - 1; /* its last */
    else if (off == -3)
        off = after_etag(e) + 1 + 4 + 8; /* high byte of the body length ("vc-1": 4) */
    else if (off == -4)
        off = after_etag(e); /* owner length */
    else if (off == -5)
        off = after_etag(e) + 2; /* an owner byte */
    else if (off == -6)
        off = after_etag(e) + 1 + 4; /* high byte of completed: 0x80 makes it negative */
    if (off >= 0)
        buf[off] = (char)damage[_i].val;
    long n = (long)len + damage[_i].delta;
    if (n < 0)
        n = 10;
    const char *why = NULL;
    ck_assert_msg(sg_cache_codec_decode(buf, (size_t)n, &why) == NULL, "%s accepted",
                  damage[_i].name);
    ck_assert_str_eq(why, damage[_i].why);
    ck_assert_ptr_null(sg_cache_codec_decode(buf, 0, NULL));
    free(buf);
    free(good);
    sg_cache_entry_put(e);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("cache_codec");
    TCase *tc = tcase_create("codec");
    tcase_add_test(tc, test_round_trip_keeps_every_field);
    tcase_add_loop_test(tc, test_damage_is_rejected, 0, (int)SG_ARRAY_LEN(damage));
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
