/*
 * gen_engine_seeds.c: writes seed inputs for fuzz_mods, fuzz_resource and
 * fuzz_wal: files the engine itself writes, plus a few hand-made variants
 * its writer never produces but its readers accept.
 *
 * An engine is run in a temporary data directory (wal_sync=always, so the
 * log is on disk at every step): series of every type with nulls, text and
 * negative times in two partitions, deletions of single series and whole
 * devices.  The WAL segments are copied while the engine is still open
 * (they hold insert and deletion records), then the files are flushed and
 * more deletions made (so .mods files get lines against files being
 * written), and the engine is closed: every .resource and .mods is copied.
 * Hand-made seeds: legacy and pattern .mods lines, CRLF, a torn last line,
 * a 0.12 file-time-index .resource, a WAL segment with a torn tail.
 *
 * Usage: gen_engine_seeds MODS_DIR RESOURCE_DIR WAL_DIR
 */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"
#include "tsf_error.h"

static const char *g_out[3]; /* mods, resource, wal */
static int g_count[3];

static void put(int kind, const void *p, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/seed-%03d", g_out[kind], g_count[kind]++);
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(p, 1, n, f);
    fclose(f);
}

static void put_file(int kind, const char *src)
{
    FILE *f = fopen(src, "rb");
    if (!f) return;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    put(kind, buf, n);
}

static int g_want; /* which kind collect() copies */

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag != FTW_F) return 0;
    size_t n = strlen(path);
    static const char *const suffix[3] = {".mods", ".resource", ".wal"};
    size_t k = strlen(suffix[g_want]);
    if (n > k && strcmp(path + n - k, suffix[g_want]) == 0) put_file(g_want, path);
    return 0;
}

static void copy_kind(const char *dir, int kind)
{
    g_want = kind;
    nftw(dir, collect, 16, FTW_PHYS);
}

static void check(int rc, const char *what)
{
    if (rc != 0) {
        fprintf(stderr, "gen_engine_seeds: %s: %s\n", what, tsf_strerror(rc));
        exit(1);
    }
}

/* Series of every type on two devices, over two partitions. */
static void write_data(Engine *e, int round)
{
    enum { N = 40 };
    int64_t t[N];
    double dv[N];
    float fv[N];
    int32_t iv[N];
    int64_t lv[N];
    uint8_t bv[N], present[N];
    TsfBin txt[N];
    char words[N][16];
    for (int i = 0; i < N; i++) {
        /* negative times, partition 0 and partition 1 (interval 1000 ms) */
        t[i] = (i < N / 2 ? -50 + i * 3 : 1000 + i * 7) + round * 2000;
        dv[i] = i * 0.25 - 3;
        fv[i] = (float)i / 3;
        iv[i] = i * 1000 - 7;
        lv[i] = (int64_t)i << 40;
        bv[i] = (uint8_t)(i % 3 == 0);
        present[i] = (uint8_t)(i % 5 != 2);
        snprintf(words[i], sizeof words[i], "w%d,\"x\"\n", i);
        txt[i] = (TsfBin){(const uint8_t *)words[i], strlen(words[i])};
    }
    EngineColumn cols[] = {
        {"temperature", TSF_DOUBLE, dv, NULL}, {"f", TSF_FLOAT, fv, present}, {"i", TSF_INT32, iv, NULL},
        {"l", TSF_INT64, lv, present},         {"b", TSF_BOOLEAN, bv, NULL},  {"txt", TSF_TEXT, txt, present},
    };
    check(engine_insert_tablet(e, "root.fz.d1", t, N, cols, 6), "insert d1");
    check(engine_insert_tablet(e, "root.fz.dev_2.x", t, N, cols, 2), "insert d2");
}

static void from_engine(void)
{
    char tmpl[] = "/tmp/tsfs-seeds-XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) exit(1);
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.wal_sync = WAL_SYNC_ALWAYS;
    o.partition_interval = 1000;
    o.background_compaction = false;
    Engine *e;
    check(engine_open(&o, &e), "open");
    check(engine_create_sg(e, "root.fz"), "create sg");
    write_data(e, 0);
    check(engine_delete(e, "root.fz.d1", "temperature", -40, -20), "delete");
    check(engine_delete(e, "root.fz.dev_2.x", NULL, 1100, 1150), "delete device");
    check(engine_sync(e), "sync");
    copy_kind(dir, 2); /* the log of the inserts and deletions above */
    check(engine_flush_all(e), "flush");
    write_data(e, 1);
    check(engine_delete(e, "root.fz.d1", "i", INT64_MIN, 1050), "delete");
    check(engine_delete(e, "root.fz.d1", NULL, 1200, 1210), "delete device");
    check(engine_sync(e), "sync");
    copy_kind(dir, 2);
    check(engine_close(e), "close");
    copy_kind(dir, 0);
    copy_kind(dir, 1);
    char *cmd = malloc(strlen(dir) + 16);
    sprintf(cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "gen_engine_seeds: cannot remove %s\n", dir);
    free(cmd);
}

static void hand_made(void)
{
    static const char *const mods[] = {
        "DELETION,root.sg.d1.s1,100,-5,20\n",
        "DELETION,root.sg.d1.s1,7,20\nDELETION,root.sg.d1.*,9223372036854775807,-9223372036854775808,0\n",
        "DELETION,root.sg.**,50,1,2\r\nDELETION,root.sg.*.s1,50,3,4\r\n\nDELETION,root.**.s2,1,5,6\n",
        "DELETION,root.sg.`a,b`.s1,10,0,100\nDELETION,root.sg.d1.s1,10,0,10",
        "DELETION,root.sg.d1.s1,-1,0,1\nDELETION,,1,2,3\nnot a line\nDELETION,root.a.b,1,x,3\n",
    };
    for (size_t i = 0; i < sizeof mods / sizeof mods[0]; i++) put(0, mods[i], strlen(mods[i]));

    /* 0.12 file time index: version 1, type 0, 2 devices, start, end, plans */
    static const uint8_t res012[] = {
        1,   0,   0,    0,   0,   2,   0, 0, 0, 6, 'r',  'o',  'o',  't',  '.',  'a',  0,    0,    0, 6,
        'r', 'o', 'o',  't', '.', 'b', 0, 0, 0, 0, 0,    0,    0,    1,    0,    0,    0,    0,    0, 0,
        0,   9,   0x80, 0,   0,   0,   0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    put(1, res012, sizeof res012);

    /* a segment: magic, one record "hello" (CRC-32C 0x9a71bb4c), a torn header */
    static const uint8_t wal[] = {
        'T',  'S',  'F',  'S',  'W', 'A', 'L', '1', 5,   0, 0, 0,
        0x4c, 0xbb, 0x71, 0x9a, 'h', 'e', 'l', 'l', 'o', 9, 0,
    };
    put(2, wal, sizeof wal);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODS_DIR RESOURCE_DIR WAL_DIR\n", argv[0]);
        return 2;
    }
    for (int i = 0; i < 3; i++) g_out[i] = argv[i + 1];
    from_engine();
    hand_made();
    printf("gen_engine_seeds: %d .mods, %d .resource, %d WAL seeds\n", g_count[0], g_count[1], g_count[2]);
    return 0;
}
