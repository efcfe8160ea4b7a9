/*
 * writer.h: streaming TsFile writer (spec §1.5, §2, §4).
 *
 * The caller writes chunk groups: one device at a time, each series of a
 * non-aligned device as one chunk (begin_series, append..., end_series), or
 * all columns of an aligned device together (begin_aligned, append_aligned...,
 * end_group).  Points are buffered one page at a time; a page is sealed at
 * page_max_points or when its encoded size reaches page_max_bytes, then
 * encoded, compressed and appended to the chunk being built.  A finished
 * chunk goes to the file.  Memory is therefore bounded by one page per open
 * column plus one chunk plus the metadata (chunk offsets and statistics)
 * kept for the index written at close.
 *
 * Errors stick: after a failure every call returns the same code, and
 * tsf_writer_err() says what happened.
 *
 * Threads: a writer is used by one thread at a time.
 */
#ifndef TSF_WRITER_H
#define TSF_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tsf_error.h"
#include "types.h"

typedef struct TsfWriter TsfWriter;

typedef struct TsfWriterOpts {
    int version;                     /* 3 (default) or 4 */
    uint32_t page_max_points;        /* 10000 */
    uint32_t page_max_bytes;         /* 65536 */
    int float_precision;             /* 2: RLE/TS_2DIFF on FLOAT/DOUBLE */
    TsfCompression time_compression; /* aligned time chunks; LZ4 like the reference */
    uint32_t max_degree;             /* index node degree, 256 */
    bool fsync;                      /* fsync at close and at tsf_writer_sync */
} TsfWriterOpts;

void tsf_writer_opts_default(TsfWriterOpts *o);

/* Creates (truncates) path and writes the head.  opts may be NULL. */
int tsf_writer_open(const char *path, const TsfWriterOpts *opts, TsfWriter **out);

/* Non-aligned chunk group.  Series of a group need distinct names; times
 * must strictly increase within a chunk (checked: TSF_EINVAL).  Chunks of
 * one series in different chunk groups may overlap in time (as in the
 * unsequence files of IoTDB); readers then merge them. */
int tsf_writer_begin_group(TsfWriter *w, const char *device);
int tsf_writer_begin_series(TsfWriter *w, const char *measurement, TsfType type, TsfEncoding enc,
                            TsfCompression comp);
/* values: n elements of the physical form of the series' type (types.h).
 * TsfBin bytes are copied. */
int tsf_writer_append(TsfWriter *w, const int64_t *times, const void *values, size_t n);
int tsf_writer_end_series(TsfWriter *w);

/* Aligned chunk group: columns are fixed for the group. */
typedef struct TsfColumnSchema {
    const char *name;
    TsfType type;
    TsfEncoding encoding;
    TsfCompression compression;
} TsfColumnSchema;

int tsf_writer_begin_aligned(TsfWriter *w, const char *device, const TsfColumnSchema *cols, size_t ncols);
/* Appends n rows.  values[c] holds n elements for column c (entries at null
 * rows are ignored); present[c] is n bytes, non-zero = value present, or
 * NULL when column c has a value in every row. */
int tsf_writer_append_aligned(TsfWriter *w, const int64_t *times, size_t n, const void *const *values,
                              const uint8_t *const *present);

/* Ends the current group (either kind). */
int tsf_writer_end_group(TsfWriter *w);

/* Writes an OPERATION_INDEX_RANGE record (IoTDB's flush commit point, spec
 * §2.7), making the chunk groups before it durable for recovery.  No group
 * may be open. */
int tsf_writer_mark_plan_index(TsfWriter *w, int64_t min_index, int64_t max_index);

/* Pushes buffered bytes to the kernel (and fsyncs when opts.fsync). */
int tsf_writer_sync(TsfWriter *w);

/* Bytes written so far (the file length once synced). */
uint64_t tsf_writer_position(const TsfWriter *w);

/* Writes the index, TsFileMetadata and tail, syncs, closes, frees. An open
 * group is ended first.  Returns the first error seen. */
int tsf_writer_close(TsfWriter *w);

/* Frees without writing the index (the file stays incomplete). */
void tsf_writer_abort(TsfWriter *w);

const TsfErr *tsf_writer_err(const TsfWriter *w);

/* Calls fn for every device written so far with the smallest start and
 * largest end time over its series (devices with no points are skipped). */
void tsf_writer_foreach_device(const TsfWriter *w,
                               void (*fn)(void *ctx, const char *device, int64_t start, int64_t end),
                               void *ctx);

/* What recovery kept. */
typedef struct TsfRecoverInfo {
    uint64_t kept_bytes;    /* the file was truncated to this length */
    bool has_plan_index;    /* a plan-index record was kept */
    int64_t min_plan_index; /* smallest min of the kept plan-index records */
    int64_t max_plan_index; /* largest max of the kept plan-index records */
} TsfRecoverInfo;

/* Recovery of a file that was never closed (spec §8.2): keeps every chunk
 * group followed by another chunk group, a plan-index record or the
 * separator, truncates the rest, rebuilds the metadata and returns a writer
 * that continues the file in its own version.  A complete file is reopened
 * for appending the same way (its index is rebuilt at close).
 * info (may be NULL) receives what was kept. */
int tsf_writer_recover(const char *path, const TsfWriterOpts *opts, TsfWriter **out, TsfRecoverInfo *info,
                       TsfErr *err);

#endif
