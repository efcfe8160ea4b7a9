/*
 * enc_rlbe.c: RLBE (encoding code 13, experimental), spec §5.13.  Read only.
 *
 * A page stream is a sequence of blocks (<= 10000 values each by the
 * reference writer), each an MSB-first bit string padded with zero bits to a
 * byte boundary:
 *
 *   32 bits     count of values in the block
 *   segment*    until count items were read:
 *     L bits      item length in bits (L = 6 for INT32/DATE/FLOAT, 7 for
 *                 INT64/TIMESTAMP/DOUBLE)
 *     Fibonacci   the run length r: bit j (j = 1, 2, ...) stands for F(j) in
 *                 1, 2, 3, 5, 8, ...; the code ends at the first "11"
 *     r items     each `length` bits
 *
 * Items are the block's first value, then the differences to the previous
 * value; the decoder sums them: wrapping integer addition, or for FLOAT and
 * DOUBLE an IEEE addition of the items read as floats (as the reference reader
 * does, which is why floats do not round-trip exactly).  Sign-bit quirk: the
 * reference writer drops the top bit of a full-width (32/64-bit) item, and its
 * reader adds 2^31 / 2^63 to every full-width item; we add it too.
 *
 * Bounds: every segment must stay inside its block's count (the reference
 * would hand out the overshoot as later values; its writer never produces it,
 * so we call it corruption), a block count must be positive, and an item
 * length above the value width is refused.  Each segment yields at least one
 * item, so the work is bounded by the values asked for.
 */
#include <string.h>

#include "encoding_int.h"
#include "tsf_error.h"

/* Bit reader: position in bits over [p, p + len); reads past the end give
 * zero bits, and the caller checks the position against the end. */
typedef struct {
    const uint8_t *p;
    size_t len;
    size_t pos;
} RReader;

static inline uint64_t rr_peek(const RReader *r)
{
    size_t b = r->pos >> 3;
    uint64_t w;
    if (b + 8 <= r->len) {
        memcpy(&w, r->p + b, 8);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        w = __builtin_bswap64(w);
#endif
    } else {
        w = 0;
        for (size_t i = 0; i < 8; i++) w = (w << 8) | (b + i < r->len ? r->p[b + i] : 0);
    }
    return w << (r->pos & 7);
}

/* k bits, 0 <= k <= 64. */
static inline uint64_t rr_get(RReader *r, int k)
{
    if (k == 0) return 0;
    uint64_t v;
    if (k <= 57) {
        v = rr_peek(r) >> (64 - k);
    } else {
        uint64_t hi = rr_peek(r) >> 32;
        r->pos += 32;
        v = (hi << (k - 32)) | (rr_peek(r) >> (96 - k));
        r->pos -= 32;
    }
    r->pos += (size_t)k;
    return v;
}

static inline int rr_bit(RReader *r)
{
    return (int)rr_get(r, 1);
}

static inline int rr_overrun(const RReader *r)
{
    return r->pos > r->len * 8;
}

/* Reads a Fibonacci-coded run length; 0 when it would exceed `limit` or is
 * malformed. */
static uint64_t read_run(RReader *r, uint64_t limit)
{
    uint64_t f1 = 1, f2 = 1; /* F(j-1), F(j-2); F(1) = 1 as in the reference */
    uint64_t run = 0;
    int now = rr_bit(r);
    int next = rr_bit(r);
    for (int j = 1;; j++) {
        uint64_t f = j > 1 ? f1 + f2 : 1;
        if (j > 1) {
            f2 = f1;
            f1 = f;
        }
        if (now) {
            run += f;
            if (run > limit) return 0;
            if (next) return run;
        } else if (f > limit || rr_overrun(r)) {
            /* every later term is larger: the run can only overshoot */
            return 0;
        }
        now = next;
        next = rr_bit(r);
    }
}

typedef enum { R_I32, R_I64, R_F32, R_F64 } RKind;

static int decode(RKind kind, const uint8_t *p, size_t len, size_t n, void *out)
{
    const int lbits = (kind == R_I32 || kind == R_F32) ? 6 : 7;
    const int width = (kind == R_I32 || kind == R_F32) ? 32 : 64;
    const uint64_t top = (uint64_t)1 << (width - 1);
    uint8_t *o = out;
    RReader r = {p, len, 0};
    size_t done = 0;
    while (done < n) {
        r.pos = (r.pos + 7) & ~(size_t)7; /* blocks start on a byte */
        if (r.pos / 8 + 4 > len) return TSF_ECORRUPT;
        uint32_t count = (uint32_t)rr_get(&r, 32);
        if (count == 0 || count > INT32_MAX) return TSF_ECORRUPT;
        uint64_t in_block = 0;
        uint64_t isum = 0;
        float fsum = 0;
        double dsum = 0;
        while (in_block < count && done < n) {
            int seg = (int)rr_get(&r, lbits);
            if (seg > width) return TSF_ECORRUPT;
            uint64_t run = read_run(&r, count - in_block);
            if (run == 0 || rr_overrun(&r)) return TSF_ECORRUPT;
            for (uint64_t k = 0; k < run && done < n; k++) {
                uint64_t item = rr_get(&r, seg);
                if (seg == width) item += top; /* the sign-bit quirk */
                switch (kind) {
                case R_I32:
                case R_I64:
                    isum = in_block ? isum + item : item;
                    if (kind == R_I32) {
                        uint32_t v = (uint32_t)isum;
                        memcpy(o + 4 * done, &v, 4);
                    } else {
                        memcpy(o + 8 * done, &isum, 8);
                    }
                    break;
                case R_F32: {
                    uint32_t bits = (uint32_t)item;
                    float f;
                    memcpy(&f, &bits, 4);
                    fsum = in_block ? fsum + f : f;
                    memcpy(o + 4 * done, &fsum, 4);
                    break;
                }
                case R_F64: {
                    double d;
                    memcpy(&d, &item, 8);
                    dsum = in_block ? dsum + d : d;
                    memcpy(o + 8 * done, &dsum, 8);
                    break;
                }
                }
                in_block++;
                done++;
            }
            if (rr_overrun(&r)) return TSF_ECORRUPT;
        }
    }
    return 0;
}

int tsf_rlbe_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)type, (void)values, (void)n, (void)opts, (void)out;
    return TSF_EUNSUPPORTED; /* read-only: experimental, and lossy for floats */
}

int tsf_rlbe_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return decode(R_I32, p, len, n, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return decode(R_I64, p, len, n, out);
    case TSF_FLOAT: return decode(R_F32, p, len, n, out);
    case TSF_DOUBLE: return decode(R_F64, p, len, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}
