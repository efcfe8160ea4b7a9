/*
 * test_codec.c: page compression (spec §6): round trips of every codec on
 * empty, small, random and compressible bodies; framing facts (gzip member
 * header, raw snappy length prefix); and decoders facing wrong sizes,
 * truncation, bit flips and garbage, which must fail cleanly (run under ASan:
 * every output buffer is exactly out_len bytes on the heap).
 */
#include <criterion/criterion.h>

#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "tsf_error.h"

static const TsfCompression all_codecs[] = {TSF_COMP_UNCOMPRESSED, TSF_COMP_SNAPPY, TSF_COMP_GZIP,
                                            TSF_COMP_LZ4,          TSF_COMP_ZSTD,   TSF_COMP_LZMA2};
#define NCODECS (sizeof(all_codecs) / sizeof(all_codecs[0]))

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *random_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
    return p;
}

/* Looks like a page of slowly changing big-endian longs: compresses well. */
static uint8_t *compressible_bytes(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) p[i] = (i % 8 == 7) ? (uint8_t)(i / 64) : (uint8_t)(i % 8 < 4 ? 0 : i % 3);
    return p;
}

static void round_trip(TsfCompression c, const uint8_t *in, size_t n)
{
    TsfBuf out = TSF_BUF_INIT;
    /* Append after existing bytes to check that only appending happens. */
    tsf_buf_put(&out, "XY", 2);
    cr_assert_eq(tsf_compress(c, in, n, &out), 0, "codec %d n %zu", c, n);
    cr_assert(out.len >= 2 && memcmp(out.data, "XY", 2) == 0);
    uint8_t *back = malloc(n ? n : 1);
    int rc = tsf_uncompress(c, out.data + 2, out.len - 2, back, n);
    cr_assert_eq(rc, 0, "codec %d n %zu rc %d", c, n, rc);
    cr_assert(n == 0 || memcmp(back, in, n) == 0, "codec %d n %zu mismatch", c, n);
    free(back);
    tsf_buf_free(&out);
}

Test(codec, round_trip_empty)
{
    for (size_t i = 0; i < NCODECS; i++) round_trip(all_codecs[i], NULL, 0);
    /* a non-NULL pointer with zero length too */
    uint8_t x = 1;
    for (size_t i = 0; i < NCODECS; i++) round_trip(all_codecs[i], &x, 0);
}

Test(codec, round_trip_small)
{
    const uint8_t small[] = "hello hello hello tsfile";
    for (size_t i = 0; i < NCODECS; i++) {
        for (size_t n = 1; n <= sizeof(small); n++) round_trip(all_codecs[i], small, n);
    }
}

Test(codec, round_trip_random_1mib, .timeout = 120)
{
    size_t n = 1u << 20;
    uint8_t *in = random_bytes(n);
    for (size_t i = 0; i < NCODECS; i++) round_trip(all_codecs[i], in, n);
    free(in);
}

Test(codec, round_trip_compressible_1mib, .timeout = 120)
{
    size_t n = 1u << 20;
    uint8_t *in = compressible_bytes(n);
    for (size_t i = 0; i < NCODECS; i++) {
        TsfBuf out = TSF_BUF_INIT;
        cr_assert_eq(tsf_compress(all_codecs[i], in, n, &out), 0);
        if (all_codecs[i] != TSF_COMP_UNCOMPRESSED)
            cr_assert_lt(out.len, n / 4, "codec %d only reached %zu", all_codecs[i], out.len);
        tsf_buf_free(&out);
        round_trip(all_codecs[i], in, n);
    }
    free(in);
}

Test(codec, gzip_is_a_gzip_member)
{
    TsfBuf out = TSF_BUF_INIT;
    const uint8_t in[] = "abcabcabc";
    cr_assert_eq(tsf_compress(TSF_COMP_GZIP, in, 9, &out), 0);
    cr_assert_geq(out.len, 18);
    cr_assert_eq(out.data[0], 0x1f);
    cr_assert_eq(out.data[1], 0x8b);
    cr_assert_eq(out.data[2], 0x08);
    /* ISIZE trailer: little-endian input length */
    cr_assert_eq(out.data[out.len - 4], 9);
    cr_assert_eq(out.data[out.len - 3], 0);
    tsf_buf_free(&out);
}

Test(codec, snappy_is_raw_block)
{
    TsfBuf out = TSF_BUF_INIT;
    uint8_t in[300];
    memset(in, 'a', sizeof(in));
    cr_assert_eq(tsf_compress(TSF_COMP_SNAPPY, in, sizeof(in), &out), 0);
    /* uvarint 300 = ac 02, no stream identifier chunk */
    cr_assert_eq(out.data[0], 0xac);
    cr_assert_eq(out.data[1], 0x02);
    tsf_buf_free(&out);
}

Test(codec, zstd_is_one_frame)
{
    TsfBuf out = TSF_BUF_INIT;
    cr_assert_eq(tsf_compress(TSF_COMP_ZSTD, (const uint8_t *)"abc", 3, &out), 0);
    const uint8_t magic[4] = {0x28, 0xb5, 0x2f, 0xfd};
    cr_assert(memcmp(out.data, magic, 4) == 0);
    tsf_buf_free(&out);
}

Test(codec, xz_container)
{
    TsfBuf out = TSF_BUF_INIT;
    cr_assert_eq(tsf_compress(TSF_COMP_LZMA2, (const uint8_t *)"abc", 3, &out), 0);
    const uint8_t magic[6] = {0xfd, '7', 'z', 'X', 'Z', 0x00};
    cr_assert(memcmp(out.data, magic, 6) == 0);
    cr_assert_eq(out.data[7], 0x04, "stream flags: CRC64");
    cr_assert_eq(out.data[out.len - 2], 'Y');
    cr_assert_eq(out.data[out.len - 1], 'Z');
    tsf_buf_free(&out);
}

Test(codec, unknown_codec)
{
    TsfBuf out = TSF_BUF_INIT;
    uint8_t b[4] = {0};
    cr_assert_eq(tsf_compress((TsfCompression)3, b, 4, &out), TSF_EUNSUPPORTED);
    cr_assert_eq(tsf_compress((TsfCompression)200, b, 4, &out), TSF_EUNSUPPORTED);
    cr_assert_eq(out.len, 0);
    cr_assert_eq(tsf_uncompress((TsfCompression)5, b, 4, b, 4), TSF_EUNSUPPORTED);
    tsf_buf_free(&out);
}

/* Decoding into exactly-sized heap buffers of a wrong length must fail. */
Test(codec, wrong_out_len)
{
    size_t n = 5000;
    uint8_t *in = compressible_bytes(n);
    for (size_t i = 0; i < NCODECS; i++) {
        TsfCompression c = all_codecs[i];
        TsfBuf out = TSF_BUF_INIT;
        cr_assert_eq(tsf_compress(c, in, n, &out), 0);
        size_t lens[] = {0, 1, n - 1, n + 1, 2 * n};
        for (size_t j = 0; j < sizeof(lens) / sizeof(lens[0]); j++) {
            uint8_t *buf = malloc(lens[j] ? lens[j] : 1);
            int rc = tsf_uncompress(c, out.data, out.len, buf, lens[j]);
            cr_assert_eq(rc, TSF_ECORRUPT, "codec %d out_len %zu rc %d", c, lens[j], rc);
            free(buf);
        }
        tsf_buf_free(&out);
    }
    free(in);
}

Test(codec, wrong_out_len_empty_body)
{
    for (size_t i = 0; i < NCODECS; i++) {
        TsfBuf out = TSF_BUF_INIT;
        cr_assert_eq(tsf_compress(all_codecs[i], NULL, 0, &out), 0);
        uint8_t *buf = malloc(7);
        cr_assert_eq(tsf_uncompress(all_codecs[i], out.data, out.len, buf, 7), TSF_ECORRUPT);
        free(buf);
        tsf_buf_free(&out);
    }
}

Test(codec, no_body_is_empty_page)
{
    uint8_t b = 0;
    for (size_t i = 0; i < NCODECS; i++) {
        cr_assert_eq(tsf_uncompress(all_codecs[i], NULL, 0, NULL, 0), 0);
        cr_assert_eq(tsf_uncompress(all_codecs[i], NULL, 0, &b, 1), TSF_ECORRUPT);
    }
}

Test(codec, truncated_input)
{
    size_t n = 20000;
    uint8_t *in = random_bytes(n);
    memset(in, 7, n / 2); /* half compressible */
    for (size_t i = 1; i < NCODECS; i++) {
        TsfCompression c = all_codecs[i];
        TsfBuf out = TSF_BUF_INIT;
        cr_assert_eq(tsf_compress(c, in, n, &out), 0);
        uint8_t *buf = malloc(n);
        size_t cuts[] = {0, 1, 2, 5, out.len / 2, out.len - 1};
        for (size_t j = 0; j < sizeof(cuts) / sizeof(cuts[0]); j++) {
            /* copy so ASan sees reads past the shortened input */
            uint8_t *part = malloc(cuts[j] ? cuts[j] : 1);
            memcpy(part, out.data, cuts[j]);
            int rc = tsf_uncompress(c, part, cuts[j], buf, n);
            cr_assert_eq(rc, TSF_ECORRUPT, "codec %d cut %zu rc %d", c, cuts[j], rc);
            free(part);
        }
        free(buf);
        tsf_buf_free(&out);
    }
    free(in);
}

/* Checksummed formats must notice any flipped byte; the others must just
 * stay inside their buffers. */
Test(codec, bit_flips, .timeout = 120)
{
    size_t n = 4096;
    uint8_t *in = compressible_bytes(n);
    for (size_t i = 0; i < n; i += 97) in[i] = (uint8_t)rnd();
    for (size_t i = 1; i < NCODECS; i++) {
        TsfCompression c = all_codecs[i];
        TsfBuf out = TSF_BUF_INIT;
        cr_assert_eq(tsf_compress(c, in, n, &out), 0);
        uint8_t *bad = malloc(out.len);
        uint8_t *buf = malloc(n);
        for (int t = 0; t < 300; t++) {
            memcpy(bad, out.data, out.len);
            size_t pos = rnd() % out.len;
            bad[pos] ^= (uint8_t)(1u << (rnd() % 8));
            int rc = tsf_uncompress(c, bad, out.len, buf, n);
            cr_assert(rc == 0 || rc == TSF_ECORRUPT, "codec %d rc %d", c, rc);
            if (c == TSF_COMP_GZIP || c == TSF_COMP_LZMA2) {
                /* gzip header flag/mtime/xfl/os bytes are not covered by
                 * the CRC; elsewhere a flip must be caught. */
                if (!(c == TSF_COMP_GZIP && pos >= 3 && pos < 10))
                    cr_assert_eq(rc, TSF_ECORRUPT, "codec %d pos %zu undetected", c, pos);
            }
        }
        free(bad);
        free(buf);
        tsf_buf_free(&out);
    }
    free(in);
}

Test(codec, garbage_input, .timeout = 120)
{
    uint8_t *buf = malloc(1000);
    for (size_t i = 1; i < NCODECS; i++) {
        for (int t = 0; t < 500; t++) {
            size_t len = 1 + rnd() % 200;
            uint8_t *g = random_bytes(len);
            size_t out_len = rnd() % 1000;
            int rc = tsf_uncompress(all_codecs[i], g, len, buf, out_len);
            cr_assert(rc == 0 || rc == TSF_ECORRUPT, "codec %d rc %d", all_codecs[i], rc);
            free(g);
        }
    }
    free(buf);
}

/* A gzip stream split into two members decodes as their concatenation,
 * like Java's GZIPInputStream; trailing junk after a member is ignored. */
Test(codec, gzip_two_members)
{
    TsfBuf out = TSF_BUF_INIT;
    cr_assert_eq(tsf_compress(TSF_COMP_GZIP, (const uint8_t *)"hello ", 6, &out), 0);
    cr_assert_eq(tsf_compress(TSF_COMP_GZIP, (const uint8_t *)"world", 5, &out), 0);
    uint8_t buf[11];
    cr_assert_eq(tsf_uncompress(TSF_COMP_GZIP, out.data, out.len, buf, 11), 0);
    cr_assert(memcmp(buf, "hello world", 11) == 0);
    uint8_t small[6];
    cr_assert_eq(tsf_uncompress(TSF_COMP_GZIP, out.data, out.len, small, 6), TSF_ECORRUPT);
    tsf_buf_free(&out);
}

Test(codec, uncompressed_length_must_match)
{
    uint8_t in[4] = {1, 2, 3, 4}, o[5];
    cr_assert_eq(tsf_uncompress(TSF_COMP_UNCOMPRESSED, in, 4, o, 4), 0);
    cr_assert_eq(tsf_uncompress(TSF_COMP_UNCOMPRESSED, in, 4, o, 5), TSF_ECORRUPT);
    cr_assert_eq(tsf_uncompress(TSF_COMP_UNCOMPRESSED, in, 4, o, 3), TSF_ECORRUPT);
}
