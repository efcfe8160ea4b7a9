/*
 * lines.c: parsing and rendering of sensor lines and CSV cells (contract in lines.h).
 *
 * Rendering is the hot path of `cat sensor`, so it never allocates, avoids
 * printf wherever it can, and avoids branches whose outcome changes from one
 * point to the next (a mispredict costs as much as printing the value):
 *
 *   - Integers print through a 200-byte table of digit pairs, with a length
 *     found by one clz.  Times use an exact writer (backwards, 8 digits per
 *     64-bit step).  Values build 8 ASCII digits in a register and store the
 *     whole word, so they may write scratch bytes past the returned length,
 *     but never past 35 bytes of out (the contract gives LN_MAX_SCALAR = 64).
 *   - Doubles: the smallest k = 0..17 with m = round(|x| * 10^k) < 2^53 and
 *     m / 10^k == |x| gives the shortest fixed-point decimal.  Both operands
 *     of that division are exact doubles, so IEEE division yields the
 *     correctly rounded value of the decimal m * 10^-k, which is exactly what
 *     strtod returns for it: the printed text round-trips.  A cheap screen
 *     (is |x| * 10^k within a few ulps of an integer?) picks the k worth a
 *     division; k = 0..3 are screened at once without branches.  Values in
 *     [1e-4, 2^53) that need 16 or 17 digits get them from exact 128-bit
 *     integer arithmetic on the binary mantissa (dbl_digits).  The rest
 *     (huge, tiny) go through snprintf %.15g / %.16g / %.17g, taking the
 *     first that strtod maps back to x.  Floats use the fixed path in float
 *     arithmetic (k = 0..10, m < 2^24), else %.6g..%.9g with strtof.
 *     The exactness argument needs FLT_EVAL_METHOD == 0 (SSE, AArch64);
 *     elsewhere only the printf path is used.
 *   - -0.0 prints "-0", NaN "NaN" (any payload or sign), infinities
 *     "Infinity" / "-Infinity".  DATE prints YYYY-MM-DD when the int32 is a
 *     real date of years 0000-9999, else the plain integer.  ISO times print
 *     fixed width for years 0000-9999 and fall back to decimal ms outside.
 *
 * Parsing is strict and locale independent where it matters: integers use an
 * overflow-checked digit loop; decimal numbers are checked against the
 * grammar  [+-]? (d+ [.d*] | .d+) ([eE] [+-]? d+)?  before anything converts
 * them (so strtod never sees hex, "nan(...)" or spaces), then take the
 * Clinger fast path (at most 19 significant digits, m <= 2^53 and
 * |exp10| <= 22: one correctly rounded IEEE operation) or strtod on a NUL
 * terminated stack copy.  strtod assumes the "C" numeric locale, which a
 * daemon that never calls setlocale keeps.
 *
 * The arena hands out byte runs from a chain of blocks (newest first),
 * doubling up to ARENA_MAX_GROW; reset frees all but its largest block so a
 * steady workload stops allocating.
 */
#include "lines.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NUM_MAX_LEN    511         /* longest numeric value accepted */
#define ARENA_MIN      4096        /* first block size */
#define ARENA_MAX_GROW (16u << 20) /* doubling stops here */
#define MS_PER_DAY     86400000LL

/* The digit and decimal helpers are small and called from several places;
 * GCC would otherwise keep some out of line on the hot path. */
#define HOT_INLINE static inline __attribute__((always_inline))

/* Tests may force either to 0 to exercise the portable paths. */
#ifndef LN_EXACT_FP
#if defined(FLT_EVAL_METHOD) && FLT_EVAL_METHOD == 0
#define LN_EXACT_FP 1
#else
#define LN_EXACT_FP 0
#endif
#endif

/* ---- integers -------------------------------------------------------- */

static const char DIGITS2[201] = "00010203040506070809"
                                 "10111213141516171819"
                                 "20212223242526272829"
                                 "30313233343536373839"
                                 "40414243444546474849"
                                 "50515253545556575859"
                                 "60616263646566676869"
                                 "70717273747576777879"
                                 "80818283848586878889"
                                 "90919293949596979899";

static const uint64_t POW10U[20] = {1ULL,
                                    10ULL,
                                    100ULL,
                                    1000ULL,
                                    10000ULL,
                                    100000ULL,
                                    1000000ULL,
                                    10000000ULL,
                                    100000000ULL,
                                    1000000000ULL,
                                    10000000000ULL,
                                    100000000000ULL,
                                    1000000000000ULL,
                                    10000000000000ULL,
                                    100000000000000ULL,
                                    1000000000000000ULL,
                                    10000000000000000ULL,
                                    100000000000000000ULL,
                                    1000000000000000000ULL,
                                    10000000000000000000ULL};

/* Powers of ten exact as doubles (5^22 < 2^53). */
static const double POW10D[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
/* Powers of ten exact as floats (5^10 < 2^24). */
static const float POW10F[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

/* Decimal digits of v (1 for 0).  v | 1 keeps 0 at one digit and changes no
 * other count, since every power of ten above 1 is even. */
HOT_INLINE unsigned u64_len(uint64_t v)
{
    uint64_t w = v | 1;
    unsigned bits = 64u - (unsigned)__builtin_clzll(w);
    unsigned guess = (bits * 1233u) >> 12; /* about bits * log10(2) */
    return guess + (w >= POW10U[guess]);
}

HOT_INLINE void put2(char *p, unsigned v)
{
    memcpy(p, DIGITS2 + 2 * v, 2);
}

/* Writes v as exactly len digits ending at out + len (len >= u64_len(v);
 * extra positions become leading zeros only when v's digits are fewer). */
static inline void u64_write(char *out, uint64_t v, unsigned len)
{
    char *p = out + len;
    while (v > 0xffffffffULL) {
        uint64_t q = v / 100000000ULL;
        uint32_t r = (uint32_t)(v - q * 100000000ULL);
        p -= 8;
        put2(p + 6, r % 100);
        r /= 100;
        put2(p + 4, r % 100);
        r /= 100;
        put2(p + 2, r % 100);
        put2(p, r / 100);
        v = q;
    }
    uint32_t w = (uint32_t)v;
    while (w >= 100) {
        p -= 2;
        put2(p, w % 100);
        w /= 100;
    }
    if (w >= 10) {
        p -= 2;
        put2(p, w);
    } else {
        *--p = (char)('0' + w);
    }
    while (p > out) *--p = '0';
}

static inline size_t render_u64(uint64_t v, char *out)
{
    unsigned len = u64_len(v);
    u64_write(out, v, len);
    return len;
}

static inline size_t render_i64(int64_t v, char *out)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + render_u64(0 - (uint64_t)v, out + 1);
    }
    return render_u64((uint64_t)v, out);
}

static inline size_t i64_len(int64_t v)
{
    return v < 0 ? 1 + u64_len(0 - (uint64_t)v) : u64_len((uint64_t)v);
}

/* Value renderers may use all of out[0..LN_MAX_SCALAR) (the contract's
 * buffer size) as scratch: they store whole 8-byte words of digits and let
 * the next word or the caller's next bytes overwrite the excess.  That
 * keeps digit output free of length-dependent branches, which mispredict
 * when consecutive values differ in length.  Little-endian only; other
 * byte orders use the exact writers. */
#ifndef LN_WORD_DIGITS
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define LN_WORD_DIGITS 1
#else
#define LN_WORD_DIGITS 0
#endif
#endif

/* x < 10^8 as 8 zero-padded ASCII digits, the first in the lowest byte. */
HOT_INLINE uint64_t ascii8(uint32_t x)
{
    uint32_t a = x / 10000, b = x % 10000;
    uint16_t p0, p1, p2, p3;
    memcpy(&p0, DIGITS2 + 2 * (a / 100), 2);
    memcpy(&p1, DIGITS2 + 2 * (a % 100), 2);
    memcpy(&p2, DIGITS2 + 2 * (b / 100), 2);
    memcpy(&p3, DIGITS2 + 2 * (b % 100), 2);
    return p0 | (uint64_t)p1 << 16 | (uint64_t)p2 << 32 | (uint64_t)p3 << 48;
}

/* v in decimal at out; stores up to 16 bytes. */
HOT_INLINE size_t put_u64_scratch(char *out, uint64_t v)
{
    unsigned len = u64_len(v);
#if LN_WORD_DIGITS
    uint64_t w;
    if (v < 100000000ULL) {
        w = ascii8((uint32_t)v) >> (8 * (8 - len)); /* drop the padding zeros */
        memcpy(out, &w, 8);
        return len;
    }
    if (v < 10000000000000000ULL) {
        uint64_t hi = v / 100000000ULL;
        w = ascii8((uint32_t)hi) >> (8 * (16 - len));
        memcpy(out, &w, 8);
        w = ascii8((uint32_t)(v - hi * 100000000ULL));
        memcpy(out + len - 8, &w, 8);
        return len;
    }
#endif
    u64_write(out, v, len);
    return len;
}

/* v (< 10^k) as exactly k digits, zero-padded; stores up to max(k, 8) bytes. */
HOT_INLINE void put_padded_scratch(char *out, uint64_t v, unsigned k)
{
#if LN_WORD_DIGITS
    uint64_t w;
    if (k <= 8) {
        w = ascii8((uint32_t)v) >> (8 * (8 - k));
        memcpy(out, &w, 8);
        return;
    }
    if (k <= 16) {
        uint64_t hi = v / 100000000ULL;
        w = ascii8((uint32_t)hi) >> (8 * (16 - k));
        memcpy(out, &w, 8);
        w = ascii8((uint32_t)(v - hi * 100000000ULL));
        memcpy(out + k - 8, &w, 8);
        return;
    }
#endif
    u64_write(out, v, k);
}

HOT_INLINE size_t put_i64_scratch(char *out, int64_t v)
{
    size_t neg = v < 0;
    out[0] = '-'; /* overwritten when positive */
    return neg + put_u64_scratch(out + neg, neg ? 0 - (uint64_t)v : (uint64_t)v);
}

/* ---- calendar -------------------------------------------------------- */

/* Days since 1970-01-01 of a proleptic Gregorian date (closed form: years
 * start in March so the leap day is last; eras of 400 years). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* The inverse of days_from_civil. */
static void civil_from_days(int64_t z, int64_t *py, unsigned *pm, unsigned *pd)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned d = doy - (153 * mp + 2) / 5 + 1;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    *py = (int64_t)yoe + era * 400 + (m <= 2);
    *pm = m;
    *pd = d;
}

static bool is_leap(unsigned y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* n fixed digits at s into *v; false when any is not a digit. */
static bool fixed_digits(const char *s, unsigned n, unsigned *v)
{
    unsigned r = 0;
    for (unsigned i = 0; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9) return false;
        r = r * 10 + c;
    }
    *v = r;
    return true;
}

/* ---- times ----------------------------------------------------------- */

/* [+-]?digits, overflow-checked into int64.  Returns 0, or -EINVAL with
 * why = "bad number" / "out of range". */
static int parse_int_digits(const char *s, size_t n, int64_t *out, const char **why)
{
    size_t i = 0;
    bool neg = false;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == n) {
        *why = "bad number";
        return -EINVAL;
    }
    uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t v = 0;
    bool over = false;
    for (; i < n; i++) {
        unsigned c = (unsigned char)s[i] - '0';
        if (c > 9) {
            *why = "bad number";
            return -EINVAL;
        }
        if (v > (limit - c) / 10)
            over = true; /* keep scanning: a later bad char wins */
        else
            v = v * 10 + c;
    }
    if (over) {
        *why = "out of range";
        return -EINVAL;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int parse_iso(const char *s, size_t n, int64_t *ms, const char **why)
{
    unsigned y, mo, d, h, mi, sec;
    *why = "bad time";
    if (n < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        s[13] != ':' || s[16] != ':')
        return -EINVAL;
    if (!fixed_digits(s, 4, &y) || !fixed_digits(s + 5, 2, &mo) || !fixed_digits(s + 8, 2, &d) ||
        !fixed_digits(s + 11, 2, &h) || !fixed_digits(s + 14, 2, &mi) || !fixed_digits(s + 17, 2, &sec))
        return -EINVAL;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59) {
        *why = "bad date";
        return -EINVAL;
    }
    size_t i = 19;
    unsigned frac = 0;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (i - start < 3) frac = frac * 10 + (unsigned)(s[i] - '0');
        if (i == start) return -EINVAL;
        for (size_t k = i - start; k < 3; k++) frac *= 10; /* ".5" is 500 ms */
    }
    int64_t offset_min = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        unsigned oh, om;
        bool neg = s[i] == '-';
        if (n - i == 6 && s[i + 3] == ':') {
            if (!fixed_digits(s + i + 1, 2, &oh) || !fixed_digits(s + i + 4, 2, &om)) return -EINVAL;
        } else if (n - i == 5) {
            if (!fixed_digits(s + i + 1, 2, &oh) || !fixed_digits(s + i + 3, 2, &om)) return -EINVAL;
        } else {
            return -EINVAL;
        }
        if (oh > 23 || om > 59) {
            *why = "bad time zone";
            return -EINVAL;
        }
        offset_min = (int64_t)(oh * 60 + om) * (neg ? -1 : 1);
        i = n;
    }
    if (i != n) return -EINVAL;
    /* Years 0000-9999 with a day's offset stay far inside int64. */
    int64_t t = days_from_civil(y, mo, d) * MS_PER_DAY + (int64_t)(h * 3600 + mi * 60 + sec) * 1000 + frac;
    *ms = t - offset_min * 60000;
    return 0;
}

int ln_parse_time(const char *s, size_t n, int64_t *ms, const char **why)
{
    if (n == 0) {
        *why = "empty time";
        return -EINVAL;
    }
    if (n >= 10 && s[4] == '-' && s[0] >= '0' && s[0] <= '9') return parse_iso(s, n, ms, why);
    int rc = parse_int_digits(s, n, ms, why);
    if (rc != 0 && strcmp(*why, "bad number") == 0) *why = "bad time";
    return rc;
}

size_t ln_render_time(int64_t t, LnTimeFormat fmt, char *out)
{
    if (fmt != LN_TIME_ISO) return render_i64(t, out);
    int64_t days = t / MS_PER_DAY;
    int64_t rem = t % MS_PER_DAY;
    if (rem < 0) {
        rem += MS_PER_DAY;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) return render_i64(t, out); /* not expressible in fixed width */
    unsigned r = (unsigned)rem;
    unsigned msec = r % 1000, s = r / 1000;
    put2(out, (unsigned)y / 100);
    put2(out + 2, (unsigned)y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = 'T';
    put2(out + 11, s / 3600);
    out[13] = ':';
    put2(out + 14, s / 60 % 60);
    out[16] = ':';
    put2(out + 17, s % 60);
    out[19] = '.';
    out[20] = (char)('0' + msec / 100);
    put2(out + 21, msec % 100);
    out[23] = 'Z';
    return 24;
}

/* ---- decimal number grammar ------------------------------------------ */

typedef enum NumKind {
    NUM_BAD,
    NUM_INT, /* [+-]?digits */
    NUM_DEC, /* with a point or an exponent */
    NUM_NAN,
    NUM_INF,
} NumKind;

/* Case-insensitive equality of s[0..n) with lower-case word w. */
static bool eq_nocase(const char *s, size_t n, const char *w)
{
    size_t i = 0;
    for (; i < n && w[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a');
        if (c != (unsigned char)w[i]) return false;
    }
    return i == n && w[i] == 0;
}

/* Classifies s[0..n) by the grammar in the design comment, plus NaN and
 * Infinity / inf (any case, optional sign). */
static NumKind num_classify(const char *s, size_t n)
{
    size_t i = 0;
    if (n > 0 && (s[0] == '+' || s[0] == '-')) i = 1;
    if (i < n && (s[i] == 'n' || s[i] == 'N' || s[i] == 'i' || s[i] == 'I')) {
        if (eq_nocase(s + i, n - i, "nan")) return NUM_NAN;
        if (eq_nocase(s + i, n - i, "inf") || eq_nocase(s + i, n - i, "infinity")) return NUM_INF;
        return NUM_BAD;
    }
    size_t nd = 0;
    bool dec = false;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) nd++;
    if (i < n && s[i] == '.') {
        dec = true;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) nd++;
    }
    if (nd == 0) return NUM_BAD;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        dec = true;
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        size_t ne = 0;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) ne++;
        if (ne == 0) return NUM_BAD;
    }
    if (i != n) return NUM_BAD;
    return dec ? NUM_DEC : NUM_INT;
}

/* Mantissa and power of ten of a NUM_INT/NUM_DEC string.  Returns false
 * when the digits do not fit the fast path (more than 19 significant
 * digits or a huge exponent). */
static bool num_decompose(const char *s, size_t n, bool *neg, uint64_t *pm, int *pe)
{
    size_t i = 0;
    *neg = false;
    if (s[0] == '+' || s[0] == '-') {
        *neg = s[0] == '-';
        i = 1;
    }
    uint64_t m = 0;
    int sig = 0, e = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        if (m == 0 && s[i] == '0') continue;
        if (++sig > 19) return false;
        m = m * 10 + (uint64_t)(s[i] - '0');
    }
    if (i < n && s[i] == '.') {
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
            e--;
            if (m == 0 && s[i] == '0') continue;
            if (++sig > 19) return false;
            m = m * 10 + (uint64_t)(s[i] - '0');
        }
    }
    if (i < n) { /* exponent */
        i++;
        bool eneg = false;
        if (s[i] == '+' || s[i] == '-') eneg = s[i++] == '-';
        int x = 0;
        for (; i < n; i++) {
            if (x > 100000) return false;
            x = x * 10 + (s[i] - '0');
        }
        e += eneg ? -x : x;
    }
    *pm = m;
    *pe = e;
    return true;
}

/* What parse_double and parse_float check first: 0 for a finite number
 * still to convert (*neg set), 1 for NaN or an infinity (in *special), or
 * -EINVAL. */
static int float_prelude(const char *s, size_t n, bool *neg, double *special, const char **why)
{
    if (n > NUM_MAX_LEN) {
        *why = "too long";
        return -EINVAL;
    }
    NumKind k = num_classify(s, n);
    *neg = n > 0 && s[0] == '-';
    switch (k) {
    case NUM_BAD: *why = n == 0 ? "empty value" : "bad number"; return -EINVAL;
    case NUM_NAN: *special = *neg ? -NAN : NAN; return 1;
    case NUM_INF: *special = *neg ? -INFINITY : INFINITY; return 1;
    default: return 0;
    }
}

/* s[0..n) as a C string in buf (n <= NUM_MAX_LEN), for strtod/strtof. */
static const char *num_cstr(const char *s, size_t n, char *buf)
{
    memcpy(buf, s, n);
    buf[n] = 0;
    return buf;
}

/* Whether a strtod/strtof result is refused: trailing bytes or overflow. */
static bool float_result(double x, bool whole, const char **why)
{
    if (!whole)
        *why = "bad number";
    else if (isinf(x))
        *why = "out of range";
    return !whole || isinf(x);
}

static int parse_double(const char *s, size_t n, double *out, const char **why)
{
    bool neg;
    double special;
    int rc = float_prelude(s, n, &neg, &special, why);
    if (rc < 0) return rc;
    if (rc == 1) {
        *out = special;
        return 0;
    }
    uint64_t m;
    int e;
    if (LN_EXACT_FP && num_decompose(s, n, &neg, &m, &e)) {
        if (m == 0) {
            *out = neg ? -0.0 : 0.0;
            return 0;
        }
        if (m <= (1ULL << 53) && e >= -22 && e <= 22) {
            double x = (double)m;
            x = e >= 0 ? x * POW10D[e] : x / POW10D[-e];
            *out = neg ? -x : x;
            return 0;
        }
    }
    char buf[NUM_MAX_LEN + 1];
    char *end;
    double x = strtod(num_cstr(s, n, buf), &end);
    if (float_result(x, end == buf + n, why)) return -EINVAL;
    *out = x;
    return 0;
}

static int parse_float(const char *s, size_t n, float *out, const char **why)
{
    bool neg;
    double special;
    int rc = float_prelude(s, n, &neg, &special, why);
    if (rc < 0) return rc;
    if (rc == 1) {
        *out = (float)special;
        return 0;
    }
    uint64_t m;
    int e;
    if (LN_EXACT_FP && num_decompose(s, n, &neg, &m, &e)) {
        if (m == 0) {
            *out = neg ? -0.0f : 0.0f;
            return 0;
        }
        if (m <= (1ULL << 24) && e >= -10 && e <= 10) {
            float x = (float)m;
            x = e >= 0 ? x * POW10F[e] : x / POW10F[-e];
            *out = neg ? -x : x;
            return 0;
        }
    }
    char buf[NUM_MAX_LEN + 1];
    char *end;
    float x = strtof(num_cstr(s, n, buf), &end);
    if (float_result(x, end == buf + n, why)) return -EINVAL;
    *out = x;
    return 0;
}

static int parse_integer(const char *s, size_t n, int64_t lo, int64_t hi, int64_t *out, const char **why)
{
    if (n > NUM_MAX_LEN) {
        *why = "too long";
        return -EINVAL;
    }
    if (n == 0) {
        *why = "empty value";
        return -EINVAL;
    }
    int rc = parse_int_digits(s, n, out, why);
    if (rc != 0) {
        if (strcmp(*why, "bad number") == 0 && num_classify(s, n) != NUM_BAD) *why = "not an integer";
        return rc;
    }
    if (*out < lo || *out > hi) {
        *why = "out of range";
        return -EINVAL;
    }
    return 0;
}

TsfType ln_infer_type(const char *v, size_t n)
{
    if (eq_nocase(v, n, "true") || eq_nocase(v, n, "false")) return TSF_BOOLEAN;
    if (n <= NUM_MAX_LEN && num_classify(v, n) != NUM_BAD) return TSF_DOUBLE;
    return TSF_TEXT;
}

/* ---- arena ----------------------------------------------------------- */

struct LnArenaBlock {
    LnArenaBlock *next; /* older block */
    size_t size;        /* usable bytes in data */
    size_t used;        /* bytes handed out */
    unsigned char data[];
};

static void *arena_alloc(LnArena *a, size_t n)
{
    LnArenaBlock *b = a->head;
    if (n == 0) n = 1;
    if (b == NULL || b->size - b->used < n) {
        size_t size = b == NULL ? ARENA_MIN : b->size < ARENA_MAX_GROW ? b->size * 2 : ARENA_MAX_GROW;
        if (size < n) size = n;
        if (size > SIZE_MAX - sizeof(*b)) return NULL;
        b = malloc(sizeof(*b) + size);
        if (b == NULL) return NULL;
        b->next = a->head;
        b->size = size;
        b->used = 0;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    a->total += n;
    return p;
}

void ln_arena_reset(LnArena *a)
{
    LnArenaBlock *keep = NULL;
    for (LnArenaBlock *b = a->head; b != NULL; b = b->next)
        if (keep == NULL || b->size > keep->size) keep = b;
    for (LnArenaBlock *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        if (b != keep) free(b);
    }
    if (keep != NULL) {
        keep->next = NULL;
        keep->used = 0;
    }
    a->head = keep;
    a->total = 0;
}

void ln_arena_free(LnArena *a)
{
    for (LnArenaBlock *b = a->head, *next; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
    a->total = 0;
}

/* ---- text ------------------------------------------------------------ */

/* 1 for bytes the sensor-file escaping rewrites. */
static const unsigned char TEXT_SPECIAL[256] = {['\\'] = 1, ['\n'] = 1, ['\r'] = 1};

size_t ln_text_len(const uint8_t *p, size_t n)
{
    size_t extra = 0;
    for (size_t i = 0; i < n; i++) extra += TEXT_SPECIAL[p[i]];
    return n + extra;
}

size_t ln_text_escape(const uint8_t *p, size_t n, char *out)
{
    if (n == 0) return 0; /* p may be NULL */
    size_t j = 0, run = 0;
    for (size_t i = 0; i < n; i++) {
        if (!TEXT_SPECIAL[p[i]]) continue;
        memcpy(out + j, p + run, i - run);
        j += i - run;
        out[j++] = '\\';
        out[j++] = p[i] == '\\' ? '\\' : p[i] == '\n' ? 'n' : 'r';
        run = i + 1;
    }
    memcpy(out + j, p + run, n - run);
    return j + n - run;
}

static int parse_text(const char *v, size_t n, TsfBin *out, LnArena *arena, const char **why)
{
    if (n > UINT32_MAX) {
        *why = "too long";
        return -EINVAL;
    }
    const char *bs = n > 0 ? memchr(v, '\\', n) : NULL;
    /* Only \\ \n \r are escapes; a text without them is used in place. */
    while (bs != NULL) {
        size_t i = (size_t)(bs - v);
        if (i + 1 < n && (v[i + 1] == '\\' || v[i + 1] == 'n' || v[i + 1] == 'r')) break;
        bs = i + 1 < n ? memchr(v + i + 1, '\\', n - i - 1) : NULL;
    }
    if (bs == NULL) {
        out->ptr = (const uint8_t *)v;
        out->len = (uint32_t)n;
        return 0;
    }
    if (arena == NULL) {
        *why = "no arena";
        return -EINVAL;
    }
    uint8_t *dst = arena_alloc(arena, n);
    if (dst == NULL) {
        *why = "out of memory";
        return -ENOMEM;
    }
    size_t j = (size_t)(bs - v);
    memcpy(dst, v, j);
    for (size_t i = j; i < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < n) {
            char e = v[i + 1];
            if (e == '\\' || e == 'n' || e == 'r') {
                dst[j++] = (uint8_t)(e == 'n' ? '\n' : e == 'r' ? '\r' : '\\');
                i++;
                continue;
            }
        }
        dst[j++] = (uint8_t)c;
    }
    out->ptr = dst;
    out->len = (uint32_t)j;
    return 0;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int parse_blob(const char *v, size_t n, TsfBin *out, LnArena *arena, const char **why)
{
    if (n < 2 || v[0] != '0' || (v[1] != 'x' && v[1] != 'X') || n % 2 != 0) {
        *why = "bad blob";
        return -EINVAL;
    }
    size_t len = (n - 2) / 2;
    if (len > UINT32_MAX) {
        *why = "too long";
        return -EINVAL;
    }
    if (arena == NULL) {
        *why = "no arena";
        return -EINVAL;
    }
    uint8_t *dst = arena_alloc(arena, len);
    if (dst == NULL) {
        *why = "out of memory";
        return -ENOMEM;
    }
    for (size_t i = 0; i < len; i++) {
        int hi = hex_val((unsigned char)v[2 + 2 * i]), lo = hex_val((unsigned char)v[3 + 2 * i]);
        if (hi < 0 || lo < 0) {
            *why = "bad blob";
            return -EINVAL;
        }
        dst[i] = (uint8_t)(hi << 4 | lo);
    }
    out->ptr = dst;
    out->len = (uint32_t)len;
    return 0;
}

static int parse_date(const char *v, size_t n, int32_t *out, const char **why)
{
    unsigned y, m, d;
    if (n != 10 || v[4] != '-' || v[7] != '-' || !fixed_digits(v, 4, &y) || !fixed_digits(v + 5, 2, &m) ||
        !fixed_digits(v + 8, 2, &d)) {
        *why = "bad date";
        return -EINVAL;
    }
    /* IoTDB's DATE range is years 1000-9999. */
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m)) {
        *why = "bad date";
        return -EINVAL;
    }
    *out = (int32_t)(y * 10000 + m * 100 + d);
    return 0;
}

int ln_parse_value(TsfType type, const char *v, size_t n, void *out, LnArena *arena, const char **why)
{
    int64_t x;
    int rc;
    switch (type) {
    case TSF_BOOLEAN:
        if (eq_nocase(v, n, "true"))
            *(uint8_t *)out = 1;
        else if (eq_nocase(v, n, "false"))
            *(uint8_t *)out = 0;
        else {
            *why = "bad boolean";
            return -EINVAL;
        }
        return 0;
    case TSF_INT32:
        rc = parse_integer(v, n, INT32_MIN, INT32_MAX, &x, why);
        if (rc == 0) *(int32_t *)out = (int32_t)x;
        return rc;
    case TSF_INT64:
        rc = parse_integer(v, n, INT64_MIN, INT64_MAX, &x, why);
        if (rc == 0) *(int64_t *)out = x;
        return rc;
    case TSF_FLOAT: return parse_float(v, n, out, why);
    case TSF_DOUBLE: return parse_double(v, n, out, why);
    case TSF_DATE: return parse_date(v, n, out, why);
    case TSF_TIMESTAMP:
        if (n > NUM_MAX_LEN) {
            *why = "too long";
            return -EINVAL;
        }
        return ln_parse_time(v, n, out, why);
    case TSF_TEXT:
    case TSF_STRING: return parse_text(v, n, out, arena, why);
    case TSF_BLOB: return parse_blob(v, n, out, arena, why);
    default: *why = "bad type"; return -EINVAL;
    }
}

/* ---- floating-point rendering ---------------------------------------- */

/* Shortest fixed-point decimal m * 10^-k of a (> 0, finite) with k <= 17
 * and m < 2^53, when one exists (see the design comment).  A k is only a
 * candidate, worth a division, when a * 10^k lies within a few ulps of an
 * integer: if m / 10^k rounds to a then a * 10^k = m (1 + d), |d| <= 2^-53,
 * and the rounded product is within y * 2^-51 of m.  The first DBL_SCREEN
 * k are screened without branches, which matters for sensor values whose
 * decimal count varies from one point to the next. */
HOT_INLINE double round_small(double y)
{
    /* Nearest integer of 0 <= y < 2^53; adding 2^52 drops the fraction. */
    return y < 0x1p52 ? (y + 0x1p52) - 0x1p52 : y;
}

/* The screen rounds with the 2^52 trick even above 2^52, where it may be
 * off by one: that is within the tolerance there, and dbl_check rounds
 * exactly.  Products of 2^53 or more also pass; dbl_check refuses them. */
HOT_INLINE bool dbl_candidate(double a, unsigned k)
{
    double y = a * POW10D[k];
    return fabs(y - ((y + 0x1p52) - 0x1p52)) <= y * 0x1p-50;
}

HOT_INLINE bool dbl_check(double a, unsigned k, uint64_t *pm)
{
    double y = a * POW10D[k];
    if (!(y < 0x1p53)) return false;
    int64_t m = (int64_t)round_small(y); /* signed: one instruction each way */
    *pm = (uint64_t)m;
    return (double)m / POW10D[k] == a;
}

#define DBL_SCREEN 4 /* k screened without branches (measured: 4 beats 2, 6, 8) */
HOT_INLINE bool dbl_fixed(double a, uint64_t *pm, unsigned *pk)
{
#if LN_EXACT_FP
    if (!(a < 0x1p53)) return false;
    unsigned mask = 0;
    for (unsigned k = 0; k < DBL_SCREEN; k++) mask |= (unsigned)dbl_candidate(a, k) << k;
    while (mask != 0) {
        unsigned k = (unsigned)__builtin_ctz(mask);
        if (dbl_check(a, k, pm)) {
            *pk = k;
            return true;
        }
        mask &= mask - 1;
    }
    for (unsigned k = DBL_SCREEN; k <= 17; k++) {
        if (a * POW10D[k] >= 0x1p53) return false;
        if (dbl_candidate(a, k) && dbl_check(a, k, pm)) {
            *pk = k;
            return true;
        }
    }
#else
    (void)a, (void)pm, (void)pk;
#endif
    return false;
}

static inline bool flt_fixed(float a, uint64_t *pm, unsigned *pk)
{
#if LN_EXACT_FP
    for (unsigned k = 0; k <= 10; k++) {
        double y = (double)a * POW10D[k]; /* exact: 24 + 24 bits */
        if (!(y < 0x1p24)) return false;
        int32_t m = (int32_t)(y + 0.5);
        if ((float)m / POW10F[k] == a) {
            *pm = (uint64_t)m;
            *pk = k;
            return true;
        }
    }
#else
    (void)a, (void)pm, (void)pk;
#endif
    return false;
}

/* The integer part of m * 10^-k is that of a: k is minimal, so a is an
 * integer only when k = 0, and otherwise no integer lies between a and
 * the decimal that rounds to it. */
static inline size_t fixed_len(double a, uint64_t m, unsigned k)
{
    if (k == 0) return u64_len(m);
    return u64_len((uint64_t)(int64_t)a) + 1 + k;
}

/* Stores up to 2 + 16 + 17 bytes (see put_u64_scratch). */
HOT_INLINE size_t put_fixed(double a, uint64_t m, unsigned k, char *out)
{
    if (k == 0) return put_u64_scratch(out, m);
    uint64_t ip = (uint64_t)(int64_t)a; /* a < 2^53 */
    size_t n = put_u64_scratch(out, ip);
    out[n++] = '.';
    put_padded_scratch(out + n, m - ip * POW10U[k], k);
    return n + k;
}

static size_t put_special(double x, char *out)
{
    if (isnan(x)) {
        memcpy(out, "NaN", 3);
        return 3;
    }
    if (x > 0) {
        memcpy(out, "Infinity", 8);
        return 8;
    }
    memcpy(out, "-Infinity", 9);
    return 9;
}

#if LN_EXACT_FP && defined(__SIZEOF_INT128__)
#define LN_EXACT_DIGITS 1
typedef unsigned __int128 u128;

/* 5^0 .. 5^22: s reaches 20 for 17 digits of 1e-4, plus 1 for a low guess. */
static const uint64_t POW5[23] = {1ULL,
                                  5ULL,
                                  25ULL,
                                  125ULL,
                                  625ULL,
                                  3125ULL,
                                  15625ULL,
                                  78125ULL,
                                  390625ULL,
                                  1953125ULL,
                                  9765625ULL,
                                  48828125ULL,
                                  244140625ULL,
                                  1220703125ULL,
                                  6103515625ULL,
                                  30517578125ULL,
                                  152587890625ULL,
                                  762939453125ULL,
                                  3814697265625ULL,
                                  19073486328125ULL,
                                  95367431640625ULL,
                                  476837158203125ULL,
                                  2384185791015625ULL};

/* The p-digit decimal D * 10^-s nearest to a = M * 2^E (M in [2^mb,
 * 2^(mb+1)), mb = 52 for doubles and 23 for floats, a in [1e-4, 2^53)),
 * in exact integer arithmetic: a * 10^s is N / 2^sh with N = M * 5^s and
 * sh = -(s + E), so D is N / 2^sh rounded half-even.  It round-trips when
 * it lies within half an ulp of a, i.e. when 2 |D * 2^sh - N| < 5^s (a
 * quarter ulp below a power of two); on equality strtod rounds to the even
 * mantissa, so it holds iff M is even.  Returns false when D does not
 * round-trip; *e10 moves by one when the guess of the decimal exponent was
 * off or the rounding carried into a new digit. */
static bool digits_p(uint64_t M, int E, int mb, int p, int *e10, uint64_t *pd, int *ps)
{
    for (int tries = 0; tries < 3; tries++) {
        int s = p - 1 - *e10;
        if (s < 0 || s > 22) return false;
        u128 n = (u128)M * POW5[s];
        int sh = -(s + E);
        uint64_t d;
        u128 diff;
        bool below; /* the decimal is below a */
        if (sh <= 0) {
            d = (uint64_t)(n << -sh); /* a * 10^s is an integer */
            diff = 0;
            below = false;
        } else {
            u128 q = n >> sh, rem = n - (q << sh), half = (u128)1 << (sh - 1);
            if (rem > half || (rem == half && (q & 1))) q++;
            d = (uint64_t)q;
            u128 back = q << sh;
            below = back < n;
            diff = below ? n - back : back - n;
        }
        if (d >= POW10U[p]) {
            (*e10)++;
            continue;
        }
        if (d < POW10U[p - 1]) {
            (*e10)--;
            continue;
        }
        u128 lhs = diff * (below && M == 1ULL << mb ? 4 : 2);
        if (lhs < POW5[s] || (lhs == POW5[s] && (M & 1) == 0)) {
            *pd = d;
            *ps = s;
            return true;
        }
        return false;
    }
    return false;
}

/* Shortest round-tripping decimal, p0..pmax digits, of a = M * 2^E. */
static bool digits_shortest(uint64_t M, int E, int mb, int p0, int pmax, uint64_t *pd, unsigned *pk)
{
    /* floor(log10(a)) or one less; digits_p corrects it. */
    int e10_guess = (int)floor((E + mb) * 0.30102999566398120);
    for (int p = p0; p <= pmax; p++) {
        uint64_t d;
        int s, e10 = e10_guess; /* a carry at p digits must not leak into p + 1 */
        if (digits_p(M, E, mb, p, &e10, &d, &s)) {
            while (s > 0 && d % 10 == 0) { /* not expected after the fixed path, but harmless */
                d /= 10;
                s--;
            }
            *pd = d;
            *pk = (unsigned)s;
            return true;
        }
    }
    return false;
}

/* a in [1e-4, 2^53) that missed the fixed path needs 16 or 17 digits (15
 * below 0.01, where the fixed path's k <= 17 cannot hold 15 digits).
 * False if even 17 digits fail, which correct rounding rules out; the
 * caller then uses printf. */
static bool dbl_digits(double a, uint64_t *pd, unsigned *pk)
{
    uint64_t bits;
    memcpy(&bits, &a, 8);
    uint64_t M = (bits & ((1ULL << 52) - 1)) | 1ULL << 52;
    int E = (int)((bits >> 52) & 0x7ff) - 1075;
    return digits_shortest(M, E, 52, a < 0.01 ? 15 : 16, 17, pd, pk);
}

/* A float in [1e-4, 2^24) that missed the fixed path (k <= 10, m < 2^24,
 * so every decimal of 7 digits) needs 8 or 9. */
static bool flt_digits(float a, uint64_t *pd, unsigned *pk)
{
    uint32_t bits;
    memcpy(&bits, &a, 4);
    uint64_t M = (bits & ((1u << 23) - 1)) | 1u << 23;
    int E = (int)((bits >> 23) & 0xff) - 150;
    return digits_shortest(M, E, 23, 8, 9, pd, pk);
}

/* d * 10^-k, k <= 20, d < 10^17: like put_fixed, with the integer part
 * taken from d itself. */
static size_t put_decimal(uint64_t d, unsigned k, char *out)
{
    if (k == 0) return put_u64_scratch(out, d);
    uint64_t ip = k < 18 ? d / POW10U[k] : 0;
    size_t n = put_u64_scratch(out, ip);
    out[n++] = '.';
    put_padded_scratch(out + n, k < 18 ? d - ip * POW10U[k] : d, k);
    return n + k;
}
#else
#define LN_EXACT_DIGITS 0
#endif

static size_t render_double_slow(double x, char *out)
{
    char buf[40];
    double a = fabs(x);
#if LN_EXACT_DIGITS
    if (a >= 1e-4 && a < 0x1p53) {
        uint64_t d;
        unsigned k;
        if (dbl_digits(a, &d, &k)) return (size_t)(x < 0) + put_decimal(d, k, out + (x < 0));
    }
#endif
    /* A value in [0.01, 2^53) that missed the fixed path has no decimal of
     * 15 or fewer significant digits (it would have m < 10^15, k <= 17). */
    int prec = LN_EXACT_FP && a >= 0.01 && a < 9007199254740992.0 ? 16 : 15;
    int len = 0;
    for (; prec <= 17; prec++) {
        len = snprintf(buf, sizeof(buf), "%.*g", prec, x);
        if (prec == 17 || strtod(buf, NULL) == x) break;
    }
    memcpy(out, buf, (size_t)len);
    return (size_t)len;
}

static size_t render_double(double x, char *out)
{
    if (!isfinite(x)) return put_special(x, out);
    out[0] = '-'; /* overwritten when positive: no branch on the sign */
    size_t sign = signbit(x) != 0;
    double a = fabs(x);
    if (a == 0) {
        out[sign] = '0';
        return sign + 1;
    }
    uint64_t m;
    unsigned k;
    if (dbl_fixed(a, &m, &k)) return sign + put_fixed(a, m, k, out + sign);
    return render_double_slow(x, out);
}

static size_t double_len(double x)
{
    if (isfinite(x) && x != 0) {
        uint64_t m;
        unsigned k;
        if (dbl_fixed(fabs(x), &m, &k)) return (size_t)(x < 0) + fixed_len(fabs(x), m, k);
    }
    char buf[LN_MAX_SCALAR];
    return render_double(x, buf);
}

static size_t render_float_slow(float x, char *out)
{
    char buf[40];
#if LN_EXACT_DIGITS
    float a = fabsf(x);
    if (a >= 1e-4f && a < 0x1p24f) {
        uint64_t d;
        unsigned k;
        if (flt_digits(a, &d, &k)) return (size_t)(x < 0) + put_decimal(d, k, out + (x < 0));
    }
#endif
    int len = 0;
    for (int prec = 6; prec <= 9; prec++) {
        len = snprintf(buf, sizeof(buf), "%.*g", prec, (double)x);
        if (prec == 9 || strtof(buf, NULL) == x) break;
    }
    memcpy(out, buf, (size_t)len);
    return (size_t)len;
}

static size_t render_float(float x, char *out)
{
    if (!isfinite(x)) return put_special(x, out);
    out[0] = '-';
    size_t sign = signbit(x) != 0;
    float a = fabsf(x);
    if (a == 0) {
        out[sign] = '0';
        return sign + 1;
    }
    uint64_t m;
    unsigned k;
    if (flt_fixed(a, &m, &k)) return sign + put_fixed(a, m, k, out + sign);
    return render_float_slow(x, out);
}

static size_t float_len(float x)
{
    if (isfinite(x) && x != 0) {
        uint64_t m;
        unsigned k;
        if (flt_fixed(fabsf(x), &m, &k)) return (size_t)(x < 0) + fixed_len(fabsf(x), m, k);
    }
    char buf[LN_MAX_SCALAR];
    return render_float(x, buf);
}

/* ---- other values ---------------------------------------------------- */

/* A stored DATE int32 that is a real date of years 0000-9999. */
static bool date_valid(int32_t v, unsigned *y, unsigned *m, unsigned *d)
{
    if (v < 101 || v > 99991231) return false;
    *y = (unsigned)v / 10000;
    *m = (unsigned)v / 100 % 100;
    *d = (unsigned)v % 100;
    return *m >= 1 && *m <= 12 && *d >= 1 && *d <= days_in_month(*y, *m);
}

static size_t render_date(int32_t v, char *out)
{
    unsigned y, m, d;
    if (!date_valid(v, &y, &m, &d)) return render_i64(v, out);
    put2(out, y / 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    return 10;
}

static size_t render_blob(const TsfBin *b, char *out)
{
    static const char hex[] = "0123456789abcdef";
    out[0] = '0';
    out[1] = 'x';
    for (uint32_t i = 0; i < b->len; i++) {
        out[2 + 2 * (size_t)i] = hex[b->ptr[i] >> 4];
        out[3 + 2 * (size_t)i] = hex[b->ptr[i] & 15];
    }
    return 2 + 2 * (size_t)b->len;
}

size_t ln_render_value(TsfType type, const void *v, char *out)
{
    switch (type) {
    case TSF_BOOLEAN:
        if (*(const uint8_t *)v) {
            memcpy(out, "true", 4);
            return 4;
        }
        memcpy(out, "false", 5);
        return 5;
    case TSF_INT32: return put_i64_scratch(out, *(const int32_t *)v);
    case TSF_INT64:
    case TSF_TIMESTAMP: return put_i64_scratch(out, *(const int64_t *)v);
    case TSF_FLOAT: return render_float(*(const float *)v, out);
    case TSF_DOUBLE: return render_double(*(const double *)v, out);
    case TSF_DATE: return render_date(*(const int32_t *)v, out);
    case TSF_TEXT:
    case TSF_STRING: {
        const TsfBin *b = v;
        return ln_text_escape(b->ptr, b->len, out);
    }
    case TSF_BLOB: return render_blob(v, out);
    default: return 0;
    }
}

size_t ln_value_len(TsfType type, const void *v)
{
    switch (type) {
    case TSF_BOOLEAN: return *(const uint8_t *)v ? 4 : 5;
    case TSF_INT32: return i64_len(*(const int32_t *)v);
    case TSF_INT64:
    case TSF_TIMESTAMP: return i64_len(*(const int64_t *)v);
    case TSF_FLOAT: return float_len(*(const float *)v);
    case TSF_DOUBLE: return double_len(*(const double *)v);
    case TSF_DATE: {
        unsigned y, m, d;
        int32_t x = *(const int32_t *)v;
        return date_valid(x, &y, &m, &d) ? 10 : i64_len(x);
    }
    case TSF_TEXT:
    case TSF_STRING: {
        const TsfBin *b = v;
        return ln_text_len(b->ptr, b->len);
    }
    case TSF_BLOB: return 2 + 2 * (size_t)((const TsfBin *)v)->len;
    default: return 0;
    }
}

/* ---- CSV ------------------------------------------------------------- */

static bool csv_needs_quotes(const uint8_t *p, size_t n)
{
    if (n == 0) return false;
    if (p[0] == ' ' || p[n - 1] == ' ') return true;
    for (size_t i = 0; i < n; i++)
        if (p[i] == ',' || p[i] == '"' || p[i] == '\r' || p[i] == '\n') return true;
    return false;
}

size_t ln_csv_cell_len(const uint8_t *p, size_t n)
{
    if (!csv_needs_quotes(p, n)) return n;
    size_t q = 0;
    for (size_t i = 0; i < n; i++) q += p[i] == '"';
    return n + q + 2;
}

size_t ln_csv_cell(const uint8_t *p, size_t n, char *out)
{
    if (!csv_needs_quotes(p, n)) {
        if (n > 0) memcpy(out, p, n); /* p may be NULL when n is 0 */
        return n;
    }
    size_t j = 0;
    out[j++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '"') out[j++] = '"';
        out[j++] = (char)p[i];
    }
    out[j++] = '"';
    return j;
}

size_t ln_csv_record_len(const char *buf, size_t n)
{
    const char *lf = n > 0 ? memchr(buf, '\n', n) : NULL;
    if (lf == NULL) return 0;
    if (memchr(buf, '"', (size_t)(lf - buf)) == NULL) return (size_t)(lf - buf) + 1;
    /* Quotes open only at the start of a cell; inside, "" is a quote and a
     * lone " closes.  Text after a closing quote is split's error to report. */
    enum { CELL_START, UNQUOTED, QUOTED, QUOTE_SEEN } st = CELL_START;
    for (size_t i = 0; i < n; i++) {
        char c = buf[i];
        switch (st) {
        case CELL_START:
        case UNQUOTED:
        case QUOTE_SEEN:
            if (c == '\n') return i + 1;
            if (c == ',')
                st = CELL_START;
            else if (c == '"' && st == CELL_START)
                st = QUOTED;
            else if (c == '"' && st == QUOTE_SEEN)
                st = QUOTED;
            else
                st = UNQUOTED;
            break;
        case QUOTED:
            if (c == '"') st = QUOTE_SEEN;
            break;
        }
    }
    return 0;
}

int ln_csv_split(const char *rec, size_t n, LnCell *cells, size_t max, LnArena *arena, const char **why)
{
    size_t count = 0, i = 0;
    for (;;) {
        if (count == max || count == (size_t)INT32_MAX) {
            *why = "too many cells";
            return -EINVAL;
        }
        LnCell *c = &cells[count++];
        if (i < n && rec[i] == '"') {
            size_t start = ++i;
            bool doubled = false;
            for (;;) {
                const char *q = i < n ? memchr(rec + i, '"', n - i) : NULL;
                if (q == NULL) {
                    *why = "unclosed quote";
                    return -EINVAL;
                }
                i = (size_t)(q - rec);
                if (i + 1 < n && rec[i + 1] == '"') {
                    doubled = true;
                    i += 2;
                    continue;
                }
                break;
            }
            size_t len = i - start;
            i++; /* past the closing quote */
            if (i < n && rec[i] != ',') {
                *why = "text after closing quote";
                return -EINVAL;
            }
            if (!doubled) {
                c->p = rec + start; /* nothing to unquote: point into the record */
                c->n = len;
            } else {
                if (arena == NULL) {
                    *why = "no arena";
                    return -EINVAL;
                }
                char *dst = arena_alloc(arena, len);
                if (dst == NULL) {
                    *why = "out of memory";
                    return -ENOMEM;
                }
                size_t j = 0;
                for (size_t k = start; k < start + len; k++) {
                    dst[j++] = rec[k];
                    if (rec[k] == '"') k++; /* the pair's second quote */
                }
                c->p = dst;
                c->n = j;
            }
        } else {
            const char *q = i < n ? memchr(rec + i, ',', n - i) : NULL;
            size_t end = q ? (size_t)(q - rec) : n;
            c->p = rec + i;
            c->n = end - i;
            i = end;
        }
        if (i >= n) break;
        i++; /* the comma; a trailing one leaves a last empty cell */
    }
    return (int)count;
}
