/*
 * test_stats.c: statistics (spec §3): the VERIFIED bytes of §3.6, §10.3 and
 * §10.4, empty statistics, the reference's NaN / signed-zero / byte-order
 * semantics, merge versus direct computation, copies, and write/read round
 * trips for every type including truncated input.
 */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "tsf_error.h"

static void check_bytes(const TsfBuf *o, const uint8_t *want, size_t n)
{
    cr_assert_eq(o->err, 0);
    cr_assert_eq(o->len, n, "length %zu, want %zu", o->len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o->data[i], want[i], "byte %zu: %02x want %02x", i, o->data[i], want[i]);
}

static void write_check(const TsfStats *s, const uint8_t *want, size_t n)
{
    TsfBuf o = TSF_BUF_INIT;
    tsf_stats_write(s, &o);
    check_bytes(&o, want, n);
    cr_assert_eq(tsf_stats_size(s), n);
    tsf_buf_free(&o);
}

Test(stats, example_3_6_int64)
{
    static const uint8_t want[] = {0x03, 0, 0,    0,    0,    0,    0, 0, 1, 0,    0,    0, 0, 0, 0,
                                   0,    3, 0,    0,    0,    0,    0, 0, 0, 0x0a, 0,    0, 0, 0, 0,
                                   0,    0, 0x1e, 0,    0,    0,    0, 0, 0, 0,    0x0a, 0, 0, 0, 0,
                                   0,    0, 0,    0x1e, 0x40, 0x4e, 0, 0, 0, 0,    0,    0};
    int64_t t[3] = {1, 2, 3}, v[3] = {10, 20, 30};
    TsfStats s;
    tsf_stats_init(&s, TSF_INT64);
    cr_assert_eq(tsf_stats_add(&s, t, v, 3), 0);
    write_check(&s, want, sizeof(want));
    /* TIMESTAMP statistics are the same bytes */
    TsfStats ts;
    tsf_stats_init(&ts, TSF_TIMESTAMP);
    cr_assert_eq(tsf_stats_add(&ts, t, v, 3), 0);
    write_check(&ts, want, sizeof(want));
    /* and they read back */
    TsfCursor c = tsf_cursor(want, sizeof(want));
    TsfStats r;
    cr_assert_eq(tsf_stats_read(&c, TSF_INT64, &r), 0);
    cr_assert_eq(tsf_cur_left(&c), 0);
    cr_assert_eq(r.count, 3);
    cr_assert_eq(r.start, 1);
    cr_assert_eq(r.end, 3);
    cr_assert_eq(r.v.i64.min, 10);
    cr_assert_eq(r.v.i64.max, 30);
    cr_assert_eq(r.v.i64.first, 10);
    cr_assert_eq(r.v.i64.last, 30);
    cr_assert_eq(r.v.i64.sum, 60.0);
    tsf_stats_free(&s);
    tsf_stats_free(&ts);
    tsf_stats_free(&r);
}

/* §10.3: aligned s1 INT32 with rows 1 and 3 present; the VECTOR time column. */
Test(stats, example_10_3_aligned)
{
    static const uint8_t s1[] = {0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 1,
                                 0,    0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 4};
    static const uint8_t tc[] = {0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3};
    int64_t t[2] = {1, 3};
    int32_t v[2] = {1, 3};
    TsfStats s;
    tsf_stats_init(&s, TSF_INT32);
    cr_assert_eq(tsf_stats_add(&s, t, v, 2), 0);
    write_check(&s, s1, sizeof(s1));
    int64_t tt[3] = {1, 2, 3};
    TsfStats ts;
    tsf_stats_init(&ts, TSF_VECTOR);
    cr_assert_eq(tsf_stats_add(&ts, tt, NULL, 3), 0);
    write_check(&ts, tc, sizeof(tc));
    tsf_stats_free(&s);
    tsf_stats_free(&ts);
}

/* §10.4: two chunks (1,5) and (2,7) merged into the series statistics. */
Test(stats, example_10_4_merge)
{
    static const uint8_t c1[] = {0x01, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 5,
                                 0,    0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 5};
    static const uint8_t all[] = {0x02, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 5,
                                  0,    0, 0, 7, 0, 0, 0, 5, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 12};
    int64_t t1 = 1, t2 = 2;
    int32_t v1 = 5, v2 = 7;
    TsfStats a, b, m;
    tsf_stats_init(&a, TSF_INT32);
    tsf_stats_init(&b, TSF_INT32);
    tsf_stats_init(&m, TSF_INT32);
    cr_assert_eq(tsf_stats_add(&a, &t1, &v1, 1), 0);
    cr_assert_eq(tsf_stats_add(&b, &t2, &v2, 1), 0);
    write_check(&a, c1, sizeof(c1));
    cr_assert_eq(tsf_stats_merge(&m, &a), 0);
    cr_assert_eq(tsf_stats_merge(&m, &b), 0);
    write_check(&m, all, sizeof(all));
    /* merged in reverse order: same result (first by start, last by end) */
    TsfStats r;
    tsf_stats_init(&r, TSF_INT32);
    cr_assert_eq(tsf_stats_merge(&r, &b), 0);
    cr_assert_eq(tsf_stats_merge(&r, &a), 0);
    write_check(&r, all, sizeof(all));
    tsf_stats_free(&a);
    tsf_stats_free(&b);
    tsf_stats_free(&m);
    tsf_stats_free(&r);
}

static const TsfType all_types[] = {TSF_BOOLEAN, TSF_INT32,     TSF_INT64, TSF_FLOAT, TSF_DOUBLE, TSF_TEXT,
                                    TSF_VECTOR,  TSF_TIMESTAMP, TSF_DATE,  TSF_BLOB,  TSF_STRING};
#define NTYPES (sizeof(all_types) / sizeof(all_types[0]))

static size_t type_part(TsfType t)
{
    switch (t) {
    case TSF_BOOLEAN: return 10;
    case TSF_INT32:
    case TSF_DATE:
    case TSF_FLOAT: return 24;
    case TSF_INT64:
    case TSF_TIMESTAMP:
    case TSF_DOUBLE: return 40;
    case TSF_TEXT: return 8;
    case TSF_STRING: return 16;
    default: return 0;
    }
}

Test(stats, empty_bytes_every_type)
{
    for (size_t i = 0; i < NTYPES; i++) {
        uint8_t want[64] = {0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x80};
        size_t n = 17 + type_part(all_types[i]);
        TsfStats s;
        tsf_stats_init(&s, all_types[i]);
        cr_assert_eq(s.count, 0);
        cr_assert_eq(s.start, INT64_MAX);
        cr_assert_eq(s.end, INT64_MIN);
        write_check(&s, want, n);
        /* and read back as empty */
        TsfCursor c = tsf_cursor(want, n);
        TsfStats r;
        cr_assert_eq(tsf_stats_read(&c, all_types[i], &r), 0);
        cr_assert_eq(tsf_cur_left(&c), 0);
        cr_assert_eq(r.count, 0);
        write_check(&r, want, n);
        /* an empty part changes nothing when merged, either way round */
        TsfStats e;
        tsf_stats_init(&e, all_types[i]);
        cr_assert_eq(tsf_stats_merge(&e, &r), 0);
        write_check(&e, want, n);
        tsf_stats_free(&s);
        tsf_stats_free(&r);
        tsf_stats_free(&e);
    }
}

Test(stats, float_nan_and_signed_zero)
{
    int64_t t[4] = {1, 2, 3, 4};
    TsfStats s;
    /* NaN first: stays min and max (every comparison with NaN is false) */
    float a[3] = {NAN, 1.0f, 2.0f};
    tsf_stats_init(&s, TSF_FLOAT);
    cr_assert_eq(tsf_stats_add(&s, t, a, 3), 0);
    cr_assert(isnan(s.v.f32.min) && isnan(s.v.f32.max));
    cr_assert(isnan(s.v.f32.sum));
    cr_assert_eq(s.v.f32.last, 2.0f);
    /* a later NaN never enters min/max, and a later batch cannot undo a NaN */
    float more[1] = {-5.0f};
    cr_assert_eq(tsf_stats_add(&s, t + 3, more, 1), 0);
    cr_assert(isnan(s.v.f32.min));
    tsf_stats_free(&s);

    float b[3] = {1.0f, NAN, 2.0f};
    tsf_stats_init(&s, TSF_FLOAT);
    cr_assert_eq(tsf_stats_add(&s, t, b, 3), 0);
    cr_assert_eq(s.v.f32.min, 1.0f);
    cr_assert_eq(s.v.f32.max, 2.0f);
    cr_assert(isnan(s.v.f32.sum));
    tsf_stats_free(&s);

    /* -0.0 then 0.0: the first one is kept as both min and max */
    double z[2] = {-0.0, 0.0};
    tsf_stats_init(&s, TSF_DOUBLE);
    cr_assert_eq(tsf_stats_add(&s, t, z, 2), 0);
    cr_assert(signbit(s.v.f64.min) && signbit(s.v.f64.max));
    tsf_stats_free(&s);
    double z2[2] = {0.0, -0.0};
    tsf_stats_init(&s, TSF_DOUBLE);
    cr_assert_eq(tsf_stats_add(&s, t, z2, 2), 0);
    cr_assert(!signbit(s.v.f64.min) && !signbit(s.v.f64.max));
    tsf_stats_free(&s);

    /* merge: a NaN min in the destination is sticky, in the source ignored */
    TsfStats x, y;
    double nanfirst[2] = {NAN, 3.0}, plain[2] = {-1.0, 9.0};
    tsf_stats_init(&x, TSF_DOUBLE);
    tsf_stats_init(&y, TSF_DOUBLE);
    cr_assert_eq(tsf_stats_add(&x, t, nanfirst, 2), 0);
    cr_assert_eq(tsf_stats_add(&y, t + 2, plain, 2), 0);
    TsfStats m1, m2;
    cr_assert_eq(tsf_stats_copy(&m1, &x), 0);
    cr_assert_eq(tsf_stats_merge(&m1, &y), 0);
    cr_assert(isnan(m1.v.f64.min) && isnan(m1.v.f64.max));
    cr_assert_eq(tsf_stats_copy(&m2, &y), 0);
    cr_assert_eq(tsf_stats_merge(&m2, &x), 0);
    cr_assert_eq(m2.v.f64.min, -1.0);
    cr_assert_eq(m2.v.f64.max, 9.0);
    cr_assert(isnan(m2.v.f64.first));
    cr_assert_eq(m2.v.f64.last, 9.0);
    tsf_stats_free(&x);
    tsf_stats_free(&y);
    tsf_stats_free(&m1);
    tsf_stats_free(&m2);
}

Test(stats, sums)
{
    int64_t t[4] = {1, 2, 3, 4};
    TsfStats s;
    int32_t i32[3] = {INT32_MAX, INT32_MAX, INT32_MIN};
    tsf_stats_init(&s, TSF_INT32);
    cr_assert_eq(tsf_stats_add(&s, t, i32, 3), 0);
    cr_assert_eq(s.v.i32.sum, (int64_t)INT32_MAX * 2 + INT32_MIN);
    cr_assert_eq(s.v.i32.min, INT32_MIN);
    cr_assert_eq(s.v.i32.max, INT32_MAX);
    /* the i64 sum wraps like a Java long */
    TsfStats big;
    tsf_stats_init(&big, TSF_INT32);
    int32_t one = 1;
    cr_assert_eq(tsf_stats_add(&big, t + 3, &one, 1), 0);
    s.v.i32.sum = INT64_MAX;
    cr_assert_eq(tsf_stats_merge(&s, &big), 0);
    cr_assert_eq(s.v.i32.sum, INT64_MIN);
    tsf_stats_free(&s);
    tsf_stats_free(&big);

    /* INT64: converted to double value by value, in order */
    int64_t i64[3] = {INT64_C(1) << 53, 1, 1};
    tsf_stats_init(&s, TSF_INT64);
    cr_assert_eq(tsf_stats_add(&s, t, i64, 3), 0);
    double want = (double)(INT64_C(1) << 53);
    want += 1.0;
    want += 1.0;
    cr_assert_eq(s.v.i64.sum, want); /* 2^53: each +1 rounds away */
    tsf_stats_free(&s);

    /* FLOAT widened to double before adding */
    float f[2] = {0.1f, 0.2f};
    tsf_stats_init(&s, TSF_FLOAT);
    cr_assert_eq(tsf_stats_add(&s, t, f, 2), 0);
    cr_assert_eq(s.v.f32.sum, (double)0.1f + (double)0.2f);
    tsf_stats_free(&s);

    /* BOOLEAN: number of trues */
    uint8_t b[4] = {1, 0, 1, 1};
    tsf_stats_init(&s, TSF_BOOLEAN);
    cr_assert_eq(tsf_stats_add(&s, t, b, 4), 0);
    cr_assert_eq(s.v.b.sum, 3);
    cr_assert_eq(s.v.b.first, 1);
    cr_assert_eq(s.v.b.last, 1);
    static const uint8_t want_b[] = {0x04, 0, 0, 0,    0,    0, 0, 0, 1, 0, 0, 0, 0, 0,
                                     0,    0, 4, 0x01, 0x01, 0, 0, 0, 0, 0, 0, 0, 3};
    write_check(&s, want_b, sizeof(want_b));
    tsf_stats_free(&s);
}

static TsfBin B(const char *s)
{
    return (TsfBin){(const uint8_t *)s, (uint32_t)strlen(s)};
}

static bool bin_eq(TsfBin a, const char *s)
{
    return a.len == strlen(s) && (a.len == 0 || memcmp(a.ptr, s, a.len) == 0);
}

Test(stats, string_order_unsigned_shorter_first)
{
    int64_t t[6] = {1, 2, 3, 4, 5, 6};
    char *buf = strdup("b\xff"
                       "aab");
    TsfBin v[6] = {{(const uint8_t *)buf, 1},     {(const uint8_t *)buf + 1, 1},
                   {(const uint8_t *)buf + 2, 1}, {(const uint8_t *)buf + 2, 2},
                   {(const uint8_t *)buf, 0},     {(const uint8_t *)buf + 3, 2}};
    /* values: "b", "\xff", "a", "aa", "", "ab" */
    TsfStats s;
    tsf_stats_init(&s, TSF_STRING);
    cr_assert_eq(tsf_stats_add(&s, t, v, 6), 0);
    memset(buf, 'z', 5); /* values were copied */
    free(buf);
    cr_assert(bin_eq(s.v.bin.first, "b"));
    cr_assert(bin_eq(s.v.bin.last, "ab"));
    cr_assert(bin_eq(s.v.bin.min, ""));
    cr_assert(bin_eq(s.v.bin.max, "\xff"));
    cr_assert(s.owned);
    static const uint8_t want[] = {0x06, 0, 0,   0, 0, 0, 0, 0,   1,   0, 0, 0, 0, 0, 0, 0, 6, 0,   0,
                                   0,    1, 'b', 0, 0, 0, 2, 'a', 'b', 0, 0, 0, 0, 0, 0, 0, 1, 0xff};
    write_check(&s, want, sizeof(want));
    tsf_stats_free(&s);

    /* TEXT keeps first and last only */
    TsfBin tv[3] = {B("m"), B("a"), B("z")};
    tsf_stats_init(&s, TSF_TEXT);
    cr_assert_eq(tsf_stats_add(&s, t, tv, 3), 0);
    static const uint8_t want_t[] = {0x03, 0, 0, 0, 0, 0, 0, 0,   1, 0, 0, 0, 0,  0,
                                     0,    0, 3, 0, 0, 0, 1, 'm', 0, 0, 0, 1, 'z'};
    write_check(&s, want_t, sizeof(want_t));
    tsf_stats_free(&s);

    /* BLOB: nothing beyond the common part */
    tsf_stats_init(&s, TSF_BLOB);
    cr_assert_eq(tsf_stats_add(&s, t, tv, 3), 0);
    static const uint8_t want_bl[] = {0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3};
    write_check(&s, want_bl, sizeof(want_bl));
    tsf_stats_free(&s);
}

/* ---- random data: merge == direct, batches == one call, round trips ---- */

static uint64_t rs = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
    rs ^= rs << 13;
    rs ^= rs >> 7;
    rs ^= rs << 17;
    return rs;
}

typedef struct Data {
    TsfType type;
    size_t n;
    int64_t *times;
    void *values;
    char *pool; /* bytes of binary values */
} Data;

/* Integer-valued floats keep double sums exact, so merging parts and adding
 * directly agree bit for bit (rounding otherwise depends on grouping). */
static Data make_data(TsfType type, size_t n, bool exact)
{
    Data d = {type, n, malloc(n * sizeof(int64_t)), NULL, NULL};
    int64_t t = (int64_t)(rnd() % 1000) - 500;
    for (size_t i = 0; i < n; i++) {
        t += 1 + (int64_t)(rnd() % 10);
        d.times[i] = t;
    }
    size_t es = tsf_type_elem_size(type);
    d.values = malloc(n * es + 1);
    d.pool = malloc(n * 8 + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t r = rnd();
        switch (tsf_type_phys(type)) {
        case TSF_PHYS_BOOL: ((uint8_t *)d.values)[i] = r & 1; break;
        case TSF_PHYS_I32: ((int32_t *)d.values)[i] = i % 17 == 3 ? INT32_MIN : (int32_t)r; break;
        case TSF_PHYS_I64:
            ((int64_t *)d.values)[i] =
                exact ? (int64_t)(r % 100000) - 50000 : (i % 13 == 5 ? INT64_MAX : (int64_t)r);
            break;
        case TSF_PHYS_F32:
            ((float *)d.values)[i] =
                exact ? (float)((int)(r % 2001) - 1000) : (float)((double)(int64_t)r / 1e15);
            break;
        case TSF_PHYS_F64:
            ((double *)d.values)[i] = exact ? (double)((int)(r % 20001) - 10000) : (double)(int64_t)r / 1e9;
            break;
        case TSF_PHYS_BIN: {
            size_t len = r % 8;
            for (size_t j = 0; j < len; j++) d.pool[i * 8 + j] = (char)(rnd() % 4 ? 'a' + rnd() % 3 : 0xfe);
            ((TsfBin *)d.values)[i] = (TsfBin){(const uint8_t *)d.pool + i * 8, (uint32_t)len};
            break;
        }
        default: break;
        }
    }
    return d;
}

static void free_data(Data *d)
{
    free(d->times);
    free(d->values);
    free(d->pool);
}

static void same_bytes(const TsfStats *a, const TsfStats *b)
{
    TsfBuf x = TSF_BUF_INIT, y = TSF_BUF_INIT;
    tsf_stats_write(a, &x);
    tsf_stats_write(b, &y);
    cr_assert_eq(x.len, y.len, "type %d", a->type);
    cr_assert(memcmp(x.data, y.data, x.len) == 0, "type %d", a->type);
    tsf_buf_free(&x);
    tsf_buf_free(&y);
}

Test(stats, merge_equals_direct)
{
    for (int round = 0; round < 30; round++) {
        for (size_t ti = 0; ti < NTYPES; ti++) {
            TsfType type = all_types[ti];
            size_t n = 1 + rnd() % 300;
            Data d = make_data(type, n, true);
            size_t es = tsf_type_elem_size(type);
            TsfStats direct, batched, merged;
            tsf_stats_init(&direct, type);
            tsf_stats_init(&batched, type);
            tsf_stats_init(&merged, type);
            cr_assert_eq(tsf_stats_add(&direct, d.times, d.values, n), 0);
            size_t i = 0;
            while (i < n) {
                size_t k = 1 + rnd() % 40;
                if (k > n - i) k = n - i;
                const void *vp = (const char *)d.values + i * es;
                cr_assert_eq(tsf_stats_add(&batched, d.times + i, vp, k), 0);
                TsfStats part;
                tsf_stats_init(&part, type);
                cr_assert_eq(tsf_stats_add(&part, d.times + i, vp, k), 0);
                /* a reader's (non-owned) copy merges like the original */
                TsfBuf w = TSF_BUF_INIT;
                tsf_stats_write(&part, &w);
                TsfCursor c = tsf_cursor(w.data, w.len);
                TsfStats parsed;
                cr_assert_eq(tsf_stats_read(&c, type, &parsed), 0);
                cr_assert(!parsed.owned);
                cr_assert_eq(tsf_stats_merge(&merged, rnd() & 1 ? &part : &parsed), 0);
                tsf_buf_free(&w);
                tsf_stats_free(&part);
                tsf_stats_free(&parsed);
                i += k;
            }
            same_bytes(&direct, &batched);
            same_bytes(&direct, &merged);
            tsf_stats_free(&direct);
            tsf_stats_free(&batched);
            tsf_stats_free(&merged);
            free_data(&d);
        }
    }
}

/* Inexact data: batches still equal one call (same order of additions). */
Test(stats, batches_equal_one_call_with_rounding)
{
    for (size_t ti = 0; ti < NTYPES; ti++) {
        TsfType type = all_types[ti];
        size_t n = 500;
        Data d = make_data(type, n, false);
        size_t es = tsf_type_elem_size(type);
        TsfStats direct, batched;
        tsf_stats_init(&direct, type);
        tsf_stats_init(&batched, type);
        cr_assert_eq(tsf_stats_add(&direct, d.times, d.values, n), 0);
        for (size_t i = 0; i < n; i += 7) {
            size_t k = n - i < 7 ? n - i : 7;
            cr_assert_eq(tsf_stats_add(&batched, d.times + i, (const char *)d.values + i * es, k), 0);
        }
        same_bytes(&direct, &batched);
        tsf_stats_free(&direct);
        tsf_stats_free(&batched);
        free_data(&d);
    }
}

Test(stats, round_trip_every_type)
{
    for (int round = 0; round < 20; round++) {
        for (size_t ti = 0; ti < NTYPES; ti++) {
            TsfType type = all_types[ti];
            size_t n = 1 + rnd() % 100;
            Data d = make_data(type, n, round & 1);
            TsfStats s;
            tsf_stats_init(&s, type);
            cr_assert_eq(tsf_stats_add(&s, d.times, d.values, n), 0);
            TsfBuf w = TSF_BUF_INIT;
            tsf_buf_put(&w, "pre", 3);
            tsf_stats_write(&s, &w);
            cr_assert_eq(w.len, 3 + tsf_stats_size(&s));
            TsfCursor c = tsf_cursor(w.data + 3, w.len - 3);
            TsfStats r;
            cr_assert_eq(tsf_stats_read(&c, type, &r), 0);
            cr_assert_eq(tsf_cur_left(&c), 0);
            cr_assert_eq(r.count, s.count);
            cr_assert_eq(r.start, d.times[0]);
            cr_assert_eq(r.end, d.times[n - 1]);
            same_bytes(&s, &r);
            /* a deep copy survives the original and the buffer */
            TsfStats cp;
            cr_assert_eq(tsf_stats_copy(&cp, &r), 0);
            TsfBuf before = TSF_BUF_INIT;
            tsf_stats_write(&cp, &before);
            memset(w.data, 0xee, w.len);
            tsf_buf_free(&w);
            tsf_stats_free(&s);
            TsfBuf after = TSF_BUF_INIT;
            tsf_stats_write(&cp, &after);
            cr_assert_eq(before.len, after.len);
            cr_assert(memcmp(before.data, after.data, after.len) == 0);
            tsf_buf_free(&before);
            tsf_buf_free(&after);
            tsf_stats_free(&cp);
            tsf_stats_free(&r);
            free_data(&d);
        }
    }
}

Test(stats, read_truncated_and_bad)
{
    for (size_t ti = 0; ti < NTYPES; ti++) {
        TsfType type = all_types[ti];
        Data d = make_data(type, 20, false);
        TsfStats s;
        tsf_stats_init(&s, type);
        cr_assert_eq(tsf_stats_add(&s, d.times, d.values, 20), 0);
        TsfBuf w = TSF_BUF_INIT;
        tsf_stats_write(&s, &w);
        for (size_t cut = 0; cut < w.len; cut++) {
            uint8_t *part = malloc(cut ? cut : 1);
            memcpy(part, w.data, cut);
            TsfCursor c = tsf_cursor(part, cut);
            TsfStats r;
            cr_assert_eq(tsf_stats_read(&c, type, &r), TSF_ECORRUPT, "type %d cut %zu", type, cut);
            tsf_stats_free(&r);
            free(part);
        }
        tsf_buf_free(&w);
        tsf_stats_free(&s);
        free_data(&d);
    }
    /* negative I32Bin length */
    static const uint8_t neg[] = {0x01, 0, 0, 0, 0,    0,    0,    0,    1, 0, 0, 0, 0,
                                  0,    0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    TsfCursor c = tsf_cursor(neg, sizeof(neg));
    TsfStats r;
    cr_assert_eq(tsf_stats_read(&c, TSF_TEXT, &r), TSF_ECORRUPT);
    /* huge length */
    static const uint8_t huge[] = {0x01, 0, 0, 0, 0, 0, 0,    0,    1,    0,    0,
                                   0,    0, 0, 0, 0, 1, 0x7f, 0xff, 0xff, 0xff, 'x'};
    c = tsf_cursor(huge, sizeof(huge));
    cr_assert_eq(tsf_stats_read(&c, TSF_STRING, &r), TSF_ECORRUPT);
    /* unknown type */
    c = tsf_cursor(huge, sizeof(huge));
    cr_assert_eq(tsf_stats_read(&c, (TsfType)7, &r), TSF_ECORRUPT);
    /* BOOLEAN: only 0x01 is true */
    static const uint8_t bl[] = {0x01, 0, 0, 0,    0,    0, 0, 0, 1, 0, 0, 0, 0, 0,
                                 0,    0, 1, 0x02, 0x01, 0, 0, 0, 0, 0, 0, 0, 1};
    c = tsf_cursor(bl, sizeof(bl));
    cr_assert_eq(tsf_stats_read(&c, TSF_BOOLEAN, &r), 0);
    cr_assert_eq(r.v.b.first, 0);
    cr_assert_eq(r.v.b.last, 1);
}

Test(stats, merge_type_mismatch)
{
    TsfStats a, b;
    tsf_stats_init(&a, TSF_INT32);
    tsf_stats_init(&b, TSF_INT64);
    cr_assert_eq(tsf_stats_merge(&a, &b), TSF_EINVAL);
}

/* Adding one value at a time reuses the store once it is big enough. */
Test(stats, store_reused)
{
    TsfStats s;
    tsf_stats_init(&s, TSF_STRING);
    const char *vals[] = {"mmmm", "a", "zz", "bbbb", "c", "yy", "mmm", "n"};
    const uint8_t *seen = NULL;
    int reallocs = 0;
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 8; i++) {
            int64_t t = round * 8 + i;
            TsfBin v = B(vals[i]);
            cr_assert_eq(tsf_stats_add(&s, &t, &v, 1), 0);
            if (s.store.data != seen) reallocs++;
            seen = s.store.data;
        }
    }
    cr_assert_leq(reallocs, 4);
    cr_assert(bin_eq(s.v.bin.first, "mmmm"));
    cr_assert(bin_eq(s.v.bin.last, "n"));
    cr_assert(bin_eq(s.v.bin.min, "a"));
    cr_assert(bin_eq(s.v.bin.max, "zz"));
    tsf_stats_free(&s);
}
