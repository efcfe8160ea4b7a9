/*
 * compaction.c: merging a partition's closed TsFiles into one sequence file.
 *
 * DESIGN
 * The sources are every closed file of a partition (sequence and
 * unsequence).  Each series they hold is read through the query engine
 * restricted to exactly those files, so the newest write wins, deletions
 * (.mods) are applied and points older than the TTL dropped; the result is
 * written as one new sequence file (chunks of at most COMPACT_CHUNK_POINTS
 * points).  Files still being written are not touched: their data is newer
 * than the sources' (unsequence data beats sequence data; a working
 * sequence file never overlaps closed data), so the target may be a
 * sequence file.
 *
 * The swap is atomic across crashes:
 *   1. the target is written under a temporary name (.compacting);
 *   2. system/compaction.log names the sources, the target and the temp
 *      file, and is fsynced;
 *   3. under the storage group's lock: deletions that reached the sources
 *      since the compaction began are copied to the target's .mods, the
 *      temp file is renamed to the target, and the partition's file list
 *      swaps sources for target (a query sees one or the other);
 *   4. sources are deleted, then the log.
 * At startup a log left behind is finished (target complete: delete the
 * remaining sources) or undone (no target: delete the temp file), so the
 * old files or the new one are in use, never both and never neither.
 *
 * A background thread compacts partitions with closed unsequence files or
 * several closed sequence files, throttled to compaction_mb_per_s, when the
 * disk has room for the target (about the sources' size).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "fileio.h"
#include "query.h"
#include "reader.h"

#define COMPACT_CHUNK_POINTS 1000000
#define MIN_SEQ_FILES        4

typedef struct SerKey {
    char *device, *name;
    TsfType type;
} SerKey;

static int add_series(void *ctx, const TsfSeriesMeta *sm)
{
    GHashTable *set = ctx;
    if (sm->mask) return 0; /* the engine writes non-aligned series only */
    char *key = g_strdup_printf("%.*s\x01%.*s", (int)sm->device_len, sm->device, (int)sm->name_len, sm->name);
    if (g_hash_table_contains(set, key)) {
        g_free(key);
        return 0;
    }
    SerKey *k = g_new0(SerKey, 1);
    k->device = g_strndup(sm->device, sm->device_len);
    k->name = g_strndup(sm->name, sm->name_len);
    k->type = sm->type;
    g_hash_table_insert(set, key, k);
    return 0;
}

static void serkey_free(gpointer p)
{
    SerKey *k = p;
    g_free(k->device);
    g_free(k->name);
    g_free(k);
}

static gint by_key(gconstpointer a, gconstpointer b)
{
    const SerKey *x = *(SerKey *const *)a, *y = *(SerKey *const *)b;
    int c = strcmp(x->device, y->device);
    return c ? c : strcmp(x->name, y->name);
}

static int write_log(const char *path, ClosedFile *const *src, size_t n, const char *target, const char *temp)
{
    GString *s = g_string_new(NULL);
    for (size_t i = 0; i < n; i++) g_string_append_printf(s, "SOURCE %s\n", src[i]->path);
    g_string_append_printf(s, "TARGET %s\nTEMP %s\n", target, temp);
    int rc = 0;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = fileio_write_all(fd, s->str, s->len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (fd >= 0) close(fd);
    g_string_free(s, TRUE);
    return rc;
}

/* Sleeps as needed to keep `bytes` written since t0 under the rate limit. */
static void throttle(const Engine *e, uint64_t bytes, double t0)
{
    uint32_t mbps = e->o.compaction_mb_per_s;
    if (!mbps) return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double now = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    double due = t0 + (double)bytes / ((double)mbps * 1048576.0);
    if (due > now) {
        double d = due - now;
        struct timespec sl = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        nanosleep(&sl, NULL);
    }
}

/* Writes every series of the sources into w; widens res. */
static int merge_into(Engine *e, StorageGroup *sg, ClosedFile *const *src, size_t n, int64_t plo, int64_t phi,
                      TsfWriter *w, Resource *res, bool throttled)
{
    GHashTable *set = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, serkey_free);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        TsfReader *r;
        rc = tsf_reader_open(src[i]->path, &r, NULL);
        if (rc == 0) {
            rc = tsf_reader_foreach_series(r, add_series, set);
            tsf_reader_close(r);
        }
    }
    GPtrArray *keys = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, set);
    while (g_hash_table_iter_next(&it, &k, &v)) g_ptr_array_add(keys, v);
    g_ptr_array_sort(keys, by_key);
    TimeFilter *tf = tf_range(plo, phi);
    int64_t cutoff = eng_ttl_cutoff(e, sg->name);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double t0 = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
    const char *open_dev = NULL;
    for (guint i = 0; i < keys->len && rc == 0; i++) {
        SerKey *key = keys->pdata[i];
        const SeriesSchema *ss = schema_get_series(e->schema, key->device, key->name);
        TsfEncoding enc = ss ? ss->encoding : schema_default_encoding(key->type);
        TsfCompression comp = ss ? ss->compression : e->o.compression;
        EngineQuery *q;
        /* the file list and its .mods are read under the lock: deletions
         * append to them concurrently */
        pthread_mutex_lock(&sg->lock);
        rc = query_open_files(e, key->device, key->name, key->type, src, n, tf, cutoff, &q);
        pthread_mutex_unlock(&sg->lock);
        if (rc) break;
        const int64_t *t;
        const void *vals;
        size_t cnt, in_chunk = 0;
        bool series_open = false;
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        while (rc == 0 && (rc = engine_query_next(q, &t, &vals, &cnt)) == 0 && cnt > 0) {
            if (series_open && in_chunk + cnt > COMPACT_CHUNK_POINTS) {
                /* bounded chunks: a new chunk group for the same device */
                rc = tsf_writer_end_group(w);
                open_dev = NULL;
                series_open = false;
                in_chunk = 0;
            }
            if (rc == 0 && (!open_dev || strcmp(open_dev, key->device) != 0)) {
                if (open_dev) rc = tsf_writer_end_group(w);
                if (rc == 0) rc = tsf_writer_begin_group(w, key->device);
                open_dev = key->device;
            }
            if (rc == 0 && !series_open) rc = tsf_writer_begin_series(w, key->name, key->type, enc, comp);
            series_open = rc == 0;
            if (rc == 0) rc = tsf_writer_append(w, t, vals, cnt);
            in_chunk += cnt;
            if (t[0] < lo) lo = t[0];
            if (t[cnt - 1] > hi) hi = t[cnt - 1];
        }
        engine_query_close(q);
        if (rc == 0 && series_open) rc = tsf_writer_end_series(w);
        if (rc == 0 && lo <= hi) rc = resource_update(res, key->device, lo, hi);
        if (throttled) throttle(e, tsf_writer_position(w), t0);
    }
    if (rc == 0 && open_dev) rc = tsf_writer_end_group(w);
    tf_free(tf);
    g_ptr_array_free(keys, TRUE);
    g_hash_table_destroy(set);
    return rc;
}

static int run_partition(Engine *e, StorageGroup *sg, int64_t pid, bool throttled)
{
    /* sources: every closed file, with how many deletions each had */
    pthread_mutex_lock(&sg->lock);
    Partition *p = eng_partition(e, sg, pid, false);
    /* the background compactor never touches a sealed partition; sealing
     * itself merges the partition before it is fixed */
    if (!p || p->compacting || p->closed->len == 0 || (throttled && p->sealed)) {
        pthread_mutex_unlock(&sg->lock);
        return 0;
    }
    size_t n = p->closed->len;
    ClosedFile **src = g_new(ClosedFile *, n);
    size_t *mods_before = g_new(size_t, n);
    uint64_t maxver = 0;
    bool any_unseq = false;
    for (size_t i = 0; i < n; i++) {
        src[i] = p->closed->pdata[i];
        mods_before[i] = src[i]->mods.n;
        if (src[i]->version > maxver) maxver = src[i]->version;
        if (!src[i]->sequence) any_unseq = true;
    }
    /* the background compactor waits for room: the target needs about as
     * much as its sources, and a merge that fills the disk would make
     * writes fail for nothing (a seal merges anyway: it reports ENOSPC) */
    bool no_room = false;
    if (throttled) {
        uint64_t need = 1u << 20;
        struct stat st;
        for (size_t i = 0; i < n; i++)
            if (stat(src[i]->path, &st) == 0) need += (uint64_t)st.st_size + (uint64_t)st.st_size / 8;
        struct statvfs vfs;
        no_room = statvfs(e->dir, &vfs) == 0 && (uint64_t)vfs.f_bavail * vfs.f_frsize < need;
    }
    if ((!any_unseq && n < 2) || no_room) {
        pthread_mutex_unlock(&sg->lock);
        g_free(src);
        g_free(mods_before);
        return 0;
    }
    p->compacting = true;
    pthread_mutex_unlock(&sg->lock);

    int64_t plo, phi;
    eng_partition_span(e, pid, &plo, &phi);
    char *dir = eng_partition_dir(e, sg->name, true, pid);
    char *target = g_strdup_printf("%s/%" PRId64 "-%" PRIu64 "-1-1.tsfile", dir, eng_now_ms(), maxver);
    char *temp = g_strdup_printf("%s.compacting", target);
    char *log = g_strdup_printf("%s/system/compaction.log", e->dir);
    int rc = g_mkdir_with_parents(dir, 0755) == 0 ? 0 : -errno;
    TsfWriterOpts wo;
    tsf_writer_opts_default(&wo);
    wo.fsync = true;
    TsfWriter *w = NULL;
    Resource res;
    resource_init(&res);
    if (rc == 0) rc = tsf_writer_open(temp, &wo, &w);
    if (rc == 0) rc = merge_into(e, sg, src, n, plo, phi, w, &res, throttled);
    if (w) {
        if (rc == 0)
            rc = tsf_writer_close(w);
        else
            tsf_writer_abort(w);
    }
    if (rc == 0) rc = write_log(log, src, n, target, temp);
    ClosedFile *cf = NULL;
    if (rc == 0) {
        cf = g_new0(ClosedFile, 1);
        cf->path = strdup(target);
        cf->sequence = true;
        cf->version = maxver;
        cf->res = res;
        resource_init(&res);
        mods_init(&cf->mods);
        rc = resource_write(&cf->res, temp); /* temp.resource: renamed with the file */
    }
    struct stat st;
    pthread_mutex_lock(&sg->lock);
    if (rc == 0 && stat(temp, &st) != 0) rc = -errno;
    /* deletions that reached the sources meanwhile go to the target */
    for (size_t i = 0; i < n && rc == 0; i++)
        for (size_t k = mods_before[i]; k < src[i]->mods.n && rc == 0; k++) {
            const Deletion *d = &src[i]->mods.d[k];
            rc = mods_append(&cf->mods, temp, d->path, (int64_t)st.st_size, d->start, d->end);
        }
    if (rc == 0) {
        char *tres = g_strdup_printf("%s.resource", temp), *fres = g_strdup_printf("%s.resource", target);
        char *tmods = g_strdup_printf("%s.mods", temp), *fmods = g_strdup_printf("%s.mods", target);
        if (rename(tres, fres) != 0 || (cf->mods.n && rename(tmods, fmods) != 0) || rename(temp, target) != 0)
            rc = -errno;
        if (rc == 0) rc = fileio_fsync_dir(dir);
        g_free(tres);
        g_free(fres);
        g_free(tmods);
        g_free(fmods);
    }
    GPtrArray *gone = g_ptr_array_new_with_free_func((GDestroyNotify)closed_file_free);
    if (rc == 0) {
        for (size_t i = 0; i < n; i++) {
            guint idx;
            if (g_ptr_array_find(p->closed, src[i], &idx))
                g_ptr_array_add(gone, g_ptr_array_steal_index(p->closed, idx));
        }
        if (cf->res.n > 0) {
            g_ptr_array_add(p->closed, cf);
            cf = NULL;
        }
    }
    p->compacting = false;
    pthread_mutex_unlock(&sg->lock);
    if (rc == 0) {
        if (cf) eng_remove_file_set(target); /* the merge left nothing (all deleted or expired) */
        for (guint i = 0; i < gone->len; i++) eng_remove_file_set(((ClosedFile *)gone->pdata[i])->path);
        unlink(log);
        atomic_fetch_add(&e->compactions, 1);
    } else {
        eng_remove_file_set(temp);
        unlink(log);
        fprintf(stderr, "tsfs: compaction of %s partition %" PRId64 " failed: %s; the old files stay\n",
                sg->name, pid, tsf_strerror(rc));
    }
    closed_file_free(cf);
    g_ptr_array_free(gone, TRUE);
    resource_free(&res);
    g_free(src);
    g_free(mods_before);
    g_free(dir);
    g_free(target);
    g_free(temp);
    g_free(log);
    return rc;
}

int compaction_run_partition(Engine *e, StorageGroup *sg, int64_t partition)
{
    return run_partition(e, sg, partition, false);
}

/* Partitions worth compacting: closed unsequence files, or several closed
 * sequence files; never a sealed partition. */
static int compact_all(Engine *e, bool throttled)
{
    GList *sgs = eng_sg_list(e);
    int rc = 0;
    for (GList *l = sgs; l && rc == 0; l = l->next) {
        StorageGroup *sg = l->data;
        GArray *todo = g_array_new(FALSE, FALSE, sizeof(int64_t));
        pthread_mutex_lock(&sg->lock);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, sg->parts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            Partition *p = v;
            if (p->sealed || p->compacting) continue;
            size_t seq = 0, unseq = 0;
            for (guint i = 0; i < p->closed->len; i++) {
                if (((ClosedFile *)p->closed->pdata[i])->sequence)
                    seq++;
                else
                    unseq++;
            }
            if (unseq > 0 || seq >= MIN_SEQ_FILES) g_array_append_val(todo, p->id);
        }
        pthread_mutex_unlock(&sg->lock);
        for (guint i = 0; i < todo->len && rc == 0; i++)
            rc = run_partition(e, sg, g_array_index(todo, int64_t, i), throttled);
        g_array_free(todo, TRUE);
        if (e->compactor_stop) break;
    }
    g_list_free(sgs);
    return rc;
}

int engine_compact_all(Engine *e)
{
    return compact_all(e, false);
}

int compaction_recover(Engine *e)
{
    char *log = g_strdup_printf("%s/system/compaction.log", e->dir);
    gchar *text = NULL;
    gsize len = 0;
    if (!g_file_get_contents(log, &text, &len, NULL)) {
        g_free(log);
        return 0;
    }
    char **lines = g_strsplit(text, "\n", -1);
    const char *target = NULL, *temp = NULL;
    for (char **l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "TARGET ")) target = *l + 7;
        if (g_str_has_prefix(*l, "TEMP ")) temp = *l + 5;
    }
    struct stat st;
    bool done = target && temp && stat(target, &st) == 0; /* renamed: the swap happened */
    if (target && temp) {
        for (char **l = lines; *l; l++) {
            if (!g_str_has_prefix(*l, "SOURCE ")) continue;
            if (done) eng_remove_file_set(*l + 7);
        }
        if (!done) eng_remove_file_set(temp);
        fprintf(stderr, "tsfs: an interrupted compaction was %s\n", done ? "finished" : "undone");
    }
    g_strfreev(lines);
    g_free(text);
    unlink(log);
    g_free(log);
    return 0;
}

static void *compactor_main(void *arg)
{
    Engine *e = arg;
    pthread_mutex_lock(&e->compactor_lock);
    while (!e->compactor_stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 2;
        pthread_cond_timedwait(&e->compactor_cond, &e->compactor_lock, &ts);
        if (e->compactor_stop) break;
        pthread_mutex_unlock(&e->compactor_lock);
        compact_all(e, true);
        pthread_mutex_lock(&e->compactor_lock);
    }
    pthread_mutex_unlock(&e->compactor_lock);
    return NULL;
}

int compaction_start(Engine *e)
{
    if (!e->o.background_compaction) return 0;
    int rc = pthread_create(&e->compactor, NULL, compactor_main, e);
    if (rc) return -rc;
    e->compactor_running = true;
    return 0;
}

void compaction_stop(Engine *e)
{
    if (!e->compactor_running) return;
    pthread_mutex_lock(&e->compactor_lock);
    e->compactor_stop = true;
    pthread_cond_signal(&e->compactor_cond);
    pthread_mutex_unlock(&e->compactor_lock);
    pthread_join(e->compactor, NULL);
    e->compactor_running = false;
}
