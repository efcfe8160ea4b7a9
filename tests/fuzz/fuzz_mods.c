/*
 * fuzz_mods.c: libFuzzer target for the `.mods` deletion file parser and
 * the query side of deletions (engine/mods.c).
 *
 * The input is the text of a .mods file, parsed in memory (mods_parse, the
 * loop mods_load runs over a file).  Then, for what parsed:
 *   - every deletion is written back as a 5-field line and parsed again:
 *     the same path, offset and range must come back (a legacy line comes
 *     back in its 5-field meaning);
 *   - mods_matches runs against a few series, some made from the parsed
 *     paths themselves (so patterns meet the names they were written for);
 *   - mods_apply and mods_cover run over a fixed series of points and are
 *     checked against a brute-force model: a point is removed exactly when
 *     some deletion that applies to the chunk and matches the series covers
 *     its time, and a cover claim must hold for every time of the range.
 * Malformed lines are logged on stderr; run with -close_fd_mask=2.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mods.h"

#define NPOINTS 64

/* NPOINTS points at times spread over negative and positive values, with
 * the extremes; ascending, or shuffled (mods_apply accepts any order). */
static void make_points(int64_t *t, int64_t *v, bool shuffled)
{
    for (int i = 0; i < NPOINTS; i++) {
        int j = shuffled ? (i * 37) % NPOINTS : i; /* 37 is prime to 64: a permutation */
        t[i] = j == 0 ? INT64_MIN : j == NPOINTS - 1 ? INT64_MAX : (int64_t)(j - NPOINTS / 2) * 7;
        v[i] = i;
    }
}

static bool model_deleted(const Mods *m, const char *dev, const char *meas, uint64_t chunk, int64_t t)
{
    for (size_t i = 0; i < m->n; i++) {
        const Deletion *d = &m->d[i];
        if (d->file_offset < 0 || (uint64_t)d->file_offset <= chunk || d->start > d->end) continue;
        if (!mods_matches(d, dev, meas)) continue;
        if (t >= d->start && t <= d->end) return true;
    }
    return false;
}

static void check_series(const Mods *m, const char *dev, const char *meas, uint64_t chunk, bool shuffled)
{
    int64_t t[NPOINTS], v[NPOINTS], t0[NPOINTS];
    make_points(t, v, shuffled);
    memcpy(t0, t, sizeof t);
    size_t n = mods_apply(m, dev, meas, chunk, t, v, sizeof(int64_t), NPOINTS);
    if (n > NPOINTS) abort();
    /* the kept points, in order, are exactly the ones the model keeps */
    size_t k = 0;
    for (int i = 0; i < NPOINTS; i++) {
        if (model_deleted(m, dev, meas, chunk, t0[i])) continue;
        if (k >= n || t[k] != t0[i] || v[k] != i) abort();
        k++;
    }
    if (k != n) abort();
    /* a cover claim over [t0[a], t0[b]] must hold for each point in it */
    for (int a = 0; a < NPOINTS && !shuffled; a += 13) {
        int b = a + 9 < NPOINTS ? a + 9 : NPOINTS - 1;
        if (!mods_cover(m, dev, meas, chunk, t0[a], t0[b])) continue;
        for (int i = a; i <= b; i++)
            if (!model_deleted(m, dev, meas, chunk, t0[i])) abort();
    }
}

/* Writes d as a 5-field line and parses it back. */
static void check_round_trip(const Deletion *d)
{
    if (strpbrk(d->path, "\r\n")) return; /* cannot be in a parsed line */
    /* a path holding "DELETION," can be written only as a line the parser
     * reads as two records joined by a damaged line break (mods.c), by design */
    if (strstr(d->path, "DELETION,")) return;
    int len = snprintf(NULL, 0, "DELETION,%s,%lld,%lld,%lld\n", d->path, (long long)d->file_offset,
                       (long long)d->start, (long long)d->end);
    char *line = malloc((size_t)len + 1);
    if (!line) return;
    snprintf(line, (size_t)len + 1, "DELETION,%s,%lld,%lld,%lld\n", d->path, (long long)d->file_offset,
             (long long)d->start, (long long)d->end);
    Mods back;
    mods_init(&back);
    if (mods_parse(&back, "round-trip", line, (size_t)len) != 0) abort();
    if (back.n != 1) abort();
    const Deletion *e = &back.d[0];
    if (strcmp(e->path, d->path) != 0 || e->file_offset != d->file_offset || e->start != d->start ||
        e->end != d->end)
        abort();
    mods_free(&back);
    free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Mods m;
    mods_init(&m);
    if (mods_parse(&m, "fuzz.mods", (const char *)data, size) != 0) abort(); /* only -ENOMEM */
    for (size_t i = 0; i < m.n; i++) {
        const Deletion *d = &m.d[i];
        if (!d->path || !*d->path || d->file_offset < 0) abort();
        check_round_trip(d);
    }

    static const char *const fixed[][2] = {
        {"root.sg.d1", "s1"}, {"root.sg.d1", "s2"}, {"root.sg.d2.x", "s1"}, {"root", "a"}, {"root.sg", "d1"},
    };
    static const uint64_t chunks[] = {0, 100, (uint64_t)INT64_MAX - 1};
    for (size_t f = 0; f < sizeof fixed / sizeof fixed[0]; f++)
        for (size_t c = 0; c < 3; c++) check_series(&m, fixed[f][0], fixed[f][1], chunks[c], c == 1);

    /* series named after the first few parsed paths: split at the last '.' */
    for (size_t i = 0; i < m.n && i < 4; i++) {
        char *p = strdup(m.d[i].path);
        if (!p) break;
        char *dot = strrchr(p, '.');
        if (dot && dot != p && dot[1]) {
            *dot = '\0';
            check_series(&m, p, dot + 1, 10, false);
            check_series(&m, p, dot + 1, 10, true);
        }
        free(p);
    }
    mods_free(&m);
    return 0;
}
