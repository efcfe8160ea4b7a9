/*
 * enc_zigzag.c: ZIGZAG (code 9, spec §5.10) for INT32/DATE and INT64/TIMESTAMP.
 *
 * Stream = blocks; the reference writes one per page, and none at all for a
 * page without values:
 *
 *   uvarint byteLength   bytes of the payload
 *   uvarint count        values in the block
 *   payload              count x LEB128 of zigzag(v) (32- or 64-bit zig-zag)
 *
 * The encoder sizes the payload first (a varint's length follows from the
 * bit length) so the block is written in one pass with no copy.  The decoder
 * restarts on a new block when one is used up; each block's varints must stay
 * inside its payload, and bytes left over after `count` values are skipped
 * as the reference does.
 */
#include "encoding_int.h"

static inline size_t uvarint_size(uint64_t u)
{
    int bits = u ? 64 - __builtin_clzll(u) : 1;
    return (size_t)(bits + 6) / 7;
}

static int zigzag_encode_raw(const int32_t *v32, const int64_t *v64, size_t n, TsfBuf *out)
{
    if (n == 0) return 0;
    if (n > UINT32_MAX) return TSF_EINVAL;
    size_t payload = 0;
    if (v64)
        for (size_t i = 0; i < n; i++) payload += uvarint_size(tsf_zigzag64(v64[i]));
    else
        for (size_t i = 0; i < n; i++) payload += uvarint_size(tsf_zigzag32(v32[i]));
    if (payload > INT32_MAX) return TSF_EINVAL; /* the reference reads it as an int */
    tsf_buf_put_uvarint(out, (uint32_t)payload);
    tsf_buf_put_uvarint(out, (uint32_t)n);
    if (!tsf_buf_reserve(out, payload)) return out->err;
    uint8_t *p = out->data + out->len;
    if (v64)
        for (size_t i = 0; i < n; i++) p += tsf_uvarint64_store(p, tsf_zigzag64(v64[i]));
    else
        for (size_t i = 0; i < n; i++) p += tsf_uvarint64_store(p, tsf_zigzag32(v32[i]));
    out->len += payload;
    return out->err;
}

int tsf_zigzag_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    if (out->err) return out->err;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: return zigzag_encode_raw(values, NULL, n, out);
    case TSF_INT64:
    case TSF_TIMESTAMP: return zigzag_encode_raw(NULL, values, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}

int tsf_zigzag_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    int is64;
    switch (type) {
    case TSF_INT32:
    case TSF_DATE: is64 = 0; break;
    case TSF_INT64:
    case TSF_TIMESTAMP: is64 = 1; break;
    default: return TSF_EUNSUPPORTED;
    }
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    TsfCursor c = tsf_cursor(p, len);
    size_t pos = 0;
    while (pos < n) {
        uint32_t blen = tsf_cur_uvarint(&c);
        uint32_t count = tsf_cur_uvarint(&c);
        const uint8_t *payload = tsf_cur_take(&c, blen);
        if (c.err) return TSF_ECORRUPT;
        TsfCursor b = tsf_cursor(payload, blen);
        size_t take = count < n - pos ? count : n - pos;
        if (is64) {
            int64_t *o = (int64_t *)out + pos;
            for (size_t i = 0; i < take; i++) o[i] = tsf_unzigzag64(tsf_cur_uvarint64(&b));
        } else {
            int32_t *o = (int32_t *)out + pos;
            for (size_t i = 0; i < take; i++) o[i] = tsf_unzigzag32(tsf_cur_uvarint(&b));
        }
        if (b.err) return TSF_ECORRUPT;
        pos += take;
    }
    return 0;
}
