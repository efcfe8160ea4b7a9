/*
 * bench_lines.c: throughput of sensor lines (fs/lines.c), one core.
 *
 *   build/bench-lines [POINTS] [ROUNDS]
 *
 * Renders POINTS (default 10 million) "time,value\n" lines, 13-digit ms
 * times one second apart, into a reused 64 KiB buffer as a read() of
 * `cat sensor` would, for:
 *   - fixed: DOUBLE values with 1-3 decimals (21.5, -1234.567), the count
 *     and the magnitude random per point (a worst case for branch
 *     prediction; a real series repeats its shape).  Goal: over 30 M/s;
 *   - random: uniform doubles in [0, 1000) with all 53 bits random, which
 *     need 16-17 digits (the exact-digits path, not the fixed one);
 * then ln_value_len over the fixed values (the st_size bookkeeping), and
 * parsing the fixed lines back (time + DOUBLE value, the write path).
 * Times are CPU time of this thread, so other load on the machine skews
 * them less; each figure is the median of ROUNDS (default 5) rounds after
 * a warm-up, except the slow random case, which runs once.  Ends with the
 * line scripts read:
 *   lines render_fixed_mpts=... render_random_mpts=... len_fixed_mpts=... parse_fixed_mpts=...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lines.h"

#define OUT_SIZE   (64 * 1024)
#define MAX_ROUNDS 50

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint64_t rnd(void)
{
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 0x2545f4914f6cdd1dULL;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_d);
    return v[n / 2];
}

/* Renders every line into `text` when it is not NULL (it must be large
 * enough), else into a reused read() buffer.  Returns seconds; *bytes gets
 * the output size. */
static double render_all(const double *v, size_t n, char *text, size_t *bytes)
{
    static char buf[OUT_SIZE];
    char *out = text ? text : buf;
    size_t pos = 0, total = 0;
    unsigned sum = 0;
    int64_t t = 1700000000000LL;
    double t0 = now();
    for (size_t i = 0; i < n; i++, t += 1000) {
        if (text == NULL && pos > OUT_SIZE - 2 * LN_MAX_SCALAR - 2) { /* a read() buffer is full */
            sum += (unsigned char)out[pos / 2];
            total += pos;
            pos = 0;
        }
        pos += ln_render_time(t, LN_TIME_MS, out + pos);
        out[pos++] = ',';
        pos += ln_render_value(TSF_DOUBLE, &v[i], out + pos);
        out[pos++] = '\n';
    }
    double dt = now() - t0;
    *bytes = total + pos;
    if (sum == 1) fprintf(stderr, "(checksum)\n");
    return dt;
}

/* Parses n "time,value\n" lines; exits on a refusal (a bug). */
static double parse_all(const char *text, size_t len, size_t n)
{
    const char *p = text, *end = text + len;
    double sum = 0;
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *comma = memchr(p, ',', (size_t)(nl - p));
        int64_t t;
        double v;
        const char *why;
        if (comma == NULL || ln_parse_time(p, (size_t)(comma - p), &t, &why) != 0 ||
            ln_parse_value(TSF_DOUBLE, comma + 1, (size_t)(nl - comma - 1), &v, NULL, &why) != 0) {
            fprintf(stderr, "line %zu refused\n", i);
            exit(1);
        }
        sum += v + (double)t;
        p = nl + 1;
    }
    double dt = now() - t0;
    if (sum == 1) fprintf(stderr, "(checksum)\n");
    return dt;
}

int main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    int rounds = argc > 2 ? atoi(argv[2]) : 5;
    if (rounds < 1) rounds = 1;
    if (rounds > MAX_ROUNDS) rounds = MAX_ROUNDS;
    double *fixed = malloc(n * sizeof(double));
    double *random = malloc(n * sizeof(double));
    char *text = malloc(n * (2 * LN_MAX_SCALAR + 2));
    if (fixed == NULL || random == NULL || text == NULL || n == 0) return 1;
    static const double scale[3] = {10, 100, 1000};
    for (size_t i = 0; i < n; i++) {
        fixed[i] = (double)((int64_t)(rnd() % 2000000) - 1000000) / scale[rnd() % 3];
        random[i] = (double)(rnd() >> 11) * 0x1p-53 * 1000;
    }

    size_t bytes_fixed, bytes_random, text_len;
    double dt_fixed_r[MAX_ROUNDS], dt_len_r[MAX_ROUNDS], dt_parse_r[MAX_ROUNDS];
    render_all(fixed, n < 1000000 ? n : 1000000, NULL, &bytes_fixed); /* warm-up */
    render_all(fixed, n, text, &text_len);
    for (int r = 0; r < rounds; r++) {
        dt_fixed_r[r] = render_all(fixed, n, NULL, &bytes_fixed);
        double t0 = now();
        size_t len = 0;
        for (size_t i = 0; i < n; i++) len += ln_value_len(TSF_DOUBLE, &fixed[i]);
        dt_len_r[r] = now() - t0;
        if (len == 1) fprintf(stderr, "(checksum)\n");
        dt_parse_r[r] = parse_all(text, text_len, n);
    }
    double dt_random = render_all(random, n, NULL, &bytes_random);
    double dt_fixed = median(dt_fixed_r, rounds), dt_len = median(dt_len_r, rounds);
    double dt_parse = median(dt_parse_r, rounds);

    printf("render fixed (1-3 decimals): %zu points in %.3f s, %.1f M points/s, %.0f MB/s\n", n, dt_fixed,
           (double)n / dt_fixed / 1e6, (double)bytes_fixed / dt_fixed / 1e6);
    printf("render random doubles:       %zu points in %.3f s, %.1f M points/s, %.0f MB/s\n", n, dt_random,
           (double)n / dt_random / 1e6, (double)bytes_random / dt_random / 1e6);
    printf("value_len (fixed):           %.1f M values/s\n", (double)n / dt_len / 1e6);
    printf("parse fixed lines:           %.1f M lines/s, %.0f MB/s\n", (double)n / dt_parse / 1e6,
           (double)text_len / dt_parse / 1e6);
    printf("lines render_fixed_mpts=%.1f render_random_mpts=%.2f len_fixed_mpts=%.1f parse_fixed_mpts=%.1f\n",
           (double)n / dt_fixed / 1e6, (double)n / dt_random / 1e6, (double)n / dt_len / 1e6,
           (double)n / dt_parse / 1e6);
    free(fixed);
    free(random);
    free(text);
    return 0;
}
