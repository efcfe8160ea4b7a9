/*
 * writer_int.h: internals shared by writer.c (writing), index_writer.c
 * (the index area at close) and recover.c (rebuilding metadata of an
 * unclosed file).  Not part of the public contract.
 */
#ifndef TSF_WRITER_INT_H
#define TSF_WRITER_INT_H

#include <glib.h>

#include "bytes.h"
#include "encoding.h"
#include "stats.h"
#include "writer.h"

/* One chunk of a series, remembered for the index. */
typedef struct WChunkMeta {
    uint64_t offset; /* of the chunk header marker */
    TsfStats stats;  /* owned */
} WChunkMeta;

/* One series of the file (a measurement of a device, or the time column of
 * an aligned device, named ""). */
typedef struct WSeries {
    char *name; /* owned, NUL-terminated */
    size_t name_len;
    TsfType type;
    uint8_t mask;       /* 0, TSF_MASK_TIME_COLUMN or TSF_MASK_VALUE_COLUMN */
    TsfStats stats;     /* over the whole file */
    WChunkMeta *chunks; /* ascending offsets */
    size_t nchunks, cap;
} WSeries;

typedef struct WDevice {
    char *path; /* owned */
    size_t path_len;
    bool aligned;
    GPtrArray *series;   /* of WSeries*, in creation order */
    GHashTable *by_name; /* name -> WSeries* */
} WDevice;

/* Page being filled and chunk being built, for one column. */
typedef struct ColBuilder {
    WSeries *series; /* where finished chunks are recorded */
    TsfType type;
    TsfEncoding enc;
    TsfCompression comp;
    uint8_t mask; /* chunk header mask bits */
    /* the open page: points present in it */
    int64_t *times;
    uint8_t *values; /* physical form; TsfBin ptr fields hold arena offsets */
    size_t n, cap;
    TsfBuf arena;      /* bytes of binary values of the open page */
    size_t next_check; /* point count at which the page size is measured */
    int64_t last_time; /* last time appended to this chunk */
    bool has_time;
    /* aligned value column: the page's row bitmap */
    uint8_t *bitmap; /* ceil(rows/8) bytes, MSB first */
    size_t bitmap_cap;
    /* the chunk: serialized pages, first page's stats kept aside until a
     * second page shows whether page headers carry statistics */
    TsfBuf pages;
    uint32_t npages;
    uint32_t nonempty_pages;
    size_t first_sizes_end;   /* offset in pages after page 1's size fields */
    bool first_stats_pending; /* page 1's statistics not yet in its header */
    TsfStats first_page_stats;
    TsfStats chunk_stats;
} ColBuilder;

struct TsfWriter {
    int fd;
    char *path;
    TsfWriterOpts o;
    TsfEncodeOpts enc_opts;
    TsfErr err;
    int rc;                 /* sticky error code */
    TsfBuf out;             /* bytes not yet written to fd */
    uint64_t flushed;       /* file offset of out.data[0] */
    GHashTable *devices;    /* path -> WDevice* */
    GPtrArray *device_list; /* WDevice* in creation order */
    uint32_t total_chunks;  /* sizes the bloom filter */
    /* the open group */
    WDevice *dev; /* NULL when no group is open */
    bool aligned;
    ColBuilder *cols;  /* aligned: [0] = time column, then values */
    size_t ncols;      /* including the time column when aligned */
    ColBuilder single; /* non-aligned: the open series */
    bool series_open;
    uint32_t rows_in_page; /* aligned: rows of the open page */
    /* scratch for page encoding */
    TsfBuf tbuf, body, cbuf;
};

/* Device and series registry (writer.c). */
WDevice *tsf_w_device(TsfWriter *w, const char *path, size_t len, bool aligned);
WSeries *tsf_w_series(TsfWriter *w, WDevice *d, const char *name, size_t len, TsfType type, uint8_t mask);
int tsf_w_add_chunk(TsfWriter *w, WSeries *s, uint64_t offset, const TsfStats *st);
int tsf_w_fail(TsfWriter *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
TsfWriter *tsf_w_alloc(const TsfWriterOpts *opts);
void tsf_w_free(TsfWriter *w);

/* index_writer.c: writes the separator, index area, TsFileMetadata and tail
 * into w->out. */
int tsf_w_write_index(TsfWriter *w);

static inline uint64_t tsf_w_pos(const TsfWriter *w)
{
    return w->flushed + w->out.len;
}

#endif
