/*
 * content.c: what the bytes of a sensor file or a device view are.
 *
 * A file's content is rendered from the query engine; it is never stored.
 * A Version records one state of it: its exact size, the last time in it,
 * and checkpoints (every CP_EVERY bytes, the offset and time of a line
 * start) so a read at any offset restarts the query at a nearby time
 * instead of rendering from the start.
 *
 * Versions are cached per node, keyed by the engine's change stamps
 * (engine_change_of): a stamp equal to the cached one means the content is
 * unchanged; a newer stamp with no rewrite since means only points after
 * the cached last time were added, so the new version extends the old one
 * by rendering just those.  Anything else renders the file again.  Sealed
 * partitions never change: their sizes are kept for good and remembered in
 * DATA_DIR/system/rendered-sizes (per time format) across mounts.  With a
 * TTL the content moves with the clock, so nothing is cached.
 *
 * A Stream renders one version: its query is bounded by the version's last
 * time, so appends made after the version was taken do not leak into it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "tsfs.h"

#define CP_EVERY (1u << 20)
#define RBUF     (256u * 1024)

typedef struct Cache {
    pthread_mutex_t lock;
    GHashTable *versions; /* node key -> CacheEntry* */
    char *sizes_path;     /* DATA_DIR/system/rendered-sizes */
    FILE *sizes_log;      /* appended as sealed sizes are computed */
} Cache;

typedef struct CacheEntry {
    Version *v;
    bool sealed;
    bool has_data_known;
    bool has_data;
    uint64_t has_data_gen;
} CacheEntry;

static void entry_free(gpointer p)
{
    CacheEntry *ce = p;
    if (ce->v) version_unref(ce->v);
    free(ce);
}

void version_unref(Version *v)
{
    if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    if (v->cps) g_array_free(v->cps, TRUE);
    g_strfreev(v->cols);
    free(v);
}

static Version *version_ref(Version *v)
{
    __atomic_add_fetch(&v->refs, 1, __ATOMIC_ACQ_REL);
    return v;
}

static Version *version_new(void)
{
    Version *v = calloc(1, sizeof(*v));
    if (!v) return NULL;
    v->refs = 1;
    v->cps = g_array_new(FALSE, FALSE, sizeof(Checkpoint));
    return v;
}

/* ---- remembered sizes of sealed files ------------------------------------------ */

static const char *fmt_name(LnTimeFormat f)
{
    return f == LN_TIME_ISO ? "iso" : "ms";
}

static void load_sizes(Tsfs *fs, Cache *c)
{
    FILE *f = fopen(c->sizes_path, "r");
    if (!f) return;
    char line[4096], fmt[8], key[3900];
    unsigned long long size;
    long long last, mtime;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "v1 %7s %llu %lld %lld %3899s", fmt, &size, &last, &mtime, key) != 5) continue;
        if (strcmp(fmt, fmt_name(fs->time_format)) != 0) continue;
        Version *v = version_new();
        if (!v) break;
        v->size = size;
        v->last_t = last;
        v->mtime = mtime;
        CacheEntry *ce = calloc(1, sizeof(*ce));
        ce->v = v;
        ce->sealed = true;
        g_hash_table_replace(c->versions, g_strdup(key), ce);
    }
    fclose(f);
}

void content_init(Tsfs *fs)
{
    Cache *c = calloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->versions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
    c->sizes_path = g_strdup_printf("%s/system/rendered-sizes", fs->data_dir);
    fs->content = c;
    load_sizes(fs, c);
    c->sizes_log = fopen(c->sizes_path, "a");
}

void content_free(Tsfs *fs)
{
    Cache *c = fs->content;
    if (!c) return;
    if (c->sizes_log) fclose(c->sizes_log);
    g_hash_table_destroy(c->versions);
    g_free(c->sizes_path);
    pthread_mutex_destroy(&c->lock);
    free(c);
    fs->content = NULL;
}

/* Forgets what is cached about a partition (it was unsealed). */
void content_forget_partition(Tsfs *fs, const char *sg, int64_t part)
{
    Cache *c = fs->content;
    char *mark = g_strdup_printf("|%s|p%lld|", sg, (long long)part);
    pthread_mutex_lock(&c->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, c->versions);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (strstr(k, mark)) g_hash_table_iter_remove(&it);
    /* rewrite the remembered sizes without the partition's entries */
    FILE *f = c->sizes_path ? fopen(c->sizes_path, "r") : NULL;
    GString *keep = g_string_new(NULL);
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        if (!strstr(line, mark)) g_string_append(keep, line);
    if (f) fclose(f);
    if (c->sizes_log) fclose(c->sizes_log);
    f = fopen(c->sizes_path, "w");
    if (f) {
        fputs(keep->str, f);
        fclose(f);
    }
    c->sizes_log = fopen(c->sizes_path, "a");
    g_string_free(keep, TRUE);
    pthread_mutex_unlock(&c->lock);
    g_free(mark);
}

/* ---- streams ------------------------------------------------------------------ */

struct Stream {
    Tsfs *fs;
    bool csv;
    EngineQuery *q;
    EngineRows *r;
    TsfType type;   /* sensor */
    TsfType *types; /* csv columns */
    const void **rowvals;
    size_t ncols;
    const int64_t *times; /* current batch (sensor) */
    const uint8_t *vals;
    size_t n, i;
    size_t esize;
    char *buf; /* rendered bytes [bpos, blen) not yet returned */
    size_t blen, bpos, bcap;
    uint64_t pos;   /* offset of buf[bpos] */
    uint64_t limit; /* version size: never render past it */
    bool done;
    GArray *cps; /* when set, checkpoints are recorded here */
    uint64_t next_cp;
    int64_t last_t;
};

static int buf_reserve(Stream *s, size_t more)
{
    if (s->blen + more <= s->bcap) return 0;
    size_t cap = s->bcap ? s->bcap : RBUF;
    while (cap < s->blen + more) cap *= 2;
    char *nb = realloc(s->buf, cap);
    if (!nb) return -ENOMEM;
    s->buf = nb;
    s->bcap = cap;
    return 0;
}

static void note_line(Stream *s, uint64_t off, int64_t t)
{
    s->last_t = t;
    if (s->cps && off >= s->next_cp) {
        Checkpoint cp = {off, t};
        g_array_append_val(s->cps, cp);
        s->next_cp = off + CP_EVERY;
    }
}

static size_t cell_len_max(TsfType t, const void *v)
{
    if (t == TSF_TEXT || t == TSF_STRING) {
        const TsfBin *b = v;
        return 3 + 2 * (size_t)b->len; /* quotes and doubled quotes, or escapes */
    }
    if (t == TSF_BLOB) return 3 + 2 * (size_t)((const TsfBin *)v)->len;
    return LN_MAX_SCALAR;
}

/* Renders more lines into buf (after compacting it); returns 0 or -errno. */
static int fill_sensor(Stream *s)
{
    LnTimeFormat tf = s->fs->time_format;
    bool text = s->type == TSF_TEXT || s->type == TSF_STRING;
    while (s->blen < RBUF / 2) {
        if (s->i == s->n) {
            const int64_t *t;
            const void *v;
            size_t n;
            int rc = engine_query_next(s->q, &t, &v, &n);
            if (rc) return rc;
            if (n == 0) {
                s->done = true;
                return 0;
            }
            s->times = t;
            s->vals = v;
            s->n = n;
            s->i = 0;
        }
        /* a run of lines rendered straight into buf, space checked per line */
        while (s->i < s->n) {
            const void *v = s->vals + s->i * s->esize;
            size_t need = LN_MAX_SCALAR + 2 +
                          (text ? ln_text_len(((const TsfBin *)v)->ptr, ((const TsfBin *)v)->len)
                                : cell_len_max(s->type, v));
            if (s->blen + need > s->bcap) {
                if (s->blen >= RBUF / 2) break;
                if (buf_reserve(s, need)) return -ENOMEM;
            }
            char *p = s->buf + s->blen;
            uint64_t off = s->pos + (s->blen - s->bpos);
            int64_t t = s->times[s->i];
            p += ln_render_time(t, tf, p);
            *p++ = ',';
            if (text)
                p += ln_text_escape(((const TsfBin *)v)->ptr, ((const TsfBin *)v)->len, p);
            else
                p += ln_render_value(s->type, v, p);
            *p++ = '\n';
            s->blen = (size_t)(p - s->buf);
            note_line(s, off, t);
            s->i++;
            if (s->blen >= RBUF / 2 && s->i < s->n) break;
        }
    }
    return 0;
}

static int fill_csv(Stream *s)
{
    LnTimeFormat tf = s->fs->time_format;
    while (s->blen < RBUF / 2) {
        int64_t t;
        int rc = engine_rows_next(s->r, &t, s->rowvals);
        if (rc < 0) return rc;
        if (rc == 0) {
            s->done = true;
            return 0;
        }
        size_t need = LN_MAX_SCALAR + 2;
        for (size_t c = 0; c < s->ncols; c++)
            if (s->rowvals[c])
                need += 1 + cell_len_max(s->types[c], s->rowvals[c]);
            else
                need += 1;
        if (buf_reserve(s, need)) return -ENOMEM;
        char *p = s->buf + s->blen;
        uint64_t off = s->pos + (s->blen - s->bpos);
        p += ln_render_time(t, tf, p);
        for (size_t c = 0; c < s->ncols; c++) {
            *p++ = ',';
            const void *v = s->rowvals[c];
            if (!v) continue;
            if (s->types[c] == TSF_TEXT || s->types[c] == TSF_STRING)
                p += ln_csv_cell(((const TsfBin *)v)->ptr, ((const TsfBin *)v)->len, p);
            else
                p += ln_render_value(s->types[c], v, p);
        }
        *p++ = '\n';
        s->blen = (size_t)(p - s->buf);
        note_line(s, off, t);
    }
    return 0;
}

static int stream_fill(Stream *s)
{
    if (s->bpos > 0) {
        memmove(s->buf, s->buf + s->bpos, s->blen - s->bpos);
        s->blen -= s->bpos;
        s->bpos = 0;
    }
    if (s->done) return 0;
    if (buf_reserve(s, RBUF)) return -ENOMEM;
    return s->csv ? fill_csv(s) : fill_sensor(s);
}

static char *csv_header(const char *device, char **cols, size_t ncols, size_t *len)
{
    GString *h = g_string_new("Time");
    for (size_t i = 0; i < ncols; i++) g_string_append_printf(h, ",%s.%s", device, cols[i]);
    g_string_append_c(h, '\n');
    *len = h->len;
    return g_string_free(h, FALSE);
}

/* Opens the query (or row reader) of a node over [lo, hi]; the header of
 * a .csv view is put in buf when from_start. */
static int stream_start(Tsfs *fs, Node *n, char **cols, size_t ncols, int64_t lo, int64_t hi, bool from_start,
                        Stream **out)
{
    Stream *s = calloc(1, sizeof(*s));
    if (!s) return -ENOMEM;
    s->fs = fs;
    s->csv = n->kind == N_CSV;
    s->limit = UINT64_MAX;
    s->last_t = lo - (lo > INT64_MIN);
    int rc = buf_reserve(s, RBUF);
    TimeFilter *tf = rc ? NULL : tf_range(lo, hi);
    if (!rc && !tf) rc = -ENOMEM;
    if (!rc && s->csv) {
        if (from_start) {
            size_t hl;
            char *h = csv_header(n->device, cols, ncols, &hl);
            rc = buf_reserve(s, hl);
            if (!rc) {
                memcpy(s->buf, h, hl);
                s->blen = hl;
            }
            g_free(h);
        }
        s->ncols = ncols;
        s->types = calloc(ncols ? ncols : 1, sizeof(TsfType));
        s->rowvals = calloc(ncols ? ncols : 1, sizeof(void *));
        if (!rc && (!s->types || !s->rowvals)) rc = -ENOMEM;
        if (!rc && ncols == 0) s->done = true;
        if (!rc && ncols > 0)
            rc = engine_rows_open(fs->engine, n->device, (const char *const *)cols, ncols, tf, &s->r);
        for (size_t i = 0; !rc && i < ncols; i++) s->types[i] = engine_rows_type(s->r, i);
    } else if (!rc) {
        rc = engine_query_open(fs->engine, n->device, n->name, tf, NULL, 0, &s->q);
        if (rc == -ENOENT) { /* a pending sensor: no series yet, empty */
            rc = 0;
            s->done = true;
        } else if (!rc) {
            s->type = engine_query_type(s->q);
            s->esize = tsf_type_elem_size(s->type);
        }
    }
    tf_free(tf);
    if (rc) {
        stream_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

void stream_close(Stream *s)
{
    if (!s) return;
    if (s->q) engine_query_close(s->q);
    if (s->r) engine_rows_close(s->r);
    free(s->types);
    free(s->rowvals);
    free(s->buf);
    free(s);
}

uint64_t stream_pos(const Stream *s)
{
    return s->pos;
}

ssize_t stream_read(Stream *s, char *out, size_t len)
{
    size_t got = 0;
    while (got < len && s->pos < s->limit) {
        if (s->bpos == s->blen) {
            if (s->done) break;
            int rc = stream_fill(s);
            if (rc) return got ? (ssize_t)got : rc;
            if (s->bpos == s->blen) break;
        }
        size_t take = s->blen - s->bpos;
        if (take > len - got) take = len - got;
        if (s->limit - s->pos < take) take = (size_t)(s->limit - s->pos);
        if (out) memcpy(out + got, s->buf + s->bpos, take);
        s->bpos += take;
        s->pos += take;
        got += take;
    }
    return (ssize_t)got;
}

/* Renders [lo, hi] of a node to count its bytes, recording checkpoints
 * from base on; returns the byte count or -errno. */
static int64_t measure(Tsfs *fs, Node *n, char **cols, size_t ncols, int64_t lo, int64_t hi, bool from_start,
                       uint64_t base, Version *v)
{
    Stream *s;
    int rc = stream_start(fs, n, cols, ncols, lo, hi, from_start, &s);
    if (rc) return rc;
    s->pos = base;
    s->cps = v->cps;
    s->next_cp = v->cps->len ? g_array_index(v->cps, Checkpoint, v->cps->len - 1).off + CP_EVERY : 0;
    if (from_start && s->csv)
        s->next_cp = s->next_cp > s->blen ? s->next_cp : s->blen; /* no checkpoint in the header */
    uint64_t total = 0;
    for (;;) {
        /* skip what is rendered without copying it out */
        total += s->blen - s->bpos;
        s->pos += s->blen - s->bpos;
        s->bpos = s->blen;
        if (s->done) break;
        rc = stream_fill(s);
        if (rc) break;
    }
    if (!rc && s->last_t >= lo) v->last_t = s->last_t;
    stream_close(s);
    return rc ? rc : (int64_t)total;
}

/* ---- versions ------------------------------------------------------------------- */

static char **view_columns(Tsfs *fs, Node *n, size_t *ncols)
{
    GPtrArray *a = g_ptr_array_new();
    char **names = fs_device_sensors(fs, n->device);
    for (char **p = names; *p; p++) {
        if (!schema_get_series(engine_schema(fs->engine), n->device, *p)) continue; /* pending */
        if (n->in_part) {
            Node probe = {0};
            probe.kind = N_SENSOR;
            probe.sg = n->sg;
            probe.in_part = true;
            probe.part = n->part;
            probe.device = n->device;
            probe.name = *p;
            char *key = node_key_of(N_SENSOR, n->sg, true, n->part, n->device, *p);
            probe.key = key;
            bool has = content_has_data(fs, &probe);
            g_free(key);
            if (!has) continue;
        }
        g_ptr_array_add(a, g_strdup(*p));
    }
    g_strfreev(names);
    *ncols = a->len;
    g_ptr_array_add(a, NULL);
    return (char **)g_ptr_array_free(a, FALSE);
}

static bool has_ttl(Tsfs *fs, const Node *n)
{
    return schema_get_ttl(engine_schema(fs->engine), n->sg) > 0;
}

Version *content_version(Tsfs *fs, Node *n, int *err)
{
    Cache *c = fs->content;
    *err = 0;
    bool sealed = node_sealed(fs, n);
    bool cacheable = !has_ttl(fs, n);
    EngineChange ch;
    /* the stamp is read before the data (changes.c) */
    engine_change_of(fs->engine, n->device, n->kind == N_CSV ? NULL : n->name, &ch);
    Version *old = NULL;
    pthread_mutex_lock(&c->lock);
    CacheEntry *ce = cacheable ? g_hash_table_lookup(c->versions, n->key) : NULL;
    if (ce && ce->v) {
        if ((sealed && ce->sealed) || (!ce->sealed && ce->v->gen == ch.gen)) {
            Version *v = version_ref(ce->v);
            pthread_mutex_unlock(&c->lock);
            return v;
        }
        if (!ce->sealed && ch.rewrite <= ce->v->gen) old = version_ref(ce->v);
    }
    pthread_mutex_unlock(&c->lock);

    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    Version *v = version_new();
    if (!v) {
        *err = -ENOMEM;
        version_unref(old);
        return NULL;
    }
    v->gen = ch.gen;
    v->mtime = fs_now_ms();
    int64_t r;
    if (old && (n->kind != N_CSV || old->ncols > 0)) {
        /* only later points were added: extend the old version */
        g_array_append_vals(v->cps, old->cps->data, old->cps->len);
        v->cols = g_strdupv(old->cols);
        v->ncols = old->ncols;
        v->size = old->size;
        v->last_t = old->last_t;
        int64_t from = old->last_t >= lo ? old->last_t + 1 : lo;
        r = old->last_t == INT64_MAX ? 0 : measure(fs, n, v->cols, v->ncols, from, hi, false, old->size, v);
        if (r >= 0) {
            v->size += (uint64_t)r;
            if (r == 0) v->mtime = old->mtime;
        }
    } else {
        v->last_t = lo - (lo > INT64_MIN);
        if (n->kind == N_CSV) v->cols = view_columns(fs, n, &v->ncols);
        r = measure(fs, n, v->cols, v->ncols, lo, hi, true, 0, v);
        if (r >= 0) v->size = (uint64_t)r;
    }
    version_unref(old);
    if (r < 0) {
        *err = (int)r;
        version_unref(v);
        return NULL;
    }
    if (cacheable) {
        pthread_mutex_lock(&c->lock);
        CacheEntry *e2 = g_hash_table_lookup(c->versions, n->key);
        if (!e2) {
            e2 = calloc(1, sizeof(*e2));
            g_hash_table_insert(c->versions, g_strdup(n->key), e2);
        }
        if (e2 && (!e2->v || e2->v->gen <= v->gen || sealed)) {
            bool was_sealed = e2->sealed;
            if (e2->v) version_unref(e2->v);
            e2->v = version_ref(v);
            e2->sealed = sealed;
            if (sealed && !was_sealed && c->sizes_log) {
                fprintf(c->sizes_log, "v1 %s %llu %lld %lld %s\n", fmt_name(fs->time_format),
                        (unsigned long long)v->size, (long long)v->last_t, (long long)v->mtime, n->key);
                fflush(c->sizes_log);
            }
        }
        pthread_mutex_unlock(&c->lock);
    }
    return v;
}

bool content_cached(Tsfs *fs, Node *n, uint64_t *size, int64_t *mtime)
{
    Cache *c = fs->content;
    pthread_mutex_lock(&c->lock);
    CacheEntry *ce = g_hash_table_lookup(c->versions, n->key);
    bool found = ce && ce->v;
    if (found) {
        *size = ce->v->size;
        *mtime = ce->v->mtime;
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool content_has_data(Tsfs *fs, Node *n)
{
    Cache *c = fs->content;
    EngineChange ch;
    engine_change_of(fs->engine, n->device, n->name, &ch);
    bool sealed = node_sealed(fs, n), cacheable = !has_ttl(fs, n);
    pthread_mutex_lock(&c->lock);
    CacheEntry *ce = cacheable ? g_hash_table_lookup(c->versions, n->key) : NULL;
    if (ce) {
        if (ce->v && (ce->sealed ? sealed : ce->v->gen == ch.gen)) {
            bool has = ce->v->size > 0;
            pthread_mutex_unlock(&c->lock);
            return has;
        }
        if (ce->has_data_known && ce->has_data_gen == ch.gen && !sealed) {
            bool has = ce->has_data;
            pthread_mutex_unlock(&c->lock);
            return has;
        }
    }
    pthread_mutex_unlock(&c->lock);
    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    TimeFilter *tf = tf_range(lo, hi);
    Aggregates ag;
    bool has = tf && engine_aggregate(fs->engine, n->device, n->name, tf, &ag) == 0 && ag.count > 0;
    tf_free(tf);
    if (cacheable) {
        pthread_mutex_lock(&c->lock);
        ce = g_hash_table_lookup(c->versions, n->key);
        if (!ce) {
            ce = calloc(1, sizeof(*ce));
            g_hash_table_insert(c->versions, g_strdup(n->key), ce);
        }
        ce->has_data_known = true;
        ce->has_data = has;
        ce->has_data_gen = ch.gen;
        pthread_mutex_unlock(&c->lock);
    }
    return has;
}

int stream_open(Tsfs *fs, Node *n, Version *v, uint64_t off, Stream **out)
{
    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    /* the nearest checkpoint at or before off */
    Checkpoint start = {0, lo};
    bool from_start = true;
    for (guint a = 0, b = v->cps->len; a < b;) {
        guint m = (a + b) / 2;
        Checkpoint cp = g_array_index(v->cps, Checkpoint, m);
        if (cp.off <= off) {
            start = cp;
            from_start = false;
            a = m + 1;
        } else {
            b = m;
        }
    }
    Stream *s;
    int rc = stream_start(fs, n, v->cols, v->ncols, start.t, v->last_t, from_start, &s);
    if (rc) return rc;
    s->pos = start.off;
    s->limit = v->size;
    if (off > s->pos) {
        rc = (int)stream_read(s, NULL, (size_t)(off - s->pos));
        if (rc < 0) {
            stream_close(s);
            return rc;
        }
    }
    *out = s;
    return 0;
}
