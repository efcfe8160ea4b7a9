/*
 * writes.c: turning write() calls on a sensor or a device view into inserts.
 *
 * Each open file has a WriteState.  A write() is split into lines where it
 * lies (no copy per line); a line cut by the end of the buffer is carried
 * to the next write.  Every complete line is parsed into one batch (times
 * and values in arrays reused across writes), and only when all of them
 * parsed is the batch handed to the engine as one tablet: a write holding
 * any bad line inserts nothing, returns EINVAL, logs the line's byte offset
 * and why, and poisons the handle (so `cat big.csv >> s` stops there).
 *
 * Device views (.csv) take RFC 4180 records: the handle's first record is
 * a header naming the columns (the view's own header, or bare sensor
 * names); then rows of time and cells, an empty cell meaning no point.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "tsfs.h"

#define MAX_CARRY (64u << 20) /* longest line accepted across writes */
#define MAX_COLS  4096

typedef struct Batch {
    int64_t *times;
    size_t n, cap;
    uint8_t **vals;    /* per column: cap values */
    uint8_t **present; /* per column: cap flags (csv) */
    size_t ncols;
} Batch;

struct WriteState {
    Tsfs *fs;
    Node *n;
    bool csv, append, poisoned;
    uint64_t base, accepted;
    int64_t lo, hi;
    GByteArray *carry;
    LnArena arena;
    Batch b;
    /* sensor */
    bool type_known;
    TsfType type;
    /* csv: the handle's header */
    bool have_header;
    char **cols;
    bool *col_known;
    TsfType *col_type;
    size_t ncols;
};

static char *display_path(const Node *n)
{
    char part[32];
    if (n->in_part)
        snprintf(part, sizeof part, "%lld", (long long)n->part);
    else
        strcpy(part, "all");
    if (n->kind == N_CSV) return g_strdup_printf("%s/%s/%s.csv", n->sg, part, node_rel_device(n));
    return g_strdup_printf("%s/%s/%s/%s", n->sg, part, node_rel_device(n), n->name);
}

static void log_bad(WriteState *w, uint64_t off, const char *why)
{
    char *p = display_path(w->n);
    log_msg(LOG_WARNING, "%s: line at byte %llu refused: %s", p, (unsigned long long)off, why);
    g_free(p);
}

WriteState *writes_new(Tsfs *fs, Node *n, bool append, uint64_t base)
{
    WriteState *w = calloc(1, sizeof(*w));
    if (!w) return NULL;
    w->fs = fs;
    w->n = n;
    w->csv = n->kind == N_CSV;
    w->append = append;
    w->base = base;
    w->carry = g_byte_array_new();
    node_range(fs, n, &w->lo, &w->hi);
    return w;
}

static void batch_free(Batch *b)
{
    free(b->times);
    for (size_t c = 0; c < b->ncols; c++) {
        free(b->vals[c]);
        if (b->present) free(b->present[c]);
    }
    free(b->vals);
    free(b->present);
    memset(b, 0, sizeof(*b));
}

void writes_free(WriteState *w)
{
    if (!w) return;
    g_byte_array_free(w->carry, TRUE);
    ln_arena_free(&w->arena);
    batch_free(&w->b);
    g_strfreev(w->cols);
    free(w->col_known);
    free(w->col_type);
    free(w);
}

/* Room for one more row in the batch (values of up to 16 bytes each). */
static int batch_grow(Batch *b)
{
    if (b->n < b->cap) return 0;
    size_t cap = b->cap ? b->cap * 2 : 4096;
    int64_t *t = realloc(b->times, cap * sizeof(int64_t));
    if (!t) return -ENOMEM;
    b->times = t;
    for (size_t c = 0; c < b->ncols; c++) {
        uint8_t *v = realloc(b->vals[c], cap * 16);
        if (!v) return -ENOMEM;
        b->vals[c] = v;
        if (b->present) {
            uint8_t *p = realloc(b->present[c], cap);
            if (!p) return -ENOMEM;
            b->present[c] = p;
        }
    }
    b->cap = cap;
    return 0;
}

static int batch_columns(Batch *b, size_t ncols, bool with_present)
{
    batch_free(b);
    b->ncols = ncols;
    b->vals = calloc(ncols ? ncols : 1, sizeof(uint8_t *));
    b->present = with_present ? calloc(ncols ? ncols : 1, sizeof(uint8_t *)) : NULL;
    if (!b->vals || (with_present && !b->present)) return -ENOMEM;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims a slice of spaces and tabs at both ends. */
static void trim(const char **p, size_t *n)
{
    while (*n && is_blank(**p)) (*p)++, (*n)--;
    while (*n && is_blank((*p)[*n - 1])) (*n)--;
}

static bool is_text(TsfType t)
{
    return t == TSF_TEXT || t == TSF_STRING;
}

/* The next bare-value stamp of the series: max(now, last + 1). */
static int64_t bare_stamp(WriteState *w)
{
    Tsfs *fs = w->fs;
    char *key = g_strdup_printf("%s\x01%s", w->n->device, w->n->name);
    int64_t now = fs_now_ms();
    pthread_mutex_lock(&fs->lock);
    int64_t *last = g_hash_table_lookup(fs->bare_stamps, key);
    if (!last) {
        last = g_new(int64_t, 1);
        *last = INT64_MIN;
        g_hash_table_insert(fs->bare_stamps, key, last);
        key = NULL;
    }
    int64_t t = now > *last ? now : *last + 1;
    *last = t;
    pthread_mutex_unlock(&fs->lock);
    g_free(key);
    return t;
}

/* The series type: known, chosen with setfattr, or inferred from a value. */
static void sensor_type(WriteState *w, const char *v, size_t n)
{
    if (w->type_known) return;
    Tsfs *fs = w->fs;
    const SeriesSchema *ss = schema_get_series(engine_schema(fs->engine), w->n->device, w->n->name);
    if (ss) {
        w->type = ss->type;
    } else {
        pthread_mutex_lock(&fs->lock);
        PendingSensor *ps = fs_pending_get(fs, w->n->device, w->n->name, false);
        bool chosen = ps && ps->has_type;
        TsfType t = chosen ? ps->type : TSF_TEXT;
        pthread_mutex_unlock(&fs->lock);
        w->type = chosen ? t : ln_infer_type(v, n);
    }
    w->type_known = true;
}

/* Parses one sensor line into the batch; 0, 1 when blank, or -EINVAL. */
static int sensor_line(WriteState *w, const char *line, size_t n, const char **why)
{
    if (n && line[n - 1] == '\r') n--;
    const char *p = line;
    size_t m = n;
    trim(&p, &m);
    if (m == 0) return 1;
    const char *comma = memchr(p, ',', m);
    int64_t t;
    const char *v;
    size_t vn;
    bool timed = false;
    if (comma) {
        const char *ts = p;
        size_t tn = (size_t)(comma - p);
        trim(&ts, &tn);
        const char *twhy;
        if (ln_parse_time(ts, tn, &t, &twhy) == 0) {
            timed = true;
            v = comma + 1;
            vn = (size_t)(p + m - v);
        } else {
            sensor_type(w, p, m);
            if (!is_text(w->type)) {
                *why = twhy;
                return -EINVAL;
            }
        }
    }
    if (!timed) {
        v = p;
        vn = m;
    }
    {
        /* spaces around a number do not make it text */
        const char *iv = v;
        size_t ivn = vn;
        trim(&iv, &ivn);
        sensor_type(w, iv, ivn);
    }
    if (!is_text(w->type)) trim(&v, &vn);
    if (!timed) t = bare_stamp(w);
    if (t < w->lo || t > w->hi) {
        *why = "time outside the partition";
        return -EINVAL;
    }
    Batch *b = &w->b;
    if (batch_grow(b)) {
        *why = "out of memory";
        return -ENOMEM;
    }
    size_t es = tsf_type_elem_size(w->type);
    int rc = ln_parse_value(w->type, v, vn, b->vals[0] + b->n * es, &w->arena, why);
    if (rc) return rc;
    b->times[b->n++] = t;
    return 0;
}

/* Splits data into lines and parses each; the trailing partial line is
 * left out (*used says how much was consumed).  first_off is the handle
 * offset of data[0], for log lines. */
static int sensor_lines(WriteState *w, const char *data, size_t len, uint64_t first_off, size_t *used)
{
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) break;
        size_t ll = (size_t)(nl - (data + pos));
        const char *why = "malformed";
        int rc = sensor_line(w, data + pos, ll, &why);
        if (rc < 0) {
            log_bad(w, first_off + pos, why);
            return rc;
        }
        pos += ll + 1;
    }
    *used = pos;
    return 0;
}

static int insert_sensor_batch(WriteState *w)
{
    Batch *b = &w->b;
    if (b->n == 0) return 0;
    int rc = fs_realize_series(w->fs, w->n->device, w->n->name, w->type);
    if (rc) return rc;
    EngineColumn col = {w->n->name, w->type, b->vals[0], NULL};
    return engine_insert_tablet(w->fs->engine, w->n->device, b->times, b->n, &col, 1);
}

/* ---- device views (.csv) --------------------------------------------------------- */

static int csv_header(WriteState *w, LnCell *cells, int nc, const char **why)
{
    if (nc < 1 || cells[0].n != 4 || g_ascii_strncasecmp(cells[0].p, "time", 4) != 0) {
        *why = "the first line must be a header (Time,...)";
        return -EINVAL;
    }
    /* IoTDB's by-device export (Time,Device,s1,...) holds several devices:
     * it is not one device's view, whatever its rows say */
    if (nc > 1 && cells[1].n == 6 && strncmp(cells[1].p, "Device", 6) == 0) {
        *why = "a by-device CSV (Time,Device,...) cannot go into one device's view";
        return -EINVAL;
    }
    size_t dl = strlen(w->n->device);
    char **cols = calloc((size_t)nc, sizeof(char *));
    if (!cols) return -ENOMEM;
    for (int i = 1; i < nc; i++) {
        const char *p = cells[i].p;
        size_t n = cells[i].n;
        trim(&p, &n);
        if (n > dl + 1 && strncmp(p, w->n->device, dl) == 0 && p[dl] == '.') p += dl + 1, n -= dl + 1;
        cols[i - 1] = g_strndup(p, n);
        bool dup = false;
        for (int j = 0; j < i - 1 && !dup; j++) dup = strcmp(cols[j], cols[i - 1]) == 0;
        if (!fs_valid_sensor_name(cols[i - 1]) || dup) {
            *why = dup ? "a column named twice in the header" : "a header column that is not a sensor name";
            g_strfreev(cols);
            return -EINVAL;
        }
    }
    size_t ncols = (size_t)nc - 1;
    g_strfreev(w->cols);
    free(w->col_known);
    free(w->col_type);
    w->cols = cols;
    w->ncols = ncols;
    w->col_known = calloc(ncols ? ncols : 1, sizeof(bool));
    w->col_type = calloc(ncols ? ncols : 1, sizeof(TsfType));
    if (!w->col_known || !w->col_type) return -ENOMEM;
    for (size_t c = 0; c < ncols; c++) {
        const SeriesSchema *ss = schema_get_series(engine_schema(w->fs->engine), w->n->device, cols[c]);
        if (ss) {
            w->col_known[c] = true;
            w->col_type[c] = ss->type;
        } else {
            pthread_mutex_lock(&w->fs->lock);
            PendingSensor *ps = fs_pending_get(w->fs, w->n->device, cols[c], false);
            if (ps && ps->has_type) {
                w->col_known[c] = true;
                w->col_type[c] = ps->type;
            }
            pthread_mutex_unlock(&w->fs->lock);
        }
    }
    w->have_header = true;
    return batch_columns(&w->b, ncols, true);
}

static int csv_row(WriteState *w, LnCell *cells, int nc, const char **why)
{
    if ((size_t)nc != w->ncols + 1) {
        *why = "wrong number of cells for the header";
        return -EINVAL;
    }
    const char *tp = cells[0].p;
    size_t tn = cells[0].n;
    trim(&tp, &tn);
    int64_t t;
    int rc = ln_parse_time(tp, tn, &t, why);
    if (rc) return rc;
    if (t < w->lo || t > w->hi) {
        *why = "time outside the partition";
        return -EINVAL;
    }
    Batch *b = &w->b;
    if (batch_grow(b)) return -ENOMEM;
    for (size_t c = 0; c < w->ncols; c++) {
        const char *p = cells[c + 1].p;
        size_t n = cells[c + 1].n;
        b->present[c][b->n] = 0;
        if (n == 0) continue;
        if (!w->col_known[c]) {
            const char *ip = p;
            size_t in = n;
            trim(&ip, &in);
            w->col_known[c] = true;
            w->col_type[c] = ln_infer_type(ip, in);
        }
        TsfType ty = w->col_type[c];
        size_t es = tsf_type_elem_size(ty);
        if (is_text(ty)) {
            /* RFC 4180 cells carry text as is: no backslash escapes */
            TsfBin bin = {(const uint8_t *)p, (uint32_t)n};
            memcpy(b->vals[c] + b->n * es, &bin, sizeof bin);
        } else {
            trim(&p, &n);
            rc = ln_parse_value(ty, p, n, b->vals[c] + b->n * es, &w->arena, why);
            if (rc) return rc;
        }
        b->present[c][b->n] = 1;
    }
    b->times[b->n++] = t;
    return 0;
}

static int csv_records(WriteState *w, const char *data, size_t len, uint64_t first_off, size_t *used)
{
    LnCell *cells = g_new(LnCell, MAX_COLS + 1);
    size_t pos = 0;
    int rc = 0;
    while (pos < len) {
        size_t rl = ln_csv_record_len(data + pos, len - pos);
        if (rl == 0) break;
        size_t body = rl;
        if (body && data[pos + body - 1] == '\n') body--;
        if (body && data[pos + body - 1] == '\r') body--;
        const char *why = "malformed";
        if (body > 0) {
            int nc = ln_csv_split(data + pos, body, cells, MAX_COLS + 1, &w->arena, &why);
            if (nc < 0)
                rc = nc;
            else if (!w->have_header)
                rc = csv_header(w, cells, nc, &why);
            else
                rc = csv_row(w, cells, nc, &why);
        }
        if (rc) {
            log_bad(w, first_off + pos, why);
            break;
        }
        pos += rl;
    }
    g_free(cells);
    *used = pos;
    return rc;
}

static int insert_csv_batch(WriteState *w)
{
    Batch *b = &w->b;
    if (b->n == 0) return 0;
    EngineColumn *cols = g_new(EngineColumn, w->ncols ? w->ncols : 1);
    size_t k = 0;
    int rc = 0;
    for (size_t c = 0; c < w->ncols && rc == 0; c++) {
        bool any = false;
        for (size_t i = 0; i < b->n && !any; i++) any = b->present[c][i];
        if (!any) continue;
        rc = fs_realize_series(w->fs, w->n->device, w->cols[c], w->col_type[c]);
        cols[k++] = (EngineColumn){w->cols[c], w->col_type[c], b->vals[c], b->present[c]};
    }
    if (rc == 0 && k > 0) rc = engine_insert_tablet(w->fs->engine, w->n->device, b->times, b->n, cols, k);
    g_free(cols);
    return rc;
}

/* ---- the write path -------------------------------------------------------------- */

/* Parses data (carry already prepended by the caller when needed) and
 * inserts it; the unparsed tail length goes to *rest. */
static int process(WriteState *w, const char *data, size_t len, uint64_t first_off, bool final, size_t *rest)
{
    w->b.n = 0;
    ln_arena_reset(&w->arena);
    if (!w->csv && w->b.ncols != 1) {
        int rc = batch_columns(&w->b, 1, false);
        if (rc) return rc;
    }
    size_t used = 0;
    int rc =
        w->csv ? csv_records(w, data, len, first_off, &used) : sensor_lines(w, data, len, first_off, &used);
    if (rc == 0 && final && used < len) {
        /* the unterminated last line, at release */
        size_t u2 = 0;
        char *tmp = g_malloc(len - used + 1);
        memcpy(tmp, data + used, len - used);
        tmp[len - used] = '\n';
        rc = w->csv ? csv_records(w, tmp, len - used + 1, first_off + used, &u2)
                    : sensor_lines(w, tmp, len - used + 1, first_off + used, &u2);
        if (rc == 0) rc = w->csv ? insert_csv_batch(w) : insert_sensor_batch(w);
        g_free(tmp);
        *rest = 0;
        return rc;
    }
    if (rc == 0) rc = w->csv ? insert_csv_batch(w) : insert_sensor_batch(w);
    /* the data comes first: the next write finds the room rendered bytes took */
    if (rc == -ENOSPC) content_release_space(w->fs);
    *rest = len - used;
    return rc;
}

int writes_accept(WriteState *w, const char *buf, size_t len, uint64_t off)
{
    if (w->poisoned) return -EINVAL;
    if (!w->append && off != w->base + w->accepted) {
        char *p = display_path(w->n);
        log_msg(LOG_WARNING, "%s: write at offset %llu refused: expected %llu (sequential writes only)", p,
                (unsigned long long)off, (unsigned long long)(w->base + w->accepted));
        g_free(p);
        return -EINVAL;
    }
    /* header state is per handle and part of what a refused write undoes */
    bool had_header = w->have_header;
    bool had_type = w->type_known;
    uint64_t first_off = w->base + w->accepted - w->carry->len;
    size_t rest;
    int rc;
    if (w->carry->len == 0) {
        rc = process(w, buf, len, first_off, false, &rest);
        if (rc == 0) g_byte_array_append(w->carry, (const guint8 *)buf + (len - rest), (guint)rest);
    } else if (!w->csv && !memchr(buf, '\n', len)) {
        rc = w->carry->len + len > MAX_CARRY ? -EINVAL : 0;
        if (rc == 0)
            g_byte_array_append(w->carry, (const guint8 *)buf, (guint)len);
        else
            log_bad(w, first_off, "line too long");
        rest = 0;
    } else {
        /* the carried partial line completes here: parse over carry + buf */
        GByteArray *all = g_byte_array_sized_new((guint)(w->carry->len + len));
        g_byte_array_append(all, w->carry->data, w->carry->len);
        g_byte_array_append(all, (const guint8 *)buf, (guint)len);
        rc = process(w, (const char *)all->data, all->len, first_off, false, &rest);
        if (rc == 0) {
            g_byte_array_set_size(w->carry, 0);
            g_byte_array_append(w->carry, all->data + (all->len - rest), (guint)rest);
        }
        g_byte_array_free(all, TRUE);
    }
    if (rc == 0 && w->carry->len > MAX_CARRY) {
        log_bad(w, first_off, "line too long");
        rc = -EINVAL;
    }
    if (rc) {
        if (!had_header) w->have_header = false;
        if (!had_type) w->type_known = false;
        w->poisoned = true;
        return rc;
    }
    w->accepted += len;
    return 0;
}

int writes_finish(WriteState *w)
{
    if (w->poisoned || w->carry->len == 0) return 0;
    uint64_t first_off = w->base + w->accepted - w->carry->len;
    size_t rest;
    int rc = process(w, (const char *)w->carry->data, w->carry->len, first_off, true, &rest);
    if (rc) {
        char *p = display_path(w->n);
        log_msg(LOG_WARNING, "%s: unterminated last line at byte %llu dropped", p,
                (unsigned long long)first_off);
        g_free(p);
    }
    g_byte_array_set_size(w->carry, 0);
    return rc;
}
