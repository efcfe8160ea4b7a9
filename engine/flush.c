/*
 * flush.c: the flush thread: writes frozen memtables into their TsFiles and
 * closes TsFiles, in the order the jobs were queued.
 *
 * DESIGN
 * Writers freeze a memtable under its storage group's lock (flush_freeze):
 * it moves from the file's working slot to its `flushing` queue, becomes
 * immutable, and a FLUSH job is queued.  The thread writes it with no lock
 * held (memtable_flush: chunk groups, then the plan-index record), fsyncs
 * the file, then, under the lock again, drops it from the queue and widens
 * the file's resource.  Only then is its WAL segment unpinned: a record is
 * dropped from the log only once its memtable is on disk.
 *
 * A CLOSE job is queued after the file's last flush (flush_queue_close
 * detaches the file from its partition first, so no new memtable can
 * appear); it writes the index and the .resource and moves the file to the
 * partition's closed list.  A file that passes file_size is closed the
 * same way after its flush.
 *
 * One thread does all of this, so a TsfWriter is only touched by it.
 *
 * A full disk (ENOSPC, EDQUOT) is waited out, not made sticky: the job that
 * met it is undone (the file cut back to where the job began and its
 * writer reopened there, tsf_writer_recover), its memtable stays queued and
 * pinned to its WAL segment, so queries still see the points, and
 * e->nospace tells writers.  The job goes back to the head of the queue and
 * is tried again every FULL_RETRY_MS until it succeeds, so jobs still run in
 * their order.  Only engine_close (e->closing) and the thread's stop give
 * up: the error then sticks and the WAL keeps what was not flushed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"

#define JOB_RETRY     1   /* do_flush / finish_close: the disk is full, try again */
#define FULL_RETRY_MS 500 /* how often a job waiting for room is tried again */
#define LAG_SEGMENTS  8   /* WAL segments a working memtable may pin before it is flushed */

void closed_file_free(ClosedFile *cf)
{
    if (!cf) return;
    resource_free(&cf->res);
    mods_free(&cf->mods);
    free(cf->path);
    free(cf);
}

static void queue_job(Engine *e, FlushJob *j)
{
    pthread_mutex_lock(&e->flush_lock);
    j->next = NULL;
    if (e->job_tail)
        e->job_tail->next = j;
    else
        e->job_head = j;
    e->job_tail = j;
    e->jobs_queued++;
    pthread_cond_signal(&e->flush_cond);
    pthread_mutex_unlock(&e->flush_lock);
}

void flush_freeze(Engine *e, TsFileProc *proc)
{
    MemTable *m = proc->working;
    if (!m) return;
    FlushJob *j = calloc(1, sizeof(*j));
    if (!j) {
        eng_set_error(e, -ENOMEM);
        return;
    }
    proc->working = NULL;
    g_queue_push_tail(&proc->flushing, m);
    atomic_fetch_sub(&e->working_bytes, m->bytes);
    atomic_fetch_add(&e->flushing_bytes, m->bytes);
    if (proc->sequence) {
        /* Later points at or before these times are out of order for this
         * partition: they go to the unsequence file (IoTDB's rule), which
         * keeps sequence files free of overlaps. */
        Partition *p = proc->part;
        for (guint d = 0; d < m->devices->len; d++) {
            MemDevice *dev = m->devices->pdata[d];
            int64_t hi = INT64_MIN;
            for (guint i = 0; i < dev->series->len; i++) {
                MemSeries *s = dev->series->pdata[i];
                if (s->n && s->max_time > hi) hi = s->max_time;
            }
            if (hi == INT64_MIN) continue;
            int64_t *lf = g_hash_table_lookup(p->last_flushed, dev->path);
            if (!lf) {
                lf = malloc(sizeof(int64_t));
                if (!lf) continue;
                *lf = INT64_MIN;
                g_hash_table_insert(p->last_flushed, strdup(dev->path), lf);
            }
            if (hi > *lf) *lf = hi;
        }
    }
    /* New records go to a new segment, so this memtable's segments can be
     * dropped once it is flushed. */
    if (e->wal && !e->replaying) {
        uint64_t seg;
        int rc = wal_rotate(e->wal, &seg);
        if (rc) eng_set_error(e, rc);
    }
    j->kind = JOB_FLUSH;
    j->proc = proc;
    j->mt = m;
    queue_job(e, j);
}

static void free_chunk_list(gpointer p)
{
    g_array_free(p, TRUE);
}

TsFileProc *proc_new(Partition *p, bool sequence, uint64_t version, const char *path)
{
    TsFileProc *proc = calloc(1, sizeof(*proc));
    if (!proc) return NULL;
    proc->part = p;
    proc->sequence = sequence;
    proc->version = version;
    proc->path = strdup(path);
    g_queue_init(&proc->flushing);
    resource_init(&proc->res);
    mods_init(&proc->mods);
    proc->chunks = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_chunk_list);
    proc->next_mt_id = 1;
    proc->first_mt_id = 1;
    proc->flushed_mt_id = -1;
    if (!proc->path) {
        proc_free(proc);
        return NULL;
    }
    return proc;
}

void proc_free(TsFileProc *proc)
{
    if (!proc) return;
    if (proc->writer) tsf_writer_abort(proc->writer);
    resource_free(&proc->res);
    mods_free(&proc->mods);
    g_hash_table_destroy(proc->chunks);
    free(proc->path);
    free(proc);
}

void flush_queue_close(Engine *e, TsFileProc *proc)
{
    if (proc->closing) return;
    flush_freeze(e, proc);
    proc->closing = true;
    Partition *p = proc->part;
    if (p->seq == proc) p->seq = NULL;
    if (p->unseq == proc) p->unseq = NULL;
    g_ptr_array_add(p->closing, proc);
    FlushJob *j = calloc(1, sizeof(*j));
    if (!j) {
        eng_set_error(e, -ENOMEM);
        return;
    }
    j->kind = JOB_CLOSE;
    j->proc = proc;
    queue_job(e, j);
}

/* Deletes WAL segments no live memtable needs. */
static void discard_wal(Engine *e)
{
    if (!e->wal) return;
    uint64_t keep = wal_current_segment(e->wal);
    pthread_mutex_lock(&e->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, e->seg_pins);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        uint64_t seg = (uint64_t)GPOINTER_TO_SIZE(k) - 1;
        if (seg < keep) keep = seg;
    }
    pthread_mutex_unlock(&e->lock);
    int rc = wal_discard_before(e->wal, keep);
    if (rc) eng_set_error(e, rc);
}

/* A working memtable that lives long (a rarely written series, an
 * unsequence file) pins every WAL segment written since it began: once it
 * lags LAG_SEGMENTS segments behind the current one it is flushed, so the
 * log on disk stays bounded by the data of a few flushes. */
static void freeze_laggards(Engine *e)
{
    if (!e->wal || e->replaying) return;
    uint64_t cur = wal_current_segment(e->wal);
    GList *sgs = eng_sg_list(e);
    for (GList *l = sgs; l; l = l->next) {
        StorageGroup *sg = l->data;
        pthread_mutex_lock(&sg->lock);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, sg->parts);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            Partition *p = v;
            TsFileProc *c[2] = {p->seq, p->unseq};
            for (int i = 0; i < 2; i++)
                if (c[i] && c[i]->working && c[i]->working->wal_segment + LAG_SEGMENTS < cur)
                    flush_freeze(e, c[i]);
        }
        pthread_mutex_unlock(&sg->lock);
    }
    g_list_free(sgs);
}

/* Makes a flush's chunks visible to queries of the still-open file. */
static void index_chunks(TsFileProc *proc, GArray *chunks)
{
    for (guint i = 0; i < chunks->len; i++) {
        FlushedChunk *fc = &g_array_index(chunks, FlushedChunk, i);
        char *key = g_strdup_printf("%s\x01%s", fc->device, fc->measurement);
        GArray *list = g_hash_table_lookup(proc->chunks, key);
        if (!list) {
            list = g_array_new(FALSE, FALSE, sizeof(ChunkRef));
            g_hash_table_insert(proc->chunks, key, list);
        } else {
            g_free(key);
        }
        ChunkRef ref = {fc->offset, fc->start, fc->end, fc->count};
        g_array_append_val(list, ref);
    }
}

/* A job met a full disk: cuts the file back to `before` (where the job
 * began: the end of the last finished flush) and reopens a writer there.
 * 0, or an error (proc->writer is NULL then). */
static int rollback(TsFileProc *proc, uint64_t before)
{
    if (proc->writer) tsf_writer_abort(proc->writer);
    proc->writer = NULL;
    if (truncate(proc->path, (off_t)before) != 0) return -errno;
    TsfWriterOpts wo;
    tsf_writer_opts_default(&wo);
    wo.fsync = true;
    TsfErr err = {0};
    return tsf_writer_recover(proc->path, &wo, &proc->writer, NULL, &err);
}

/* Whether a job that failed with rc waits for room (JOB_RETRY) instead of
 * failing for good. */
static bool wait_for_room(Engine *e, TsFileProc *proc, int rc, uint64_t before)
{
    if (!eng_disk_full(rc) || atomic_load(&e->closing)) return false;
    int rrc = rollback(proc, before);
    if (rrc) {
        fprintf(stderr, "tsfs: %s: cannot be cut back after a full disk: %s\n", proc->path,
                tsf_strerror(rrc));
        return false;
    }
    if (atomic_exchange(&e->nospace, rc) == 0)
        fprintf(stderr, "tsfs: %s: %s; the data stays in memory and in the WAL, tried again every %d ms\n",
                proc->path, tsf_strerror(rc), FULL_RETRY_MS);
    return true;
}

/* A failure that sticks, a full disk included (a flush or close given up). */
static void set_sticky(Engine *e, int rc)
{
    int zero = 0;
    if (rc) atomic_compare_exchange_strong(&e->err, &zero, rc);
}

static int do_flush(Engine *e, TsFileProc *proc, MemTable *m)
{
    Resource res;
    resource_init(&res);
    GArray *chunks = g_array_new(FALSE, FALSE, sizeof(FlushedChunk));
    StorageGroup *sg = proc->part->sg;
    /* deletions that reached the memtable while it waited */
    pthread_mutex_lock(&sg->lock);
    memtable_apply_deletes(m, m->pending);
    m->flush_started = true;
    pthread_mutex_unlock(&sg->lock);
    int rc = atomic_load(&e->err);
    if (rc == 0 && !proc->writer) rc = -EIO; /* a rollback that failed */
    uint64_t before = rc ? 0 : tsf_writer_position(proc->writer);
    if (rc == 0) rc = memtable_flush(m, proc->writer, &res, chunks);
    if (rc == 0) rc = tsf_writer_sync(proc->writer);
    if (rc && proc->writer && wait_for_room(e, proc, rc, before)) {
        resource_free(&res);
        for (guint i = 0; i < chunks->len; i++) flushed_chunk_clear(&g_array_index(chunks, FlushedChunk, i));
        g_array_free(chunks, TRUE);
        return JOB_RETRY; /* m stays queued: still read by queries, still pinning its WAL segment */
    }
    if (rc) {
        const TsfErr *werr = proc->writer ? tsf_writer_err(proc->writer) : NULL;
        fprintf(stderr, "tsfs: flush of %s failed: %s\n", proc->path,
                werr && werr->code ? werr->msg : tsf_strerror(rc));
        set_sticky(e, rc);
    }
    pthread_mutex_lock(&sg->lock);
    if (rc == 0) index_chunks(proc, chunks);
    g_queue_remove(&proc->flushing, m);
    for (size_t i = 0; i < res.n && rc == 0; i++)
        rc = resource_update(&proc->res, res.dev[i].device, res.dev[i].start, res.dev[i].end);
    if (proc->writer) proc->file_bytes = tsf_writer_position(proc->writer);
    /* deletions that came while it was being written: they cover the
     * chunks it wrote, which all lie before the file's end now */
    for (guint i = 0; i < m->late->len && rc == 0; i++) {
        MemDelete *d = &g_array_index(m->late, MemDelete, i);
        char *path = d->measurement ? g_strdup_printf("%s.%s", d->device, d->measurement)
                                    : g_strdup_printf("%s.*", d->device);
        rc = mods_append(&proc->mods, proc->path, path, (int64_t)proc->file_bytes, d->start, d->end);
        g_free(path);
        if (rc) eng_set_error(e, rc);
    }
    bool too_big = proc->file_bytes >= e->o.file_size && !proc->closing;
    if (too_big) flush_queue_close(e, proc);
    pthread_mutex_unlock(&sg->lock);
    resource_free(&res);
    for (guint i = 0; i < chunks->len; i++) flushed_chunk_clear(&g_array_index(chunks, FlushedChunk, i));
    g_array_free(chunks, TRUE);
    atomic_fetch_sub(&e->flushing_bytes, m->bytes);
    eng_pin_segment(e, m->wal_segment, -1);
    memtable_free(m);
    atomic_fetch_add(&e->flushes, 1);
    if (rc == 0) atomic_store(&e->nospace, 0);
    if (rc == 0) discard_wal(e);
    if (rc == 0) freeze_laggards(e);
    return rc;
}

/* Writes the index and the .resource; the file joins the closed list. */
static int finish_close(Engine *e, TsFileProc *proc)
{
    int rc = atomic_load(&e->err);
    uint64_t before = proc->writer ? tsf_writer_position(proc->writer) : 0;
    int crc = proc->writer ? tsf_writer_close(proc->writer) : -EIO;
    proc->writer = NULL;
    if (rc == 0 && crc && wait_for_room(e, proc, crc, before)) return JOB_RETRY;
    if (rc == 0) rc = crc;
    ClosedFile *cf = calloc(1, sizeof(*cf));
    if (!cf) rc = rc ? rc : -ENOMEM;
    if (rc == 0) {
        cf->path = strdup(proc->path);
        cf->sequence = proc->sequence;
        cf->version = proc->version;
        /* a copy: queries and listings still read proc->res under the
         * storage group lock until the file leaves the closing list below */
        resource_init(&cf->res);
        for (size_t i = 0; i < proc->res.n && rc == 0; i++)
            rc = resource_update(&cf->res, proc->res.dev[i].device, proc->res.dev[i].start,
                                 proc->res.dev[i].end);
        mods_init(&cf->mods);
        if (proc->next_mt_id > proc->first_mt_id) {
            cf->res.min_plan = (int64_t)proc->first_mt_id;
            cf->res.max_plan = (int64_t)proc->next_mt_id - 1;
        }
        if (rc == 0) rc = cf->path ? resource_write(&cf->res, cf->path) : -ENOMEM;
        if (eng_disk_full(rc)) {
            /* the file is complete and served from memory; its .resource is
             * rebuilt from the index at the next start */
            fprintf(stderr, "tsfs: %s.resource: %s; rebuilt at the next start\n", cf->path, tsf_strerror(rc));
            rc = 0;
        }
    }
    if (rc) {
        set_sticky(e, rc);
        closed_file_free(cf);
        cf = NULL;
    }
    if (rc == 0) atomic_store(&e->nospace, 0);
    StorageGroup *sg = proc->part->sg;
    pthread_mutex_lock(&sg->lock);
    /* the file changes lists in one step: a query sees it in one of them */
    g_ptr_array_remove(proc->part->closing, proc);
    if (cf) {
        cf->mods = proc->mods;
        mods_init(&proc->mods);
        g_ptr_array_add(proc->part->closed, cf);
    }
    pthread_mutex_unlock(&sg->lock);
    proc_free(proc);
    atomic_fetch_add(&e->closes, 1);
    return rc;
}

int flush_close_now(Engine *e, TsFileProc *proc)
{
    return finish_close(e, proc);
}

static void *flush_main(void *arg)
{
    Engine *e = arg;
    pthread_mutex_lock(&e->flush_lock);
    for (;;) {
        while (!e->job_head && !e->stop) {
            /* idle: once a second, remove files wholly older than their TTL */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 1;
            if (pthread_cond_timedwait(&e->flush_cond, &e->flush_lock, &ts) == ETIMEDOUT && !e->job_head &&
                !e->stop) {
                pthread_mutex_unlock(&e->flush_lock);
                engine_expire(e);
                pthread_mutex_lock(&e->flush_lock);
            }
        }
        if (!e->job_head && e->stop) break;
        FlushJob *j = e->job_head;
        e->job_head = j->next;
        if (!e->job_head) e->job_tail = NULL;
        pthread_mutex_unlock(&e->flush_lock);
        int rc = j->kind == JOB_FLUSH ? do_flush(e, j->proc, j->mt) : finish_close(e, j->proc);
        pthread_mutex_lock(&e->flush_lock);
        if (rc == JOB_RETRY) {
            /* a full disk: the job stays first; waiters see e->nospace */
            j->next = e->job_head;
            e->job_head = j;
            if (!e->job_tail) e->job_tail = j;
            pthread_cond_broadcast(&e->done_cond);
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += FULL_RETRY_MS * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            while (!e->stop && !atomic_load(&e->closing) &&
                   pthread_cond_timedwait(&e->flush_cond, &e->flush_lock, &ts) != ETIMEDOUT)
                ;
            continue;
        }
        free(j);
        e->jobs_done++;
        pthread_cond_broadcast(&e->done_cond);
    }
    pthread_mutex_unlock(&e->flush_lock);
    return NULL;
}

int flush_start(Engine *e)
{
    int rc = pthread_create(&e->flusher, NULL, flush_main, e);
    if (rc) return -rc;
    e->flusher_running = true;
    return 0;
}

void flush_stop(Engine *e)
{
    if (!e->flusher_running) return;
    pthread_mutex_lock(&e->flush_lock);
    atomic_store(&e->closing, true); /* a job waiting for room gives up */
    e->stop = true;
    pthread_cond_signal(&e->flush_cond);
    pthread_mutex_unlock(&e->flush_lock);
    pthread_join(e->flusher, NULL);
    e->flusher_running = false;
}

int flush_wait_all(Engine *e)
{
    pthread_mutex_lock(&e->flush_lock);
    uint64_t target = e->jobs_queued;
    int rc = 0;
    /* a full disk: the jobs wait for room, the caller does not */
    while (e->jobs_done < target && !(rc = atomic_load(&e->nospace)))
        pthread_cond_wait(&e->done_cond, &e->flush_lock);
    pthread_mutex_unlock(&e->flush_lock);
    return rc;
}
