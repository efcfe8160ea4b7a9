/*
 * points.c: every point of one series gathered from a scan and put in time
 * order, for the commands that must read a series whose chunks overlap in
 * time (dump prints them all, export keeps the later of a repeated time).
 * Binary values are copied into one buffer as the scan goes (offsets while
 * it grows, pointers once ordered), so nothing is allocated per point.
 * Also the list of a file's series both commands walk, in their order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "points.h"

int tool_points_gather(void *ctx, const int64_t *times, const void *values, size_t n)
{
    ToolPoints *p = ctx;
    size_t esz = tsf_type_elem_size(p->type);
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->n + n) cap *= 2;
        int64_t *t = realloc(p->t, cap * sizeof(int64_t));
        if (t) p->t = t;
        uint8_t *v = realloc(p->v, cap * esz);
        if (v) p->v = v;
        if (!t || !v) return -ENOMEM;
        p->cap = cap;
    }
    memcpy(p->t + p->n, times, n * sizeof(int64_t));
    if (tsf_type_phys(p->type) == TSF_PHYS_BIN) {
        const TsfBin *b = values;
        TsfBin *dst = (TsfBin *)p->v + p->n;
        for (size_t i = 0; i < n; i++) {
            dst[i].ptr = (const uint8_t *)(uintptr_t)p->bytes.len; /* an offset until ordered */
            dst[i].len = b[i].len;
            tsf_buf_put(&p->bytes, b[i].ptr, b[i].len);
        }
        if (p->bytes.err) return p->bytes.err;
    } else {
        memcpy(p->v + p->n * esz, values, n * esz);
    }
    p->n += n;
    return 0;
}

static const ToolPoints *g_sorting;
static int by_time_then_order(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = g_sorting->t[i], y = g_sorting->t[j];
    if (x != y) return x < y ? -1 : 1;
    return i < j ? -1 : i > j; /* stable: the later point follows */
}

static void bin_pointers(ToolPoints *p)
{
    if (tsf_type_phys(p->type) != TSF_PHYS_BIN) return;
    TsfBin *b = (TsfBin *)p->v;
    for (size_t i = 0; i < p->n; i++) b[i].ptr = p->bytes.data + (uintptr_t)b[i].ptr;
}

int tool_points_order(ToolPoints *p, bool latest_only)
{
    size_t esz = tsf_type_elem_size(p->type), n = p->n;
    size_t i = 1;
    while (i < n && p->t[i] > p->t[i - 1]) i++;
    if (i >= n) { /* already in order, no time repeated: the common case */
        bin_pointers(p);
        return 0;
    }
    size_t *ord = malloc((n ? n : 1) * sizeof(*ord));
    int64_t *t = malloc((n ? n : 1) * sizeof(*t));
    uint8_t *v = malloc((n ? n : 1) * esz);
    if (!ord || !t || !v) {
        free(ord);
        free(t);
        free(v);
        return -ENOMEM;
    }
    for (size_t j = 0; j < n; j++) ord[j] = j;
    g_sorting = p;
    qsort(ord, n, sizeof(*ord), by_time_then_order);
    size_t k = 0;
    for (size_t j = 0; j < n; j++) {
        if (latest_only && j + 1 < n && p->t[ord[j + 1]] == p->t[ord[j]])
            continue; /* a later write follows */
        t[k] = p->t[ord[j]];
        memcpy(v + k * esz, p->v + ord[j] * esz, esz);
        k++;
    }
    free(ord);
    free(p->t);
    free(p->v);
    p->t = t;
    p->v = v;
    p->n = p->cap = k;
    bin_pointers(p);
    return 0;
}

void tool_points_free(ToolPoints *p)
{
    free(p->t);
    free(p->v);
    tsf_buf_free(&p->bytes);
    memset(p, 0, sizeof(*p));
}

static int collect(void *ctx, const TsfSeriesMeta *sm)
{
    ToolSeriesList *l = ctx;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        TsfSeriesMeta *v = realloc(l->v, cap * sizeof(*v));
        if (!v) return -ENOMEM;
        l->v = v;
        l->cap = cap;
    }
    int rc = tsf_series_meta_copy(&l->v[l->n], sm);
    if (rc == 0) l->n++;
    return rc;
}

static int by_device_then_name(const void *a, const void *b)
{
    const TsfSeriesMeta *x = a, *y = b;
    int c = strcmp(x->device, y->device);
    return c ? c : strcmp(x->name, y->name);
}

int tool_series_list(TsfReader *r, ToolSeriesList *out)
{
    memset(out, 0, sizeof(*out));
    int rc = tsf_reader_foreach_series(r, collect, out);
    if (rc == 0 && out->n) qsort(out->v, out->n, sizeof(*out->v), by_device_then_name);
    return rc;
}

const TsfSeriesMeta *tool_series_time_column(const ToolSeriesList *l, const TsfSeriesMeta *sm)
{
    for (size_t i = 0; i < l->n; i++)
        if ((l->v[i].mask & TSF_MASK_TIME_COLUMN) && strcmp(l->v[i].device, sm->device) == 0) return &l->v[i];
    return NULL;
}

void tool_series_list_free(ToolSeriesList *l)
{
    for (size_t i = 0; i < l->n; i++) tsf_series_meta_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}
