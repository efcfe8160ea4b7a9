/*
 * enc_gorilla_v1.c: GORILLA_V1 (encoding code 6, legacy), FLOAT and DOUBLE
 * only, spec §5.8.
 *
 *   first value   raw IEEE bits, LITTLE-endian, 4 or 8 bytes
 *   then MSB-first bits; LZ/TZ are the leading/trailing zeros of the PREVIOUS
 *   VALUE's pattern (32/32 or 64/64 for zero), x = prev ^ cur:
 *     '0'                          x == 0
 *     '10' + bits W-1-LZ .. TZ of x   nlz(x) >= LZ and ntz(x) >= TZ
 *     '11' + nlz(x) (5|6 bits) + sig = W-nlz-ntz (6|7 bits) + bits W-1-nlz .. ntz of x
 *   end           NaN coded as a value, then zero padding to a byte (no extra
 *                 byte, unlike GORILLA v2)
 *
 * The writer codes values through floatToIntBits / doubleToLongBits, so every
 * NaN is stored as the canonical one.
 *
 * The decoder reproduces the reference reader bit for bit, including a quirk
 * that matters for valid files: once it has decoded a NaN (anywhere in the
 * page, not only the terminator) it stops loading bytes, and later bits come
 * from its stale one-byte buffer with a negative bit count, i.e. bit
 * (buffer >> (count & 31)) & 1.  Values after a NaN therefore decode to what
 * the reference returns, not to what was written.  Malformed '11' fields are
 * decoded with Java's masked shifts as well.  Running out of bytes is
 * TSF_ECORRUPT (the reference logs it and returns NaN).  Decoding is driven by
 * the value count; the terminator entry must be present, as the reference
 * reads it after the last value.
 *
 * This encoding is legacy and not a hot path: the reader works per byte.
 */
#include <string.h>

#include "bits.h"
#include "encoding_int.h"
#include "tsf_error.h"

/* ---- reader mimicking the reference's byte buffer -------------------------- */

typedef struct {
    const uint8_t *p;   /* next byte */
    const uint8_t *end; /* end of the stream */
    int buf;            /* current byte, or -1 after running out */
    int left;           /* bits left in buf; negative after a NaN (see above) */
    int is_end;         /* a NaN was decoded: no more refills */
    int eof;            /* tried to read past the end */
} V1Reader;

static inline int v1_bit(V1Reader *r)
{
    if (r->left == 0 && !r->is_end) {
        if (r->p < r->end) {
            r->buf = *r->p++;
            r->left = 8;
        } else {
            r->buf = -1;
            r->left = -1;
        }
    }
    if (r->buf < 0) {
        r->eof = 1;
        return 0;
    }
    r->left--;
    return (r->buf >> ((unsigned)r->left & 31)) & 1;
}

/* k bits (k <= 64) MSB first, as plain binary. */
static uint64_t v1_bits(V1Reader *r, int k)
{
    uint64_t v = 0;
    while (k > 0) {
        if (r->left > 0 && r->buf >= 0) {
            /* whole bits of the current byte at once */
            int t = k < r->left ? k : r->left;
            r->left -= t;
            v = (v << t) | (uint64_t)((r->buf >> r->left) & ((1 << t) - 1));
            k -= t;
        } else {
            v = (v << 1) | (uint64_t)v1_bit(r);
            k--;
        }
    }
    return v;
}

/* Java's readIntFromStream / readLongFromStream for a length that may exceed
 * the value width: bit i lands at ((len - 1 - i) & (W - 1)), OR'ed in. */
static uint64_t v1_masked(V1Reader *r, int len, int width)
{
    if (len <= width) return v1_bits(r, len);
    uint64_t v = 0;
    for (int i = 0; i < len; i++) v |= (uint64_t)v1_bit(r) << ((len - 1 - i) & (width - 1));
    return v;
}

static inline int nlz(uint64_t v, int width)
{
    if (v == 0) return width;
    return width == 64 ? __builtin_clzll(v) : __builtin_clz((uint32_t)v);
}

static inline int ntz(uint64_t v, int width)
{
    if (v == 0) return width;
    return __builtin_ctzll(v);
}

static inline int is_nan(uint64_t v, int width)
{
    if (width == 32) return (v & 0x7f800000u) == 0x7f800000u && (v & 0x007fffffu);
    const uint64_t e = UINT64_C(0x7ff0000000000000);
    return (v & e) == e && (v & UINT64_C(0x000fffffffffffff));
}

/* One getNextValue of the reference: updates *prev, *lz, *tz, r->is_end. */
static void v1_next(V1Reader *r, int width, uint64_t *prev, int *lz, int *tz)
{
    const uint64_t mask = width == 64 ? ~(uint64_t)0 : 0xffffffffu;
    if (!v1_bit(r)) return; /* '0': same value, nothing recomputed */
    uint64_t x;
    if (!v1_bit(r)) {
        int cnt = width - *lz - *tz;
        x = cnt > 0 ? v1_bits(r, cnt) << *tz : 0;
    } else {
        int lzt = (int)v1_bits(r, width == 64 ? 6 : 5);
        int len = (int)v1_bits(r, width == 64 ? 7 : 6);
        x = v1_masked(r, len, width);
        x = (x << ((unsigned)(width - lzt - len) & (unsigned)(width - 1))) & mask;
    }
    *prev = (*prev ^ x) & mask;
    *lz = nlz(*prev, width);
    *tz = ntz(*prev, width);
    if (is_nan(*prev, width)) r->is_end = 1;
}

static int decode(int width, const uint8_t *p, size_t len, size_t n, void *out)
{
    if (n == 0) return 0;
    size_t nb = (size_t)width / 8;
    if (len < nb) return TSF_ECORRUPT;
    uint64_t prev = 0;
    for (size_t i = 0; i < nb; i++) prev |= (uint64_t)p[i] << (8 * i);
    int lz = nlz(prev, width), tz = ntz(prev, width);
    V1Reader r = {p + nb, p + len, 0, 0, 0, 0};
    uint8_t *o = out;
    for (size_t i = 0;; i++) {
        if (width == 64) {
            memcpy(o + 8 * i, &prev, 8);
        } else {
            uint32_t v = (uint32_t)prev;
            memcpy(o + 4 * i, &v, 4);
        }
        /* the reference decodes the next entry before returning this value;
         * after the last value that entry is the terminator */
        v1_next(&r, width, &prev, &lz, &tz);
        if (r.eof) return TSF_ECORRUPT;
        if (i + 1 == n) break;
    }
    return 0;
}

/* ---- encoder --------------------------------------------------------------- */

static void v1_put(TsfBitWriter *w, int width, uint64_t *prev, int *lz, int *tz, uint64_t v)
{
    uint64_t x = *prev ^ v;
    if (x == 0) {
        tsf_bw_put(w, 0, 1);
    } else {
        int xl = nlz(x, width), xt = ntz(x, width);
        if (xl >= *lz && xt >= *tz) {
            tsf_bw_put(w, 2, 2);
            tsf_bw_put(w, x >> *tz, width - *lz - *tz);
        } else {
            tsf_bw_put(w, 3, 2);
            tsf_bw_put(w, (uint64_t)xl, width == 64 ? 6 : 5);
            tsf_bw_put(w, (uint64_t)(width - xl - xt), width == 64 ? 7 : 6);
            tsf_bw_put(w, x >> xt, width - xl - xt);
        }
    }
    *prev = v;
    *lz = nlz(v, width);
    *tz = ntz(v, width);
}

static int encode(int width, const void *values, size_t n, TsfBuf *out)
{
    const uint64_t canon = width == 64 ? UINT64_C(0x7ff8000000000000) : 0x7fc00000u;
    const uint8_t *in = values;
    size_t nb = (size_t)width / 8;
    TsfBitWriter w;
    tsf_bw_init(&w, out);
    uint64_t prev = 0;
    int lz = 0, tz = 0;
    for (size_t i = 0; i <= n; i++) {
        uint64_t v = canon; /* i == n: the NaN terminator */
        if (i < n) {
            if (width == 64) {
                memcpy(&v, in + 8 * i, 8);
            } else {
                uint32_t u;
                memcpy(&u, in + 4 * i, 4);
                v = u;
            }
            if (is_nan(v, width)) v = canon; /* floatToIntBits */
        }
        if (i == 0) {
            uint8_t le[8];
            for (size_t k = 0; k < nb; k++) le[k] = (uint8_t)(v >> (8 * k));
            tsf_buf_put(out, le, nb);
            prev = v;
            lz = nlz(v, width);
            tz = ntz(v, width);
        } else {
            v1_put(&w, width, &prev, &lz, &tz, v);
        }
    }
    tsf_bw_flush(&w);
    return out->err;
}

/* ---- entry points ------------------------------------------------------------ */

int tsf_gorilla_v1_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    switch (type) {
    case TSF_FLOAT: return encode(32, values, n, out);
    case TSF_DOUBLE: return encode(64, values, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}

int tsf_gorilla_v1_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    switch (type) {
    case TSF_FLOAT: return decode(32, p, len, n, out);
    case TSF_DOUBLE: return decode(64, p, len, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}
