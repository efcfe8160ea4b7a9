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
    char *name;               /* owned */
    TsfType type;
    TsfEncoding encoding;
    TsfCompression compression;
    int64_t *times;
    uint8_t *values;          /* physical form; TsfBin.ptr holds an offset into arena */
    size_t n, cap;
    TsfBuf arena;             /* bytes of TEXT/STRING/BLOB values */
    bool in_order;            /* every append so far had a larger time */
    int64_t min_time, max_time;
} MemSeries;

typedef struct MemDevice {
    char *path;               /* owned, full device path */
    GHashTable *by_name;      /* name -> MemSeries* */
    GPtrArray *series;        /* MemSeries* in creation order */
} MemDevice;

typedef struct MemTable {
    GHashTable *by_path;      /* device path -> MemDevice* */
    GPtrArray *devices;       /* MemDevice* in creation order */
    size_t bytes;             /* memory held (capacity), for the engine budget */
    uint64_t points;          /* points appended (repeats included) */
    uint64_t id;              /* sequence number within its TsFile (plan index) */
    uint64_t wal_segment;     /* oldest WAL segment holding its records */
} MemTable;

MemTable *memtable_new(uint64_t id, uint64_t wal_segment);
void memtable_free(MemTable *m);

/* The series (created on first use).  NULL on out of memory. */
MemSeries *memtable_series(MemTable *m, const char *device, const char *name, TsfType type,
                           TsfEncoding enc, TsfCompression comp);

/* Appends n points (values in the physical form of s->type; binary bytes are
 * copied).  Returns 0 or -ENOMEM (nothing appended then). */
int memtable_append(MemTable *m, MemSeries *s, const int64_t *times, const void *values, size_t n);

/* Removes the points of series s (or every series of device when name is
 * NULL) whose time is in [start, end]; returns the number removed. */
size_t memtable_delete(MemTable *m, const char *device, const char *name, int64_t start, int64_t end);

/* Sorts s by time (stable) and keeps the newest write of each timestamp. */
void memseries_sort_dedup(MemSeries *s);

/* Writes every device as a chunk group (devices and series in name order),
 * then the plan-index record m->id, and widens res to the written device
 * time ranges.  Sorts the series first (the memtable must be frozen). */
int memtable_flush(MemTable *m, TsfWriter *w, Resource *res);

#endif
