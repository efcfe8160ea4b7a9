/*
 * metadata.c: reading and writing the small fixed records of a TsFile
 * (chunk and page headers, device ids) and the orders the index relies on.
 */
#include "metadata.h"

#include <string.h>

int tsf_chunk_header_read(TsfCursor *c, TsfChunkHeader *h)
{
    const uint8_t *start = c->p;
    memset(h, 0, sizeof(*h));
    h->marker = tsf_cur_u8(c);
    if (!c->err && !tsf_is_chunk_marker(h->marker)) return TSF_ECORRUPT;
    if (!tsf_cur_varstr(c, &h->name, &h->name_len) && !c->err) return TSF_ECORRUPT; /* null name */
    h->data_size = tsf_cur_uvarint(c);
    uint8_t type = tsf_cur_u8(c), comp = tsf_cur_u8(c), enc = tsf_cur_u8(c);
    if (c->err) return c->err;
    if (!tsf_type_is_valid(type)) return TSF_ECORRUPT;
    if (!tsf_compression_is_valid(comp) || !tsf_encoding_is_valid(enc)) return TSF_EUNSUPPORTED;
    if ((h->marker & TSF_MASK_TIME_COLUMN) != 0 && type != TSF_VECTOR) return TSF_ECORRUPT;
    h->type = (TsfType)type;
    h->compression = (TsfCompression)comp;
    h->encoding = (TsfEncoding)enc;
    h->header_len = (uint32_t)(c->p - start);
    return 0;
}

void tsf_chunk_header_write(TsfBuf *b, uint8_t marker, const char *name, size_t name_len, uint32_t data_size,
                            TsfType t, TsfCompression comp, TsfEncoding enc)
{
    tsf_buf_put_u8(b, marker);
    tsf_buf_put_varstr(b, name, name_len);
    tsf_buf_put_uvarint(b, data_size);
    tsf_buf_put_u8(b, (uint8_t)t);
    tsf_buf_put_u8(b, (uint8_t)comp);
    tsf_buf_put_u8(b, (uint8_t)enc);
}

int tsf_page_header_read(TsfCursor *c, TsfType type, bool with_stats, TsfPageHeader *h)
{
    h->uncompressed = tsf_cur_uvarint(c);
    h->compressed = 0;
    h->has_stats = false;
    if (h->uncompressed != 0) {
        h->compressed = tsf_cur_uvarint(c);
        if (with_stats) {
            int rc = tsf_stats_read(c, type, &h->stats);
            if (rc) return rc;
            h->has_stats = true;
        }
    }
    return c->err;
}

/* ---- device ids ---------------------------------------------------------- */

int tsf_device_id_read(TsfCursor *c, int version, TsfBuf *out)
{
    const uint8_t *s;
    uint32_t n;
    tsf_buf_reset(out);
    if (version < 4) {
        if (!tsf_cur_varstr(c, &s, &n)) return c->err ? c->err : TSF_ECORRUPT;
        if (n == 0) return TSF_ECORRUPT; /* v3 readers reject an empty device */
        tsf_buf_put(out, s, n);
        return out->err;
    }
    uint32_t segs = tsf_cur_uvarint(c);
    if (segs > tsf_cur_left(c)) return TSF_ECORRUPT; /* each segment takes a byte */
    for (uint32_t i = 0; i < segs; i++) {
        bool present = tsf_cur_varstr(c, &s, &n);
        if (c->err) return c->err;
        if (i) tsf_buf_put_u8(out, '.');
        if (present) tsf_buf_put(out, s, n);
    }
    return out->err;
}

/* Splits a tree path into v4 segments (spec §4.4.2): the first three nodes
 * form the table name, every later node is a segment of its own (paths of
 * two or three nodes: all but the last form the table name). */
static int split_segments(const char *path, size_t len, size_t *starts, size_t *ends, int max)
{
    size_t dots[64];
    int ndots = 0;
    for (size_t i = 0; i < len && ndots < 64; i++)
        if (path[i] == '.') dots[ndots++] = i;
    int nodes = ndots + 1;
    if (nodes == 1 || ndots == 64) {
        starts[0] = 0;
        ends[0] = len;
        return 1;
    }
    int table_nodes = nodes <= 3 ? nodes - 1 : 3;
    int nseg = 0;
    starts[nseg] = 0;
    ends[nseg++] = dots[table_nodes - 1];
    for (int k = table_nodes; k < nodes && nseg < max; k++) {
        starts[nseg] = dots[k - 1] + 1;
        ends[nseg++] = k < ndots ? dots[k] : len;
    }
    return nseg;
}

size_t tsf_device_table_len(const char *path, size_t len)
{
    size_t s[66], e[66];
    split_segments(path, len, s, e, 66);
    return e[0];
}

void tsf_device_id_write(TsfBuf *b, int version, const char *path, size_t len)
{
    if (version < 4) {
        tsf_buf_put_varstr(b, path, len);
        return;
    }
    size_t s[66], e[66];
    int n = split_segments(path, len, s, e, 66);
    tsf_buf_put_uvarint(b, (uint32_t)n);
    for (int i = 0; i < n; i++) tsf_buf_put_varstr(b, path + s[i], e[i] - s[i]);
}

/* ---- orders -------------------------------------------------------------- */

/* Next UTF-16 code unit of a UTF-8 string; *pending carries the low
 * surrogate of a supplementary character between calls.  Bytes that are not
 * valid UTF-8 are taken as single units (they never occur in valid names). */
static uint32_t next_utf16(const unsigned char **p, const unsigned char *end, uint32_t *pending)
{
    if (*pending) {
        uint32_t u = *pending;
        *pending = 0;
        return u;
    }
    const unsigned char *s = *p;
    uint32_t cp = s[0];
    int n = 1;
    if (cp >= 0xf0 && end - s >= 4) {
        cp = ((cp & 7) << 18) | ((s[1] & 0x3fu) << 12) | ((s[2] & 0x3fu) << 6) | (s[3] & 0x3fu);
        n = 4;
    } else if (cp >= 0xe0 && end - s >= 3) {
        cp = ((cp & 15) << 12) | ((s[1] & 0x3fu) << 6) | (s[2] & 0x3fu);
        n = 3;
    } else if (cp >= 0xc0 && end - s >= 2) {
        cp = ((cp & 31) << 6) | (s[1] & 0x3fu);
        n = 2;
    }
    *p = s + n;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        *pending = 0xdc00 + (cp & 0x3ff);
        return 0xd800 + (cp >> 10);
    }
    return cp;
}

int tsf_compare_java(const char *a, size_t alen, const char *b, size_t blen)
{
    const unsigned char *pa = (const unsigned char *)a, *ea = pa + alen;
    const unsigned char *pb = (const unsigned char *)b, *eb = pb + blen;
    uint32_t qa = 0, qb = 0;
    /* Fast path: common ASCII prefix. */
    while (pa < ea && pb < eb && *pa == *pb && *pa < 0x80) {
        pa++;
        pb++;
    }
    while ((pa < ea || qa) && (pb < eb || qb)) {
        uint32_t ua = next_utf16(&pa, ea, &qa), ub = next_utf16(&pb, eb, &qb);
        if (ua != ub) return ua < ub ? -1 : 1;
    }
    bool more_a = pa < ea || qa, more_b = pb < eb || qb;
    return more_a == more_b ? 0 : (more_a ? 1 : -1);
}

int tsf_compare_device(int version, const char *a, size_t alen, const char *b, size_t blen)
{
    if (version < 4) return tsf_compare_java(a, alen, b, blen);
    size_t sa[66], ea[66], sb[66], eb[66];
    int na = split_segments(a, alen, sa, ea, 66), nb = split_segments(b, blen, sb, eb, 66);
    for (int i = 0; i < na && i < nb; i++) {
        int c = tsf_compare_java(a + sa[i], ea[i] - sa[i], b + sb[i], eb[i] - sb[i]);
        if (c) return c;
    }
    return na == nb ? 0 : (na < nb ? -1 : 1);
}
