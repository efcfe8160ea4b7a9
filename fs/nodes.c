/*
 * nodes.c: the tree a user sees, computed from the engine on demand.
 *
 *   /                       storage groups (schema)
 *   /<sg>/                  all/ and the partitions that hold data
 *   /<sg>/all/              devices (series, pending sensors, mkdir'ed)
 *   /<sg>/<part>/           devices with data in the partition, .tsfiles/ when sealed
 *   <view>/<dev>/           sensors (under a partition: those with data there)
 *   <view>/<dev>.csv        the device view
 *   /<sg>/<part>/.tsfiles/  the closed TsFiles of a sealed partition
 *   /.stats                 counters (stats.c)
 *   <view>/<dev>/<s>.svg    a chart of sensor s (svg.c): found by name, never listed
 *
 * A node is created the first time its path is looked up or listed and
 * lives until unmount (see maybe_drop).  Its inode number is a hash
 * of its canonical key (kind, view, names), so it is the same across
 * remounts and distinct between aliases; a collision (never seen in
 * practice) probes to the next free number.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "tsfs.h"

static guint ino_hash(gconstpointer p)
{
    uint64_t v = *(const uint64_t *)p;
    return (guint)(v ^ (v >> 32));
}

static gboolean ino_equal(gconstpointer a, gconstpointer b)
{
    return *(const uint64_t *)a == *(const uint64_t *)b;
}

static void node_free(Node *n)
{
    free(n->key);
    free(n->sg);
    free(n->device);
    free(n->name);
    free(n);
}

static void pending_table_free(gpointer p)
{
    g_hash_table_destroy(p);
}

static void pending_load(Tsfs *fs);

void nodes_init(Tsfs *fs)
{
    pthread_mutex_init(&fs->lock, NULL);
    fs->nodes_by_ino = g_hash_table_new(ino_hash, ino_equal);
    fs->nodes_by_key = g_hash_table_new(g_str_hash, g_str_equal);
    fs->pending = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, pending_table_free);
    fs->empty_devices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fs->bare_stamps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    Node *root = calloc(1, sizeof(*root));
    root->ino = FUSE_ROOT_ID;
    root->kind = N_ROOT;
    root->key = strdup("/");
    root->nlookup = 1;
    g_hash_table_insert(fs->nodes_by_ino, &root->ino, root);
    g_hash_table_insert(fs->nodes_by_key, root->key, root);
    pending_load(fs);
}

void nodes_free(Tsfs *fs)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, fs->nodes_by_ino);
    while (g_hash_table_iter_next(&it, &k, &v)) node_free(v);
    g_hash_table_destroy(fs->nodes_by_ino);
    g_hash_table_destroy(fs->nodes_by_key);
    g_hash_table_destroy(fs->pending);
    g_hash_table_destroy(fs->empty_devices);
    g_hash_table_destroy(fs->bare_stamps);
    pthread_mutex_destroy(&fs->lock);
}

Node *node_get(Tsfs *fs, uint64_t ino)
{
    pthread_mutex_lock(&fs->lock);
    Node *n = g_hash_table_lookup(fs->nodes_by_ino, &ino);
    pthread_mutex_unlock(&fs->lock);
    return n;
}

/* FNV-1a, then a finaliser so nearby keys spread over all 64 bits. */
static uint64_t key_hash(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

char *node_key_of(NodeKind kind, const char *sg, bool in_part, int64_t part, const char *device,
                  const char *name)
{
    return g_strdup_printf("%d|%s|%s%lld|%s|%s", (int)kind, sg ? sg : "", in_part ? "p" : "all",
                           (long long)(in_part ? part : 0), device ? device : "", name ? name : "");
}

/* The node for a key, made if new (caller holds fs->lock). */
static Node *node_intern(Tsfs *fs, NodeKind kind, const char *sg, bool in_part, int64_t part,
                         const char *device, const char *name)
{
    char *key = node_key_of(kind, sg, in_part, part, device, name);
    Node *n = g_hash_table_lookup(fs->nodes_by_key, key);
    if (n) {
        g_free(key);
        return n;
    }
    n = calloc(1, sizeof(*n));
    if (!n) {
        g_free(key);
        return NULL;
    }
    n->key = strdup(key);
    g_free(key);
    n->kind = kind;
    n->sg = sg ? strdup(sg) : NULL;
    n->in_part = in_part;
    n->part = part;
    n->device = device ? strdup(device) : NULL;
    n->name = name ? strdup(name) : NULL;
    uint64_t ino = key_hash(n->key);
    while (ino <= FUSE_ROOT_ID || g_hash_table_contains(fs->nodes_by_ino, &ino)) ino++;
    n->ino = ino;
    g_hash_table_insert(fs->nodes_by_ino, &n->ino, n);
    g_hash_table_insert(fs->nodes_by_key, n->key, n);
    return n;
}

/* Nodes are never freed while mounted: request handlers use node pointers
 * after the table lock is released, and the kernel's FORGET of an inode
 * can race with a new LOOKUP of the same name.  A node is a few hundred
 * bytes per path ever seen; counts are kept for the record. */
static void maybe_drop(Tsfs *fs, Node *n)
{
    (void)fs;
    (void)n;
}

void node_ref_lookup(Tsfs *fs, Node *n)
{
    pthread_mutex_lock(&fs->lock);
    n->nlookup++;
    pthread_mutex_unlock(&fs->lock);
}

void node_forget(Tsfs *fs, uint64_t ino, uint64_t nlookup)
{
    pthread_mutex_lock(&fs->lock);
    Node *n = g_hash_table_lookup(fs->nodes_by_ino, &ino);
    if (n) {
        n->nlookup = n->nlookup > nlookup ? n->nlookup - nlookup : 0;
        maybe_drop(fs, n);
    }
    pthread_mutex_unlock(&fs->lock);
}

void node_hold(Tsfs *fs, Node *n)
{
    pthread_mutex_lock(&fs->lock);
    n->refs++;
    pthread_mutex_unlock(&fs->lock);
}

void node_release(Tsfs *fs, Node *n)
{
    pthread_mutex_lock(&fs->lock);
    if (n->refs) n->refs--;
    maybe_drop(fs, n);
    pthread_mutex_unlock(&fs->lock);
}

void node_range(Tsfs *fs, const Node *n, int64_t *lo, int64_t *hi)
{
    if (n->in_part) {
        int64_t iv = engine_partition_interval(fs->engine);
        /* floor division: partition p holds [p*iv, p*iv + iv - 1] */
        *lo = n->part * iv;
        *hi = *lo + (iv - 1);
    } else {
        *lo = INT64_MIN;
        *hi = INT64_MAX;
    }
}

bool node_sealed(Tsfs *fs, const Node *n)
{
    return n->in_part && engine_partition_is_sealed(fs->engine, n->sg, n->part);
}

bool node_kind_is_file(NodeKind kind)
{
    return kind == N_SENSOR || kind == N_CSV || kind == N_TSFILE || kind == N_STATS || kind == N_SVG;
}

const char *node_rel_device(const Node *n)
{
    size_t l = strlen(n->sg);
    return n->device + l + 1;
}

/* ---- names ------------------------------------------------------------------------ */

bool fs_valid_sensor_name(const char *name)
{
    bool digits_only = true;
    size_t i = 0;
    for (; name[i]; i++) {
        char c = name[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
        if (c < '0' || c > '9') digits_only = false;
    }
    return i > 0 && i < 256 && !digits_only;
}

static bool parse_partition(const char *name, int64_t *out)
{
    const char *p = name;
    if (*p == '-') p++;
    if (!*p || strlen(p) > 18) return false;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return false;
    if (p[0] == '0' && p[1]) return false; /* one spelling per partition */
    if (name[0] == '-' && p[0] == '0') return false;
    *out = strtoll(name, NULL, 10);
    return true;
}

/* ---- devices and pending sensors -------------------------------------------------- */

typedef struct DevWalk {
    const char *sg;
    size_t sglen;
    GHashTable *set; /* device path set */
} DevWalk;

static void collect_device(void *ctx, const SeriesSchema *ss)
{
    DevWalk *w = ctx;
    if (strncmp(ss->device, w->sg, w->sglen) == 0 && ss->device[w->sglen] == '.')
        g_hash_table_add(w->set, g_strdup(ss->device));
}

/* Devices of a storage group under all/: series, pending and mkdir'ed. */
static GHashTable *sg_devices(Tsfs *fs, const char *sg)
{
    DevWalk w = {sg, strlen(sg), g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL)};
    schema_foreach_series(engine_schema(fs->engine), NULL, collect_device, &w);
    pthread_mutex_lock(&fs->lock);
    GHashTableIter it;
    gpointer k, v;
    GHashTable *srcs[2] = {fs->pending, fs->empty_devices};
    for (int i = 0; i < 2; i++) {
        g_hash_table_iter_init(&it, srcs[i]);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            const char *d = k;
            if (strncmp(d, sg, w.sglen) == 0 && d[w.sglen] == '.') g_hash_table_add(w.set, g_strdup(d));
        }
    }
    pthread_mutex_unlock(&fs->lock);
    return w.set;
}

typedef struct SensorWalk {
    GPtrArray *names;
} SensorWalk;

static void collect_sensor(void *ctx, const SeriesSchema *ss)
{
    g_ptr_array_add(((SensorWalk *)ctx)->names, g_strdup(ss->measurement));
}

static int cmp_strp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

char **fs_device_sensors(Tsfs *fs, const char *device)
{
    SensorWalk w = {g_ptr_array_new()};
    schema_foreach_series(engine_schema(fs->engine), device, collect_sensor, &w);
    pthread_mutex_lock(&fs->lock);
    GHashTable *p = g_hash_table_lookup(fs->pending, device);
    if (p) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, p);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            bool dup = false;
            for (guint i = 0; i < w.names->len && !dup; i++) dup = strcmp(w.names->pdata[i], k) == 0;
            if (!dup) g_ptr_array_add(w.names, g_strdup(k));
        }
    }
    pthread_mutex_unlock(&fs->lock);
    if (w.names->len) qsort(w.names->pdata, w.names->len, sizeof(gpointer), cmp_strp);
    g_ptr_array_add(w.names, NULL);
    return (char **)g_ptr_array_free(w.names, FALSE);
}

static void note_any(void *ctx, const SeriesSchema *ss)
{
    (void)ss;
    *(bool *)ctx = true;
}

bool fs_device_exists(Tsfs *fs, const char *device)
{
    bool any = false;
    schema_foreach_series(engine_schema(fs->engine), device, note_any, &any);
    if (any) return true;
    pthread_mutex_lock(&fs->lock);
    any = g_hash_table_contains(fs->pending, device) || g_hash_table_contains(fs->empty_devices, device);
    pthread_mutex_unlock(&fs->lock);
    return any;
}

PendingSensor *fs_pending_get(Tsfs *fs, const char *device, const char *name, bool create)
{
    GHashTable *t = g_hash_table_lookup(fs->pending, device);
    if (!t) {
        if (!create) return NULL;
        t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        g_hash_table_insert(fs->pending, g_strdup(device), t);
    }
    PendingSensor *ps = g_hash_table_lookup(t, name);
    if (!ps && create) {
        ps = g_new0(PendingSensor, 1);
        g_hash_table_insert(t, g_strdup(name), ps);
    }
    return ps;
}

/* ---- what has no series yet, across mounts -----------------------------------------

   DATA_DIR/system/fs-pending lists the devices made by mkdir that hold no
   series yet ("d DEVICE") and the sensors created without points
   ("s DEVICE NAME TYPE ENCODING COMPRESSION", "-" where nothing was
   chosen); it is replaced whole (write, fsync, rename) on each change of
   either. */

static char *pending_path(Tsfs *fs)
{
    return g_strdup_printf("%s/system/fs-pending", fs->data_dir);
}

void fs_pending_save(Tsfs *fs)
{
    GString *s = g_string_new(NULL);
    GHashTableIter it, it2;
    gpointer k, v, k2, v2;
    g_hash_table_iter_init(&it, fs->empty_devices);
    while (g_hash_table_iter_next(&it, &k, &v)) g_string_append_printf(s, "d %s\n", (char *)k);
    g_hash_table_iter_init(&it, fs->pending);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        g_hash_table_iter_init(&it2, v);
        while (g_hash_table_iter_next(&it2, &k2, &v2)) {
            const PendingSensor *ps = v2;
            g_string_append_printf(s, "s %s %s %s %s %s\n", (char *)k, (char *)k2,
                                   ps->has_type ? tsf_type_name(ps->type) : "-",
                                   ps->has_enc ? tsf_encoding_name(ps->enc) : "-",
                                   ps->has_comp ? tsf_compression_name(ps->comp) : "-");
        }
    }
    char *path = pending_path(fs), *tmp = g_strdup_printf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    bool ok = f && fwrite(s->str, 1, s->len, f) == s->len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0) ok = false;
    if (!ok || rename(tmp, path) != 0) {
        log_msg(LOG_ERR, "%s: cannot save devices and sensors without points: %s", path, strerror(errno));
        unlink(tmp);
    }
    g_free(tmp);
    g_free(path);
    g_string_free(s, TRUE);
}

static void pending_load(Tsfs *fs)
{
    char *path = pending_path(fs);
    FILE *f = fopen(path, "r");
    char line[4096], dev[2048], name[1024], ty[32], en[32], co[32];
    Schema *sc = engine_schema(fs->engine);
    unsigned lineno = 0;
    while (f && fgets(line, sizeof line, f)) {
        lineno++;
        if (sscanf(line, "d %2047s", dev) == 1 && line[0] == 'd') {
            char sg[1024];
            bool any = false;
            if (schema_sg_of(sc, dev, sg, sizeof sg) == 0) schema_foreach_series(sc, dev, note_any, &any);
            if (schema_sg_of(sc, dev, sg, sizeof sg) == 0 && !any)
                g_hash_table_add(fs->empty_devices, g_strdup(dev));
        } else if (line[0] == 's' &&
                   sscanf(line, "s %2047s %1023s %31s %31s %31s", dev, name, ty, en, co) == 5) {
            char sg[1024];
            if (schema_sg_of(sc, dev, sg, sizeof sg) != 0 || schema_get_series(sc, dev, name)) continue;
            PendingSensor *ps = fs_pending_get(fs, dev, name, true);
            int t = strcmp(ty, "-") ? tsf_type_from_name(ty) : -1;
            int e = strcmp(en, "-") ? tsf_encoding_from_name(en) : -1;
            int c = strcmp(co, "-") ? tsf_compression_from_name(co) : -1;
            if (ps && t >= 0) ps->type = (TsfType)t, ps->has_type = true;
            if (ps && e >= 0) ps->enc = (TsfEncoding)e, ps->has_enc = true;
            if (ps && c >= 0) ps->comp = (TsfCompression)c, ps->has_comp = true;
        } else {
            log_msg(LOG_WARNING, "%s:%u: not understood, line skipped", path, lineno);
        }
    }
    if (f) fclose(f);
    g_free(path);
}

void fs_pending_remove(Tsfs *fs, const char *device, const char *name)
{
    GHashTable *t = g_hash_table_lookup(fs->pending, device);
    if (!t) return;
    g_hash_table_remove(t, name);
    if (g_hash_table_size(t) == 0) g_hash_table_remove(fs->pending, device);
}

int fs_realize_series(Tsfs *fs, const char *device, const char *name, TsfType inferred)
{
    Schema *sc = engine_schema(fs->engine);
    if (schema_get_series(sc, device, name)) return 0;
    pthread_mutex_lock(&fs->lock);
    PendingSensor *ps = fs_pending_get(fs, device, name, false);
    PendingSensor p = ps ? *ps : (PendingSensor){0};
    pthread_mutex_unlock(&fs->lock);
    TsfType type = p.has_type ? p.type : inferred;
    TsfEncoding enc = p.has_enc ? p.enc : schema_default_encoding(type);
    TsfCompression comp = p.has_comp ? p.comp : fs->eopts.compression;
    int rc = engine_create_series(fs->engine, device, name, type, enc, comp);
    if (rc == -EEXIST) rc = 0; /* made meanwhile by another writer */
    if (rc == 0) {
        pthread_mutex_lock(&fs->lock);
        fs_pending_remove(fs, device, name);
        g_hash_table_remove(fs->empty_devices, device);
        fs_pending_save(fs);
        pthread_mutex_unlock(&fs->lock);
    }
    return rc;
}

/* ---- lookup ----------------------------------------------------------------------- */

static bool partition_listed(Tsfs *fs, const char *sg, int64_t part)
{
    int64_t *ids;
    size_t n;
    bool found = false;
    if (engine_partitions(fs->engine, sg, &ids, &n) == 0) {
        for (size_t i = 0; i < n && !found; i++) found = ids[i] == part;
        free(ids);
    }
    return found;
}

static bool device_in_partition(Tsfs *fs, const char *sg, int64_t part, const char *device)
{
    char **devs;
    bool found = false;
    if (engine_partition_devices(fs->engine, sg, part, &devs) == 0) {
        for (char **d = devs; *d && !found; d++) found = strcmp(*d, device) == 0;
        g_strfreev(devs);
    }
    return found;
}

static bool sensor_exists(Tsfs *fs, const char *device, const char *name)
{
    if (schema_get_series(engine_schema(fs->engine), device, name)) return true;
    pthread_mutex_lock(&fs->lock);
    bool p = fs_pending_get(fs, device, name, false) != NULL;
    pthread_mutex_unlock(&fs->lock);
    return p;
}

static bool tsfile_entry_exists(Tsfs *fs, Node *dir, const char *name);

/* <sensor>.svg under a device: the sensor must resolve in this view and be
 * numeric; the chart's node carries the sensor's names. */
static int svg_lookup(Tsfs *fs, Node *dev, const char *name, size_t nl, Node **out)
{
    char *base = g_strndup(name, nl - 4);
    Node *s = NULL;
    int rc = fs_valid_sensor_name(base) ? node_lookup(fs, dev, base, &s) : -ENOENT;
    g_free(base);
    if (rc) return rc;
    if (!svg_plottable(fs, s)) return -ENOENT;
    pthread_mutex_lock(&fs->lock);
    Node *n = node_intern(fs, N_SVG, s->sg, s->in_part, s->part, s->device, s->name);
    if (n) n->shown = true;
    pthread_mutex_unlock(&fs->lock);
    if (!n) return -ENOMEM;
    *out = n;
    return 0;
}

void node_mark_removed(Tsfs *fs, Node *n)
{
    pthread_mutex_lock(&fs->lock);
    n->removed = true;
    pthread_mutex_unlock(&fs->lock);
}

/* A name that vanished because its data was deleted still resolves while
 * the node that was shown for it is known and was not removed: rm -r
 * reads a directory first and looks each name up again as it goes. */
static Node *ghost(Tsfs *fs, NodeKind kind, const char *sg, bool in_part, int64_t part, const char *device,
                   const char *leaf)
{
    char *key = node_key_of(kind, sg, in_part, part, device, leaf);
    pthread_mutex_lock(&fs->lock);
    Node *n = g_hash_table_lookup(fs->nodes_by_key, key);
    if (n && (!n->shown || n->removed)) n = NULL;
    pthread_mutex_unlock(&fs->lock);
    g_free(key);
    return n;
}

int node_lookup(Tsfs *fs, Node *parent, const char *name, Node **out)
{
    *out = NULL;
    NodeKind kind;
    const char *sg = parent->sg;
    bool in_part = parent->in_part;
    int64_t part = parent->part;
    char *device = NULL;
    const char *leaf = NULL;
    size_t nl = strlen(name);
    bool missing = false;
    switch (parent->kind) {
    case N_ROOT:
        if (strcmp(name, ".stats") == 0) {
            kind = N_STATS;
            break;
        }
        if (!schema_has_sg(engine_schema(fs->engine), name)) return -ENOENT;
        kind = N_SG;
        sg = name;
        break;
    case N_SG:
        if (strcmp(name, "all") == 0) {
            kind = N_ALL;
        } else if (parse_partition(name, &part)) {
            kind = N_PART;
            in_part = true;
            missing = !partition_listed(fs, sg, part);
        } else {
            return -ENOENT;
        }
        break;
    case N_ALL:
    case N_PART: {
        if (parent->kind == N_PART && strcmp(name, ".tsfiles") == 0) {
            if (!engine_partition_is_sealed(fs->engine, sg, part)) return -ENOENT;
            kind = N_TSFILES;
            break;
        }
        bool csv = nl > 4 && strcmp(name + nl - 4, ".csv") == 0;
        device =
            csv ? g_strdup_printf("%s.%.*s", sg, (int)(nl - 4), name) : g_strdup_printf("%s.%s", sg, name);
        kind = csv ? N_CSV : N_DEVICE;
        missing = parent->kind == N_ALL ? !fs_device_exists(fs, device)
                                        : !device_in_partition(fs, sg, part, device);
        break;
    }
    case N_DEVICE:
        if (nl > 4 && strcmp(name + nl - 4, ".svg") == 0) return svg_lookup(fs, parent, name, nl, out);
        if (!fs_valid_sensor_name(name)) return -ENOENT;
        device = g_strdup(parent->device);
        kind = N_SENSOR;
        leaf = name;
        missing = !sensor_exists(fs, parent->device, name);
        break;
    case N_TSFILES:
        if (!tsfile_entry_exists(fs, parent, name)) return -ENOENT;
        kind = N_TSFILE;
        leaf = name;
        break;
    default: return -ENOTDIR;
    }
    Node *n;
    if (missing) {
        n = ghost(fs, kind, sg, in_part, part, device, leaf);
        g_free(device);
        if (!n) return -ENOENT;
        *out = n;
        return 0;
    }
    pthread_mutex_lock(&fs->lock);
    n = node_intern(fs, kind, sg, in_part, part, device, leaf);
    pthread_mutex_unlock(&fs->lock);
    g_free(device);
    if (!n) return -ENOMEM;
    /* under a partition a sensor exists only where it has data */
    if (kind == N_SENSOR && in_part && !content_has_data(fs, n)) {
        pthread_mutex_lock(&fs->lock);
        bool keep = n->shown && !n->removed;
        pthread_mutex_unlock(&fs->lock);
        if (!keep) return -ENOENT;
    }
    pthread_mutex_lock(&fs->lock);
    n->shown = true;
    n->removed = false;
    pthread_mutex_unlock(&fs->lock);
    *out = n;
    return 0;
}

/* ---- listing ---------------------------------------------------------------------- */

typedef struct TsfileWalk {
    int64_t part;
    GPtrArray *names;
} TsfileWalk;

static void collect_tsfile(void *ctx, const char *path, bool sequence, int64_t partition, bool closed)
{
    (void)sequence;
    TsfileWalk *w = ctx;
    if (partition != w->part || !closed) return;
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    g_ptr_array_add(w->names, g_strdup(base));
    static const char *const side[] = {".resource", ".mods"};
    for (int i = 0; i < 2; i++) {
        char *p = g_strconcat(path, side[i], NULL);
        struct stat st;
        if (stat(p, &st) == 0) g_ptr_array_add(w->names, g_strconcat(base, side[i], NULL));
        g_free(p);
    }
}

static GPtrArray *tsfile_entries(Tsfs *fs, Node *dir)
{
    TsfileWalk w = {dir->part, g_ptr_array_new_with_free_func(g_free)};
    engine_foreach_tsfile(fs->engine, dir->sg, collect_tsfile, &w);
    if (w.names->len) qsort(w.names->pdata, w.names->len, sizeof(gpointer), cmp_strp);
    return w.names;
}

static bool tsfile_entry_exists(Tsfs *fs, Node *dir, const char *name)
{
    GPtrArray *a = tsfile_entries(fs, dir);
    bool found = false;
    for (guint i = 0; i < a->len && !found; i++) found = strcmp(a->pdata[i], name) == 0;
    g_ptr_array_free(a, TRUE);
    return found;
}

static void list_sg(void *ctx, const char *sg)
{
    void **c = ctx;
    ((NodeListFn)c[0])(c[1], sg, N_SG);
}

int node_list(Tsfs *fs, Node *dir, NodeListFn fn, void *ctx)
{
    switch (dir->kind) {
    case N_ROOT: {
        fn(ctx, ".stats", N_STATS); /* a dot-file: ls -a shows it, ls and globs do not */
        void *c[2] = {(void *)fn, ctx};
        schema_foreach_sg(engine_schema(fs->engine), list_sg, c);
        return 0;
    }
    case N_SG: {
        fn(ctx, "all", N_ALL);
        int64_t *ids;
        size_t n;
        int rc = engine_partitions(fs->engine, dir->sg, &ids, &n);
        if (rc) return rc;
        for (size_t i = 0; i < n; i++) {
            char name[32];
            snprintf(name, sizeof name, "%lld", (long long)ids[i]);
            fn(ctx, name, N_PART);
        }
        free(ids);
        return 0;
    }
    case N_ALL:
    case N_PART: {
        GPtrArray *devs = g_ptr_array_new_with_free_func(g_free);
        if (dir->kind == N_ALL) {
            GHashTable *set = sg_devices(fs, dir->sg);
            GHashTableIter it;
            gpointer k, v;
            g_hash_table_iter_init(&it, set);
            while (g_hash_table_iter_next(&it, &k, &v)) g_ptr_array_add(devs, g_strdup(k));
            g_hash_table_destroy(set);
        } else {
            char **d;
            int rc = engine_partition_devices(fs->engine, dir->sg, dir->part, &d);
            if (rc) {
                g_ptr_array_free(devs, TRUE);
                return rc;
            }
            for (char **p = d; *p; p++) g_ptr_array_add(devs, g_strdup(*p));
            g_strfreev(d);
        }
        if (devs->len) qsort(devs->pdata, devs->len, sizeof(gpointer), cmp_strp);
        size_t sgl = strlen(dir->sg);
        for (guint i = 0; i < devs->len; i++) {
            const char *rel = (const char *)devs->pdata[i] + sgl + 1;
            char *csv = g_strconcat(rel, ".csv", NULL);
            fn(ctx, rel, N_DEVICE);
            fn(ctx, csv, N_CSV);
            g_free(csv);
        }
        g_ptr_array_free(devs, TRUE);
        if (dir->kind == N_PART && engine_partition_is_sealed(fs->engine, dir->sg, dir->part))
            fn(ctx, ".tsfiles", N_TSFILES);
        return 0;
    }
    case N_DEVICE: {
        char **names = fs_device_sensors(fs, dir->device);
        for (char **p = names; *p; p++) {
            if (dir->in_part) {
                Node *child;
                if (node_lookup(fs, dir, *p, &child) != 0) continue; /* no data in this partition */
            }
            fn(ctx, *p, N_SENSOR);
        }
        g_strfreev(names);
        return 0;
    }
    case N_TSFILES: {
        GPtrArray *a = tsfile_entries(fs, dir);
        for (guint i = 0; i < a->len; i++) fn(ctx, a->pdata[i], N_TSFILE);
        g_ptr_array_free(a, TRUE);
        return 0;
    }
    default: return -ENOTDIR;
    }
}
