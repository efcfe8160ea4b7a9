/*
 * lines.h: the text users write into and read out of the mounted files.
 *
 * Sensor files hold one point per line, "time,value" (or a bare "value",
 * stamped by the caller).  Device views (.csv) hold RFC 4180 rows.  This
 * module parses and renders those lines; it knows nothing of FUSE or the
 * engine.  Every function works on (pointer, length) slices so callers can
 * parse a write() buffer in place, without copying a line.
 *
 * Rendering round-trips: parsing what ln_render_* printed gives back the
 * same value bit for bit (doubles and floats print in their shortest exact
 * form, "0.1" not "0.10000000000000001").  Text in sensor files escapes
 * backslash, newline and carriage return as \\ \n \r so a point is always
 * one line; in .csv views text uses RFC 4180 quoting instead.
 *
 * Errors: 0 or -EINVAL; parse functions also set *why to a short static
 * reason ("bad number", "out of range", ...) for the log line.
 */
#ifndef TSFS_LINES_H
#define TSFS_LINES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

/* Longest rendered time or non-text value, with room to spare. */
#define LN_MAX_SCALAR 64

typedef enum LnTimeFormat {
    LN_TIME_MS, /* milliseconds since the epoch, decimal */
    LN_TIME_ISO /* UTC, fixed width: 2026-11-22T10:00:00.000Z */
} LnTimeFormat;

/* A time stamp: decimal milliseconds (optionally negative), or ISO-8601
 * "YYYY-MM-DDTHH:MM:SS[.fraction][Z|+HH:MM|-HH:MM|+HHMM]" (a space may
 * replace the T; without a zone it is UTC; fractions beyond milliseconds
 * are truncated).  Leading/trailing spaces are not accepted. */
int ln_parse_time(const char *s, size_t n, int64_t *ms, const char **why);
/* Prints t; returns the length (no NUL written). */
size_t ln_render_time(int64_t t, LnTimeFormat fmt, char *out);

/* The type IoTDB infers for a first value: a number (integer or decimal,
 * with optional exponent, NaN/Infinity) -> DOUBLE, true/false (any case)
 * -> BOOLEAN, anything else -> TEXT. */
TsfType ln_infer_type(const char *v, size_t n);

/* Byte arena for parsed text values: what it hands out never moves until
 * ln_arena_reset (it grows by chaining blocks).  Zero-initialise. */
typedef struct LnArenaBlock LnArenaBlock;
typedef struct LnArena {
    LnArenaBlock *head; /* newest block first */
    size_t total;       /* bytes handed out since the last reset */
} LnArena;
void ln_arena_reset(LnArena *a); /* keeps the memory */
void ln_arena_free(LnArena *a);

/* Parses one value of a series of type `type` into *out (physical form,
 * types.h: uint8_t, int32_t, int64_t, float, double, or TsfBin).
 *   BOOLEAN    true/false, any case
 *   INT32/INT64 decimal integers in range ("1.0", "1e3" are refused)
 *   FLOAT/DOUBLE decimal or exponent form, NaN, Infinity, -Infinity (also
 *              nan/inf any case); a finite input that overflows is refused
 *   DATE       YYYY-MM-DD, stored as the int32 YYYYMMDD (IoTDB's form)
 *   TIMESTAMP  as ln_parse_time
 *   TEXT/STRING sensor-line text: \\ \n \r unescaped, any other backslash
 *              kept as is; the bytes are copied into `arena` when an escape
 *              is present, else TsfBin points into v (the caller keeps v
 *              alive until the value is used)
 *   BLOB       0x followed by an even number of hex digits (copied to arena)
 * Leading/trailing spaces are not trimmed (the caller trims). */
int ln_parse_value(TsfType type, const char *v, size_t n, void *out, LnArena *arena, const char **why);

/* Renders one value (physical form, as above) as in a sensor file; returns
 * the length.  out needs LN_MAX_SCALAR bytes for non-text types and
 * ln_text_len(...) bytes for TEXT/STRING/BLOB. */
size_t ln_render_value(TsfType type, const void *v, char *out);
/* Rendered length of a value without writing it (same result as
 * ln_render_value's return, cheaper where possible). */
size_t ln_value_len(TsfType type, const void *v);

/* Sensor-file text escaping: length after escaping, and the escaping. */
size_t ln_text_len(const uint8_t *p, size_t n);
size_t ln_text_escape(const uint8_t *p, size_t n, char *out);

/* RFC 4180 cells for .csv views: a cell is quoted when it holds a comma,
 * a double quote, CR or LF, or starts or ends with a space; quotes are
 * doubled.  csv_cell_len is the rendered length. */
size_t ln_csv_cell_len(const uint8_t *p, size_t n);
size_t ln_csv_cell(const uint8_t *p, size_t n, char *out);

/* Finds the end of the first complete CSV record in buf[0..n): returns the
 * length including its line end (LF or CRLF), or 0 when the record is not
 * complete yet (no line end outside quotes). */
size_t ln_csv_record_len(const char *buf, size_t n);

/* Splits one CSV record (without its line end) into cells: cells[i]
 * points into the record or, for quoted cells, into arena (unquoted).
 * Returns the number of cells, or -EINVAL (why set) for a malformed record
 * (text after a closing quote, an unclosed quote) or more than max cells. */
typedef struct LnCell {
    const char *p;
    size_t n;
} LnCell;
int ln_csv_split(const char *rec, size_t n, LnCell *cells, size_t max, LnArena *arena, const char **why);

#endif
