/*
 * svg.c: the hidden `<sensor>.svg` sibling of each numeric sensor file, a
 * line chart of the series over its directory's time range (the whole
 * series under all/, the partition's span under a partition), so a
 * browser or an image viewer shows a series without exporting it.
 *
 * Downsampling (M4): the plot is PLOT_W pixel columns wide; one streaming
 * pass of the engine's query keeps, per column, the first, last, minimum
 * and maximum value, and the chart draws those four per column in time
 * order.  That is exact at the pixel level (every extreme and every jump
 * between columns is drawn) and costs one comparison per point for its
 * column (points come in time order, so the column only moves forward)
 * and a few for min/max: no allocation per point, memory fixed whatever
 * the series' length.
 *
 * A chart depends only on the points in range, so rendered charts are kept
 * by node and reused while the series' change stamp (engine_change_of) is
 * the same: a lookup, the stat and the open of one `cat` render once.  With
 * a TTL the content moves with the clock, so nothing is kept.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "query.h"
#include "tsfs.h"

/* Geometry: the plot area is exactly one pixel per column. */
#define PLOT_W      800
#define PLOT_H      380
#define MARGIN_L    90
#define MARGIN_R    50
#define MARGIN_T    56
#define MARGIN_B    48
#define SVG_W       (MARGIN_L + PLOT_W + MARGIN_R)
#define SVG_H       (MARGIN_T + PLOT_H + MARGIN_B)
#define MARKERS_MAX 100 /* points drawn as dots too when there are this few */
#define CACHE_MAX   64  /* charts kept (each a few tens of KiB) */

/* ---- what can be plotted -------------------------------------------------------- */

static bool type_numeric(TsfType t)
{
    switch (t) {
    case TSF_BOOLEAN:
    case TSF_INT32:
    case TSF_INT64:
    case TSF_FLOAT:
    case TSF_DOUBLE:
    case TSF_TIMESTAMP: return true;
    default: return false; /* TEXT, STRING, BLOB; DATE is a calendar day, not a quantity */
    }
}

bool svg_plottable(Tsfs *fs, const Node *sensor)
{
    const SeriesSchema *ss = schema_get_series(engine_schema(fs->engine), sensor->device, sensor->name);
    if (ss) return type_numeric(ss->type);
    pthread_mutex_lock(&fs->lock);
    PendingSensor *ps = fs_pending_get(fs, sensor->device, sensor->name, false);
    bool ok = !ps || !ps->has_type || type_numeric(ps->type);
    pthread_mutex_unlock(&fs->lock);
    return ok;
}

/* ---- the pass over the points --------------------------------------------------- */

typedef struct Col {
    uint64_t n;
    double first, last, min, max;
    int64_t tmin, tmax;
} Col;

typedef struct Pass {
    int64_t x0;             /* time at the left edge */
    unsigned __int128 span; /* times in the plot: x1 - x0 + 1 */
    int col;                /* current column */
    int64_t col_end;        /* last time of the current column */
    Col cols[PLOT_W];
    uint64_t points;  /* plotted (finite values) */
    uint64_t skipped; /* NaN and infinities: gaps */
} Pass;

/* The last time of column c. */
static int64_t col_end_of(const Pass *p, int c)
{
    unsigned __int128 end = (unsigned __int128)(c + 1) * p->span / PLOT_W; /* offset past the column */
    return (int64_t)((uint64_t)p->x0 + (uint64_t)end - 1);
}

static void pass_start(Pass *p, int64_t x0, int64_t x1)
{
    memset(p, 0, sizeof(*p));
    p->x0 = x0;
    p->span = (unsigned __int128)((uint64_t)x1 - (uint64_t)x0) + 1;
    p->col = 0;
    p->col_end = col_end_of(p, 0);
}

static inline void pass_add(Pass *p, int64_t t, double v)
{
    if (!isfinite(v)) {
        p->skipped++;
        return;
    }
    if (t > p->col_end) {
        /* times only grow: the column moves forward, computed once per column change */
        unsigned __int128 off = (unsigned __int128)((uint64_t)t - (uint64_t)p->x0);
        int c = (int)(off * PLOT_W / p->span);
        p->col = c < PLOT_W ? c : PLOT_W - 1;
        p->col_end = col_end_of(p, p->col);
    }
    Col *c = &p->cols[p->col];
    if (c->n++ == 0) {
        c->first = c->min = c->max = v;
        c->tmin = c->tmax = t;
    } else if (v < c->min) {
        c->min = v;
        c->tmin = t;
    } else if (v > c->max) {
        c->max = v;
        c->tmax = t;
    }
    c->last = v;
    p->points++;
}

#define SCAN(T)                                                                                              \
    do {                                                                                                     \
        const T *vals = values;                                                                              \
        for (size_t i = 0; i < n; i++) pass_add(p, times[i], (double)vals[i]);                               \
    } while (0)

static void pass_batch(Pass *p, TsfPhys phys, const int64_t *times, const void *values, size_t n)
{
    switch (phys) {
    case TSF_PHYS_BOOL: SCAN(uint8_t); break;
    case TSF_PHYS_I32: SCAN(int32_t); break;
    case TSF_PHYS_I64: SCAN(int64_t); break;
    case TSF_PHYS_F32: SCAN(float); break;
    case TSF_PHYS_F64: SCAN(double); break;
    default: break;
    }
}

/* Streams the points of [lo, hi] into columns over [x0, x1]. */
static int pass_run(Tsfs *fs, const Node *n, int64_t lo, int64_t hi, Pass *p)
{
    TimeFilter *tf = tf_range(lo, hi);
    if (!tf) return -ENOMEM;
    EngineQuery *q;
    int rc = engine_query_open(fs->engine, n->device, n->name, tf, NULL, 0, &q);
    tf_free(tf);
    if (rc == -ENOENT) return 0; /* dropped meanwhile: no data */
    if (rc) return rc;
    TsfPhys phys = tsf_type_phys(engine_query_type(q));
    for (;;) {
        const int64_t *times;
        const void *values;
        size_t cnt;
        rc = engine_query_next(q, &times, &values, &cnt);
        if (rc || cnt == 0) break;
        pass_batch(p, phys, times, values, cnt);
    }
    engine_query_close(q);
    return rc;
}

/* ---- drawing -------------------------------------------------------------------- */

static void put_escaped(GString *s, const char *t)
{
    for (; *t; t++) {
        switch (*t) {
        case '&': g_string_append(s, "&amp;"); break;
        case '<': g_string_append(s, "&lt;"); break;
        case '>': g_string_append(s, "&gt;"); break;
        case '"': g_string_append(s, "&quot;"); break;
        default: g_string_append_c(s, *t);
        }
    }
}

/* A full time as the ISO form prints it (ms when out of its range). */
static void put_time(GString *s, int64_t t)
{
    char b[LN_MAX_SCALAR];
    size_t l = ln_render_time(t, LN_TIME_ISO, b);
    g_string_append_len(s, b, (gssize)l);
}

/* A tick label: the part of the ISO form that changes at this step. */
static void put_tick_time(GString *s, int64_t t, int64_t step)
{
    char b[LN_MAX_SCALAR];
    size_t l = ln_render_time(t, LN_TIME_ISO, b);
    if (l != 24) { /* beyond year 9999 or before year 0: milliseconds */
        g_string_append_len(s, b, (gssize)l);
    } else if (step >= 86400000) {
        g_string_append_len(s, b, 10); /* 2026-11-22 */
    } else if (step >= 60000) {
        g_string_append_len(s, b + 5, 5); /* 11-22 10:05 */
        g_string_append_c(s, ' ');
        g_string_append_len(s, b + 11, 5);
    } else if (step >= 1000) {
        g_string_append_len(s, b + 11, 8); /* 10:05:30 */
    } else {
        g_string_append_len(s, b + 11, 12); /* 10:05:30.250 */
    }
}

/* The smallest round step of time that gives at most about 7 ticks. */
static int64_t time_step(unsigned __int128 span)
{
    static const int64_t steps[] = {1,
                                    2,
                                    5,
                                    10,
                                    20,
                                    50,
                                    100,
                                    200,
                                    500,
                                    1000,
                                    2000,
                                    5000,
                                    10000,
                                    15000,
                                    30000,
                                    60000,
                                    120000,
                                    300000,
                                    600000,
                                    900000,
                                    1800000,
                                    3600000,
                                    7200000,
                                    10800000,
                                    21600000,
                                    43200000,
                                    86400000,
                                    172800000,
                                    604800000,
                                    1209600000,
                                    2419200000LL,
                                    7862400000LL,
                                    31536000000LL};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
        if (span / (unsigned __int128)steps[i] <= 7) return steps[i];
    /* years: 1, 2, 5 x 10^k */
    int64_t year = 31536000000LL;
    for (int64_t m = 1; m <= INT64_MAX / 10 / year; m *= 10) {
        static const int mult[] = {1, 2, 5};
        for (int k = 0; k < 3; k++)
            if (span / ((unsigned __int128)year * m * mult[k]) <= 7) return year * m * mult[k];
    }
    return INT64_MAX;
}

/* A round step of value that gives about 5 ticks over range r (> 0). */
static double value_step(double r)
{
    double raw = r / 5;
    double p10 = pow(10, floor(log10(raw)));
    double f = raw / p10;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p10;
}

typedef struct Frame {
    int64_t x0;
    unsigned __int128 span;
    double ymin, ymax;
} Frame;

static double px_x(const Frame *f, int64_t t)
{
    return MARGIN_L + (double)((uint64_t)t - (uint64_t)f->x0) / (double)f->span * PLOT_W;
}

/* y of a value; halves taken first so max - min cannot overflow */
static double px_y(const Frame *f, double v)
{
    return MARGIN_T + (f->ymax * 0.5 - v * 0.5) / (f->ymax * 0.5 - f->ymin * 0.5) * PLOT_H;
}

static void put_header(GString *s, const char *title, const char *sub)
{
    g_string_append_printf(s,
                           "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                           "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                           "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
                           SVG_W, SVG_H, SVG_W, SVG_H);
    g_string_append(s, "<title>");
    put_escaped(s, title);
    g_string_append(s, "</title>\n");
    g_string_append_printf(s, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", SVG_W, SVG_H);
    g_string_append_printf(s, "<text x=\"%d\" y=\"22\" text-anchor=\"middle\" font-size=\"16\">", SVG_W / 2);
    put_escaped(s, title);
    g_string_append(s, "</text>\n");
    g_string_append_printf(s, "<text x=\"%d\" y=\"42\" text-anchor=\"middle\" fill=\"#555555\">", SVG_W / 2);
    put_escaped(s, sub);
    g_string_append(s, "</text>\n");
}

static void put_frame(GString *s)
{
    g_string_append_printf(s,
                           "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                           "stroke=\"#000000\"/>\n",
                           MARGIN_L, MARGIN_T, PLOT_W, PLOT_H);
}

static void put_axes(GString *s, const Frame *f)
{
    g_string_append(s, "<g stroke=\"#dddddd\">\n");
    GString *labels = g_string_new("<g fill=\"#333333\">\n");
    /* value ticks */
    double r = f->ymax - f->ymin;
    if (isfinite(r) && r > 0) {
        double step = value_step(r);
        double v0 = ceil(f->ymin / step) * step;
        for (int i = 0; i < 20; i++) {
            double v = v0 + i * step;
            if (v > f->ymax + step * 1e-9) break;
            if (fabs(v) < step * 1e-9) v = 0; /* no -0 or 1e-17 at the origin */
            double y = px_y(f, v);
            g_string_append_printf(s, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", MARGIN_L, y,
                                   MARGIN_L + PLOT_W, y);
            g_string_append_printf(labels, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.6g</text>\n",
                                   MARGIN_L - 6, y + 4, v);
        }
    } else { /* a range a double cannot hold: its ends only */
        g_string_append_printf(labels, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>\n",
                               MARGIN_L - 6, MARGIN_T + 4, f->ymax);
        g_string_append_printf(labels, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.6g</text>\n",
                               MARGIN_L - 6, MARGIN_T + PLOT_H + 4, f->ymin);
    }
    /* time ticks, at multiples of a round step (UTC) */
    int64_t step = time_step(f->span);
    int64_t x1 = (int64_t)((uint64_t)f->x0 + (uint64_t)(f->span - 1));
    int64_t t0 = f->x0 / step * step;
    if (t0 < f->x0 && t0 <= INT64_MAX - step) t0 += step;
    for (int i = 0; i < 20 && t0 >= f->x0 && t0 <= x1; i++) {
        double x = px_x(f, t0);
        g_string_append_printf(s, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n", x, MARGIN_T, x,
                               MARGIN_T + PLOT_H);
        g_string_append_printf(labels, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">", x,
                               MARGIN_T + PLOT_H + 18);
        put_tick_time(labels, t0, step);
        g_string_append(labels, "</text>\n");
        if (t0 > INT64_MAX - step) break;
        t0 += step;
    }
    g_string_append(s, "</g>\n");
    g_string_append_printf(
        labels, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#555555\">time (UTC)</text>\n",
        MARGIN_L + PLOT_W / 2, MARGIN_T + PLOT_H + 38);
    g_string_append(labels, "</g>\n");
    g_string_append_len(s, labels->str, (gssize)labels->len);
    g_string_free(labels, TRUE);
}

/* Appends a point to the path, skipping a repeat of the last one. */
static void path_to(GString *s, bool *started, double *lx, double *ly, double x, double y)
{
    if (*started && x == *lx && y == *ly) return;
    g_string_append_printf(s, "%c%.1f %.1f", *started ? 'L' : 'M', x, y);
    *started = true;
    *lx = x;
    *ly = y;
}

static void put_series(GString *s, const Pass *p, const Frame *f)
{
    g_string_append(s, "<path fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1\" "
                       "stroke-linejoin=\"round\" d=\"");
    bool started = false;
    double lx = 0, ly = 0;
    for (int c = 0; c < PLOT_W; c++) {
        const Col *k = &p->cols[c];
        if (!k->n) continue;
        double x = MARGIN_L + c + 0.5;
        double a = k->min, b = k->max;
        if (k->tmax < k->tmin) a = k->max, b = k->min; /* in time order */
        path_to(s, &started, &lx, &ly, x, px_y(f, k->first));
        path_to(s, &started, &lx, &ly, x, px_y(f, a));
        path_to(s, &started, &lx, &ly, x, px_y(f, b));
        path_to(s, &started, &lx, &ly, x, px_y(f, k->last));
    }
    g_string_append(s, "\"/>\n");
    if (p->points > MARKERS_MAX) return;
    g_string_append(s, "<g fill=\"#1f77b4\">\n");
    for (int c = 0; c < PLOT_W; c++) {
        const Col *k = &p->cols[c];
        if (!k->n) continue;
        double vs[4] = {k->first, k->min, k->max, k->last};
        for (int i = 0; i < 4; i++) {
            if (i && vs[i] == vs[i - 1]) continue;
            g_string_append_printf(s, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", MARGIN_L + c + 0.5,
                                   px_y(f, vs[i]));
        }
    }
    g_string_append(s, "</g>\n");
}

static void put_no_data(GString *s)
{
    g_string_append_printf(s,
                           "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"20\" "
                           "fill=\"#888888\">no data</text>\n",
                           MARGIN_L + PLOT_W / 2, MARGIN_T + PLOT_H / 2);
}

/* Renders the chart of an N_SVG node into a new GString. */
static int render(Tsfs *fs, const Node *n, GString **out)
{
    *out = NULL;
    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    char *title = g_strdup_printf("%s.%s", n->device, n->name);
    GString *sub = g_string_new(NULL);
    if (n->in_part)
        g_string_append_printf(sub, "partition %lld: ", (long long)n->part);
    else
        g_string_append(sub, "all: ");
    int64_t x0 = lo, x1 = hi;
    bool any = true;
    int rc = 0;
    if (!schema_get_series(engine_schema(fs->engine), n->device, n->name)) {
        any = false; /* a sensor without a series yet */
    } else if (!n->in_part) {
        /* the whole series: its extent first (from chunk statistics, mostly) */
        TimeFilter *tf = tf_all();
        Aggregates ag = {0};
        rc = tf ? engine_aggregate(fs->engine, n->device, n->name, tf, &ag) : -ENOMEM;
        tf_free(tf);
        if (rc == -ENOENT) rc = 0, ag.count = 0;
        any = rc == 0 && ag.count > 0;
        x0 = ag.first_time;
        x1 = ag.last_time;
    }
    Pass *p = NULL;
    if (rc == 0 && any) {
        p = malloc(sizeof(*p));
        if (!p) rc = -ENOMEM;
    }
    if (rc == 0 && any) {
        pass_start(p, x0, x1);
        rc = pass_run(fs, n, x0, x1, p);
        any = p->points > 0;
    }
    if (rc) {
        log_msg(LOG_ERR, "%s.svg: reading the series failed: %s", title, strerror(-rc));
        free(p);
        g_free(title);
        g_string_free(sub, TRUE);
        return rc;
    }
    GString *s = g_string_sized_new(64 * 1024);
    if (any) {
        put_time(sub, x0);
        g_string_append(sub, " to ");
        put_time(sub, x1);
        g_string_append_printf(sub, ", %llu point%s", (unsigned long long)p->points,
                               p->points == 1 ? "" : "s");
        if (p->skipped)
            g_string_append_printf(sub, " (%llu NaN or infinite not drawn)", (unsigned long long)p->skipped);
        Frame f = {x0, p->span, INFINITY, -INFINITY};
        for (int c = 0; c < PLOT_W; c++) {
            if (!p->cols[c].n) continue;
            if (p->cols[c].min < f.ymin) f.ymin = p->cols[c].min;
            if (p->cols[c].max > f.ymax) f.ymax = p->cols[c].max;
        }
        if (f.ymin == f.ymax) { /* a flat line in the middle */
            double v = f.ymin, pad = fabs(v) * 0.1;
            if (!(pad >= 1e-300)) pad = 1;
            f.ymin = isfinite(v - pad) ? v - pad : v;
            f.ymax = isfinite(v + pad) ? v + pad : v;
        } else {
            double pad = (f.ymax * 0.5 - f.ymin * 0.5) * 0.04; /* room above and below */
            if (isfinite(f.ymax + pad)) f.ymax += pad;
            if (isfinite(f.ymin - pad)) f.ymin -= pad;
        }
        put_header(s, title, sub->str);
        put_axes(s, &f);
        put_series(s, p, &f);
    } else {
        g_string_append(sub, "no points");
        put_header(s, title, sub->str);
        put_no_data(s);
    }
    put_frame(s);
    g_string_append(s, "</svg>\n");
    free(p);
    g_free(title);
    g_string_free(sub, TRUE);
    *out = s;
    return 0;
}

/* ---- the cache ------------------------------------------------------------------ */

typedef struct Chart {
    uint64_t gen; /* change stamp read before rendering */
    int64_t mtime;
    GString *text;
} Chart;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *cache; /* node key -> Chart* (lives until exit) */

static void chart_free(gpointer p)
{
    Chart *c = p;
    g_string_free(c->text, TRUE);
    g_free(c);
}

/* Calls fn with the current chart of n under the cache lock. */
static int with_chart(Tsfs *fs, Node *n, void (*fn)(void *ctx, const Chart *c), void *ctx)
{
    EngineChange ch;
    engine_change_of(fs->engine, n->device, n->name, &ch);
    bool keep = schema_get_ttl(engine_schema(fs->engine), n->sg) <= 0;
    if (keep) {
        pthread_mutex_lock(&cache_lock);
        Chart *c = cache ? g_hash_table_lookup(cache, n->key) : NULL;
        if (c && c->gen == ch.gen) {
            fn(ctx, c);
            pthread_mutex_unlock(&cache_lock);
            return 0;
        }
        pthread_mutex_unlock(&cache_lock);
    }
    GString *text;
    int rc = render(fs, n, &text);
    if (rc) return rc;
    Chart *c = g_new0(Chart, 1);
    c->gen = ch.gen;
    c->mtime = fs_now_ms();
    c->text = text;
    pthread_mutex_lock(&cache_lock);
    fn(ctx, c);
    if (keep) {
        if (!cache) cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, chart_free);
        if (g_hash_table_size(cache) >= CACHE_MAX && !g_hash_table_contains(cache, n->key)) {
            GHashTableIter it; /* any one goes: charts are cheap to make again */
            gpointer k;
            g_hash_table_iter_init(&it, cache);
            if (g_hash_table_iter_next(&it, &k, NULL)) g_hash_table_iter_remove(&it);
        }
        g_hash_table_replace(cache, g_strdup(n->key), c);
        c = NULL;
    }
    pthread_mutex_unlock(&cache_lock);
    if (c) chart_free(c);
    return 0;
}

typedef struct SizeOut {
    uint64_t size;
    int64_t mtime;
} SizeOut;

static void take_size(void *ctx, const Chart *c)
{
    SizeOut *o = ctx;
    o->size = c->text->len;
    o->mtime = c->mtime;
}

int svg_size(Tsfs *fs, Node *n, uint64_t *size, int64_t *mtime)
{
    SizeOut o = {0, 0};
    int rc = with_chart(fs, n, take_size, &o);
    *size = o.size;
    *mtime = o.mtime;
    return rc;
}

typedef struct CopyOut {
    char *buf;
    size_t len;
} CopyOut;

static void take_copy(void *ctx, const Chart *c)
{
    CopyOut *o = ctx;
    o->len = c->text->len;
    o->buf = g_malloc(o->len + 1);
    memcpy(o->buf, c->text->str, o->len + 1); /* with the GString's NUL */
}

int svg_render(Tsfs *fs, Node *n, char **out, size_t *len)
{
    CopyOut o = {NULL, 0};
    int rc = with_chart(fs, n, take_copy, &o);
    if (rc) return rc;
    *out = o.buf;
    *len = o.len;
    return 0;
}
