/*
 * encoding_int.h: the per-encoding entry points behind encoding.h.
 *
 * Each enc_*.c file implements one encoding for the types it supports and
 * exports these two (or three) functions; encoding.c dispatches to them.
 * Contracts are those of tsf_encode / tsf_decode / tsf_count_values.
 * A function may return TSF_EUNSUPPORTED for a type it does not handle.
 */
#ifndef TSF_ENCODING_INT_H
#define TSF_ENCODING_INT_H

#include <math.h>

#include "encoding.h"

/* FLOAT/DOUBLE under RLE and TS_2DIFF are stored as integers scaled by
 * 10^precision (spec §5.5.5), rounded like Java's Math.round: nearest
 * integer, ties toward +inf, NaN -> 0, saturating at the int64 range. */
static inline int64_t tsf_java_round(double x)
{
    if (isnan(x)) return 0;
    double f = floor(x);
    if (x - f >= 0.5) f += 1.0; /* x - floor(x) is exact */
    if (f >= 9223372036854775808.0) return INT64_MAX;
    if (f < -9223372036854775808.0) return INT64_MIN;
    return (int64_t)f;
}

/* 10^p, or 1 when p <= 0 (the reference's maxPointValue). */
static inline double tsf_scale_factor(int32_t p)
{
    return p <= 0 ? 1.0 : pow(10.0, p);
}

#define TSF_DECLARE_CODEC(name)                                                                              \
    int tsf_##name##_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts,           \
                            TsfBuf *out);                                                                    \
    int tsf_##name##_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)

TSF_DECLARE_CODEC(plain);
TSF_DECLARE_CODEC(rle);
TSF_DECLARE_CODEC(ts2diff);
TSF_DECLARE_CODEC(gorilla);
TSF_DECLARE_CODEC(gorilla_v1);
TSF_DECLARE_CODEC(dictionary);
TSF_DECLARE_CODEC(zigzag);
TSF_DECLARE_CODEC(chimp);
TSF_DECLARE_CODEC(sprintz);
TSF_DECLARE_CODEC(rlbe);
TSF_DECLARE_CODEC(regular);

/* Counting without a known count (see tsf_count_values).  Cheap ones. */
int64_t tsf_ts2diff_count(TsfType type, const uint8_t *p, size_t len);

/* Bit-packing primitive (spec §5.4): packs 8 values of `width` bits into
 * exactly `width` bytes at out / unpacks them. */
void tsf_pack8_u32(const uint32_t *v, int width, uint8_t *out);
void tsf_unpack8_u32(const uint8_t *in, int width, uint32_t *v);
void tsf_pack8_u64(const uint64_t *v, int width, uint8_t *out);
void tsf_unpack8_u64(const uint8_t *in, int width, uint64_t *v);

/* RLE stream of raw integers (INT32 flavour with 32-bit values or INT64
 * flavour), used by RLE itself, DICTIONARY indices and SPRINTZ tails.
 * decode: reads exactly n values, consuming packages as needed; *used is set
 * to the number of bytes consumed (the end of the last package touched;
 * used may be NULL). */
int tsf_rle_encode_i32(const int32_t *v, size_t n, TsfBuf *out);
int tsf_rle_encode_i64(const int64_t *v, size_t n, TsfBuf *out);
int tsf_rle_decode_i32(const uint8_t *p, size_t len, size_t n, int32_t *out, size_t *used);
int tsf_rle_decode_i64(const uint8_t *p, size_t len, size_t n, int64_t *out, size_t *used);

/* GORILLA (v2) on raw 32/64-bit patterns, used by GORILLA and SPRINTZ tails. */
int tsf_gorilla_encode_u32(const uint32_t *v, size_t n, uint32_t terminator, TsfBuf *out);
int tsf_gorilla_encode_u64(const uint64_t *v, size_t n, uint64_t terminator, TsfBuf *out);
int tsf_gorilla_decode_u32(const uint8_t *p, size_t len, size_t n, uint32_t *out, size_t *used);
int tsf_gorilla_decode_u64(const uint8_t *p, size_t len, size_t n, uint64_t *out, size_t *used);

#endif
