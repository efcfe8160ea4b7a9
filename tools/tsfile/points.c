/*
 * points.c: every point of one series gathered from a scan and put in time
 * order, for the commands that must read a series whose chunks overlap in
 * time (dump prints them all, export keeps the later of a repeated time).
 * Binary values are copied into one buffer as the scan goes (offsets while
 * it grows, pointers once ordered), so nothing is allocated per point.
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
