/*
 * gen_csv.c: the input of the filesystem benchmark.
 *
 *   build/bench-gen-csv POINTS [START_MS] > big.csv
 *
 * Writes POINTS lines "time,value": times from START_MS (default
 * 1700000000000) up by 1 ms per line, values a bounded random walk between
 * 10.01 and 49.99 (a temperature-like DOUBLE series) with one or two
 * decimals.  Each value is printed in its shortest form ("21.5", never
 * "21.50", never a whole number), which is also how tsfs prints it back, so a
 * read of the series returns exactly as many bytes as were appended.  The
 * walk uses a fixed-seed xorshift generator: the same arguments always give
 * the same file.  Digits are formatted by hand into a 1 MiB buffer because
 * printf would dominate the run time at 10 million lines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_BYTES      (1 << 20)
#define LINE_MAX_BYTES 48

/* Appends the decimal digits of v at p; returns the new end. */
static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = tmp[--n];
    return p;
}

/* Appends hundredths c (not a multiple of 100) as its shortest decimal. */
static char *put_cents(char *p, uint32_t c)
{
    p = put_u64(p, c / 100);
    *p++ = '.';
    *p++ = (char)('0' + c / 10 % 10);
    if (c % 10) *p++ = (char)('0' + c % 10);
    return p;
}

static int flush_out(const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(STDOUT_FILENO, buf, len);

        if (n < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

int main(int argc, char *argv[])
{
    static char out[OUT_BYTES];
    uint64_t points, t, rng = 0x9e3779b97f4a7c15ull;
    uint32_t cents = 2150;
    size_t used = 0;
    char *end;
    int rc = 0;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s POINTS [START_MS] > file.csv\n", argv[0]);
        return 2;
    }
    points = strtoull(argv[1], &end, 10);
    if (*end) {
        fprintf(stderr, "%s: bad POINTS '%s'\n", argv[0], argv[1]);
        return 2;
    }
    t = 1700000000000ull;
    if (argc == 3) {
        t = strtoull(argv[2], &end, 10);
        if (*end) {
            fprintf(stderr, "%s: bad START_MS '%s'\n", argv[0], argv[2]);
            return 2;
        }
    }
    for (uint64_t i = 0; i < points && rc == 0; i++, t++) {
        char *p = out + used;
        int step;

        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        step = (int)(rng % 41) - 20; /* +-0.20 per millisecond */
        if ((int)cents + step < 1001 || (int)cents + step > 4999) step = -step;
        cents = (uint32_t)((int)cents + step);
        if (cents % 100 == 0) cents++; /* keep a fraction: whole numbers print differently */
        p = put_u64(p, t);
        *p++ = ',';
        p = put_cents(p, cents);
        *p++ = '\n';
        used = (size_t)(p - out);
        if (used > OUT_BYTES - LINE_MAX_BYTES) {
            rc = flush_out(out, used);
            used = 0;
        }
    }
    if (rc == 0) rc = flush_out(out, used);
    if (rc != 0) {
        fprintf(stderr, "%s: write: %s\n", argv[0], strerror(-rc));
        return 1;
    }
    return 0;
}
