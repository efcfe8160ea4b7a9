/*
 * mods.c: the `.tsfile.mods` modification file (spec §9.5) and the query
 * side of deletions.
 *
 * File format: text, one record per line, '\n' terminated (a '\r' before
 * the '\n' is accepted on input):
 *
 *     DELETION,<path>,<fileOffset>,<startTime>,<endTime>     (0.12 .. 1.x)
 *     DELETION,<path>,<version>,<endTime>                    (legacy)
 *
 * <path> may contain commas, so the last three (legacy: two) fields are
 * the numbers and everything between "DELETION," and them is the path.
 * A line with three or more commas after "DELETION," is always read as the
 * 5-field form.  Numbers are decimal int64 (optional sign); fileOffset must
 * be >= 0.  A legacy record predates offsets: its version number is not an
 * offset, and files of that era were sealed before any deletion touched
 * them, so it applies to every chunk (file_offset = INT64_MAX) with
 * start = INT64_MIN.
 *
 * Durability: mods_append writes the whole line with one write(2) on an
 * O_APPEND descriptor and fsyncs it (and the directory when the file was
 * created), so a crash leaves at most one torn last line without its '\n'.
 * mods_load cuts such a tail off on disk (ftruncate + fsync) instead of
 * parsing it: a torn "...,1000" could read back as a valid "...,10".
 * mods_append also refuses to glue a line onto a torn tail (it cuts it
 * first), and undoes its own partial write when write(2) fails.
 * Malformed complete lines are skipped with "tsfs: <file>:<line>: why" on
 * stderr; they never abort a load.  A line that is two records joined by a
 * damaged line break (both halves parse) is read as the two, with a log
 * line.  Nothing else can be checked: the format has no checksum, so a
 * digit changed into another digit is a different, valid deletion.
 *
 * Path patterns (mods_matches): the path and the series are compared node
 * by node (nodes are split on '.'; backquoted nodes are not special):
 *   - a node "*" matches exactly one node, "**" one or more nodes;
 *   - any other node must be equal.
 * So "root.sg.d1.s1" is exact, "root.sg.d1.*" / "root.sg.d1.**" cover the
 * series of device root.sg.d1, "root.sg.**" every series under root.sg.
 * Partial wildcards inside a node ("s*") are compared literally.  Matching
 * is the classic one-backtrack-point glob algorithm over nodes: O(P * S)
 * worst case, no allocation, no recursion.
 *
 * Query side: mods_apply first collects the deletion ranges that apply to
 * (series, chunk) in a small stack array (one malloc when there are more),
 * sorts and merges them, then makes one pass over the points moving each
 * run of kept points with one memmove.  Times within a chunk ascend, so a
 * cursor into the merged ranges only moves forward; a time going backwards
 * re-seeks it by binary search, so unsorted input is still correct.
 */
#include "mods.h"

#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MODS_SUFFIX       ".mods"
#define MODS_PREFIX       "DELETION,"
#define MODS_STACK_RANGES 16

/* ---- list -------------------------------------------------------------- */

void mods_init(Mods *m)
{
    m->d = NULL;
    m->n = 0;
    m->cap = 0;
}

void mods_free(Mods *m)
{
    for (size_t i = 0; i < m->n; i++) free(m->d[i].path);
    free(m->d);
    mods_init(m);
}

/* Room for one more entry (so that a later push cannot fail). */
static int mods_reserve(Mods *m)
{
    if (m->n < m->cap) return 0;
    size_t cap = m->cap ? m->cap * 2 : 8;
    if (cap < m->cap || cap > SIZE_MAX / sizeof(Deletion)) return -ENOMEM;
    Deletion *d = realloc(m->d, cap * sizeof(*d));
    if (!d) return -ENOMEM;
    m->d = d;
    m->cap = cap;
    return 0;
}

/* Drops the entries past n0 (rollback of a failed load). */
static void mods_truncate(Mods *m, size_t n0)
{
    while (m->n > n0) free(m->d[--m->n].path);
}

/* tsfile_path + ".mods", malloc'ed. */
static char *mods_file_name(const char *tsfile_path)
{
    size_t n = strlen(tsfile_path);
    char *s = malloc(n + sizeof(MODS_SUFFIX));
    if (!s) return NULL;
    memcpy(s, tsfile_path, n);
    memcpy(s + n, MODS_SUFFIX, sizeof(MODS_SUFFIX));
    return s;
}

/* ---- parsing ----------------------------------------------------------- */

/* Strict decimal int64: optional sign, at least one digit, nothing else. */
static bool parse_i64(const char *s, size_t len, int64_t *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf)) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    size_t k = (buf[0] == '-' || buf[0] == '+') ? 1 : 0;
    if (buf[k] < '0' || buf[k] > '9') return false;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno != 0 || end != buf + len) return false;
    *out = (int64_t)v;
    return true;
}

static const char *memrchr_c(const char *s, size_t n, char c)
{
    while (n > 0) {
        if (s[n - 1] == c) return s + n - 1;
        n--;
    }
    return NULL;
}

/* Parses one complete line (no '\n', '\r' already stripped) into d; on
 * failure returns false with *why set.  d->path is malloc'ed on success. */
static bool parse_line(const char *line, size_t len, Deletion *d, const char **why)
{
    const size_t plen = sizeof(MODS_PREFIX) - 1;
    if (memchr(line, '\0', len)) {
        *why = "NUL byte in line";
        return false;
    }
    if (len < plen || memcmp(line, MODS_PREFIX, plen) != 0) {
        *why = "not a DELETION record";
        return false;
    }
    const char *rest = line + plen;
    size_t rn = len - plen;
    const char *c3 = memrchr_c(rest, rn, ',');
    const char *c2 = c3 ? memrchr_c(rest, (size_t)(c3 - rest), ',') : NULL;
    if (!c2) {
        *why = "too few fields";
        return false;
    }
    const char *c1 = memrchr_c(rest, (size_t)(c2 - rest), ',');
    const char *end_s = c3 + 1;
    size_t end_n = rn - (size_t)(end_s - rest);
    int64_t off, start, end;
    size_t path_n;
    if (c1) {
        path_n = (size_t)(c1 - rest);
        if (!parse_i64(c1 + 1, (size_t)(c2 - c1 - 1), &off) || off < 0) {
            *why = "bad fileOffset";
            return false;
        }
        if (!parse_i64(c2 + 1, (size_t)(c3 - c2 - 1), &start)) {
            *why = "bad startTime";
            return false;
        }
    } else {
        int64_t version;
        path_n = (size_t)(c2 - rest);
        if (!parse_i64(c2 + 1, (size_t)(c3 - c2 - 1), &version)) {
            *why = "bad version";
            return false;
        }
        off = INT64_MAX;
        start = INT64_MIN;
    }
    if (!parse_i64(end_s, end_n, &end)) {
        *why = "bad endTime";
        return false;
    }
    if (path_n == 0) {
        *why = "empty path";
        return false;
    }
    d->path = strndup(rest, path_n);
    if (!d->path) {
        *why = NULL; /* out of memory, not malformed */
        return false;
    }
    d->file_offset = off;
    d->start = start;
    d->end = end;
    return true;
}

/* Reads the whole file from fd into a malloc'ed buffer. */
static int read_all(int fd, char **out, size_t *out_n)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 256;
    size_t n = 0;
    char *buf = malloc(cap);
    if (!buf) return -ENOMEM;
    for (;;) {
        if (n == cap) { /* grew since fstat */
            size_t ncap = cap * 2;
            char *nb = ncap > cap ? realloc(buf, ncap) : NULL;
            if (!nb) {
                free(buf);
                return -ENOMEM;
            }
            buf = nb;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR) continue;
            int rc = -errno;
            free(buf);
            return rc;
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    *out = buf;
    *out_n = n;
    return 0;
}

/* A damaged line break glues two records into one line that still parses
 * (the first record becomes part of a path nothing matches), and both
 * deletions would vanish unseen.  When a line holds a second "DELETION,"
 * and the parts before it (less the byte that was the line break) and from
 * it both parse, they are the two records: returns 1 with *a and *b set;
 * 0 when the line is not such a pair; -ENOMEM. */
static int parse_joined(const char *ls, size_t ln, Deletion *a, Deletion *b)
{
    const size_t plen = sizeof(MODS_PREFIX) - 1;
    const char *second = ln > plen + 1 ? memmem(ls + 1, ln - 1, MODS_PREFIX, plen) : NULL;
    if (!second) return 0;
    size_t k = (size_t)(second - ls);
    const char *why = NULL;
    if (!parse_line(ls, k - 1, a, &why)) return why ? 0 : -ENOMEM;
    if (!parse_line(second, ln - k, b, &why)) {
        free(a->path);
        return why ? 0 : -ENOMEM;
    }
    return 1;
}

static int mods_push(Mods *m, Deletion *d)
{
    if (mods_reserve(m) != 0) {
        free(d->path);
        return -ENOMEM;
    }
    m->d[m->n++] = *d;
    return 0;
}

int mods_parse(Mods *m, const char *name, const char *text, size_t len)
{
    /* only complete lines: a torn last line is no record */
    const char *last_nl = memrchr_c(text, len, '\n');
    size_t good = last_nl ? (size_t)(last_nl - text) + 1 : 0;
    size_t n0 = m->n, lineno = 0;
    int rc = 0;
    for (size_t pos = 0; rc == 0 && pos < good;) {
        const char *ls = text + pos;
        const char *nl = memchr(ls, '\n', good - pos);
        size_t ln = (size_t)(nl - ls);
        pos += ln + 1;
        lineno++;
        if (ln > 0 && ls[ln - 1] == '\r') ln--;
        if (ln == 0) continue; /* blank line: nothing to say */
        Deletion d, d2;
        int joined = parse_joined(ls, ln, &d, &d2);
        if (joined < 0) {
            rc = joined;
        } else if (joined) {
            fprintf(stderr, "tsfs: %s:%zu: two records joined by a damaged line break, read as two\n", name,
                    lineno);
            rc = mods_push(m, &d);
            if (rc == 0)
                rc = mods_push(m, &d2);
            else
                free(d2.path);
        } else {
            const char *why = NULL;
            if (parse_line(ls, ln, &d, &why))
                rc = mods_push(m, &d);
            else if (!why)
                rc = -ENOMEM;
            else
                fprintf(stderr, "tsfs: %s:%zu: %s, line skipped\n", name, lineno, why);
        }
    }
    if (rc != 0) mods_truncate(m, n0);
    return rc;
}

int mods_load(Mods *m, const char *tsfile_path)
{
    char *name = mods_file_name(tsfile_path);
    if (!name) return -ENOMEM;
    int rc = 0;
    bool writable = true;
    int fd = open(name, O_RDWR | O_CLOEXEC);
    if (fd < 0 && (errno == EACCES || errno == EROFS)) {
        writable = false;
        fd = open(name, O_RDONLY | O_CLOEXEC);
    }
    if (fd < 0) {
        rc = errno == ENOENT ? 0 : -errno;
        free(name);
        return rc;
    }
    char *buf = NULL;
    size_t len = 0;
    rc = read_all(fd, &buf, &len);
    if (rc != 0) goto out_close;

    /* Cut the torn tail first: it is no record, and leaving it would glue
     * the next appended line onto it. */
    const char *last_nl = memrchr_c(buf, len, '\n');
    size_t good = last_nl ? (size_t)(last_nl - buf) + 1 : 0;
    if (good < len) {
        if (writable) {
            if (ftruncate(fd, (off_t)good) != 0 || fsync(fd) != 0) {
                rc = -errno;
                goto out_free;
            }
            fprintf(stderr, "tsfs: %s: cut torn last line (%zu bytes)\n", name, len - good);
        } else {
            fprintf(stderr, "tsfs: %s: ignoring torn last line (%zu bytes, read-only)\n", name, len - good);
        }
    }

    rc = mods_parse(m, name, buf, good);
out_free:
    free(buf);
out_close:
    close(fd);
    free(name);
    return rc;
}

/* ---- appending --------------------------------------------------------- */

/* If the file does not end in '\n' (a torn line from an earlier crash or a
 * failed write not yet cleaned up), cuts it back to the last '\n'. */
static int cut_torn_tail(int fd, const char *name)
{
    struct stat st;
    if (fstat(fd, &st) != 0) return -errno;
    off_t end = st.st_size;
    char c;
    if (end == 0) return 0;
    ssize_t r = pread(fd, &c, 1, end - 1);
    if (r != 1) return r < 0 ? -errno : -EIO;
    if (c == '\n') return 0;
    char blk[4096];
    off_t good = 0, pos = end;
    while (pos > 0) {
        size_t want = pos > (off_t)sizeof(blk) ? sizeof(blk) : (size_t)pos;
        off_t at = pos - (off_t)want;
        r = pread(fd, blk, want, at);
        if (r != (ssize_t)want) return r < 0 ? -errno : -EIO;
        const char *nl = memrchr_c(blk, want, '\n');
        if (nl) {
            good = at + (nl - blk) + 1;
            break;
        }
        pos = at;
    }
    if (ftruncate(fd, good) != 0 || fsync(fd) != 0) return -errno;
    fprintf(stderr, "tsfs: %s: cut torn last line (%lld bytes)\n", name, (long long)(end - good));
    return 0;
}

/* Opens the mods file for appending; *created tells whether it is new. */
static int open_for_append(const char *name, bool *created)
{
    *created = false;
    for (int tries = 0; tries < 4; tries++) {
        int fd = open(name, O_RDWR | O_APPEND | O_CLOEXEC);
        if (fd >= 0 || errno != ENOENT) return fd >= 0 ? fd : -errno;
        fd = open(name, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) {
            *created = true;
            return fd;
        }
        if (errno != EEXIST) return -errno;
        /* someone created it in between: open it again */
    }
    return -EAGAIN;
}

int mods_append(Mods *m, const char *tsfile_path, const char *path, int64_t file_offset, int64_t start,
                int64_t end)
{
    if (!path || !*path || strpbrk(path, "\r\n") || file_offset < 0 || start > end) return -EINVAL;

    /* Allocate everything first: once the line is durable, recording it in
     * m must not fail. */
    char *name = mods_file_name(tsfile_path);
    char *line = NULL, *dup = NULL;
    int rc = name ? 0 : -ENOMEM;
    int len = 0;
    if (rc == 0) {
        len = snprintf(NULL, 0, MODS_PREFIX "%s,%lld,%lld,%lld\n", path, (long long)file_offset,
                       (long long)start, (long long)end);
        line = len > 0 ? malloc((size_t)len + 1) : NULL;
        if (!line) rc = -ENOMEM;
    }
    if (rc == 0) {
        snprintf(line, (size_t)len + 1, MODS_PREFIX "%s,%lld,%lld,%lld\n", path, (long long)file_offset,
                 (long long)start, (long long)end);
        if (m) {
            dup = strdup(path);
            if (!dup || mods_reserve(m) != 0) rc = -ENOMEM;
        }
    }
    if (rc != 0) goto out_free;

    bool created;
    int fd = open_for_append(name, &created);
    if (fd < 0) {
        rc = fd;
        goto out_free;
    }
    if (!created) rc = cut_torn_tail(fd, name);
    struct stat st;
    if (rc == 0 && fstat(fd, &st) != 0) rc = -errno;
    if (rc == 0) {
        /* One write normally; the loop only continues after a short write. */
        size_t done = 0;
        while (done < (size_t)len) {
            ssize_t w = write(fd, line + done, (size_t)len - done);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) {
                rc = w < 0 ? -errno : -EIO;
                break;
            }
            done += (size_t)w;
        }
        /* Best effort: remove our partial line so the next append does not
         * have to (cut_torn_tail would otherwise do it). */
        if (rc != 0 && done > 0 && ftruncate(fd, st.st_size) != 0) {
            /* nothing more to do; the error below is returned */
        }
    }
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    close(fd);
    if (rc == 0 && created) rc = fileio_fsync_parent(name);
    if (rc == 0 && m) {
        Deletion *d = &m->d[m->n++];
        d->path = dup;
        d->file_offset = file_offset;
        d->start = start;
        d->end = end;
        dup = NULL;
    }
out_free:
    free(dup);
    free(line);
    free(name);
    return rc;
}

/* ---- matching ---------------------------------------------------------- */

/* Iterator over the '.'-separated nodes of one string, or of two strings
 * joined by a '.' (device, measurement) without building the joined copy.
 * Copyable by value, which is how the matcher saves a backtrack point. */
typedef struct Nodes {
    const char *p, *end;   /* rest of the current segment */
    const char *p2, *end2; /* second segment still to come, or NULL */
    bool done;             /* no node left */
} Nodes;

static bool nodes_next(Nodes *it, const char **node, size_t *len)
{
    if (it->done) return false;
    const char *dot = memchr(it->p, '.', (size_t)(it->end - it->p));
    *node = it->p;
    if (dot) {
        *len = (size_t)(dot - it->p);
        it->p = dot + 1;
        return true;
    }
    *len = (size_t)(it->end - it->p);
    if (it->p2) {
        it->p = it->p2;
        it->end = it->end2;
        it->p2 = NULL;
    } else {
        it->done = true;
    }
    return true;
}

static bool is_node(const char *node, size_t len, const char *lit)
{
    return strlen(lit) == len && memcmp(node, lit, len) == 0;
}

/* Glob over nodes: "*" = one node, "**" = one or more.  "**" is handled as
 * "one node" followed by a backtrack point for "zero or more", which keeps
 * the single-backtrack-point algorithm exact. */
static bool glob_nodes(Nodes pat, Nodes ser)
{
    Nodes star_pat = {0}, star_ser = {0};
    bool have_star = false;
    const char *pn, *sn;
    size_t pl, sl;
    for (;;) {
        Nodes pat_next = pat;
        if (nodes_next(&pat_next, &pn, &pl)) {
            Nodes ser_next = ser;
            bool has_s = nodes_next(&ser_next, &sn, &sl);
            if (is_node(pn, pl, "**")) {
                if (has_s) {
                    pat = pat_next;
                    ser = ser_next;
                    star_pat = pat;
                    star_ser = ser;
                    have_star = true;
                    continue;
                }
            } else if (has_s && (is_node(pn, pl, "*") || (pl == sl && memcmp(pn, sn, pl) == 0))) {
                pat = pat_next;
                ser = ser_next;
                continue;
            }
        } else {
            Nodes ser_next = ser;
            if (!nodes_next(&ser_next, &sn, &sl)) return true;
        }
        /* mismatch: let the last "**" absorb one more series node */
        if (!have_star || !nodes_next(&star_ser, &sn, &sl)) return false;
        pat = star_pat;
        ser = star_ser;
    }
}

bool mods_matches(const Deletion *d, const char *device, const char *measurement)
{
    const char *p = d->path;
    size_t dl = strlen(device), ml = strlen(measurement);
    /* Exact path: the common case, no node splitting. */
    if (strncmp(p, device, dl) == 0 && p[dl] == '.' && strcmp(p + dl + 1, measurement) == 0) return true;
    if (!strchr(p, '*')) return false;
    Nodes pat = {p, p + strlen(p), NULL, NULL, false};
    Nodes ser = {device, device + dl, measurement, measurement + ml, false};
    return glob_nodes(pat, ser);
}

/* ---- applying ---------------------------------------------------------- */

typedef struct Range {
    int64_t lo, hi; /* inclusive */
} Range;

static bool applies(const Deletion *d, uint64_t chunk_offset)
{
    return d->file_offset >= 0 && (uint64_t)d->file_offset > chunk_offset && d->start <= d->end;
}

static int range_cmp(const void *a, const void *b)
{
    const Range *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

/* Sorts r[0..k) by lo and merges overlapping or touching ranges; returns
 * the new count. */
static size_t ranges_merge(Range *r, size_t k)
{
    if (k <= 1) return k;
    if (k <= 16) {
        for (size_t i = 1; i < k; i++) {
            Range x = r[i];
            size_t j = i;
            while (j > 0 && r[j - 1].lo > x.lo) {
                r[j] = r[j - 1];
                j--;
            }
            r[j] = x;
        }
    } else {
        qsort(r, k, sizeof(*r), range_cmp);
    }
    size_t w = 0;
    for (size_t i = 1; i < k; i++) {
        /* touching: hi + 1 == lo, written without overflow */
        if (r[w].hi == INT64_MAX || r[i].lo <= r[w].hi + 1) {
            if (r[i].hi > r[w].hi) r[w].hi = r[i].hi;
        } else {
            r[++w] = r[i];
        }
    }
    return w + 1;
}

/* Moves times/values [from, from+cnt) down to index to. */
static void move_run(int64_t *times, char *values, size_t es, size_t to, size_t from, size_t cnt)
{
    if (to == from || cnt == 0) return;
    memmove(times + to, times + from, cnt * sizeof(*times));
    if (values && es) memmove(values + to * es, values + from * es, cnt * es);
}

/* Index of the first range with hi >= t (k when none). */
static size_t ranges_seek(const Range *r, size_t k, int64_t t)
{
    size_t lo = 0, hi = k;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r[mid].hi < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The single pass: keeps the points outside the merged ranges r[0..k). */
static size_t compact(const Range *r, size_t k, int64_t *times, char *values, size_t es, size_t n)
{
    size_t w = 0, i = 0;
    if (k == 1) {
        const int64_t lo = r[0].lo, hi = r[0].hi;
        while (i < n) {
            size_t s = i;
            while (i < n && (times[i] < lo || times[i] > hi)) i++;
            move_run(times, values, es, w, s, i - s);
            w += i - s;
            while (i < n && times[i] >= lo && times[i] <= hi) i++;
        }
        return w;
    }
    size_t j = 0; /* first range with hi >= last time seen */
    int64_t prev = INT64_MIN;
    while (i < n) {
        size_t s = i;
        bool del = false;
        for (; i < n; i++) {
            int64_t t = times[i];
            if (t < prev)
                j = ranges_seek(r, k, t);
            else
                while (j < k && r[j].hi < t) j++;
            prev = t;
            if (j < k && r[j].lo <= t) {
                del = true;
                break;
            }
        }
        move_run(times, values, es, w, s, i - s);
        w += i - s;
        if (del) i++; /* times[i] is deleted */
    }
    return w;
}

size_t mods_apply(const Mods *m, const char *device, const char *measurement, uint64_t chunk_offset,
                  int64_t *times, void *values, size_t elem_size, size_t n)
{
    if (!m || m->n == 0 || n == 0) return n;
    Range stack[MODS_STACK_RANGES];
    Range *r = stack;
    size_t k = 0, cap = MODS_STACK_RANGES;
    for (size_t i = 0; i < m->n; i++) {
        const Deletion *d = &m->d[i];
        if (!applies(d, chunk_offset) || !mods_matches(d, device, measurement)) continue;
        if (k == cap) {
            Range *big = r == stack ? malloc(m->n * sizeof(*big)) : NULL;
            if (big) {
                memcpy(big, stack, k * sizeof(*big));
                r = big;
                cap = m->n;
            } else {
                /* Out of memory: apply this batch now and keep collecting;
                 * slower (one pass per batch) but still correct. */
                k = ranges_merge(r, k);
                n = compact(r, k, times, values, elem_size, n);
                k = 0;
            }
        }
        r[k].lo = d->start;
        r[k].hi = d->end;
        k++;
    }
    if (k > 0) {
        k = ranges_merge(r, k);
        n = compact(r, k, times, values, elem_size, n);
    }
    if (r != stack) free(r);
    return n;
}

bool mods_cover(const Mods *m, const char *device, const char *measurement, uint64_t chunk_offset,
                int64_t start, int64_t end)
{
    if (!m || start > end) return false;
    for (size_t i = 0; i < m->n; i++) {
        const Deletion *d = &m->d[i];
        if (d->start <= start && d->end >= end && applies(d, chunk_offset) &&
            mods_matches(d, device, measurement))
            return true;
    }
    return false;
}
