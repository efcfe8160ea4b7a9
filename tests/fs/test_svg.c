/*
 * test_svg.c: the <sensor>.svg charts of fs/svg.c, rendered over a real
 * engine without a mount.  What a user looks for in a chart: a one-point
 * spike among many points is drawn (min/max per pixel column), the first
 * and last points reach the plot's edges, NaN leaves no mark, an empty
 * series says "no data", and the chart changes exactly when the data does.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsfs.h"

typedef struct Env {
    Tsfs fs;
    char *dir;
    Node node;
} Env;

static void env_open(Env *v)
{
    memset(v, 0, sizeof(*v));
    char tmpl[] = "/tmp/tsfs-svg-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    v->dir = strdup(d);
    engine_options_default(&v->fs.eopts);
    v->fs.eopts.data_dir = v->dir;
    v->fs.eopts.background_compaction = false;
    cr_assert_eq(engine_open(&v->fs.eopts, &v->fs.engine), 0);
    v->fs.mount_time = fs_now_ms();
    nodes_init(&v->fs);
    cr_assert_eq(engine_create_sg(v->fs.engine, "root.t"), 0);
    v->node.kind = N_SVG;
    v->node.key = "svg-test|root.t.d|x";
    v->node.sg = "root.t";
    v->node.device = "root.t.d";
    v->node.name = "x";
}

static void env_close(Env *v)
{
    cr_assert_eq(engine_close(v->fs.engine), 0);
    nodes_free(&v->fs);
    char *cmd = g_strdup_printf("rm -rf '%s'", v->dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
    free(v->dir);
}

static char *chart(Env *v, size_t *len)
{
    char *buf;
    cr_assert_eq(svg_render(&v->fs, &v->node, &buf, len), 0);
    uint64_t size;
    int64_t mtime;
    cr_assert_eq(svg_size(&v->fs, &v->node, &size, &mtime), 0);
    cr_assert_eq(size, *len, "the size stat reports is the size read");
    return buf;
}

/* The x and y ranges of the coordinates of the first <path>'s d. */
static int path_extent(const char *svg, double *xmin, double *xmax, double *ymin, double *ymax)
{
    const char *d = strstr(svg, " d=\"");
    if (!d) return 0;
    d += 4;
    int n = 0;
    *xmin = *ymin = INFINITY;
    *xmax = *ymax = -INFINITY;
    while (*d == 'M' || *d == 'L') {
        char *end;
        double x = strtod(d + 1, &end);
        double y = strtod(end, &end);
        d = end;
        *xmin = fmin(*xmin, x), *xmax = fmax(*xmax, x);
        *ymin = fmin(*ymin, y), *ymax = fmax(*ymax, y);
        n++;
    }
    return n;
}

Test(svg, a_one_point_spike_among_many_is_drawn)
{
    Env v;
    env_open(&v);
    enum { N = 200000 };
    int64_t *t = malloc(N * sizeof(*t));
    double *x = malloc(N * sizeof(*x));
    for (int i = 0; i < N; i++) t[i] = 1700000000000LL + i * 10, x[i] = 5;
    x[N / 3] = 1000;  /* one spike up */
    x[N / 2] = -1000; /* one dip */
    x[N / 4] = NAN;   /* a gap: not drawn, counted */
    EngineColumn col = {"x", TSF_DOUBLE, x, NULL};
    cr_assert_eq(engine_insert_tablet(v.fs.engine, "root.t.d", t, N, &col, 1), 0);
    size_t len;
    char *svg = chart(&v, &len);
    cr_assert_not_null(strstr(svg, "<title>root.t.d.x</title>"));
    cr_assert_not_null(strstr(svg, "199999 points"), "NaN is not counted as drawn");
    cr_assert_not_null(strstr(svg, "1 NaN or infinite"));
    double x0, x1, y0, y1;
    int pts = path_extent(svg, &x0, &x1, &y0, &y1);
    cr_assert_gt(pts, 2);
    cr_assert_leq(pts, 4 * 800, "at most four points per pixel column");
    /* the plot is 380 px high with 4% room above and below the data */
    cr_assert_gt(y1 - y0, 380 * 0.9, "spike and dip both drawn: %g..%g", y0, y1);
    cr_assert_lt(x1 - x0, 800, "inside the plot");
    cr_assert_gt(x1 - x0, 798, "first and last points at the plot's edges");
    free(svg);
    free(t);
    free(x);
    env_close(&v);
}

Test(svg, empty_series_and_cache_follow_the_data)
{
    Env v;
    env_open(&v);
    cr_assert_eq(
        engine_create_series(v.fs.engine, "root.t.d", "x", TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_LZ4), 0);
    size_t len;
    char *svg = chart(&v, &len);
    cr_assert_not_null(strstr(svg, ">no data</text>"));
    cr_assert_null(strstr(svg, "<path"));
    free(svg);
    int64_t val = 42;
    cr_assert_eq(engine_insert_point(v.fs.engine, "root.t.d", "x", TSF_INT64, 1000, &val), 0);
    char *one = chart(&v, &len);
    cr_assert_null(strstr(one, "no data"), "a new point is seen at once");
    cr_assert_not_null(strstr(one, ", 1 point<"));
    cr_assert_not_null(strstr(one, "<circle"), "a lone point is drawn as a dot");
    size_t len2;
    char *again = chart(&v, &len2);
    cr_assert(len2 == len && memcmp(one, again, len) == 0, "unchanged data, the same chart");
    free(one);
    free(again);
    env_close(&v);
}

Test(svg, numeric_types_only)
{
    Env v;
    env_open(&v);
    static const struct {
        TsfType type;
        bool plot;
    } cases[] = {{TSF_BOOLEAN, true}, {TSF_INT32, true},     {TSF_INT64, true}, {TSF_FLOAT, true},
                 {TSF_DOUBLE, true},  {TSF_TIMESTAMP, true}, {TSF_TEXT, false}, {TSF_STRING, false},
                 {TSF_BLOB, false},   {TSF_DATE, false}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "s%zu", i);
        cr_assert_eq(engine_create_series(v.fs.engine, "root.t.d", name, cases[i].type,
                                          schema_default_encoding(cases[i].type), TSF_COMP_LZ4),
                     0);
        Node s = {.kind = N_SENSOR, .sg = "root.t", .device = "root.t.d", .name = name};
        cr_assert_eq(svg_plottable(&v.fs, &s), cases[i].plot, "%s", tsf_type_name(cases[i].type));
    }
    Node pending = {.kind = N_SENSOR, .sg = "root.t", .device = "root.t.d", .name = "untyped"};
    cr_assert(svg_plottable(&v.fs, &pending), "a sensor with no type yet has a (no data) chart");
    env_close(&v);
}
