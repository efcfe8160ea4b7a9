/*
 * schema.h: storage groups and series known to the engine, persisted so a
 * restart knows them.
 *
 * Persistence: DATA_DIR/system/schema.log, one text line per change,
 * appended and fsynced before the call returns:
 *     SG <name>
 *     DROP_SG <name>
 *     SERIES <device> <measurement> <TYPE> <ENCODING> <COMPRESSION>
 *     DROP_SERIES <device> <measurement>
 *     TTL <sg> <milliseconds>            (0 = none)
 * A torn last line (no newline) is ignored and cut off at open.  When the
 * log holds many more lines than live entries it is rewritten (temp file,
 * fsync, rename).
 *
 * Names follow IoTDB's rules: a storage group is "root" followed by one or
 * more ".node"; a device is a storage group path followed by one or more
 * ".node"; a measurement is one node; a node is one or more of [A-Za-z0-9_]
 * or bytes >= 0x80 (UTF-8), and is not made of digits only.
 *
 * Threads: all functions are safe to call from any thread (one mutex).
 * Returned pointers stay valid until the entry is dropped or the schema
 * closed; entries are never moved.
 */
#ifndef TSFS_SCHEMA_H
#define TSFS_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "types.h"

typedef struct Schema Schema;

typedef struct SeriesSchema {
    const char *device; /* full path, e.g. root.ln.wf01.wt01 */
    const char *measurement;
    TsfType type;
    TsfEncoding encoding;
    TsfCompression compression;
} SeriesSchema;

bool schema_valid_sg_name(const char *name);
bool schema_valid_node(const char *node, size_t len);
bool schema_valid_device_name(const char *device); /* full path: root.a.b */

/* Opens (creating) DATA_DIR/system/schema.log. */
int schema_open(const char *system_dir, Schema **out);
void schema_close(Schema *s);

/* Storage groups.  add: -EINVAL bad name, -EEXIST exists, or overlaps an
 * existing one (one is a prefix path of the other). drop: -ENOENT. */
int schema_add_sg(Schema *s, const char *sg);
int schema_drop_sg(Schema *s, const char *sg); /* also drops its series */
bool schema_has_sg(Schema *s, const char *sg);
/* The storage group a device belongs to (copied into buf), or -ENOENT. */
int schema_sg_of(Schema *s, const char *device, char *buf, size_t buflen);
/* Lists storage groups: fn(ctx, name) for each, in name order. */
void schema_foreach_sg(Schema *s, void (*fn)(void *ctx, const char *sg), void *ctx);

/* Series.  add: -EINVAL bad name / device outside every storage group /
 * illegal type-encoding pair, -EEXIST when it exists with another type
 * (adding an identical one again returns 0). */
int schema_add_series(Schema *s, const char *device, const char *measurement, TsfType type, TsfEncoding enc,
                      TsfCompression comp);
int schema_drop_series(Schema *s, const char *device, const char *measurement);
/* NULL when unknown. */
const SeriesSchema *schema_get_series(Schema *s, const char *device, const char *measurement);
/* fn(ctx, series) for every series of the device (all devices when device
 * is NULL), in (device, measurement) order. */
void schema_foreach_series(Schema *s, const char *device, void (*fn)(void *ctx, const SeriesSchema *ss),
                           void *ctx);

/* Per storage group TTL in ms (0 = none). */
int schema_set_ttl(Schema *s, const char *sg, int64_t ttl_ms);
int64_t schema_get_ttl(Schema *s, const char *sg);

/* Default encoding of a type when none is given (IoTDB's defaults:
 * BOOLEAN RLE, INT32/INT64/DATE/TIMESTAMP TS_2DIFF, FLOAT/DOUBLE GORILLA,
 * TEXT/STRING/BLOB PLAIN). */
TsfEncoding schema_default_encoding(TsfType t);

#endif
