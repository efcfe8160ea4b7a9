/*
 * test_bloom.c: the series bloom filter (spec §4.5): the Murmur128 variant's
 * VERIFIED values, bit positions, sizing, the exact bytes of the filters in
 * the worked examples §10.1 and §10.3, and a parser facing odd input.
 */
#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bloom.h"
#include "tsf_error.h"

Test(bloom, murmur_vectors)
{
    const char *k = "root.sg.d1.s1";
    const uint32_t seeds[5] = {5, 7, 11, 19, 31};
    const int32_t want[5] = {-1021017105, 1766616266, 2009716169, -669598302, -404990910};
    for (int i = 0; i < 5; i++)
        cr_assert_eq(tsf_murmur128_low32(seeds[i], k, strlen(k)), want[i], "seed %u", seeds[i]);
}

/* Canonical MurmurHash3_x64_128 with seed 0 on ASCII keys (no tail byte >=
 * 0x80, so the sign-extension deviation does not apply): low 32 bits of
 * h1 + h2 from the public reference implementation. */
static int32_t ref_murmur_low32(uint32_t seed, const uint8_t *key, size_t len, int sign_extend)
{
    const uint64_t c1 = 0x87c37b91114253d5ull, c2 = 0x4cf5ad432745937full;
    uint64_t h1 = seed, h2 = seed;
    size_t nb = len / 16;
#define ROTL(x, r) (((x) << (r)) | ((x) >> (64 - (r))))
    for (size_t i = 0; i < nb; i++) {
        uint64_t k1 = 0, k2 = 0;
        for (int b = 7; b >= 0; b--) k1 = (k1 << 8) | key[16 * i + b];
        for (int b = 7; b >= 0; b--) k2 = (k2 << 8) | key[16 * i + 8 + b];
        k1 *= c1;
        k1 = ROTL(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = ROTL(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = ROTL(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = ROTL(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const uint8_t *t = key + 16 * nb;
    size_t r = len & 15;
    uint64_t k1 = 0, k2 = 0;
    for (size_t j = r; j-- > 0;) {
        uint64_t v = sign_extend ? (uint64_t)(int64_t)(int8_t)t[j] : t[j];
        if (j >= 8)
            k2 ^= v << (8 * (j - 8));
        else
            k1 ^= v << (8 * j);
    }
    if (r > 8) {
        k2 *= c2;
        k2 = ROTL(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    if (r > 0) {
        k1 *= c1;
        k1 = ROTL(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    uint64_t *hs[2] = {&h1, &h2};
    for (int i = 0; i < 2; i++) {
        uint64_t x = *hs[i];
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdull;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ull;
        x ^= x >> 33;
        *hs[i] = x;
    }
    h1 += h2;
    h2 += h1;
    return (int32_t)(uint32_t)(h1 + h2);
#undef ROTL
}

Test(bloom, murmur_matches_independent_model_all_lengths)
{
    uint8_t key[80];
    for (size_t i = 0; i < sizeof(key); i++) key[i] = (uint8_t)(i * 37 + 11);
    for (size_t len = 0; len <= sizeof(key); len++)
        for (uint32_t seed = 0; seed < 60; seed += 7)
            cr_assert_eq(tsf_murmur128_low32(seed, key, len), ref_murmur_low32(seed, key, len, 1),
                         "len %zu seed %u", len, seed);
}

Test(bloom, murmur_tail_is_sign_extended)
{
    /* "é" = c3 a9: a 2-byte tail of bytes >= 0x80 */
    const uint8_t k[] = "root.sg.d1.\xc3\xa9";
    size_t len = sizeof(k) - 1;
    int32_t got = tsf_murmur128_low32(5, k, len);
    cr_assert_eq(got, ref_murmur_low32(5, k, len, 1));
    cr_assert_neq(got, ref_murmur_low32(5, k, len, 0), "canonical (zero-extended) differs");
    /* ASCII-only: both agree */
    cr_assert_eq(tsf_murmur128_low32(7, "abc", 3), ref_murmur_low32(7, (const uint8_t *)"abc", 3, 0));
}

Test(bloom, sizes)
{
    TsfBloom b;
    const struct {
        uint32_t n;
        uint32_t size;
    } cases[] = {{0, 256}, {1, 256}, {41, 256}, {42, 262}, {100, 624}, {1000, 6236}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(tsf_bloom_init(&b, cases[i].n, 0.05), 0);
        cr_assert_eq(b.size, cases[i].size, "n=%u size %u", cases[i].n, b.size);
        cr_assert_eq(b.k, 5);
        tsf_bloom_free(&b);
    }
    /* clamping of p: 0.5 -> 0.1 (k 4), 0.0001 -> 0.01 (k 7) */
    cr_assert_eq(tsf_bloom_init(&b, 1000, 0.5), 0);
    cr_assert_eq(b.k, 4);
    cr_assert_eq(b.size, 4793);
    tsf_bloom_free(&b);
    cr_assert_eq(tsf_bloom_init(&b, 1000, 0.0001), 0);
    cr_assert_eq(b.k, 7);
    cr_assert_eq(b.size, 9586);
    tsf_bloom_free(&b);
}

Test(bloom, positions_of_root_sg_d1_s1)
{
    TsfBloom b;
    cr_assert_eq(tsf_bloom_init(&b, 1, 0.05), 0);
    tsf_bloom_add(&b, "root.sg.d1.s1", 13);
    const int want[5] = {17, 94, 190, 201, 202};
    int got[8], ng = 0;
    for (uint32_t i = 0; i < b.size; i++)
        if (b.bits[i / 8] & (1u << (i % 8))) got[ng++] = (int)i;
    cr_assert_eq(ng, 5);
    for (int i = 0; i < 5; i++) cr_assert_eq(got[i], want[i]);
    tsf_bloom_free(&b);
}

static void check_bytes(const TsfBuf *o, const uint8_t *want, size_t n)
{
    cr_assert_eq(o->len, n, "length %zu, want %zu", o->len, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(o->data[i], want[i], "byte %zu: %02x want %02x", i, o->data[i], want[i]);
}

/* §10.1: device root.sg.d1, series s1. */
static const uint8_t ex101[] = {0x1a, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x40, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x40, 0x00, 0x06, 0x80, 0x02, 0x05};

Test(bloom, example_10_1_v3_and_v4)
{
    TsfBloom b;
    cr_assert_eq(tsf_bloom_init(&b, 1, 0.05), 0);
    tsf_bloom_add_series(&b, "root.sg.d1", 10, "s1", 2);
    TsfBuf o = TSF_BUF_INIT;
    tsf_bloom_write(&b, 3, &o);
    check_bytes(&o, ex101, sizeof(ex101));
    tsf_buf_reset(&o);
    tsf_bloom_write(&b, 4, &o); /* identical when the filter is not empty */
    check_bytes(&o, ex101, sizeof(ex101));
    tsf_buf_free(&o);
    tsf_bloom_free(&b);
}

/* §10.3: aligned device root.sg.d2: time column "root.sg.d2." plus s1, s2. */
Test(bloom, example_10_3_aligned)
{
    static const uint8_t want[] = {0x1b, 0x08, 0x20, 0x00, 0x00, 0x20, 0x40, 0x02, 0x84, 0x80, 0x00,
                                   0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02,
                                   0x80, 0x00, 0x48, 0x00, 0x00, 0x20, 0x80, 0x02, 0x05};
    TsfBloom b;
    cr_assert_eq(tsf_bloom_init(&b, 3, 0.05), 0);
    tsf_bloom_add_series(&b, "root.sg.d2", 10, "", 0);
    tsf_bloom_add_series(&b, "root.sg.d2", 10, "s1", 2);
    tsf_bloom_add(&b, "root.sg.d2.s2", 13); /* whole-key form agrees */
    TsfBuf o = TSF_BUF_INIT;
    tsf_bloom_write(&b, 3, &o);
    check_bytes(&o, want, sizeof(want));
    tsf_buf_free(&o);
    tsf_bloom_free(&b);
}

Test(bloom, series_pieces_equal_whole_key)
{
    TsfBloom a, w;
    cr_assert_eq(tsf_bloom_init(&a, 100, 0.05), 0);
    cr_assert_eq(tsf_bloom_init(&w, 100, 0.05), 0);
    char dev[64], meas[64], full[130];
    for (int dl = 0; dl < 40; dl += 3) {
        for (int ml = 0; ml < 40; ml += 5) {
            for (int i = 0; i < dl; i++) dev[i] = (char)('a' + (i * 7 + dl) % 26);
            for (int i = 0; i < ml; i++) meas[i] = (char)(0x80 + (i * 13 + ml) % 64);
            memcpy(full, dev, (size_t)dl);
            full[dl] = '.';
            memcpy(full + dl + 1, meas, (size_t)ml);
            for (uint32_t s = 5; s < 60; s += 6) {
                /* pieces crossing 16-byte block boundaries in every way */
                TsfBloom one;
                cr_assert_eq(tsf_bloom_init(&one, 1, 0.05), 0);
                tsf_bloom_add_series(&one, dev, (size_t)dl, meas, (size_t)ml);
                TsfBloom two;
                cr_assert_eq(tsf_bloom_init(&two, 1, 0.05), 0);
                tsf_bloom_add(&two, full, (size_t)dl + 1 + (size_t)ml);
                cr_assert(memcmp(one.bits, two.bits, 32) == 0, "dl %d ml %d", dl, ml);
                tsf_bloom_free(&one);
                tsf_bloom_free(&two);
                (void)s;
            }
            tsf_bloom_add_series(&a, dev, (size_t)dl, meas, (size_t)ml);
            tsf_bloom_add(&w, full, (size_t)dl + 1 + (size_t)ml);
            cr_assert(tsf_bloom_may_contain_series(&w, dev, (size_t)dl, meas, (size_t)ml));
            cr_assert(tsf_bloom_may_contain(&a, full, (size_t)dl + 1 + (size_t)ml));
        }
    }
    cr_assert(memcmp(a.bits, w.bits, (a.size + 7) / 8) == 0);
    tsf_bloom_free(&a);
    tsf_bloom_free(&w);
}

Test(bloom, non_ascii_keys_round_trip)
{
    TsfBloom b;
    cr_assert_eq(tsf_bloom_init(&b, 10, 0.05), 0);
    const char *keys[] = {"root.温度.d1.s1", "root.sg.d1.é", "root.sg.\xf0\x9f\x98\x80.x"};
    for (int i = 0; i < 3; i++) tsf_bloom_add(&b, keys[i], strlen(keys[i]));
    TsfBuf o = TSF_BUF_INIT;
    tsf_bloom_write(&b, 4, &o);
    TsfCursor c = tsf_cursor(o.data, o.len);
    TsfBloom r;
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(tsf_cur_left(&c), 0);
    cr_assert_eq(r.size, b.size);
    cr_assert_eq(r.k, b.k);
    for (int i = 0; i < 3; i++) cr_assert(tsf_bloom_may_contain(&r, keys[i], strlen(keys[i])));
    /* most absent keys are rejected */
    int hits = 0;
    char k[32];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(k, sizeof(k), "root.other.d%d.s", i);
        hits += tsf_bloom_may_contain(&r, k, (size_t)n);
    }
    cr_assert_lt(hits, 40);
    tsf_bloom_free(&r);
    tsf_bloom_free(&b);
    tsf_buf_free(&o);
}

Test(bloom, read_example_10_1)
{
    TsfCursor c = tsf_cursor(ex101, sizeof(ex101));
    TsfBloom r;
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(tsf_cur_left(&c), 0);
    cr_assert_eq(r.size, 256);
    cr_assert_eq(r.k, 5);
    cr_assert(tsf_bloom_may_contain(&r, "root.sg.d1.s1", 13));
    cr_assert(tsf_bloom_may_contain_series(&r, "root.sg.d1", 10, "s1", 2));
    cr_assert(!tsf_bloom_may_contain_series(&r, "root.sg.d1", 10, "s2", 2));
    tsf_bloom_free(&r);
}

Test(bloom, empty_filter_forms)
{
    TsfBloom b;
    cr_assert_eq(tsf_bloom_init(&b, 0, 0.05), 0);
    TsfBuf o = TSF_BUF_INIT;
    tsf_bloom_write(&b, 3, &o); /* §4.6.1: 00 80 02 05 */
    const uint8_t v3[] = {0x00, 0x80, 0x02, 0x05};
    check_bytes(&o, v3, sizeof(v3));
    tsf_buf_reset(&o);
    tsf_bloom_write(&b, 4, &o);
    const uint8_t v4[] = {0x00};
    check_bytes(&o, v4, sizeof(v4));
    tsf_buf_free(&o);
    tsf_bloom_free(&b);

    /* Reading either gives "no filter" and consumes only the length byte. */
    TsfCursor c = tsf_cursor(v3, sizeof(v3));
    TsfBloom r;
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(r.size, 0);
    cr_assert_eq(tsf_cur_left(&c), 3);
    cr_assert(tsf_bloom_may_contain(&r, "x", 1));
    tsf_bloom_free(&r);
    /* exhausted cursor: no filter (v3 readers parse it only if bytes remain) */
    c = tsf_cursor(v3, 0);
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(r.size, 0);
    cr_assert_eq(c.err, 0);
}

Test(bloom, parse_odd_input)
{
    TsfBloom r;
    /* truncated bit array */
    const uint8_t t1[] = {0x05, 0xff, 0xff};
    TsfCursor c = tsf_cursor(t1, sizeof(t1));
    cr_assert_eq(tsf_bloom_read(&c, &r), TSF_ECORRUPT);
    cr_assert_null(r.bits);
    /* missing size / k */
    const uint8_t t2[] = {0x01, 0xff, 0x80};
    c = tsf_cursor(t2, sizeof(t2));
    cr_assert_eq(tsf_bloom_read(&c, &r), TSF_ECORRUPT);
    cr_assert_null(r.bits);
    /* k > 8 clamped */
    const uint8_t t3[] = {0x01, 0xff, 0x80, 0x02, 0x7f};
    c = tsf_cursor(t3, sizeof(t3));
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(r.k, 8);
    cr_assert_eq(r.size, 256);
    cr_assert_eq(r.bits[0], 0xff);
    cr_assert_eq(r.bits[31], 0x00); /* missing trailing bytes are zero */
    tsf_bloom_free(&r);
    /* size 0 with bytes: no filter, no division by zero */
    const uint8_t t4[] = {0x01, 0xff, 0x00, 0x05};
    c = tsf_cursor(t4, sizeof(t4));
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(r.size, 0);
    cr_assert(tsf_bloom_may_contain(&r, "a", 1));
    /* size smaller than the bytes: extra bytes ignored */
    const uint8_t t5[] = {0x03, 0xff, 0xff, 0xff, 0x03, 0x01};
    c = tsf_cursor(t5, sizeof(t5));
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert_eq(r.size, 3);
    cr_assert(tsf_bloom_may_contain(&r, "anything", 8));
    tsf_bloom_free(&r);
    /* size above INT32_MAX: corrupt */
    const uint8_t t6[] = {0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x05};
    c = tsf_cursor(t6, sizeof(t6));
    cr_assert_eq(tsf_bloom_read(&c, &r), TSF_ECORRUPT);
    /* huge but in-range size: allocated lazily, works */
    const uint8_t t7[] = {0x01, 0x01, 0xff, 0xff, 0xff, 0xff, 0x07, 0x05};
    c = tsf_cursor(t7, sizeof(t7));
    int rc = tsf_bloom_read(&c, &r);
    cr_assert(rc == 0 || rc == -ENOMEM);
    if (rc == 0) {
        cr_assert_eq(r.size, 0x7fffffffu);
        (void)tsf_bloom_may_contain(&r, "root.sg.d1.s1", 13);
        tsf_bloom_free(&r);
    }
    /* overlong varint length */
    const uint8_t t8[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    c = tsf_cursor(t8, sizeof(t8));
    cr_assert_eq(tsf_bloom_read(&c, &r), TSF_ECORRUPT);
    /* k = 0: everything may be present */
    const uint8_t t9[] = {0x01, 0x00, 0x80, 0x02, 0x00};
    c = tsf_cursor(t9, sizeof(t9));
    cr_assert_eq(tsf_bloom_read(&c, &r), 0);
    cr_assert(tsf_bloom_may_contain(&r, "z", 1));
    tsf_bloom_free(&r);
}

Test(bloom, parse_random_input)
{
    uint64_t x = 88172645463325252ull;
    uint8_t buf[64];
    for (int t = 0; t < 3000; t++) {
        size_t n = 0;
        for (; n < (size_t)(t % 64); n++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[n] = (uint8_t)x;
        }
        if (n > 0 && (t & 1)) buf[0] &= 0x3f; /* plausible lengths */
        TsfCursor c = tsf_cursor(buf, n);
        TsfBloom r;
        int rc = tsf_bloom_read(&c, &r);
        cr_assert(rc == 0 || rc == TSF_ECORRUPT || rc == -ENOMEM);
        if (rc == 0) (void)tsf_bloom_may_contain(&r, "root.a.b", 8);
        tsf_bloom_free(&r);
    }
}
