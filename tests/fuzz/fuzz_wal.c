/*
 * fuzz_wal.c: libFuzzer target for the write-ahead log reader
 * (engine/wal.c).
 *
 * The input is one segment file (magic included).  It is walked twice:
 *   1. in memory with wal_scan_image, which runs replay's own walk: every
 *      record handed over lies inside the input and the records tile it
 *      from offset 8 up to the intact length; walking that intact prefix
 *      again gives the same records and keeps all of it (what replay leaves
 *      on disk replays the same next time, with nothing more cut);
 *   2. as a real segment: written as segment 1 of a WAL directory (one per
 *      process, on /dev/shm when there is one), opened with wal_open and
 *      replayed with wal_replay through its read window.  The records must
 *      be those of step 1, and the file must be cut to the intact length
 *      (or left alone when it is no segment).
 * Replay logs what it cuts on stderr; run with -close_fd_mask=2.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsf_error.h"
#include "wal.h"

#define MAX_RECS 4096

typedef struct Recs {
    const uint8_t *base; /* the image (step 1), or NULL */
    size_t size;
    size_t n;
    size_t off[MAX_RECS]; /* payload offsets in the image (step 1) */
    size_t len[MAX_RECS];
    uint32_t sum[MAX_RECS]; /* a checksum of the payload */
} Recs;

static uint32_t sum_bytes(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static int take(void *ctx, uint64_t segment, const uint8_t *payload, size_t len)
{
    Recs *r = ctx;
    if (segment != 1 || len == 0) abort();
    if (r->base && (payload < r->base || payload + len > r->base + r->size)) abort();
    if (r->n < MAX_RECS) {
        r->off[r->n] = r->base ? (size_t)(payload - r->base) : 0;
        r->len[r->n] = len;
        r->sum[r->n] = sum_bytes(payload, len);
    }
    r->n++;
    return 0;
}

static char g_dir[128];
static char g_seg[160];

static void remove_dir(void)
{
    rmdir(g_dir);
}

static void setup_dir(void)
{
    if (g_dir[0]) return;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(g_dir, sizeof g_dir, "%s/tsfs-fuzz-wal-%d", base, (int)getpid());
    snprintf(g_seg, sizeof g_seg, "%s/0000000000000001.wal", g_dir);
    if (mkdir(g_dir, 0755) != 0 && errno != EEXIST) abort();
    atexit(remove_dir);
}

/* Removes every file of the WAL directory (segments made by wal_open). */
static void clear_dir(void)
{
    char p[200];
    for (int i = 1; i <= 3; i++) {
        snprintf(p, sizeof p, "%s/%016d.wal", g_dir, i);
        unlink(p);
    }
}

static void check_file(const uint8_t *data, size_t size, const Recs *mem, int mem_rc, size_t intact)
{
    setup_dir();
    clear_dir();
    int fd = open(g_seg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) abort();
    if (size && write(fd, data, size) != (ssize_t)size) abort();
    close(fd);

    Wal *w;
    WalOptions o = {WAL_SYNC_OFF, 0, 4096};
    if (wal_open(g_dir, &o, &w) != 0) abort();
    static Recs got;
    got.base = NULL;
    got.n = 0;
    int rc = wal_replay(w, take, &got);
    if (rc != mem_rc) abort();
    if (got.n != mem->n) abort();
    for (size_t i = 0; i < got.n && i < MAX_RECS; i++)
        if (got.len[i] != mem->len[i] || got.sum[i] != mem->sum[i]) abort();
    struct stat st;
    if (stat(g_seg, &st) != 0) abort();
    size_t want = mem_rc == TSF_ECORRUPT ? size : intact;
    if ((size_t)st.st_size != want) abort();
    if (wal_close(w) != 0) abort();
    clear_dir();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static Recs a, b;
    a.base = data;
    a.size = size;
    a.n = 0;
    size_t intact = 0;
    int rc = wal_scan_image(data, size, 1, take, &a, &intact);
    if (rc != 0 && rc != TSF_ECORRUPT) abort();
    if (intact > size) abort();
    if (rc == TSF_ECORRUPT && (a.n != 0 || intact != 0)) abort();
    if (rc == 0 && a.n > 0) {
        /* records tile [8, intact): each header is 8 bytes before its payload */
        size_t pos = 8;
        for (size_t i = 0; i < a.n && i < MAX_RECS; i++) {
            if (a.off[i] != pos + 8) abort();
            pos = a.off[i] + a.len[i];
        }
        if (a.n <= MAX_RECS && pos != intact) abort();
    }
    if (rc == 0 && a.n == 0 && intact != 0 && intact != 8) abort();
    if (rc == 0) {
        /* the intact prefix walks the same and keeps everything */
        b.base = data;
        b.size = intact;
        b.n = 0;
        size_t again = 0;
        if (wal_scan_image(data, intact, 1, take, &b, &again) != 0) abort();
        if (again != intact || b.n != a.n) abort();
        for (size_t i = 0; i < a.n && i < MAX_RECS; i++)
            if (b.off[i] != a.off[i] || b.len[i] != a.len[i]) abort();
    }
    check_file(data, size, &a, rc, intact);
    return 0;
}
