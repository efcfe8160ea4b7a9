/*
 * data_scan.h: sequential walk over the data section of a TsFile, record by
 * record (chunk group headers, chunk headers, plan-index records, the
 * separator), without the index.  Used for recovery of unclosed files
 * (spec §8.2) and by `tsfile sketch`.
 */
#ifndef TSF_DATA_SCAN_H
#define TSF_DATA_SCAN_H

#include "reader.h"

typedef enum TsfRecordKind {
    TSF_REC_CHUNK_GROUP,
    TSF_REC_CHUNK,
    TSF_REC_PLAN_INDEX,
    TSF_REC_SEPARATOR,
} TsfRecordKind;

typedef struct TsfRecord {
    TsfRecordKind kind;
    uint64_t offset;      /* of the marker */
    uint64_t next;        /* offset after the whole record (chunk: after its pages) */
    TsfBuf device;        /* CHUNK_GROUP: device path (NUL-terminated) */
    TsfChunkHeader chunk; /* CHUNK: header; name points into name */
    TsfBuf name;          /* CHUNK: measurement name (NUL-terminated) */
    int64_t plan_min, plan_max;
} TsfRecord;

/* Reads the record at *pos.  Returns 1 and advances *pos, 0 at the end of
 * the file, or a negative error (bytes that are not a valid record, or a
 * record cut by the end of the file) with the detail in the reader. */
int tsf_data_next(TsfReader *r, uint64_t *pos, TsfRecord *rec);
void tsf_record_free(TsfRecord *rec);

#endif
