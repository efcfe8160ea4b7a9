/*
 * wal.h: the write-ahead log of the engine.
 *
 * Every insert is appended here before it is applied to a memtable.  The
 * log is a directory of segment files (wal/<seq>.wal, seq ascending); a
 * segment is only appended to while it is the newest.  Each record is
 *
 *     u32 payload length | u32 CRC-32C of the payload | payload
 *
 * (little-endian header), and a segment starts with the 8-byte magic
 * "TSFSWAL1".  The payload is opaque to this module (the engine defines
 * it).  A torn or corrupt record ends the replay of its segment: everything
 * after it in that segment is discarded (it was never acknowledged: a record
 * is acknowledged only once it is synced, see below), and the segment is
 * truncated at that point when the log is reopened, with a log line naming
 * the segment and the offset.
 *
 * Durability modes:
 *   WAL_SYNC_ALWAYS  wal_append returns a ticket; wal_wait(ticket) returns
 *                    once the record is fsynced.  Concurrent waiters share
 *                    fsyncs (group commit): one waiter writes and syncs
 *                    everything buffered, the others wait for it.
 *   WAL_SYNC_BATCH   a background thread writes and fsyncs buffered records
 *                    at least every batch_ms milliseconds; wal_wait waits
 *                    for nothing.
 *   WAL_SYNC_OFF     records are written when the buffer fills, at rotation
 *                    and at close; never fsynced.
 * wal_sync forces everything appended so far to disk (fsync), whatever the
 * mode.
 *
 * Segments: wal_rotate starts a new segment and returns its number; the
 * engine deletes segments it no longer needs with wal_discard_before.
 *
 * Threads: every function may be called from any thread; the WAL has one
 * mutex (taken after any engine lock, never before).
 */
#ifndef TSFS_WAL_H
#define TSFS_WAL_H

#include <stddef.h>
#include <stdint.h>

typedef enum WalSyncMode { WAL_SYNC_OFF = 0, WAL_SYNC_BATCH = 1, WAL_SYNC_ALWAYS = 2 } WalSyncMode;

typedef struct Wal Wal;

typedef struct WalOptions {
    WalSyncMode mode;
    uint32_t batch_ms;   /* BATCH: longest delay before fsync (default 10) */
    size_t buffer_bytes; /* records buffered before a write(2) (default 1 MiB) */
} WalOptions;

/* Opens (creating if needed) the log in dir.  Existing segments are kept
 * for replay; appends go to a new segment numbered after the last one. */
int wal_open(const char *dir, const WalOptions *opts, Wal **out);

/* Replays every record of every existing segment (oldest first) that was
 * there at open, calling fn(ctx, segment, payload, len) for each.  A
 * non-zero return of fn stops the replay and is returned.  Torn tails are
 * skipped (and truncated away).  A file whose magic is wrong and is not
 * followed by an intact record is no segment: it is reported, left in place
 * (never discarded), the replay goes on with the next segment, and
 * TSF_ECORRUPT is returned at the end.  A damaged magic followed by intact
 * records is replayed.  Call before the first append. */
typedef int (*WalReplayFn)(void *ctx, uint64_t segment, const uint8_t *payload, size_t len);
int wal_replay(Wal *w, WalReplayFn fn, void *ctx);

/* Walks a segment held in memory (n bytes, magic included) as wal_replay
 * walks a segment file, calling fn(ctx, segment, ...) for every intact
 * record, without logging or writing anything.  *intact receives the length
 * replay would keep (the rest is a torn or corrupt tail).  Returns 0,
 * TSF_ECORRUPT when the bytes are no segment, or fn's non-zero return. */
int wal_scan_image(const uint8_t *p, size_t n, uint64_t segment, WalReplayFn fn, void *ctx, size_t *intact);

/* Appends one record; *ticket (may be NULL) identifies it for wal_wait and
 * *segment (may be NULL) receives the segment it went to.  Returns 0 or a
 * negative errno (a failed write or fsync is sticky: every later call
 * returns it).  A full disk is not sticky: -ENOSPC (or -EDQUOT) is returned
 * and nothing appended while the records already buffered cannot be
 * written; they are kept, in order, and written once there is room. */
int wal_append(Wal *w, const void *payload, size_t len, uint64_t *ticket, uint64_t *segment);

/* ALWAYS mode: blocks until the record of ticket is on disk.  Other modes:
 * returns at once.  Returns 0 or the sticky error, or -ENOSPC (-EDQUOT)
 * when the disk is full (the record stays buffered and may still reach the
 * log later). */
int wal_wait(Wal *w, uint64_t ticket);

/* Writes and fsyncs everything appended so far. */
int wal_sync(Wal *w);

/* Starts a new segment (after syncing the current one) and returns its
 * number in *segment. */
int wal_rotate(Wal *w, uint64_t *segment);

/* The segment appends currently go to. */
uint64_t wal_current_segment(Wal *w);

/* Deletes every segment numbered below `segment` (never the current one). */
int wal_discard_before(Wal *w, uint64_t segment);

/* Counters for statistics and tests. */
typedef struct WalStats {
    uint64_t records;  /* appended since open */
    uint64_t bytes;    /* appended since open */
    uint64_t syncs;    /* fsync calls */
    uint64_t segments; /* segment files on disk now */
} WalStats;
void wal_get_stats(Wal *w, WalStats *st);

/* Syncs (unless mode OFF: writes) and closes.  Returns the sticky error. */
int wal_close(Wal *w);

#endif
