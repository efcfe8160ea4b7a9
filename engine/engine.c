/*
 * engine.c: the engine's lifecycle, storage groups and partitions, and the
 * write path: routing, WAL logging and memtable application (engine.h).
 *
 * WAL record of one insert into one TsFile (all integers little-endian as
 * the machine writes them: the log never leaves the machine):
 *
 *   u8 kind (1)  VarStr sg  i64 partition  u8 sequence  u64 file version
 *   u64 memtable id  VarStr device  uvarint ncols
 *   per column: VarStr measurement, u8 type, u8 encoding, u8 compression,
 *               uvarint n, n x i64 times, values (fixed width: n x size;
 *               TEXT/STRING/BLOB: n x (uvarint len, bytes))
 *
 * The file version and memtable id say where the record went, so recovery
 * can tell whether that memtable reached its TsFile (recovery.c).
 * Deletions are logged too (deletion.c): u8 kind (2), VarStr device,
 * u8 has-measurement, [VarStr measurement], i64 start, i64 end.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "engine_int.h"
#include "fileio.h"

void engine_options_default(EngineOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->partition_interval = 604800000LL;
    o->memtable_size = 64u << 20;
    o->wal_sync = WAL_SYNC_BATCH;
    o->wal_batch_ms = 10;
    o->file_size = 256u << 20;
    o->compression = TSF_COMP_LZ4;
    o->background_compaction = true;
    o->compaction_mb_per_s = 64;
}

Schema *engine_schema(Engine *e)
{
    return e->schema;
}

bool eng_disk_full(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT;
}

void eng_set_error(Engine *e, int rc)
{
    int zero = 0;
    if (eng_disk_full(rc)) return; /* the caller reports it; nothing is lost */
    if (rc) atomic_compare_exchange_strong(&e->err, &zero, rc);
}

int64_t engine_partition_of(const Engine *e, int64_t t)
{
    int64_t iv = e->o.partition_interval;
    int64_t q = t / iv;
    return (t % iv != 0 && t < 0) ? q - 1 : q; /* floor division */
}

static int mkdir_p(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n >= sizeof buf) return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != 0) continue;
        char c = buf[i];
        buf[i] = 0;
        if (mkdir(buf, 0755) != 0 && errno != EEXIST) return -errno;
        buf[i] = c;
    }
    return 0;
}

char *eng_partition_dir(Engine *e, const char *sg, bool sequence, int64_t partition)
{
    return g_strdup_printf("%s/%s/%s/%" PRId64, e->dir, sequence ? "sequence" : "unsequence", sg, partition);
}

/* ---- storage groups and partitions ----------------------------------------------- */

static void partition_free(gpointer p)
{
    Partition *part = p;
    g_ptr_array_free(part->closed, TRUE);
    g_ptr_array_free(part->closing, TRUE);
    g_hash_table_destroy(part->last_flushed);
    free(part);
}

StorageGroup *eng_sg(Engine *e, const char *name, bool create)
{
    pthread_mutex_lock(&e->lock);
    StorageGroup *sg = g_hash_table_lookup(e->sgs, name);
    if (!sg && create) {
        sg = calloc(1, sizeof(*sg));
        if (sg) {
            sg->name = strdup(name);
            pthread_mutex_init(&sg->lock, NULL);
            sg->parts = g_hash_table_new_full(g_int64_hash, g_int64_equal, free, partition_free);
            g_hash_table_insert(e->sgs, sg->name, sg);
        }
    }
    pthread_mutex_unlock(&e->lock);
    return sg;
}

int64_t eng_now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

GList *eng_sg_list(Engine *e)
{
    pthread_mutex_lock(&e->lock);
    GList *sgs = g_hash_table_get_values(e->sgs);
    pthread_mutex_unlock(&e->lock);
    return sgs;
}

void eng_partition_span(const Engine *e, int64_t id, int64_t *lo, int64_t *hi)
{
    int64_t iv = e->o.partition_interval;
    *lo = id <= INT64_MIN / iv ? INT64_MIN : id * iv;
    *hi = id >= INT64_MAX / iv ? INT64_MAX : *lo + (iv - 1);
}

void eng_remove_file_set(const char *tsfile)
{
    static const char *const suffix[] = {"", ".resource", ".mods"};
    for (int i = 0; i < 3; i++) {
        char *p = g_strdup_printf("%s%s", tsfile, suffix[i]);
        unlink(p);
        g_free(p);
    }
}

Partition *eng_partition(Engine *e, StorageGroup *sg, int64_t id, bool create)
{
    (void)e;
    Partition *p = g_hash_table_lookup(sg->parts, &id);
    if (p || !create) return p;
    p = calloc(1, sizeof(*p));
    int64_t *key = malloc(sizeof(int64_t));
    if (!p || !key) {
        free(p);
        free(key);
        return NULL;
    }
    *key = id;
    p->id = id;
    p->sg = sg;
    p->closed = g_ptr_array_new_with_free_func((GDestroyNotify)closed_file_free);
    p->closing = g_ptr_array_new();
    p->last_flushed = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
    g_hash_table_insert(sg->parts, key, p);
    return p;
}

void eng_pin_segment(Engine *e, uint64_t seg, int delta)
{
    pthread_mutex_lock(&e->lock);
    gpointer key = GSIZE_TO_POINTER((gsize)seg + 1);
    gsize cur = GPOINTER_TO_SIZE(g_hash_table_lookup(e->seg_pins, key));
    cur = (gsize)((gssize)cur + delta);
    if (cur == 0)
        g_hash_table_remove(e->seg_pins, key);
    else
        g_hash_table_insert(e->seg_pins, key, GSIZE_TO_POINTER(cur));
    pthread_mutex_unlock(&e->lock);
}

/* Opens a new TsFile for a partition (caller holds the storage group lock). */
int eng_open_proc(Engine *e, Partition *p, bool sequence, TsFileProc **out)
{
    StorageGroup *sg = p->sg;
    char *dir = eng_partition_dir(e, sg->name, sequence, p->id);
    int rc = mkdir_p(dir);
    uint64_t version = sg->next_version++;
    char *path = g_strdup_printf("%s/%" PRId64 "-%" PRIu64 "-0-0.tsfile", dir, eng_now_ms(), version);
    TsFileProc *proc = rc ? NULL : proc_new(p, sequence, version, path);
    g_free(path);
    if (!proc) {
        g_free(dir);
        return rc ? rc : -ENOMEM;
    }
    TsfWriterOpts wo;
    tsf_writer_opts_default(&wo);
    wo.fsync = true; /* a flush is durable before its WAL segment goes */
    rc = tsf_writer_open(proc->path, &wo, &proc->writer);
    if (rc == 0)
        rc = tsf_writer_sync(proc->writer); /* the head is on disk before any record names the file */
    if (rc == 0) rc = fileio_fsync_dir(dir);
    g_free(dir);
    if (rc) {
        /* no empty or headless file left behind (a full disk, say) */
        if (proc->writer) tsf_writer_abort(proc->writer);
        proc->writer = NULL;
        unlink(proc->path);
        proc_free(proc);
        return rc;
    }
    if (sequence)
        p->seq = proc;
    else
        p->unseq = proc;
    *out = proc;
    return 0;
}

/* ---- open / close ----------------------------------------------------------------- */

static void sg_free(gpointer p)
{
    StorageGroup *sg = p;
    g_hash_table_destroy(sg->parts);
    pthread_mutex_destroy(&sg->lock);
    free(sg->name);
    free(sg);
}

int64_t engine_partition_interval(const Engine *e)
{
    return e->o.partition_interval;
}

/* The partition width is part of the data: files and .resource are laid out
 * by it.  DATA_DIR/system/partition-interval records it at the first open;
 * later opens take it from there and refuse a different one. */
static int settle_partition_interval(Engine *e, const char *sys)
{
    char *path = g_strdup_printf("%s/partition-interval", sys);
    char buf[64] = {0};
    int rc = 0;
    FILE *f = fopen(path, "r");
    if (f) {
        long long stored = 0;
        if (!fgets(buf, sizeof buf, f) || sscanf(buf, "%lld", &stored) != 1 || stored <= 0) {
            fprintf(stderr, "tsfs: %s: not a partition interval\n", path);
            rc = -EINVAL;
        } else if (e->o.partition_interval > 0 && e->o.partition_interval != stored) {
            fprintf(stderr,
                    "tsfs: %s holds partitions of %lld ms; partition_interval=%lld refused (omit it to use "
                    "%lld)\n",
                    e->dir, stored, (long long)e->o.partition_interval, stored);
            rc = -EINVAL;
        } else {
            e->o.partition_interval = stored;
        }
        fclose(f);
    } else {
        if (e->o.partition_interval <= 0) {
            EngineOptions d;
            engine_options_default(&d);
            e->o.partition_interval = d.partition_interval;
        }
        int n = snprintf(buf, sizeof buf, "%lld\n", (long long)e->o.partition_interval);
        rc = fileio_replace(path, buf, (size_t)n);
    }
    g_free(path);
    return rc;
}

int engine_open(const EngineOptions *o, Engine **out)
{
    *out = NULL;
    if (!o || !o->data_dir) return -EINVAL;
    Engine *e = calloc(1, sizeof(*e));
    if (!e) return -ENOMEM;
    e->o = *o;
    EngineOptions d;
    engine_options_default(&d);
    if (e->o.memtable_size == 0) e->o.memtable_size = d.memtable_size;
    if (e->o.wal_batch_ms == 0) e->o.wal_batch_ms = d.wal_batch_ms;
    if (e->o.file_size == 0) e->o.file_size = d.file_size;
    e->dir = strdup(o->data_dir);
    e->o.data_dir = e->dir;
    pthread_mutex_init(&e->lock, NULL);
    pthread_mutex_init(&e->flush_lock, NULL);
    pthread_cond_init(&e->flush_cond, NULL);
    pthread_cond_init(&e->done_cond, NULL);
    pthread_mutex_init(&e->compactor_lock, NULL);
    pthread_cond_init(&e->compactor_cond, NULL);
    e->sgs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, sg_free);
    e->seg_pins = g_hash_table_new(g_direct_hash, g_direct_equal);
    e->recovered = g_ptr_array_new();
    chg_init(e);
    char *sys = g_strdup_printf("%s/system", e->dir), *wal = g_strdup_printf("%s/wal", e->dir);
    int rc = mkdir_p(sys);
    if (rc == 0) rc = settle_partition_interval(e, sys);
    if (rc == 0) rc = mkdir_p(wal);
    if (rc == 0) rc = schema_open(sys, &e->schema);
    WalOptions wo = {e->o.wal_sync, e->o.wal_batch_ms, 1u << 20};
    if (rc == 0) rc = wal_open(wal, &wo, &e->wal);
    g_free(sys);
    g_free(wal);
    if (rc == 0) rc = flush_start(e);
    if (rc == 0) rc = recovery_run(e);
    if (rc == 0) rc = compaction_start(e);
    if (rc) {
        engine_close(e);
        return rc;
    }
    *out = e;
    return 0;
}

static void freeze_sg(Engine *e, StorageGroup *sg, bool close_files, const int64_t *only_partition)
{
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        if (only_partition && p->id != *only_partition) continue;
        TsFileProc *c[2] = {p->seq, p->unseq};
        for (int i = 0; i < 2; i++) {
            if (!c[i]) continue;
            if (close_files)
                flush_queue_close(e, c[i]);
            else
                flush_freeze(e, c[i]);
        }
    }
    pthread_mutex_unlock(&sg->lock);
}

/* Freezes (or closes) every working file of every storage group, then waits
 * for the flush thread to finish all of it (0), or returns -ENOSPC at once
 * while the disk is full. */
static int freeze_all(Engine *e, bool close_files)
{
    GList *sgs = eng_sg_list(e);
    for (GList *l = sgs; l; l = l->next) freeze_sg(e, l->data, close_files, NULL);
    g_list_free(sgs);
    return flush_wait_all(e);
}

int engine_close(Engine *e)
{
    if (!e) return 0;
    compaction_stop(e);
    /* from here a flush that meets a full disk gives up: the WAL keeps it */
    pthread_mutex_lock(&e->flush_lock);
    atomic_store(&e->closing, true);
    pthread_cond_broadcast(&e->flush_cond);
    pthread_mutex_unlock(&e->flush_lock);
    if (e->flusher_running) freeze_all(e, true);
    flush_stop(e);
    int rc = atomic_load(&e->err);
    if (e->wal) {
        /* Everything is in closed TsFiles: a fresh empty segment, the old
         * ones deleted, so the next start replays nothing. */
        uint64_t seg;
        if (rc == 0 && wal_rotate(e->wal, &seg) == 0) wal_discard_before(e->wal, seg);
        int wrc = wal_close(e->wal);
        if (rc == 0) rc = wrc;
    }
    if (e->schema) schema_close(e->schema);
    g_hash_table_destroy(e->sgs);
    g_hash_table_destroy(e->seg_pins);
    g_ptr_array_free(e->recovered, TRUE);
    chg_free(e);
    pthread_mutex_destroy(&e->lock);
    pthread_mutex_destroy(&e->flush_lock);
    pthread_cond_destroy(&e->flush_cond);
    pthread_cond_destroy(&e->done_cond);
    pthread_mutex_destroy(&e->compactor_lock);
    pthread_cond_destroy(&e->compactor_cond);
    free(e->dir);
    free(e);
    return rc;
}

/* ---- schema wrappers --------------------------------------------------------------- */

int engine_create_sg(Engine *e, const char *sg)
{
    int rc = schema_add_sg(e->schema, sg);
    if (rc == 0 && !eng_sg(e, sg, true)) rc = -ENOMEM;
    return rc;
}

int engine_create_series(Engine *e, const char *device, const char *measurement, TsfType type,
                         TsfEncoding enc, TsfCompression comp)
{
    int rc = schema_add_series(e->schema, device, measurement, type, enc, comp);
    if (rc == 0) chg_note_rewrite(e, device, measurement, INT64_MIN);
    return rc;
}

int engine_drop_series(Engine *e, const char *device, const char *measurement)
{
    if (!schema_get_series(e->schema, device, measurement)) return -ENOENT;
    int rc = engine_delete(e, device, measurement, INT64_MIN, INT64_MAX);
    if (rc == 0) rc = schema_drop_series(e->schema, device, measurement);
    if (rc == 0) chg_note_rewrite(e, device, measurement, INT64_MIN);
    return rc;
}

/* ---- the write path ----------------------------------------------------------------- */

/* A column routed to one TsFile: its own times (nulls removed). */
typedef struct SubCol {
    const char *measurement;
    TsfType type;
    TsfEncoding enc;
    TsfCompression comp;
    size_t n;
    const int64_t *times;
    const void *values;
} SubCol;

static void put_le64(TsfBuf *b, uint64_t v)
{
    tsf_buf_put(b, &v, 8);
}

static void serialize_record(TsfBuf *b, const char *sg, int64_t partition, bool sequence, uint64_t version,
                             uint64_t mt_id, const char *device, const SubCol *cols, size_t ncols)
{
    tsf_buf_reset(b);
    tsf_buf_put_u8(b, REC_INSERT);
    tsf_buf_put_varstr(b, sg, strlen(sg));
    put_le64(b, (uint64_t)partition);
    tsf_buf_put_u8(b, sequence);
    put_le64(b, version);
    put_le64(b, mt_id);
    tsf_buf_put_varstr(b, device, strlen(device));
    tsf_buf_put_uvarint(b, (uint32_t)ncols);
    for (size_t c = 0; c < ncols; c++) {
        const SubCol *sc = &cols[c];
        tsf_buf_put_varstr(b, sc->measurement, strlen(sc->measurement));
        tsf_buf_put_u8(b, (uint8_t)sc->type);
        tsf_buf_put_u8(b, (uint8_t)sc->enc);
        tsf_buf_put_u8(b, (uint8_t)sc->comp);
        tsf_buf_put_uvarint(b, (uint32_t)sc->n);
        tsf_buf_put(b, sc->times, sc->n * sizeof(int64_t));
        if (tsf_type_phys(sc->type) == TSF_PHYS_BIN) {
            const TsfBin *v = sc->values;
            for (size_t i = 0; i < sc->n; i++) {
                tsf_buf_put_uvarint(b, v[i].len);
                tsf_buf_put(b, v[i].ptr, v[i].len);
            }
        } else {
            tsf_buf_put(b, sc->values, sc->n * tsf_type_elem_size(sc->type));
        }
    }
}

/* Applies routed columns to proc's working memtable (created on demand).
 * Caller holds the storage group lock. */
static int apply_to_proc(Engine *e, TsFileProc *proc, const char *device, const SubCol *cols, size_t ncols)
{
    if (!proc->working) {
        /* a replayed memtable's records are in the old segments, not the
         * current one: it pins the oldest, so no flush discards them while
         * it is only in memory (a crash during recovery replays them again) */
        uint64_t seg = !e->wal ? 0 : e->replaying ? e->replay_seg : wal_current_segment(e->wal);
        proc->working = memtable_new(proc->next_mt_id++, seg);
        if (!proc->working) return -ENOMEM;
        eng_pin_segment(e, seg, +1);
    }
    MemTable *m = proc->working;
    size_t before = m->bytes;
    int rc = 0;
    for (size_t c = 0; c < ncols && rc == 0; c++) {
        if (cols[c].n == 0) continue;
        MemSeries *s =
            memtable_series(m, device, cols[c].measurement, cols[c].type, cols[c].enc, cols[c].comp);
        rc = s ? memtable_append(m, s, cols[c].times, cols[c].values, cols[c].n) : -ENOMEM;
        if (rc == 0) atomic_fetch_add(e->replaying ? &e->points_replayed : &e->points, cols[c].n);
    }
    atomic_fetch_add(&e->working_bytes, m->bytes - before);
    return rc;
}

/* Per-call scratch: gathered subsets of a tablet's rows. */
typedef struct Scratch {
    TsfBuf rec;
    uint8_t *buf; /* gathered times and values */
    size_t buf_cap;
} Scratch;

static void *scratch_get(Scratch *s, size_t bytes)
{
    if (bytes > s->buf_cap) {
        size_t cap = s->buf_cap ? s->buf_cap : 4096;
        while (cap < bytes) cap *= 2;
        uint8_t *p = realloc(s->buf, cap);
        if (!p) return NULL;
        s->buf = p;
        s->buf_cap = cap;
    }
    return s->buf;
}

#define ALIGN8(n) (((n) + 7) & ~(size_t)7)

/* Logs and applies the rows `rows` (NULL = all nrows) of a tablet to proc. */
static int insert_rows(Engine *e, Scratch *sc, TsFileProc *proc, const char *device, const int64_t *times,
                       size_t nrows, const guint *rows, size_t nsel, const EngineColumn *cols,
                       const SubCol *proto, size_t ncols, uint64_t *ticket)
{
    SubCol *sub = g_alloca(sizeof(SubCol) * (ncols ? ncols : 1));
    bool direct = rows == NULL;
    for (size_t c = 0; c < ncols && direct; c++)
        if (cols[c].present) direct = false;
    if (direct) {
        for (size_t c = 0; c < ncols; c++) {
            sub[c] = proto[c];
            sub[c].n = nrows;
            sub[c].times = times;
            sub[c].values = cols[c].values;
        }
    } else {
        /* gather: per column, the selected rows where it has a value; each
         * column's block starts 8-aligned (int64_t times, TsfBin pointers)
         * whatever the width of the values before it */
        size_t total = 0;
        for (size_t c = 0; c < ncols; c++)
            total += nsel * 8 + ALIGN8(nsel * tsf_type_elem_size(cols[c].type));
        uint8_t *base = scratch_get(sc, total ? total : 1);
        if (!base) return -ENOMEM;
        for (size_t c = 0; c < ncols; c++) {
            size_t esz = tsf_type_elem_size(cols[c].type), k = 0;
            int64_t *ts = (int64_t *)base;
            uint8_t *vs = base + nsel * 8;
            for (size_t i = 0; i < nsel; i++) {
                size_t r = rows ? rows[i] : i;
                if (cols[c].present && !cols[c].present[r]) continue;
                ts[k] = times[r];
                memcpy(vs + k * esz, (const uint8_t *)cols[c].values + r * esz, esz);
                k++;
            }
            sub[c] = proto[c];
            sub[c].n = k;
            sub[c].times = ts;
            sub[c].values = vs;
            base += nsel * 8 + ALIGN8(nsel * esz);
        }
    }
    int rc = 0;
    bool new_mt = proc->working == NULL;
    uint64_t mt_id = new_mt ? proc->next_mt_id : proc->working->id;
    if (!e->replaying && e->wal) {
        serialize_record(&sc->rec, proc->part->sg->name, proc->part->id, proc->sequence, proc->version, mt_id,
                         device, sub, ncols);
        if (sc->rec.err) return -ENOMEM;
        /* The memtable must exist before the record is in the log, so the
         * segment it pins is at or before the record's. */
        if (new_mt) rc = apply_to_proc(e, proc, device, sub, 0);
        if (rc == 0) rc = wal_append(e->wal, sc->rec.data, sc->rec.len, ticket, NULL);
        if (rc) {
            eng_set_error(e, rc);
            return rc;
        }
    }
    return apply_to_proc(e, proc, device, sub, ncols);
}

/* Freezes the largest working memtable while memory is over budget, and
 * makes writers wait while flushes are far behind. */
static void control_memory(Engine *e)
{
    size_t budget = e->o.memtable_size;
    if (atomic_load(&e->working_bytes) + atomic_load(&e->flushing_bytes) <= budget) return;
    if (atomic_load(&e->working_bytes) > budget / 2) {
        GList *sgs = eng_sg_list(e);
        TsFileProc *best = NULL;
        StorageGroup *best_sg = NULL;
        size_t best_bytes = 0;
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
                    if (c[i] && c[i]->working && c[i]->working->bytes > best_bytes) {
                        best = c[i];
                        best_sg = sg;
                        best_bytes = c[i]->working->bytes;
                    }
            }
            pthread_mutex_unlock(&sg->lock);
        }
        if (best) {
            pthread_mutex_lock(&best_sg->lock);
            /* it may have changed since: freeze whatever is working there now */
            flush_freeze(e, best);
            pthread_mutex_unlock(&best_sg->lock);
        }
        g_list_free(sgs);
    }
    /* backpressure: bounded memory whatever the data size */
    pthread_mutex_lock(&e->flush_lock);
    while (atomic_load(&e->flushing_bytes) > budget && e->jobs_done < e->jobs_queued &&
           !atomic_load(&e->err) && !atomic_load(&e->nospace))
        pthread_cond_wait(&e->done_cond, &e->flush_lock);
    pthread_mutex_unlock(&e->flush_lock);
}

/* A row of a tablet and its partition, for grouping rows by partition. */
typedef struct PRow {
    int64_t pid;
    guint row;
} PRow;

static int cmp_prow(const void *a, const void *b)
{
    const PRow *x = a, *y = b;
    if (x->pid != y->pid) return x->pid < y->pid ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row; /* keeps arrival order within a partition */
}

int64_t eng_device_max_flushed(Engine *e, const char *device)
{
    char sgname[1024];
    if (schema_sg_of(e->schema, device, sgname, sizeof sgname)) return INT64_MIN;
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return INT64_MIN;
    int64_t max = INT64_MIN;
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const int64_t *lf = g_hash_table_lookup(((Partition *)v)->last_flushed, device);
        if (lf && *lf > max) max = *lf;
    }
    pthread_mutex_unlock(&sg->lock);
    return max;
}

int engine_insert_tablet(Engine *e, const char *device, const int64_t *times, size_t nrows,
                         const EngineColumn *cols, size_t ncols)
{
    int rc = atomic_load(&e->err);
    if (rc) return rc;
    /* a full disk: flushes wait for room, so memory may not grow past the
     * budget; refused before anything is applied */
    rc = atomic_load(&e->nospace);
    if (rc && !e->replaying &&
        atomic_load(&e->working_bytes) + atomic_load(&e->flushing_bytes) > e->o.memtable_size)
        return rc;
    rc = 0;
    if (nrows == 0 || ncols == 0) return 0;
    char sgname[1024];
    rc = schema_sg_of(e->schema, device, sgname, sizeof sgname);
    if (rc) return rc == -ENOENT ? -ENOENT : -EINVAL;
    SubCol *proto = g_alloca(sizeof(SubCol) * ncols);
    bool created = false;
    for (size_t c = 0; c < ncols; c++) {
        const SeriesSchema *ss = schema_get_series(e->schema, device, cols[c].measurement);
        if (!ss) {
            created = true;
            rc = schema_add_series(e->schema, device, cols[c].measurement, cols[c].type,
                                   schema_default_encoding(cols[c].type), e->o.compression);
            if (rc && rc != -EEXIST) return rc;
            ss = schema_get_series(e->schema, device, cols[c].measurement);
            if (!ss) return -EINVAL;
        }
        if (ss->type != cols[c].type) return -EINVAL;
        proto[c] = (SubCol){ss->measurement, ss->type, ss->encoding, ss->compression, 0, NULL, NULL};
    }
    StorageGroup *sg = eng_sg(e, sgname, true);
    if (!sg) return -ENOMEM;

    /* Partition ids of the rows; most tablets fall in one partition. */
    int64_t lo = times[0], hi = times[0];
    for (size_t i = 1; i < nrows; i++) {
        if (times[i] < lo) lo = times[i];
        if (times[i] > hi) hi = times[i];
    }
    /* data older than the storage group's TTL is refused (replay keeps it:
     * it was accepted once, and queries hide it anyway) */
    if (!e->replaying && lo < eng_ttl_cutoff(e, sgname)) return -EINVAL;
    int64_t plo = engine_partition_of(e, lo), phi = engine_partition_of(e, hi);
    /* Rows grouped by partition: (partition, row) pairs sorted, unless the
     * whole tablet falls in one partition (the common case). */
    PRow *prows = NULL;
    if (plo != phi) {
        prows = malloc(nrows * sizeof(*prows));
        if (!prows) return -ENOMEM;
        for (size_t i = 0; i < nrows; i++) prows[i] = (PRow){engine_partition_of(e, times[i]), (guint)i};
        qsort(prows, nrows, sizeof(*prows), cmp_prow);
    }
    Scratch sc = {TSF_BUF_INIT, NULL, 0};
    GArray *seqrows = g_array_new(FALSE, FALSE, sizeof(guint));
    GArray *unseqrows = g_array_new(FALSE, FALSE, sizeof(guint));
    uint64_t ticket = 0;
    pthread_mutex_lock(&sg->lock);
    /* refuse the whole tablet if any row falls in a sealed partition */
    for (size_t i = 0; i < nrows && !e->replaying; i++) {
        int64_t pid = prows ? prows[i].pid : plo;
        if (i && prows && pid == prows[i - 1].pid) continue;
        Partition *p = eng_partition(e, sg, pid, false);
        if (p && p->sealed) {
            rc = -EROFS;
            break;
        }
        if (!prows) break;
    }
    for (size_t start = 0; rc == 0 && start < nrows;) {
        int64_t pid = prows ? prows[start].pid : plo;
        size_t end = start;
        while (end < nrows && (prows ? prows[end].pid == pid : true)) end++;
        Partition *p = eng_partition(e, sg, pid, true);
        if (!p) {
            rc = -ENOMEM;
            break;
        }
        /* this partition's rows, split into sequence and unsequence */
        g_array_set_size(seqrows, 0);
        g_array_set_size(unseqrows, 0);
        int64_t *lf = g_hash_table_lookup(p->last_flushed, device);
        for (size_t i = start; i < end; i++) {
            guint r = prows ? prows[i].row : (guint)i;
            if (lf && times[r] <= *lf)
                g_array_append_val(unseqrows, r);
            else
                g_array_append_val(seqrows, r);
        }
        GArray *sets[2] = {seqrows, unseqrows};
        for (int kind = 0; kind < 2 && rc == 0; kind++) {
            GArray *set = sets[kind];
            if (set->len == 0) continue;
            bool sequence = kind == 0;
            TsFileProc *proc = sequence ? p->seq : p->unseq;
            if (!proc) rc = eng_open_proc(e, p, sequence, &proc);
            if (rc) break;
            bool whole = set->len == nrows;
            rc = insert_rows(e, &sc, proc, device, times, nrows, whole ? NULL : (const guint *)set->data,
                             set->len, cols, proto, ncols, &ticket);
        }
        start = end;
    }
    pthread_mutex_unlock(&sg->lock);
    free(prows);
    g_array_free(seqrows, TRUE);
    g_array_free(unseqrows, TRUE);
    tsf_buf_free(&sc.rec);
    free(sc.buf);
    if (rc) return rc;
    /* stamped once applied (changes.c); a new series changes its device's columns */
    if (created) chg_note_columns(e, device);
    for (size_t c = 0; c < ncols; c++) chg_note_insert(e, device, cols[c].measurement, lo, hi);
    if (ticket && e->o.wal_sync == WAL_SYNC_ALWAYS) rc = wal_wait(e->wal, ticket);
    if (rc) {
        eng_set_error(e, rc);
        return rc;
    }
    control_memory(e);
    return atomic_load(&e->err);
}

int engine_insert_point(Engine *e, const char *device, const char *measurement, TsfType type, int64_t t,
                        const void *value)
{
    EngineColumn col = {measurement, type, value, NULL};
    return engine_insert_tablet(e, device, &t, 1, &col, 1);
}

int engine_insert_row(Engine *e, const char *device, int64_t t, const char *const *measurements,
                      const TsfType *types, const void *const *values, size_t n)
{
    EngineColumn *cols = g_alloca(sizeof(EngineColumn) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) cols[i] = (EngineColumn){measurements[i], types[i], values[i], NULL};
    return engine_insert_tablet(e, device, &t, 1, cols, n);
}

/* ---- flush, seal, sync -------------------------------------------------------------- */

int engine_flush_all(Engine *e)
{
    int rc = freeze_all(e, false);
    int err = atomic_load(&e->err);
    return err ? err : rc;
}

/* system/sealed: one "sg partition sealed_at_ms" line per sealed partition. */
static int save_sealed(Engine *e)
{
    GString *s = g_string_new(NULL);
    GList *sgs = eng_sg_list(e);
    for (GList *l = sgs; l; l = l->next) {
        StorageGroup *sg = l->data;
        pthread_mutex_lock(&sg->lock);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, sg->parts);
        while (g_hash_table_iter_next(&it, &k, &v))
            if (((Partition *)v)->sealed)
                g_string_append_printf(s, "%s %" PRId64 " %" PRId64 "\n", sg->name, ((Partition *)v)->id,
                                       ((Partition *)v)->sealed_at);
        pthread_mutex_unlock(&sg->lock);
    }
    g_list_free(sgs);
    char *path = g_strdup_printf("%s/system/sealed", e->dir);
    int rc = fileio_replace(path, s->str, s->len);
    g_free(path);
    g_string_free(s, TRUE);
    return rc;
}

static int set_sealed(Engine *e, const char *sgname, int64_t partition, bool sealed)
{
    StorageGroup *sg = schema_has_sg(e->schema, sgname) ? eng_sg(e, sgname, true) : NULL;
    if (!sg) return -ENOENT;
    pthread_mutex_lock(&sg->lock);
    Partition *p = eng_partition(e, sg, partition, true);
    if (p) {
        if (sealed && !p->sealed) p->sealed_at = eng_now_ms();
        if (!sealed) p->sealed_at = 0;
        p->sealed = sealed;
    }
    pthread_mutex_unlock(&sg->lock);
    if (!p) return -ENOMEM;
    int rc = 0;
    if (sealed) {
        /* flushed, closed, and its unsequence data merged before it is fixed */
        freeze_sg(e, sg, true, &partition);
        rc = flush_wait_all(e);
        /* a background compaction of this partition finishes first: after
         * the seal returns, nothing in the partition changes */
        for (;;) {
            pthread_mutex_lock(&sg->lock);
            bool busy = p->compacting;
            pthread_mutex_unlock(&sg->lock);
            if (!busy) break;
            usleep(10000);
        }
        if (rc == 0) rc = compaction_run_partition(e, sg, partition);
    }
    if (rc == 0) rc = atomic_load(&e->err);
    if (rc == 0) rc = save_sealed(e);
    if (rc && sealed) {
        /* not sealed after all (a full disk, say): writes go on, into new files */
        pthread_mutex_lock(&sg->lock);
        p->sealed = false;
        p->sealed_at = 0;
        pthread_mutex_unlock(&sg->lock);
    }
    return rc;
}

int engine_seal_partition(Engine *e, const char *sg, int64_t partition)
{
    return set_sealed(e, sg, partition, true);
}
int engine_unseal_partition(Engine *e, const char *sg, int64_t partition)
{
    return set_sealed(e, sg, partition, false);
}

bool engine_partition_is_sealed(Engine *e, const char *sgname, int64_t partition)
{
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return false;
    pthread_mutex_lock(&sg->lock);
    Partition *p = eng_partition(e, sg, partition, false);
    bool sealed = p && p->sealed;
    pthread_mutex_unlock(&sg->lock);
    return sealed;
}

int64_t engine_partition_sealed_at(Engine *e, const char *sgname, int64_t partition)
{
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return 0;
    pthread_mutex_lock(&sg->lock);
    Partition *p = eng_partition(e, sg, partition, false);
    int64_t at = p && p->sealed ? p->sealed_at : 0;
    pthread_mutex_unlock(&sg->lock);
    return at;
}

static bool proc_has_data(const TsFileProc *proc)
{
    return proc &&
           (proc->res.n > 0 || (proc->working && proc->working->points > 0) || proc->flushing.length > 0);
}

static bool partition_has_data(const Partition *p)
{
    if (p->closed->len > 0 || p->closing->len > 0) return true;
    return proc_has_data(p->seq) || proc_has_data(p->unseq);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int engine_partitions(Engine *e, const char *sgname, int64_t **ids, size_t *n)
{
    *ids = NULL;
    *n = 0;
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return 0;
    pthread_mutex_lock(&sg->lock);
    int64_t *out = malloc((g_hash_table_size(sg->parts) + 1) * sizeof(*out));
    size_t k = 0;
    GHashTableIter it;
    gpointer key, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (out && g_hash_table_iter_next(&it, &key, &v))
        if (partition_has_data(v)) out[k++] = ((Partition *)v)->id;
    pthread_mutex_unlock(&sg->lock);
    if (!out) return -ENOMEM;
    qsort(out, k, sizeof(*out), cmp_i64);
    *ids = out;
    *n = k;
    return 0;
}

static void add_res_devices(GHashTable *set, const Resource *r)
{
    for (size_t i = 0; i < r->n; i++) g_hash_table_add(set, r->dev[i].device);
}

static void add_mem_devices(GHashTable *set, const MemTable *m)
{
    if (!m) return;
    for (guint i = 0; i < m->devices->len; i++) {
        MemDevice *d = m->devices->pdata[i];
        for (guint j = 0; j < d->series->len; j++)
            if (((MemSeries *)d->series->pdata[j])->n > 0) {
                g_hash_table_add(set, d->path);
                break;
            }
    }
}

static void add_proc_devices(GHashTable *set, const TsFileProc *proc)
{
    if (!proc) return;
    add_res_devices(set, &proc->res);
    add_mem_devices(set, proc->working);
    for (GList *l = proc->flushing.head; l; l = l->next) add_mem_devices(set, l->data);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int engine_partition_devices(Engine *e, const char *sgname, int64_t partition, char ***devices)
{
    *devices = NULL;
    StorageGroup *sg = eng_sg(e, sgname, false);
    GHashTable *set = g_hash_table_new(g_str_hash, g_str_equal);
    GPtrArray *out = g_ptr_array_new();
    if (sg) {
        pthread_mutex_lock(&sg->lock);
        Partition *p = eng_partition(e, sg, partition, false);
        if (p) {
            for (guint i = 0; i < p->closed->len; i++)
                add_res_devices(set, &((ClosedFile *)p->closed->pdata[i])->res);
            for (guint i = 0; i < p->closing->len; i++) add_proc_devices(set, p->closing->pdata[i]);
            add_proc_devices(set, p->seq);
            add_proc_devices(set, p->unseq);
        }
        /* copied under the lock: the records may go once it is released */
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, set);
        while (g_hash_table_iter_next(&it, &k, &v)) g_ptr_array_add(out, g_strdup(k));
        pthread_mutex_unlock(&sg->lock);
    }
    g_hash_table_destroy(set);
    if (out->len) qsort(out->pdata, out->len, sizeof(gpointer), cmp_str);
    g_ptr_array_add(out, NULL);
    *devices = (char **)g_ptr_array_free(out, FALSE);
    return 0;
}

int engine_sync(Engine *e)
{
    return e->wal ? wal_sync(e->wal) : 0;
}

void engine_get_stats(Engine *e, EngineStats *st)
{
    memset(st, 0, sizeof(*st));
    st->points_inserted = atomic_load(&e->points);
    st->points_replayed = atomic_load(&e->points_replayed);
    st->flushes = atomic_load(&e->flushes);
    st->files_closed = atomic_load(&e->closes);
    st->memtable_bytes = atomic_load(&e->working_bytes) + atomic_load(&e->flushing_bytes);
    st->wal_records_replayed = atomic_load(&e->replayed);
    st->wal_records_skipped = atomic_load(&e->skipped);
    st->compactions = atomic_load(&e->compactions);
    if (e->wal) {
        WalStats ws;
        wal_get_stats(e->wal, &ws);
        st->wal_syncs = ws.syncs;
        st->wal_bytes = ws.bytes;
        st->wal_segments = ws.segments;
    }
}

typedef struct SgFile {
    char *path;
    bool sequence;
} SgFile;

static void note_sg_file(GArray *files, const char *path, bool sequence)
{
    SgFile f = {g_strdup(path), sequence};
    g_array_append_val(files, f);
}

int engine_sg_stats(Engine *e, const char *sgname, EngineSgStats *out)
{
    memset(out, 0, sizeof(*out));
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return -ENOENT;
    /* paths copied under the lock, sizes taken after it: stat() must not
     * hold up inserts */
    GArray *files = g_array_new(FALSE, FALSE, sizeof(SgFile));
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        if (!partition_has_data(p)) continue;
        out->partitions++;
        if (p->sealed) out->partitions_sealed++;
        for (guint i = 0; i < p->closed->len; i++) {
            const ClosedFile *cf = p->closed->pdata[i];
            note_sg_file(files, cf->path, cf->sequence);
        }
        for (guint i = 0; i < p->closing->len; i++) {
            const TsFileProc *proc = p->closing->pdata[i];
            note_sg_file(files, proc->path, proc->sequence);
        }
        if (p->seq) note_sg_file(files, p->seq->path, true);
        if (p->unseq) note_sg_file(files, p->unseq->path, false);
    }
    pthread_mutex_unlock(&sg->lock);
    for (guint i = 0; i < files->len; i++) {
        SgFile *f = &g_array_index(files, SgFile, i);
        struct stat st;
        /* a working file not created yet, or one compaction just removed */
        if (stat(f->path, &st) == 0) {
            *(f->sequence ? &out->seq_files : &out->unseq_files) += 1;
            *(f->sequence ? &out->seq_bytes : &out->unseq_bytes) += (uint64_t)st.st_size;
        }
        g_free(f->path);
    }
    g_array_free(files, TRUE);
    return 0;
}

void engine_foreach_tsfile(Engine *e, const char *sgname,
                           void (*fn)(void *ctx, const char *path, bool sequence, int64_t partition,
                                      bool closed),
                           void *ctx)
{
    StorageGroup *sg = eng_sg(e, sgname, false);
    if (!sg) return;
    pthread_mutex_lock(&sg->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, sg->parts);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Partition *p = v;
        for (guint i = 0; i < p->closed->len; i++) {
            ClosedFile *cf = p->closed->pdata[i];
            fn(ctx, cf->path, cf->sequence, p->id, true);
        }
        if (p->seq) fn(ctx, p->seq->path, true, p->id, false);
        if (p->unseq) fn(ctx, p->unseq->path, false, p->id, false);
    }
    pthread_mutex_unlock(&sg->lock);
}

int eng_apply_column(Engine *e, TsFileProc *proc, const char *device, const char *measurement, TsfType type,
                     const int64_t *times, const void *values, size_t n)
{
    const SeriesSchema *ss = schema_get_series(e->schema, device, measurement);
    if (!ss) {
        int rc = schema_add_series(e->schema, device, measurement, type, schema_default_encoding(type),
                                   e->o.compression);
        if (rc && rc != -EEXIST) return rc;
        ss = schema_get_series(e->schema, device, measurement);
    }
    if (!ss || ss->type != type) return -EINVAL;
    SubCol col = {ss->measurement, ss->type, ss->encoding, ss->compression, n, times, values};
    StorageGroup *sg = proc->part->sg;
    pthread_mutex_lock(&sg->lock);
    int rc = apply_to_proc(e, proc, device, &col, 1);
    pthread_mutex_unlock(&sg->lock);
    return rc;
}

/* Used by recovery.c to replay one WAL record through the normal routing. */
int eng_replay_insert(Engine *e, const char *device, const int64_t *times, size_t n, const EngineColumn *col)
{
    return engine_insert_tablet(e, device, times, n, col, 1);
}
