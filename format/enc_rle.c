/*
 * enc_rle.c: RLE, the run-length / bit-packing hybrid (code 2, spec §5.5).
 *
 * Stream = one or more packages (the reference writes one per page):
 *
 *   uvarint L        bytes that follow in this package
 *   u8      width    bit width of every value, 1..32 (INT32) or 1..64 (INT64)
 *   run*             until L bytes are used:
 *     RLE run:        uvarint(count << 1), value in ceil(width/8) bytes:
 *                     little-endian for 32-bit values, big-endian for 64-bit
 *     bit-packed run: u8 (groups << 1) | 1 (groups 1..63), u8 lastCount 1..8,
 *                     groups x width bytes of 8-value groups (§5.4)
 *
 * 32-bit flavour: BOOLEAN (0/1), INT32, DATE, and FLOAT scaled to int32.
 * 64-bit flavour: INT64, TIMESTAMP, and DOUBLE scaled to int64.
 * FLOAT/DOUBLE streams start with uvarint(precision) (§5.5.5); values are
 * round(v x 10^p) on write and n / 10^p on read, so the encoding is lossy.
 *
 * The encoder replays the reference's state machine value by value (§5.5.2),
 * because its run choices decide the bytes: repeats are only counted from
 * the last flushed group of 8, a repeat of 8 turns into an RLE run, runs are
 * cut at 32767 and bit-packed runs at 63 groups.  Group bytes go straight to
 * the output behind a two-byte placeholder that is patched when the run
 * closes; the package length is inserted in front at the end (one memmove).
 *
 * The decoder is driven by the count of values wanted: it consumes packages
 * until it has them, writes each run straight into the caller's array in its
 * final type (one conversion per run or per group, not per call), and treats
 * every length that leaves its package or the stream as corruption.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "encoding_int.h"

#define RLE_MIN_REPEAT 8     /* a repeat this long becomes an RLE run */
#define RLE_MAX_REPEAT 32767 /* longest RLE run */
#define RLE_MAX_GROUPS 63    /* longest bit-packed run, in groups of 8 */

/* ---- encoder ---------------------------------------------------------------- */

typedef struct RleEnc {
    TsfBuf *out;
    int width;       /* bit width of the package */
    int is64;        /* value bytes big-endian (64-bit) or little-endian */
    uint64_t prev;   /* previous value (starts at 0 like the reference) */
    int repeat;      /* repeats of prev counted since the last flush point */
    int nbuf;        /* values buffered for the next group of 8 */
    int groups;      /* groups in the open bit-packed run, 0 = none open */
    size_t run_pos;  /* offset in out of the open run's header byte */
    uint64_t buf[8]; /* the group being filled */
} RleEnc;

static void enc_end_bitpacked(RleEnc *e, int last)
{
    if (e->groups == 0) return;
    if (!e->out->err) {
        e->out->data[e->run_pos] = (uint8_t)((e->groups << 1) | 1);
        e->out->data[e->run_pos + 1] = (uint8_t)last;
    }
    e->groups = 0;
}

static void enc_rle_run(RleEnc *e)
{
    enc_end_bitpacked(e, RLE_MIN_REPEAT);
    tsf_buf_put_uvarint(e->out, (uint32_t)e->repeat << 1);
    int nbytes = (e->width + 7) / 8;
    uint8_t b[8];
    for (int i = 0; i < nbytes; i++) {
        int shift = e->is64 ? 8 * (nbytes - 1 - i) : 8 * i;
        b[i] = (uint8_t)(e->prev >> shift);
    }
    tsf_buf_put(e->out, b, (size_t)nbytes);
    e->repeat = 0;
    e->nbuf = 0;
}

static void enc_group(RleEnc *e)
{
    if (e->groups >= RLE_MAX_GROUPS) enc_end_bitpacked(e, RLE_MIN_REPEAT);
    if (e->groups == 0) {
        e->run_pos = e->out->len;
        uint8_t hdr[2] = {0, 0};
        tsf_buf_put(e->out, hdr, 2);
    }
    if (tsf_buf_reserve(e->out, (size_t)e->width)) {
        tsf_pack8_u64(e->buf, e->width, e->out->data + e->out->len);
        e->out->len += (size_t)e->width;
    }
    e->nbuf = 0;
    e->repeat = 0;
    e->groups++;
}

static inline void enc_value(RleEnc *e, uint64_t v)
{
    if (v == e->prev) {
        e->repeat++;
        if (e->repeat >= RLE_MIN_REPEAT && e->repeat <= RLE_MAX_REPEAT) return;
        if (e->repeat == RLE_MAX_REPEAT + 1) {
            e->repeat = RLE_MAX_REPEAT;
            enc_rle_run(e);
            e->repeat = 1;
        }
    } else {
        if (e->repeat >= RLE_MIN_REPEAT) enc_rle_run(e);
        e->repeat = 1;
        e->prev = v;
    }
    e->buf[e->nbuf++] = v;
    if (e->nbuf == 8) enc_group(e);
}

static void enc_finish(RleEnc *e)
{
    int last = e->nbuf;
    if (e->repeat >= RLE_MIN_REPEAT) {
        enc_rle_run(e);
    } else if (e->nbuf > 0) {
        for (int i = e->nbuf; i < 8; i++) e->buf[i] = 0;
        enc_group(e);
        enc_end_bitpacked(e, last);
    } else {
        enc_end_bitpacked(e, RLE_MIN_REPEAT);
    }
}

enum { IN_BOOL, IN_I32, IN_I64 };

static int bit_length(uint64_t x)
{
    return x ? 64 - __builtin_clzll(x) : 0;
}

/* Encodes one package of n values read as `kind` from v. */
static int rle_encode_values(const void *v, size_t n, int kind, TsfBuf *out)
{
    if (out->err) return out->err;
    if (n == 0) {
        /* The reference writes an empty package: no width byte, L = 0. */
        tsf_buf_put_u8(out, 0);
        return out->err;
    }
    const uint8_t *vb = v;
    const int32_t *v32 = v;
    const int64_t *v64 = v;
    uint64_t all = 0;
    switch (kind) {
    case IN_BOOL:
        for (size_t i = 0; i < n; i++) all |= vb[i] != 0;
        break;
    case IN_I32:
        for (size_t i = 0; i < n; i++) all |= (uint32_t)v32[i];
        break;
    default:
        for (size_t i = 0; i < n; i++) all |= (uint64_t)v64[i];
        break;
    }
    RleEnc e = {.out = out, .width = bit_length(all), .is64 = kind == IN_I64};
    if (e.width == 0) e.width = 1;

    size_t start = out->len;
    tsf_buf_put_u8(out, (uint8_t)e.width);
    switch (kind) {
    case IN_BOOL:
        for (size_t i = 0; i < n; i++) enc_value(&e, vb[i] != 0);
        break;
    case IN_I32:
        for (size_t i = 0; i < n; i++) enc_value(&e, (uint32_t)v32[i]);
        break;
    default:
        for (size_t i = 0; i < n; i++) enc_value(&e, (uint64_t)v64[i]);
        break;
    }
    enc_finish(&e);
    if (out->err) return out->err;

    /* Put uvarint(L) in front of the package body. */
    size_t body = out->len - start;
    if (body > INT32_MAX) return TSF_EINVAL; /* the reference reads L as an int */
    uint8_t hdr[10];
    size_t hl = tsf_uvarint64_store(hdr, body);
    if (!tsf_buf_reserve(out, hl)) return out->err;
    memmove(out->data + start + hl, out->data + start, body);
    memcpy(out->data + start, hdr, hl);
    out->len += hl;
    return 0;
}

int tsf_rle_encode_i32(const int32_t *v, size_t n, TsfBuf *out)
{
    return rle_encode_values(v, n, IN_I32, out);
}

int tsf_rle_encode_i64(const int64_t *v, size_t n, TsfBuf *out)
{
    return rle_encode_values(v, n, IN_I64, out);
}

/* FLOAT/DOUBLE: uvarint(precision), then the scaled integers (§5.5.5). */
static int rle_encode_scaled(TsfType type, const void *values, size_t n, int precision, TsfBuf *out)
{
    if (n == 0) return rle_encode_values(NULL, 0, IN_I32, out); /* nothing scaled yet */
    if (precision < 0) precision = 0;
    double f = tsf_scale_factor(precision);
    size_t esz = type == TSF_FLOAT ? 4 : 8;
    if (n > SIZE_MAX / esz) return -ENOMEM;
    void *tmp = malloc(n * esz);
    if (!tmp) return out->err = -ENOMEM;
    int rc;
    tsf_buf_put_uvarint(out, (uint32_t)precision);
    if (type == TSF_FLOAT) {
        const float *fv = values;
        int32_t *iv = tmp;
        for (size_t i = 0; i < n; i++) iv[i] = (int32_t)(uint32_t)tsf_java_round((double)fv[i] * f);
        rc = rle_encode_values(iv, n, IN_I32, out);
    } else {
        const double *dv = values;
        int64_t *lv = tmp;
        for (size_t i = 0; i < n; i++) lv[i] = tsf_java_round(dv[i] * f);
        rc = rle_encode_values(lv, n, IN_I64, out);
    }
    free(tmp);
    return rc;
}

int tsf_rle_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    switch (type) {
    case TSF_BOOLEAN: return rle_encode_values(values, n, IN_BOOL, out);
    case TSF_INT32:
    case TSF_DATE: return rle_encode_values(values, n, IN_I32, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return rle_encode_values(values, n, IN_I64, out);
    case TSF_FLOAT:
    case TSF_DOUBLE:
        return rle_encode_scaled(type, values, n, opts ? opts->float_precision : TSF_DEFAULT_FLOAT_PRECISION,
                                 out);
    default: return TSF_EUNSUPPORTED;
    }
}

/* ---- decoder ---------------------------------------------------------------- */

enum { OUT_BOOL, OUT_I32, OUT_I64, OUT_F32, OUT_F64 };

/* Where decoded values go, already in their final type. */
typedef struct RleSink {
    int kind;     /* OUT_* */
    double scale; /* divisor for OUT_F32 / OUT_F64 */
    void *out;    /* array of the kind's element type */
} RleSink;

/* The 32-bit flavour keeps values as their uint32 pattern in a uint64. */
static void sink_fill(const RleSink *s, size_t pos, uint64_t v, size_t cnt)
{
    switch (s->kind) {
    case OUT_BOOL: memset((uint8_t *)s->out + pos, v != 0, cnt); break;
    case OUT_I32: {
        int32_t *o = (int32_t *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (int32_t)(uint32_t)v;
        break;
    }
    case OUT_I64: {
        int64_t *o = (int64_t *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (int64_t)v;
        break;
    }
    case OUT_F32: {
        float f = (float)((double)(int32_t)(uint32_t)v / s->scale);
        float *o = (float *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = f;
        break;
    }
    default: {
        double d = (double)(int64_t)v / s->scale;
        double *o = (double *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = d;
        break;
    }
    }
}

static void sink_store(const RleSink *s, size_t pos, const uint64_t *v, size_t cnt)
{
    switch (s->kind) {
    case OUT_BOOL: {
        uint8_t *o = (uint8_t *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = v[i] != 0;
        break;
    }
    case OUT_I32: {
        int32_t *o = (int32_t *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (int32_t)(uint32_t)v[i];
        break;
    }
    case OUT_I64: {
        int64_t *o = (int64_t *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (int64_t)v[i];
        break;
    }
    case OUT_F32: {
        float *o = (float *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (float)((double)(int32_t)(uint32_t)v[i] / s->scale);
        break;
    }
    default: {
        double *o = (double *)s->out + pos;
        for (size_t i = 0; i < cnt; i++) o[i] = (double)(int64_t)v[i] / s->scale;
        break;
    }
    }
}

/* uvarint of a 32-bit quantity within [*pp, end); false if truncated/over-long. */
static bool get_uvarint(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
    TsfCursor c = tsf_cursor(*pp, (size_t)(end - *pp));
    *v = tsf_cur_uvarint(&c);
    *pp = c.p;
    return c.err == 0;
}

/* Decodes n values of one flavour into s, consuming whole packages; *used is
 * the number of bytes of the packages touched. */
static int rle_decode_core(const uint8_t *p, size_t len, size_t n, int is64, const RleSink *s, size_t *used)
{
    if (used) *used = 0;
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    const uint8_t *q = p, *end = p + len;
    const int maxw = is64 ? 64 : 32;
    size_t pos = 0;
    while (pos < n) {
        uint32_t plen;
        if (!get_uvarint(&q, end, &plen) || plen > (size_t)(end - q)) return TSF_ECORRUPT;
        const uint8_t *pend = q + plen;
        if (plen == 0) continue; /* an empty package holds nothing */
        int width = *q++;
        if (width > maxw) return TSF_ECORRUPT;
        size_t vbytes = (size_t)(width + 7) / 8;
        while (pos < n && q < pend) {
            uint32_t hdr;
            if (!get_uvarint(&q, pend, &hdr)) return TSF_ECORRUPT;
            if ((hdr & 1) == 0) {
                size_t count = hdr >> 1;
                if (count == 0 || vbytes > (size_t)(pend - q)) return TSF_ECORRUPT;
                uint64_t v = 0;
                if (is64) {
                    for (size_t i = 0; i < vbytes; i++) v = (v << 8) | q[i];
                } else {
                    for (size_t i = 0; i < vbytes; i++) v |= (uint64_t)q[i] << (8 * i);
                }
                q += vbytes;
                if (count > n - pos) count = n - pos;
                sink_fill(s, pos, v, count);
                pos += count;
            } else {
                size_t groups = hdr >> 1;
                if (groups == 0 || q >= pend) return TSF_ECORRUPT;
                size_t last = *q++;
                if (last > 8) return TSF_ECORRUPT;
                if (width && groups > (size_t)(pend - q) / (size_t)width) return TSF_ECORRUPT;
                const uint8_t *g = q;
                q += groups * (size_t)width;
                for (size_t i = 0; i < groups && pos < n; i++, g += width) {
                    size_t cnt = i + 1 == groups ? last : 8;
                    if (cnt > n - pos) cnt = n - pos;
                    uint64_t vals[8];
                    tsf_unpack8_u64(g, width, vals);
                    sink_store(s, pos, vals, cnt);
                    pos += cnt;
                }
            }
        }
        q = pend;
    }
    if (used) *used = (size_t)(q - p);
    return 0;
}

int tsf_rle_decode_i32(const uint8_t *p, size_t len, size_t n, int32_t *out, size_t *used)
{
    RleSink s = {OUT_I32, 1.0, out};
    return rle_decode_core(p, len, n, 0, &s, used);
}

int tsf_rle_decode_i64(const uint8_t *p, size_t len, size_t n, int64_t *out, size_t *used)
{
    RleSink s = {OUT_I64, 1.0, out};
    return rle_decode_core(p, len, n, 1, &s, used);
}

int tsf_rle_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    RleSink s = {OUT_I32, 1.0, out};
    int is64 = 0;
    switch (type) {
    case TSF_BOOLEAN: s.kind = OUT_BOOL; break;
    case TSF_INT32:
    case TSF_DATE: s.kind = OUT_I32; break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
        s.kind = OUT_I64;
        is64 = 1;
        break;
    case TSF_FLOAT:
    case TSF_DOUBLE: {
        if (n == 0) return 0;
        if (!p) return TSF_ECORRUPT;
        const uint8_t *q = p;
        uint32_t prec;
        if (!get_uvarint(&q, p + len, &prec)) return TSF_ECORRUPT;
        s.kind = type == TSF_FLOAT ? OUT_F32 : OUT_F64;
        s.scale = tsf_scale_factor((int32_t)prec);
        is64 = type == TSF_DOUBLE;
        return rle_decode_core(q, len - (size_t)(q - p), n, is64, &s, NULL);
    }
    default: return TSF_EUNSUPPORTED;
    }
    return rle_decode_core(p, len, n, is64, &s, NULL);
}
