/*
 * test_engine.c: the engine's write path as a user of its API sees it:
 * routing to partitions and to sequence/unsequence files, updates, the
 * files it leaves (read back with the format reader, as `tsfile dump`
 * would), sealing, the memory budget, clean restarts, and crashes
 * (SIGKILL of a writer process at random moments, during flushes, file
 * closes and compactions, then recovery).
 *
 * TSFS_LONG=1 runs the crash test for 50 rounds instead of 5.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine.h"
#include "reader.h"
#include "series_scan.h"

static char *make_dir(void)
{
    char tmpl[] = "/tmp/tsfs-engine-XXXXXX";
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

static Engine *open_engine(const char *dir, WalSyncMode mode, size_t memtable_size)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = mode;
    if (memtable_size) o.memtable_size = memtable_size;
    Engine *e = NULL;
    int rc = engine_open(&o, &e);
    cr_assert_eq(rc, 0, "engine_open: %s", tsf_strerror(rc));
    return e;
}

/* ---- reading back what is on disk ------------------------------------------------ */

typedef struct Point {
    int64_t t;
    double v;
} Point;

/* series key "device.measurement" -> GArray of Point, from every TsFile
 * under dir (closed files only: call after engine_close). */
typedef struct Disk {
    GHashTable *series;
    int files, seq_files, unseq_files;
    const char *cur_key;
    TsfType cur_type;
} Disk;

static int take_points(void *ctx, const int64_t *times, const void *values, size_t n)
{
    Disk *d = ctx;
    GArray *a = g_hash_table_lookup(d->series, d->cur_key);
    if (!a) {
        a = g_array_new(FALSE, FALSE, sizeof(Point));
        g_hash_table_insert(d->series, g_strdup(d->cur_key), a);
    }
    for (size_t i = 0; i < n; i++) {
        double v =
            d->cur_type == TSF_DOUBLE ? ((const double *)values)[i] : (double)((const int64_t *)values)[i];
        Point p = {times[i], v};
        g_array_append_val(a, p);
    }
    return 0;
}

typedef struct FileScan {
    Disk *d;
    TsfReader *r;
} FileScan;

static int scan_series(void *ctx, const TsfSeriesMeta *sm)
{
    FileScan *fs = ctx;
    char *key = g_strdup_printf("%.*s.%.*s", (int)sm->device_len, sm->device, (int)sm->name_len, sm->name);
    fs->d->cur_key = key;
    fs->d->cur_type = sm->type;
    int rc = tsf_series_scan(fs->r, sm, NULL, INT64_MIN, INT64_MAX, take_points, fs->d, NULL);
    g_free(key);
    return rc;
}

static void walk_files(Disk *d, const char *dir)
{
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        char *path = g_strdup_printf("%s/%s", dir, de->d_name);
        struct stat st;
        stat(path, &st);
        if (S_ISDIR(st.st_mode)) {
            walk_files(d, path);
        } else if (g_str_has_suffix(path, ".tsfile")) {
            FileScan fs = {d, NULL};
            TsfErr err = {0};
            int rc = tsf_reader_open(path, &fs.r, &err);
            cr_assert_eq(rc, 0, "%s is not a complete, readable TsFile: %s", path, err.msg);
            cr_assert_eq(tsf_reader_foreach_series(fs.r, scan_series, &fs), 0, "%s: %s", path,
                         tsf_reader_err(fs.r)->msg);
            tsf_reader_close(fs.r);
            d->files++;
            if (strstr(path, "/unsequence/"))
                d->unseq_files++;
            else
                d->seq_files++;
        }
        g_free(path);
    }
    closedir(dp);
}

static void disk_load(Disk *d, const char *dir)
{
    memset(d, 0, sizeof(*d));
    d->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
    char *seq = g_strdup_printf("%s/sequence", dir), *unseq = g_strdup_printf("%s/unsequence", dir);
    walk_files(d, seq);
    walk_files(d, unseq);
    g_free(seq);
    g_free(unseq);
}

static void disk_free(Disk *d)
{
    g_hash_table_destroy(d->series);
}

static gint by_time(gconstpointer a, gconstpointer b)
{
    const Point *x = a, *y = b;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* ---- routing ------------------------------------------------------------------------ */

Test(engine, routes_points_to_partitions_and_files)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_OFF, 0);
    cr_assert_eq(engine_create_sg(e, "root.ln"), 0);
    cr_assert_eq(engine_create_sg(e, "root.ln"), -EEXIST);
    cr_assert_eq(engine_create_sg(e, "root.ln.x"), -EEXIST, "overlapping storage groups are refused");
    const int64_t week = 604800000LL;
    cr_assert_eq(engine_partition_of(e, 0), 0);
    cr_assert_eq(engine_partition_of(e, week - 1), 0);
    cr_assert_eq(engine_partition_of(e, week), 1);
    cr_assert_eq(engine_partition_of(e, -1), -1);
    cr_assert_eq(engine_partition_of(e, -week), -1);
    cr_assert_eq(engine_partition_of(e, -week - 1), -2);

    double v = 1.5;
    int64_t times[4] = {-5, 10, week + 3, 2 * week};
    double vals[4] = {1, 2, 3, 4};
    EngineColumn col = {"temp", TSF_DOUBLE, vals, NULL};
    cr_assert_eq(engine_insert_tablet(e, "root.ln.d1", times, 4, &col, 1), 0);
    cr_assert_eq(engine_insert_point(e, "root.nope.d1", "temp", TSF_DOUBLE, 1, &v), -ENOENT);
    int64_t iv = 3;
    cr_assert_eq(engine_insert_point(e, "root.ln.d1", "temp", TSF_INT64, 1, &iv), -EINVAL, "type mismatch");
    cr_assert_eq(engine_flush_all(e), 0);
    /* now 10 is flushed for d1 in partition 0: earlier times are out of order */
    v = 20;
    cr_assert_eq(engine_insert_point(e, "root.ln.d1", "temp", TSF_DOUBLE, 10, &v), 0, "an update");
    v = 5;
    cr_assert_eq(engine_insert_point(e, "root.ln.d1", "temp", TSF_DOUBLE, 5, &v), 0);
    v = 11;
    int64_t n11 = 7;
    const char *names[2] = {"temp", "count"};
    TsfType types[2] = {TSF_DOUBLE, TSF_INT64};
    const void *row[2] = {&v, &n11};
    cr_assert_eq(engine_insert_row(e, "root.ln.d1", 11, names, types, row, 2), 0,
                 "a row: one time, two sensors");
    cr_assert_eq(engine_close(e), 0);

    Disk d;
    disk_load(&d, dir);
    cr_assert_geq(d.unseq_files, 1, "points at or before the last flushed time go to unsequence files");
    GArray *a = g_hash_table_lookup(d.series, "root.ln.d1.temp");
    cr_assert_not_null(a);
    /* partition directories */
    char *p0 = g_strdup_printf("%s/sequence/root.ln/0", dir),
         *pm1 = g_strdup_printf("%s/sequence/root.ln/-1", dir),
         *p1 = g_strdup_printf("%s/sequence/root.ln/1", dir),
         *p2 = g_strdup_printf("%s/sequence/root.ln/2", dir),
         *u0 = g_strdup_printf("%s/unsequence/root.ln/0", dir);
    struct stat st;
    cr_assert_eq(stat(p0, &st), 0);
    cr_assert_eq(stat(pm1, &st), 0, "negative times go to partition -1");
    cr_assert_eq(stat(p1, &st), 0);
    cr_assert_eq(stat(p2, &st), 0);
    cr_assert_eq(stat(u0, &st), 0);
    g_free(p0);
    g_free(pm1);
    g_free(p1);
    g_free(p2);
    g_free(u0);
    /* both writes of t=10 are on disk (sequence then unsequence); the newer is 20 */
    int tens = 0;
    for (guint i = 0; i < a->len; i++)
        if (g_array_index(a, Point, i).t == 10) tens++;
    cr_assert_eq(tens, 2);
    cr_assert_eq(a->len, 7);
    GArray *cnt = g_hash_table_lookup(d.series, "root.ln.d1.count");
    cr_assert(cnt && cnt->len == 1 && g_array_index(cnt, Point, 0).v == 7);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}

Test(engine, repeated_timestamps_in_one_memtable_keep_the_newest)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_OFF, 0);
    cr_assert_eq(engine_create_sg(e, "root.u"), 0);
    int64_t times[6] = {5, 3, 5, 1, 3, 5};
    int64_t vals[6] = {50, 30, 51, 10, 31, 52};
    EngineColumn col = {"c", TSF_INT64, vals, NULL};
    cr_assert_eq(engine_insert_tablet(e, "root.u.d", times, 6, &col, 1), 0);
    cr_assert_eq(engine_close(e), 0);
    Disk d;
    disk_load(&d, dir);
    GArray *a = g_hash_table_lookup(d.series, "root.u.d.c");
    cr_assert_not_null(a);
    cr_assert_eq(a->len, 3);
    cr_assert_eq(g_array_index(a, Point, 0).t, 1);
    cr_assert_eq(g_array_index(a, Point, 1).v, 31);
    cr_assert_eq(g_array_index(a, Point, 2).v, 52);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}

Test(engine, tablets_with_nulls_text_and_many_partitions)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_BATCH, 0);
    cr_assert_eq(engine_create_sg(e, "root.t"), 0);
    enum { N = 1000 };
    int64_t times[N];
    double dv[N];
    TsfBin tv[N];
    uint8_t present[N];
    char text[N][16];
    for (int i = 0; i < N; i++) {
        times[i] = (int64_t)(i % 2 ? i : -i) * 86400000LL; /* days, both signs: many partitions */
        dv[i] = i * 0.5;
        snprintf(text[i], sizeof text[i], "v%d", i);
        tv[i] = (TsfBin){(const uint8_t *)text[i], (uint32_t)strlen(text[i])};
        present[i] = i % 3 != 0;
    }
    EngineColumn cols[2] = {{"x", TSF_DOUBLE, dv, present}, {"s", TSF_TEXT, tv, NULL}};
    cr_assert_eq(engine_insert_tablet(e, "root.t.dev", times, N, cols, 2), 0);
    cr_assert_eq(engine_close(e), 0);
    /* reopen: clean shutdown replays nothing */
    e = open_engine(dir, WAL_SYNC_BATCH, 0);
    EngineStats st;
    engine_get_stats(e, &st);
    cr_assert_eq(st.wal_records_replayed, 0);
    const SeriesSchema *ss = schema_get_series(engine_schema(e), "root.t.dev", "s");
    cr_assert_not_null(ss, "series survive a restart");
    cr_assert_eq(ss->type, TSF_TEXT);
    cr_assert_eq(engine_close(e), 0);
    Disk d;
    disk_load(&d, dir);
    GArray *x = g_hash_table_lookup(d.series, "root.t.dev.x");
    cr_assert_not_null(x);
    cr_assert_eq(x->len, N - (N + 2) / 3, "null cells are not points");
    g_array_sort(x, by_time);
    for (guint i = 1; i < x->len; i++)
        cr_assert_lt(g_array_index(x, Point, i - 1).t, g_array_index(x, Point, i).t);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}

/* ---- sealing, memory ---------------------------------------------------------------- */

Test(engine, sealed_partition_refuses_writes_and_closes_files)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_BATCH, 0);
    cr_assert_eq(engine_create_sg(e, "root.s"), 0);
    double v = 1;
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 100, &v), 0);
    cr_assert_eq(engine_seal_partition(e, "root.s", 0), 0);
    cr_assert(engine_partition_is_sealed(e, "root.s", 0));
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 200, &v), -EROFS);
    /* the sealed partition's file is complete now, while the engine runs */
    Disk d;
    disk_load(&d, dir); /* fails on an incomplete file */
    cr_assert_eq(d.files, 1);
    disk_free(&d);
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 604800000LL + 1, &v), 0,
                 "other partitions still take writes");
    cr_assert_eq(engine_close(e), 0);
    e = open_engine(dir, WAL_SYNC_BATCH, 0);
    cr_assert(engine_partition_is_sealed(e, "root.s", 0), "sealing survives a restart");
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 300, &v), -EROFS);
    cr_assert_eq(engine_unseal_partition(e, "root.s", 0), 0);
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 300, &v), 0);
    cr_assert_eq(engine_close(e), 0);
    remove_dir(dir);
    free(dir);
}

Test(engine, memory_budget_triggers_flushes)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_OFF, 1 << 20);
    cr_assert_eq(engine_create_sg(e, "root.m"), 0);
    enum { ROWS = 1000 };
    int64_t t[ROWS];
    int64_t v[ROWS];
    for (int round = 0; round < 200; round++) {
        for (int i = 0; i < ROWS; i++) t[i] = (int64_t)round * ROWS + i, v[i] = i;
        EngineColumn cols[4] = {{"a", TSF_INT64, v, NULL},
                                {"b", TSF_INT64, v, NULL},
                                {"c", TSF_INT64, v, NULL},
                                {"d", TSF_INT64, v, NULL}};
        cr_assert_eq(engine_insert_tablet(e, "root.m.d", t, ROWS, cols, 4), 0);
        EngineStats st;
        engine_get_stats(e, &st);
        cr_assert_leq(st.memtable_bytes, (size_t)3 << 20, "memory stays near the budget (%zu)",
                      st.memtable_bytes);
    }
    EngineStats st;
    engine_get_stats(e, &st);
    cr_assert_gt(st.flushes, 3);
    cr_assert_eq(engine_close(e), 0);
    Disk d;
    disk_load(&d, dir);
    GArray *a = g_hash_table_lookup(d.series, "root.m.d.c");
    cr_assert_eq(a->len, 200 * ROWS);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}

/* ---- crashes ------------------------------------------------------------------------- */

/* Child: inserts points into a few series with wal_sync=always, reporting
 * each acknowledged (series, time) on the pipe; killed by the parent. */
static void crash_child(const char *dir, int fd, unsigned seed, int64_t t0)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_ALWAYS;
    o.memtable_size = 256 << 10; /* flush often: crashes land mid-flush too */
    o.file_size = 64 << 10;      /* and mid-close */
    Engine *e;
    if (engine_open(&o, &e) != 0) _exit(3);
    if (engine_create_sg(e, "root.c") != 0 && !schema_has_sg(engine_schema(e), "root.c")) _exit(4);
    srand(seed);
    for (int64_t i = 0;; i++) {
        int s = rand() % 4;
        char dev[16];
        snprintf(dev, sizeof dev, "root.c.d%d", s);
        enum { B = 50 };
        int64_t t[B];
        double v[B];
        for (int k = 0; k < B; k++) {
            /* mostly in order, sometimes far back (unsequence); never a
             * time used twice, so "exactly once" can be checked */
            t[k] = rand() % 10 == 0 ? t0 - 1 - (i * B + k) : t0 + i * B + k;
            v[k] = (double)(t[k] % 1000) + s;
        }
        EngineColumn col = {"v", TSF_DOUBLE, v, NULL};
        if (engine_insert_tablet(e, dev, t, B, &col, 1) != 0) _exit(5);
        if (i % 97 == 96 && engine_compact_all(e) != 0) _exit(7); /* kills land mid-compaction too */
        int64_t msg[2] = {s, i};
        if (write(fd, msg, sizeof msg) != sizeof msg) _exit(6);
    }
}

static void crash_rounds(int rounds)
{
    char *dir = make_dir();
    GHashTable *acked = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL); /* "dev@time" */
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        int64_t t0 = 1700000000000LL + (int64_t)round * 10000000LL;
        unsigned seed = 1234u + (unsigned)round;
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            crash_child(dir, fds[1], seed, t0);
            _exit(0);
        }
        close(fds[1]);
        usleep(20000 + (useconds_t)(g_random_int_range(0, 400000)));
        kill(pid, SIGKILL);
        int status;
        waitpid(pid, &status, 0);
        /* every batch reported before the kill was acknowledged */
        int64_t msg[2];
        srand(seed);
        int64_t next = 0;
        while (read(fds[0], msg, sizeof msg) == sizeof msg) {
            /* replay the child's random choices to know the batch's times */
            for (; next <= msg[1]; next++) {
                int s = rand() % 4;
                for (int k = 0; k < 50; k++) {
                    int64_t t = rand() % 10 == 0 ? t0 - 1 - (next * 50 + k) : t0 + next * 50 + k;
                    /* batches are acknowledged in order: every earlier one was too */
                    cr_assert(next < msg[1] || s == msg[0]);
                    g_hash_table_insert(acked, g_strdup_printf("root.c.d%d.v@%" PRId64, s, t), NULL);
                }
            }
        }
        close(fds[0]);
    }
    /* restart and shut down cleanly: everything is then in closed TsFiles */
    Engine *e = open_engine(dir, WAL_SYNC_ALWAYS, 0);
    cr_assert_eq(engine_close(e), 0);
    Disk d;
    disk_load(&d, dir);
    /* every acknowledged point exactly once; nothing twice */
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, d.series);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        GArray *a = v;
        for (guint i = 0; i < a->len; i++) {
            char *key = g_strdup_printf("%s@%" PRId64, (char *)k, g_array_index(a, Point, i).t);
            cr_assert(!g_hash_table_contains(seen, key), "point %s is on disk twice", key);
            g_hash_table_insert(seen, key, NULL);
        }
    }
    g_hash_table_iter_init(&it, acked);
    while (g_hash_table_iter_next(&it, &k, &v))
        cr_assert(g_hash_table_contains(seen, k), "acknowledged point %s was lost", (char *)k);
    cr_log_info("crash test: %d rounds, %u acknowledged points, %u on disk, %d files", rounds,
                g_hash_table_size(acked), g_hash_table_size(seen), d.files);
    cr_assert_gt(g_hash_table_size(acked), 0);
    g_hash_table_destroy(seen);
    g_hash_table_destroy(acked);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}

Test(engine, sigkill_loses_no_acknowledged_point, .timeout = 600)
{
    const char *lng = getenv("TSFS_LONG");
    crash_rounds(lng && *lng == '1' ? 50 : 5);
}

/* ---- crashes around deletions ------------------------------------------------------------ */

#include "query.h"

/* Child: inserts batches of 50 points and deletes every third batch soon
 * after, reporting each acknowledged insert ('I', batch) and deletion
 * ('D', batch) on the pipe. */
static void delete_child(const char *dir, int fd, int64_t t0)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_ALWAYS;
    o.memtable_size = 128 << 10;
    o.file_size = 32 << 10;
    Engine *e;
    if (engine_open(&o, &e) != 0) _exit(3);
    if (engine_create_sg(e, "root.x") != 0 && !schema_has_sg(engine_schema(e), "root.x")) _exit(4);
    for (int64_t i = 0;; i++) {
        int64_t t[50];
        double v[50];
        for (int k = 0; k < 50; k++) t[k] = t0 + i * 50 + k, v[k] = (double)k;
        EngineColumn col = {"v", TSF_DOUBLE, v, NULL};
        if (engine_insert_tablet(e, "root.x.d", t, 50, &col, 1) != 0) _exit(5);
        int64_t msg[2] = {'I', i};
        if (write(fd, msg, sizeof msg) != sizeof msg) _exit(6);
        if (i % 3 == 2) {
            int64_t b = i - 1;
            if (engine_delete(e, "root.x.d", "v", t0 + b * 50, t0 + b * 50 + 49) != 0) _exit(7);
            int64_t dm[2] = {'D', b};
            if (write(fd, dm, sizeof dm) != sizeof dm) _exit(6);
        }
    }
}

Test(engine, sigkill_keeps_acknowledged_deletions, .timeout = 600)
{
    const char *lng = getenv("TSFS_LONG");
    int rounds = lng && *lng == '1' ? 30 : 4;
    char *dir = make_dir();
    GHashTable *inserted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    GHashTable *deleted = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    GHashTable *maybe = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    for (int round = 0; round < rounds; round++) {
        int fds[2];
        cr_assert_eq(pipe(fds), 0);
        int64_t t0 = 1700000000000LL + (int64_t)round * 100000000LL;
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(fds[0]);
            delete_child(dir, fds[1], t0);
            _exit(0);
        }
        close(fds[1]);
        usleep(50000 + (useconds_t)g_random_int_range(0, 400000));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        int64_t msg[2], last_insert = -1;
        while (read(fds[0], msg, sizeof msg) == sizeof msg) {
            int64_t key = t0 + msg[1] * 50; /* a batch is named by its first time */
            if (msg[0] == 'I') {
                g_hash_table_add(inserted, g_memdup2(&key, 8));
                last_insert = msg[1];
            } else {
                g_hash_table_add(deleted, g_memdup2(&key, 8));
            }
        }
        /* a deletion in flight at the kill may or may not have happened */
        if (last_insert >= 2 && last_insert % 3 == 2) {
            int64_t key = t0 + (last_insert - 1) * 50;
            if (!g_hash_table_contains(deleted, &key)) g_hash_table_add(maybe, g_memdup2(&key, 8));
        }
        close(fds[0]);
    }
    Engine *e = open_engine(dir, WAL_SYNC_ALWAYS, 0);
    GHashTable *seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    EngineQuery *q;
    cr_assert_eq(engine_query_open(e, "root.x.d", "v", NULL, NULL, 0, &q), 0);
    const int64_t *qt;
    const void *qv;
    size_t n;
    while (engine_query_next(q, &qt, &qv, &n) == 0 && n > 0)
        for (size_t i = 0; i < n; i++) {
            int64_t t = qt[i];
            cr_assert(!g_hash_table_contains(seen, &t), "t=%" PRId64 " twice", t);
            g_hash_table_add(seen, g_memdup2(&t, 8));
        }
    engine_query_close(q);
    cr_assert_eq(engine_close(e), 0);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, inserted);
    int checked = 0;
    while (g_hash_table_iter_next(&it, &k, NULL)) {
        int64_t first = *(int64_t *)k;
        if (g_hash_table_contains(maybe, &first)) continue;
        bool gone = g_hash_table_contains(deleted, &first);
        for (int j = 0; j < 50; j++) {
            int64_t t = first + j;
            if (gone)
                cr_assert(!g_hash_table_contains(seen, &t), "t=%" PRId64 " was deleted (acknowledged)", t);
            else
                cr_assert(g_hash_table_contains(seen, &t), "t=%" PRId64 " was inserted (acknowledged)", t);
        }
        checked++;
    }
    cr_assert_gt(g_hash_table_size(deleted), 0);
    cr_log_info("deletion crash test: %d batches checked, %u deleted", checked, g_hash_table_size(deleted));
    g_hash_table_destroy(seen);
    g_hash_table_destroy(inserted);
    g_hash_table_destroy(deleted);
    g_hash_table_destroy(maybe);
    remove_dir(dir);
    free(dir);
}

/* A deletion that leaves one point of an out-of-order memtable series:
 * the flush must still write it (found by the model-based test). */
Test(engine, flush_after_deletion_leaves_one_unordered_point)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_OFF, 0);
    cr_assert_eq(engine_create_sg(e, "root.o"), 0);
    int64_t t[3] = {30, 10, 20}, v[3] = {3, 1, 2};
    EngineColumn col = {"c", TSF_INT64, v, NULL};
    cr_assert_eq(engine_insert_tablet(e, "root.o.d", t, 3, &col, 1), 0);
    cr_assert_eq(engine_delete(e, "root.o.d", "c", 15, 35), 0);
    cr_assert_eq(engine_flush_all(e), 0);
    cr_assert_eq(engine_close(e), 0);
    Disk d;
    disk_load(&d, dir);
    GArray *a = g_hash_table_lookup(d.series, "root.o.d.c");
    cr_assert(a && a->len == 1 && g_array_index(a, Point, 0).t == 10);
    disk_free(&d);
    remove_dir(dir);
    free(dir);
}
