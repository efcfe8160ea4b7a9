/*
 * test_stats.c: the engine's counters as the mount's /.stats shows them:
 * per storage group partitions (sealed or not) and TsFiles with their
 * bytes, checked against DATA_DIR; points counted apart from WAL replay.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine.h"

static char *stats_dir(void)
{
    char tmpl[] = "/tmp/tsfs-stats-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    return strdup(d);
}

static Engine *stats_open(const char *dir)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.background_compaction = false;
    Engine *e = NULL;
    cr_assert_eq(engine_open(&o, &e), 0);
    return e;
}

/* Number and total size of the *.tsfile files under dir/kind/sg. */
static void disk_files(const char *dir, const char *kind, const char *sg, uint64_t *n, uint64_t *bytes)
{
    *n = *bytes = 0;
    char *cmd =
        g_strdup_printf("find '%s/%s/%s' -name '*.tsfile' -printf '%%s\\n' 2>/dev/null", dir, kind, sg);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    unsigned long long s;
    while (fscanf(p, "%llu", &s) == 1) {
        (*n)++;
        *bytes += s;
    }
    pclose(p);
    g_free(cmd);
}

Test(engine_stats, storage_group_partitions_files_and_bytes)
{
    char *dir = stats_dir();
    Engine *e = stats_open(dir);
    const int64_t week = 604800000;
    EngineSgStats st;
    cr_assert_eq(engine_sg_stats(e, "root.nosuch", &st), -ENOENT);
    cr_assert_eq(engine_create_sg(e, "root.s"), 0);
    double v = 1.5;
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, 100, &v), 0);
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, week + 100, &v), 0);
    cr_assert_eq(engine_sg_stats(e, "root.s", &st), 0);
    cr_assert_eq(st.partitions, 2);
    cr_assert_eq(st.partitions_sealed, 0);

    /* a point at or before the flushed time of its partition: an unsequence file */
    cr_assert_eq(engine_flush_all(e), 0);
    cr_assert_eq(engine_insert_point(e, "root.s.d", "x", TSF_DOUBLE, week + 50, &v), 0);
    cr_assert_eq(engine_flush_all(e), 0);
    cr_assert_eq(engine_seal_partition(e, "root.s", 0), 0);
    cr_assert_eq(engine_sg_stats(e, "root.s", &st), 0);
    cr_assert_eq(st.partitions, 2);
    cr_assert_eq(st.partitions_sealed, 1);
    uint64_t n, bytes;
    disk_files(dir, "sequence", "root.s", &n, &bytes);
    cr_assert_eq(st.seq_files, n);
    cr_assert_eq(st.seq_bytes, bytes);
    cr_assert_geq(n, 2);
    disk_files(dir, "unsequence", "root.s", &n, &bytes);
    cr_assert_eq(st.unseq_files, 1);
    cr_assert_eq(st.unseq_files, n);
    cr_assert_eq(st.unseq_bytes, bytes);
    cr_assert_gt(bytes, 0);

    EngineStats es;
    engine_get_stats(e, &es);
    cr_assert_eq(es.points_inserted, 3);
    cr_assert_eq(es.points_replayed, 0);
    cr_assert_geq(es.files_closed, 1, "the seal closed a file");
    cr_assert_gt(es.wal_bytes, 0);
    cr_assert_geq(es.wal_segments, 1);
    cr_assert_eq(engine_close(e), 0);

    /* a clean reopen replays nothing and counts from zero */
    e = stats_open(dir);
    engine_get_stats(e, &es);
    cr_assert_eq(es.points_inserted, 0);
    cr_assert_eq(es.points_replayed, 0);
    cr_assert_eq(es.wal_records_replayed, 0);
    cr_assert_eq(engine_sg_stats(e, "root.s", &st), 0);
    cr_assert_eq(st.partitions, 2);
    cr_assert_eq(st.partitions_sealed, 1, "sealing survives a restart");
    cr_assert_eq(engine_close(e), 0);
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
    free(dir);
}
