/*
 * test_wal.c: tests of engine/wal.c and engine/crc32c.c.
 *
 * Every test works in a fresh mkdtemp directory under /tmp (the log lives in
 * DIR/wal) and removes it.  Payloads carry their record id (u64) followed
 * by bytes derived from it, so replay can check every byte and the order.
 * Crash tests fork a child that appends in ALWAYS mode, reports acked ids
 * through a pipe and is SIGKILLed; the parent then replays.  Write errors are
 * produced with RLIMIT_FSIZE (works as root), in a forked child.
 */
#include <criterion/criterion.h>

#include "crc32c.h"
#include "tsf_error.h"
#include "wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct TDir {
    char root[64]; /* mkdtemp directory */
    char wal[96];  /* root/wal */
} TDir;

static void tdir_make(TDir *d)
{
    strcpy(d->root, "/tmp/tsfs-wal-XXXXXX");
    cr_assert_not_null(mkdtemp(d->root));
    snprintf(d->wal, sizeof(d->wal), "%s/wal", d->root);
}

static void rm_tree(const char *path)
{
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir)) != NULL) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
            char p[512];
            snprintf(p, sizeof(p), "%s/%s", path, de->d_name);
            struct stat st;
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                rm_tree(p);
            else
                unlink(p);
        }
        closedir(dir);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void tdir_free(TDir *d)
{
    rm_tree(d->root);
}

static void seg_path(const TDir *d, uint64_t seg, char *out, size_t n)
{
    snprintf(out, n, "%s/%016llu.wal", d->wal, (unsigned long long)seg);
}

static off_t file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? st.st_size : -1;
}

static int count_segments(const TDir *d)
{
    DIR *dir = opendir(d->wal);
    int n = 0;
    struct dirent *de;
    while (dir && (de = readdir(dir)) != NULL)
        n += strlen(de->d_name) == 20 && strstr(de->d_name, ".wal") != NULL;
    if (dir) closedir(dir);
    return n;
}

/* Payload of record `id`: 8 bytes id, then len-8 bytes derived from id. */
static size_t payload_len(uint64_t id)
{
    return 8 + (id * 2654435761u) % 300;
}

static void make_payload(uint64_t id, uint8_t *p, size_t len)
{
    memcpy(p, &id, 8);
    for (size_t i = 8; i < len; i++) p[i] = (uint8_t)(id * 31 + i * 7);
}

static int check_payload(const uint8_t *p, size_t len, uint64_t *id)
{
    if (len < 8) return -1;
    memcpy(id, p, 8);
    if (len != payload_len(*id)) return -1;
    for (size_t i = 8; i < len; i++)
        if (p[i] != (uint8_t)(*id * 31 + i * 7)) return -1;
    return 0;
}

static int append_id(Wal *w, uint64_t id, uint64_t *ticket, uint64_t *seg)
{
    uint8_t buf[512];
    size_t len = payload_len(id);
    make_payload(id, buf, len);
    return wal_append(w, buf, len, ticket, seg);
}

/* Replay sink: records ids and segments in order. */
typedef struct Sink {
    uint64_t *ids;
    uint64_t *segs;
    size_t n, cap;
    int bad;           /* payloads that failed the check */
    size_t stop_after; /* return 42 after this many (0 = never) */
} Sink;

static int sink_fn(void *ctx, uint64_t segment, const uint8_t *payload, size_t len)
{
    Sink *s = ctx;
    uint64_t id;
    if (check_payload(payload, len, &id) != 0) {
        s->bad++;
        return 0;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->ids = realloc(s->ids, s->cap * sizeof(*s->ids));
        s->segs = realloc(s->segs, s->cap * sizeof(*s->segs));
    }
    s->ids[s->n] = id;
    s->segs[s->n] = segment;
    s->n++;
    if (s->stop_after && s->n == s->stop_after) return 42;
    return 0;
}

static void sink_free(Sink *s)
{
    free(s->ids);
    free(s->segs);
    memset(s, 0, sizeof(*s));
}

/* Opens dir, replays into s, closes. */
static void replay_all(const TDir *d, Sink *s)
{
    Wal *w;
    cr_assert_eq(wal_open(d->wal, NULL, &w), 0);
    cr_assert_eq(wal_replay(w, sink_fn, s), 0);
    cr_assert_eq(wal_close(w), 0);
    cr_assert_eq(s->bad, 0);
}

/* ---- CRC-32C --------------------------------------------------------------- */

Test(crc32c, vectors)
{
    cr_assert_eq(crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(crc32c_sw(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(crc32c(0, "", 0), 0u);
    /* RFC 3720 B.4 */
    uint8_t b[32];
    memset(b, 0, 32);
    cr_assert_eq(crc32c(0, b, 32), 0x8A9136AAu);
    cr_assert_eq(crc32c_sw(0, b, 32), 0x8A9136AAu);
    memset(b, 0xFF, 32);
    cr_assert_eq(crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)i;
    cr_assert_eq(crc32c(0, b, 32), 0x46DD794Eu);
    cr_assert_eq(crc32c_sw(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++) b[i] = (uint8_t)(31 - i);
    cr_assert_eq(crc32c(0, b, 32), 0x113FDB5Cu);
}

Test(crc32c, hw_equals_sw_and_chains)
{
    enum { N = 4096 };
    uint8_t *buf = malloc(N + 8);
    srand(7);
    for (int i = 0; i < N + 8; i++) buf[i] = (uint8_t)rand();
    for (int t = 0; t < 2000; t++) {
        size_t off = (size_t)rand() % 8, len = (size_t)rand() % N;
        uint32_t a = crc32c(0, buf + off, len);
        cr_assert_eq(a, crc32c_sw(0, buf + off, len), "off %zu len %zu", off, len);
        size_t cut = len ? (size_t)rand() % len : 0;
        cr_assert_eq(crc32c(crc32c(0, buf + off, cut), buf + off + cut, len - cut), a);
        cr_assert_eq(crc32c_sw(crc32c_sw(0, buf + off, cut), buf + off + cut, len - cut), a);
    }
    free(buf);
    cr_log_info("crc32c uses %s", crc32c_is_hw() ? "sse4.2" : "slicing-by-8");
}

/* ---- round trips ---------------------------------------------------------- */

static void roundtrip_mode(WalSyncMode mode)
{
    TDir d;
    tdir_make(&d);
    WalOptions o = {.mode = mode, .batch_ms = 2, .buffer_bytes = 4096};
    enum { N = 3000, ROT = 700 };
    uint64_t *segof = calloc(2 * N, sizeof(*segof));

    for (int session = 0; session < 2; session++) {
        Wal *w;
        cr_assert_eq(wal_open(d.wal, &o, &w), 0);
        Sink s = {0};
        cr_assert_eq(wal_replay(w, sink_fn, &s), 0);
        cr_assert_eq(s.n, (size_t)(session * N));
        for (size_t i = 0; i < s.n; i++) {
            cr_assert_eq(s.ids[i], i);
            cr_assert_eq(s.segs[i], segof[i]);
        }
        sink_free(&s);

        uint64_t prev_ticket = 0;
        for (uint64_t i = 0; i < N; i++) {
            uint64_t id = (uint64_t)session * N + i, t, seg;
            if (i > 0 && i % ROT == 0) {
                uint64_t ns;
                cr_assert_eq(wal_rotate(w, &ns), 0);
                cr_assert_eq(ns, wal_current_segment(w));
            }
            cr_assert_eq(append_id(w, id, &t, &seg), 0);
            cr_assert_eq(t, prev_ticket + 1);
            prev_ticket = t;
            cr_assert_eq(seg, wal_current_segment(w));
            segof[id] = seg;
            if (mode == WAL_SYNC_ALWAYS && i % 10 == 0) cr_assert_eq(wal_wait(w, t), 0);
        }
        WalStats st;
        wal_get_stats(w, &st);
        cr_assert_eq(st.records, N);
        cr_assert_eq(st.segments, (uint64_t)count_segments(&d));
        if (mode == WAL_SYNC_OFF) cr_assert_eq(st.syncs, (N - 1) / ROT); /* one per rotation */
        cr_assert_eq(wal_close(w), 0);
    }
    Sink s = {0};
    replay_all(&d, &s);
    cr_assert_eq(s.n, 2 * N);
    for (size_t i = 0; i < s.n; i++) {
        cr_assert_eq(s.ids[i], i);
        cr_assert_eq(s.segs[i], segof[i]);
    }
    sink_free(&s);
    free(segof);
    tdir_free(&d);
}

Test(wal, roundtrip_off)
{
    roundtrip_mode(WAL_SYNC_OFF);
}
Test(wal, roundtrip_batch)
{
    roundtrip_mode(WAL_SYNC_BATCH);
}
Test(wal, roundtrip_always)
{
    roundtrip_mode(WAL_SYNC_ALWAYS);
}

typedef struct BigSink {
    size_t k;            /* records seen */
    const size_t *sizes; /* expected lengths */
    int bad;             /* mismatches */
} BigSink;

static int big_fn(void *ctx, uint64_t seg, const uint8_t *pl, size_t len)
{
    (void)seg;
    BigSink *b = ctx;
    if (b->k >= 5 || len != b->sizes[b->k]) {
        b->bad++;
    } else {
        for (size_t i = 0; i < len; i++)
            if (pl[i] != (uint8_t)(i * 13 + b->k)) {
                b->bad++;
                break;
            }
    }
    b->k++;
    return 0;
}

Test(wal, big_records_and_default_options)
{
    TDir d;
    tdir_make(&d);
    Wal *w;
    cr_assert_eq(wal_open(d.wal, NULL, &w), 0);
    /* Larger than the buffer and than the replay read chunk (4 MiB). */
    size_t sizes[] = {1, 3u << 20, 9u << 20, 17, 1u << 20};
    uint8_t *p = malloc(9u << 20);
    for (size_t k = 0; k < 5; k++) {
        for (size_t i = 0; i < sizes[k]; i++) p[i] = (uint8_t)(i * 13 + k);
        cr_assert_eq(wal_append(w, p, sizes[k], NULL, NULL), 0);
    }
    cr_assert_eq(wal_close(w), 0);

    cr_assert_eq(wal_open(d.wal, NULL, &w), 0);
    BigSink b = {0, sizes, 0};
    cr_assert_eq(wal_replay(w, big_fn, &b), 0);
    cr_assert_eq(b.k, 5);
    cr_assert_eq(b.bad, 0);
    cr_assert_eq(wal_close(w), 0);
    free(p);
    tdir_free(&d);
}

/* ---- torn and corrupt segments -------------------------------------------- */

/* Writes ids [first, first+n) in OFF mode in one session; returns the
 * segment and the file offset where the last record starts. */
static uint64_t write_session(const TDir *d, uint64_t first, uint64_t n, off_t *last_off)
{
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_OFF, .buffer_bytes = 1000};
    cr_assert_eq(wal_open(d->wal, &o, &w), 0);
    uint64_t seg = wal_current_segment(w);
    off_t off = 8;
    for (uint64_t i = first; i < first + n; i++) {
        if (last_off) *last_off = off;
        off += 8 + (off_t)payload_len(i);
        cr_assert_eq(append_id(w, i, NULL, NULL), 0);
    }
    cr_assert_eq(wal_close(w), 0);
    char p[200];
    seg_path(d, seg, p, sizeof(p));
    cr_assert_eq(file_size(p), off);
    return seg;
}

static void expect_ids(const Sink *s, uint64_t first, uint64_t n)
{
    cr_assert_eq(s->n, n, "got %zu records, want %llu", s->n, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) cr_assert_eq(s->ids[i], first + i);
}

Test(wal, torn_tail_truncated)
{
    TDir d;
    tdir_make(&d);
    off_t last;
    uint64_t seg = write_session(&d, 0, 100, &last);
    char p[200];
    seg_path(&d, seg, p, sizeof(p));
    cr_assert_eq(truncate(p, file_size(p) - 3), 0);

    Sink s = {0};
    replay_all(&d, &s);
    expect_ids(&s, 0, 99);
    cr_assert_eq(file_size(p), last, "segment cut at the torn record");
    sink_free(&s);
    /* Clean next time: same records, same size. */
    replay_all(&d, &s);
    expect_ids(&s, 0, 99);
    cr_assert_eq(file_size(p), last);
    sink_free(&s);
    tdir_free(&d);
}

Test(wal, torn_header_truncated)
{
    TDir d;
    tdir_make(&d);
    off_t last;
    uint64_t seg = write_session(&d, 0, 50, &last);
    char p[200];
    seg_path(&d, seg, p, sizeof(p));
    cr_assert_eq(truncate(p, last + 5), 0); /* only part of the header */
    Sink s = {0};
    replay_all(&d, &s);
    expect_ids(&s, 0, 49);
    cr_assert_eq(file_size(p), last);
    sink_free(&s);
    tdir_free(&d);
}

static void flip_byte(const char *p, off_t at)
{
    int fd = open(p, O_RDWR);
    cr_assert_geq(fd, 0);
    uint8_t b;
    cr_assert_eq(pread(fd, &b, 1, at), 1);
    b ^= 0x40;
    cr_assert_eq(pwrite(fd, &b, 1, at), 1);
    close(fd);
}

Test(wal, flipped_byte_in_last_record)
{
    TDir d;
    tdir_make(&d);
    off_t last;
    uint64_t seg = write_session(&d, 0, 100, &last);
    char p[200];
    seg_path(&d, seg, p, sizeof(p));
    flip_byte(p, file_size(p) - 1);
    Sink s = {0};
    replay_all(&d, &s);
    expect_ids(&s, 0, 99);
    cr_assert_eq(file_size(p), last);
    sink_free(&s);
    tdir_free(&d);
}

Test(wal, corrupt_length_field)
{
    TDir d;
    tdir_make(&d);
    off_t last;
    uint64_t seg = write_session(&d, 0, 20, &last);
    char p[200];
    seg_path(&d, seg, p, sizeof(p));
    int fd = open(p, O_RDWR);
    uint8_t huge[4] = {0xFF, 0xFF, 0xFF, 0x7F}; /* ~2 GiB, over the 256 MiB cap */
    cr_assert_eq(pwrite(fd, huge, 4, last), 4);
    close(fd);
    Sink s = {0};
    replay_all(&d, &s);
    expect_ids(&s, 0, 19);
    cr_assert_eq(file_size(p), last);
    sink_free(&s);

    /* A zero-filled tail (size grew, data lost) is not a run of empty records. */
    uint8_t zeros[64] = {0};
    fd = open(p, O_WRONLY | O_APPEND);
    cr_assert_eq(write(fd, zeros, sizeof(zeros)), (ssize_t)sizeof(zeros));
    close(fd);
    replay_all(&d, &s);
    expect_ids(&s, 0, 19);
    cr_assert_eq(file_size(p), last);
    sink_free(&s);
    tdir_free(&d);
}

Test(wal, torn_middle_segment_replay_continues)
{
    TDir d;
    tdir_make(&d);
    off_t last1, last2;
    uint64_t s1 = write_session(&d, 0, 40, &last1);
    uint64_t s2 = write_session(&d, 40, 40, &last2);
    cr_assert_gt(s2, s1);
    char p1[200], p2[200];
    seg_path(&d, s1, p1, sizeof(p1));
    seg_path(&d, s2, p2, sizeof(p2));
    off_t size2 = file_size(p2);
    /* Corrupt record #30 of segment 1 (payload byte 3 of it). */
    off_t off = 8;
    for (uint64_t i = 0; i < 30; i++) off += 8 + (off_t)payload_len(i);
    flip_byte(p1, off + 8 + 3);

    Sink s = {0};
    replay_all(&d, &s);
    cr_assert_eq(s.n, 30 + 40);
    for (size_t i = 0; i < 30; i++) cr_assert_eq(s.ids[i], i);
    for (size_t i = 0; i < 40; i++) {
        cr_assert_eq(s.ids[30 + i], 40 + i);
        cr_assert_eq(s.segs[30 + i], s2);
    }
    cr_assert_eq(file_size(p1), off);
    cr_assert_eq(file_size(p2), size2);
    sink_free(&s);
    tdir_free(&d);
}

Test(wal, short_and_bad_magic)
{
    TDir d;
    tdir_make(&d);
    write_session(&d, 0, 10, NULL); /* segment 1, creates the dir */
    char p[200];
    /* Segment 2: creation cut short (3 bytes). */
    seg_path(&d, 2, p, sizeof(p));
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    cr_assert_eq(write(fd, "TSF", 3), 3);
    close(fd);
    Sink s = {0};
    replay_all(&d, &s); /* opens segment 3 */
    expect_ids(&s, 0, 10);
    cr_assert_eq(file_size(p), 0);
    sink_free(&s);

    /* Segment 4 with a foreign magic: reported, left alone. */
    seg_path(&d, 4, p, sizeof(p));
    fd = open(p, O_CREAT | O_WRONLY, 0644);
    cr_assert_eq(write(fd, "NOTAWAL!xxxxxxxxxxxx", 20), 20);
    close(fd);
    Wal *w;
    cr_assert_eq(wal_open(d.wal, NULL, &w), 0);
    cr_assert_eq(wal_current_segment(w), 5);
    cr_assert_eq(wal_replay(w, sink_fn, &s), TSF_ECORRUPT);
    cr_assert_eq(s.n, 10); /* the good segment before it was replayed */
    cr_assert_eq(wal_close(w), 0);
    cr_assert_eq(file_size(p), 20);
    sink_free(&s);
    tdir_free(&d);
}

Test(wal, replay_stops_on_callback_error)
{
    TDir d;
    tdir_make(&d);
    write_session(&d, 0, 30, NULL);
    Wal *w;
    cr_assert_eq(wal_open(d.wal, NULL, &w), 0);
    Sink s = {.stop_after = 7};
    cr_assert_eq(wal_replay(w, sink_fn, &s), 42);
    cr_assert_eq(s.n, 7);
    cr_assert_eq(wal_close(w), 0);
    sink_free(&s);
    replay_all(&d, &s); /* nothing was truncated */
    expect_ids(&s, 0, 30);
    sink_free(&s);
    tdir_free(&d);
}

/* ---- segments ------------------------------------------------------------- */

Test(wal, rotate_and_discard)
{
    TDir d;
    tdir_make(&d);
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_BATCH, .batch_ms = 5};
    cr_assert_eq(wal_open(d.wal, &o, &w), 0);
    uint64_t first = wal_current_segment(w);
    cr_assert_eq(first, 1);
    uint64_t seg[4] = {first};
    for (int k = 1; k < 4; k++) {
        for (uint64_t i = 0; i < 10; i++) cr_assert_eq(append_id(w, (uint64_t)k * 10 + i, NULL, NULL), 0);
        cr_assert_eq(wal_rotate(w, &seg[k]), 0);
        cr_assert_eq(seg[k], seg[k - 1] + 1);
    }
    cr_assert_eq(count_segments(&d), 4);
    WalStats st;
    wal_get_stats(w, &st);
    cr_assert_eq(st.segments, 4);

    cr_assert_eq(wal_discard_before(w, seg[2]), 0);
    cr_assert_eq(count_segments(&d), 2);
    char p[200];
    seg_path(&d, seg[0], p, sizeof(p));
    cr_assert_eq(file_size(p), -1);
    seg_path(&d, seg[2], p, sizeof(p));
    cr_assert_gt(file_size(p), 8);
    /* Never the current one, even when asked for more. */
    cr_assert_eq(wal_discard_before(w, UINT64_MAX), 0);
    cr_assert_eq(count_segments(&d), 1);
    wal_get_stats(w, &st);
    cr_assert_eq(st.segments, 1);
    cr_assert_eq(wal_discard_before(w, UINT64_MAX), 0); /* nothing left: no-op */
    cr_assert_eq(append_id(w, 99, NULL, NULL), 0);
    cr_assert_eq(wal_close(w), 0);

    Sink s = {0};
    replay_all(&d, &s);
    expect_ids(&s, 99, 1);
    sink_free(&s);
    tdir_free(&d);
}

/* ---- group commit --------------------------------------------------------- */

typedef struct GcArg {
    Wal *w;
    uint64_t base; /* first id of this thread */
    int n;         /* records */
    int fails;     /* non-zero returns */
    int first_rc;  /* first non-zero return */
} GcArg;

static void *gc_thread(void *p)
{
    GcArg *a = p;
    for (int i = 0; i < a->n; i++) {
        uint64_t t;
        int rc = append_id(a->w, a->base + (uint64_t)i, &t, NULL);
        if (rc == 0) rc = wal_wait(a->w, t);
        if (rc != 0) {
            if (!a->fails++) a->first_rc = rc;
        }
    }
    return NULL;
}

Test(wal, always_group_commit_4_threads, .timeout = 120)
{
    TDir d;
    tdir_make(&d);
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_ALWAYS};
    cr_assert_eq(wal_open(d.wal, &o, &w), 0);
    enum { T = 4, N = 2000 };
    pthread_t th[T];
    GcArg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (GcArg){w, (uint64_t)i * 100000, N, 0, 0};
        cr_assert_eq(pthread_create(&th[i], NULL, gc_thread, &a[i]), 0);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(a[i].fails, 0, "thread %d: rc %d", i, a[i].first_rc);
    }
    WalStats st;
    wal_get_stats(w, &st);
    cr_assert_eq(st.records, T * N);
    cr_assert_lt(st.syncs, st.records, "group commit: %llu syncs for %llu records",
                 (unsigned long long)st.syncs, (unsigned long long)st.records);
    cr_log_info("group commit: %llu fsyncs for %llu records", (unsigned long long)st.syncs,
                (unsigned long long)st.records);
    cr_assert_eq(wal_close(w), 0);

    /* Every thread's records, each thread's in its own order. */
    Sink s = {0};
    replay_all(&d, &s);
    cr_assert_eq(s.n, T * N);
    uint64_t next[T] = {0};
    for (size_t i = 0; i < s.n; i++) {
        uint64_t th_i = s.ids[i] / 100000, k = s.ids[i] % 100000;
        cr_assert_lt(th_i, T);
        cr_assert_eq(k, next[th_i]);
        next[th_i]++;
    }
    sink_free(&s);
    tdir_free(&d);
}

/* Rotations racing with appenders and waiters: no record lost, every
 * record reported in the segment it was replayed from. */
typedef struct RotArg {
    Wal *w;
    uint64_t base;
    int n;
    int fails;
    uint64_t *segs; /* segment reported for record i */
} RotArg;

static void *rot_thread(void *p)
{
    RotArg *a = p;
    for (int i = 0; i < a->n; i++) {
        uint64_t t;
        int rc = append_id(a->w, a->base + (uint64_t)i, &t, &a->segs[i]);
        if (rc == 0 && i % 7 == 0) rc = wal_wait(a->w, t);
        a->fails += rc != 0;
    }
    return NULL;
}

Test(wal, concurrent_rotate, .timeout = 120)
{
    TDir d;
    tdir_make(&d);
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_ALWAYS, .buffer_bytes = 2048};
    cr_assert_eq(wal_open(d.wal, &o, &w), 0);
    enum { T = 3, N = 1500 };
    pthread_t th[T];
    RotArg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (RotArg){w, (uint64_t)i * 100000, N, 0, calloc(N, sizeof(uint64_t))};
        cr_assert_eq(pthread_create(&th[i], NULL, rot_thread, &a[i]), 0);
    }
    for (int r = 0; r < 20; r++) {
        cr_assert_eq(wal_rotate(w, NULL), 0);
        cr_assert_eq(wal_sync(w), 0);
        usleep(2000);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(a[i].fails, 0);
    }
    cr_assert_eq(wal_close(w), 0);
    Sink s = {0};
    replay_all(&d, &s);
    cr_assert_eq(s.n, T * N);
    for (size_t i = 0; i < s.n; i++) {
        uint64_t th_i = s.ids[i] / 100000, k = s.ids[i] % 100000;
        cr_assert_eq(s.segs[i], a[th_i].segs[k], "record %llu", (unsigned long long)s.ids[i]);
    }
    for (int i = 0; i < T; i++) free(a[i].segs);
    sink_free(&s);
    tdir_free(&d);
}

/* ---- BATCH mode ----------------------------------------------------------- */

Test(wal, batch_reaches_disk_without_close)
{
    TDir d;
    tdir_make(&d);
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_BATCH, .batch_ms = 5};
    cr_assert_eq(wal_open(d.wal, &o, &w), 0);
    uint64_t seg = wal_current_segment(w);
    off_t want = 8;
    for (uint64_t i = 0; i < 50; i++) {
        uint64_t t;
        cr_assert_eq(append_id(w, i, &t, NULL), 0);
        cr_assert_eq(wal_wait(w, t), 0); /* returns at once */
        want += 8 + (off_t)payload_len(i);
    }
    char p[200];
    seg_path(&d, seg, p, sizeof(p));
    /* The batch thread writes and syncs within a few periods. */
    for (int k = 0; k < 400 && file_size(p) != want; k++) usleep(5000);
    cr_assert_eq(file_size(p), want);
    WalStats st;
    for (int k = 0; k < 400; k++) {
        wal_get_stats(w, &st);
        if (st.syncs > 0) break;
        usleep(5000);
    }
    cr_assert_gt(st.syncs, 0);
    cr_assert_eq(wal_close(w), 0);

    Sink s = {0};
    replay_all(&d, &s); /* a second instance on the same dir */
    expect_ids(&s, 0, 50);
    sink_free(&s);
    tdir_free(&d);
}

/* ---- error paths ---------------------------------------------------------- */

Test(wal, open_errors)
{
    TDir d;
    tdir_make(&d);
    Wal *w = (Wal *)1;
    char p[200];
    snprintf(p, sizeof(p), "%s/file", d.root);
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    close(fd);
    cr_assert_eq(wal_open(p, NULL, &w), -ENOTDIR);
    cr_assert_null(w);
    snprintf(p, sizeof(p), "%s/no/such/dir", d.root);
    cr_assert_eq(wal_open(p, NULL, &w), -ENOENT);
    WalOptions bad = {.mode = (WalSyncMode)7};
    cr_assert_eq(wal_open(d.wal, &bad, &w), -EINVAL);

    /* One handle per directory. */
    Wal *w1, *w2;
    cr_assert_eq(wal_open(d.wal, NULL, &w1), 0);
    cr_assert_eq(wal_open(d.wal, NULL, &w2), -EBUSY);
    /* Argument errors are not sticky. */
    uint8_t b[8] = {0};
    cr_assert_eq(wal_append(w1, b, 0, NULL, NULL), -EINVAL);
    cr_assert_eq(wal_append(w1, NULL, 8, NULL, NULL), -EINVAL);
    cr_assert_eq(wal_append(w1, b, (256u << 20) + 1, NULL, NULL), -EINVAL);
    cr_assert_eq(wal_append(w1, b, 8, NULL, NULL), 0);
    cr_assert_eq(wal_wait(w1, 12345), 0); /* OFF: returns at once */
    cr_assert_eq(wal_sync(w1), 0);
    cr_assert_eq(wal_close(w1), 0);
    cr_assert_eq(wal_open(d.wal, NULL, &w2), 0); /* released by close */
    cr_assert_eq(wal_close(w2), 0);
    tdir_free(&d);
}

/* Child body: write errors through RLIMIT_FSIZE must be sticky.  Returns
 * 0 or the failing line. */
static int sticky_child(const TDir *d, WalSyncMode mode)
{
    struct rlimit rl = {64 * 1024, 64 * 1024};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return __LINE__;
    Wal *w;
    WalOptions o = {.mode = mode, .buffer_bytes = 4096};
    if (wal_open(d->wal, &o, &w) != 0) return __LINE__;
    uint8_t buf[1000];
    memset(buf, 7, sizeof(buf));
    int rc = 0;
    for (int i = 0; i < 1000 && rc == 0; i++) {
        uint64_t t;
        rc = wal_append(w, buf, sizeof(buf), &t, NULL);
        if (rc == 0 && mode == WAL_SYNC_ALWAYS) rc = wal_wait(w, t);
        if (rc == 0 && mode == WAL_SYNC_BATCH) rc = wal_sync(w);
    }
    if (rc != -EFBIG) return __LINE__;
    if (wal_append(w, buf, 10, NULL, NULL) != -EFBIG) return __LINE__;
    if (wal_wait(w, 1) != -EFBIG) return __LINE__;
    if (wal_sync(w) != -EFBIG) return __LINE__;
    if (wal_rotate(w, NULL) != -EFBIG) return __LINE__;
    if (wal_discard_before(w, 1) != -EFBIG) return __LINE__;
    if (wal_close(w) != -EFBIG) return __LINE__;
    return 0;
}

/* Threads blocked in wal_wait are woken with the error. */
static int sticky_threads_child(const TDir *d)
{
    struct rlimit rl = {64 * 1024, 64 * 1024};
    signal(SIGXFSZ, SIG_IGN);
    if (setrlimit(RLIMIT_FSIZE, &rl) != 0) return __LINE__;
    Wal *w;
    WalOptions o = {.mode = WAL_SYNC_ALWAYS};
    if (wal_open(d->wal, &o, &w) != 0) return __LINE__;
    enum { T = 4 };
    pthread_t th[T];
    GcArg a[T];
    for (int i = 0; i < T; i++) {
        a[i] = (GcArg){w, (uint64_t)i * 100000, 2000, 0, 0};
        pthread_create(&th[i], NULL, gc_thread, &a[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        if (a[i].fails == 0 || a[i].first_rc != -EFBIG) return __LINE__;
    }
    if (wal_close(w) != -EFBIG) return __LINE__;
    return 0;
}

static void run_child(const TDir *d, int which)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        int line = which == 3 ? sticky_threads_child(d) : sticky_child(d, (WalSyncMode)which);
        _exit(line > 255 ? 255 : line == 0 ? 0 : (line % 254) + 1);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child died");
    cr_assert_eq(WEXITSTATUS(status), 0, "child failed (code %d)", WEXITSTATUS(status));
}

Test(wal, sticky_write_error, .timeout = 120)
{
    TDir d;
    tdir_make(&d);
    run_child(&d, WAL_SYNC_OFF);
    run_child(&d, WAL_SYNC_BATCH);
    run_child(&d, WAL_SYNC_ALWAYS);
    run_child(&d, 3);
    /* Whatever reached the disk replays cleanly (whole records only). */
    Sink s = {0};
    Wal *w;
    cr_assert_eq(wal_open(d.wal, NULL, &w), 0);
    cr_assert_eq(wal_replay(w, sink_fn, &s), 0);
    cr_assert_eq(wal_close(w), 0);
    sink_free(&s);
    tdir_free(&d);
}

/* ---- crash: SIGKILL an appending child ------------------------------------- */

#define CRASH_THREADS 4

typedef struct CrashArg {
    Wal *w;
    int tid;
    int pipe_fd;
    uint64_t round;
} CrashArg;

static void *crash_thread(void *p)
{
    CrashArg *a = p;
    for (uint64_t i = 0;; i++) {
        uint64_t id = a->round * 10000000 + (uint64_t)a->tid * 1000000 + i, t;
        if (append_id(a->w, id, &t, NULL) != 0 || wal_wait(a->w, t) != 0) _exit(3);
        /* Acked: tell the parent (8-byte writes to a pipe are atomic). */
        if (write(a->pipe_fd, &id, 8) != 8) _exit(4);
    }
    return NULL;
}

Test(wal, sigkill_keeps_acked_records, .timeout = 300)
{
    TDir d;
    tdir_make(&d);
    uint64_t total_acked = 0;
    srand((unsigned)time(NULL));
    for (uint64_t round = 1; round <= 3; round++) {
        int pfd[2];
        cr_assert_eq(pipe(pfd), 0);
        pid_t pid = fork();
        cr_assert_geq(pid, 0);
        if (pid == 0) {
            close(pfd[0]);
            Wal *w;
            WalOptions o = {.mode = WAL_SYNC_ALWAYS, .buffer_bytes = 8192};
            if (wal_open(d.wal, &o, &w) != 0) _exit(2);
            pthread_t th[CRASH_THREADS];
            CrashArg a[CRASH_THREADS];
            for (int i = 0; i < CRASH_THREADS; i++) {
                a[i] = (CrashArg){w, i, pfd[1], round};
                pthread_create(&th[i], NULL, crash_thread, &a[i]);
            }
            for (;;) pause();
        }
        close(pfd[1]);
        /* Read acks until a random count, then kill mid-flight. */
        uint64_t max_acked[CRASH_THREADS] = {0};
        int have[CRASH_THREADS] = {0};
        int target = 300 + rand() % 1500, got = 0;
        uint64_t id;
        bool killed = false;
        for (;;) {
            ssize_t k = read(pfd[0], &id, 8);
            if (k == 0) break;
            cr_assert_eq(k, 8);
            int tid = (int)(id / 1000000 % 10);
            uint64_t i = id % 1000000;
            cr_assert_lt(tid, CRASH_THREADS);
            if (!have[tid] || i > max_acked[tid]) max_acked[tid] = i;
            have[tid] = 1;
            if (++got == target && !killed) {
                kill(pid, SIGKILL);
                killed = true;
            }
        }
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child exited on its own");
        total_acked += (uint64_t)got;

        /* Replay: per thread of this round, a gap-free prefix covering every ack. */
        Sink s = {0};
        replay_all(&d, &s);
        uint64_t next[CRASH_THREADS] = {0};
        for (size_t r = 0; r < s.n; r++) {
            uint64_t rid = s.ids[r];
            if (rid / 10000000 != round) continue;
            int tid = (int)(rid / 1000000 % 10);
            cr_assert_eq(rid % 1000000, next[tid], "round %llu thread %d: gap", (unsigned long long)round,
                         tid);
            next[tid]++;
        }
        for (int t = 0; t < CRASH_THREADS; t++)
            if (have[t])
                cr_assert_gt(next[t], max_acked[t], "round %llu thread %d: acked %llu lost",
                             (unsigned long long)round, t, (unsigned long long)max_acked[t]);
        sink_free(&s);
        close(pfd[0]);
    }
    cr_log_info("sigkill: %llu acked records checked", (unsigned long long)total_acked);
    tdir_free(&d);
}

/* ---- throughput (informative) --------------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec * 1e-6;
}

Test(wal, append_throughput, .timeout = 300)
{
    const char *env = getenv("WAL_PERF_RECORDS");
    long n = env ? atol(env) : 1000000;
    TDir d;
    tdir_make(&d);
    for (int m = 0; m < 2; m++) {
        Wal *w;
        WalOptions o = {.mode = m ? WAL_SYNC_BATCH : WAL_SYNC_OFF};
        cr_assert_eq(wal_open(d.wal, &o, &w), 0);
        uint8_t p[100];
        memset(p, 0x5A, sizeof(p));
        struct rusage r0, r1;
        getrusage(RUSAGE_SELF, &r0);
        double t0 = now_s();
        int fails = 0;
        for (long i = 0; i < n; i++) {
            memcpy(p, &i, sizeof(i));
            fails += wal_append(w, p, sizeof(p), NULL, NULL) != 0;
        }
        double t1 = now_s();
        getrusage(RUSAGE_SELF, &r1);
        cr_assert_eq(fails, 0);
        cr_assert_eq(wal_close(w), 0);
        double t2 = now_s();
        /* User CPU is the append path itself; system time is write(2)/fsync. */
        double user = tv_s(&r1.ru_utime) - tv_s(&r0.ru_utime);
        double sys = tv_s(&r1.ru_stime) - tv_s(&r0.ru_stime);
        cr_log_info("wal %s: %ld x 100 B appends: wall %.3f s (%.0f MB/s payload), user %.3f s "
                    "(%.0f MB/s), sys %.3f s; close %.3f s",
                    m ? "BATCH" : "OFF", n, t1 - t0, (double)n * 100 / (t1 - t0) / 1e6, user,
                    (double)n * 100 / user / 1e6, sys, t2 - t1);
        Wal *w2;
        cr_assert_eq(wal_open(d.wal, NULL, &w2), 0);
        cr_assert_eq(wal_discard_before(w2, wal_current_segment(w2)), 0);
        cr_assert_eq(wal_close(w2), 0);
    }
    tdir_free(&d);
}
