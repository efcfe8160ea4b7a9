/*
 * test_resource.c: engine/resource.c: the exact bytes of a .resource file
 * (worked out by hand from spec §9.4), round trips, truncated and corrupt
 * files refused without crashing, atomic replace, and rebuilding from the
 * golden TsFiles (device ranges checked against the reference dumps).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resource.h"
#include "tsf_error.h"

static char res_dir[256];
static char ts_path[300];  /* the (absent) TsFile the resource belongs to */
static char res_path[320]; /* ts_path + ".resource" */

static void setup(void)
{
    strcpy(res_dir, "/tmp/tsfs-resource-XXXXXX");
    cr_assert_not_null(mkdtemp(res_dir));
    snprintf(ts_path, sizeof ts_path, "%s/1-1-0-0.tsfile", res_dir);
    snprintf(res_path, sizeof res_path, "%s.resource", ts_path);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (res_dir[0]) nftw(res_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(resource, .init = setup, .fini = teardown);

static const char *golden_dir(void)
{
    const char *d = getenv("GOLDEN_DIR");
    return d ? d : "../shared/golden";
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static void spill(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* One device root.sg.d1 with [1, 3], plan indexes unknown. */
static const uint8_t SMALL[] = {
    0x01,                                                                             /* version */
    0x01,                                                                             /* device time index */
    0x00, 0x00, 0x00, 0x01,                                                           /* 1 device */
    0,    0,    0,    0,    0,    0,    0,    1,                                      /* slot 0 start */
    0,    0,    0,    0,    0,    0,    0,    3,                                      /* slot 0 end */
    0x00, 0x00, 0x00, 0x0a,                                                           /* I32Str length 10 */
    'r',  'o',  'o',  't',  '.',  's',  'g',  '.',  'd', '1', 0x00, 0x00, 0x00, 0x00, /* slot 0 */
    0x80, 0,    0,    0,    0,    0,    0,    0,    /* maxPlanIndex INT64_MIN */
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* minPlanIndex INT64_MAX */
    0xff, 0xff, 0xff, 0xff,                         /* no mods file */
    0x00,                                           /* EMPTY_BLOCK */
};

Test(resource, exact_bytes_of_a_small_resource)
{
    Resource r;
    resource_init(&r);
    cr_assert_eq(resource_update(&r, "root.sg.d1", 2, 3), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d1", 1, 2), 0);
    cr_assert_eq(resource_write(&r, ts_path), 0);
    size_t n;
    uint8_t *got = slurp(res_path, &n);
    cr_assert_eq(n, sizeof SMALL, "size %zu", n);
    cr_expect_arr_eq(got, SMALL, sizeof SMALL);
    free(got);
    resource_free(&r);

    cr_assert_eq(resource_read(&r, ts_path), 0);
    cr_assert_eq(r.n, 1);
    cr_expect_str_eq(r.dev[0].device, "root.sg.d1");
    cr_expect_eq(r.dev[0].start, 1);
    cr_expect_eq(r.dev[0].end, 3);
    cr_expect_eq(r.min_plan, INT64_MAX);
    cr_expect_eq(r.max_plan, INT64_MIN);
    resource_free(&r);
}

Test(resource, update_find_and_bounds)
{
    Resource r;
    resource_init(&r);
    cr_expect_eq(resource_min_time(&r), INT64_MAX);
    cr_expect_eq(resource_max_time(&r), INT64_MIN);
    cr_expect_null(resource_find(&r, "root.a.b"));
    cr_expect_eq(resource_update(&r, NULL, 0, 0), -EINVAL);
    cr_assert_eq(resource_update(&r, "root.sg.d2", 10, 20), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d1", -5, 7), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d10", 100, 100), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d2", 15, 30), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d2", 12, 18), 0);
    cr_assert_eq(r.n, 3);
    cr_expect_str_eq(r.dev[0].device, "root.sg.d1");
    cr_expect_str_eq(r.dev[1].device, "root.sg.d10");
    cr_expect_str_eq(r.dev[2].device, "root.sg.d2");
    const ResDevice *d = resource_find(&r, "root.sg.d2");
    cr_assert_not_null(d);
    cr_expect_eq(d->start, 10);
    cr_expect_eq(d->end, 30);
    cr_expect_null(resource_find(&r, "root.sg.d"));
    cr_expect_null(resource_find(&r, "root.sg.d100"));
    cr_expect_null(resource_find(&r, NULL));
    cr_expect_eq(resource_min_time(&r), -5);
    cr_expect_eq(resource_max_time(&r), 100);
    resource_free(&r);
    cr_expect_eq(r.n, 0);
    cr_expect_null(r.dev);
}

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state >> 12;
    rnd_state ^= rnd_state << 25;
    rnd_state ^= rnd_state >> 27;
    return rnd_state * 2685821657736338717ull;
}

Test(resource, round_trip_many_devices)
{
    enum { N = 3000 };
    Resource r;
    resource_init(&r);
    static const int64_t extremes[] = {INT64_MIN, INT64_MAX, 0, -1, 1, INT32_MIN, INT32_MAX};
    for (int i = 0; i < N; i++) {
        char dev[64];
        snprintf(dev, sizeof dev, "root.sg%d.温度_%llu", i % 7, (unsigned long long)rnd());
        int64_t a = (int64_t)rnd(), b = (int64_t)rnd();
        if (i < 7 * 7) {
            a = extremes[i % 7];
            b = extremes[i / 7];
        }
        cr_assert_eq(resource_update(&r, dev, a < b ? a : b, a < b ? b : a), 0);
    }
    cr_assert_eq(r.n, N);
    for (size_t i = 1; i < r.n; i++) cr_assert_lt(strcmp(r.dev[i - 1].device, r.dev[i].device), 0);
    r.min_plan = -42;
    r.max_plan = 1234567890123;
    cr_assert_eq(resource_write(&r, ts_path), 0);

    Resource back;
    cr_assert_eq(resource_read(&back, ts_path), 0);
    cr_assert_eq(back.n, r.n);
    cr_expect_eq(back.min_plan, -42);
    cr_expect_eq(back.max_plan, 1234567890123);
    for (size_t i = 0; i < r.n; i++) {
        cr_assert_str_eq(back.dev[i].device, r.dev[i].device);
        cr_assert_eq(back.dev[i].start, r.dev[i].start);
        cr_assert_eq(back.dev[i].end, r.dev[i].end);
    }
    cr_expect_eq(resource_min_time(&back), INT64_MIN);
    cr_expect_eq(resource_max_time(&back), INT64_MAX);
    resource_free(&back);
    resource_free(&r);

    /* an empty resource round-trips too */
    resource_init(&r);
    cr_assert_eq(resource_write(&r, ts_path), 0);
    cr_assert_eq(resource_read(&back, ts_path), 0);
    cr_expect_eq(back.n, 0);
    resource_free(&back);
}

Test(resource, slots_in_any_order_and_older_layouts)
{
    /* two devices whose slots are swapped; file stops after minPlanIndex
     * (0.13 without a mods file) */
    static const uint8_t swapped[] = {
        1, 1, 0, 0, 0,   2,   0,   0,   0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 6, /* slot 0: [5, 6] */
        0, 0, 0, 0, 0,   0,   0,   7,   0, 0, 0, 0, 0, 0, 0, 8,                   /* slot 1: [7, 8] */
        0, 0, 0, 4, 'r', 'o', 'o', 't', 0, 0, 0, 1,                               /* "root" -> slot 1 */
        0, 0, 0, 1, 'a', 0,   0,   0,   0,                                        /* "a" -> slot 0 */
        0, 0, 0, 0, 0,   0,   0,   9,   0, 0, 0, 0, 0, 0, 0, 3,
    };
    spill(res_path, swapped, sizeof swapped);
    Resource r;
    cr_assert_eq(resource_read(&r, ts_path), 0);
    cr_assert_eq(r.n, 2);
    cr_expect_str_eq(r.dev[0].device, "a");
    cr_expect_eq(r.dev[0].start, 5);
    cr_expect_eq(r.dev[1].end, 8);
    cr_expect_eq(r.max_plan, 9);
    cr_expect_eq(r.min_plan, 3);
    resource_free(&r);

    /* with a mods file name and a trailing progress-index block (ignored) */
    uint8_t more[sizeof swapped + 16];
    memcpy(more, swapped, sizeof swapped);
    memcpy(more + sizeof swapped, "\0\0\0\x05x.mods\x01\xaa\xbb\xcc\xdd\xee\xff", 16);
    spill(res_path, more, sizeof more);
    cr_assert_eq(resource_read(&r, ts_path), 0);
    cr_expect_eq(r.n, 2);
    resource_free(&r);

    /* 0.12 file time index: one range for every device */
    static const uint8_t v012[] = {
        1,    0, 0, 0, 0, 2, 0, 0, 0,    2,    'd',  '1',  0,    0,    0,    2,    'd',
        '0',  0, 0, 0, 0, 0, 0, 0, 10,   0,    0,    0,    0,    0,    0,    0,    20,
        0x80, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    };
    spill(res_path, v012, sizeof v012);
    cr_assert_eq(resource_read(&r, ts_path), 0);
    cr_assert_eq(r.n, 2);
    cr_expect_str_eq(r.dev[0].device, "d0");
    cr_expect_eq(r.dev[0].start, 10);
    cr_expect_eq(r.dev[1].end, 20);
    resource_free(&r);
}

Test(resource, missing_file)
{
    Resource r;
    cr_expect_eq(resource_read(&r, ts_path), -ENOENT);
    cr_expect_eq(r.n, 0);
    resource_free(&r);
}

/* Fields 1-7 of SMALL end here; the mods name and block are optional. */
#define SMALL_REQUIRED (sizeof SMALL - 5)

Test(resource, truncated_files_are_refused)
{
    for (size_t len = 0; len < sizeof SMALL; len++) {
        spill(res_path, SMALL, len);
        Resource r;
        int rc = resource_read(&r, ts_path);
        bool ok = len == SMALL_REQUIRED || len >= SMALL_REQUIRED + 4;
        if (ok) {
            cr_expect_eq(rc, 0, "length %zu: %d", len, rc);
            cr_expect_eq(r.n, 1);
        } else {
            cr_expect_eq(rc, TSF_ECORRUPT, "length %zu: %d", len, rc);
            cr_expect_eq(r.n, 0);
            cr_expect_null(r.dev);
        }
        resource_free(&r);
    }
}

static void expect_corrupt(const uint8_t *p, size_t n, const char *what)
{
    spill(res_path, p, n);
    Resource r;
    int rc = resource_read(&r, ts_path);
    cr_expect_eq(rc, TSF_ECORRUPT, "%s: %d", what, rc);
    resource_free(&r);
}

Test(resource, corrupt_fields_are_refused)
{
    uint8_t b[sizeof SMALL];
    memcpy(b, SMALL, sizeof b);
    b[0] = 2;
    expect_corrupt(b, sizeof b, "version 2");
    memcpy(b, SMALL, sizeof b);
    b[1] = 2;
    expect_corrupt(b, sizeof b, "time index type 2");
    memcpy(b, SMALL, sizeof b);
    b[5] = 2;
    expect_corrupt(b, sizeof b, "2 devices in a 1-device file");
    memcpy(b, SMALL, sizeof b);
    b[2] = 0xff;
    expect_corrupt(b, sizeof b, "negative device count");
    memcpy(b, SMALL, sizeof b);
    b[2] = 0x7f;
    expect_corrupt(b, sizeof b, "huge device count");
    memcpy(b, SMALL, sizeof b);
    b[25] = 0x40;
    expect_corrupt(b, sizeof b, "name too long");
    memcpy(b, SMALL, sizeof b);
    memset(b + 22, 0xff, 4);
    expect_corrupt(b, sizeof b, "null device name");
    memcpy(b, SMALL, sizeof b);
    b[30] = 0;
    expect_corrupt(b, sizeof b, "NUL inside the device name");
    memcpy(b, SMALL, sizeof b);
    b[39] = 1;
    expect_corrupt(b, sizeof b, "slot out of range");
    memcpy(b, SMALL, sizeof b);
    b[36] = 0x80;
    expect_corrupt(b, sizeof b, "negative slot");
    memcpy(b, SMALL, sizeof b);
    b[56] = 0x00;
    b[59] = 0x09;
    expect_corrupt(b, sizeof b, "mods name longer than the file");

    /* two devices on the same slot, and the same device twice */
    static const uint8_t dup_slot[] = {
        1, 1, 0, 0,   0, 2, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0,   0, 0, 6, 0, 0,
        0, 0, 0, 0,   0, 7, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 1, 'b', 0, 0, 0, 0, 0,
        0, 0, 1, 'a', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0,   0, 0, 0, 0, 3,
    };
    expect_corrupt(dup_slot, sizeof dup_slot, "slot used twice");
    uint8_t dup_dev[sizeof dup_slot];
    memcpy(dup_dev, dup_slot, sizeof dup_dev);
    dup_dev[51] = 'b';
    dup_dev[55] = 1;
    expect_corrupt(dup_dev, sizeof dup_dev, "device twice");
    dup_dev[51] = 'c';
    spill(res_path, dup_dev, sizeof dup_dev);
    Resource r;
    cr_expect_eq(resource_read(&r, ts_path), 0); /* the fixed file reads */
    resource_free(&r);
}

Test(resource, random_damage_never_crashes)
{
    Resource r;
    resource_init(&r);
    for (int i = 0; i < 20; i++) {
        char dev[32];
        snprintf(dev, sizeof dev, "root.sg.d%d", i);
        cr_assert_eq(resource_update(&r, dev, i, i * 10), 0);
    }
    cr_assert_eq(resource_write(&r, ts_path), 0);
    resource_free(&r);
    size_t n;
    uint8_t *good = slurp(res_path, &n);
    uint8_t *bad = malloc(n);
    for (int iter = 0; iter < 1000; iter++) {
        memcpy(bad, good, n);
        int flips = 1 + (int)(rnd() % 4);
        for (int k = 0; k < flips; k++) bad[rnd() % n] = (uint8_t)rnd();
        size_t len = iter % 3 == 0 ? (size_t)(rnd() % (n + 1)) : n;
        spill(res_path, bad, len);
        int rc = resource_read(&r, ts_path);
        cr_assert(rc == 0 || rc == TSF_ECORRUPT, "iteration %d: %d", iter, rc);
        if (rc == 0) {
            for (size_t i = 1; i < r.n; i++) cr_assert_lt(strcmp(r.dev[i - 1].device, r.dev[i].device), 0);
        }
        resource_free(&r);
    }
    free(bad);
    free(good);
}

Test(resource, atomic_replace_leaves_no_temp)
{
    Resource r;
    resource_init(&r);
    cr_assert_eq(resource_update(&r, "root.sg.d1", 1, 2), 0);
    cr_assert_eq(resource_write(&r, ts_path), 0);
    struct stat st1;
    cr_assert_eq(stat(res_path, &st1), 0);
    cr_assert_eq(resource_update(&r, "root.sg.d2", 3, 4), 0);
    cr_assert_eq(resource_write(&r, ts_path), 0);
    struct stat st2;
    cr_assert_eq(stat(res_path, &st2), 0);
    cr_expect_neq(st1.st_ino, st2.st_ino); /* replaced by rename, not rewritten in place */
    char temp[400];
    snprintf(temp, sizeof temp, "%s.temp", res_path);
    cr_expect_eq(access(temp, F_OK), -1);
    cr_expect_eq(errno, ENOENT);
    resource_free(&r);
    cr_assert_eq(resource_read(&r, ts_path), 0);
    cr_expect_eq(r.n, 2);
    resource_free(&r);

    /* a write that cannot happen leaves the old file alone */
    resource_init(&r);
    char nodir[400];
    snprintf(nodir, sizeof nodir, "%s/missing/x.tsfile", res_dir);
    cr_expect_eq(resource_write(&r, nodir), -ENOENT);
    resource_free(&r);
}

/* ---- rebuild ------------------------------------------------------------------- */

/* Expected device ranges from a reference dump: device,measurement,time,value. */
static void ranges_from_dump(const char *csv, Resource *want)
{
    resource_init(want);
    FILE *f = fopen(csv, "r");
    cr_assert_not_null(f, "cannot open %s", csv);
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        char *c1 = strchr(line, ',');
        char *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        cr_assert_not_null(c2, "bad dump line %s", line);
        *c1 = '\0';
        long long t = strtoll(c2 + 1, NULL, 10);
        cr_assert_eq(resource_update(want, line, t, t), 0);
    }
    free(line);
    fclose(f);
}

static void check_rebuild(const char *sub, const char *name)
{
    char path[512], csv[512];
    snprintf(path, sizeof path, "%s/%s/%s.tsfile", golden_dir(), sub, name);
    snprintf(csv, sizeof csv, "%s/%s/%s.csv", golden_dir(), sub, name);
    Resource got, want;
    int rc = resource_rebuild(&got, path);
    cr_assert_eq(rc, 0, "%s: %s", path, tsf_strerror(rc));
    ranges_from_dump(csv, &want);
    cr_assert_eq(got.n, want.n, "%s: %zu devices, dump has %zu", name, got.n, want.n);
    for (size_t i = 0; i < want.n; i++) {
        cr_expect_str_eq(got.dev[i].device, want.dev[i].device, "%s", name);
        cr_expect_eq(got.dev[i].start, want.dev[i].start, "%s %s start", name, want.dev[i].device);
        cr_expect_eq(got.dev[i].end, want.dev[i].end, "%s %s end", name, want.dev[i].device);
    }
    cr_expect_eq(got.min_plan, INT64_MAX);
    cr_expect_eq(got.max_plan, INT64_MIN);
    resource_free(&got);
    resource_free(&want);
}

Test(resource, rebuild_from_golden_files, .timeout = 120)
{
    check_rebuild("java", "multi_device");
    check_rebuild("java", "aligned_and_nonaligned");
    check_rebuild("java", "aligned_nulls");
    check_rebuild("java", "empty");
}

/* Every golden TsFile with a plain dump (java: v3 and v4, cpp: v3). */
Test(resource, rebuild_matches_every_golden_dump, .timeout = 300)
{
    static const char *subs[] = {"java", "cpp"};
    int checked = 0;
    for (size_t k = 0; k < 2; k++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/%s", golden_dir(), subs[k]);
        DIR *d = opendir(dir);
        cr_assert_not_null(d, "cannot open %s", dir);
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t len = strlen(e->d_name);
            if (len <= 7 || strcmp(e->d_name + len - 7, ".tsfile") != 0) continue;
            char stem[256], csv[1024];
            snprintf(stem, sizeof stem, "%.*s", (int)(len - 7), e->d_name);
            snprintf(csv, sizeof csv, "%s/%s.csv", dir, stem);
            if (access(csv, R_OK) != 0) continue; /* large: gzipped dump */
            check_rebuild(subs[k], stem);
            checked++;
        }
        closedir(d);
    }
    cr_expect_gt(checked, 100, "only %d golden files", checked);
}

Test(resource, rebuild_then_write_and_read_back)
{
    char path[512];
    snprintf(path, sizeof path, "%s/java/multi_device.tsfile", golden_dir());
    Resource r;
    cr_assert_eq(resource_rebuild(&r, path), 0);
    cr_assert_eq(r.n, 6);
    const ResDevice *d = resource_find(&r, "root.sg0.dev_0");
    cr_assert_not_null(d);
    cr_expect_eq(d->start, 198); /* first line of the reference dump */
    cr_assert_eq(resource_write(&r, ts_path), 0);
    Resource back;
    cr_assert_eq(resource_read(&back, ts_path), 0);
    cr_assert_eq(back.n, r.n);
    for (size_t i = 0; i < r.n; i++) {
        cr_expect_str_eq(back.dev[i].device, r.dev[i].device);
        cr_expect_eq(back.dev[i].start, r.dev[i].start);
        cr_expect_eq(back.dev[i].end, r.dev[i].end);
    }
    resource_free(&back);
    resource_free(&r);
}

Test(resource, rebuild_refuses_bad_files)
{
    Resource r;
    cr_expect_eq(resource_rebuild(&r, "/nonexistent/x.tsfile"), -ENOENT);
    cr_expect_eq(r.n, 0);
    /* a file that is not a TsFile */
    spill(ts_path, SMALL, sizeof SMALL);
    int rc = resource_rebuild(&r, ts_path);
    cr_expect_lt(rc, 0);
    cr_expect_eq(r.n, 0);
    resource_free(&r);
}
