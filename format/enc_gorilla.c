/*
 * enc_gorilla.c: GORILLA (v2, encoding code 8), spec §5.7.
 *
 * A stream is one MSB-first bit string per page:
 *
 *   first value      W bits (W = 32 for INT32/DATE/FLOAT, 64 for INT64/TIMESTAMP/DOUBLE;
 *                    FLOAT/DOUBLE as raw IEEE patterns, NaN payloads kept)
 *   each next value  x = prev ^ cur
 *                    '0'                         x == 0
 *                    '10' + payload              x fits the stored window: the
 *                                                W-lz-tz bits of x >> tz
 *                    '11' + lz + (sig-1) + payload   new window (fields 5/6 bits)
 *   terminator       INT32_MIN / INT64_MIN / 0x7fc00000 / 0x7ff8000000000000, coded
 *                    as one more value
 *   flush            zero bits up to the byte boundary, and one whole 00 byte when
 *                    the stream was already aligned
 *
 * So a stream whose bits up to and including the terminator number B occupies
 * exactly floor(B/8) + 1 bytes.  The reference decoder fetches its next byte as
 * soon as it has used up the previous one, which is why the extra byte exists;
 * our decoder asks for the same bytes and reports that size as *used (SPRINTZ
 * embeds GORILLA streams in its tails).
 *
 * Decoding is driven by the value count (spec §5.2), not by the terminator, so a
 * genuine value equal to the terminator still reads back correctly.
 *
 * Speed: this is a hot path.  The reader keeps a bit position and loads the
 * 8 bytes around it with one unaligned big-endian load ("peek"), which yields at
 * least 57 valid bits; the decode loop runs with unchecked loads while at least
 * 24 bytes remain (one value never spans more than 10 + 8) and with zero-padded
 * loads near the end.  The writer keeps pending bits in a 64-bit register and
 * stores 32 bits at a time into space reserved once per stream.
 */
#include <errno.h>
#include <string.h>

#include "encoding_int.h"
#include "tsf_error.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* ---- bit reader --------------------------------------------------------- */

/* 64 bits starting at bit `pos`; the top 57 at least are stream bits.  Needs 8
 * readable bytes at pos/8. */
ALWAYS_INLINE uint64_t peek_fast(const uint8_t *p, size_t pos)
{
    uint64_t w;
    memcpy(&w, p + (pos >> 3), 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w << (pos & 7);
}

/* Same, reading zeros past the end of the stream. */
static inline uint64_t peek_safe(const uint8_t *p, size_t len, size_t pos)
{
    size_t b = pos >> 3;
    if (b + 8 <= len) return peek_fast(p, pos);
    uint64_t w = 0;
    for (size_t i = 0; i < 8; i++) w = (w << 8) | (b + i < len ? p[b + i] : 0);
    return w << (pos & 7);
}

ALWAYS_INLINE uint64_t peek(const uint8_t *p, size_t len, size_t pos, int fast)
{
    return fast ? peek_fast(p, pos) : peek_safe(p, len, pos);
}

/* k bits (0..64) at pos, right-aligned. */
ALWAYS_INLINE uint64_t read_bits(const uint8_t *p, size_t len, size_t pos, int k, int fast)
{
    if (k == 0) return 0;
    if (k <= 57) return peek(p, len, pos, fast) >> (64 - k);
    uint64_t hi = peek(p, len, pos, fast) >> 32;
    uint64_t lo = peek(p, len, pos + 32, fast) >> (96 - k);
    return (hi << (k - 32)) | lo;
}

/* ---- bit writer --------------------------------------------------------- */

typedef struct {
    uint8_t *dst; /* next byte to store; room was reserved up front */
    uint64_t acc; /* pending bits, right-aligned (stale bits above nacc) */
    int nacc;     /* number of pending bits, < 32 between calls */
} GWriter;

/* k <= 32 bits, v < 2^k. */
ALWAYS_INLINE void put32(GWriter *w, uint64_t v, int k)
{
    w->acc = (w->acc << k) | v;
    w->nacc += k;
    if (w->nacc >= 32) {
        w->nacc -= 32;
        tsf_be_store32(w->dst, (uint32_t)(w->acc >> w->nacc));
        w->dst += 4;
    }
}

/* k <= 64 bits, v < 2^k. */
ALWAYS_INLINE void put64(GWriter *w, uint64_t v, int k)
{
    if (k > 32) {
        put32(w, v >> 32, k - 32);
        put32(w, v & 0xffffffffu, 32);
    } else {
        put32(w, v, k);
    }
}

/* End of stream: pad to the byte boundary, or add a whole zero byte when
 * aligned (the reference's unconditional flip), then drain. */
static void gw_finish(GWriter *w)
{
    put32(w, 0, 8 - (w->nacc & 7));
    while (w->nacc >= 8) {
        w->nacc -= 8;
        *w->dst++ = (uint8_t)(w->acc >> w->nacc);
    }
}

/* Reserves the worst case: every value as '11' + header + W payload bits. */
static uint8_t *reserve_stream(TsfBuf *out, size_t n, int width)
{
    size_t per = (size_t)(2 + 12 + width + 7) / 8;
    if (n > (SIZE_MAX - 64) / per - 2) {
        out->err = -ENOMEM;
        return NULL;
    }
    if (!tsf_buf_reserve(out, (n + 2) * per + 16)) return NULL;
    return out->data + out->len;
}

/* ---- 64-bit ------------------------------------------------------------- */

typedef struct {
    uint64_t prev; /* last decoded value */
    size_t pos;    /* bit position */
    int lz, tz;    /* stored window */
    int sig;       /* 64 - lz - tz, payload bits of a '10' value */
} GState64;

/* Decodes one value after the first.  Returns 0 or TSF_ECORRUPT. */
ALWAYS_INLINE int step64(GState64 *s, const uint8_t *p, size_t len, int fast)
{
    uint64_t w = peek(p, len, s->pos, fast);
    if (!(w >> 63)) {
        s->pos += 1;
        return 0;
    }
    if (w & ((uint64_t)1 << 62)) {
        int lz = (int)((w >> 56) & 63);
        int sig = (int)((w >> 50) & 63) + 1;
        if (lz + sig > 64) return TSF_ECORRUPT;
        s->lz = lz;
        s->sig = sig;
        s->tz = 64 - lz - sig;
        s->pos += 14;
    } else {
        /* Before any '11' the window is empty (the reference reads 0 bits). */
        s->pos += 2;
    }
    uint64_t x = read_bits(p, len, s->pos, s->sig, fast);
    s->pos += (size_t)s->sig;
    s->prev ^= x << s->tz;
    return 0;
}

static int decode64(const uint8_t *p, size_t len, size_t n, void *out, size_t *used)
{
    if (len < 8) return TSF_ECORRUPT;
    GState64 s = {tsf_be_load64(p), 64, 64, 0, 0};
    uint8_t *o = out;
    size_t i = 0;
    if (n > 0) {
        memcpy(o, &s.prev, 8);
        i = 1;
    }
    /* Fast loop: one value reads at most 78 bits past pos, plus 8 bytes of
     * load width. */
    while (i < n && (s.pos >> 3) + 24 <= len) {
        if (step64(&s, p, len, 1)) return TSF_ECORRUPT;
        memcpy(o + 8 * i, &s.prev, 8);
        i++;
    }
    size_t limit = len * 8;
    while (i < n) {
        if (step64(&s, p, len, 0) || s.pos > limit) return TSF_ECORRUPT;
        memcpy(o + 8 * i, &s.prev, 8);
        i++;
    }
    /* The terminator entry (n == 0: the first value was the terminator). */
    if (n > 0 && step64(&s, p, len, 0)) return TSF_ECORRUPT;
    size_t nbytes = (s.pos >> 3) + 1;
    if (nbytes > len) return TSF_ECORRUPT;
    if (used) *used = nbytes;
    return 0;
}

static void encode_value64(GWriter *w, uint64_t *prev, int *slz, int *stz, uint64_t v)
{
    uint64_t x = *prev ^ v;
    *prev = v;
    if (x == 0) {
        put32(w, 0, 1);
        return;
    }
    int lz = __builtin_clzll(x);
    int tz = __builtin_ctzll(x);
    if (lz >= *slz && tz >= *stz) {
        put32(w, 2, 2);
        put64(w, x >> *stz, 64 - *slz - *stz);
    } else {
        int sig = 64 - lz - tz;
        put32(w, ((uint64_t)3 << 12) | ((uint64_t)lz << 6) | (uint64_t)(sig - 1), 14);
        put64(w, x >> tz, sig);
        *slz = lz;
        *stz = tz;
    }
}

static int encode64(const void *values, size_t n, uint64_t terminator, TsfBuf *out)
{
    uint8_t *start = reserve_stream(out, n, 64);
    if (!start) return out->err ? out->err : -ENOMEM;
    GWriter w = {start, 0, 0};
    const uint8_t *in = values;
    uint64_t prev = terminator;
    int slz = 65, stz = 0; /* no window yet: the first non-zero XOR opens one */
    if (n > 0) {
        memcpy(&prev, in, 8);
        put64(&w, prev, 64);
        for (size_t i = 1; i < n; i++) {
            uint64_t v;
            memcpy(&v, in + 8 * i, 8);
            encode_value64(&w, &prev, &slz, &stz, v);
        }
        encode_value64(&w, &prev, &slz, &stz, terminator);
    } else {
        put64(&w, terminator, 64);
    }
    gw_finish(&w);
    out->len = (size_t)(w.dst - out->data);
    return 0;
}

/* ---- 32-bit ------------------------------------------------------------- */

typedef struct {
    uint32_t prev;
    size_t pos;
    int lz, tz;
    int sig;
} GState32;

ALWAYS_INLINE int step32(GState32 *s, const uint8_t *p, size_t len, int fast)
{
    uint64_t w = peek(p, len, s->pos, fast);
    if (!(w >> 63)) {
        s->pos += 1;
        return 0;
    }
    int skip = 2;
    if (w & ((uint64_t)1 << 62)) {
        int lz = (int)((w >> 57) & 31);
        int sig = (int)((w >> 52) & 31) + 1;
        if (lz + sig > 32) return TSF_ECORRUPT;
        s->lz = lz;
        s->sig = sig;
        s->tz = 32 - lz - sig;
        skip = 12;
    }
    /* header + payload <= 44 bits: all inside the one 57-bit peek */
    if (s->sig) s->prev ^= (uint32_t)((w << skip) >> (64 - s->sig)) << s->tz;
    s->pos += (size_t)(skip + s->sig);
    return 0;
}

static int decode32(const uint8_t *p, size_t len, size_t n, void *out, size_t *used)
{
    if (len < 4) return TSF_ECORRUPT;
    GState32 s = {tsf_be_load32(p), 32, 32, 0, 0};
    uint8_t *o = out;
    size_t i = 0;
    if (n > 0) {
        memcpy(o, &s.prev, 4);
        i = 1;
    }
    while (i < n && (s.pos >> 3) + 16 <= len) {
        if (step32(&s, p, len, 1)) return TSF_ECORRUPT;
        memcpy(o + 4 * i, &s.prev, 4);
        i++;
    }
    size_t limit = len * 8;
    while (i < n) {
        if (step32(&s, p, len, 0) || s.pos > limit) return TSF_ECORRUPT;
        memcpy(o + 4 * i, &s.prev, 4);
        i++;
    }
    if (n > 0 && step32(&s, p, len, 0)) return TSF_ECORRUPT;
    size_t nbytes = (s.pos >> 3) + 1;
    if (nbytes > len) return TSF_ECORRUPT;
    if (used) *used = nbytes;
    return 0;
}

static void encode_value32(GWriter *w, uint32_t *prev, int *slz, int *stz, uint32_t v)
{
    uint32_t x = *prev ^ v;
    *prev = v;
    if (x == 0) {
        put32(w, 0, 1);
        return;
    }
    int lz = __builtin_clz(x);
    int tz = __builtin_ctz(x);
    if (lz >= *slz && tz >= *stz) {
        int sig = 32 - *slz - *stz;
        put64(w, ((uint64_t)2 << sig) | (x >> *stz), 2 + sig);
    } else {
        int sig = 32 - lz - tz;
        uint64_t head = ((uint64_t)3 << 10) | ((uint64_t)lz << 5) | (uint64_t)(sig - 1);
        put64(w, (head << sig) | (x >> tz), 12 + sig);
        *slz = lz;
        *stz = tz;
    }
}

static int encode32(const void *values, size_t n, uint32_t terminator, TsfBuf *out)
{
    uint8_t *start = reserve_stream(out, n, 32);
    if (!start) return out->err ? out->err : -ENOMEM;
    GWriter w = {start, 0, 0};
    const uint8_t *in = values;
    uint32_t prev = terminator;
    int slz = 33, stz = 0;
    if (n > 0) {
        memcpy(&prev, in, 4);
        put32(&w, prev, 32);
        for (size_t i = 1; i < n; i++) {
            uint32_t v;
            memcpy(&v, in + 4 * i, 4);
            encode_value32(&w, &prev, &slz, &stz, v);
        }
        encode_value32(&w, &prev, &slz, &stz, terminator);
    } else {
        put32(&w, terminator, 32);
    }
    gw_finish(&w);
    out->len = (size_t)(w.dst - out->data);
    return 0;
}

/* ---- entry points ------------------------------------------------------- */

#define TERM_I32 UINT32_C(0x80000000)
#define TERM_F32 UINT32_C(0x7fc00000)
#define TERM_I64 UINT64_C(0x8000000000000000)
#define TERM_F64 UINT64_C(0x7ff8000000000000)

int tsf_gorilla_encode_u32(const uint32_t *v, size_t n, uint32_t terminator, TsfBuf *out)
{
    return encode32(v, n, terminator, out);
}

int tsf_gorilla_encode_u64(const uint64_t *v, size_t n, uint64_t terminator, TsfBuf *out)
{
    return encode64(v, n, terminator, out);
}

int tsf_gorilla_decode_u32(const uint8_t *p, size_t len, size_t n, uint32_t *out, size_t *used)
{
    return decode32(p, len, n, out, used);
}

int tsf_gorilla_decode_u64(const uint8_t *p, size_t len, size_t n, uint64_t *out, size_t *used)
{
    return decode64(p, len, n, out, used);
}

int tsf_gorilla_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return encode32(values, n, TERM_I32, out);
    case TSF_FLOAT: return encode32(values, n, TERM_F32, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return encode64(values, n, TERM_I64, out);
    case TSF_DOUBLE: return encode64(values, n, TERM_F64, out);
    default: return TSF_EUNSUPPORTED;
    }
}

int tsf_gorilla_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    switch (type) {
    case TSF_INT32:
    case TSF_DATE:
    case TSF_FLOAT: return n ? decode32(p, len, n, out, NULL) : 0;
    case TSF_INT64:
    case TSF_TIMESTAMP:
    case TSF_DOUBLE: return n ? decode64(p, len, n, out, NULL) : 0;
    default: return TSF_EUNSUPPORTED;
    }
}
