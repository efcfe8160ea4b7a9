/*
 * enc_ts2diff.c: TS_2DIFF, delta-of-delta with bit packing (code 4, §5.6).
 * Every time stream uses it, so decoding INT64 is a hot path.
 *
 * Stream = blocks until the stream ends; T is i32 (INT32, DATE, scaled
 * FLOAT) or i64 (INT64, TIMESTAMP, time column, scaled DOUBLE), big-endian:
 *
 *   i32 n          packed items in the block (the reference writes <= 128)
 *   i32 w          bits per item, 0..32 / 0..64
 *   T   minDelta   smallest delta of the block (T_MAX when n = 0)
 *   T   first      first value of the block
 *   ceil(n*w/8) bytes: item_i = delta_i - minDelta, MSB-first bit stream
 *
 * x_0 = first, x_i = x_{i-1} + minDelta + item_i, all wrapping; a block
 * holds n + 1 values.  FLOAT/DOUBLE streams start with uvarint(precision)
 * and carry round(v x 10^p) (§5.5.5).
 *
 * Bit-exactness quirk: the reference packs each block into a reused buffer
 * of 128 x sizeof(T) bytes but zeroes only its first 128 bytes between
 * blocks, and writes item bits without clearing the rest of the last byte.
 * So when a block's last byte lies at index >= 128, its padding bits are
 * whatever earlier blocks left there.  The encoder keeps the same buffer
 * history (`hist`) for the blocks of one call and reproduces those bits;
 * across pages the reference carries it on, which a stateless call cannot
 * (decoders ignore padding, so only byte-identity is affected).
 *
 * Decoding reads each item with one unaligned 64-bit big-endian load, a
 * shift and a mask (widths up to 57) while 8 bytes remain in the stream,
 * and bytewise near the end; width 0 and whole-byte widths have their own
 * loops.  The running sum is the only dependency between values.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "bits.h"
#include "encoding_int.h"

#define BLOCK_DELTAS    128          /* deltas per block written */
#define MAX_BLOCK_ITEMS (1 << 16)    /* decoder limit on n, see tsf_ts2diff_count */
#define MAX_FLAT_ITEMS  BLOCK_DELTAS /* decoder limit on n when w = 0, likewise */

/* Block sizes a decoder accepts.  Items of width w take n*w bits, so a wide
 * block cannot claim more values than its bytes hold (<= 8 per byte); a
 * width-0 block takes no bytes at all, so its n is bounded by what the
 * reference writers produce (128) to keep a 24-byte block from claiming
 * 65537 values (a tiny page would make the reader allocate gigabytes). */
static inline bool block_ok(int32_t bn, int32_t w, int maxw)
{
    return bn >= 0 && w >= 0 && w <= maxw && bn <= (w == 0 ? MAX_FLAT_ITEMS : MAX_BLOCK_ITEMS);
}

static int bit_length(uint64_t x)
{
    return x ? 64 - __builtin_clzll(x) : 0;
}

/* ---- encoder ---------------------------------------------------------------- */

/* Encodes one flavour.  v32 or v64 is the input (the other is NULL). */
static int ts2diff_encode_raw(const int32_t *v32, const int64_t *v64, size_t n, TsfBuf *out)
{
    const int is64 = v64 != NULL;
    const uint64_t tmask = is64 ? ~(uint64_t)0 : 0xffffffffu;
    uint8_t hist[BLOCK_DELTAS * 8]; /* the reference's block buffer */
    uint64_t items[BLOCK_DELTAS];
    memset(hist, 0, sizeof(hist));

    for (size_t start = 0; start < n && !out->err; start += BLOCK_DELTAS + 1) {
        size_t nd = n - start - 1;
        if (nd > BLOCK_DELTAS) nd = BLOCK_DELTAS;
        uint64_t first = is64 ? (uint64_t)v64[start] : (uint32_t)v32[start];
        /* minDelta starts at T_MAX, compared as signed T. */
        uint64_t mind = is64 ? (uint64_t)INT64_MAX : (uint64_t)INT32_MAX;
        uint64_t prev = first;
        for (size_t i = 0; i < nd; i++) {
            uint64_t cur = is64 ? (uint64_t)v64[start + 1 + i] : (uint32_t)v32[start + 1 + i];
            uint64_t d = (cur - prev) & tmask;
            bool less = is64 ? (int64_t)d < (int64_t)mind : (int32_t)(uint32_t)d < (int32_t)(uint32_t)mind;
            if (less) mind = d;
            items[i] = d;
            prev = cur;
        }
        uint64_t all = 0;
        for (size_t i = 0; i < nd; i++) {
            items[i] = (items[i] - mind) & tmask;
            all |= items[i];
        }
        int w = bit_length(all);

        tsf_buf_put_be32(out, (uint32_t)nd);
        tsf_buf_put_be32(out, (uint32_t)w);
        if (is64) {
            tsf_buf_put_be64(out, mind);
            tsf_buf_put_be64(out, first);
        } else {
            tsf_buf_put_be32(out, (uint32_t)mind);
            tsf_buf_put_be32(out, (uint32_t)first);
        }
        size_t nbytes = (nd * (size_t)w + 7) / 8;
        if (nbytes == 0) {
            memset(hist, 0, BLOCK_DELTAS);
            continue;
        }
        size_t at = out->len;
        TsfBitWriter bw;
        tsf_bw_init(&bw, out);
        for (size_t i = 0; i < nd; i++) tsf_bw_put(&bw, items[i], w);
        int pad = tsf_bw_flush(&bw);
        if (out->err) break;
        uint8_t *blk = out->data + at;
        if (pad && nbytes - 1 >= BLOCK_DELTAS)
            blk[nbytes - 1] |= hist[nbytes - 1] & (uint8_t)((1u << pad) - 1);
        memcpy(hist, blk, nbytes);
        memset(hist, 0, BLOCK_DELTAS);
    }
    return out->err;
}

/* FLOAT/DOUBLE: uvarint(precision) then the scaled integers. */
static int ts2diff_encode_scaled(TsfType type, const void *values, size_t n, int precision, TsfBuf *out)
{
    if (n == 0) return 0; /* the reference writes nothing, not even the precision */
    if (precision < 0) precision = 0;
    double f = tsf_scale_factor(precision);
    size_t esz = type == TSF_FLOAT ? 4 : 8;
    if (n > SIZE_MAX / esz) return out->err = -ENOMEM;
    void *tmp = malloc(n * esz);
    if (!tmp) return out->err = -ENOMEM;
    int rc;
    tsf_buf_put_uvarint(out, (uint32_t)precision);
    if (type == TSF_FLOAT) {
        const float *fv = values;
        int32_t *iv = tmp;
        for (size_t i = 0; i < n; i++) iv[i] = (int32_t)(uint32_t)tsf_java_round((double)fv[i] * f);
        rc = ts2diff_encode_raw(iv, NULL, n, out);
    } else {
        const double *dv = values;
        int64_t *lv = tmp;
        for (size_t i = 0; i < n; i++) lv[i] = tsf_java_round(dv[i] * f);
        rc = ts2diff_encode_raw(NULL, lv, n, out);
    }
    free(tmp);
    return rc;
}

int tsf_ts2diff_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    if (out->err) return out->err;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return ts2diff_encode_raw(values, NULL, n, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return ts2diff_encode_raw(NULL, values, n, out);
    case TSF_FLOAT:
    case TSF_DOUBLE:
        return ts2diff_encode_scaled(type, values, n,
                                     opts ? opts->float_precision : TSF_DEFAULT_FLOAT_PRECISION, out);
    default: return TSF_EUNSUPPORTED;
    }
}

/* ---- decoder ---------------------------------------------------------------- */

static inline uint64_t load_be64(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t x;
    memcpy(&x, p, 8);
    return __builtin_bswap64(x);
#else
    return tsf_be_load64(p);
#endif
}

/* Bits [b, b+w) of d, MSB-first, 1 <= w <= 64, reading only the bytes that
 * hold them. */
static uint64_t get_bits(const uint8_t *d, uint64_t b, int w)
{
    if (w > 56) return (get_bits(d, b, w - 32) << 32) | get_bits(d, b + (uint64_t)(w - 32), 32);
    size_t i = (size_t)(b >> 3);
    int s = (int)(b & 7);
    uint64_t r = d[i++] & (0xffu >> s);
    int got = 8 - s;
    while (got < w) {
        r = (r << 8) | d[i++];
        got += 8;
    }
    return (r >> (got - w)) & (w == 64 ? ~(uint64_t)0 : (((uint64_t)1 << w) - 1));
}

/* Number of items, from bit b0 on in steps of w, whose 8-byte window
 * starting at their first byte lies inside the avail readable bytes. */
static size_t fast_items(size_t avail, uint64_t b0, int w)
{
    if (avail < 8) return 0;
    uint64_t lim = (uint64_t)(avail - 8) * 8 + 7; /* last start bit allowed */
    return lim < b0 ? 0 : (size_t)((lim - b0) / (uint64_t)w) + 1;
}

/* Fills o[0..cnt) from part of an INT64 block: o[0] = x0, then cnt-1 items
 * of width w read from d starting at bit b0 (avail readable bytes from d to
 * the stream end). */
static void block_i64(const uint8_t *d, size_t avail, int w, uint64_t b0, size_t cnt, uint64_t x0,
                      uint64_t mind, int64_t *o)
{
    uint64_t x = x0;
    o[0] = (int64_t)x;
    size_t k = cnt - 1, i = 0;
    const uint8_t *db = d + (b0 >> 3); /* whole-byte widths: b0 is a multiple of 8 */
    switch (w) {
    case 0:
        for (; i < k; i++) {
            x += mind;
            o[i + 1] = (int64_t)x;
        }
        return;
    case 8:
        for (; i < k; i++) {
            x += mind + db[i];
            o[i + 1] = (int64_t)x;
        }
        return;
    case 16:
        for (; i < k; i++) {
            x += mind + (((uint64_t)db[2 * i] << 8) | db[2 * i + 1]);
            o[i + 1] = (int64_t)x;
        }
        return;
    case 32:
        for (; i < k; i++) {
            x += mind + tsf_be_load32(db + 4 * i);
            o[i + 1] = (int64_t)x;
        }
        return;
    case 64:
        for (; i < k; i++) {
            x += mind + load_be64(db + 8 * i);
            o[i + 1] = (int64_t)x;
        }
        return;
    default: break;
    }
    uint64_t b = b0;
    if (w <= 57) {
        const int rs = 64 - w;
        size_t fast = fast_items(avail, b0, w);
        if (fast > k) fast = k;
        for (; i < fast; i++, b += (uint64_t)w) {
            uint64_t item = (load_be64(d + (b >> 3)) << (b & 7)) >> rs;
            x += mind + item;
            o[i + 1] = (int64_t)x;
        }
    }
    for (; i < k; i++, b += (uint64_t)w) {
        x += mind + get_bits(d, b, w);
        o[i + 1] = (int64_t)x;
    }
}

/* Same for the INT32 flavour (w <= 32). */
static void block_i32(const uint8_t *d, size_t avail, int w, uint64_t b0, size_t cnt, uint32_t x0,
                      uint32_t mind, int32_t *o)
{
    uint32_t x = x0;
    o[0] = (int32_t)x;
    size_t k = cnt - 1, i = 0;
    if (w == 0) {
        for (; i < k; i++) {
            x += mind;
            o[i + 1] = (int32_t)x;
        }
        return;
    }
    uint64_t b = b0;
    const int rs = 64 - w;
    size_t fast = fast_items(avail, b0, w);
    if (fast > k) fast = k;
    for (; i < fast; i++, b += (uint64_t)w) {
        x += mind + (uint32_t)((load_be64(d + (b >> 3)) << (b & 7)) >> rs);
        o[i + 1] = (int32_t)x;
    }
    for (; i < k; i++, b += (uint64_t)w) {
        x += mind + (uint32_t)get_bits(d, b, w);
        o[i + 1] = (int32_t)x;
    }
}

enum { OUT_RAW, OUT_FLOAT };

/* Decodes n values of one flavour.  kind OUT_RAW writes int32/int64 into out;
 * OUT_FLOAT writes float (32-bit flavour) or double (64-bit) divided by scale. */
static int ts2diff_decode_core(const uint8_t *p, size_t len, size_t n, int is64, int kind, double scale,
                               void *out)
{
    const uint8_t *q = p, *end = p + len;
    const size_t hdr = is64 ? 24 : 16;
    const int maxw = is64 ? 64 : 32;
    size_t pos = 0;
    int64_t tmp64[256]; /* FLOAT/DOUBLE: ints of one piece before scaling */
    int32_t tmp32[256];
    const size_t tmpcap = 256;
    while (pos < n) {
        if ((size_t)(end - q) < hdr) return TSF_ECORRUPT;
        int32_t bn = (int32_t)tsf_be_load32(q);
        int32_t w = (int32_t)tsf_be_load32(q + 4);
        uint64_t mind, first;
        if (is64) {
            mind = tsf_be_load64(q + 8);
            first = tsf_be_load64(q + 16);
        } else {
            mind = tsf_be_load32(q + 8);
            first = tsf_be_load32(q + 12);
        }
        q += hdr;
        if (!block_ok(bn, w, maxw)) return TSF_ECORRUPT;
        size_t nbytes = ((size_t)bn * (size_t)w + 7) / 8;
        size_t avail = (size_t)(end - q);
        if (nbytes > avail) return TSF_ECORRUPT;
        size_t take = (size_t)bn + 1;
        if (take > n - pos) take = n - pos;
        if (kind == OUT_RAW) {
            if (is64)
                block_i64(q, avail, w, 0, take, first, mind, (int64_t *)out + pos);
            else
                block_i32(q, avail, w, 0, take, (uint32_t)first, (uint32_t)mind, (int32_t *)out + pos);
        } else {
            /* Through a stack buffer in pieces, then scaled.  Each piece
             * starts again at the last value of the one before. */
            size_t done = 0; /* values of the block already stored */
            uint64_t x = first;
            for (;;) {
                size_t cnt = take - done + (done > 0); /* include the restart value */
                if (cnt > tmpcap) cnt = tmpcap;
                size_t skip = done > 0; /* that value is stored already */
                uint64_t b0 = (uint64_t)(done - skip) * (uint64_t)w;
                if (is64) {
                    block_i64(q, avail, w, b0, cnt, x, mind, tmp64);
                    double *o = (double *)out + pos + done - skip;
                    for (size_t i = skip; i < cnt; i++) o[i] = (double)tmp64[i] / scale;
                    x = (uint64_t)tmp64[cnt - 1];
                } else {
                    block_i32(q, avail, w, b0, cnt, (uint32_t)x, (uint32_t)mind, tmp32);
                    float *o = (float *)out + pos + done - skip;
                    for (size_t i = skip; i < cnt; i++) o[i] = (float)((double)tmp32[i] / scale);
                    x = (uint32_t)tmp32[cnt - 1];
                }
                done += cnt - skip;
                if (done >= take) break;
            }
        }
        pos += take;
        q += nbytes;
    }
    return 0;
}

int tsf_ts2diff_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    int is64;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: is64 = 0; break;
    case TSF_INT64:
    case TSF_TIMESTAMP: is64 = 1; break;
    case TSF_FLOAT:
    case TSF_DOUBLE: is64 = type == TSF_DOUBLE; break;
    default: return TSF_EUNSUPPORTED;
    }
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    if (type != TSF_FLOAT && type != TSF_DOUBLE)
        return ts2diff_decode_core(p, len, n, is64, OUT_RAW, 1.0, out);
    TsfCursor c = tsf_cursor(p, len);
    uint32_t prec = tsf_cur_uvarint(&c);
    if (c.err) return TSF_ECORRUPT;
    return ts2diff_decode_core(c.p, tsf_cur_left(&c), n, is64, OUT_FLOAT, tsf_scale_factor((int32_t)prec),
                               out);
}

/* Counts values by walking block headers.  A block may claim at most
 * MAX_BLOCK_ITEMS items, and at most 128 (what the reference writes) when
 * its width is 0 (block_ok): so a corrupt stream never announces more than
 * about 8 values per byte it occupies. */
int64_t tsf_ts2diff_count(TsfType type, const uint8_t *p, size_t len)
{
    int is64;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE:
    case TSF_FLOAT: is64 = 0; break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
    case TSF_DOUBLE: is64 = 1; break;
    default: return TSF_EUNSUPPORTED;
    }
    if (len == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    TsfCursor c = tsf_cursor(p, len);
    if (type == TSF_FLOAT || type == TSF_DOUBLE) {
        (void)tsf_cur_uvarint(&c);
        if (c.err) return TSF_ECORRUPT;
    }
    const size_t hdr = is64 ? 24 : 16;
    const int maxw = is64 ? 64 : 32;
    int64_t total = 0;
    while (tsf_cur_left(&c) > 0) {
        if (tsf_cur_left(&c) < hdr) return TSF_ECORRUPT;
        int32_t bn = (int32_t)tsf_be_load32(c.p);
        int32_t w = (int32_t)tsf_be_load32(c.p + 4);
        c.p += hdr;
        if (!block_ok(bn, w, maxw)) return TSF_ECORRUPT;
        size_t nbytes = ((size_t)bn * (size_t)w + 7) / 8;
        if (nbytes > tsf_cur_left(&c)) return TSF_ECORRUPT;
        c.p += nbytes;
        total += (int64_t)bn + 1;
    }
    return total;
}
