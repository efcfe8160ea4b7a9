/*
 * recover.c: reopening a TsFile that was never closed (spec §8.2).
 *
 * The data section is walked record by record.  A chunk group is trusted
 * only once something follows it: another chunk group header, a plan-index
 * record or the separator.  Every chunk of a trusted group is decoded to
 * rebuild its statistics (page headers of single-page chunks carry none),
 * and for aligned groups the time chunk's timestamps are kept for the value
 * chunks that follow it.  The file is truncated after the last trusted
 * record and handed back as a writer positioned at its end, in the file's
 * own format version.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_scan.h"
#include "reader.h"
#include "writer_int.h"

typedef struct RChunk {
    char *name;
    TsfType type;
    uint8_t mask;
    uint64_t offset;
    TsfStats stats;
} RChunk;

typedef struct RGroup {
    char *device;
    bool aligned;
    RChunk *chunks;
    size_t n, cap;
    /* times of the group's time chunk, page by page (aligned groups) */
    int64_t **page_times;
    size_t *page_rows;
    size_t npages;
} RGroup;

static void group_clear(RGroup *g)
{
    for (size_t i = 0; i < g->n; i++) {
        free(g->chunks[i].name);
        tsf_stats_free(&g->chunks[i].stats);
    }
    for (size_t i = 0; i < g->npages; i++) free(g->page_times[i]);
    free(g->page_times);
    free(g->page_rows);
    free(g->chunks);
    free(g->device);
    memset(g, 0, sizeof(*g));
}

/* Decodes every page of the chunk at rec to rebuild its statistics. */
static int chunk_stats(TsfReader *r, RGroup *g, const TsfRecord *rec, TsfStats *st)
{
    TsfChunk c;
    int rc = tsf_chunk_open(r, rec->offset, &c);
    if (rc) return rc;
    bool is_time = c.h.marker & TSF_MASK_TIME_COLUMN, is_value = c.h.marker & TSF_MASK_VALUE_COLUMN;
    TsfColumn col = {0};
    TsfPage p;
    size_t page = 0;
    tsf_stats_init(st, c.h.type);
    if (is_time) {
        for (size_t i = 0; i < g->npages; i++) free(g->page_times[i]);
        g->npages = 0;
    }
    while (rc == 0 && (rc = tsf_chunk_next_page(&c, &p)) == 1) {
        rc = 0;
        if (is_time) {
            rc = tsf_time_page_decode(&c, &p, &col);
            if (rc) break;
            int64_t **pt = realloc(g->page_times, (g->npages + 1) * sizeof(*pt));
            size_t *pr = pt ? realloc(g->page_rows, (g->npages + 1) * sizeof(*pr)) : NULL;
            if (pt) g->page_times = pt;
            if (pr) g->page_rows = pr;
            int64_t *copy = malloc((col.n ? col.n : 1) * sizeof(int64_t));
            if (!pt || !pr || !copy) {
                free(copy);
                rc = -ENOMEM;
                break;
            }
            memcpy(copy, col.times, col.n * sizeof(int64_t));
            g->page_times[g->npages] = copy;
            g->page_rows[g->npages++] = col.n;
            rc = tsf_stats_add(st, col.times, NULL, col.n);
        } else if (is_value) {
            if (page >= g->npages) {
                rc = TSF_ECORRUPT;
                break;
            }
            rc = tsf_value_page_decode(&c, &p, g->page_times[page], g->page_rows[page], &col);
            if (rc == 0) rc = tsf_stats_add(st, col.times, col.values, col.n);
        } else {
            rc = tsf_page_decode(&c, &p, &col);
            if (rc == 0) rc = tsf_stats_add(st, col.times, col.values, col.n);
        }
        page++;
    }
    tsf_column_free(&col);
    tsf_chunk_close(&c);
    return rc < 0 ? rc : 0;
}

static int group_add_chunk(TsfReader *r, RGroup *g, const TsfRecord *rec)
{
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 8;
        RChunk *c = realloc(g->chunks, cap * sizeof(*c));
        if (!c) return -ENOMEM;
        g->chunks = c;
        g->cap = cap;
    }
    RChunk *c = &g->chunks[g->n];
    memset(c, 0, sizeof(*c));
    int rc = chunk_stats(r, g, rec, &c->stats);
    if (rc) {
        tsf_stats_free(&c->stats);
        return rc;
    }
    c->name = strndup((const char *)rec->name.data, rec->name.len);
    c->type = rec->chunk.type;
    c->mask = rec->chunk.marker & 0xc0;
    c->offset = rec->offset;
    if (c->mask) g->aligned = true;
    g->n++;
    return c->name ? 0 : -ENOMEM;
}

/* Registers a trusted group's chunks with the writer's metadata. */
static int commit_group(TsfWriter *w, RGroup *g)
{
    if (!g->device) return 0;
    WDevice *d = tsf_w_device(w, g->device, strlen(g->device), g->aligned);
    for (size_t i = 0; d && i < g->n && !w->rc; i++) {
        RChunk *c = &g->chunks[i];
        WSeries *s = tsf_w_series(w, d, c->name, strlen(c->name), c->type, c->mask);
        if (s) tsf_w_add_chunk(w, s, c->offset, &c->stats);
    }
    group_clear(g);
    return w->rc;
}

int tsf_writer_recover(const char *path, const TsfWriterOpts *opts, TsfWriter **out, TsfRecoverInfo *info,
                       TsfErr *err)
{
    *out = NULL;
    TsfRecoverInfo ri = {0, false, INT64_MAX, INT64_MIN};
    TsfReader *r;
    int rc = tsf_reader_open_data(path, &r, err);
    if (rc) return rc;
    TsfWriterOpts o;
    if (opts)
        o = *opts;
    else
        tsf_writer_opts_default(&o);
    o.version = tsf_reader_version(r);
    TsfWriter *w = tsf_w_alloc(&o);
    if (!w) {
        tsf_reader_close(r);
        return -ENOMEM;
    }
    uint64_t pos = TSF_HEAD_LEN, keep = TSF_HEAD_LEN;
    RGroup g = {0};
    TsfRecord rec = {0};
    for (;;) {
        int k = tsf_data_next(r, &pos, &rec);
        if (k <= 0) break; /* end of file or a torn record: drop the open group */
        if (rec.kind == TSF_REC_CHUNK_GROUP) {
            if (commit_group(w, &g)) break;
            keep = rec.offset;
            g.device = strdup((const char *)rec.device.data);
            if (!g.device) break;
        } else if (rec.kind == TSF_REC_CHUNK) {
            if (!g.device || group_add_chunk(r, &g, &rec) != 0) break;
        } else if (rec.kind == TSF_REC_PLAN_INDEX) {
            if (commit_group(w, &g)) break;
            keep = rec.next;
            ri.has_plan_index = true;
            if (rec.plan_min < ri.min_plan_index) ri.min_plan_index = rec.plan_min;
            if (rec.plan_max > ri.max_plan_index) ri.max_plan_index = rec.plan_max;
        } else { /* separator: the data section ended cleanly */
            commit_group(w, &g);
            keep = rec.offset;
            break;
        }
    }
    group_clear(&g);
    tsf_record_free(&rec);
    tsf_reader_close(r);
    if (w->rc) {
        rc = w->rc;
        if (err) *err = w->err;
        tsf_w_free(w);
        return rc;
    }
    w->path = strdup(path);
    w->fd = open(path, O_WRONLY | O_CLOEXEC);
    if (!w->path || w->fd < 0 || ftruncate(w->fd, (off_t)keep) != 0 ||
        lseek(w->fd, (off_t)keep, SEEK_SET) < 0) {
        rc = w->path ? -errno : -ENOMEM;
        if (err) tsf_err_set(err, rc, (int64_t)keep, "cannot truncate %s: %s", path, tsf_strerror(rc));
        tsf_w_free(w);
        return rc;
    }
    w->flushed = keep;
    ri.kept_bytes = keep;
    if (info) *info = ri;
    *out = w;
    return 0;
}
