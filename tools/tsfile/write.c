/*
 * write.c: `tsfile write OUT.tsfile [options] < lines`.
 *
 * Each input line is `device,measurement,type,encoding,compression,time,value`
 * with the value written as in the canonical dump (TEXT/STRING with \\ \n \r
 * \t escapes, BLOB as 0x-hex, DATE as yyyyMMdd, FLOAT/DOUBLE also nan, inf,
 * -inf).  Lines may come in any order: the tool gathers each series, sorts
 * it by time and writes one chunk group per device.  With --aligned every
 * device is written aligned; a missing line is a null cell.  A bad line is
 * refused with its line number and nothing is written.
 */
#include <errno.h>
#include <glib.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bytes.h"
#include "tool.h"
#include "writer.h"

typedef struct InSeries {
    char *device, *name;
    TsfType type;
    TsfEncoding enc;
    TsfCompression comp;
    int64_t *t;
    uint8_t *v; /* physical values; TsfBin ptr = offset into bytes */
    size_t n, cap;
    TsfBuf bytes;
    long first_line;
} InSeries;

typedef struct Input {
    GHashTable *by_key; /* "device\x01name" -> InSeries* */
    GPtrArray *series;  /* in first-seen order */
    GPtrArray *devices; /* device names (char*, owned by the first series) */
    GHashTable *dev_set;
} Input;

static int bad(long line, const char *why)
{
    fprintf(stderr, "tsfile: stdin:%ld: %s\n", line, why);
    return 1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Parses the value text s (len n) of type t into dst (physical form);
 * binary bytes are appended to bytes.  Returns NULL or an error text. */
static const char *parse_value(TsfType t, const char *s, size_t n, void *dst, TsfBuf *bytes)
{
    char tmp[128];
    if (tsf_type_phys(t) != TSF_PHYS_BIN) {
        if (n == 0 || n >= sizeof(tmp)) return "bad value";
        memcpy(tmp, s, n);
        tmp[n] = 0;
    }
    char *end;
    errno = 0;
    switch (t) {
    case TSF_BOOLEAN:
        if (strcasecmp(tmp, "true") == 0)
            *(uint8_t *)dst = 1;
        else if (strcasecmp(tmp, "false") == 0)
            *(uint8_t *)dst = 0;
        else
            return "BOOLEAN value must be true or false";
        return NULL;
    case TSF_INT32:
    case TSF_DATE: {
        long long v = strtoll(tmp, &end, 10);
        if (*end || errno || v < INT32_MIN || v > INT32_MAX) return "bad 32-bit integer";
        *(int32_t *)dst = (int32_t)v;
        return NULL;
    }
    case TSF_INT64:
    case TSF_TIMESTAMP: {
        long long v = strtoll(tmp, &end, 10);
        if (*end || errno) return "bad 64-bit integer";
        *(int64_t *)dst = (int64_t)v;
        return NULL;
    }
    case TSF_FLOAT: {
        float f = strtof(tmp, &end);
        if (*end) return "bad FLOAT value";
        *(float *)dst = f;
        return NULL;
    }
    case TSF_DOUBLE: {
        double d = strtod(tmp, &end);
        if (*end) return "bad DOUBLE value";
        *(double *)dst = d;
        return NULL;
    }
    case TSF_TEXT:
    case TSF_STRING: {
        TsfBin *b = dst;
        size_t start = bytes->len;
        for (size_t i = 0; i < n; i++) {
            char ch = s[i];
            if (ch == '\\') {
                if (++i >= n) return "dangling backslash";
                switch (s[i]) {
                case '\\': ch = '\\'; break;
                case 'n': ch = '\n'; break;
                case 'r': ch = '\r'; break;
                case 't': ch = '\t'; break;
                default: return "unknown escape (use \\\\ \\n \\r \\t)";
                }
            }
            tsf_buf_put_u8(bytes, (uint8_t)ch);
        }
        b->ptr = (const uint8_t *)(uintptr_t)start;
        b->len = (uint32_t)(bytes->len - start);
        return NULL;
    }
    case TSF_BLOB: {
        TsfBin *b = dst;
        if (n < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || n % 2) return "BLOB value must be 0x-hex";
        size_t start = bytes->len;
        for (size_t i = 2; i < n; i += 2) {
            int hi = hexval(s[i]), lo = hexval(s[i + 1]);
            if (hi < 0 || lo < 0) return "BLOB value must be 0x-hex";
            tsf_buf_put_u8(bytes, (uint8_t)(hi << 4 | lo));
        }
        b->ptr = (const uint8_t *)(uintptr_t)start;
        b->len = (uint32_t)(bytes->len - start);
        return NULL;
    }
    default: return "unsupported type";
    }
}

static int add_line(Input *in, char *line, long lineno)
{
    char *f[6];
    char *p = line;
    for (int i = 0; i < 6; i++) {
        char *comma = strchr(p, ',');
        if (!comma) return bad(lineno, "expected device,measurement,type,encoding,compression,time,value");
        *comma = 0;
        f[i] = p;
        p = comma + 1;
    }
    if (!*f[0] || !*f[1]) return bad(lineno, "empty device or measurement");
    int type = tsf_type_from_name(f[2]), enc = tsf_encoding_from_name(f[3]),
        comp = tsf_compression_from_name(f[4]);
    if (type < 0 || type == TSF_VECTOR) return bad(lineno, "unknown data type");
    if (enc < 0) return bad(lineno, "unknown encoding");
    if (comp < 0) return bad(lineno, "unknown compression");
    if (!tsf_encoding_allowed((TsfType)type, (TsfEncoding)enc))
        return bad(lineno, "encoding not allowed for this type");
    char *end;
    errno = 0;
    long long t = strtoll(f[5], &end, 10);
    if (*end || errno || end == f[5]) return bad(lineno, "bad time");
    GString *key = g_string_new(f[0]);
    g_string_append_c(key, '\x01');
    g_string_append(key, f[1]);
    InSeries *s = g_hash_table_lookup(in->by_key, key->str);
    if (!s) {
        s = calloc(1, sizeof(*s));
        s->device = strdup(f[0]);
        s->name = strdup(f[1]);
        s->type = (TsfType)type;
        s->enc = (TsfEncoding)enc;
        s->comp = (TsfCompression)comp;
        s->first_line = lineno;
        g_hash_table_insert(in->by_key, g_string_free(key, FALSE), s);
        g_ptr_array_add(in->series, s);
        if (!g_hash_table_contains(in->dev_set, s->device)) {
            g_hash_table_add(in->dev_set, s->device);
            g_ptr_array_add(in->devices, s->device);
        }
    } else {
        g_string_free(key, TRUE);
        if ((int)s->type != type || (int)s->enc != enc || (int)s->comp != comp)
            return bad(lineno, "type/encoding/compression differ from the series' first line");
    }
    size_t esz = tsf_type_elem_size(s->type);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->t = realloc(s->t, s->cap * sizeof(int64_t));
        s->v = realloc(s->v, s->cap * esz);
        if (!s->t || !s->v) return bad(lineno, "out of memory");
    }
    const char *why = parse_value(s->type, p, strlen(p), s->v + s->n * esz, &s->bytes);
    if (why) return bad(lineno, why);
    s->t[s->n++] = (int64_t)t;
    return 0;
}

static InSeries *g_sorting;
static int by_time(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = g_sorting->t[i], y = g_sorting->t[j];
    return x < y ? -1 : x > y ? 1 : (i < j ? -1 : i > j);
}

/* Sorts a series by time and turns binary offsets into pointers.
 * Refuses a repeated timestamp. */
static int finish_series(InSeries *s)
{
    size_t esz = tsf_type_elem_size(s->type);
    size_t *ord = malloc((s->n ? s->n : 1) * sizeof(size_t));
    int64_t *t = malloc((s->n ? s->n : 1) * sizeof(int64_t));
    uint8_t *v = malloc((s->n ? s->n : 1) * esz);
    if (!ord || !t || !v) return -ENOMEM;
    for (size_t i = 0; i < s->n; i++) ord[i] = i;
    g_sorting = s;
    qsort(ord, s->n, sizeof(size_t), by_time);
    for (size_t i = 0; i < s->n; i++) {
        t[i] = s->t[ord[i]];
        memcpy(v + i * esz, s->v + ord[i] * esz, esz);
        if (i && t[i] == t[i - 1]) {
            fprintf(stderr, "tsfile: stdin: %s.%s: time %" PRId64 " given twice\n", s->device, s->name, t[i]);
            free(ord);
            free(t);
            free(v);
            return 1;
        }
    }
    if (tsf_type_phys(s->type) == TSF_PHYS_BIN) {
        TsfBin *b = (TsfBin *)v;
        for (size_t i = 0; i < s->n; i++) b[i].ptr = s->bytes.data + (uintptr_t)b[i].ptr;
    }
    free(ord);
    free(s->t);
    free(s->v);
    s->t = t;
    s->v = v;
    return 0;
}

static int write_aligned_device(TsfWriter *w, const char *dev, InSeries **cols, size_t ncols)
{
    /* Rows are the union of the columns' timestamps (merge of sorted lists). */
    size_t total = 0;
    for (size_t c = 0; c < ncols; c++) total += cols[c]->n;
    int64_t *rows = malloc((total ? total : 1) * sizeof(int64_t));
    size_t nrows = 0;
    size_t *pos = calloc(ncols, sizeof(size_t));
    for (;;) {
        int64_t next = INT64_MAX;
        bool any = false;
        for (size_t c = 0; c < ncols; c++)
            if (pos[c] < cols[c]->n && (!any || cols[c]->t[pos[c]] < next)) {
                next = cols[c]->t[pos[c]];
                any = true;
            }
        if (!any) break;
        rows[nrows++] = next;
        for (size_t c = 0; c < ncols; c++)
            if (pos[c] < cols[c]->n && cols[c]->t[pos[c]] == next) pos[c]++;
    }
    TsfColumnSchema *schema = calloc(ncols, sizeof(*schema));
    void **vals = calloc(ncols, sizeof(void *));
    uint8_t **present = calloc(ncols, sizeof(uint8_t *));
    for (size_t c = 0; c < ncols; c++) {
        schema[c] = (TsfColumnSchema){cols[c]->name, cols[c]->type, cols[c]->enc, cols[c]->comp};
        size_t esz = tsf_type_elem_size(cols[c]->type);
        vals[c] = calloc(nrows ? nrows : 1, esz);
        present[c] = calloc(nrows ? nrows : 1, 1);
        size_t k = 0;
        for (size_t r = 0; r < nrows && k < cols[c]->n; r++) {
            if (cols[c]->t[k] != rows[r]) continue;
            memcpy((uint8_t *)vals[c] + r * esz, cols[c]->v + k * esz, esz);
            present[c][r] = 1;
            k++;
        }
    }
    int rc = tsf_writer_begin_aligned(w, dev, schema, ncols);
    if (rc == 0)
        rc = tsf_writer_append_aligned(w, rows, nrows, (const void *const *)vals,
                                       (const uint8_t *const *)present);
    if (rc == 0) rc = tsf_writer_end_group(w);
    for (size_t c = 0; c < ncols; c++) {
        free(vals[c]);
        free(present[c]);
    }
    free(vals);
    free(present);
    free(schema);
    free(pos);
    free(rows);
    return rc;
}

int cmd_write(int argc, char **argv)
{
    TsfWriterOpts o;
    tsf_writer_opts_default(&o);
    const char *out = NULL;
    bool aligned = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--aligned") == 0)
            aligned = true;
        else if (strcmp(a, "--page-points") == 0 && i + 1 < argc)
            o.page_max_points = (uint32_t)atol(argv[++i]);
        else if (strcmp(a, "--page-bytes") == 0 && i + 1 < argc)
            o.page_max_bytes = (uint32_t)atol(argv[++i]);
        else if (strcmp(a, "--float-precision") == 0 && i + 1 < argc)
            o.float_precision = atoi(argv[++i]);
        else if (strcmp(a, "--version") == 0 && i + 1 < argc) {
            o.version = atoi(argv[++i]);
            if (o.version != 3 && o.version != 4) {
                fputs("tsfile: --version must be 3 or 4\n", stderr);
                return 2;
            }
        } else if (a[0] != '-' && !out)
            out = a;
        else {
            fprintf(stderr, "tsfile write: bad argument '%s'\n", a);
            return 2;
        }
    }
    if (!out || o.page_max_points == 0) {
        fputs("usage: tsfile write OUT.tsfile [--aligned] [--page-points N] [--version 3|4] < lines\n",
              stderr);
        return 2;
    }
    Input in = {g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL), g_ptr_array_new(),
                g_ptr_array_new(), g_hash_table_new(g_str_hash, g_str_equal)};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int status = 0;
    while (status == 0 && (len = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        if (len > 0 && line[len - 1] == '\n') line[--len] = 0;
        if (len > 0 && line[len - 1] == '\r') line[--len] = 0;
        if (len == 0) continue;
        status = add_line(&in, line, lineno);
    }
    free(line);
    for (guint i = 0; i < in.series->len && status == 0; i++) status = finish_series(in.series->pdata[i]);
    if (status == 0) {
        TsfWriter *w;
        int rc = tsf_writer_open(out, &o, &w);
        if (rc) {
            fprintf(stderr, "tsfile: %s: %s\n", out, tsf_strerror(rc));
            status = 1;
        }
        for (guint d = 0; d < in.devices->len && rc == 0 && status == 0; d++) {
            const char *dev = in.devices->pdata[d];
            InSeries **cols = malloc(in.series->len * sizeof(*cols));
            size_t ncols = 0;
            for (guint i = 0; i < in.series->len; i++) {
                InSeries *s = in.series->pdata[i];
                if (strcmp(s->device, dev) == 0) cols[ncols++] = s;
            }
            if (aligned) {
                rc = write_aligned_device(w, dev, cols, ncols);
            } else {
                rc = tsf_writer_begin_group(w, dev);
                for (size_t c = 0; c < ncols && rc == 0; c++) {
                    rc =
                        tsf_writer_begin_series(w, cols[c]->name, cols[c]->type, cols[c]->enc, cols[c]->comp);
                    if (rc == 0) rc = tsf_writer_append(w, cols[c]->t, cols[c]->v, cols[c]->n);
                    if (rc == 0) rc = tsf_writer_end_series(w);
                }
                if (rc == 0) rc = tsf_writer_end_group(w);
            }
            free(cols);
        }
        if (rc == 0 && status == 0) {
            rc = tsf_writer_close(w);
            if (rc) status = tool_fail(out, NULL, rc);
        } else if (w) {
            status = tool_fail(out, tsf_writer_err(w), rc);
            tsf_writer_abort(w);
        }
    }
    for (guint i = 0; i < in.series->len; i++) {
        InSeries *s = in.series->pdata[i];
        free(s->device);
        free(s->name);
        free(s->t);
        free(s->v);
        tsf_buf_free(&s->bytes);
        free(s);
    }
    g_hash_table_destroy(in.by_key);
    g_hash_table_destroy(in.dev_set);
    g_ptr_array_free(in.series, TRUE);
    g_ptr_array_free(in.devices, TRUE);
    return status;
}
