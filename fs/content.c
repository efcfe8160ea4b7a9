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
 *
 * Rendered bytes are remembered too: the render that measures a version
 * also writes its bytes into a RenderFile (an unlinked file under
 * DATA_DIR/system), so the reads that follow are served from that file
 * (spliced by the kernel) instead of rendering the same lines again.  A
 * version extended by appends appends to its predecessor's file, so a
 * growing series is rendered once, a line at a time as it arrives.  A
 * rewrite starts a new file; handles on older versions keep the old one
 * open, which keeps their snapshot.  The files share a budget
 * (-o render_cache, least recently read dropped first) and are never
 * written when the disk holding DATA_DIR runs short of space.
 *
 * After a writer closes a file, a background thread brings its version up
 * to date a moment later, so `ls -l` and `cat` find size and bytes ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "query.h"
#include "tsfs.h"

#define CP_EVERY (1u << 20)
#define RBUF     (256u * 1024)
/* a file is brought up to date this long after its last writer closed */
#define PREPARE_DELAY_MS 300
/* ... and after late points, when at most this much is to render again */
#define PREPARE_REWRITE_MAX (16u << 20)
/* rendered bytes are never written into the last 5% of the disk holding
 * DATA_DIR, nor into its last 64 MiB: that room belongs to the data */
#define MIN_FREE_PERCENT 5
#define MIN_FREE_BYTES   (64ull << 20)
/* how often a render checks the free space while writing its bytes */
#define FREE_CHECK_EVERY (4u << 20)

typedef struct Cache {
    pthread_mutex_t lock;
    GHashTable *versions; /* node key -> CacheEntry* */
    char *sizes_path;     /* DATA_DIR/system/rendered-sizes */
    FILE *sizes_log;      /* appended as sealed sizes are computed */
    char *render_dir;     /* DATA_DIR/system: where RenderFiles live, unlinked */
    uint64_t render_limit;
    uint64_t render_bytes; /* in all RenderFiles (atomic) */
    uint64_t read_clock;   /* ticks on each read from a RenderFile: recency */

    /* nodes to bring up to date: node key -> Prepare*, guarded by lock */
    GHashTable *prepare;
    pthread_t preparer;
    pthread_cond_t prepare_cv;
    bool preparer_running, preparer_stop;
} Cache;

struct RenderFile {
    int refs; /* atomic */
    int fd;
    Cache *c;
    /* under Cache.lock: */
    uint64_t len;   /* bytes written */
    bool extending; /* a measure is appending */
    uint64_t used;  /* read_clock of the last read */
};

typedef struct Prepare {
    Node *n; /* nodes live until unmount */
    int64_t due_ms;
} Prepare;

typedef struct CacheEntry {
    Version *v;
    char *device, *name; /* of a live sensor: to check its stamp at unmount */
    bool sealed;
    bool has_data_known;
    bool has_data;
    uint64_t has_data_gen;
} CacheEntry;

static void entry_free(gpointer p)
{
    CacheEntry *ce = p;
    if (ce->v) version_unref(ce->v);
    g_free(ce->device);
    g_free(ce->name);
    free(ce);
}

void render_file_unref(RenderFile *rf)
{
    if (!rf || __atomic_sub_fetch(&rf->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    __atomic_sub_fetch(&rf->c->render_bytes, rf->len, __ATOMIC_RELAXED);
    close(rf->fd);
    free(rf);
}

static RenderFile *render_file_ref(RenderFile *rf)
{
    if (rf) __atomic_add_fetch(&rf->refs, 1, __ATOMIC_ACQ_REL);
    return rf;
}

void version_unref(Version *v)
{
    if (!v || __atomic_sub_fetch(&v->refs, 1, __ATOMIC_ACQ_REL) > 0) return;
    render_file_unref(v->rf);
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

/* Rewrites the sizes file with the lines `keep` accepts (Cache.lock held
 * or no other thread yet). */
static void rewrite_sizes(Cache *c, bool (*keep)(const char *line, const void *arg), const void *arg)
{
    FILE *f = c->sizes_path ? fopen(c->sizes_path, "r") : NULL;
    GString *kept = g_string_new(NULL);
    char line[4096];
    while (f && fgets(line, sizeof line, f))
        if (keep(line, arg)) g_string_append(kept, line);
    if (f) fclose(f);
    if (c->sizes_log) fclose(c->sizes_log);
    f = fopen(c->sizes_path, "w");
    if (f) {
        fputs(kept->str, f);
        fclose(f);
    }
    c->sizes_log = fopen(c->sizes_path, "a");
    g_string_free(kept, TRUE);
}

static bool is_sealed_line(const char *line, const void *arg)
{
    (void)arg;
    return strncmp(line, "v1 ", 3) == 0;
}

/* Sizes remembered by earlier mounts: "v1" lines of sealed files (for
 * good), "l1" lines of live sensors written at the last clean unmount.
 * A live line holds while nothing changed since this mount started, i.e.
 * while the engine's stamp of its series is still 0; the live lines are
 * dropped from the file at once, so a crash of this mount cannot leave
 * stale ones for the next. */
static void load_sizes(Tsfs *fs, Cache *c)
{
    FILE *f = fopen(c->sizes_path, "r");
    if (!f) return;
    char line[4096], kind[4], fmt[8], key[3900], device[1024], name[1024];
    unsigned long long size;
    long long last, mtime;
    bool had_live = false;
    while (fgets(line, sizeof line, f)) {
        int got = sscanf(line, "%3s %7s %llu %lld %lld %3899s %1023s %1023s", kind, fmt, &size, &last, &mtime,
                         key, device, name);
        if (got < 6) continue;
        bool sealed = strcmp(kind, "v1") == 0;
        if (!sealed && got != 8) continue;
        had_live |= !sealed;
        if ((!sealed && strcmp(kind, "l1") != 0) || strcmp(fmt, fmt_name(fs->time_format)) != 0) continue;
        Version *v = version_new();
        if (!v) break;
        v->size = size;
        v->last_t = last;
        v->mtime = mtime;
        CacheEntry *ce = calloc(1, sizeof(*ce));
        ce->v = v;
        ce->sealed = sealed;
        if (!sealed) {
            ce->device = g_strdup(device);
            ce->name = g_strdup(name);
        }
        g_hash_table_replace(c->versions, g_strdup(key), ce);
    }
    fclose(f);
    if (had_live) rewrite_sizes(c, is_sealed_line, NULL);
}

/* At unmount: the sizes of live sensors still current, for the next mount. */
static void save_live_sizes(Tsfs *fs, Cache *c)
{
    if (!c->sizes_log) return;
    GHashTableIter it;
    gpointer k, val;
    g_hash_table_iter_init(&it, c->versions);
    while (g_hash_table_iter_next(&it, &k, &val)) {
        CacheEntry *ce = val;
        if (!ce->v || ce->sealed || !ce->device || !ce->name) continue;
        char sg[1024];
        if (schema_sg_of(engine_schema(fs->engine), ce->device, sg, sizeof sg) ||
            schema_get_ttl(engine_schema(fs->engine), sg) > 0)
            continue;
        EngineChange ch;
        engine_change_of(fs->engine, ce->device, ce->name, &ch);
        if (ch.gen != ce->v->gen) continue;
        fprintf(c->sizes_log, "l1 %s %llu %lld %lld %s %s %s\n", fmt_name(fs->time_format),
                (unsigned long long)ce->v->size, (long long)ce->v->last_t, (long long)ce->v->mtime, (char *)k,
                ce->device, ce->name);
    }
    fflush(c->sizes_log);
}

void content_init(Tsfs *fs)
{
    Cache *c = calloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->prepare_cv, NULL);
    c->versions = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
    c->prepare = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
    c->sizes_path = g_strdup_printf("%s/system/rendered-sizes", fs->data_dir);
    c->render_dir = g_strdup_printf("%s/system", fs->data_dir);
    c->render_limit = fs->render_cache;
    fs->content = c;
    load_sizes(fs, c);
    if (!c->sizes_log) c->sizes_log = fopen(c->sizes_path, "a");
}

void content_free(Tsfs *fs)
{
    Cache *c = fs->content;
    if (!c) return;
    pthread_mutex_lock(&c->lock);
    c->preparer_stop = true;
    pthread_cond_signal(&c->prepare_cv);
    pthread_mutex_unlock(&c->lock);
    if (c->preparer_running) pthread_join(c->preparer, NULL);
    save_live_sizes(fs, c);
    if (c->sizes_log) fclose(c->sizes_log);
    g_hash_table_destroy(c->versions);
    g_hash_table_destroy(c->prepare);
    g_free(c->sizes_path);
    g_free(c->render_dir);
    pthread_cond_destroy(&c->prepare_cv);
    pthread_mutex_destroy(&c->lock);
    free(c);
    fs->content = NULL;
}

/* ---- remembered rendered bytes ------------------------------------------------- */

/* Whether `more` bytes of rendered bytes leave the data its room. */
static bool room_for(Cache *c, uint64_t more)
{
    struct statvfs sv;
    if (statvfs(c->render_dir, &sv) != 0 || !sv.f_blocks) return false;
    uint64_t avail = (uint64_t)sv.f_bavail * sv.f_frsize, total = (uint64_t)sv.f_blocks * sv.f_frsize;
    uint64_t reserve = total / 100 * MIN_FREE_PERCENT;
    if (reserve < MIN_FREE_BYTES) reserve = MIN_FREE_BYTES;
    return avail > reserve && avail - reserve > more;
}

/* A new empty RenderFile, or NULL when remembering is off, the disk is
 * short of space or no file can be made. */
static RenderFile *render_file_new(Cache *c)
{
    if (!c->render_limit || !room_for(c, FREE_CHECK_EVERY)) return NULL;
    int fd = open(c->render_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) { /* a filesystem without O_TMPFILE: create, then unlink */
        char *t = g_strdup_printf("%s/.render.XXXXXX", c->render_dir);
        fd = mkostemp(t, O_CLOEXEC);
        if (fd >= 0) unlink(t);
        g_free(t);
    }
    if (fd < 0) return NULL;
    RenderFile *rf = calloc(1, sizeof(*rf));
    if (!rf) {
        close(fd);
        return NULL;
    }
    rf->refs = 1;
    rf->fd = fd;
    rf->c = c;
    return rf;
}

/* Writes rendered bytes at off; false (nothing counted) when the budget is
 * spent or the write fails, which ends the remembering of this render. */
static bool render_file_put(RenderFile *rf, const char *buf, size_t len, uint64_t off)
{
    Cache *c = rf->c;
    /* the disk is checked again every few MiB: others write to it too */
    if (off / FREE_CHECK_EVERY != (off + len) / FREE_CHECK_EVERY && !room_for(c, FREE_CHECK_EVERY))
        return false;
    if (__atomic_add_fetch(&c->render_bytes, len, __ATOMIC_RELAXED) > c->render_limit) {
        __atomic_sub_fetch(&c->render_bytes, len, __ATOMIC_RELAXED);
        return false;
    }
    for (size_t done = 0; done < len;) {
        ssize_t w = pwrite(rf->fd, buf + done, len - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            __atomic_sub_fetch(&c->render_bytes, len, __ATOMIC_RELAXED);
            return false;
        }
        done += (size_t)w;
    }
    return true;
}

/* Drops the RenderFiles of the least recently read cached versions until
 * `room` more bytes fit in the budget (Cache.lock held).  Handles reading
 * those versions go back to rendering. */
static void render_evict_locked(Cache *c, uint64_t room)
{
    for (;;) {
        uint64_t used = __atomic_load_n(&c->render_bytes, __ATOMIC_RELAXED);
        if (used + room <= c->render_limit) return;
        CacheEntry *oldest = NULL;
        GHashTableIter it;
        gpointer k, val;
        g_hash_table_iter_init(&it, c->versions);
        while (g_hash_table_iter_next(&it, &k, &val)) {
            CacheEntry *ce = val;
            /* a version a handle reads keeps its bytes: they are its snapshot */
            if (!ce->v || !ce->v->rf) continue;
            bool in_use = __atomic_load_n(&ce->v->refs, __ATOMIC_ACQUIRE) > 1;
            if (!in_use && !ce->v->rf->extending && (!oldest || ce->v->rf->used < oldest->v->rf->used))
                oldest = ce;
        }
        if (!oldest) return;
        RenderFile *rf = oldest->v->rf;
        oldest->v->rf = NULL;
        oldest->v->rf_len = 0;
        render_file_unref(rf);
    }
}

void content_release_space(Tsfs *fs)
{
    Cache *c = fs->content;
    pthread_mutex_lock(&c->lock);
    uint64_t before = __atomic_load_n(&c->render_bytes, __ATOMIC_RELAXED);
    GHashTableIter it;
    gpointer k, val;
    g_hash_table_iter_init(&it, c->versions);
    while (g_hash_table_iter_next(&it, &k, &val)) {
        CacheEntry *ce = val;
        if (!ce->v || !ce->v->rf || ce->v->rf->extending) continue;
        RenderFile *rf = ce->v->rf;
        ce->v->rf = NULL;
        ce->v->rf_len = 0;
        render_file_unref(rf);
    }
    pthread_mutex_unlock(&c->lock);
    if (before)
        log_msg(LOG_WARNING, "disk full: rendered bytes dropped (%llu bytes were remembered)",
                (unsigned long long)before);
}

int content_rendered(Tsfs *fs, Version *v, uint64_t off, size_t len, RenderFile **out)
{
    Cache *c = fs->content;
    int fd = -1;
    *out = NULL;
    pthread_mutex_lock(&c->lock);
    if (v->rf && off + len <= v->rf_len) {
        *out = render_file_ref(v->rf);
        fd = v->rf->fd;
        v->rf->used = ++c->read_clock;
    }
    pthread_mutex_unlock(&c->lock);
    return fd;
}

static bool lacks_mark(const char *line, const void *mark)
{
    return !strstr(line, mark);
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
    rewrite_sizes(c, lacks_mark, mark); /* without the partition's entries */
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
 * from base on and writing the bytes at base on into `tee` (when set) for
 * as long as that succeeds; *teed says how many went there.  Returns the
 * byte count or -errno. */
static int64_t measure(Tsfs *fs, Node *n, char **cols, size_t ncols, int64_t lo, int64_t hi, bool from_start,
                       uint64_t base, Version *v, RenderFile *tee, uint64_t *teed)
{
    *teed = 0;
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
        /* keep what is rendered, or skip it without copying it out */
        size_t chunk = s->blen - s->bpos;
        if (tee && chunk) {
            if (render_file_put(tee, s->buf + s->bpos, chunk, s->pos))
                *teed += chunk;
            else
                tee = NULL;
        }
        total += chunk;
        s->pos += chunk;
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

static Version *publish(Tsfs *fs, Node *n, Version *v, bool sealed, bool cacheable);

static bool same_columns(char **a, size_t na, char **b, size_t nb)
{
    if (na != nb) return false;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0) return false;
    return true;
}

/* The bytes of old [0, len) copied into a new RenderFile, or NULL. */
static RenderFile *copy_prefix(Cache *c, Version *old, uint64_t len)
{
    pthread_mutex_lock(&c->lock);
    RenderFile *src = old->rf && old->rf_len >= len ? render_file_ref(old->rf) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (!src) return NULL;
    RenderFile *rf = render_file_new(c);
    bool ok = rf != NULL;
    if (ok && __atomic_add_fetch(&c->render_bytes, len, __ATOMIC_RELAXED) > c->render_limit) {
        __atomic_sub_fetch(&c->render_bytes, len, __ATOMIC_RELAXED);
        ok = false;
    } else if (ok) {
        rf->len = len; /* counted: given back by render_file_unref */
        loff_t in = 0, out = 0;
        while (ok && (uint64_t)in < len) {
            ssize_t k = copy_file_range(src->fd, &in, rf->fd, &out, (size_t)(len - (uint64_t)in), 0);
            if (k < 0 && errno == EINTR) continue;
            ok = k > 0;
        }
    }
    render_file_unref(src);
    if (!ok) {
        render_file_unref(rf);
        return NULL;
    }
    return rf;
}

/* Finds, in old's remembered bytes from checkpoint `start` on, the offset
 * of its first line at or after `from` and the time of the line before it:
 * exact whatever changed since old was made.  False when old's bytes are
 * not all remembered (or cannot be read). */
static bool kept_length(Cache *c, Version *old, Checkpoint start, bool from_start, bool csv, int64_t from,
                        uint64_t *a, int64_t *last)
{
    pthread_mutex_lock(&c->lock);
    RenderFile *rf = old->rf && old->rf_len >= old->size ? render_file_ref(old->rf) : NULL;
    pthread_mutex_unlock(&c->lock);
    if (!rf) return false;
    char *buf = malloc(RBUF);
    bool found = false, skip_header = csv && from_start;
    uint64_t pos = start.off; /* file offset of buf[0] */
    size_t len = 0;
    *last = start.t - (start.t > INT64_MIN);
    while (buf && !found && pos + len < old->size) {
        size_t want = RBUF - len;
        if (want > old->size - (pos + len)) want = (size_t)(old->size - (pos + len));
        ssize_t got = pread(rf->fd, buf + len, want, (off_t)(pos + len));
        if (got <= 0) break;
        len += (size_t)got;
        size_t i = 0;
        for (;;) {
            char *nl = memchr(buf + i, '\n', len - i);
            if (!nl) break;
            size_t line_len = (size_t)(nl - (buf + i));
            if (skip_header) {
                skip_header = false;
            } else {
                const char *comma = memchr(buf + i, ',', line_len);
                int64_t t;
                const char *why;
                if (!comma || ln_parse_time(buf + i, (size_t)(comma - (buf + i)), &t, &why) != 0) break;
                if (t >= from) {
                    *a = pos + i;
                    found = true;
                    break;
                }
                *last = t;
            }
            i += line_len + 1;
        }
        if (found) break;
        if (i == 0 && len == RBUF) break; /* a line longer than the buffer */
        memmove(buf, buf + i, len - i);
        pos += i;
        len -= i;
    }
    free(buf);
    render_file_unref(rf);
    return found;
}

/* A version of n after rewrites that changed nothing before `from` (with
 * lo < from <= old->last_t): old's bytes before the first line at or after
 * `from` are kept (and copied when remembered), the rest is rendered.
 * Returns NULL with *err 0 when a full render is the way (the .csv view's
 * columns changed, or old's bytes are not remembered while there is room
 * to remember the new version's). */
static Version *rewrite_version(Tsfs *fs, Node *n, Version *old, uint64_t gen, int64_t from, int64_t lo,
                                int64_t hi, int *err)
{
    Cache *c = fs->content;
    *err = 0;
    char **cols = NULL;
    size_t ncols = 0;
    if (n->kind == N_CSV) {
        cols = view_columns(fs, n, &ncols);
        if (!old->cols || ncols == 0 || !same_columns(cols, ncols, old->cols, old->ncols)) {
            g_strfreev(cols);
            return NULL;
        }
    }
    /* the last checkpoint before `from`: its line and what follows up to
     * `from` are unchanged, so rendering them now gives the kept length */
    Checkpoint start = {0, lo};
    bool from_start = true;
    guint keep = 0;
    for (guint a = 0, b = old->cps->len; a < b;) {
        guint m = (a + b) / 2;
        Checkpoint cp = g_array_index(old->cps, Checkpoint, m);
        if (cp.t < from) {
            start = cp;
            from_start = false;
            keep = m + 1;
            a = m + 1;
        } else {
            b = m;
        }
    }
    Version *v = version_new(), *scratch = version_new();
    if (!v || !scratch) {
        version_unref(v);
        version_unref(scratch);
        g_strfreev(cols);
        *err = -ENOMEM;
        return NULL;
    }
    v->gen = gen;
    v->mtime = fs_now_ms();
    v->cols = cols;
    v->ncols = ncols;
    uint64_t teed = 0, a;
    int64_t prefix_last;
    if (!kept_length(c, old, start, from_start, n->kind == N_CSV, from, &a, &prefix_last)) {
        /* old's bytes are gone: the lines before `from` are rendered again
         * to count them, and a rewrite before `from` meanwhile (which the
         * count would see and old not) means a whole render instead */
        scratch->last_t = start.t - (start.t > INT64_MIN);
        int64_t k =
            measure(fs, n, cols, ncols, start.t, from - 1, from_start, start.off, scratch, NULL, &teed);
        int64_t again;
        if (k >= 0 && (!engine_rewritten_from(fs->engine, n->device, n->kind == N_CSV ? NULL : n->name,
                                              old->gen, &again) ||
                       again < from))
            k = INT64_MIN;
        if (k < 0) {
            *err = k == INT64_MIN ? 0 : (int)k;
            version_unref(scratch);
            version_unref(v);
            return NULL;
        }
        a = start.off + (uint64_t)k;
        prefix_last = scratch->last_t;
    }
    version_unref(scratch);
    g_array_append_vals(v->cps, old->cps->data, keep);
    v->last_t = prefix_last;
    RenderFile *tee = copy_prefix(c, old, a);
    if (!tee && c->render_limit && room_for(c, old->size)) {
        /* old's bytes are not remembered: a whole render remembers all of
         * the new version's, which keeps its readers' snapshot exact */
        version_unref(v);
        return NULL;
    }
    int64_t r = measure(fs, n, cols, ncols, from, hi, false, a, v, tee, &teed);
    if (r < 0) {
        render_file_unref(tee);
        version_unref(v);
        *err = (int)r;
        return NULL;
    }
    v->size = a + (uint64_t)r;
    log_msg(LOG_DEBUG, "%s: %llu bytes kept before a change at %lld, %lld rendered%s", n->key,
            (unsigned long long)a, (long long)from, (long long)r, tee ? ", remembered" : "");
    if (tee) {
        tee->len += teed; /* not yet shared */
        v->rf = tee;
        v->rf_len = tee->len;
    }
    return v;
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
            if (n->kind == N_CSV && !v->cols) {
                /* remembered from an earlier mount by size only: the header's
                 * columns are found again (they cannot change meanwhile) */
                size_t nc;
                char **cols = view_columns(fs, n, &nc);
                pthread_mutex_lock(&c->lock);
                if (!v->cols) {
                    v->cols = cols;
                    v->ncols = nc;
                    cols = NULL;
                }
                pthread_mutex_unlock(&c->lock);
                g_strfreev(cols);
            }
            return v;
        }
        if (!ce->sealed) old = version_ref(ce->v);
    }
    pthread_mutex_unlock(&c->lock);

    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    /* after rewrites, what lies before the earliest time they changed is kept */
    int64_t changed = INT64_MAX;
    if (old && ch.rewrite > old->gen &&
        !engine_rewritten_from(fs->engine, n->device, n->kind == N_CSV ? NULL : n->name, old->gen, &changed))
        changed = INT64_MIN;
    if (old && ch.rewrite > old->gen && changed <= old->last_t) {
        Version *v = changed > lo ? rewrite_version(fs, n, old, ch.gen, changed, lo, hi, err) : NULL;
        version_unref(old);
        old = NULL;
        if (v) return publish(fs, n, v, sealed, cacheable);
        if (*err) return NULL;
    }
    /* else the changes all lie after old's last time: an extension */
    Version *v = version_new();
    if (!v) {
        *err = -ENOMEM;
        version_unref(old);
        return NULL;
    }
    v->gen = ch.gen;
    v->mtime = fs_now_ms();
    int64_t r;
    uint64_t teed = 0;
    if (old && (n->kind != N_CSV || old->ncols > 0)) {
        /* only later points were added: extend the old version, and its
         * rendered bytes when they are all there and nobody else extends them */
        g_array_append_vals(v->cps, old->cps->data, old->cps->len);
        v->cols = g_strdupv(old->cols);
        v->ncols = old->ncols;
        v->size = old->size;
        v->last_t = old->last_t;
        RenderFile *tee = NULL;
        bool copy = false;
        pthread_mutex_lock(&c->lock);
        if (old->rf) {
            v->rf = render_file_ref(old->rf);
            v->rf_len = old->rf_len;
            if (old->rf_len == old->size && old->rf->len == old->size && !old->rf->extending) {
                tee = old->rf;
                tee->extending = true;
            } else {
                copy = old->rf_len == old->size; /* extended meanwhile by another version */
            }
        }
        pthread_mutex_unlock(&c->lock);
        if (copy) {
            /* a file of its own, so all of this version's bytes are remembered */
            RenderFile *own = copy_prefix(c, old, old->size);
            if (own) {
                render_file_unref(v->rf);
                v->rf = own;
                v->rf_len = own->len;
                own->extending = true; /* not shared yet: the tee below appends */
                tee = own;
            }
        }
        int64_t from = old->last_t >= lo ? old->last_t + 1 : lo;
        r = old->last_t == INT64_MAX
                ? 0
                : measure(fs, n, v->cols, v->ncols, from, hi, false, old->size, v, tee, &teed);
        if (r >= 0) {
            v->size += (uint64_t)r;
            if (r == 0) v->mtime = old->mtime;
        }
        if (tee) {
            pthread_mutex_lock(&c->lock);
            if (r >= 0) {
                tee->len += teed;
                v->rf_len = tee->len;
            } else {
                __atomic_sub_fetch(&c->render_bytes, teed, __ATOMIC_RELAXED);
            }
            tee->extending = false;
            pthread_mutex_unlock(&c->lock);
        }
    } else {
        v->last_t = lo - (lo > INT64_MIN);
        if (n->kind == N_CSV) v->cols = view_columns(fs, n, &v->ncols);
        if (c->render_limit) {
            pthread_mutex_lock(&c->lock);
            if (__atomic_load_n(&c->render_bytes, __ATOMIC_RELAXED) > c->render_limit / 4 * 3)
                render_evict_locked(c, c->render_limit / 4);
            pthread_mutex_unlock(&c->lock);
        }
        RenderFile *tee = render_file_new(c);
        r = measure(fs, n, v->cols, v->ncols, lo, hi, true, 0, v, tee, &teed);
        if (tee) {
            tee->len = teed; /* not yet shared: no lock needed */
            if (r >= 0 && teed) {
                v->rf = tee;
                v->rf_len = teed;
            } else {
                render_file_unref(tee);
            }
        }
        if (r >= 0) v->size = (uint64_t)r;
    }
    version_unref(old);
    if (r < 0) {
        *err = (int)r;
        version_unref(v);
        return NULL;
    }
    return publish(fs, n, v, sealed, cacheable);
}

/* Makes v the node's cached version (unless a newer one is there) and
 * returns it. */
static Version *publish(Tsfs *fs, Node *n, Version *v, bool sealed, bool cacheable)
{
    Cache *c = fs->content;
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
            if (n->kind == N_SENSOR && !e2->device) {
                e2->device = g_strdup(n->device);
                e2->name = g_strdup(n->name);
            }
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

/* ---- bringing files up to date after writes -------------------------------------- */

/* Whether making the current version now is cheap enough to do unasked:
 * a first render, an extension by appends, or late points near the end.
 * Other rewrites wait for someone to look at the file. */
static bool worth_preparing(Tsfs *fs, Node *n)
{
    Cache *c = fs->content;
    if (has_ttl(fs, n)) return false;
    EngineChange ch;
    engine_change_of(fs->engine, n->device, n->kind == N_CSV ? NULL : n->name, &ch);
    pthread_mutex_lock(&c->lock);
    CacheEntry *ce = g_hash_table_lookup(c->versions, n->key);
    bool worth = !ce || !ce->v || (!ce->sealed && ce->v->gen != ch.gen && ch.rewrite <= ce->v->gen);
    int64_t from;
    if (!worth && ce && ce->v && !ce->sealed && ce->v->gen != ch.gen &&
        engine_rewritten_from(fs->engine, n->device, n->kind == N_CSV ? NULL : n->name, ce->v->gen, &from)) {
        /* late points: worth it when little follows them */
        uint64_t off = 0;
        for (guint i = 0; i < ce->v->cps->len; i++) {
            Checkpoint cp = g_array_index(ce->v->cps, Checkpoint, i);
            if (cp.t >= from) break;
            off = cp.off;
        }
        worth = from > ce->v->last_t || ce->v->size - off <= PREPARE_REWRITE_MAX;
    }
    pthread_mutex_unlock(&c->lock);
    return worth;
}

static void *preparer_main(void *arg)
{
    Tsfs *fs = arg;
    Cache *c = fs->content;
    /* work nobody waits for: it runs only when a core is otherwise idle */
    struct sched_param sp = {0};
    pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
    pthread_mutex_lock(&c->lock);
    while (!c->preparer_stop) {
        int64_t now = fs_now_ms(), next = INT64_MAX;
        Node *ready = NULL;
        GHashTableIter it;
        gpointer k, val;
        g_hash_table_iter_init(&it, c->prepare);
        while (g_hash_table_iter_next(&it, &k, &val)) {
            Prepare *p = val;
            if (p->due_ms <= now) {
                ready = p->n;
                g_hash_table_iter_remove(&it);
                break;
            }
            if (p->due_ms < next) next = p->due_ms;
        }
        if (ready) {
            pthread_mutex_unlock(&c->lock);
            if (worth_preparing(fs, ready)) {
                int err;
                version_unref(content_version(fs, ready, &err));
            }
            pthread_mutex_lock(&c->lock);
        } else if (next == INT64_MAX) {
            pthread_cond_wait(&c->prepare_cv, &c->lock);
        } else {
            struct timespec ts = {.tv_sec = next / 1000, .tv_nsec = (next % 1000) * 1000000};
            pthread_cond_timedwait(&c->prepare_cv, &c->lock, &ts);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

void content_prepare(Tsfs *fs, Node *n)
{
    Cache *c = fs->content;
    if (n->kind != N_SENSOR && n->kind != N_CSV) return;
    pthread_mutex_lock(&c->lock);
    if (!c->preparer_running && !c->preparer_stop)
        c->preparer_running = pthread_create(&c->preparer, NULL, preparer_main, fs) == 0;
    Prepare *p = g_hash_table_lookup(c->prepare, n->key);
    if (!p && (p = calloc(1, sizeof(*p)))) g_hash_table_insert(c->prepare, g_strdup(n->key), p);
    if (p) {
        p->n = n;
        p->due_ms = fs_now_ms() + PREPARE_DELAY_MS;
        pthread_cond_signal(&c->prepare_cv);
    }
    pthread_mutex_unlock(&c->lock);
}
