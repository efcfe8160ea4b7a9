/*
 * memtable.c: columns of recent points, sorted once at flush (memtable.h).
 */
#include "memtable.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void series_free(gpointer p)
{
    MemSeries *s = p;
    free(s->name);
    free(s->times);
    free(s->values);
    tsf_buf_free(&s->arena);
    free(s);
}

static void device_free(gpointer p)
{
    MemDevice *d = p;
    g_hash_table_destroy(d->by_name);
    g_ptr_array_free(d->series, TRUE);
    free(d->path);
    free(d);
}

static void memdelete_clear(gpointer p)
{
    MemDelete *d = p;
    free(d->device);
    free(d->measurement);
}

MemTable *memtable_new(uint64_t id, uint64_t wal_segment)
{
    MemTable *m = calloc(1, sizeof(*m));
    if (!m) return NULL;
    m->pending = g_array_new(FALSE, FALSE, sizeof(MemDelete));
    m->late = g_array_new(FALSE, FALSE, sizeof(MemDelete));
    g_array_set_clear_func(m->pending, memdelete_clear);
    g_array_set_clear_func(m->late, memdelete_clear);
    m->by_path = g_hash_table_new(g_str_hash, g_str_equal);
    m->devices = g_ptr_array_new_with_free_func(device_free);
    m->id = id;
    m->wal_segment = wal_segment;
    return m;
}

void memtable_free(MemTable *m)
{
    if (!m) return;
    g_array_free(m->pending, TRUE);
    g_array_free(m->late, TRUE);
    g_hash_table_destroy(m->by_path);
    g_ptr_array_free(m->devices, TRUE);
    free(m);
}

MemSeries *memtable_series(MemTable *m, const char *device, const char *name, TsfType type, TsfEncoding enc,
                           TsfCompression comp)
{
    MemDevice *d = g_hash_table_lookup(m->by_path, device);
    if (!d) {
        d = calloc(1, sizeof(*d));
        if (!d || !(d->path = strdup(device))) {
            free(d);
            return NULL;
        }
        d->by_name = g_hash_table_new(g_str_hash, g_str_equal);
        d->series = g_ptr_array_new_with_free_func(series_free);
        g_hash_table_insert(m->by_path, d->path, d);
        g_ptr_array_add(m->devices, d);
        m->bytes += sizeof(*d) + strlen(device) + 64;
    }
    MemSeries *s = g_hash_table_lookup(d->by_name, name);
    if (s) return s;
    s = calloc(1, sizeof(*s));
    if (!s || !(s->name = strdup(name))) {
        free(s);
        return NULL;
    }
    s->type = type;
    s->encoding = enc;
    s->compression = comp;
    s->in_order = true;
    s->min_time = INT64_MAX;
    s->max_time = INT64_MIN;
    g_hash_table_insert(d->by_name, s->name, s);
    g_ptr_array_add(d->series, s);
    m->bytes += sizeof(*s) + strlen(name) + 64;
    return s;
}

static int series_reserve(MemTable *m, MemSeries *s, size_t need)
{
    if (need <= s->cap) return 0;
    size_t cap = s->cap ? s->cap * 2 : 1024;
    while (cap < need) cap *= 2;
    size_t esz = tsf_type_elem_size(s->type);
    int64_t *t = realloc(s->times, cap * sizeof(int64_t));
    if (!t) return -ENOMEM;
    s->times = t;
    uint8_t *v = realloc(s->values, cap * esz);
    if (!v) return -ENOMEM;
    s->values = v;
    m->bytes += (cap - s->cap) * (sizeof(int64_t) + esz);
    s->cap = cap;
    return 0;
}

static MemDevice *device_of(MemTable *m, const char *device)
{
    return g_hash_table_lookup(m->by_path, device);
}

int memtable_append(MemTable *m, MemSeries *s, const int64_t *times, const void *values, size_t n)
{
    if (n == 0) return 0;
    if (series_reserve(m, s, s->n + n)) return -ENOMEM;
    size_t esz = tsf_type_elem_size(s->type);
    memcpy(s->times + s->n, times, n * sizeof(int64_t));
    if (tsf_type_phys(s->type) == TSF_PHYS_BIN) {
        const TsfBin *src = values;
        TsfBin *dst = (TsfBin *)s->values + s->n;
        size_t before = s->arena.cap;
        for (size_t i = 0; i < n; i++) {
            dst[i].ptr = (const uint8_t *)(uintptr_t)s->arena.len;
            dst[i].len = src[i].len;
            tsf_buf_put(&s->arena, src[i].ptr, src[i].len);
        }
        if (s->arena.err) {
            s->arena.err = 0;
            return -ENOMEM;
        }
        m->bytes += s->arena.cap - before;
    } else {
        memcpy(s->values + s->n * esz, values, n * esz);
    }
    /* order and time range, in one pass */
    int64_t prev = s->n ? s->times[s->n - 1] : INT64_MIN;
    bool in_order = s->in_order && (s->n == 0 || times[0] > prev);
    int64_t lo = s->min_time, hi = s->max_time;
    for (size_t i = 0; i < n; i++) {
        int64_t t = times[i];
        if (i && t <= times[i - 1]) in_order = false;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
    }
    s->in_order = in_order;
    s->min_time = lo;
    s->max_time = hi;
    s->n += n;
    m->points += n;
    return 0;
}

/* ---- sorting ------------------------------------------------------------------- */

typedef struct TimeIdx {
    int64_t t;
    uint32_t i;
} TimeIdx;

/* Stable merge sort of (time, index) pairs by time. */
static void merge_sort(TimeIdx *a, TimeIdx *tmp, size_t n)
{
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) tmp[k++] = a[j].t < a[i].t ? a[j++] : a[i++];
            while (i < mid) tmp[k++] = a[i++];
            while (j < hi) tmp[k++] = a[j++];
        }
        memcpy(a, tmp, n * sizeof(*a));
    }
}

void memseries_sort_dedup(MemSeries *s)
{
    if (s->n < 2) s->in_order = true; /* deletions can leave one point of an unordered series */
    if (s->in_order) return;
    size_t n = s->n, esz = tsf_type_elem_size(s->type);
    TimeIdx *a = malloc(n * sizeof(*a)), *tmp = malloc(n * sizeof(*tmp));
    uint8_t *v = malloc(n * esz);
    if (!a || !tmp || !v) { /* keep unsorted: the flush will refuse it */
        free(a);
        free(tmp);
        free(v);
        return;
    }
    for (size_t i = 0; i < n; i++) a[i] = (TimeIdx){s->times[i], (uint32_t)i};
    merge_sort(a, tmp, n);
    /* keep the last (newest) of each run of equal times */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && a[i + 1].t == a[i].t) continue;
        s->times[k] = a[i].t;
        memcpy(v + k * esz, s->values + (size_t)a[i].i * esz, esz);
        k++;
    }
    memcpy(s->values, v, k * esz);
    s->n = k;
    s->in_order = true;
    free(a);
    free(tmp);
    free(v);
}

void memseries_clear(MemSeries *s)
{
    free(s->times);
    free(s->values);
    tsf_buf_free(&s->arena);
    memset(s, 0, sizeof(*s));
}

int memtable_snapshot(const MemTable *m, const char *device, const char *name, int64_t lo, int64_t hi,
                      MemSeries *out)
{
    memset(out, 0, sizeof(*out));
    MemDevice *d = g_hash_table_lookup(m->by_path, device);
    MemSeries *s = d ? g_hash_table_lookup(d->by_name, name) : NULL;
    if (!s || s->n == 0 || s->max_time < lo || s->min_time > hi) return 0;
    out->type = s->type;
    out->in_order = true;
    size_t esz = tsf_type_elem_size(s->type), k = 0;
    bool bin = tsf_type_phys(s->type) == TSF_PHYS_BIN;
    if (s->in_order && !bin) {
        /* sorted and unique already: the range is one block, copied whole */
        size_t a = 0, b = s->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (s->times[mid] < lo)
                a = mid + 1;
            else
                b = mid;
        }
        size_t first = a;
        b = s->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (s->times[mid] <= hi)
                a = mid + 1;
            else
                b = mid;
        }
        size_t n = a - first;
        if (n == 0) return 0;
        out->times = malloc(n * sizeof(int64_t));
        out->values = malloc(n * esz);
        if (!out->times || !out->values) {
            memseries_clear(out);
            return -ENOMEM;
        }
        memcpy(out->times, s->times + first, n * sizeof(int64_t));
        memcpy(out->values, s->values + first * esz, n * esz);
        out->n = out->cap = n;
        out->min_time = out->times[0];
        out->max_time = out->times[n - 1];
        return 0;
    }
    out->times = malloc(s->n * sizeof(int64_t));
    out->values = malloc(s->n * esz);
    if (!out->times || !out->values) {
        memseries_clear(out);
        return -ENOMEM;
    }
    int64_t prev = INT64_MIN;
    for (size_t i = 0; i < s->n; i++) {
        int64_t t = s->times[i];
        if (t < lo || t > hi) continue;
        if (k && t <= prev) out->in_order = false;
        prev = t;
        out->times[k] = t;
        if (bin) {
            const TsfBin *b = (const TsfBin *)s->values + i;
            TsfBin nb = {(const uint8_t *)(uintptr_t)out->arena.len, b->len};
            tsf_buf_put(&out->arena, s->arena.data + (uintptr_t)b->ptr, b->len);
            memcpy(out->values + k * esz, &nb, esz);
        } else {
            memcpy(out->values + k * esz, s->values + i * esz, esz);
        }
        k++;
    }
    out->n = out->cap = k;
    if (out->arena.err) {
        memseries_clear(out);
        return -ENOMEM;
    }
    memseries_sort_dedup(out);
    if (out->n) {
        out->min_time = out->times[0];
        out->max_time = out->times[out->n - 1];
    }
    if (bin) {
        TsfBin *b = (TsfBin *)out->values;
        for (size_t i = 0; i < out->n; i++) b[i].ptr = out->arena.data + (uintptr_t)b[i].ptr;
    }
    return 0;
}

/* ---- deletion ------------------------------------------------------------------ */

static size_t series_delete(MemSeries *s, int64_t start, int64_t end)
{
    if (s->n == 0 || s->max_time < start || s->min_time > end) return 0;
    size_t esz = tsf_type_elem_size(s->type), k = 0;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < s->n; i++) {
        int64_t t = s->times[i];
        if (t >= start && t <= end) continue;
        if (k != i) {
            s->times[k] = t;
            memcpy(s->values + k * esz, s->values + i * esz, esz);
        }
        if (t < lo) lo = t;
        if (t > hi) hi = t;
        k++;
    }
    size_t removed = s->n - k;
    s->n = k;
    s->min_time = lo;
    s->max_time = hi;
    return removed;
}

size_t memtable_delete(MemTable *m, const char *device, const char *name, int64_t start, int64_t end)
{
    MemDevice *d = device_of(m, device);
    if (!d) return 0;
    size_t removed = 0;
    if (name) {
        MemSeries *s = g_hash_table_lookup(d->by_name, name);
        if (s) removed = series_delete(s, start, end);
    } else {
        for (guint i = 0; i < d->series->len; i++) removed += series_delete(d->series->pdata[i], start, end);
    }
    return removed;
}

int memtable_note_delete(GArray *list, const char *device, const char *measurement, int64_t start,
                         int64_t end)
{
    MemDelete d = {strdup(device), measurement ? strdup(measurement) : NULL, start, end};
    if (!d.device || (measurement && !d.measurement)) {
        memdelete_clear(&d);
        return -ENOMEM;
    }
    g_array_append_val(list, d);
    return 0;
}

void memtable_apply_deletes(MemTable *m, GArray *list)
{
    for (guint i = 0; i < list->len; i++) {
        MemDelete *d = &g_array_index(list, MemDelete, i);
        memtable_delete(m, d->device, d->measurement, d->start, d->end);
    }
    g_array_set_size(list, 0);
}

void memseries_apply_deletes(MemSeries *s, const GArray *list, const char *device, const char *name)
{
    for (guint i = 0; i < list->len; i++) {
        const MemDelete *d = &g_array_index(list, MemDelete, i);
        if (strcmp(d->device, device) != 0 || (d->measurement && strcmp(d->measurement, name) != 0)) continue;
        series_delete(s, d->start, d->end);
    }
}

/* ---- flush --------------------------------------------------------------------- */

static gint by_device(gconstpointer a, gconstpointer b)
{
    const MemDevice *x = *(MemDevice *const *)a, *y = *(MemDevice *const *)b;
    return strcmp(x->path, y->path);
}

static gint by_series(gconstpointer a, gconstpointer b)
{
    const MemSeries *x = *(MemSeries *const *)a, *y = *(MemSeries *const *)b;
    return strcmp(x->name, y->name);
}

void flushed_chunk_clear(FlushedChunk *c)
{
    free(c->device);
    free(c->measurement);
}

int memtable_flush(MemTable *m, TsfWriter *w, Resource *res, GArray *chunks)
{
    int rc = 0;
    g_ptr_array_sort(m->devices, by_device);
    for (guint di = 0; di < m->devices->len && rc == 0; di++) {
        MemDevice *d = m->devices->pdata[di];
        g_ptr_array_sort(d->series, by_series);
        bool any = false;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        for (guint si = 0; si < d->series->len; si++) {
            MemSeries *s = d->series->pdata[si];
            if (s->n == 0) continue;
            memseries_sort_dedup(s);
            if (!s->in_order) return -ENOMEM;
            if (!any) rc = tsf_writer_begin_group(w, d->path);
            any = true;
            if (rc == 0) rc = tsf_writer_begin_series(w, s->name, s->type, s->encoding, s->compression);
            if (rc == 0 && tsf_type_phys(s->type) == TSF_PHYS_BIN) {
                TsfBin *b = (TsfBin *)s->values;
                for (size_t i = 0; i < s->n; i++) b[i].ptr = s->arena.data + (uintptr_t)b[i].ptr;
            }
            if (rc == 0) rc = tsf_writer_append(w, s->times, s->values, s->n);
            /* the chunk is written at end_series, at the current position */
            uint64_t offset = tsf_writer_position(w);
            if (rc == 0) rc = tsf_writer_end_series(w);
            if (rc == 0 && chunks) {
                FlushedChunk fc = {strdup(d->path), strdup(s->name),    s->type,       offset,
                                   s->times[0],     s->times[s->n - 1], (uint32_t)s->n};
                if (!fc.device || !fc.measurement) rc = -ENOMEM;
                g_array_append_val(chunks, fc);
            }
            if (tsf_type_phys(s->type) == TSF_PHYS_BIN) {
                TsfBin *b = (TsfBin *)s->values;
                for (size_t i = 0; i < s->n; i++)
                    b[i].ptr = (const uint8_t *)(uintptr_t)(b[i].ptr - s->arena.data);
            }
            if (s->times[0] < lo) lo = s->times[0];
            if (s->times[s->n - 1] > hi) hi = s->times[s->n - 1];
        }
        if (any && rc == 0) rc = tsf_writer_end_group(w);
        if (any && rc == 0) rc = resource_update(res, d->path, lo, hi);
    }
    if (rc == 0) rc = tsf_writer_mark_plan_index(w, (int64_t)m->id, (int64_t)m->id);
    return rc;
}
