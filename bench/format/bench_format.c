/*
 * bench_format.c: the format benchmark workload of
 * shared/bench/format-workload.md, in one process.
 *
 *   build/bench-format VARIANT [ITERATIONS]     VARIANT = MIX | INT64 | DOUBLE
 *
 * 1 device x 10 sensors x 1,000,000 rows, GORILLA values, LZ4, non-aligned,
 * default page limits, one chunk group.  Data is generated before the clock
 * starts; "write" times writing and closing the file, "read" times opening
 * it, walking the metadata index and decoding every time and value (summed
 * so nothing is optimised away).  A warm-up round runs first; figures are
 * medians.  The last line is the contract scripts read:
 *
 *   format VARIANT bytes_per_point=4.024 write_mpts=14.1 read_mpts=30.6
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "reader.h"
#include "series_scan.h"
#include "writer.h"

#define SENSORS 10
#define ROWS    1000000

typedef struct Workload {
    int64_t *times;
    void *values[SENSORS];
    TsfType types[SENSORS];
} Workload;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void generate(Workload *w, const char *variant)
{
    w->times = malloc(ROWS * sizeof(int64_t));
    for (int i = 0; i < ROWS; i++) w->times[i] = 1700000000000LL + 1000LL * i;
    for (int k = 0; k < SENSORS; k++) {
        bool is_int = strcmp(variant, "INT64") == 0 || (strcmp(variant, "MIX") == 0 && k % 2 == 0);
        w->types[k] = is_int ? TSF_INT64 : TSF_DOUBLE;
        w->values[k] = malloc(ROWS * 8);
        uint64_t x = (uint64_t)k + 1;
        for (int i = 0; i < ROWS; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            uint64_t r = x >> 33;
            if (is_int)
                ((int64_t *)w->values[k])[i] = (int64_t)(r % 1000) + 1000LL * k;
            else
                ((double *)w->values[k])[i] = (double)(r % 100000) / 100.0 + k;
        }
    }
}

static int write_file(const Workload *w, const char *path)
{
    TsfWriter *wr;
    int rc = tsf_writer_open(path, NULL, &wr);
    if (rc == 0) rc = tsf_writer_begin_group(wr, "root.sg.d0");
    for (int k = 0; k < SENSORS && rc == 0; k++) {
        char name[16];
        snprintf(name, sizeof name, "s%d", k);
        rc = tsf_writer_begin_series(wr, name, w->types[k], TSF_ENC_GORILLA, TSF_COMP_LZ4);
        if (rc == 0) rc = tsf_writer_append(wr, w->times, w->values[k], ROWS);
        if (rc == 0) rc = tsf_writer_end_series(wr);
    }
    if (rc == 0) rc = tsf_writer_end_group(wr);
    int crc = tsf_writer_close(wr);
    return rc ? rc : crc;
}

typedef struct ReadSum {
    double sum;
    uint64_t points;
    TsfType type;
} ReadSum;

static int add_points(void *ctx, const int64_t *times, const void *values, size_t n)
{
    ReadSum *s = ctx;
    int64_t ts = 0;
    double vs = 0;
    if (s->type == TSF_INT64) {
        const int64_t *v = values;
        for (size_t i = 0; i < n; i++) {
            ts += times[i];
            vs += (double)v[i];
        }
    } else {
        const double *v = values;
        for (size_t i = 0; i < n; i++) {
            ts += times[i];
            vs += v[i];
        }
    }
    s->sum += (double)ts + vs;
    s->points += n;
    return 0;
}

typedef struct Metas {
    TsfSeriesMeta m[SENSORS * 2];
    int n;
} Metas;

static int keep_meta(void *ctx, const TsfSeriesMeta *sm)
{
    Metas *ms = ctx;
    if (ms->n >= SENSORS * 2) return -1;
    return tsf_series_meta_copy(&ms->m[ms->n++], sm);
}

static int read_file(const char *path, ReadSum *total)
{
    TsfReader *r;
    int rc = tsf_reader_open(path, &r, NULL);
    if (rc) return rc;
    Metas ms = {.n = 0};
    rc = tsf_reader_foreach_series(r, keep_meta, &ms);
    for (int i = 0; i < ms.n && rc == 0; i++) {
        ReadSum s = {.type = ms.m[i].type};
        rc = tsf_series_scan(r, &ms.m[i], NULL, INT64_MIN, INT64_MAX, add_points, &s, NULL);
        total->sum += s.sum;
        total->points += s.points;
    }
    for (int i = 0; i < ms.n; i++) tsf_series_meta_free(&ms.m[i]);
    tsf_reader_close(r);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "MIX") && strcmp(argv[1], "INT64") && strcmp(argv[1], "DOUBLE"))) {
        fprintf(stderr, "usage: bench-format MIX|INT64|DOUBLE [ITERATIONS]\n");
        return 2;
    }
    const char *variant = argv[1];
    int iters = argc > 2 ? atoi(argv[2]) : 5;
    if (iters < 1) iters = 1;
    Workload w;
    generate(&w, variant);
    char path[256];
    const char *dir = getenv("BENCH_DIR");
    snprintf(path, sizeof path, "%s/tsfs-bench-%s-%d.tsfile", dir ? dir : "/tmp", variant, (int)getpid());
    double wt[64], rt[64];
    if (iters > 64) iters = 64;
    uint64_t points = (uint64_t)SENSORS * ROWS;
    for (int it = -1; it < iters; it++) { /* it == -1: warm-up */
        double t0 = now();
        int rc = write_file(&w, path);
        double t1 = now();
        ReadSum total = {0};
        if (rc == 0) rc = read_file(path, &total);
        double t2 = now();
        if (rc || total.points != points) {
            fprintf(stderr, "bench-format: %s (points %llu)\n", tsf_strerror(rc),
                    (unsigned long long)total.points);
            unlink(path);
            return 1;
        }
        if (it >= 0) {
            wt[it] = t1 - t0;
            rt[it] = t2 - t1;
            fprintf(stderr, "  round %d: write %.3f s, read %.3f s (checksum %.6g)\n", it + 1, wt[it], rt[it],
                    total.sum);
        }
    }
    struct stat st;
    stat(path, &st);
    if (getenv("BENCH_KEEP"))
        fprintf(stderr, "kept %s\n", path);
    else
        unlink(path);
    double bpp = (double)st.st_size / (double)points;
    printf("format %s bytes_per_point=%.3f write_mpts=%.1f read_mpts=%.1f\n", variant, bpp,
           (double)points / median(wt, iters) / 1e6, (double)points / median(rt, iters) / 1e6);
    return 0;
}
