/*
 * import.c: `tsfile import [-o OUT.tsfile] [--device DEV] [--types S=TYPE,...] IN.csv`
 *
 * Reads the CSV of IoTDB's export-csv and writes a format-version-3 TsFile
 * with the format library's writer.  Two layouts, as export-csv writes them:
 *   aligned by time     Time,root.sg.d1.s1,root.sg.d1.s2,root.sg.d2.s1,...
 *   aligned by device   Time,Device,s1,s2,...
 * A column may carry its type, `root.sg.d1.s1(INT64)` (export-csv
 * -datatype); --types gives types by series path or measurement name and
 * wins over the header.  With --device DEV, bare column names (no '.') are
 * measurements of DEV.  Times are decimal ms or ISO-8601 (fs/lines.h); an
 * empty cell is null; cells are RFC 4180 (a quoted "" is an empty text).
 *
 * Types not given are inferred from a series' first value the way IoTDB's
 * import-csv does by default: a quoted cell is TEXT; true/false (any case)
 * BOOLEAN; a number with a '.' FLOAT; an integer up to 2^24 FLOAT (exact in
 * a float), a larger one DOUBLE; other numbers (exponent without a point,
 * NaN, Infinity) DOUBLE; anything else TEXT.  No INT32/INT64 is inferred:
 * give them with --types or in the header.  Encodings are IoTDB's defaults
 * per type, compression LZ4.
 *
 * Streaming: rows are parsed one record at a time from a read buffer (a
 * record may span lines inside quotes); each series buffers the points of
 * the chunk being built.  When one series reaches CHUNK_POINTS, or all
 * together FLUSH_POINTS points or FLUSH_BYTES of text, every buffered series
 * is written, one chunk group per device, like a memtable flush.  Memory
 * is therefore one chunk per series, whatever the input size.
 *
 * Rows must come in increasing time order (per device in the by-device
 * layout), as export-csv writes them: so chunks never overlap and a
 * repeated time is caught with its line number.  Any bad line stops the
 * import with "IN.csv:LINE: reason" and exit status 1; the TsFile is built
 * under a temporary name beside OUT and renamed only when complete, so a
 * failure (or SIGINT/SIGTERM) leaves no partial output.  A progress bar goes
 * to stderr when it is a terminal and the input is over PROGRESS_MIN bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bytes.h"
#include "lines.h"
#include "schema.h"
#include "tool.h"
#include "writer.h"

#define CHUNK_POINTS   100000
#define FLUSH_POINTS   2000000
#define FLUSH_BYTES    (64u << 20)
#define READ_BYTES     (1u << 20)
#define MAX_RECORD     (256u << 20)
#define PROGRESS_MIN   (4u << 20)
#define IMPORT_COMPRES TSF_COMP_LZ4

typedef struct Device Device;

typedef struct Series {
    Device *dev;
    char *name;
    char *path;   /* device.name, for messages */
    TsfType type; /* TSF_VECTOR until known */
    bool inferred;
    int64_t *t; /* buffered points of the chunk being built */
    uint8_t *v; /* physical values; TsfBin.ptr = offset into bytes */
    size_t n, cap;
    TsfBuf bytes;
    size_t peak, peak_bytes; /* n and bytes.len at the last flush */
} Series;

struct Device {
    char *name;
    int64_t last; /* time of its last row (by-device layout) */
    bool any;
    GPtrArray *series; /* Series*, in creation order */
};

typedef struct Import {
    const char *in_name;
    bool by_device;
    size_t ncells;       /* cells per row */
    Series **cols;       /* by time: the series of each cell (NULL for Time) */
    char **col_names;    /* by device: measurement of each cell */
    TsfType *col_types;  /* by device: given type of each cell, or VECTOR */
    GHashTable *devices; /* name -> Device* */
    GPtrArray *dev_list; /* Device*, in creation order */
    GHashTable *by_key;  /* by device: "device\x01name" -> Series* */
    GPtrArray *series;   /* every Series* */
    GHashTable *types;   /* --types: key -> type code + 1 */
    GHashTable *used;    /* --types keys that matched */
    int64_t last;        /* time of the last row (by-time layout) */
    bool any;
    size_t buffered, buffered_bytes;
    TsfWriter *w;
    const char *out;
    LnArena arena;
    GString *key;
    uint64_t rows, points;
    long line;
} Import;

/* The temporary output, removed by a signal too. */
static char g_temp[4096];

static void on_signal(int sig)
{
    if (g_temp[0]) unlink(g_temp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int bad(Import *im, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(Import *im, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%ld: ", im->in_name, im->line);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    putc('\n', stderr);
    return 1;
}

static bool eq_nocase(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && g_ascii_strncasecmp(s, w, n) == 0;
}

static void trim(const char **p, size_t *n)
{
    while (*n > 0 && (**p == ' ' || **p == '\t')) (*p)++, (*n)--;
    while (*n > 0 && ((*p)[*n - 1] == ' ' || (*p)[*n - 1] == '\t')) (*n)--;
}

/* Was the cell quoted in the record?  ln_csv_split points a quoted cell
 * just past its opening quote, or into the arena when it had to unquote. */
static bool cell_quoted(const char *rec, size_t n, const LnCell *c)
{
    if (c->p < rec || c->p > rec + n) return true;
    return c->p > rec && c->p[-1] == '"';
}

/* IoTDB import-csv's inference (see the design comment). */
TsfType tool_infer_type(const char *v, size_t n, bool quoted)
{
    if (quoted) return TSF_TEXT;
    trim(&v, &n);
    if (eq_nocase(v, n, "true") || eq_nocase(v, n, "false")) return TSF_BOOLEAN;
    double d;
    const char *why;
    if (n > 0 && ln_parse_value(TSF_DOUBLE, v, n, &d, NULL, &why) == 0) {
        if (memchr(v, '.', n)) return TSF_FLOAT;
        int64_t x;
        if (ln_parse_value(TSF_INT64, v, n, &x, NULL, &why) == 0 && x <= (int64_t)1 << 24) return TSF_FLOAT;
        return TSF_DOUBLE;
    }
    return TSF_TEXT;
}

/* "name(TYPE)" -> name length and type (VECTOR when none); -1 bad type. */
static int split_type(const char *s, size_t n, size_t *name_len, TsfType *type)
{
    *name_len = n;
    *type = TSF_VECTOR;
    if (n < 3 || s[n - 1] != ')') return 0;
    const char *open = NULL;
    for (size_t i = n - 1; i-- > 0;)
        if (s[i] == '(') {
            open = s + i;
            break;
        }
    if (!open) return 0;
    char buf[32];
    size_t tl = (size_t)(s + n - 1 - open - 1);
    if (tl == 0 || tl >= sizeof(buf)) return -1;
    memcpy(buf, open + 1, tl);
    buf[tl] = '\0';
    int t = tsf_type_from_name(buf);
    if (t < 0 || t == TSF_VECTOR) return -1;
    *type = (TsfType)t;
    *name_len = (size_t)(open - s);
    return 0;
}

/* Type given by --types for a series (full path first, then measurement). */
static TsfType given_type(Import *im, const char *path, const char *name, TsfType header)
{
    if (!im->types) return header;
    const char *keys[2] = {path, name};
    for (int k = 0; k < 2; k++) {
        gpointer v = g_hash_table_lookup(im->types, keys[k]);
        if (v) {
            g_hash_table_add(im->used, (gpointer)keys[k] == path ? g_strdup(path) : g_strdup(name));
            return (TsfType)(GPOINTER_TO_INT(v) - 1);
        }
    }
    return header;
}

static Device *device_get(Import *im, const char *name, size_t len)
{
    g_string_assign(im->key, "");
    g_string_append_len(im->key, name, (gssize)len);
    Device *d = g_hash_table_lookup(im->devices, im->key->str);
    if (d) return d;
    d = calloc(1, sizeof(*d));
    d->name = g_strdup(im->key->str);
    d->series = g_ptr_array_new();
    g_hash_table_insert(im->devices, d->name, d);
    g_ptr_array_add(im->dev_list, d);
    return d;
}

static Series *series_new(Import *im, Device *d, const char *name, TsfType type)
{
    Series *s = calloc(1, sizeof(*s));
    s->dev = d;
    s->name = g_strdup(name);
    s->path = g_strconcat(d->name, ".", name, NULL);
    s->type = given_type(im, s->path, name, type);
    g_ptr_array_add(d->series, s);
    g_ptr_array_add(im->series, s);
    return s;
}

/* The last '.' outside backquotes splits a path into device and name. */
static const char *path_split(const char *s, size_t n)
{
    const char *dot = NULL;
    bool quoted = false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '`') quoted = !quoted;
        if (s[i] == '.' && !quoted) dot = s + i;
    }
    return dot;
}

static int parse_header(Import *im, const LnCell *cells, size_t n, const char *device)
{
    if (n < 1 || !eq_nocase(cells[0].p, cells[0].n, "time"))
        return bad(im, "the header must start with a Time column");
    im->by_device = n >= 2 && eq_nocase(cells[1].p, cells[1].n, "device");
    if (im->by_device && device)
        return bad(im, "--device does not apply to a by-device CSV (Time,Device,...)");
    im->ncells = n;
    im->cols = calloc(n, sizeof(*im->cols));
    im->col_names = calloc(n, sizeof(*im->col_names));
    im->col_types = calloc(n, sizeof(*im->col_types));
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    int rc = 0;
    for (size_t i = im->by_device ? 2 : 1; i < n && rc == 0; i++) {
        size_t len;
        TsfType type;
        if (split_type(cells[i].p, cells[i].n, &len, &type) != 0) {
            rc = bad(im, "column %zu: unknown data type in '%.*s'", i + 1, (int)cells[i].n, cells[i].p);
            break;
        }
        char *col = g_strndup(cells[i].p, len);
        if (!*col) {
            rc = bad(im, "column %zu has no name", i + 1);
        } else if (im->by_device) {
            im->col_names[i] = col;
            im->col_types[i] = given_type(im, col, col, type);
            col = NULL;
        } else {
            const char *dot = path_split(col, len);
            Device *d = NULL;
            const char *name = NULL;
            if (dot && dot > col && dot[1]) {
                d = device_get(im, col, (size_t)(dot - col));
                name = dot + 1;
            } else if (!dot && device) {
                d = device_get(im, device, strlen(device));
                name = col;
            } else {
                rc = bad(im, "column '%s' is not a series path like root.sg.d1.s1%s", col,
                         dot ? "" : " (or give --device)");
            }
            if (d) im->cols[i] = series_new(im, d, name, type);
        }
        if (rc == 0) {
            const char *key = im->by_device ? im->col_names[i] : im->cols[i]->path;
            if (!g_hash_table_add(seen, g_strdup(key))) rc = bad(im, "column '%s' appears twice", key);
        }
        g_free(col);
    }
    g_hash_table_destroy(seen);
    return rc;
}

/* ---- writing chunks ------------------------------------------------------------------- */

static int writer_fail(Import *im, int rc)
{
    const TsfErr *e = tsf_writer_err(im->w);
    fprintf(stderr, "tsfile import: %s: %s\n", im->out, e && e->code ? e->msg : tsf_strerror(rc));
    return 1;
}

/* Writes every buffered point: one chunk group per device, one chunk per
 * series with points. */
static int flush_all(Import *im)
{
    int rc = 0;
    for (guint d = 0; d < im->dev_list->len && rc == 0; d++) {
        Device *dev = im->dev_list->pdata[d];
        bool open = false;
        for (guint i = 0; i < dev->series->len && rc == 0; i++) {
            Series *s = dev->series->pdata[i];
            s->peak = s->n;
            s->peak_bytes = s->bytes.len;
            if (s->n == 0) continue;
            if (!open) rc = tsf_writer_begin_group(im->w, dev->name);
            open = true;
            if (tsf_type_phys(s->type) == TSF_PHYS_BIN) {
                TsfBin *b = (TsfBin *)s->v;
                for (size_t k = 0; k < s->n; k++) b[k].ptr = s->bytes.data + (uintptr_t)b[k].ptr;
            }
            if (rc == 0)
                rc = tsf_writer_begin_series(im->w, s->name, s->type, schema_default_encoding(s->type),
                                             IMPORT_COMPRES);
            if (rc == 0) rc = tsf_writer_append(im->w, s->t, s->v, s->n);
            if (rc == 0) rc = tsf_writer_end_series(im->w);
            s->n = 0;
            tsf_buf_reset(&s->bytes);
        }
        if (open && rc == 0) rc = tsf_writer_end_group(im->w);
    }
    /* A series that filled a large buffer once but little since gives it
     * back, so buffers stay near one chunk's worth in total. */
    for (guint i = 0; i < im->series->len; i++) {
        Series *s = im->series->pdata[i];
        if (s->cap > 8192 && s->peak < s->cap / 4) {
            free(s->t);
            free(s->v);
            s->t = NULL;
            s->v = NULL;
            s->cap = 0;
        }
        if (s->bytes.cap > (1u << 20) && s->peak_bytes < s->bytes.cap / 4) tsf_buf_free(&s->bytes);
        s->peak = s->peak_bytes = 0;
    }
    im->buffered = im->buffered_bytes = 0;
    return rc ? writer_fail(im, rc) : 0;
}

static int add_value(Import *im, Series *s, int64_t t, const char *v, size_t n, bool quoted)
{
    if (s->type == TSF_VECTOR) {
        s->type = tool_infer_type(v, n, quoted);
        s->inferred = true;
    }
    size_t esz = tsf_type_elem_size(s->type);
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 1024;
        int64_t *nt = realloc(s->t, cap * sizeof(*nt));
        if (nt) s->t = nt;
        uint8_t *nv = realloc(s->v, cap * esz);
        if (nv) s->v = nv;
        if (!nt || !nv) return bad(im, "out of memory");
        s->cap = cap;
    }
    void *slot = s->v + s->n * esz;
    const char *why = NULL;
    if (s->type == TSF_TEXT || s->type == TSF_STRING) {
        /* CSV text is taken as it is (no backslash escapes) */
        TsfBin *b = slot;
        b->ptr = (const uint8_t *)(uintptr_t)s->bytes.len;
        b->len = (uint32_t)n;
        tsf_buf_put(&s->bytes, v, n);
        im->buffered_bytes += n;
    } else {
        trim(&v, &n);
        if (ln_parse_value(s->type, v, n, slot, &im->arena, &why) != 0)
            return bad(im, "%s (%s%s): %s '%.*s'", s->path, tsf_type_name(s->type),
                       s->inferred ? ", inferred" : "", why, (int)(n > 60 ? 60 : n), v);
        if (s->type == TSF_BLOB) {
            TsfBin *b = slot;
            size_t off = s->bytes.len;
            tsf_buf_put(&s->bytes, b->ptr, b->len);
            b->ptr = (const uint8_t *)(uintptr_t)off;
            im->buffered_bytes += b->len;
        }
    }
    if (s->bytes.err) return bad(im, "out of memory");
    s->t[s->n++] = t;
    im->points++;
    im->buffered++;
    if (s->n >= CHUNK_POINTS || im->buffered >= FLUSH_POINTS || im->buffered_bytes >= FLUSH_BYTES)
        return flush_all(im);
    return 0;
}

static int parse_row(Import *im, const char *rec, size_t n, LnCell *cells)
{
    ln_arena_reset(&im->arena);
    const char *why;
    int k = ln_csv_split(rec, n, cells, im->ncells + 1, &im->arena, &why);
    if (k < 0 && strcmp(why, "too many cells") == 0)
        return bad(im, "more cells than the header's %zu", im->ncells);
    if (k < 0) return bad(im, "%s", why);
    if ((size_t)k != im->ncells) return bad(im, "%d cells, the header has %zu", k, im->ncells);
    const char *tp = cells[0].p;
    size_t tn = cells[0].n;
    trim(&tp, &tn);
    int64_t t;
    if (ln_parse_time(tp, tn, &t, &why) != 0)
        return bad(im, "bad time '%.*s' (%s)", (int)(tn > 40 ? 40 : tn), tp,
                   strcmp(why, "bad time") == 0 ? "ms or ISO-8601 expected" : why);
    im->rows++;
    if (!im->by_device) {
        if (im->any && t <= im->last)
            return bad(im,
                       "time %" PRId64 " is not after the previous row's %" PRId64
                       " (rows must come in increasing time order)",
                       t, im->last);
        im->any = true;
        im->last = t;
        for (size_t i = 1; i < im->ncells; i++) {
            if (cells[i].n == 0 && !cell_quoted(rec, n, &cells[i])) continue; /* null */
            int rc = add_value(im, im->cols[i], t, cells[i].p, cells[i].n, cell_quoted(rec, n, &cells[i]));
            if (rc) return rc;
        }
        return 0;
    }
    if (cells[1].n == 0) return bad(im, "empty Device cell");
    Device *d = device_get(im, cells[1].p, cells[1].n);
    if (d->any && t <= d->last)
        return bad(im,
                   "time %" PRId64 " of %s is not after its previous row's %" PRId64
                   " (rows of a device must come in increasing time order)",
                   t, d->name, d->last);
    d->any = true;
    d->last = t;
    for (size_t i = 2; i < im->ncells; i++) {
        if (cells[i].n == 0 && !cell_quoted(rec, n, &cells[i])) continue;
        g_string_assign(im->key, d->name);
        g_string_append_c(im->key, '\x01');
        g_string_append(im->key, im->col_names[i]);
        Series *s = g_hash_table_lookup(im->by_key, im->key->str);
        if (!s) {
            s = series_new(im, d, im->col_names[i], im->col_types[i]);
            g_hash_table_insert(im->by_key, g_strdup(im->key->str), s);
        }
        int rc = add_value(im, s, t, cells[i].p, cells[i].n, cell_quoted(rec, n, &cells[i]));
        if (rc) return rc;
    }
    return 0;
}

/* ---- progress ------------------------------------------------------------------------- */

typedef struct Progress {
    bool on;
    uint64_t total;
    double start, last;
} Progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress_draw(Progress *p, uint64_t done, uint64_t rows, bool final)
{
    double t = now_s();
    if (!final && t - p->last < 0.2) return;
    p->last = t;
    int pct = p->total ? (int)(done * 100 / p->total) : 100;
    char bar[31];
    int fill = pct * 30 / 100;
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
    bar[30] = '\0';
    double el = t - p->start;
    fprintf(stderr, "\rimport [%s] %3d%% %.1f/%.1f MiB, %.2fM rows/s ", bar, pct, done / 1048576.0,
            p->total / 1048576.0, el > 0 ? rows / el / 1e6 : 0.0);
    if (final) putc('\n', stderr);
}

/* ---- the command ---------------------------------------------------------------------- */

static void import_usage(FILE *f)
{
    fputs("usage: tsfile import [-o OUT.tsfile] [--device DEV] [--types S=TYPE,...] IN.csv\n", f);
}

static int parse_types(Import *im, const char *spec)
{
    gchar **parts = g_strsplit(spec, ",", -1);
    int rc = 0;
    for (gchar **p = parts; *p && rc == 0; p++) {
        char *eq = strrchr(*p, '=');
        int t = eq ? tsf_type_from_name(eq + 1) : -1;
        if (!eq || eq == *p || t < 0 || t == TSF_VECTOR) {
            fprintf(stderr,
                    "tsfile import: --types: '%s' is not SERIES=TYPE (BOOLEAN, INT32, INT64, FLOAT, DOUBLE, "
                    "TEXT, STRING, BLOB, DATE, TIMESTAMP)\n",
                    *p);
            rc = 2;
            break;
        }
        g_hash_table_insert(im->types, g_strndup(*p, (gsize)(eq - *p)), GINT_TO_POINTER(t + 1));
    }
    g_strfreev(parts);
    return rc;
}

static char *default_out(const char *in)
{
    size_t n = strlen(in);
    if (n > 4 && g_ascii_strcasecmp(in + n - 4, ".csv") == 0) n -= 4;
    return g_strdup_printf("%.*s.tsfile", (int)n, in);
}

static void import_free(Import *im)
{
    for (guint i = 0; i < im->series->len; i++) {
        Series *s = im->series->pdata[i];
        g_free(s->name);
        g_free(s->path);
        free(s->t);
        free(s->v);
        tsf_buf_free(&s->bytes);
        free(s);
    }
    for (guint i = 0; i < im->dev_list->len; i++) {
        Device *d = im->dev_list->pdata[i];
        g_ptr_array_free(d->series, TRUE);
        free(d);
    }
    for (size_t i = 0; im->col_names && i < im->ncells; i++) g_free(im->col_names[i]);
    free(im->col_names);
    free(im->col_types);
    free(im->cols);
    g_hash_table_destroy(im->devices); /* frees the names */
    g_ptr_array_free(im->dev_list, TRUE);
    g_hash_table_destroy(im->by_key);
    g_ptr_array_free(im->series, TRUE);
    if (im->types) g_hash_table_destroy(im->types);
    if (im->used) g_hash_table_destroy(im->used);
    g_string_free(im->key, TRUE);
    ln_arena_free(&im->arena);
}

/* Reads IN record by record; returns the exit status. */
static int run(Import *im, int fd, Progress *pg, const char *device)
{
    size_t cap = READ_BYTES, len = 0, pos = 0;
    char *buf = malloc(cap);
    LnCell *cells = NULL;
    uint64_t consumed = 0;
    bool eof = false, header = true;
    int rc = 0;
    im->line = 1;
    while (rc == 0) {
        size_t rl = ln_csv_record_len(buf + pos, len - pos);
        if (rl == 0) {
            if (eof) {
                if (pos == len) break;
                rl = len - pos; /* a last record without a line end */
            } else {
                if (pos > 0) {
                    memmove(buf, buf + pos, len - pos);
                    len -= pos;
                    pos = 0;
                }
                if (len == cap) {
                    if (cap >= MAX_RECORD) {
                        rc = bad(im, "record longer than %u MiB (an unclosed quote?)", MAX_RECORD >> 20);
                        break;
                    }
                    cap *= 2;
                    char *nb = realloc(buf, cap);
                    if (!nb) {
                        rc = bad(im, "out of memory");
                        break;
                    }
                    buf = nb;
                }
                ssize_t got = read(fd, buf + len, cap - len);
                if (got < 0 && errno == EINTR) continue;
                if (got < 0) {
                    fprintf(stderr, "tsfile import: %s: %s\n", im->in_name, strerror(errno));
                    rc = 1;
                    break;
                }
                if (got == 0) eof = true;
                len += (size_t)got;
                continue;
            }
        }
        const char *rec = buf + pos;
        size_t n = rl, newlines = 0;
        for (const char *q = rec; (q = memchr(q, '\n', (size_t)(rec + rl - q))) != NULL; q++) newlines++;
        if (n > 0 && rec[n - 1] == '\n') n--;
        if (n > 0 && rec[n - 1] == '\r') n--;
        pos += rl;
        consumed += rl;
        if (n > 0) {
            if (header) {
                /* cells of the header: as many as it has commas, plus one */
                size_t want = 2;
                for (size_t i = 0; i < n; i++) want += rec[i] == ',';
                cells = malloc(want * sizeof(*cells));
                const char *why;
                ln_arena_reset(&im->arena);
                int k = ln_csv_split(rec, n, cells, want, &im->arena, &why);
                rc = k < 0 ? bad(im, "header: %s", why) : parse_header(im, cells, (size_t)k, device);
                if (rc == 0 && im->types) {
                    GHashTableIter it;
                    gpointer key;
                    g_hash_table_iter_init(&it, im->types);
                    while (rc == 0 && g_hash_table_iter_next(&it, &key, NULL))
                        if (!g_hash_table_contains(im->used, key)) {
                            fprintf(stderr, "tsfile import: --types: no column is %s\n", (const char *)key);
                            rc = 2;
                        }
                }
                header = false;
                if (im->ncells + 1 > want) {
                    free(cells);
                    cells = malloc((im->ncells + 1) * sizeof(*cells));
                }
            } else {
                rc = parse_row(im, rec, n, cells);
            }
        }
        im->line += (long)(newlines ? newlines : 1);
        if (pg->on && (im->rows & 4095) == 0) progress_draw(pg, consumed, im->rows, false);
    }
    if (rc == 0 && header) {
        im->line = 1;
        rc = bad(im, "empty input: no header");
    }
    if (rc == 0) rc = flush_all(im);
    if (pg->on && rc == 0) progress_draw(pg, consumed, im->rows, true);
    if (pg->on && rc != 0) fputs("\n", stderr);
    free(cells);
    free(buf);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    const char *out = NULL, *in = NULL, *device = NULL, *types = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(a, "--device") == 0 && i + 1 < argc)
            device = argv[++i];
        else if (strcmp(a, "--types") == 0 && i + 1 < argc)
            types = argv[++i];
        else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            import_usage(stdout);
            return 0;
        } else if ((a[0] != '-' || strcmp(a, "-") == 0) && !in)
            in = a;
        else {
            fprintf(stderr, "tsfile import: bad argument '%s'\n", a);
            import_usage(stderr);
            return 2;
        }
    }
    if (!in || (strcmp(in, "-") == 0 && !out) || (device && !*device)) {
        import_usage(stderr);
        if (in && strcmp(in, "-") == 0 && !out)
            fputs("tsfile import: reading stdin needs -o OUT.tsfile\n", stderr);
        return 2;
    }
    Import im = {
        .in_name = in,
        .devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .dev_list = g_ptr_array_new(),
        .by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .series = g_ptr_array_new(),
        .key = g_string_new(""),
    };
    int status = 0;
    if (types) {
        im.types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        im.used = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        status = parse_types(&im, types);
    }
    int fd = -1;
    char *out_owned = NULL;
    if (status == 0) {
        fd = strcmp(in, "-") == 0 ? STDIN_FILENO : open(in, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            fprintf(stderr, "tsfile import: %s: %s\n", in, strerror(errno));
            status = 1;
        }
    }
    if (status == 0) {
        if (!out) out = out_owned = default_out(in);
        im.out = out;
        if (snprintf(g_temp, sizeof(g_temp), "%s.tmp-XXXXXX", out) >= (int)sizeof(g_temp)) {
            fprintf(stderr, "tsfile import: %s: name too long\n", out);
            g_temp[0] = '\0';
            status = 2;
        }
    }
    if (status == 0) {
        int tfd = mkstemp(g_temp);
        if (tfd < 0) {
            fprintf(stderr, "tsfile import: %s: %s\n", g_temp, strerror(errno));
            g_temp[0] = '\0';
            status = 1;
        } else {
            mode_t mask = umask(0);
            umask(mask);
            int mrc = fchmod(tfd, 0666 & ~mask); /* mkstemp made it 0600 */
            close(tfd);
            if (mrc != 0) {
                fprintf(stderr, "tsfile import: %s: %s\n", g_temp, strerror(errno));
                status = 1;
            }
            struct sigaction sa = {0};
            sa.sa_handler = on_signal;
            sigaction(SIGINT, &sa, NULL);
            sigaction(SIGTERM, &sa, NULL);
            sigaction(SIGHUP, &sa, NULL);
        }
        if (status == 0) {
            TsfWriterOpts o;
            tsf_writer_opts_default(&o);
            o.version = 3;
            o.fsync = true; /* durable before the rename publishes it */
            int rc = tsf_writer_open(g_temp, &o, &im.w);
            if (rc) {
                fprintf(stderr, "tsfile import: %s: %s\n", g_temp, tsf_strerror(rc));
                status = 1;
            }
        }
    }
    if (status == 0) {
        struct stat st;
        Progress pg = {0};
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size > PROGRESS_MIN && isatty(2)) {
            pg.on = true;
            pg.total = (uint64_t)st.st_size;
            pg.start = pg.last = now_s();
        }
        status = run(&im, fd, &pg, device);
        if (status == 0) {
            int rc = tsf_writer_close(im.w);
            im.w = NULL;
            if (rc) {
                fprintf(stderr, "tsfile import: %s: %s\n", out, tsf_strerror(rc));
                status = 1;
            } else if (rename(g_temp, out) != 0) {
                fprintf(stderr, "tsfile import: %s: %s\n", out, strerror(errno));
                status = 1;
            } else {
                g_temp[0] = '\0';
                unsigned nseries = 0;
                for (guint i = 0; i < im.series->len; i++)
                    nseries += ((Series *)im.series->pdata[i])->type != TSF_VECTOR;
                printf("%s: %" PRIu64 " rows, %" PRIu64 " points, %u series\n", out, im.rows, im.points,
                       nseries);
            }
        }
    }
    if (im.w) tsf_writer_abort(im.w);
    if (g_temp[0]) {
        unlink(g_temp);
        g_temp[0] = '\0';
    }
    if (fd > STDIN_FILENO) close(fd);
    g_free(out_owned);
    import_free(&im);
    return status;
}
