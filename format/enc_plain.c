/*
 * enc_plain.c: PLAIN encoding (code 0, spec §5.3) for every data type.
 *
 * Per value, no header and no terminator:
 *
 *   BOOLEAN             1 byte, 01 / 00 (decoding: any non-zero byte is true)
 *   INT32, DATE         varint: zig-zag, then LEB128 (1..5 bytes)
 *   INT64, TIMESTAMP    i64 big-endian
 *   FLOAT / DOUBLE      IEEE bits big-endian; every NaN is written as the
 *                       canonical 7fc00000 / 7ff8000000000000 (the
 *                       reference converts with floatToIntBits)
 *   TEXT, STRING, BLOB  varint (zig-zag) byte length, then the bytes
 *
 * Fixed-width types are checked against the stream length once and then
 * decoded in a tight loop; varints take a fast path while five bytes are
 * surely available and a checked one near the end.  Decoded TsfBin values
 * point into the input.
 */
#include <errno.h>
#include <math.h>

#include "encoding_int.h"

/* ---- encoding ------------------------------------------------------------ */

/* Makes room for n items of `size` bytes; false (and out->err set) if not. */
static bool reserve_items(TsfBuf *out, size_t n, size_t size)
{
    if (n > SIZE_MAX / 2 / size) {
        if (!out->err) out->err = -ENOMEM;
        return false;
    }
    return tsf_buf_reserve(out, n * size);
}

static int plain_encode_i32(const int32_t *v, size_t n, TsfBuf *out)
{
    if (!reserve_items(out, n, 5)) return out->err;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) p += tsf_uvarint64_store(p, tsf_zigzag32(v[i]));
    out->len = (size_t)(p - out->data);
    return 0;
}

static int plain_encode_i64(const int64_t *v, size_t n, TsfBuf *out)
{
    if (!reserve_items(out, n, 8)) return out->err;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) tsf_be_store64(p + 8 * i, (uint64_t)v[i]);
    out->len += n * 8;
    return 0;
}

static int plain_encode_f32(const float *v, size_t n, TsfBuf *out)
{
    if (!reserve_items(out, n, 4)) return out->err;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        if (isnan(v[i])) u = 0x7fc00000u;
        tsf_be_store32(p + 4 * i, u);
    }
    out->len += n * 4;
    return 0;
}

static int plain_encode_f64(const double *v, size_t n, TsfBuf *out)
{
    if (!reserve_items(out, n, 8)) return out->err;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        if (isnan(v[i])) u = 0x7ff8000000000000ull;
        tsf_be_store64(p + 8 * i, u);
    }
    out->len += n * 8;
    return 0;
}

static int plain_encode_bool(const uint8_t *v, size_t n, TsfBuf *out)
{
    if (!reserve_items(out, n, 1)) return out->err;
    uint8_t *p = out->data + out->len;
    for (size_t i = 0; i < n; i++) p[i] = v[i] != 0;
    out->len += n;
    return 0;
}

static int plain_encode_bin(const TsfBin *v, size_t n, TsfBuf *out)
{
    for (size_t i = 0; i < n; i++) {
        /* The length is a signed 32-bit varint: longer values cannot exist. */
        if (v[i].len > INT32_MAX) return TSF_EINVAL;
        tsf_buf_put_varint(out, (int32_t)v[i].len);
        tsf_buf_put(out, v[i].ptr, v[i].len);
    }
    return out->err;
}

int tsf_plain_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    if (tsf_type_phys(type) == TSF_PHYS_NONE) return TSF_EUNSUPPORTED;
    if (out->err) return out->err;
    if (n == 0) return 0;
    switch (tsf_type_phys(type)) {
    case TSF_PHYS_BOOL: return plain_encode_bool(values, n, out);
    case TSF_PHYS_I32: return plain_encode_i32(values, n, out);
    case TSF_PHYS_I64: return plain_encode_i64(values, n, out);
    case TSF_PHYS_F32: return plain_encode_f32(values, n, out);
    case TSF_PHYS_F64: return plain_encode_f64(values, n, out);
    case TSF_PHYS_BIN: return plain_encode_bin(values, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}

/* ---- decoding ------------------------------------------------------------ */

/* Reads one LEB128 of at most 5 bytes (a 32-bit quantity) from [*pp, end).
 * Returns false on truncation or an over-long encoding. */
static inline bool get_uvarint32(const uint8_t **pp, const uint8_t *end, uint32_t *v)
{
    const uint8_t *p = *pp;
    if (end - p >= 5) {
        /* Fast path: no bound checks inside. */
        uint32_t b = p[0];
        uint32_t r = b & 0x7f;
        if (b < 0x80) {
            *pp = p + 1;
            *v = r;
            return true;
        }
        b = p[1];
        r |= (b & 0x7f) << 7;
        if (b < 0x80) {
            *pp = p + 2;
            *v = r;
            return true;
        }
        b = p[2];
        r |= (b & 0x7f) << 14;
        if (b < 0x80) {
            *pp = p + 3;
            *v = r;
            return true;
        }
        b = p[3];
        r |= (b & 0x7f) << 21;
        if (b < 0x80) {
            *pp = p + 4;
            *v = r;
            return true;
        }
        b = p[4];
        r |= b << 28;
        if (b < 0x80) {
            *pp = p + 5;
            *v = r;
            return true;
        }
        return false;
    }
    uint32_t r = 0;
    for (int shift = 0; shift < 35 && p < end; shift += 7) {
        uint32_t b = *p++;
        r |= (b & 0x7f) << shift;
        if (b < 0x80) {
            *pp = p;
            *v = r;
            return true;
        }
    }
    return false;
}

static int plain_decode_i32(const uint8_t *p, size_t len, size_t n, int32_t *out)
{
    const uint8_t *end = p + len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        if (!get_uvarint32(&p, end, &u)) return TSF_ECORRUPT;
        out[i] = tsf_unzigzag32(u);
    }
    return 0;
}

static int plain_decode_bin(const uint8_t *p, size_t len, size_t n, TsfBin *out)
{
    const uint8_t *end = p + len;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        if (!get_uvarint32(&p, end, &u)) return TSF_ECORRUPT;
        int32_t l = tsf_unzigzag32(u);
        if (l < 0 || (size_t)l > (size_t)(end - p)) return TSF_ECORRUPT;
        out[i].ptr = p;
        out[i].len = (uint32_t)l;
        p += l;
    }
    return 0;
}

int tsf_plain_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    if (tsf_type_phys(type) == TSF_PHYS_NONE) return TSF_EUNSUPPORTED;
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    switch (tsf_type_phys(type)) {
    case TSF_PHYS_BOOL: {
        if (len < n) return TSF_ECORRUPT;
        uint8_t *o = out;
        for (size_t i = 0; i < n; i++) o[i] = p[i] != 0;
        return 0;
    }
    case TSF_PHYS_I32: return plain_decode_i32(p, len, n, out);
    case TSF_PHYS_I64: {
        if (len / 8 < n) return TSF_ECORRUPT;
        int64_t *o = out;
        for (size_t i = 0; i < n; i++) o[i] = (int64_t)tsf_be_load64(p + 8 * i);
        return 0;
    }
    case TSF_PHYS_F32: {
        if (len / 4 < n) return TSF_ECORRUPT;
        float *o = out;
        for (size_t i = 0; i < n; i++) {
            uint32_t u = tsf_be_load32(p + 4 * i);
            memcpy(&o[i], &u, 4);
        }
        return 0;
    }
    case TSF_PHYS_F64: {
        if (len / 8 < n) return TSF_ECORRUPT;
        double *o = out;
        for (size_t i = 0; i < n; i++) {
            uint64_t u = tsf_be_load64(p + 8 * i);
            memcpy(&o[i], &u, 8);
        }
        return 0;
    }
    case TSF_PHYS_BIN: return plain_decode_bin(p, len, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}
