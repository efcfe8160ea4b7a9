/*
 * stats.h: page/chunk/series statistics (spec §3).
 *
 * Serialized form: uvarint count, i64 startTime, i64 endTime, then a part
 * that depends on the data type (table in spec §3.2; sums of INT64 and FLOAT
 * are doubles, of INT32 an i64; BOOLEAN keeps first/last/sum-of-trues; TEXT
 * first/last; STRING first/last/min/max; BLOB and VECTOR nothing more).
 *
 * Binary fields (first/last/min/max of TEXT/STRING) either point into memory
 * owned by someone else (statistics parsed from a file buffer: `owned` is
 * false) or into `store`, a buffer the statistics own (statistics built by a
 * writer).  tsf_stats_free releases `store`; it is safe on both kinds.
 */
#ifndef TSF_STATS_H
#define TSF_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "types.h"

typedef struct TsfStats {
    TsfType type;   /* data type (VECTOR for an aligned time column) */
    uint32_t count; /* points (non-null) */
    int64_t start;  /* smallest time; INT64_MAX when count == 0 */
    int64_t end;    /* largest time; INT64_MIN when count == 0 */
    union {
        struct {
            uint8_t first, last;
            int64_t sum;
        } b; /* BOOLEAN */
        struct {
            int32_t min, max, first, last;
            int64_t sum;
        } i32; /* INT32, DATE */
        struct {
            int64_t min, max, first, last;
            double sum;
        } i64; /* INT64, TIMESTAMP */
        struct {
            float min, max, first, last;
            double sum;
        } f32; /* FLOAT */
        struct {
            double min, max, first, last, sum;
        } f64; /* DOUBLE */
        struct {
            TsfBin first, last, min, max;
        } bin; /* TEXT, STRING */
    } v;
    bool owned;   /* bin fields point into store */
    TsfBuf store; /* owned copies of bin fields when owned */
} TsfStats;

/* Empty statistics of a type (count 0, spec §3.4). */
void tsf_stats_init(TsfStats *s, TsfType type);
void tsf_stats_free(TsfStats *s);

/* Adds n points (times ascending, values in the physical form of s->type)
 * to s.  For BIN types the bytes are copied into s->store.  VECTOR: values
 * is ignored.  Returns 0 or -ENOMEM. */
int tsf_stats_add(TsfStats *s, const int64_t *times, const void *values, size_t n);

/* Merges src into dst (spec §3.5); both of the same type. Copies bin bytes. */
int tsf_stats_merge(TsfStats *dst, const TsfStats *src);

/* Deep copy into dst (dst must be uninitialized or freed). */
int tsf_stats_copy(TsfStats *dst, const TsfStats *src);

/* Appends the serialized form to out. */
void tsf_stats_write(const TsfStats *s, TsfBuf *out);

/* Parses statistics of `type` from c; bin fields point into the cursor's
 * memory (owned = false).  Returns 0 or TSF_ECORRUPT (cursor error). */
int tsf_stats_read(TsfCursor *c, TsfType type, TsfStats *s);

/* Size in bytes of the serialized form. */
size_t tsf_stats_size(const TsfStats *s);

#endif
