/*
 * bitpack.c: the 8-value bit-packing primitive of spec §5.4, shared by RLE,
 * DICTIONARY (through RLE) and SPRINTZ.
 *
 * Layout: eight unsigned values of `width` bits form one big-endian bit
 * stream of exactly `width` bytes.  Value 0 takes the top `width` bits of
 * byte 0, value 1 the next `width` bits, and so on:
 *
 *     width 3, values 5 4 7 3 0 1 3 2
 *     bits  101 100 111 011 000 001 011 010  ->  b3 b0 5a
 *
 * Because 8 x width bits is a whole number of bytes there is never padding.
 * The loops keep a small bit accumulator instead of touching one bit at a
 * time; widths above 56 (64-bit values only) are split in two halves so the
 * accumulator never overflows.  Width 0 packs nothing and unpacks zeros.
 * Bits of a value above `width` are ignored when packing.
 */
#include "encoding_int.h"

static inline uint64_t low_mask(int width)
{
    return width >= 64 ? ~(uint64_t)0 : (((uint64_t)1 << width) - 1);
}

/* Packs eight values of at most 56 bits each (the accumulator then never
 * holds more than 63 pending bits). */
static void pack8_narrow(const uint64_t *v, int width, uint8_t *out)
{
    uint64_t acc = 0;
    int nacc = 0;
    uint64_t mask = low_mask(width);
    for (int i = 0; i < 8; i++) {
        acc = (acc << width) | (v[i] & mask);
        nacc += width;
        while (nacc >= 8) {
            nacc -= 8;
            *out++ = (uint8_t)(acc >> nacc);
        }
    }
}

static void unpack8_narrow(const uint8_t *in, int width, uint64_t *v)
{
    uint64_t acc = 0;
    int nacc = 0;
    uint64_t mask = low_mask(width);
    for (int i = 0; i < 8; i++) {
        while (nacc < width) {
            acc = (acc << 8) | *in++;
            nacc += 8;
        }
        nacc -= width;
        v[i] = (acc >> nacc) & mask;
    }
}

void tsf_pack8_u32(const uint32_t *v, int width, uint8_t *out)
{
    if (width <= 0) return;
    if (width > 32) width = 32;
    uint64_t w[8];
    for (int i = 0; i < 8; i++) w[i] = v[i];
    pack8_narrow(w, width, out);
}

void tsf_unpack8_u32(const uint8_t *in, int width, uint32_t *v)
{
    if (width <= 0) {
        for (int i = 0; i < 8; i++) v[i] = 0;
        return;
    }
    if (width > 32) width = 32;
    uint64_t w[8];
    unpack8_narrow(in, width, w);
    for (int i = 0; i < 8; i++) v[i] = (uint32_t)w[i];
}

void tsf_pack8_u64(const uint64_t *v, int width, uint8_t *out)
{
    if (width <= 0) return;
    if (width > 64) width = 64;
    if (width <= 56) {
        pack8_narrow(v, width, out);
        return;
    }
    /* Wide values: emit each as its high (width-32) bits then its low 32 bits,
     * which is the same bit stream. */
    uint64_t acc = 0;
    int nacc = 0;
    int hi = width - 32;
    uint64_t himask = low_mask(hi);
    for (int i = 0; i < 8; i++) {
        uint64_t parts[2] = {(v[i] >> 32) & himask, v[i] & 0xffffffffu};
        int widths[2] = {hi, 32};
        for (int k = 0; k < 2; k++) {
            acc = (acc << widths[k]) | parts[k];
            nacc += widths[k];
            while (nacc >= 8) {
                nacc -= 8;
                *out++ = (uint8_t)(acc >> nacc);
            }
        }
    }
}

void tsf_unpack8_u64(const uint8_t *in, int width, uint64_t *v)
{
    if (width <= 0) {
        for (int i = 0; i < 8; i++) v[i] = 0;
        return;
    }
    if (width > 64) width = 64;
    if (width <= 56) {
        unpack8_narrow(in, width, v);
        return;
    }
    if (width == 64) {
        for (int i = 0; i < 8; i++) v[i] = tsf_be_load64(in + 8 * i);
        return;
    }
    uint64_t acc = 0;
    int nacc = 0;
    int hi = width - 32;
    for (int i = 0; i < 8; i++) {
        uint64_t r = 0;
        int widths[2] = {hi, 32};
        for (int k = 0; k < 2; k++) {
            while (nacc < widths[k]) {
                acc = (acc << 8) | *in++;
                nacc += 8;
            }
            nacc -= widths[k];
            r = (r << widths[k]) | ((acc >> nacc) & low_mask(widths[k]));
        }
        v[i] = r;
    }
}
