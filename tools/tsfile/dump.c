/*
 * dump.c: `tsfile dump FILE`: every point as `device,measurement,time,value`,
 * sorted by device, then measurement (byte order), then time, in the
 * canonical form of the golden dumps.  Aligned null cells print nothing.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "series_scan.h"
#include "tool.h"

typedef struct Collected {
    TsfSeriesMeta *v;
    size_t n, cap;
    int rc;
} Collected;

static int collect(void *ctx, const TsfSeriesMeta *sm)
{
    Collected *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        TsfSeriesMeta *v = realloc(c->v, cap * sizeof(*v));
        if (!v) return -12;
        c->v = v;
        c->cap = cap;
    }
    int rc = tsf_series_meta_copy(&c->v[c->n], sm);
    if (rc == 0) c->n++;
    return rc;
}

static int by_device_then_name(const void *a, const void *b)
{
    const TsfSeriesMeta *x = a, *y = b;
    int c = strcmp(x->device, y->device);
    return c ? c : strcmp(x->name, y->name);
}

void tool_put_escaped(FILE *out, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        default: putc_unlocked(s[i], out);
        }
    }
}

/* Points of one series, gathered so they can be ordered by time. */
typedef struct Points {
    TsfType type;
    int64_t *t;
    uint8_t *v;
    size_t n, cap;
    TsfBuf bytes; /* copies of binary values */
    bool sorted;
} Points;

static int gather(void *ctx, const int64_t *times, const void *values, size_t n)
{
    Points *p = ctx;
    size_t esz = tsf_type_elem_size(p->type);
    if (p->n + n > p->cap) {
        size_t cap = p->cap ? p->cap : 1024;
        while (cap < p->n + n) cap *= 2;
        int64_t *t = realloc(p->t, cap * sizeof(int64_t));
        if (t) p->t = t;
        uint8_t *v = realloc(p->v, cap * esz);
        if (v) p->v = v;
        if (!t || !v) return -12;
        p->cap = cap;
    }
    if (p->n > 0 && n > 0 && times[0] <= p->t[p->n - 1]) p->sorted = false;
    memcpy(p->t + p->n, times, n * sizeof(int64_t));
    if (tsf_type_phys(p->type) == TSF_PHYS_BIN) {
        /* keep offsets into p->bytes; turned into pointers when printing */
        const TsfBin *b = values;
        TsfBin *dst = (TsfBin *)p->v + p->n;
        for (size_t i = 0; i < n; i++) {
            dst[i].ptr = (const uint8_t *)(uintptr_t)p->bytes.len;
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

static const Points *g_sort_points;
static int by_time(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = g_sort_points->t[i], y = g_sort_points->t[j];
    if (x != y) return x < y ? -1 : 1;
    return i < j ? -1 : (i > j); /* stable */
}

static void print_value(FILE *out, const Points *p, size_t i)
{
    switch (p->type) {
    case TSF_BOOLEAN: fputs(p->v[i] ? "true" : "false", out); break;
    case TSF_INT32:
    case TSF_DATE: fprintf(out, "%" PRId32, ((const int32_t *)p->v)[i]); break;
    case TSF_INT64:
    case TSF_TIMESTAMP: fprintf(out, "%" PRId64, ((const int64_t *)p->v)[i]); break;
    case TSF_FLOAT: fprintf(out, "%.9g", (double)((const float *)p->v)[i]); break;
    case TSF_DOUBLE: fprintf(out, "%.17g", ((const double *)p->v)[i]); break;
    case TSF_TEXT:
    case TSF_STRING: {
        const TsfBin *b = (const TsfBin *)p->v + i;
        tool_put_escaped(out, p->bytes.data + (uintptr_t)b->ptr, b->len);
        break;
    }
    case TSF_BLOB: {
        const TsfBin *b = (const TsfBin *)p->v + i;
        fputs("0x", out);
        for (uint32_t k = 0; k < b->len; k++) fprintf(out, "%02x", p->bytes.data[(uintptr_t)b->ptr + k]);
        break;
    }
    default: break;
    }
}

static const TsfSeriesMeta *time_column_of(const Collected *c, const TsfSeriesMeta *sm)
{
    for (size_t i = 0; i < c->n; i++)
        if ((c->v[i].mask & TSF_MASK_TIME_COLUMN) && strcmp(c->v[i].device, sm->device) == 0) return &c->v[i];
    return NULL;
}

int cmd_dump(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: tsfile dump FILE\n", stderr);
        return 2;
    }
    const char *file = argv[1];
    TsfReader *r;
    TsfErr err = {0};
    int rc = tsf_reader_open(file, &r, &err);
    if (rc) return tool_fail(file, &err, rc);
    Collected c = {0};
    rc = tsf_reader_foreach_series(r, collect, &c);
    if (rc) {
        tool_fail(file, tsf_reader_err(r), rc);
        goto out;
    }
    if (c.n) qsort(c.v, c.n, sizeof(*c.v), by_device_then_name);
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    size_t *order = NULL;
    for (size_t i = 0; i < c.n && rc == 0; i++) {
        TsfSeriesMeta *sm = &c.v[i];
        if (sm->mask & TSF_MASK_TIME_COLUMN) continue;
        const TsfSeriesMeta *tm = NULL;
        if (sm->mask & TSF_MASK_VALUE_COLUMN) {
            tm = time_column_of(&c, sm);
            if (!tm && sm->stats.count == 0) continue; /* all null, no time column */
            if (!tm) {
                fprintf(stderr, "tsfile: %s: aligned series %s.%s has no time column\n", file, sm->device,
                        sm->name);
                rc = 1;
                break;
            }
        }
        Points p = {.type = sm->type, .sorted = true};
        rc = tsf_series_scan(r, sm, tm, INT64_MIN, INT64_MAX, gather, &p, NULL);
        if (rc) {
            tool_fail(file, tsf_reader_err(r), rc);
        } else {
            size_t *ord = realloc(order, (p.n ? p.n : 1) * sizeof(size_t));
            if (!ord) rc = -12;
            order = ord;
            for (size_t k = 0; k < p.n && ord; k++) order[k] = k;
            if (!p.sorted && ord) {
                g_sort_points = &p;
                qsort(order, p.n, sizeof(size_t), by_time);
            }
            for (size_t k = 0; k < p.n && ord; k++) {
                fputs(sm->device, stdout);
                putchar(',');
                fputs(sm->name, stdout);
                printf(",%" PRId64 ",", p.t[order[k]]);
                print_value(stdout, &p, order[k]);
                putchar('\n');
            }
        }
        free(p.t);
        free(p.v);
        tsf_buf_free(&p.bytes);
    }
    free(order);
out:
    for (size_t i = 0; i < c.n; i++) tsf_series_meta_free(&c.v[i]);
    free(c.v);
    tsf_reader_close(r);
    if (fflush(stdout) != 0) return 1;
    return rc ? 1 : 0;
}
