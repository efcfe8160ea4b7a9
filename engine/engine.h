/*
 * engine.h: the storage engine, in the shape of Apache IoTDB's.
 *
 *   Engine ── storage groups (root.ln, ...) ── time partitions
 *              (id = floor(t / partition_interval))
 *                 └─ per partition: at most one working sequence TsFile and
 *                    one working unsequence TsFile, each with a working
 *                    memtable and memtables being flushed, plus the closed
 *                    TsFiles of the partition.
 *
 * Writes: every insert is routed (storage group, partition, sequence or
 * unsequence: a point at or before the device's last flushed time in its
 * partition is unsequence), logged in the WAL, then applied to the working
 * memtable.  When the memtables together pass memtable_size, the largest
 * is frozen and flushed by a background thread into its TsFile as chunk
 * groups followed by a plan-index record, while writes go on into a fresh
 * memtable.  A TsFile is closed (index written, .resource written) when it
 * passes file_size, when its partition is sealed, or at shutdown.
 *
 * On disk (DATA_DIR):
 *   sequence/<sg>/<partition>/<t>-<version>-0-0.tsfile (+ .resource)
 *   unsequence/<sg>/<partition>/...
 *   wal/<segment>.wal          system/schema.log, system/sealed
 *
 * Recovery (engine_open): unclosed TsFiles are truncated to their last
 * complete flush (format's recovery) and continue as working files;
 * missing .resource files of closed TsFiles are rebuilt; the WAL is
 * replayed, skipping records whose memtable already reached its TsFile
 * (the plan-index records say which), so nothing acknowledged is lost and
 * nothing is applied twice.
 *
 * Lock order: Engine.lock (storage group table) → StorageGroup.lock →
 * WAL mutex.  The flush thread takes a storage group's lock only to swap
 * memtables and file lists, never during file I/O.
 *
 * Errors: 0 or a negative errno; -EROFS for writes into a sealed
 * partition, -EINVAL for bad names, types or values, -ENOENT for an unknown
 * storage group.  A failed WAL or flush I/O is sticky: every later write
 * returns it.  A full disk (-ENOSPC, -EDQUOT) is not: the write that meets
 * it fails, nothing acknowledged is dropped (memtables stay in memory and
 * in the WAL, flushes are tried again), and writes succeed again once
 * there is room.
 */
#ifndef TSFS_ENGINE_H
#define TSFS_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "types.h"
#include "wal.h"

typedef struct Engine Engine;

typedef struct EngineOptions {
    const char *data_dir;
    int64_t partition_interval;   /* ms; default 604,800,000 (one week); kept in DATA_DIR at
                                     its first open: 0 = DATA_DIR's, another value is refused */
    size_t memtable_size;         /* memory budget of all memtables; default 64 MiB */
    WalSyncMode wal_sync;         /* default WAL_SYNC_BATCH */
    uint32_t wal_batch_ms;        /* default 10 */
    uint64_t file_size;           /* close a TsFile past this many bytes; default 256 MiB */
    TsfCompression compression;   /* default for new series; default LZ4 */
    bool background_compaction;   /* merge closed files in the background; default true */
    uint32_t compaction_mb_per_s; /* throttle of background compaction; default 64, 0 = none */
} EngineOptions;

void engine_options_default(EngineOptions *o);

int engine_open(const EngineOptions *o, Engine **out);
/* Flushes every memtable, closes every TsFile and the WAL, frees.  The next
 * open replays nothing.  Returns the first error seen. */
int engine_close(Engine *e);

Schema *engine_schema(Engine *e);

/* Storage groups and series (thin wrappers over the schema, plus checks
 * that data does not exist when that matters). */
int engine_create_sg(Engine *e, const char *sg);
int engine_create_series(Engine *e, const char *device, const char *measurement, TsfType type,
                         TsfEncoding enc, TsfCompression comp);

/* Partition id of a time. */
int64_t engine_partition_of(const Engine *e, int64_t t);
/* The partition width in use (DATA_DIR's). */
int64_t engine_partition_interval(const Engine *e);

/* One column of a tablet: a series of the device and its values. */
typedef struct EngineColumn {
    const char *measurement;
    TsfType type;           /* must match the series if it exists */
    const void *values;     /* nrows values, physical form (types.h) */
    const uint8_t *present; /* nrows flags, non-zero = value present; NULL = all */
} EngineColumn;

/* Inserts a tablet: nrows rows of one device (times in any order, repeats
 * allowed: the newest write wins), ncols columns.  Unknown series are
 * created with their type's default encoding and the engine's compression.
 * Returns once the points are applied and, with wal_sync=always, durable. */
int engine_insert_tablet(Engine *e, const char *device, const int64_t *times, size_t nrows,
                         const EngineColumn *cols, size_t ncols);
/* One point / one row: conveniences over the tablet insert.  A row's
 * values[i] points at one value of types[i]. */
int engine_insert_point(Engine *e, const char *device, const char *measurement, TsfType type, int64_t t,
                        const void *value);
int engine_insert_row(Engine *e, const char *device, int64_t t, const char *const *measurements,
                      const TsfType *types, const void *const *values, size_t n);

/* Deletes the points of device.measurement (every series of the device
 * when measurement is NULL) with times in [start, end]: a DELETION line in
 * the .mods of every TsFile that may hold such points, and the points
 * removed from memtables.  Queries see it at once.  -EROFS when the range
 * reaches data in a sealed partition (nothing is deleted then). */
int engine_delete(Engine *e, const char *device, const char *measurement, int64_t start, int64_t end);

/* Time to live of a storage group's data, in ms (0 = forever): older data
 * is invisible to queries at once, refused on insert, and its TsFiles are
 * removed in the background once wholly expired.  Persisted. */
int engine_set_ttl(Engine *e, const char *sg, int64_t ttl_ms);

/* Removes the closed TsFiles (and their companions) whose data is wholly
 * older than now - TTL; also run by the flush thread about once a second.
 * Returns the number of files removed. */
int engine_expire(Engine *e);

/* Compacts now, in the calling thread and unthrottled, every partition that
 * has closed unsequence files or several closed sequence files: they are
 * merged into one sequence file (newest writes, deletions and TTL applied;
 * space of deleted data given back).  Never touches sealed partitions. */
int engine_compact_all(Engine *e);

/* Flushes every working memtable and waits for the flushes (files stay open). */
int engine_flush_all(Engine *e);

/* Seals a partition of a storage group: flushes and closes its TsFiles;
 * later writes to its time range get -EROFS until it is unsealed. */
int engine_seal_partition(Engine *e, const char *sg, int64_t partition);
int engine_unseal_partition(Engine *e, const char *sg, int64_t partition);
bool engine_partition_is_sealed(Engine *e, const char *sg, int64_t partition);

/* Removes a series: deletes all its data (as engine_delete) and drops it
 * from the schema.  -EROFS when it has data in a sealed partition. */
int engine_drop_series(Engine *e, const char *device, const char *measurement);

/* Change stamps, for caches of what queries return.  gen changes with every
 * insert, deletion, creation or drop that touches the series (measurement
 * NULL: any series of the device); rewrite is the gen of the last change
 * that was not a pure append after the largest time ever inserted.  A
 * cache made at gen G (stamp read before the data) stays right for times up
 * to its last time while rewrite <= G.  Zero until the first change since
 * the engine opened. */
typedef struct EngineChange {
    uint64_t gen;
    uint64_t rewrite;
} EngineChange;
void engine_change_of(Engine *e, const char *device, const char *measurement, EngineChange *out);
/* The earliest time changed by the rewrites made after stamp `since`
 * (INT64_MAX: none; INT64_MIN: everything): true, or false when they are no
 * longer all remembered.  Everything before that time is as it was at
 * `since`. */
bool engine_rewritten_from(Engine *e, const char *device, const char *measurement, uint64_t since,
                           int64_t *from);

/* Partitions of a storage group that hold data (files or memtables),
 * sorted; *ids is malloc'ed (free it). */
int engine_partitions(Engine *e, const char *sg, int64_t **ids, size_t *n);
/* Devices with data in a partition (from .resource files and memtables),
 * sorted; a NULL-terminated g_strfreev array. */
int engine_partition_devices(Engine *e, const char *sg, int64_t partition, char ***devices);
/* Wall-clock ms at which a partition was sealed, 0 when it is not. */
int64_t engine_partition_sealed_at(Engine *e, const char *sg, int64_t partition);

/* Forces the WAL to disk (fsync(2) on a file). */
int engine_sync(Engine *e);

/* What is in memory and on disk, for statistics and tests. */
typedef struct EngineStats {
    uint64_t points_inserted; /* by inserts since open (not counting WAL replay) */
    uint64_t points_replayed; /* by WAL replay at open */
    uint64_t flushes;
    uint64_t files_closed;
    size_t memtable_bytes; /* working + flushing memtables */
    uint64_t wal_syncs;
    uint64_t wal_records_replayed;
    uint64_t wal_records_skipped; /* already in a TsFile at recovery */
    uint64_t compactions;
    uint64_t wal_bytes;    /* appended to the WAL since open */
    uint64_t wal_segments; /* WAL segment files on disk now */
} EngineStats;
void engine_get_stats(Engine *e, EngineStats *st);

/* One storage group's shape now: partitions holding data (sealed or not)
 * and its TsFiles on disk (closed, being written or being closed) with
 * their sizes, sequence and unsequence apart.  -ENOENT for an unknown
 * storage group. */
typedef struct EngineSgStats {
    uint64_t partitions, partitions_sealed;
    uint64_t seq_files, unseq_files;
    uint64_t seq_bytes, unseq_bytes;
} EngineSgStats;
int engine_sg_stats(Engine *e, const char *sg, EngineSgStats *out);

/* Every TsFile (closed or not) of a storage group: fn(ctx, path, sequence,
 * partition, closed).  For tests and tools. */
void engine_foreach_tsfile(Engine *e, const char *sg,
                           void (*fn)(void *ctx, const char *path, bool sequence, int64_t partition,
                                      bool closed),
                           void *ctx);

#endif
