/*
 * resource.h: IoTDB's `.tsfile.resource` companion file (spec §9.4): the
 * start and end time of every device in a TsFile, so queries and routing can
 * skip the file without opening it.
 *
 *   u8  version (1)         u8 time index type (1 = device time index)
 *   i32 device count D      D x (i64 start, i64 end)        (by slot)
 *   D x (I32Str device, i32 slot)
 *   i64 maxPlanIndex        i64 minPlanIndex
 *   I32Str modFileName      (ff ff ff ff = none)
 *   u8  0                   (empty block list)
 * All integers big-endian.  Written to <file>.resource.temp, fsynced, then
 * renamed over <file>.resource, so a crash leaves the old file or the new.
 */
#ifndef TSFS_RESOURCE_H
#define TSFS_RESOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ResDevice {
    char *device; /* owned */
    int64_t start;
    int64_t end;
} ResDevice;

typedef struct Resource {
    ResDevice *dev; /* sorted by device name (strcmp) for bsearch */
    size_t n, cap;
    int64_t min_plan; /* INT64_MAX when unknown */
    int64_t max_plan; /* INT64_MIN when unknown */
} Resource;

void resource_init(Resource *r);
void resource_free(Resource *r);

/* Widens the device's [start, end] to include [start, end]. */
int resource_update(Resource *r, const char *device, int64_t start, int64_t end);
/* The device's entry, or NULL. */
const ResDevice *resource_find(const Resource *r, const char *device);
/* Smallest start / largest end over all devices (INT64_MAX/INT64_MIN if none). */
int64_t resource_min_time(const Resource *r);
int64_t resource_max_time(const Resource *r);

/* Writes tsfile_path + ".resource" atomically (temp, fsync, rename, fsync dir). */
int resource_write(const Resource *r, const char *tsfile_path);
/* The bytes resource_write writes, in *out (malloc'ed, free it) and *len. */
int resource_serialize(const Resource *r, uint8_t **out, size_t *len);
/* Reads tsfile_path + ".resource".  -ENOENT when missing, TSF_ECORRUPT when malformed. */
int resource_read(Resource *r, const char *tsfile_path);
/* Parses the bytes of a .resource file held in memory into r (emptied
 * first): 0, TSF_ECORRUPT or -ENOMEM; on failure r is left empty.
 * resource_read reads through it. */
int resource_parse(Resource *r, const uint8_t *p, size_t n);
/* Rebuilds the resource of a complete TsFile from its index (device time
 * ranges from the series statistics). */
int resource_rebuild(Resource *r, const char *tsfile_path);
/* The same from a reader open on the file (its whole index is walked, so a
 * damaged index fails here: TSF_ECORRUPT). */
struct TsfReader;
int resource_from_index(Resource *r, struct TsfReader *rd);
/* Does r cover file (each device of file present in r, with a range that
 * holds file's)?  When not, *device (may be NULL) names the first device
 * that is missing or wider.  A .resource that does not cover its TsFile's
 * index would hide data from queries. */
bool resource_covers(const Resource *r, const Resource *file, const char **device);

#endif
