/*
 * export.c: `tsfile export [-o OUT.csv] [--time-format ms|iso] [--with-types] IN.tsfile`
 *
 * Writes a TsFile as the CSV of IoTDB's export-csv, aligned by time: a
 * header `Time,root.sg.d1.s1,...` (with --with-types `root.sg.d1.s1(DOUBLE)`,
 * export-csv's -datatype form, which `tsfile import` reads back), then one
 * row per timestamp that has a value in some series, an empty cell where a
 * series has none.  Columns are the file's series with points, ordered by
 * device then measurement (byte order), like `tsfile dump`.
 *
 * Values print as the mount prints them (fs/lines.h): shortest round-trip
 * doubles and floats, NaN/Infinity, DATE as YYYY-MM-DD, BLOB as 0x-hex,
 * times (and TIMESTAMP values) in ms or ISO-8601 UTC.  Text uses RFC 4180
 * quoting, without backslash escapes; an empty text is "" so it differs
 * from a null cell.  This is the canonical CSV: import then export gives it
 * back byte for byte (export(import(x)) == x), for every type when the
 * header carries the types, and for untyped headers whenever import infers
 * the type back (BOOLEAN, FLOAT, TEXT; DOUBLE only for values IoTDB's
 * inference calls DOUBLE).
 *
 * Streaming: one cursor per series holds one open chunk and one decoded
 * page; a row takes the smallest time over the cursors, O(columns) per row
 * like the row itself.  Aligned value columns pair each page with the time
 * page of their chunk group.  A series whose chunks overlap in time (as in
 * unsequence files) cannot be streamed chunk by chunk: its points are read
 * whole, ordered by time, and for a repeated time the later chunk wins.
 * With -o the CSV is written under a temporary name and renamed when
 * complete.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "points.h"
#include "lines.h"
#include "reader.h"
#include "series_scan.h"
#include "tool.h"

#define OUT_BYTES (1u << 20)

/* ---- output ------------------------------------------------------------------------------- */

typedef struct Out {
    int fd;
    char *buf;
    size_t len, cap;
    int err; /* first write error (errno) */
} Out;

static void out_flush(Out *o)
{
    size_t done = 0;
    while (done < o->len && !o->err) {
        ssize_t k = write(o->fd, o->buf + done, o->len - done);
        if (k < 0 && errno == EINTR) continue;
        if (k < 0)
            o->err = errno;
        else
            done += (size_t)k;
    }
    o->len = 0;
}

/* Room for n more bytes; returns where they go. */
static char *out_room(Out *o, size_t n)
{
    if (o->len + n > o->cap) out_flush(o);
    if (n > o->cap) {
        char *nb = realloc(o->buf, n);
        if (!nb) {
            o->err = ENOMEM;
            o->len = 0;
            return NULL;
        }
        o->buf = nb;
        o->cap = n;
    }
    return o->buf + o->len;
}

static void out_put(Out *o, const void *p, size_t n)
{
    char *d = out_room(o, n);
    if (d) {
        memcpy(d, p, n);
        o->len += n;
    }
}

/* A text cell: RFC 4180 quoting where CSV needs it, and also where import
 * would otherwise read the text as another type ("" for an empty text, so
 * it is not a null; "12", "true" so they stay text). */
static void out_text_cell(Out *o, const uint8_t *p, size_t n)
{
    size_t len = ln_csv_cell_len(p, n);
    if (n == 0 || (len == n && tool_infer_type((const char *)p, n, false) != TSF_TEXT)) {
        char *d = out_room(o, n + 2);
        if (!d) return;
        d[0] = '"';
        if (n) memcpy(d + 1, p, n); /* no quote inside: len == n */
        d[n + 1] = '"';
        o->len += n + 2;
        return;
    }
    char *d = out_room(o, len);
    if (d) o->len += ln_csv_cell(p, n, d);
}

/* ---- series cursors ------------------------------------------------------------------------ */

typedef struct Cursor {
    TsfSeriesMeta sm;        /* owned copy */
    const TsfSeriesMeta *tm; /* the device's time column when aligned */
    TsfReader *r;
    size_t chunk; /* next chunk of sm to open */
    bool open;
    TsfChunk c, tc;
    TsfColumn col, tcol; /* decoded page (values; aligned times) */
    size_t pos;          /* next point in col */
    bool done;
    /* overlapping chunks: every point, by time */
    bool loaded;
    ToolPoints pts;
    size_t lpos;
} Cursor;

static void cursor_close_chunk(Cursor *cu)
{
    if (!cu->open) return;
    tsf_chunk_close(&cu->c);
    if (cu->tm) tsf_chunk_close(&cu->tc);
    cu->open = false;
}

/* The time chunk of the chunk group holding a value chunk: the last one
 * that starts before it. */
static const TsfChunkMeta *time_chunk_for(const TsfSeriesMeta *tm, uint64_t value_offset)
{
    size_t lo = 0, hi = tm->nchunks;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tm->chunks[mid].offset < value_offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? &tm->chunks[lo - 1] : NULL;
}

/* Makes the cursor point at a value (or done).  Returns 0 or an error. */
static int cursor_fill(Cursor *cu)
{
    if (cu->loaded) {
        cu->done = cu->lpos >= cu->pts.n;
        return 0;
    }
    while (!cu->done && cu->pos >= cu->col.n) {
        if (!cu->open) {
            if (cu->chunk >= cu->sm.nchunks) {
                cu->done = true;
                break;
            }
            const TsfChunkMeta *cm = &cu->sm.chunks[cu->chunk++];
            if (cm->stats.count == 0) continue; /* an all-null value chunk */
            int rc = tsf_chunk_open(cu->r, cm->offset, &cu->c);
            if (rc) return rc;
            if (cu->tm) {
                const TsfChunkMeta *tcm = time_chunk_for(cu->tm, cm->offset);
                rc = tcm ? tsf_chunk_open(cu->r, tcm->offset, &cu->tc)
                         : tsf_reader_fail(cu->r, TSF_ECORRUPT, cm->offset,
                                           "value chunk without a time chunk before it");
                if (rc) {
                    tsf_chunk_close(&cu->c);
                    return rc;
                }
                tsf_chunk_set_pages_have_stats(&cu->c, cu->tc.pages_have_stats);
            }
            cu->open = true;
            continue;
        }
        TsfPage p, tp;
        int k = tsf_chunk_next_page(&cu->c, &p), rc;
        if (k < 0) return k;
        if (cu->tm) {
            int a = tsf_chunk_next_page(&cu->tc, &tp);
            if (a < 0) return a;
            if (a == 0) k = 0;
        }
        if (k == 0) {
            cursor_close_chunk(cu);
            continue;
        }
        if (cu->tm) {
            rc = tsf_time_page_decode(&cu->tc, &tp, &cu->tcol);
            if (rc == 0) rc = tsf_value_page_decode(&cu->c, &p, cu->tcol.times, cu->tcol.n, &cu->col);
        } else {
            rc = tsf_page_decode(&cu->c, &p, &cu->col);
        }
        if (rc) return rc;
        cu->pos = 0;
    }
    return 0;
}

static inline int64_t cursor_time(const Cursor *cu)
{
    return cu->loaded ? cu->pts.t[cu->lpos] : cu->col.times[cu->pos];
}

static inline const void *cursor_value(const Cursor *cu)
{
    size_t esz = tsf_type_elem_size(cu->sm.type);
    return cu->loaded ? (const void *)(cu->pts.v + cu->lpos * esz)
                      : (const uint8_t *)cu->col.values + cu->pos * esz;
}

static inline void cursor_next(Cursor *cu)
{
    if (cu->loaded)
        cu->lpos++;
    else
        cu->pos++;
}

/* Reads an overlapping series whole: sorted by time, the later point (from
 * the later chunk) kept for a repeated time. */
static int cursor_load(Cursor *cu)
{
    cu->pts.type = cu->sm.type;
    int rc =
        tsf_series_scan(cu->r, &cu->sm, cu->tm, INT64_MIN, INT64_MAX, tool_points_gather, &cu->pts, NULL);
    if (rc == 0) rc = tool_points_order(&cu->pts, true);
    if (rc == 0) cu->loaded = true;
    return rc;
}

/* Do the series' chunks overlap in time (so they cannot be streamed)? */
static bool chunks_overlap(const TsfSeriesMeta *sm)
{
    bool any = false;
    int64_t end = 0;
    for (size_t i = 0; i < sm->nchunks; i++) {
        const TsfStats *st = &sm->chunks[i].stats;
        if (st->count == 0) continue;
        if (any && st->start <= end) return true;
        if (!any || st->end > end) end = st->end;
        any = true;
    }
    return false;
}

static void cursor_free(Cursor *cu)
{
    cursor_close_chunk(cu);
    tsf_column_free(&cu->col);
    tsf_column_free(&cu->tcol);
    tool_points_free(&cu->pts);
    tsf_series_meta_free(&cu->sm);
}

/* ---- the command --------------------------------------------------------------------------- */

static void export_usage(FILE *f)
{
    fputs("usage: tsfile export [-o OUT.csv] [--time-format ms|iso] [--with-types] IN.tsfile\n", f);
}

static void put_value(Out *o, const Cursor *cu, LnTimeFormat tf)
{
    TsfType t = cu->sm.type;
    const void *v = cursor_value(cu);
    if (t == TSF_TEXT || t == TSF_STRING) {
        const TsfBin *b = v;
        out_text_cell(o, b->ptr, b->len);
        return;
    }
    size_t need = t == TSF_BLOB ? ln_value_len(t, v) + LN_MAX_SCALAR : LN_MAX_SCALAR;
    char *d = out_room(o, need);
    if (!d) return;
    o->len += t == TSF_TIMESTAMP ? ln_render_time(*(const int64_t *)v, tf, d) : ln_render_value(t, v, d);
}

/* Writes the rows; returns 0 or a reader error. */
static int write_rows(Out *o, Cursor *cur, size_t ncur, LnTimeFormat tf)
{
    for (;;) {
        int64_t t = INT64_MAX;
        bool any = false;
        for (size_t i = 0; i < ncur; i++)
            if (!cur[i].done && (!any || cursor_time(&cur[i]) < t)) {
                t = cursor_time(&cur[i]);
                any = true;
            }
        if (!any) return 0;
        char *d = out_room(o, LN_MAX_SCALAR);
        if (d) o->len += ln_render_time(t, tf, d);
        for (size_t i = 0; i < ncur; i++) {
            out_put(o, ",", 1);
            Cursor *cu = &cur[i];
            if (cu->done || cursor_time(cu) != t) continue;
            put_value(o, cu, tf);
            cursor_next(cu);
            int rc = cursor_fill(cu);
            if (rc) return rc;
        }
        out_put(o, "\n", 1);
        if (o->err) return -o->err;
    }
}

int cmd_export(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    LnTimeFormat tf = LN_TIME_MS;
    bool with_types = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc) {
            out = argv[++i];
        } else if (strcmp(a, "--time-format") == 0 && i + 1 < argc) {
            const char *f = argv[++i];
            if (strcmp(f, "ms") == 0)
                tf = LN_TIME_MS;
            else if (strcmp(f, "iso") == 0)
                tf = LN_TIME_ISO;
            else {
                fprintf(stderr, "tsfile export: --time-format must be ms or iso\n");
                return 2;
            }
        } else if (strcmp(a, "--with-types") == 0) {
            with_types = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            export_usage(stdout);
            return 0;
        } else if (a[0] != '-' && !in) {
            in = a;
        } else {
            fprintf(stderr, "tsfile export: bad argument '%s'\n", a);
            export_usage(stderr);
            return 2;
        }
    }
    if (!in) {
        export_usage(stderr);
        return 2;
    }
    TsfReader *r;
    TsfErr err = {0};
    int rc = tsf_reader_open(in, &r, &err);
    if (rc) return tool_fail(in, &err, rc);
    ToolSeriesList c;
    rc = tool_series_list(r, &c);
    if (rc) {
        tool_fail(in, tsf_reader_err(r), rc);
        tool_series_list_free(&c);
        tsf_reader_close(r);
        return 1;
    }
    Cursor *cur = calloc(c.n ? c.n : 1, sizeof(*cur));
    size_t ncur = 0;
    int status = 0;
    for (size_t i = 0; i < c.n && status == 0; i++) {
        TsfSeriesMeta *sm = &c.v[i];
        if ((sm->mask & TSF_MASK_TIME_COLUMN) || sm->stats.count == 0) continue;
        Cursor *cu = &cur[ncur];
        if (sm->mask & TSF_MASK_VALUE_COLUMN) {
            cu->tm = tool_series_time_column(&c, sm);
            if (!cu->tm) {
                fprintf(stderr, "tsfile: %s: aligned series %s.%s has no time column\n", in, sm->device,
                        sm->name);
                status = 1;
                break;
            }
        }
        cu->sm = *sm; /* the cursor takes the copy over */
        memset(sm, 0, sizeof(*sm));
        cu->r = r;
        ncur++;
    }

    char temp[4096] = "";
    Out o = {.fd = STDOUT_FILENO, .buf = malloc(OUT_BYTES), .cap = OUT_BYTES};
    if (status == 0 && out) {
        if (snprintf(temp, sizeof(temp), "%s.tmp-XXXXXX", out) >= (int)sizeof(temp)) {
            fprintf(stderr, "tsfile export: %s: name too long\n", out);
            temp[0] = '\0';
            status = 2;
        } else if ((o.fd = mkstemp(temp)) < 0) {
            fprintf(stderr, "tsfile export: %s: %s\n", temp, strerror(errno));
            temp[0] = '\0';
            status = 1;
        } else {
            mode_t mask = umask(0); /* mkstemp made it 0600: give it the usual mode */
            umask(mask);
            if (fchmod(o.fd, 0666 & ~mask) != 0) status = 1;
        }
    }
    if (status == 0) {
        out_put(&o, "Time", 4);
        for (size_t i = 0; i < ncur; i++) {
            const Cursor *cu = &cur[i];
            char *h = with_types ? g_strdup_printf("%s.%s(%s)", cu->sm.device, cu->sm.name,
                                                   tsf_type_name(cu->sm.type))
                                 : g_strdup_printf("%s.%s", cu->sm.device, cu->sm.name);
            out_put(&o, ",", 1);
            char *d = out_room(&o, ln_csv_cell_len((const uint8_t *)h, strlen(h)));
            if (d) o.len += ln_csv_cell((const uint8_t *)h, strlen(h), d);
            g_free(h);
        }
        out_put(&o, "\n", 1);
        for (size_t i = 0; i < ncur && rc == 0; i++) {
            if (chunks_overlap(&cur[i].sm)) rc = cursor_load(&cur[i]);
            if (rc == 0) rc = cursor_fill(&cur[i]);
        }
        if (rc == 0) rc = write_rows(&o, cur, ncur, tf);
        out_flush(&o);
        if (rc == 0 && o.err) rc = -o.err;
        if (rc) {
            const TsfErr *e = tsf_reader_err(r);
            if (e->code)
                tool_fail(in, e, rc);
            else
                fprintf(stderr, "tsfile export: %s: %s\n", out ? out : "stdout", strerror(-rc));
            status = 1;
        }
    }
    if (temp[0]) {
        if (status == 0 && fsync(o.fd) != 0) {
            fprintf(stderr, "tsfile export: %s: %s\n", out, strerror(errno));
            status = 1;
        }
        if (close(o.fd) != 0 && status == 0) {
            fprintf(stderr, "tsfile export: %s: %s\n", out, strerror(errno));
            status = 1;
        }
        if (status == 0 && rename(temp, out) != 0) {
            fprintf(stderr, "tsfile export: %s: %s\n", out, strerror(errno));
            status = 1;
        }
        if (status != 0) unlink(temp);
    }
    free(o.buf);
    for (size_t i = 0; i < ncur; i++) cursor_free(&cur[i]);
    free(cur);
    tool_series_list_free(&c);
    tsf_reader_close(r);
    return status;
}
