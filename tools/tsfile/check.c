/*
 * check.c: `tsfile check PATH...`: verifies TsFiles and their companions.
 *
 * A PATH is a TsFile or a directory (a tsfs DATA_DIR, or any tree of
 * TsFiles): directories are walked and every *.tsfile is checked with its
 * .tsfile.resource and .tsfile.mods.  Each fault is one line on stdout,
 * "PATH: what is wrong", and the run ends with "check: N files, M faults".
 * Exit status: 0 clean, 1 any fault, 2 usage (or a PATH that is not there).
 *
 * A closed TsFile is checked twice over, from both ends, and the two views
 * must agree:
 *   1. the data section, record by record from the head to the separator
 *      (which must sit at the metaOffset of TsFileMetadata): every chunk is
 *      opened and every page decoded; times must strictly increase within a
 *      chunk; page statistics must match the decoded page; the chunk's
 *      statistics are computed from its points.  Aligned value chunks are
 *      decoded against the time chunk of their own chunk group, page by page.
 *   2. the index, series by series: every chunk offset it names must be one
 *      the data walk found (a chunk header, in a chunk group of the same
 *      device, with the same measurement, type and column kind); chunk and
 *      series statistics must equal the computed ones (count, start and end
 *      time, min/max/first/last where the type has them, integer sums);
 *      devices and measurements must come in index order, every series
 *      must be found again through the bloom filter and the index tree, and
 *      every chunk of the data section must be named by the index once.
 * Values of FLOAT/DOUBLE chunks in lossy encodings (RLE and TS_2DIFF round
 * to the float precision, SPRINTZ, RLBE and GORILLA_V1 do not round-trip in
 * the reference either) are not compared with the statistics, which the
 * writer computed before encoding: only count and times are.
 *
 * A .resource must parse and name exactly the devices with data in the
 * file, with their smallest and largest times.  A .mods must consist of
 * complete DELETION lines (spec §9.5); it is read, never repaired.
 *
 * Unclosed files (no tail magic): the engine's working files look like
 * this.  A file in the engine's layout (<DATA_DIR>/sequence|unsequence/<sg>/
 * <partition>/<name>.tsfile) without a .resource is taken as one: it is
 * reported on a line of its own, not as a fault, and its data section is
 * checked up to its last plan-index record (the last flush the engine
 * finished; what follows may still be in flight or torn by a crash, and the
 * engine's recovery cuts it).  Anywhere else, or with a .resource beside
 * it, an unclosed file is a fault (`tsfile recover` repairs it).  A file
 * whose data section ends with a separator but has no tail lost its index.
 *
 * The reader keeps the first error it meets; check takes (and clears) it at
 * each fault, so every fault line carries its own message.
 */
#include <dirent.h>
#include <errno.h>
#include <float.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data_scan.h"
#include "lines.h"
#include "reader.h"
#include "resource.h"
#include "tool.h"

#define MAX_FAULT_LINES 20 /* per file; the rest are counted */
#define NO_GROUP        UINT32_MAX

typedef struct Totals {
    unsigned files;  /* TsFiles checked */
    unsigned faults; /* over all files */
    bool verbose;
} Totals;

/* One chunk found by the data walk. */
typedef struct Fact {
    uint64_t offset;
    uint32_t group; /* index into Check.devices, NO_GROUP before any group */
    char *name;
    uint8_t marker;
    TsfType type;
    TsfEncoding enc;
    bool decoded;    /* every page decoded and in order: st is the truth */
    bool referenced; /* named by the index */
    double scale;    /* sum of |x| of its values */
    TsfStats st;     /* computed from the decoded points */
} Fact;

typedef struct Check {
    Totals *tot;
    const char *path;
    TsfReader *r;
    unsigned faults;  /* of this file */
    unsigned printed; /* fault lines printed for this file */
    /* working files: faults after the last commit point wait here */
    bool hold;
    GPtrArray *held;
    GPtrArray *devices;  /* char*, one per chunk group, in file order */
    GPtrArray *facts;    /* Fact*, in file order */
    GHashTable *by_off;  /* offset -> Fact* */
    bool scan_done;      /* the data walk reached its end without a fault */
    uint64_t scan_end;   /* where the data walk stopped */
    bool data_bad;       /* some chunk could not be verified */
    TsfColumn col, tcol; /* value pages; time pages (always int64) */
    /* the time chunk of the current chunk group, decoded */
    int64_t *ttimes;
    size_t tn, tcap;
    uint32_t *trows; /* rows of each time page */
    size_t tpages, trcap;
    uint32_t tgroup;
    uint8_t tmarker;
    bool tvalid;
    /* index walk */
    GString *prev_dev, *prev_name;
    bool have_prev;
    GPtrArray *series_keys; /* "device\0name" copies, for the lookup check */
    uint64_t series, chunks, points;
} Check;

/* ---- fault lines ------------------------------------------------------------------ */

static void emit_line(Check *ck, char *line)
{
    if (ck->hold) {
        g_ptr_array_add(ck->held, line);
        return;
    }
    ck->faults++;
    ck->tot->faults++;
    if (ck->printed++ < MAX_FAULT_LINES) puts(line);
    g_free(line);
}

/* "WHERE: message"; WHERE is the file itself or a companion of it. */
static void __attribute__((format(printf, 3, 4))) fault_in(Check *ck, const char *where, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    emit_line(ck, g_strdup_printf("%s: %s", where, msg));
    g_free(msg);
}

#define fault(ck, ...) fault_in((ck), (ck)->path, __VA_ARGS__)

/* Faults held for a working file become real at a commit point. */
static void commit_held(Check *ck)
{
    bool hold = ck->hold;
    ck->hold = false;
    for (guint i = 0; i < ck->held->len; i++) emit_line(ck, ck->held->pdata[i]);
    g_ptr_array_set_size(ck->held, 0);
    ck->hold = hold;
}

static void drop_held(Check *ck)
{
    for (guint i = 0; i < ck->held->len; i++) g_free(ck->held->pdata[i]);
    g_ptr_array_set_size(ck->held, 0);
}

/* The reader's recorded error as text (with its offset), then cleared so
 * the next fault records its own. */
static const char *take_err(Check *ck, int rc, char *buf, size_t n)
{
    const TsfErr *e = tsf_reader_err(ck->r);
    if (e->code && e->offset >= 0)
        snprintf(buf, n, "%s (at offset %" PRId64 ")", e->msg, e->offset);
    else if (e->code)
        snprintf(buf, n, "%s", e->msg);
    else
        snprintf(buf, n, "%s", tsf_strerror(rc));
    tsf_reader_clear_err(ck->r);
    return buf;
}

/* ---- statistics ------------------------------------------------------------------- */

/* Do the decoded values equal what the writer saw?  Not for the encodings
 * that change floating-point values (see the design comment). */
static bool values_exact(TsfType t, TsfEncoding e)
{
    if (t != TSF_FLOAT && t != TSF_DOUBLE) return true;
    return e != TSF_ENC_RLE && e != TSF_ENC_TS_2DIFF && e != TSF_ENC_SPRINTZ && e != TSF_ENC_RLBE &&
           e != TSF_ENC_GORILLA_V1;
}

static bool same_f(double a, double b)
{
    return a == b || (isnan(a) && isnan(b));
}

static bool same_bin(TsfBin a, TsfBin b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void num_text(TsfType t, const void *v, char *out)
{
    out[ln_render_value(t, v, out)] = '\0';
}

/* Compares stored statistics with those computed from the data; on a
 * difference writes what differs into why and returns false. */
/* Sum of |x| over n physical values of a floating or int64 type (the
 * scale of the rounding error a double sum may carry); 0 for the rest. */
static double abs_sum(TsfType t, const void *v, size_t n)
{
    double s = 0;
    switch (tsf_type_phys(t)) {
    case TSF_PHYS_I64:
        for (size_t i = 0; i < n; i++) s += fabs((double)((const int64_t *)v)[i]);
        break;
    case TSF_PHYS_F32:
        for (size_t i = 0; i < n; i++) s += fabs((double)((const float *)v)[i]);
        break;
    case TSF_PHYS_F64:
        for (size_t i = 0; i < n; i++) s += fabs(((const double *)v)[i]);
        break;
    default: break;
    }
    return s;
}

/* Double sums of the same values added in another order may differ by
 * about count * epsilon * sum|x|; anything beyond that is other data. */
static bool sums_agree(double a, double b, uint32_t count, double scale)
{
    if (same_f(a, b)) return true;
    if (!isfinite(a) || !isfinite(b) || !isfinite(scale)) return !isfinite(scale);
    return fabs(a - b) <= 2.0 * count * DBL_EPSILON * scale;
}

/* Compares stored statistics with those computed from the data; on a
 * difference writes what differs into why and returns false.  scale: sum
 * of |x| of the data (for the double sums). */
static bool stats_agree(const TsfStats *file, const TsfStats *data, bool values, double scale, char *why,
                        size_t n)
{
    if (file->count != data->count) {
        snprintf(why, n, "count %u, the data has %u points", file->count, data->count);
        return false;
    }
    if (data->count == 0) return true; /* nothing else is defined (spec §3.4) */
    if (file->start != data->start || file->end != data->end) {
        snprintf(why, n, "time range %" PRId64 "..%" PRId64 ", the data spans %" PRId64 "..%" PRId64,
                 file->start, file->end, data->start, data->end);
        return false;
    }
    if (!values) return true;
    const char *field = NULL;
    char a[LN_MAX_SCALAR + 1] = "", b[LN_MAX_SCALAR + 1] = "";
    TsfType t = data->type;
#define CMP_NUM(F, EQ)                                                                                       \
    do {                                                                                                     \
        if (!(EQ(file->v.F.min, data->v.F.min))) {                                                           \
            field = "min";                                                                                   \
            num_text(t, &file->v.F.min, a);                                                                  \
            num_text(t, &data->v.F.min, b);                                                                  \
        } else if (!(EQ(file->v.F.max, data->v.F.max))) {                                                    \
            field = "max";                                                                                   \
            num_text(t, &file->v.F.max, a);                                                                  \
            num_text(t, &data->v.F.max, b);                                                                  \
        } else if (!(EQ(file->v.F.first, data->v.F.first))) {                                                \
            field = "first value";                                                                           \
            num_text(t, &file->v.F.first, a);                                                                \
            num_text(t, &data->v.F.first, b);                                                                \
        } else if (!(EQ(file->v.F.last, data->v.F.last))) {                                                  \
            field = "last value";                                                                            \
            num_text(t, &file->v.F.last, a);                                                                 \
            num_text(t, &data->v.F.last, b);                                                                 \
        }                                                                                                    \
    } while (0)
#define EQ_INT(x, y) ((x) == (y))
    switch (t) {
    case TSF_BOOLEAN:
        if (file->v.b.first != data->v.b.first || file->v.b.last != data->v.b.last) {
            field = "first/last value";
        } else if (file->v.b.sum != data->v.b.sum) {
            field = "count of true values";
            snprintf(a, sizeof(a), "%" PRId64, file->v.b.sum);
            snprintf(b, sizeof(b), "%" PRId64, data->v.b.sum);
        }
        break;
    case TSF_INT32:
    case TSF_DATE:
        CMP_NUM(i32, EQ_INT);
        if (!field && file->v.i32.sum != data->v.i32.sum) {
            field = "sum";
            snprintf(a, sizeof(a), "%" PRId64, file->v.i32.sum);
            snprintf(b, sizeof(b), "%" PRId64, data->v.i32.sum);
        }
        if (field && t == TSF_DATE) t = TSF_INT32; /* print the stored ints */
        break;
    case TSF_INT64:
    case TSF_TIMESTAMP:
        CMP_NUM(i64, EQ_INT);
        if (!field && !sums_agree(file->v.i64.sum, data->v.i64.sum, data->count, scale)) field = "sum";
        break;
    case TSF_FLOAT:
        CMP_NUM(f32, same_f);
        if (!field && !sums_agree(file->v.f32.sum, data->v.f32.sum, data->count, scale)) field = "sum";
        break;
    case TSF_DOUBLE:
        CMP_NUM(f64, same_f);
        if (!field && !sums_agree(file->v.f64.sum, data->v.f64.sum, data->count, scale)) field = "sum";
        break;
    case TSF_TEXT:
    case TSF_STRING:
        if (!same_bin(file->v.bin.first, data->v.bin.first))
            field = "first value";
        else if (!same_bin(file->v.bin.last, data->v.bin.last))
            field = "last value";
        else if (t == TSF_STRING && !same_bin(file->v.bin.min, data->v.bin.min))
            field = "min";
        else if (t == TSF_STRING && !same_bin(file->v.bin.max, data->v.bin.max))
            field = "max";
        break;
    default: break; /* BLOB, VECTOR: count and times only */
    }
#undef CMP_NUM
#undef EQ_INT
    if (!field) return true;
    if (a[0] || b[0])
        snprintf(why, n, "%s %s, the data has %s", field, a, b);
    else
        snprintf(why, n, "%s differs from the data", field);
    return false;
}

/* ---- the data section --------------------------------------------------------------- */

static const char *group_device(const Check *ck, uint32_t g)
{
    return g == NO_GROUP ? "(no chunk group)" : ck->devices->pdata[g];
}

/* "chunk root.sg.d1.s1 at 1234" for fault lines. */
static char *chunk_label(const Check *ck, const Fact *f)
{
    if (f->marker & TSF_MASK_TIME_COLUMN)
        return g_strdup_printf("time chunk of %s at %" PRIu64, group_device(ck, f->group), f->offset);
    return g_strdup_printf("chunk %s.%s at %" PRIu64, group_device(ck, f->group), f->name, f->offset);
}

static int push_time_page(Check *ck, const int64_t *t, size_t n)
{
    if (ck->tn + n > ck->tcap) {
        size_t cap = ck->tcap ? ck->tcap : 4096;
        while (cap < ck->tn + n) cap *= 2;
        int64_t *p = realloc(ck->ttimes, cap * sizeof(*p));
        if (!p) return -ENOMEM;
        ck->ttimes = p;
        ck->tcap = cap;
    }
    if (ck->tpages == ck->trcap) {
        size_t cap = ck->trcap ? ck->trcap * 2 : 64;
        uint32_t *p = realloc(ck->trows, cap * sizeof(*p));
        if (!p) return -ENOMEM;
        ck->trows = p;
        ck->trcap = cap;
    }
    memcpy(ck->ttimes + ck->tn, t, n * sizeof(*t));
    ck->tn += n;
    ck->trows[ck->tpages++] = (uint32_t)n;
    return 0;
}

/* Pages of one chunk: decoded, ordered, page statistics compared, chunk
 * statistics computed into f->st.  Returns true when all of it held. */
static bool verify_pages(Check *ck, TsfChunk *c, Fact *f)
{
    bool time_col = c->h.marker & TSF_MASK_TIME_COLUMN, value_col = c->h.marker & TSF_MASK_VALUE_COLUMN;
    bool exact = values_exact(c->h.type, c->h.encoding);
    char *label = chunk_label(ck, f), buf[300], why[200];
    bool ok = true, have_last = false;
    int64_t last = 0;
    size_t at = 0; /* aligned value chunks: first row of the page in the time chunk */
    uint32_t pageno = 0;
    int k;
    if (time_col) {
        ck->tn = ck->tpages = 0;
        ck->tgroup = f->group;
        ck->tmarker = c->h.marker;
        ck->tvalid = false;
    }
    if (value_col && c->h.data_size == 0) { /* an all-null column: no pages, no time chunk needed */
        g_free(label);
        return true;
    }
    if (value_col) {
        if (ck->tgroup != f->group || f->group == NO_GROUP) {
            fault(ck, "%s: aligned value chunk without a time chunk in its chunk group", label);
            g_free(label);
            return false;
        }
        if (!ck->tvalid) { /* the time chunk's fault was reported */
            g_free(label);
            return false;
        }
        tsf_chunk_set_pages_have_stats(c, tsf_chunk_pages_have_stats(ck->tmarker));
    }
    TsfColumn *col = time_col ? &ck->tcol : &ck->col;
    TsfPage p;
    while ((k = tsf_chunk_next_page(c, &p)) == 1) {
        const void *values = NULL;
        int rc;
        if (time_col) {
            rc = tsf_time_page_decode(c, &p, col);
        } else if (value_col) {
            if (pageno >= ck->tpages) {
                fault(ck, "%s: more pages than its time chunk (%zu)", label, ck->tpages);
                ok = false;
                break;
            }
            rc = tsf_value_page_decode(c, &p, ck->ttimes + at, ck->trows[pageno], col);
            at += ck->trows[pageno];
        } else {
            rc = tsf_page_decode(c, &p, col);
        }
        if (rc) {
            fault(ck, "%s: page %u: %s", label, pageno, take_err(ck, rc, buf, sizeof(buf)));
            ok = false;
            break;
        }
        if (!time_col) values = col->values;
        for (size_t i = 0; i < col->n && !value_col; i++) {
            if (have_last && col->times[i] <= last) {
                fault(ck, "%s: page %u: time %" PRId64 " is not after %" PRId64, label, pageno, col->times[i],
                      last);
                ok = false;
                break;
            }
            have_last = true;
            last = col->times[i];
        }
        if (!ok) break;
        /* Page statistics from the points, chunk statistics merged from the
         * pages: the order writers use, so double sums come out the same. */
        TsfStats ps;
        tsf_stats_init(&ps, c->h.type);
        double scale = values ? abs_sum(c->h.type, values, col->n) : 0;
        if (tsf_stats_add(&ps, col->times, values, col->n) != 0) ok = false;
        if (ok && p.h.has_stats && !stats_agree(&p.h.stats, &ps, exact, scale, why, sizeof(why))) {
            fault(ck, "%s: page %u statistics: %s", label, pageno, why);
            ok = false;
        }
        if (tsf_stats_merge(&f->st, &ps) != 0) ok = false;
        f->scale += scale;
        tsf_stats_free(&ps);
        if (time_col && push_time_page(ck, col->times, col->n) != 0) ok = false;
        pageno++;
    }
    if (k < 0) {
        fault(ck, "%s: %s", label, take_err(ck, k, buf, sizeof(buf)));
        ok = false;
    }
    if (ok && (c->h.marker & 0x3f) == TSF_MARK_ONE_PAGE_CHUNK && pageno > 1) {
        fault(ck, "%s: marked as a one-page chunk but holds %u pages", label, pageno);
        ok = false;
    }
    if (ok && value_col && pageno != 0 && pageno != ck->tpages) {
        fault(ck, "%s: %u pages, its time chunk %zu", label, pageno, ck->tpages);
        ok = false;
    }
    if (time_col) ck->tvalid = ok;
    g_free(label);
    return ok;
}

static void verify_chunk(Check *ck, TsfChunk *c, uint32_t group)
{
    Fact *f = calloc(1, sizeof(*f));
    f->offset = c->offset;
    f->group = group;
    f->name = g_strndup((const char *)c->h.name, c->h.name_len);
    f->marker = c->h.marker;
    f->type = c->h.type;
    f->enc = c->h.encoding;
    tsf_stats_init(&f->st, c->h.type);
    if (group == NO_GROUP) {
        fault(ck, "chunk at %" PRIu64 " comes before any chunk group header", c->offset);
        f->decoded = false;
    } else {
        f->decoded = verify_pages(ck, c, f);
    }
    if (!f->decoded) ck->data_bad = true;
    ck->chunks++;
    ck->points += f->st.count;
    g_ptr_array_add(ck->facts, f);
    g_hash_table_insert(ck->by_off, &f->offset, f);
}

/* Walks the data section from the head.  closed: stop at the separator,
 * which must be at metaOffset.  Returns the offset after the last plan-index
 * record (0 when none) through *commit, and whether a separator was seen. */
static bool scan_data(Check *ck, bool closed, uint64_t *commit, unsigned *groups)
{
    uint64_t size = tsf_reader_file_size(ck->r), meta = closed ? tsf_reader_meta_offset(ck->r) : size;
    uint64_t pos = TSF_HEAD_LEN;
    uint32_t group = NO_GROUP;
    TsfRecord rec = {0};
    char buf[300];
    bool separator = false;
    *commit = 0;
    *groups = 0;
    while (pos < size) {
        uint8_t m;
        int rc = tsf_reader_pread(ck->r, pos, 1, &m);
        if (rc == 0 && tsf_is_chunk_marker(m)) {
            TsfChunk c;
            rc = tsf_chunk_open(ck->r, pos, &c);
            if (rc == 0) {
                verify_chunk(ck, &c, group);
                pos += c.h.header_len + c.h.data_size;
                tsf_chunk_close(&c);
                continue;
            }
        } else if (rc == 0) {
            rc = tsf_data_next(ck->r, &pos, &rec);
            if (rc == 1) {
                if (rec.kind == TSF_REC_CHUNK_GROUP) {
                    g_ptr_array_add(ck->devices, g_strdup((const char *)rec.device.data));
                    group = ck->devices->len - 1;
                    ck->tgroup = NO_GROUP;
                    (*groups)++;
                } else if (rec.kind == TSF_REC_PLAN_INDEX) {
                    *commit = rec.next;
                    if (ck->hold) commit_held(ck);
                } else { /* separator */
                    separator = true;
                    if (closed && rec.offset != meta)
                        fault(ck,
                              "separator at %" PRIu64
                              ", but TsFileMetadata says the index starts at %" PRIu64,
                              rec.offset, meta);
                    break;
                }
                continue;
            }
            if (rc == 0) break;
        }
        /* a record that does not parse: the walk cannot go on */
        ck->scan_end = pos;
        if (ck->hold) {
            drop_held(ck); /* an unfinished tail, not a fault */
        } else {
            fault(ck, "data section: %s", take_err(ck, rc, buf, sizeof(buf)));
            ck->data_bad = true;
        }
        tsf_record_free(&rec);
        return separator;
    }
    tsf_record_free(&rec);
    ck->scan_end = pos;
    ck->scan_done = true;
    if (closed && !separator) {
        fault(ck, "data section ends at %" PRIu64 " without the separator", pos);
        ck->data_bad = true;
    }
    return separator;
}

/* ---- the index ------------------------------------------------------------------------ */

static int index_series(void *ctx, const TsfSeriesMeta *sm)
{
    Check *ck = ctx;
    char why[200];
    char *dev = g_strndup(sm->device, sm->device_len), *name = g_strndup(sm->name, sm->name_len);
    char *label = sm->mask & TSF_MASK_TIME_COLUMN ? g_strdup_printf("time column of %s", dev)
                                                  : g_strdup_printf("%s.%s", dev, name);
    int version = tsf_reader_version(ck->r);
    if (ck->have_prev) {
        int dc = tsf_compare_device(version, ck->prev_dev->str, ck->prev_dev->len, dev, strlen(dev));
        if (dc > 0)
            fault(ck, "index: device %s comes after %s", dev, ck->prev_dev->str);
        else if (dc == 0 && tsf_compare_java(ck->prev_name->str, ck->prev_name->len, name, strlen(name)) >= 0)
            fault(ck, "index: %s comes after %s.%s (out of order or twice)", label, ck->prev_dev->str,
                  ck->prev_name->str);
    }
    g_string_assign(ck->prev_dev, dev);
    g_string_assign(ck->prev_name, name);
    ck->have_prev = true;
    ck->series++;

    TsfStats total;
    tsf_stats_init(&total, sm->type);
    bool all = true; /* every chunk verified: total is the series' truth */
    bool exact = true;
    double scale = 0;
    for (size_t i = 0; i < sm->nchunks; i++) {
        const TsfChunkMeta *cm = &sm->chunks[i];
        if (i > 0 && cm->offset <= sm->chunks[i - 1].offset)
            fault(ck, "index: %s: chunk offsets not ascending (%" PRIu64 " after %" PRIu64 ")", label,
                  cm->offset, sm->chunks[i - 1].offset);
        Fact *f = g_hash_table_lookup(ck->by_off, &cm->offset);
        if (!f) {
            /* past a data-section fault the walk saw nothing: said already */
            if (ck->scan_done || cm->offset < ck->scan_end)
                fault(ck, "index: %s names a chunk at %" PRIu64 ", but no chunk header starts there", label,
                      cm->offset);
            all = false;
            continue;
        }
        if (f->referenced)
            fault(ck, "index: chunk at %" PRIu64 " is named twice (again by %s)", f->offset, label);
        f->referenced = true;
        const char *fdev = group_device(ck, f->group);
        if (f->group != NO_GROUP && strcmp(fdev, dev) != 0) {
            fault(ck, "index: %s names the chunk at %" PRIu64 ", which is in a chunk group of %s", label,
                  cm->offset, fdev);
            all = false;
            continue;
        }
        if (strcmp(f->name, name) != 0 || f->type != sm->type || (f->marker & 0xc0) != sm->mask) {
            fault(ck, "index: %s (%s) names the chunk at %" PRIu64 ", which holds %s%s%s (%s)", label,
                  tsf_type_name(sm->type), cm->offset, f->name[0] ? "measurement " : "the time column",
                  f->name, f->marker & TSF_MASK_VALUE_COLUMN ? ", aligned" : "", tsf_type_name(f->type));
            all = false;
            continue;
        }
        if (!f->decoded) {
            all = false;
            continue;
        }
        bool ex = values_exact(f->type, f->enc);
        exact = exact && ex;
        if (!stats_agree(&cm->stats, &f->st, ex, f->scale, why, sizeof(why)))
            fault(ck, "index: %s: statistics of the chunk at %" PRIu64 ": %s", label, cm->offset, why);
        if (tsf_stats_merge(&total, &f->st) != 0) all = false;
        scale += f->scale;
    }
    if (all && sm->nchunks > 1 && !stats_agree(&sm->stats, &total, exact, scale, why, sizeof(why)))
        fault(ck, "index: %s: series statistics: %s", label, why);
    tsf_stats_free(&total);
    size_t dl = strlen(dev), nl = strlen(name);
    char *key = malloc(dl + nl + 2);
    memcpy(key, dev, dl + 1);
    memcpy(key + dl + 1, name, nl + 1);
    g_ptr_array_add(ck->series_keys, key);
    g_free(label);
    g_free(dev);
    g_free(name);
    return 0;
}

static void check_index(Check *ck)
{
    char buf[300];
    int rc = tsf_reader_foreach_series(ck->r, index_series, ck);
    if (rc) {
        fault(ck, "index: %s", take_err(ck, rc, buf, sizeof(buf)));
        return;
    }
    /* every series again through the bloom filter and the index tree */
    for (guint i = 0; i < ck->series_keys->len; i++) {
        const char *dev = ck->series_keys->pdata[i], *name = dev + strlen(dev) + 1;
        TsfSeriesMeta sm;
        rc = tsf_reader_find_series(ck->r, dev, name, &sm);
        if (rc == 0) {
            tsf_series_meta_free(&sm);
        } else if (rc == TSF_ENOTFOUND) {
            take_err(ck, rc, buf, sizeof(buf));
            fault(ck, "index: %s%s%s is listed but a lookup (bloom filter, index tree) does not find it", dev,
                  name[0] ? "." : " (time column)", name);
        } else {
            fault(ck, "index: looking up %s.%s: %s", dev, name, take_err(ck, rc, buf, sizeof(buf)));
        }
    }
    if (!ck->scan_done) return;
    for (guint i = 0; i < ck->facts->len; i++) {
        Fact *f = ck->facts->pdata[i];
        if (f->referenced) continue;
        char *label = chunk_label(ck, f);
        fault(ck, "%s is not in the index", label);
        g_free(label);
    }
}

/* ---- companions --------------------------------------------------------------------- */

/* Device time ranges of the data (every chunk with points, time columns
 * included), as a resource would hold them. */
static void data_ranges(const Check *ck, Resource *out)
{
    resource_init(out);
    for (guint i = 0; i < ck->facts->len; i++) {
        const Fact *f = ck->facts->pdata[i];
        if (f->group == NO_GROUP || f->st.count == 0) continue;
        resource_update(out, group_device(ck, f->group), f->st.start, f->st.end);
    }
}

static void check_resource(Check *ck, bool compare)
{
    char *where = g_strconcat(ck->path, ".resource", NULL);
    Resource res;
    int rc = resource_read(&res, ck->path);
    if (rc) {
        fault_in(ck, where, "does not parse (%s)", rc == TSF_ECORRUPT ? "malformed" : tsf_strerror(rc));
        g_free(where);
        return;
    }
    if (compare) {
        Resource data;
        data_ranges(ck, &data);
        size_t i = 0, j = 0;
        while (i < res.n || j < data.n) {
            int c = i == res.n ? 1 : j == data.n ? -1 : strcmp(res.dev[i].device, data.dev[j].device);
            if (c < 0) {
                fault_in(ck, where, "device %s has no data in the file", res.dev[i].device);
                i++;
            } else if (c > 0) {
                fault_in(ck, where, "device %s is missing (data from %" PRId64 " to %" PRId64 ")",
                         data.dev[j].device, data.dev[j].start, data.dev[j].end);
                j++;
            } else {
                if (res.dev[i].start != data.dev[j].start || res.dev[i].end != data.dev[j].end)
                    fault_in(ck, where,
                             "device %s: times %" PRId64 "..%" PRId64 ", the data spans %" PRId64
                             "..%" PRId64,
                             res.dev[i].device, res.dev[i].start, res.dev[i].end, data.dev[j].start,
                             data.dev[j].end);
                i++;
                j++;
            }
        }
        resource_free(&data);
    }
    resource_free(&res);
    g_free(where);
}

/* Strict decimal int64 (optional sign). */
static bool mods_int(const char *s, size_t n, int64_t *out)
{
    char buf[24];
    if (n == 0 || n >= sizeof(buf)) return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    size_t k = buf[0] == '-' || buf[0] == '+';
    if (buf[k] < '0' || buf[k] > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    *out = v;
    return errno == 0 && *end == '\0';
}

static const char *last_comma(const char *s, size_t n)
{
    while (n > 0)
        if (s[--n] == ',') return s + n;
    return NULL;
}

/* One line of a .mods (without its line end): NULL or why it is wrong. */
static const char *mods_line_fault(const char *s, size_t n)
{
    static const char prefix[] = "DELETION,";
    if (memchr(s, '\0', n)) return "NUL byte in the line";
    if (n < sizeof(prefix) - 1 || memcmp(s, prefix, sizeof(prefix) - 1) != 0) return "not a DELETION record";
    s += sizeof(prefix) - 1;
    n -= sizeof(prefix) - 1;
    const char *c3 = last_comma(s, n), *c2 = c3 ? last_comma(s, (size_t)(c3 - s)) : NULL;
    if (!c2) return "too few fields";
    const char *c1 = last_comma(s, (size_t)(c2 - s));
    int64_t v;
    if (c1) {
        if (c1 == s) return "empty path";
        if (!mods_int(c1 + 1, (size_t)(c2 - c1 - 1), &v) || v < 0) return "bad fileOffset";
        if (!mods_int(c2 + 1, (size_t)(c3 - c2 - 1), &v)) return "bad startTime";
    } else { /* legacy DELETION,path,version,endTime */
        if (c2 == s) return "empty path";
        if (!mods_int(c2 + 1, (size_t)(c3 - c2 - 1), &v)) return "bad version";
    }
    if (!mods_int(c3 + 1, n - (size_t)(c3 + 1 - s), &v)) return "bad endTime";
    return NULL;
}

static void check_mods(Check *ck)
{
    char *where = g_strconcat(ck->path, ".mods", NULL);
    gchar *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(where, &text, &len, &gerr)) {
        fault_in(ck, where, "cannot be read (%s)", gerr->message);
        g_error_free(gerr);
        g_free(where);
        return;
    }
    size_t lineno = 0, pos = 0;
    while (pos < len) {
        const char *ls = text + pos, *nl = memchr(ls, '\n', len - pos);
        lineno++;
        if (!nl) {
            fault_in(ck, where, "line %zu: no line end (a torn last write)", lineno);
            break;
        }
        size_t n = (size_t)(nl - ls);
        pos += n + 1;
        if (n > 0 && ls[n - 1] == '\r') n--;
        if (n == 0) continue;
        const char *why = mods_line_fault(ls, n);
        if (why) fault_in(ck, where, "line %zu: %s", lineno, why);
    }
    g_free(text);
    g_free(where);
}

/* ---- one TsFile ----------------------------------------------------------------------- */

static bool exists(const char *path, const char *suffix)
{
    char *p = g_strconcat(path, suffix, NULL);
    struct stat st;
    bool yes = stat(p, &st) == 0;
    g_free(p);
    return yes;
}

/* Is path where the engine keeps its files:
 * .../sequence|unsequence/<sg>/<partition>/<name>.tsfile? */
static bool in_engine_layout(const char *path)
{
    char *dir = g_path_get_dirname(path);    /* .../<partition> */
    char *sg = g_path_get_dirname(dir);      /* .../<sg> */
    char *kind_dir = g_path_get_dirname(sg); /* .../sequence */
    char *kind = g_path_get_basename(kind_dir);
    char *part = g_path_get_basename(dir);
    bool yes = strcmp(kind, "sequence") == 0 || strcmp(kind, "unsequence") == 0;
    const char *p = part[0] == '-' ? part + 1 : part;
    yes = yes && *p;
    for (; yes && *p; p++) yes = *p >= '0' && *p <= '9';
    g_free(dir);
    g_free(sg);
    g_free(kind_dir);
    g_free(kind);
    g_free(part);
    return yes;
}

static void check_free(Check *ck)
{
    for (guint i = 0; i < ck->facts->len; i++) {
        Fact *f = ck->facts->pdata[i];
        g_free(f->name);
        tsf_stats_free(&f->st);
        free(f);
    }
    g_ptr_array_free(ck->facts, TRUE);
    g_hash_table_destroy(ck->by_off);
    g_ptr_array_free(ck->devices, TRUE);
    drop_held(ck);
    g_ptr_array_free(ck->held, TRUE);
    g_ptr_array_free(ck->series_keys, TRUE);
    g_string_free(ck->prev_dev, TRUE);
    g_string_free(ck->prev_name, TRUE);
    tsf_column_free(&ck->col);
    tsf_column_free(&ck->tcol);
    free(ck->ttimes);
    free(ck->trows);
    if (ck->r) tsf_reader_close(ck->r);
}

/* An unclosed file: its data section, and what it is. */
static void check_unclosed(Check *ck, bool working)
{
    TsfErr err = {0};
    int rc = tsf_reader_open_data(ck->path, &ck->r, &err);
    if (rc) {
        fault(ck, "%s", err.msg);
        return;
    }
    uint64_t size = tsf_reader_file_size(ck->r), commit;
    unsigned groups;
    ck->hold = working;
    bool separator = scan_data(ck, false, &commit, &groups);
    if (separator) { /* the data section was whole: what it held counts */
        commit_held(ck);
        ck->hold = false;
        fault(ck,
              "no tail magic, but the index area starts at %" PRIu64 ": the file is cut or its tail damaged",
              ck->scan_end - 1);
        return;
    }
    ck->hold = false;
    if (working) {
        drop_held(ck);
        printf("%s: unclosed (being written, or left by a crash): %u chunk group%s, ", ck->path, groups,
               groups == 1 ? "" : "s");
        if (commit)
            printf("last flush ends at %" PRIu64 " of %" PRIu64 " bytes\n", commit, size);
        else
            printf("no flush finished yet (%" PRIu64 " bytes)\n", size);
        return;
    }
    fault(ck, "not closed (no tail magic%s); `tsfile recover` repairs it",
          exists(ck->path, ".resource") ? ", yet it has a .resource" : "");
}

static void check_tsfile(Totals *tot, const char *path, bool walking)
{
    Check ck = {
        .tot = tot,
        .path = path,
        .held = g_ptr_array_new(),
        .devices = g_ptr_array_new_with_free_func(g_free),
        .facts = g_ptr_array_new(),
        .by_off = g_hash_table_new(g_int64_hash, g_int64_equal),
        .tgroup = NO_GROUP,
        .prev_dev = g_string_new(""),
        .prev_name = g_string_new(""),
        .series_keys = g_ptr_array_new_with_free_func(free),
    };
    bool has_res = exists(path, ".resource"), has_mods = exists(path, ".mods");
    bool working = in_engine_layout(path) && !has_res;
    struct stat st;
    TsfErr err = {0};
    int rc = stat(path, &st) == 0 ? 0 : -errno;
    if (rc == -ENOENT && walking) goto out; /* removed since the listing (compaction) */
    tot->files++;
    if (rc) {
        fault(&ck, "%s", strerror(-rc));
        goto out;
    }
    if (working && st.st_size < TSF_HEAD_LEN) {
        printf("%s: unclosed (being written, or left by a crash): created, nothing written yet\n", path);
        goto companions;
    }
    rc = tsf_reader_open(path, &ck.r, &err);
    if (rc == TSF_EINCOMPLETE) {
        check_unclosed(&ck, working);
    } else if (rc) {
        if (err.offset >= 0)
            fault(&ck, "%s (at offset %" PRId64 ")", err.msg, err.offset);
        else
            fault(&ck, "%s", err.msg);
    } else {
        uint64_t commit;
        unsigned groups;
        scan_data(&ck, true, &commit, &groups);
        check_index(&ck);
        if (has_res) check_resource(&ck, ck.scan_done && !ck.data_bad);
        has_res = false;
        if (tot->verbose && ck.faults == 0)
            printf("%s: ok: %" PRIu64 " series, %" PRIu64 " chunks, %" PRIu64 " points\n", path, ck.series,
                   ck.chunks, ck.points);
    }
companions:
    if (has_res) check_resource(&ck, false);
    if (has_mods) check_mods(&ck);
out:
    if (ck.printed > MAX_FAULT_LINES)
        printf("%s: ... and %u more faults\n", path, ck.printed - MAX_FAULT_LINES);
    check_free(&ck);
}

/* ---- walking directories ------------------------------------------------------------- */

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void walk(const char *dir, GPtrArray *tsfiles, GPtrArray *companions, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 64) {
        if (d) closedir(d);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char *p = g_build_filename(dir, e->d_name, NULL);
        struct stat st;
        if (lstat(p, &st) != 0) {
            g_free(p);
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            walk(p, tsfiles, companions, depth + 1);
            g_free(p);
        } else if (ends_with(p, ".tsfile")) {
            g_ptr_array_add(tsfiles, p);
        } else if (ends_with(p, ".tsfile.resource") || ends_with(p, ".tsfile.mods")) {
            g_ptr_array_add(companions, p);
        } else {
            g_free(p);
        }
    }
    closedir(d);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_dir(Totals *tot, const char *dir)
{
    GPtrArray *tsfiles = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *companions = g_ptr_array_new_with_free_func(g_free);
    walk(dir, tsfiles, companions, 0);
    g_ptr_array_sort(tsfiles, by_name);
    g_ptr_array_sort(companions, by_name);
    for (guint i = 0; i < tsfiles->len; i++) check_tsfile(tot, tsfiles->pdata[i], true);
    /* companions whose TsFile is gone */
    for (guint i = 0; i < companions->len; i++) {
        const char *c = companions->pdata[i];
        char *base = g_strndup(c, strlen(c) - (ends_with(c, ".mods") ? 5 : 9));
        struct stat st;
        if (stat(base, &st) != 0 && stat(c, &st) == 0) {
            printf("%s: no TsFile %s beside it\n", c, base);
            tot->faults++;
        }
        g_free(base);
    }
    g_ptr_array_free(tsfiles, TRUE);
    g_ptr_array_free(companions, TRUE);
}

static void check_usage(FILE *f)
{
    fputs("usage: tsfile check [-v] PATH...   (PATH: a TsFile or a directory such as a tsfs DATA_DIR)\n", f);
}

int cmd_check(int argc, char **argv)
{
    Totals tot = {0};
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        }
        if (strcmp(argv[first], "-v") == 0 || strcmp(argv[first], "--verbose") == 0) {
            tot.verbose = true;
        } else if (strcmp(argv[first], "-h") == 0 || strcmp(argv[first], "--help") == 0) {
            check_usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "tsfile check: unknown option '%s'\n", argv[first]);
            check_usage(stderr);
            return 2;
        }
    }
    if (first >= argc) {
        check_usage(stderr);
        return 2;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOLBF, sizeof(obuf));
    bool missing = false;
    for (int i = first; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0) {
            fprintf(stderr, "tsfile check: %s: %s\n", argv[i], strerror(errno));
            missing = true;
        } else if (S_ISDIR(st.st_mode)) {
            check_dir(&tot, argv[i]);
        } else {
            check_tsfile(&tot, argv[i], false);
        }
    }
    printf("check: %u files, %u faults\n", tot.files, tot.faults); /* fixed form, for scripts */
    if (fflush(stdout) != 0) return 2;
    return missing ? 2 : tot.faults ? 1 : 0;
}
