/*
 * gen_seeds.c: writes seed inputs for fuzz_decoders into a directory.
 *
 * Each seed follows fuzz_decoders.c's layout (encoding index, type index,
 * n, out_len, stream).  Streams are produced by our own encoders for every
 * (encoding, type) pair they can write, from a few value patterns
 * (constant, ramp, noise with extremes), plus compressed bodies for every
 * codec, serialized statistics and bloom filters.  Valid streams start the
 * fuzzer deep inside each decoder instead of at its first length check.
 *
 * Usage: gen_seeds DIR
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "codec.h"
#include "encoding.h"
#include "stats.h"

/* Must match fuzz_decoders.c. */
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

static const char *g_dir;
static int g_count;

static void put_seed(int ei, int ti, size_t n, size_t out_len, const uint8_t *s, size_t len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/seed-%04d", g_dir, g_count++);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    uint8_t h[6] = {(uint8_t)ei,     (uint8_t)ti, (uint8_t)(n >> 8), (uint8_t)n, (uint8_t)(out_len >> 8),
                    (uint8_t)out_len};
    fwrite(h, 1, sizeof(h), f);
    if (len) fwrite(s, 1, len, f);
    fclose(f);
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static const char *words[] = {"", "a", "root.sg.d1", "temperature", "\xe6\xb8\xa9\xe5\xba\xa6", "x\ny"};

/* Fills n values of type in pattern p (0 constant, 1 ramp, 2 noise). */
static void fill(TsfType type, int p, size_t n, void *out)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t r = p == 0 ? 7 : p == 1 ? i * 3 + 1000 : next_rand();
        if (p == 2 && i % 17 == 3) r = (uint64_t)INT64_MIN;
        switch (tsf_type_phys(type == TSF_VECTOR ? TSF_INT64 : type)) {
        case TSF_PHYS_BOOL: ((uint8_t *)out)[i] = (uint8_t)(r & 1); break;
        case TSF_PHYS_I32: ((int32_t *)out)[i] = (int32_t)r; break;
        case TSF_PHYS_I64: ((int64_t *)out)[i] = (int64_t)r; break;
        case TSF_PHYS_F32: ((float *)out)[i] = p == 2 && i % 11 == 5 ? NAN : (float)(int32_t)r / 8.0f; break;
        case TSF_PHYS_F64:
            ((double *)out)[i] = p == 2 && i % 13 == 6 ? -INFINITY : (double)(int64_t)r / 16.0;
            break;
        case TSF_PHYS_BIN: {
            const char *w = words[r % NELEM(words)];
            ((TsfBin *)out)[i] = (TsfBin){(const uint8_t *)w, (uint32_t)strlen(w)};
            break;
        }
        default: break;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    g_dir = argv[1];
    static const size_t counts[] = {1, 9, 130, 700};
    void *vals = malloc(700 * 16);
    if (!vals) return 1;
    for (size_t ei = 0; ei < NELEM(encs); ei++) {
        for (size_t ti = 0; ti < NELEM(types); ti++) {
            for (size_t ci = 0; ci < NELEM(counts); ci++) {
                for (int p = 0; p < 3; p++) {
                    if (p == 0 && ci > 1) continue;
                    size_t n = counts[ci];
                    fill(types[ti], p, n, vals);
                    TsfBuf b = TSF_BUF_INIT;
                    if (tsf_encode(encs[ei], types[ti], vals, n, NULL, &b) == 0 && b.len)
                        put_seed((int)ei, (int)ti, n, 0, b.data, b.len);
                    tsf_buf_free(&b);
                }
            }
        }
    }
    /* compressed page bodies: a PLAIN INT64 stream and a text-like one */
    uint8_t raw[2048];
    for (size_t i = 0; i < sizeof(raw); i++) raw[i] = (uint8_t)(i % 97 < 50 ? 'a' + i % 7 : next_rand());
    for (size_t k = 0; k < NELEM(codecs); k++) {
        size_t lens[2] = {64, sizeof(raw)};
        for (int j = 0; j < 2; j++) {
            TsfBuf b = TSF_BUF_INIT;
            if (tsf_compress(codecs[k], raw, lens[j], &b) == 0)
                put_seed(0, 2, lens[j] / 8, lens[j], b.data, b.len);
            tsf_buf_free(&b);
        }
    }
    /* statistics of every type, and bloom filters */
    int64_t times[40];
    for (int i = 0; i < 40; i++) times[i] = 1000 + 10 * i;
    for (size_t ti = 0; ti < NELEM(types); ti++) {
        TsfStats st;
        tsf_stats_init(&st, types[ti]);
        fill(types[ti], 2, 40, vals);
        if (tsf_stats_add(&st, times, vals, 40) == 0) {
            TsfBuf b = TSF_BUF_INIT;
            tsf_stats_write(&st, &b);
            put_seed(0, (int)ti, 0, 0, b.data, b.len);
            tsf_buf_free(&b);
        }
        tsf_stats_free(&st);
    }
    for (uint32_t n = 0; n < 3000; n = n * 10 + 1) {
        TsfBloom bl;
        if (tsf_bloom_init(&bl, n, 0.05) != 0) continue;
        char key[32];
        for (uint32_t i = 0; i < n && i < 50; i++) {
            int kl = snprintf(key, sizeof(key), "root.sg.d%u.s1", i);
            tsf_bloom_add(&bl, key, (size_t)kl);
        }
        tsf_bloom_add_series(&bl, "root.sg.d1", 10, "s1", 2);
        for (int v = 3; v <= 4; v++) {
            TsfBuf b = TSF_BUF_INIT;
            tsf_bloom_write(&bl, v, &b);
            put_seed(0, 0, 0, 0, b.data, b.len);
            tsf_buf_free(&b);
        }
        tsf_bloom_free(&bl);
    }
    free(vals);
    printf("%d seeds\n", g_count);
    return 0;
}
