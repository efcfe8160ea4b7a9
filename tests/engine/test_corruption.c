/*
 * test_corruption.c: what the engine does with damaged files, as a user of
 * its API sees it.  Each case builds a data directory once through the
 * engine, then for many trials copies it, damages one file, reopens the
 * engine on the copy (capturing what it logs) and queries every series.
 *
 * What "recovers what is intact" means, per case:
 *
 *  (a) an unclosed TsFile cut at any offset after a crash (the writer
 *      process exits without closing; three memtables flushed, a fourth only
 *      in the WAL): the engine opens; every chunk group that is followed by
 *      a complete record (the next group's header or a plan-index record)
 *      before the cut is served, and so is everything the WAL holds; every
 *      value served is the one written; the log names the file.  Every
 *      third cut is reopened twice: the second reopen serves the same.
 *  (b) one byte flipped in a closed TsFile: the engine opens; the files of
 *      other partitions serve everything; a file the engine cannot use is
 *      refused with a log line naming it, and the rest of its partition is
 *      served.  A flip in one series' chunk leaves the file's other series
 *      whole, and the damaged series is whole, fails its query with a log
 *      line naming the file, or (what the checks cannot see, below) serves
 *      changed points; it never silently loses points.  The TsFile format
 *      has no checksums: the engine checks each decoded page against its
 *      statistics; a changed middle text value, or middle times of an
 *      encoded block that stay in order, pass; so do flips in the index's
 *      statistics or bloom filter (a series can then go missing).  The
 *      trials count every outcome; changed_value_fails_its_page_check pins
 *      the page check down on its own.
 *  (c) one byte flipped in a .resource: the TsFile is intact, so everything
 *      is served, for any time range (a damaged time range must not hide
 *      data); a .resource that is unreadable or does not cover the file's
 *      devices is rebuilt, with a log line naming it.
 *  (d) one byte flipped in a .mods: every line the flip did not touch still
 *      deletes its points; a line that no longer parses is skipped with a
 *      log line naming the file and line; what the engine serves is exactly
 *      what the damaged file says (a digit changed into another digit is a
 *      different but valid deletion: the format has no checksum).
 *  (e) one byte flipped in a WAL segment after a crash: the engine opens;
 *      every record before the damaged one is replayed, the damage is
 *      logged naming the segment, and the closed files serve everything.
 *
 * Offsets and masks are drawn from TSFS_SEED (fixed by default, logged);
 * TSFS_LONG=1 runs five times as many trials.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data_scan.h"
#include "engine.h"
#include "mods.h"
#include "query.h"
#include "reader.h"
#include "series_scan.h"

#define SG       "root.cr"
#define NDEV     4
#define NMEAS    3
#define PART     100000 /* partition interval, ms */
#define NPARTS   3
#define MAXFILES 16

static const char *const meas_name[NMEAS] = {"v", "n", "s"};
static const TsfType meas_type[NMEAS] = {TSF_DOUBLE, TSF_INT64, TSF_TEXT};

static int trials(int base)
{
    const char *lng = getenv("TSFS_LONG");
    return lng && *lng == '1' ? base * 5 : base;
}

/* Offsets and masks come from a seeded generator: a failure replays with
 * the same TSFS_SEED (the seed is logged). */
static GRand *g_rng;

static void rng_start(void)
{
    const char *s = getenv("TSFS_SEED");
    guint32 seed = s ? (guint32)strtoul(s, NULL, 10) : 20241122u;
    g_rng = g_rand_new_with_seed(seed);
    cr_log_info("TSFS_SEED=%u", seed);
}

static int rnd(int lo, int hi) /* [lo, hi) */
{
    return g_rand_int_range(g_rng, lo, hi);
}

/* ---- directories ------------------------------------------------------------------ */

static char *make_dir(void)
{
    char tmpl[] = "/tmp/tsfs-corrupt-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    return strdup(d);
}

static void run(const char *fmt, const char *a, const char *b)
{
    char *cmd = g_strdup_printf(fmt, a, b);
    cr_assert_eq(system(cmd), 0, "%s", cmd);
    g_free(cmd);
}

static void remove_dir(const char *dir)
{
    run("rm -rf '%s'%s", dir, "");
}

/* A copy of master at a fresh path. */
static char *copy_dir(const char *master)
{
    char *d = make_dir();
    run("cp -a '%s/.' '%s'", master, d);
    return d;
}

/* Files under dir whose names end in suffix, sorted (g_ptr_array of char*). */
static void find_files_rec(const char *dir, const char *suffix, GPtrArray *out)
{
    DIR *dp = opendir(dir);
    if (!dp) return;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.') continue;
        char *p = g_strdup_printf("%s/%s", dir, de->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            find_files_rec(p, suffix, out);
        else if (g_str_has_suffix(p, suffix))
            g_ptr_array_add(out, g_strdup(p));
        g_free(p);
    }
    closedir(dp);
}

static gint cmp_strp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static GPtrArray *find_files(const char *dir, const char *suffix)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    find_files_rec(dir, suffix, a);
    g_ptr_array_sort(a, cmp_strp);
    return a;
}

/* The same file in another copy of the directory. */
static char *rebase(const char *path, const char *from, const char *to)
{
    size_t n = strlen(from);
    cr_assert(strncmp(path, from, n) == 0);
    return g_strdup_printf("%s%s", to, path + n);
}

static off_t file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0, "%s", p);
    return st.st_size;
}

static uint8_t read_byte(const char *p, off_t at)
{
    int fd = open(p, O_RDONLY);
    cr_assert_geq(fd, 0);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    close(fd);
    return b;
}

static void write_byte(const char *p, off_t at, uint8_t b)
{
    int fd = open(p, O_WRONLY);
    cr_assert_geq(fd, 0);
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

/* XORs a non-zero mask into the byte at `at`; returns the new byte. */
static uint8_t flip_byte(const char *p, off_t at, uint8_t mask)
{
    uint8_t b = (uint8_t)(read_byte(p, at) ^ (mask ? mask : 0x40));
    write_byte(p, at, b);
    return b;
}

/* ---- the engine's log --------------------------------------------------------------- */

static int saved_stderr = -1;
static char log_path[64];

static void log_begin(void)
{
    fflush(stderr);
    snprintf(log_path, sizeof log_path, "/tmp/tsfs-corrupt-log-%d", (int)getpid());
    int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* What was logged since log_begin (g_free it). */
static char *log_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    saved_stderr = -1;
    char *text = NULL;
    cr_assert(g_file_get_contents(log_path, &text, NULL, NULL));
    unlink(log_path);
    return text;
}

/* ---- data and the model ------------------------------------------------------------- */

static void text_of(char *buf, size_t n, int dev, int64_t t)
{
    snprintf(buf, n, "d%d@%" PRId64, dev, t);
}

/* Is (t, value) what was written to series (dev, m)? */
static bool value_ok(int dev, int m, int64_t t, const void *values, size_t i)
{
    switch (m) {
    case 0: return ((const double *)values)[i] == (double)dev * 1e6 + (double)t * 0.5;
    case 1: return ((const int64_t *)values)[i] == t * 3 + dev;
    default: {
        char want[48];
        text_of(want, sizeof want, dev, t);
        const TsfBin *b = &((const TsfBin *)values)[i];
        return b->len == strlen(want) && memcmp(b->ptr, want, b->len) == 0;
    }
    }
}

/* Expected points: per series, a set of times (int64 keys). */
typedef struct Model {
    GHashTable *s[NDEV][NMEAS];
} Model;

static void model_init(Model *md)
{
    for (int d = 0; d < NDEV; d++)
        for (int m = 0; m < NMEAS; m++)
            md->s[d][m] = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}

static void model_free(Model *md)
{
    for (int d = 0; d < NDEV; d++)
        for (int m = 0; m < NMEAS; m++) g_hash_table_destroy(md->s[d][m]);
}

static void model_add(Model *md, int d, int m, int64_t t)
{
    g_hash_table_add(md->s[d][m], g_memdup2(&t, sizeof t));
}

static bool model_has(const Model *md, int d, int m, int64_t t)
{
    return g_hash_table_contains(md->s[d][m], &t);
}

static void dev_name(char *buf, size_t n, int d)
{
    snprintf(buf, n, SG ".d%d", d);
}

/* Inserts times t0, t0 + step, ... (count of them) into the three series
 * of device d, and records them in md (may be NULL) and in md2 (may be
 * NULL). */
static void insert_run2(Engine *e, Model *md, Model *md2, int d, int64_t t0, int64_t step, int count)
{
    int64_t *t = malloc(sizeof(int64_t) * (size_t)count);
    double *v = malloc(sizeof(double) * (size_t)count);
    int64_t *n = malloc(sizeof(int64_t) * (size_t)count);
    TsfBin *s = malloc(sizeof(TsfBin) * (size_t)count);
    char(*txt)[48] = malloc(48 * (size_t)count);
    for (int i = 0; i < count; i++) {
        t[i] = t0 + step * i;
        v[i] = (double)d * 1e6 + (double)t[i] * 0.5;
        n[i] = t[i] * 3 + d;
        text_of(txt[i], 48, d, t[i]);
        s[i] = (TsfBin){(const uint8_t *)txt[i], strlen(txt[i])};
        for (int m = 0; m < NMEAS; m++) {
            if (md) model_add(md, d, m, t[i]);
            if (md2) model_add(md2, d, m, t[i]);
        }
    }
    EngineColumn cols[NMEAS] = {
        {"v", TSF_DOUBLE, v, NULL}, {"n", TSF_INT64, n, NULL}, {"s", TSF_TEXT, s, NULL}};
    char dev[32];
    dev_name(dev, sizeof dev, d);
    int rc = engine_insert_tablet(e, dev, t, (size_t)count, cols, NMEAS);
    cr_assert_eq(rc, 0, "insert: %s", tsf_strerror(rc));
    free(t);
    free(v);
    free(n);
    free(s);
    free(txt);
}

static void insert_run(Engine *e, Model *md, int d, int64_t t0, int64_t step, int count)
{
    insert_run2(e, md, NULL, d, t0, step, count);
}

/* Deletes [lo, hi] of series (d, m) (m < 0: the whole device). */
static void delete_range(Engine *e, Model *md, int d, int m, int64_t lo, int64_t hi)
{
    char dev[32];
    dev_name(dev, sizeof dev, d);
    cr_assert_eq(engine_delete(e, dev, m < 0 ? NULL : meas_name[m], lo, hi), 0);
    for (int k = 0; k < NMEAS; k++) {
        if (m >= 0 && k != m) continue;
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, md->s[d][k]);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
            int64_t t = *(int64_t *)key;
            if (t >= lo && t <= hi) g_hash_table_iter_remove(&it);
        }
    }
}

static Engine *open_engine(const char *dir, WalSyncMode mode)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = mode;
    o.partition_interval = PART;
    o.background_compaction = false; /* the files stay the ones the test made */
    Engine *e = NULL;
    int rc = engine_open(&o, &e);
    cr_assert_eq(rc, 0, "engine_open on %s: %s", dir, tsf_strerror(rc));
    return e;
}

/* ---- queries ----------------------------------------------------------------------- */

typedef struct Served {
    int rc;      /* of the query */
    GArray *t;   /* times served, with the value written */
    int garbage; /* points served with a time or value never written */
    int64_t bad_t;
} Served;

static void serve(Engine *e, const Model *all, int d, int m, int64_t lo, int64_t hi, Served *out)
{
    out->rc = 0;
    out->t = g_array_new(FALSE, FALSE, sizeof(int64_t));
    out->garbage = 0;
    char dev[32];
    dev_name(dev, sizeof dev, d);
    TimeFilter *tf = tf_range(lo, hi);
    EngineQuery *q;
    out->rc = engine_query_open(e, dev, meas_name[m], tf, NULL, 0, &q);
    tf_free(tf);
    if (out->rc) return;
    cr_assert_eq(engine_query_type(q), meas_type[m]);
    const int64_t *t;
    const void *v;
    size_t n;
    while ((out->rc = engine_query_next(q, &t, &v, &n)) == 0 && n > 0) {
        for (size_t i = 0; i < n; i++) {
            if (t[i] < lo || t[i] > hi || !model_has(all, d, m, t[i]) || !value_ok(d, m, t[i], v, i)) {
                if (!out->garbage) out->bad_t = t[i];
                out->garbage++;
            } else {
                g_array_append_val(out->t, t[i]);
            }
        }
    }
    engine_query_close(q);
}

static void served_free(Served *s)
{
    g_array_free(s->t, TRUE);
}

/* Times of the model for series (d, m) within [lo, hi] that s lacks (up to
 * one example in *missing_t); and whether s has each time at most once. */
static size_t missing_from(const Served *s, const Model *want, int d, int m, int64_t lo, int64_t hi,
                           int64_t *missing_t)
{
    GHashTable *got = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < s->t->len; i++) {
        int64_t *p = &g_array_index(s->t, int64_t, i);
        cr_assert(!g_hash_table_contains(got, p), "t=%" PRId64 " served twice", *p);
        g_hash_table_add(got, p);
    }
    size_t miss = 0;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, want->s[d][m]);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        int64_t t = *(int64_t *)key;
        if (t < lo || t > hi || g_hash_table_contains(got, &t)) continue;
        if (!miss && missing_t) *missing_t = t;
        miss++;
    }
    g_hash_table_destroy(got);
    return miss;
}

/* Count of model points of series (d, m) in [lo, hi]. */
static size_t model_count(const Model *md, int d, int m, int64_t lo, int64_t hi)
{
    size_t n = 0;
    GHashTableIter it;
    gpointer key;
    g_hash_table_iter_init(&it, md->s[d][m]);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        int64_t t = *(int64_t *)key;
        n += t >= lo && t <= hi;
    }
    return n;
}

/* Asserts that series (d, m) serves exactly the model in [lo, hi]. */
static void expect_exact(Engine *e, const Model *all, const Model *want, int d, int m, int64_t lo, int64_t hi,
                         const char *what)
{
    Served s;
    serve(e, all, d, m, lo, hi, &s);
    cr_assert_eq(s.rc, 0, "%s: d%d.%s [%" PRId64 ", %" PRId64 "]: query failed: %s", what, d, meas_name[m],
                 lo, hi, tsf_strerror(s.rc));
    cr_assert_eq(s.garbage, 0, "%s: d%d.%s: %d points never written (t=%" PRId64 ")", what, d, meas_name[m],
                 s.garbage, s.bad_t);
    int64_t mt = 0;
    size_t miss = missing_from(&s, want, d, m, lo, hi, &mt);
    cr_assert_eq(miss, 0, "%s: d%d.%s: %zu points missing (t=%" PRId64 ")", what, d, meas_name[m], miss, mt);
    cr_assert_eq(s.t->len, model_count(want, d, m, lo, hi), "%s: d%d.%s: points served that were deleted",
                 what, d, meas_name[m]);
    served_free(&s);
}

/* ---- (a) an unclosed file cut short after a crash ------------------------------------- */

enum { BATCH_N = 60, NBATCH = 4 };

static int64_t batch_time(int k, int d, int i)
{
    return (int64_t)k * 10000 + (int64_t)i * 10 + d;
}

/* Child: three flushed batches, a fourth in the WAL only; exits without
 * closing anything (a crash). */
static void crash_writer(const char *dir)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_ALWAYS;
    o.partition_interval = PART;
    o.background_compaction = false;
    Engine *e;
    if (engine_open(&o, &e) != 0) _exit(3);
    if (engine_create_sg(e, SG) != 0) _exit(4);
    for (int k = 0; k < NBATCH; k++) {
        for (int d = 0; d < NDEV; d++) insert_run(e, NULL, d, batch_time(k, d, 0), 10, BATCH_N);
        if (k < NBATCH - 1 && engine_flush_all(e) != 0) _exit(5);
    }
    if (engine_sync(e) != 0) _exit(6);
    _exit(0);
}

static void make_crashed(const char *dir)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) crash_writer(dir);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed: %d", status);
}

/* Batch and device of each chunk group of the unclosed file, and the file
 * length from which it is sure to be kept. */
typedef struct Group {
    int batch, dev;
    uint64_t need;
} Group;

static size_t scan_groups(const char *path, Group *g, size_t max, uint64_t *records, size_t *nrec)
{
    TsfReader *r;
    cr_assert_eq(tsf_reader_open_data(path, &r, NULL), 0);
    uint64_t pos = TSF_HEAD_LEN;
    TsfRecord rec = {0};
    size_t n = 0;
    int plans = 0;
    bool open_group = false;
    *nrec = 0;
    int rc;
    while ((rc = tsf_data_next(r, &pos, &rec)) == 1) {
        records[(*nrec)++] = rec.offset;
        if (rec.kind == TSF_REC_CHUNK) continue;
        if (open_group) g[n - 1].need = rec.next;
        open_group = false;
        if (rec.kind == TSF_REC_PLAN_INDEX) plans++;
        if (rec.kind == TSF_REC_CHUNK_GROUP) {
            cr_assert_lt(n, max);
            int d = -1;
            cr_assert_eq(sscanf((const char *)rec.device.data, SG ".d%d", &d), 1);
            g[n++] = (Group){plans, d, UINT64_MAX};
            open_group = true;
        }
    }
    cr_assert_eq(rc, 0, "the unclosed file scans to its end");
    tsf_record_free(&rec);
    tsf_reader_close(r);
    return n;
}

Test(corruption, unclosed_file_cut_anywhere_keeps_its_prefix_and_the_wal, .timeout = 600)
{
    rng_start();
    char *master = make_dir();
    make_crashed(master);
    GPtrArray *files = find_files(master, ".tsfile");
    cr_assert_eq(files->len, 1, "one working file");
    const char *mfile = files->pdata[0];
    uint64_t size = (uint64_t)file_size(mfile);
    Group groups[64];
    uint64_t records[512];
    size_t nrec;
    size_t ngroups = scan_groups(mfile, groups, 64, records, &nrec);
    cr_assert_eq(ngroups, (size_t)(NBATCH - 1) * NDEV, "one chunk group per device per flushed batch");

    Model all;
    model_init(&all);
    for (int k = 0; k < NBATCH; k++)
        for (int d = 0; d < NDEV; d++)
            for (int i = 0; i < BATCH_N; i++)
                for (int m = 0; m < NMEAS; m++) model_add(&all, d, m, batch_time(k, d, i));

    /* cut points: every record boundary and one byte either side, the
     * head, the end, and random offsets */
    GArray *cuts = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    uint64_t fixed[] = {0, 1, TSF_HEAD_LEN - 1, TSF_HEAD_LEN, size - 1, size};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) g_array_append_val(cuts, fixed[i]);
    for (size_t i = 0; i < nrec; i++)
        for (int delta = -1; delta <= 0; delta++) {
            uint64_t c = records[i] + (uint64_t)(int64_t)delta;
            if (c <= size) g_array_append_val(cuts, c);
        }
    for (int i = 0; i < trials(20); i++) {
        uint64_t c = (uint64_t)rnd(0, (gint32)size);
        g_array_append_val(cuts, c);
    }

    size_t served_total = 0;
    for (guint ci = 0; ci < cuts->len; ci++) {
        uint64_t cut = g_array_index(cuts, uint64_t, ci);
        char *dir = copy_dir(master);
        char *file = rebase(mfile, master, dir);
        cr_assert_eq(truncate(file, (off_t)cut), 0);

        Model want; /* what must be served: groups kept for sure, and the WAL's batch */
        model_init(&want);
        for (size_t gi = 0; gi < ngroups; gi++)
            if (cut >= groups[gi].need)
                for (int i = 0; i < BATCH_N; i++)
                    for (int m = 0; m < NMEAS; m++)
                        model_add(&want, groups[gi].dev, m, batch_time(groups[gi].batch, groups[gi].dev, i));
        for (int d = 0; d < NDEV; d++)
            for (int i = 0; i < BATCH_N; i++)
                for (int m = 0; m < NMEAS; m++) model_add(&want, d, m, batch_time(NBATCH - 1, d, i));

        /* every third cut is reopened twice: recovery's result is stable */
        for (int round = 0; round < (ci % 3 == 0 ? 2 : 1); round++) {
            log_begin();
            Engine *e = open_engine(dir, WAL_SYNC_ALWAYS);
            char *log = log_end();
            if (round == 0)
                cr_assert(strstr(log, file), "cut at %" PRIu64 ": the log names the file:\n%s", cut, log);
            for (int d = 0; d < NDEV; d++)
                for (int m = 0; m < NMEAS; m++) {
                    Served s;
                    serve(e, &all, d, m, INT64_MIN, INT64_MAX, &s);
                    cr_assert_eq(s.rc, 0, "cut at %" PRIu64 ": query: %s", cut, tsf_strerror(s.rc));
                    cr_assert_eq(s.garbage, 0,
                                 "cut at %" PRIu64 ": d%d.%s: served a point never written (t=%" PRId64 ")",
                                 cut, d, meas_name[m], s.bad_t);
                    int64_t mt = 0;
                    size_t miss = missing_from(&s, &want, d, m, INT64_MIN, INT64_MAX, &mt);
                    cr_assert_eq(miss, 0,
                                 "cut at %" PRIu64 " (round %d): d%d.%s lost %zu intact points (t=%" PRId64
                                 ")",
                                 cut, round, d, meas_name[m], miss, mt);
                    served_total += s.t->len;
                    served_free(&s);
                }
            cr_assert_eq(engine_close(e), 0);
            g_free(log);
        }
        model_free(&want);
        g_free(file);
        remove_dir(dir);
        free(dir);
    }
    cr_log_info("unclosed file of %" PRIu64 " bytes cut at %u offsets; %zu points served", size, cuts->len,
                served_total);
    g_array_free(cuts, TRUE);
    model_free(&all);
    g_ptr_array_free(files, TRUE);
    remove_dir(master);
    free(master);
    g_rand_free(g_rng);
}

/* ---- closed files: the data set of cases (b) to (d) ------------------------------------ */

/* Four closed files: partition 0 sequence and unsequence, partition 1 with
 * deletions in its .mods, partition 2 written by two flushes.  md: what
 * must be served; all: every point written (deleted ones too). */
static void make_closed(const char *dir, Model *md, Model *all)
{
    Engine *e = open_engine(dir, WAL_SYNC_OFF);
    cr_assert_eq(engine_create_sg(e, SG), 0);
    for (int d = 0; d < NDEV; d++) insert_run2(e, md, all, d, d, 10, 200);
    cr_assert_eq(engine_flush_all(e), 0);
    for (int d = 0; d < 2; d++) insert_run2(e, md, all, d, 5 + d, 20, 50); /* out of order: unsequence */
    for (int d = 0; d < NDEV; d++) insert_run2(e, md, all, d, PART + d, 10, 200);
    cr_assert_eq(engine_flush_all(e), 0); /* deletions below go to .mods */
    delete_range(e, md, 1, 0, PART + 100, PART + 300);
    delete_range(e, md, 2, -1, PART + 500, PART + 600);
    delete_range(e, md, 3, 2, PART + 1000, PART + 1200);
    delete_range(e, md, 0, 1, PART + 50, PART + 70);
    delete_range(e, md, 0, -1, PART + 1500, PART + 1510);
    delete_range(e, md, 3, 0, PART + 1700, PART + 1990);
    for (int d = 0; d < NDEV; d++) insert_run2(e, md, all, d, 2 * PART + d, 10, 100);
    cr_assert_eq(engine_flush_all(e), 0);
    for (int d = 0; d < NDEV; d++) insert_run2(e, md, all, d, 2 * PART + 1000 + d, 10, 100);
    cr_assert_eq(engine_close(e), 0);
}

static int partition_of_path(const char *path)
{
    /* .../<sg>/<partition>/<name>.tsfile */
    char *dir = g_path_get_dirname(path);
    int p = atoi(strrchr(dir, '/') + 1);
    g_free(dir);
    return p;
}

/* Every point of a closed file, per series (from the file itself). */
typedef struct FileScan {
    Model *md;
    int d, m;
} FileScan;

static int take_times(void *ctx, const int64_t *times, const void *values, size_t n)
{
    (void)values;
    FileScan *fs = ctx;
    for (size_t i = 0; i < n; i++) model_add(fs->md, fs->d, fs->m, times[i]);
    return 0;
}

static void file_points(const char *path, Model *md)
{
    model_init(md);
    TsfReader *r;
    cr_assert_eq(tsf_reader_open(path, &r, NULL), 0);
    for (int d = 0; d < NDEV; d++)
        for (int m = 0; m < NMEAS; m++) {
            char dev[32];
            dev_name(dev, sizeof dev, d);
            TsfSeriesMeta sm;
            if (tsf_reader_find_series(r, dev, meas_name[m], &sm) != 0) continue;
            FileScan fs = {md, d, m};
            cr_assert_eq(tsf_series_scan(r, &sm, NULL, INT64_MIN, INT64_MAX, take_times, &fs, NULL), 0);
            tsf_series_meta_free(&sm);
        }
    tsf_reader_close(r);
}

/* The byte ranges of a closed file's chunks and which series they hold. */
typedef struct ChunkSpan {
    uint64_t lo, hi;
    int d, m;
} ChunkSpan;

static size_t chunk_spans(const char *path, ChunkSpan *out, size_t max, uint64_t *data_end)
{
    TsfReader *r;
    cr_assert_eq(tsf_reader_open_data(path, &r, NULL), 0);
    uint64_t pos = TSF_HEAD_LEN;
    TsfRecord rec = {0};
    size_t n = 0;
    int d = -1;
    *data_end = 0;
    while (tsf_data_next(r, &pos, &rec) == 1) {
        if (rec.kind == TSF_REC_SEPARATOR) {
            *data_end = rec.offset;
            break;
        }
        if (rec.kind == TSF_REC_CHUNK_GROUP)
            cr_assert_eq(sscanf((const char *)rec.device.data, SG ".d%d", &d), 1);
        if (rec.kind != TSF_REC_CHUNK) continue;
        int m = -1;
        for (int k = 0; k < NMEAS; k++)
            if (strcmp((const char *)rec.name.data, meas_name[k]) == 0) m = k;
        cr_assert_lt(n, max);
        out[n++] = (ChunkSpan){rec.offset, rec.next, d, m};
    }
    tsf_record_free(&rec);
    tsf_reader_close(r);
    cr_assert_gt(*data_end, 0);
    return n;
}

typedef struct Listed {
    const char *path;
    bool found;
} Listed;

static void find_listed(void *ctx, const char *path, bool sequence, int64_t partition, bool closed)
{
    (void)sequence;
    (void)partition;
    Listed *l = ctx;
    if (closed && strcmp(path, l->path) == 0) l->found = true;
}

static bool engine_serves_file(Engine *e, const char *path)
{
    Listed l = {path, false};
    engine_foreach_tsfile(e, SG, find_listed, &l);
    return l.found;
}

static void part_range(int p, int64_t *lo, int64_t *hi)
{
    *lo = (int64_t)p * PART;
    *hi = *lo + PART - 1;
}

/* ---- (b) a flipped byte in a closed TsFile --------------------------------------------- */

/* What the master of cases (b) to (d) holds. */
typedef struct Closed {
    char *dir;
    Model want, all;
    GPtrArray *files;
    Model fpts[4]; /* points of each TsFile */
    ChunkSpan spans[4][64];
    size_t nspans[4];
    uint64_t data_end[4]; /* the separator: index from here */
} Closed;

static void closed_make(Closed *c)
{
    c->dir = make_dir();
    model_init(&c->want);
    model_init(&c->all);
    make_closed(c->dir, &c->want, &c->all);
    c->files = find_files(c->dir, ".tsfile");
    cr_assert_eq(c->files->len, 4);
    for (guint f = 0; f < 4; f++) {
        file_points(c->files->pdata[f], &c->fpts[f]);
        c->nspans[f] = chunk_spans(c->files->pdata[f], c->spans[f], 64, &c->data_end[f]);
    }
}

static void closed_free(Closed *c)
{
    for (guint f = 0; f < 4; f++) model_free(&c->fpts[f]);
    g_ptr_array_free(c->files, TRUE);
    model_free(&c->want);
    model_free(&c->all);
    remove_dir(c->dir);
    free(c->dir);
}

/* Outcomes of the series that met a damaged TsFile. */
typedef struct Tally {
    int trials, refused, whole, query_err, index_short, garbage;
} Tally;

/* One trial: byte `at` of TsFile f flipped with mask. */
static void tsfile_trial(const Closed *c, guint f, off_t at, uint8_t mask, Tally *t)
{
    const char *mfile = c->files->pdata[f];
    int fpart = partition_of_path(mfile);
    char *dir = copy_dir(c->dir);
    char *file = rebase(mfile, c->dir, dir);
    flip_byte(file, at, mask);
    t->trials++;
    log_begin();
    Engine *e = open_engine(dir, WAL_SYNC_OFF);
    bool served = engine_serves_file(e, file);
    /* the chunk the flip is in, if any */
    int hit_d = -1, hit_m = -1;
    for (size_t s = 0; s < c->nspans[f]; s++)
        if ((uint64_t)at >= c->spans[f][s].lo && (uint64_t)at < c->spans[f][s].hi) {
            hit_d = c->spans[f][s].d;
            hit_m = c->spans[f][s].m;
        }
    bool in_data = (uint64_t)at >= TSF_HEAD_LEN && (uint64_t)at < c->data_end[f];
    int errors = 0;
    char where[512];
    snprintf(where, sizeof where, "byte %jd (^%02x, %s) of %s", (intmax_t)at, mask,
             in_data ? "data" : "index", mfile);
    for (int p = 0; p < NPARTS; p++) {
        int64_t lo, hi;
        part_range(p, &lo, &hi);
        for (int d = 0; d < NDEV; d++)
            for (int m = 0; m < NMEAS; m++) {
                if (p != fpart || (served && in_data && !(d == hit_d && m == hit_m))) {
                    /* other partitions, and the untouched series of a served file */
                    expect_exact(e, &c->all, &c->want, d, m, lo, hi, where);
                    continue;
                }
                Served s;
                serve(e, &c->all, d, m, lo, hi, &s);
                if (s.rc) {
                    t->query_err++;
                    errors++;
                } else if (s.garbage) {
                    /* no checksum in the format: what the page statistics
                     * do not pin down (a middle text value, middle times
                     * of a block) can change unseen; counted */
                    cr_assert(in_data && d == hit_d && m == hit_m,
                              "%s: d%d.%s served %d points never written", where, d, meas_name[m], s.garbage);
                    t->garbage++;
                } else {
                    size_t miss = missing_from(&s, &c->want, d, m, lo, hi, NULL);
                    /* a refused file's points are gone, nothing else */
                    size_t gone = served ? 0 : model_count(&c->fpts[f], d, m, lo, hi);
                    if (miss > gone) {
                        /* the data section is checked page by page; the
                         * index (statistics, bloom filter) is not */
                        cr_assert(!in_data, "%s: d%d.%s silently lost %zu points", where, d, meas_name[m],
                                  miss - gone);
                        t->index_short++;
                    } else {
                        t->whole++;
                    }
                }
                served_free(&s);
            }
    }
    cr_assert_eq(engine_close(e), 0);
    char *log = log_end();
    if (!served) {
        t->refused++;
        cr_assert(strstr(log, file), "%s: refused without a log line naming it:\n%s", where, log);
    }
    if (errors)
        cr_assert(strstr(log, file), "%s: a query failed without a log line naming the file:\n%s", where,
                  log);
    g_free(log);
    g_free(file);
    remove_dir(dir);
    free(dir);
}

Test(corruption, flipped_byte_in_closed_tsfile, .timeout = 900)
{
    rng_start();
    Closed c;
    closed_make(&c);
    Tally t = {0};
    for (guint f = 0; f < 4; f++) {
        off_t size = file_size(c.files->pdata[f]);
        /* the head, the separator, the tail magic and what precedes it,
         * then anywhere */
        off_t fixed[] = {0, 3, 6, (off_t)c.data_end[f], size - 1, size - 6, size - 7};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            tsfile_trial(&c, f, fixed[i], (uint8_t)rnd(1, 256), &t);
        for (int i = 0; i < trials(30); i++)
            tsfile_trial(&c, f, (off_t)rnd(0, (gint32)size), (uint8_t)rnd(1, 256), &t);
    }
    cr_log_info(
        "closed TsFiles: %d flips, %d files refused at open; series of the damaged partition: %d whole, %d "
        "query errors (logged), %d short after index damage, %d served changed points",
        t.trials, t.refused, t.whole, t.query_err, t.index_short, t.garbage);
    closed_free(&c);
    g_rand_free(g_rng);
}

/* The page check on its own: a value changed inside an uncompressed PLAIN
 * page (nothing else notices) fails the query with a log line naming the
 * file, and the file's other series still serve everything. */
Test(corruption, changed_value_fails_its_page_check)
{
    char *dir = make_dir();
    Engine *e = open_engine(dir, WAL_SYNC_OFF);
    cr_assert_eq(engine_create_sg(e, SG), 0);
    cr_assert_eq(engine_create_series(e, SG ".d0", "p", TSF_DOUBLE, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED), 0);
    enum { N = 100 };
    int64_t t[N];
    double v[N];
    for (int i = 0; i < N; i++) t[i] = 1000 + i, v[i] = i * 1.5;
    EngineColumn col = {"p", TSF_DOUBLE, v, NULL};
    cr_assert_eq(engine_insert_tablet(e, SG ".d0", t, N, &col, 1), 0);
    Model md, all;
    model_init(&md);
    model_init(&all);
    insert_run2(e, &md, &all, 1, 1000, 1, 50);
    cr_assert_eq(engine_close(e), 0);

    GPtrArray *files = find_files(dir, ".tsfile");
    cr_assert_eq(files->len, 1);
    const char *file = files->pdata[0];
    /* the chunk of d0.p: its last N * 8 bytes are the values, big-endian */
    TsfReader *r;
    cr_assert_eq(tsf_reader_open_data(file, &r, NULL), 0);
    uint64_t pos = TSF_HEAD_LEN, end = 0;
    TsfRecord rec = {0};
    while (tsf_data_next(r, &pos, &rec) == 1)
        if (rec.kind == TSF_REC_CHUNK && strcmp((const char *)rec.name.data, "p") == 0) end = rec.next;
    tsf_record_free(&rec);
    tsf_reader_close(r);
    cr_assert_gt(end, 0);
    flip_byte(file, (off_t)(end - (N - 40) * 8 + 1), 0x10); /* an exponent bit of value 40 */

    log_begin();
    e = open_engine(dir, WAL_SYNC_OFF);
    EngineQuery *q;
    int rc = engine_query_open(e, SG ".d0", "p", NULL, NULL, 0, &q);
    const int64_t *qt;
    const void *qv;
    size_t n = 0;
    if (rc == 0) {
        while ((rc = engine_query_next(q, &qt, &qv, &n)) == 0 && n > 0) {}
        engine_query_close(q);
    }
    for (int m = 0; m < NMEAS; m++)
        expect_exact(e, &all, &md, 1, m, INT64_MIN, INT64_MAX, "the other device");
    cr_assert_eq(engine_close(e), 0);
    char *log = log_end();
    cr_assert_eq(rc, TSF_ECORRUPT, "the changed page is not served: %s", tsf_strerror(rc));
    cr_assert(strstr(log, file) && strstr(log, "does not match its statistics"), "logged:\n%s", log);
    g_free(log);
    model_free(&md);
    model_free(&all);
    g_ptr_array_free(files, TRUE);
    remove_dir(dir);
    free(dir);
}

/* ---- (c) a flipped byte in a .resource ------------------------------------------------- */

Test(corruption, flipped_byte_in_resource, .timeout = 900)
{
    rng_start();
    Closed c;
    closed_make(&c);
    int ntrials = 0, rebuilt = 0, kept = 0;
    for (guint f = 0; f < 4; f++) {
        char *mres = g_strdup_printf("%s.resource", (char *)c.files->pdata[f]);
        off_t size = file_size(mres);
        GArray *offs = g_array_new(FALSE, FALSE, sizeof(off_t));
        /* version, type, device count, the first time range, then anywhere */
        off_t fixed[] = {0, 1, 2, 5, 6, 13, 14, 21, size - 1};
        g_array_append_vals(offs, fixed, sizeof fixed / sizeof fixed[0]);
        for (int i = 0; i < trials(10); i++) {
            off_t o = rnd(0, (gint32)size);
            g_array_append_val(offs, o);
        }
        for (guint oi = 0; oi < offs->len; oi++) {
            off_t at = g_array_index(offs, off_t, oi);
            uint8_t mask = (uint8_t)rnd(1, 256);
            char *dir = copy_dir(c.dir);
            char *res = rebase(mres, c.dir, dir);
            flip_byte(res, at, mask);
            ntrials++;
            char where[512];
            snprintf(where, sizeof where, "byte %jd (^%02x) of %s", (intmax_t)at, mask, mres);
            log_begin();
            Engine *e = open_engine(dir, WAL_SYNC_OFF);
            char *log = log_end();
            if (strstr(log, "rebuilt its .resource")) {
                cr_assert(strstr(log, res), "%s: the log names the file:\n%s", where, log);
                rebuilt++;
            } else {
                kept++; /* still covers its TsFile (a wider range, a plan index) */
            }
            /* everything, whole partitions and narrow windows (a range the
             * .resource wrongly narrowed would skip the file) */
            for (int p = 0; p < NPARTS; p++) {
                int64_t lo, hi;
                part_range(p, &lo, &hi);
                for (int d = 0; d < NDEV; d++) {
                    for (int m = 0; m < NMEAS; m++) expect_exact(e, &c.all, &c.want, d, m, lo, hi, where);
                    for (int64_t w = lo; w < lo + 2400; w += 200)
                        expect_exact(e, &c.all, &c.want, d, 0, w, w + 199, where);
                }
            }
            cr_assert_eq(engine_close(e), 0);
            g_free(log);
            g_free(res);
            remove_dir(dir);
            free(dir);
        }
        g_array_free(offs, TRUE);
        g_free(mres);
    }
    cr_log_info(
        ".resource: %d flips: %d rebuilt (logged), %d kept (still covering their TsFile); all data served",
        ntrials, rebuilt, kept);
    closed_free(&c);
    g_rand_free(g_rng);
}

/* ---- (d) a flipped byte in a .mods ----------------------------------------------------- */

/* Parses .mods text as the engine does, without its log lines. */
static void parse_quietly(Mods *m, const char *text, size_t len)
{
    mods_init(m);
    log_begin();
    cr_assert_eq(mods_parse(m, "test", text, len), 0);
    g_free(log_end());
}

static bool has_deletion(const Mods *m, const Deletion *d)
{
    for (size_t i = 0; i < m->n; i++)
        if (strcmp(m->d[i].path, d->path) == 0 && m->d[i].file_offset == d->file_offset &&
            m->d[i].start == d->start && m->d[i].end == d->end)
            return true;
    return false;
}

Test(corruption, flipped_byte_in_mods, .timeout = 900)
{
    rng_start();
    Closed c;
    closed_make(&c);
    GPtrArray *mods_files = find_files(c.dir, ".mods");
    cr_assert_eq(mods_files->len, 1);
    const char *mmods = mods_files->pdata[0];
    char *orig = NULL;
    gsize olen = 0;
    cr_assert(g_file_get_contents(mmods, &orig, &olen, NULL));
    Mods before;
    parse_quietly(&before, orig, olen);
    cr_assert_eq(before.n, 6);
    /* the TsFile it belongs to, its partition, and its chunks' offsets */
    char *mtsfile = g_strndup(mmods, strlen(mmods) - strlen(".mods"));
    guint f = 0;
    while (strcmp(c.files->pdata[f], mtsfile) != 0) f++;
    int fpart = partition_of_path(mtsfile);

    GArray *offs = g_array_new(FALSE, FALSE, sizeof(off_t));
    for (gsize i = 0; i < olen; i++)
        if (orig[i] == '\n' || orig[i] == ',') g_array_append_val(offs, i); /* the separators */
    for (int i = 0; i < trials(30); i++) {
        off_t o = rnd(0, (gint32)olen);
        g_array_append_val(offs, o);
    }
    int ntrials = 0, skipped_lines = 0, changed = 0;
    for (guint oi = 0; oi < offs->len; oi++) {
        off_t at = g_array_index(offs, off_t, oi);
        uint8_t mask = (uint8_t)rnd(1, 256);
        char *dir = copy_dir(c.dir);
        char *mods = rebase(mmods, c.dir, dir);
        flip_byte(mods, at, mask);
        ntrials++;
        char where[512];
        snprintf(where, sizeof where, "byte %jd (^%02x) of %s", (intmax_t)at, mask, mmods);
        /* lines the flip touched: its own, and the next when it was a '\n' */
        int line = 0;
        for (off_t i = 0; i < at; i++) line += orig[i] == '\n';
        int touched2 = orig[at] == '\n' ? line + 1 : line;
        char *text = g_memdup2(orig, olen);
        text[at] = (char)(text[at] ^ mask);
        Mods after;
        parse_quietly(&after, text, olen);
        for (size_t i = 0; i < before.n; i++)
            if ((int)i != line && (int)i != touched2)
                cr_assert(has_deletion(&after, &before.d[i]), "%s: intact line %zu lost", where, i + 1);
        bool skipped = after.n < before.n;
        skipped_lines += skipped;
        changed += !skipped && !(has_deletion(&after, &before.d[line]));

        log_begin();
        Engine *e = open_engine(dir, WAL_SYNC_OFF);
        char *log = log_end();
        if (skipped)
            cr_assert(strstr(log, mods), "%s: a line was dropped without a log line naming the file:\n%s",
                      where, log);
        /* served: every point of the partition but those the damaged file
         * deletes (as it parses now) */
        for (int d = 0; d < NDEV; d++)
            for (int m = 0; m < NMEAS; m++) {
                char dev[32];
                dev_name(dev, sizeof dev, d);
                Model exp;
                model_init(&exp);
                uint64_t chunk = 0;
                for (size_t s = 0; s < c.nspans[f]; s++)
                    if (c.spans[f][s].d == d && c.spans[f][s].m == m) chunk = c.spans[f][s].lo;
                GHashTableIter it;
                gpointer k;
                g_hash_table_iter_init(&it, c.all.s[d][m]);
                while (g_hash_table_iter_next(&it, &k, NULL)) {
                    int64_t t = *(int64_t *)k;
                    if (t / PART != fpart) continue;
                    int64_t one = t;
                    if (mods_apply(&after, dev, meas_name[m], chunk, &one, NULL, 0, 1) == 1)
                        model_add(&exp, d, m, t);
                }
                int64_t lo, hi;
                part_range(fpart, &lo, &hi);
                expect_exact(e, &c.all, &exp, d, m, lo, hi, where);
                model_free(&exp);
            }
        cr_assert_eq(engine_close(e), 0);
        mods_free(&after);
        g_free(text);
        g_free(log);
        g_free(mods);
        remove_dir(dir);
        free(dir);
    }
    cr_log_info(
        ".mods: %d flips: %d dropped a line (logged), %d changed a line into another valid deletion; intact "
        "lines always applied",
        ntrials, skipped_lines, changed);
    g_array_free(offs, TRUE);
    mods_free(&before);
    g_free(orig);
    g_free(mtsfile);
    g_ptr_array_free(mods_files, TRUE);
    closed_free(&c);
    g_rand_free(g_rng);
}

/* ---- (e) a flipped byte in a WAL segment after a crash --------------------------------- */

enum { WAL_RUNS = 24, WAL_RUN_N = 20, BASE_N = 100 };

static int64_t wal_time(int j, int i)
{
    return 50000 + (int64_t)j * 1000 + i;
}

/* Child: a flushed base, then WAL_RUNS inserts (one WAL record each) that
 * only the log holds; exits without closing (a crash). */
static void wal_writer(const char *dir)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_ALWAYS;
    o.partition_interval = PART;
    o.background_compaction = false;
    Engine *e;
    if (engine_open(&o, &e) != 0) _exit(3);
    if (engine_create_sg(e, SG) != 0) _exit(4);
    for (int d = 0; d < NDEV; d++) insert_run(e, NULL, d, d, 10, BASE_N);
    if (engine_flush_all(e) != 0) _exit(5);
    for (int j = 0; j < WAL_RUNS; j++) insert_run(e, NULL, j % NDEV, wal_time(j, 0), 1, WAL_RUN_N);
    if (engine_sync(e) != 0) _exit(6);
    _exit(0);
}

typedef struct RecList {
    size_t n;
    size_t end[64]; /* offset after each record */
} RecList;

static int note_record(void *ctx, uint64_t segment, const uint8_t *payload, size_t len)
{
    (void)segment;
    (void)payload;
    RecList *l = ctx;
    size_t prev = l->n ? l->end[l->n - 1] : 8;
    if (l->n < 64) l->end[l->n] = prev + 8 + len;
    l->n++;
    return 0;
}

static void wal_trial(const char *master, const char *mseg, const RecList *recs, off_t at, uint8_t mask,
                      const Model *all)
{
    char *dir = copy_dir(master);
    char *seg = rebase(mseg, master, dir);
    flip_byte(seg, at, mask);
    /* records before the one the flip is in are replayed; a damaged magic
     * followed by intact records loses nothing */
    size_t k = recs->n;
    for (size_t i = 0; i < recs->n; i++)
        if (at >= 8 && (size_t)at < recs->end[i]) {
            k = i;
            break;
        }
    Model want;
    model_init(&want);
    for (int d = 0; d < NDEV; d++)
        for (int i = 0; i < BASE_N; i++)
            for (int m = 0; m < NMEAS; m++) model_add(&want, d, m, d + (int64_t)i * 10);
    for (size_t j = 0; j < k; j++)
        for (int i = 0; i < WAL_RUN_N; i++)
            for (int m = 0; m < NMEAS; m++) model_add(&want, (int)j % NDEV, m, wal_time((int)j, i));
    char where[512];
    snprintf(where, sizeof where, "byte %jd (^%02x) of %s (record %zu of %zu)", (intmax_t)at, mask, mseg, k,
             recs->n);
    log_begin();
    Engine *e = open_engine(dir, WAL_SYNC_ALWAYS);
    char *log = log_end();
    cr_assert(strstr(log, seg), "%s: the damage is logged naming the segment:\n%s", where, log);
    for (int d = 0; d < NDEV; d++)
        for (int m = 0; m < NMEAS; m++) expect_exact(e, all, &want, d, m, INT64_MIN, INT64_MAX, where);
    cr_assert_eq(engine_close(e), 0);
    model_free(&want);
    g_free(log);
    g_free(seg);
    remove_dir(dir);
    free(dir);
}

Test(corruption, flipped_byte_in_wal_segment, .timeout = 900)
{
    rng_start();
    char *master = make_dir();
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) wal_writer(master);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "writer failed: %d", status);

    Model all;
    model_init(&all);
    for (int d = 0; d < NDEV; d++)
        for (int i = 0; i < BASE_N; i++)
            for (int m = 0; m < NMEAS; m++) model_add(&all, d, m, d + (int64_t)i * 10);
    for (int j = 0; j < WAL_RUNS; j++)
        for (int i = 0; i < WAL_RUN_N; i++)
            for (int m = 0; m < NMEAS; m++) model_add(&all, j % NDEV, m, wal_time(j, i));

    GPtrArray *segs = find_files(master, ".wal");
    int ntrials = 0;
    for (guint s = 0; s < segs->len; s++) {
        const char *mseg = segs->pdata[s];
        gchar *bytes;
        gsize size;
        cr_assert(g_file_get_contents(mseg, &bytes, &size, NULL));
        RecList recs = {0};
        size_t intact = 0;
        cr_assert_eq(wal_scan_image((const uint8_t *)bytes, size, 1, note_record, &recs, &intact), 0);
        cr_assert_eq(intact, size, "%s is whole", mseg);
        g_free(bytes);
        cr_assert(recs.n == 0 || recs.n == WAL_RUNS, "%s: %zu records", mseg, recs.n);
        /* the magic, the first header, then anywhere */
        off_t fixed[] = {0, 7, 8, 11, 12, 15, 16};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            if (fixed[i] < (off_t)size) {
                wal_trial(master, mseg, &recs, fixed[i], (uint8_t)rnd(1, 256), &all);
                ntrials++;
            }
        for (int i = 0; recs.n > 0 && i < trials(30); i++) {
            wal_trial(master, mseg, &recs, rnd(8, (gint32)size), (uint8_t)rnd(1, 256), &all);
            ntrials++;
        }
    }
    cr_assert_gt(ntrials, 30);
    cr_log_info("WAL: %d flips in %u segments; every record before the damaged one replayed", ntrials,
                segs->len);
    g_ptr_array_free(segs, TRUE);
    model_free(&all);
    remove_dir(master);
    free(master);
    g_rand_free(g_rng);
}
