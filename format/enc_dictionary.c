/*
 * enc_dictionary.c: DICTIONARY (code 1, spec §5.9) for TEXT and STRING.
 *
 *   varint  entryCount                  zig-zag, like every signed varint
 *   entryCount x (varint len, bytes)    distinct values in first-seen order
 *   RLE INT32 stream (§5.5)             the index of each value
 *
 * Example: ["a", "b", "a"] -> 04 | 02 61 | 02 62 | 04 01 03 03 40.
 *
 * The encoder finds entries through an open-addressing hash table (linear
 * probing, power-of-two size, at most half full) allocated once per call
 * together with the index array, so nothing is allocated per value.  The
 * decoder bounds the entry count by the bytes left (every entry takes at
 * least one byte), decodes the indices with the RLE decoder and checks each
 * against the entry count.
 */
#include <errno.h>
#include <stdlib.h>

#include "encoding_int.h"

/* FNV-1a over the bytes, then a final mix so linear probing spreads well. */
static uint64_t hash_bytes(const uint8_t *p, uint32_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

static bool bin_equal(const TsfBin *a, const TsfBin *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->ptr, b->ptr, a->len) == 0);
}

int tsf_dictionary_encode(TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts, TsfBuf *out)
{
    (void)opts;
    if (type != TSF_TEXT && type != TSF_STRING) return TSF_EUNSUPPORTED;
    if (out->err) return out->err;
    if (n > INT32_MAX) return TSF_EINVAL; /* indices and the count are int32 */
    const TsfBin *v = values;

    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    /* one block: slots (entry + 1, 0 = empty), entries (value index of the
     * first occurrence), indices */
    size_t bytes = cap * sizeof(uint32_t) + n * sizeof(uint32_t) + n * sizeof(int32_t);
    uint8_t *mem = calloc(1, bytes);
    if (!mem) return out->err = -ENOMEM;
    uint32_t *slots = (uint32_t *)mem;
    uint32_t *entries = slots + cap;
    int32_t *idx = (int32_t *)(entries + n);
    uint32_t nent = 0;

    for (size_t i = 0; i < n; i++) {
        if (v[i].len > INT32_MAX) {
            free(mem);
            return TSF_EINVAL;
        }
        size_t h = (size_t)hash_bytes(v[i].ptr, v[i].len) & (cap - 1);
        for (;;) {
            uint32_t s = slots[h];
            if (s == 0) {
                entries[nent] = (uint32_t)i;
                slots[h] = ++nent;
                idx[i] = (int32_t)(nent - 1);
                break;
            }
            if (bin_equal(&v[entries[s - 1]], &v[i])) {
                idx[i] = (int32_t)(s - 1);
                break;
            }
            h = (h + 1) & (cap - 1);
        }
    }

    tsf_buf_put_varint(out, (int32_t)nent);
    for (uint32_t e = 0; e < nent; e++) {
        const TsfBin *b = &v[entries[e]];
        tsf_buf_put_varint(out, (int32_t)b->len);
        tsf_buf_put(out, b->ptr, b->len);
    }
    int rc = out->err ? out->err : tsf_rle_encode_i32(idx, n, out);
    free(mem);
    return rc;
}

int tsf_dictionary_decode(TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    if (type != TSF_TEXT && type != TSF_STRING) return TSF_EUNSUPPORTED;
    if (n == 0) return 0;
    if (!p) return TSF_ECORRUPT;
    TsfCursor c = tsf_cursor(p, len);
    int32_t count = tsf_cur_varint(&c);
    if (c.err || count < 0 || (size_t)count > tsf_cur_left(&c)) return TSF_ECORRUPT;

    /* entries, then the decoded indices, in one allocation */
    if (n > SIZE_MAX / 8) return -ENOMEM;
    size_t bytes = (size_t)count * sizeof(TsfBin) + n * sizeof(int32_t);
    uint8_t *mem = malloc(bytes ? bytes : 1);
    if (!mem) return -ENOMEM;
    TsfBin *ent = (TsfBin *)mem;
    int32_t *idx = (int32_t *)(ent + count);

    int rc = 0;
    for (int32_t e = 0; e < count; e++) {
        const uint8_t *s;
        uint32_t l;
        if (!tsf_cur_varstr(&c, &s, &l)) {
            rc = TSF_ECORRUPT;
            goto out_free;
        }
        ent[e].ptr = s;
        ent[e].len = l;
    }
    rc = tsf_rle_decode_i32(c.p, tsf_cur_left(&c), n, idx, NULL);
    if (rc) goto out_free;
    TsfBin *o = out;
    for (size_t i = 0; i < n; i++) {
        if (idx[i] < 0 || idx[i] >= count) {
            rc = TSF_ECORRUPT;
            goto out_free;
        }
        o[i] = ent[idx[i]];
    }
out_free:
    free(mem);
    return rc;
}
