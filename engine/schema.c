/*
 * schema.c: the storage groups and series of the engine, in memory and in
 * an append-only text log (layout in schema.h).
 *
 * Design
 *  - Every change is validated, then its log line is appended and fsynced,
 *    and only then applied in memory: what a caller was told succeeded is on
 *    disk, and a failed write changes nothing.  A write that fails half-way
 *    is cut back off (ftruncate to the last good size) so the log never
 *    gets a torn line in its middle; a failed fsync leaves the file's state
 *    unknown and makes the error sticky (every later change returns it).
 *  - At open the log is replayed.  Only the last line may be torn (a crash
 *    during its append): it is cut off.  Any other malformed line is
 *    corruption (TSF_ECORRUPT): the engine must not start with a schema it
 *    half understands.
 *  - Rewrite: drops and re-adds make the log grow without bound, so when it
 *    holds more than SCHEMA_REWRITE_FACTOR times as many lines as there are
 *    live entries (and at least SCHEMA_REWRITE_MIN lines), the live state is
 *    written to schema.log.temp, fsynced, renamed over schema.log and the
 *    directory fsynced.  A crash leaves either file whole.  A rewrite that
 *    fails before the rename is harmless (the old log is still complete) and
 *    is retried only once the log has doubled again.
 *
 * Memory: every storage group, device and series is one malloc'd entry that
 * never moves, so pointers handed out stay valid until the entry is dropped.
 *  - storage groups: a GHashTable keyed by (pointer, length) name slices, so
 *    schema_sg_of (called per insert batch) looks up each dotted prefix of
 *    the device without copying it; plus a GTree for name order;
 *  - devices: a GHashTable for lookup plus a GTree for name order; each
 *    device holds a GTree of its series by measurement.
 *
 * Threads: one recursive mutex guards everything.  The foreach callbacks run
 * under it, so they see a consistent state and may call the read functions
 * (get, has, sg_of, ttl); a change attempted from inside a callback would
 * break the walk and returns -EBUSY instead.
 */
#include "schema.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsf_error.h"

#define SCHEMA_LOG            "schema.log"
#define SCHEMA_TEMP           "schema.log.temp"
#define SCHEMA_REWRITE_MIN    256        /* never rewrite a log shorter than this */
#define SCHEMA_REWRITE_FACTOR 4          /* lines per live entry that trigger it */
#define SCHEMA_MAX_LOG        (1u << 30) /* refuse absurd logs instead of reading them */

/* A name slice: the hash key of storage groups (see sg_of). */
typedef struct NameRef {
    const char *p;
    size_t len;
} NameRef;

typedef struct SgEntry {
    NameRef ref;    /* first member: the hash key; points at name */
    int64_t ttl_ms; /* 0 = none */
    char name[];
} SgEntry;

typedef struct DevEntry {
    SgEntry *sg;   /* the storage group the device belongs to */
    GTree *series; /* measurement -> SeriesEntry*, owns the entries */
    char name[];
} DevEntry;

typedef struct SeriesEntry {
    SeriesSchema pub; /* device points at DevEntry.name, measurement at meas */
    char meas[];
} SeriesEntry;

struct Schema {
    pthread_mutex_t mu;  /* recursive; guards every field below */
    char *log_path;      /* system_dir/schema.log */
    char *temp_path;     /* system_dir/schema.log.temp */
    char *dir;           /* system_dir (fsynced after rename/create) */
    int fd;              /* the log, O_APPEND */
    off_t log_size;      /* bytes of complete lines in the log */
    size_t log_lines;    /* lines in the log */
    size_t next_rewrite; /* do not try to rewrite before this many lines */
    int err;             /* sticky error, 0 when healthy */
    int walking;         /* depth of foreach callbacks in progress */

    GHashTable *sg_hash;  /* NameRef* -> SgEntry* (owns the entries) */
    GTree *sg_tree;       /* name -> SgEntry* (order only) */
    GHashTable *dev_hash; /* name -> DevEntry* (owns the entries) */
    GTree *dev_tree;      /* name -> DevEntry* (order only) */
    size_t nseries;       /* live series */
    size_t nttl;          /* storage groups with a TTL */
};

/* ---- names ---------------------------------------------------------------- */

bool schema_valid_node(const char *node, size_t len)
{
    if (!node || len == 0) return false;
    bool all_digits = true;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)node[i];
        if (c >= '0' && c <= '9') continue;
        all_digits = false;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80) continue;
        return false;
    }
    return !all_digits;
}

/* Number of nodes after "root" in a valid path, or -1 when invalid. */
static int path_levels(const char *path)
{
    if (!path || strncmp(path, "root", 4) != 0) return -1;
    const char *p = path + 4;
    int levels = 0;
    while (*p) {
        if (*p != '.') return -1;
        const char *node = ++p;
        while (*p && *p != '.') p++;
        if (!schema_valid_node(node, (size_t)(p - node))) return -1;
        if (levels == INT_MAX) return -1;
        levels++;
    }
    return levels;
}

bool schema_valid_sg_name(const char *name)
{
    return path_levels(name) >= 1;
}

bool schema_valid_device_name(const char *device)
{
    return path_levels(device) >= 2;
}

TsfEncoding schema_default_encoding(TsfType t)
{
    switch (t) {
    case TSF_BOOLEAN: return TSF_ENC_RLE;
    case TSF_INT32:
    case TSF_INT64:
    case TSF_DATE:
    case TSF_TIMESTAMP: return TSF_ENC_TS_2DIFF;
    case TSF_FLOAT:
    case TSF_DOUBLE: return TSF_ENC_GORILLA;
    default: return TSF_ENC_PLAIN;
    }
}

/* ---- hashing of name slices ----------------------------------------------- */

static guint ref_hash(gconstpointer k)
{
    const NameRef *r = k;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < r->len; i++) {
        h ^= (unsigned char)r->p[i];
        h *= 16777619u;
    }
    return h;
}

static gboolean ref_equal(gconstpointer a, gconstpointer b)
{
    const NameRef *x = a, *y = b;
    return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static gint str_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    return strcmp(a, b);
}

/* ---- lookups (lock held) -------------------------------------------------- */

static SgEntry *sg_lookup_len(Schema *s, const char *name, size_t len)
{
    NameRef key = {name, len};
    return g_hash_table_lookup(s->sg_hash, &key);
}

static SgEntry *sg_lookup(Schema *s, const char *name)
{
    return sg_lookup_len(s, name, strlen(name));
}

/* The storage group that is a proper dotted prefix of path, or NULL.  Groups
 * never overlap, so at most one prefix matches. */
static SgEntry *sg_containing(Schema *s, const char *path)
{
    for (const char *p = strchr(path, '.'); p; p = strchr(p + 1, '.')) {
        if (p == path + 4) continue; /* "root" alone is never a group */
        SgEntry *e = sg_lookup_len(s, path, (size_t)(p - path));
        if (e) return e;
    }
    return NULL;
}

static SeriesEntry *series_lookup(Schema *s, const char *device, const char *meas)
{
    DevEntry *d = g_hash_table_lookup(s->dev_hash, device);
    return d ? g_tree_lookup(d->series, meas) : NULL;
}

/* ---- entries (lock held) -------------------------------------------------- */

static void sg_entry_free(gpointer p)
{
    free(p);
}

static void dev_entry_free(gpointer p)
{
    DevEntry *d = p;
    g_tree_destroy(d->series);
    free(d);
}

static SgEntry *sg_insert(Schema *s, const char *name)
{
    size_t len = strlen(name);
    SgEntry *e = malloc(sizeof *e + len + 1);
    if (!e) return NULL;
    memcpy(e->name, name, len + 1);
    e->ref.p = e->name;
    e->ref.len = len;
    e->ttl_ms = 0;
    g_hash_table_insert(s->sg_hash, &e->ref, e);
    g_tree_insert(s->sg_tree, e->name, e);
    return e;
}

static void dev_remove(Schema *s, DevEntry *d)
{
    s->nseries -= (size_t)g_tree_nnodes(d->series);
    g_tree_remove(s->dev_tree, d->name);
    g_hash_table_remove(s->dev_hash, d->name); /* frees d */
}

static gboolean collect_dev_of_sg(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    void **ctx = data; /* {sg, GPtrArray} */
    DevEntry *d = value;
    if (d->sg == ctx[0]) g_ptr_array_add(ctx[1], d);
    return FALSE;
}

static void sg_remove(Schema *s, SgEntry *e)
{
    GPtrArray *devs = g_ptr_array_new();
    void *ctx[2] = {e, devs};
    g_tree_foreach(s->dev_tree, collect_dev_of_sg, ctx);
    for (guint i = 0; i < devs->len; i++) dev_remove(s, devs->pdata[i]);
    g_ptr_array_free(devs, TRUE);
    if (e->ttl_ms) s->nttl--;
    g_tree_remove(s->sg_tree, e->name);
    g_hash_table_remove(s->sg_hash, &e->ref); /* frees e */
}

/* Adds a series that was validated and is not there yet. */
static int series_insert(Schema *s, SgEntry *sg, const char *device, const char *meas, TsfType type,
                         TsfEncoding enc, TsfCompression comp)
{
    DevEntry *d = g_hash_table_lookup(s->dev_hash, device);
    if (!d) {
        size_t dlen = strlen(device);
        d = malloc(sizeof *d + dlen + 1);
        if (!d) return -ENOMEM;
        memcpy(d->name, device, dlen + 1);
        d->sg = sg;
        d->series = g_tree_new_full(str_cmp, NULL, NULL, free);
        g_hash_table_insert(s->dev_hash, d->name, d);
        g_tree_insert(s->dev_tree, d->name, d);
    }
    size_t mlen = strlen(meas);
    SeriesEntry *e = malloc(sizeof *e + mlen + 1);
    if (!e) {
        if (g_tree_nnodes(d->series) == 0) dev_remove(s, d);
        return -ENOMEM;
    }
    memcpy(e->meas, meas, mlen + 1);
    e->pub.device = d->name;
    e->pub.measurement = e->meas;
    e->pub.type = type;
    e->pub.encoding = enc;
    e->pub.compression = comp;
    g_tree_insert(d->series, e->meas, e);
    s->nseries++;
    return 0;
}

static void series_remove(Schema *s, const char *device, const char *meas)
{
    DevEntry *d = g_hash_table_lookup(s->dev_hash, device);
    if (!d || !g_tree_remove(d->series, meas)) return;
    s->nseries--;
    if (g_tree_nnodes(d->series) == 0) dev_remove(s, d);
}

static void sg_set_ttl(Schema *s, SgEntry *e, int64_t ttl)
{
    if (e->ttl_ms && !ttl) s->nttl--;
    if (!e->ttl_ms && ttl) s->nttl++;
    e->ttl_ms = ttl;
}

/* ---- validation shared by the API and the replay -------------------------- */

static int check_add_sg(Schema *s, const char *sg)
{
    if (!schema_valid_sg_name(sg)) return -EINVAL;
    if (sg_lookup(s, sg) || sg_containing(s, sg)) return -EEXIST;
    /* An existing group below the new one: "sg." is a prefix of its name,
     * and those names sort right after "sg." (rare call, linear scan). */
    size_t len = strlen(sg);
    GTreeNode *n = g_tree_lower_bound(s->sg_tree, sg);
    for (; n; n = g_tree_node_next(n)) {
        const char *name = g_tree_node_key(n);
        int c = strncmp(name, sg, len);
        if (c > 0) break;
        if (c == 0 && name[len] == '.') return -EEXIST;
    }
    return 0;
}

static bool legal_series_types(TsfType type, TsfEncoding enc, TsfCompression comp)
{
    return tsf_type_is_valid((int)type) && type != TSF_VECTOR && tsf_encoding_is_valid((int)enc) &&
           tsf_compression_is_valid((int)comp) && tsf_encoding_allowed(type, enc);
}

/* 0 when the series may be added, 1 when an identical one exists, or an error. */
static int check_add_series(Schema *s, const char *device, const char *meas, TsfType type, TsfEncoding enc,
                            TsfCompression comp, SgEntry **sg)
{
    if (!schema_valid_device_name(device) || !meas || !schema_valid_node(meas, strlen(meas))) return -EINVAL;
    if (!legal_series_types(type, enc, comp)) return -EINVAL;
    *sg = sg_containing(s, device);
    if (!*sg) return -EINVAL;
    SeriesEntry *e = series_lookup(s, device, meas);
    if (!e) return 0;
    if (e->pub.type == type && e->pub.encoding == enc && e->pub.compression == comp) return 1;
    return -EEXIST;
}

/* Appends one line (with its newline) and fsyncs it. */
static int log_append(Schema *s, const char *line)
{
    size_t n = strlen(line);
    int rc = fileio_write_all(s->fd, line, n);
    if (rc) {
        /* Cut a partial line off so the log stays well-formed; if even that
         * fails the file's tail is unknown. */
        if (ftruncate(s->fd, s->log_size) != 0) s->err = rc;
        return rc;
    }
    if (fsync(s->fd) != 0) {
        rc = -errno;
        s->err = rc; /* the kernel may have dropped the pages: state unknown */
        return rc;
    }
    s->log_size += (off_t)n;
    s->log_lines++;
    return 0;
}

static int append_fmt(Schema *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int append_fmt(Schema *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    int rc = log_append(s, line);
    g_free(line);
    return rc;
}

static gboolean rewrite_sg(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    SgEntry *e = value;
    GString *out = data;
    g_string_append_printf(out, "SG %s\n", e->name);
    if (e->ttl_ms) g_string_append_printf(out, "TTL %s %" PRId64 "\n", e->name, e->ttl_ms);
    return FALSE;
}

static gboolean rewrite_series(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    SeriesEntry *e = value;
    GString *out = data;
    g_string_append_printf(out, "SERIES %s %s %s %s %s\n", e->pub.device, e->pub.measurement,
                           tsf_type_name(e->pub.type), tsf_encoding_name(e->pub.encoding),
                           tsf_compression_name(e->pub.compression));
    return FALSE;
}

static gboolean rewrite_dev(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    DevEntry *d = value;
    g_tree_foreach(d->series, rewrite_series, data);
    return FALSE;
}

static size_t live_entries(const Schema *s)
{
    return (size_t)g_hash_table_size(s->sg_hash) + s->nttl + s->nseries;
}

/* Writes the live state to a fresh log and switches to it.  Returns 0, or a
 * negative errno; the error is sticky only when the switch happened but the
 * directory could not be synced (the rename may not be durable). */
static int log_rewrite(Schema *s)
{
    GString *out = g_string_new(NULL);
    g_tree_foreach(s->sg_tree, rewrite_sg, out);
    g_tree_foreach(s->dev_tree, rewrite_dev, out);
    size_t lines = 0;
    for (gsize i = 0; i < out->len; i++) lines += out->str[i] == '\n';

    int rc = 0;
    int fd = open(s->temp_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = fileio_write_all(fd, out->str, out->len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (rc == 0 && rename(s->temp_path, s->log_path) != 0) rc = -errno;
    if (rc) {
        if (fd >= 0) close(fd);
        unlink(s->temp_path);
        g_string_free(out, TRUE);
        return rc;
    }
    /* The new file is the log now, whatever happens next. */
    close(s->fd);
    s->fd = fd;
    s->log_size = (off_t)out->len;
    s->log_lines = lines;
    g_string_free(out, TRUE);
    rc = fileio_fsync_dir(s->dir);
    if (rc) s->err = rc;
    return rc;
}

/* Called after each change: rewrites the log when it is mostly dead lines. */
static int maybe_rewrite(Schema *s)
{
    if (s->log_lines < s->next_rewrite) return 0;
    size_t live = live_entries(s);
    if (s->log_lines < SCHEMA_REWRITE_MIN || s->log_lines <= SCHEMA_REWRITE_FACTOR * live) return 0;
    int rc = log_rewrite(s);
    if (rc && !s->err) {
        /* Old log still complete: carry on, try again when it has doubled. */
        s->next_rewrite = s->log_lines * 2;
        return 0;
    }
    s->next_rewrite = 0;
    return rc;
}

/* ---- replay --------------------------------------------------------------- */

/* Splits line (NUL-terminated, modified in place) on single spaces. */
static int split_words(char *line, char **w, int max)
{
    int n = 0;
    char *p = line;
    while (*p) {
        if (n == max) return -1;
        w[n++] = p;
        char *sp = strchr(p, ' ');
        if (!sp) break;
        *sp = '\0';
        p = sp + 1;
        if (!*p) return -1; /* trailing space */
    }
    return n;
}

static bool parse_i64(const char *z, int64_t *out)
{
    if (!*z) return false;
    errno = 0;
    char *end;
    long long v = strtoll(z, &end, 10);
    if (errno || *end) return false;
    *out = v;
    return true;
}

/* Applies one log line; TSF_ECORRUPT when it does not parse or apply. */
static int replay_line(Schema *s, char *line)
{
    char *w[7];
    int n = split_words(line, w, 7);
    if (n <= 0) return n == 0 ? 0 : TSF_ECORRUPT;
    if (strcmp(w[0], "SG") == 0 && n == 2) {
        if (check_add_sg(s, w[1]) != 0) return TSF_ECORRUPT;
        return sg_insert(s, w[1]) ? 0 : -ENOMEM;
    }
    if (strcmp(w[0], "DROP_SG") == 0 && n == 2) {
        SgEntry *e = sg_lookup(s, w[1]);
        if (!e) return TSF_ECORRUPT;
        sg_remove(s, e);
        return 0;
    }
    if (strcmp(w[0], "SERIES") == 0 && n == 6) {
        int t = tsf_type_from_name(w[3]);
        int e = tsf_encoding_from_name(w[4]);
        int c = tsf_compression_from_name(w[5]);
        if (t < 0 || e < 0 || c < 0) return TSF_ECORRUPT;
        SgEntry *sg;
        int rc = check_add_series(s, w[1], w[2], (TsfType)t, (TsfEncoding)e, (TsfCompression)c, &sg);
        if (rc == 1) return 0;
        if (rc) return TSF_ECORRUPT;
        return series_insert(s, sg, w[1], w[2], (TsfType)t, (TsfEncoding)e, (TsfCompression)c);
    }
    if (strcmp(w[0], "DROP_SERIES") == 0 && n == 3) {
        if (!series_lookup(s, w[1], w[2])) return TSF_ECORRUPT;
        series_remove(s, w[1], w[2]);
        return 0;
    }
    if (strcmp(w[0], "TTL") == 0 && n == 3) {
        int64_t ttl;
        SgEntry *e = sg_lookup(s, w[1]);
        if (!e || !parse_i64(w[2], &ttl) || ttl < 0) return TSF_ECORRUPT;
        sg_set_ttl(s, e, ttl);
        return 0;
    }
    return TSF_ECORRUPT;
}

static int read_fd_all(int fd, char **out, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    if (st.st_size < 0 || (uint64_t)st.st_size > SCHEMA_MAX_LOG) return -EFBIG;
    size_t cap = (size_t)st.st_size;
    char *buf = malloc(cap + 1);
    if (!buf) return -ENOMEM;
    size_t n = 0;
    while (n < cap) {
        ssize_t r = pread(fd, buf + n, cap - n, (off_t)n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (r == 0) break; /* shrank under us: use what is there */
        n += (size_t)r;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static int replay(Schema *s)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_fd_all(s->fd, &buf, &len);
    if (rc) return rc;
    /* Only complete lines count; a torn tail is cut off. */
    size_t good = len;
    while (good > 0 && buf[good - 1] != '\n') good--;
    if (memchr(buf, '\0', good)) rc = TSF_ECORRUPT;
    size_t lines = 0;
    for (char *p = buf; rc == 0 && p < buf + good;) {
        char *nl = memchr(p, '\n', (size_t)(buf + good - p));
        *nl = '\0';
        rc = replay_line(s, p);
        lines++;
        p = nl + 1;
    }
    free(buf);
    if (rc) return rc;
    if (good != len) {
        if (ftruncate(s->fd, (off_t)good) != 0 || fsync(s->fd) != 0) return -errno;
    }
    s->log_size = (off_t)good;
    s->log_lines = lines;
    return 0;
}

/* ---- open and close ------------------------------------------------------- */

static Schema *schema_new(const char *system_dir)
{
    Schema *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&s->mu, &a);
    pthread_mutexattr_destroy(&a);
    s->fd = -1;
    s->dir = g_strdup(system_dir);
    s->log_path = g_build_filename(system_dir, SCHEMA_LOG, NULL);
    s->temp_path = g_build_filename(system_dir, SCHEMA_TEMP, NULL);
    s->sg_hash = g_hash_table_new_full(ref_hash, ref_equal, NULL, sg_entry_free);
    s->sg_tree = g_tree_new_full(str_cmp, NULL, NULL, NULL);
    s->dev_hash = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, dev_entry_free);
    s->dev_tree = g_tree_new_full(str_cmp, NULL, NULL, NULL);
    return s;
}

void schema_close(Schema *s)
{
    if (!s) return;
    if (s->fd >= 0) close(s->fd);
    /* Trees first: they hold no ownership; the hash tables free entries. */
    g_tree_destroy(s->dev_tree);
    g_hash_table_destroy(s->dev_hash);
    g_tree_destroy(s->sg_tree);
    g_hash_table_destroy(s->sg_hash);
    g_free(s->log_path);
    g_free(s->temp_path);
    g_free(s->dir);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

int schema_open(const char *system_dir, Schema **out)
{
    *out = NULL;
    if (!system_dir || !*system_dir) return -EINVAL;
    if (mkdir(system_dir, 0755) != 0 && errno != EEXIST) return -errno;
    Schema *s = schema_new(system_dir);
    if (!s) return -ENOMEM;
    int rc = 0;
    unlink(s->temp_path); /* a rewrite that never reached its rename */
    bool existed = access(s->log_path, F_OK) == 0;
    s->fd = open(s->log_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s->fd < 0) rc = -errno;
    if (rc == 0 && !existed) rc = fileio_fsync_dir(s->dir);
    if (rc == 0) rc = replay(s);
    if (rc == 0) rc = maybe_rewrite(s);
    if (rc) {
        schema_close(s);
        return rc;
    }
    *out = s;
    return 0;
}

/* ---- API -------------------------------------------------------------------- */

static int lock_for_change(Schema *s)
{
    pthread_mutex_lock(&s->mu);
    if (s->err) return s->err;
    if (s->walking) return -EBUSY;
    return 0;
}

static int unlock_rc(Schema *s, int rc)
{
    pthread_mutex_unlock(&s->mu);
    return rc;
}

int schema_add_sg(Schema *s, const char *sg)
{
    int rc = lock_for_change(s);
    if (rc == 0) rc = check_add_sg(s, sg);
    if (rc == 0) rc = append_fmt(s, "SG %s\n", sg);
    if (rc == 0 && !sg_insert(s, sg)) rc = s->err = -ENOMEM; /* logged, not applied */
    if (rc == 0) rc = maybe_rewrite(s);
    return unlock_rc(s, rc);
}

int schema_drop_sg(Schema *s, const char *sg)
{
    int rc = lock_for_change(s);
    SgEntry *e = NULL;
    if (rc == 0 && !(e = sg ? sg_lookup(s, sg) : NULL)) rc = -ENOENT;
    if (rc == 0) rc = append_fmt(s, "DROP_SG %s\n", sg);
    if (rc == 0) sg_remove(s, e);
    if (rc == 0) rc = maybe_rewrite(s);
    return unlock_rc(s, rc);
}

bool schema_has_sg(Schema *s, const char *sg)
{
    if (!sg) return false;
    pthread_mutex_lock(&s->mu);
    bool yes = sg_lookup(s, sg) != NULL;
    pthread_mutex_unlock(&s->mu);
    return yes;
}

int schema_sg_of(Schema *s, const char *device, char *buf, size_t buflen)
{
    if (!device) return -ENOENT;
    pthread_mutex_lock(&s->mu);
    SgEntry *e = sg_containing(s, device);
    int rc = -ENOENT;
    if (e) {
        if (e->ref.len < buflen) {
            memcpy(buf, e->name, e->ref.len + 1);
            rc = 0;
        } else {
            rc = -ERANGE;
        }
    }
    return unlock_rc(s, rc);
}

typedef struct SgWalk {
    void (*fn)(void *ctx, const char *sg);
    void *ctx;
} SgWalk;

static gboolean walk_sg(gpointer key, gpointer value, gpointer data)
{
    (void)value;
    SgWalk *w = data;
    w->fn(w->ctx, key);
    return FALSE;
}

void schema_foreach_sg(Schema *s, void (*fn)(void *ctx, const char *sg), void *ctx)
{
    SgWalk w = {fn, ctx};
    pthread_mutex_lock(&s->mu);
    s->walking++;
    g_tree_foreach(s->sg_tree, walk_sg, &w);
    s->walking--;
    pthread_mutex_unlock(&s->mu);
}

int schema_add_series(Schema *s, const char *device, const char *measurement, TsfType type, TsfEncoding enc,
                      TsfCompression comp)
{
    SgEntry *sg = NULL;
    int rc = lock_for_change(s);
    if (rc == 0 && (!device || !measurement)) rc = -EINVAL;
    if (rc == 0) rc = check_add_series(s, device, measurement, type, enc, comp, &sg);
    if (rc == 1) return unlock_rc(s, 0); /* identical: nothing to do */
    if (rc == 0)
        rc = append_fmt(s, "SERIES %s %s %s %s %s\n", device, measurement, tsf_type_name(type),
                        tsf_encoding_name(enc), tsf_compression_name(comp));
    if (rc == 0 && series_insert(s, sg, device, measurement, type, enc, comp) != 0)
        rc = s->err = -ENOMEM; /* logged, not applied */
    if (rc == 0) rc = maybe_rewrite(s);
    return unlock_rc(s, rc);
}

int schema_drop_series(Schema *s, const char *device, const char *measurement)
{
    int rc = lock_for_change(s);
    if (rc == 0 && (!device || !measurement || !series_lookup(s, device, measurement))) rc = -ENOENT;
    if (rc == 0) rc = append_fmt(s, "DROP_SERIES %s %s\n", device, measurement);
    if (rc == 0) series_remove(s, device, measurement);
    if (rc == 0) rc = maybe_rewrite(s);
    return unlock_rc(s, rc);
}

const SeriesSchema *schema_get_series(Schema *s, const char *device, const char *measurement)
{
    if (!device || !measurement) return NULL;
    pthread_mutex_lock(&s->mu);
    SeriesEntry *e = series_lookup(s, device, measurement);
    pthread_mutex_unlock(&s->mu);
    return e ? &e->pub : NULL;
}

typedef struct SeriesWalk {
    void (*fn)(void *ctx, const SeriesSchema *ss);
    void *ctx;
} SeriesWalk;

static gboolean walk_series(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    SeriesWalk *w = data;
    w->fn(w->ctx, &((SeriesEntry *)value)->pub);
    return FALSE;
}

static gboolean walk_dev(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    g_tree_foreach(((DevEntry *)value)->series, walk_series, data);
    return FALSE;
}

void schema_foreach_series(Schema *s, const char *device, void (*fn)(void *ctx, const SeriesSchema *ss),
                           void *ctx)
{
    SeriesWalk w = {fn, ctx};
    pthread_mutex_lock(&s->mu);
    s->walking++;
    if (device) {
        DevEntry *d = g_hash_table_lookup(s->dev_hash, device);
        if (d) walk_dev(NULL, d, &w);
    } else {
        g_tree_foreach(s->dev_tree, walk_dev, &w);
    }
    s->walking--;
    pthread_mutex_unlock(&s->mu);
}

int schema_set_ttl(Schema *s, const char *sg, int64_t ttl_ms)
{
    int rc = lock_for_change(s);
    SgEntry *e = NULL;
    if (rc == 0 && ttl_ms < 0) rc = -EINVAL;
    if (rc == 0 && !(e = sg ? sg_lookup(s, sg) : NULL)) rc = -ENOENT;
    if (rc == 0 && e->ttl_ms == ttl_ms) return unlock_rc(s, 0);
    if (rc == 0) rc = append_fmt(s, "TTL %s %" PRId64 "\n", sg, ttl_ms);
    if (rc == 0) sg_set_ttl(s, e, ttl_ms);
    if (rc == 0) rc = maybe_rewrite(s);
    return unlock_rc(s, rc);
}

int64_t schema_get_ttl(Schema *s, const char *sg)
{
    if (!sg) return 0;
    pthread_mutex_lock(&s->mu);
    SgEntry *e = sg_lookup(s, sg);
    int64_t ttl = e ? e->ttl_ms : 0;
    pthread_mutex_unlock(&s->mu);
    return ttl;
}
