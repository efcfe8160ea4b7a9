/*
 * mods.h: IoTDB's `.tsfile.mods` modification file (spec §9.5): the
 * deletions that apply to one TsFile, as text lines
 *
 *     DELETION,<path>,<fileOffset>,<startTime>,<endTime>\n
 *
 * <path> is a series path (device.measurement) or a pattern ending in
 * ".*" / ".**" (every series of a device); it may contain commas, so a
 * reader takes the last three fields as numbers.  A deletion applies to
 * the chunks of the file whose header offset is below <fileOffset> (data
 * written after the deletion is not affected), for times in
 * [startTime, endTime] inclusive.  The legacy 4-field form
 * DELETION,<path>,<version>,<endTime> means startTime = INT64_MIN.
 *
 * Lines are appended and fsynced; a torn last line (no newline) left by a
 * crash is cut off when the file is loaded.
 */
#ifndef TSFS_MODS_H
#define TSFS_MODS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Deletion {
    char *path;          /* owned: "root.sg.d1.s1", or "root.sg.d1.*" / "root.sg.d1.**" */
    int64_t file_offset; /* chunks whose offset is below this are affected */
    int64_t start, end;  /* inclusive */
} Deletion;

typedef struct Mods {
    Deletion *d;
    size_t n, cap;
} Mods;

void mods_init(Mods *m);
void mods_free(Mods *m);

/* Loads tsfile_path + ".mods" (an absent file is an empty list).  A torn
 * last line is truncated away on disk.  Malformed complete lines are
 * skipped with a log line naming the file and line number. */
int mods_load(Mods *m, const char *tsfile_path);

/* Parses the text of a .mods file held in memory and appends its records
 * to m: complete lines only (a last line without '\n' is ignored), a
 * malformed line skipped with a log line naming `name` and the line.
 * Returns 0 or -ENOMEM (m is then as before).  mods_load reads through it. */
int mods_parse(Mods *m, const char *name, const char *text, size_t len);

/* Appends one deletion to tsfile_path + ".mods" (creating it; fsync of the
 * file, and of the directory when created) and to m (m may be NULL). */
int mods_append(Mods *m, const char *tsfile_path, const char *path, int64_t file_offset, int64_t start,
                int64_t end);

/* Does deletion d cover series device.measurement? (exact path, or a
 * device pattern "device.*" / "device.**"). */
bool mods_matches(const Deletion *d, const char *device, const char *measurement);

/* Removes from (times, values) the points that the deletions of m delete
 * for the series device.measurement in a chunk at chunk_offset; compacts the
 * arrays in place (values of elem_size bytes) and returns the new count. */
size_t mods_apply(const Mods *m, const char *device, const char *measurement, uint64_t chunk_offset,
                  int64_t *times, void *values, size_t elem_size, size_t n);

/* True when some deletion of m covers all of [start, end] for the series at
 * chunk_offset (the whole chunk or page can be skipped). */
bool mods_cover(const Mods *m, const char *device, const char *measurement, uint64_t chunk_offset,
                int64_t start, int64_t end);

#endif
