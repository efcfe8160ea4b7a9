/*
 * codec.h: page body compression (spec §6).
 *
 * Each codec uses the exact framing the reference writes: raw Snappy block,
 * gzip member (not bare zlib), raw LZ4 block, one zstd frame, an .xz
 * container for "LZMA2".  A page body is compressed as a whole.
 */
#ifndef TSF_CODEC_H
#define TSF_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "types.h"

/* Appends the compressed form of [in, in+n) to out.  Returns 0,
 * TSF_EUNSUPPORTED for an unknown codec, or a negative error. */
int tsf_compress(TsfCompression c, const uint8_t *in, size_t n, TsfBuf *out);

/* Decompresses [in, in+n) into exactly out_len bytes at out.  Returns 0, or
 * TSF_ECORRUPT when the input is malformed or does not produce exactly
 * out_len bytes, or TSF_EUNSUPPORTED. Never writes past out+out_len. */
int tsf_uncompress(TsfCompression c, const uint8_t *in, size_t n, uint8_t *out, size_t out_len);

#endif
