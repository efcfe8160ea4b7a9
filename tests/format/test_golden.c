/*
 * test_golden.c: every TsFile under ../shared/golden (written by the Apache
 * reference implementations) must dump exactly to the .csv or .csv.gz beside
 * it; every file under golden/invalid must be refused with one line on
 * stderr and a non-zero exit.  The folders are walked, so files added later
 * are covered without code changes.
 *
 * Lines are compared as text; where the text differs only in a FLOAT or
 * DOUBLE value, the values are compared bit for bit (the golden README
 * allows formatting to differ in the last digit, not the value).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static const char *golden_dir(void)
{
    const char *d = getenv("GOLDEN_DIR");
    return d ? d : "../shared/golden";
}

static const char *tsfile_bin(void)
{
    const char *b = getenv("TSFILE_BIN");
    return b ? b : "build/tsfile";
}

/* Same value when both parse fully as numbers with identical bits. */
static bool same_number(const char *a, const char *b)
{
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    if (*ea || *eb || ea == a || eb == b) return false;
    if (isnan(x) && isnan(y)) return signbit(x) == signbit(y);
    float fx = strtof(a, NULL), fy = strtof(b, NULL);
    return memcmp(&x, &y, sizeof x) == 0 ||
           (memcmp(&fx, &fy, sizeof fx) == 0 && (double)fx == (double)fy && fabs(x - y) <= fabs(x) * 1e-7);
}

static bool same_line(const char *want, const char *got)
{
    if (strcmp(want, got) == 0) return true;
    /* device,measurement,time, must agree exactly; then the value */
    const char *w = want, *g = got;
    for (int commas = 0; commas < 3; commas++) {
        const char *cw = strchr(w, ','), *cg = strchr(g, ',');
        if (!cw || !cg || cw - w != cg - g || strncmp(w, g, (size_t)(cw - w)) != 0) return false;
        w = cw + 1;
        g = cg + 1;
    }
    return same_number(w, g);
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == '\r')) s[--n] = 0;
}

/* Compares `tsfile dump tsfile` with the expected dump; returns a message
 * (static) on mismatch or NULL. */
static const char *check_one(const char *tsfile, const char *expected, char *detail, size_t dlen)
{
    char *cmd = NULL;
    cr_assert_gt(asprintf(&cmd, "%s dump '%s'", tsfile_bin(), tsfile), 0);
    FILE *got = popen(cmd, "r");
    free(cmd);
    gzFile want = gzopen(expected, "rb");
    if (!got || !want) return "cannot run dump or open expected dump";
    size_t cap = 1 << 20;
    char *lw = malloc(cap), *lg = NULL;
    size_t gcap = 0;
    long line = 0;
    const char *res = NULL;
    for (;;) {
        char *w = gzgets(want, lw, (int)cap);
        ssize_t gl = getline(&lg, &gcap, got);
        if (!w && gl < 0) break;
        line++;
        if (!w || gl < 0) {
            snprintf(detail, dlen, "line %ld: %s", line, w ? "dump ended early" : "dump has extra lines");
            res = "length differs";
            break;
        }
        chomp(lw);
        chomp(lg);
        if (!same_line(lw, lg)) {
            snprintf(detail, dlen, "line %ld: want '%.200s' got '%.200s'", line, lw, lg);
            res = "line differs";
            break;
        }
    }
    int status = pclose(got);
    gzclose(want);
    free(lw);
    free(lg);
    if (!res && status != 0) {
        snprintf(detail, dlen, "dump exited with status %d", status);
        res = "dump failed";
    }
    return res;
}

static int walk(const char *dir, int *checked, int *failed)
{
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (strcmp(e->d_name, "invalid") != 0) walk(path, checked, failed);
            continue;
        }
        size_t n = strlen(path);
        if (n < 7 || strcmp(path + n - 7, ".tsfile") != 0) continue;
        char expected[4100];
        snprintf(expected, sizeof expected, "%.*s.csv", (int)(n - 7), path);
        if (stat(expected, &st) != 0) snprintf(expected, sizeof expected, "%.*s.csv.gz", (int)(n - 7), path);
        if (stat(expected, &st) != 0) continue;
        char detail[600] = "";
        const char *why = check_one(path, expected, detail, sizeof detail);
        (*checked)++;
        if (why) {
            (*failed)++;
            cr_log_error("%s: %s: %s", path, why, detail);
        }
    }
    closedir(d);
    return 0;
}

Test(golden, every_reference_file_dumps_exactly, .timeout = 600)
{
    int checked = 0, failed = 0;
    cr_assert_eq(walk(golden_dir(), &checked, &failed), 0, "cannot open %s", golden_dir());
    cr_assert_gt(checked, 100, "only %d golden files found", checked);
    cr_expect_eq(failed, 0, "%d of %d golden files differ (see log)", failed, checked);
}

Test(golden, invalid_files_are_refused_with_one_line, .timeout = 120)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/invalid", golden_dir());
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int seen = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 7, ".tsfile") != 0) continue;
        char cmd[8192];
        snprintf(cmd, sizeof cmd, "%s dump '%s/%s' 2>&1 >/dev/null", tsfile_bin(), dir, e->d_name);
        FILE *p = popen(cmd, "r");
        cr_assert_not_null(p);
        char buf[4096];
        int lines = 0;
        char first[4096] = "";
        while (fgets(buf, sizeof buf, p)) {
            if (!lines) snprintf(first, sizeof first, "%s", buf);
            lines++;
        }
        int status = pclose(p);
        cr_expect_neq(status, 0, "%s: dump should fail", e->d_name);
        cr_expect_eq(lines, 1, "%s: want one line on stderr, got %d", e->d_name, lines);
        cr_expect(strstr(first, e->d_name) != NULL, "%s: the error line names the file: %s", e->d_name,
                  first);
        seen++;
    }
    closedir(d);
    cr_assert_geq(seen, 7);
}

/* ---- our encoders reproduce the reference's pages byte for byte -------------- */

#include "encoding.h"
#include "reader.h"

typedef struct PageCheck {
    TsfReader *r;
    int pages, mismatches, skipped;
    char first[300];
} PageCheck;

static int recode_series(void *ctx, const TsfSeriesMeta *sm)
{
    PageCheck *pc = ctx;
    if (sm->mask) return 0; /* non-aligned series only */
    for (size_t i = 0; i < sm->nchunks; i++) {
        TsfChunk c;
        if (tsf_chunk_open(pc->r, sm->chunks[i].offset, &c)) return -1;
        /* Compressed pages would test the codec, not the encoder; FLOAT and
         * DOUBLE under RLE/TS_2DIFF are stored as rounded decimals, so
         * re-encoding their decoded values need not give the same bytes. */
        bool scaled = (c.h.type == TSF_FLOAT || c.h.type == TSF_DOUBLE) &&
                      (c.h.encoding == TSF_ENC_RLE || c.h.encoding == TSF_ENC_TS_2DIFF);
        if (c.h.compression != TSF_COMP_UNCOMPRESSED || scaled) {
            tsf_chunk_close(&c);
            pc->skipped++;
            continue;
        }
        TsfPage p;
        TsfColumn col = {0};
        TsfBuf out = TSF_BUF_INIT;
        while (tsf_chunk_next_page(&c, &p) == 1) {
            if (tsf_page_decode(&c, &p, &col)) return -1;
            tsf_buf_reset(&out);
            TsfBuf tb = TSF_BUF_INIT;
            TsfEncodeOpts eo = {TSF_DEFAULT_FLOAT_PRECISION};
            int rc = tsf_encode(TSF_ENC_TS_2DIFF, TSF_INT64, col.times, col.n, &eo, &tb);
            if (rc == 0) {
                tsf_buf_put_uvarint(&out, (uint32_t)tb.len);
                tsf_buf_put(&out, tb.data, tb.len);
                rc = tsf_encode(c.h.encoding, c.h.type, col.values, col.n, &eo, &out);
            }
            tsf_buf_free(&tb);
            if (rc == TSF_EUNSUPPORTED) { /* read-only encodings */
                pc->skipped++;
                break;
            }
            pc->pages++;
            /* The v3 writer (tag v1.0.0) can leave stale bits in the padding
             * of a TS_2DIFF block's last byte (spec App. C.7: it does, in the
             * last page of v3_encodings); readers ignore them.  For v3 files
             * only the value streams are compared byte for byte. */
            size_t skip = 0;
            if (tsf_reader_version(pc->r) == 3) {
                TsfCursor tc = tsf_cursor(p.body, p.h.uncompressed);
                uint32_t tl = tsf_cur_uvarint(&tc);
                skip = (size_t)(tc.p - p.body) + tl;
            }
            if (rc || out.len != p.h.uncompressed || skip > out.len ||
                memcmp(out.data + skip, p.body + skip, out.len - skip) != 0) {
                if (!pc->mismatches++) {
                    size_t k = 0;
                    while (k < out.len && k < p.h.uncompressed && out.data[k] == p.body[k]) k++;
                    snprintf(pc->first, sizeof pc->first,
                             "%s.%.*s %s/%s page at %llu: %zu vs %u bytes, first diff at %zu", sm->device,
                             (int)sm->name_len, sm->name, tsf_type_name(c.h.type),
                             tsf_encoding_name(c.h.encoding), (unsigned long long)p.offset, out.len,
                             p.h.uncompressed, k);
                }
            }
        }
        tsf_buf_free(&out);
        tsf_column_free(&col);
        tsf_chunk_close(&c);
    }
    return 0;
}

Test(golden, encoders_reproduce_reference_pages, .timeout = 300)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/java", golden_dir());
    DIR *d = opendir(dir);
    cr_assert_not_null(d);
    struct dirent *e;
    int files = 0, pages = 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 7 || strcmp(e->d_name + n - 7, ".tsfile") != 0) continue;
        if (strncmp(e->d_name, "enc_", 4) && strncmp(e->d_name, "extremes_", 9) &&
            strncmp(e->d_name, "v3_encodings", 12))
            continue;
        char *path = NULL;
        cr_assert_gt(asprintf(&path, "%s/%s", dir, e->d_name), 0);
        PageCheck pc = {0};
        cr_assert_eq(tsf_reader_open(path, &pc.r, NULL), 0, "%s", path);
        cr_assert_eq(tsf_reader_foreach_series(pc.r, recode_series, &pc), 0, "%s", path);
        tsf_reader_close(pc.r);
        free(path);
        cr_expect_eq(pc.mismatches, 0, "%s: %d of %d pages differ; first: %s", e->d_name, pc.mismatches,
                     pc.pages, pc.first);
        files++;
        pages += pc.pages;
    }
    closedir(d);
    cr_assert_gt(files, 40);
    cr_assert_gt(pages, 100);
}

/* ---- lookups through the bloom filter and the index tree ----------------------- */

typedef struct LookupCheck {
    TsfReader *r;
    int found, missed;
    char first_miss[300];
} LookupCheck;

static int lookup_each(void *ctx, const TsfSeriesMeta *sm)
{
    LookupCheck *lc = ctx;
    char dev[1024], name[1024];
    snprintf(dev, sizeof dev, "%.*s", (int)sm->device_len, sm->device);
    snprintf(name, sizeof name, "%.*s", (int)sm->name_len, sm->name);
    TsfSeriesMeta got;
    if (tsf_reader_find_series(lc->r, dev, name, &got) == 0 && got.nchunks == sm->nchunks &&
        got.chunks[0].offset == sm->chunks[0].offset && got.stats.count == sm->stats.count) {
        lc->found++;
    } else if (!lc->missed++) {
        snprintf(lc->first_miss, sizeof lc->first_miss, "%.140s.%.140s", dev, name);
    }
    tsf_series_meta_free(&got);
    return 0;
}

/* Every series the full walk sees is found by lookup (bloom filter, then the
 * index tree), in Java- and C++-written files, with deep index trees
 * (INTERNAL_DEVICE / INTERNAL_MEASUREMENT nodes) too. */
Test(golden, every_series_found_by_lookup, .timeout = 300)
{
    static const char *const sub[] = {"java", "cpp"};
    int total = 0;
    for (int k = 0; k < 2; k++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", golden_dir(), sub[k]);
        DIR *d = opendir(dir);
        cr_assert_not_null(d);
        struct dirent *e;
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n < 7 || strcmp(e->d_name + n - 7, ".tsfile") != 0) continue;
            char *path = NULL;
            cr_assert_gt(asprintf(&path, "%s/%s", dir, e->d_name), 0);
            LookupCheck lc = {0};
            cr_assert_eq(tsf_reader_open(path, &lc.r, NULL), 0, "%s", path);
            cr_assert_eq(tsf_reader_foreach_series(lc.r, lookup_each, &lc), 0, "%s", path);
            tsf_reader_close(lc.r);
            free(path);
            cr_expect_eq(lc.missed, 0, "%s/%s: %d series not found by lookup, first %s", sub[k], e->d_name,
                         lc.missed, lc.first_miss);
            total += lc.found;
        }
        closedir(d);
    }
    cr_assert_gt(total, 1000);
}
