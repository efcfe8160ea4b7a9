/*
 * types.h: the enumerations of the TsFile format and the in-memory value forms.
 *
 * Codes are the bytes stored in files (spec §7), so the enums must keep these
 * exact values.  Values travel through the library as plain C arrays of their
 * "physical" form:
 *
 *   BOOLEAN              uint8_t (0 or 1)
 *   INT32, DATE          int32_t
 *   INT64, TIMESTAMP     int64_t
 *   FLOAT                float
 *   DOUBLE               double
 *   TEXT, STRING, BLOB   TsfBin (pointer + length; who owns the bytes is said
 *                        by the function handing them out)
 */
#ifndef TSF_TYPES_H
#define TSF_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum TsfType {
    TSF_BOOLEAN = 0,
    TSF_INT32 = 1,
    TSF_INT64 = 2,
    TSF_FLOAT = 3,
    TSF_DOUBLE = 4,
    TSF_TEXT = 5,
    TSF_VECTOR = 6, /* only the time column of an aligned device */
    TSF_TIMESTAMP = 8,
    TSF_DATE = 9,
    TSF_BLOB = 10,
    TSF_STRING = 11,
} TsfType;

typedef enum TsfEncoding {
    TSF_ENC_PLAIN = 0,
    TSF_ENC_DICTIONARY = 1,
    TSF_ENC_RLE = 2,
    TSF_ENC_TS_2DIFF = 4,
    TSF_ENC_GORILLA_V1 = 6,
    TSF_ENC_REGULAR = 7,
    TSF_ENC_GORILLA = 8,
    TSF_ENC_ZIGZAG = 9,
    TSF_ENC_CHIMP = 11,
    TSF_ENC_SPRINTZ = 12,
    TSF_ENC_RLBE = 13,
} TsfEncoding;

typedef enum TsfCompression {
    TSF_COMP_UNCOMPRESSED = 0,
    TSF_COMP_SNAPPY = 1,
    TSF_COMP_GZIP = 2,
    TSF_COMP_LZ4 = 7,
    TSF_COMP_ZSTD = 8,
    TSF_COMP_LZMA2 = 9,
} TsfCompression;

/* Physical representation classes (see the table above). */
typedef enum TsfPhys {
    TSF_PHYS_BOOL,
    TSF_PHYS_I32,
    TSF_PHYS_I64,
    TSF_PHYS_F32,
    TSF_PHYS_F64,
    TSF_PHYS_BIN,
    TSF_PHYS_NONE, /* VECTOR */
} TsfPhys;

/* A byte string value. */
typedef struct TsfBin {
    const uint8_t *ptr;
    uint32_t len;
} TsfBin;

/* Default float precision of RLE/TS_2DIFF on FLOAT/DOUBLE (spec §5.5.5). */
#define TSF_DEFAULT_FLOAT_PRECISION 2

/* Returns true for a data type code this library knows (0-6, 8-11). */
bool tsf_type_is_valid(int code);
bool tsf_encoding_is_valid(int code);
bool tsf_compression_is_valid(int code);

/* Physical class of a type; TSF_PHYS_NONE for VECTOR or unknown codes. */
TsfPhys tsf_type_phys(TsfType t);

/* Size in bytes of one element of the physical array of type t. */
size_t tsf_type_elem_size(TsfType t);

/* Writer legality table (spec §5.1.2): may a file be written with this pair? */
bool tsf_encoding_allowed(TsfType t, TsfEncoding e);

/* Upper-case names as the reference prints them ("INT64", "TS_2DIFF", "LZ4");
 * "UNKNOWN(n)"-style static text is never returned: unknown codes give "?". */
const char *tsf_type_name(TsfType t);
const char *tsf_encoding_name(TsfEncoding e);
const char *tsf_compression_name(TsfCompression c);

/* Parse those names (case-insensitive); return -1 when unknown. */
int tsf_type_from_name(const char *s);
int tsf_encoding_from_name(const char *s);
int tsf_compression_from_name(const char *s);

#endif
