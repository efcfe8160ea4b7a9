/*
 * stats.c: page/chunk/series statistics (spec §3).
 *
 * Serialized form (all big-endian):
 *
 *   uvarint count, i64 startTime, i64 endTime, then by type:
 *   BOOLEAN          bool first, bool last, i64 sum (number of trues)   10 B
 *   INT32, DATE      i32 min, max, first, last, i64 sum                 24 B
 *   INT64, TIMESTAMP i64 min, max, first, last, f64 sum                 40 B
 *   FLOAT            f32 min, max, first, last, f64 sum                 24 B
 *   DOUBLE           f64 min, max, first, last, sum                     40 B
 *   TEXT             I32Bin first, last                                 8 + lengths
 *   STRING           I32Bin first, last, min, max                       16 + lengths
 *   BLOB, VECTOR     nothing
 *
 * Semantics follow the reference's Statistics classes:
 *  - Batches arrive with ascending times: start/end come from the batch's
 *    first/last time, first is set only on the first point, last always.
 *  - min/max update with plain `v < min` / `v > max`.  C and Java compare
 *    floats alike, so NaN behaves as in the reference: a NaN *first* value
 *    becomes min and max and then stays forever (every comparison with it is
 *    false), while a later NaN never replaces anything; between -0.0 and 0.0
 *    whichever came first is kept.  Merging uses the same comparisons.
 *  - Sums are accumulated value by value in order: INT32 into a wrapping
 *    i64, INT64 converted to double and added, FLOAT widened to double,
 *    BOOLEAN counts trues.  The order matters for the double sums, so the
 *    loops never reassociate.
 *  - Merge (§3.5): first comes from the part with the strictly smaller start
 *    time, last from the part whose end time is >= the current one.  Empty
 *    statistics (count 0) contribute nothing.  (The reference's numeric
 *    classes compare against the start time *after* updating it, so they
 *    never move first on a merge; BOOLEAN/TEXT/STRING use <=.  All agree
 *    whenever parts are merged in time order, as writers do.)
 *
 * Binary values (TEXT/STRING) owned by statistics live in `store`, split in
 * four slots (first, last, min, max) behind a 16-byte header holding each
 * slot's capacity.  A changed value is copied into its slot when it fits, so
 * adding batches reuses the memory; only growth reallocates (doubling).
 */
#include "stats.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tsf_error.h"

#define SLOT_HDR 16 /* 4 x uint32 capacities at the start of store.data */

void tsf_stats_init(TsfStats *s, TsfType type)
{
    memset(s, 0, sizeof(*s));
    s->type = type;
    s->count = 0;
    s->start = INT64_MAX;
    s->end = INT64_MIN;
    s->owned = false;
}

void tsf_stats_free(TsfStats *s)
{
    tsf_buf_free(&s->store);
    s->owned = false;
    memset(&s->v, 0, sizeof(s->v));
}

/* ---- owned binary values ------------------------------------------------- */

static inline TsfBin *bin_field(TsfStats *s, int i)
{
    switch (i) {
    case 0: return &s->v.bin.first;
    case 1: return &s->v.bin.last;
    case 2: return &s->v.bin.min;
    default: return &s->v.bin.max;
    }
}

static inline uint32_t slot_cap(const TsfStats *s, int i)
{
    uint32_t c;
    memcpy(&c, s->store.data + 4 * i, 4);
    return c;
}

static inline uint8_t *slot_ptr(const TsfStats *s, int i)
{
    size_t off = SLOT_HDR;
    for (int j = 0; j < i; j++) off += slot_cap(s, j);
    return s->store.data + off;
}

/*
 * Makes nv[0..3] (first, last, min, max) the owned values of s.  A value may
 * point anywhere, including at its own current slot (unchanged).  Returns 0
 * or -ENOMEM (s unchanged then).
 */
static int bin_commit(TsfStats *s, const TsfBin nv[4])
{
    bool fits = s->owned && s->store.data;
    for (int i = 0; i < 4 && fits; i++)
        if (nv[i].len > slot_cap(s, i)) fits = false;

    if (fits) {
        for (int i = 0; i < 4; i++) {
            TsfBin *f = bin_field(s, i);
            uint8_t *dst = slot_ptr(s, i);
            if (nv[i].ptr != dst && nv[i].len) memmove(dst, nv[i].ptr, nv[i].len);
            f->ptr = dst;
            f->len = nv[i].len;
        }
        return 0;
    }

    size_t total = 0;
    uint32_t caps[4];
    for (int i = 0; i < 4; i++) {
        uint32_t old = s->owned && s->store.data ? slot_cap(s, i) : 0;
        uint32_t want = nv[i].len;
        if (want > old) { /* grow with slack, like a vector */
            uint64_t dbl = (uint64_t)old * 2;
            if (dbl > want && dbl <= UINT32_MAX) want = (uint32_t)dbl;
        } else {
            want = old;
        }
        caps[i] = want;
        total += want;
    }
    if (total == 0 && !s->store.data) { /* all empty: nothing to own */
        for (int i = 0; i < 4; i++) *bin_field(s, i) = (TsfBin){NULL, 0};
        s->owned = true;
        return 0;
    }
    uint8_t *mem = malloc(SLOT_HDR + total);
    if (!mem) return -ENOMEM;
    memcpy(mem, caps, sizeof(caps));
    /* Sources may point into the old store: copy all before freeing it. */
    size_t off = SLOT_HDR;
    for (int i = 0; i < 4; i++) {
        if (nv[i].len) memcpy(mem + off, nv[i].ptr, nv[i].len);
        *bin_field(s, i) = (TsfBin){mem + off, nv[i].len};
        off += caps[i];
    }
    free(s->store.data);
    s->store.data = mem;
    s->store.len = s->store.cap = SLOT_HDR + total;
    s->store.err = 0;
    s->owned = true;
    return 0;
}

/* TEXT and STRING keep binary values; BLOB (also binary) keeps none. */
static inline bool has_bins(TsfType t)
{
    return t == TSF_TEXT || t == TSF_STRING;
}

/* Unsigned-byte lexicographic order, shorter prefix first (spec §0.4). */
static inline int bin_cmp(TsfBin a, TsfBin b)
{
    uint32_t m = a.len < b.len ? a.len : b.len;
    int c = m ? memcmp(a.ptr, b.ptr, m) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len;
}

/* ---- adding points --------------------------------------------------------- */

/* One pass each; `first` says the statistics were empty before this batch. */
#define MINMAX_SUM_LOOP(FIELD, CT, SUMEXPR)                                                                  \
    do {                                                                                                     \
        const CT *a = values;                                                                                \
        size_t i = 0;                                                                                        \
        if (first) {                                                                                         \
            s->v.FIELD.min = s->v.FIELD.max = a[0];                                                          \
            s->v.FIELD.first = a[0];                                                                         \
            s->v.FIELD.sum = 0;                                                                              \
        }                                                                                                    \
        CT mn = s->v.FIELD.min, mx = s->v.FIELD.max;                                                         \
        for (; i < n; i++) {                                                                                 \
            CT x = a[i];                                                                                     \
            if (x < mn) mn = x;                                                                              \
            if (x > mx) mx = x;                                                                              \
            SUMEXPR;                                                                                         \
        }                                                                                                    \
        s->v.FIELD.min = mn;                                                                                 \
        s->v.FIELD.max = mx;                                                                                 \
        s->v.FIELD.last = a[n - 1];                                                                          \
    } while (0)

int tsf_stats_add(TsfStats *s, const int64_t *times, const void *values, size_t n)
{
    if (n == 0) return 0;
    if (n > (size_t)(UINT32_MAX - s->count)) return TSF_EINVAL;
    bool first = s->count == 0;

    switch (s->type) {
    case TSF_BOOLEAN: {
        const uint8_t *a = values;
        int64_t trues = 0;
        for (size_t i = 0; i < n; i++) trues += a[i] != 0;
        if (first) {
            s->v.b.first = a[0] != 0;
            s->v.b.sum = 0;
        }
        s->v.b.last = a[n - 1] != 0;
        s->v.b.sum = (int64_t)((uint64_t)s->v.b.sum + (uint64_t)trues);
        break;
    }
    case TSF_INT32:
    case TSF_DATE: {
        uint64_t sum = 0; /* wrapping, as Java's long */
        MINMAX_SUM_LOOP(i32, int32_t, sum += (uint64_t)(int64_t)x);
        s->v.i32.sum = (int64_t)((uint64_t)s->v.i32.sum + sum);
        break;
    }
    case TSF_INT64:
    case TSF_TIMESTAMP: {
        double sum = s->v.i64.sum;
        if (first) sum = 0;
        MINMAX_SUM_LOOP(i64, int64_t, sum += (double)x);
        s->v.i64.sum = sum;
        break;
    }
    case TSF_FLOAT: {
        double sum = s->v.f32.sum;
        if (first) sum = 0;
        MINMAX_SUM_LOOP(f32, float, sum += (double)x);
        s->v.f32.sum = sum;
        break;
    }
    case TSF_DOUBLE: {
        double sum = s->v.f64.sum;
        if (first) sum = 0;
        MINMAX_SUM_LOOP(f64, double, sum += x);
        s->v.f64.sum = sum;
        break;
    }
    case TSF_TEXT: {
        const TsfBin *a = values;
        TsfBin nv[4] = {first ? a[0] : s->v.bin.first, a[n - 1], {NULL, 0}, {NULL, 0}};
        int rc = bin_commit(s, nv);
        if (rc) return rc;
        break;
    }
    case TSF_STRING: {
        const TsfBin *a = values;
        TsfBin mn = first ? a[0] : s->v.bin.min, mx = first ? a[0] : s->v.bin.max;
        for (size_t i = 0; i < n; i++) {
            if (bin_cmp(a[i], mn) < 0) mn = a[i];
            if (bin_cmp(a[i], mx) > 0) mx = a[i];
        }
        TsfBin nv[4] = {first ? a[0] : s->v.bin.first, a[n - 1], mn, mx};
        int rc = bin_commit(s, nv);
        if (rc) return rc;
        break;
    }
    default: /* BLOB, VECTOR: only the common part */ break;
    }

    /* Times ascending: the batch's extremes are its ends (as the reference). */
    if (times[0] < s->start) s->start = times[0];
    if (times[n - 1] > s->end) s->end = times[n - 1];
    s->count += (uint32_t)n;
    return 0;
}

/* ---- merge and copy -------------------------------------------------------- */

#define MERGE_NUM(FIELD, SUMADD)                                                                             \
    do {                                                                                                     \
        if (src->v.FIELD.min < dst->v.FIELD.min) dst->v.FIELD.min = src->v.FIELD.min;                        \
        if (src->v.FIELD.max > dst->v.FIELD.max) dst->v.FIELD.max = src->v.FIELD.max;                        \
        if (take_first) dst->v.FIELD.first = src->v.FIELD.first;                                             \
        if (take_last) dst->v.FIELD.last = src->v.FIELD.last;                                                \
        SUMADD;                                                                                              \
    } while (0)

int tsf_stats_merge(TsfStats *dst, const TsfStats *src)
{
    if (dst->type != src->type) return TSF_EINVAL;
    if (src == dst || src->count == 0) return 0;
    if (src->count > UINT32_MAX - dst->count) return TSF_EINVAL;
    if (dst->count == 0) {
        /* Empty destination: becomes a copy of src (keeping its own store). */
        if (has_bins(dst->type)) {
            TsfBin nv[4] = {src->v.bin.first, src->v.bin.last, src->v.bin.min, src->v.bin.max};
            int rc = bin_commit(dst, nv);
            if (rc) return rc;
        } else {
            dst->v = src->v;
        }
        dst->count = src->count;
        dst->start = src->start;
        dst->end = src->end;
        return 0;
    }

    bool take_first = src->start < dst->start;
    bool take_last = src->end >= dst->end;
    switch (dst->type) {
    case TSF_BOOLEAN:
        if (take_first) dst->v.b.first = src->v.b.first;
        if (take_last) dst->v.b.last = src->v.b.last;
        dst->v.b.sum = (int64_t)((uint64_t)dst->v.b.sum + (uint64_t)src->v.b.sum);
        break;
    case TSF_INT32:
    case TSF_DATE:
        MERGE_NUM(i32, dst->v.i32.sum = (int64_t)((uint64_t)dst->v.i32.sum + (uint64_t)src->v.i32.sum));
        break;
    case TSF_INT64:
    case TSF_TIMESTAMP: MERGE_NUM(i64, dst->v.i64.sum += src->v.i64.sum); break;
    case TSF_FLOAT: MERGE_NUM(f32, dst->v.f32.sum += src->v.f32.sum); break;
    case TSF_DOUBLE: MERGE_NUM(f64, dst->v.f64.sum += src->v.f64.sum); break;
    case TSF_TEXT:
    case TSF_STRING: {
        TsfBin nv[4] = {take_first ? src->v.bin.first : dst->v.bin.first,
                        take_last ? src->v.bin.last : dst->v.bin.last, dst->v.bin.min, dst->v.bin.max};
        if (dst->type == TSF_STRING) {
            if (bin_cmp(src->v.bin.min, nv[2]) < 0) nv[2] = src->v.bin.min;
            if (bin_cmp(src->v.bin.max, nv[3]) > 0) nv[3] = src->v.bin.max;
        }
        int rc = bin_commit(dst, nv);
        if (rc) return rc;
        break;
    }
    default: break;
    }
    if (src->start < dst->start) dst->start = src->start;
    if (src->end > dst->end) dst->end = src->end;
    dst->count += src->count;
    return 0;
}

int tsf_stats_copy(TsfStats *dst, const TsfStats *src)
{
    tsf_stats_init(dst, src->type);
    dst->count = src->count;
    dst->start = src->start;
    dst->end = src->end;
    if (!has_bins(src->type)) {
        dst->v = src->v;
        return 0;
    }
    TsfBin nv[4] = {src->v.bin.first, src->v.bin.last, src->v.bin.min, src->v.bin.max};
    int rc = bin_commit(dst, nv);
    if (rc) tsf_stats_init(dst, src->type);
    return rc;
}

/* ---- serialization --------------------------------------------------------- */

static inline size_t uvarint_size(uint32_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

size_t tsf_stats_size(const TsfStats *s)
{
    size_t n = uvarint_size(s->count) + 16;
    switch (s->type) {
    case TSF_BOOLEAN: return n + 10;
    case TSF_INT32:
    case TSF_DATE: return n + 24;
    case TSF_INT64:
    case TSF_TIMESTAMP: return n + 40;
    case TSF_FLOAT: return n + 24;
    case TSF_DOUBLE: return n + 40;
    case TSF_TEXT: return n + 8 + (size_t)s->v.bin.first.len + s->v.bin.last.len;
    case TSF_STRING:
        return n + 16 + (size_t)s->v.bin.first.len + s->v.bin.last.len + s->v.bin.min.len + s->v.bin.max.len;
    default: return n;
    }
}

void tsf_stats_write(const TsfStats *s, TsfBuf *out)
{
    if (!tsf_buf_reserve(out, tsf_stats_size(s))) return;
    tsf_buf_put_uvarint(out, s->count);
    tsf_buf_put_be64(out, (uint64_t)s->start);
    tsf_buf_put_be64(out, (uint64_t)s->end);
    switch (s->type) {
    case TSF_BOOLEAN:
        tsf_buf_put_u8(out, s->v.b.first ? 1 : 0);
        tsf_buf_put_u8(out, s->v.b.last ? 1 : 0);
        tsf_buf_put_be64(out, (uint64_t)s->v.b.sum);
        break;
    case TSF_INT32:
    case TSF_DATE:
        tsf_buf_put_be32(out, (uint32_t)s->v.i32.min);
        tsf_buf_put_be32(out, (uint32_t)s->v.i32.max);
        tsf_buf_put_be32(out, (uint32_t)s->v.i32.first);
        tsf_buf_put_be32(out, (uint32_t)s->v.i32.last);
        tsf_buf_put_be64(out, (uint64_t)s->v.i32.sum);
        break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
        tsf_buf_put_be64(out, (uint64_t)s->v.i64.min);
        tsf_buf_put_be64(out, (uint64_t)s->v.i64.max);
        tsf_buf_put_be64(out, (uint64_t)s->v.i64.first);
        tsf_buf_put_be64(out, (uint64_t)s->v.i64.last);
        tsf_buf_put_f64(out, s->v.i64.sum);
        break;
    case TSF_FLOAT:
        tsf_buf_put_f32(out, s->v.f32.min);
        tsf_buf_put_f32(out, s->v.f32.max);
        tsf_buf_put_f32(out, s->v.f32.first);
        tsf_buf_put_f32(out, s->v.f32.last);
        tsf_buf_put_f64(out, s->v.f32.sum);
        break;
    case TSF_DOUBLE:
        tsf_buf_put_f64(out, s->v.f64.min);
        tsf_buf_put_f64(out, s->v.f64.max);
        tsf_buf_put_f64(out, s->v.f64.first);
        tsf_buf_put_f64(out, s->v.f64.last);
        tsf_buf_put_f64(out, s->v.f64.sum);
        break;
    case TSF_STRING:
        tsf_buf_put_i32str(out, s->v.bin.first.ptr, s->v.bin.first.len);
        tsf_buf_put_i32str(out, s->v.bin.last.ptr, s->v.bin.last.len);
        tsf_buf_put_i32str(out, s->v.bin.min.ptr, s->v.bin.min.len);
        tsf_buf_put_i32str(out, s->v.bin.max.ptr, s->v.bin.max.len);
        break;
    case TSF_TEXT:
        tsf_buf_put_i32str(out, s->v.bin.first.ptr, s->v.bin.first.len);
        tsf_buf_put_i32str(out, s->v.bin.last.ptr, s->v.bin.last.len);
        break;
    default: /* BLOB, VECTOR */ break;
    }
}

/* I32Bin; a negative (null) length is corruption here. */
static TsfBin read_bin(TsfCursor *c)
{
    TsfBin b = {NULL, 0};
    const uint8_t *p;
    uint32_t n;
    if (!tsf_cur_i32str(c, &p, &n)) {
        if (!c->err) c->err = TSF_ECORRUPT;
        return b;
    }
    b.ptr = p;
    b.len = n;
    return b;
}

/* s is treated as uninitialized (nothing is freed). */
int tsf_stats_read(TsfCursor *c, TsfType type, TsfStats *s)
{
    tsf_stats_init(s, type);
    if (!tsf_type_is_valid((int)type)) return TSF_ECORRUPT;
    s->count = tsf_cur_uvarint(c);
    s->start = tsf_cur_i64(c);
    s->end = tsf_cur_i64(c);
    switch (type) {
    case TSF_BOOLEAN:
        /* Metadata readers take only 0x01 as true (spec §0). */
        s->v.b.first = tsf_cur_u8(c) == 1;
        s->v.b.last = tsf_cur_u8(c) == 1;
        s->v.b.sum = tsf_cur_i64(c);
        break;
    case TSF_INT32:
    case TSF_DATE:
        s->v.i32.min = tsf_cur_i32(c);
        s->v.i32.max = tsf_cur_i32(c);
        s->v.i32.first = tsf_cur_i32(c);
        s->v.i32.last = tsf_cur_i32(c);
        s->v.i32.sum = tsf_cur_i64(c);
        break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
        s->v.i64.min = tsf_cur_i64(c);
        s->v.i64.max = tsf_cur_i64(c);
        s->v.i64.first = tsf_cur_i64(c);
        s->v.i64.last = tsf_cur_i64(c);
        s->v.i64.sum = tsf_cur_f64(c);
        break;
    case TSF_FLOAT:
        s->v.f32.min = tsf_cur_f32(c);
        s->v.f32.max = tsf_cur_f32(c);
        s->v.f32.first = tsf_cur_f32(c);
        s->v.f32.last = tsf_cur_f32(c);
        s->v.f32.sum = tsf_cur_f64(c);
        break;
    case TSF_DOUBLE:
        s->v.f64.min = tsf_cur_f64(c);
        s->v.f64.max = tsf_cur_f64(c);
        s->v.f64.first = tsf_cur_f64(c);
        s->v.f64.last = tsf_cur_f64(c);
        s->v.f64.sum = tsf_cur_f64(c);
        break;
    case TSF_STRING:
        s->v.bin.first = read_bin(c);
        s->v.bin.last = read_bin(c);
        s->v.bin.min = read_bin(c);
        s->v.bin.max = read_bin(c);
        break;
    case TSF_TEXT:
        s->v.bin.first = read_bin(c);
        s->v.bin.last = read_bin(c);
        break;
    default: /* BLOB, VECTOR */ break;
    }
    if (c->err) {
        int rc = c->err;
        tsf_stats_init(s, type);
        return rc;
    }
    return 0;
}
