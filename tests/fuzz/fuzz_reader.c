/*
 * fuzz_reader.c: libFuzzer target for the whole read path of a TsFile.
 *
 * The input is a file.  The reader works on paths, so each input is written
 * to one file per process (/tmp/tsfs-fuzz-<pid>.tsfile) and then:
 *
 *   1. tsf_reader_open; on success every series is visited with
 *      tsf_reader_foreach_series (metas deep-copied), each is scanned over
 *      all time with tsf_series_scan (aligned value columns with their
 *      device's time column), and a few series are looked up again with
 *      tsf_reader_find_series (plus one that does not exist);
 *   2. tsf_reader_open_data and tsf_data_next over the whole data section;
 *   3. tsf_writer_recover (truncates the file and rebuilds its index), the
 *      returned writer is closed, and the result is opened and scanned as
 *      in step 1.
 *
 * Errors are expected and ignored: the target only has to finish without a
 * crash, hang, leak or sanitizer report.  Every value handed to a callback
 * is read (binary values byte by byte) so that a bad pointer or length is
 * caught by AddressSanitizer where it is produced.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data_scan.h"
#include "reader.h"
#include "series_scan.h"
#include "writer.h"

#define MAX_METAS   4096 /* series kept for scanning; the walk goes on past it */
#define MAX_LOOKUPS 8

static char g_path[64];

typedef struct Metas {
    TsfSeriesMeta *a;
    size_t n, cap;
} Metas;

static int collect(void *ctx, const TsfSeriesMeta *sm)
{
    Metas *m = ctx;
    /* The struct's strings must be readable for their whole length. */
    volatile uint8_t sink = 0;
    for (size_t i = 0; i < sm->device_len; i++) sink ^= (uint8_t)sm->device[i];
    for (size_t i = 0; i < sm->name_len; i++) sink ^= (uint8_t)sm->name[i];
    (void)sink;
    if (m->n >= MAX_METAS) return 0;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        TsfSeriesMeta *a = realloc(m->a, cap * sizeof(*a));
        if (!a) return -1;
        m->a = a;
        m->cap = cap;
    }
    if (tsf_series_meta_copy(&m->a[m->n], sm) != 0) return -1;
    m->n++;
    return 0;
}

typedef struct Sink {
    TsfType type;
    uint64_t acc;
    uint64_t points;
} Sink;

static int on_points(void *ctx, const int64_t *times, const void *values, size_t n)
{
    Sink *s = ctx;
    size_t esz = tsf_type_elem_size(s->type);
    const uint8_t *v = values;
    for (size_t i = 0; i < n; i++) {
        s->acc += (uint64_t)times[i];
        if (tsf_type_phys(s->type) == TSF_PHYS_BIN) {
            TsfBin b;
            memcpy(&b, v + i * esz, sizeof(b));
            for (uint32_t k = 0; k < b.len; k++) s->acc += b.ptr[k];
        } else {
            for (size_t k = 0; k < esz; k++) s->acc += v[i * esz + k];
        }
    }
    s->points += n;
    return 0;
}

/* The time column of sm's device among the collected metas, or NULL. */
static const TsfSeriesMeta *time_column_of(const Metas *m, const TsfSeriesMeta *sm)
{
    for (size_t i = 0; i < m->n; i++) {
        const TsfSeriesMeta *t = &m->a[i];
        if ((t->mask & TSF_MASK_TIME_COLUMN) && t->name_len == 0 && t->device_len == sm->device_len &&
            memcmp(t->device, sm->device, sm->device_len) == 0)
            return t;
    }
    return NULL;
}

static void scan_all(TsfReader *r, const Metas *m)
{
    for (size_t i = 0; i < m->n; i++) {
        const TsfSeriesMeta *sm = &m->a[i];
        const TsfSeriesMeta *tm = NULL;
        if (sm->mask & TSF_MASK_VALUE_COLUMN) {
            tm = time_column_of(m, sm);
            if (!tm) continue;
        }
        Sink s = {sm->type, 0, 0};
        TsfScanCounters cnt = {0};
        (void)tsf_series_scan(r, sm, tm, INT64_MIN, INT64_MAX, on_points, &s, &cnt);
        /* a narrow range exercises the page and chunk skipping */
        (void)tsf_series_scan(r, sm, tm, sm->stats.start, sm->stats.start, on_points, &s, NULL);
    }
}

static void lookups(TsfReader *r, const Metas *m)
{
    size_t step = m->n / MAX_LOOKUPS + 1;
    for (size_t i = 0; i < m->n; i += step) {
        TsfSeriesMeta out;
        /* copies are NUL-terminated; names with a NUL inside are simply not found */
        if (tsf_reader_find_series(r, m->a[i].device, m->a[i].name, &out) == 0) tsf_series_meta_free(&out);
    }
    TsfSeriesMeta out;
    if (tsf_reader_find_series(r, "root.no.such", "series", &out) == 0) tsf_series_meta_free(&out);
    if (m->n > 0 && tsf_reader_find_series(r, m->a[0].device, "", &out) == 0) tsf_series_meta_free(&out);
}

static void metas_free(Metas *m)
{
    for (size_t i = 0; i < m->n; i++) tsf_series_meta_free(&m->a[i]);
    free(m->a);
    memset(m, 0, sizeof(*m));
}

static void read_whole(const char *path)
{
    TsfReader *r;
    TsfErr err;
    if (tsf_reader_open(path, &r, &err) != 0) return;
    (void)tsf_reader_version(r);
    (void)tsf_reader_meta_offset(r);
    Metas m = {0};
    (void)tsf_reader_foreach_series(r, collect, &m);
    scan_all(r, &m);
    lookups(r, &m);
    /* a second walk reuses the loaded index */
    Metas again = {0};
    (void)tsf_reader_foreach_series(r, collect, &again);
    metas_free(&again);
    metas_free(&m);
    tsf_reader_close(r);
}

static void walk_data(const char *path)
{
    TsfReader *r;
    TsfErr err;
    if (tsf_reader_open_data(path, &r, &err) != 0) return;
    uint64_t pos = 7; /* after the head */
    TsfRecord rec;
    memset(&rec, 0, sizeof(rec));
    /* each record moves pos forward, so the walk ends */
    while (tsf_data_next(r, &pos, &rec) == 1) {
        if (rec.kind == TSF_REC_CHUNK_GROUP && rec.device.data) (void)strlen((const char *)rec.device.data);
    }
    tsf_record_free(&rec);
    tsf_reader_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_path[0]) snprintf(g_path, sizeof(g_path), "/tmp/tsfs-fuzz-%ld.tsfile", (long)getpid());
    FILE *f = fopen(g_path, "wb");
    if (!f) return 0;
    if (size && fwrite(data, 1, size, f) != size) {
        fclose(f);
        return 0;
    }
    if (fclose(f) != 0) return 0;

    read_whole(g_path);
    walk_data(g_path);

    TsfWriter *w;
    TsfErr err;
    TsfRecoverInfo info;
    if (tsf_writer_recover(g_path, NULL, &w, &info, &err) == 0) {
        (void)tsf_writer_position(w);
        if (tsf_writer_close(w) == 0) {
            read_whole(g_path);
            walk_data(g_path);
        }
    }
    return 0;
}
