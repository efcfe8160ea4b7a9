/*
 * ops.c: the FUSE low-level operations.  Each resolves its node, checks
 * what the contract allows for that kind of node (docs: filesystem.md),
 * and calls the engine, content.c, writes.c or xattrs.c.
 *
 * Caching: live files (all/, open partitions, every .csv) are direct I/O
 * with a zero attribute timeout, so every stat and read reaches us and sees
 * the engine's present state; their names are cached for a second.  Sealed partitions never
 * change, so their nodes get long timeouts and use the page cache; when
 * one is unsealed its cached inodes are invalidated.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <syslog.h>
#include <unistd.h>

#include "query.h"
#include "tsf_error.h"
#include "tsfs.h"

#define SEALED_TIMEOUT     60.0
#define LIVE_ENTRY_TIMEOUT 1.0
#define SKIP_AHEAD         (8u << 20) /* render forward rather than restart below this */
#define WINDOW             (1u << 20) /* bytes of the last reply a handle keeps for re-reads */

static Tsfs *FS(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

/* Replies with -rc, a negative errno; the engine's own codes (a corrupt
 * file, an unsupported encoding) reach the caller as EIO. */
static void reply_err(fuse_req_t req, int rc)
{
    int e = rc < 0 && rc > -4096 ? -rc : rc == 0 ? 0 : EIO;
    if (e == EIO && rc != -EIO) log_msg(LOG_ERR, "%s: reported as EIO", tsf_strerror(rc));
    fuse_reply_err(req, e);
}

/* The node of a request's inode; when it is unknown, ENOENT is replied and
 * NULL returned. */
static Node *req_node(fuse_req_t req, fuse_ino_t ino)
{
    Node *n = node_get(FS(req), ino);
    if (!n) fuse_reply_err(req, ENOENT);
    return n;
}

/* ---- attributes -------------------------------------------------------------------- */

static bool node_is_dir(const Node *n)
{
    return !node_kind_is_file(n->kind);
}

typedef struct TsfileFind {
    const char *name;
    char *path;
} TsfileFind;

static void find_tsfile(void *ctx, const char *path, bool sequence, int64_t partition, bool closed)
{
    (void)sequence;
    (void)partition;
    TsfileFind *f = ctx;
    if (f->path || !closed) return;
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t bl = strlen(b);
    if (strncmp(f->name, b, bl) == 0 && (f->name[bl] == 0 || f->name[bl] == '.'))
        f->path = g_strconcat(path, f->name + bl, NULL);
}

/* The real path of a .tsfiles entry (g_free it), or NULL. */
static char *tsfile_path(Tsfs *fs, Node *n)
{
    TsfileFind f = {n->name, NULL};
    engine_foreach_tsfile(fs->engine, n->sg, find_tsfile, &f);
    return f.path;
}

typedef struct Counter {
    int dirs;
} Counter;

static void count_dirs(void *ctx, const char *name, NodeKind kind)
{
    (void)name;
    if (!node_kind_is_file(kind)) ((Counter *)ctx)->dirs++;
}

static void set_time(struct stat *st, int64_t ms)
{
    st->st_mtim.tv_sec = ms / 1000;
    st->st_mtim.tv_nsec = (ms % 1000) * 1000000;
    st->st_atim = st->st_mtim;
    st->st_ctim = st->st_mtim;
}

/* cheap: for a live file, the last known size instead of a fresh one (a
 * lookup reply: with attribute timeout 0 every stat asks getattr again,
 * and direct I/O reads do not depend on the kernel's idea of the size) */
static int node_stat_mode(Tsfs *fs, Node *n, struct stat *st, bool *sealed_out, bool cheap);

static int node_stat(Tsfs *fs, Node *n, struct stat *st, bool *sealed_out)
{
    return node_stat_mode(fs, n, st, sealed_out, false);
}

static int node_stat_mode(Tsfs *fs, Node *n, struct stat *st, bool *sealed_out, bool cheap)
{
    memset(st, 0, sizeof(*st));
    st->st_ino = n->ino;
    st->st_uid = fs->uid;
    st->st_gid = fs->gid;
    st->st_blksize = 1024 * 1024; /* cat and cp read this much at a time: fewer round trips */
    bool sealed = n->in_part && node_sealed(fs, n);
    if (sealed_out) *sealed_out = sealed;
    int64_t mtime = sealed ? engine_partition_sealed_at(fs->engine, n->sg, n->part) : fs->mount_time;
    if (node_is_dir(n)) {
        Counter c = {0};
        int rc = node_list(fs, n, count_dirs, &c);
        if (rc) return rc;
        st->st_mode = S_IFDIR | (sealed || n->kind == N_TSFILES ? 0555 : 0755);
        st->st_nlink = 2 + (nlink_t)c.dirs;
        st->st_size = 0;
        set_time(st, mtime);
        return 0;
    }
    st->st_nlink = 1;
    if (n->kind == N_TSFILE) {
        char *p = tsfile_path(fs, n);
        struct stat real;
        int rc = p && stat(p, &real) == 0 ? 0 : -ENOENT;
        g_free(p);
        if (rc) return rc;
        st->st_mode = S_IFREG | 0444;
        st->st_size = real.st_size;
        set_time(st, mtime);
    } else if (n->kind == N_STATS || n->kind == N_SVG) {
        uint64_t size = 0;
        int64_t mt = fs_now_ms();
        char *text = NULL;
        size_t len = 0;
        int rc = n->kind == N_SVG ? svg_size(fs, n, &size, &mt) : stats_render(fs, &text, &len);
        g_free(text);
        if (rc) return rc;
        st->st_mode = S_IFREG | 0444;
        st->st_size = (off_t)(n->kind == N_SVG ? size : len);
        set_time(st, sealed ? mtime : mt);
    } else if (cheap && !sealed) {
        uint64_t size = 0;
        int64_t mt = fs->mount_time;
        content_cached(fs, n, &size, &mt);
        st->st_mode = S_IFREG | 0644;
        st->st_size = (off_t)size;
        set_time(st, mt);
    } else {
        int err;
        Version *v = content_version(fs, n, &err);
        if (!v) return err;
        st->st_mode = S_IFREG | (sealed ? 0444 : 0644);
        st->st_size = (off_t)v->size;
        set_time(st, sealed ? mtime : v->mtime);
        version_unref(v);
    }
    st->st_blocks = (st->st_size + 511) / 512;
    return 0;
}

static double timeout_of(bool sealed)
{
    return sealed ? SEALED_TIMEOUT : 0.0;
}

static void reply_entry(fuse_req_t req, Tsfs *fs, Node *n)
{
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    bool sealed;
    int rc = node_stat_mode(fs, n, &e.attr, &sealed, true);
    if (rc) {
        reply_err(req, rc);
        return;
    }
    e.ino = n->ino;
    e.generation = 1;
    e.attr_timeout = timeout_of(sealed);
    /* names of live nodes are kept a little: each echo >> would otherwise
     * look up every directory of its path again; names that vanish without
     * an unlink (deleted data) linger at most this long */
    e.entry_timeout = sealed ? SEALED_TIMEOUT : LIVE_ENTRY_TIMEOUT;
    node_ref_lookup(fs, n);
    if (fuse_reply_entry(req, &e) != 0) node_forget(fs, n->ino, 1);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    Tsfs *fs = FS(req);
    Node *p = req_node(req, parent), *n;
    if (!p) return;
    int rc = node_lookup(fs, p, name, &n);
    if (rc) {
        reply_err(req, rc);
        return;
    }
    reply_entry(req, fs, n);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    node_forget(FS(req), ino, nlookup);
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    for (size_t i = 0; i < count; i++) node_forget(FS(req), forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

static void generated_size(struct fuse_file_info *fi, struct stat *st);

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    Tsfs *fs = FS(req);
    Node *n = req_node(req, ino);
    if (!n) return;
    struct stat st;
    bool sealed;
    int rc = node_stat(fs, n, &st, &sealed);
    if (rc == 0 && fi) generated_size(fi, &st); /* fstat of an open .stats or .svg */
    if (rc)
        reply_err(req, rc);
    else
        fuse_reply_attr(req, &st, timeout_of(sealed));
}

/* ---- unsealing: the kernel forgets what it cached of the partition ------------------- */

typedef struct Inval {
    struct fuse_session *se;
    GArray *inos;
} Inval;

static void *inval_thread(void *arg)
{
    Inval *iv = arg;
    for (guint i = 0; i < iv->inos->len; i++)
        fuse_lowlevel_notify_inval_inode(iv->se, g_array_index(iv->inos, uint64_t, i), 0, 0);
    g_array_free(iv->inos, TRUE);
    free(iv);
    return NULL;
}

static void invalidate_partition(Tsfs *fs, const char *sg, int64_t part)
{
    Inval *iv = calloc(1, sizeof(*iv));
    if (!iv) return;
    iv->se = fs->se;
    iv->inos = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    pthread_mutex_lock(&fs->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, fs->nodes_by_ino);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        Node *n = v;
        if (n->in_part && n->part == part && n->sg && strcmp(n->sg, sg) == 0)
            g_array_append_val(iv->inos, n->ino);
    }
    pthread_mutex_unlock(&fs->lock);
    /* from another thread: a notification must not wait on the request being served */
    pthread_t th;
    if (pthread_create(&th, NULL, inval_thread, iv) == 0)
        pthread_detach(th);
    else {
        g_array_free(iv->inos, TRUE);
        free(iv);
    }
}

/* ---- setattr: chmod seals, truncate deletes ------------------------------------------ */

static int delete_view(Tsfs *fs, Node *n)
{
    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    if (!schema_get_series(engine_schema(fs->engine), n->device, n->name)) return 0;
    return engine_delete(fs->engine, n->device, n->name, lo, hi);
}

static int do_chmod(Tsfs *fs, Node *n, mode_t mode, const struct stat *cur)
{
    mode &= 07777;
    mode_t now = cur->st_mode & 07777;
    if (n->kind == N_PART) {
        bool sealed = engine_partition_is_sealed(fs->engine, n->sg, n->part);
        if ((mode & 0222) == 0) {
            if (sealed) return 0;
            log_msg(LOG_INFO, "%s/%lld: sealing", n->sg, (long long)n->part);
            int rc = engine_seal_partition(fs->engine, n->sg, n->part);
            if (rc == 0) log_msg(LOG_INFO, "%s/%lld: sealed", n->sg, (long long)n->part);
            return rc;
        }
        if (sealed) {
            int rc = engine_unseal_partition(fs->engine, n->sg, n->part);
            if (rc == 0) {
                content_forget_partition(fs, n->sg, n->part);
                invalidate_partition(fs, n->sg, n->part);
                log_msg(LOG_INFO, "%s/%lld: unsealed", n->sg, (long long)n->part);
            }
            return rc;
        }
        return mode == now ? 0 : -EPERM;
    }
    return mode == now ? 0 : -EPERM;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    (void)fi;
    Tsfs *fs = FS(req);
    Node *n = req_node(req, ino);
    if (!n) return;
    struct stat cur;
    bool sealed;
    int rc = node_stat(fs, n, &cur, &sealed);
    if (rc == 0 && (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
        if (((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != cur.st_uid) ||
            ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != cur.st_gid))
            rc = -EPERM;
    }
    if (rc == 0 && (to_set & FUSE_SET_ATTR_SIZE)) {
        if (n->kind == N_CSV)
            rc = -EPERM;
        else if (n->kind == N_STATS || n->kind == N_SVG)
            rc = sealed ? -EROFS : -EACCES;
        else if (n->kind == N_TSFILE || n->kind == N_TSFILES)
            rc = -EROFS;
        else if (node_is_dir(n))
            rc = -EISDIR;
        else if (attr->st_size == cur.st_size && attr->st_size != 0)
            rc = 0;
        else if (attr->st_size != 0)
            rc = -EPERM; /* only truncate -s 0 deletes */
        else if (sealed)
            rc = cur.st_size == 0 ? 0 : -EROFS;
        else
            rc = delete_view(fs, n);
    }
    if (rc == 0 && (to_set & FUSE_SET_ATTR_MODE)) rc = do_chmod(fs, n, attr->st_mode, &cur);
    /* times: accepted and not kept (content decides mtime) */
    if (rc == 0) rc = node_stat(fs, n, &cur, &sealed);
    if (rc)
        reply_err(req, rc);
    else
        fuse_reply_attr(req, &cur, timeout_of(sealed));
}

/* ---- directories ------------------------------------------------------------------- */

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)mode;
    Tsfs *fs = FS(req);
    Node *p = req_node(req, parent), *n;
    if (!p) return;
    int rc;
    if (p->kind == N_ROOT) {
        rc = engine_create_sg(fs->engine, name);
        if (rc == -EEXIST && !schema_has_sg(engine_schema(fs->engine), name))
            rc = -EINVAL; /* overlaps another */
    } else if (p->kind == N_ALL) {
        size_t nl = strlen(name);
        char *device = g_strdup_printf("%s.%s", p->sg, name);
        if (nl > 4 && strcmp(name + nl - 4, ".csv") == 0)
            rc = -EINVAL;
        else if (!schema_valid_device_name(device))
            rc = -EINVAL;
        else if (fs_device_exists(fs, device))
            rc = -EEXIST;
        else {
            pthread_mutex_lock(&fs->lock);
            g_hash_table_add(fs->empty_devices, g_strdup(device));
            fs_pending_save(fs);
            pthread_mutex_unlock(&fs->lock);
            rc = 0;
        }
        g_free(device);
    } else if (p->kind == N_PART && node_sealed(fs, p)) {
        rc = -EROFS;
    } else {
        rc = -EPERM;
    }
    if (rc == 0) rc = node_lookup(fs, p, name, &n);
    if (rc)
        reply_err(req, rc);
    else
        reply_entry(req, fs, n);
}

typedef struct AnyData {
    Tsfs *fs;
    Node *dir;
    bool any;
} AnyData;

static void any_sensor_data(void *ctx, const char *name, NodeKind kind)
{
    AnyData *a = ctx;
    if (a->any) return;
    if (kind == N_SENSOR) {
        a->any = true; /* listed under a partition only when it holds data */
    } else if (kind == N_DEVICE) {
        Node *d;
        if (node_lookup(a->fs, a->dir, name, &d) == 0) {
            AnyData sub = {a->fs, d, false};
            node_list(a->fs, d, any_sensor_data, &sub);
            a->any = sub.any;
        }
    }
}

static void any_series(void *ctx, const char *name, NodeKind kind)
{
    AnyData *a = ctx;
    if (a->any || kind != N_DEVICE) return;
    char *device = g_strdup_printf("%s.%s", a->dir->sg, name);
    bool found = false;
    char **sensors = fs_device_sensors(a->fs, device);
    for (char **s = sensors; *s && !found; s++)
        found = schema_get_series(engine_schema(a->fs->engine), device, *s) != NULL;
    g_strfreev(sensors);
    g_free(device);
    a->any = found;
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    Tsfs *fs = FS(req);
    Node *p = req_node(req, parent), *n;
    if (!p) return;
    int rc = node_lookup(fs, p, name, &n);
    if (rc == 0 && n->in_part && node_sealed(fs, n)) rc = -EROFS;
    if (rc == 0) {
        switch (n->kind) {
        case N_SG: {
            Node *all;
            rc = node_lookup(fs, n, "all", &all);
            if (rc == 0) {
                Counter c = {0};
                node_list(fs, all, count_dirs, &c);
                rc = c.dirs ? -ENOTEMPTY : schema_drop_sg(engine_schema(fs->engine), n->sg);
            }
            break;
        }
        case N_ALL:
        case N_PART: {
            AnyData a = {fs, n, false};
            if (n->kind == N_ALL) {
                /* holds data when a device has a series */
                node_list(fs, n, any_series, &a);
            } else {
                node_list(fs, n, any_sensor_data, &a);
            }
            rc = a.any ? -ENOTEMPTY : 0; /* nothing to remove: it shows what data there is */
            break;
        }
        case N_DEVICE: {
            if (n->in_part) {
                AnyData a = {fs, n, false};
                node_list(fs, n, any_sensor_data, &a);
                rc = a.any ? -ENOTEMPTY : 0;
                break;
            }
            char **sensors = fs_device_sensors(fs, n->device);
            rc = sensors[0] ? -ENOTEMPTY : 0;
            g_strfreev(sensors);
            if (rc == 0) {
                pthread_mutex_lock(&fs->lock);
                g_hash_table_remove(fs->empty_devices, n->device);
                fs_pending_save(fs);
                pthread_mutex_unlock(&fs->lock);
            }
            break;
        }
        case N_TSFILES: rc = -EROFS; break;
        default: rc = -ENOTDIR;
        }
    }
    if (rc == 0 && n->kind != N_ALL) node_mark_removed(fs, n);
    reply_err(req, rc);
}

typedef struct DirEntry {
    char *name;
    uint64_t ino;
    NodeKind kind;
} DirEntry;

typedef struct DirHandle {
    GArray *ents; /* DirEntry */
    Node *dir;
} DirHandle;

typedef struct ListCtx {
    Tsfs *fs;
    Node *dir;
    GArray *ents;
} ListCtx;

static void collect_entry(void *ctx, const char *name, NodeKind kind)
{
    ListCtx *l = ctx;
    Node *n;
    /* interned so the inode number is the one lookup gives */
    uint64_t ino = 0;
    if (node_lookup(l->fs, l->dir, name, &n) == 0) ino = n->ino;
    if (!ino) return;
    DirEntry e = {g_strdup(name), ino, kind};
    g_array_append_val(l->ents, e);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    Tsfs *fs = FS(req);
    Node *n = node_get(fs, ino);
    if (!n || !node_is_dir(n)) {
        fuse_reply_err(req, n ? ENOTDIR : ENOENT);
        return;
    }
    DirHandle *dh = calloc(1, sizeof(*dh));
    dh->ents = g_array_new(FALSE, FALSE, sizeof(DirEntry));
    dh->dir = n;
    node_hold(fs, n);
    DirEntry dot = {g_strdup("."), n->ino, n->kind}, dotdot = {g_strdup(".."), FUSE_ROOT_ID, N_ROOT};
    g_array_append_val(dh->ents, dot);
    g_array_append_val(dh->ents, dotdot);
    ListCtx l = {fs, n, dh->ents};
    int rc = node_list(fs, n, collect_entry, &l);
    if (rc) {
        for (guint i = 0; i < dh->ents->len; i++) g_free(g_array_index(dh->ents, DirEntry, i).name);
        g_array_free(dh->ents, TRUE);
        node_release(fs, n);
        free(dh);
        reply_err(req, rc);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)dh;
    fi->cache_readdir = 0;
    if (fuse_reply_open(req, fi) != 0) {
        for (guint i = 0; i < dh->ents->len; i++) g_free(g_array_index(dh->ents, DirEntry, i).name);
        g_array_free(dh->ents, TRUE);
        node_release(fs, n);
        free(dh);
    }
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)ino;
    DirHandle *dh = (DirHandle *)(uintptr_t)fi->fh;
    char *buf = malloc(size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    for (size_t i = (size_t)off; i < dh->ents->len; i++) {
        DirEntry *e = &g_array_index(dh->ents, DirEntry, i);
        struct stat st = {0};
        st.st_ino = e->ino;
        st.st_mode = node_kind_is_file(e->kind) ? S_IFREG : S_IFDIR;
        size_t l = fuse_add_direntry(req, buf + used, size - used, e->name, &st, (off_t)(i + 1));
        if (l > size - used) break;
        used += l;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    DirHandle *dh = (DirHandle *)(uintptr_t)fi->fh;
    for (guint i = 0; i < dh->ents->len; i++) g_free(g_array_index(dh->ents, DirEntry, i).name);
    g_array_free(dh->ents, TRUE);
    node_release(FS(req), dh->dir);
    free(dh);
    fuse_reply_err(req, 0);
}

/* ---- files ------------------------------------------------------------------------- */

typedef struct Handle {
    Node *n;
    pthread_mutex_t mu;
    Version *v;
    Stream *s;
    char *win; /* the last reply's bytes, for re-reads */
    uint64_t win_off;
    size_t win_len;
    WriteState *w;
    int fd; /* .tsfiles entries */
    /* .stats, .svg: the bytes made at open (g_malloc'ed) */
    char *gen;
    size_t gen_len;
} Handle;

static void handle_free(Tsfs *fs, Handle *h)
{
    stream_close(h->s);
    version_unref(h->v);
    writes_free(h->w);
    free(h->win);
    if (h->fd >= 0) close(h->fd);
    g_free(h->gen);
    pthread_mutex_destroy(&h->mu);
    node_release(fs, h->n);
    free(h);
}

/* .stats and .svg: read-only; their bytes are made at open and kept by the
 * handle, so every read and fstat of the handle sees one exact version. */
static int open_generated(Tsfs *fs, Node *n, struct fuse_file_info *fi, Handle **out)
{
    bool sealed = n->in_part && node_sealed(fs, n);
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)) return sealed ? -EROFS : -EACCES;
    Handle *h = calloc(1, sizeof(*h));
    if (!h) return -ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    h->n = n;
    h->fd = -1;
    node_hold(fs, n);
    int rc =
        n->kind == N_STATS ? stats_render(fs, &h->gen, &h->gen_len) : svg_render(fs, n, &h->gen, &h->gen_len);
    if (rc == 0 && !h->gen) h->gen = g_malloc0(1);
    if (rc) {
        handle_free(fs, h);
        return rc;
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = !sealed;
    fi->keep_cache = sealed;
    *out = h;
    return 0;
}

static void generated_size(struct fuse_file_info *fi, struct stat *st)
{
    const Handle *h = (const Handle *)(uintptr_t)fi->fh;
    if (!h || !h->gen) return;
    st->st_size = (off_t)h->gen_len;
    st->st_blocks = (st->st_size + 511) / 512;
}

static int open_node(Tsfs *fs, Node *n, struct fuse_file_info *fi, Handle **out)
{
    if (n->kind == N_STATS || n->kind == N_SVG) return open_generated(fs, n, fi, out);
    int acc = fi->flags & O_ACCMODE;
    bool writing = acc != O_RDONLY;
    bool sealed = n->in_part && node_sealed(fs, n);
    if (node_is_dir(n)) return -EISDIR;
    if (n->kind == N_TSFILE && (writing || (fi->flags & O_TRUNC))) return -EROFS;
    if (sealed && (writing || (fi->flags & O_TRUNC))) return -EROFS;
    if (n->kind == N_CSV && (fi->flags & O_TRUNC)) return -EPERM;
    /* ">" never erases: O_TRUNC on a sensor holding data in this view */
    if (n->kind == N_SENSOR && (fi->flags & O_TRUNC) && content_has_data(fs, n)) return -EPERM;
    Handle *h = calloc(1, sizeof(*h));
    if (!h) return -ENOMEM;
    pthread_mutex_init(&h->mu, NULL);
    h->n = n;
    h->fd = -1;
    node_hold(fs, n);
    int rc = 0;
    if (n->kind == N_TSFILE) {
        char *p = tsfile_path(fs, n);
        h->fd = p ? open(p, O_RDONLY | O_CLOEXEC) : -1;
        if (h->fd < 0) rc = p ? -errno : -ENOENT;
        g_free(p);
    } else {
        bool append = (fi->flags & O_APPEND) != 0;
        uint64_t base = 0;
        if (acc != O_WRONLY || !append) {
            h->v = content_version(fs, n, &rc);
            if (h->v) base = h->v->size;
        }
        if (rc == 0 && writing) {
            h->w = writes_new(fs, n, append, base);
            if (!h->w) rc = -ENOMEM;
        }
    }
    if (rc) {
        handle_free(fs, h);
        return rc;
    }
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = !sealed && n->kind != N_TSFILE;
    fi->keep_cache = sealed || n->kind == N_TSFILE;
    fi->nonseekable = 0;
    *out = h;
    return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    Tsfs *fs = FS(req);
    Node *n = req_node(req, ino);
    Handle *h;
    if (!n) return;
    int rc = open_node(fs, n, fi, &h);
    if (rc) {
        reply_err(req, rc);
        return;
    }
    if (fuse_reply_open(req, fi) != 0) handle_free(fs, h);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    (void)mode;
    Tsfs *fs = FS(req);
    Node *p = req_node(req, parent), *n;
    if (!p) return;
    int rc = 0;
    if (p->kind != N_DEVICE) {
        size_t nl = strlen(name);
        bool csv_name = (p->kind == N_ALL || p->kind == N_PART) && nl > 4 && !strcmp(name + nl - 4, ".csv");
        rc = p->kind == N_TSFILES || (p->in_part && node_sealed(fs, p)) ? -EROFS
             : csv_name                                                 ? -ENOENT
                                                                        : -EPERM;
    } else if (p->in_part && node_sealed(fs, p)) {
        rc = -EROFS;
    } else if (!fs_valid_sensor_name(name)) {
        rc = -EINVAL;
    }
    if (rc == 0 && node_lookup(fs, p, name, &n) == 0) {
        if (fi->flags & O_EXCL) rc = -EEXIST;
    } else if (rc == 0) {
        pthread_mutex_lock(&fs->lock);
        PendingSensor *ps = fs_pending_get(fs, p->device, name, true);
        fs_pending_save(fs);
        pthread_mutex_unlock(&fs->lock);
        rc = ps ? node_lookup(fs, p, name, &n) : -ENOMEM;
        /* a new sensor under a partition has no data there yet: seen through all/ */
        if (rc == -ENOENT && p->in_part) rc = -EINVAL;
    }
    Handle *h = NULL;
    if (rc == 0) rc = open_node(fs, n, fi, &h);
    if (rc) {
        reply_err(req, rc);
        return;
    }
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    bool sealed;
    rc = node_stat_mode(fs, n, &e.attr, &sealed, true);
    if (rc) {
        handle_free(fs, h);
        reply_err(req, rc);
        return;
    }
    e.ino = n->ino;
    e.generation = 1;
    node_ref_lookup(fs, n);
    if (fuse_reply_create(req, &e, fi) != 0) {
        node_forget(fs, n->ino, 1);
        handle_free(fs, h);
    }
}

/* Reads from a version at off (the handle's lock held): returns the byte
 * count, with either *rf set (a reference) when those bytes are remembered
 * in the file *rfd, or the bytes rendered into *bufp (malloc'ed here). */
static ssize_t read_version(Tsfs *fs, Handle *h, char **bufp, size_t size, uint64_t off, RenderFile **rf,
                            int *rfd)
{
    int rc = 0;
    if (!h->v) {
        h->v = content_version(fs, h->n, &rc);
        if (!h->v) return rc;
    }
    /* at or past the end of the version: move to the current one (tail -f) */
    if (off >= h->v->size) {
        Version *nv = content_version(fs, h->n, &rc);
        if (!nv) return rc;
        /* the new version continues the old one only when nothing at or
         * before the old one's last time changed in between (asked after
         * nv was made, so a rewrite racing with it counts as one) */
        int64_t changed;
        bool extends = nv == h->v || node_sealed(fs, h->n) ||
                       (engine_rewritten_from(fs->engine, h->n->device,
                                              h->n->kind == N_CSV ? NULL : h->n->name, h->v->gen, &changed) &&
                        changed > h->v->last_t && nv->size >= h->v->size);
        if (nv != h->v) {
            version_unref(h->v);
            h->v = nv;
            stream_close(h->s);
            h->s = NULL;
            h->win_len = 0;
        } else {
            version_unref(nv);
        }
        /* after a rewrite the bytes before off changed: this read ends the old
         * version, the next one reads the new */
        if (!extends || off >= h->v->size) return 0;
    }
    size_t want = size < h->v->size - off ? size : (size_t)(h->v->size - off);
    *rfd = content_rendered(fs, h->v, off, want, rf);
    if (*rfd >= 0) return (ssize_t)want;
    char *buf = *bufp = malloc(size ? size : 1);
    if (!buf) return -ENOMEM;
    size_t got = 0;
    /* bytes still in the window of the last reply */
    if (h->win_len && off >= h->win_off && off < h->win_off + h->win_len) {
        size_t take = (size_t)(h->win_off + h->win_len - off);
        if (take > size) take = size;
        memcpy(buf, h->win + (off - h->win_off), take);
        got = take;
        off += take;
    }
    if (got < size && off < h->v->size) {
        bool reuse = h->s && stream_pos(h->s) <= off && off - stream_pos(h->s) <= SKIP_AHEAD;
        if (!reuse) {
            stream_close(h->s);
            h->s = NULL;
            rc = stream_open(fs, h->n, h->v, off, &h->s);
            if (rc) return got ? (ssize_t)got : rc;
        } else if (stream_pos(h->s) < off) {
            ssize_t r = stream_read(h->s, NULL, (size_t)(off - stream_pos(h->s)));
            if (r < 0) return got ? (ssize_t)got : r;
        }
        ssize_t r = stream_read(h->s, buf + got, size - got);
        if (r < 0) return got ? (ssize_t)got : r;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
    (void)ino;
    Tsfs *fs = FS(req);
    Handle *h = (Handle *)(uintptr_t)fi->fh;
    if (h->gen) { /* .stats, .svg: the bytes made at open */
        size_t left = (uint64_t)off < h->gen_len ? h->gen_len - (size_t)off : 0;
        size_t n = left < size ? left : size;
        /* a copy: the handle may be released before the reply's send returns */
        char *copy = n ? g_memdup2(h->gen + off, n) : NULL;
        fuse_reply_buf(req, copy, n);
        g_free(copy);
        return;
    }
    if (h->fd >= 0) { /* a TsFile: spliced from its file (short at its end) */
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT(size);
        bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        bv.buf[0].fd = h->fd;
        bv.buf[0].pos = off;
        fuse_reply_data(req, &bv, 0);
        return;
    }
    char *buf = NULL;
    RenderFile *rf = NULL;
    int rfd = -1;
    pthread_mutex_lock(&h->mu);
    ssize_t r = read_version(fs, h, &buf, size, (uint64_t)off, &rf, &rfd);
    if (!rf && r > 0 && (size_t)r <= WINDOW) {
        /* a copy of this reply for a re-read of the same bytes */
        char *w = realloc(h->win, (size_t)r);
        if (w) {
            memcpy(w, buf, (size_t)r);
            h->win = w;
            h->win_off = (uint64_t)off;
            h->win_len = (size_t)r;
        }
    }
    /* unlocked before replying: once the reply is out the reader may close
     * the file, and its release frees the handle */
    pthread_mutex_unlock(&h->mu);
    if (r < 0) {
        reply_err(req, (int)r);
    } else if (rf) {
        struct fuse_bufvec bv = FUSE_BUFVEC_INIT((size_t)r);
        bv.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
        bv.buf[0].fd = rfd;
        bv.buf[0].pos = off;
        fuse_reply_data(req, &bv, 0);
        render_file_unref(rf);
    } else {
        fuse_reply_buf(req, buf, (size_t)r);
    }
    free(buf);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino;
    Handle *h = (Handle *)(uintptr_t)fi->fh;
    if (!h->w) {
        fuse_reply_err(req, h->n->kind == N_TSFILE ? EROFS : EBADF);
        return;
    }
    pthread_mutex_lock(&h->mu);
    int rc = writes_accept(h->w, buf, size, (uint64_t)off);
    pthread_mutex_unlock(&h->mu);
    if (rc)
        reply_err(req, rc);
    else
        fuse_reply_write(req, size);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    Tsfs *fs = FS(req);
    Handle *h = (Handle *)(uintptr_t)fi->fh;
    if (h->w) {
        writes_finish(h->w);
        content_prepare(fs, h->n);
    }
    handle_free(fs, h);
    fuse_reply_err(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino;
    (void)datasync;
    (void)fi;
    int rc = engine_sync(FS(req)->engine);
    reply_err(req, rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    Tsfs *fs = FS(req);
    Node *p = req_node(req, parent), *n;
    if (!p) return;
    int rc = node_lookup(fs, p, name, &n);
    if (rc == 0 && (n->kind == N_TSFILE || (n->in_part && node_sealed(fs, n)))) rc = -EROFS;
    if (rc == 0) {
        switch (n->kind) {
        case N_SENSOR:
            if (n->in_part) {
                rc = delete_view(fs, n);
            } else if (schema_get_series(engine_schema(fs->engine), n->device, n->name)) {
                rc = engine_drop_series(fs->engine, n->device, n->name);
            }
            if (rc == 0 && !n->in_part) {
                pthread_mutex_lock(&fs->lock);
                fs_pending_remove(fs, n->device, n->name);
                fs_pending_save(fs);
                pthread_mutex_unlock(&fs->lock);
                /* an emptied device stays listed until rmdir */
                char **left = fs_device_sensors(fs, n->device);
                if (!left[0]) {
                    pthread_mutex_lock(&fs->lock);
                    g_hash_table_add(fs->empty_devices, g_strdup(n->device));
                    fs_pending_save(fs);
                    pthread_mutex_unlock(&fs->lock);
                }
                g_strfreev(left);
            }
            break;
        case N_CSV: {
            /* delete through the sensors; a view with nothing left goes quietly (rm -r) */
            bool has = false;
            char **sensors = fs_device_sensors(fs, n->device);
            for (char **s = sensors; *s && !has; s++) {
                if (!n->in_part) {
                    has = schema_get_series(engine_schema(fs->engine), n->device, *s) != NULL;
                    continue;
                }
                Node *sn, *dev;
                char *rel = g_strndup(name, strlen(name) - 4);
                if (node_lookup(fs, p, rel, &dev) == 0 && node_lookup(fs, dev, *s, &sn) == 0)
                    has = content_has_data(fs, sn);
                g_free(rel);
            }
            g_strfreev(sensors);
            rc = has ? -EPERM : 0;
            break;
        }
        case N_STATS:
        case N_SVG: rc = -EPERM; break; /* generated, nothing to delete */
        default: rc = -EISDIR;
        }
    }
    if (rc == 0) node_mark_removed(fs, n);
    reply_err(req, rc);
}

static void op_refuse(fuse_req_t req)
{
    fuse_reply_err(req, EPERM);
}

static void op_rename(fuse_req_t req, fuse_ino_t p, const char *n, fuse_ino_t np, const char *nn,
                      unsigned int f)
{
    (void)p, (void)n, (void)np, (void)nn, (void)f;
    op_refuse(req);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t np, const char *nn)
{
    (void)ino, (void)np, (void)nn;
    op_refuse(req);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    (void)link, (void)parent, (void)name;
    op_refuse(req);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    (void)parent, (void)name, (void)mode, (void)rdev;
    op_refuse(req);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    struct statvfs sv;
    if (statvfs(FS(req)->data_dir, &sv) != 0)
        fuse_reply_err(req, errno);
    else
        fuse_reply_statfs(req, &sv);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value, size_t size,
                        int flags)
{
    (void)flags;
    Tsfs *fs = FS(req);
    Node *n = node_get(fs, ino);
    int rc = n ? xattr_set(fs, n, name, value, size) : -ENOENT;
    reply_err(req, rc);
}

/* getxattr and listxattr answer the same way: a size probe, the bytes, or
 * an error; buf is freed. */
static void reply_xattr_value(fuse_req_t req, int rc, char *buf, size_t size)
{
    if (rc < 0)
        reply_err(req, rc);
    else if (size == 0)
        fuse_reply_xattr(req, (size_t)rc);
    else
        fuse_reply_buf(req, buf, (size_t)rc);
    free(buf);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    Tsfs *fs = FS(req);
    Node *n = node_get(fs, ino);
    char *buf = size ? malloc(size) : NULL;
    reply_xattr_value(req, n ? xattr_get(fs, n, name, buf, size) : -ENOENT, buf, size);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    Tsfs *fs = FS(req);
    Node *n = node_get(fs, ino);
    char *buf = size ? malloc(size) : NULL;
    reply_xattr_value(req, n ? xattr_list(fs, n, buf, size) : -ENOENT, buf, size);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    Tsfs *fs = FS(req);
    Node *n = node_get(fs, ino);
    int rc = -ENOENT;
    if (n && n->kind == N_SG && strcmp(name, "user.tsfs.ttl") == 0)
        rc = engine_set_ttl(fs->engine, n->sg, 0);
    else if (n)
        rc = strncmp(name, "user.tsfs.", 10) == 0 ? -EPERM : -ENODATA;
    reply_err(req, rc);
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC) conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE; /* errors and durability must reach the writer */
    /* remembered rendered bytes and TsFiles go to the kernel by splice */
    if (conn->capable & FUSE_CAP_SPLICE_WRITE) conn->want |= FUSE_CAP_SPLICE_WRITE;
    conn->max_write = 1u << 20;
    conn->max_readahead = 1u << 20;
}

const struct fuse_lowlevel_ops tsfs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mkdir = op_mkdir,
    .rmdir = op_rmdir,
    .unlink = op_unlink,
    .rename = op_rename,
    .link = op_link,
    .symlink = op_symlink,
    .mknod = op_mknod,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .releasedir = op_releasedir,
    .open = op_open,
    .create = op_create,
    .read = op_read,
    .write = op_write,
    /* no .flush: close() has nothing to wait for (a write() returns once its
     * lines are inserted), and without it the kernel skips a round trip */
    .release = op_release,
    .fsync = op_fsync,
    .statfs = op_statfs,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
};
