/*
 * writer.c: the streaming TsFile writer (see writer.h for the contract).
 *
 * DESIGN
 * Each open column has a ColBuilder holding the open page as plain arrays
 * (times, values) and the chunk built so far as serialized page bytes.  A
 * page is sealed when it reaches page_max_points, or when its encoded size
 * reaches page_max_bytes.  The size is measured, not guessed: when a cheap
 * estimate (points x bytes-per-point of earlier pages, or raw bytes before
 * any page) says the limit is near, the page body is built and its length
 * checked; if it is still small the measured ratio raises the next check.
 *
 * Page statistics go into the page header only when the chunk ends up with
 * several pages (spec §2.3).  The first page is written without them; when a
 * second page is sealed they are inserted after the first page's size
 * fields, like the reference writer does, so a chunk is produced in one pass.
 *
 * Bytes for the file accumulate in w->out and are written with write(2)
 * once it holds a megabyte, at tsf_writer_sync and at close.
 */
#include "writer_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "metadata.h"

#define OUT_FLUSH_BYTES (1u << 20)
/* First point count at which a page's size is measured (the reference's
 * MINIMUM_RECORD_COUNT_FOR_CHECK). */
#define FIRST_SIZE_CHECK 1500

void tsf_writer_opts_default(TsfWriterOpts *o)
{
    o->version = 3;
    o->page_max_points = 10000;
    o->page_max_bytes = 65536;
    o->float_precision = TSF_DEFAULT_FLOAT_PRECISION;
    o->time_compression = TSF_COMP_LZ4;
    o->max_degree = 256;
    o->fsync = false;
}

int tsf_w_fail(TsfWriter *w, int rc, const char *fmt, ...)
{
    if (w->rc) return w->rc;
    w->rc = rc;
    w->err.code = rc;
    w->err.offset = (int64_t)tsf_w_pos(w);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err.msg, sizeof(w->err.msg), fmt, ap);
    va_end(ap);
    return rc;
}

const TsfErr *tsf_writer_err(const TsfWriter *w)
{
    return &w->err;
}

void tsf_writer_foreach_device(const TsfWriter *w,
                               void (*fn)(void *ctx, const char *device, int64_t start, int64_t end),
                               void *ctx)
{
    for (guint i = 0; i < w->device_list->len; i++) {
        const WDevice *d = w->device_list->pdata[i];
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (guint k = 0; k < d->series->len; k++) {
            const WSeries *s = d->series->pdata[k];
            if (s->stats.count == 0) continue;
            if (s->stats.start < lo) lo = s->stats.start;
            if (s->stats.end > hi) hi = s->stats.end;
        }
        if (lo <= hi) fn(ctx, d->path, lo, hi);
    }
}
uint64_t tsf_writer_position(const TsfWriter *w)
{
    return tsf_w_pos(w);
}

/* ---- registry of devices and series -------------------------------------- */

static void series_free(gpointer p)
{
    WSeries *s = p;
    for (size_t i = 0; i < s->nchunks; i++) tsf_stats_free(&s->chunks[i].stats);
    free(s->chunks);
    tsf_stats_free(&s->stats);
    free(s->name);
    free(s);
}

static void device_free(gpointer p)
{
    WDevice *d = p;
    g_hash_table_destroy(d->by_name);
    g_ptr_array_free(d->series, TRUE);
    free(d->path);
    free(d);
}

TsfWriter *tsf_w_alloc(const TsfWriterOpts *opts)
{
    TsfWriter *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->fd = -1;
    if (opts)
        w->o = *opts;
    else
        tsf_writer_opts_default(&w->o);
    if (w->o.version != 4) w->o.version = 3;
    if (w->o.page_max_points == 0) w->o.page_max_points = 10000;
    if (w->o.page_max_bytes == 0) w->o.page_max_bytes = 65536;
    if (w->o.max_degree < 2) w->o.max_degree = 256;
    w->enc_opts.float_precision = w->o.float_precision;
    w->err.offset = -1;
    w->devices = g_hash_table_new(g_str_hash, g_str_equal);
    w->device_list = g_ptr_array_new_with_free_func(device_free);
    return w;
}

WDevice *tsf_w_device(TsfWriter *w, const char *path, size_t len, bool aligned)
{
    WDevice *d = g_hash_table_lookup(w->devices, path);
    if (d) {
        if (d->aligned != aligned) {
            tsf_w_fail(w, TSF_EINVAL, "device %s written both aligned and not", path);
            return NULL;
        }
        return d;
    }
    d = calloc(1, sizeof(*d));
    if (!d || !(d->path = strndup(path, len))) {
        free(d);
        tsf_w_fail(w, -ENOMEM, "out of memory");
        return NULL;
    }
    d->path_len = len;
    d->aligned = aligned;
    d->series = g_ptr_array_new_with_free_func(series_free);
    d->by_name = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(w->devices, d->path, d);
    g_ptr_array_add(w->device_list, d);
    return d;
}

WSeries *tsf_w_series(TsfWriter *w, WDevice *d, const char *name, size_t len, TsfType type, uint8_t mask)
{
    WSeries *s = g_hash_table_lookup(d->by_name, name);
    if (s) {
        if (s->type != type || s->mask != mask) {
            tsf_w_fail(w, TSF_EINVAL, "series %s.%s written with two data types", d->path, name);
            return NULL;
        }
        return s;
    }
    s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strndup(name, len))) {
        free(s);
        tsf_w_fail(w, -ENOMEM, "out of memory");
        return NULL;
    }
    s->name_len = len;
    s->type = type;
    s->mask = mask;
    tsf_stats_init(&s->stats, type);
    g_hash_table_insert(d->by_name, s->name, s);
    g_ptr_array_add(d->series, s);
    return s;
}

int tsf_w_add_chunk(TsfWriter *w, WSeries *s, uint64_t offset, const TsfStats *st)
{
    if (s->nchunks == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        WChunkMeta *c = realloc(s->chunks, cap * sizeof(*c));
        if (!c) return tsf_w_fail(w, -ENOMEM, "out of memory");
        s->chunks = c;
        s->cap = cap;
    }
    WChunkMeta *m = &s->chunks[s->nchunks];
    m->offset = offset;
    int rc = tsf_stats_copy(&m->stats, st);
    if (rc == 0) rc = tsf_stats_merge(&s->stats, st);
    if (rc) return tsf_w_fail(w, rc, "out of memory");
    s->nchunks++;
    w->total_chunks++;
    return 0;
}

/* ---- file output ------------------------------------------------------------ */

static int write_all(TsfWriter *w, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(w->fd, p, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return tsf_w_fail(w, -errno, "write %s: %s", w->path, strerror(errno));
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static int out_flush(TsfWriter *w)
{
    if (w->rc) return w->rc;
    if (w->out.err) return tsf_w_fail(w, w->out.err, "out of memory");
    if (w->out.len == 0) return 0;
    int rc = write_all(w, w->out.data, w->out.len);
    if (rc) return rc;
    w->flushed += w->out.len;
    tsf_buf_reset(&w->out);
    return 0;
}

static int out_maybe_flush(TsfWriter *w)
{
    return w->out.len >= OUT_FLUSH_BYTES ? out_flush(w) : w->rc;
}

int tsf_writer_open(const char *path, const TsfWriterOpts *opts, TsfWriter **out)
{
    *out = NULL;
    TsfWriter *w = tsf_w_alloc(opts);
    if (!w) return -ENOMEM;
    w->path = strdup(path);
    w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0 || !w->path) {
        int rc = w->path ? -errno : -ENOMEM;
        tsf_w_free(w);
        return rc;
    }
    tsf_buf_put(&w->out, TSF_MAGIC, TSF_MAGIC_LEN);
    tsf_buf_put_u8(&w->out, (uint8_t)w->o.version);
    *out = w;
    return 0;
}

/* ---- column builders ------------------------------------------------------- */

static void cb_free(ColBuilder *cb)
{
    free(cb->times);
    free(cb->values);
    free(cb->bitmap);
    tsf_buf_free(&cb->arena);
    tsf_buf_free(&cb->pages);
    tsf_stats_free(&cb->first_page_stats);
    tsf_stats_free(&cb->chunk_stats);
    memset(cb, 0, sizeof(*cb));
}

static void cb_init(ColBuilder *cb, WSeries *s, TsfType type, TsfEncoding enc, TsfCompression comp,
                    uint8_t mask)
{
    memset(cb, 0, sizeof(*cb));
    cb->series = s;
    cb->type = type;
    cb->enc = enc;
    cb->comp = comp;
    cb->mask = mask;
    tsf_stats_init(&cb->first_page_stats, type);
    tsf_stats_init(&cb->chunk_stats, type);
    cb->next_check = FIRST_SIZE_CHECK;
}

static int cb_reserve(TsfWriter *w, ColBuilder *cb, size_t need)
{
    if (need <= cb->cap) return 0;
    size_t cap = cb->cap ? cb->cap : 256;
    while (cap < need) cap *= 2;
    size_t esz = cb->type == TSF_VECTOR ? 0 : tsf_type_elem_size(cb->type);
    int64_t *t = realloc(cb->times, cap * sizeof(int64_t));
    if (t) cb->times = t;
    uint8_t *v = esz ? realloc(cb->values, cap * esz) : cb->values;
    if (v) cb->values = v;
    if (!t || (esz && !v)) return tsf_w_fail(w, -ENOMEM, "out of memory");
    cb->cap = cap;
    return 0;
}

/* Appends one value (at index src of a caller array) and its time. */
static void cb_push(ColBuilder *cb, int64_t t, const void *values, size_t src)
{
    cb->times[cb->n] = t;
    if (cb->type != TSF_VECTOR) {
        size_t esz = tsf_type_elem_size(cb->type);
        if (tsf_type_phys(cb->type) == TSF_PHYS_BIN) {
            const TsfBin *b = (const TsfBin *)values + src;
            TsfBin stored = {(const uint8_t *)(uintptr_t)cb->arena.len, b->len};
            tsf_buf_put(&cb->arena, b->ptr, b->len);
            memcpy(cb->values + cb->n * esz, &stored, esz);
        } else {
            memcpy(cb->values + cb->n * esz, (const uint8_t *)values + src * esz, esz);
        }
    }
    cb->n++;
}

/* Binary values hold arena offsets while the page is open (the arena may
 * move); these two switch them to pointers and back around encoding. */
static void cb_bins_to_ptrs(ColBuilder *cb, bool to_ptrs)
{
    if (tsf_type_phys(cb->type) != TSF_PHYS_BIN) return;
    TsfBin *b = (TsfBin *)cb->values;
    for (size_t i = 0; i < cb->n; i++) {
        uintptr_t off = to_ptrs ? (uintptr_t)b[i].ptr : (uintptr_t)(b[i].ptr - cb->arena.data);
        b[i].ptr = to_ptrs ? cb->arena.data + off : (const uint8_t *)off;
    }
}

static void bitmap_set(ColBuilder *cb, uint32_t row, bool present)
{
    if (present) cb->bitmap[row >> 3] |= (uint8_t)(0x80u >> (row & 7));
}

static int cb_reserve_bitmap(TsfWriter *w, ColBuilder *cb, uint32_t rows)
{
    size_t need = ((size_t)rows + 7) / 8;
    if (need <= cb->bitmap_cap) return 0;
    size_t cap = cb->bitmap_cap ? cb->bitmap_cap : 64;
    while (cap < need) cap *= 2;
    uint8_t *b = realloc(cb->bitmap, cap);
    if (!b) return tsf_w_fail(w, -ENOMEM, "out of memory");
    memset(b + cb->bitmap_cap, 0, cap - cb->bitmap_cap);
    cb->bitmap = b;
    cb->bitmap_cap = cap;
    return 0;
}

/* Builds the uncompressed body of cb's open page into w->body.
 * rows: aligned value columns only (rows of the page, for the bitmap). */
static int cb_build_body(TsfWriter *w, ColBuilder *cb, uint32_t rows)
{
    int rc;
    tsf_buf_reset(&w->body);
    tsf_buf_reset(&w->tbuf);
    cb_bins_to_ptrs(cb, true);
    if (cb->mask == TSF_MASK_TIME_COLUMN) {
        rc = tsf_encode(TSF_ENC_TS_2DIFF, TSF_INT64, cb->times, cb->n, &w->enc_opts, &w->body);
    } else if (cb->mask == TSF_MASK_VALUE_COLUMN) {
        tsf_buf_put_be32(&w->body, rows);
        tsf_buf_put(&w->body, cb->bitmap, ((size_t)rows + 7) / 8);
        rc = tsf_encode(cb->enc, cb->type, cb->values, cb->n, &w->enc_opts, &w->body);
    } else {
        rc = tsf_encode(TSF_ENC_TS_2DIFF, TSF_INT64, cb->times, cb->n, &w->enc_opts, &w->tbuf);
        if (rc == 0) {
            tsf_buf_put_uvarint(&w->body, (uint32_t)w->tbuf.len);
            tsf_buf_put(&w->body, w->tbuf.data, w->tbuf.len);
            rc = tsf_encode(cb->enc, cb->type, cb->values, cb->n, &w->enc_opts, &w->body);
        }
    }
    if (rc == 0 && w->body.err) rc = w->body.err;
    if (rc) {
        cb_bins_to_ptrs(cb, false);
        return tsf_w_fail(w, rc, "cannot encode %s as %s: %s", tsf_type_name(cb->type),
                          tsf_encoding_name(cb->enc), tsf_strerror(rc));
    }
    return 0;
}

/* Compresses w->body and appends the page to cb's chunk; empties the page.
 * Expects cb_build_body to have just run (binary values are pointers). */
/* The first page was written without statistics; now that the chunk has
 * another page, they go in after its size fields. */
static void cb_insert_first_stats(ColBuilder *cb)
{
    if (!cb->first_stats_pending) return;
    cb->first_stats_pending = false;
    TsfBuf st = TSF_BUF_INIT;
    tsf_stats_write(&cb->first_page_stats, &st);
    if (!st.err && tsf_buf_reserve(&cb->pages, st.len)) {
        uint8_t *at = cb->pages.data + cb->first_sizes_end;
        memmove(at + st.len, at, cb->pages.len - cb->first_sizes_end);
        memcpy(at, st.data, st.len);
        cb->pages.len += st.len;
    } else {
        cb->pages.err = -ENOMEM;
    }
    tsf_buf_free(&st);
}

static int cb_commit_page(TsfWriter *w, ColBuilder *cb)
{
    int rc = 0;
    if (cb->mask == TSF_MASK_VALUE_COLUMN && cb->n == 0) {
        cb_insert_first_stats(cb);
        tsf_buf_put_u8(&cb->pages, 0); /* empty page: all rows null */
        cb->npages++;
        goto reset;
    }
    TsfStats ps;
    tsf_stats_init(&ps, cb->type);
    rc = tsf_stats_add(&ps, cb->times, cb->values, cb->n);
    const uint8_t *stored = w->body.data;
    size_t stored_len = w->body.len;
    if (rc == 0 && cb->comp != TSF_COMP_UNCOMPRESSED) {
        tsf_buf_reset(&w->cbuf);
        rc = tsf_compress(cb->comp, w->body.data, w->body.len, &w->cbuf);
        stored = w->cbuf.data;
        stored_len = w->cbuf.len;
    }
    if (rc) {
        tsf_stats_free(&ps);
        cb_bins_to_ptrs(cb, false);
        return tsf_w_fail(w, rc, "cannot compress page: %s", tsf_strerror(rc));
    }
    cb_insert_first_stats(cb);
    tsf_buf_put_uvarint(&cb->pages, (uint32_t)w->body.len);
    tsf_buf_put_uvarint(&cb->pages, (uint32_t)stored_len);
    if (cb->npages == 0) {
        cb->first_sizes_end = cb->pages.len;
        cb->first_stats_pending = true;
        tsf_stats_free(&cb->first_page_stats);
        rc = tsf_stats_copy(&cb->first_page_stats, &ps);
    } else {
        tsf_stats_write(&ps, &cb->pages);
    }
    tsf_buf_put(&cb->pages, stored, stored_len);
    if (rc == 0) rc = tsf_stats_merge(&cb->chunk_stats, &ps);
    tsf_stats_free(&ps);
    if (rc == 0 && cb->pages.err) rc = cb->pages.err;
    if (rc) return tsf_w_fail(w, rc, "out of memory");
    cb->npages++;
    cb->nonempty_pages++;
reset:
    cb->next_check = FIRST_SIZE_CHECK;
    cb->n = 0;
    tsf_buf_reset(&cb->arena);
    if (cb->bitmap) memset(cb->bitmap, 0, cb->bitmap_cap);
    return 0;
}

/* Measures the open page when it has reached its next check point, like the
 * reference does: over page_max_bytes, the page is sealed (returns true);
 * otherwise the next check is planned where the measured bytes per point
 * say the limit will be reached. */
static bool cb_page_full(TsfWriter *w, ColBuilder *cb, uint32_t rows)
{
    if (cb->n == 0 || cb->n < cb->next_check) return false;
    if (cb_build_body(w, cb, rows)) return false;
    cb_bins_to_ptrs(cb, false);
    if (w->body.len > w->o.page_max_bytes) return true;
    size_t next = (size_t)((float)w->o.page_max_bytes / (float)w->body.len * (float)cb->n);
    cb->next_check = next > cb->n ? next : cb->n + 1;
    return false;
}

static int cb_seal(TsfWriter *w, ColBuilder *cb, uint32_t rows)
{
    if (cb_build_body(w, cb, rows)) return w->rc;
    return cb_commit_page(w, cb);
}

/* Writes the finished chunk of cb to the file and records its metadata. */
static int cb_finish_chunk(TsfWriter *w, ColBuilder *cb)
{
    if (cb->npages == 0) return w->rc;
    uint64_t offset = tsf_w_pos(w);
    bool all_null = cb->nonempty_pages == 0;
    uint8_t marker =
        (uint8_t)(((cb->npages > 1 && !all_null) ? TSF_MARK_CHUNK : TSF_MARK_ONE_PAGE_CHUNK) | cb->mask);
    size_t data_len = all_null ? 0 : cb->pages.len;
    TsfEncoding enc = cb->mask == TSF_MASK_TIME_COLUMN ? TSF_ENC_TS_2DIFF : cb->enc;
    tsf_chunk_header_write(&w->out, marker, cb->series->name, cb->series->name_len, (uint32_t)data_len,
                           cb->type, cb->comp, enc);
    tsf_buf_put(&w->out, cb->pages.data, data_len);
    int rc = tsf_w_add_chunk(w, cb->series, offset, &cb->chunk_stats);
    tsf_buf_reset(&cb->pages);
    cb->npages = cb->nonempty_pages = 0;
    cb->first_stats_pending = false;
    tsf_stats_free(&cb->chunk_stats);
    tsf_stats_init(&cb->chunk_stats, cb->type);
    return rc ? rc : out_maybe_flush(w);
}

/* ---- non-aligned groups ----------------------------------------------------- */

static bool name_ok(const char *s)
{
    return s && *s;
}

int tsf_writer_begin_group(TsfWriter *w, const char *device)
{
    if (w->rc) return w->rc;
    if (w->dev) return tsf_w_fail(w, TSF_EINVAL, "a chunk group is already open");
    if (!name_ok(device)) return tsf_w_fail(w, TSF_EINVAL, "empty device id");
    w->dev = tsf_w_device(w, device, strlen(device), false);
    if (!w->dev) return w->rc;
    w->aligned = false;
    tsf_buf_put_u8(&w->out, TSF_MARK_CHUNK_GROUP);
    tsf_device_id_write(&w->out, w->o.version, device, strlen(device));
    return 0;
}

int tsf_writer_begin_series(TsfWriter *w, const char *measurement, TsfType type, TsfEncoding enc,
                            TsfCompression comp)
{
    if (w->rc) return w->rc;
    if (!w->dev || w->aligned || w->series_open)
        return tsf_w_fail(w, TSF_EINVAL, "begin_series outside a non-aligned group");
    if (!name_ok(measurement)) return tsf_w_fail(w, TSF_EINVAL, "empty measurement name");
    if (type == TSF_VECTOR || tsf_type_phys(type) == TSF_PHYS_NONE || !tsf_encoding_allowed(type, enc) ||
        !tsf_compression_is_valid((int)comp))
        return tsf_w_fail(w, TSF_EINVAL, "%s: cannot write %s with %s/%s", measurement, tsf_type_name(type),
                          tsf_encoding_name(enc), tsf_compression_name(comp));
    WSeries *s = tsf_w_series(w, w->dev, measurement, strlen(measurement), type, 0);
    if (!s) return w->rc;
    cb_init(&w->single, s, type, enc, comp, 0);
    w->series_open = true;
    return 0;
}

/* How many of `left` points may go into cb's page before its next check. */
static size_t cb_step(const TsfWriter *w, const ColBuilder *cb, size_t left)
{
    size_t room = w->o.page_max_points - cb->n;
    if (cb->next_check > cb->n && cb->next_check - cb->n < room) room = cb->next_check - cb->n;
    if (room == 0) room = 1;
    return left < room ? left : room;
}

/* Times must increase strictly within a chunk (spec §2.4).  Different
 * chunks of a series may overlap: an unsequence file holds one chunk per
 * flush, each with its own time range. */
static int check_increasing(TsfWriter *w, ColBuilder *cb, const int64_t *times, size_t n)
{
    int64_t prev = cb->last_time;
    bool have = cb->has_time;
    for (size_t i = 0; i < n; i++) {
        if (have && times[i] <= prev)
            return tsf_w_fail(w, TSF_EINVAL, "%s.%s: time %lld not after %lld", w->dev->path,
                              cb->series->name, (long long)times[i], (long long)prev);
        prev = times[i];
        have = true;
    }
    cb->last_time = prev;
    cb->has_time = have;
    return 0;
}

int tsf_writer_append(TsfWriter *w, const int64_t *times, const void *values, size_t n)
{
    if (w->rc) return w->rc;
    if (!w->series_open) return tsf_w_fail(w, TSF_EINVAL, "append without an open series");
    ColBuilder *cb = &w->single;
    if (check_increasing(w, cb, times, n)) return w->rc;
    size_t done = 0;
    while (done < n) {
        size_t step = cb_step(w, cb, n - done);
        if (cb_reserve(w, cb, cb->n + step)) return w->rc;
        if (tsf_type_phys(cb->type) == TSF_PHYS_BIN) {
            for (size_t i = 0; i < step; i++) cb_push(cb, times[done + i], values, done + i);
            if (cb->arena.err) return tsf_w_fail(w, cb->arena.err, "out of memory");
        } else {
            size_t esz = tsf_type_elem_size(cb->type);
            memcpy(cb->times + cb->n, times + done, step * sizeof(int64_t));
            memcpy(cb->values + cb->n * esz, (const uint8_t *)values + done * esz, step * esz);
            cb->n += step;
        }
        done += step;
        if (cb->n >= w->o.page_max_points || cb_page_full(w, cb, 0)) {
            if (cb_seal(w, cb, 0)) return w->rc;
        }
        if (w->rc) return w->rc;
    }
    return 0;
}

int tsf_writer_end_series(TsfWriter *w)
{
    if (w->rc) return w->rc;
    if (!w->series_open) return tsf_w_fail(w, TSF_EINVAL, "end_series without an open series");
    ColBuilder *cb = &w->single;
    if (cb->n > 0) cb_seal(w, cb, 0);
    if (!w->rc) cb_finish_chunk(w, cb);
    cb_free(cb);
    w->series_open = false;
    return w->rc;
}

/* ---- aligned groups ------------------------------------------------------- */

int tsf_writer_begin_aligned(TsfWriter *w, const char *device, const TsfColumnSchema *cols, size_t ncols)
{
    if (w->rc) return w->rc;
    if (w->dev) return tsf_w_fail(w, TSF_EINVAL, "a chunk group is already open");
    if (!name_ok(device)) return tsf_w_fail(w, TSF_EINVAL, "empty device id");
    for (size_t i = 0; i < ncols; i++) {
        if (!name_ok(cols[i].name) || tsf_type_phys(cols[i].type) == TSF_PHYS_NONE ||
            !tsf_encoding_allowed(cols[i].type, cols[i].encoding) ||
            !tsf_compression_is_valid((int)cols[i].compression))
            return tsf_w_fail(w, TSF_EINVAL, "%s: bad column %zu", device, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(cols[i].name, cols[j].name) == 0)
                return tsf_w_fail(w, TSF_EINVAL, "%s: column %s twice", device, cols[i].name);
    }
    WDevice *d = tsf_w_device(w, device, strlen(device), true);
    if (!d) return w->rc;
    ColBuilder *cbs = calloc(ncols + 1, sizeof(*cbs));
    if (!cbs) return tsf_w_fail(w, -ENOMEM, "out of memory");
    WSeries *ts = tsf_w_series(w, d, "", 0, TSF_VECTOR, TSF_MASK_TIME_COLUMN);
    if (ts) cb_init(&cbs[0], ts, TSF_VECTOR, TSF_ENC_TS_2DIFF, w->o.time_compression, TSF_MASK_TIME_COLUMN);
    for (size_t i = 0; ts && i < ncols; i++) {
        WSeries *s =
            tsf_w_series(w, d, cols[i].name, strlen(cols[i].name), cols[i].type, TSF_MASK_VALUE_COLUMN);
        if (!s) break;
        cb_init(&cbs[i + 1], s, cols[i].type, cols[i].encoding, cols[i].compression, TSF_MASK_VALUE_COLUMN);
    }
    w->dev = d;
    w->aligned = true;
    w->cols = cbs;
    w->ncols = ncols + 1;
    w->rows_in_page = 0;
    if (w->rc) return w->rc;
    tsf_buf_put_u8(&w->out, TSF_MARK_CHUNK_GROUP);
    tsf_device_id_write(&w->out, w->o.version, device, strlen(device));
    return 0;
}

static int aligned_seal_all(TsfWriter *w)
{
    for (size_t c = 0; c < w->ncols && !w->rc; c++) cb_seal(w, &w->cols[c], w->rows_in_page);
    w->rows_in_page = 0;
    return w->rc;
}

int tsf_writer_append_aligned(TsfWriter *w, const int64_t *times, size_t n, const void *const *values,
                              const uint8_t *const *present)
{
    if (w->rc) return w->rc;
    if (!w->dev || !w->aligned) return tsf_w_fail(w, TSF_EINVAL, "append_aligned outside an aligned group");
    if (check_increasing(w, &w->cols[0], times, n)) return w->rc;
    size_t done = 0;
    while (done < n) {
        /* Rows until the next check: the tightest column decides. */
        size_t step = n - done;
        for (size_t c = 0; c < w->ncols; c++) step = cb_step(w, &w->cols[c], step);
        for (size_t c = 0; c < w->ncols; c++) {
            ColBuilder *cb = &w->cols[c];
            if (cb_reserve(w, cb, cb->n + step)) return w->rc;
            if (c == 0) {
                memcpy(cb->times + cb->n, times + done, step * sizeof(int64_t));
                cb->n += step;
                continue;
            }
            if (cb_reserve_bitmap(w, cb, w->rows_in_page + (uint32_t)step)) return w->rc;
            const uint8_t *pr = present ? present[c - 1] : NULL;
            for (size_t i = 0; i < step; i++) {
                size_t r = done + i;
                bool here = !pr || pr[r];
                bitmap_set(cb, w->rows_in_page + (uint32_t)i, here);
                if (here) cb_push(cb, times[r], values[c - 1], r);
            }
            if (cb->arena.err) return tsf_w_fail(w, cb->arena.err, "out of memory");
        }
        w->rows_in_page += (uint32_t)step;
        done += step;
        bool full = w->rows_in_page >= w->o.page_max_points;
        for (size_t c = 0; c < w->ncols && !full; c++) full = cb_page_full(w, &w->cols[c], w->rows_in_page);
        if (w->rc) return w->rc;
        if (full && aligned_seal_all(w)) return w->rc;
    }
    return 0;
}

int tsf_writer_end_group(TsfWriter *w)
{
    if (w->rc) return w->rc;
    if (!w->dev) return 0;
    if (w->series_open) tsf_writer_end_series(w);
    if (w->aligned) {
        if (w->rows_in_page > 0) aligned_seal_all(w);
        for (size_t c = 0; c < w->ncols && !w->rc; c++) cb_finish_chunk(w, &w->cols[c]);
        for (size_t c = 0; c < w->ncols; c++) cb_free(&w->cols[c]);
        free(w->cols);
        w->cols = NULL;
        w->ncols = 0;
    }
    w->dev = NULL;
    return w->rc;
}

int tsf_writer_mark_plan_index(TsfWriter *w, int64_t min_index, int64_t max_index)
{
    if (w->rc) return w->rc;
    if (w->dev) return tsf_w_fail(w, TSF_EINVAL, "plan index inside a chunk group");
    tsf_buf_put_u8(&w->out, TSF_MARK_PLAN_INDEX);
    tsf_buf_put_be64(&w->out, (uint64_t)min_index);
    tsf_buf_put_be64(&w->out, (uint64_t)max_index);
    return out_maybe_flush(w);
}

int tsf_writer_sync(TsfWriter *w)
{
    if (out_flush(w)) return w->rc;
    if (w->o.fsync && fsync(w->fd) != 0)
        return tsf_w_fail(w, -errno, "fsync %s: %s", w->path, strerror(errno));
    return 0;
}

void tsf_w_free(TsfWriter *w)
{
    if (!w) return;
    if (w->fd >= 0) close(w->fd);
    if (w->series_open) cb_free(&w->single);
    for (size_t c = 0; c < w->ncols; c++) cb_free(&w->cols[c]);
    free(w->cols);
    g_hash_table_destroy(w->devices);
    g_ptr_array_free(w->device_list, TRUE);
    tsf_buf_free(&w->out);
    tsf_buf_free(&w->tbuf);
    tsf_buf_free(&w->body);
    tsf_buf_free(&w->cbuf);
    free(w->path);
    free(w);
}

void tsf_writer_abort(TsfWriter *w)
{
    if (!w) return;
    if (!w->rc) out_flush(w);
    tsf_w_free(w);
}

int tsf_writer_close(TsfWriter *w)
{
    if (!w) return 0;
    if (w->dev) tsf_writer_end_group(w);
    if (!w->rc) tsf_w_write_index(w);
    if (!w->rc) tsf_writer_sync(w);
    int rc = w->rc;
    if (w->fd >= 0 && close(w->fd) != 0 && rc == 0) rc = -errno;
    w->fd = -1;
    tsf_w_free(w);
    return rc;
}
