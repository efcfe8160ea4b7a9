/*
 * series_scan.c: range scans of one series over its chunks and pages.
 */
#include "series_scan.h"

#include <stdlib.h>

typedef struct Scan {
    TsfReader *r;
    int64_t lo, hi;
    TsfPointsFn fn;
    void *ctx;
    TsfScanCounters *cnt;
    TsfColumn tcol, vcol;
} Scan;

static bool overlaps(const TsfStats *st, int64_t lo, int64_t hi)
{
    return st->count > 0 && st->start <= hi && st->end >= lo;
}

/* Emits the part of (times, values) inside [lo, hi]. */
static int emit(Scan *s, const int64_t *times, const void *values, size_t n, TsfType type)
{
    size_t a = 0, b = n;
    while (a < b && times[a] < s->lo) a++;
    while (b > a && times[b - 1] > s->hi) b--;
    if (a == b) return 0;
    const uint8_t *v = (const uint8_t *)values + a * tsf_type_elem_size(type);
    return s->fn(s->ctx, times + a, v, b - a);
}

static int scan_plain_chunk(Scan *s, const TsfChunkMeta *cm)
{
    TsfChunk c;
    int rc = tsf_chunk_open(s->r, cm->offset, &c);
    if (rc) return rc;
    TsfPage p;
    while (rc == 0 && (rc = tsf_chunk_next_page(&c, &p)) == 1) {
        const TsfStats *st = p.h.has_stats ? &p.h.stats : &cm->stats;
        if (!overlaps(st, s->lo, s->hi)) {
            if (s->cnt) s->cnt->pages_skipped++;
            rc = 0;
            continue;
        }
        if (s->cnt) s->cnt->pages_decoded++;
        rc = tsf_page_decode(&c, &p, &s->vcol);
        if (rc == 0) rc = emit(s, s->vcol.times, s->vcol.values, s->vcol.n, c.h.type);
    }
    tsf_chunk_close(&c);
    return rc < 0 ? rc : (rc == 1 ? 0 : rc);
}

static int scan_aligned_chunk(Scan *s, const TsfChunkMeta *vm, const TsfChunkMeta *tm)
{
    TsfChunk tc, vc;
    int rc = tsf_chunk_open(s->r, tm->offset, &tc);
    if (rc) return rc;
    rc = tsf_chunk_open(s->r, vm->offset, &vc);
    if (rc) {
        tsf_chunk_close(&tc);
        return rc;
    }
    tsf_chunk_set_pages_have_stats(&vc, tc.pages_have_stats);
    TsfPage tp, vp;
    for (;;) {
        int a = tsf_chunk_next_page(&tc, &tp);
        int b = vc.h.data_size == 0 ? 0 : tsf_chunk_next_page(&vc, &vp);
        if (a < 0 || b < 0) {
            rc = a < 0 ? a : b;
            break;
        }
        if (a == 0) break;
        if (b == 0) break; /* an all-null value chunk has no pages */
        const TsfStats *st = vp.h.has_stats ? &vp.h.stats : &vm->stats;
        if (vp.h.uncompressed == 0 || !overlaps(tp.h.has_stats ? &tp.h.stats : &tm->stats, s->lo, s->hi) ||
            !overlaps(st, s->lo, s->hi)) {
            if (s->cnt) s->cnt->pages_skipped++;
            continue;
        }
        if (s->cnt) s->cnt->pages_decoded++;
        rc = tsf_time_page_decode(&tc, &tp, &s->tcol);
        if (rc == 0) rc = tsf_value_page_decode(&vc, &vp, s->tcol.times, s->tcol.n, &s->vcol);
        if (rc == 0) rc = emit(s, s->vcol.times, s->vcol.values, s->vcol.n, vc.h.type);
        if (rc) break;
    }
    tsf_chunk_close(&tc);
    tsf_chunk_close(&vc);
    return rc;
}

/* The time chunk of the chunk group holding a value chunk: the last time
 * chunk that starts before it. */
static const TsfChunkMeta *time_chunk_for(const TsfSeriesMeta *tm, uint64_t value_offset)
{
    size_t lo = 0, hi = tm->nchunks;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (tm->chunks[mid].offset < value_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &tm->chunks[lo - 1] : NULL;
}

int tsf_series_scan(TsfReader *r, const TsfSeriesMeta *sm, const TsfSeriesMeta *time_meta, int64_t t_lo,
                    int64_t t_hi, TsfPointsFn fn, void *ctx, TsfScanCounters *counters)
{
    Scan s = {.r = r, .lo = t_lo, .hi = t_hi, .fn = fn, .ctx = ctx, .cnt = counters};
    int rc = 0;
    bool aligned = sm->mask & TSF_MASK_VALUE_COLUMN;
    if (aligned && !time_meta) return TSF_EINVAL;
    for (size_t i = 0; i < sm->nchunks && rc == 0; i++) {
        const TsfChunkMeta *cm = &sm->chunks[i];
        if (!overlaps(&cm->stats, t_lo, t_hi)) {
            if (counters) counters->chunks_skipped++;
            continue;
        }
        if (aligned) {
            const TsfChunkMeta *tm = time_chunk_for(time_meta, cm->offset);
            if (!tm) {
                rc = tsf_reader_fail(r, TSF_ECORRUPT, cm->offset,
                                     "value chunk without a time chunk before it");
                break;
            }
            rc = scan_aligned_chunk(&s, cm, tm);
        } else {
            rc = scan_plain_chunk(&s, cm);
        }
    }
    tsf_column_free(&s.tcol);
    tsf_column_free(&s.vcol);
    return rc;
}
