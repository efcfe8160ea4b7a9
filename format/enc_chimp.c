/*
 * enc_chimp.c: CHIMP (encoding code 11, the Chimp128 variant), spec §5.11.
 *
 * Same bit conventions, terminators and end-of-page flush as GORILLA
 * (enc_gorilla.c): MSB-first bits, terminator coded as one more value, zero
 * padding plus an unconditional extra byte when aligned.  Values are 32-bit
 * (INT32, DATE, FLOAT bits) or 64-bit (INT64, TIMESTAMP, DOUBLE bits).
 *
 *                 64-bit        32-bit
 *   ring P        128 (7 bits)  64 (6 bits)
 *   THRESHOLD     13            11
 *   hash key      low 14 bits   low 12 bits
 *   sig field     6 bits        5 bits (0 means W)
 *
 *   first value   W bits
 *   '00' idx                      value == ring[idx]
 *   '01' idx lzc sig  payload     value == ring[idx] ^ (payload << tz),
 *                                 tz = W - lz - sig (reference from the hash table)
 *   '10' payload                  value == prev ^ payload (W - storedLZ bits)
 *   '11' lzc payload              storedLZ = LEAD[lzc]; value == prev ^ payload
 *
 * lzc is a 3-bit code of the XOR's leading zeros rounded down to one of
 * {0, 8, 12, 16, 18, 20, 22, 24}.
 *
 * The encoder must choose its references exactly as the reference does to be
 * bit-exact: a table indexed by the value's low bits holds the position of the
 * last value with those bits.  The table starts zeroed, i.e. every key first
 * points at position 0 (the first value), and that entry is honoured while
 * position 0 is still inside the ring — a reference quirk we keep.  A table hit
 * is used when it is within the last P values and its XOR has more than
 * THRESHOLD trailing zeros (an XOR of 0 counts as W trailing zeros); otherwise
 * the previous value is the reference.  After '00' and '01' the stored leading
 * zero count is forgotten, so the next new-window value always takes '11'.
 *
 * The decoder keeps only the ring of the last P decoded values (zeroed at the
 * start, as the reference's).  It reads with the same 8-byte peek technique as
 * enc_gorilla.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "encoding_int.h"
#include "tsf_error.h"

#define ALWAYS_INLINE static inline __attribute__((always_inline))

static const uint8_t lead_round[65] = {0,  0,  0,  0,  0,  0,  0,  0,  8,  8,  8,  8,  12, 12, 12, 12, 16,
                                       16, 18, 18, 20, 20, 22, 22, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
                                       24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24,
                                       24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24, 24};
static const uint8_t lead_code[65] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4, 4, 5, 5,
                                      6, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
                                      7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
static const uint8_t lead_value[8] = {0, 8, 12, 16, 18, 20, 22, 24};

/* ---- bit reader (see enc_gorilla.c) --------------------------------------- */

ALWAYS_INLINE uint64_t peek_fast(const uint8_t *p, size_t pos)
{
    uint64_t w;
    memcpy(&w, p + (pos >> 3), 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    w = __builtin_bswap64(w);
#endif
    return w << (pos & 7);
}

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

ALWAYS_INLINE uint64_t read_bits(const uint8_t *p, size_t len, size_t pos, int k, int fast)
{
    if (k == 0) return 0;
    if (k <= 57) return peek(p, len, pos, fast) >> (64 - k);
    uint64_t hi = peek(p, len, pos, fast) >> 32;
    uint64_t lo = peek(p, len, pos + 32, fast) >> (96 - k);
    return (hi << (k - 32)) | lo;
}

/* ---- bit writer ------------------------------------------------------------ */

typedef struct {
    uint8_t *dst;
    uint64_t acc;
    int nacc; /* < 32 between calls */
} CWriter;

ALWAYS_INLINE void put32(CWriter *w, uint64_t v, int k)
{
    w->acc = (w->acc << k) | v;
    w->nacc += k;
    if (w->nacc >= 32) {
        w->nacc -= 32;
        tsf_be_store32(w->dst, (uint32_t)(w->acc >> w->nacc));
        w->dst += 4;
    }
}

ALWAYS_INLINE void put64(CWriter *w, uint64_t v, int k)
{
    if (k > 32) {
        put32(w, v >> 32, k - 32);
        put32(w, v & 0xffffffffu, 32);
    } else {
        put32(w, v, k);
    }
}

static void cw_finish(CWriter *w)
{
    put32(w, 0, 8 - (w->nacc & 7));
    while (w->nacc >= 8) {
        w->nacc -= 8;
        *w->dst++ = (uint8_t)(w->acc >> w->nacc);
    }
}

/* ---- the two widths, generated from one template ---------------------------
 *
 * W: value width; T: value type; LOG2: ring index bits; SB: sig field bits;
 * TH: threshold; CLZ/CTZ: count builtins. */

#define CHIMP_CODEC(SUF, W, T, LOG2, SB, TH, CLZ, CTZ)                                                       \
    enum { P_##SUF = 1 << LOG2, KEYS_##SUF = 1 << (TH + 1) };                                                \
                                                                                                             \
    typedef struct {                                                                                         \
        T ring[P_##SUF]; /* last P values, ring[cur] is the latest */                                        \
        T prev;                                                                                              \
        unsigned cur;                                                                                        \
        size_t pos; /* bit position */                                                                       \
        int slz;    /* stored leading zeros for '10' (W: none, reads 0 bits) */                              \
    } CState##SUF;                                                                                           \
                                                                                                             \
    ALWAYS_INLINE int step##SUF(CState##SUF *s, const uint8_t *p, size_t len, int fast)                      \
    {                                                                                                        \
        uint64_t w = peek(p, len, s->pos, fast);                                                             \
        T v;                                                                                                 \
        switch (w >> 62) {                                                                                   \
        case 0:                                                                                              \
            v = s->ring[(w >> (62 - LOG2)) & (P_##SUF - 1)];                                                 \
            s->pos += 2 + LOG2;                                                                              \
            break;                                                                                           \
        case 1: {                                                                                            \
            unsigned idx = (unsigned)(w >> (62 - LOG2)) & (P_##SUF - 1);                                     \
            int lz = lead_value[(w >> (59 - LOG2)) & 7];                                                     \
            int sig = (int)(w >> (59 - LOG2 - SB)) & ((1 << SB) - 1);                                        \
            if (sig == 0) sig = W;                                                                           \
            if (lz + sig > W) return TSF_ECORRUPT;                                                           \
            s->slz = lz;                                                                                     \
            s->pos += 2 + LOG2 + 3 + SB;                                                                     \
            T x = (T)read_bits(p, len, s->pos, sig, fast);                                                   \
            s->pos += (size_t)sig;                                                                           \
            v = s->ring[idx] ^ (T)(x << (W - lz - sig));                                                     \
            break;                                                                                           \
        }                                                                                                    \
        case 2:                                                                                              \
            s->pos += 2;                                                                                     \
            v = s->prev ^ (T)read_bits(p, len, s->pos, W - s->slz, fast);                                    \
            s->pos += (size_t)(W - s->slz);                                                                  \
            break;                                                                                           \
        default:                                                                                             \
            s->slz = lead_value[(w >> 59) & 7];                                                              \
            s->pos += 5;                                                                                     \
            v = s->prev ^ (T)read_bits(p, len, s->pos, W - s->slz, fast);                                    \
            s->pos += (size_t)(W - s->slz);                                                                  \
            break;                                                                                           \
        }                                                                                                    \
        s->cur = (s->cur + 1) & (P_##SUF - 1);                                                               \
        s->ring[s->cur] = v;                                                                                 \
        s->prev = v;                                                                                         \
        return 0;                                                                                            \
    }                                                                                                        \
                                                                                                             \
    static int decode##SUF(const uint8_t *p, size_t len, size_t n, void *out)                                \
    {                                                                                                        \
        if (n == 0) return 0;                                                                                \
        if (len < W / 8) return TSF_ECORRUPT;                                                                \
        CState##SUF s;                                                                                       \
        memset(&s, 0, sizeof(s));                                                                            \
        s.prev = (T)(W == 64 ? tsf_be_load64(p) : tsf_be_load32(p));                                         \
        s.ring[0] = s.prev;                                                                                  \
        s.pos = W;                                                                                           \
        s.slz = W;                                                                                           \
        uint8_t *o = out;                                                                                    \
        memcpy(o, &s.prev, sizeof(T));                                                                       \
        size_t i = 1;                                                                                        \
        /* a value spans at most 2 + 7 + 3 + 6 + 64 bits, 2 peeks of 8 bytes */                              \
        while (i < n && (s.pos >> 3) + 24 <= len) {                                                          \
            if (step##SUF(&s, p, len, 1)) return TSF_ECORRUPT;                                               \
            memcpy(o + sizeof(T) * i, &s.prev, sizeof(T));                                                   \
            i++;                                                                                             \
        }                                                                                                    \
        size_t limit = len * 8;                                                                              \
        while (i < n) {                                                                                      \
            if (step##SUF(&s, p, len, 0) || s.pos > limit) return TSF_ECORRUPT;                              \
            memcpy(o + sizeof(T) * i, &s.prev, sizeof(T));                                                   \
            i++;                                                                                             \
        }                                                                                                    \
        /* the terminator entry and the byte the reference reads after it */                                 \
        if (step##SUF(&s, p, len, 0)) return TSF_ECORRUPT;                                                   \
        if ((s.pos >> 3) + 1 > len) return TSF_ECORRUPT;                                                     \
        return 0;                                                                                            \
    }                                                                                                        \
                                                                                                             \
    typedef struct {                                                                                         \
        T ring[P_##SUF];                                                                                     \
        uint32_t *index_of; /* KEYS entries: position of the last value with that key */                     \
        uint32_t index;     /* position of the previous value */                                             \
        int slz;            /* stored rounded leading zeros, W + 1 or more: none */                          \
    } CEnc##SUF;                                                                                             \
                                                                                                             \
    static void put_value##SUF(CEnc##SUF *e, CWriter *w, T v)                                                \
    {                                                                                                        \
        unsigned key = (unsigned)v & (KEYS_##SUF - 1);                                                       \
        uint32_t hit = e->index_of[key];                                                                     \
        unsigned ref = e->index & (P_##SUF - 1);                                                             \
        T x = e->ring[ref] ^ v;                                                                              \
        int tz = 0;                                                                                          \
        if (e->index - hit < P_##SUF) {                                                                      \
            T hx = v ^ e->ring[hit & (P_##SUF - 1)];                                                         \
            int htz = hx ? CTZ(hx) : W;                                                                      \
            if (htz > TH) {                                                                                  \
                ref = hit & (P_##SUF - 1);                                                                   \
                x = hx;                                                                                      \
                tz = htz;                                                                                    \
            }                                                                                                \
        }                                                                                                    \
        if (x == 0) {                                                                                        \
            put32(w, ref, 2 + LOG2);                                                                         \
            e->slz = W + 1;                                                                                  \
        } else {                                                                                             \
            int lz = lead_round[CLZ(x)];                                                                     \
            if (tz > TH) {                                                                                   \
                int sig = W - lz - tz;                                                                       \
                uint64_t head = ((uint64_t)(P_##SUF + ref) << (3 + SB)) | ((uint64_t)lead_code[lz] << SB) |  \
                                (uint64_t)sig;                                                               \
                put32(w, head, 2 + LOG2 + 3 + SB);                                                           \
                put64(w, (uint64_t)(x >> tz), sig);                                                          \
                e->slz = W + 1;                                                                              \
            } else if (lz == e->slz) {                                                                       \
                put32(w, 2, 2);                                                                              \
                put64(w, (uint64_t)x, W - lz);                                                               \
            } else {                                                                                         \
                e->slz = lz;                                                                                 \
                put32(w, 24u + lead_code[lz], 5);                                                            \
                put64(w, (uint64_t)x, W - lz);                                                               \
            }                                                                                                \
        }                                                                                                    \
        e->index++;                                                                                          \
        e->ring[e->index & (P_##SUF - 1)] = v;                                                               \
        e->index_of[key] = e->index;                                                                         \
    }                                                                                                        \
                                                                                                             \
    static int encode##SUF(const void *values, size_t n, T terminator, TsfBuf *out)                          \
    {                                                                                                        \
        if (n >= UINT32_MAX) return TSF_EINVAL; /* positions are 32-bit, as the reference's */               \
        size_t per = (2 + LOG2 + 3 + SB + W + 7) / 8;                                                        \
        if (n > (SIZE_MAX - 64) / per - 2) return -ENOMEM;                                                   \
        if (!tsf_buf_reserve(out, (n + 2) * per + 16)) return out->err ? out->err : -ENOMEM;                 \
        CEnc##SUF e;                                                                                         \
        memset(&e, 0, sizeof(e));                                                                            \
        e.index_of = calloc(KEYS_##SUF, sizeof(uint32_t));                                                   \
        if (!e.index_of) {                                                                                   \
            out->err = -ENOMEM;                                                                              \
            return -ENOMEM;                                                                                  \
        }                                                                                                    \
        e.slz = 1 << 30;                                                                                     \
        CWriter w = {out->data + out->len, 0, 0};                                                            \
        const uint8_t *in = values;                                                                          \
        T first = terminator;                                                                                \
        if (n > 0) memcpy(&first, in, sizeof(T));                                                            \
        put64(&w, (uint64_t)first, W);                                                                       \
        e.ring[0] = first;                                                                                   \
        e.index_of[(unsigned)first & (KEYS_##SUF - 1)] = 0;                                                  \
        for (size_t i = 1; i < n; i++) {                                                                     \
            T v;                                                                                             \
            memcpy(&v, in + sizeof(T) * i, sizeof(T));                                                       \
            put_value##SUF(&e, &w, v);                                                                       \
        }                                                                                                    \
        if (n > 0) put_value##SUF(&e, &w, terminator);                                                       \
        cw_finish(&w);                                                                                       \
        out->len = (size_t)(w.dst - out->data);                                                              \
        free(e.index_of);                                                                                    \
        return 0;                                                                                            \
    }

CHIMP_CODEC(64, 64, uint64_t, 7, 6, 13, __builtin_clzll, __builtin_ctzll)
CHIMP_CODEC(32, 32, uint32_t, 6, 5, 11, __builtin_clz, __builtin_ctz)

/* ---- entry points ------------------------------------------------------------ */

int tsf_chimp_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return encode32(values, n, UINT32_C(0x80000000), out);
    case TSF_FLOAT: return encode32(values, n, UINT32_C(0x7fc00000), out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return encode64(values, n, UINT64_C(0x8000000000000000), out);
    case TSF_DOUBLE: return encode64(values, n, UINT64_C(0x7ff8000000000000), out);
    default: return TSF_EUNSUPPORTED;
    }
}

int tsf_chimp_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    switch (type) {
    case TSF_INT32:
    case TSF_DATE:
    case TSF_FLOAT: return decode32(p, len, n, out);
    case TSF_INT64:
    case TSF_TIMESTAMP:
    case TSF_DOUBLE: return decode64(p, len, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}
