/*
 * deletion.c: deleting points (.mods) and expiring old data (TTL).
 *
 * A deletion reaches every place the points may be:
 *   - closed files whose .resource says the device has data in range: a
 *     DELETION line in their .mods, offset = the file's length (it covers
 *     every chunk of the file);
 *   - files being written: a DELETION line with offset = the length after
 *     their last finished flush (it covers what is on disk, not what later
 *     flushes will add);
 *   - the working memtable: the points are removed at once;
 *   - memtables frozen for flushing are immutable while the flush thread
 *     reads them: the deletion waits in their `pending` list (applied when
 *     the flush starts) or, once the flush has started, in their `late`
 *     list (written to the file's .mods when the flush is on disk).  Queries
 *     apply both lists to what they read from such memtables.
 * All of it happens under the storage group's lock, so a query sees the
 * deletion whole or not at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine_int.h"

static bool range_meets(int64_t a_lo, int64_t a_hi, int64_t b_lo, int64_t b_hi)
{
    return a_lo <= b_hi && b_lo <= a_hi;
}

/* Does the partition hold data of the device in [start, end]? */
static bool partition_has(Partition *p, const char *device, int64_t start, int64_t end)
{
    for (guint i = 0; i < p->closed->len; i++) {
        const ResDevice *rd = resource_find(&((ClosedFile *)p->closed->pdata[i])->res, device);
        if (rd && range_meets(rd->start, rd->end, start, end)) return true;
    }
    TsFileProc *procs[2] = {p->seq, p->unseq};
    for (int k = 0; k < 2; k++)
        if (procs[k]) return true; /* a sealed partition has no working files; be safe */
    return p->closing->len > 0;
}

static int delete_in_proc(TsFileProc *proc, const char *device, const char *measurement, const char *path,
                          int64_t start, int64_t end)
{
    int rc = 0;
    const ResDevice *rd = resource_find(&proc->res, device);
    if (rd && range_meets(rd->start, rd->end, start, end))
        rc = mods_append(&proc->mods, proc->path, path, (int64_t)proc->file_bytes, start, end);
    for (GList *l = proc->flushing.head; l && rc == 0; l = l->next) {
        MemTable *m = l->data;
        rc = memtable_note_delete(m->flush_started ? m->late : m->pending, device, measurement, start, end);
    }
    if (rc == 0 && proc->working) memtable_delete(proc->working, device, measurement, start, end);
    return rc;
}

int engine_delete(Engine *e, const char *device, const char *measurement, int64_t start, int64_t end)
{
    if (start > end) return 0;
    char sgname[1024];
    int rc = schema_sg_of(e->schema, device, sgname, sizeof sgname);
    if (rc) return -ENOENT;
    StorageGroup *sg = eng_sg(e, sgname, true);
    if (!sg) return -ENOMEM;
    char *path =
        measurement ? g_strdup_printf("%s.%s", device, measurement) : g_strdup_printf("%s.*", device);
    uint64_t ticket = 0;
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    /* nothing is deleted when the range reaches data in a sealed partition */
    g_hash_table_iter_init(&it, sg->parts);
    while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        int64_t plo, phi;
        eng_partition_span(e, p->id, &plo, &phi);
        if (p->sealed && range_meets(plo, phi, start, end) && partition_has(p, device, start, end))
            rc = -EROFS;
    }
    /* logged before it is applied, like an insert: a replay after a crash
     * must not bring back points this deletion removed from memtables */
    if (rc == 0 && !e->replaying && e->wal) {
        TsfBuf rec = TSF_BUF_INIT;
        tsf_buf_put_u8(&rec, REC_DELETE);
        tsf_buf_put_varstr(&rec, device, strlen(device));
        tsf_buf_put_u8(&rec, measurement != NULL);
        if (measurement) tsf_buf_put_varstr(&rec, measurement, strlen(measurement));
        tsf_buf_put(&rec, &start, 8);
        tsf_buf_put(&rec, &end, 8);
        rc = rec.err ? rec.err : wal_append(e->wal, rec.data, rec.len, &ticket, NULL);
        tsf_buf_free(&rec);
    }
    /* during startup, files reopened for replay hold memtables too */
    for (guint i = 0; rc == 0 && e->replaying && i < e->recovered->len; i++) {
        TsFileProc *rp = e->recovered->pdata[i];
        if (rp->part->sg == sg) rc = delete_in_proc(rp, device, measurement, path, start, end);
    }
    g_hash_table_iter_init(&it, sg->parts);
    while (rc == 0 && g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        int64_t plo, phi;
        eng_partition_span(e, p->id, &plo, &phi);
        if (!range_meets(plo, phi, start, end)) continue;
        for (guint i = 0; i < p->closed->len && rc == 0; i++) {
            ClosedFile *cf = p->closed->pdata[i];
            const ResDevice *rd = resource_find(&cf->res, device);
            if (!rd || !range_meets(rd->start, rd->end, start, end)) continue;
            struct stat st;
            if (stat(cf->path, &st) != 0) continue;
            rc = mods_append(&cf->mods, cf->path, path, (int64_t)st.st_size, start, end);
        }
        for (guint i = 0; i < p->closing->len && rc == 0; i++)
            rc = delete_in_proc(p->closing->pdata[i], device, measurement, path, start, end);
        if (rc == 0 && p->seq) rc = delete_in_proc(p->seq, device, measurement, path, start, end);
        if (rc == 0 && p->unseq) rc = delete_in_proc(p->unseq, device, measurement, path, start, end);
    }
    pthread_mutex_unlock(&sg->lock);
    g_free(path);
    if (rc == 0) chg_note_rewrite(e, device, measurement, start);
    if (rc == 0 && ticket && e->o.wal_sync == WAL_SYNC_ALWAYS) rc = wal_wait(e->wal, ticket);
    if (rc && rc != -EROFS) eng_set_error(e, rc);
    return rc;
}

/* ---- TTL ------------------------------------------------------------------------------- */

int engine_set_ttl(Engine *e, const char *sg, int64_t ttl_ms)
{
    if (ttl_ms < 0) return -EINVAL;
    int rc = schema_set_ttl(e->schema, sg, ttl_ms);
    if (rc == 0) chg_note_rewrite_all(e);
    if (rc == 0) engine_expire(e);
    return rc;
}

int engine_expire(Engine *e)
{
    int removed = 0;
    GList *sgs = eng_sg_list(e);
    int64_t now = eng_now_ms();
    for (GList *l = sgs; l; l = l->next) {
        StorageGroup *sg = l->data;
        int64_t ttl = schema_get_ttl(e->schema, sg->name);
        if (ttl <= 0) continue;
        int64_t cutoff = now - ttl;
        GPtrArray *gone = g_ptr_array_new_with_free_func((GDestroyNotify)closed_file_free);
        pthread_mutex_lock(&sg->lock);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, sg->parts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            Partition *p = v;
            if (p->compacting) continue; /* its files are being merged; next round */
            for (guint i = 0; i < p->closed->len;) {
                ClosedFile *cf = p->closed->pdata[i];
                if (cf->res.n > 0 && resource_max_time(&cf->res) < cutoff) {
                    /* out of the list under the lock; queries that opened it
                     * keep reading through their open descriptors */
                    g_ptr_array_add(gone, g_ptr_array_steal_index(p->closed, i));
                    continue;
                }
                i++;
            }
        }
        pthread_mutex_unlock(&sg->lock);
        for (guint i = 0; i < gone->len; i++) {
            ClosedFile *cf = gone->pdata[i];
            eng_remove_file_set(cf->path);
            fprintf(stderr, "tsfs: %s: expired (older than the TTL of %s), removed\n", cf->path, sg->name);
            removed++;
        }
        g_ptr_array_free(gone, TRUE);
    }
    g_list_free(sgs);
    return removed;
}

int64_t eng_ttl_cutoff(Engine *e, const char *sg)
{
    int64_t ttl = schema_get_ttl(e->schema, sg);
    return ttl > 0 ? eng_now_ms() - ttl : INT64_MIN;
}
