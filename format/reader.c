/*
 * reader.c: opening TsFiles, walking and searching the metadata index, and
 * reading chunks and pages (see reader.h for the contract).
 *
 * Every offset and length read from the file is checked against the file
 * size and against the range that should contain it before anything is
 * read: the index area is [metaOffset, fmPos), a node's children lie inside
 * the node's own range, chunk data inside the data section.  Walks are
 * bounded by depth (MAX_DEPTH) and by the byte ranges they consume.
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bloom.h"
#include "codec.h"
#include "encoding.h"

#define MAX_DEPTH      32
#define MAX_META_BYTES (1u << 30) /* TsFileMetadata larger than this is corrupt */

typedef struct TableRoot {
    char *name;      /* v4 table name; "" for v3 */
    uint64_t offset; /* of the root node's bytes (inside TsFileMetadata) */
} TableRoot;

struct TsfReader {
    int fd;
    char *path;
    uint64_t size;
    int version;
    uint64_t meta_offset; /* separator */
    uint64_t fm_pos;      /* TsFileMetadata */
    uint32_t fm_size;
    uint8_t *fm;      /* TsFileMetadata bytes */
    TableRoot *roots; /* device-tree roots (one per table in v4) */
    size_t nroots;
    TsfBloom bloom;
    TsfErr err;
    uint8_t *index;    /* whole index area, loaded by the first full walk */
    TsfBuf devbuf;     /* scratch: current device path */
    TsfChunkMeta *cms; /* scratch chunk list for walks */
    size_t cms_cap;
};

/* A parsed index node; keys copied into `keys`. */
typedef struct Node {
    uint32_t n;
    size_t *key_off; /* offsets into keys.data */
    size_t *key_len;
    uint64_t *child; /* child offsets */
    uint64_t end;
    uint8_t type;
    TsfBuf keys;
} Node;

static void node_clear(Node *nd)
{
    free(nd->key_off);
    free(nd->key_len);
    free(nd->child);
    tsf_buf_free(&nd->keys);
    memset(nd, 0, sizeof(*nd));
}

static int fail(TsfReader *r, int code, uint64_t off, const char *what)
{
    return tsf_err_set(&r->err, code, (int64_t)off, "%s", what);
}

const TsfErr *tsf_reader_err(const TsfReader *r)
{
    return &r->err;
}

void tsf_reader_clear_err(TsfReader *r)
{
    memset(&r->err, 0, sizeof(r->err));
    r->err.offset = -1;
}
int tsf_reader_version(const TsfReader *r)
{
    return r->version;
}
uint64_t tsf_reader_file_size(const TsfReader *r)
{
    return r->size;
}
uint64_t tsf_reader_meta_offset(const TsfReader *r)
{
    return r->meta_offset;
}

/* Reads [off, off+len) of the file into dst (exactly, or an error). */
static int read_at(TsfReader *r, uint64_t off, size_t len, uint8_t *dst)
{
    if (off > r->size || len > r->size - off) return fail(r, TSF_ECORRUPT, off, "range beyond end of file");
    size_t done = 0;
    while (done < len) {
        ssize_t k = pread(r->fd, dst + done, len - done, (off_t)(off + done));
        if (k < 0 && errno == EINTR) continue;
        if (k < 0) return tsf_err_set(&r->err, -errno, (int64_t)(off + done), "read: %s", strerror(errno));
        if (k == 0) return fail(r, TSF_ECORRUPT, off + done, "file shrank while reading");
        done += (size_t)k;
    }
    return 0;
}

/* Bytes [off, off+len) of the index area: from memory when loaded, else
 * read into buf. */
static const uint8_t *index_bytes(TsfReader *r, uint64_t off, uint64_t len, TsfBuf *buf)
{
    if (off < r->meta_offset || off > r->fm_pos + r->fm_size || len > r->fm_pos + r->fm_size - off) {
        fail(r, TSF_ECORRUPT, off, "index entry points outside the index area");
        return NULL;
    }
    if (off >= r->fm_pos) return r->fm + (off - r->fm_pos);
    if (off + len > r->fm_pos) {
        fail(r, TSF_ECORRUPT, off, "index range overlaps TsFileMetadata");
        return NULL;
    }
    if (r->index) return r->index + (off - r->meta_offset);
    tsf_buf_reset(buf);
    if (!tsf_buf_reserve(buf, len)) {
        fail(r, -ENOMEM, off, "out of memory");
        return NULL;
    }
    if (read_at(r, off, len, buf->data)) return NULL;
    buf->len = len;
    return buf->data;
}

static bool is_dev_type_mismatch(bool device_level, uint8_t type)
{
    bool dev_type = type == TSF_NODE_INTERNAL_DEVICE || type == TSF_NODE_LEAF_DEVICE;
    return dev_type != device_level;
}

/* Parses a node from c.  device_level selects the entry key layout. */
static int parse_node(TsfReader *r, TsfCursor *c, bool device_level, uint64_t at, Node *nd)
{
    node_clear(nd);
    uint32_t n = tsf_cur_uvarint(c);
    if (c->err || n > tsf_cur_left(c) / 9) return fail(r, TSF_ECORRUPT, at, "bad index node entry count");
    nd->n = n;
    nd->key_off = malloc((n + 1) * sizeof(size_t));
    nd->key_len = malloc((n + 1) * sizeof(size_t));
    nd->child = malloc((n + 1) * sizeof(uint64_t));
    /* keys.data must not stay NULL: empty keys are read as data + 0 */
    if (!nd->key_off || !nd->key_len || !nd->child || !tsf_buf_reserve(&nd->keys, 64))
        return fail(r, -ENOMEM, at, "out of memory");
    TsfBuf dev = TSF_BUF_INIT;
    for (uint32_t i = 0; i < n && !c->err; i++) {
        nd->key_off[i] = nd->keys.len;
        if (device_level) {
            int rc = tsf_device_id_read(c, r->version, &dev);
            if (rc) {
                c->err = c->err ? c->err : rc;
                break;
            }
            tsf_buf_put(&nd->keys, dev.data, dev.len);
            nd->key_len[i] = dev.len;
        } else {
            const uint8_t *s;
            uint32_t len;
            tsf_cur_varstr(c, &s, &len);
            tsf_buf_put(&nd->keys, s, len);
            nd->key_len[i] = len;
        }
        nd->child[i] = (uint64_t)tsf_cur_i64(c);
    }
    tsf_buf_free(&dev);
    nd->end = (uint64_t)tsf_cur_i64(c);
    nd->type = tsf_cur_u8(c);
    if (c->err) return fail(r, TSF_ECORRUPT, at, "truncated index node");
    if (nd->keys.err) return fail(r, -ENOMEM, at, "out of memory");
    if (nd->type > TSF_NODE_LEAF_MEASUREMENT || is_dev_type_mismatch(device_level, nd->type))
        return fail(r, TSF_ECORRUPT, at, "bad index node type");
    /* children must be ascending and inside the index area, ending at end */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t next = i + 1 < n ? nd->child[i + 1] : nd->end;
        if (nd->child[i] < r->meta_offset || nd->child[i] >= next || next > r->fm_pos + r->fm_size)
            return fail(r, TSF_ECORRUPT, at, "index node child range out of order");
    }
    return 0;
}

/* ---- open ----------------------------------------------------------------- */

/* Skips a v4 TableSchema (spec §4.6.2); only its extent matters here. */
static void skip_table_schema(TsfCursor *c)
{
    const uint8_t *s;
    uint32_t n;
    uint32_t cols = tsf_cur_uvarint(c);
    for (uint32_t i = 0; i < cols && !c->err; i++) {
        tsf_cur_i32str(c, &s, &n);
        tsf_cur_take(c, 3); /* type, encoding, compression */
        int32_t props = tsf_cur_i32(c);
        if (props < 0 || (uint32_t)props > tsf_cur_left(c) / 8) {
            c->err = TSF_ECORRUPT;
            break;
        }
        for (int32_t k = 0; k < props && !c->err; k++) {
            tsf_cur_i32str(c, &s, &n);
            tsf_cur_i32str(c, &s, &n);
        }
        tsf_cur_i32(c); /* column category */
    }
}

static int add_root(TsfReader *r, const uint8_t *name, size_t len, uint64_t offset)
{
    TableRoot *t = realloc(r->roots, (r->nroots + 1) * sizeof(*t));
    if (!t) return -ENOMEM;
    r->roots = t;
    t[r->nroots].name = strndup(name ? (const char *)name : "", name ? len : 0);
    t[r->nroots].offset = offset;
    if (!t[r->nroots].name) return -ENOMEM;
    r->nroots++;
    return 0;
}

static int parse_file_metadata(TsfReader *r)
{
    TsfCursor c = tsf_cursor(r->fm, r->fm_size);
    Node nd = {0};
    int rc = 0;
    if (r->version == 3) {
        rc = add_root(r, NULL, 0, r->fm_pos);
        if (rc == 0) rc = parse_node(r, &c, true, r->fm_pos, &nd);
        r->meta_offset = (uint64_t)tsf_cur_i64(&c);
    } else {
        uint32_t tables = tsf_cur_uvarint(&c);
        if (tables > r->fm_size) rc = fail(r, TSF_ECORRUPT, r->fm_pos, "bad table count");
        for (uint32_t i = 0; i < tables && rc == 0; i++) {
            const uint8_t *name;
            uint32_t len;
            tsf_cur_varstr(&c, &name, &len);
            uint64_t at = r->fm_pos + (uint64_t)(c.p - r->fm);
            rc = add_root(r, name, len, at);
            if (rc == 0) rc = parse_node(r, &c, true, at, &nd);
        }
        uint32_t schemas = rc ? 0 : tsf_cur_uvarint(&c);
        for (uint32_t i = 0; i < schemas && !c.err; i++) {
            const uint8_t *name;
            uint32_t len;
            tsf_cur_varstr(&c, &name, &len);
            skip_table_schema(&c);
        }
        r->meta_offset = (uint64_t)tsf_cur_i64(&c);
    }
    node_clear(&nd);
    if (rc) return rc;
    if (c.err) return fail(r, TSF_ECORRUPT, r->fm_pos, "truncated TsFileMetadata");
    if (tsf_cur_left(&c) > 0 && tsf_bloom_read(&c, &r->bloom) != 0)
        return fail(r, TSF_ECORRUPT, r->fm_pos, "bad bloom filter in TsFileMetadata");
    if (r->version == 4 && tsf_cur_left(&c) > 0) {
        /* properties: read pairs while bytes remain (spec §4.6.3) */
        uint32_t props = tsf_cur_uvarint(&c);
        for (uint32_t i = 0; i < props && tsf_cur_left(&c) > 0 && !c.err; i++) {
            const uint8_t *k, *v;
            uint32_t kl, vl;
            bool has_k = tsf_cur_varstr(&c, &k, &kl);
            bool has_v = tsf_cur_varstr(&c, &v, &vl);
            if (has_k && kl == 12 && memcmp(k, "encryptLevel", 12) == 0 && has_v && !(vl == 1 && v[0] == '0'))
                return fail(r, TSF_EUNSUPPORTED, r->fm_pos, "encrypted TsFile");
        }
    }
    if (r->meta_offset < TSF_HEAD_LEN || r->meta_offset >= r->fm_pos)
        return fail(r, TSF_ECORRUPT, r->fm_pos, "metaOffset outside the file");
    uint8_t sep;
    if (read_at(r, r->meta_offset, 1, &sep)) return r->err.code;
    if (sep != TSF_MARK_SEPARATOR) return fail(r, TSF_ECORRUPT, r->meta_offset, "no separator at metaOffset");
    return 0;
}

int tsf_reader_pread(TsfReader *r, uint64_t off, size_t len, void *dst)
{
    return read_at(r, off, len, dst);
}
int tsf_reader_fail(TsfReader *r, int code, uint64_t off, const char *msg)
{
    return fail(r, code, off, msg);
}

static int open_common(const char *path, TsfReader **out, TsfErr *err, bool data_only);

int tsf_reader_open(const char *path, TsfReader **out, TsfErr *err)
{
    return open_common(path, out, err, false);
}

int tsf_reader_open_data(const char *path, TsfReader **out, TsfErr *err)
{
    return open_common(path, out, err, true);
}

static int open_common(const char *path, TsfReader **out, TsfErr *err, bool data_only)
{
    *out = NULL;
    TsfReader *r = calloc(1, sizeof(*r));
    if (!r) return -ENOMEM;
    r->err.offset = -1;
    r->fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    int rc = 0;
    uint8_t head[TSF_HEAD_LEN], tail[10];
    if (r->fd < 0 || fstat(r->fd, &st) != 0) {
        rc = tsf_err_set(&r->err, -errno, -1, "%s", strerror(errno));
        goto out;
    }
    r->path = strdup(path);
    r->size = (uint64_t)st.st_size;
    if (r->size < TSF_HEAD_LEN) {
        rc = tsf_err_set(&r->err, TSF_ECORRUPT, 0, "file too short for a TsFile (%llu bytes)",
                         (unsigned long long)r->size);
        goto out;
    }
    if ((rc = read_at(r, 0, TSF_HEAD_LEN, head))) goto out;
    if (memcmp(head, TSF_MAGIC, TSF_MAGIC_LEN) != 0) {
        rc = fail(r, TSF_ECORRUPT, 0, "bad head magic (not a TsFile)");
        goto out;
    }
    r->version = head[6];
    if (r->version != 3 && r->version != 4) {
        rc = tsf_err_set(&r->err, TSF_EVERSION, 6, "unsupported format version %d", r->version);
        goto out;
    }
    if (data_only) goto out;
    if (r->size < TSF_MIN_COMPLETE_LEN) {
        rc = fail(r, TSF_EINCOMPLETE, r->size, "no tail magic: file was never closed");
        goto out;
    }
    if ((rc = read_at(r, r->size - 10, 10, tail))) goto out;
    if (memcmp(tail + 4, TSF_MAGIC, TSF_MAGIC_LEN) != 0) {
        rc = fail(r, TSF_EINCOMPLETE, r->size - 6, "no tail magic: file was never closed or is truncated");
        goto out;
    }
    int32_t fm_size = (int32_t)tsf_be_load32(tail);
    if (fm_size <= 0 || (uint64_t)fm_size > r->size - 10 - TSF_HEAD_LEN - 1 ||
        (uint32_t)fm_size > MAX_META_BYTES) {
        rc = tsf_err_set(&r->err, TSF_ECORRUPT, (int64_t)r->size - 10,
                         "TsFileMetadata size %d out of range for a %llu-byte file", fm_size,
                         (unsigned long long)r->size);
        goto out;
    }
    r->fm_size = (uint32_t)fm_size;
    r->fm_pos = r->size - 10 - r->fm_size;
    r->fm = malloc(r->fm_size);
    if (!r->fm) {
        rc = -ENOMEM;
        goto out;
    }
    if ((rc = read_at(r, r->fm_pos, r->fm_size, r->fm))) goto out;
    rc = parse_file_metadata(r);
out:
    if (rc) {
        if (err) *err = r->err;
        if (err && !err->code) tsf_err_set(err, rc, -1, "%s", tsf_strerror(rc));
        tsf_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

void tsf_reader_close(TsfReader *r)
{
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    for (size_t i = 0; i < r->nroots; i++) free(r->roots[i].name);
    free(r->roots);
    free(r->fm);
    free(r->index);
    free(r->cms);
    tsf_bloom_free(&r->bloom);
    tsf_buf_free(&r->devbuf);
    free(r->path);
    free(r);
}

/* ---- TimeseriesMetadata ------------------------------------------------------ */

/* Parses one TimeseriesMetadata at c into sm; chunk entries go to r->cms. */
static int parse_tsmeta(TsfReader *r, TsfCursor *c, uint64_t at, TsfSeriesMeta *sm)
{
    uint8_t kind = tsf_cur_u8(c);
    const uint8_t *name;
    uint32_t name_len;
    tsf_cur_varstr(c, &name, &name_len);
    uint8_t type = tsf_cur_u8(c);
    uint32_t list_size = tsf_cur_uvarint(c);
    if (c->err || !tsf_type_is_valid(type) || (kind & 0x3f) > 1 || (kind & 0xc0) == 0xc0)
        return fail(r, TSF_ECORRUPT, at, "bad TimeseriesMetadata header");
    if (((kind & TSF_MASK_TIME_COLUMN) != 0) != (type == TSF_VECTOR))
        return fail(r, TSF_ECORRUPT, at, "time column flag and VECTOR type disagree");
    sm->name = (const char *)(name ? name : (const uint8_t *)"");
    sm->name_len = name_len;
    sm->type = (TsfType)type;
    sm->mask = kind & 0xc0;
    if (tsf_stats_read(c, sm->type, &sm->stats)) return fail(r, TSF_ECORRUPT, at, "bad series statistics");
    const uint8_t *list = tsf_cur_take(c, list_size);
    if (!list) return fail(r, TSF_ECORRUPT, at, "chunk metadata list beyond its range");
    TsfCursor lc = tsf_cursor(list, list_size);
    sm->nchunks = 0;
    bool multi = (kind & 0x3f) != 0;
    while (tsf_cur_left(&lc) > 0) {
        if (sm->nchunks == r->cms_cap) {
            size_t cap = r->cms_cap ? r->cms_cap * 2 : 16;
            TsfChunkMeta *m = realloc(r->cms, cap * sizeof(*m));
            if (!m) return fail(r, -ENOMEM, at, "out of memory");
            r->cms = m;
            r->cms_cap = cap;
        }
        TsfChunkMeta *m = &r->cms[sm->nchunks];
        m->offset = (uint64_t)tsf_cur_i64(&lc);
        if (multi) {
            if (tsf_stats_read(&lc, sm->type, &m->stats)) break;
        } else {
            m->stats = sm->stats;
        }
        if (lc.err || m->offset < TSF_HEAD_LEN || m->offset >= r->meta_offset) {
            lc.err = TSF_ECORRUPT;
            break;
        }
        sm->nchunks++;
        if (!multi) break;
    }
    if (lc.err || tsf_cur_left(&lc) != 0 || sm->nchunks == 0)
        return fail(r, TSF_ECORRUPT, at, "bad chunk metadata list");
    sm->chunks = r->cms;
    return 0;
}

/* ---- full walk --------------------------------------------------------------- */

typedef struct Walk {
    TsfReader *r;
    TsfSeriesFn fn;
    void *ctx;
} Walk;

static int walk_measurements(Walk *wk, uint64_t off, uint64_t end, int depth)
{
    TsfReader *r = wk->r;
    if (depth > MAX_DEPTH) return fail(r, TSF_ECORRUPT, off, "index tree too deep");
    const uint8_t *p = index_bytes(r, off, end - off, NULL);
    if (!p) return r->err.code;
    TsfCursor c = tsf_cursor(p, end - off);
    Node nd = {0};
    int rc = parse_node(r, &c, false, off, &nd);
    for (uint32_t i = 0; i < nd.n && rc == 0; i++) {
        uint64_t from = nd.child[i], to = i + 1 < nd.n ? nd.child[i + 1] : nd.end;
        if (nd.type == TSF_NODE_INTERNAL_MEASUREMENT) {
            rc = walk_measurements(wk, from, to, depth + 1);
            continue;
        }
        const uint8_t *q = index_bytes(r, from, to - from, NULL);
        if (!q) {
            rc = r->err.code;
            break;
        }
        TsfCursor tc = tsf_cursor(q, to - from);
        while (rc == 0 && tsf_cur_left(&tc) > 0) {
            TsfSeriesMeta sm = {0};
            sm.device = (const char *)r->devbuf.data;
            sm.device_len = r->devbuf.len;
            uint64_t at = from + (uint64_t)(tc.p - q);
            rc = parse_tsmeta(r, &tc, at, &sm);
            if (rc == 0) rc = wk->fn(wk->ctx, &sm);
        }
    }
    node_clear(&nd);
    return rc;
}

static int walk_devices(Walk *wk, uint64_t off, uint64_t end, int depth)
{
    TsfReader *r = wk->r;
    if (depth > MAX_DEPTH) return fail(r, TSF_ECORRUPT, off, "index tree too deep");
    const uint8_t *p = index_bytes(r, off, end - off, NULL);
    if (!p) return r->err.code;
    TsfCursor c = tsf_cursor(p, end - off);
    Node nd = {0};
    int rc = parse_node(r, &c, true, off, &nd);
    for (uint32_t i = 0; i < nd.n && rc == 0; i++) {
        uint64_t from = nd.child[i], to = i + 1 < nd.n ? nd.child[i + 1] : nd.end;
        if (nd.type == TSF_NODE_INTERNAL_DEVICE) {
            rc = walk_devices(wk, from, to, depth + 1);
        } else {
            tsf_buf_reset(&r->devbuf);
            tsf_buf_put(&r->devbuf, nd.keys.data + nd.key_off[i], nd.key_len[i]);
            tsf_buf_put_u8(&r->devbuf, 0);
            r->devbuf.len--; /* keep a NUL after the path */
            rc = walk_measurements(wk, from, to, depth + 1);
        }
    }
    node_clear(&nd);
    return rc;
}

int tsf_reader_foreach_series(TsfReader *r, TsfSeriesFn fn, void *ctx)
{
    if (!r->index && r->fm_pos > r->meta_offset) {
        uint8_t *idx = malloc(r->fm_pos - r->meta_offset);
        if (!idx) return fail(r, -ENOMEM, r->meta_offset, "out of memory");
        if (read_at(r, r->meta_offset, r->fm_pos - r->meta_offset, idx)) {
            free(idx);
            return r->err.code;
        }
        r->index = idx;
    }
    Walk wk = {r, fn, ctx};
    for (size_t t = 0; t < r->nroots; t++) {
        /* A root lives inside TsFileMetadata; its extent is found by parsing. */
        int rc = walk_devices(&wk, r->roots[t].offset, r->fm_pos + r->fm_size, 0);
        if (rc) return rc;
    }
    return 0;
}

/* ---- lookup ------------------------------------------------------------------- */

/* Index of the child whose key is the largest <= key (0 when all are larger). */
static uint32_t floor_child(TsfReader *r, const Node *nd, bool device_level, const char *key, size_t len)
{
    uint32_t lo = 0, hi = nd->n; /* answer in [lo, hi) */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        const char *k = (const char *)nd->keys.data + nd->key_off[mid];
        int c = device_level ? tsf_compare_device(r->version, k, nd->key_len[mid], key, len)
                             : tsf_compare_java(k, nd->key_len[mid], key, len);
        if (c <= 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int tsf_reader_find_series(TsfReader *r, const char *device, const char *measurement, TsfSeriesMeta *out)
{
    memset(out, 0, sizeof(*out));
    size_t dlen = strlen(device), mlen = strlen(measurement);
    if (r->bloom.size > 0 && !tsf_bloom_may_contain_series(&r->bloom, device, dlen, measurement, mlen))
        return TSF_ENOTFOUND;
    const TableRoot *root = NULL;
    if (r->version == 3) {
        root = &r->roots[0];
    } else {
        size_t tl = tsf_device_table_len(device, dlen);
        for (size_t t = 0; t < r->nroots && !root; t++)
            if (strlen(r->roots[t].name) == tl && memcmp(r->roots[t].name, device, tl) == 0)
                root = &r->roots[t];
        for (size_t t = 0; t < r->nroots && !root; t++)
            if (r->roots[t].name[0] == 0) root = &r->roots[t];
        if (!root) return TSF_ENOTFOUND;
    }
    TsfBuf buf = TSF_BUF_INIT;
    Node nd = {0};
    int rc = 0;
    uint64_t off = root->offset, end = r->fm_pos + r->fm_size;
    bool device_level = true;
    for (int depth = 0; rc == 0; depth++) {
        if (depth > 2 * MAX_DEPTH) {
            rc = fail(r, TSF_ECORRUPT, off, "index tree too deep");
            break;
        }
        const uint8_t *p = index_bytes(r, off, end - off, &buf);
        if (!p) {
            rc = r->err.code;
            break;
        }
        TsfCursor c = tsf_cursor(p, end - off);
        if ((rc = parse_node(r, &c, device_level, off, &nd))) break;
        if (nd.n == 0) {
            rc = TSF_ENOTFOUND;
            break;
        }
        uint32_t i = device_level ? floor_child(r, &nd, true, device, dlen)
                                  : floor_child(r, &nd, false, measurement, mlen);
        uint64_t from = nd.child[i], to = i + 1 < nd.n ? nd.child[i + 1] : nd.end;
        if (nd.type == TSF_NODE_LEAF_DEVICE) {
            const char *k = (const char *)nd.keys.data + nd.key_off[i];
            if (nd.key_len[i] != dlen || memcmp(k, device, dlen) != 0) {
                rc = TSF_ENOTFOUND;
                break;
            }
            device_level = false;
        } else if (nd.type == TSF_NODE_LEAF_MEASUREMENT) {
            const uint8_t *q = index_bytes(r, from, to - from, &buf);
            if (!q) {
                rc = r->err.code;
                break;
            }
            TsfCursor tc = tsf_cursor(q, to - from);
            rc = TSF_ENOTFOUND;
            while (tsf_cur_left(&tc) > 0) {
                TsfSeriesMeta sm = {0};
                int prc = parse_tsmeta(r, &tc, from + (uint64_t)(tc.p - q), &sm);
                if (prc) {
                    rc = prc;
                    break;
                }
                if (sm.name_len == mlen && memcmp(sm.name, measurement, mlen) == 0) {
                    sm.device = device;
                    sm.device_len = dlen;
                    rc = tsf_series_meta_copy(out, &sm);
                    break;
                }
            }
            break;
        }
        off = from;
        end = to;
    }
    node_clear(&nd);
    tsf_buf_free(&buf);
    return rc;
}

/* ---- owned copies of series metadata --------------------------------------- */

int tsf_series_meta_copy(TsfSeriesMeta *dst, const TsfSeriesMeta *src)
{
    memset(dst, 0, sizeof(*dst));
    *dst = *src;
    dst->own = (TsfBuf)TSF_BUF_INIT;
    dst->chunks = malloc((src->nchunks ? src->nchunks : 1) * sizeof(TsfChunkMeta));
    if (!dst->chunks) return -ENOMEM;
    memcpy(dst->chunks, src->chunks, src->nchunks * sizeof(TsfChunkMeta));
    /* Own the strings and every binary statistic: copy them into one buffer
     * and rebase pointers (the buffer is sized first so it never moves). */
    size_t need = src->device_len + 1 + src->name_len + 1;
    size_t nstats = 1 + src->nchunks;
    for (size_t i = 0; i < nstats; i++) {
        const TsfStats *st = i == 0 ? &src->stats : &src->chunks[i - 1].stats;
        if (tsf_type_phys(st->type) == TSF_PHYS_BIN)
            need += st->v.bin.first.len + st->v.bin.last.len + st->v.bin.min.len + st->v.bin.max.len;
    }
    if (!tsf_buf_reserve(&dst->own, need)) {
        free(dst->chunks);
        dst->chunks = NULL;
        return -ENOMEM;
    }
    TsfBuf *b = &dst->own;
    dst->device = (const char *)b->data + b->len;
    tsf_buf_put(b, src->device, src->device_len);
    tsf_buf_put_u8(b, 0);
    dst->name = (const char *)b->data + b->len;
    tsf_buf_put(b, src->name, src->name_len);
    tsf_buf_put_u8(b, 0);
    for (size_t i = 0; i < nstats; i++) {
        TsfStats *st = i == 0 ? &dst->stats : &dst->chunks[i - 1].stats;
        st->owned = false;
        st->store = (TsfBuf)TSF_BUF_INIT;
        if (tsf_type_phys(st->type) != TSF_PHYS_BIN) continue;
        TsfBin *f[4] = {&st->v.bin.first, &st->v.bin.last, &st->v.bin.min, &st->v.bin.max};
        for (int k = 0; k < 4; k++) {
            const uint8_t *p = b->data + b->len;
            tsf_buf_put(b, f[k]->ptr, f[k]->len);
            f[k]->ptr = p;
        }
    }
    return 0;
}

void tsf_series_meta_free(TsfSeriesMeta *sm)
{
    free(sm->chunks);
    tsf_buf_free(&sm->own);
    memset(sm, 0, sizeof(*sm));
}

/* ---- chunks --------------------------------------------------------------------- */

static int chunk_open(TsfReader *r, uint64_t offset, TsfChunk *c)
{
    memset(c, 0, sizeof(*c));
    c->r = r;
    c->offset = offset;
    uint64_t limit = r->meta_offset ? r->meta_offset : r->size;
    if (offset < TSF_HEAD_LEN || offset >= limit)
        return fail(r, TSF_ECORRUPT, offset, "chunk offset outside the data section");
    /* Headers are short unless the name is long: read 256 bytes, then the
     * exact length if the name needs more. */
    size_t want = limit - offset < 256 ? (size_t)(limit - offset) : 256;
    for (int attempt = 0; attempt < 2; attempt++) {
        tsf_buf_reset(&c->hdr);
        if (!tsf_buf_reserve(&c->hdr, want)) return fail(r, -ENOMEM, offset, "out of memory");
        if (read_at(r, offset, want, c->hdr.data)) return r->err.code;
        c->hdr.len = want;
        TsfCursor cur = tsf_cursor(c->hdr.data, want);
        int rc = tsf_chunk_header_read(&cur, &c->h);
        if (rc == 0) break;
        if (cur.err && attempt == 0 && want < limit - offset) {
            /* name longer than the first read: 1 marker + 5 length + name + 5 + 3 */
            TsfCursor lc = tsf_cursor(c->hdr.data + 1, want - 1);
            int32_t nl = tsf_cur_varint(&lc);
            if (lc.err || nl < 0 || (uint64_t)nl + 14 > limit - offset)
                return fail(r, TSF_ECORRUPT, offset, "bad chunk header");
            want = (size_t)nl + 14 < limit - offset ? (size_t)nl + 14 : (size_t)(limit - offset);
            continue;
        }
        return tsf_err_set(&r->err, rc == TSF_EUNSUPPORTED ? rc : TSF_ECORRUPT, (int64_t)offset,
                           rc == TSF_EUNSUPPORTED ? "chunk uses an unsupported encoding or codec"
                                                  : "bad chunk header (marker 0x%02x)",
                           c->hdr.data[0]);
    }
    uint64_t data_at = offset + c->h.header_len;
    if (c->h.data_size > limit - data_at)
        return fail(r, TSF_ECORRUPT, offset, "chunk data runs past the data section");
    c->data = malloc(c->h.data_size ? c->h.data_size : 1);
    if (!c->data) return fail(r, -ENOMEM, offset, "out of memory");
    if (read_at(r, data_at, c->h.data_size, c->data)) {
        tsf_chunk_close(c);
        return r->err.code;
    }
    c->pages_have_stats = tsf_chunk_pages_have_stats(c->h.marker);
    return 0;
}

/* On failure nothing stays allocated: callers do not close a chunk that
 * did not open. */
int tsf_chunk_open(TsfReader *r, uint64_t offset, TsfChunk *c)
{
    int rc = chunk_open(r, offset, c);
    if (rc) tsf_chunk_close(c);
    return rc;
}

void tsf_chunk_set_pages_have_stats(TsfChunk *c, bool yes)
{
    c->pages_have_stats = yes;
}

int tsf_chunk_next_page(TsfChunk *c, TsfPage *p)
{
    if (c->pos >= c->h.data_size) return 0;
    TsfCursor cur = tsf_cursor(c->data + c->pos, c->h.data_size - c->pos);
    uint64_t at = c->offset + c->h.header_len + c->pos;
    memset(p, 0, sizeof(*p));
    p->offset = at;
    TsfType st_type = c->h.type;
    if (tsf_page_header_read(&cur, st_type, c->pages_have_stats, &p->h) || cur.err)
        return fail(c->r, TSF_ECORRUPT, at, "bad page header");
    if (p->h.uncompressed == 0 && !(c->h.marker & TSF_MASK_VALUE_COLUMN))
        return fail(c->r, TSF_ECORRUPT, at, "empty page outside an aligned value chunk");
    p->body = tsf_cur_take(&cur, p->h.compressed);
    if (!p->body && p->h.compressed) return fail(c->r, TSF_ECORRUPT, at, "page body runs past its chunk");
    if (c->h.compression == TSF_COMP_UNCOMPRESSED && p->h.compressed != p->h.uncompressed)
        return fail(c->r, TSF_ECORRUPT, at, "uncompressed page with two different sizes");
    c->pos = (size_t)(cur.p - c->data);
    c->page_no++;
    return 1;
}

void tsf_chunk_close(TsfChunk *c)
{
    free(c->data);
    tsf_buf_free(&c->hdr);
    memset(c, 0, sizeof(*c));
}

/* ---- page decoding --------------------------------------------------------------- */

void tsf_column_free(TsfColumn *col)
{
    free(col->times);
    free(col->values);
    free(col->bitmap);
    tsf_buf_free(&col->raw);
    memset(col, 0, sizeof(*col));
}

/* Room for n times and n values of `type`: a column reused for a wider
 * type grows its values even when n fits its times. */
static int column_reserve(TsfColumn *col, size_t n, TsfType type)
{
    size_t es = tsf_type_elem_size(type);
    if (n <= col->cap && col->times && col->values && n * es <= col->value_bytes) return 0;
    size_t cap = col->cap ? col->cap : 64;
    while (cap < n) cap *= 2;
    if (cap > col->cap || !col->times) {
        int64_t *t = realloc(col->times, cap * sizeof(int64_t));
        if (!t) return -ENOMEM;
        col->times = t;
        col->cap = cap;
    }
    if (col->cap * es > col->value_bytes || !col->values) {
        void *v = realloc(col->values, col->cap * es);
        if (!v) return -ENOMEM;
        col->values = v;
        col->value_bytes = col->cap * es;
    }
    return 0;
}

/* The decompressed body of a page: the body itself when uncompressed. */
static const uint8_t *page_raw(TsfChunk *c, const TsfPage *p, TsfColumn *col)
{
    if (c->h.compression == TSF_COMP_UNCOMPRESSED) return p->body;
    /* a page claiming more than 256 MiB is corrupt, not big (writers seal
     * pages at tens of KiB) */
    if (p->h.uncompressed > (1u << 28)) {
        fail(c->r, TSF_ECORRUPT, p->offset, "page size out of range");
        return NULL;
    }
    tsf_buf_reset(&col->raw);
    if (!tsf_buf_reserve(&col->raw, p->h.uncompressed + 1)) {
        fail(c->r, -ENOMEM, p->offset, "out of memory");
        return NULL;
    }
    int rc = tsf_uncompress(c->h.compression, p->body, p->h.compressed, col->raw.data, p->h.uncompressed);
    if (rc) {
        tsf_err_set(&c->r->err, rc, (int64_t)p->offset, "cannot decompress %s page",
                    tsf_compression_name(c->h.compression));
        return NULL;
    }
    col->raw.len = p->h.uncompressed;
    return col->raw.data;
}

/* Decodes a time stream of unknown length into col->times. */
static int decode_times(TsfChunk *c, const TsfPage *p, TsfEncoding enc, const uint8_t *tp, size_t tlen,
                        TsfColumn *col, TsfType value_type)
{
    int64_t count = tsf_count_values(enc, TSF_INT64, tp, tlen);
    if (count < 0)
        return tsf_err_set(&c->r->err, count == TSF_EUNSUPPORTED ? TSF_EUNSUPPORTED : TSF_ECORRUPT,
                           (int64_t)p->offset, "bad %s time stream", tsf_encoding_name(enc));
    if (count > (int64_t)1 << 24)
        return fail(c->r, TSF_ECORRUPT, p->offset, "implausible point count in page");
    if (column_reserve(col, (size_t)count, value_type))
        return fail(c->r, -ENOMEM, p->offset, "out of memory");
    if (tsf_decode(enc, TSF_INT64, tp, tlen, (size_t)count, col->times))
        return fail(c->r, TSF_ECORRUPT, p->offset, "bad time stream");
    col->n = (size_t)count;
    return 0;
}

static int decode_values(TsfChunk *c, const TsfPage *p, const uint8_t *vp, size_t vlen, size_t n,
                         TsfColumn *col)
{
    int rc = tsf_decode(c->h.encoding, c->h.type, vp, vlen, n, col->values);
    if (rc)
        return tsf_err_set(&c->r->err, rc == TSF_EUNSUPPORTED ? rc : TSF_ECORRUPT, (int64_t)p->offset,
                           "cannot decode %s %s values", tsf_type_name(c->h.type),
                           tsf_encoding_name(c->h.encoding));
    return 0;
}

int tsf_page_decode(TsfChunk *c, const TsfPage *p, TsfColumn *col)
{
    col->n = col->rows = 0;
    const uint8_t *raw = page_raw(c, p, col);
    if (!raw) return c->r->err.code;
    TsfCursor cur = tsf_cursor(raw, p->h.uncompressed);
    uint32_t tlen = tsf_cur_uvarint(&cur);
    const uint8_t *tp = tsf_cur_take(&cur, tlen);
    if (!tp) return fail(c->r, TSF_ECORRUPT, p->offset, "time stream longer than its page");
    int rc = decode_times(c, p, TSF_ENC_TS_2DIFF, tp, tlen, col, c->h.type);
    if (rc == 0) rc = decode_values(c, p, cur.p, tsf_cur_left(&cur), col->n, col);
    return rc;
}

int tsf_time_page_decode(TsfChunk *c, const TsfPage *p, TsfColumn *col)
{
    col->n = col->rows = 0;
    const uint8_t *raw = page_raw(c, p, col);
    if (!raw) return c->r->err.code;
    /* The header's encoding is honoured (the reference assumes TS_2DIFF). */
    return decode_times(c, p, c->h.encoding, raw, p->h.uncompressed, col, TSF_INT64);
}

int tsf_value_page_decode(TsfChunk *c, const TsfPage *p, const int64_t *row_times, size_t rows,
                          TsfColumn *col)
{
    col->n = 0;
    col->rows = rows;
    if (p->h.uncompressed == 0) return 0; /* all rows null */
    const uint8_t *raw = page_raw(c, p, col);
    if (!raw) return c->r->err.code;
    TsfCursor cur = tsf_cursor(raw, p->h.uncompressed);
    int32_t nrows = tsf_cur_i32(&cur);
    if (cur.err || nrows < 0 || (size_t)nrows != rows)
        return fail(c->r, TSF_ECORRUPT, p->offset, "value page row count differs from its time page");
    size_t bm_len = (rows + 7) / 8;
    const uint8_t *bm = tsf_cur_take(&cur, bm_len);
    if (!bm) return fail(c->r, TSF_ECORRUPT, p->offset, "value page bitmap truncated");
    if (bm_len > col->bitmap_cap) {
        uint8_t *nb = realloc(col->bitmap, bm_len);
        if (!nb) return fail(c->r, -ENOMEM, p->offset, "out of memory");
        col->bitmap = nb;
        col->bitmap_cap = bm_len;
    }
    memcpy(col->bitmap, bm, bm_len);
    size_t present = 0;
    for (size_t i = 0; i < bm_len; i++) present += (size_t)__builtin_popcount(bm[i]);
    if (rows % 8) present -= (size_t)__builtin_popcount(bm[bm_len - 1] & (0xffu >> (rows % 8)));
    if (column_reserve(col, present, c->h.type)) return fail(c->r, -ENOMEM, p->offset, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < rows; i++)
        if (bm[i >> 3] & (0x80u >> (i & 7))) col->times[k++] = row_times[i];
    col->n = present;
    return decode_values(c, p, cur.p, tsf_cur_left(&cur), present, col);
}
