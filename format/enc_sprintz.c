/*
 * enc_sprintz.c: SPRINTZ (encoding code 12, experimental), spec §5.12.  Read only.
 *
 * A page stream is a run of blocks of 9 values, then at most one tail:
 *
 *   block := u8 width (high bit clear)
 *            base:  INT32 uvarint of the 32-bit pattern | INT64 i64 BE |
 *                   FLOAT f32 BE | DOUBLE f64 BE
 *            width bytes: 8 packed residuals (§5.4)
 *   tail  := u8 (count | 0x80), then count values as an RLE INT32 / RLE INT64 /
 *            GORILLA FLOAT / GORILLA DOUBLE stream (enc_rle.c, enc_gorilla.c)
 *
 * Residual r maps back to an error e: even r -> -r/2, odd r -> (r+1)/2, in
 * wrapping 32/64-bit arithmetic with division truncating toward zero (so the
 * mapping of large residuals overflows exactly as the reference's does).
 * The value is then prediction + e, where the FIRE predictor (reset per block)
 * is, with acc a 32-bit integer in both widths:
 *
 *   predict(prev)       = prev + (((acc >> L) * delta) >> S)    L,S = 2,8 | 3,16
 *   train(prev,cur,err) : acc -= (err > 0 ? -delta : delta)  (truncated to 32 bits)
 *                         delta = cur - prev
 *
 * FLOAT/DOUBLE run the same integer arithmetic on the IEEE patterns; the base
 * value enters the predictor through floatToIntBits / doubleToLongBits, i.e. a
 * NaN base is replaced by the canonical NaN there (the output keeps the base's
 * own bits).  All this reproduces what the reference reader returns, including
 * its non-round-trips on FLOAT/DOUBLE (the reference encoder's residuals
 * overflow; the golden dumps show the results).
 *
 * Decoding is driven by the value count.  A tail whose count is 0 or above 9
 * is refused (the reference would index outside its 9-value buffer); block
 * widths above the value width are refused likewise.
 */
#include <string.h>

#include "encoding_int.h"
#include "tsf_error.h"

#define BLOCK 8 /* residuals per block; a block holds BLOCK + 1 values */

/* Inverse residual mapping, Java int/long semantics. */
static inline int32_t unmap32(uint32_t r)
{
    if ((r & 1) == 0) return (int32_t)(0u - r) / 2;
    return (int32_t)(r + 1u) / 2;
}

static inline int64_t unmap64(uint64_t r)
{
    if ((r & 1) == 0) return (int64_t)(0 - r) / 2;
    return (int64_t)(r + 1) / 2;
}

/* FIRE over 32-bit values: base is the block's first value as the predictor
 * sees it, e the 8 errors; writes the 8 reconstructed values to y. */
static void fire32(uint32_t base, const int32_t *e, uint32_t *y)
{
    int32_t acc = 0;
    uint32_t delta = 0;
    uint32_t prev = base;
    for (int i = 0; i < BLOCK; i++) {
        int32_t alpha = acc >> 2;
        int32_t diff = (int32_t)((uint32_t)alpha * delta) >> 8;
        uint32_t cur = prev + (uint32_t)diff + (uint32_t)e[i];
        uint32_t grad = e[i] > 0 ? 0u - delta : delta;
        acc = (int32_t)((uint32_t)acc - grad);
        delta = cur - prev;
        y[i] = cur;
        prev = cur;
    }
}

static void fire64(uint64_t base, const int64_t *e, uint64_t *y)
{
    int32_t acc = 0;
    uint64_t delta = 0;
    uint64_t prev = base;
    for (int i = 0; i < BLOCK; i++) {
        int64_t alpha = acc >> 3;
        int64_t diff = (int64_t)((uint64_t)alpha * delta) >> 16;
        uint64_t cur = prev + (uint64_t)diff + (uint64_t)e[i];
        uint64_t grad = e[i] > 0 ? 0 - delta : delta;
        /* int -= long: the 64-bit difference truncated to 32 bits */
        acc = (int32_t)(uint32_t)((uint64_t)(int64_t)acc - grad);
        delta = cur - prev;
        y[i] = cur;
        prev = cur;
    }
}

static inline uint32_t canon_f32(uint32_t b)
{
    return ((b & 0x7f800000u) == 0x7f800000u && (b & 0x007fffffu)) ? 0x7fc00000u : b;
}

static inline uint64_t canon_f64(uint64_t b)
{
    const uint64_t exp = UINT64_C(0x7ff0000000000000);
    return ((b & exp) == exp && (b & ~(exp | UINT64_C(0x8000000000000000)))) ? UINT64_C(0x7ff8000000000000)
                                                                             : b;
}

/* Decodes one 9-value block or tail at p[*pos..len) into v (at most 9
 * values); returns how many it produced (> 0) or TSF_ECORRUPT. */
static int block32(const uint8_t *p, size_t len, size_t *pos, int is_float, uint32_t *v)
{
    if (*pos >= len) return TSF_ECORRUPT;
    TsfCursor c = tsf_cursor(p + *pos, len - *pos);
    uint8_t head = tsf_cur_u8(&c);
    if (head & 0x80) {
        int cnt = head & 0x7f;
        if (cnt == 0 || cnt > BLOCK + 1) return TSF_ECORRUPT;
        size_t used = 0;
        size_t left = tsf_cur_left(&c);
        int rc = is_float ? tsf_gorilla_decode_u32(c.p, left, (size_t)cnt, v, &used)
                          : tsf_rle_decode_i32(c.p, left, (size_t)cnt, (int32_t *)v, &used);
        if (rc) return TSF_ECORRUPT;
        *pos = (size_t)(c.p - p) + used;
        return cnt;
    }
    int width = head;
    if (width > 32) return TSF_ECORRUPT;
    uint32_t base = is_float ? tsf_cur_be32(&c) : tsf_cur_uvarint(&c);
    const uint8_t *packed = tsf_cur_take(&c, (size_t)width);
    if (c.err) return TSF_ECORRUPT;
    uint32_t r[BLOCK];
    int32_t e[BLOCK];
    tsf_unpack8_u32(packed, width, r);
    for (int i = 0; i < BLOCK; i++) e[i] = unmap32(r[i]);
    v[0] = base;
    fire32(is_float ? canon_f32(base) : base, e, v + 1);
    *pos = (size_t)(c.p - p);
    return BLOCK + 1;
}

static int block64(const uint8_t *p, size_t len, size_t *pos, int is_float, uint64_t *v)
{
    if (*pos >= len) return TSF_ECORRUPT;
    TsfCursor c = tsf_cursor(p + *pos, len - *pos);
    uint8_t head = tsf_cur_u8(&c);
    if (head & 0x80) {
        int cnt = head & 0x7f;
        if (cnt == 0 || cnt > BLOCK + 1) return TSF_ECORRUPT;
        size_t used = 0;
        size_t left = tsf_cur_left(&c);
        int rc = is_float ? tsf_gorilla_decode_u64(c.p, left, (size_t)cnt, v, &used)
                          : tsf_rle_decode_i64(c.p, left, (size_t)cnt, (int64_t *)v, &used);
        if (rc) return TSF_ECORRUPT;
        *pos = (size_t)(c.p - p) + used;
        return cnt;
    }
    int width = head;
    if (width > 64) return TSF_ECORRUPT;
    uint64_t base = tsf_cur_be64(&c);
    const uint8_t *packed = tsf_cur_take(&c, (size_t)width);
    if (c.err) return TSF_ECORRUPT;
    uint64_t r[BLOCK];
    int64_t e[BLOCK];
    tsf_unpack8_u64(packed, width, r);
    for (int i = 0; i < BLOCK; i++) e[i] = unmap64(r[i]);
    v[0] = base;
    fire64(is_float ? canon_f64(base) : base, e, v + 1);
    *pos = (size_t)(c.p - p);
    return BLOCK + 1;
}

static int decode32(const uint8_t *p, size_t len, size_t n, int is_float, void *out)
{
    uint8_t *o = out;
    size_t pos = 0, done = 0;
    while (done < n) {
        uint32_t v[BLOCK + 1];
        int got = block32(p, len, &pos, is_float, v);
        if (got < 0) return got;
        size_t take = (size_t)got < n - done ? (size_t)got : n - done;
        memcpy(o + 4 * done, v, 4 * take);
        done += take;
    }
    return 0;
}

static int decode64(const uint8_t *p, size_t len, size_t n, int is_float, void *out)
{
    uint8_t *o = out;
    size_t pos = 0, done = 0;
    while (done < n) {
        uint64_t v[BLOCK + 1];
        int got = block64(p, len, &pos, is_float, v);
        if (got < 0) return got;
        size_t take = (size_t)got < n - done ? (size_t)got : n - done;
        memcpy(o + 8 * done, v, 8 * take);
        done += take;
    }
    return 0;
}

int tsf_sprintz_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)type, (void)values, (void)n, (void)opts, (void)out;
    return TSF_EUNSUPPORTED; /* read-only: experimental, and lossy for floats */
}

int tsf_sprintz_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return decode32(p, len, n, 0, out);
    case TSF_FLOAT: return decode32(p, len, n, 1, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return decode64(p, len, n, 0, out);
    case TSF_DOUBLE: return decode64(p, len, n, 1, out);
    default: return TSF_EUNSUPPORTED;
    }
}
