/*
 * codec.c: page body compression and decompression (spec §6).
 *
 * One function per codec and direction, each using the exact framing the
 * reference writes:
 *
 *   code  name          bytes of a compressed page body
 *   0     UNCOMPRESSED  the body itself
 *   1     SNAPPY        raw Snappy block (uvarint length + elements), no framing
 *   2     GZIP          one RFC 1952 gzip member: 1f 8b 08 ..., deflate, CRC32, ISIZE
 *   7     LZ4           raw LZ4 block, no frame and no size prefix
 *   8     ZSTD          one zstd frame
 *   9     LZMA2         a complete .xz stream (LZMA2 filter, CRC64 check)
 *
 * Decompression always knows the exact uncompressed size (the page header
 * carries it), so every decoder writes into a caller buffer of exactly
 * out_len bytes and the result is accepted only when it produces exactly that
 * many bytes.  The streaming decoders (gzip, xz) detect "too much data" by
 * offering a one-byte scratch buffer after the real one is full: if anything
 * lands there the input is longer than the header claims.  All libraries used
 * here validate their input and never write past the output bound, so any
 * library error is reported as TSF_ECORRUPT (allocation failures as -ENOMEM).
 *
 * zlib and liblzma count in uInt/size_t; zlib's 32-bit counters are fed in
 * slices so bodies above 4 GiB would still work.  LZ4 takes int sizes: larger
 * inputs are refused with TSF_EINVAL (pages are far smaller in practice).
 */
#include "codec.h"

#include <errno.h>
#include <limits.h>
#include <string.h>

#include <lz4.h>
#include <lzma.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "tsf_error.h"

/* zstd level: 3, zstd's own default.  It compresses at hundreds of MB/s, while
 * the reference's level 22 is two orders of magnitude slower; every level
 * produces a standard frame that any reader accepts. */
#define TSF_ZSTD_LEVEL 3

/* xz preset of the reference (xz-java's default LZMA2 options). */
#define TSF_XZ_PRESET 6

/* Decoder memory limit for .xz: enough for any preset (preset 9 needs about
 * 65 MiB), small enough that a corrupt header claiming a huge dictionary is
 * refused instead of allocated. */
#define TSF_XZ_MEMLIMIT ((uint64_t)256 << 20)

/* Largest slice handed to zlib in one call (its counters are uInt). */
#define ZLIB_SLICE ((size_t)UINT_MAX)

/* ---- compression --------------------------------------------------------- */

static int compress_snappy(const uint8_t *in, size_t n, TsfBuf *out)
{
    size_t bound = snappy_max_compressed_length(n);
    if (!tsf_buf_reserve(out, bound)) return out->err;
    size_t clen = bound;
    if (snappy_compress((const char *)in, n, (char *)out->data + out->len, &clen) != SNAPPY_OK)
        return -ENOMEM; /* only fails for a too small buffer, which cannot happen */
    out->len += clen;
    return 0;
}

static int compress_gzip(const uint8_t *in, size_t n, TsfBuf *out)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 16: gzip wrapper; memLevel 8 and the default level/strategy are
     * what Java's Deflater uses under GZIPOutputStream. */
    int zr = deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    if (zr != Z_OK) return zr == Z_MEM_ERROR ? -ENOMEM : TSF_EINVAL;

    int rc = 0;
    uint8_t dummy = 0;
    size_t in_left = n;
    zs.next_in = (Bytef *)(uintptr_t)(in ? in : &dummy);
    for (;;) {
        /* Room for the whole remaining output at once (deflateBound is a
         * true upper bound), at most one zlib slice. */
        size_t want = deflateBound(&zs, (uLong)(in_left < ZLIB_SLICE ? in_left : ZLIB_SLICE)) + 64;
        if (!tsf_buf_reserve(out, want)) {
            rc = out->err;
            break;
        }
        size_t room = out->cap - out->len;
        if (room > ZLIB_SLICE) room = ZLIB_SLICE;
        zs.next_out = out->data + out->len;
        zs.avail_out = (uInt)room;
        size_t slice = in_left < ZLIB_SLICE ? in_left : ZLIB_SLICE;
        zs.avail_in = (uInt)slice;
        bool last = slice == in_left;
        zr = deflate(&zs, last ? Z_FINISH : Z_NO_FLUSH);
        in_left -= slice - zs.avail_in;
        out->len += room - zs.avail_out;
        if (zr == Z_STREAM_END) break;
        /* With room for deflateBound() bytes Z_FINISH always ends the
         * stream; a call without progress would loop forever. */
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && (slice != zs.avail_in || room != zs.avail_out))) {
            rc = TSF_EINVAL;
            break;
        }
    }
    deflateEnd(&zs);
    return rc;
}

static int compress_lz4(const uint8_t *in, size_t n, TsfBuf *out)
{
    if (n > (size_t)LZ4_MAX_INPUT_SIZE) return TSF_EINVAL;
    int bound = LZ4_compressBound((int)n);
    if (!tsf_buf_reserve(out, (size_t)bound)) return out->err;
    char dummy = 0;
    int clen =
        LZ4_compress_default(in ? (const char *)in : &dummy, (char *)out->data + out->len, (int)n, bound);
    if (clen <= 0) return TSF_EINVAL;
    out->len += (size_t)clen;
    return 0;
}

static int compress_zstd(const uint8_t *in, size_t n, TsfBuf *out)
{
    size_t bound = ZSTD_compressBound(n);
    if (ZSTD_isError(bound)) return TSF_EINVAL;
    if (!tsf_buf_reserve(out, bound)) return out->err;
    size_t clen = ZSTD_compress(out->data + out->len, bound, in, n, TSF_ZSTD_LEVEL);
    if (ZSTD_isError(clen))
        return ZSTD_getErrorCode(clen) == ZSTD_error_memory_allocation ? -ENOMEM : TSF_EINVAL;
    out->len += clen;
    return 0;
}

static int compress_xz(const uint8_t *in, size_t n, TsfBuf *out)
{
    lzma_stream ls = LZMA_STREAM_INIT;
    lzma_ret lr = lzma_easy_encoder(&ls, TSF_XZ_PRESET, LZMA_CHECK_CRC64);
    if (lr != LZMA_OK) return lr == LZMA_MEM_ERROR ? -ENOMEM : TSF_EINVAL;

    int rc = 0;
    size_t bound = lzma_stream_buffer_bound(n);
    if (bound == 0 || !tsf_buf_reserve(out, bound)) {
        rc = bound == 0 ? TSF_EINVAL : out->err;
        goto out_end;
    }
    ls.next_in = in;
    ls.avail_in = n;
    ls.next_out = out->data + out->len;
    ls.avail_out = bound;
    /* The bound covers the whole stream, so one LZMA_FINISH pass ends it;
     * the loop only guards against the encoder returning early. */
    do {
        lr = lzma_code(&ls, LZMA_FINISH);
    } while (lr == LZMA_OK && ls.avail_out > 0);
    out->len += bound - ls.avail_out;
    if (lr != LZMA_STREAM_END) rc = lr == LZMA_MEM_ERROR ? -ENOMEM : TSF_EINVAL;
out_end:
    lzma_end(&ls);
    return rc;
}

int tsf_compress(TsfCompression c, const uint8_t *in, size_t n, TsfBuf *out)
{
    if (out->err) return out->err;
    size_t start = out->len;
    int rc;
    switch (c) {
    case TSF_COMP_UNCOMPRESSED:
        tsf_buf_put(out, in, n);
        rc = out->err;
        break;
    case TSF_COMP_SNAPPY: rc = compress_snappy(in, n, out); break;
    case TSF_COMP_GZIP: rc = compress_gzip(in, n, out); break;
    case TSF_COMP_LZ4: rc = compress_lz4(in, n, out); break;
    case TSF_COMP_ZSTD: rc = compress_zstd(in, n, out); break;
    case TSF_COMP_LZMA2: rc = compress_xz(in, n, out); break;
    default: return TSF_EUNSUPPORTED;
    }
    if (rc != 0) out->len = start; /* leave no partial output behind */
    return rc;
}

/* ---- decompression ------------------------------------------------------- */

static int uncompress_snappy(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    size_t ulen = 0;
    if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK || ulen != out_len)
        return TSF_ECORRUPT;
    if (out_len == 0) {
        /* Only the length varint: anything after it would be elements of a
         * non-empty body. */
        return n == 1 ? 0 : TSF_ECORRUPT;
    }
    size_t got = out_len;
    /* snappy checks every copy against the declared length and that exactly
     * that many bytes were produced. */
    if (snappy_uncompress((const char *)in, n, (char *)out, &got) != SNAPPY_OK || got != out_len)
        return TSF_ECORRUPT;
    return 0;
}

static int uncompress_gzip(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 32: accept a gzip member (what the reference writes) or, leniently,
     * a zlib stream. */
    int zr = inflateInit2(&zs, 15 + 32);
    if (zr != Z_OK) return zr == Z_MEM_ERROR ? -ENOMEM : TSF_ECORRUPT;

    uint8_t scratch = 0;
    const uint8_t *ip = n ? in : &scratch;
    size_t in_left = n;
    uint8_t *op = out_len ? out : &scratch;
    size_t out_left = out_len;
    bool probing = false; /* output full: looking for surplus bytes */
    int rc = TSF_ECORRUPT;

    for (;;) {
        if (out_left == 0 && !probing) {
            probing = true;
            op = &scratch;
            out_left = 1;
        }
        uInt ai = (uInt)(in_left < ZLIB_SLICE ? in_left : ZLIB_SLICE);
        uInt ao = (uInt)(out_left < ZLIB_SLICE ? out_left : ZLIB_SLICE);
        zs.next_in = (Bytef *)(uintptr_t)ip;
        zs.avail_in = ai;
        zs.next_out = op;
        zs.avail_out = ao;
        zr = inflate(&zs, Z_NO_FLUSH);
        size_t used = ai - zs.avail_in, made = ao - zs.avail_out;
        ip += used;
        in_left -= used;
        op += made;
        out_left -= made;
        if (probing && made > 0) break; /* more data than out_len */
        if (zr == Z_STREAM_END) {
            /* Like GZIPInputStream: a following member continues the data,
             * other trailing bytes are ignored. */
            if (in_left >= 2 && ip[0] == 0x1f && ip[1] == 0x8b) {
                if (inflateReset(&zs) != Z_OK) break;
                continue;
            }
            if (probing || out_left == 0) rc = 0;
            break;
        }
        if (zr == Z_MEM_ERROR) {
            rc = -ENOMEM;
            break;
        }
        /* Z_BUF_ERROR means no progress was possible although output room
         * remains: the input ended before the member did (truncated).
         * Anything else but Z_OK is malformed data. */
        if (zr != Z_OK) break;
    }
    inflateEnd(&zs);
    return rc;
}

static int uncompress_lz4(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    if (n > (size_t)INT_MAX || out_len > (size_t)INT_MAX || n == 0) return TSF_ECORRUPT;
    char dummy = 0;
    int got = LZ4_decompress_safe((const char *)in, out_len ? (char *)out : &dummy, (int)n, (int)out_len);
    return got >= 0 && (size_t)got == out_len ? 0 : TSF_ECORRUPT;
}

static int uncompress_zstd(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    uint8_t dummy = 0;
    size_t got = ZSTD_decompress(out_len ? out : &dummy, out_len, in, n);
    if (ZSTD_isError(got))
        return ZSTD_getErrorCode(got) == ZSTD_error_memory_allocation ? -ENOMEM : TSF_ECORRUPT;
    return got == out_len ? 0 : TSF_ECORRUPT;
}

static int uncompress_xz(const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    uint64_t memlimit = TSF_XZ_MEMLIMIT;
    size_t in_pos = 0, out_pos = 0;
    uint8_t dummy = 0;
    /* The single-call decoder fails with LZMA_BUF_ERROR when the data does
     * not fit in out_len bytes, and LZMA_CONCATENATED makes it insist that
     * the input holds only whole streams (plus stream padding). */
    lzma_ret lr = lzma_stream_buffer_decode(&memlimit, LZMA_CONCATENATED, NULL, in, &in_pos, n,
                                            out_len ? out : &dummy, &out_pos, out_len);
    if (lr == LZMA_MEM_ERROR) return -ENOMEM;
    if (lr != LZMA_OK || out_pos != out_len || in_pos != n) return TSF_ECORRUPT;
    return 0;
}

int tsf_uncompress(TsfCompression c, const uint8_t *in, size_t n, uint8_t *out, size_t out_len)
{
    /* No body at all stands for an empty page (spec §6.2) under any codec. */
    if (n == 0 && out_len == 0 && tsf_compression_is_valid((int)c)) return 0;
    switch (c) {
    case TSF_COMP_UNCOMPRESSED:
        if (n != out_len) return TSF_ECORRUPT;
        if (n) memcpy(out, in, n);
        return 0;
    case TSF_COMP_SNAPPY: return uncompress_snappy(in, n, out, out_len);
    case TSF_COMP_GZIP: return uncompress_gzip(in, n, out, out_len);
    case TSF_COMP_LZ4: return uncompress_lz4(in, n, out, out_len);
    case TSF_COMP_ZSTD: return uncompress_zstd(in, n, out, out_len);
    case TSF_COMP_LZMA2: return uncompress_xz(in, n, out, out_len);
    default: return TSF_EUNSUPPORTED;
    }
}
