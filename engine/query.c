/*
 * query.c: the merging series reader (query.h).
 *
 * DESIGN
 * A query is a set of sources, each a time-ordered stream of points with a
 * priority (which write is newer):
 *   - a memtable snapshot (sorted, deduplicated copy taken at open);
 *   - a chunk of a TsFile, read page by page (closed files through their
 *     index, files being written through the chunk list their flushes
 *     recorded).
 * The sources sit in a binary heap keyed by (next time, newest first).  A
 * chunk not yet opened is keyed by its start time, so it costs nothing
 * until the merge reaches it; a page is decoded only when it overlaps the
 * filter and is not wholly deleted.  The top source gives its points up to
 * the next source's key in one copy (sequence data, which does not overlap,
 * streams through without per-point heap work); on a tie the newest write
 * wins and the others skip that time.
 *
 * Priority: (unsequence, file version, chunk offset or memtable order):
 * sequence data is older than unsequence data at the same time, a larger
 * version is newer, a later chunk is newer, a memtable is newer than its
 * file's chunks and the working memtable newer than those being flushed.
 */
#include "query.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "engine_int.h"
#include "reader.h"

#define OUT_BATCH 4096

/* ---- time filters -------------------------------------------------------------- */

static TimeFilter *tf_new(size_t n)
{
    TimeFilter *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->r = calloc(n ? n : 1, sizeof(TimeRange));
    if (!f->r) {
        free(f);
        return NULL;
    }
    f->n = n;
    return f;
}

TimeFilter *tf_range(int64_t lo, int64_t hi)
{
    TimeFilter *f = tf_new(lo <= hi ? 1 : 0);
    if (f && lo <= hi) f->r[0] = (TimeRange){lo, hi};
    return f;
}
TimeFilter *tf_all(void)
{
    return tf_range(INT64_MIN, INT64_MAX);
}
TimeFilter *tf_eq(int64_t t)
{
    return tf_range(t, t);
}
TimeFilter *tf_lt(int64_t t)
{
    return t == INT64_MIN ? tf_new(0) : tf_range(INT64_MIN, t - 1);
}
TimeFilter *tf_le(int64_t t)
{
    return tf_range(INT64_MIN, t);
}
TimeFilter *tf_gt(int64_t t)
{
    return t == INT64_MAX ? tf_new(0) : tf_range(t + 1, INT64_MAX);
}
TimeFilter *tf_ge(int64_t t)
{
    return tf_range(t, INT64_MAX);
}

void tf_free(TimeFilter *f)
{
    if (!f) return;
    free(f->r);
    free(f);
}

TimeFilter *tf_and(const TimeFilter *a, const TimeFilter *b)
{
    TimeFilter *f = tf_new(a->n + b->n);
    if (!f) return NULL;
    size_t i = 0, j = 0, k = 0;
    while (i < a->n && j < b->n) {
        int64_t lo = a->r[i].lo > b->r[j].lo ? a->r[i].lo : b->r[j].lo;
        int64_t hi = a->r[i].hi < b->r[j].hi ? a->r[i].hi : b->r[j].hi;
        if (lo <= hi) f->r[k++] = (TimeRange){lo, hi};
        if (a->r[i].hi < b->r[j].hi)
            i++;
        else
            j++;
    }
    f->n = k;
    return f;
}

TimeFilter *tf_or(const TimeFilter *a, const TimeFilter *b)
{
    TimeFilter *f = tf_new(a->n + b->n);
    if (!f) return NULL;
    size_t i = 0, j = 0, k = 0;
    while (i < a->n || j < b->n) {
        TimeRange next = (j >= b->n || (i < a->n && a->r[i].lo <= b->r[j].lo)) ? a->r[i++] : b->r[j++];
        if (k && (f->r[k - 1].hi == INT64_MAX || next.lo <= f->r[k - 1].hi + 1)) {
            if (next.hi > f->r[k - 1].hi) f->r[k - 1].hi = next.hi;
        } else {
            f->r[k++] = next;
        }
    }
    f->n = k;
    return f;
}

bool tf_contains(const TimeFilter *f, int64_t t)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (f->r[mid].hi < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < f->n && f->r[lo].lo <= t;
}

/* Does [lo, hi] meet the filter? */
static bool tf_overlaps(const TimeFilter *f, int64_t lo, int64_t hi)
{
    size_t a = 0, b = f->n;
    while (a < b) {
        size_t mid = (a + b) / 2;
        if (f->r[mid].hi < lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < f->n && f->r[a].lo <= hi;
}

/* ---- sources ---------------------------------------------------------------------- */

/* An open TsFile shared by the chunk sources of one query. */
typedef struct FileRef {
    TsfReader *r;
    char *path; /* for log lines (a copy: the file may be removed meanwhile) */
    Mods mods;  /* deletions of this file that match the series */
} FileRef;

typedef enum SrcKind { SRC_MEM, SRC_CHUNK } SrcKind;

typedef struct Src {
    SrcKind kind;
    uint64_t prio_major, prio_minor; /* larger = newer */
    /* current block of points */
    const int64_t *t;
    const uint8_t *v;
    size_t n, pos;
    /* SRC_MEM */
    MemSeries mem;
    /* SRC_CHUNK */
    FileRef *file;
    uint64_t offset;
    int64_t start, end; /* chunk time range (statistics) */
    TsfStats stats;     /* chunk statistics (single-page chunks' page stats) */
    bool opened, done;
    bool full_stats; /* stats carry values (closed files), not just count and times */
    TsfChunk chunk;
    TsfColumn col;
} Src;

struct EngineQuery {
    Engine *e;
    char *device, *measurement;
    TsfType type;
    size_t esz;
    TimeFilter *tf;
    int64_t lo, hi; /* hull of the filter */
    ValueFilter *vf;
    size_t nvf;
    Src **srcs;
    size_t nsrc;
    FileRef **files;
    size_t nfiles;
    Src **heap;
    size_t nheap;
    int64_t *out_t;
    uint8_t *out_v;
    TsfBuf out_bytes; /* copies of binary values of the batch */
    QueryCounters cnt;
    int err;
};

static bool src_newer(const Src *a, const Src *b)
{
    return a->prio_major != b->prio_major ? a->prio_major > b->prio_major : a->prio_minor > b->prio_minor;
}

/* Heap order: earlier time first; at one time, newer first. */
static int64_t src_key(const Src *s)
{
    return s->pos < s->n ? s->t[s->pos] : s->start;
}

static bool heap_less(const Src *a, const Src *b)
{
    int64_t ka = src_key(a), kb = src_key(b);
    return ka != kb ? ka < kb : src_newer(a, b);
}

static void heap_up(EngineQuery *q, size_t i)
{
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(q->heap[i], q->heap[p])) break;
        Src *tmp = q->heap[i];
        q->heap[i] = q->heap[p];
        q->heap[p] = tmp;
        i = p;
    }
}

static void heap_down(EngineQuery *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->nheap && heap_less(q->heap[l], q->heap[m])) m = l;
        if (r < q->nheap && heap_less(q->heap[r], q->heap[m])) m = r;
        if (m == i) break;
        Src *tmp = q->heap[i];
        q->heap[i] = q->heap[m];
        q->heap[m] = tmp;
        i = m;
    }
}

static void heap_push(EngineQuery *q, Src *s)
{
    q->heap[q->nheap++] = s;
    heap_up(q, q->nheap - 1);
}

static Src *heap_pop(EngineQuery *q)
{
    Src *top = q->heap[0];
    q->heap[0] = q->heap[--q->nheap];
    if (q->nheap) heap_down(q, 0);
    return top;
}

/* Keeps the points of the block inside the filter (in place). */
static size_t filter_block(const EngineQuery *q, int64_t *t, uint8_t *v, size_t n)
{
    if (q->tf->n == 1 && (n == 0 || (t[0] >= q->lo && t[n - 1] <= q->hi))) return n;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!tf_contains(q->tf, t[i])) continue;
        if (k != i) {
            t[k] = t[i];
            memcpy(v + k * q->esz, v + i * q->esz, q->esz);
        }
        k++;
    }
    return k;
}

static bool same_bits(const void *a, const void *b, size_t n)
{
    return memcmp(a, b, n) == 0; /* NaN equals itself, -0.0 differs from 0.0 */
}

/* Do the value statistics of st match re (computed from the decoded page
 * the way the writer computed them)? */
static bool values_match(TsfType type, const TsfStats *st, const TsfStats *re)
{
    switch (type) {
    case TSF_BOOLEAN:
        return st->v.b.first == re->v.b.first && st->v.b.last == re->v.b.last && st->v.b.sum == re->v.b.sum;
    case TSF_INT32:
    case TSF_DATE: return same_bits(&st->v.i32, &re->v.i32, sizeof st->v.i32);
    case TSF_INT64:
    case TSF_TIMESTAMP: return same_bits(&st->v.i64, &re->v.i64, sizeof st->v.i64);
    case TSF_FLOAT:
        return st->v.f32.min == re->v.f32.min && st->v.f32.max == re->v.f32.max &&
               same_bits(&st->v.f32.first, &re->v.f32.first, sizeof(float)) &&
               same_bits(&st->v.f32.last, &re->v.f32.last, sizeof(float)) &&
               same_bits(&st->v.f32.sum, &re->v.f32.sum, sizeof(double));
    case TSF_DOUBLE: return same_bits(&st->v.f64, &re->v.f64, sizeof st->v.f64);
    default: return true; /* binary values: no value statistics kept here */
    }
}

/*
 * The TsFile format has no checksums: a damaged page can decompress and
 * decode into other points.  What its statistics say is checked against
 * what was decoded (count, first and last time, times ascending; for
 * numbers also first, last, min, max and sum, recomputed as the writer
 * computes them), so damage becomes an error with a log line naming the
 * file instead of wrong data.  A flip that keeps all of these (a middle
 * value of a text column) cannot be seen.  full: st carries values.
 */
static int page_check(const EngineQuery *q, const Src *s, const TsfPage *p, const TsfStats *st, bool full)
{
    const TsfColumn *col = &s->col;
    size_t n = col->n;
    const char *why = NULL;
    if (n != st->count)
        why = "point count";
    else if (n > 0 && (col->times[0] != st->start || col->times[n - 1] != st->end))
        why = "first or last time";
    for (size_t i = 1; !why && i < n; i++)
        if (col->times[i] <= col->times[i - 1]) why = "times out of order";
    if (!why && full && n > 0 && tsf_type_phys(q->type) != TSF_PHYS_BIN) {
        TsfStats re;
        tsf_stats_init(&re, q->type);
        if (tsf_stats_add(&re, col->times, col->values, n) == 0 && !values_match(q->type, st, &re))
            why = "values";
        tsf_stats_free(&re);
    }
    if (!why) return 0;
    fprintf(stderr,
            "tsfs: %s: page at offset %" PRIu64 " of %s.%s does not match its statistics (%s); not served\n",
            s->file->path, p->offset, q->device, q->measurement, why);
    return TSF_ECORRUPT;
}

/* A chunk that cannot be read: the query fails, and the log says where. */
static void log_bad_chunk(const EngineQuery *q, const Src *s, int rc)
{
    const TsfErr *err = tsf_reader_err(s->file->r);
    fprintf(stderr, "tsfs: %s: chunk at offset %" PRIu64 " of %s.%s unreadable (%s); not served\n",
            s->file->path, s->offset, q->device, q->measurement, err->code ? err->msg : tsf_strerror(rc));
}

/* Loads the next useful page of a chunk source; false when the chunk ends. */
static bool chunk_next_page(EngineQuery *q, Src *s)
{
    if (!s->opened) {
        int rc = tsf_chunk_open(s->file->r, s->offset, &s->chunk);
        if (rc) {
            log_bad_chunk(q, s, rc);
            q->err = rc;
            return false;
        }
        s->opened = true;
    }
    TsfPage p;
    int k;
    while ((k = tsf_chunk_next_page(&s->chunk, &p)) == 1) {
        const TsfStats *st = p.h.has_stats ? &p.h.stats : &s->stats;
        if (st->count == 0 || !tf_overlaps(q->tf, st->start, st->end) ||
            mods_cover(&s->file->mods, q->device, q->measurement, s->offset, st->start, st->end)) {
            q->cnt.pages_skipped++;
            continue;
        }
        q->cnt.pages_decoded++;
        int rc = tsf_page_decode(&s->chunk, &p, &s->col);
        if (rc) log_bad_chunk(q, s, rc);
        if (rc == 0) rc = page_check(q, s, &p, st, p.h.has_stats || s->full_stats);
        if (rc) {
            q->err = rc;
            return false;
        }
        size_t n = s->col.n;
        if (s->file->mods.n)
            n = mods_apply(&s->file->mods, q->device, q->measurement, s->offset, s->col.times, s->col.values,
                           q->esz, n);
        n = filter_block(q, s->col.times, s->col.values, n);
        if (n == 0) continue;
        s->t = s->col.times;
        s->v = s->col.values;
        s->n = n;
        s->pos = 0;
        return true;
    }
    if (k < 0) {
        log_bad_chunk(q, s, k);
        q->err = k;
    }
    return false;
}

/* Makes s point at data (or marks it done).  Returns true when s has a point. */
static bool src_ready(EngineQuery *q, Src *s)
{
    if (s->pos < s->n) return true;
    if (s->kind == SRC_MEM || s->done) return false;
    if (chunk_next_page(q, s)) return true;
    s->done = true;
    tsf_chunk_close(&s->chunk);
    s->opened = false;
    return false;
}

/* ---- opening -------------------------------------------------------------------------- */

static Src *add_src(EngineQuery *q, SrcKind kind)
{
    Src **v = realloc(q->srcs, (q->nsrc + 1) * sizeof(*v));
    if (!v) return NULL;
    q->srcs = v;
    Src *s = calloc(1, sizeof(*s));
    if (!s) return NULL;
    s->kind = kind;
    q->srcs[q->nsrc++] = s;
    return s;
}

static FileRef *add_file(EngineQuery *q, TsfReader *r, const char *path, const Mods *mods)
{
    FileRef **v = realloc(q->files, (q->nfiles + 1) * sizeof(*v));
    if (!v) return NULL;
    q->files = v;
    FileRef *f = calloc(1, sizeof(*f));
    if (!f) return NULL;
    f->path = strdup(path);
    if (!f->path) {
        free(f);
        return NULL;
    }
    f->r = r;
    mods_init(&f->mods);
    for (size_t i = 0; i < mods->n; i++) {
        const Deletion *d = &mods->d[i];
        if (!mods_matches(d, q->device, q->measurement)) continue;
        Deletion *nd = realloc(f->mods.d, (f->mods.n + 1) * sizeof(Deletion));
        if (!nd) break;
        f->mods.d = nd;
        f->mods.d[f->mods.n] = *d;
        f->mods.d[f->mods.n].path = strdup(d->path);
        f->mods.n++;
        f->mods.cap = f->mods.n;
    }
    q->files[q->nfiles++] = f;
    return f;
}

static uint64_t major_of(bool sequence, uint64_t version)
{
    return (sequence ? 0 : (1ull << 63)) | version;
}

static int add_mem_source(EngineQuery *q, const MemTable *m, uint64_t major, uint64_t minor)
{
    MemSeries snap;
    int rc = memtable_snapshot(m, q->device, q->measurement, q->lo, q->hi, &snap);
    if (rc) return rc;
    /* a frozen memtable may carry deletions not applied to it yet */
    memseries_apply_deletes(&snap, m->pending, q->device, q->measurement);
    memseries_apply_deletes(&snap, m->late, q->device, q->measurement);
    size_t n = filter_block(q, snap.times, snap.values, snap.n);
    if (n == 0) {
        memseries_clear(&snap);
        return 0;
    }
    Src *s = add_src(q, SRC_MEM);
    if (!s) {
        memseries_clear(&snap);
        return -ENOMEM;
    }
    s->mem = snap;
    s->t = snap.times;
    s->v = snap.values;
    s->n = n;
    s->prio_major = major;
    s->prio_minor = minor;
    s->done = true;
    return 0;
}

static int add_chunk_source(EngineQuery *q, FileRef *f, uint64_t major, uint64_t offset, const TsfStats *st,
                            bool full_stats)
{
    if (st->count == 0 || !tf_overlaps(q->tf, st->start, st->end) ||
        mods_cover(&f->mods, q->device, q->measurement, offset, st->start, st->end)) {
        q->cnt.chunks_skipped++;
        return 0;
    }
    Src *s = add_src(q, SRC_CHUNK);
    if (!s) return -ENOMEM;
    s->file = f;
    s->offset = offset;
    s->start = st->start < q->lo ? q->lo : st->start;
    s->end = st->end;
    s->stats = *st;
    s->stats.owned = false;
    s->stats.store = (TsfBuf)TSF_BUF_INIT;
    s->prio_major = major;
    s->prio_minor = offset;
    s->full_stats = full_stats;
    return 0;
}

/* Chunks of a file still being written, from its flushes' records. */
static int add_working_file(EngineQuery *q, TsFileProc *proc)
{
    char *key = g_strdup_printf("%s\x01%s", q->device, q->measurement);
    GArray *list = g_hash_table_lookup(proc->chunks, key);
    g_free(key);
    uint64_t major = major_of(proc->sequence, proc->version);
    int rc = 0;
    if (list && list->len) {
        TsfReader *r;
        rc = tsf_reader_open_data(proc->path, &r, NULL);
        if (rc) return rc;
        q->cnt.files_opened++;
        FileRef *f = add_file(q, r, proc->path, &proc->mods);
        if (!f) {
            tsf_reader_close(r);
            return -ENOMEM;
        }
        for (guint i = 0; i < list->len && rc == 0; i++) {
            ChunkRef *c = &g_array_index(list, ChunkRef, i);
            TsfStats st;
            tsf_stats_init(&st, q->type);
            st.count = c->count;
            st.start = c->start;
            st.end = c->end;
            rc = add_chunk_source(q, f, major, c->offset, &st, false);
        }
    }
    /* memtables being flushed (oldest first), then the working one */
    uint64_t minor = UINT64_MAX - 1 - g_queue_get_length(&proc->flushing);
    for (GList *l = proc->flushing.head; l && rc == 0; l = l->next)
        rc = add_mem_source(q, l->data, major, minor++);
    if (rc == 0 && proc->working) rc = add_mem_source(q, proc->working, major, UINT64_MAX);
    return rc;
}

static int add_closed_file(EngineQuery *q, ClosedFile *cf)
{
    const ResDevice *rd = resource_find(&cf->res, q->device);
    if (!rd || !tf_overlaps(q->tf, rd->start, rd->end)) {
        q->cnt.files_skipped++;
        return 0;
    }
    TsfReader *r;
    int rc = tsf_reader_open(cf->path, &r, NULL);
    if (rc) return rc;
    q->cnt.files_opened++;
    TsfSeriesMeta sm;
    rc = tsf_reader_find_series(r, q->device, q->measurement, &sm);
    if (rc == TSF_ENOTFOUND) {
        tsf_reader_close(r);
        return 0;
    }
    if (rc) {
        tsf_reader_close(r);
        return rc;
    }
    FileRef *f = add_file(q, r, cf->path, &cf->mods);
    if (!f) {
        tsf_series_meta_free(&sm);
        tsf_reader_close(r);
        return -ENOMEM;
    }
    uint64_t major = major_of(cf->sequence, cf->version);
    for (size_t i = 0; i < sm.nchunks && rc == 0; i++)
        rc = add_chunk_source(q, f, major, sm.chunks[i].offset, &sm.chunks[i].stats, true);
    /* binary statistics point into sm: pages carry their own, so drop them */
    for (size_t i = 0; i < q->nsrc; i++)
        if (q->srcs[i]->file == f && tsf_type_phys(q->type) == TSF_PHYS_BIN)
            memset(&q->srcs[i]->stats.v, 0, sizeof(q->srcs[i]->stats.v));
    tsf_series_meta_free(&sm);
    return rc;
}

/* Collects the sources of the series under the storage group's lock. */
static int collect_sources(EngineQuery *q, StorageGroup *sg)
{
    Engine *e = q->e;
    int rc = 0;
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        int64_t plo, phi;
        eng_partition_span(e, p->id, &plo, &phi);
        if (!tf_overlaps(q->tf, plo, phi)) {
            q->cnt.files_skipped += p->closed->len;
            continue;
        }
        for (guint i = 0; i < p->closed->len && rc == 0; i++) rc = add_closed_file(q, p->closed->pdata[i]);
        for (guint i = 0; i < p->closing->len && rc == 0; i++) rc = add_working_file(q, p->closing->pdata[i]);
        if (rc == 0 && p->seq) rc = add_working_file(q, p->seq);
        if (rc == 0 && p->unseq) rc = add_working_file(q, p->unseq);
    }
    pthread_mutex_unlock(&sg->lock);
    return rc;
}

/* Sets up q's filter (tf narrowed by the TTL cutoff) and buffers. */
static int query_init(EngineQuery *q, Engine *e, const char *device, const char *measurement, TsfType type,
                      const TimeFilter *tf, int64_t cutoff)
{
    q->e = e;
    q->device = strdup(device);
    q->measurement = strdup(measurement);
    q->type = type;
    q->esz = tsf_type_elem_size(type);
    TimeFilter *base = tf ? tf_or(tf, tf) : tf_all();
    if (base && cutoff != INT64_MIN) {
        TimeFilter *live = tf_ge(cutoff);
        TimeFilter *both = live ? tf_and(base, live) : NULL;
        tf_free(live);
        tf_free(base);
        base = both;
    }
    q->tf = base;
    q->out_t = malloc(OUT_BATCH * sizeof(int64_t));
    q->out_v = malloc(OUT_BATCH * q->esz);
    if (!q->device || !q->measurement || !q->tf || !q->out_t || !q->out_v) return -ENOMEM;
    if (q->tf->n > 0) {
        q->lo = q->tf->r[0].lo;
        q->hi = q->tf->r[q->tf->n - 1].hi;
    }
    return 0;
}

static int query_start(EngineQuery *q)
{
    q->heap = malloc((q->nsrc ? q->nsrc : 1) * sizeof(Src *));
    if (!q->heap) return -ENOMEM;
    for (size_t i = 0; i < q->nsrc; i++) heap_push(q, q->srcs[i]);
    return 0;
}

int query_open_files(Engine *e, const char *device, const char *measurement, TsfType type,
                     ClosedFile *const *files, size_t nfiles, const TimeFilter *tf, int64_t cutoff,
                     EngineQuery **out)
{
    *out = NULL;
    EngineQuery *q = calloc(1, sizeof(*q));
    if (!q) return -ENOMEM;
    int rc = query_init(q, e, device, measurement, type, tf, cutoff);
    for (size_t i = 0; rc == 0 && q->tf->n > 0 && i < nfiles; i++) rc = add_closed_file(q, files[i]);
    if (rc == 0) rc = query_start(q);
    if (rc) {
        engine_query_close(q);
        return rc;
    }
    *out = q;
    return 0;
}

int engine_query_open(Engine *e, const char *device, const char *measurement, const TimeFilter *tf,
                      const ValueFilter *vf, size_t nvf, EngineQuery **out)
{
    *out = NULL;
    const SeriesSchema *ss = schema_get_series(e->schema, device, measurement);
    if (!ss) return -ENOENT;
    char sgname[1024];
    if (schema_sg_of(e->schema, device, sgname, sizeof sgname) != 0) return -ENOENT;
    EngineQuery *q = calloc(1, sizeof(*q));
    if (!q) return -ENOMEM;
    /* the storage group's TTL hides what is older than now - ttl */
    int64_t ttl = schema_get_ttl(e->schema, sgname);
    int rc = query_init(q, e, device, measurement, ss->type, tf, ttl > 0 ? eng_now_ms() - ttl : INT64_MIN);
    if (rc == 0 && nvf) {
        q->vf = malloc(nvf * sizeof(*vf));
        if (q->vf) memcpy(q->vf, vf, nvf * sizeof(*vf));
        q->nvf = nvf;
        if (!q->vf) rc = -ENOMEM;
    }
    StorageGroup *sg = rc ? NULL : eng_sg(e, sgname, false);
    if (rc == 0 && q->tf->n > 0 && sg) rc = collect_sources(q, sg);
    if (rc == 0) rc = query_start(q);
    if (rc) {
        engine_query_close(q);
        return rc;
    }
    *out = q;
    return 0;
}

void engine_query_close(EngineQuery *q)
{
    if (!q) return;
    for (size_t i = 0; i < q->nsrc; i++) {
        Src *s = q->srcs[i];
        if (s->kind == SRC_MEM) memseries_clear(&s->mem);
        if (s->opened) tsf_chunk_close(&s->chunk);
        tsf_column_free(&s->col);
        free(s);
    }
    for (size_t i = 0; i < q->nfiles; i++) {
        tsf_reader_close(q->files[i]->r);
        mods_free(&q->files[i]->mods);
        free(q->files[i]->path);
        free(q->files[i]);
    }
    free(q->srcs);
    free(q->files);
    free(q->heap);
    free(q->out_t);
    free(q->out_v);
    free(q->vf);
    tsf_buf_free(&q->out_bytes);
    tf_free(q->tf);
    free(q->device);
    free(q->measurement);
    free(q);
}

TsfType engine_query_type(const EngineQuery *q)
{
    return q->type;
}
void engine_query_counters(const EngineQuery *q, QueryCounters *c)
{
    *c = q->cnt;
}

/* ---- merging -------------------------------------------------------------------------- */

static double as_double(TsfType type, const uint8_t *v)
{
    switch (tsf_type_phys(type)) {
    case TSF_PHYS_BOOL: return *v ? 1 : 0;
    case TSF_PHYS_I32: {
        int32_t x;
        memcpy(&x, v, 4);
        return x;
    }
    case TSF_PHYS_I64: {
        int64_t x;
        memcpy(&x, v, 8);
        return (double)x;
    }
    case TSF_PHYS_F32: {
        float x;
        memcpy(&x, v, 4);
        return x;
    }
    case TSF_PHYS_F64: {
        double x;
        memcpy(&x, v, 8);
        return x;
    }
    default: return NAN;
    }
}

static bool value_passes(const EngineQuery *q, const uint8_t *v)
{
    if (!q->nvf) return true;
    if (tsf_type_phys(q->type) == TSF_PHYS_BIN) return false;
    double x = as_double(q->type, v);
    for (size_t i = 0; i < q->nvf; i++) {
        double y = q->vf[i].value;
        bool ok;
        switch (q->vf[i].op) {
        case VF_EQ: ok = x == y; break;
        case VF_NE: ok = x != y; break;
        case VF_LT: ok = x < y; break;
        case VF_LE: ok = x <= y; break;
        case VF_GT: ok = x > y; break;
        default: ok = x >= y; break;
        }
        if (!ok) return false;
    }
    return true;
}

/* Appends points [from, to) of s to the batch; returns how many fit. */
static size_t emit(EngineQuery *q, Src *s, size_t from, size_t to, size_t *n)
{
    size_t k = 0;
    for (size_t i = from; i < to && *n < OUT_BATCH; i++, k++) {
        const uint8_t *v = s->v + i * q->esz;
        if (!value_passes(q, v)) continue;
        q->out_t[*n] = s->t[i];
        if (tsf_type_phys(q->type) == TSF_PHYS_BIN) {
            /* page buffers move on: the batch keeps its own copies */
            TsfBin b;
            memcpy(&b, v, sizeof b);
            TsfBin c = {(const uint8_t *)(uintptr_t)q->out_bytes.len, b.len};
            tsf_buf_put(&q->out_bytes, b.ptr, b.len);
            memcpy(q->out_v + *n * q->esz, &c, sizeof c);
        } else {
            memcpy(q->out_v + *n * q->esz, v, q->esz);
        }
        (*n)++;
    }
    return k;
}

static void heapify(EngineQuery *q)
{
    for (size_t i = q->nheap / 2 + 1; i-- > 0;) heap_down(q, i);
}

/* Loads data into heap entry i if it has none (its key was a lower bound);
 * drops it when it has no more.  Returns true when the heap changed. */
static bool load_entry(EngineQuery *q, size_t i)
{
    Src *s = q->heap[i];
    if (s->pos < s->n) return false;
    if (!src_ready(q, s)) {
        q->heap[i] = q->heap[--q->nheap];
    } else {
        s->start = s->t[s->pos];
    }
    heapify(q);
    return true;
}

int engine_query_next(EngineQuery *q, const int64_t **times, const void **values, size_t *count)
{
    size_t n = 0;
    tsf_buf_reset(&q->out_bytes);
    while (n < OUT_BATCH && q->nheap > 0 && q->err == 0) {
        /* the top and any child that may tie with it must hold data */
        if (load_entry(q, 0)) continue;
        Src *s = q->heap[0];
        int64_t t = s->t[s->pos];
        bool changed = false;
        for (size_t c = 1; c <= 2 && c < q->nheap && !changed; c++)
            if (src_key(q->heap[c]) <= t) changed = load_entry(q, c);
        if (changed) continue;
        int64_t limit = INT64_MAX;
        bool others = false;
        for (size_t c = 1; c <= 2 && c < q->nheap; c++) {
            int64_t k = src_key(q->heap[c]);
            if (!others || k < limit) limit = k;
            others = true;
        }
        if (others && limit == t) {
            /* the same time in several sources: s is the newest (heap order);
             * every other source skips it */
            if (emit(q, s, s->pos, s->pos + 1, &n) == 0) break;
            s->pos++;
            bool again = true;
            while (again && q->err == 0) {
                again = false;
                for (size_t c = 0; c < q->nheap; c++) {
                    Src *o = q->heap[c];
                    if (o == s || src_key(o) != t) continue;
                    if (o->pos >= o->n) {
                        load_entry(q, c);
                        again = true;
                        break;
                    }
                    o->pos++;
                    again = true;
                }
            }
            for (size_t c = 0; c < q->nheap;) { /* drop or refill emptied sources */
                if (q->heap[c]->pos >= q->heap[c]->n && q->heap[c] != s) {
                    if (!src_ready(q, q->heap[c])) {
                        q->heap[c] = q->heap[--q->nheap];
                        continue;
                    }
                }
                c++;
            }
            heapify(q);
            continue;
        }
        /* a run: every point of s before the next source's time */
        size_t end = s->n;
        if (others) {
            size_t lo = s->pos, hi = s->n;
            while (lo < hi) {
                size_t mid = (lo + hi) / 2;
                if (s->t[mid] < limit)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            end = lo;
        }
        size_t got = emit(q, s, s->pos, end, &n);
        s->pos += got;
        if (got == 0) break;
        if (s->pos >= s->n && !src_ready(q, s)) {
            heap_pop(q);
            continue;
        }
        heap_down(q, 0);
    }
    if (q->err) return q->err;
    if (tsf_type_phys(q->type) == TSF_PHYS_BIN) {
        TsfBin *b = (TsfBin *)q->out_v;
        for (size_t i = 0; i < n; i++) b[i].ptr = q->out_bytes.data + (uintptr_t)b[i].ptr;
    }
    *times = q->out_t;
    *values = q->out_v;
    *count = n;
    return 0;
}

/* ---- aggregations ---------------------------------------------------------------------- */

/* Folds one value at time t into out. */
static void agg_add(Aggregates *out, int64_t t, double x, uint64_t count, double sum, double mn, double mx,
                    int64_t t_last, double last)
{
    if (out->count == 0 || t < out->first_time) {
        out->first_time = t;
        out->first = x;
    }
    if (out->count == 0 || t_last > out->last_time) {
        out->last_time = t_last;
        out->last = last;
    }
    if (out->count == 0 || mn < out->min) out->min = mn;
    if (out->count == 0 || mx > out->max) out->max = mx;
    out->sum += sum;
    out->count += count;
}

/* Can chunk source s be answered from its statistics alone?  Its values
 * must be in the statistics, the filter must take its whole time range, no
 * deletion may touch it, and no other source may overlap it (else a newer
 * write could replace one of its points). */
static bool stats_answer(const EngineQuery *q, const Src *s)
{
    if (s->kind != SRC_CHUNK || !s->full_stats || s->stats.count == 0) return false;
    int64_t lo = s->stats.start, hi = s->stats.end;
    bool inside = false;
    for (size_t i = 0; i < q->tf->n && !inside; i++) inside = q->tf->r[i].lo <= lo && hi <= q->tf->r[i].hi;
    if (!inside) return false;
    for (size_t i = 0; i < s->file->mods.n; i++) {
        const Deletion *d = &s->file->mods.d[i];
        if ((uint64_t)d->file_offset > s->offset && d->start <= hi && lo <= d->end) return false;
    }
    for (size_t i = 0; i < q->nsrc; i++) {
        const Src *o = q->srcs[i];
        if (o == s) continue;
        int64_t olo = o->kind == SRC_MEM ? o->t[0] : o->stats.start;
        int64_t ohi = o->kind == SRC_MEM ? o->t[o->n - 1] : o->stats.end;
        if (o->kind == SRC_CHUNK && o->stats.count == 0) continue;
        if (olo <= hi && lo <= ohi) return false;
    }
    return true;
}

static void stats_fold(Aggregates *out, const TsfStats *st)
{
    switch (st->type) {
    case TSF_INT32:
    case TSF_DATE:
        agg_add(out, st->start, st->v.i32.first, st->count, (double)st->v.i32.sum, st->v.i32.min,
                st->v.i32.max, st->end, st->v.i32.last);
        break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
        agg_add(out, st->start, (double)st->v.i64.first, st->count, st->v.i64.sum, (double)st->v.i64.min,
                (double)st->v.i64.max, st->end, (double)st->v.i64.last);
        break;
    case TSF_FLOAT:
        agg_add(out, st->start, st->v.f32.first, st->count, st->v.f32.sum, st->v.f32.min, st->v.f32.max,
                st->end, st->v.f32.last);
        break;
    case TSF_DOUBLE:
        agg_add(out, st->start, st->v.f64.first, st->count, st->v.f64.sum, st->v.f64.min, st->v.f64.max,
                st->end, st->v.f64.last);
        break;
    case TSF_BOOLEAN:
        agg_add(out, st->start, st->v.b.first, st->count, (double)st->v.b.sum,
                st->v.b.sum < (int64_t)st->count ? 0 : 1, st->v.b.sum > 0 ? 1 : 0, st->end, st->v.b.last);
        break;
    default: break;
    }
}

int engine_aggregate(Engine *e, const char *device, const char *measurement, const TimeFilter *tf,
                     Aggregates *out)
{
    memset(out, 0, sizeof(*out));
    EngineQuery *q;
    int rc = engine_query_open(e, device, measurement, tf, NULL, 0, &q);
    if (rc) return rc;
    /* chunks that statistics answer leave the merge undecoded */
    if (tsf_type_phys(q->type) != TSF_PHYS_BIN) {
        size_t keep = 0;
        for (size_t i = 0; i < q->nheap; i++) {
            Src *s = q->heap[i];
            if (stats_answer(q, s)) {
                stats_fold(out, &s->stats);
                q->cnt.chunks_from_stats++;
            } else {
                q->heap[keep++] = s;
            }
        }
        q->nheap = keep;
        heapify(q);
    }
    const int64_t *t;
    const void *v;
    size_t n;
    bool numeric = tsf_type_phys(q->type) != TSF_PHYS_BIN;
    while ((rc = engine_query_next(q, &t, &v, &n)) == 0 && n > 0) {
        for (size_t i = 0; i < n; i++) {
            double x = numeric ? as_double(q->type, (const uint8_t *)v + i * q->esz) : NAN;
            agg_add(out, t[i], x, 1, numeric ? x : 0, x, x, t[i], x);
        }
    }
    out->avg = out->count ? out->sum / (double)out->count : NAN;
    out->chunks_from_stats = q->cnt.chunks_from_stats;
    out->pages_decoded = q->cnt.pages_decoded;
    engine_query_close(q);
    return rc;
}

/* ---- device rows ------------------------------------------------------------------------- */

typedef struct RowCol {
    EngineQuery *q;
    const int64_t *t;
    const uint8_t *v;
    size_t n, pos;
    bool done;
    _Alignas(8) uint8_t cur[16]; /* the value handed out for the current row */
} RowCol;

struct EngineRows {
    RowCol *c;
    size_t n;
};

int engine_rows_open(Engine *e, const char *device, const char *const *measurements, size_t n,
                     const TimeFilter *tf, EngineRows **out)
{
    *out = NULL;
    EngineRows *r = calloc(1, sizeof(*r));
    if (!r) return -ENOMEM;
    r->c = calloc(n ? n : 1, sizeof(RowCol));
    r->n = n;
    int rc = r->c ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = engine_query_open(e, device, measurements[i], tf, NULL, 0, &r->c[i].q);
    if (rc) {
        engine_rows_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

static int rowcol_fill(RowCol *c)
{
    if (c->done || c->pos < c->n) return 0;
    const int64_t *t;
    const void *v;
    size_t n;
    int rc = engine_query_next(c->q, &t, &v, &n);
    if (rc) return rc;
    c->t = t;
    c->v = v;
    c->n = n;
    c->pos = 0;
    if (n == 0) c->done = true;
    return 0;
}

int engine_rows_next(EngineRows *r, int64_t *t, const void **values)
{
    int64_t best = INT64_MAX;
    bool any = false;
    for (size_t i = 0; i < r->n; i++) {
        int rc = rowcol_fill(&r->c[i]);
        if (rc) return rc;
        if (!r->c[i].done && (!any || r->c[i].t[r->c[i].pos] < best)) {
            best = r->c[i].t[r->c[i].pos];
            any = true;
        }
    }
    if (!any) return 0;
    for (size_t i = 0; i < r->n; i++) {
        RowCol *c = &r->c[i];
        values[i] = NULL;
        if (c->done || c->t[c->pos] != best) continue;
        size_t esz = c->q->esz;
        memcpy(c->cur, c->v + c->pos * esz, esz);
        values[i] = c->cur;
        c->pos++;
    }
    *t = best;
    return 1;
}

TsfType engine_rows_type(const EngineRows *r, size_t i)
{
    return r->c[i].q->type;
}

void engine_rows_close(EngineRows *r)
{
    if (!r) return;
    for (size_t i = 0; r->c && i < r->n; i++) engine_query_close(r->c[i].q);
    free(r->c);
    free(r);
}
