/*
 * bench_query.c: reading through the query engine.
 *
 *   build/bench-query [POINTS]
 *
 * One INT64 series of 10 million points (one per second, GORILLA, LZ4) in a
 * fresh engine, closed and reopened, then:
 *   - a full scan: points/s decoded and merged;
 *   - a 1% time-range query: latency (median of 20);
 *   - the same after 10% of the points were rewritten out of order
 *     (unsequence files) and 5% deleted;
 *   - compaction of that partition mess: points/s merged and rewritten.
 * Ends with the line scripts read:
 *   query scan_mpts=... range1pct_ms=... range1pct_mixed_ms=... compact_mpts=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine.h"
#include "query.h"
#include "tsf_error.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double scan(Engine *e, int64_t lo, int64_t hi, size_t *points)
{
    TimeFilter *tf = tf_range(lo, hi);
    double t0 = now();
    EngineQuery *q;
    if (engine_query_open(e, "root.bq.d", "x", tf, NULL, 0, &q) != 0) exit(1);
    const int64_t *t;
    const void *v;
    size_t n, total = 0;
    int64_t sum = 0;
    while (engine_query_next(q, &t, &v, &n) == 0 && n > 0) {
        for (size_t i = 0; i < n; i++) sum += ((const int64_t *)v)[i] ^ t[i];
        total += n;
    }
    engine_query_close(q);
    double dt = now() - t0;
    tf_free(tf);
    if (sum == 42) fprintf(stderr, "(checksum)\n");
    *points = total;
    return dt;
}

static double range_latency(Engine *e, int64_t t0, int64_t span, int64_t total)
{
    double lat[20];
    unsigned seed = 7;
    for (int i = 0; i < 20; i++) {
        int64_t lo = t0 + (int64_t)(rand_r(&seed) % (unsigned)(total - span));
        size_t n;
        lat[i] = scan(e, lo, lo + span - 1, &n) * 1000;
    }
    qsort(lat, 20, sizeof(double), cmp_d);
    return (lat[9] + lat[10]) / 2;
}

int main(int argc, char **argv)
{
    int64_t total = argc > 1 ? atoll(argv[1]) : 10000000;
    const char *base = getenv("BENCH_DIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tsfs-bench-query-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) return 1;
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_OFF;
    o.background_compaction = false;
    o.partition_interval = INT64_MAX / 4; /* one partition: the scan is not split by weeks */
    Engine *e;
    if (engine_open(&o, &e) || engine_create_sg(e, "root.bq") ||
        engine_create_series(e, "root.bq.d", "x", TSF_INT64, TSF_ENC_GORILLA, TSF_COMP_LZ4))
        return 1;
    const int64_t t0 = 1700000000000LL;
    enum { B = 100000 };
    int64_t *t = malloc(B * sizeof(int64_t)), *v = malloc(B * sizeof(int64_t));
    uint64_t x = 99;
    for (int64_t k = 0; k < total; k += B) {
        for (int i = 0; i < B; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            t[i] = t0 + (k + i) * 1000, v[i] = (int64_t)((x >> 33) % 1000);
        }
        EngineColumn col = {"x", TSF_INT64, v, NULL};
        if (engine_insert_tablet(e, "root.bq.d", t, B, &col, 1)) return 1;
    }
    if (engine_close(e) || engine_open(&o, &e)) return 1;
    size_t n;
    scan(e, INT64_MIN, INT64_MAX, &n); /* warm the page cache */
    double ts = scan(e, INT64_MIN, INT64_MAX, &n);
    double scan_mpts = (double)n / ts / 1e6;
    int64_t span = total / 100 * 1000;
    double r1 = range_latency(e, t0, span, total * 1000);
    /* 10% rewritten out of order (every 10th point), 5% deleted */
    for (int64_t k = 0; k < total / 10; k += B) {
        int m = 0;
        for (int i = 0; i < B && k + i < total / 10; i++, m++) t[i] = t0 + (k + i) * 10 * 1000, v[i] = -1;
        EngineColumn col = {"x", TSF_INT64, v, NULL};
        if (engine_insert_tablet(e, "root.bq.d", t, (size_t)m, &col, 1)) return 1;
    }
    if (engine_flush_all(e)) return 1;
    for (int d = 0; d < 20; d++) {
        int64_t lo = t0 + (int64_t)d * (total / 20) * 1000;
        engine_delete(e, "root.bq.d", "x", lo, lo + (total / 400) * 1000 - 1);
    }
    double r2 = range_latency(e, t0, span, total * 1000);
    double ts2 = scan(e, INT64_MIN, INT64_MAX, &n);
    double c0 = now();
    if (engine_close(e) || engine_open(&o, &e)) return 1;
    c0 = now();
    if (engine_compact_all(e)) return 1;
    double ct = now() - c0;
    double ts3 = scan(e, INT64_MIN, INT64_MAX, &n);
    fprintf(stderr,
            "  %lld points: full scan %.3f s; after rewrites/deletes %.3f s; compaction %.3f s; after it "
            "%.3f s\n",
            (long long)total, ts, ts2, ct, ts3);
    engine_close(e);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) return 1;
    printf("query scan_mpts=%.1f range1pct_ms=%.2f range1pct_mixed_ms=%.2f compact_mpts=%.1f\n", scan_mpts,
           r1, r2, (double)total / ct / 1e6);
    free(t);
    free(v);
    return 0;
}
