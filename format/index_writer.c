/*
 * index_writer.c: the index area written when a TsFile is closed (spec §4).
 *
 *   0x02 separator                                  <- metaOffset
 *   per device (device order), per series (name order):
 *       TimeseriesMetadata; after the device's last one, its non-root
 *       measurement index nodes
 *   per device: its measurement root node (entries of the device level
 *       point here), plus non-root device nodes when there are > N devices
 *   TsFileMetadata: device root node(s), metaOffset, bloom filter [, v4 maps]
 *   i32 size of TsFileMetadata, "TsFile"
 *
 * Leaf measurement nodes hold one entry per N series (N = max_degree), and
 * every node holds at most N entries, built level by level exactly in the
 * reference's order (spec §4.3.3) so offsets and bytes match.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bloom.h"
#include "metadata.h"
#include "writer_int.h"

typedef struct IdxEntry {
    const char *key; /* device path or measurement name */
    size_t key_len;
    uint64_t offset;
} IdxEntry;

typedef struct IdxNode {
    uint8_t type;
    IdxEntry *e;
    size_t n, cap;
    uint64_t end;
} IdxNode;

typedef struct IdxLevel {
    IdxNode **nodes;
    size_t n, cap;
} IdxLevel;

static IdxNode *node_new(uint8_t type)
{
    IdxNode *nd = calloc(1, sizeof(*nd));
    if (nd) nd->type = type;
    return nd;
}

static void node_free(IdxNode *nd)
{
    if (!nd) return;
    free(nd->e);
    free(nd);
}

static int node_add(IdxNode *nd, const char *key, size_t len, uint64_t off)
{
    if (nd->n == nd->cap) {
        size_t cap = nd->cap ? nd->cap * 2 : 8;
        IdxEntry *e = realloc(nd->e, cap * sizeof(*e));
        if (!e) return -ENOMEM;
        nd->e = e;
        nd->cap = cap;
    }
    nd->e[nd->n++] = (IdxEntry){key, len, off};
    return 0;
}

static int level_push(IdxLevel *l, IdxNode *nd)
{
    if (!nd) return -ENOMEM;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        IdxNode **p = realloc(l->nodes, cap * sizeof(*p));
        if (!p) return -ENOMEM;
        l->nodes = p;
        l->cap = cap;
    }
    l->nodes[l->n++] = nd;
    return 0;
}

static void level_free(IdxLevel *l)
{
    for (size_t i = 0; i < l->n; i++) node_free(l->nodes[i]);
    free(l->nodes);
    l->nodes = NULL;
    l->n = l->cap = 0;
}

static bool is_device_node(uint8_t type)
{
    return type == TSF_NODE_INTERNAL_DEVICE || type == TSF_NODE_LEAF_DEVICE;
}

static void node_write(TsfWriter *w, const IdxNode *nd)
{
    TsfBuf *b = &w->out;
    tsf_buf_put_uvarint(b, (uint32_t)nd->n);
    for (size_t i = 0; i < nd->n; i++) {
        if (is_device_node(nd->type))
            tsf_device_id_write(b, w->o.version, nd->e[i].key, nd->e[i].key_len);
        else
            tsf_buf_put_varstr(b, nd->e[i].key, nd->e[i].key_len);
        tsf_buf_put_be64(b, nd->e[i].offset);
    }
    tsf_buf_put_be64(b, nd->end);
    tsf_buf_put_u8(b, nd->type);
}

/* Reduces a level of nodes to one root, writing every non-root node (spec
 * §4.3.3 step 4/6).  Consumes *lvl; returns the root (not written). */
static IdxNode *build_tree(TsfWriter *w, IdxLevel *lvl, uint8_t internal_type)
{
    size_t N = w->o.max_degree;
    while (lvl->n > 1) {
        IdxLevel next = {0};
        IdxNode *cur = node_new(internal_type);
        int rc = cur ? 0 : -ENOMEM;
        for (size_t i = 0; i < lvl->n && rc == 0; i++) {
            IdxNode *child = lvl->nodes[i];
            if (cur->n == N) {
                cur->end = tsf_w_pos(w);
                rc = level_push(&next, cur);
                cur = rc ? NULL : node_new(internal_type);
                if (!cur) {
                    rc = -ENOMEM;
                    break;
                }
            }
            rc = node_add(cur, child->e[0].key, child->e[0].key_len, tsf_w_pos(w));
            node_write(w, child);
        }
        if (rc == 0) {
            cur->end = tsf_w_pos(w);
            rc = level_push(&next, cur);
        } else {
            node_free(cur);
        }
        level_free(lvl);
        *lvl = next;
        if (rc) {
            level_free(lvl);
            return NULL;
        }
    }
    IdxNode *root = lvl->n ? lvl->nodes[0] : NULL;
    free(lvl->nodes);
    lvl->nodes = NULL;
    lvl->n = lvl->cap = 0;
    return root;
}

static void write_timeseries_metadata(TsfWriter *w, const WSeries *s)
{
    TsfBuf *b = &w->out;
    bool multi = s->nchunks > 1;
    tsf_buf_put_u8(b, (uint8_t)(s->mask | (multi ? 1 : 0)));
    tsf_buf_put_varstr(b, s->name, s->name_len);
    tsf_buf_put_u8(b, (uint8_t)s->type);
    size_t list = 0;
    for (size_t i = 0; i < s->nchunks; i++) list += 8 + (multi ? tsf_stats_size(&s->chunks[i].stats) : 0);
    tsf_buf_put_uvarint(b, (uint32_t)list);
    tsf_stats_write(&s->stats, b);
    for (size_t i = 0; i < s->nchunks; i++) {
        tsf_buf_put_be64(b, s->chunks[i].offset);
        if (multi) tsf_stats_write(&s->chunks[i].stats, b);
    }
}

static int cmp_series(const void *a, const void *b)
{
    const WSeries *x = *(const WSeries *const *)a, *y = *(const WSeries *const *)b;
    return tsf_compare_java(x->name, x->name_len, y->name, y->name_len);
}

static int g_version; /* qsort has no context argument; set before sorting */
static int cmp_device(const void *a, const void *b)
{
    const WDevice *x = *(const WDevice *const *)a, *y = *(const WDevice *const *)b;
    return tsf_compare_device(g_version, x->path, x->path_len, y->path, y->path_len);
}

/* Writes one device's TimeseriesMetadata and non-root measurement nodes;
 * returns its measurement root (not yet written). */
static IdxNode *write_device_series(TsfWriter *w, WDevice *d, TsfBloom *bloom)
{
    size_t N = w->o.max_degree;
    WSeries **ss = (WSeries **)d->series->pdata;
    size_t ns = d->series->len;
    qsort(ss, ns, sizeof(*ss), cmp_series);
    IdxLevel q = {0};
    IdxNode *leaf = node_new(TSF_NODE_LEAF_MEASUREMENT);
    int rc = leaf ? 0 : -ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < ns && rc == 0; i++) {
        WSeries *s = ss[i];
        if (s->nchunks == 0) continue; /* registered but never written */
        if (k % N == 0) {
            if (leaf->n == N) {
                leaf->end = tsf_w_pos(w);
                rc = level_push(&q, leaf);
                leaf = rc ? NULL : node_new(TSF_NODE_LEAF_MEASUREMENT);
                if (!leaf) {
                    rc = -ENOMEM;
                    break;
                }
            }
            rc = node_add(leaf, s->name, s->name_len, tsf_w_pos(w));
        }
        write_timeseries_metadata(w, s);
        tsf_bloom_add_series(bloom, d->path, d->path_len, s->name, s->name_len);
        k++;
    }
    if (rc == 0) {
        leaf->end = tsf_w_pos(w);
        rc = level_push(&q, leaf);
    } else {
        node_free(leaf);
    }
    if (rc) {
        level_free(&q);
        return NULL;
    }
    return build_tree(w, &q, TSF_NODE_INTERNAL_MEASUREMENT);
}

static bool device_has_data(const WDevice *d)
{
    for (guint i = 0; i < d->series->len; i++)
        if (((WSeries *)d->series->pdata[i])->nchunks) return true;
    return false;
}

/* Writes the device roots of devs[0..n) as one device tree; returns its root. */
static IdxNode *write_device_tree(TsfWriter *w, WDevice **devs, IdxNode **roots, size_t n)
{
    size_t N = w->o.max_degree;
    IdxLevel q = {0};
    IdxNode *leaf = node_new(TSF_NODE_LEAF_DEVICE);
    int rc = leaf ? 0 : -ENOMEM;
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (leaf->n == N) {
            leaf->end = tsf_w_pos(w);
            rc = level_push(&q, leaf);
            leaf = rc ? NULL : node_new(TSF_NODE_LEAF_DEVICE);
            if (!leaf) {
                rc = -ENOMEM;
                break;
            }
        }
        rc = node_add(leaf, devs[i]->path, devs[i]->path_len, tsf_w_pos(w));
        node_write(w, roots[i]);
    }
    if (rc == 0) {
        leaf->end = tsf_w_pos(w);
        rc = level_push(&q, leaf);
    } else {
        node_free(leaf);
    }
    if (rc) {
        level_free(&q);
        return NULL;
    }
    IdxNode *root = build_tree(w, &q, TSF_NODE_INTERNAL_DEVICE);
    if (root) root->end = tsf_w_pos(w);
    return root;
}

int tsf_w_write_index(TsfWriter *w)
{
    int rc = 0;
    uint64_t meta_offset = tsf_w_pos(w);
    tsf_buf_put_u8(&w->out, TSF_MARK_SEPARATOR);

    size_t nd = 0;
    WDevice **devs = calloc(w->device_list->len + 1, sizeof(*devs));
    IdxNode **roots = calloc(w->device_list->len + 1, sizeof(*roots));
    TsfBloom bloom = {0};
    if (!devs || !roots || tsf_bloom_init(&bloom, w->total_chunks, 0.05) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    for (guint i = 0; i < w->device_list->len; i++) {
        WDevice *d = w->device_list->pdata[i];
        if (device_has_data(d)) devs[nd++] = d;
    }
    g_version = w->o.version;
    qsort(devs, nd, sizeof(*devs), cmp_device);
    for (size_t i = 0; i < nd && rc == 0; i++) {
        roots[i] = write_device_series(w, devs[i], &bloom);
        if (!roots[i]) rc = -ENOMEM;
    }
    if (rc) goto out;

    if (w->o.version < 4) {
        IdxNode *root = nd ? write_device_tree(w, devs, roots, nd) : node_new(TSF_NODE_LEAF_DEVICE);
        if (!root) {
            rc = -ENOMEM;
            goto out;
        }
        if (nd == 0) root->end = tsf_w_pos(w);
        uint64_t fm_pos = tsf_w_pos(w);
        node_write(w, root);
        node_free(root);
        tsf_buf_put_be64(&w->out, meta_offset);
        tsf_bloom_write(&bloom, 3, &w->out);
        tsf_buf_put_be32(&w->out, (uint32_t)(tsf_w_pos(w) - fm_pos));
    } else {
        /* One device tree per table (first segment), tables in name order;
         * devices are sorted by segments, so each table is a contiguous run. */
        size_t ntables = 0;
        size_t *starts = calloc(nd + 1, sizeof(size_t));
        IdxNode **troots = calloc(nd + 1, sizeof(*troots));
        if (!starts || !troots) rc = -ENOMEM;
        for (size_t i = 0; i < nd && rc == 0; i++) {
            size_t tl = tsf_device_table_len(devs[i]->path, devs[i]->path_len);
            if (i == 0 || tl != tsf_device_table_len(devs[i - 1]->path, devs[i - 1]->path_len) ||
                memcmp(devs[i]->path, devs[i - 1]->path, tl) != 0)
                starts[ntables++] = i;
        }
        starts[ntables] = nd;
        for (size_t t = 0; t < ntables && rc == 0; t++) {
            troots[t] = write_device_tree(w, devs + starts[t], roots + starts[t], starts[t + 1] - starts[t]);
            if (!troots[t]) rc = -ENOMEM;
        }
        uint64_t fm_pos = tsf_w_pos(w);
        if (rc == 0) {
            tsf_buf_put_uvarint(&w->out, (uint32_t)ntables);
            for (size_t t = 0; t < ntables; t++) {
                WDevice *d0 = devs[starts[t]];
                tsf_buf_put_varstr(&w->out, d0->path, tsf_device_table_len(d0->path, d0->path_len));
                node_write(w, troots[t]);
            }
            tsf_buf_put_uvarint(&w->out, 0); /* no table schemas for tree-model data */
            tsf_buf_put_be64(&w->out, meta_offset);
            tsf_bloom_write(&bloom, 4, &w->out);
            /* properties of an unencrypted file; the count is a zig-zag varint
             * like the reference writes it (spec §4.6.3) */
            tsf_buf_put_varint(&w->out, 3);
            tsf_buf_put_varstr(&w->out, "encryptLevel", 12);
            tsf_buf_put_varstr(&w->out, "0", 1);
            tsf_buf_put_varstr(&w->out, "encryptKey", 10);
            tsf_buf_put_varstr(&w->out, "", 0);
            tsf_buf_put_varstr(&w->out, "encryptType", 11);
            tsf_buf_put_varstr(&w->out, "UNENCRYPTED", 11);
            tsf_buf_put_be32(&w->out, (uint32_t)(tsf_w_pos(w) - fm_pos));
        }
        for (size_t t = 0; t < ntables && troots; t++) node_free(troots[t]);
        free(starts);
        free(troots);
        if (rc) goto out;
    }
    tsf_buf_put(&w->out, TSF_MAGIC, TSF_MAGIC_LEN);
    if (w->out.err) rc = w->out.err;
out:
    if (roots)
        for (size_t i = 0; i < nd; i++) node_free(roots[i]);
    free(roots);
    free(devs);
    tsf_bloom_free(&bloom);
    if (rc) return tsf_w_fail(w, rc, "cannot write the index: %s", tsf_strerror(rc));
    return 0;
}
