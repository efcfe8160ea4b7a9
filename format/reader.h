/*
 * reader.h: reading TsFiles of format versions 3 and 4, at three levels.
 *
 *  1. Metadata: open checks head, version and tail and parses TsFileMetadata
 *     (spec §1.3, §4.6); tsf_reader_foreach_series walks the whole index;
 *     tsf_reader_find_series finds one series through the bloom filter and
 *     the index tree, reading only the nodes on its path (spec §4.3.5).
 *  2. Chunks and pages: tsf_chunk_open reads a chunk at an offset taken from
 *     the metadata; tsf_chunk_next_page walks its page headers (with their
 *     statistics when the chunk has several pages) without decompressing,
 *     so a caller can skip pages by time range or statistics.
 *  3. Decoding: tsf_page_decode (non-aligned), tsf_time_page_decode and
 *     tsf_value_page_decode (aligned) turn one page into columns.
 *
 * Files are read with pread into buffers the reader owns; corrupt input of
 * any kind yields TSF_ECORRUPT (or another negative code) and a TsfErr that
 * names the fault and its offset; nothing is read out of bounds and every
 * walk is bounded.
 *
 * Threads: a TsfReader may be shared by threads for tsf_chunk_open and
 * decoding (pread is positional); the metadata walks use per-reader scratch
 * and need one thread at a time.
 */
#ifndef TSF_READER_H
#define TSF_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "metadata.h"
#include "stats.h"
#include "tsf_error.h"
#include "types.h"

typedef struct TsfReader TsfReader;

/* Opens a complete file.  On failure returns a negative code, *out is NULL
 * and err (if not NULL) says what and where.  TSF_EINCOMPLETE: no tail magic
 * (a file that was never closed). */
int tsf_reader_open(const char *path, TsfReader **out, TsfErr *err);
void tsf_reader_close(TsfReader *r);

/* Opens only the data section of a file that may have no index (being
 * written, or never closed): head and version are checked; chunks can be
 * read at known offsets and the data section scanned (data_scan.h). */
int tsf_reader_open_data(const char *path, TsfReader **out, TsfErr *err);

/* Reads exactly len bytes at off (bounded by the file size). */
int tsf_reader_pread(TsfReader *r, uint64_t off, size_t len, void *dst);

/* Records an error on the reader (first one wins); returns code. */
int tsf_reader_fail(TsfReader *r, int code, uint64_t off, const char *msg);

int tsf_reader_version(const TsfReader *r);
uint64_t tsf_reader_file_size(const TsfReader *r);
uint64_t tsf_reader_meta_offset(const TsfReader *r); /* the separator */
const TsfErr *tsf_reader_err(const TsfReader *r);
/* Forgets the recorded error, so the next one is recorded (a checker going
 * on after a fault). */
void tsf_reader_clear_err(TsfReader *r);

typedef struct TsfChunkMeta {
    uint64_t offset; /* of the chunk header */
    TsfStats stats;  /* the series' statistics when it has one chunk */
} TsfChunkMeta;

/* One TimeseriesMetadata.  Strings are not NUL-terminated. */
typedef struct TsfSeriesMeta {
    const char *device;
    size_t device_len;
    const char *name; /* "" for the time column of an aligned device */
    size_t name_len;
    TsfType type; /* VECTOR for an aligned time column */
    uint8_t mask; /* 0, TSF_MASK_TIME_COLUMN or TSF_MASK_VALUE_COLUMN */
    TsfStats stats;
    size_t nchunks;
    TsfChunkMeta *chunks;
    TsfBuf own; /* backing bytes when the struct owns them */
} TsfSeriesMeta;

/* Visits every series of the file, device by device in index order.  The
 * struct and its strings are valid during the call only (copy with
 * tsf_series_meta_copy).  A non-zero return of fn stops the walk and is
 * returned. */
typedef int (*TsfSeriesFn)(void *ctx, const TsfSeriesMeta *sm);
int tsf_reader_foreach_series(TsfReader *r, TsfSeriesFn fn, void *ctx);

/* Finds device.measurement (measurement "" = the aligned time column).
 * Fills *out (free with tsf_series_meta_free) or returns TSF_ENOTFOUND. */
int tsf_reader_find_series(TsfReader *r, const char *device, const char *measurement, TsfSeriesMeta *out);

/* Deep copy (dst owns its bytes); free with tsf_series_meta_free. */
int tsf_series_meta_copy(TsfSeriesMeta *dst, const TsfSeriesMeta *src);
void tsf_series_meta_free(TsfSeriesMeta *sm);

/* ---- chunks and pages ---------------------------------------------------- */

typedef struct TsfChunk {
    TsfReader *r;
    uint64_t offset;  /* of the header */
    TsfChunkHeader h; /* name points into hdr */
    uint8_t *data;    /* h.data_size bytes: page headers and bodies */
    size_t pos;       /* next page header within data */
    uint32_t page_no; /* pages returned so far */
    bool pages_have_stats;
    TsfBuf hdr; /* header bytes (owns h.name) */
} TsfChunk;

typedef struct TsfPage {
    uint64_t offset;     /* of the page header in the file */
    TsfPageHeader h;     /* stats valid when h.has_stats */
    const uint8_t *body; /* h.compressed bytes inside the chunk's data */
} TsfPage;

/* Reads the chunk header and its pages' bytes at offset. */
int tsf_chunk_open(TsfReader *r, uint64_t offset, TsfChunk *c);
/* For aligned value chunks: whether page headers carry statistics is
 * decided by the time chunk's marker (spec §2.3). */
void tsf_chunk_set_pages_have_stats(TsfChunk *c, bool yes);
/* Next page: returns 1 and fills *p, 0 at the end, or a negative error. */
int tsf_chunk_next_page(TsfChunk *c, TsfPage *p);
void tsf_chunk_close(TsfChunk *c);

/* Decoded columns of one page; buffers are reused across decodes. */
typedef struct TsfColumn {
    size_t n;        /* values (non-aligned: points; aligned value: non-null) */
    size_t rows;     /* aligned value pages: rows of the page */
    int64_t *times;  /* n times (aligned value pages: times of present rows
                      * when tsf_value_page_decode was given times) */
    void *values;    /* n values, physical form; TsfBin point into raw */
    uint8_t *bitmap; /* aligned value pages: row bitmap, MSB first, 1 = present */
    size_t cap, bitmap_cap;
    size_t value_bytes; /* allocated for values */
    TsfBuf raw;         /* decompressed body */
} TsfColumn;

void tsf_column_free(TsfColumn *col);

/* Non-aligned page: timestamps and values. */
int tsf_page_decode(TsfChunk *c, const TsfPage *p, TsfColumn *out);
/* Aligned time page: timestamps only. */
int tsf_time_page_decode(TsfChunk *c, const TsfPage *p, TsfColumn *out);
/* Aligned value page of `rows` rows whose timestamps are row_times: the
 * present values and their times (an empty page gives n = 0). */
int tsf_value_page_decode(TsfChunk *c, const TsfPage *p, const int64_t *row_times, size_t rows,
                          TsfColumn *out);

#endif
