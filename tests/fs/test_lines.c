/*
 * test_lines.c: unit tests of fs/lines.c, the sensor-line and CSV text forms.
 *
 * The core property is the round trip: every value rendered parses back bit
 * for bit (NaN only as some NaN), and ln_value_len always equals the length
 * ln_render_value returns.  Both are checked on random values that include
 * the extremes (subnormals, +-0, DBL_MAX, INT64_MIN...).  Fixed expectations
 * cover the shortest forms, every refusal, ISO-8601 times (constants
 * checked independently with `date -u -d ... +%s`) and RFC 4180 quoting.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

/* xorshift64*: deterministic random numbers. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t dbits(double x)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    return b;
}

static double bits_d(uint64_t b)
{
    double x;
    memcpy(&x, &b, 8);
    return x;
}

static uint32_t fbits(float x)
{
    uint32_t b;
    memcpy(&b, &x, 4);
    return b;
}

static float bits_f(uint32_t b)
{
    float x;
    memcpy(&x, &b, 4);
    return x;
}

/* Renders v, checks ln_value_len agrees, returns a NUL-terminated copy in
 * a static buffer (valid until the next call). */
static const char *render(TsfType t, const void *v)
{
    static char buf[4096];
    size_t n = ln_render_value(t, v, buf);
    cr_assert_lt(n, sizeof(buf));
    size_t len = ln_value_len(t, v);
    buf[n] = 0;
    cr_assert_eq(len, n, "type %d: value_len %zu != render %zu for \"%s\"", (int)t, len, n, buf);
    return buf;
}

static const char *render_d(double x)
{
    return render(TSF_DOUBLE, &x);
}
static const char *render_f(float x)
{
    return render(TSF_FLOAT, &x);
}

static int parse(TsfType t, const char *s, void *out, const char **why)
{
    static LnArena arena;
    *why = NULL;
    return ln_parse_value(t, s, strlen(s), out, &arena, why);
}

static void refuse(TsfType t, const char *s, const char *reason)
{
    union {
        double d;
        int64_t l;
        TsfBin b;
    } out;
    const char *why;
    int rc = parse(t, s, &out, &why);
    cr_assert_eq(rc, -EINVAL, "type %d accepted \"%s\"", (int)t, s);
    cr_assert_not_null(why);
    if (reason) cr_assert_str_eq(why, reason, "\"%s\": why \"%s\", want \"%s\"", s, why, reason);
}

static void double_roundtrip(double x)
{
    const char *s = render_d(x);
    double y;
    const char *why;
    int rc = parse(TSF_DOUBLE, s, &y, &why);
    cr_assert_eq(rc, 0, "\"%s\" refused: %s", s, why);
    if (isnan(x)) {
        cr_assert(isnan(y));
        cr_assert_str_eq(s, "NaN");
    } else {
        cr_assert_eq(dbits(x), dbits(y), "%a -> \"%s\" -> %a", x, s, y);
    }
    if (!isnan(x)) cr_assert_eq(dbits(strtod(s, NULL)), dbits(x), "strtod disagrees on \"%s\"", s);
}

static void float_roundtrip(float x)
{
    const char *s = render_f(x);
    float y;
    const char *why;
    int rc = parse(TSF_FLOAT, s, &y, &why);
    cr_assert_eq(rc, 0, "\"%s\" refused: %s", s, why);
    if (isnan(x))
        cr_assert(isnan(y));
    else
        cr_assert_eq(fbits(x), fbits(y), "%a -> \"%s\" -> %a", (double)x, s, (double)y);
}

/* Significant digits of a rendered number ("0.00120" -> 3, "1.5e+300" -> 2). */
static int sig_digits(const char *s)
{
    char d[64];
    int n = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') d[n++] = *s;
    int lo = 0;
    while (lo < n && d[lo] == '0') lo++;
    while (n > lo && d[n - 1] == '0') n--;
    return n - lo;
}

/* Fewest significant digits that round-trip x (brute force with printf). */
static int min_digits(double x)
{
    char buf[64];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, x);
        if (strtod(buf, NULL) == x) return p;
    }
    return 17;
}

/* ---- doubles --------------------------------------------------------- */

Test(lines_double, shortest_forms)
{
    cr_assert_str_eq(render_d(0.1), "0.1");
    cr_assert_str_eq(render_d(21.5), "21.5");
    cr_assert_str_eq(render_d(-21.5), "-21.5");
    cr_assert_str_eq(render_d(1234.567), "1234.567");
    cr_assert_str_eq(render_d(0.3), "0.3");
    cr_assert_str_eq(render_d(0.1 + 0.2), "0.30000000000000004");
    cr_assert_str_eq(render_d(1.0 / 3), "0.3333333333333333");
    cr_assert_str_eq(render_d(100), "100");
    cr_assert_str_eq(render_d(21.0), "21");
    cr_assert_str_eq(render_d(0), "0");
    cr_assert_str_eq(render_d(-0.0), "-0");
    cr_assert_str_eq(render_d(0.000123), "0.000123");
    cr_assert_str_eq(render_d(1e-7), "0.0000001");
    cr_assert_str_eq(render_d(1e300), "1e+300");
    cr_assert_str_eq(render_d(-1.5e300), "-1.5e+300");
    cr_assert_str_eq(render_d(1e16), "1e+16");
    cr_assert_str_eq(render_d(9007199254740991.0), "9007199254740991");
    cr_assert_str_eq(render_d(9007199254740992.0), "9007199254740992");
    cr_assert_str_eq(render_d(123456789012345678.0), "1.2345678901234568e+17");
    cr_assert_str_eq(render_d(DBL_MAX), "1.7976931348623157e+308");
    cr_assert_str_eq(render_d(-DBL_MAX), "-1.7976931348623157e+308");
    cr_assert_str_eq(render_d(NAN), "NaN");
    cr_assert_str_eq(render_d(-NAN), "NaN");
    cr_assert_str_eq(render_d(INFINITY), "Infinity");
    cr_assert_str_eq(render_d(-INFINITY), "-Infinity");
    cr_assert_str_eq(render_d(3.141592653589793), "3.141592653589793");
}

Test(lines_double, decimals_print_exactly)
{
    /* m * 10^-k with m not a multiple of 10 and at most 15 digits is the
     * unique shortest form of the double nearest to it. */
    char want[64];
    for (int i = 0; i < 200000; i++) {
        unsigned k = (unsigned)(rnd() % 8);
        uint64_t m = rnd() % 1000000000000ULL;
        if (m % 10 == 0) m++;
        double p = 1;
        for (unsigned j = 0; j < k; j++) p *= 10;
        double x = (double)m / p;
        if (i & 1) x = -x;
        uint64_t ip = m, fp = 0;
        for (unsigned j = 0; j < k; j++) ip /= 10;
        fp = m - ip * (uint64_t)p;
        if (k == 0)
            snprintf(want, sizeof(want), "%s%llu", i & 1 ? "-" : "", (unsigned long long)m);
        else
            snprintf(want, sizeof(want), "%s%llu.%0*llu", i & 1 ? "-" : "", (unsigned long long)ip, (int)k,
                     (unsigned long long)fp);
        cr_assert_str_eq(render_d(x), want);
    }
}

Test(lines_double, roundtrip_random_bits)
{
    int not_shortest = 0;
    for (int i = 0; i < 300000; i++) {
        double x = bits_d(rnd());
        double_roundtrip(x);
        if (isfinite(x) && fabs(x) >= DBL_MIN) {
            const char *s = render_d(x);
            int sd = sig_digits(s), md = min_digits(x);
            cr_assert_geq(sd, md);
            /* The printf fallback is shortest up to 15 digits and at 17;
             * at 16 it may say 17 at a power-of-two boundary. */
            if (sd != md) not_shortest++;
        }
    }
    cr_log_info("%d of the random doubles not in shortest form", not_shortest);
    cr_assert_lt(not_shortest, 30, "%d values not in shortest form", not_shortest);
}

Test(lines_double, roundtrip_extremes)
{
    const double xs[] = {0.0,
                         -0.0,
                         DBL_MIN,
                         -DBL_MIN,
                         DBL_MAX,
                         -DBL_MAX,
                         DBL_TRUE_MIN,
                         -DBL_TRUE_MIN,
                         DBL_MIN - DBL_TRUE_MIN,
                         DBL_EPSILON,
                         1.0 + DBL_EPSILON,
                         1.0 - DBL_EPSILON / 2,
                         9007199254740993.0,
                         4503599627370495.5,
                         0.5,
                         1e-17,
                         1.5e-17,
                         1e-18,
                         1e22,
                         1e23,
                         5e-324,
                         2.2250738585072011e-308,
                         INFINITY,
                         -INFINITY,
                         NAN};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) double_roundtrip(xs[i]);
    /* Subnormals and NaN payloads. */
    for (int i = 0; i < 20000; i++) {
        double_roundtrip(bits_d(rnd() & 0x000fffffffffffffULL));
        double_roundtrip(bits_d(rnd() | 0x7ff0000000000001ULL));
    }
    /* Neighbours of powers of ten and of two. */
    for (int e = -320; e <= 308; e++) {
        double p = pow(10, e);
        double_roundtrip(p);
        double_roundtrip(nextafter(p, 0));
        double_roundtrip(nextafter(p, INFINITY));
    }
    for (int e = -1074; e <= 1023; e++) {
        double p = ldexp(1, e);
        double_roundtrip(p);
        double_roundtrip(nextafter(p, 0));
    }
}

Test(lines_double, roundtrip_sensor_like)
{
    /* Values as sensors produce them: few decimals, and noisy averages. */
    for (int i = 0; i < 200000; i++) {
        double x = (double)(int64_t)(rnd() % 2000001 - 1000000) / 100.0;
        double_roundtrip(x);
        double_roundtrip(x / 3.0);
        double_roundtrip(x * 1e-9);
        double_roundtrip(x * 1e12);
    }
}

Test(lines_double, parse_accepts)
{
    double x;
    const char *why;
    struct {
        const char *s;
        double v;
    } ok[] = {{"21.5", 21.5},
              {"-3", -3},
              {"+5", 5},
              {".5", 0.5},
              {"5.", 5},
              {"1e5", 1e5},
              {"1E+5", 1e5},
              {"1e-5", 1e-5},
              {"0.1", 0.1},
              {"007", 7},
              {"1e-400", 0},
              {"123456789012345678901234567890", 123456789012345678901234567890.0},
              {"4.9406564584124654e-324", DBL_TRUE_MIN},
              {"1.7976931348623157e308", DBL_MAX},
              {"0.000000000000000000000000000001", 1e-30}};
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        cr_assert_eq(parse(TSF_DOUBLE, ok[i].s, &x, &why), 0, "\"%s\": %s", ok[i].s, why);
        cr_assert_eq(dbits(x), dbits(ok[i].v), "\"%s\" -> %a", ok[i].s, x);
    }
    cr_assert_eq(parse(TSF_DOUBLE, "-0", &x, &why), 0);
    cr_assert_eq(dbits(x), dbits(-0.0));
    cr_assert_eq(parse(TSF_DOUBLE, "-0.000e5", &x, &why), 0);
    cr_assert_eq(dbits(x), dbits(-0.0));
    const char *inf[] = {"Infinity", "inf", "INF", "+infinity"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(parse(TSF_DOUBLE, inf[i], &x, &why), 0);
        cr_assert(isinf(x) && x > 0);
    }
    cr_assert_eq(parse(TSF_DOUBLE, "-Infinity", &x, &why), 0);
    cr_assert(isinf(x) && x < 0);
    cr_assert_eq(parse(TSF_DOUBLE, "NaN", &x, &why), 0);
    cr_assert(isnan(x));
    cr_assert_eq(parse(TSF_DOUBLE, "nan", &x, &why), 0);
    cr_assert(isnan(x));
}

Test(lines_double, parse_matches_strtod)
{
    /* The Clinger fast path against strtod on random short decimals. */
    char s[64];
    double x;
    const char *why;
    for (int i = 0; i < 200000; i++) {
        int e = (int)(rnd() % 61) - 30;
        unsigned long long m = rnd() % (i & 1 ? 10000000000000000000ULL : 100000000ULL);
        snprintf(s, sizeof(s), "%s%llue%d", i & 2 ? "-" : "", m, e);
        cr_assert_eq(parse(TSF_DOUBLE, s, &x, &why), 0, "%s: %s", s, why);
        cr_assert_eq(dbits(x), dbits(strtod(s, NULL)), "%s", s);
        float f, want = strtof(s, NULL);
        if (isinf(want)) {
            cr_assert_eq(parse(TSF_FLOAT, s, &f, &why), -EINVAL, "%s", s);
            continue;
        }
        cr_assert_eq(parse(TSF_FLOAT, s, &f, &why), 0, "%s: %s", s, why);
        cr_assert_eq(fbits(f), fbits(want), "%s", s);
    }
}

Test(lines_double, refusals)
{
    refuse(TSF_DOUBLE, "", "empty value");
    refuse(TSF_DOUBLE, "1e400", "out of range");
    refuse(TSF_DOUBLE, "-1e400", "out of range");
    refuse(TSF_DOUBLE, "1.8e308", "out of range");
    refuse(TSF_DOUBLE, "0x12", "bad number");
    refuse(TSF_DOUBLE, "0x1p3", "bad number");
    refuse(TSF_DOUBLE, "1e", "bad number");
    refuse(TSF_DOUBLE, "1e+", "bad number");
    refuse(TSF_DOUBLE, ".", "bad number");
    refuse(TSF_DOUBLE, "-", "bad number");
    refuse(TSF_DOUBLE, "1.2.3", "bad number");
    refuse(TSF_DOUBLE, "nan(1)", "bad number");
    refuse(TSF_DOUBLE, "infin", "bad number");
    refuse(TSF_DOUBLE, " 1", "bad number");
    refuse(TSF_DOUBLE, "1 ", "bad number");
    refuse(TSF_DOUBLE, "1,5", "bad number");
    refuse(TSF_DOUBLE, "abc", "bad number");
    refuse(TSF_DOUBLE, "--1", "bad number");
    char long_num[600];
    memset(long_num, '1', sizeof(long_num) - 1);
    long_num[sizeof(long_num) - 1] = 0;
    refuse(TSF_DOUBLE, long_num, "too long");
    refuse(TSF_FLOAT, long_num, "too long");
    refuse(TSF_INT64, long_num, "too long");
    /* 511 bytes is still a number. */
    long_num[0] = '0';
    long_num[1] = '.';
    long_num[511] = 0;
    double x;
    const char *why;
    cr_assert_eq(parse(TSF_DOUBLE, long_num, &x, &why), 0);
}

/* ---- floats ---------------------------------------------------------- */

Test(lines_float, shortest_forms)
{
    cr_assert_str_eq(render_f(0.1f), "0.1");
    cr_assert_str_eq(render_f(21.5f), "21.5");
    cr_assert_str_eq(render_f(3.14159f), "3.14159");
    cr_assert_str_eq(render_f(-0.0f), "-0");
    cr_assert_str_eq(render_f(0.0f), "0");
    cr_assert_str_eq(render_f(16777216.0f), "16777216");
    cr_assert_str_eq(render_f(1e10f), "1e+10");
    cr_assert_str_eq(render_f(FLT_MAX), "3.4028235e+38");
    cr_assert_str_eq(render_f(NAN), "NaN");
    cr_assert_str_eq(render_f(-INFINITY), "-Infinity");
    cr_assert_str_eq(render_f(0.3f), "0.3");
    cr_assert_str_eq(render_f(1.0f / 3), "0.33333334");
}

static int min_digits_f(float x)
{
    char buf[64];
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, sizeof(buf), "%.*e", p - 1, (double)x);
        if (strtof(buf, NULL) == x) return p;
    }
    return 9;
}

Test(lines_float, roundtrip)
{
    int not_shortest = 0;
    for (int i = 0; i < 300000; i++) {
        float x = bits_f((uint32_t)rnd());
        float_roundtrip(x);
        if (isfinite(x) && fabsf(x) >= FLT_MIN && sig_digits(render_f(x)) != min_digits_f(x)) not_shortest++;
    }
    cr_log_info("%d of the random floats not in shortest form", not_shortest);
    cr_assert_lt(not_shortest, 30);
    for (int i = 0; i < 20000; i++) float_roundtrip(bits_f((uint32_t)rnd() & 0x007fffffu));
    const float xs[] = {0.0f,        -0.0f,       FLT_MIN, -FLT_MIN, FLT_MAX,   -FLT_MAX, FLT_TRUE_MIN,
                        FLT_EPSILON, 16777217.0f, 1e-10f,  INFINITY, -INFINITY, NAN};
    for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) float_roundtrip(xs[i]);
    for (int i = 0; i < 100000; i++) float_roundtrip((float)(int)(rnd() % 200001 - 100000) / 100.0f);
}

Test(lines_float, refusals)
{
    refuse(TSF_FLOAT, "3.5e38", "out of range");
    refuse(TSF_FLOAT, "1e39", "out of range");
    refuse(TSF_FLOAT, "-1e39", "out of range");
    refuse(TSF_FLOAT, "x", "bad number");
    float f;
    const char *why;
    cr_assert_eq(parse(TSF_FLOAT, "3.4028235e38", &f, &why), 0);
    cr_assert_eq(f, FLT_MAX);
    cr_assert_eq(parse(TSF_FLOAT, "1e-50", &f, &why), 0);
    cr_assert_eq(f, 0.0f);
    cr_assert_eq(parse(TSF_FLOAT, "-0", &f, &why), 0);
    cr_assert_eq(fbits(f), fbits(-0.0f));
}

/* ---- integers, booleans, dates --------------------------------------- */

Test(lines_int, extremes)
{
    int32_t a;
    int64_t b;
    const char *why;
    int32_t i32[] = {0, -1, 1, INT32_MIN, INT32_MAX, 10, 99, 100, -100};
    for (size_t i = 0; i < sizeof(i32) / sizeof(i32[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%d", i32[i]);
        cr_assert_str_eq(render(TSF_INT32, &i32[i]), want);
        cr_assert_eq(parse(TSF_INT32, want, &a, &why), 0);
        cr_assert_eq(a, i32[i]);
    }
    int64_t i64[] = {0, -1, INT64_MIN, INT64_MAX, INT64_MIN + 1, 4294967295LL, 4294967296LL, 1700000000000LL};
    for (size_t i = 0; i < sizeof(i64) / sizeof(i64[0]); i++) {
        char want[32];
        snprintf(want, sizeof(want), "%lld", (long long)i64[i]);
        cr_assert_str_eq(render(TSF_INT64, &i64[i]), want);
        cr_assert_str_eq(render(TSF_TIMESTAMP, &i64[i]), want);
        cr_assert_eq(parse(TSF_INT64, want, &b, &why), 0);
        cr_assert_eq(b, i64[i]);
    }
    /* Every power of ten and its neighbours (digit-count boundaries). */
    uint64_t p = 1;
    for (int e = 0; e <= 19; e++, p *= 10) {
        int64_t vs[] = {(int64_t)p, (int64_t)(p - 1), (int64_t)(p + 1), -(int64_t)p};
        for (int j = 0; j < 4; j++) {
            if (e == 19) break; /* 10^19 is beyond int64 */
            char want[32];
            snprintf(want, sizeof(want), "%lld", (long long)vs[j]);
            cr_assert_str_eq(render(TSF_INT64, &vs[j]), want);
        }
    }
    cr_assert_eq(parse(TSF_INT64, "+42", &b, &why), 0);
    cr_assert_eq(b, 42);
    cr_assert_eq(parse(TSF_INT64, "-0", &b, &why), 0);
    cr_assert_eq(b, 0);
    cr_assert_eq(parse(TSF_INT32, "-2147483648", &a, &why), 0);
    cr_assert_eq(a, INT32_MIN);
}

Test(lines_int, random_roundtrip)
{
    char buf[32];
    const char *why;
    for (int i = 0; i < 200000; i++) {
        int64_t v = (int64_t)(rnd() >> (rnd() % 64));
        if (i & 1) v = -v;
        snprintf(buf, sizeof(buf), "%lld", (long long)v);
        cr_assert_str_eq(render(TSF_INT64, &v), buf);
        int64_t w;
        cr_assert_eq(parse(TSF_INT64, buf, &w, &why), 0);
        cr_assert_eq(w, v);
        int32_t v32 = (int32_t)v, w32;
        snprintf(buf, sizeof(buf), "%d", v32);
        cr_assert_str_eq(render(TSF_INT32, &v32), buf);
        cr_assert_eq(parse(TSF_INT32, buf, &w32, &why), 0);
        cr_assert_eq(w32, v32);
    }
}

Test(lines_int, refusals)
{
    refuse(TSF_INT32, "2147483648", "out of range");
    refuse(TSF_INT32, "-2147483649", "out of range");
    refuse(TSF_INT32, "99999999999999999999999", "out of range");
    refuse(TSF_INT64, "9223372036854775808", "out of range");
    refuse(TSF_INT64, "-9223372036854775809", "out of range");
    refuse(TSF_INT64, "18446744073709551616", "out of range");
    refuse(TSF_INT64, "1.5", "not an integer");
    refuse(TSF_INT64, "1.0", "not an integer");
    refuse(TSF_INT32, "1e3", "not an integer");
    refuse(TSF_INT64, "NaN", "not an integer");
    refuse(TSF_INT64, "", "empty value");
    refuse(TSF_INT64, "+", "bad number");
    refuse(TSF_INT64, "-", "bad number");
    refuse(TSF_INT64, "12a", "bad number");
    refuse(TSF_INT64, " 1", "bad number");
    refuse(TSF_INT64, "1 ", "bad number");
    refuse(TSF_INT64, "0x10", "bad number");
    refuse(TSF_INT64, "99999999999999999999x", "bad number");
}

Test(lines_bool, parse_render)
{
    uint8_t b;
    const char *why;
    const char *t[] = {"true", "TRUE", "True", "tRuE"};
    const char *f[] = {"false", "FALSE", "False"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(parse(TSF_BOOLEAN, t[i], &b, &why), 0);
        cr_assert_eq(b, 1);
    }
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(parse(TSF_BOOLEAN, f[i], &b, &why), 0);
        cr_assert_eq(b, 0);
    }
    refuse(TSF_BOOLEAN, "yes", "bad boolean");
    refuse(TSF_BOOLEAN, "1", "bad boolean");
    refuse(TSF_BOOLEAN, "", "bad boolean");
    refuse(TSF_BOOLEAN, "truee", "bad boolean");
    refuse(TSF_BOOLEAN, "tru", "bad boolean");
    b = 1;
    cr_assert_str_eq(render(TSF_BOOLEAN, &b), "true");
    b = 0;
    cr_assert_str_eq(render(TSF_BOOLEAN, &b), "false");
    b = 7;
    cr_assert_str_eq(render(TSF_BOOLEAN, &b), "true");
}

Test(lines_date, parse_render)
{
    int32_t d;
    const char *why;
    cr_assert_eq(parse(TSF_DATE, "2026-02-28", &d, &why), 0);
    cr_assert_eq(d, 20260228);
    cr_assert_str_eq(render(TSF_DATE, &d), "2026-02-28");
    cr_assert_eq(parse(TSF_DATE, "2024-02-29", &d, &why), 0);
    cr_assert_eq(parse(TSF_DATE, "2000-02-29", &d, &why), 0);
    cr_assert_eq(parse(TSF_DATE, "1000-01-01", &d, &why), 0);
    cr_assert_eq(d, 10000101);
    cr_assert_eq(parse(TSF_DATE, "9999-12-31", &d, &why), 0);
    cr_assert_eq(d, 99991231);
    refuse(TSF_DATE, "2026-02-30", "bad date");
    refuse(TSF_DATE, "2026-02-29", "bad date");
    refuse(TSF_DATE, "1900-02-29", "bad date");
    refuse(TSF_DATE, "2026-13-01", "bad date");
    refuse(TSF_DATE, "2026-00-10", "bad date");
    refuse(TSF_DATE, "2026-04-31", "bad date");
    refuse(TSF_DATE, "2026-04-00", "bad date");
    refuse(TSF_DATE, "0999-12-31", "bad date");
    refuse(TSF_DATE, "2026-1-01", "bad date");
    refuse(TSF_DATE, "2026/01/01", "bad date");
    refuse(TSF_DATE, "20260101", "bad date");
    refuse(TSF_DATE, "2026-01-01T00", "bad date");
    /* Stored values that are not dates print as plain integers. */
    int32_t odd[] = {20261301, 0, -5, 20260230, INT32_MAX, INT32_MIN, 101};
    const char *want[] = {"20261301", "0", "-5", "20260230", "2147483647", "-2147483648", "0000-01-01"};
    for (int i = 0; i < 7; i++) cr_assert_str_eq(render(TSF_DATE, &odd[i]), want[i]);
    /* Every date of years 1000-9999 round-trips. */
    char buf[48];
    for (int y = 1000; y <= 9999; y += 7)
        for (int m = 1; m <= 12; m++)
            for (int dd = 1; dd <= 31; dd++) {
                int32_t v = y * 10000 + m * 100 + dd;
                snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, dd);
                int rc = parse(TSF_DATE, buf, &d, &why);
                if (rc == 0) {
                    cr_assert_eq(d, v);
                    cr_assert_str_eq(render(TSF_DATE, &v), buf);
                } else {
                    cr_assert(dd >= 29, "%s refused", buf);
                }
            }
}

/* ---- times ----------------------------------------------------------- */

static int64_t ptime(const char *s)
{
    int64_t t;
    const char *why = NULL;
    int rc = ln_parse_time(s, strlen(s), &t, &why);
    cr_assert_eq(rc, 0, "\"%s\" refused: %s", s, why ? why : "?");
    return t;
}

static void time_refused(const char *s)
{
    int64_t t;
    const char *why = NULL;
    cr_assert_eq(ln_parse_time(s, strlen(s), &t, &why), -EINVAL, "\"%s\" accepted", s);
    cr_assert_not_null(why);
}

Test(lines_time, iso_parse)
{
    /* Constants from `date -u -d ... +%s`. */
    cr_assert_eq(ptime("2026-11-22T10:00:00Z"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22 10:00:00"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T18:00:00+08:00"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T18:00:00+0800"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T05:30:00-04:30"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00-00:00"), 1795341600000LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00.5Z"), 1795341600500LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00.05Z"), 1795341600050LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00.123Z"), 1795341600123LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00.123999999Z"), 1795341600123LL);
    cr_assert_eq(ptime("2026-11-22T10:00:00.999+08:00"), 1795341600999LL - 8 * 3600000LL);
    cr_assert_eq(ptime("1970-01-01T00:00:00Z"), 0);
    cr_assert_eq(ptime("1969-12-31T23:59:59Z"), -1000);
    cr_assert_eq(ptime("1969-12-31T23:59:59.999Z"), -1);
    cr_assert_eq(ptime("0000-01-01T00:00:00Z"), -62167219200000LL);
    cr_assert_eq(ptime("9999-12-31T23:59:59.999Z"), 253402300799999LL);
    cr_assert_eq(ptime("2024-02-29T12:34:56Z"), 1709210096000LL);
    cr_assert_eq(ptime("1900-03-01T00:00:00Z"), -2203891200000LL);
    cr_assert_eq(ptime("0000-01-01T00:00:00+23:59"), -62167219200000LL - (23 * 60 + 59) * 60000LL);
}

Test(lines_time, ms_parse)
{
    cr_assert_eq(ptime("1700000000000"), 1700000000000LL);
    cr_assert_eq(ptime("0"), 0);
    cr_assert_eq(ptime("-5"), -5);
    cr_assert_eq(ptime("+5"), 5);
    cr_assert_eq(ptime("9223372036854775807"), INT64_MAX);
    cr_assert_eq(ptime("-9223372036854775808"), INT64_MIN);
}

Test(lines_time, refusals)
{
    const char *bad[] = {"",
                         "9223372036854775808",
                         "-9223372036854775809",
                         "99999999999999999999999",
                         "12x",
                         "1.5",
                         " 1700000000000",
                         "1700000000000 ",
                         "2026-02-30T00:00:00Z",
                         "2026-02-29T00:00:00Z",
                         "2026-13-01T00:00:00Z",
                         "2026-00-01T00:00:00Z",
                         "2026-11-22T24:00:00Z",
                         "2026-11-22T10:60:00Z",
                         "2026-11-22T10:00:60Z",
                         "2026-11-22T10:00:00.Z",
                         "2026-11-22T10:00:00.",
                         "2026-11-22T10:00:00+8:00",
                         "2026-11-22T10:00:00+08",
                         "2026-11-22T10:00:00+08:0",
                         "2026-11-22T10:00:00+24:00",
                         "2026-11-22T10:00:00+08:60",
                         "2026-11-22T10:00:00ZZ",
                         "2026-11-22T10:00:00 Z",
                         "2026-11-22T10:00:00Z ",
                         "2026-11-22",
                         "2026-11-22T10:00",
                         "2026-11-22X10:00:00",
                         "2026-11-22T10-00-00",
                         "20a6-11-22T10:00:00",
                         "2026-11-22T10:00:00.1a"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) time_refused(bad[i]);
    int64_t t;
    const char *why;
    ln_parse_time("9223372036854775808", 19, &t, &why);
    cr_assert_str_eq(why, "out of range");
    ln_parse_time("2026-02-30T00:00:00Z", 20, &t, &why);
    cr_assert_str_eq(why, "bad date");
}

Test(lines_time, render)
{
    char buf[LN_MAX_SCALAR + 1];
    size_t n = ln_render_time(1795341600000LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "2026-11-22T10:00:00.000Z");
    n = ln_render_time(-1, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "1969-12-31T23:59:59.999Z");
    n = ln_render_time(-62167219200000LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "0000-01-01T00:00:00.000Z");
    n = ln_render_time(253402300799999LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "9999-12-31T23:59:59.999Z");
    /* Outside years 0000-9999 the ISO form falls back to decimal ms. */
    n = ln_render_time(253402300800000LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "253402300800000");
    n = ln_render_time(-62167219200001LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "-62167219200001");
    n = ln_render_time(INT64_MIN, LN_TIME_MS, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "-9223372036854775808");
    n = ln_render_time(1700000000123LL, LN_TIME_MS, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "1700000000123");
    n = ln_render_time(1709210096007LL, LN_TIME_ISO, buf);
    buf[n] = 0;
    cr_assert_str_eq(buf, "2024-02-29T12:34:56.007Z");
}

Test(lines_time, roundtrip)
{
    char buf[LN_MAX_SCALAR];
    int64_t extremes[] = {INT64_MIN,         INT64_MAX,        0, -1, 1, -62167219200000LL, 253402300799999LL,
                          -62167219200001LL, 253402300800000LL};
    for (size_t i = 0; i < sizeof(extremes) / sizeof(extremes[0]); i++)
        for (int f = 0; f < 2; f++) {
            size_t n = ln_render_time(extremes[i], f ? LN_TIME_ISO : LN_TIME_MS, buf);
            int64_t t;
            const char *why;
            cr_assert_eq(ln_parse_time(buf, n, &t, &why), 0);
            cr_assert_eq(t, extremes[i]);
        }
    for (int i = 0; i < 300000; i++) {
        int64_t v = (int64_t)(rnd() % 315569520000000ULL) - 62167219200000LL; /* years 0000-9999 */
        if (i % 3 == 0) v = (int64_t)rnd();
        for (int f = 0; f < 2; f++) {
            size_t n = ln_render_time(v, f ? LN_TIME_ISO : LN_TIME_MS, buf);
            cr_assert_leq(n, LN_MAX_SCALAR);
            int64_t t;
            const char *why;
            cr_assert_eq(ln_parse_time(buf, n, &t, &why), 0, "%.*s", (int)n, buf);
            cr_assert_eq(t, v);
        }
        int64_t ts;
        const char *why;
        cr_assert_eq(parse(TSF_TIMESTAMP, render(TSF_TIMESTAMP, &v), &ts, &why), 0);
        cr_assert_eq(ts, v);
    }
}

Test(lines_time, every_day_matches_a_counting_calendar)
{
    /* Walk 0000-01-01 .. 9999-12-31 one day at a time with the plain
     * increment-the-date rule and compare with the closed formulas. */
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = 0, m = 1, d = 1;
    int64_t t = -62167219200000LL;
    char buf[LN_MAX_SCALAR + 1], want[80];
    for (;;) {
        size_t n = ln_render_time(t, LN_TIME_ISO, buf);
        buf[n] = 0;
        snprintf(want, sizeof(want), "%04d-%02d-%02dT00:00:00.000Z", y, m, d);
        cr_assert_str_eq(buf, want);
        int64_t back;
        const char *why;
        cr_assert_eq(ln_parse_time(buf, n, &back, &why), 0);
        cr_assert_eq(back, t);
        if (y == 9999 && m == 12 && d == 31) break;
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        int last = m == 2 && leap ? 29 : dim[m - 1];
        if (++d > last) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
        t += 86400000LL;
    }
}

/* ---- inference ------------------------------------------------------- */

Test(lines_infer, types)
{
    const char *dbl[] = {"21.5", "-3", "1e5", "NaN",  "Infinity", "-Infinity", "+5",
                         ".5",   "5.", "0",   "1E-3", "nan",      "1e400"};
    for (size_t i = 0; i < sizeof(dbl) / sizeof(dbl[0]); i++)
        cr_assert_eq(ln_infer_type(dbl[i], strlen(dbl[i])), TSF_DOUBLE, "%s", dbl[i]);
    const char *bo[] = {"true", "FALSE", "True"};
    for (size_t i = 0; i < 3; i++) cr_assert_eq(ln_infer_type(bo[i], strlen(bo[i])), TSF_BOOLEAN);
    const char *txt[] = {"",   "0x12",   "abc",   "1,2",        "1e", " 1",
                         "1 ", "nan(1)", "truex", "2026-01-01", "-",  "."};
    for (size_t i = 0; i < sizeof(txt) / sizeof(txt[0]); i++)
        cr_assert_eq(ln_infer_type(txt[i], strlen(txt[i])), TSF_TEXT, "\"%s\"", txt[i]);
}

/* ---- text and blobs -------------------------------------------------- */

Test(lines_text, escapes)
{
    const char *raw = "a\\b\nc\rd";
    TsfBin b = {(const uint8_t *)raw, (uint32_t)strlen(raw)};
    cr_assert_str_eq(render(TSF_TEXT, &b), "a\\\\b\\nc\\rd");
    cr_assert_str_eq(render(TSF_STRING, &b), "a\\\\b\\nc\\rd");
    TsfBin e = {NULL, 0};
    cr_assert_str_eq(render(TSF_TEXT, &e), "");

    LnArena arena = {0};
    const char *why;
    TsfBin out;
    const char *in = "tab\\t stays";
    cr_assert_eq(ln_parse_value(TSF_TEXT, in, strlen(in), &out, &arena, &why), 0);
    cr_assert_eq(out.ptr, (const uint8_t *)in, "no escape: points into the input");
    cr_assert_eq(out.len, strlen(in));
    in = "trailing\\";
    cr_assert_eq(ln_parse_value(TSF_TEXT, in, strlen(in), &out, &arena, &why), 0);
    cr_assert_eq(out.ptr, (const uint8_t *)in);
    in = "x\\\\y\\nz\\r\\q";
    cr_assert_eq(ln_parse_value(TSF_STRING, in, strlen(in), &out, &arena, &why), 0);
    cr_assert_eq(out.len, 8);
    cr_assert(memcmp(out.ptr, "x\\y\nz\r\\q", 8) == 0);
    cr_assert_neq(out.ptr, (const uint8_t *)in, "escapes: copied into the arena");
    cr_assert_eq(ln_parse_value(TSF_TEXT, "", 0, &out, &arena, &why), 0);
    cr_assert_eq(out.len, 0);
    ln_arena_free(&arena);
}

Test(lines_text, random_roundtrip)
{
    static const uint8_t pick[] = {'\\', '\n', '\r', 'n', 'r', 'a', ',', '"', ' ', 0, 0xff, 0x80};
    LnArena arena = {0};
    uint8_t raw[300];
    char esc[700];
    for (int i = 0; i < 50000; i++) {
        size_t n = rnd() % sizeof(raw);
        for (size_t j = 0; j < n; j++) raw[j] = rnd() & 1 ? pick[rnd() % sizeof(pick)] : (uint8_t)rnd();
        size_t len = ln_text_len(raw, n);
        size_t m = ln_text_escape(raw, n, esc);
        cr_assert_eq(len, m);
        cr_assert_null(memchr(esc, '\n', m));
        cr_assert_null(memchr(esc, '\r', m));
        TsfBin b = {raw, (uint32_t)n};
        cr_assert_eq(ln_value_len(TSF_TEXT, &b), m);
        TsfBin out;
        const char *why;
        cr_assert_eq(ln_parse_value(TSF_TEXT, esc, m, &out, &arena, &why), 0);
        cr_assert_eq(out.len, n);
        cr_assert(n == 0 || memcmp(out.ptr, raw, n) == 0);
        if (i % 1000 == 0) ln_arena_reset(&arena);
    }
    ln_arena_free(&arena);
}

Test(lines_blob, parse_render)
{
    uint8_t bytes[] = {0x00, 0xab, 0xff, 0x10};
    TsfBin b = {bytes, 4};
    cr_assert_str_eq(render(TSF_BLOB, &b), "0x00abff10");
    TsfBin e = {NULL, 0};
    cr_assert_str_eq(render(TSF_BLOB, &e), "0x");
    LnArena arena = {0};
    TsfBin out;
    const char *why;
    cr_assert_eq(ln_parse_value(TSF_BLOB, "0x00ABff10", 10, &out, &arena, &why), 0);
    cr_assert_eq(out.len, 4);
    cr_assert(memcmp(out.ptr, bytes, 4) == 0);
    cr_assert_eq(ln_parse_value(TSF_BLOB, "0X", 2, &out, &arena, &why), 0);
    cr_assert_eq(out.len, 0);
    refuse(TSF_BLOB, "0x1", "bad blob");
    refuse(TSF_BLOB, "0xzz", "bad blob");
    refuse(TSF_BLOB, "12", "bad blob");
    refuse(TSF_BLOB, "", "bad blob");
    refuse(TSF_BLOB, "x0", "bad blob");
    refuse(TSF_BLOB, "0x0g", "bad blob");
    uint8_t raw[100];
    for (int i = 0; i < 5000; i++) {
        size_t n = rnd() % sizeof(raw);
        for (size_t j = 0; j < n; j++) raw[j] = (uint8_t)rnd();
        TsfBin r = {raw, (uint32_t)n};
        const char *s = render(TSF_BLOB, &r);
        cr_assert_eq(ln_parse_value(TSF_BLOB, s, strlen(s), &out, &arena, &why), 0);
        cr_assert_eq(out.len, n);
        cr_assert(n == 0 || memcmp(out.ptr, raw, n) == 0);
    }
    ln_arena_free(&arena);
}

Test(lines_misc, copies_need_an_arena)
{
    TsfBin out;
    const char *why;
    cr_assert_eq(ln_parse_value(TSF_TEXT, "a\\nb", 4, &out, NULL, &why), -EINVAL);
    cr_assert_str_eq(why, "no arena");
    cr_assert_eq(ln_parse_value(TSF_TEXT, "plain", 5, &out, NULL, &why), 0, "no copy, no arena needed");
    cr_assert_eq(ln_parse_value(TSF_BLOB, "0x00", 4, &out, NULL, &why), -EINVAL);
    LnCell c[2];
    cr_assert_eq(ln_csv_split("\"a\"\"b\"", 6, c, 2, NULL, &why), -EINVAL);
    cr_assert_eq(ln_csv_split("\"ab\",c", 6, c, 2, NULL, &why), 2, "no copy, no arena needed");
}

Test(lines_misc, unknown_type)
{
    int64_t v = 5;
    char buf[LN_MAX_SCALAR];
    cr_assert_eq(ln_render_value(TSF_VECTOR, &v, buf), 0);
    cr_assert_eq(ln_value_len(TSF_VECTOR, &v), 0);
    refuse(TSF_VECTOR, "5", "bad type");
    refuse((TsfType)77, "5", "bad type");
}

Test(lines_misc, value_len_matches_render_everywhere)
{
    /* Exactly LN_MAX_SCALAR bytes on the heap, so ASan sees any overrun;
     * renderers may scribble past the length but stay under 40 bytes. */
    char *buf = malloc(LN_MAX_SCALAR);
    cr_assert_not_null(buf);
    for (int i = 0; i < 200000; i++) {
        uint64_t r = rnd();
        if (i % 4 == 1) r >>= rnd() % 64; /* short values too */
        uint8_t b = (uint8_t)r;
        int32_t i32 = (int32_t)r;
        int64_t i64 = (int64_t)r;
        float f = bits_f((uint32_t)r);
        double d = bits_d(r);
        if (i % 4 == 2) d = (double)(int64_t)r / 1000.0;
        if (i % 4 == 3) f = (float)(int32_t)r / 100.0f;
        int32_t date = (int32_t)(r % 100000000);
        TsfType types[] = {TSF_BOOLEAN, TSF_INT32, TSF_INT64, TSF_FLOAT, TSF_DOUBLE, TSF_TIMESTAMP, TSF_DATE};
        const void *vals[] = {&b, &i32, &i64, &f, &d, &i64, &date};
        for (int t = 0; t < 7; t++) {
            memset(buf, 0x5a, LN_MAX_SCALAR);
            size_t n = ln_render_value(types[t], vals[t], buf);
            cr_assert_leq(n, LN_MAX_SCALAR);
            cr_assert_eq(ln_value_len(types[t], vals[t]), n);
            for (size_t j = 40; j < LN_MAX_SCALAR; j++)
                cr_assert_eq(buf[j], 0x5a, "type %d wrote byte %zu", t, j);
        }
    }
    free(buf);
}

/* ---- arena ----------------------------------------------------------- */

Test(lines_arena, stable_pointers_and_reset)
{
    LnArena arena = {0};
    TsfBin kept[2000];
    char in[64];
    const char *why;
    for (int i = 0; i < 2000; i++) {
        int n = snprintf(in, sizeof(in), "v%d\\nline %d", i, i);
        cr_assert_eq(ln_parse_value(TSF_TEXT, in, (size_t)n, &kept[i], &arena, &why), 0);
    }
    char big[20000];
    memset(big, 'b', sizeof(big));
    big[0] = '\\';
    big[1] = 'n';
    TsfBin bb;
    cr_assert_eq(ln_parse_value(TSF_TEXT, big, sizeof(big), &bb, &arena, &why), 0);
    cr_assert_eq(bb.len, sizeof(big) - 1);
    for (int i = 0; i < 2000; i++) {
        char want[64];
        int n = snprintf(want, sizeof(want), "v%d\nline %d", i, i);
        cr_assert_eq(kept[i].len, (uint32_t)n);
        cr_assert(memcmp(kept[i].ptr, want, (size_t)n) == 0);
    }
    cr_assert_gt(arena.total, 20000);
    ln_arena_reset(&arena);
    cr_assert_eq(arena.total, 0);
    cr_assert_not_null(arena.head);
    cr_assert_eq(ln_parse_value(TSF_TEXT, big, sizeof(big), &bb, &arena, &why), 0);
    ln_arena_reset(&arena);
    ln_arena_reset(&arena);
    ln_arena_free(&arena);
    cr_assert_null(arena.head);
    ln_arena_free(&arena);
}

/* ---- CSV ------------------------------------------------------------- */

static const char *cell(const char *s)
{
    static char buf[256];
    size_t n = ln_csv_cell((const uint8_t *)s, strlen(s), buf);
    cr_assert_eq(ln_csv_cell_len((const uint8_t *)s, strlen(s)), n);
    buf[n] = 0;
    return buf;
}

Test(lines_csv, cells)
{
    cr_assert_str_eq(cell("abc"), "abc");
    cr_assert_str_eq(cell(""), "");
    cr_assert_str_eq(cell("a,b"), "\"a,b\"");
    cr_assert_str_eq(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    cr_assert_str_eq(cell(" lead"), "\" lead\"");
    cr_assert_str_eq(cell("trail "), "\"trail \"");
    cr_assert_str_eq(cell("in side"), "in side");
    cr_assert_str_eq(cell("line\nbreak"), "\"line\nbreak\"");
    cr_assert_str_eq(cell("cr\r"), "\"cr\r\"");
    cr_assert_str_eq(cell("back\\slash"), "back\\slash");
    cr_assert_eq(ln_csv_cell_len(NULL, 0), 0);
}

static int split(const char *rec, LnCell *cells, size_t max, LnArena *arena, const char **why)
{
    return ln_csv_split(rec, strlen(rec), cells, max, arena, why);
}

static void cell_is(const LnCell *c, const char *want)
{
    cr_assert_eq(c->n, strlen(want), "cell \"%.*s\" want \"%s\"", (int)c->n, c->p, want);
    cr_assert(memcmp(c->p, want, c->n) == 0, "cell \"%.*s\" want \"%s\"", (int)c->n, c->p, want);
}

Test(lines_csv, split)
{
    LnArena arena = {0};
    LnCell c[8];
    const char *why;
    cr_assert_eq(split("a,b,c", c, 8, &arena, &why), 3);
    cell_is(&c[0], "a");
    cell_is(&c[2], "c");
    cr_assert_eq(split("a,,c", c, 8, &arena, &why), 3);
    cell_is(&c[1], "");
    cr_assert_eq(split("", c, 8, &arena, &why), 1);
    cell_is(&c[0], "");
    cr_assert_eq(split("a,", c, 8, &arena, &why), 2);
    cell_is(&c[1], "");
    cr_assert_eq(split(",", c, 8, &arena, &why), 2);
    cr_assert_eq(split("\"a,b\",c", c, 8, &arena, &why), 2);
    cell_is(&c[0], "a,b");
    cell_is(&c[1], "c");
    cr_assert_eq(split("\"x\"\"y\"", c, 8, &arena, &why), 1);
    cell_is(&c[0], "x\"y");
    cr_assert_eq(split("\"\"", c, 8, &arena, &why), 1);
    cell_is(&c[0], "");
    cr_assert_eq(split("\"\"\"\"", c, 8, &arena, &why), 1);
    cell_is(&c[0], "\"");
    cr_assert_eq(split("\"\",\"\"", c, 8, &arena, &why), 2);
    cr_assert_eq(split("5\" screen,x", c, 8, &arena, &why), 2);
    cell_is(&c[0], "5\" screen");
    cr_assert_eq(split(" \"a\" ,b", c, 8, &arena, &why), 2);
    cell_is(&c[0], " \"a\" ");
    cr_assert_eq(split("\"multi\nline\r\n\",1", c, 8, &arena, &why), 2);
    cell_is(&c[0], "multi\nline\r\n");
    cr_assert_eq(split("\"abc\"x", c, 8, &arena, &why), -EINVAL);
    cr_assert_str_eq(why, "text after closing quote");
    cr_assert_eq(split("\"abc\" ", c, 8, &arena, &why), -EINVAL);
    cr_assert_eq(split("\"abc", c, 8, &arena, &why), -EINVAL);
    cr_assert_str_eq(why, "unclosed quote");
    cr_assert_eq(split("a,\"b\"\"", c, 8, &arena, &why), -EINVAL);
    cr_assert_str_eq(why, "unclosed quote");
    cr_assert_eq(split("\"", c, 8, &arena, &why), -EINVAL);
    cr_assert_eq(split("a,b,c", c, 2, &arena, &why), -EINVAL);
    cr_assert_str_eq(why, "too many cells");
    cr_assert_eq(split("a,b", c, 2, &arena, &why), 2);
    cr_assert_eq(split("a,b,", c, 2, &arena, &why), -EINVAL);
    ln_arena_free(&arena);
}

Test(lines_csv, record_len)
{
    struct {
        const char *buf;
        size_t want;
    } cases[] = {
        {"a,b\nc", 4},
        {"a,b\r\nc", 5},
        {"a,b", 0},
        {"", 0},
        {"\n", 1},
        {"a,\"b\nc\"\nnext", 8},
        {"\"a\"\"\n\"\nx", 7},
        {"\"abc\n", 0},
        {"\"abc\"\"\n", 0},
        {"5\" screen\nx", 10},
        {"x,\"q\"junk\ny", 10},
        {"\"a\r\n\",\"\"\"\r\n\"\r\nz", 14},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(ln_csv_record_len(cases[i].buf, strlen(cases[i].buf)), cases[i].want, "case %zu", i);
}

Test(lines_csv, random_roundtrip)
{
    static const uint8_t pick[] = {',', '"', '\r', '\n', ' ', 'a', 'b', '\\'};
    LnArena arena = {0};
    char rec[4096];
    uint8_t cells[8][40];
    size_t lens[8];
    LnCell got[8];
    for (int iter = 0; iter < 30000; iter++) {
        size_t nc = 1 + rnd() % 8, n = 0;
        for (size_t i = 0; i < nc; i++) {
            lens[i] = rnd() % 40;
            for (size_t j = 0; j < lens[i]; j++)
                cells[i][j] = rnd() % 3 ? pick[rnd() % sizeof(pick)] : (uint8_t)rnd();
            if (i > 0) rec[n++] = ',';
            size_t w = ln_csv_cell(cells[i], lens[i], rec + n);
            cr_assert_eq(w, ln_csv_cell_len(cells[i], lens[i]));
            n += w;
        }
        size_t body = n;
        bool crlf = rnd() & 1;
        if (crlf) rec[n++] = '\r';
        rec[n++] = '\n';
        size_t reclen = n;
        memcpy(rec + n, "next,\"row\n", 10);
        n += 10;
        cr_assert_eq(ln_csv_record_len(rec, n), reclen);
        cr_assert_eq(ln_csv_record_len(rec, reclen - 1), 0, "no complete record without its LF");
        const char *why;
        int k = ln_csv_split(rec, body, got, 8, &arena, &why);
        cr_assert_eq(k, (int)nc, "split: %d (%s)", k, k < 0 ? why : "");
        for (size_t i = 0; i < nc; i++) {
            cr_assert_eq(got[i].n, lens[i]);
            cr_assert(lens[i] == 0 || memcmp(got[i].p, cells[i], lens[i]) == 0);
        }
        if (iter % 100 == 0) ln_arena_reset(&arena);
    }
    ln_arena_free(&arena);
}
