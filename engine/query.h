/*
 * query.h: reading series back: time filters, value filters, a merging
 * series iterator, aggregations, and a device row reader.
 *
 * A series query merges, for one series: the memtables (working and being
 * flushed) of every TsFile of the partitions it touches, the flushed chunks
 * of files still being written, and the closed files, in time order.  For a
 * repeated timestamp the newest write wins: unsequence data is newer than
 * sequence data (a point goes to an unsequence file only when its time was
 * already flushed), a file with a larger version is newer, later chunks of
 * a file are newer than earlier ones, and memtables are newer than their
 * file's chunks.  Deletions (.mods) and the storage group's TTL are applied.
 *
 * What the files know is used to read little: partitions and .resource
 * time ranges skip files, the bloom filter and index find the series, chunk
 * and page statistics skip what lies outside the filter or is wholly
 * deleted, and only overlapping pages are decompressed, one page per source
 * at a time, so memory stays bounded whatever the series' size.
 *
 * Snapshot: engine_query_open copies the memtable points in range and opens
 * the files it needs under the storage group's lock; later inserts,
 * flushes, closes or file removals do not change what the query returns.
 */
#ifndef TSFS_QUERY_H
#define TSFS_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

/* A set of times: sorted, disjoint, inclusive ranges. */
typedef struct TimeRange {
    int64_t lo, hi;
} TimeRange;

typedef struct TimeFilter {
    TimeRange *r;
    size_t n;
} TimeFilter;

/* Builders: each returns a new filter (free with tf_free); NULL on OOM. */
TimeFilter *tf_all(void);
TimeFilter *tf_range(int64_t lo, int64_t hi); /* lo..hi inclusive; empty when lo > hi */
TimeFilter *tf_eq(int64_t t);
TimeFilter *tf_lt(int64_t t);
TimeFilter *tf_le(int64_t t);
TimeFilter *tf_gt(int64_t t);
TimeFilter *tf_ge(int64_t t);
TimeFilter *tf_and(const TimeFilter *a, const TimeFilter *b);
TimeFilter *tf_or(const TimeFilter *a, const TimeFilter *b);
void tf_free(TimeFilter *f);
bool tf_contains(const TimeFilter *f, int64_t t);

/* Value filters on numeric series (BOOLEAN as 0/1), all of which must hold. */
typedef enum ValueOp { VF_EQ, VF_NE, VF_LT, VF_LE, VF_GT, VF_GE } ValueOp;
typedef struct ValueFilter {
    ValueOp op;
    double value;
} ValueFilter;

typedef struct EngineQuery EngineQuery;

typedef struct QueryCounters {
    uint64_t files_opened;
    uint64_t files_skipped;  /* by partition or .resource time range */
    uint64_t chunks_skipped; /* by statistics or deletions */
    uint64_t pages_decoded;
    uint64_t pages_skipped;
    uint64_t chunks_from_stats; /* aggregations answered from chunk statistics */
} QueryCounters;

/* Opens a series query.  tf NULL = all times; vf may be NULL (nvf 0).
 * -ENOENT for an unknown series. */
int engine_query_open(Engine *e, const char *device, const char *measurement, const TimeFilter *tf,
                      const ValueFilter *vf, size_t nvf, EngineQuery **out);
/* The next batch of points in time order: *n = 0 at the end.  The arrays
 * stay valid until the next call. */
int engine_query_next(EngineQuery *q, const int64_t **times, const void **values, size_t *n);
TsfType engine_query_type(const EngineQuery *q);
void engine_query_counters(const EngineQuery *q, QueryCounters *c);
void engine_query_close(EngineQuery *q);

/* Aggregations over a series and a time filter.  Numeric values are
 * reported as doubles (min/max/first/last exact for INT32, FLOAT, DOUBLE,
 * BOOLEAN; INT64 beyond 2^53 rounds).  A chunk of a closed file that the
 * filter takes whole, that no deletion touches and that no other source
 * overlaps is answered from its statistics without being read. */
typedef struct Aggregates {
    uint64_t count;
    double sum, min, max, first, last, avg;
    int64_t first_time, last_time;
    uint64_t chunks_from_stats; /* chunks answered without reading them */
    uint64_t pages_decoded;     /* pages that had to be read */
} Aggregates;
int engine_aggregate(Engine *e, const char *device, const char *measurement, const TimeFilter *tf,
                     Aggregates *out);

/* Rows of a device: one per timestamp present in any of the series, with
 * each series' value or nothing (the device CSV view). */
typedef struct EngineRows EngineRows;
int engine_rows_open(Engine *e, const char *device, const char *const *measurements, size_t n,
                     const TimeFilter *tf, EngineRows **out);
/* Next row: returns 1 and sets *t and values[i] (pointing at a value of
 * series i's type, or NULL when it has none at *t), 0 at the end, or a
 * negative error.  Pointers stay valid until the next call. */
int engine_rows_next(EngineRows *r, int64_t *t, const void **values);
TsfType engine_rows_type(const EngineRows *r, size_t i);
void engine_rows_close(EngineRows *r);

#endif
