/*
 * test_mods.c: tests of engine/mods.c (the .tsfile.mods file, spec §9.5).
 *
 * Each test works in a fresh mkdtemp directory under /tmp holding "f.tsfile"
 * (never created: only its ".mods" companion is) and removes it.  stderr
 * lines of skipped records are not captured; the tests check what was kept.
 */
#include <criterion/criterion.h>

#include "mods.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------ */

typedef struct MDir {
    char root[64];  /* mkdtemp directory */
    char ts[96];    /* root/f.tsfile */
    char mods[112]; /* root/f.tsfile.mods */
} MDir;

static void mdir_make(MDir *d)
{
    strcpy(d->root, "/tmp/tsfs-mods-XXXXXX");
    cr_assert_not_null(mkdtemp(d->root));
    snprintf(d->ts, sizeof(d->ts), "%s/f.tsfile", d->root);
    snprintf(d->mods, sizeof(d->mods), "%s.mods", d->ts);
}

static void mdir_free(MDir *d)
{
    unlink(d->mods);
    rmdir(d->root);
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, strlen(text), f), strlen(text));
    cr_assert_eq(fclose(f), 0);
}

/* Reads the whole file into a static buffer (NUL terminated). */
static const char *read_file(const char *p, size_t *n)
{
    static char buf[8192];
    FILE *f = fopen(p, "rb");
    cr_assert_not_null(f);
    size_t r = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[r] = '\0';
    if (n) *n = r;
    return buf;
}

static off_t file_size(const char *p)
{
    struct stat st;
    cr_assert_eq(stat(p, &st), 0);
    return st.st_size;
}

static Deletion del(const char *path, int64_t off, int64_t s, int64_t e)
{
    Deletion d = {(char *)path, off, s, e};
    return d;
}

/* ---- file format ---------------------------------------------------------- */

Test(mods, append_exact_bytes)
{
    MDir d;
    mdir_make(&d);
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_append(&m, d.ts, "root.sg.d1.s1", 248, INT64_MIN, 100), 0);
    cr_assert_eq(mods_append(NULL, d.ts, "root.sg.d1.*", 0, -5, INT64_MAX), 0);
    size_t n;
    const char *s = read_file(d.mods, &n);
    const char *want = "DELETION,root.sg.d1.s1,248,-9223372036854775808,100\n"
                       "DELETION,root.sg.d1.*,0,-5,9223372036854775807\n";
    cr_assert_eq(n, strlen(want));
    cr_assert_str_eq(s, want);
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.d[0].path, "root.sg.d1.s1");
    cr_assert_eq(m.d[0].file_offset, 248);
    cr_assert_eq(m.d[0].start, INT64_MIN);
    cr_assert_eq(m.d[0].end, 100);
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, append_rejects_bad_args)
{
    MDir d;
    mdir_make(&d);
    cr_assert_eq(mods_append(NULL, d.ts, "a.b", -1, 0, 1), -EINVAL);
    cr_assert_eq(mods_append(NULL, d.ts, "a.b", 0, 2, 1), -EINVAL);
    cr_assert_eq(mods_append(NULL, d.ts, "", 0, 0, 1), -EINVAL);
    cr_assert_eq(mods_append(NULL, d.ts, "a\nb", 0, 0, 1), -EINVAL);
    cr_assert_eq(access(d.mods, F_OK), -1); /* nothing created */
    char bad[160];
    snprintf(bad, sizeof(bad), "%s/nodir/f.tsfile", d.root);
    cr_assert_eq(mods_append(NULL, bad, "a.b", 0, 0, 1), -ENOENT);
    mdir_free(&d);
}

Test(mods, absent_file_is_empty)
{
    MDir d;
    mdir_make(&d);
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 0);
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, round_trip_with_commas)
{
    MDir d;
    mdir_make(&d);
    static const struct {
        const char *path;
        int64_t off, s, e;
    } in[] = {
        {"root.sg.d1.s1", 248, -9223372036854775807LL - 1, 100},
        {"root.sg.`d,2`.s,x", 0, -1, 0},
        {"a,b,c,1,2", 9223372036854775807LL, INT64_MIN, INT64_MAX},
        {"root.**", 17, -100, -50},
    };
    size_t k = sizeof(in) / sizeof(in[0]);
    for (size_t i = 0; i < k; i++)
        cr_assert_eq(mods_append(NULL, d.ts, in[i].path, in[i].off, in[i].s, in[i].e), 0);
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, k);
    for (size_t i = 0; i < k; i++) {
        cr_assert_str_eq(m.d[i].path, in[i].path);
        cr_assert_eq(m.d[i].file_offset, in[i].off);
        cr_assert_eq(m.d[i].start, in[i].s);
        cr_assert_eq(m.d[i].end, in[i].e);
    }
    /* load appends to what m holds */
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 2 * k);
    mods_free(&m);
    cr_assert_eq(m.n, 0);
    mdir_free(&d);
}

Test(mods, legacy_and_crlf)
{
    MDir d;
    mdir_make(&d);
    write_file(d.mods, "DELETION,root.sg.d1.s1,7,1000\r\n"
                       "DELETION,root.sg.d2.s1,10,-3,4\r\n"
                       "\n"
                       "DELETION,root.sg.d3.s1,11,5,6\n");
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 3);
    cr_assert_str_eq(m.d[0].path, "root.sg.d1.s1");
    cr_assert_eq(m.d[0].file_offset, INT64_MAX); /* version, not an offset */
    cr_assert_eq(m.d[0].start, INT64_MIN);
    cr_assert_eq(m.d[0].end, 1000);
    cr_assert_str_eq(m.d[1].path, "root.sg.d2.s1");
    cr_assert_eq(m.d[1].file_offset, 10);
    cr_assert_eq(m.d[1].start, -3);
    cr_assert_eq(m.d[1].end, 4);
    cr_assert_str_eq(m.d[2].path, "root.sg.d3.s1");
    /* a legacy deletion applies to every chunk */
    cr_assert(mods_cover(&m, "root.sg.d1", "s1", (uint64_t)INT64_MAX - 1, -5, 1000));
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, torn_last_line_cut_on_disk)
{
    MDir d;
    mdir_make(&d);
    const char *good = "DELETION,root.sg.d1.s1,248,0,100\n";
    char text[256];
    snprintf(text, sizeof(text), "%sDELETION,root.sg.d1.s1,300,0,10", good); /* torn "...,1000" */
    write_file(d.mods, text);
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 1);
    cr_assert_eq(m.d[0].end, 100);
    cr_assert_eq(file_size(d.mods), (off_t)strlen(good));
    cr_assert_str_eq(read_file(d.mods, NULL), good);
    /* appending afterwards gives a clean file */
    cr_assert_eq(mods_append(&m, d.ts, "root.sg.d1.s2", 400, 1, 2), 0);
    cr_assert_eq(m.n, 2);
    mods_free(&m);
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 2);
    cr_assert_str_eq(m.d[1].path, "root.sg.d1.s2");
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, torn_only_line_cut_to_empty)
{
    MDir d;
    mdir_make(&d);
    write_file(d.mods, "DELETION,root.sg");
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 0);
    cr_assert_eq(file_size(d.mods), 0);
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, append_cuts_torn_tail_first)
{
    MDir d;
    mdir_make(&d);
    write_file(d.mods, "DELETION,a.b,1,2,3\nDELETION,a.b,1,2,3");
    cr_assert_eq(mods_append(NULL, d.ts, "c.d", 5, 6, 7), 0);
    cr_assert_str_eq(read_file(d.mods, NULL), "DELETION,a.b,1,2,3\nDELETION,c.d,5,6,7\n");
    mdir_free(&d);
}

Test(mods, failed_write_leaves_file_clean)
{
    /* RLIMIT_FSIZE makes write(2) stop short, then fail with EFBIG; the
     * partial line must be removed again.  In a child: limits stick. */
    MDir d;
    mdir_make(&d);
    const char *first = "DELETION,a.b,1,2,3\n";
    write_file(d.mods, first);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {strlen(first) + 10, strlen(first) + 10};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(2);
        Mods m;
        mods_init(&m);
        int rc = mods_append(&m, d.ts, "root.sg.long.path", 100, 0, 1);
        size_t n = m.n;
        mods_free(&m);
        _exit(rc == -EFBIG && n == 0 ? 0 : 1);
    }
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child status %d", st);
    cr_assert_str_eq(read_file(d.mods, NULL), first);
    mdir_free(&d);
}

Test(mods, malformed_lines_skipped)
{
    MDir d;
    mdir_make(&d);
    write_file(d.mods, "DELETION,ok.a,1,2,3\n"
                       "INSERTION,x.y,1,2,3\n"
                       "aborted\n"
                       "DELETION,x.y,1\n"
                       "DELETION,x.y,-1,2,3\n"                   /* negative offset */
                       "DELETION,x.y,1,2,9223372036854775808\n"  /* overflow */
                       "DELETION,x.y,1,-9223372036854775809,3\n" /* underflow */
                       "DELETION,x.y,1,2,3x\n"
                       "DELETION,x.y,1, 2,3\n"
                       "DELETION,x.y,1,,3\n"
                       "DELETION,,1,2,3\n"
                       "DELETION,x.y,abc,2\n"
                       "DELETION,x.y,1,2,-\n"
                       "DELETION,ok.b,0,-9223372036854775808,9223372036854775807\n");
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 2);
    cr_assert_str_eq(m.d[0].path, "ok.a");
    cr_assert_str_eq(m.d[1].path, "ok.b");
    cr_assert_eq(m.d[1].start, INT64_MIN);
    cr_assert_eq(m.d[1].end, INT64_MAX);
    mods_free(&m);
    mdir_free(&d);
}

Test(mods, nul_byte_line_skipped)
{
    MDir d;
    mdir_make(&d);
    static const char text[] = "DELETION,a\0b.c,1,2,3\nDELETION,a.c,1,2,3\n";
    FILE *f = fopen(d.mods, "wb");
    cr_assert_not_null(f);
    fwrite(text, 1, sizeof(text) - 1, f);
    fclose(f);
    Mods m;
    mods_init(&m);
    cr_assert_eq(mods_load(&m, d.ts), 0);
    cr_assert_eq(m.n, 1);
    cr_assert_str_eq(m.d[0].path, "a.c");
    mods_free(&m);
    mdir_free(&d);
}

/* ---- patterns ------------------------------------------------------------- */

Test(mods, patterns)
{
    Deletion d;
    d = del("root.sg.d1.s1", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert_not(mods_matches(&d, "root.sg.d1", "s2"));
    cr_assert_not(mods_matches(&d, "root.sg.d1", "s10"));
    cr_assert_not(mods_matches(&d, "root.sg.d", "1.s1x"));
    cr_assert_not(mods_matches(&d, "root.sg", "d1"));

    d = del("root.sg.d1.*", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert(mods_matches(&d, "root.sg.d1", "anything"));
    cr_assert_not(mods_matches(&d, "root.sg.d10", "s1"));
    cr_assert_not(mods_matches(&d, "root.sg.d1.x", "s1")); /* "*" is one node */
    cr_assert_not(mods_matches(&d, "root.sg", "d1"));

    d = del("root.sg.d1.**", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert(mods_matches(&d, "root.sg.d1.x", "s1"));
    cr_assert_not(mods_matches(&d, "root.sg.d10", "s1"));
    cr_assert_not(mods_matches(&d, "root.sg", "d1")); /* "**" needs a node */

    d = del("root.sg.**", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert(mods_matches(&d, "root.sg.a.b.c", "s"));
    cr_assert_not(mods_matches(&d, "root.sg2.d1", "s1"));
    cr_assert_not(mods_matches(&d, "root.s", "g"));

    d = del("root.**", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.x", "y"));
    d = del("**", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.x", "y"));

    /* wildcards inside the path */
    d = del("root.*.d1.s1", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert_not(mods_matches(&d, "root.a.b.d1", "s1"));
    d = del("root.**.s1", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.a.b.d1", "s1"));
    cr_assert(mods_matches(&d, "root.s1", "s1"));
    cr_assert_not(mods_matches(&d, "root.a", "s2"));
    d = del("root.**.d1.**.s1", 1, 0, 0);
    cr_assert(mods_matches(&d, "root.a.d1.b.d1.c", "s1"));
    cr_assert_not(mods_matches(&d, "root.d1.b", "s1"));

    /* a node "s*" is literal */
    d = del("root.sg.d1.s*", 1, 0, 0);
    cr_assert_not(mods_matches(&d, "root.sg.d1", "s1"));
    cr_assert(mods_matches(&d, "root.sg.d1", "s*"));
}

Test(mods, pattern_worst_case_is_bounded)
{
    /* Many "**" against a long path: O(P*S), must return promptly. */
    char pat[4096] = "root", dev[4096] = "root";
    for (int i = 0; i < 300; i++) strcat(pat, ".**.a");
    strcat(pat, ".b");
    for (int i = 0; i < 600; i++) strcat(dev, ".a");
    Deletion d = del(pat, 1, 0, 0);
    cr_assert_not(mods_matches(&d, dev, "a"));
    cr_assert(mods_matches(&d, dev, "b"));
}

/* ---- apply / cover ------------------------------------------------------ */

static Mods mods_of(Deletion *ds, size_t n)
{
    Mods m = {ds, n, n};
    return m;
}

Test(mods, apply_one_range)
{
    Deletion ds[] = {del("root.d.s", 100, 3, 5)};
    Mods m = mods_of(ds, 1);
    int64_t t[10];
    double v[10];
    for (int i = 0; i < 10; i++) {
        t[i] = i;
        v[i] = i * 1.5;
    }
    size_t n = mods_apply(&m, "root.d", "s", 99, t, v, sizeof(v[0]), 10);
    cr_assert_eq(n, 7);
    int64_t want[] = {0, 1, 2, 6, 7, 8, 9};
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(t[i], want[i]);
        cr_assert_eq(v[i], want[i] * 1.5);
    }
    /* other series, or a chunk written at/after the deletion: untouched */
    cr_assert_eq(mods_apply(&m, "root.d", "s2", 0, t, v, 8, n), n);
    cr_assert_eq(mods_apply(&m, "root.d", "s", 100, t, v, 8, n), n);
    cr_assert_eq(mods_apply(&m, "root.d", "s", 1000, t, v, 8, n), n);
    cr_assert_eq(t[3], 6);
}

Test(mods, apply_offsets)
{
    Deletion ds[] = {
        del("root.d.s", 50, 0, 0), /* applies to chunks below 50 */
        del("root.d.s", 80, 1, 1), /* below 80 */
        del("root.d.*", 60, 2, 2), /* below 60 */
    };
    Mods m = mods_of(ds, 3);
    int64_t t[4];
    int32_t v[4];
    for (uint64_t off = 0; off < 100; off += 10) {
        for (int i = 0; i < 4; i++) t[i] = v[i] = i;
        size_t n = mods_apply(&m, "root.d", "s", off, t, v, sizeof(v[0]), 4);
        size_t want = 4 - (off < 50) - (off < 80) - (off < 60);
        cr_assert_eq(n, want, "off %llu: %zu", (unsigned long long)off, n);
        for (size_t i = 0; i < n; i++) cr_assert_eq(t[i], v[i]);
    }
    /* file_offset == chunk_offset: not applied (chunk written after) */
    for (int i = 0; i < 4; i++) t[i] = i;
    cr_assert_eq(mods_apply(&m, "root.d", "s", 50, t, NULL, 0, 4), 2);
    cr_assert_eq(t[0], 0);
    cr_assert_eq(t[1], 3);
}

/* Reference: point kept when no applicable deletion holds it. */
static bool ref_deleted(const Deletion *ds, size_t k, int64_t t)
{
    for (size_t i = 0; i < k; i++)
        if (t >= ds[i].start && t <= ds[i].end) return true;
    return false;
}

Test(mods, apply_overlapping_negative_random)
{
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        Deletion ds[40];
        size_t k = (size_t)(rand_r(&seed) % 40);
        for (size_t i = 0; i < k; i++) {
            int64_t a = (int64_t)(rand_r(&seed) % 400) - 200;
            int64_t b = a + (int64_t)(rand_r(&seed) % 30) - 2; /* sometimes empty */
            ds[i] = del("root.sg.d.s", 1000, a, b);
        }
        if (k > 0 && rand_r(&seed) % 8 == 0) ds[0].start = INT64_MIN;
        if (k > 1 && rand_r(&seed) % 8 == 0) ds[1].end = INT64_MAX;
        Mods m = mods_of(ds, k);
        int64_t t[500], ref[500];
        uint64_t v[500];
        size_t n = (size_t)(rand_r(&seed) % 500);
        bool sorted = rand_r(&seed) % 4 != 0;
        int64_t cur = -260;
        for (size_t i = 0; i < n; i++) {
            if (sorted)
                cur += rand_r(&seed) % 3;
            else
                cur = (int64_t)(rand_r(&seed) % 520) - 260;
            t[i] = cur;
            v[i] = (uint64_t)cur * 7919u;
        }
        if (n > 0 && rand_r(&seed) % 5 == 0) t[0] = INT64_MIN, v[0] = (uint64_t)INT64_MIN * 7919u;
        if (n > 1 && rand_r(&seed) % 5 == 0) t[n - 1] = INT64_MAX, v[n - 1] = (uint64_t)INT64_MAX * 7919u;
        size_t rn = 0;
        for (size_t i = 0; i < n; i++)
            if (!ref_deleted(ds, k, t[i])) ref[rn++] = t[i];
        size_t got = mods_apply(&m, "root.sg.d", "s", 999, t, v, sizeof(v[0]), n);
        cr_assert_eq(got, rn, "round %d", round);
        for (size_t i = 0; i < got; i++) {
            cr_assert_eq(t[i], ref[i], "round %d i %zu", round, i);
            cr_assert_eq(v[i], (uint64_t)t[i] * 7919u);
        }
    }
}

Test(mods, apply_many_ranges_heap_path)
{
    /* More applicable deletions than the stack array holds. */
    enum { K = 100, N = 1000 };
    Deletion ds[K];
    for (int i = 0; i < K; i++) ds[i] = del("root.d.**", 10, -1000 + i * 20, -1000 + i * 20 + 4);
    Mods m = mods_of(ds, K);
    static int64_t t[N];
    static char v[N][3]; /* odd element size */
    for (int i = 0; i < N; i++) {
        t[i] = -1000 + i * 2;
        v[i][0] = (char)i;
        v[i][1] = (char)(i >> 8);
        v[i][2] = 'x';
    }
    size_t n = mods_apply(&m, "root.d", "s", 0, t, v, 3, N);
    size_t rn = 0;
    for (int i = 0; i < N; i++)
        if (!ref_deleted(ds, K, -1000 + i * 2)) rn++;
    cr_assert_eq(n, rn);
    for (size_t i = 0; i < n; i++) {
        int orig = (int)((t[i] + 1000) / 2);
        cr_assert_not(ref_deleted(ds, K, t[i]));
        cr_assert_eq(v[i][0], (char)orig);
        cr_assert_eq(v[i][1], (char)(orig >> 8));
        cr_assert_eq(v[i][2], 'x');
    }
}

Test(mods, apply_empty_cases)
{
    Mods m;
    mods_init(&m);
    int64_t t[3] = {1, 2, 3};
    cr_assert_eq(mods_apply(&m, "a", "b", 0, t, NULL, 0, 3), 3);
    cr_assert_eq(mods_apply(NULL, "a", "b", 0, t, NULL, 0, 3), 3);
    Deletion ds[] = {del("a.b", 1, INT64_MIN, INT64_MAX)};
    m = mods_of(ds, 1);
    cr_assert_eq(mods_apply(&m, "a", "b", 0, t, NULL, 0, 0), 0);
    cr_assert_eq(mods_apply(&m, "a", "b", 0, t, NULL, 0, 3), 0);
}

Test(mods, cover)
{
    Deletion ds[] = {
        del("root.d.s", 100, -50, 50),
        del("root.d.*", 30, 100, 200),
        del("root.e.s", 100, INT64_MIN, INT64_MAX),
    };
    Mods m = mods_of(ds, 3);
    cr_assert(mods_cover(&m, "root.d", "s", 0, -50, 50));
    cr_assert(mods_cover(&m, "root.d", "s", 99, -10, 10));
    cr_assert_not(mods_cover(&m, "root.d", "s", 100, -10, 10)); /* chunk after deletion */
    cr_assert_not(mods_cover(&m, "root.d", "s", 0, -51, 50));
    cr_assert_not(mods_cover(&m, "root.d", "s", 0, 0, 51));
    /* two ranges together do not count: one must contain the interval */
    cr_assert_not(mods_cover(&m, "root.d", "s", 0, 40, 150));
    cr_assert(mods_cover(&m, "root.d", "x", 29, 100, 200));
    cr_assert_not(mods_cover(&m, "root.d", "x", 30, 100, 200));
    cr_assert_not(mods_cover(&m, "root.d", "x", 0, -1, 1));
    cr_assert(mods_cover(&m, "root.e", "s", 0, INT64_MIN, INT64_MAX));
    cr_assert_not(mods_cover(&m, "root.e", "t", 0, 0, 0));
}
