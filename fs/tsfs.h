/*
 * tsfs.h: the mounted filesystem's shared state and the contracts between
 * its modules.  fs/ maps paths and file operations onto the engine; it
 * holds no point data of its own beyond the lines a handle is assembling.
 *
 *   main.c      command line, DATA_DIR lock, daemon, signals, FUSE loop
 *   ops.c       the FUSE low-level operations: resolve nodes, dispatch
 *   nodes.c     the tree: what each path is, stable inode numbers
 *   content.c   what a file's bytes are: versions, sizes, render streams
 *   writes.c    write handles: lines assembled, parsed, inserted in batches
 *   xattrs.c    user.tsfs.* attributes
 *   stats.c     the read-only /.stats file (counters)
 *   svg.c       the hidden read-only <sensor>.svg charts
 *   lines.c     parsing and rendering of lines (no FUSE, no engine)
 *   log.c       messages to stderr (foreground) or syslog (daemon)
 *
 * Locks: Tsfs.lock guards the node table and the pending sensors and
 * devices; content.c and svg.c have their own cache locks; each handle
 * has its own.
 * None is held while the engine is called, except where noted.
 */
#ifndef TSFS_TSFS_H
#define TSFS_TSFS_H

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine.h"
#include "lines.h"

#define TSFS_VERSION "0.1.0"

typedef struct Tsfs {
    Engine *engine;
    EngineOptions eopts;
    char *data_dir;
    LnTimeFormat time_format;
    int64_t auto_seal_ms; /* 0 = off */
    uid_t uid;
    gid_t gid;
    int64_t mount_time;    /* wall-clock ms: mtime of live directories */
    uint64_t render_cache; /* budget of remembered rendered bytes; 0 = off */
    bool debug;
    struct fuse_session *se;

    pthread_mutex_t lock;
    GHashTable *nodes_by_ino; /* fuse_ino_t (as uint64 key) -> Node* */
    GHashTable *nodes_by_key; /* canonical key -> Node* */
    /* created but not yet holding a series: device -> GHashTable name -> PendingSensor* */
    GHashTable *pending;
    GHashTable *empty_devices; /* device paths made by mkdir, not yet holding a series */
    GHashTable *bare_stamps;   /* "device\x01sensor" -> int64_t* last bare-value stamp */

    void *content; /* content.c's cache */
} Tsfs;

/* Settings chosen before a sensor's first point (setfattr). */
typedef struct PendingSensor {
    bool has_type, has_enc, has_comp;
    TsfType type;
    TsfEncoding enc;
    TsfCompression comp;
} PendingSensor;

/* ---- nodes.c ---------------------------------------------------------------- */

typedef enum NodeKind {
    N_ROOT,
    N_SG,      /* MOUNT/root.ln */
    N_ALL,     /* MOUNT/root.ln/all */
    N_PART,    /* MOUNT/root.ln/2790 */
    N_DEVICE,  /* .../wf01.wt01 (under all/ or a partition) */
    N_SENSOR,  /* .../wf01.wt01/temperature */
    N_CSV,     /* .../wf01.wt01.csv */
    N_TSFILES, /* MOUNT/root.ln/2790/.tsfiles */
    N_TSFILE,  /* .../.tsfiles/<file> */
    N_STATS,   /* MOUNT/.stats */
    N_SVG      /* .../wf01.wt01/temperature.svg: hidden from listings (name = the sensor's) */
} NodeKind;

typedef struct Node {
    uint64_t ino;
    NodeKind kind;
    char *key;        /* canonical key, unique per node */
    char *sg;         /* storage group, or NULL for the root */
    bool in_part;     /* seen through a partition directory */
    int64_t part;     /* that partition */
    char *device;     /* full device path, or NULL */
    char *name;       /* sensor measurement, or .tsfiles entry name */
    bool shown;       /* a lookup or listing returned it since the mount */
    bool removed;     /* rmdir or unlink took it away */
    uint64_t nlookup; /* kernel references */
    uint64_t refs;    /* handles open on it */
} Node;

void nodes_init(Tsfs *fs);
/* The canonical key of a node (g_free it): its identity in caches and the
 * source of its inode number. */
char *node_key_of(NodeKind kind, const char *sg, bool in_part, int64_t part, const char *device,
                  const char *name);
void nodes_free(Tsfs *fs);
/* The node of an inode number (NULL when unknown). */
Node *node_get(Tsfs *fs, uint64_t ino);
/* Finds child `name` of parent: 0 and *out (nlookup not changed) or a
 * negative errno (-ENOENT). */
int node_lookup(Tsfs *fs, Node *parent, const char *name, Node **out);
/* Marks a node taken away by rmdir or unlink: it no longer resolves. */
void node_mark_removed(Tsfs *fs, Node *n);
/* Takes / drops kernel references (lookup counts) and handle references. */
void node_ref_lookup(Tsfs *fs, Node *n);
void node_forget(Tsfs *fs, uint64_t ino, uint64_t nlookup);
void node_hold(Tsfs *fs, Node *n);
void node_release(Tsfs *fs, Node *n);

/* Whether nodes of a kind are regular files (else directories). */
bool node_kind_is_file(NodeKind kind);

/* The time range a node sees: the partition's span, or everything. */
void node_range(Tsfs *fs, const Node *n, int64_t *lo, int64_t *hi);
/* Whether the node lies in a sealed partition (fixed content). */
bool node_sealed(Tsfs *fs, const Node *n);
/* Device name relative to its storage group ("wf01.wt01"). */
const char *node_rel_device(const Node *n);

/* Directory listing: fn(ctx, name, kind) for each child, in a stable order. */
typedef void (*NodeListFn)(void *ctx, const char *name, NodeKind kind);
int node_list(Tsfs *fs, Node *dir, NodeListFn fn, void *ctx);

/* Whether a device exists (has series, pending sensors or was made by mkdir). */
bool fs_device_exists(Tsfs *fs, const char *device);
/* The sensors of a device (series and pending), sorted: g_strfreev array. */
char **fs_device_sensors(Tsfs *fs, const char *device);
/* Sensor names: [A-Za-z0-9_]+, not all digits. */
bool fs_valid_sensor_name(const char *name);
/* Pending sensor lookup/creation (caller holds fs->lock). */
PendingSensor *fs_pending_get(Tsfs *fs, const char *device, const char *name, bool create);
void fs_pending_remove(Tsfs *fs, const char *device, const char *name); /* caller holds fs->lock */
/* Writes the pending sensors and empty devices to DATA_DIR/system/fs-pending,
 * so they survive a remount (caller holds fs->lock); read back at nodes_init. */
void fs_pending_save(Tsfs *fs);
/* Makes sure the series exists in the engine with the pending settings (or
 * `inferred` when no type was set); removes the pending entry. */
int fs_realize_series(Tsfs *fs, const char *device, const char *name, TsfType inferred);

/* ---- content.c -------------------------------------------------------------- */

/* Rendered bytes remembered in an unlinked file (content.c). */
typedef struct RenderFile RenderFile;
void render_file_unref(RenderFile *rf);

/* One version of a file's rendered content: what a handle reads. */
typedef struct Version Version;
struct Version {
    int refs;
    uint64_t gen;   /* change stamp it was made at */
    uint64_t size;  /* exact rendered size */
    int64_t last_t; /* last time rendered (lo - 1 when empty) */
    int64_t mtime;  /* wall-clock ms when this content was first seen */
    GArray *cps;    /* Checkpoint: where rendering may restart */
    char **cols;    /* .csv: the measurements of the header (g_strfreev) */
    size_t ncols;
    RenderFile *rf; /* its bytes [0, rf_len) are there (both under the cache lock) */
    uint64_t rf_len;
};

typedef struct Checkpoint {
    uint64_t off; /* byte offset of a line start */
    int64_t t;    /* the time of that line */
} Checkpoint;

void content_init(Tsfs *fs);
/* Stops the background work and frees the cache: before engine_close. */
void content_free(Tsfs *fs);
/* The current version of a sensor or .csv node (a new reference), or NULL
 * and *err. */
Version *content_version(Tsfs *fs, Node *n, int *err);
void version_unref(Version *v);
/* The size of the last version made of a node, whatever changed since
 * (for lookup replies, which the kernel does not show to stat with an
 * attribute timeout of 0); false when none was made. */
bool content_cached(Tsfs *fs, Node *n, uint64_t *size, int64_t *mtime);
/* Forgets what is cached about a partition (it was unsealed). */
void content_forget_partition(Tsfs *fs, const char *sg, int64_t part);
/* Whether a sensor has points in the node's view (cheap, cached). */
bool content_has_data(Tsfs *fs, Node *n);
/* When v's bytes [off, off+len) are remembered: their file descriptor and
 * a reference (*rf) that keeps it open until render_file_unref; else -1. */
int content_rendered(Tsfs *fs, Version *v, uint64_t off, size_t len, RenderFile **rf);
/* The disk is full: drops the remembered rendered bytes (files held by
 * open handles go when those close). */
void content_release_space(Tsfs *fs);
/* A writer closed the node: bring its version (size and rendered bytes)
 * up to date in the background shortly. */
void content_prepare(Tsfs *fs, Node *n);

/* A reading stream over one version. */
typedef struct Stream Stream;
/* Opens a stream that renders v from byte offset `off` (restarting at the
 * nearest checkpoint and skipping). */
int stream_open(Tsfs *fs, Node *n, Version *v, uint64_t off, Stream **out);
/* Copies up to len bytes at the stream's position; returns bytes (0 at the
 * version's end) or a negative errno. */
ssize_t stream_read(Stream *s, char *buf, size_t len);
uint64_t stream_pos(const Stream *s);
void stream_close(Stream *s);

/* ---- writes.c --------------------------------------------------------------- */

typedef struct WriteState WriteState;
WriteState *writes_new(Tsfs *fs, Node *n, bool append, uint64_t base);
/* Accepts one write() at offset off: 0 or a negative errno (nothing of a
 * refused write is inserted). */
int writes_accept(WriteState *w, const char *buf, size_t len, uint64_t off);
/* The handle is closed: an unterminated last line is parsed and inserted,
 * or dropped and logged when malformed. */
int writes_finish(WriteState *w);
void writes_free(WriteState *w);

/* ---- xattrs.c --------------------------------------------------------------- */

int xattr_get(Tsfs *fs, Node *n, const char *name, char *buf, size_t size); /* length or -errno */
int xattr_set(Tsfs *fs, Node *n, const char *name, const char *value, size_t size);
int xattr_list(Tsfs *fs, Node *n, char *buf, size_t size); /* length or -errno */

/* ---- stats.c ---------------------------------------------------------------- */

/* The text of /.stats now: `name value` lines (docs/filesystem.md), in a
 * g_malloc'ed *out of *len bytes (NUL after them).  0 or a negative errno. */
int stats_render(Tsfs *fs, char **out, size_t *len);

/* ---- svg.c ------------------------------------------------------------------ */

/* Whether a sensor node has a chart: its series is numeric (BOOLEAN, INT32,
 * INT64, FLOAT, DOUBLE, TIMESTAMP) or has no type yet. */
bool svg_plottable(Tsfs *fs, const Node *sensor);
/* The chart of an N_SVG node: its exact size and the wall-clock ms it was
 * first made at that content (rendered, or kept from a render at the same
 * change stamp).  0 or a negative errno. */
int svg_size(Tsfs *fs, Node *n, uint64_t *size, int64_t *mtime);
/* The chart's bytes: a g_malloc'ed copy in *out, *len bytes (and a NUL
 * after them, not counted). */
int svg_render(Tsfs *fs, Node *n, char **out, size_t *len);

/* ---- log.c ------------------------------------------------------------------ */

void log_init(bool to_syslog, bool debug);
/* Daemon: stderr's lines go to syslog from now on (0 or -1); released
 * before exit. */
int log_capture_stderr(void);
void log_release_stderr(void);
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool log_debug_enabled(void);

/* Wall-clock ms. */
int64_t fs_now_ms(void);

#endif
