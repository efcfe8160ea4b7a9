/*
 * test_enc_basic.c: PLAIN, bit packing, RLE, TS_2DIFF, DICTIONARY, ZIGZAG and
 * REGULAR (spec §5.3-5.6, 5.9, 5.10, 5.14).
 *
 * 1. Every VERIFIED vector of those sections, encoded byte for byte and
 *    decoded back.
 * 2. Encoder details the vectors do not reach: run limits of RLE, several
 *    packages in one stream, the stale padding bits of TS_2DIFF.
 * 3. Corrupt input: every truncation of valid streams and random damage must
 *    give TSF_ECORRUPT (or a clean decode), never a sanitizer report.  Inputs
 *    are copied into exact-size heap blocks so ASan sees any overread.
 * 4. Random round trips over sizes 0..10000 with extreme values.
 *
 * Functions are called through encoding_int.h so this file links without
 * the encodings other files provide.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoding_int.h"

typedef int (*EncFn)(TsfType, const void *, size_t, const TsfEncodeOpts *, TsfBuf *);
typedef int (*DecFn)(TsfType, const uint8_t *, size_t, size_t, void *);

static const TsfEncodeOpts opts2 = {2};

/* "07 02 14" -> bytes; returns the count. */
static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    while (*s) {
        if (*s == ' ') {
            s++;
            continue;
        }
        unsigned v;
        sscanf(s, "%2x", &v);
        out[n++] = (uint8_t)v;
        s += 2;
    }
    return n;
}

static char *tohex(const uint8_t *p, size_t n)
{
    char *s = malloc(n * 3 + 1);
    s[0] = 0;
    for (size_t i = 0; i < n; i++) sprintf(s + 3 * i, "%02x ", p[i]);
    return s;
}

/* Encodes, compares with hex, decodes back and compares with the input
 * (memcmp of elem_size x n; pass `expect` to compare with other values). */
static void check_vec(EncFn enc, DecFn dec, TsfType t, const void *values, size_t n, const TsfEncodeOpts *o,
                      const char *hex, const void *expect)
{
    uint8_t want[4096];
    size_t wn = unhex(hex, want);
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(enc(t, values, n, o, &b), 0);
    char *got = tohex(b.data, b.len), *exp = tohex(want, wn);
    cr_assert(b.len == wn && memcmp(b.data, want, wn) == 0, "%s: got %s want %s", tsf_type_name(t), got, exp);
    free(got);
    free(exp);
    size_t es = tsf_type_elem_size(t);
    uint8_t *d = malloc(n * es + 1);
    uint8_t *in = malloc(wn + 1);
    memcpy(in, want, wn);
    cr_assert_eq(dec(t, in, wn, n, d), 0);
    if (tsf_type_phys(t) == TSF_PHYS_BIN) {
        const TsfBin *x = expect ? expect : values, *y = (const TsfBin *)d;
        for (size_t i = 0; i < n; i++)
            cr_assert(x[i].len == y[i].len && memcmp(x[i].ptr, y[i].ptr, x[i].len) == 0);
    } else {
        cr_assert(memcmp(d, expect ? expect : values, n * es) == 0, "%s decode", tsf_type_name(t));
    }
    free(d);
    free(in);
    tsf_buf_free(&b);
}

/* ---- §5.4 bit packing ----------------------------------------------------- */

Test(bitpack, verified_w3)
{
    uint32_t v[8] = {5, 4, 7, 3, 0, 1, 3, 2}, back[8];
    uint8_t out[3];
    tsf_pack8_u32(v, 3, out);
    cr_assert(out[0] == 0xb3 && out[1] == 0xb0 && out[2] == 0x5a);
    tsf_unpack8_u32(out, 3, back);
    cr_assert(memcmp(v, back, sizeof(v)) == 0);
    uint64_t v64[8] = {5, 4, 7, 3, 0, 1, 3, 2}, b64[8];
    tsf_pack8_u64(v64, 3, out);
    cr_assert(out[0] == 0xb3 && out[1] == 0xb0 && out[2] == 0x5a);
    tsf_unpack8_u64(out, 3, b64);
    cr_assert(memcmp(v64, b64, sizeof(v64)) == 0);
}

Test(bitpack, all_widths_round_trip)
{
    uint64_t seed = 42;
    for (int w = 1; w <= 64; w++) {
        for (int rep = 0; rep < 50; rep++) {
            uint64_t v[8], back[8];
            uint8_t *buf = malloc((size_t)w); /* exact size: ASan checks the bounds */
            for (int i = 0; i < 8; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                v[i] = w == 64 ? seed : (seed >> 7) & (((uint64_t)1 << w) - 1);
                if (rep == 0) v[i] = w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1);
            }
            tsf_pack8_u64(v, w, buf);
            tsf_unpack8_u64(buf, w, back);
            cr_assert(memcmp(v, back, sizeof(v)) == 0, "width %d", w);
            /* the bit stream is the same as a plain MSB-first writer's */
            for (int bit = 0; bit < 8 * w; bit++) {
                int item = bit / w, off = w - 1 - bit % w;
                int want = (int)((v[item] >> off) & 1);
                cr_assert_eq((buf[bit / 8] >> (7 - bit % 8)) & 1, want, "w %d bit %d", w, bit);
            }
            if (w <= 32) {
                uint32_t v32[8], b32[8];
                for (int i = 0; i < 8; i++) v32[i] = (uint32_t)v[i];
                uint8_t *buf2 = malloc((size_t)w);
                tsf_pack8_u32(v32, w, buf2);
                cr_assert(memcmp(buf, buf2, (size_t)w) == 0);
                tsf_unpack8_u32(buf2, w, b32);
                cr_assert(memcmp(v32, b32, sizeof(v32)) == 0);
                free(buf2);
            }
            free(buf);
        }
    }
}

/* ---- §5.3 PLAIN ------------------------------------------------------------- */

Test(plain, verified_vectors)
{
    int32_t i32[] = {1, -1, 300, 0};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_INT32, i32, 4, NULL, "02 01 d8 04 00", NULL);
    TsfBin txt[] = {{(const uint8_t *)"ab", 2}, {(const uint8_t *)"", 0}};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_TEXT, txt, 2, NULL, "04 61 62 00", NULL);
    float f[] = {1.5f};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_FLOAT, f, 1, NULL, "3f c0 00 00", NULL);
    uint8_t bo[] = {1, 0};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_BOOLEAN, bo, 2, NULL, "01 00", NULL);
}

Test(plain, other_types)
{
    int64_t i64[] = {1, -2};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_TIMESTAMP, i64, 2, NULL,
              "00 00 00 00 00 00 00 01 ff ff ff ff ff ff ff fe", NULL);
    int32_t date[] = {20240131};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_DATE, date, 1, NULL, "86 dc a6 13", NULL);
    double d[] = {-2.0};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_DOUBLE, d, 1, NULL, "c0 00 00 00 00 00 00 00", NULL);
    TsfBin blob[] = {{(const uint8_t *)"\x00\xff", 2}};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_BLOB, blob, 1, NULL, "04 00 ff", NULL);
    int32_t ext[] = {INT32_MIN, INT32_MAX};
    check_vec(tsf_plain_encode, tsf_plain_decode, TSF_INT32, ext, 2, NULL, "ff ff ff ff 0f fe ff ff ff 0f",
              NULL);
}

Test(plain, nan_canonical_and_bool_nonzero)
{
    uint32_t fbits = 0xffc12345u; /* a negative NaN with payload */
    float f;
    memcpy(&f, &fbits, 4);
    uint64_t dbits = 0xfff0000000000001ull;
    double d;
    memcpy(&d, &dbits, 8);
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_plain_encode(TSF_FLOAT, &f, 1, NULL, &b), 0);
    cr_assert_eq(tsf_plain_encode(TSF_DOUBLE, &d, 1, NULL, &b), 0);
    uint8_t want[12];
    unhex("7f c0 00 00 7f f8 00 00 00 00 00 00", want);
    cr_assert(b.len == 12 && memcmp(b.data, want, 12) == 0);
    tsf_buf_free(&b);
    uint8_t in[3] = {0, 2, 0xff}, out[3];
    cr_assert_eq(tsf_plain_decode(TSF_BOOLEAN, in, 3, 3, out), 0);
    cr_assert(out[0] == 0 && out[1] == 1 && out[2] == 1);
}

/* ---- §5.5 RLE ------------------------------------------------------------- */

Test(rle, verified_vectors)
{
    int32_t a[12];
    for (int i = 0; i < 10; i++) a[i] = 1;
    a[10] = 2;
    a[11] = 3;
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, a, 12, NULL, "07 02 14 01 03 02 b0 00", NULL);
    int32_t b[] = {5, 3, 7};
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, b, 3, NULL, "06 03 03 03 af 80 00", NULL);
    uint8_t c[] = {1, 0, 1};
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_BOOLEAN, c, 3, NULL, "04 01 03 03 a0", NULL);
    int32_t d[16];
    for (int i = 0; i < 16; i++) d[i] = 7;
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, d, 16, NULL, "03 03 20 07", NULL);
    int32_t e[9];
    int64_t e64[9];
    for (int i = 0; i < 9; i++) e[i] = 300, e64[i] = 300;
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, e, 9, NULL, "04 09 12 2c 01", NULL);
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT64, e64, 9, NULL, "04 09 12 01 2c", NULL);
    int32_t f[20];
    for (int i = 0; i < 20; i++) f[i] = i % 3;
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, f, 20, NULL, "09 02 07 04 18 61 86 18 61 00", NULL);
    int32_t g[] = {-1, 2};
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_INT32, g, 2, NULL,
              "23 20 03 02 ff ff ff ff 00 00 00 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
              "00 00 00 00 00 00 00 00",
              NULL);
}

Test(rle, verified_scaled_double)
{
    double d[] = {1.5, 2.25};
    check_vec(tsf_rle_encode, tsf_rle_decode, TSF_DOUBLE, d, 2, &opts2,
              "02 0b 08 03 02 96 e1 00 00 00 00 00 00", NULL);
}

Test(rle, empty_page)
{
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_rle_encode(TSF_INT32, NULL, 0, NULL, &b), 0);
    cr_assert_eq(tsf_rle_encode(TSF_FLOAT, NULL, 0, &opts2, &b), 0);
    cr_assert(b.len == 2 && b.data[0] == 0 && b.data[1] == 0);
    tsf_buf_free(&b);
}

/* Decodes the RLE stream of v with the raw decoder and checks it. */
static void rle_round_trip_i32(const int32_t *v, size_t n)
{
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_rle_encode_i32(v, n, &b), 0);
    int32_t *d = malloc(n * 4 + 4);
    size_t used = 0;
    cr_assert_eq(tsf_rle_decode_i32(b.data, b.len, n, d, &used), 0);
    cr_assert_eq(used, n ? b.len : 0);
    cr_assert(memcmp(d, v, n * 4) == 0);
    free(d);
    tsf_buf_free(&b);
}

Test(rle, run_limits)
{
    size_t n = 70000;
    int32_t *v = malloc(n * 4);
    /* 32767, 32768, 32769 and 70000 repeats of one value */
    size_t lens[] = {7, 8, 9, 32767, 32768, 32769, 32775, 65534, 70000};
    for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
        for (size_t i = 0; i < lens[k]; i++) v[i] = 5;
        rle_round_trip_i32(v, lens[k]);
    }
    /* 32767 repeats: a single RLE run "fe ff 03" (count << 1 as uvarint) */
    for (size_t i = 0; i < 32767; i++) v[i] = 5;
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_rle_encode_i32(v, 32767, &b), 0);
    uint8_t want[6];
    unhex("05 03 fe ff 03 05", want);
    cr_assert(b.len == 6 && memcmp(b.data, want, 6) == 0);
    tsf_buf_free(&b);
    /* distinct values: bit-packed runs split at 63 groups */
    for (size_t i = 0; i < 1000; i++) v[i] = (int32_t)i;
    cr_assert_eq(tsf_rle_encode_i32(v, 1000, &b), 0);
    /* L (2 bytes), width 10, first run header 63 groups << 1 | 1 = 0x7f, lastCount 8 */
    cr_assert(b.data[2] == 10 && b.data[3] == 0x7f && b.data[4] == 8);
    cr_assert(b.data[5 + 63 * 10] == 0x7d); /* the second run: the other 62 groups */
    tsf_buf_free(&b);
    rle_round_trip_i32(v, 1000);
    free(v);
}

Test(rle, several_packages)
{
    int32_t a[] = {1, 2, 3}, b[] = {9, 9, 9, 9, 9, 9, 9, 9, 9, 9};
    TsfBuf s = TSF_BUF_INIT;
    cr_assert_eq(tsf_rle_encode_i32(a, 3, &s), 0);
    size_t first = s.len;
    cr_assert_eq(tsf_rle_encode_i32(b, 10, &s), 0);
    int32_t d[13];
    size_t used;
    cr_assert_eq(tsf_rle_decode_i32(s.data, s.len, 13, d, &used), 0);
    cr_assert_eq(used, s.len);
    cr_assert(memcmp(d, a, 12) == 0 && memcmp(d + 3, b, 40) == 0);
    /* asking for fewer values stops after the first package */
    cr_assert_eq(tsf_rle_decode_i32(s.data, s.len, 2, d, &used), 0);
    cr_assert_eq(used, first);
    /* the typed decoder too */
    cr_assert_eq(tsf_rle_decode(TSF_INT32, s.data, s.len, 13, d), 0);
    cr_assert_eq(d[12], 9);
    tsf_buf_free(&s);
}

Test(rle, java_round_semantics)
{
    /* precision 0: values are Java Math.round(v) */
    double v[] = {0.5, -0.5, -1.5, 2.5, 0.49999999999999994, NAN, 1e300, -1e300, -2.5000000000000004};
    double want[] = {1, 0, -1, 3, 0, 0, 9223372036854775807.0, -9223372036854775808.0, -3};
    TsfEncodeOpts o0 = {0};
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_rle_encode(TSF_DOUBLE, v, 9, &o0, &b), 0);
    double d[9];
    cr_assert_eq(tsf_rle_decode(TSF_DOUBLE, b.data, b.len, 9, d), 0);
    for (int i = 0; i < 9; i++) cr_assert(d[i] == want[i], "%d: %g", i, d[i]);
    tsf_buf_free(&b);
    /* FLOAT truncates the 64-bit rounding to 32 bits, like (int) Math.round */
    float f[] = {3e9f};
    cr_assert_eq(tsf_rle_encode(TSF_FLOAT, f, 1, &o0, &b), 0);
    float fd;
    cr_assert_eq(tsf_rle_decode(TSF_FLOAT, b.data, b.len, 1, &fd), 0);
    cr_assert(fd == (float)(int32_t)(uint32_t)3000000000u);
    tsf_buf_free(&b);
}

/* ---- §5.5.5 / §5.6 TS_2DIFF ----------------------------------------------- */

Test(ts2diff, verified_vectors)
{
    int64_t a[] = {100, 105, 103, 110};
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT64, a, 4, NULL,
              "00000003 00000004 fffffffffffffffe 0000000000000064 70 90", NULL);
    int32_t a32[] = {100, 105, 103, 110};
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT32, a32, 4, NULL,
              "00000003 00000004 fffffffe 00000064 70 90", NULL);
    int64_t b[] = {42};
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT64, b, 1, NULL,
              "00000000 00000000 7fffffffffffffff 000000000000002a", NULL);
    int64_t c[] = {1, 2, 3};
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_TIMESTAMP, c, 3, NULL,
              "00000002 00000000 0000000000000001 0000000000000001", NULL);
    int64_t d[130];
    for (int i = 0; i < 130; i++) d[i] = 1000 + 10 * i;
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT64, d, 130, NULL,
              "00000080 00000000 000000000000000a 00000000000003e8 "
              "00000000 00000000 7fffffffffffffff 00000000000008f2",
              NULL);
    float f[] = {1.5f, 2.25f};
    check_vec(tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_FLOAT, f, 2, &opts2,
              "02 00000001 00000000 0000004b 00000096", NULL);
}

Test(ts2diff, count)
{
    int64_t d[1000];
    for (int i = 0; i < 1000; i++) d[i] = i * 7 + (i % 5);
    for (size_t n = 0; n <= 1000; n += (n < 260 ? 1 : 37)) {
        TsfBuf b = TSF_BUF_INIT;
        cr_assert_eq(tsf_ts2diff_encode(TSF_INT64, d, n, NULL, &b), 0);
        cr_assert_eq(tsf_ts2diff_count(TSF_INT64, b.data, b.len), (int64_t)n);
        tsf_buf_free(&b);
    }
    float f[300];
    for (int i = 0; i < 300; i++) f[i] = (float)i / 4;
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_ts2diff_encode(TSF_FLOAT, f, 300, &opts2, &b), 0);
    cr_assert_eq(tsf_ts2diff_count(TSF_FLOAT, b.data, b.len), 300);
    tsf_buf_free(&b);
    cr_assert_eq(tsf_ts2diff_count(TSF_BOOLEAN, NULL, 0), TSF_EUNSUPPORTED);
}

/* The reference leaves stale bits of an earlier block in the padding of a
 * block whose last byte lies at index >= 128 of its packing buffer.  Case
 * checked against the reference encoder: a full block of width 16, then 100
 * deltas of width 11 (1100 bits, 4 padding bits in byte 137). */
Test(ts2diff, stale_padding_bits)
{
    int64_t v[230];
    int64_t x = 0;
    for (int i = 0; i < 129; i++) v[i] = x += (i % 2) ? 65535 : 0;
    for (int i = 129; i < 230; i++) v[i] = x += (i % 2) ? 2047 : 0;
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_ts2diff_encode(TSF_INT64, v, 230, NULL, &b), 0);
    size_t blk1 = 24 + 16 * 16, blk2 = 24 + 138;
    cr_assert_eq(b.len, blk1 + blk2);
    /* block 1 items alternate 0x0000 / 0xffff: byte 137 of its data is 0xff */
    cr_assert_eq(b.data[24 + 137], 0xff);
    /* block 2's last byte: its item bits, then the low 4 bits stale = 1111 */
    cr_assert_eq(b.data[blk1 + 24 + 137] & 0x0f, 0x0f);
    int64_t d[230];
    cr_assert_eq(tsf_ts2diff_decode(TSF_INT64, b.data, b.len, 230, d), 0);
    cr_assert(memcmp(d, v, sizeof(v)) == 0);
    tsf_buf_free(&b);
}

/* ---- §5.9 DICTIONARY, §5.10 ZIGZAG, §5.14 REGULAR --------------------------- */

Test(dictionary, verified_vector)
{
    TsfBin v[] = {{(const uint8_t *)"a", 1}, {(const uint8_t *)"b", 1}, {(const uint8_t *)"a", 1}};
    check_vec(tsf_dictionary_encode, tsf_dictionary_decode, TSF_TEXT, v, 3, NULL,
              "04 02 61 02 62 04 01 03 03 40", NULL);
    check_vec(tsf_dictionary_encode, tsf_dictionary_decode, TSF_STRING, v, 3, NULL,
              "04 02 61 02 62 04 01 03 03 40", NULL);
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_dictionary_encode(TSF_TEXT, NULL, 0, NULL, &b), 0);
    cr_assert(b.len == 2 && b.data[0] == 0 && b.data[1] == 0);
    tsf_buf_free(&b);
}

Test(dictionary, bad_index)
{
    /* one entry "a", indices RLE [1]: out of range */
    uint8_t s[16];
    size_t n = unhex("02 02 61 03 01 02 01", s);
    TsfBin o[1];
    cr_assert_eq(tsf_dictionary_decode(TSF_TEXT, s, n, 1, o), TSF_ECORRUPT);
    n = unhex("01 02 61", s); /* negative entry count */
    cr_assert_eq(tsf_dictionary_decode(TSF_TEXT, s, n, 1, o), TSF_ECORRUPT);
}

Test(zigzag, verified_vector)
{
    int32_t v[] = {1, -1, 64};
    int64_t v64[] = {1, -1, 64};
    check_vec(tsf_zigzag_encode, tsf_zigzag_decode, TSF_INT32, v, 3, NULL, "04 03 02 01 80 01", NULL);
    check_vec(tsf_zigzag_encode, tsf_zigzag_decode, TSF_INT64, v64, 3, NULL, "04 03 02 01 80 01", NULL);
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_zigzag_encode(TSF_INT32, NULL, 0, NULL, &b), 0);
    cr_assert_eq(b.len, 0);
    tsf_buf_free(&b);
    /* two blocks in one stream */
    uint8_t s[16];
    size_t n = unhex("02 02 02 01 02 01 80 01", s);
    int32_t d[3];
    cr_assert_eq(tsf_zigzag_decode(TSF_DATE, s, n, 3, d), 0);
    cr_assert(d[0] == 1 && d[1] == -1 && d[2] == 64);
}

Test(regular, verified_and_missing)
{
    uint8_t s[64];
    size_t n = unhex("00 00000004 000000000000000a 000000000000000a", s);
    int64_t d[4];
    cr_assert_eq(tsf_regular_decode(TSF_INT64, s, n, 4, d), 0);
    cr_assert(d[0] == 10 && d[1] == 20 && d[2] == 30 && d[3] == 40);
    /* missing points: bitmap 0b00001011 -> positions 0, 1, 3 of 4 */
    n = unhex("01 00000001 0b 00000004 0000000a 00000064", s);
    int32_t e[3];
    cr_assert_eq(tsf_regular_decode(TSF_INT32, s, n, 3, e), 0);
    cr_assert(e[0] == 100 && e[1] == 110 && e[2] == 130);
    TsfBuf b = TSF_BUF_INIT;
    cr_assert_eq(tsf_regular_encode(TSF_INT64, d, 4, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_regular_decode(TSF_INT64, s, 0, 1, d), TSF_ECORRUPT);
    cr_assert_eq(tsf_regular_decode(TSF_INT64, s, 3, 1, d), TSF_ECORRUPT);
}

/* ---- unsupported pairs -------------------------------------------------------- */

Test(enc_basic_unsupported, pairs)
{
    TsfBuf b = TSF_BUF_INIT;
    int32_t v = 1;
    uint8_t o[64];
    cr_assert_eq(tsf_rle_encode(TSF_TEXT, &v, 1, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_rle_decode(TSF_BLOB, o, 1, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_ts2diff_encode(TSF_BOOLEAN, &v, 1, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_ts2diff_decode(TSF_TEXT, o, 1, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_zigzag_encode(TSF_FLOAT, &v, 1, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_zigzag_decode(TSF_BOOLEAN, o, 1, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_dictionary_encode(TSF_INT32, &v, 1, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_dictionary_decode(TSF_BLOB, o, 1, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_regular_decode(TSF_FLOAT, o, 1, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_plain_encode(TSF_VECTOR, &v, 1, NULL, &b), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_plain_decode(TSF_VECTOR, o, 8, 1, o), TSF_EUNSUPPORTED);
    cr_assert_eq(b.len, 0);
    tsf_buf_free(&b);
}

/* ---- random data -------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Integers in several shapes: runs, small ranges, full range, extremes,
 * regular timestamps with jitter. */
static int64_t rand_i64(int shape, int64_t *st)
{
    static const int64_t ext[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT32_MIN, INT32_MAX};
    switch (shape) {
    case 0:
        if (rnd() % 9 == 0) *st = (int64_t)(rnd() % 5);
        return *st;
    case 1: return (int64_t)(rnd() % 300);
    case 2: return (int64_t)rnd();
    case 3: return ext[rnd() % 7];
    default: return *st += 1000 + (int64_t)(rnd() % 16);
    }
}

static double rand_f64(int shape)
{
    static const double ext[] = {
        0.0, -0.0, 1.0, -1.0, INFINITY, -INFINITY, 5e-324, 1e-310, 1.7976931348623157e308, 0.005, 12.345};
    uint64_t u;
    double d;
    switch (shape) {
    case 0: return (double)(int64_t)(rnd() % 100000) / 100.0 - 500;
    case 1: return ext[rnd() % 11];
    case 2:
        u = rnd();
        memcpy(&d, &u, 8);
        return d;
    case 3: return NAN;
    default: return (double)(int64_t)(rnd() % 1000);
    }
}

typedef struct Codec {
    const char *name;
    EncFn enc;
    DecFn dec;
    TsfType type;
    int exact; /* 1 when the round trip is lossless for arbitrary values */
} Codec;

static const Codec codecs[] = {
    {"plain bool", tsf_plain_encode, tsf_plain_decode, TSF_BOOLEAN, 1},
    {"plain i32", tsf_plain_encode, tsf_plain_decode, TSF_INT32, 1},
    {"plain date", tsf_plain_encode, tsf_plain_decode, TSF_DATE, 1},
    {"plain i64", tsf_plain_encode, tsf_plain_decode, TSF_INT64, 1},
    {"plain ts", tsf_plain_encode, tsf_plain_decode, TSF_TIMESTAMP, 1},
    {"plain f32", tsf_plain_encode, tsf_plain_decode, TSF_FLOAT, 1},
    {"plain f64", tsf_plain_encode, tsf_plain_decode, TSF_DOUBLE, 1},
    {"plain text", tsf_plain_encode, tsf_plain_decode, TSF_TEXT, 1},
    {"plain string", tsf_plain_encode, tsf_plain_decode, TSF_STRING, 1},
    {"plain blob", tsf_plain_encode, tsf_plain_decode, TSF_BLOB, 1},
    {"rle bool", tsf_rle_encode, tsf_rle_decode, TSF_BOOLEAN, 1},
    {"rle i32", tsf_rle_encode, tsf_rle_decode, TSF_INT32, 1},
    {"rle date", tsf_rle_encode, tsf_rle_decode, TSF_DATE, 1},
    {"rle i64", tsf_rle_encode, tsf_rle_decode, TSF_INT64, 1},
    {"rle ts", tsf_rle_encode, tsf_rle_decode, TSF_TIMESTAMP, 1},
    {"rle f32", tsf_rle_encode, tsf_rle_decode, TSF_FLOAT, 0},
    {"rle f64", tsf_rle_encode, tsf_rle_decode, TSF_DOUBLE, 0},
    {"ts2diff i32", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT32, 1},
    {"ts2diff date", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_DATE, 1},
    {"ts2diff i64", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_INT64, 1},
    {"ts2diff ts", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_TIMESTAMP, 1},
    {"ts2diff f32", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_FLOAT, 0},
    {"ts2diff f64", tsf_ts2diff_encode, tsf_ts2diff_decode, TSF_DOUBLE, 0},
    {"zigzag i32", tsf_zigzag_encode, tsf_zigzag_decode, TSF_INT32, 1},
    {"zigzag date", tsf_zigzag_encode, tsf_zigzag_decode, TSF_DATE, 1},
    {"zigzag i64", tsf_zigzag_encode, tsf_zigzag_decode, TSF_INT64, 1},
    {"zigzag ts", tsf_zigzag_encode, tsf_zigzag_decode, TSF_TIMESTAMP, 1},
    {"dict text", tsf_dictionary_encode, tsf_dictionary_decode, TSF_TEXT, 1},
    {"dict string", tsf_dictionary_encode, tsf_dictionary_decode, TSF_STRING, 1},
};
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

static const size_t sizes[] = {0, 1, 7, 8, 9, 127, 128, 129, 1000, 10000};
#define NSIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint8_t text_pool[10000 * 6];

/* Fills v with n random values of c's type in `shape`. */
static void fill(const Codec *c, void *v, size_t n, int shape)
{
    int64_t st = 0;
    size_t pp = 0;
    for (size_t i = 0; i < n; i++) {
        switch (tsf_type_phys(c->type)) {
        case TSF_PHYS_BOOL: ((uint8_t *)v)[i] = (uint8_t)(rand_i64(shape, &st) & 1); break;
        case TSF_PHYS_I32: ((int32_t *)v)[i] = (int32_t)rand_i64(shape, &st); break;
        case TSF_PHYS_I64: ((int64_t *)v)[i] = rand_i64(shape, &st); break;
        case TSF_PHYS_F32:
            ((float *)v)[i] = c->exact ? (float)rand_f64(shape) : (float)(rnd() % 20000) / 4 - 2000;
            break;
        case TSF_PHYS_F64:
            ((double *)v)[i] = c->exact ? rand_f64(shape) : (double)(int64_t)(rnd() % 2000000) / 4;
            break;
        default: {
            TsfBin *b = (TsfBin *)v + i;
            uint32_t len = (uint32_t)(rnd() % (shape == 2 ? 6 : 3));
            b->ptr = text_pool + pp;
            b->len = len;
            for (uint32_t k = 0; k < len; k++) text_pool[pp++] = (uint8_t)(rnd() % (shape == 2 ? 256 : 3));
            break;
        }
        }
    }
}

static bool same_value(const Codec *c, const void *a, const void *b, size_t i)
{
    switch (tsf_type_phys(c->type)) {
    case TSF_PHYS_F32: {
        float x = ((const float *)a)[i], y = ((const float *)b)[i];
        if (isnan(x)) return isnan(y);
        return memcmp(&x, &y, 4) == 0;
    }
    case TSF_PHYS_F64: {
        double x = ((const double *)a)[i], y = ((const double *)b)[i];
        if (isnan(x)) return isnan(y);
        return memcmp(&x, &y, 8) == 0;
    }
    case TSF_PHYS_BIN: {
        const TsfBin *x = (const TsfBin *)a + i, *y = (const TsfBin *)b + i;
        return x->len == y->len && (x->len == 0 || memcmp(x->ptr, y->ptr, x->len) == 0);
    }
    default: {
        size_t es = tsf_type_elem_size(c->type);
        return memcmp((const uint8_t *)a + i * es, (const uint8_t *)b + i * es, es) == 0;
    }
    }
}

Test(enc_basic_random, round_trips)
{
    for (size_t ci = 0; ci < NCODECS; ci++) {
        const Codec *c = &codecs[ci];
        size_t es = tsf_type_elem_size(c->type);
        for (size_t si = 0; si < NSIZES; si++) {
            size_t n = sizes[si];
            for (int shape = 0; shape < 5; shape++) {
                void *v = malloc(n * es + 1), *d = malloc(n * es + 1);
                fill(c, v, n, shape);
                TsfBuf b = TSF_BUF_INIT;
                cr_assert_eq(c->enc(c->type, v, n, &opts2, &b), 0, "%s", c->name);
                uint8_t *s = malloc(b.len + 1);
                if (b.len) memcpy(s, b.data, b.len);
                cr_assert_eq(c->dec(c->type, s, b.len, n, d), 0, "%s n=%zu shape %d", c->name, n, shape);
                for (size_t i = 0; i < n; i++)
                    cr_assert(same_value(c, v, d, i), "%s n=%zu shape %d at %zu", c->name, n, shape, i);
                free(s);
                free(v);
                free(d);
                tsf_buf_free(&b);
            }
        }
    }
}

/* Every strict prefix of a valid stream is corrupt; damaged streams decode
 * to something or fail cleanly. */
Test(enc_basic_corrupt, truncation_and_damage)
{
    for (size_t ci = 0; ci < NCODECS; ci++) {
        const Codec *c = &codecs[ci];
        size_t es = tsf_type_elem_size(c->type);
        size_t ns[] = {1, 9, 129, 300};
        for (size_t k = 0; k < 4; k++) {
            size_t n = ns[k];
            for (int shape = 0; shape < 5; shape++) {
                void *v = malloc(n * es), *d = malloc(n * es);
                fill(c, v, n, shape);
                TsfBuf b = TSF_BUF_INIT;
                cr_assert_eq(c->enc(c->type, v, n, &opts2, &b), 0);
                for (size_t cut = 0; cut < b.len; cut++) {
                    uint8_t *s = malloc(cut ? cut : 1);
                    memcpy(s, b.data, cut);
                    int rc = c->dec(c->type, cut ? s : NULL, cut, n, d);
                    cr_assert_eq(rc, TSF_ECORRUPT, "%s n=%zu cut %zu/%zu rc %d", c->name, n, cut, b.len, rc);
                    if (c->enc == tsf_ts2diff_encode) {
                        int64_t cnt = tsf_ts2diff_count(c->type, s, cut);
                        cr_assert(cnt == TSF_ECORRUPT || (cnt >= 0 && cnt < (int64_t)n));
                    }
                    free(s);
                }
                for (int rep = 0; rep < 200; rep++) {
                    uint8_t *s = malloc(b.len);
                    memcpy(s, b.data, b.len);
                    int flips = 1 + (int)(rnd() % 4);
                    for (int f = 0; f < flips; f++) s[rnd() % b.len] ^= (uint8_t)(1 + rnd() % 255);
                    int rc = c->dec(c->type, s, b.len, n, d);
                    cr_assert(rc == 0 || rc == TSF_ECORRUPT, "%s rc %d", c->name, rc);
                    if (c->enc == tsf_ts2diff_encode) {
                        int64_t cnt = tsf_ts2diff_count(c->type, s, b.len);
                        cr_assert(cnt >= 0 || cnt == TSF_ECORRUPT);
                    }
                    free(s);
                }
                free(v);
                free(d);
                tsf_buf_free(&b);
            }
        }
    }
}

/* Random garbage, including REGULAR, with value counts up to 64. */
Test(enc_basic_corrupt, garbage)
{
    DecFn decs[] = {tsf_plain_decode,  tsf_rle_decode,        tsf_ts2diff_decode,
                    tsf_zigzag_decode, tsf_dictionary_decode, tsf_regular_decode};
    TsfType types[] = {TSF_BOOLEAN, TSF_INT32, TSF_INT64, TSF_FLOAT, TSF_DOUBLE, TSF_TEXT};
    uint8_t out[64 * 16];
    for (int rep = 0; rep < 20000; rep++) {
        size_t len = rnd() % 48;
        uint8_t *s = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++) s[i] = (uint8_t)(rnd() % 4 ? rnd() : (rnd() % 3));
        size_t n = 1 + rnd() % 64;
        for (size_t di = 0; di < 6; di++)
            for (size_t ti = 0; ti < 6; ti++) {
                int rc = decs[di](types[ti], s, len, n, out);
                cr_assert(rc == 0 || rc == TSF_ECORRUPT || rc == TSF_EUNSUPPORTED);
            }
        int64_t cnt = tsf_ts2diff_count(TSF_INT64, s, len);
        cr_assert(cnt >= 0 || cnt == TSF_ECORRUPT);
        free(s);
    }
}

/* A TS_2DIFF block claiming absurd sizes is refused, not trusted. */
Test(enc_basic_corrupt, ts2diff_header_bounds)
{
    uint8_t s[64];
    int64_t d[4];
    size_t n = unhex("7fffffff 00000000 0000000000000001 0000000000000001", s);
    cr_assert_eq(tsf_ts2diff_count(TSF_INT64, s, n), TSF_ECORRUPT);
    /* width 0: at most the reference's 128 items (129 values from 24 bytes) */
    n = unhex("00000081 00000000 0000000000000001 0000000000000001", s);
    cr_assert_eq(tsf_ts2diff_count(TSF_INT64, s, n), TSF_ECORRUPT);
    cr_assert_eq(tsf_ts2diff_decode(TSF_INT64, s, n, 2, d), TSF_ECORRUPT);
    n = unhex("00000080 00000000 0000000000000001 0000000000000001", s);
    cr_assert_eq(tsf_ts2diff_count(TSF_INT64, s, n), 129);
    n = unhex("00000001 00000041 0000000000000001 0000000000000001 00", s); /* width 65 */
    cr_assert_eq(tsf_ts2diff_decode(TSF_INT64, s, n, 2, d), TSF_ECORRUPT);
    n = unhex("ffffffff 00000000 0000000000000001 0000000000000001", s); /* n < 0 */
    cr_assert_eq(tsf_ts2diff_decode(TSF_INT64, s, n, 1, d), TSF_ECORRUPT);
    n = unhex("00000002 00000021 00000001 00000001 00 00 00 00 00 00 00 00 00", s); /* i32 w 33 */
    cr_assert_eq(tsf_ts2diff_decode(TSF_INT32, s, n, 3, d), TSF_ECORRUPT);
}

/* Blocks larger than the reference's 128 items (other writers may use them):
 * the scaled FLOAT/DOUBLE decoder works through such blocks in pieces and
 * must agree with the integer decoder. */
Test(ts2diff, large_blocks_scaled)
{
    static const int widths[] = {0, 1, 3, 5, 8, 9, 13, 16, 31, 32, 33, 56, 57, 58, 63, 64};
    for (size_t wi = 0; wi < sizeof(widths) / sizeof(widths[0]); wi++) {
        int w = widths[wi];
        /* width-0 blocks are capped at the reference's 128 items (their
         * items take no bytes, see block_ok in enc_ts2diff.c) */
        size_t items = w == 0 ? 128 : 1000 + (size_t)w;
        size_t nbytes = (items * (size_t)w + 7) / 8;
        for (int is64 = w > 32; is64 <= 1; is64++) {
            size_t hdr = is64 ? 24 : 16;
            uint8_t *s = malloc(1 + hdr + nbytes);
            s[0] = 2; /* precision for the scaled decode */
            uint8_t *h = s + 1;
            tsf_be_store32(h, (uint32_t)items);
            tsf_be_store32(h + 4, (uint32_t)w);
            if (is64) {
                tsf_be_store64(h + 8, (uint64_t)-3);
                tsf_be_store64(h + 16, 12345);
            } else {
                tsf_be_store32(h + 8, (uint32_t)-3);
                tsf_be_store32(h + 12, 12345);
            }
            for (size_t i = 0; i < nbytes; i++) h[hdr + i] = (uint8_t)rnd();
            size_t n = items + 1;
            int64_t *raw = malloc(n * 8);
            double *dd = malloc(n * 8);
            TsfType it = is64 ? TSF_INT64 : TSF_INT32, ft = is64 ? TSF_DOUBLE : TSF_FLOAT;
            cr_assert_eq(tsf_ts2diff_decode(it, h, hdr + nbytes, n, raw), 0);
            cr_assert_eq(tsf_ts2diff_count(it, h, hdr + nbytes), (int64_t)n);
            cr_assert_eq(tsf_ts2diff_decode(ft, s, 1 + hdr + nbytes, n, dd), 0);
            for (size_t i = 0; i < n; i++) {
                if (is64) {
                    cr_assert(dd[i] == (double)raw[i] / 100.0, "w %d at %zu", w, i);
                } else {
                    int32_t r = ((int32_t *)raw)[i];
                    cr_assert(((float *)dd)[i] == (float)((double)r / 100.0), "w %d at %zu", w, i);
                }
            }
            /* the items reproduce the packed bits */
            if (is64 && w > 0)
                for (size_t i = 1; i < n; i++) {
                    uint64_t item = (uint64_t)raw[i] - (uint64_t)raw[i - 1] + 3;
                    uint64_t want = 0;
                    for (int k = 0; k < w; k++) {
                        size_t bit = (i - 1) * (size_t)w + (size_t)k;
                        want = (want << 1) | ((h[hdr + bit / 8] >> (7 - bit % 8)) & 1);
                    }
                    cr_assert_eq(item, want);
                }
            free(s);
            free(raw);
            free(dd);
        }
    }
}
