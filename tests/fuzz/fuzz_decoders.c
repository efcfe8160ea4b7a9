/*
 * fuzz_decoders.c: libFuzzer target for the stream decoders, the codecs,
 * and the statistics and bloom filter parsers.
 *
 * Input layout (all of it is fuzzed):
 *
 *   byte 0     encoding, index into the list of encodings below
 *   byte 1     data type, index into the list of types below
 *   bytes 2-3  n, values to decode (big-endian, taken mod 4097)
 *   bytes 4-5  out_len for tsf_uncompress (big-endian, 0..65535)
 *   rest       the stream
 *
 * The stream is decoded as n values of (encoding, type) into an array of
 * exactly n elements (so AddressSanitizer sees any write past it);
 * decoded values are re-encoded (any error is fine).  TS_2DIFF and PLAIN
 * are also counted with tsf_count_values and, when the count is small,
 * decoded with it.  Then the stream is decompressed by every codec into
 * exactly out_len bytes, and parsed as statistics of every type and as a
 * bloom filter.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "codec.h"
#include "encoding.h"
#include "stats.h"

#define HDR   6
#define MAX_N 4096

static const TsfEncoding encs[] = {
    TSF_ENC_PLAIN,   TSF_ENC_DICTIONARY, TSF_ENC_RLE,   TSF_ENC_TS_2DIFF, TSF_ENC_GORILLA_V1, TSF_ENC_REGULAR,
    TSF_ENC_GORILLA, TSF_ENC_ZIGZAG,     TSF_ENC_CHIMP, TSF_ENC_SPRINTZ,  TSF_ENC_RLBE,
};
static const TsfType types[] = {
    TSF_BOOLEAN, TSF_INT32,     TSF_INT64, TSF_FLOAT, TSF_DOUBLE, TSF_TEXT,
    TSF_VECTOR,  TSF_TIMESTAMP, TSF_DATE,  TSF_BLOB,  TSF_STRING,
};
static const TsfCompression codecs[] = {
    TSF_COMP_UNCOMPRESSED, TSF_COMP_SNAPPY, TSF_COMP_GZIP, TSF_COMP_LZ4, TSF_COMP_ZSTD, TSF_COMP_LZMA2,
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Reads every decoded value; binary values byte by byte. */
static uint64_t touch(TsfType type, const void *vals, size_t n)
{
    size_t esz = tsf_type_elem_size(type == TSF_VECTOR ? TSF_INT64 : type);
    const uint8_t *v = vals;
    uint64_t acc = 0;
    for (size_t i = 0; i < n; i++) {
        if (tsf_type_phys(type) == TSF_PHYS_BIN) {
            TsfBin b;
            memcpy(&b, v + i * esz, sizeof(b));
            for (uint32_t k = 0; k < b.len; k++) acc += b.ptr[k];
        } else {
            for (size_t k = 0; k < esz; k++) acc += v[i * esz + k];
        }
    }
    return acc;
}

static void decode_one(TsfEncoding enc, TsfType type, const uint8_t *s, size_t len, size_t n)
{
    size_t esz = tsf_type_elem_size(type == TSF_VECTOR ? TSF_INT64 : type);
    void *out = malloc(n * esz + 1);
    if (!out) return;
    if (tsf_decode(enc, type, s, len, n, out) == 0) {
        volatile uint64_t acc = touch(type, out, n);
        (void)acc;
        /* Booleans must be 0/1 for the encoders; others are any bits. */
        if (tsf_type_phys(type) == TSF_PHYS_BOOL)
            for (size_t i = 0; i < n; i++) ((uint8_t *)out)[i] &= 1;
        TsfBuf b = TSF_BUF_INIT;
        (void)tsf_encode(enc, type, out, n, NULL, &b);
        tsf_buf_free(&b);
    }
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < HDR) return 0;
    TsfEncoding enc = encs[data[0] % NELEM(encs)];
    TsfType type = types[data[1] % NELEM(types)];
    size_t n = (((size_t)data[2] << 8) | data[3]) % (MAX_N + 1);
    size_t out_len = ((size_t)data[4] << 8) | data[5];
    const uint8_t *s = data + HDR;
    size_t len = size - HDR;

    /* A private copy of exactly len bytes, so reads past the stream's end
     * are caught rather than landing in libFuzzer's buffer slack. */
    uint8_t *stream = malloc(len ? len : 1);
    if (!stream) return 0;
    if (len) memcpy(stream, s, len);
    /* Never NULL: library callers always pass a pointer into a buffer,
     * even for an empty stream. */
    const uint8_t *sp = stream;

    decode_one(enc, type, sp, len, n);

    TsfEncoding cenc[2] = {TSF_ENC_TS_2DIFF, TSF_ENC_PLAIN};
    for (int i = 0; i < 2; i++) {
        int64_t cnt = tsf_count_values(cenc[i], type, sp, len);
        if (cnt >= 0 && cnt <= MAX_N) decode_one(cenc[i], type, sp, len, (size_t)cnt);
    }

    uint8_t *out = malloc(out_len ? out_len : 1);
    if (out) {
        for (size_t i = 0; i < NELEM(codecs); i++) {
            if (tsf_uncompress(codecs[i], sp, len, out, out_len) == 0) {
                volatile uint8_t x = 0;
                for (size_t k = 0; k < out_len; k++) x ^= out[k];
                (void)x;
            }
        }
        free(out);
    }

    for (size_t i = 0; i < NELEM(types); i++) {
        TsfCursor c = tsf_cursor(sp, len);
        TsfStats st;
        if (tsf_stats_read(&c, types[i], &st) == 0) {
            (void)tsf_stats_size(&st);
            TsfStats cp;
            if (tsf_stats_copy(&cp, &st) == 0) tsf_stats_free(&cp);
        }
        tsf_stats_free(&st);
    }

    TsfCursor c = tsf_cursor(sp, len);
    TsfBloom b;
    if (tsf_bloom_read(&c, &b) == 0) {
        (void)tsf_bloom_may_contain(&b, "root.sg.d1.s1", 13);
        (void)tsf_bloom_may_contain_series(&b, "root.sg.d1", 10, "", 0);
        TsfBuf o = TSF_BUF_INIT;
        tsf_bloom_write(&b, 4, &o);
        tsf_buf_free(&o);
    }
    tsf_bloom_free(&b);
    free(stream);
    return 0;
}
