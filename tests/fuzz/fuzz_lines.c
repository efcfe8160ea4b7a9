/*
 * fuzz_lines.c: libFuzzer target for what users write into the mount
 * (fs/lines.c).  The first byte picks a series type; the rest is one line
 * or CSV record.  Besides "never crash, never read out of bounds", it
 * checks the round trip the contract promises: whatever parses as a value
 * renders to text that parses back to the same bits, and the rendered
 * length equals ln_value_len.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

static const TsfType types[] = {TSF_BOOLEAN, TSF_INT32,  TSF_INT64, TSF_FLOAT, TSF_DOUBLE,
                                TSF_TEXT,    TSF_STRING, TSF_BLOB,  TSF_DATE,  TSF_TIMESTAMP};

static void check_round_trip(TsfType t, const void *v, LnArena *arena)
{
    char out[LN_MAX_SCALAR + 4];
    if (t == TSF_TEXT || t == TSF_STRING || t == TSF_BLOB) return; /* sized by ln_text_len; below */
    size_t n = ln_render_value(t, v, out);
    if (n > LN_MAX_SCALAR || n != ln_value_len(t, v)) abort();
    uint8_t back[16];
    const char *why;
    if (ln_parse_value(t, out, n, back, arena, &why) != 0) abort();
    if (t == TSF_FLOAT || t == TSF_DOUBLE) {
        double a = t == TSF_FLOAT ? (double)*(const float *)v : *(const double *)v;
        double b = t == TSF_FLOAT ? (double)*(const float *)back : *(const double *)back;
        if (a != a) { /* NaN prints as NaN, payload not kept */
            if (b == b) abort();
            return;
        }
    }
    if (memcmp(back, v, tsf_type_elem_size(t)) != 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    TsfType t = types[data[0] % (sizeof types / sizeof types[0])];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    LnArena arena = {0};
    const char *why;

    int64_t ms;
    if (ln_parse_time(s, n, &ms, &why) == 0) {
        char out[LN_MAX_SCALAR];
        size_t l = ln_render_time(ms, LN_TIME_MS, out);
        int64_t back;
        if (ln_parse_time(out, l, &back, &why) != 0 || back != ms) abort();
        l = ln_render_time(ms, LN_TIME_ISO, out);
        if (ln_parse_time(out, l, &back, &why) != 0 || back != ms) abort();
    }
    (void)ln_infer_type(s, n);

    uint8_t v[16];
    if (ln_parse_value(t, s, n, v, &arena, &why) == 0) {
        check_round_trip(t, v, &arena);
        if (t == TSF_TEXT || t == TSF_STRING) {
            const TsfBin *b = (const TsfBin *)v;
            size_t el = ln_text_len(b->ptr, b->len);
            char *esc = malloc(el ? el : 1);
            if (ln_text_escape(b->ptr, b->len, esc) != el) abort();
            uint8_t back[16];
            if (ln_parse_value(t, esc, el, back, &arena, &why) != 0) abort();
            const TsfBin *bb = (const TsfBin *)back;
            if (bb->len != b->len || (b->len && memcmp(bb->ptr, b->ptr, b->len) != 0)) abort();
            size_t cl = ln_csv_cell_len(b->ptr, b->len);
            char *cell = malloc(cl ? cl : 1);
            if (ln_csv_cell(b->ptr, b->len, cell) != cl) abort();
            free(cell);
            free(esc);
        }
    }

    /* CSV: find the record, split it, never past the input */
    size_t rl = ln_csv_record_len(s, n);
    if (rl > n) abort();
    LnCell cells[64];
    (void)ln_csv_split(s, rl ? rl : n, cells, 64, &arena, &why);
    ln_arena_free(&arena);
    return 0;
}
