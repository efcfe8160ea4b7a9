/*
 * metadata.h: the small records of a TsFile and their byte forms (spec §1–§4).
 *
 *   record            layout (all integers big-endian)                 spec
 *   ---------------   ----------------------------------------------   -----
 *   head              "TsFile" u8 version                              §1.1
 *   chunk group hdr   0x00, device id (v3 VarStr | v4 string array)   §2.1
 *   chunk header      u8 type, VarStr name, uvarint dataSize,          §2.2
 *                     u8 dataType, u8 compression, u8 encoding
 *   page header       uvarint uncompressed, [uvarint compressed,       §2.3
 *                     [statistics]]
 *   plan index        0x04, i64 min, i64 max                          §2.7
 *   index node        uvarint n, n x (key, i64 offset), i64 end, u8    §4.3
 *   tail              i32 metadata size, "TsFile"                      §1.1
 *
 * Parsing functions take a TsfCursor over bytes already in memory and return
 * 0 or TSF_ECORRUPT; strings they return point into the cursor's memory.
 */
#ifndef TSF_METADATA_H
#define TSF_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "bytes.h"
#include "stats.h"
#include "types.h"

#define TSF_MAGIC            "TsFile"
#define TSF_MAGIC_LEN        6
#define TSF_HEAD_LEN         7 /* magic + version byte */
#define TSF_MIN_COMPLETE_LEN 13

/* Top-level markers of the data section (spec §1.2). */
enum {
    TSF_MARK_CHUNK_GROUP = 0x00,
    TSF_MARK_CHUNK = 0x01,
    TSF_MARK_SEPARATOR = 0x02,
    TSF_MARK_PLAN_INDEX = 0x04,
    TSF_MARK_ONE_PAGE_CHUNK = 0x05,
    TSF_MASK_TIME_COLUMN = 0x80,
    TSF_MASK_VALUE_COLUMN = 0x40,
};

/* True for the six chunk header markers. */
static inline bool tsf_is_chunk_marker(uint8_t m)
{
    uint8_t low = m & 0x3f, hi = m & 0xc0;
    return (low == 1 || low == 5) && hi != 0xc0;
}

/* Index node types (spec §4.3.1). */
enum {
    TSF_NODE_INTERNAL_DEVICE = 0,
    TSF_NODE_LEAF_DEVICE = 1,
    TSF_NODE_INTERNAL_MEASUREMENT = 2,
    TSF_NODE_LEAF_MEASUREMENT = 3,
};

typedef struct TsfChunkHeader {
    uint8_t marker;      /* chunk type byte */
    const uint8_t *name; /* measurement id ("" for an aligned time chunk) */
    uint32_t name_len;
    uint32_t data_size; /* bytes of page headers + bodies */
    TsfType type;
    TsfCompression compression;
    TsfEncoding encoding;
    uint32_t header_len; /* bytes of this header */
} TsfChunkHeader;

int tsf_chunk_header_read(TsfCursor *c, TsfChunkHeader *h);
void tsf_chunk_header_write(TsfBuf *b, uint8_t marker, const char *name, size_t name_len, uint32_t data_size,
                            TsfType t, TsfCompression comp, TsfEncoding enc);

/* Does a page of a chunk with this (time) chunk marker carry statistics? */
static inline bool tsf_chunk_pages_have_stats(uint8_t marker)
{
    return (marker & 0x3f) == 1;
}

typedef struct TsfPageHeader {
    uint32_t uncompressed; /* 0: an empty (all-null) aligned value page */
    uint32_t compressed;
    bool has_stats;
    TsfStats stats; /* valid when has_stats */
} TsfPageHeader;

/* Reads a page header of a chunk whose marker says whether stats follow. */
int tsf_page_header_read(TsfCursor *c, TsfType type, bool with_stats, TsfPageHeader *h);

/* Device ids.  v3: one VarStr.  v4: uvarint segment count, VarStr segments
 * (spec §4.4).  In memory a device is always its full path string; v4 ids
 * are joined with '.' on read and split by the §4.4.2 rule on write. */
int tsf_device_id_read(TsfCursor *c, int version, TsfBuf *path_out);
void tsf_device_id_write(TsfBuf *b, int version, const char *path, size_t len);

/* v4 table name of a tree path (its first segment). */
size_t tsf_device_table_len(const char *path, size_t len);

/* Orders of devices and measurements (spec §0.4, §4.4.3): Java String order
 * (UTF-16 code units) for v3 paths and names; segment order for v4 ids. */
int tsf_compare_java(const char *a, size_t alen, const char *b, size_t blen);
int tsf_compare_device(int version, const char *a, size_t alen, const char *b, size_t blen);

#endif
