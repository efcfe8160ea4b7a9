/*
 * resource.c: the `.tsfile.resource` companion file (layout in resource.h,
 * spec §9.4), in memory a sorted array of devices with their time ranges.
 *
 * In memory: devices sorted by name (strcmp), so lookups are a binary
 * search; a new device is inserted in place with memmove (files hold few
 * devices, and resource_update runs once per device per flush).
 *
 * On disk (big-endian), as IoTDB 0.13 ... 1.3 writes it:
 *
 *   offset  size        field
 *   0       1           version = 1
 *   1       1           time index type = 1 (device time index)
 *   2       4           D, device count
 *   6       16 x D      (i64 start, i64 end) of slot 0 .. D-1
 *   ...     D x         (I32Str device, i32 slot)
 *   ...     8           maxPlanIndex (INT64_MIN when unknown)
 *   ...     8           minPlanIndex (INT64_MAX when unknown)
 *   ...     4 (+n)      modFileName I32Str, ff ff ff ff = none
 *   ...     1           0 = empty block list
 *
 * We write slot i = the i-th device in name order.  Reading accepts any slot
 * permutation, the 0.12 file time index (type 0: one range for all its
 * devices), and files that stop after minPlanIndex (0.13/1.0 wrote the
 * remaining fields only sometimes); a progress-index block (later 1.x) is
 * not parsed, just ignored.  Every count and length is bounded by the bytes
 * left, so a corrupt file yields TSF_ECORRUPT, never a large allocation or
 * an out-of-bounds read.
 *
 * resource_read and resource_rebuild fill *r from scratch: r must be empty
 * (fresh, resource_init'ed or resource_free'd); on failure it is left empty.
 */
#include "resource.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bytes.h"
#include "reader.h"
#include "tsf_error.h"

#define RES_VERSION       1
#define RES_TYPE_FILE_012 0 /* 0.12 file time index, read only */
#define RES_TYPE_DEVICE   1 /* device time index */
#define RES_MAX_FILE      (1u << 30)

void resource_init(Resource *r)
{
    r->dev = NULL;
    r->n = r->cap = 0;
    r->min_plan = INT64_MAX;
    r->max_plan = INT64_MIN;
}

void resource_free(Resource *r)
{
    for (size_t i = 0; i < r->n; i++) free(r->dev[i].device);
    free(r->dev);
    resource_init(r);
}

/* Index of device, or the insertion point ~pos (negative) when absent. */
static ptrdiff_t dev_search(const Resource *r, const char *device, size_t len)
{
    size_t lo = 0, hi = r->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = r->dev[mid].device;
        int c = strncmp(name, device, len);
        if (c == 0) c = name[len] ? 1 : 0;
        if (c == 0) return (ptrdiff_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return ~(ptrdiff_t)lo;
}

/* Widens (or adds) the device given by len bytes at device. */
static int update_len(Resource *r, const char *device, size_t len, int64_t start, int64_t end)
{
    ptrdiff_t i = dev_search(r, device, len);
    if (i >= 0) {
        ResDevice *d = &r->dev[i];
        if (start < d->start) d->start = start;
        if (end > d->end) d->end = end;
        return 0;
    }
    size_t pos = (size_t)~i;
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        if (cap > SIZE_MAX / sizeof *r->dev) return -ENOMEM;
        ResDevice *nd = realloc(r->dev, cap * sizeof *nd);
        if (!nd) return -ENOMEM;
        r->dev = nd;
        r->cap = cap;
    }
    char *name = malloc(len + 1);
    if (!name) return -ENOMEM;
    memcpy(name, device, len);
    name[len] = '\0';
    memmove(&r->dev[pos + 1], &r->dev[pos], (r->n - pos) * sizeof *r->dev);
    r->dev[pos] = (ResDevice){name, start, end};
    r->n++;
    return 0;
}

int resource_update(Resource *r, const char *device, int64_t start, int64_t end)
{
    if (!device) return -EINVAL;
    return update_len(r, device, strlen(device), start, end);
}

const ResDevice *resource_find(const Resource *r, const char *device)
{
    if (!device) return NULL;
    ptrdiff_t i = dev_search(r, device, strlen(device));
    return i >= 0 ? &r->dev[i] : NULL;
}

int64_t resource_min_time(const Resource *r)
{
    int64_t t = INT64_MAX;
    for (size_t i = 0; i < r->n; i++)
        if (r->dev[i].start < t) t = r->dev[i].start;
    return t;
}

int64_t resource_max_time(const Resource *r)
{
    int64_t t = INT64_MIN;
    for (size_t i = 0; i < r->n; i++)
        if (r->dev[i].end > t) t = r->dev[i].end;
    return t;
}

/* ---- writing ---------------------------------------------------------------- */

static int serialize(const Resource *r, TsfBuf *b)
{
    if (r->n > INT32_MAX) return -EOVERFLOW;
    tsf_buf_put_u8(b, RES_VERSION);
    tsf_buf_put_u8(b, RES_TYPE_DEVICE);
    tsf_buf_put_be32(b, (uint32_t)r->n);
    for (size_t i = 0; i < r->n; i++) {
        tsf_buf_put_be64(b, (uint64_t)r->dev[i].start);
        tsf_buf_put_be64(b, (uint64_t)r->dev[i].end);
    }
    for (size_t i = 0; i < r->n; i++) {
        size_t len = strlen(r->dev[i].device);
        if (len > INT32_MAX) return -EOVERFLOW;
        tsf_buf_put_i32str(b, r->dev[i].device, len);
        tsf_buf_put_be32(b, (uint32_t)i);
    }
    tsf_buf_put_be64(b, (uint64_t)r->max_plan);
    tsf_buf_put_be64(b, (uint64_t)r->min_plan);
    tsf_buf_put_be32(b, 0xffffffffu); /* no mods file */
    tsf_buf_put_u8(b, 0);             /* EMPTY_BLOCK */
    return b->err;
}

int resource_serialize(const Resource *r, uint8_t **out, size_t *len)
{
    TsfBuf b = TSF_BUF_INIT;
    int rc = serialize(r, &b);
    if (rc == 0 && !b.data) rc = tsf_buf_grow(&b, 1); /* never empty, but keep *out a real block */
    if (rc) {
        tsf_buf_free(&b);
        return rc;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

int resource_write(const Resource *r, const char *tsfile_path)
{
    TsfBuf b = TSF_BUF_INIT;
    int rc = serialize(r, &b);
    if (rc == 0) {
        char *path = g_strconcat(tsfile_path, ".resource", NULL);
        rc = fileio_replace(path, b.data, b.len);
        g_free(path);
    }
    tsf_buf_free(&b);
    return rc;
}

/* ---- reading ---------------------------------------------------------------- */

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = 0;
    struct stat st;
    uint8_t *buf = NULL;
    size_t n = 0, size = 0;
    if (fstat(fd, &st) != 0)
        rc = -errno;
    else if (!S_ISREG(st.st_mode))
        rc = TSF_ECORRUPT;
    else if ((uint64_t)st.st_size > RES_MAX_FILE)
        rc = TSF_ECORRUPT;
    if (rc == 0) {
        size = (size_t)st.st_size;
        buf = malloc(size ? size : 1);
        if (!buf) rc = -ENOMEM;
    }
    while (rc == 0 && n < size) {
        ssize_t got = read(fd, buf + n, size - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0)
            rc = -errno;
        else if (got == 0)
            break; /* shrank: parse what is there */
        else
            n += (size_t)got;
    }
    close(fd);
    if (rc) {
        free(buf);
        return rc;
    }
    *out = buf;
    *len = n;
    return 0;
}

/* A device path from an I32Str: present, and no NUL inside (kept as a C string). */
static bool take_device(TsfCursor *c, const uint8_t **s, uint32_t *n)
{
    if (!tsf_cur_i32str(c, s, n)) {
        c->err = TSF_ECORRUPT; /* a null device name is corruption too */
        return false;
    }
    return memchr(*s, '\0', *n) == NULL;
}

/* Body of the device time index (fields 3-5). */
static int parse_device_index(TsfCursor *c, Resource *r)
{
    int32_t d = tsf_cur_i32(c);
    if (c->err) return TSF_ECORRUPT;
    /* Each device takes at least 16 + 4 + 4 bytes: bound D before allocating. */
    if (d < 0 || (size_t)d > tsf_cur_left(c) / 24) return TSF_ECORRUPT;
    size_t nd = (size_t)d;
    const uint8_t *times = tsf_cur_take(c, nd * 16);
    uint8_t *seen = calloc(nd ? nd : 1, 1);
    if (!seen) return -ENOMEM;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < nd; i++) {
        const uint8_t *s;
        uint32_t len;
        if (!take_device(c, &s, &len)) {
            rc = TSF_ECORRUPT;
            break;
        }
        int32_t slot = tsf_cur_i32(c);
        if (c->err || slot < 0 || (size_t)slot >= nd || seen[slot]) {
            rc = TSF_ECORRUPT;
            break;
        }
        seen[slot] = 1;
        size_t before = r->n;
        int64_t start = (int64_t)tsf_be_load64(times + (size_t)slot * 16);
        int64_t end = (int64_t)tsf_be_load64(times + (size_t)slot * 16 + 8);
        rc = update_len(r, (const char *)s, len, start, end);
        if (rc == 0 && r->n == before) rc = TSF_ECORRUPT; /* a device twice */
    }
    free(seen);
    return rc;
}

/* Body of the 0.12 file time index: i32 n, n x I32Str, i64 start, i64 end. */
static int parse_file_index(TsfCursor *c, Resource *r)
{
    int32_t d = tsf_cur_i32(c);
    if (c->err || d < 0 || (size_t)d > tsf_cur_left(c) / 4) return TSF_ECORRUPT;
    const uint8_t **names = calloc((size_t)d + 1, sizeof *names);
    uint32_t *lens = calloc((size_t)d + 1, sizeof *lens);
    int rc = names && lens ? 0 : -ENOMEM;
    for (int32_t i = 0; rc == 0 && i < d; i++)
        if (!take_device(c, &names[i], &lens[i])) rc = TSF_ECORRUPT;
    int64_t start = tsf_cur_i64(c);
    int64_t end = tsf_cur_i64(c);
    if (rc == 0 && c->err) rc = TSF_ECORRUPT;
    for (int32_t i = 0; rc == 0 && i < d; i++) {
        size_t before = r->n;
        rc = update_len(r, (const char *)names[i], lens[i], start, end);
        if (rc == 0 && r->n == before) rc = TSF_ECORRUPT;
    }
    free(names);
    free(lens);
    return rc;
}

static int parse(const uint8_t *p, size_t n, Resource *r)
{
    TsfCursor c = tsf_cursor(p, n);
    uint8_t version = tsf_cur_u8(&c);
    uint8_t type = tsf_cur_u8(&c);
    if (c.err || version != RES_VERSION) return TSF_ECORRUPT;
    int rc;
    if (type == RES_TYPE_DEVICE)
        rc = parse_device_index(&c, r);
    else if (type == RES_TYPE_FILE_012)
        rc = parse_file_index(&c, r);
    else
        return TSF_ECORRUPT;
    if (rc) return rc;
    r->max_plan = tsf_cur_i64(&c);
    r->min_plan = tsf_cur_i64(&c);
    if (c.err) return TSF_ECORRUPT;
    if (tsf_cur_left(&c) > 0) {
        const uint8_t *s;
        uint32_t len;
        tsf_cur_i32str(&c, &s, &len); /* mod file name; null is fine */
        if (c.err) return TSF_ECORRUPT;
    }
    /* Blocks (EMPTY_BLOCK or a progress index) carry nothing we use. */
    return 0;
}

int resource_parse(Resource *r, const uint8_t *p, size_t n)
{
    resource_init(r);
    int rc = parse(p, n, r);
    if (rc) resource_free(r);
    return rc;
}

int resource_read(Resource *r, const char *tsfile_path)
{
    resource_init(r);
    char *path = g_strconcat(tsfile_path, ".resource", NULL);
    uint8_t *buf = NULL;
    size_t n = 0;
    int rc = read_file(path, &buf, &n);
    g_free(path);
    if (rc == 0) rc = resource_parse(r, buf, n);
    free(buf);
    return rc;
}

/* ---- rebuilding from the TsFile --------------------------------------------- */

typedef struct RebuildCtx {
    Resource *r;
    const char *dev; /* current device (points into the reader's memory) */
    size_t dev_len;
    char *dev_copy; /* a stable copy of dev: the reader's bytes move */
    size_t dev_cap;
    bool have; /* start/end hold a range for the current device */
    int64_t start, end;
} RebuildCtx;

static int flush_device(RebuildCtx *x)
{
    if (!x->have) return 0;
    x->have = false;
    return update_len(x->r, x->dev_copy, x->dev_len, x->start, x->end);
}

static int rebuild_series(void *ctx, const TsfSeriesMeta *sm)
{
    RebuildCtx *x = ctx;
    if (memchr(sm->device, '\0', sm->device_len)) return TSF_ECORRUPT;
    if (!x->dev_copy || sm->device_len != x->dev_len || memcmp(sm->device, x->dev_copy, x->dev_len) != 0) {
        int rc = flush_device(x);
        if (rc) return rc;
        if (sm->device_len + 1 > x->dev_cap) {
            size_t cap = sm->device_len + 1 < 64 ? 64 : sm->device_len + 1;
            char *p = realloc(x->dev_copy, cap);
            if (!p) return -ENOMEM;
            x->dev_copy = p;
            x->dev_cap = cap;
        }
        memcpy(x->dev_copy, sm->device, sm->device_len);
        x->dev_copy[sm->device_len] = '\0';
        x->dev_len = sm->device_len;
    }
    if (sm->stats.count == 0) return 0; /* an all-null column says nothing */
    if (!x->have || sm->stats.start < x->start) x->start = sm->stats.start;
    if (!x->have || sm->stats.end > x->end) x->end = sm->stats.end;
    x->have = true;
    return 0;
}

int resource_from_index(Resource *r, TsfReader *rd)
{
    resource_init(r);
    RebuildCtx x = {.r = r};
    int rc = tsf_reader_foreach_series(rd, rebuild_series, &x);
    if (rc == 0) rc = flush_device(&x);
    free(x.dev_copy);
    if (rc) resource_free(r);
    return rc;
}

int resource_rebuild(Resource *r, const char *tsfile_path)
{
    resource_init(r);
    TsfReader *rd = NULL;
    int rc = tsf_reader_open(tsfile_path, &rd, NULL);
    if (rc) return rc;
    rc = resource_from_index(r, rd);
    tsf_reader_close(rd);
    return rc;
}

bool resource_covers(const Resource *r, const Resource *file, const char **device)
{
    for (size_t i = 0; i < file->n; i++) {
        const ResDevice *want = &file->dev[i];
        const ResDevice *have = resource_find(r, want->device);
        if (!have || have->start > want->start || have->end < want->end) {
            if (device) *device = want->device;
            return false;
        }
    }
    return true;
}
