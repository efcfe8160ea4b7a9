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
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

void closed_file_free(ClosedFile *cf)
{
    if (!cf) return;
    resource_free(&cf->res);
    free(cf->path);
    free(cf);
}

static void queue_job(Engine *e, FlushJob *j)
{
    pthread_mutex_lock(&e->flush_lock);
    j->next = NULL;
    if (e->job_tail) e->job_tail->next = j;
    else e->job_head = j;
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

void flush_queue_close(Engine *e, TsFileProc *proc)
{
    if (proc->closing) return;
    flush_freeze(e, proc);
    proc->closing = true;
    Partition *p = proc->part;
    if (p->seq == proc) p->seq = NULL;
    if (p->unseq == proc) p->unseq = NULL;
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

static int do_flush(Engine *e, TsFileProc *proc, MemTable *m)
{
    Resource res;
    resource_init(&res);
    int rc = atomic_load(&e->err);
    if (rc == 0) rc = memtable_flush(m, proc->writer, &res);
    if (rc == 0) rc = tsf_writer_sync(proc->writer);
    if (rc) {
        fprintf(stderr, "tsfs: flush of %s failed: %s\n", proc->path,
                tsf_writer_err(proc->writer)->code ? tsf_writer_err(proc->writer)->msg : tsf_strerror(rc));
        eng_set_error(e, rc);
    }
    StorageGroup *sg = proc->part->sg;
    pthread_mutex_lock(&sg->lock);
    g_queue_remove(&proc->flushing, m);
    for (size_t i = 0; i < res.n && rc == 0; i++) rc = resource_update(&proc->res, res.dev[i].device, res.dev[i].start, res.dev[i].end);
    proc->file_bytes = tsf_writer_position(proc->writer);
    bool too_big = proc->file_bytes >= e->o.file_size && !proc->closing;
    if (too_big) flush_queue_close(e, proc);
    pthread_mutex_unlock(&sg->lock);
    resource_free(&res);
    atomic_fetch_sub(&e->flushing_bytes, m->bytes);
    eng_pin_segment(e, m->wal_segment, -1);
    memtable_free(m);
    atomic_fetch_add(&e->flushes, 1);
    if (rc == 0) discard_wal(e);
    return rc;
}

/* Writes the index and the .resource; the file joins the closed list. */
static int finish_close(Engine *e, TsFileProc *proc)
{
    int rc = atomic_load(&e->err);
    int crc = tsf_writer_close(proc->writer);
    proc->writer = NULL;
    if (rc == 0) rc = crc;
    ClosedFile *cf = calloc(1, sizeof(*cf));
    if (!cf) rc = rc ? rc : -ENOMEM;
    if (rc == 0) {
        cf->path = proc->path;
        proc->path = NULL;
        cf->sequence = proc->sequence;
        cf->version = proc->version;
        cf->res = proc->res;
        resource_init(&proc->res);
        if (proc->next_mt_id > proc->first_mt_id) {
            cf->res.min_plan = (int64_t)proc->first_mt_id;
            cf->res.max_plan = (int64_t)proc->next_mt_id - 1;
        }
        rc = resource_write(&cf->res, cf->path);
    }
    if (rc) {
        eng_set_error(e, rc);
        closed_file_free(cf);
        cf = NULL;
    }
    StorageGroup *sg = proc->part->sg;
    pthread_mutex_lock(&sg->lock);
    if (cf) g_ptr_array_add(proc->part->closed, cf);
    pthread_mutex_unlock(&sg->lock);
    resource_free(&proc->res);
    free(proc->path);
    free(proc);
    atomic_fetch_add(&e->closes, 1);
    return rc;
}

int flush_close_now(Engine *e, TsFileProc *proc) { return finish_close(e, proc); }

static void *flush_main(void *arg)
{
    Engine *e = arg;
    pthread_mutex_lock(&e->flush_lock);
    for (;;) {
        while (!e->job_head && !e->stop) pthread_cond_wait(&e->flush_cond, &e->flush_lock);
        if (!e->job_head && e->stop) break;
        FlushJob *j = e->job_head;
        e->job_head = j->next;
        if (!e->job_head) e->job_tail = NULL;
        pthread_mutex_unlock(&e->flush_lock);
        if (j->kind == JOB_FLUSH) do_flush(e, j->proc, j->mt);
        else finish_close(e, j->proc);
        free(j);
        pthread_mutex_lock(&e->flush_lock);
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
    e->stop = true;
    pthread_cond_signal(&e->flush_cond);
    pthread_mutex_unlock(&e->flush_lock);
    pthread_join(e->flusher, NULL);
    e->flusher_running = false;
}

void flush_wait_all(Engine *e)
{
    pthread_mutex_lock(&e->flush_lock);
    uint64_t target = e->jobs_queued;
    while (e->jobs_done < target) pthread_cond_wait(&e->done_cond, &e->flush_lock);
    pthread_mutex_unlock(&e->flush_lock);
}
