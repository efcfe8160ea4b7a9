/*
 * memtable.h: the in-memory buffer of the newest points of one TsFile.
 *
 * Per device, per series: a time column and a value column, appended in
 * arrival order (amortized growth, never an allocation per point).  A series
 * remembers whether its appends were already in increasing time order; when
 * the memtable is flushed each series is sorted once (stable) and repeated
 * timestamps are collapsed keeping the newest write, then written as one
 * chunk per series, one chunk group per device.
 *
 * A memtable belongs to one TsFile processor and is protected by its storage
 * group's lock while it is the working memtable; once frozen for flushing it
 * is immutable, so the flush thread reads it without a lock.
 */
#ifndef TSFS_MEMTABLE_H
#define TSFS_MEMTABLE_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "resource.h"
#include "types.h"
#include "writer.h"

typedef struct MemSeries {
    char *name; /* owned */
    TsfType type;
    TsfEncoding encoding;
    TsfCompression compression;
    int64_t *times;
    uint8_t *values; /* physical form; TsfBin.ptr holds an offset into arena */
    size_t n, cap;
    TsfBuf arena;  /* bytes of TEXT/STRING/BLOB values */
    bool in_order; /* every append so far had a larger time */
    int64_t min_time, max_time;
} MemSeries;

typedef struct MemDevice {
    char *path;          /* owned, full device path */
    GHashTable *by_name; /* name -> MemSeries* */
    GPtrArray *series;   /* MemSeries* in creation order */
} MemDevice;

/* A deletion waiting to reach a frozen memtable (see engine_delete). */
typedef struct MemDelete {
    char *device;      /* owned */
    char *measurement; /* owned; NULL = every series of the device */
    int64_t start, end;
} MemDelete;

typedef struct MemTable {
    GHashTable *by_path;  /* device path -> MemDevice* */
    GPtrArray *devices;   /* MemDevice* in creation order */
    size_t bytes;         /* memory held (capacity), for the engine budget */
    uint64_t points;      /* points appended (repeats included) */
    uint64_t id;          /* sequence number within its TsFile (plan index) */
    uint64_t wal_segment; /* oldest WAL segment holding its records */
    /* frozen memtables (under the storage group lock): deletions that came
     * before the flush thread took it (applied then) and after (recorded
     * in the file's .mods once the flush is on disk) */
    GArray *pending; /* MemDelete */
    GArray *late;    /* MemDelete */
    bool flush_started;
} MemTable;

MemTable *memtable_new(uint64_t id, uint64_t wal_segment);
void memtable_free(MemTable *m);

/* The series (created on first use).  NULL on out of memory. */
MemSeries *memtable_series(MemTable *m, const char *device, const char *name, TsfType type, TsfEncoding enc,
                           TsfCompression comp);

/* Appends n points (values in the physical form of s->type; binary bytes are
 * copied).  Returns 0 or -ENOMEM (nothing appended then). */
int memtable_append(MemTable *m, MemSeries *s, const int64_t *times, const void *values, size_t n);

/* Removes the points of series s (or every series of device when name is
 * NULL) whose time is in [start, end]; returns the number removed. */
size_t memtable_delete(MemTable *m, const char *device, const char *name, int64_t start, int64_t end);

/* A sorted copy of series device.name's points in [lo, hi], repeated
 * timestamps collapsed to the newest write (out is initialised here; free
 * with memseries_clear).  Binary values point into out->arena.  Returns 0
 * (out->n = 0 when the series is absent) or -ENOMEM. */
int memtable_snapshot(const MemTable *m, const char *device, const char *name, int64_t lo, int64_t hi,
                      MemSeries *out);
void memseries_clear(MemSeries *s);

/* Records a deletion in one of the lists above (copies the strings). */
int memtable_note_delete(GArray *list, const char *device, const char *measurement, int64_t start,
                         int64_t end);
/* Applies the deletions of list to the memtable (or to a snapshot series s
 * of device.name when s is not NULL) and, for the memtable, empties list. */
void memtable_apply_deletes(MemTable *m, GArray *list);
void memseries_apply_deletes(MemSeries *s, const GArray *list, const char *device, const char *name);

/* Sorts s by time (stable) and keeps the newest write of each timestamp. */
void memseries_sort_dedup(MemSeries *s);

/* Where a flushed series' chunk went, so queries can read a file that is
 * still being written (it has no index yet). */
typedef struct FlushedChunk {
    char *device;      /* owned */
    char *measurement; /* owned */
    TsfType type;
    uint64_t offset; /* of the chunk header */
    int64_t start, end;
    uint32_t count;
} FlushedChunk;

/* Writes every device as a chunk group (devices and series in name order),
 * then the plan-index record m->id, and widens res to the written device
 * time ranges.  Sorts the series first (the memtable must be frozen).
 * chunks (may be NULL) receives a FlushedChunk per written chunk. */
int memtable_flush(MemTable *m, TsfWriter *w, Resource *res, GArray *chunks);
void flushed_chunk_clear(FlushedChunk *c);

#endif
