/*
 * bytes.c: growth of output buffers and the variable-length reads of cursors.
 * Everything fixed-size is inline in bytes.h.
 */
#include "bytes.h"

#include <errno.h>
#include <stdlib.h>

void tsf_buf_free(TsfBuf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}

int tsf_buf_grow(TsfBuf *b, size_t extra)
{
    if (b->err) return b->err;
    if (extra > SIZE_MAX / 2 - b->len) return b->err = -ENOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 64;
    /* Double up to 64 MiB, then grow linearly so big buffers do not overshoot. */
    while (cap < need) cap = cap < ((size_t)64 << 20) ? cap * 2 : cap + ((size_t)64 << 20);
    uint8_t *p = realloc(b->data, cap);
    if (!p) return b->err = -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

uint64_t tsf_cur_uvarint64(TsfCursor *c)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (!tsf_cur_need(c, 1)) return 0;
        uint8_t byte = *c->p++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
    }
    c->err = TSF_ECORRUPT;
    return 0;
}

uint32_t tsf_cur_uvarint(TsfCursor *c)
{
    uint32_t v = 0;
    for (int shift = 0; shift < 35; shift += 7) {
        if (!tsf_cur_need(c, 1)) return 0;
        uint8_t byte = *c->p++;
        v |= (uint32_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
    }
    c->err = TSF_ECORRUPT; /* more than 5 bytes: not a 32-bit varint */
    return 0;
}

static bool take_string(TsfCursor *c, int32_t len, const uint8_t **s, uint32_t *n)
{
    *s = NULL;
    *n = 0;
    if (c->err || len < 0) return false;
    const uint8_t *p = tsf_cur_take(c, (size_t)len);
    if (!p) return false;
    *s = p;
    *n = (uint32_t)len;
    return true;
}

bool tsf_cur_varstr(TsfCursor *c, const uint8_t **s, uint32_t *n)
{
    return take_string(c, tsf_cur_varint(c), s, n);
}

bool tsf_cur_i32str(TsfCursor *c, const uint8_t **s, uint32_t *n)
{
    return take_string(c, tsf_cur_i32(c), s, n);
}
