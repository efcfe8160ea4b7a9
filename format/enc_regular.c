/*
 * enc_regular.c: REGULAR (code 7, spec §5.14), a legacy encoding for
 * regularly spaced INT32/INT64 series.  Read-only: it is not in the writer's
 * legality table, so encoding returns TSF_EUNSUPPORTED.
 *
 * Stream = blocks (the reference wrote up to 128 values per block):
 *
 *   u8   missing       1 when some positions are absent (only 01 is true)
 *   [i32 bitmapLen, bitmapLen bytes]   if missing: bit k of the block is
 *                      byte[k / 8] >> (k % 8) & 1 (java.util.BitSet order),
 *                      1 = present
 *   i32  count         positions in the block (>= 1)
 *   T    minDelta      the step (T = i32 / i64, big-endian)
 *   T    first         value at position 0
 *
 * Position k holds first + k x minDelta (wrapping).  Without missing points
 * every position is a value; with them the reference decoder yields position
 * 0 and then each position k in 1..count-1 whose bit is set.  Bits past the
 * bitmap are clear, so a corrupt count cannot make the walk longer than the
 * bitmap.
 */
#include "encoding_int.h"

int tsf_regular_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)type, (void)values, (void)n, (void)opts, (void)out;
    return TSF_EUNSUPPORTED;
}

int tsf_regular_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    int is64;
    switch (type) {
    case TSF_INT32: is64 = 0; break;
    case TSF_INT64: is64 = 1; break;
    default: return TSF_EUNSUPPORTED;
    }
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    int32_t *o32 = out;
    int64_t *o64 = out;
    TsfCursor c = tsf_cursor(p, len);
    size_t pos = 0;
    while (pos < n) {
        bool missing = tsf_cur_u8(&c) == 1;
        const uint8_t *bm = NULL;
        size_t bmlen = 0;
        if (missing) {
            int32_t l = tsf_cur_i32(&c);
            if (l < 0) return TSF_ECORRUPT;
            bmlen = (size_t)l;
            bm = tsf_cur_take(&c, bmlen);
        }
        int32_t count = tsf_cur_i32(&c);
        uint64_t step = is64 ? tsf_cur_be64(&c) : tsf_cur_be32(&c);
        uint64_t x = is64 ? tsf_cur_be64(&c) : tsf_cur_be32(&c);
        if (c.err || count < 1) return TSF_ECORRUPT;

        /* position 0 is always yielded */
        if (is64)
            o64[pos++] = (int64_t)x;
        else
            o32[pos++] = (int32_t)(uint32_t)x;
        size_t last = (size_t)count;
        if (missing && last > bmlen * 8) last = bmlen * 8;
        for (size_t k = 1; k < last && pos < n; k++) {
            x += step;
            if (missing && !((bm[k >> 3] >> (k & 7)) & 1)) continue;
            if (is64)
                o64[pos++] = (int64_t)x;
            else
                o32[pos++] = (int32_t)(uint32_t)x;
        }
    }
    return 0;
}
