/*
 * bloom.c: the series bloom filter of TsFileMetadata (spec §4.5).
 *
 * Hash: the reference's MurmurHash3 x64-128 variant.  It equals the canonical
 * algorithm except that tail bytes (the last len % 16) are sign-extended
 * before being shifted into k1/k2, which changes the hash of any key whose
 * tail holds a byte >= 0x80 (non-ASCII UTF-8).  Only the low 32 bits of
 * h1 + h2 are used.  The hash runs over a list of pieces fed through a
 * 16-byte block buffer, so "device" "." "measurement" is hashed without
 * building the string anywhere.
 *
 * Filter: k seeds from {5, 7, 11, 19, 31, 37, 43, 59}; for each, r = low32
 * (INT32_MIN becomes 0) and bit |r| mod size is set.  Bits are kept exactly
 * as serialized, Java BitSet.toByteArray() style: bit i in byte i/8 at bit
 * position i%8 from the least significant end.
 *
 * Serialized form (§4.5.5):
 *
 *   uvarint byteLength   bytes up to the last non-zero one (0..ceil(size/8))
 *   byteLength bytes     the bit array
 *   uvarint size         bits; v3 always, v4 only when byteLength > 0
 *   uvarint k            hash function count, same condition
 */
#include "bloom.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tsf_error.h"

#define BLOOM_HOLD_WHOLE 4096 /* bytes; see tsf_bloom_read */

static const uint32_t bloom_seeds[8] = {5, 7, 11, 19, 31, 37, 43, 59};

#define C1 UINT64_C(0x87c37b91114253d5)
#define C2 UINT64_C(0x4cf5ad432745937f)

static inline uint64_t rotl64(uint64_t x, int r)
{
    return (x << r) | (x >> (64 - r));
}

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= UINT64_C(0xff51afd7ed558ccd);
    k ^= k >> 33;
    k *= UINT64_C(0xc4ceb9fe1a85ec53);
    k ^= k >> 33;
    return k;
}

static inline uint64_t load64le(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* A byte string to hash, possibly split into pieces. */
typedef struct Piece {
    const uint8_t *p;
    size_t n;
} Piece;

typedef struct MurmurState {
    uint64_t h1, h2;
    uint8_t blk[16]; /* partial block carried between pieces */
    size_t fill;     /* bytes in blk */
    size_t total;    /* bytes fed */
} MurmurState;

static inline void murmur_block(MurmurState *m, const uint8_t *b)
{
    uint64_t k1 = load64le(b), k2 = load64le(b + 8);
    k1 *= C1;
    k1 = rotl64(k1, 31);
    k1 *= C2;
    m->h1 ^= k1;
    m->h1 = rotl64(m->h1, 27);
    m->h1 += m->h2;
    m->h1 = m->h1 * 5 + 0x52dce729;
    k2 *= C2;
    k2 = rotl64(k2, 33);
    k2 *= C1;
    m->h2 ^= k2;
    m->h2 = rotl64(m->h2, 31);
    m->h2 += m->h1;
    m->h2 = m->h2 * 5 + 0x38495ab5;
}

static void murmur_feed(MurmurState *m, const uint8_t *p, size_t n)
{
    m->total += n;
    if (m->fill) {
        size_t take = 16 - m->fill < n ? 16 - m->fill : n;
        memcpy(m->blk + m->fill, p, take);
        m->fill += take;
        p += take;
        n -= take;
        if (m->fill < 16) return;
        murmur_block(m, m->blk);
        m->fill = 0;
    }
    for (; n >= 16; p += 16, n -= 16) murmur_block(m, p);
    if (n) memcpy(m->blk, p, n);
    m->fill = n;
}

/* Sign extension of a tail byte: the reference's deviation. */
static inline uint64_t sext(uint8_t b)
{
    return (uint64_t)(int64_t)(int8_t)b;
}

static int32_t murmur_finish(MurmurState *m)
{
    const uint8_t *t = m->blk;
    size_t r = m->fill;
    uint64_t k1 = 0, k2 = 0, h1 = m->h1, h2 = m->h2;
    for (size_t j = r; j > 8; j--) k2 ^= sext(t[j - 1]) << (8 * (j - 9));
    if (r > 8) {
        k2 *= C2;
        k2 = rotl64(k2, 33);
        k2 *= C1;
        h2 ^= k2;
    }
    for (size_t j = r < 8 ? r : 8; j > 0; j--) k1 ^= sext(t[j - 1]) << (8 * (j - 1));
    if (r > 0) {
        k1 *= C1;
        k1 = rotl64(k1, 31);
        k1 *= C2;
        h1 ^= k1;
    }
    h1 ^= (uint64_t)m->total;
    h2 ^= (uint64_t)m->total;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    return (int32_t)(uint32_t)(h1 + h2);
}

static int32_t murmur_pieces(uint32_t seed, const Piece *pc, int npc)
{
    MurmurState m = {seed, seed, {0}, 0, 0};
    for (int i = 0; i < npc; i++)
        if (pc[i].n) murmur_feed(&m, pc[i].p, pc[i].n);
    return murmur_finish(&m);
}

int32_t tsf_murmur128_low32(uint32_t seed, const void *key, size_t len)
{
    Piece pc = {(const uint8_t *)key, len};
    return murmur_pieces(seed, &pc, 1);
}

/* Bit position of one hash, as the reference maps it. */
static inline uint32_t bit_of(int32_t r, uint32_t size)
{
    if (r == INT32_MIN) r = 0;
    uint32_t a = r < 0 ? (uint32_t)(-r) : (uint32_t)r;
    return a % size;
}

/* ---- construction -------------------------------------------------------- */

int tsf_bloom_init(TsfBloom *b, uint32_t n, double p)
{
    b->bits = NULL;
    b->nbytes = 0;
    b->size = 0;
    b->k = 0;
    /* p <= 0 or NaN means "use the default"; otherwise clamp like the
     * reference (Math.max(p, 0.01) then Math.min(p, 0.1)). */
    if (!(p > 0)) p = 0.05;
    if (p < 0.01) p = 0.01;
    if (p > 0.1) p = 0.1;

    /* Evaluated exactly as the reference does: (-n * ln p) / ln2 / ln2 in
     * double, then Java's (int) cast (saturating at INT32_MAX) and + 1 in
     * 32-bit arithmetic, which wraps to INT32_MIN for absurd n and so falls
     * back to the 256-bit minimum.  Kept for byte identity. */
    double ln2 = log(2.0);
    double bits = ((-(double)n * log(p)) / ln2) / ln2;
    int64_t size = bits >= 2147483647.0 ? INT32_MIN : (int64_t)bits + 1;
    if (size < 256) size = 256;
    int64_t k = (int64_t)(-log(p) / ln2) + 1;
    if (k > 8) k = 8;

    b->bits = calloc(((size_t)size + 7) / 8, 1);
    if (!b->bits) return -ENOMEM;
    b->nbytes = (uint32_t)(((size_t)size + 7) / 8);
    b->size = (uint32_t)size;
    b->k = (uint32_t)k;
    return 0;
}

void tsf_bloom_free(TsfBloom *b)
{
    free(b->bits);
    b->bits = NULL;
    b->nbytes = 0;
    b->size = 0;
    b->k = 0;
}

/* A filter read from a file holds only its stored bytes; adding to it
 * first materializes the whole bit array.  If that fails the filter
 * becomes "no filter" (size 0), which can still never exclude a key. */
static bool hold_all(TsfBloom *b)
{
    size_t full = ((size_t)b->size + 7) / 8;
    if (b->nbytes >= full) return true;
    uint8_t *nb = realloc(b->bits, full);
    if (!nb) {
        b->size = 0;
        return false;
    }
    memset(nb + b->nbytes, 0, full - b->nbytes);
    b->bits = nb;
    b->nbytes = (uint32_t)full;
    return true;
}

static void add_pieces(TsfBloom *b, const Piece *pc, int npc)
{
    if (b->size == 0 || !b->bits || !hold_all(b)) return;
    for (uint32_t i = 0; i < b->k && i < 8; i++) {
        uint32_t pos = bit_of(murmur_pieces(bloom_seeds[i], pc, npc), b->size);
        b->bits[pos >> 3] |= (uint8_t)(1u << (pos & 7));
    }
}

static bool contains_pieces(const TsfBloom *b, const Piece *pc, int npc)
{
    if (b->size == 0 || !b->bits) return true; /* no filter: cannot exclude */
    for (uint32_t i = 0; i < b->k && i < 8; i++) {
        uint32_t pos = bit_of(murmur_pieces(bloom_seeds[i], pc, npc), b->size);
        if ((pos >> 3) >= b->nbytes) return false; /* not stored: zero */
        if (!(b->bits[pos >> 3] & (1u << (pos & 7)))) return false;
    }
    return true;
}

void tsf_bloom_add(TsfBloom *b, const void *key, size_t len)
{
    Piece pc = {(const uint8_t *)key, len};
    add_pieces(b, &pc, 1);
}

void tsf_bloom_add_series(TsfBloom *b, const char *device, size_t dlen, const char *meas, size_t mlen)
{
    Piece pc[3] = {{(const uint8_t *)device, dlen}, {(const uint8_t *)".", 1}, {(const uint8_t *)meas, mlen}};
    add_pieces(b, pc, 3);
}

bool tsf_bloom_may_contain(const TsfBloom *b, const void *key, size_t len)
{
    Piece pc = {(const uint8_t *)key, len};
    return contains_pieces(b, &pc, 1);
}

bool tsf_bloom_may_contain_series(const TsfBloom *b, const char *device, size_t dlen, const char *meas,
                                  size_t mlen)
{
    Piece pc[3] = {{(const uint8_t *)device, dlen}, {(const uint8_t *)".", 1}, {(const uint8_t *)meas, mlen}};
    return contains_pieces(b, pc, 3);
}

/* ---- serialization --------------------------------------------------------- */

void tsf_bloom_write(const TsfBloom *b, int version, TsfBuf *out)
{
    size_t full = ((size_t)b->size + 7) / 8;
    size_t nbytes = b->bits ? (b->nbytes < full ? b->nbytes : full) : 0;
    while (nbytes > 0 && b->bits[nbytes - 1] == 0) nbytes--; /* BitSet.toByteArray */
    tsf_buf_put_uvarint(out, (uint32_t)nbytes);
    tsf_buf_put(out, b->bits, nbytes);
    if (version < 4 || nbytes > 0) {
        tsf_buf_put_uvarint(out, b->size);
        tsf_buf_put_uvarint(out, b->k);
    }
}

/*
 * The serialized form has no version of its own: with byteLength 0 a v3 file
 * still has size and k after it while a v4 file goes on with the property
 * map.  An empty bit array selects nothing, so byteLength 0 is read as "no
 * filter" (size 0) and nothing more is consumed; in v3 the two unread
 * parameters are the last bytes of TsFileMetadata and may be left unread.
 * An exhausted cursor is also "no filter": v3 readers parse the filter only
 * if bytes remain.
 */
int tsf_bloom_read(TsfCursor *c, TsfBloom *b)
{
    b->bits = NULL;
    b->nbytes = 0;
    b->size = 0;
    b->k = 0;
    if (c->err) return c->err;
    if (tsf_cur_left(c) == 0) return 0;

    uint32_t nbytes = tsf_cur_uvarint(c);
    const uint8_t *src = tsf_cur_take(c, nbytes);
    if (c->err) return c->err;
    if (nbytes == 0) return 0;
    uint32_t size = tsf_cur_uvarint(c);
    uint32_t k = tsf_cur_uvarint(c);
    if (c->err) return c->err;
    /* The reference holds size in a Java int; above that it is no filter a
     * writer produced. */
    if (size > (uint32_t)INT32_MAX) return TSF_ECORRUPT;
    if (size == 0) return 0; /* would divide by zero: treat as no filter */

    /* Only the stored bytes are held (bits past them are zero), so a tiny
     * corrupt filter declaring 2^31 bits costs its stored bytes, not 256
     * MiB.  Small filters (up to BLOOM_HOLD_WHOLE bytes, which covers the
     * usual sizes) are held whole, as a writer builds them.  Bytes beyond
     * the size are unused. */
    size_t full = ((size_t)size + 7) / 8;
    size_t stored = nbytes < full ? nbytes : full;
    size_t hold = full <= BLOOM_HOLD_WHOLE ? full : stored;
    b->bits = calloc(hold, 1);
    if (!b->bits) return -ENOMEM;
    memcpy(b->bits, src, stored);
    b->nbytes = (uint32_t)hold;
    b->size = size;
    b->k = k > 8 ? 8 : k;
    return 0;
}
