/*
 * wal.c: the write-ahead log (contract in wal.h).
 *
 * On disk.  DIR/%016llu.wal (zero-padded, so name order = number order).
 * Each segment is
 *
 *     offset  size  what
 *     0       8     magic "TSFSWAL1"
 *     8       ...   records: u32 len (LE) | u32 CRC-32C(payload) (LE) | payload
 *
 * A record's len is 1 .. 256 MiB; 0 is refused by wal_append and treated as
 * corrupt by replay, so a zero-filled tail (file size grew, data blocks did
 * not reach the disk) never parses as records.  Creating a segment writes
 * the magic, fdatasyncs the file and fsyncs the directory, so a segment that
 * exists after a crash always has its magic; a full 8-byte magic that does
 * not match is therefore reported (TSF_ECORRUPT) rather than truncated away,
 * unless an intact record follows it (CRC-checked: the magic was damaged,
 * the records are ours and are replayed).  A shorter file is a creation
 * that never completed: it is emptied.  Replay walks a segment through a
 * read window (replay_fill); wal_scan_image runs the same walk over bytes
 * in memory (a window that already holds everything).
 * The directory is flock()ed while open, so two Wal handles (or two
 * processes) never append to the same log.
 *
 * In memory.  Appends compute the CRC outside the lock, then copy header and
 * payload into `active` under the mutex: no syscall per record.  Tickets are
 * record numbers (1, 2, ...) counted since open.  I/O is done by a "leader":
 * whoever needs it (an appender whose buffer passed buffer_bytes, a
 * wal_wait/wal_sync caller, the BATCH thread, rotate, close) and finds no
 * other I/O running sets io_busy, swaps `active` with the empty `spare`
 * (double buffering), drops the mutex, does write(2) [+ fdatasync], then
 * retakes the mutex, publishes written/synced and broadcasts `cond`.  While
 * it is outside the lock, appenders keep filling the other buffer and
 * waiters queue on `cond`; the next leader takes everything that piled up,
 * so concurrent waiters share one fsync (group commit).  Invariants, under
 * the mutex:
 *     synced <= written <= appended
 *     records (written, appended] are exactly the bytes of `active`
 *     io_busy  <=>  one thread owns fd and the swapped-out buffer
 * Memory stays bounded: an appender that finds active >= 2 * buffer_bytes
 * while a leader is busy waits for it and then writes itself.
 *
 * fdatasync is used for records: it flushes the data and the file size,
 * which is all that replay needs.  stats.syncs counts these record syncs
 * (leader rounds and rotation), not the one-off syncs of segment creation;
 * stats.bytes counts record bytes including the 8-byte headers.
 *
 * Rotation and close raise `barrier` (appenders wait), drain everything to
 * disk, and then own the I/O (io_busy) while they switch or close files, so
 * a record's segment (reported by wal_append) is the file it lands in.
 *
 * Errors: a failed write/fsync/segment switch is stored in `err`; every call
 * returns it from then on and every waiter is woken with it.  Argument
 * errors (-EINVAL) and -ENOMEM of an append are not sticky: nothing changed.
 * A full disk (ENOSPC, EDQUOT from write(2) or from creating a segment) is
 * not sticky either: the round's bytes are cut off again (ftruncate), its
 * records stay buffered in order, and `full` holds the error.  Meanwhile a
 * waiter whose record is not written gets the error after one round of its
 * own, and an append is refused (nothing taken) unless the buffered records
 * can be written first; the first round that succeeds clears `full`.  A
 * failed fdatasync stays sticky (what reached the disk is unknown).
 *
 * Lock order: the WAL mutex is the innermost lock; replay callbacks run
 * without it.
 */
#include "wal.h"

#include "fileio.h"

#include "crc32c.h"
#include "tsf_error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define WAL_MAGIC            "TSFSWAL1"
#define WAL_MAGIC_LEN        8
#define WAL_HDR              8
#define WAL_MAX_PAYLOAD      (256u << 20)
#define WAL_NAME_LEN         20 /* 16 digits + ".wal" */
#define WAL_READ_CHUNK       (4u << 20)
#define WAL_DEFAULT_BATCH_MS 10
#define WAL_DEFAULT_BUFFER   (1u << 20)

typedef struct WalBuf {
    uint8_t *data; /* owned; NULL when cap == 0 */
    size_t len;    /* bytes of records */
    size_t cap;    /* allocated bytes */
} WalBuf;

struct Wal {
    /* configuration, fixed after open */
    WalSyncMode mode;    /* durability mode */
    uint32_t batch_ms;   /* BATCH: sync period */
    size_t buffer_bytes; /* write(2) once active passes this */
    int dirfd;           /* the log directory (flock()ed) */
    char *dir;           /* its path, for log lines */
    uint64_t open_seg;   /* segment created by open: older ones are replayed */

    /* state, protected by mu */
    pthread_mutex_t mu;
    pthread_cond_t cond;       /* io_busy cleared, barrier lowered, err set */
    pthread_cond_t batch_cond; /* wakes the BATCH thread for close */
    int fd;                    /* current segment; used only by the io_busy owner */
    uint64_t cur_seg;          /* number of the current segment */
    WalBuf active;             /* records (written, appended] */
    WalBuf spare;              /* empty second buffer (absent while io_busy) */
    uint64_t appended;         /* ticket of the last appended record */
    uint64_t written;          /* records <= written have been write(2)n */
    uint64_t synced;           /* records <= synced are on disk */
    bool io_busy;              /* a leader is doing I/O outside the lock */
    int barrier;               /* rotations/close in progress: appends wait */
    int err;                   /* sticky error, 0 when healthy */
    int full;                  /* -ENOSPC/-EDQUOT of the last round; its records are kept in active */
    bool stop;                 /* BATCH thread: exit */
    bool has_thread;           /* BATCH thread was started */
    pthread_t thread;          /* the BATCH thread */
    uint64_t *segs;            /* segment numbers on disk, ascending */
    size_t nsegs;              /* entries of segs */
    size_t segcap;             /* allocated entries of segs */
    WalStats stats;            /* records, bytes, syncs (segments = nsegs) */
};

/* ---- small helpers ---------------------------------------------------- */

static void put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void seg_name(char name[WAL_NAME_LEN + 1], uint64_t seg)
{
    snprintf(name, WAL_NAME_LEN + 1, "%016llu.wal", (unsigned long long)seg);
}

/* Parses "NNNNNNNNNNNNNNNN.wal"; false for any other name. */
static bool seg_parse(const char *name, uint64_t *seg)
{
    if (strlen(name) != WAL_NAME_LEN || strcmp(name + 16, ".wal") != 0) return false;
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        v = v * 10 + (uint64_t)(name[i] - '0'); /* 16 digits cannot overflow */
    }
    *seg = v;
    return true;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int segs_push(Wal *w, uint64_t seg)
{
    if (w->nsegs == w->segcap) {
        size_t ncap = w->segcap ? w->segcap * 2 : 16;
        uint64_t *n = realloc(w->segs, ncap * sizeof(*n));
        if (!n) return -ENOMEM;
        w->segs = n;
        w->segcap = ncap;
    }
    w->segs[w->nsegs++] = seg;
    return 0;
}

/* Makes room for `need` more bytes.  Grows by doubling. */
static int buf_reserve(WalBuf *b, size_t need, size_t base)
{
    if (b->cap - b->len >= need) return 0;
    size_t ncap = b->cap ? b->cap : base + 4096;
    while (ncap - b->len < need) {
        if (ncap > SIZE_MAX / 2) return -ENOMEM;
        ncap *= 2;
    }
    uint8_t *n = realloc(b->data, ncap);
    if (!n) return -ENOMEM;
    b->data = n;
    b->cap = ncap;
    return 0;
}

/* Creates segment `seg`: magic, fdatasync, directory fsync. */
static int segment_create(int dirfd, uint64_t seg, int *out_fd)
{
    char name[WAL_NAME_LEN + 1];
    seg_name(name, seg);
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return -errno;
    int rc = fileio_write_all(fd, (const uint8_t *)WAL_MAGIC, WAL_MAGIC_LEN);
    if (rc == 0 && fdatasync(fd) != 0) rc = -errno;
    /* The directory entry must be durable before any record acked in it. */
    if (rc == 0 && fsync(dirfd) != 0) rc = -errno;
    if (rc != 0) {
        close(fd);
        unlinkat(dirfd, name, 0);
        return rc;
    }
    *out_fd = fd;
    return 0;
}

/* ---- the leader protocol ---------------------------------------------- */

static void set_err_locked(Wal *w, int rc)
{
    if (w->err == 0) w->err = rc;
    pthread_cond_broadcast(&w->cond);
}

static bool disk_full(int rc)
{
    return rc == -ENOSPC || rc == -EDQUOT;
}

/*
 * One I/O round.  Called with mu held, io_busy false, err 0.  Takes every
 * buffered record, writes it (and syncs if `sync`) outside the lock.
 * A write(2) that finds the disk full is undone (the segment cut back to
 * where the round began) and its records go back in front of `active`, to
 * be written by a later round: `full` says so until a round succeeds.
 */
static void lead_round(Wal *w, bool sync)
{
    WalBuf out = w->active;
    w->active = w->spare;
    w->active.len = 0;
    w->spare = (WalBuf){0};
    uint64_t last = w->appended;
    int fd = w->fd;
    w->io_busy = true;
    pthread_mutex_unlock(&w->mu);

    int rc = 0;
    bool created = false, keep = false;
    if (fd < 0) {
        /* opened on a full disk: the segment is made by the first round with room */
        rc = segment_create(w->dirfd, w->cur_seg, &fd);
        created = rc == 0;
        keep = disk_full(rc);
    }
    if (rc == 0) {
        off_t before = lseek(fd, 0, SEEK_CUR);
        rc = fileio_write_all(fd, out.data, out.len);
        keep = disk_full(rc) && before >= 0 && ftruncate(fd, before) == 0 &&
               lseek(fd, before, SEEK_SET) == before;
    }
    if (rc == 0 && sync && fdatasync(fd) != 0) rc = -errno;

    pthread_mutex_lock(&w->mu);
    if (created) w->fd = fd;
    if (keep && buf_reserve(&out, w->active.len, w->buffer_bytes) == 0) {
        /* the round's records, then those appended meanwhile */
        memcpy(out.data + out.len, w->active.data, w->active.len);
        out.len += w->active.len;
        WalBuf appended_meanwhile = w->active;
        w->active = out;
        out = appended_meanwhile;
    } else {
        keep = false;
    }
    out.len = 0;
    if (out.cap > 4 * w->buffer_bytes + 8192) { /* after a huge record */
        free(out.data);
        out = (WalBuf){0};
    }
    w->spare = out;
    w->io_busy = false;
    if (keep) {
        w->full = rc;
        pthread_cond_broadcast(&w->cond);
        return;
    }
    if (rc != 0) {
        set_err_locked(w, rc);
        return;
    }
    w->full = 0;
    w->written = last;
    if (sync) {
        w->synced = last;
        w->stats.syncs++;
    }
    pthread_cond_broadcast(&w->cond);
}

/*
 * Returns once records <= target are written (sync: synced), leading I/O
 * rounds as needed.  Called and returns with mu held.  While the disk is
 * full a caller leads at most one round of its own, then returns -ENOSPC
 * (its records stay buffered for later rounds).
 */
static int flush_locked(Wal *w, bool sync, uint64_t target)
{
    if (target > w->appended) target = w->appended; /* a bogus ticket must not spin */
    bool tried = false;
    for (;;) {
        if (w->err) return w->err;
        if ((sync ? w->synced : w->written) >= target) return 0;
        if (w->io_busy) {
            pthread_cond_wait(&w->cond, &w->mu);
        } else if (w->full && tried) {
            return w->full;
        } else {
            lead_round(w, sync);
            tried = true;
        }
    }
}

/* Raises the barrier, then drains: everything written (and synced if
 * `sync`) and no I/O running.  The caller lowers the barrier. */
static int drain_locked(Wal *w, bool sync)
{
    w->barrier++;
    int rc = flush_locked(w, sync, w->appended);
    while (rc == 0 && w->io_busy) {
        pthread_cond_wait(&w->cond, &w->mu);
        rc = w->err;
    }
    return rc;
}

static void barrier_lower_locked(Wal *w)
{
    w->barrier--;
    pthread_cond_broadcast(&w->cond);
}

static void *batch_main(void *arg)
{
    Wal *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        struct timespec dl;
        clock_gettime(CLOCK_MONOTONIC, &dl);
        dl.tv_sec += w->batch_ms / 1000;
        dl.tv_nsec += (long)(w->batch_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        while (!w->stop && pthread_cond_timedwait(&w->batch_cond, &w->mu, &dl) != ETIMEDOUT)
            ;
        if (w->stop) break;
        if (w->err == 0 && w->synced < w->appended) flush_locked(w, true, w->appended);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int scan_segments(Wal *w)
{
    int fd = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    DIR *d = fdopendir(fd);
    if (!d) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    int rc = 0;
    struct dirent *de;
    errno = 0;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        uint64_t seg;
        if (seg_parse(de->d_name, &seg)) rc = segs_push(w, seg);
        errno = 0;
    }
    if (rc == 0 && errno != 0) rc = -errno;
    closedir(d);
    if (rc == 0 && w->nsegs > 1) qsort(w->segs, w->nsegs, sizeof(*w->segs), cmp_u64);
    return rc;
}

static void wal_free(Wal *w)
{
    if (w->fd >= 0) close(w->fd);
    if (w->dirfd >= 0) close(w->dirfd); /* releases the flock */
    free(w->active.data);
    free(w->spare.data);
    free(w->segs);
    free(w->dir);
    free(w);
}

int wal_open(const char *dir, const WalOptions *opts, Wal **out)
{
    if (!dir || !out) return -EINVAL;
    *out = NULL;
    WalOptions o = opts ? *opts : (WalOptions){WAL_SYNC_OFF, 0, 0};
    if (o.mode != WAL_SYNC_OFF && o.mode != WAL_SYNC_BATCH && o.mode != WAL_SYNC_ALWAYS) return -EINVAL;

    Wal *w = calloc(1, sizeof(*w));
    if (!w) return -ENOMEM;
    w->mode = o.mode;
    w->batch_ms = o.batch_ms ? o.batch_ms : WAL_DEFAULT_BATCH_MS;
    w->buffer_bytes = o.buffer_bytes ? o.buffer_bytes : WAL_DEFAULT_BUFFER;
    w->fd = -1;
    w->dirfd = -1;
    w->dir = strdup(dir);

    int rc = w->dir ? 0 : -ENOMEM;
    bool created = false;
    if (rc != 0)
        ; /* out of memory */
    else if (mkdir(dir, 0755) == 0)
        created = true;
    else if (errno != EEXIST)
        rc = -errno;
    if (rc == 0) {
        w->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (w->dirfd < 0) rc = -errno;
    }
    if (rc == 0 && flock(w->dirfd, LOCK_EX | LOCK_NB) != 0) rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
    if (rc == 0 && created) rc = fileio_fsync_parent(dir);
    if (rc == 0) rc = scan_segments(w);
    if (rc == 0) {
        uint64_t last = w->nsegs ? w->segs[w->nsegs - 1] : 0;
        if (last >= 9999999999999999ull) /* the name would need a 17th digit */
            rc = -EOVERFLOW;
        w->open_seg = last + 1;
    }
    if (rc == 0) {
        rc = segment_create(w->dirfd, w->open_seg, &w->fd);
        if (disk_full(rc)) { /* made later, by the first round with room (lead_round) */
            w->full = rc;
            rc = 0;
        }
    }
    if (rc == 0) {
        w->cur_seg = w->open_seg;
        rc = segs_push(w, w->cur_seg);
    }
    if (rc == 0) rc = buf_reserve(&w->active, w->buffer_bytes + 4096, w->buffer_bytes);
    if (rc != 0) {
        wal_free(w);
        return rc;
    }

    pthread_condattr_t ca;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->batch_cond, &ca);
    pthread_condattr_destroy(&ca);
    if (w->mode == WAL_SYNC_BATCH) {
        rc = -pthread_create(&w->thread, NULL, batch_main, w);
        if (rc != 0) {
            pthread_cond_destroy(&w->batch_cond);
            pthread_cond_destroy(&w->cond);
            pthread_mutex_destroy(&w->mu);
            wal_free(w);
            return rc;
        }
        w->has_thread = true;
    }
    *out = w;
    return 0;
}

int wal_close(Wal *w)
{
    if (!w) return 0;
    if (w->has_thread) {
        pthread_mutex_lock(&w->mu);
        w->stop = true;
        pthread_cond_signal(&w->batch_cond);
        pthread_mutex_unlock(&w->mu);
        pthread_join(w->thread, NULL);
    }
    pthread_mutex_lock(&w->mu);
    int rc = drain_locked(w, w->mode != WAL_SYNC_OFF);
    barrier_lower_locked(w);
    pthread_mutex_unlock(&w->mu);

    /* close() can report a failed deferred write (NFS). */
    if (w->fd >= 0 && close(w->fd) != 0 && rc == 0 && errno != EINTR) rc = -errno;
    w->fd = -1;
    pthread_cond_destroy(&w->batch_cond);
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
    wal_free(w);
    return rc;
}

/* ---- appends ------------------------------------------------------------ */

int wal_append(Wal *w, const void *payload, size_t len, uint64_t *ticket, uint64_t *segment)
{
    if (!w || !payload || len == 0 || len > WAL_MAX_PAYLOAD) return -EINVAL;
    uint32_t crc = crc32c(0, payload, len); /* outside the lock */
    size_t need = WAL_HDR + len;

    pthread_mutex_lock(&w->mu);
    while (w->barrier > 0 && w->err == 0) pthread_cond_wait(&w->cond, &w->mu);
    int rc = w->err;
    /* a full disk: the kept records must reach it before a new one is taken */
    if (rc == 0 && w->full) rc = flush_locked(w, false, w->appended);
    if (rc == 0) rc = buf_reserve(&w->active, need, w->buffer_bytes);
    if (rc != 0) {
        pthread_mutex_unlock(&w->mu);
        return rc;
    }
    uint8_t *dst = w->active.data + w->active.len;
    put_le32(dst, (uint32_t)len);
    put_le32(dst + 4, crc);
    memcpy(dst + WAL_HDR, payload, len);
    w->active.len += need;
    uint64_t t = ++w->appended;
    uint64_t seg = w->cur_seg;
    w->stats.records++;
    w->stats.bytes += need;
    /* Write when the buffer is full, unless a leader is busy and there is
     * still headroom (then the next append or sync writes it). */
    if (w->active.len >= w->buffer_bytes && (!w->io_busy || w->active.len >= 2 * w->buffer_bytes))
        rc = flush_locked(w, false, t);
    /* the record is taken (buffered) even if that write found the disk full:
     * a waiter on its ticket gets the error */
    if (disk_full(rc)) rc = 0;
    pthread_mutex_unlock(&w->mu);

    if (ticket) *ticket = t;
    if (segment) *segment = seg;
    return rc;
}

int wal_wait(Wal *w, uint64_t ticket)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->mode == WAL_SYNC_ALWAYS ? flush_locked(w, true, ticket) : w->err;
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_sync(Wal *w)
{
    pthread_mutex_lock(&w->mu);
    int rc = flush_locked(w, true, w->appended);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

/* ---- segments ------------------------------------------------------------ */

int wal_rotate(Wal *w, uint64_t *segment)
{
    pthread_mutex_lock(&w->mu);
    int rc = drain_locked(w, true);
    uint64_t next = w->cur_seg + 1;
    if (rc == 0 && next > 9999999999999999ull) rc = -EOVERFLOW;
    if (rc == 0) rc = segs_push(w, next); /* reserve the slot first: nothing to undo later */
    if (rc == 0) {
        /* Own the I/O so no leader touches fd while it changes; the barrier
         * keeps appends out, so no record can be reported for the old
         * segment and land in the new one. */
        w->io_busy = true;
        int oldfd = w->fd;
        pthread_mutex_unlock(&w->mu);
        int nfd = -1;
        rc = segment_create(w->dirfd, next, &nfd);
        if (rc == 0 && oldfd >= 0) close(oldfd); /* already fdatasynced by the drain */
        pthread_mutex_lock(&w->mu);
        w->io_busy = false;
        if (rc == 0) {
            w->fd = nfd;
            w->cur_seg = next;
        } else {
            /* a full disk: appends go on into the current segment */
            w->nsegs--;
            if (!disk_full(rc)) set_err_locked(w, rc);
        }
    }
    if (rc == 0 && segment) *segment = next;
    barrier_lower_locked(w);
    pthread_mutex_unlock(&w->mu);
    return rc;
}

uint64_t wal_current_segment(Wal *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t s = w->cur_seg;
    pthread_mutex_unlock(&w->mu);
    return s;
}

int wal_discard_before(Wal *w, uint64_t segment)
{
    pthread_mutex_lock(&w->mu);
    int rc = w->err;
    size_t nvict = 0;
    uint64_t *vict = NULL;
    if (rc == 0) {
        for (size_t i = 0; i < w->nsegs; i++) nvict += w->segs[i] < segment && w->segs[i] != w->cur_seg;
        if (nvict > 0 && !(vict = malloc(nvict * sizeof(*vict)))) rc = -ENOMEM;
    }
    if (rc == 0 && nvict > 0) {
        /* Take them off the list now so a concurrent discard skips them. */
        size_t k = 0, j = 0;
        for (size_t i = 0; i < w->nsegs; i++) {
            if (w->segs[i] < segment && w->segs[i] != w->cur_seg)
                vict[k++] = w->segs[i];
            else
                w->segs[j++] = w->segs[i];
        }
        w->nsegs = j;
    }
    pthread_mutex_unlock(&w->mu);
    if (rc != 0 || nvict == 0) return rc;

    /* Unlinks and the directory fsync happen outside the lock. */
    size_t nkeep = 0;
    bool removed = false;
    for (size_t i = 0; i < nvict; i++) {
        char name[WAL_NAME_LEN + 1];
        seg_name(name, vict[i]);
        if (unlinkat(w->dirfd, name, 0) == 0 || errno == ENOENT) {
            removed = true;
        } else {
            if (rc == 0) rc = -errno;
            vict[nkeep++] = vict[i]; /* still on disk */
        }
    }
    int sync_rc = 0;
    if (removed && fsync(w->dirfd) != 0) sync_rc = -errno;

    pthread_mutex_lock(&w->mu);
    for (size_t i = 0; i < nkeep; i++)
        if (segs_push(w, vict[i]) != 0) break; /* ENOMEM: the file stays, only the count forgets it */
    if (nkeep > 0) qsort(w->segs, w->nsegs, sizeof(*w->segs), cmp_u64);
    if (sync_rc != 0) {
        set_err_locked(w, sync_rc); /* unknown which unlinks are durable */
        rc = sync_rc;
    }
    pthread_mutex_unlock(&w->mu);
    free(vict);
    return rc;
}

void wal_get_stats(Wal *w, WalStats *st)
{
    pthread_mutex_lock(&w->mu);
    *st = w->stats;
    st->segments = w->nsegs;
    pthread_mutex_unlock(&w->mu);
}

/* ---- replay ------------------------------------------------------------- */

/* A read window over a segment: file bytes [base, base + len) in data. */
typedef struct ReplayBuf {
    uint8_t *data;
    size_t len;
    size_t cap;
    uint64_t base;
} ReplayBuf;

/*
 * Makes file bytes [off, off + n) available at rb->data + (off - rb->base).
 * The caller has checked off + n <= size.  Reads in big chunks.  Returns 0
 * or a negative errno; *shrunk is set when the file ended early.
 */
static int replay_fill(int fd, ReplayBuf *rb, uint64_t off, size_t n, uint64_t size, bool *shrunk)
{
    if (off >= rb->base && off + n <= rb->base + rb->len) return 0;
    if (fd < 0) return -EIO; /* an image in memory: callers stay inside it */
    /* Keep the bytes from off on, move them to the front. */
    size_t keep = 0;
    if (off >= rb->base && off < rb->base + rb->len) {
        keep = (size_t)(rb->base + rb->len - off);
        memmove(rb->data, rb->data + (off - rb->base), keep);
    }
    rb->base = off;
    rb->len = keep;
    if (rb->cap < n) {
        /* a chunk at a time, but no more than the file holds */
        uint64_t left = size - off;
        size_t ncap = left < WAL_READ_CHUNK ? (size_t)left : WAL_READ_CHUNK;
        if (ncap < n) ncap = n;
        uint8_t *p = realloc(rb->data, ncap);
        if (!p) return -ENOMEM;
        rb->data = p;
        rb->cap = ncap;
    }
    while (rb->len < n) {
        uint64_t pos = rb->base + rb->len;
        size_t want = rb->cap - rb->len;
        if (want > size - pos) want = (size_t)(size - pos);
        ssize_t k = want ? pread(fd, rb->data + rb->len, want, (off_t)pos) : 0;
        if (k < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (k == 0) {
            *shrunk = true;
            return 0;
        }
        rb->len += (size_t)k;
    }
    return 0;
}

/* Cuts the segment at `off` (a torn or corrupt record) and syncs the cut. */
static int replay_truncate(int fd, uint64_t off)
{
    if (ftruncate(fd, (off_t)off) != 0) return -errno;
    if (fsync(fd) != 0) return -errno;
    return 0;
}

/* Why a segment's walk stopped before its end. */
typedef enum WalTail {
    TAIL_NONE,    /* every byte was records */
    TAIL_CUT,     /* a record (or the magic) cut short by the end of the file */
    TAIL_BAD_LEN, /* a length of 0, over the cap */
    TAIL_BAD_CRC, /* a payload that does not match its CRC */
} WalTail;

static const char *tail_why(WalTail t)
{
    switch (t) {
    case TAIL_CUT: return "cut short by the end of the file";
    case TAIL_BAD_LEN: return "has an impossible length";
    case TAIL_BAD_CRC: return "fails its CRC";
    default: return "is fine";
    }
}

/* Checks the record at off: 0 with *len set when it is intact (its bytes
 * then sit in rb), TAIL_* when not, or a negative read error. */
static int record_at(int fd, ReplayBuf *rb, uint64_t off, uint64_t size, uint32_t *len)
{
    bool shrunk = false;
    if (size - off < WAL_HDR) return TAIL_CUT;
    int rc = replay_fill(fd, rb, off, WAL_HDR, size, &shrunk);
    if (rc != 0 || shrunk) return rc != 0 ? rc : TAIL_CUT;
    const uint8_t *h = rb->data + (off - rb->base);
    uint32_t n = get_le32(h), crc = get_le32(h + 4);
    if (n == 0 || n > WAL_MAX_PAYLOAD) return TAIL_BAD_LEN;
    if (n > size - off - WAL_HDR) return TAIL_CUT;
    rc = replay_fill(fd, rb, off, WAL_HDR + (size_t)n, size, &shrunk);
    if (rc != 0 || shrunk) return rc != 0 ? rc : TAIL_CUT;
    if (crc32c(0, rb->data + (off - rb->base) + WAL_HDR, n) != crc) return TAIL_BAD_CRC;
    *len = n;
    return 0;
}

/*
 * Walks a segment of `size` bytes whose bytes replay_fill brings into rb
 * (fd < 0: rb already holds all of them), calling fn for every intact
 * record.  *end receives the offset after the last intact record, *tail why
 * the walk stopped there, *bad_magic whether the magic was damaged but the
 * records after it are intact (then they are ours: replayed).  Returns 0,
 * TSF_ECORRUPT when the file is not a segment (a foreign magic not followed
 * by an intact record; nothing is called), fn's non-zero return, or a read
 * error.
 */
static int scan_records(int fd, ReplayBuf *rb, uint64_t size, uint64_t seg, WalReplayFn fn, void *ctx,
                        uint64_t *end, WalTail *tail, bool *bad_magic)
{
    *end = 0;
    *tail = TAIL_NONE;
    *bad_magic = false;
    if (size < WAL_MAGIC_LEN) {
        /* creation never completed: nothing in it was acknowledged */
        *tail = size > 0 ? TAIL_CUT : TAIL_NONE;
        return 0;
    }
    bool shrunk = false;
    int rc = replay_fill(fd, rb, 0, WAL_MAGIC_LEN, size, &shrunk);
    if (rc != 0) return rc;
    if (shrunk) {
        *tail = TAIL_CUT;
        return 0;
    }
    uint64_t off = WAL_MAGIC_LEN;
    if (memcmp(rb->data, WAL_MAGIC, WAL_MAGIC_LEN) != 0) {
        uint32_t len;
        rc = record_at(fd, rb, off, size, &len);
        if (rc != 0) return rc < 0 ? rc : TSF_ECORRUPT;
        *bad_magic = true;
    }
    while (off < size) {
        uint32_t len;
        rc = record_at(fd, rb, off, size, &len);
        if (rc < 0) return rc;
        if (rc > 0) {
            *tail = (WalTail)rc;
            break;
        }
        rc = fn(ctx, seg, rb->data + (off - rb->base) + WAL_HDR, len);
        if (rc != 0) return rc;
        off += WAL_HDR + (uint64_t)len;
    }
    *end = off;
    return 0;
}

/* Replays one segment; *foreign is set when the file is no segment (then
 * it is reported and left alone, and 0 is returned). */
static int replay_segment(Wal *w, uint64_t seg, ReplayBuf *rb, WalReplayFn fn, void *ctx, bool *foreign)
{
    char name[WAL_NAME_LEN + 1];
    seg_name(name, seg);
    int fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : -errno; /* discarded meanwhile */
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int rc = -errno;
        close(fd);
        return rc;
    }
    uint64_t size = (uint64_t)st.st_size, end;
    rb->len = 0;
    rb->base = 0;
    WalTail tail;
    bool bad_magic;
    int rc = scan_records(fd, rb, size, seg, fn, ctx, &end, &tail, &bad_magic);
    if (rc == TSF_ECORRUPT) {
        fprintf(stderr, "tsfs: %s/%s: not a WAL segment (bad magic, no record after it); left in place\n",
                w->dir, name);
        *foreign = true;
        rc = 0;
    }
    if (rc == 0 && bad_magic)
        fprintf(stderr, "tsfs: %s/%s: damaged magic, but intact records follow: replayed\n", w->dir, name);
    if (rc == 0 && tail != TAIL_NONE) {
        /* A crash leaves a torn last record; a damaged one ends the
         * segment too: what follows was never proven acknowledged. */
        fprintf(stderr, "tsfs: %s/%s: record at offset %llu %s; %llu bytes cut from there\n", w->dir, name,
                (unsigned long long)end, tail_why(tail), (unsigned long long)(size - end));
        rc = replay_truncate(fd, end);
    }
    close(fd);
    return rc;
}

int wal_scan_image(const uint8_t *p, size_t n, uint64_t segment, WalReplayFn fn, void *ctx, size_t *intact)
{
    *intact = 0;
    if (!fn || (!p && n)) return -EINVAL;
    ReplayBuf rb = {(uint8_t *)p, n, n, 0}; /* never written: every byte is in the window */
    uint64_t end;
    WalTail tail;
    bool bad_magic;
    int rc = scan_records(-1, &rb, n, segment, fn, ctx, &end, &tail, &bad_magic);
    if (rc == 0) *intact = (size_t)end;
    return rc;
}

int wal_replay(Wal *w, WalReplayFn fn, void *ctx)
{
    if (!w || !fn) return -EINVAL;
    /* Copy the list: fn runs without the WAL mutex (lock order). */
    pthread_mutex_lock(&w->mu);
    int rc = w->err;
    size_t n = 0;
    uint64_t *list = NULL;
    if (rc == 0) {
        while (n < w->nsegs && w->segs[n] < w->open_seg) n++;
        if (n > 0 && !(list = malloc(n * sizeof(*list))))
            rc = -ENOMEM;
        else if (n > 0)
            memcpy(list, w->segs, n * sizeof(*list));
    }
    pthread_mutex_unlock(&w->mu);

    /* A file that is no segment is reported and skipped; it leaves the
     * list so that wal_discard_before never deletes what it could not read. */
    ReplayBuf rb = {0};
    bool any_foreign = false;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        bool foreign = false;
        rc = replay_segment(w, list[i], &rb, fn, ctx, &foreign);
        if (!foreign) continue;
        any_foreign = true;
        pthread_mutex_lock(&w->mu);
        size_t k = 0;
        for (size_t j = 0; j < w->nsegs; j++)
            if (w->segs[j] != list[i]) w->segs[k++] = w->segs[j];
        w->nsegs = k;
        pthread_mutex_unlock(&w->mu);
    }
    free(rb.data);
    free(list);
    return rc == 0 && any_foreign ? TSF_ECORRUPT : rc;
}
