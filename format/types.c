/*
 * types.c: facts about data types, encodings and codecs: validity, physical
 * form, names, and the writer's legality table (spec §5.1.2).
 */
#include "types.h"

#include <strings.h>

bool tsf_type_is_valid(int code)
{
    return (code >= 0 && code <= 6) || (code >= 8 && code <= 11);
}

bool tsf_encoding_is_valid(int code)
{
    switch (code) {
    case 0:
    case 1:
    case 2:
    case 4:
    case 6:
    case 7:
    case 8:
    case 9:
    case 11:
    case 12:
    case 13: return true;
    default: return false;
    }
}

bool tsf_compression_is_valid(int code)
{
    return (code >= 0 && code <= 2) || (code >= 7 && code <= 9);
}

TsfPhys tsf_type_phys(TsfType t)
{
    switch (t) {
    case TSF_BOOLEAN: return TSF_PHYS_BOOL;
    case TSF_INT32:
    case TSF_DATE: return TSF_PHYS_I32;
    case TSF_INT64:
    case TSF_TIMESTAMP: return TSF_PHYS_I64;
    case TSF_FLOAT: return TSF_PHYS_F32;
    case TSF_DOUBLE: return TSF_PHYS_F64;
    case TSF_TEXT:
    case TSF_STRING:
    case TSF_BLOB: return TSF_PHYS_BIN;
    default: return TSF_PHYS_NONE;
    }
}

size_t tsf_type_elem_size(TsfType t)
{
    switch (tsf_type_phys(t)) {
    case TSF_PHYS_BOOL: return 1;
    case TSF_PHYS_I32: return 4;
    case TSF_PHYS_I64: return 8;
    case TSF_PHYS_F32: return 4;
    case TSF_PHYS_F64: return 8;
    case TSF_PHYS_BIN: return sizeof(TsfBin);
    default: return 8; /* VECTOR: times only */
    }
}

bool tsf_encoding_allowed(TsfType t, TsfEncoding e)
{
    switch (t) {
    case TSF_BOOLEAN: return e == TSF_ENC_PLAIN || e == TSF_ENC_RLE;
    case TSF_INT32:
    case TSF_INT64:
    case TSF_TIMESTAMP:
    case TSF_DATE:
        return e == TSF_ENC_PLAIN || e == TSF_ENC_RLE || e == TSF_ENC_TS_2DIFF || e == TSF_ENC_GORILLA ||
               e == TSF_ENC_ZIGZAG || e == TSF_ENC_CHIMP || e == TSF_ENC_SPRINTZ || e == TSF_ENC_RLBE;
    case TSF_FLOAT:
    case TSF_DOUBLE:
        return e == TSF_ENC_PLAIN || e == TSF_ENC_RLE || e == TSF_ENC_TS_2DIFF || e == TSF_ENC_GORILLA_V1 ||
               e == TSF_ENC_GORILLA || e == TSF_ENC_CHIMP || e == TSF_ENC_SPRINTZ || e == TSF_ENC_RLBE;
    case TSF_TEXT:
    case TSF_STRING: return e == TSF_ENC_PLAIN || e == TSF_ENC_DICTIONARY;
    case TSF_BLOB: return e == TSF_ENC_PLAIN;
    case TSF_VECTOR: return e == TSF_ENC_TS_2DIFF;
    }
    return false;
}

static const char *const type_names[12] = {"BOOLEAN", "INT32", "INT64",     "FLOAT", "DOUBLE", "TEXT",
                                           "VECTOR",  NULL,    "TIMESTAMP", "DATE",  "BLOB",   "STRING"};
static const char *const enc_names[14] = {"PLAIN", "DICTIONARY", "RLE",     NULL,      "TS_2DIFF",
                                          NULL,    "GORILLA_V1", "REGULAR", "GORILLA", "ZIGZAG",
                                          NULL,    "CHIMP",      "SPRINTZ", "RLBE"};
static const char *const comp_names[10] = {"UNCOMPRESSED", "SNAPPY", "GZIP", NULL,   NULL,
                                           NULL,           NULL,     "LZ4",  "ZSTD", "LZMA2"};

static const char *name_of(const char *const *names, int n, int code)
{
    return (code >= 0 && code < n && names[code]) ? names[code] : "?";
}

static int code_of(const char *const *names, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (names[i] && strcasecmp(names[i], s) == 0) return i;
    return -1;
}

const char *tsf_type_name(TsfType t)
{
    return name_of(type_names, 12, (int)t);
}
const char *tsf_encoding_name(TsfEncoding e)
{
    return name_of(enc_names, 14, (int)e);
}
const char *tsf_compression_name(TsfCompression c)
{
    return name_of(comp_names, 10, (int)c);
}
int tsf_type_from_name(const char *s)
{
    return code_of(type_names, 12, s);
}
int tsf_encoding_from_name(const char *s)
{
    return code_of(enc_names, 14, s);
}
int tsf_compression_from_name(const char *s)
{
    return code_of(comp_names, 10, s);
}
