/*
 * test_roundtrip.c: write with the streaming writer, read back through the
 * index and the page decoders, for every legal type x encoding x codec,
 * non-aligned and aligned (with nulls), single- and multi-page, with random
 * data including extremes.  Also the exact bytes of the spec's worked
 * examples (§10.1 v3, §10.2 v4, §10.3 aligned) and recovery of an unclosed
 * file.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reader.h"
#include "series_scan.h"
#include "writer.h"

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const TsfType all_types[] = {TSF_BOOLEAN, TSF_INT32,     TSF_INT64, TSF_FLOAT, TSF_DOUBLE,
                                    TSF_TEXT,    TSF_TIMESTAMP, TSF_DATE,  TSF_BLOB,  TSF_STRING};
static const TsfEncoding all_encs[] = {TSF_ENC_PLAIN,   TSF_ENC_DICTIONARY, TSF_ENC_RLE,  TSF_ENC_TS_2DIFF,
                                       TSF_ENC_GORILLA, TSF_ENC_ZIGZAG,     TSF_ENC_CHIMP};
static const TsfCompression all_comps[] = {TSF_COMP_UNCOMPRESSED, TSF_COMP_SNAPPY, TSF_COMP_GZIP,
                                           TSF_COMP_LZ4,          TSF_COMP_ZSTD,   TSF_COMP_LZMA2};

static bool lossy(TsfType t, TsfEncoding e)
{
    return (t == TSF_FLOAT || t == TSF_DOUBLE) && (e == TSF_ENC_RLE || e == TSF_ENC_TS_2DIFF);
}

/* A value that every encoding can hold: GORILLA and CHIMP reserve the
 * minimum integer and the canonical NaN as their end-of-stream marker. */
static bool xor_encoding(TsfEncoding e)
{
    return e == TSF_ENC_GORILLA || e == TSF_ENC_CHIMP;
}

static char text_pool[64][40];

static void make_values(TsfType t, TsfEncoding e, size_t n, void *out)
{
    static const int64_t i64x[] = {INT64_MAX, INT64_MIN, 0, -1, 1};
    static const int32_t i32x[] = {INT32_MAX, INT32_MIN, 0, -1, 1};
    static const double dx[] = {INFINITY, -INFINITY, -0.0, 0.0, 5e-324, 1.7976931348623157e308, NAN};
    for (int k = 0; k < 64; k++) {
        int len = k % 7 == 0 ? 0 : (k % 11 == 0 ? 20 : k % 9 + 1);
        for (int j = 0; j < len; j++) text_pool[k][j] = (char)('a' + (k * 7 + j) % 26);
        if (k == 5) memcpy(text_pool[k], "\xe6\xb8\xa9\xe5\xba\xa6,\n\\", 10), len = 10;
        text_pool[k][len] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t r = next_rand();
        bool ext = lossy(t, e) ? false : (r % 10 == 0);
        switch (t) {
        case TSF_BOOLEAN: ((uint8_t *)out)[i] = r & 1; break;
        case TSF_INT32:
        case TSF_DATE: {
            int32_t v = ext ? i32x[r / 10 % 5] : (int32_t)(r % 2000) - 1000 + (int32_t)i * 3;
            if (xor_encoding(e) && v == INT32_MIN) v = INT32_MIN + 1;
            ((int32_t *)out)[i] = v;
            break;
        }
        case TSF_INT64:
        case TSF_TIMESTAMP: {
            int64_t v = ext ? i64x[r / 10 % 5] : (int64_t)(r % 100000) - 50000 + (int64_t)i * 1000;
            if (xor_encoding(e) && v == INT64_MIN) v = INT64_MIN + 1;
            ((int64_t *)out)[i] = v;
            break;
        }
        case TSF_FLOAT:
        case TSF_DOUBLE: {
            double v = lossy(t, e) ? (double)((int64_t)(r % 200000) - 100000) / 100.0
                                   : (ext ? dx[r / 10 % 7] : ((double)(r % 1000000) - 500000.0) / 977.0);
            if (xor_encoding(e) && isnan(v)) v = 1.5;
            if (t == TSF_FLOAT)
                ((float *)out)[i] = (float)v;
            else
                ((double *)out)[i] = v;
            break;
        }
        default: {
            const char *s = text_pool[r % 64];
            ((TsfBin *)out)[i] = (TsfBin){(const uint8_t *)s, (uint32_t)strlen(s)};
            break;
        }
        }
    }
}

static bool value_equal(TsfType t, TsfEncoding e, const void *a, const void *b, size_t i)
{
    switch (t) {
    case TSF_BOOLEAN: return ((const uint8_t *)a)[i] == ((const uint8_t *)b)[i];
    case TSF_INT32:
    case TSF_DATE: return ((const int32_t *)a)[i] == ((const int32_t *)b)[i];
    case TSF_INT64:
    case TSF_TIMESTAMP: return ((const int64_t *)a)[i] == ((const int64_t *)b)[i];
    case TSF_FLOAT: {
        float x = ((const float *)a)[i], y = ((const float *)b)[i];
        if (lossy(t, e)) return fabs((double)x - (double)y) <= 0.0051;
        return memcmp(&x, &y, 4) == 0 || (isnan(x) && isnan(y));
    }
    case TSF_DOUBLE: {
        double x = ((const double *)a)[i], y = ((const double *)b)[i];
        if (lossy(t, e)) return fabs(x - y) <= 0.0051;
        return memcmp(&x, &y, 8) == 0 || (isnan(x) && isnan(y));
    }
    default: {
        const TsfBin *x = (const TsfBin *)a + i, *y = (const TsfBin *)b + i;
        return x->len == y->len && memcmp(x->ptr, y->ptr, x->len) == 0;
    }
    }
}

typedef struct Got {
    TsfType type;
    int64_t *t;
    uint8_t *v;
    size_t n;
    TsfBuf bytes;
} Got;

static int got_points(void *ctx, const int64_t *times, const void *values, size_t n)
{
    Got *g = ctx;
    size_t esz = tsf_type_elem_size(g->type);
    g->t = realloc(g->t, (g->n + n) * 8);
    g->v = realloc(g->v, (g->n + n) * esz);
    memcpy(g->t + g->n, times, n * 8);
    memcpy(g->v + g->n * esz, values, n * esz);
    if (tsf_type_phys(g->type) == TSF_PHYS_BIN) {
        /* decoded bytes die with the page: keep copies */
        TsfBin *b = (TsfBin *)g->v + g->n;
        for (size_t i = 0; i < n; i++) {
            uint8_t *copy = malloc(b[i].len + 1);
            memcpy(copy, b[i].ptr, b[i].len);
            b[i].ptr = copy;
        }
    }
    g->n += n;
    return 0;
}

static void got_free(Got *g)
{
    if (tsf_type_phys(g->type) == TSF_PHYS_BIN)
        for (size_t i = 0; i < g->n; i++) free((void *)((TsfBin *)g->v)[i].ptr);
    free(g->t);
    free(g->v);
}

static char *tmp_path(const char *tag)
{
    static char p[256];
    snprintf(p, sizeof p, "/tmp/tsfs-test-%d-%s.tsfile", (int)getpid(), tag);
    return p;
}

static void roundtrip_one(TsfType t, TsfEncoding e, TsfCompression c, bool aligned, size_t n,
                          uint32_t page_points)
{
    char *path = tmp_path("rt");
    TsfWriterOpts o;
    tsf_writer_opts_default(&o);
    o.page_max_points = page_points;
    TsfWriter *w;
    cr_assert_eq(tsf_writer_open(path, &o, &w), 0);
    size_t esz = tsf_type_elem_size(t);
    int64_t *times = malloc((n + 1) * 8);
    uint8_t *vals = malloc((n + 1) * esz);
    uint8_t *present = malloc(n + 1);
    int64_t tt = -5000 - (int64_t)(next_rand() % 1000);
    for (size_t i = 0; i < n; i++) {
        tt += 1 + (int64_t)(next_rand() % 3 ? 0 : next_rand() % 1000);
        times[i] = tt;
        present[i] = aligned ? (next_rand() % 4 != 0) : 1;
    }
    make_values(t, e, n, vals);
    int rc;
    if (aligned) {
        TsfColumnSchema col = {"v", t, e, c};
        const void *vv[1] = {vals};
        const uint8_t *pp[1] = {present};
        rc = tsf_writer_begin_aligned(w, "root.rt.d", &col, 1);
        if (rc == 0) rc = tsf_writer_append_aligned(w, times, n, vv, pp);
    } else {
        rc = tsf_writer_begin_group(w, "root.rt.d");
        if (rc == 0) rc = tsf_writer_begin_series(w, "v", t, e, c);
        /* two appends to cross the seam */
        if (rc == 0) rc = tsf_writer_append(w, times, vals, n / 3);
        if (rc == 0) rc = tsf_writer_append(w, times + n / 3, vals + (n / 3) * esz, n - n / 3);
        if (rc == 0) rc = tsf_writer_end_series(w);
    }
    if (rc == 0) rc = tsf_writer_end_group(w);
    cr_assert_eq(rc, 0, "%s/%s/%s: write: %s", tsf_type_name(t), tsf_encoding_name(e),
                 tsf_compression_name(c), tsf_writer_err(w)->msg);
    cr_assert_eq(tsf_writer_close(w), 0);

    TsfReader *r;
    TsfErr err = {0};
    cr_assert_eq(tsf_reader_open(path, &r, &err), 0, "open: %s", err.msg);
    TsfSeriesMeta sm, tm;
    cr_assert_eq(tsf_reader_find_series(r, "root.rt.d", "v", &sm), 0);
    bool have_tm = aligned && tsf_reader_find_series(r, "root.rt.d", "", &tm) == 0;
    cr_assert(!aligned || have_tm);
    Got g = {.type = t};
    rc = tsf_series_scan(r, &sm, aligned ? &tm : NULL, INT64_MIN, INT64_MAX, got_points, &g, NULL);
    cr_assert_eq(rc, 0, "%s/%s/%s aligned=%d: scan: %s", tsf_type_name(t), tsf_encoding_name(e),
                 tsf_compression_name(c), aligned, tsf_reader_err(r)->msg);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!present[i]) continue;
        cr_assert_lt(k, g.n, "missing points");
        cr_assert_eq(g.t[k], times[i]);
        cr_assert(value_equal(t, e, vals, g.v, 0) || true);
        /* compare value i of the input with value k of the output */
        uint8_t a[16], b[16];
        memcpy(a, vals + i * esz, esz);
        memcpy(b, g.v + k * esz, esz);
        cr_assert(value_equal(t, e, a, b, 0), "%s/%s/%s aligned=%d: value %zu differs", tsf_type_name(t),
                  tsf_encoding_name(e), tsf_compression_name(c), aligned, i);
        k++;
    }
    cr_assert_eq(k, g.n, "extra points");
    cr_assert_eq(sm.stats.count, g.n);
    got_free(&g);
    tsf_series_meta_free(&sm);
    if (have_tm) tsf_series_meta_free(&tm);
    tsf_reader_close(r);
    free(times);
    free(vals);
    free(present);
    unlink(path);
}

Test(roundtrip, every_type_encoding_codec, .timeout = 600)
{
    int combos = 0;
    for (size_t ti = 0; ti < sizeof all_types / sizeof *all_types; ti++)
        for (size_t ei = 0; ei < sizeof all_encs / sizeof *all_encs; ei++) {
            if (!tsf_encoding_allowed(all_types[ti], all_encs[ei])) continue;
            for (size_t ci = 0; ci < sizeof all_comps / sizeof *all_comps; ci++)
                for (int aligned = 0; aligned < 2; aligned++) {
                    roundtrip_one(all_types[ti], all_encs[ei], all_comps[ci], aligned, 1 + next_rand() % 700,
                                  100);
                    combos++;
                }
        }
    cr_assert_gt(combos, 300);
}

Test(roundtrip, single_point_and_large_pages)
{
    roundtrip_one(TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_LZ4, false, 1, 10000);
    roundtrip_one(TSF_DOUBLE, TSF_ENC_GORILLA, TSF_COMP_SNAPPY, true, 1, 10000);
    roundtrip_one(TSF_DOUBLE, TSF_ENC_GORILLA, TSF_COMP_LZ4, false, 50000, 10000);
    roundtrip_one(TSF_TEXT, TSF_ENC_PLAIN, TSF_COMP_ZSTD, false, 30000, 10000);
}

/* ---- exact bytes of the spec's worked examples ---------------------------- */

static size_t slurp(const char *path, uint8_t *buf, size_t cap)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

static void write_example(const char *path, int version)
{
    TsfWriterOpts o;
    tsf_writer_opts_default(&o);
    o.version = version;
    TsfWriter *w;
    int64_t t[3] = {1, 2, 3}, v[3] = {10, 20, 30};
    cr_assert_eq(tsf_writer_open(path, &o, &w), 0);
    cr_assert_eq(tsf_writer_begin_group(w, "root.sg.d1"), 0);
    cr_assert_eq(tsf_writer_begin_series(w, "s1", TSF_INT64, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED), 0);
    cr_assert_eq(tsf_writer_append(w, t, v, 3), 0);
    cr_assert_eq(tsf_writer_end_series(w), 0);
    cr_assert_eq(tsf_writer_end_group(w), 0);
    cr_assert_eq(tsf_writer_close(w), 0);
}

Test(spec_bytes, v3_example_10_1)
{
    static const char want_hex[] = "547346696c65030014726f6f742e73672e643105047331330200003131180000"
                                   "00020000000000000000000000010000000000000001000000000000000a0000"
                                   "000000000014000000000000001e020004733102080300000000000000010000"
                                   "000000000003000000000000000a000000000000001e000000000000000a0000"
                                   "00000000001e404e000000000000000000000000001301047331000000000000"
                                   "004f0000000000000096030114726f6f742e73672e6431000000000000009600"
                                   "000000000000ab01000000000000004e1a000002000000000000000040000000"
                                   "000000000000000040000680020500000043547346696c65";
    uint8_t want[248];
    for (size_t i = 0; i < sizeof want; i++) sscanf(want_hex + 2 * i, "%2hhx", &want[i]);
    char *path = tmp_path("v3");
    write_example(path, 3);
    uint8_t got[1024];
    size_t n = slurp(path, got, sizeof got);
    unlink(path);
    cr_assert_eq(n, sizeof want);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(got[i], want[i], "byte 0x%zx: %02x != %02x", i, got[i], want[i]);
}

Test(spec_bytes, v4_example_10_2)
{
    char *path = tmp_path("v4");
    write_example(path, 4);
    uint8_t got[1024];
    size_t n = slurp(path, got, sizeof got);
    unlink(path);
    cr_assert_eq(n, 312);
    static const uint8_t dev[] = {0x00, 0x02, 0x0e, 'r', 'o', 'o', 't', '.', 's', 'g', 0x04, 'd', '1', 0x05};
    cr_assert(memcmp(got + 7, dev, sizeof dev) == 0);
    static const uint8_t tail[] = {0x00, 0x00, 0x00, 0x82, 'T', 's', 'F', 'i', 'l', 'e'};
    cr_assert(memcmp(got + 302, tail, sizeof tail) == 0);
    static const uint8_t props[] = {0x06, 0x18, 'e', 'n', 'c', 'r', 'y',  'p',
                                    't',  'L',  'e', 'v', 'e', 'l', 0x02, '0'};
    cr_assert(memcmp(got + 0xfa, props, sizeof props) == 0);
}

Test(spec_bytes, aligned_example_10_3)
{
    char *path = tmp_path("al");
    TsfWriterOpts o;
    tsf_writer_opts_default(&o);
    o.time_compression = TSF_COMP_UNCOMPRESSED;
    TsfWriter *w;
    cr_assert_eq(tsf_writer_open(path, &o, &w), 0);
    TsfColumnSchema cols[2] = {{"s1", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED},
                               {"s2", TSF_INT64, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED}};
    int64_t t[3] = {1, 2, 3}, s2[3] = {10, 20, 30};
    int32_t s1[3] = {1, 0, 3};
    uint8_t p1[3] = {1, 0, 1};
    const void *vals[2] = {s1, s2};
    const uint8_t *pres[2] = {p1, NULL};
    cr_assert_eq(tsf_writer_begin_aligned(w, "root.sg.d2", cols, 2), 0);
    cr_assert_eq(tsf_writer_append_aligned(w, t, 3, vals, pres), 0);
    cr_assert_eq(tsf_writer_close(w), 0);
    uint8_t got[1024];
    size_t n = slurp(path, got, sizeof got);
    unlink(path);
    cr_assert_eq(n, 360);
    /* time chunk, value chunk of s1 with its bitmap, separator */
    static const uint8_t tchunk[] = {0x85, 0x00, 0x1a, 0x06, 0x00, 0x04, 0x18, 0x18};
    cr_assert(memcmp(got + 0x13, tchunk, sizeof tchunk) == 0);
    static const uint8_t s1page[] = {0x45, 0x04, 's', '1', 0x09, 0x01, 0x00, 0x00, 0x07,
                                     0x07, 0,    0,   0,   3,    0xa0, 0x02, 0x06};
    cr_assert(memcmp(got + 0x33, s1page, sizeof s1page) == 0);
    cr_assert_eq(got[0x6b], 0x02);
    static const uint8_t tail[] = {0x00, 0x00, 0x00, 0x44, 'T', 's', 'F', 'i', 'l', 'e'};
    cr_assert(memcmp(got + 0x15e, tail, sizeof tail) == 0);
}

/* ---- recovery -------------------------------------------------------------- */

Test(recover, unclosed_file_keeps_complete_chunk_groups)
{
    char *path = tmp_path("rec");
    TsfWriter *w;
    cr_assert_eq(tsf_writer_open(path, NULL, &w), 0);
    int64_t t[100], v[100];
    for (int i = 0; i < 100; i++) t[i] = i, v[i] = i * 7;
    for (int g = 0; g < 3; g++) {
        cr_assert_eq(tsf_writer_begin_group(w, "root.r.d"), 0);
        cr_assert_eq(tsf_writer_begin_series(w, "s", TSF_INT64, TSF_ENC_GORILLA, TSF_COMP_SNAPPY), 0);
        int64_t tg[100];
        for (int i = 0; i < 100; i++) tg[i] = t[i] + g * 1000;
        cr_assert_eq(tsf_writer_append(w, tg, v, 100), 0);
        cr_assert_eq(tsf_writer_end_group(w), 0);
        if (g < 2) cr_assert_eq(tsf_writer_mark_plan_index(w, g, g), 0);
    }
    cr_assert_eq(tsf_writer_sync(w), 0);
    uint64_t full = tsf_writer_position(w);
    tsf_writer_abort(w);                              /* a crash: no index */
    cr_assert_eq(truncate(path, (off_t)full - 5), 0); /* and a torn last chunk */

    TsfReader *r;
    cr_assert_eq(tsf_reader_open(path, &r, NULL), TSF_EINCOMPLETE);
    TsfRecoverInfo info;
    TsfErr err = {0};
    cr_assert_eq(tsf_writer_recover(path, NULL, &w, &info, &err), 0, "%s", err.msg);
    cr_assert(info.has_plan_index);
    cr_assert_eq(info.min_plan_index, 0);
    cr_assert_eq(info.max_plan_index, 1);
    /* the file goes on: a fourth group after recovery */
    cr_assert_eq(tsf_writer_begin_group(w, "root.r.d"), 0);
    cr_assert_eq(tsf_writer_begin_series(w, "s", TSF_INT64, TSF_ENC_GORILLA, TSF_COMP_SNAPPY), 0);
    int64_t t4 = 5000, v4 = 1;
    cr_assert_eq(tsf_writer_append(w, &t4, &v4, 1), 0);
    cr_assert_eq(tsf_writer_close(w), 0);
    cr_assert_eq(tsf_reader_open(path, &r, &err), 0, "%s", err.msg);
    TsfSeriesMeta sm;
    cr_assert_eq(tsf_reader_find_series(r, "root.r.d", "s", &sm), 0);
    cr_assert_eq(sm.nchunks, 3); /* groups 0 and 1, then the new one */
    cr_assert_eq(sm.stats.count, 201);
    cr_assert_eq(sm.stats.end, 5000);
    Got g = {.type = TSF_INT64};
    cr_assert_eq(tsf_series_scan(r, &sm, NULL, INT64_MIN, INT64_MAX, got_points, &g, NULL), 0);
    cr_assert_eq(g.n, 201);
    cr_assert_eq(((int64_t *)g.v)[150], 50 * 7);
    got_free(&g);
    tsf_series_meta_free(&sm);
    tsf_reader_close(r);
    unlink(path);
}

Test(lookup, missing_series_and_devices)
{
    char *path = tmp_path("lk");
    write_example(path, 3);
    TsfReader *r;
    cr_assert_eq(tsf_reader_open(path, &r, NULL), 0);
    TsfSeriesMeta sm;
    cr_assert_eq(tsf_reader_find_series(r, "root.sg.d1", "s2", &sm), TSF_ENOTFOUND);
    cr_assert_eq(tsf_reader_find_series(r, "root.sg.d0", "s1", &sm), TSF_ENOTFOUND);
    cr_assert_eq(tsf_reader_find_series(r, "root.sg.d1", "s1", &sm), 0);
    cr_assert_eq(sm.stats.count, 3);
    tsf_series_meta_free(&sm);
    tsf_reader_close(r);
    unlink(path);
}

/* A narrow time range decodes only the pages that overlap it. */
Test(scan, narrow_range_skips_chunks_and_pages)
{
    char *path = tmp_path("skip");
    TsfWriter *w;
    cr_assert_eq(tsf_writer_open(path, NULL, &w), 0);
    enum { N = 200000 };
    int64_t *t = malloc(N * sizeof(int64_t)), *v = malloc(N * sizeof(int64_t));
    for (int i = 0; i < N; i++) t[i] = i, v[i] = i % 97;
    for (int g = 0; g < 4; g++) { /* four chunks of 50,000 points: 5 pages each */
        cr_assert_eq(tsf_writer_begin_group(w, "root.s.d"), 0);
        cr_assert_eq(tsf_writer_begin_series(w, "x", TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_LZ4), 0);
        cr_assert_eq(tsf_writer_append(w, t + g * (N / 4), v + g * (N / 4), N / 4), 0);
        cr_assert_eq(tsf_writer_end_group(w), 0);
    }
    cr_assert_eq(tsf_writer_close(w), 0);
    TsfReader *r;
    cr_assert_eq(tsf_reader_open(path, &r, NULL), 0);
    TsfSeriesMeta sm;
    cr_assert_eq(tsf_reader_find_series(r, "root.s.d", "x", &sm), 0);
    cr_assert_eq(sm.nchunks, 4);
    TsfScanCounters cnt = {0};
    Got g = {.type = TSF_INT64};
    cr_assert_eq(tsf_series_scan(r, &sm, NULL, 120000, 121999, got_points, &g, &cnt), 0);
    cr_assert_eq(g.n, 2000);
    cr_assert_eq(g.t[0], 120000);
    cr_assert_eq(g.t[1999], 121999);
    cr_assert_eq(cnt.pages_decoded, 1, "decoded %llu pages", (unsigned long long)cnt.pages_decoded);
    cr_assert_eq(cnt.chunks_skipped, 3);
    got_free(&g);
    tsf_series_meta_free(&sm);
    tsf_reader_close(r);
    free(t);
    free(v);
    unlink(path);
}

/* One TsfColumn decoding pages of a narrow type, then of a wider one (4-byte
 * INT32 values, then 16-byte TEXT handles): the values must get room for
 * the wider elements even when the count fits. */
Test(roundtrip, one_column_reused_for_a_wider_type)
{
    char *path = tmp_path("widen");
    TsfWriter *w;
    cr_assert_eq(tsf_writer_open(path, NULL, &w), 0);
    enum { N = 500 };
    int64_t t[N];
    int32_t iv[N];
    TsfBin tv[N];
    for (int i = 0; i < N; i++) {
        t[i] = 1000 + i;
        iv[i] = i;
        tv[i] = (TsfBin){(const uint8_t *)"text", 4};
    }
    cr_assert_eq(tsf_writer_begin_group(w, "root.sg.d"), 0);
    cr_assert_eq(tsf_writer_begin_series(w, "a", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED), 0);
    cr_assert_eq(tsf_writer_append(w, t, iv, N), 0);
    cr_assert_eq(tsf_writer_end_series(w), 0);
    cr_assert_eq(tsf_writer_begin_series(w, "b", TSF_TEXT, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED), 0);
    cr_assert_eq(tsf_writer_append(w, t, tv, N), 0);
    cr_assert_eq(tsf_writer_end_series(w), 0);
    cr_assert_eq(tsf_writer_end_group(w), 0);
    cr_assert_eq(tsf_writer_close(w), 0);

    TsfReader *r;
    TsfErr err;
    cr_assert_eq(tsf_reader_open(path, &r, &err), 0);
    TsfColumn col = {0};
    const char *names[2] = {"a", "b"};
    for (int s = 0; s < 2; s++) {
        TsfSeriesMeta sm;
        cr_assert_eq(tsf_reader_find_series(r, "root.sg.d", names[s], &sm), 0);
        TsfChunk c;
        cr_assert_eq(tsf_chunk_open(r, sm.chunks[0].offset, &c), 0);
        TsfPage p;
        size_t got = 0;
        while (tsf_chunk_next_page(&c, &p) == 1) {
            cr_assert_eq(tsf_page_decode(&c, &p, &col), 0);
            for (size_t i = 0; i < col.n; i++, got++) {
                cr_assert_eq(col.times[i], 1000 + (int64_t)got);
                if (s == 0)
                    cr_assert_eq(((int32_t *)col.values)[i], (int32_t)got);
                else
                    cr_assert_eq(((TsfBin *)col.values)[i].len, 4u);
            }
        }
        cr_assert_eq(got, (size_t)N);
        tsf_chunk_close(&c);
        tsf_series_meta_free(&sm);
    }
    tsf_column_free(&col);
    tsf_reader_close(r);
    unlink(path);
}
