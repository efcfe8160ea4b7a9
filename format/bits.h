/*
 * bits.h: MSB-first bit streams, the common ground of GORILLA, CHIMP, RLBE and
 * the bit-packing of RLE/TS_2DIFF/SPRINTZ (spec §5.4, §5.7).
 *
 * The writer keeps up to 64 pending bits in a register and spills whole bytes
 * into a TsfBuf, so writing a field costs a shift and an or, not a call per
 * bit.  The reader is bounded by its byte range: reading past it yields zero
 * bits and sets the sticky err flag (TSF_ECORRUPT).
 */
#ifndef TSF_BITS_H
#define TSF_BITS_H

#include <stdint.h>

#include "bytes.h"

typedef struct TsfBitWriter {
    TsfBuf *out;
    uint64_t acc; /* pending bits, right-aligned */
    int nacc;     /* number of pending bits, 0..63 */
} TsfBitWriter;

static inline void tsf_bw_init(TsfBitWriter *w, TsfBuf *out)
{
    w->out = out;
    w->acc = 0;
    w->nacc = 0;
}

/* Appends the low `n` bits of v (0 <= n <= 64), most significant first. */
static inline void tsf_bw_put(TsfBitWriter *w, uint64_t v, int n)
{
    if (n == 0) return;
    if (n < 64) v &= (((uint64_t)1 << n) - 1);
    if (w->nacc + n > 64) {
        /* split: emit the high part first */
        int hi = n - 32;
        tsf_bw_put(w, v >> 32, hi);
        v &= 0xffffffffu;
        n = 32;
    }
    w->acc = (n == 64) ? v : (w->acc << n) | v;
    w->nacc += n;
    if (w->nacc >= 8) {
        if (!tsf_buf_reserve(w->out, 8)) return;
        while (w->nacc >= 8) {
            w->nacc -= 8;
            w->out->data[w->out->len++] = (uint8_t)(w->acc >> w->nacc);
        }
    }
}

static inline void tsf_bw_bit(TsfBitWriter *w, int bit)
{
    tsf_bw_put(w, (uint64_t)(bit != 0), 1);
}

/* Pads the pending partial byte with zero bits and emits it (no byte when
 * already aligned).  Returns the number of padding bits added. */
static inline int tsf_bw_flush(TsfBitWriter *w)
{
    if (w->nacc == 0) return 0;
    int pad = 8 - w->nacc;
    tsf_bw_put(w, 0, pad);
    return pad;
}

typedef struct TsfBitReader {
    const uint8_t *p;   /* next unread byte */
    const uint8_t *end; /* end of the stream */
    uint64_t acc;       /* buffered bits, right-aligned */
    int nacc;           /* number of buffered bits */
    int err;            /* TSF_ECORRUPT after reading past the end */
} TsfBitReader;

static inline void tsf_br_init(TsfBitReader *r, const uint8_t *p, size_t n)
{
    r->p = p;
    r->end = p + n;
    r->acc = 0;
    r->nacc = 0;
    r->err = 0;
}

/* Bits not yet consumed. */
static inline size_t tsf_br_left(const TsfBitReader *r)
{
    return (size_t)(r->end - r->p) * 8 + (size_t)r->nacc;
}

/* Reads n bits (0 <= n <= 64), most significant first. */
static inline uint64_t tsf_br_get(TsfBitReader *r, int n)
{
    if (n == 0) return 0;
    if (n > 56) {
        uint64_t hi = tsf_br_get(r, n - 32);
        return (hi << 32) | tsf_br_get(r, 32);
    }
    while (r->nacc < n) {
        if (r->p >= r->end) {
            r->err = TSF_ECORRUPT;
            r->acc <<= 8; /* shift in zeros */
        } else {
            r->acc = (r->acc << 8) | *r->p++;
        }
        r->nacc += 8;
    }
    r->nacc -= n;
    return (r->acc >> r->nacc) & (((uint64_t)1 << n) - 1);
}

static inline int tsf_br_bit(TsfBitReader *r)
{
    return (int)tsf_br_get(r, 1);
}

/* Drops the bits left in the current byte (moves to a byte boundary). */
static inline void tsf_br_align(TsfBitReader *r)
{
    r->nacc -= r->nacc % 8;
}

#endif
