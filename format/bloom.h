/*
 * bloom.h: the series bloom filter stored in TsFileMetadata (spec §4.5).
 *
 * Entries are "device.measurement" (aligned time column: "device."), hashed
 * with the reference's Murmur3 x64-128 variant (tail bytes sign-extended)
 * under seeds 5, 7, 11, 19, 31, 37, 43, 59.  Bits serialize LSB-first per
 * byte, truncated after the last non-zero byte.
 */
#ifndef TSF_BLOOM_H
#define TSF_BLOOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"

typedef struct TsfBloom {
    uint8_t *bits;   /* nbytes bytes, owned */
    uint32_t nbytes; /* bytes held: ceil(size/8) when built; a filter read
                      * from a file may hold fewer (bits past them are 0) */
    uint32_t size;   /* number of bits (>= 1) */
    uint32_t k;      /* hash functions, 1..8 */
} TsfBloom;

/* Low 32 bits of the reference Murmur128 of key under seed (as int32). */
int32_t tsf_murmur128_low32(uint32_t seed, const void *key, size_t len);

/* Sized for n entries at error rate p (0.05 default; clamped to [0.01, 0.1]). */
int tsf_bloom_init(TsfBloom *b, uint32_t n, double p);
void tsf_bloom_free(TsfBloom *b);

void tsf_bloom_add(TsfBloom *b, const void *key, size_t len);
/* Convenience: adds "device" "." "measurement" without building the string
 * on the heap. */
void tsf_bloom_add_series(TsfBloom *b, const char *device, size_t dlen, const char *meas, size_t mlen);
bool tsf_bloom_may_contain(const TsfBloom *b, const void *key, size_t len);
bool tsf_bloom_may_contain_series(const TsfBloom *b, const char *device, size_t dlen, const char *meas,
                                  size_t mlen);

/* Serialized form (spec §4.5.5).  version 3 always writes size and k;
 * version 4 writes them only when byteLength > 0. */
void tsf_bloom_write(const TsfBloom *b, int version, TsfBuf *out);
/* Parses a filter; a filter with no bytes and no parameters is returned with
 * size 0 (meaning "no filter": everything may be present). */
int tsf_bloom_read(TsfCursor *c, TsfBloom *b);

#endif
