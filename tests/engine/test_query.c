/*
 * test_query.c: reading back through the query engine.
 *
 * The model-based test drives the engine with random inserts (in and out
 * of order, repeated times, several partitions), deletions, flushes, seals,
 * compactions and restarts, and after every step compares what queries
 * return with a plain in-memory model.  It prints its seed; TSFS_SEED=N replays a run and
 * TSFS_LONG=1 runs 10,000 steps instead of 1,500.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "query.h"
#include "tsf_error.h"

static char *make_dir(void)
{
    char tmpl[] = "/tmp/tsfs-query-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    return strdup(d);
}

static void remove_dir(const char *dir)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
}

static Engine *open_small(const char *dir)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_OFF;
    o.partition_interval = 1000;
    o.memtable_size = 64 << 10;
    o.file_size = 16 << 10;
    o.background_compaction = false; /* compactions are steps of the test */
    Engine *e;
    int rc = engine_open(&o, &e);
    cr_assert_eq(rc, 0, "engine_open: %s", tsf_strerror(rc));
    return e;
}

/* ---- the model ------------------------------------------------------------------ */

#define NDEV 2
#define NSER 3

typedef struct Model {
    GTree *series[NDEV][NSER]; /* int64 time -> int64 value */
    bool sealed[64];           /* partitions 0..63 */
} Model;

static gint cmp_i64(gconstpointer a, gconstpointer b, gpointer u)
{
    (void)u;
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void model_init(Model *m)
{
    memset(m, 0, sizeof(*m));
    for (int d = 0; d < NDEV; d++)
        for (int s = 0; s < NSER; s++) m->series[d][s] = g_tree_new_full(cmp_i64, NULL, g_free, g_free);
}

static void model_free(Model *m)
{
    for (int d = 0; d < NDEV; d++)
        for (int s = 0; s < NSER; s++) g_tree_destroy(m->series[d][s]);
}

static void model_put(Model *m, int d, int s, int64_t t, int64_t v)
{
    int64_t *k = g_new(int64_t, 1), *val = g_new(int64_t, 1);
    *k = t;
    *val = v;
    g_tree_replace(m->series[d][s], k, val);
}

typedef struct Range {
    int64_t lo, hi;
    GArray *doomed;
} Range;

static gboolean collect_range(gpointer k, gpointer v, gpointer u)
{
    (void)v;
    Range *r = u;
    int64_t t = *(int64_t *)k;
    if (t > r->hi) return TRUE;
    if (t >= r->lo) g_array_append_val(r->doomed, t);
    return FALSE;
}

static void model_delete(Model *m, int d, int s, int64_t lo, int64_t hi)
{
    Range r = {lo, hi, g_array_new(FALSE, FALSE, sizeof(int64_t))};
    g_tree_foreach(m->series[d][s], collect_range, &r);
    for (guint i = 0; i < r.doomed->len; i++)
        g_tree_remove(m->series[d][s], &g_array_index(r.doomed, int64_t, i));
    g_array_free(r.doomed, TRUE);
}

static const char *dev_name(int d)
{
    return d == 0 ? "root.q.d0" : "root.q.d1";
}
static const char *ser_name(int s)
{
    return s == 0 ? "a" : (s == 1 ? "b" : "c");
}

/* ---- checking ------------------------------------------------------------------ */

typedef struct Expect {
    int64_t lo, hi;
    GArray *t, *v;
} Expect;

static gboolean expect_range(gpointer k, gpointer v, gpointer u)
{
    Expect *x = u;
    int64_t t = *(int64_t *)k;
    if (t > x->hi) return TRUE;
    if (t >= x->lo) {
        g_array_append_val(x->t, t);
        g_array_append_val(x->v, *(int64_t *)v);
    }
    return FALSE;
}

static void check_series(Engine *e, Model *m, int d, int s, int64_t lo, int64_t hi, unsigned seed, int step)
{
    Expect x = {lo, hi, g_array_new(FALSE, FALSE, sizeof(int64_t)),
                g_array_new(FALSE, FALSE, sizeof(int64_t))};
    g_tree_foreach(m->series[d][s], expect_range, &x);
    TimeFilter *tf = tf_range(lo, hi);
    EngineQuery *q;
    int rc = engine_query_open(e, dev_name(d), ser_name(s), tf, NULL, 0, &q);
    if (rc == -ENOENT) {
        cr_assert_eq(x.t->len, 0, "seed %u step %d: %s.%s unknown but the model has %u points", seed, step,
                     dev_name(d), ser_name(s), x.t->len);
    } else {
        cr_assert_eq(rc, 0, "seed %u step %d: query open: %s", seed, step, tsf_strerror(rc));
        const int64_t *t;
        const void *v;
        size_t n;
        guint k = 0;
        while ((rc = engine_query_next(q, &t, &v, &n)) == 0 && n > 0) {
            for (size_t i = 0; i < n; i++, k++) {
                cr_assert_lt(k, x.t->len,
                             "seed %u step %d: %s.%s [%" PRId64 ",%" PRId64 "]: extra point t=%" PRId64, seed,
                             step, dev_name(d), ser_name(s), lo, hi, t[i]);
                cr_assert_eq(t[i], g_array_index(x.t, int64_t, k),
                             "seed %u step %d: %s.%s point %u: time %" PRId64 " != %" PRId64, seed, step,
                             dev_name(d), ser_name(s), k, t[i], g_array_index(x.t, int64_t, k));
                cr_assert_eq(((const int64_t *)v)[i], g_array_index(x.v, int64_t, k),
                             "seed %u step %d: %s.%s t=%" PRId64 ": value %" PRId64 " != %" PRId64, seed,
                             step, dev_name(d), ser_name(s), t[i], ((const int64_t *)v)[i],
                             g_array_index(x.v, int64_t, k));
            }
        }
        cr_assert_eq(rc, 0);
        cr_assert_eq(k, x.t->len, "seed %u step %d: %s.%s: %u points, model has %u", seed, step, dev_name(d),
                     ser_name(s), k, x.t->len);
        engine_query_close(q);
        /* aggregations (partly from statistics) agree with the model */
        Aggregates ag;
        cr_assert_eq(engine_aggregate(e, dev_name(d), ser_name(s), tf, &ag), 0);
        cr_assert_eq(ag.count, x.t->len, "seed %u step %d: count", seed, step);
        if (x.t->len) {
            double sum = 0, mn = 1e18, mx = -1e18;
            for (guint i = 0; i < x.v->len; i++) {
                double val = (double)g_array_index(x.v, int64_t, i);
                sum += val;
                if (val < mn) mn = val;
                if (val > mx) mx = val;
            }
            cr_assert_eq(ag.sum, sum, "seed %u step %d: sum", seed, step);
            cr_assert_eq(ag.min, mn, "seed %u step %d: min", seed, step);
            cr_assert_eq(ag.max, mx, "seed %u step %d: max", seed, step);
            cr_assert_eq(ag.first_time, g_array_index(x.t, int64_t, 0));
            cr_assert_eq(ag.first, (double)g_array_index(x.v, int64_t, 0), "seed %u step %d: first", seed,
                         step);
            cr_assert_eq(ag.last_time, g_array_index(x.t, int64_t, x.t->len - 1));
            cr_assert_eq(ag.last, (double)g_array_index(x.v, int64_t, x.v->len - 1), "seed %u step %d: last",
                         seed, step);
        }
    }
    tf_free(tf);
    g_array_free(x.t, TRUE);
    g_array_free(x.v, TRUE);
}

static void check_all(Engine *e, Model *m, unsigned seed, int step, GRand *rng)
{
    for (int d = 0; d < NDEV; d++)
        for (int s = 0; s < NSER; s++) {
            check_series(e, m, d, s, INT64_MIN, INT64_MAX, seed, step);
            int64_t a = g_rand_int_range(rng, -2000, 30000), b = a + g_rand_int_range(rng, 0, 5000);
            check_series(e, m, d, s, a, b, seed, step);
        }
}

Test(query, model_based_random_steps, .timeout = 3600)
{
    const char *se = getenv("TSFS_SEED"), *lng = getenv("TSFS_LONG");
    struct timeval tv;
    gettimeofday(&tv, NULL);
    unsigned seed = se ? (unsigned)strtoul(se, NULL, 10) : (unsigned)(tv.tv_usec ^ tv.tv_sec);
    int steps = lng && *lng == '1' ? 10000 : 1500;
    cr_log_info("model-based test: seed %u (TSFS_SEED=%u replays it), %d steps", seed, seed, steps);
    fprintf(stderr, "query model test seed %u\n", seed);
    GRand *rng = g_rand_new_with_seed(seed);
    char *dir = make_dir();
    Engine *e = open_small(dir);
    cr_assert_eq(engine_create_sg(e, "root.q"), 0);
    Model m;
    model_init(&m);
    int64_t clock = 0;
    for (int step = 0; step < steps; step++) {
        int op = g_rand_int_range(rng, 0, 100);
        if (op < 70) { /* a tablet: one device, 1-3 series, 1-40 rows */
            int d = g_rand_int_range(rng, 0, NDEV);
            int rows = g_rand_int_range(rng, 1, 41);
            int64_t t[40], v[3][40];
            uint8_t pres[3][40];
            bool out_of_order = g_rand_int_range(rng, 0, 4) == 0;
            for (int i = 0; i < rows; i++) {
                if (out_of_order)
                    t[i] = g_rand_int_range(rng, -1000, (int)clock + 10);
                else
                    t[i] = clock += g_rand_int_range(rng, 0, 30); /* repeats possible */
                for (int s = 0; s < 3; s++) {
                    v[s][i] = g_rand_int_range(rng, -1000000, 1000000);
                    pres[s][i] = g_rand_int_range(rng, 0, 5) != 0;
                }
            }
            int ncols = g_rand_int_range(rng, 1, 4);
            EngineColumn cols[3];
            for (int c = 0; c < ncols; c++) cols[c] = (EngineColumn){ser_name(c), TSF_INT64, v[c], pres[c]};
            bool touches_sealed = false;
            for (int i = 0; i < rows; i++) {
                int64_t pid = t[i] >= 0 ? t[i] / 1000 : -1;
                if (pid >= 0 && pid < 64 && m.sealed[pid]) touches_sealed = true;
            }
            int rc = engine_insert_tablet(e, dev_name(d), t, (size_t)rows, cols, (size_t)ncols);
            if (touches_sealed) {
                cr_assert_eq(rc, -EROFS, "seed %u step %d: a write into a sealed partition", seed, step);
            } else {
                cr_assert_eq(rc, 0, "seed %u step %d: insert: %s", seed, step, tsf_strerror(rc));
                for (int i = 0; i < rows; i++)
                    for (int c = 0; c < ncols; c++)
                        if (pres[c][i]) model_put(&m, d, c, t[i], v[c][i]);
            }
        } else if (op < 80) { /* delete a range of a series or a device */
            int d = g_rand_int_range(rng, 0, NDEV);
            int s = g_rand_int_range(rng, -1, NSER);
            int64_t a = g_rand_int_range(rng, -1000, (int)clock + 100), b = a + g_rand_int_range(rng, 0, 500);
            int rc = engine_delete(e, dev_name(d), s < 0 ? NULL : ser_name(s), a, b);
            bool sealed_in_range = false;
            for (int64_t p = a < 0 ? 0 : a / 1000; p <= b / 1000 && p < 64; p++)
                if (m.sealed[p]) sealed_in_range = true;
            if (rc == -EROFS) {
                cr_assert(sealed_in_range, "seed %u step %d: EROFS without a sealed partition", seed, step);
            } else {
                cr_assert_eq(rc, 0, "seed %u step %d: delete: %s", seed, step, tsf_strerror(rc));
                for (int k = 0; k < NSER; k++)
                    if (s < 0 || s == k) model_delete(&m, d, k, a, b);
            }
        } else if (op < 87) {
            cr_assert_eq(engine_flush_all(e), 0);
        } else if (op < 91) { /* seal or unseal an old partition */
            int64_t p = g_rand_int_range(rng, 0, (int)(clock / 1000) + 1);
            if (p < 64 && p < clock / 1000) {
                if (m.sealed[p])
                    cr_assert_eq(engine_unseal_partition(e, "root.q", p), 0);
                else
                    cr_assert_eq(engine_seal_partition(e, "root.q", p), 0);
                m.sealed[p] = !m.sealed[p];
            }
        } else if (op < 93) {
            cr_assert_eq(engine_compact_all(e), 0, "seed %u step %d: compaction", seed, step);
        } else if (op < 95) { /* restart */
            cr_assert_eq(engine_close(e), 0, "seed %u step %d: close", seed, step);
            e = open_small(dir);
        } else {
            /* nothing: just check */
        }
        check_all(e, &m, seed, step, rng);
    }
    cr_assert_eq(engine_close(e), 0);
    model_free(&m);
    g_rand_free(rng);
    remove_dir(dir);
    free(dir);
}

/* ---- the reader reads little --------------------------------------------------------- */

Test(query, narrow_range_reads_few_pages, .timeout = 300)
{
    char *dir = make_dir();
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_OFF;
    Engine *e;
    cr_assert_eq(engine_open(&o, &e), 0);
    cr_assert_eq(engine_create_sg(e, "root.big"), 0);
    enum { N = 1000000, B = 10000 };
    int64_t *t = malloc(B * sizeof(int64_t)), *v = malloc(B * sizeof(int64_t));
    for (int k = 0; k < N / B; k++) {
        for (int i = 0; i < B; i++) t[i] = (int64_t)k * B + i, v[i] = i;
        EngineColumn col = {"x", TSF_INT64, v, NULL};
        cr_assert_eq(engine_insert_tablet(e, "root.big.d", t, B, &col, 1), 0);
    }
    cr_assert_eq(engine_close(e), 0);
    cr_assert_eq(engine_open(&o, &e), 0);
    TimeFilter *tf = tf_range(500000, 509999); /* 1% of the time range */
    EngineQuery *q;
    cr_assert_eq(engine_query_open(e, "root.big.d", "x", tf, NULL, 0, &q), 0);
    const int64_t *qt;
    const void *qv;
    size_t n, total = 0;
    while (engine_query_next(q, &qt, &qv, &n) == 0 && n > 0) total += n;
    QueryCounters c;
    engine_query_counters(q, &c);
    engine_query_close(q);
    cr_assert_eq(total, 10000);
    /* 100 pages of 10,000 points hold the series; the range needs one or two */
    cr_assert_leq(c.pages_decoded, 3, "decoded %llu pages", (unsigned long long)c.pages_decoded);
    tf_free(tf);
    Aggregates ag;
    TimeFilter *all = tf_all();
    cr_assert_eq(engine_aggregate(e, "root.big.d", "x", all, &ag), 0);
    cr_assert_eq(ag.count, N);
    cr_assert_eq(ag.min, 0);
    cr_assert_eq(ag.max, B - 1);
    cr_assert_eq(ag.first_time, 0);
    cr_assert_eq(ag.last_time, N - 1);
    cr_assert_gt(ag.chunks_from_stats, 0, "closed, untouched chunks are answered from statistics");
    cr_assert_eq(ag.pages_decoded, 0, "so no page is read (%llu were)", (unsigned long long)ag.pages_decoded);
    tf_free(all);
    cr_assert_eq(engine_close(e), 0);
    free(t);
    free(v);
    remove_dir(dir);
    free(dir);
}

Test(query, filters_rows_and_ttl)
{
    char *dir = make_dir();
    Engine *e = open_small(dir);
    cr_assert_eq(engine_create_sg(e, "root.f"), 0);
    int64_t t[6] = {1, 2, 3, 4, 5, 6};
    double a[6] = {1, 2, 3, 4, 5, 6};
    int64_t b[6] = {10, 20, 30, 40, 50, 60};
    uint8_t pa[6] = {1, 0, 1, 0, 1, 1}, pb[6] = {0, 1, 1, 1, 0, 1};
    EngineColumn cols[2] = {{"a", TSF_DOUBLE, a, pa}, {"b", TSF_INT64, b, pb}};
    cr_assert_eq(engine_insert_tablet(e, "root.f.d", t, 6, cols, 2), 0);
    /* (t < 3 or t >= 5) and value > 1 */
    TimeFilter *lt = tf_lt(3), *ge = tf_ge(5), *either = tf_or(lt, ge);
    ValueFilter vf = {VF_GT, 1};
    EngineQuery *q;
    cr_assert_eq(engine_query_open(e, "root.f.d", "a", either, &vf, 1, &q), 0);
    const int64_t *qt;
    const void *qv;
    size_t n;
    cr_assert_eq(engine_query_next(q, &qt, &qv, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq(qt[0], 5);
    cr_assert_eq(qt[1], 6);
    engine_query_close(q);
    /* device rows: one per time, empty cells where a series has nothing */
    const char *names[2] = {"a", "b"};
    EngineRows *r;
    cr_assert_eq(engine_rows_open(e, "root.f.d", names, 2, NULL, &r), 0);
    int64_t rt;
    const void *vals[2];
    int rows = 0;
    while (engine_rows_next(r, &rt, vals) == 1) {
        cr_assert_eq(rt, t[rows]);
        cr_assert_eq(vals[0] != NULL, pa[rows] != 0);
        cr_assert_eq(vals[1] != NULL, pb[rows] != 0);
        if (vals[1]) cr_assert_eq(*(const int64_t *)vals[1], b[rows]);
        rows++;
    }
    cr_assert_eq(rows, 6);
    engine_rows_close(r);
    /* TTL: these times (1970) are long expired: invisible at once, refused on insert */
    cr_assert_eq(engine_set_ttl(e, "root.f", 3600 * 1000), 0);
    Aggregates ag;
    cr_assert_eq(engine_aggregate(e, "root.f.d", "a", NULL, &ag), 0);
    cr_assert_eq(ag.count, 0);
    double x = 1;
    cr_assert_eq(engine_insert_point(e, "root.f.d", "a", TSF_DOUBLE, 7, &x), -EINVAL);
    cr_assert_eq(engine_set_ttl(e, "root.f", 0), 0);
    cr_assert_eq(engine_aggregate(e, "root.f.d", "a", NULL, &ag), 0);
    cr_assert_eq(ag.count, 4);
    cr_assert_eq(ag.sum, 1 + 3 + 5 + 6);
    tf_free(lt);
    tf_free(ge);
    tf_free(either);
    cr_assert_eq(engine_close(e), 0);
    remove_dir(dir);
    free(dir);
}

/* ---- compaction ------------------------------------------------------------------------ */

static void count_files(const char *dir, const char *kind, int *files, long long *bytes)
{
    char *cmd = g_strdup_printf("find '%s/%s' -name '*.tsfile' -printf '%%s\\n' 2>/dev/null", dir, kind);
    FILE *f = popen(cmd, "r");
    g_free(cmd);
    *files = 0;
    *bytes = 0;
    long long sz;
    while (f && fscanf(f, "%lld", &sz) == 1) {
        (*files)++;
        *bytes += sz;
    }
    if (f) pclose(f);
}

Test(query, compaction_merges_unsequence_applies_deletions_and_gives_space_back, .timeout = 300)
{
    char *dir = make_dir();
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_OFF;
    o.background_compaction = false;
    Engine *e;
    cr_assert_eq(engine_open(&o, &e), 0);
    cr_assert_eq(engine_create_sg(e, "root.k"), 0);
    enum { N = 100000 };
    int64_t *t = malloc(N * sizeof(int64_t)), *v = malloc(N * sizeof(int64_t));
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        t[i] = i, v[i] = (int64_t)(x % 1000003u);
    }
    EngineColumn col = {"x", TSF_INT64, v, NULL};
    cr_assert_eq(engine_insert_tablet(e, "root.k.d", t, N, &col, 1), 0);
    cr_assert_eq(engine_flush_all(e), 0);
    /* rewrite every 10th point out of order: unsequence data, newer */
    for (int i = 0; i < N / 10; i++) t[i] = (int64_t)i * 10, v[i] = -(int64_t)i;
    cr_assert_eq(engine_insert_tablet(e, "root.k.d", t, N / 10, &col, 1), 0);
    cr_assert_eq(engine_close(e), 0);
    cr_assert_eq(engine_open(&o, &e), 0);
    cr_assert_eq(engine_delete(e, "root.k.d", "x", 0, N / 2 - 1), 0); /* half the data */
    int seqf, unseqf;
    long long seqb, unseqb;
    count_files(dir, "sequence", &seqf, &seqb);
    count_files(dir, "unsequence", &unseqf, &unseqb);
    cr_assert_geq(unseqf, 1);
    cr_assert_eq(engine_compact_all(e), 0);
    EngineStats st;
    engine_get_stats(e, &st);
    cr_assert_eq(st.compactions, 1);
    int seqf2, unseqf2;
    long long seqb2, unseqb2;
    count_files(dir, "sequence", &seqf2, &seqb2);
    count_files(dir, "unsequence", &unseqf2, &unseqb2);
    cr_assert_eq(unseqf2, 0, "unsequence files are merged away");
    cr_assert_eq(seqf2, 1);
    cr_assert_lt(seqb2, (seqb + unseqb) * 3 / 4, "space of deleted data is given back (%lld -> %lld)",
                 seqb + unseqb, seqb2);
    /* what queries see did not change */
    Aggregates ag;
    cr_assert_eq(engine_aggregate(e, "root.k.d", "x", NULL, &ag), 0);
    cr_assert_eq(ag.count, N / 2);
    cr_assert_eq(ag.first_time, N / 2);
    cr_assert_eq(ag.min, -(N / 10 - 1), "the newer rewrite wins");
    cr_assert_eq(engine_close(e), 0);
    /* and after a restart */
    cr_assert_eq(engine_open(&o, &e), 0);
    cr_assert_eq(engine_aggregate(e, "root.k.d", "x", NULL, &ag), 0);
    cr_assert_eq(ag.count, N / 2);
    cr_assert_eq(engine_close(e), 0);
    free(t);
    free(v);
    remove_dir(dir);
    free(dir);
}

/* SIGKILL while a (throttled, so slow) background compaction runs: after a
 * restart the data equals what it was, with deletions applied, whatever
 * moment the kill hit. */
static void fill_for_compaction(const char *dir, GHashTable *expect)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_OFF;
    o.file_size = 64 << 10;
    o.background_compaction = false;
    Engine *e;
    cr_assert_eq(engine_open(&o, &e), 0);
    cr_assert_eq(engine_create_sg(e, "root.kc"), 0);
    enum { N = 200000 };
    int64_t *t = malloc(N * sizeof(int64_t)), *v = malloc(N * sizeof(int64_t));
    uint64_t x = 1234567;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        t[i] = i, v[i] = (int64_t)(x % 1000000);
    }
    EngineColumn col = {"x", TSF_INT64, v, NULL};
    for (int k = 0; k < N; k += 20000) {
        EngineColumn part = {"x", TSF_INT64, v + k, NULL};
        cr_assert_eq(engine_insert_tablet(e, "root.kc.d", t + k, 20000, &part, 1), 0);
    }
    cr_assert_eq(engine_flush_all(e), 0);
    for (int i = 0; i < N; i++) g_hash_table_insert(expect, g_memdup2(&t[i], 8), g_memdup2(&v[i], 8));
    for (int i = 0; i < N / 7; i++) t[i] = (int64_t)i * 7, v[i] = -i;
    cr_assert_eq(engine_insert_tablet(e, "root.kc.d", t, N / 7, &col, 1), 0);
    for (int i = 0; i < N / 7; i++) g_hash_table_insert(expect, g_memdup2(&t[i], 8), g_memdup2(&v[i], 8));
    cr_assert_eq(engine_delete(e, "root.kc.d", "x", 50000, 59999), 0);
    for (int64_t i = 50000; i <= 59999; i++) g_hash_table_remove(expect, &i);
    cr_assert_eq(engine_close(e), 0);
    free(t);
    free(v);
}

Test(query, sigkill_during_compaction_keeps_the_data, .timeout = 600)
{
    const char *lng = getenv("TSFS_LONG");
    int rounds = lng && *lng == '1' ? 10 : 3, interrupted = 0;
    for (int round = 0; round < rounds; round++) {
        char *dir = make_dir();
        GHashTable *expect = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
        fill_for_compaction(dir, expect);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            EngineOptions o;
            engine_options_default(&o);
            o.data_dir = dir;
            o.compaction_mb_per_s = 1; /* slow, so the kill lands inside it */
            Engine *e;
            if (engine_open(&o, &e) != 0) _exit(3);
            for (;;) pause();
        }
        usleep(2000000 + (useconds_t)g_random_int_range(0, 1500000));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        char *log = g_strdup_printf("%s/system/compaction.log", dir);
        char *temps = g_strdup_printf("find '%s' -name '*.compacting' | grep -q .", dir);
        if (access(log, F_OK) == 0 || system(temps) == 0) interrupted++;
        g_free(log);
        g_free(temps);
        EngineOptions ro;
        engine_options_default(&ro);
        ro.data_dir = dir;
        ro.partition_interval = 0; /* the one the data was written with */
        ro.background_compaction = false;
        Engine *e;
        cr_assert_eq(engine_open(&ro, &e), 0);
        EngineQuery *q;
        cr_assert_eq(engine_query_open(e, "root.kc.d", "x", NULL, NULL, 0, &q), 0);
        const int64_t *qt;
        const void *qv;
        size_t n, total = 0;
        while (engine_query_next(q, &qt, &qv, &n) == 0 && n > 0) {
            for (size_t i = 0; i < n; i++) {
                int64_t *want = g_hash_table_lookup(expect, &qt[i]);
                cr_assert_not_null(want, "round %d: t=%" PRId64 " should not be there", round, qt[i]);
                cr_assert_eq(((const int64_t *)qv)[i], *want,
                             "round %d: t=%" PRId64 " got %" PRId64 " want %" PRId64, round, qt[i],
                             ((const int64_t *)qv)[i], *want);
            }
            total += n;
        }
        engine_query_close(q);
        cr_assert_eq(total, g_hash_table_size(expect), "round %d: %zu points, want %u", round, total,
                     g_hash_table_size(expect));
        cr_assert_eq(engine_close(e), 0);
        g_hash_table_destroy(expect);
        remove_dir(dir);
        free(dir);
    }
    cr_log_info("compaction crash test: %d of %d kills landed inside a compaction", interrupted, rounds);
    fprintf(stderr, "compaction crash test: %d of %d kills landed inside a compaction\n", interrupted,
            rounds);
}
