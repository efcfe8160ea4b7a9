/*
 * stats.c: the read-only MOUNTPOINT/.stats file, counters of the running
 * filesystem in the manner of a /proc file: one `name value` line each, so
 * cat, grep and awk read it without a parser.
 *
 * The text is made fresh for every open (and every stat): it is a few
 * hundred bytes, and the engine keeps the counters, so rendering costs a
 * schema walk and one stat() per TsFile.  A handle keeps the text of its
 * open, so its size is exact and a slow reader sees one consistent
 * snapshot.  Names and their order are part of the contract
 * (docs/filesystem.md): lines are only ever added.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tsfs.h"

typedef struct SgCount {
    char *name;
    size_t len;
    uint64_t series;
    GHashTable *devices; /* set of device paths (copies) */
} SgCount;

typedef struct SgWalk {
    GPtrArray *sgs; /* SgCount* */
} SgWalk;

static void add_sg(void *ctx, const char *sg)
{
    SgCount *c = g_new0(SgCount, 1);
    c->name = g_strdup(sg);
    c->len = strlen(sg);
    c->devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_ptr_array_add(((SgWalk *)ctx)->sgs, c);
}

static void count_series(void *ctx, const SeriesSchema *ss)
{
    SgWalk *w = ctx;
    for (guint i = 0; i < w->sgs->len; i++) {
        SgCount *c = w->sgs->pdata[i];
        if (strncmp(ss->device, c->name, c->len) == 0 && ss->device[c->len] == '.') {
            c->series++;
            if (!g_hash_table_contains(c->devices, ss->device))
                g_hash_table_add(c->devices, g_strdup(ss->device));
            return;
        }
    }
}

static void sg_count_free(gpointer p)
{
    SgCount *c = p;
    g_free(c->name);
    g_hash_table_destroy(c->devices);
    g_free(c);
}

static int cmp_sg(const void *a, const void *b)
{
    return strcmp((*(SgCount *const *)a)->name, (*(SgCount *const *)b)->name);
}

static void line(GString *s, const char *name, uint64_t v)
{
    g_string_append_printf(s, "%s %llu\n", name, (unsigned long long)v);
}

static void sg_line(GString *s, const char *sg, const char *field, uint64_t v)
{
    g_string_append_printf(s, "sg.%s.%s %llu\n", sg, field, (unsigned long long)v);
}

int stats_render(Tsfs *fs, char **out, size_t *len)
{
    EngineStats es;
    engine_get_stats(fs->engine, &es);
    int64_t up = fs_now_ms() - fs->mount_time;
    GString *s = g_string_sized_new(1024);
    line(s, "uptime_ms", up > 0 ? (uint64_t)up : 0);
    line(s, "points_ingested", es.points_inserted);
    line(s, "points_replayed", es.points_replayed);
    line(s, "memtable_bytes", es.memtable_bytes);
    line(s, "flushes", es.flushes);
    line(s, "files_closed", es.files_closed);
    line(s, "compactions", es.compactions);
    line(s, "wal_syncs", es.wal_syncs);
    line(s, "wal_bytes", es.wal_bytes);
    line(s, "wal_segments", es.wal_segments);
    line(s, "wal_records_replayed", es.wal_records_replayed);
    line(s, "wal_records_skipped", es.wal_records_skipped);

    SgWalk w = {g_ptr_array_new_with_free_func(sg_count_free)};
    Schema *sc = engine_schema(fs->engine);
    schema_foreach_sg(sc, add_sg, &w);
    schema_foreach_series(sc, NULL, count_series, &w);
    if (w.sgs->len) qsort(w.sgs->pdata, w.sgs->len, sizeof(gpointer), cmp_sg);
    line(s, "storage_groups", w.sgs->len);
    for (guint i = 0; i < w.sgs->len; i++) {
        SgCount *c = w.sgs->pdata[i];
        EngineSgStats ss;
        /* a storage group without data yet has no engine state: zeros */
        if (engine_sg_stats(fs->engine, c->name, &ss) != 0) memset(&ss, 0, sizeof ss);
        sg_line(s, c->name, "series", c->series);
        sg_line(s, c->name, "devices", g_hash_table_size(c->devices));
        sg_line(s, c->name, "partitions", ss.partitions);
        sg_line(s, c->name, "partitions_sealed", ss.partitions_sealed);
        sg_line(s, c->name, "partitions_live", ss.partitions - ss.partitions_sealed);
        sg_line(s, c->name, "tsfiles_seq", ss.seq_files);
        sg_line(s, c->name, "tsfiles_unseq", ss.unseq_files);
        sg_line(s, c->name, "tsfile_bytes_seq", ss.seq_bytes);
        sg_line(s, c->name, "tsfile_bytes_unseq", ss.unseq_bytes);
    }
    g_ptr_array_free(w.sgs, TRUE);
    *len = s->len;
    *out = g_string_free(s, FALSE);
    return 0;
}
