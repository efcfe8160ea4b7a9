/*
 * bench_engine.c: engine ingestion through the batch (tablet) API.
 *
 *   build/bench-engine MODE [POINTS]     MODE = off | batch | always
 *
 * 10 devices x 10 DOUBLE sensors (100 series), tablets of 1,000 rows of one
 * device, 10 million points by default, into a fresh data directory under
 * $BENCH_DIR (default /tmp).  `always` uses 4 writer threads (group commit
 * shares fsyncs between them); the other modes use one.  The clock covers
 * the inserts and engine_close (every memtable flushed, every file closed).
 * Prints, last, the line scripts read:
 *
 *   engine MODE points_per_s=5123456 peak_rss_mb=123.4 wal_syncs=42
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "tsf_error.h"

#define DEVICES 10
#define SENSORS 10
#define ROWS    1000

typedef struct Job {
    Engine *e;
    int first_dev, ndev;
    int64_t tablets_per_dev;
    int rc;
} Job;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *writer(void *arg)
{
    Job *j = arg;
    static const char *names[SENSORS] = {"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9"};
    double *vals = malloc(sizeof(double) * ROWS * SENSORS);
    int64_t *times = malloc(sizeof(int64_t) * ROWS);
    uint64_t x = 88172645463325252ull + (uint64_t)j->first_dev;
    for (int i = 0; i < ROWS * SENSORS; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        vals[i] = (double)((x >> 33) % 100000) / 100.0;
    }
    EngineColumn cols[SENSORS];
    for (int s = 0; s < SENSORS; s++) cols[s] = (EngineColumn){names[s], TSF_DOUBLE, vals + s * ROWS, NULL};
    for (int64_t t = 0; t < j->tablets_per_dev && j->rc == 0; t++) {
        for (int d = j->first_dev; d < j->first_dev + j->ndev && j->rc == 0; d++) {
            char dev[32];
            snprintf(dev, sizeof dev, "root.bench.d%d", d);
            for (int r = 0; r < ROWS; r++) times[r] = 1700000000000LL + (t * ROWS + r) * 100;
            j->rc = engine_insert_tablet(j->e, dev, times, ROWS, cols, SENSORS);
        }
    }
    free(vals);
    free(times);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-engine off|batch|always [POINTS]\n");
        return 2;
    }
    WalSyncMode mode = strcmp(argv[1], "always") == 0 ? WAL_SYNC_ALWAYS
                       : strcmp(argv[1], "off") == 0  ? WAL_SYNC_OFF
                                                      : WAL_SYNC_BATCH;
    int64_t points = argc > 2 ? atoll(argv[2]) : 10000000;
    int64_t tablets_per_dev = points / (DEVICES * SENSORS * ROWS);
    if (tablets_per_dev < 1) tablets_per_dev = 1;
    const char *base = getenv("BENCH_DIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tsfs-bench-engine-XXXXXX", base ? base : "/tmp");
    if (!mkdtemp(dir)) return 1;
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = mode;
    Engine *e;
    int rc = engine_open(&o, &e);
    if (rc == 0) rc = engine_create_sg(e, "root.bench");
    if (rc) {
        fprintf(stderr, "bench-engine: %s\n", tsf_strerror(rc));
        return 1;
    }
    int nthreads = mode == WAL_SYNC_ALWAYS ? 4 : 1;
    pthread_t th[4];
    Job jobs[4];
    double t0 = now();
    for (int i = 0; i < nthreads; i++) {
        int per = DEVICES / nthreads, extra = i < DEVICES % nthreads;
        int first = i * per + (i < DEVICES % nthreads ? i : DEVICES % nthreads);
        jobs[i] = (Job){e, first, per + extra, tablets_per_dev, 0};
        pthread_create(&th[i], NULL, writer, &jobs[i]);
    }
    for (int i = 0; i < nthreads; i++) {
        pthread_join(th[i], NULL);
        if (jobs[i].rc) rc = jobs[i].rc;
    }
    EngineStats st;
    engine_get_stats(e, &st);
    int crc = engine_close(e);
    double secs = now() - t0;
    if (rc || crc) {
        fprintf(stderr, "bench-engine: %s\n", tsf_strerror(rc ? rc : crc));
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "bench-engine: cannot remove %s\n", dir);
    int64_t total = tablets_per_dev * DEVICES * SENSORS * ROWS;
    fprintf(stderr, "  %lld points in %.2f s (inserts and close), %llu flushes before close\n",
            (long long)total, secs, (unsigned long long)st.flushes);
    printf("engine %s points_per_s=%.0f peak_rss_mb=%.1f wal_syncs=%llu\n", argv[1], (double)total / secs,
           (double)ru.ru_maxrss / 1024.0, (unsigned long long)st.wal_syncs);
    return 0;
}
