/*
 * bytes.h: growable output buffers and bounds-checked input cursors for the
 * primitive encodings of spec §0 (big-endian integers, LEB128 varints,
 * length-prefixed strings).
 *
 * Both types use a *sticky* error, like SQLite's StrAccum: the put/get calls
 * return nothing to check, a failure (out of memory, reading past the end)
 * is remembered, and the caller checks once at the end of a record.  That
 * keeps serialization code a straight list of fields and keeps every read of
 * on-disk bytes bounds-checked.
 *
 * A cursor never reads outside [p, end): a read past the end yields zeros and
 * sets err = TSF_ECORRUPT.
 */
#ifndef TSF_BYTES_H
#define TSF_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "tsf_error.h"

/* ---- output buffer ------------------------------------------------------ */

typedef struct TsfBuf {
    uint8_t *data; /* owned; NULL until the first append */
    size_t len;    /* bytes in use */
    size_t cap;    /* bytes allocated */
    int err;       /* sticky: -ENOMEM after a failed growth, else 0 */
} TsfBuf;

#define TSF_BUF_INIT                                                                                         \
    {                                                                                                        \
        NULL, 0, 0, 0                                                                                        \
    }

void tsf_buf_free(TsfBuf *b);
/* Empties the buffer but keeps its memory for reuse. */
static inline void tsf_buf_reset(TsfBuf *b)
{
    b->len = 0;
    b->err = 0;
}
/* Grows so that `extra` more bytes fit; returns 0 or -ENOMEM (also sticky). */
int tsf_buf_grow(TsfBuf *b, size_t extra);

static inline bool tsf_buf_reserve(TsfBuf *b, size_t extra)
{
    if (b->cap - b->len >= extra) return true;
    return tsf_buf_grow(b, extra) == 0;
}

static inline void tsf_buf_put(TsfBuf *b, const void *src, size_t n)
{
    if (n == 0 || !tsf_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

static inline void tsf_buf_put_u8(TsfBuf *b, uint8_t v)
{
    if (!tsf_buf_reserve(b, 1)) return;
    b->data[b->len++] = v;
}

static inline void tsf_be_store32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void tsf_be_store64(uint8_t *p, uint64_t v)
{
    tsf_be_store32(p, (uint32_t)(v >> 32));
    tsf_be_store32(p + 4, (uint32_t)v);
}
static inline uint32_t tsf_be_load32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static inline uint64_t tsf_be_load64(const uint8_t *p)
{
    return ((uint64_t)tsf_be_load32(p) << 32) | tsf_be_load32(p + 4);
}

static inline void tsf_buf_put_be32(TsfBuf *b, uint32_t v)
{
    if (!tsf_buf_reserve(b, 4)) return;
    tsf_be_store32(b->data + b->len, v);
    b->len += 4;
}
static inline void tsf_buf_put_be64(TsfBuf *b, uint64_t v)
{
    if (!tsf_buf_reserve(b, 8)) return;
    tsf_be_store64(b->data + b->len, v);
    b->len += 8;
}
static inline void tsf_buf_put_f32(TsfBuf *b, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    tsf_buf_put_be32(b, u);
}
static inline void tsf_buf_put_f64(TsfBuf *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    tsf_buf_put_be64(b, u);
}

/* Writes v as unsigned LEB128 into p (room for 10 bytes); returns bytes used. */
static inline size_t tsf_uvarint64_store(uint8_t *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

/* uvarint of a 32-bit quantity (spec §0.1). */
static inline void tsf_buf_put_uvarint(TsfBuf *b, uint32_t v)
{
    if (!tsf_buf_reserve(b, 5)) return;
    b->len += tsf_uvarint64_store(b->data + b->len, v);
}
/* Unsigned LEB128 of a 64-bit quantity (ZIGZAG payloads). */
static inline void tsf_buf_put_uvarint64(TsfBuf *b, uint64_t v)
{
    if (!tsf_buf_reserve(b, 10)) return;
    b->len += tsf_uvarint64_store(b->data + b->len, v);
}
static inline uint32_t tsf_zigzag32(int32_t n)
{
    return ((uint32_t)n << 1) ^ (uint32_t)(n >> 31);
}
static inline int32_t tsf_unzigzag32(uint32_t u)
{
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}
static inline uint64_t tsf_zigzag64(int64_t n)
{
    return ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
}
static inline int64_t tsf_unzigzag64(uint64_t u)
{
    return (int64_t)((u >> 1) ^ (0 - (u & 1)));
}
/* Signed zig-zag varint (spec §0.2). */
static inline void tsf_buf_put_varint(TsfBuf *b, int32_t v)
{
    tsf_buf_put_uvarint(b, tsf_zigzag32(v));
}
/* VarStr: zig-zag varint length, then the bytes (spec §0.3). */
static inline void tsf_buf_put_varstr(TsfBuf *b, const void *s, size_t n)
{
    tsf_buf_put_varint(b, (int32_t)n);
    tsf_buf_put(b, s, n);
}
/* I32Str / I32Bin: i32 length, then the bytes. */
static inline void tsf_buf_put_i32str(TsfBuf *b, const void *s, size_t n)
{
    tsf_buf_put_be32(b, (uint32_t)n);
    tsf_buf_put(b, s, n);
}

/* ---- input cursor -------------------------------------------------------- */

typedef struct TsfCursor {
    const uint8_t *p;   /* next byte to read */
    const uint8_t *end; /* one past the last readable byte */
    int err;            /* sticky: TSF_ECORRUPT after any overrun */
} TsfCursor;

static inline TsfCursor tsf_cursor(const void *p, size_t n)
{
    TsfCursor c = {(const uint8_t *)p, (const uint8_t *)p + n, 0};
    return c;
}
static inline size_t tsf_cur_left(const TsfCursor *c)
{
    return (size_t)(c->end - c->p);
}

/* Ensures n bytes are readable; on failure marks the cursor and returns false. */
static inline bool tsf_cur_need(TsfCursor *c, size_t n)
{
    if (c->err) return false;
    if ((size_t)(c->end - c->p) < n) {
        c->err = TSF_ECORRUPT;
        c->p = c->end;
        return false;
    }
    return true;
}
/* Returns a pointer to the next n bytes and skips them, or NULL. */
static inline const uint8_t *tsf_cur_take(TsfCursor *c, size_t n)
{
    if (!tsf_cur_need(c, n)) return NULL;
    const uint8_t *r = c->p;
    c->p += n;
    return r;
}
static inline uint8_t tsf_cur_u8(TsfCursor *c)
{
    return tsf_cur_need(c, 1) ? *c->p++ : 0;
}
static inline uint32_t tsf_cur_be32(TsfCursor *c)
{
    if (!tsf_cur_need(c, 4)) return 0;
    uint32_t v = tsf_be_load32(c->p);
    c->p += 4;
    return v;
}
static inline uint64_t tsf_cur_be64(TsfCursor *c)
{
    if (!tsf_cur_need(c, 8)) return 0;
    uint64_t v = tsf_be_load64(c->p);
    c->p += 8;
    return v;
}
static inline int32_t tsf_cur_i32(TsfCursor *c)
{
    return (int32_t)tsf_cur_be32(c);
}
static inline int64_t tsf_cur_i64(TsfCursor *c)
{
    return (int64_t)tsf_cur_be64(c);
}
static inline float tsf_cur_f32(TsfCursor *c)
{
    uint32_t u = tsf_cur_be32(c);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline double tsf_cur_f64(TsfCursor *c)
{
    uint64_t u = tsf_cur_be64(c);
    double d;
    memcpy(&d, &u, 8);
    return d;
}
/* uvarint of at most 5 bytes (a 32-bit quantity); longer is corruption. */
uint32_t tsf_cur_uvarint(TsfCursor *c);
/* Unsigned LEB128 of at most 10 bytes (a 64-bit quantity). */
uint64_t tsf_cur_uvarint64(TsfCursor *c);
static inline int32_t tsf_cur_varint(TsfCursor *c)
{
    return tsf_unzigzag32(tsf_cur_uvarint(c));
}

/* VarStr (spec §0.3).  Sets *s to point into the cursor's memory and *n to
 * its length.  Returns false for a null string (negative length) or error;
 * a null string is not an error. */
bool tsf_cur_varstr(TsfCursor *c, const uint8_t **s, uint32_t *n);
/* I32Str/I32Bin, same contract. */
bool tsf_cur_i32str(TsfCursor *c, const uint8_t **s, uint32_t *n);

#endif
