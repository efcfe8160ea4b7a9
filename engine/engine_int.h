/*
 * engine_int.h: the engine's internal structures, shared by engine.c
 * (routing, inserts, lifecycle), flush.c (the flush thread, closing files)
 * and recovery.c (startup).  Not part of the public contract.
 *
 * Ownership and locks:
 *   Engine.sgs, Engine.sg_list          Engine.lock
 *   everything inside a StorageGroup     StorageGroup.lock, except
 *   TsFileProc.writer                    only the flush thread (or startup /
 *                                        shutdown with the thread stopped)
 *   Engine.jobs, pending, done counters  Engine.flush_lock
 *   memory counters                      atomics
 */
#ifndef TSFS_ENGINE_INT_H
#define TSFS_ENGINE_INT_H

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>

#include "engine.h"
#include "memtable.h"
#include "mods.h"
#include "resource.h"
#include "schema.h"
#include "wal.h"
#include "writer.h"

/* WAL record kinds (engine.c writes inserts, deletion.c deletions). */
#define REC_INSERT 1
#define REC_DELETE 2

typedef struct Partition Partition;
typedef struct StorageGroup StorageGroup;

/* A TsFile being written: its writer, working memtable and memtables
 * waiting for the flush thread. */
typedef struct TsFileProc {
    Partition *part;
    bool sequence;
    uint64_t version; /* the file name's version; unique in its storage group */
    char *path;
    TsfWriter *writer;     /* flush thread only */
    MemTable *working;     /* NULL until the first insert */
    GQueue flushing;       /* frozen MemTable*, oldest first */
    uint64_t next_mt_id;   /* plan index of the next memtable */
    uint64_t first_mt_id;  /* plan index of the first memtable (for .resource) */
    Resource res;          /* device time ranges of flushed data */
    uint64_t file_bytes;   /* size after the last flush */
    int64_t flushed_mt_id; /* recovered files: last memtable id on disk (-1: none) */
    bool closing;          /* a close is queued: takes no more memtables */
    GHashTable *chunks;    /* "device\x01measurement" -> GArray of ChunkRef: flushed chunks, for queries */
    Mods mods;             /* deletions recorded against this file */
} TsFileProc;

/* A flushed chunk of a file still being written. */
typedef struct ChunkRef {
    uint64_t offset;
    int64_t start, end;
    uint32_t count;
} ChunkRef;

/* A closed TsFile. */
typedef struct ClosedFile {
    char *path;
    bool sequence;
    uint64_t version;
    Resource res; /* with min/max plan index */
    Mods mods;    /* deletions recorded against this file */
} ClosedFile;

struct Partition {
    int64_t id;
    StorageGroup *sg;
    bool sealed;
    int64_t sealed_at;        /* wall-clock ms of the seal (0 when open) */
    TsFileProc *seq, *unseq;  /* working files, NULL when none */
    GPtrArray *closing;       /* TsFileProc* detached, close queued: still read by queries */
    bool compacting;          /* its closed files are being merged: not expired, not compacted again */
    GPtrArray *closed;        /* ClosedFile*, in version order */
    GHashTable *last_flushed; /* device -> int64_t* : last time flushed (or frozen) to a sequence file */
};

struct StorageGroup {
    char *name;
    pthread_mutex_t lock;
    GHashTable *parts; /* int64_t* id -> Partition* */
    uint64_t next_version;
};

typedef enum JobKind { JOB_FLUSH, JOB_CLOSE } JobKind;

typedef struct FlushJob {
    JobKind kind;
    TsFileProc *proc;
    MemTable *mt; /* JOB_FLUSH */
    struct FlushJob *next;
} FlushJob;

struct Engine {
    EngineOptions o;
    char *dir; /* DATA_DIR */
    Schema *schema;
    Wal *wal;
    pthread_mutex_t lock;
    GHashTable *sgs; /* name -> StorageGroup* */
    /* flush thread */
    pthread_t flusher;
    bool flusher_running;
    pthread_mutex_t flush_lock;
    pthread_cond_t flush_cond; /* new job or stop */
    pthread_cond_t done_cond;  /* a job finished */
    FlushJob *job_head, *job_tail;
    uint64_t jobs_queued, jobs_done; /* under flush_lock */
    bool stop;
    /* memory */
    atomic_size_t working_bytes;
    atomic_size_t flushing_bytes;
    /* WAL segments pinned by live memtables: segment -> count (under lock) */
    GHashTable *seg_pins;
    atomic_int err;       /* sticky I/O error */
    atomic_int nospace;   /* -ENOSPC/-EDQUOT while a flush waits for room (not sticky) */
    atomic_bool closing;  /* engine_close: a flush that finds the disk full gives up */
    bool replaying;       /* startup: inserts are not logged */
    uint64_t replay_seg;  /* startup: oldest WAL segment replayed, pinned by replayed memtables */
    GPtrArray *recovered; /* TsFileProc* of unclosed files, during startup */
    /* background compaction */
    pthread_t compactor;
    bool compactor_running, compactor_stop;
    pthread_mutex_t compactor_lock;
    pthread_cond_t compactor_cond;
    /* change stamps (changes.c) */
    pthread_mutex_t change_lock;
    GHashTable *changes; /* device -> DevChanges* */
    uint64_t change_counter, rewrite_all;
    /* statistics */
    atomic_uint_fast64_t points, points_replayed, flushes, closes, replayed, skipped, compactions;
};

/* engine.c */
StorageGroup *eng_sg(Engine *e, const char *name, bool create);
/* A snapshot of the storage group list (free with g_list_free; groups are
 * never freed while the engine is open). */
GList *eng_sg_list(Engine *e);
/* The time range [lo, hi] of a partition. */
void eng_partition_span(const Engine *e, int64_t id, int64_t *lo, int64_t *hi);
/* Wall-clock milliseconds (file names, TTL). */
int64_t eng_now_ms(void);
/* Unlinks a TsFile with its .resource and .mods. */
void eng_remove_file_set(const char *tsfile);
Partition *eng_partition(Engine *e, StorageGroup *sg, int64_t id, bool create);
int eng_open_proc(Engine *e, Partition *p, bool sequence, TsFileProc **out);
void eng_pin_segment(Engine *e, uint64_t seg, int delta);
/* Records a failed I/O: sticky (every later write returns it), except a
 * full disk (eng_disk_full), which the next successful write clears. */
void eng_set_error(Engine *e, int rc);
bool eng_disk_full(int rc);
char *eng_partition_dir(Engine *e, const char *sg, bool sequence, int64_t partition);
/* Appends one column to proc's working memtable (no WAL, no routing). */
int eng_apply_column(Engine *e, TsFileProc *proc, const char *device, const char *measurement, TsfType type,
                     const int64_t *times, const void *values, size_t n);
/* Inserts one replayed column through the normal routing (no WAL). */
int eng_replay_insert(Engine *e, const char *device, const int64_t *times, size_t n, const EngineColumn *col);

/* deletion.c: now - TTL of a storage group (INT64_MIN without TTL). */
int64_t eng_ttl_cutoff(Engine *e, const char *sg);

/* flush.c */
int flush_start(Engine *e);
void flush_stop(Engine *e);
/* Freezes proc's working memtable and queues its flush (caller holds the
 * storage group lock).  Nothing when there is no working memtable. */
void flush_freeze(Engine *e, TsFileProc *proc);
/* Queues the close of proc after its pending flushes (caller holds the
 * storage group lock); proc takes no more inserts. */
void flush_queue_close(Engine *e, TsFileProc *proc);
/* Waits until every job queued before the call is done: 0, or -ENOSPC
 * (-EDQUOT) at once while the disk is full (the jobs wait for room). */
int flush_wait_all(Engine *e);
/* Synchronous close, for startup and shutdown (flush thread stopped). */
int flush_close_now(Engine *e, TsFileProc *proc);
/* Frees a closed-file record. */
void closed_file_free(ClosedFile *cf);
/* A new file-processor record (no writer yet); proc_free releases one. */
TsFileProc *proc_new(Partition *p, bool sequence, uint64_t version, const char *path);
void proc_free(TsFileProc *proc);

/* query.c: a query over a given set of closed files only (compaction);
 * points older than cutoff are left out. */
struct EngineQuery;
struct TimeFilter;
int query_open_files(Engine *e, const char *device, const char *measurement, TsfType type,
                     ClosedFile *const *files, size_t nfiles, const struct TimeFilter *tf, int64_t cutoff,
                     struct EngineQuery **out);

/* compaction.c */
/* Merges the closed files of a partition into one sequence file. */
int compaction_run_partition(Engine *e, StorageGroup *sg, int64_t partition);
/* Finishes or undoes a compaction a crash interrupted (startup). */
int compaction_recover(Engine *e);
int compaction_start(Engine *e);
void compaction_stop(Engine *e);

/* changes.c: stamps taken after a change is applied. */
void chg_init(Engine *e);
void chg_free(Engine *e);
void chg_note_insert(Engine *e, const char *device, const char *measurement, int64_t lo, int64_t hi);
/* The largest time of a device flushed (or frozen) to a sequence file in any
 * partition, INT64_MIN when none: what a process knows of a device's past
 * after a restart.  Takes the storage group's lock. */
int64_t eng_device_max_flushed(Engine *e, const char *device);
/* measurement NULL: every series of the device */
void chg_note_rewrite(Engine *e, const char *device, const char *measurement, int64_t from);
/* the device gained a series: its rows change, its other series do not */
void chg_note_columns(Engine *e, const char *device);
void chg_note_rewrite_all(Engine *e);

/* recovery.c */
int recovery_run(Engine *e);

#endif
