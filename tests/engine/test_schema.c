/*
 * test_schema.c: engine/schema.c: IoTDB name rules, storage groups and
 * series, persistence of the text log across reopen (torn tail, corrupt
 * lines, rewrite), TTL, and concurrent use.  Each test works in a fresh
 * directory under /tmp, removed at the end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "schema.h"
#include "tsf_error.h"

static char tmp_dir[256];
static char sys_dir[300];
static char log_path[350];

static void setup(void)
{
    strcpy(tmp_dir, "/tmp/tsfs-schema-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp_dir));
    snprintf(sys_dir, sizeof sys_dir, "%s/system", tmp_dir);
    snprintf(log_path, sizeof log_path, "%s/schema.log", sys_dir);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void teardown(void)
{
    if (tmp_dir[0]) nftw(tmp_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(schema, .init = setup, .fini = teardown);

static Schema *open_ok(void)
{
    Schema *s = NULL;
    int rc = schema_open(sys_dir, &s);
    cr_assert_eq(rc, 0, "schema_open: %d", rc);
    cr_assert_not_null(s);
    return s;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    char *buf = malloc(1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

static size_t count_lines(const char *path)
{
    char *buf = slurp(path, NULL);
    size_t n = 0;
    for (char *p = buf; *p; p++) n += *p == '\n';
    free(buf);
    return n;
}

static void write_file(const char *path, const char *text)
{
    mkdir(sys_dir, 0755);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* ---- names ---------------------------------------------------------------- */

Test(schema, storage_group_names)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"root", false},     {"root.", false},     {"root.ln", true},     {"root.ln.wf01", true},
        {"root..a", false},  {"root.1", false},    {"root.a-b", false},   {"root.温度", true},
        {"ln.x", false},     {"", false},          {".root.a", false},    {"root.a.", false},
        {"Root.a", false},   {"rootx.a", false},   {"root.a b", false},   {"root.a_1", true},
        {"root.1a", true},   {"root._", true},     {"root.12.ab", false}, {"root.sg.d1", true},
        {"root.a\n", false}, {"root.a\xff", true}, {"root.*", false},     {"root.a.**", false},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cr_expect_eq(schema_valid_sg_name(cases[i].name), cases[i].ok, "sg name \"%s\"", cases[i].name);
    cr_expect_not(schema_valid_sg_name(NULL));
}

Test(schema, device_names_and_nodes)
{
    static const struct {
        const char *name;
        bool ok;
    } devs[] = {
        {"root", false},          {"root.ln", false},   {"root.ln.wf01", true}, {"root.ln.wf01.wt01", true},
        {"root.ln..wt01", false}, {"root.ln.1", false}, {"root.ln.温度", true}, {"ln.a.b", false},
        {"root.ln.a-b", false},
    };
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++)
        cr_expect_eq(schema_valid_device_name(devs[i].name), devs[i].ok, "device \"%s\"", devs[i].name);
    cr_expect(schema_valid_node("s1", 2));
    cr_expect(schema_valid_node("温度", strlen("温度")));
    cr_expect(schema_valid_node("x1.y", 2)); /* only the first len bytes count */
    cr_expect_not(schema_valid_node("", 0));
    cr_expect_not(schema_valid_node("123", 3));
    cr_expect_not(schema_valid_node("a.b", 3));
    cr_expect_not(schema_valid_node("a b", 3));
    cr_expect_not(schema_valid_node("a-b", 3));
}

Test(schema, default_encodings)
{
    cr_expect_eq(schema_default_encoding(TSF_BOOLEAN), TSF_ENC_RLE);
    cr_expect_eq(schema_default_encoding(TSF_INT32), TSF_ENC_TS_2DIFF);
    cr_expect_eq(schema_default_encoding(TSF_INT64), TSF_ENC_TS_2DIFF);
    cr_expect_eq(schema_default_encoding(TSF_DATE), TSF_ENC_TS_2DIFF);
    cr_expect_eq(schema_default_encoding(TSF_TIMESTAMP), TSF_ENC_TS_2DIFF);
    cr_expect_eq(schema_default_encoding(TSF_FLOAT), TSF_ENC_GORILLA);
    cr_expect_eq(schema_default_encoding(TSF_DOUBLE), TSF_ENC_GORILLA);
    cr_expect_eq(schema_default_encoding(TSF_TEXT), TSF_ENC_PLAIN);
    cr_expect_eq(schema_default_encoding(TSF_STRING), TSF_ENC_PLAIN);
    cr_expect_eq(schema_default_encoding(TSF_BLOB), TSF_ENC_PLAIN);
}

/* ---- storage groups ------------------------------------------------------- */

static void collect_sg(void *ctx, const char *sg)
{
    char *buf = ctx;
    strcat(buf, sg);
    strcat(buf, ";");
}

Test(schema, storage_groups_do_not_overlap)
{
    Schema *s = open_ok();
    cr_expect_eq(schema_add_sg(s, "root.ln"), 0);
    cr_expect_eq(schema_add_sg(s, "root.ln"), -EEXIST);
    cr_expect_eq(schema_add_sg(s, "root.ln.wf01"), -EEXIST);
    cr_expect_eq(schema_add_sg(s, "root.lnx"), 0); /* a name prefix, not a path prefix */
    cr_expect_eq(schema_add_sg(s, "root.l"), 0);
    cr_expect_eq(schema_add_sg(s, "root.a.b"), 0);
    cr_expect_eq(schema_add_sg(s, "root.a"), -EEXIST);
    cr_expect_eq(schema_add_sg(s, "root.a.b.c"), -EEXIST);
    cr_expect_eq(schema_add_sg(s, "root.a.c"), 0);
    cr_expect_eq(schema_add_sg(s, "root"), -EINVAL);
    cr_expect_eq(schema_add_sg(s, "root.1"), -EINVAL);
    cr_expect_eq(schema_add_sg(s, NULL), -EINVAL);
    cr_expect(schema_has_sg(s, "root.ln"));
    cr_expect_not(schema_has_sg(s, "root.ln.wf01"));
    cr_expect_not(schema_has_sg(s, "root.a"));

    char names[256] = "";
    schema_foreach_sg(s, collect_sg, names);
    cr_expect_str_eq(names, "root.a.b;root.a.c;root.l;root.ln;root.lnx;");

    char buf[64];
    cr_expect_eq(schema_sg_of(s, "root.ln.wf01.wt01", buf, sizeof buf), 0);
    cr_expect_str_eq(buf, "root.ln");
    cr_expect_eq(schema_sg_of(s, "root.lnx.d", buf, sizeof buf), 0);
    cr_expect_str_eq(buf, "root.lnx");
    cr_expect_eq(schema_sg_of(s, "root.a.b.d", buf, sizeof buf), 0);
    cr_expect_str_eq(buf, "root.a.b");
    cr_expect_eq(schema_sg_of(s, "root.a.d", buf, sizeof buf), -ENOENT);
    cr_expect_eq(schema_sg_of(s, "root.ln", buf, sizeof buf), -ENOENT); /* no device level */
    cr_expect_eq(schema_sg_of(s, "root.zz.d", buf, sizeof buf), -ENOENT);
    cr_expect_eq(schema_sg_of(s, "root", buf, sizeof buf), -ENOENT);
    cr_expect_eq(schema_sg_of(s, "", buf, sizeof buf), -ENOENT);
    cr_expect_eq(schema_sg_of(s, "root.ln.d", buf, 7), -ERANGE); /* "root.ln" needs 8 */
    cr_expect_eq(schema_sg_of(s, "root.ln.d", buf, 8), 0);

    cr_expect_eq(schema_drop_sg(s, "root.ln"), 0);
    cr_expect_eq(schema_drop_sg(s, "root.ln"), -ENOENT);
    cr_expect_eq(schema_add_sg(s, "root.ln.wf01"), 0); /* no overlap any more */
    schema_close(s);
}

/* ---- series ------------------------------------------------------------------ */

static void collect_series(void *ctx, const SeriesSchema *ss)
{
    char *buf = ctx;
    strcat(buf, ss->device);
    strcat(buf, ".");
    strcat(buf, ss->measurement);
    strcat(buf, ";");
}

Test(schema, series_add_get_drop)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.ln"), 0);
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "status", TSF_BOOLEAN, TSF_ENC_RLE, TSF_COMP_SNAPPY), 0);
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "temperature", TSF_FLOAT, TSF_ENC_GORILLA, TSF_COMP_LZ4),
        0);
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf02", "温度", TSF_DOUBLE, TSF_ENC_PLAIN, TSF_COMP_UNCOMPRESSED), 0);

    const SeriesSchema *ss = schema_get_series(s, "root.ln.wf01.wt01", "temperature");
    cr_assert_not_null(ss);
    cr_expect_str_eq(ss->device, "root.ln.wf01.wt01");
    cr_expect_str_eq(ss->measurement, "temperature");
    cr_expect_eq(ss->type, TSF_FLOAT);
    cr_expect_eq(ss->encoding, TSF_ENC_GORILLA);
    cr_expect_eq(ss->compression, TSF_COMP_LZ4);

    /* identical again: fine, same entry; another type or encoding: refused */
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "temperature", TSF_FLOAT, TSF_ENC_GORILLA, TSF_COMP_LZ4),
        0);
    cr_expect_eq(schema_get_series(s, "root.ln.wf01.wt01", "temperature"), ss);
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "temperature", TSF_DOUBLE, TSF_ENC_GORILLA, TSF_COMP_LZ4),
        -EEXIST);
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "temperature", TSF_FLOAT, TSF_ENC_PLAIN, TSF_COMP_LZ4),
        -EEXIST);
    cr_expect_eq(ss->type, TSF_FLOAT);

    /* refusals */
    cr_expect_eq(schema_add_series(s, "root.other.d", "s", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY),
                 -EINVAL); /* outside every group */
    cr_expect_eq(schema_add_series(s, "root.ln", "s", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY),
                 -EINVAL); /* the group is no device */
    cr_expect_eq(schema_add_series(s, "root.ln.d", "1", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY), -EINVAL);
    cr_expect_eq(schema_add_series(s, "root.ln.d", "a.b", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY),
                 -EINVAL);
    cr_expect_eq(schema_add_series(s, "root.ln.d", "b", TSF_BOOLEAN, TSF_ENC_GORILLA, TSF_COMP_SNAPPY),
                 -EINVAL); /* illegal pair */
    cr_expect_eq(schema_add_series(s, "root.ln.d", "t", TSF_TEXT, TSF_ENC_TS_2DIFF, TSF_COMP_SNAPPY),
                 -EINVAL);
    cr_expect_eq(schema_add_series(s, "root.ln.d", "v", TSF_VECTOR, TSF_ENC_PLAIN, TSF_COMP_SNAPPY), -EINVAL);
    cr_expect_eq(schema_add_series(s, "root.ln.d", "x", (TsfType)7, TSF_ENC_PLAIN, TSF_COMP_SNAPPY), -EINVAL);
    cr_expect_eq(schema_add_series(s, "root.ln.d", "x", TSF_INT32, TSF_ENC_PLAIN, (TsfCompression)5),
                 -EINVAL);
    cr_expect_eq(schema_add_series(s, NULL, "x", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY), -EINVAL);

    char names[512] = "";
    schema_foreach_series(s, NULL, collect_series, names);
    cr_expect_str_eq(names, "root.ln.wf01.wt01.status;root.ln.wf01.wt01.temperature;"
                            "root.ln.wf02.温度;");
    names[0] = '\0';
    schema_foreach_series(s, "root.ln.wf02", collect_series, names);
    cr_expect_str_eq(names, "root.ln.wf02.温度;");
    names[0] = '\0';
    schema_foreach_series(s, "root.ln.nothing", collect_series, names);
    cr_expect_str_eq(names, "");

    cr_expect_null(schema_get_series(s, "root.ln.wf01.wt01", "nope"));
    cr_expect_null(schema_get_series(s, "root.ln.nope", "status"));
    cr_expect_eq(schema_drop_series(s, "root.ln.wf01.wt01", "status"), 0);
    cr_expect_eq(schema_drop_series(s, "root.ln.wf01.wt01", "status"), -ENOENT);
    cr_expect_null(schema_get_series(s, "root.ln.wf01.wt01", "status"));
    /* the other series of the device did not move */
    cr_expect_eq(schema_get_series(s, "root.ln.wf01.wt01", "temperature"), ss);
    cr_expect_eq(schema_drop_series(s, "root.ln.wf01.wt01", "temperature"), 0);
    cr_expect_null(schema_get_series(s, "root.ln.wf01.wt01", "temperature"));
    /* re-adding a dropped series with another type is allowed */
    cr_expect_eq(
        schema_add_series(s, "root.ln.wf01.wt01", "temperature", TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_ZSTD),
        0);
    schema_close(s);
}

Test(schema, persists_across_reopen)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.ln"), 0);
    cr_assert_eq(schema_add_sg(s, "root.sg2"), 0);
    cr_assert_eq(schema_add_sg(s, "root.gone"), 0);
    cr_assert_eq(schema_add_series(s, "root.ln.d1", "s1", TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_SNAPPY), 0);
    cr_assert_eq(schema_add_series(s, "root.ln.d1", "s2", TSF_TEXT, TSF_ENC_DICTIONARY, TSF_COMP_GZIP), 0);
    cr_assert_eq(schema_add_series(s, "root.sg2.a.b", "温度", TSF_DOUBLE, TSF_ENC_CHIMP, TSF_COMP_LZMA2), 0);
    cr_assert_eq(schema_add_series(s, "root.ln.d1", "tmp", TSF_INT32, TSF_ENC_RLE, TSF_COMP_LZ4), 0);
    cr_assert_eq(schema_drop_series(s, "root.ln.d1", "tmp"), 0);
    cr_assert_eq(schema_set_ttl(s, "root.sg2", 86400000), 0);
    cr_assert_eq(schema_set_ttl(s, "root.ln", 5), 0);
    cr_assert_eq(schema_set_ttl(s, "root.ln", 0), 0);
    cr_assert_eq(schema_drop_sg(s, "root.gone"), 0);
    schema_close(s);

    s = open_ok();
    cr_expect(schema_has_sg(s, "root.ln"));
    cr_expect(schema_has_sg(s, "root.sg2"));
    cr_expect_not(schema_has_sg(s, "root.gone"));
    cr_expect_eq(schema_get_ttl(s, "root.sg2"), 86400000);
    cr_expect_eq(schema_get_ttl(s, "root.ln"), 0);
    cr_expect_eq(schema_get_ttl(s, "root.none"), 0);
    const SeriesSchema *ss = schema_get_series(s, "root.ln.d1", "s2");
    cr_assert_not_null(ss);
    cr_expect_eq(ss->type, TSF_TEXT);
    cr_expect_eq(ss->encoding, TSF_ENC_DICTIONARY);
    cr_expect_eq(ss->compression, TSF_COMP_GZIP);
    ss = schema_get_series(s, "root.sg2.a.b", "温度");
    cr_assert_not_null(ss);
    cr_expect_eq(ss->type, TSF_DOUBLE);
    cr_expect_eq(ss->encoding, TSF_ENC_CHIMP);
    cr_expect_eq(ss->compression, TSF_COMP_LZMA2);
    cr_expect_not_null(schema_get_series(s, "root.ln.d1", "s1"));
    cr_expect_null(schema_get_series(s, "root.ln.d1", "tmp"));
    schema_close(s);

    /* the log is the documented text */
    char *text = slurp(log_path, NULL);
    cr_expect(strstr(text, "SG root.ln\n") != NULL);
    cr_expect(strstr(text, "SERIES root.ln.d1 s1 INT64 TS_2DIFF SNAPPY\n") != NULL);
    cr_expect(strstr(text, "DROP_SERIES root.ln.d1 tmp\n") != NULL);
    cr_expect(strstr(text, "TTL root.sg2 86400000\n") != NULL);
    cr_expect(strstr(text, "DROP_SG root.gone\n") != NULL);
    free(text);
}

Test(schema, torn_last_line_is_cut_off)
{
    write_file(log_path, "SG root.ln\n"
                         "SERIES root.ln.d1 s1 INT32 PLAIN SNAPPY\n"
                         "SERIES root.ln.d1 s2 INT");
    Schema *s = open_ok();
    cr_expect_not_null(schema_get_series(s, "root.ln.d1", "s1"));
    cr_expect_null(schema_get_series(s, "root.ln.d1", "s2"));
    /* new lines go after the last complete one */
    cr_expect_eq(schema_add_series(s, "root.ln.d1", "s3", TSF_FLOAT, TSF_ENC_GORILLA, TSF_COMP_SNAPPY), 0);
    schema_close(s);
    char *text = slurp(log_path, NULL);
    cr_expect_str_eq(text, "SG root.ln\n"
                           "SERIES root.ln.d1 s1 INT32 PLAIN SNAPPY\n"
                           "SERIES root.ln.d1 s3 FLOAT GORILLA SNAPPY\n");
    free(text);
    s = open_ok();
    cr_expect_not_null(schema_get_series(s, "root.ln.d1", "s3"));
    schema_close(s);
}

Test(schema, torn_only_line_and_empty_log)
{
    write_file(log_path, "SG root.l");
    Schema *s = open_ok();
    cr_expect_not(schema_has_sg(s, "root.l"));
    cr_expect_not(schema_has_sg(s, "root.ln"));
    schema_close(s);
    size_t len;
    free(slurp(log_path, &len));
    cr_expect_eq(len, 0);
    s = open_ok(); /* empty log */
    schema_close(s);
}

Test(schema, corrupt_lines_are_refused)
{
    static const char *bad[] = {
        "SG root.ln\nBOGUS line\n",
        "SG root.ln\nSG root.ln\n",                              /* replays to -EEXIST */
        "SG root.1\n",                                           /* bad name */
        "SG root.ln\nSERIES root.ln.d s INT32 PLAIN\n",          /* missing field */
        "SG root.ln\nSERIES root.ln.d s INT32 PLAIN SNAPPY x\n", /* extra field */
        "SG root.ln\nSERIES root.ln.d s INT99 PLAIN SNAPPY\n",
        "SG root.ln\nSERIES root.ln.d s BOOLEAN GORILLA SNAPPY\n",
        "SG root.ln\nSERIES root.x.d s INT32 PLAIN SNAPPY\n",
        "SG root.ln\nDROP_SERIES root.ln.d s\n",
        "DROP_SG root.ln\n",
        "SG root.ln\nTTL root.ln abc\n",
        "SG root.ln\nTTL root.ln -5\n",
        "SG root.ln\nTTL root.ln 99999999999999999999999\n",
        "SG root.ln\nTTL root.x 5\n",
        "SG  root.ln\n",
        "SG root.ln \n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        write_file(log_path, bad[i]);
        Schema *s = (Schema *)1;
        int rc = schema_open(sys_dir, &s);
        cr_expect_eq(rc, TSF_ECORRUPT, "log %zu gave %d", i, rc);
        cr_expect_null(s);
        if (rc == 0) schema_close(s);
    }
    /* a NUL byte inside */
    mkdir(sys_dir, 0755);
    FILE *f = fopen(log_path, "wb");
    fwrite("SG root.ln\nSG ro\0t.x\n", 1, 21, f);
    fclose(f);
    Schema *s = NULL;
    cr_expect_eq(schema_open(sys_dir, &s), TSF_ECORRUPT);
    /* blank lines are tolerated */
    write_file(log_path, "\nSG root.ln\n\n");
    cr_assert_eq(schema_open(sys_dir, &s), 0);
    cr_expect(schema_has_sg(s, "root.ln"));
    schema_close(s);
}

Test(schema, drop_sg_drops_its_series)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.a"), 0);
    cr_assert_eq(schema_add_sg(s, "root.b"), 0);
    for (int i = 0; i < 10; i++) {
        char dev[32];
        snprintf(dev, sizeof dev, "root.a.d%d", i);
        cr_assert_eq(schema_add_series(s, dev, "s", TSF_INT32, TSF_ENC_RLE, TSF_COMP_SNAPPY), 0);
        snprintf(dev, sizeof dev, "root.b.d%d", i);
        cr_assert_eq(schema_add_series(s, dev, "s", TSF_INT32, TSF_ENC_RLE, TSF_COMP_SNAPPY), 0);
    }
    cr_assert_eq(schema_set_ttl(s, "root.a", 1000), 0);
    cr_assert_eq(schema_drop_sg(s, "root.a"), 0);
    cr_expect_null(schema_get_series(s, "root.a.d3", "s"));
    cr_expect_not_null(schema_get_series(s, "root.b.d3", "s"));
    cr_expect_eq(schema_get_ttl(s, "root.a"), 0);
    char names[1024] = "";
    schema_foreach_series(s, NULL, collect_series, names);
    cr_expect_eq(strstr(names, "root.a."), NULL);
    /* re-created group starts empty, without the old TTL */
    cr_assert_eq(schema_add_sg(s, "root.a"), 0);
    cr_expect_null(schema_get_series(s, "root.a.d3", "s"));
    cr_expect_eq(schema_get_ttl(s, "root.a"), 0);
    cr_expect_eq(schema_add_series(s, "root.a.d3", "s", TSF_DOUBLE, TSF_ENC_GORILLA, TSF_COMP_SNAPPY), 0);
    schema_close(s);

    s = open_ok();
    const SeriesSchema *ss = schema_get_series(s, "root.a.d3", "s");
    cr_assert_not_null(ss);
    cr_expect_eq(ss->type, TSF_DOUBLE);
    cr_expect_null(schema_get_series(s, "root.a.d4", "s"));
    cr_expect_not_null(schema_get_series(s, "root.b.d4", "s"));
    cr_expect_eq(schema_get_ttl(s, "root.a"), 0);
    schema_close(s);
}

Test(schema, ttl)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.t"), 0);
    cr_expect_eq(schema_get_ttl(s, "root.t"), 0);
    cr_expect_eq(schema_set_ttl(s, "root.t", 3600000), 0);
    cr_expect_eq(schema_set_ttl(s, "root.t", 3600000), 0); /* same: no new line */
    cr_expect_eq(schema_set_ttl(s, "root.t", -1), -EINVAL);
    cr_expect_eq(schema_set_ttl(s, "root.none", 5), -ENOENT);
    cr_expect_eq(schema_set_ttl(s, "root.t", INT64_MAX), 0);
    schema_close(s);
    s = open_ok();
    cr_expect_eq(schema_get_ttl(s, "root.t"), INT64_MAX);
    schema_close(s);
    cr_expect_eq(count_lines(log_path), 3);
}

static size_t count_series(Schema *s)
{
    char *names = calloc(1, 1 << 16);
    schema_foreach_series(s, NULL, collect_series, names);
    size_t n = 0;
    for (char *p = names; *p; p++) n += *p == ';';
    free(names);
    return n;
}

Test(schema, rewrite_keeps_everything, .timeout = 120)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.keep"), 0);
    cr_assert_eq(schema_set_ttl(s, "root.keep", 777), 0);
    for (int i = 0; i < 20; i++) {
        char m[16];
        snprintf(m, sizeof m, "s%d", i);
        cr_assert_eq(schema_add_series(s, "root.keep.d", m, TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_LZ4), 0);
    }
    const SeriesSchema *kept = schema_get_series(s, "root.keep.d", "s7");
    for (int i = 0; i < 400; i++) {
        cr_assert_eq(schema_add_sg(s, "root.tmp"), 0);
        cr_assert_eq(schema_add_series(s, "root.tmp.d", "x", TSF_FLOAT, TSF_ENC_GORILLA, TSF_COMP_SNAPPY), 0);
        cr_assert_eq(schema_drop_series(s, "root.tmp.d", "x"), 0);
        cr_assert_eq(schema_drop_sg(s, "root.tmp"), 0);
    }
    /* bounded, not 6000+ lines */
    size_t lines = count_lines(log_path);
    cr_expect_lt(lines, 300, "log has %zu lines", lines);
    char temp[400];
    snprintf(temp, sizeof temp, "%s.temp", log_path);
    cr_expect_eq(access(temp, F_OK), -1, "temp file left behind");
    /* entries did not move */
    cr_expect_eq(schema_get_series(s, "root.keep.d", "s7"), kept);
    cr_assert_eq(schema_add_series(s, "root.keep.d", "last", TSF_BOOLEAN, TSF_ENC_RLE, TSF_COMP_UNCOMPRESSED),
                 0);
    schema_close(s);

    s = open_ok();
    cr_expect(schema_has_sg(s, "root.keep"));
    cr_expect_not(schema_has_sg(s, "root.tmp"));
    cr_expect_eq(schema_get_ttl(s, "root.keep"), 777);
    cr_expect_eq(count_series(s), 21);
    const SeriesSchema *ss = schema_get_series(s, "root.keep.d", "s19");
    cr_assert_not_null(ss);
    cr_expect_eq(ss->type, TSF_INT64);
    cr_expect_eq(ss->encoding, TSF_ENC_TS_2DIFF);
    cr_expect_eq(ss->compression, TSF_COMP_LZ4);
    cr_expect_not_null(schema_get_series(s, "root.keep.d", "last"));
    schema_close(s);
}

Test(schema, long_log_is_rewritten_at_open)
{
    mkdir(sys_dir, 0755);
    FILE *f = fopen(log_path, "wb");
    for (int i = 0; i < 2000; i++) fputs("SG root.a\nDROP_SG root.a\n", f);
    fputs("SG root.b\n", f);
    fclose(f);
    Schema *s = open_ok();
    cr_expect(schema_has_sg(s, "root.b"));
    cr_expect_not(schema_has_sg(s, "root.a"));
    schema_close(s);
    cr_expect_eq(count_lines(log_path), 1);
}

Test(schema, stale_temp_file_is_ignored)
{
    char temp[400];
    snprintf(temp, sizeof temp, "%s.temp", log_path);
    write_file(log_path, "SG root.real\n");
    write_file(temp, "SG root.half\nSG root.ha");
    Schema *s = open_ok();
    cr_expect(schema_has_sg(s, "root.real"));
    cr_expect_not(schema_has_sg(s, "root.half"));
    schema_close(s);
    cr_expect_eq(access(temp, F_OK), -1);
}

/* ---- callbacks and threads ---------------------------------------------------- */

typedef struct Reent {
    Schema *s;
    int seen;
    int busy;
} Reent;

static void reent_sg(void *ctx, const char *sg)
{
    Reent *r = ctx;
    r->seen += schema_has_sg(r->s, sg);
    if (schema_add_sg(r->s, "root.newone") == -EBUSY) r->busy++;
    if (schema_drop_sg(r->s, sg) == -EBUSY) r->busy++;
}

static void reent_series(void *ctx, const SeriesSchema *ss)
{
    Reent *r = ctx;
    r->seen += schema_get_series(r->s, ss->device, ss->measurement) == ss;
    if (schema_drop_series(r->s, ss->device, ss->measurement) == -EBUSY) r->busy++;
}

Test(schema, callbacks_may_read_but_not_change)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.a"), 0);
    cr_assert_eq(schema_add_sg(s, "root.b"), 0);
    cr_assert_eq(schema_add_series(s, "root.a.d", "x", TSF_INT32, TSF_ENC_PLAIN, TSF_COMP_SNAPPY), 0);
    Reent r = {s, 0, 0};
    schema_foreach_sg(s, reent_sg, &r);
    cr_expect_eq(r.seen, 2);
    cr_expect_eq(r.busy, 4);
    r = (Reent){s, 0, 0};
    schema_foreach_series(s, NULL, reent_series, &r);
    cr_expect_eq(r.seen, 1);
    cr_expect_eq(r.busy, 1);
    cr_expect_not(schema_has_sg(s, "root.newone"));
    cr_expect_eq(schema_add_sg(s, "root.newone"), 0); /* after the walk it works */
    schema_close(s);
}

typedef struct Worker {
    Schema *s;
    int id;
    int failures;
} Worker;

static void *worker(void *arg)
{
    Worker *w = arg;
    char dev[64], sg[64];
    for (int i = 0; i < 100; i++) {
        snprintf(dev, sizeof dev, "root.mt.t%d.d%d", w->id, i % 10);
        char m[16];
        snprintf(m, sizeof m, "m%d", i);
        if (schema_add_series(w->s, dev, m, TSF_INT64, TSF_ENC_TS_2DIFF, TSF_COMP_SNAPPY)) w->failures++;
        if (schema_sg_of(w->s, dev, sg, sizeof sg) || strcmp(sg, "root.mt")) w->failures++;
        /* every thread also races on the same series: identical adds succeed */
        if (schema_add_series(w->s, "root.mt.shared", "s", TSF_INT32, TSF_ENC_RLE, TSF_COMP_SNAPPY))
            w->failures++;
        const SeriesSchema *ss = schema_get_series(w->s, dev, m);
        if (!ss || ss->type != TSF_INT64) w->failures++;
    }
    return NULL;
}

Test(schema, concurrent_use, .timeout = 120)
{
    Schema *s = open_ok();
    cr_assert_eq(schema_add_sg(s, "root.mt"), 0);
    enum { N = 4 };
    pthread_t th[N];
    Worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (Worker){s, i, 0};
        pthread_create(&th[i], NULL, worker, &w[i]);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(w[i].failures, 0, "thread %d: %d failures", i, w[i].failures);
    }
    cr_expect_eq(count_series(s), N * 100 + 1);
    schema_close(s);
    s = open_ok();
    cr_expect_eq(count_series(s), N * 100 + 1);
    schema_close(s);
}

Test(schema, open_creates_directory_and_refuses_bad_dir)
{
    Schema *s = NULL;
    cr_expect_eq(schema_open("", &s), -EINVAL);
    char deep[400];
    snprintf(deep, sizeof deep, "%s/no/such/dir", tmp_dir);
    cr_expect_eq(schema_open(deep, &s), -ENOENT);
    cr_expect_null(s);
    s = open_ok();
    schema_close(s);
    struct stat st;
    cr_expect_eq(stat(log_path, &st), 0);
}
