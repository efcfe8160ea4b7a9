/*
 * xattrs.c: the user.tsfs.* extended attributes.
 *
 * Sensor: user.tsfs.type, .encoding, .compression (settable before the
 * first point; after it only to the current value, else EBUSY) and the
 * read-only user.tsfs.count, .first, .last of the view's range (EPERM on
 * set).  Storage group: user.tsfs.ttl ("7d", "12h", "2w"; "0" or "off"
 * removes it; under one hour is EINVAL).  Anything else answers ENODATA
 * (so ACL probes see no ACL); setting an unknown name is ENOTSUP, which
 * cp -a and rsync -X report and pass over.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "tsfs.h"

#define A_TYPE  "user.tsfs.type"
#define A_ENC   "user.tsfs.encoding"
#define A_COMP  "user.tsfs.compression"
#define A_COUNT "user.tsfs.count"
#define A_FIRST "user.tsfs.first"
#define A_LAST  "user.tsfs.last"
#define A_TTL   "user.tsfs.ttl"

static int reply(const char *v, size_t n, char *buf, size_t size)
{
    if (size == 0) return (int)n;
    if (size < n) return -ERANGE;
    memcpy(buf, v, n);
    return (int)n;
}

static int ttl_text(int64_t ms, char *out, size_t cap)
{
    const int64_t h = 3600000, d = 24 * h, w = 7 * d;
    if (ms <= 0) return snprintf(out, cap, "off");
    if (ms % w == 0) return snprintf(out, cap, "%lldw", (long long)(ms / w));
    if (ms % d == 0) return snprintf(out, cap, "%lldd", (long long)(ms / d));
    if (ms % h == 0) return snprintf(out, cap, "%lldh", (long long)(ms / h));
    return snprintf(out, cap, "%lldms", (long long)ms);
}

static int parse_ttl(const char *v, size_t n, int64_t *ms)
{
    char s[64];
    if (n == 0 || n >= sizeof s) return -EINVAL;
    memcpy(s, v, n);
    s[n] = 0;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
    if (strcmp(s, "0") == 0 || strcmp(s, "off") == 0) {
        *ms = 0;
        return 0;
    }
    char *end;
    errno = 0;
    long long k = strtoll(s, &end, 10);
    if (errno || end == s || k <= 0) return -EINVAL;
    int64_t unit;
    if (strcmp(end, "h") == 0)
        unit = 3600000;
    else if (strcmp(end, "d") == 0)
        unit = 86400000;
    else if (strcmp(end, "w") == 0)
        unit = 604800000;
    else
        return -EINVAL;
    if (k > INT64_MAX / unit) return -EINVAL;
    *ms = k * unit;
    return *ms >= 3600000 ? 0 : -EINVAL;
}

/* The settings of a sensor: its series, or what was chosen before data. */
static int sensor_settings(Tsfs *fs, Node *n, PendingSensor *out)
{
    const SeriesSchema *ss = schema_get_series(engine_schema(fs->engine), n->device, n->name);
    if (ss) {
        *out = (PendingSensor){true, true, true, ss->type, ss->encoding, ss->compression};
        return 1;
    }
    pthread_mutex_lock(&fs->lock);
    PendingSensor *ps = fs_pending_get(fs, n->device, n->name, false);
    *out = ps ? *ps : (PendingSensor){0};
    pthread_mutex_unlock(&fs->lock);
    if (!out->has_enc && out->has_type) out->enc = schema_default_encoding(out->type), out->has_enc = true;
    if (!out->has_comp) out->comp = fs->eopts.compression, out->has_comp = true;
    return 0;
}

int xattr_get(Tsfs *fs, Node *n, const char *name, char *buf, size_t size)
{
    char tmp[128];
    if (n->kind == N_SG && strcmp(name, A_TTL) == 0) {
        int l = ttl_text(schema_get_ttl(engine_schema(fs->engine), n->sg), tmp, sizeof tmp);
        return reply(tmp, (size_t)l, buf, size);
    }
    if (n->kind != N_SENSOR) return -ENODATA;
    PendingSensor st;
    sensor_settings(fs, n, &st);
    if (strcmp(name, A_TYPE) == 0) {
        if (!st.has_type) return -ENODATA;
        const char *s = tsf_type_name(st.type);
        return reply(s, strlen(s), buf, size);
    }
    if (strcmp(name, A_ENC) == 0) {
        if (!st.has_enc) return -ENODATA;
        const char *s = tsf_encoding_name(st.enc);
        return reply(s, strlen(s), buf, size);
    }
    if (strcmp(name, A_COMP) == 0) {
        const char *s = tsf_compression_name(st.comp);
        return reply(s, strlen(s), buf, size);
    }
    bool count = strcmp(name, A_COUNT) == 0, first = strcmp(name, A_FIRST) == 0,
         last = strcmp(name, A_LAST) == 0;
    if (!count && !first && !last) return -ENODATA;
    int64_t lo, hi;
    node_range(fs, n, &lo, &hi);
    TimeFilter *tf = tf_range(lo, hi);
    if (!tf) return -ENOMEM;
    Aggregates ag = {0};
    int rc = schema_get_series(engine_schema(fs->engine), n->device, n->name)
                 ? engine_aggregate(fs->engine, n->device, n->name, tf, &ag)
                 : 0;
    tf_free(tf);
    if (rc) return rc;
    size_t l;
    if (count) {
        l = (size_t)snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)ag.count);
    } else {
        if (ag.count == 0) return -ENODATA;
        l = ln_render_time(first ? ag.first_time : ag.last_time, fs->time_format, tmp);
    }
    return reply(tmp, l, buf, size);
}

static bool sensor_has_points(Tsfs *fs, Node *n)
{
    if (!schema_get_series(engine_schema(fs->engine), n->device, n->name)) return false;
    TimeFilter *tf = tf_all();
    Aggregates ag = {0};
    bool has = tf && engine_aggregate(fs->engine, n->device, n->name, tf, &ag) == 0 && ag.count > 0;
    tf_free(tf);
    return has;
}

static int set_sensor(Tsfs *fs, Node *n, const char *name, const char *v, size_t size)
{
    char s[64];
    if (size >= sizeof s) return -EINVAL;
    memcpy(s, v, size);
    s[size] = 0;
    while (size && (s[size - 1] == '\n' || s[size - 1] == ' ')) s[--size] = 0;
    int which = strcmp(name, A_TYPE) == 0   ? 0
                : strcmp(name, A_ENC) == 0  ? 1
                : strcmp(name, A_COMP) == 0 ? 2
                                            : -1;
    if (which < 0) {
        if (!strcmp(name, A_COUNT) || !strcmp(name, A_FIRST) || !strcmp(name, A_LAST)) return -EPERM;
        return -ENOTSUP;
    }
    int code = which == 0   ? tsf_type_from_name(s)
               : which == 1 ? tsf_encoding_from_name(s)
                            : tsf_compression_from_name(s);
    if (code < 0) return -EINVAL;
    const SeriesSchema *ss = schema_get_series(engine_schema(fs->engine), n->device, n->name);
    if (ss) {
        PendingSensor want = {true, true, true, ss->type, ss->encoding, ss->compression};
        if (which == 0 && want.type != (TsfType)code) {
            want.type = (TsfType)code;
            want.enc = schema_default_encoding(want.type); /* the old encoding may not fit the new type */
        }
        if (which == 1) want.enc = (TsfEncoding)code;
        if (which == 2) want.comp = (TsfCompression)code;
        if (want.type == ss->type && want.enc == ss->encoding && want.comp == ss->compression)
            return 0; /* restoring the current value (cp -a, rsync -X) */
        if (!tsf_encoding_allowed(want.type, want.enc)) return -EINVAL;
        if (node_sealed(fs, n) || sensor_has_points(fs, n)) return -EBUSY;
        int rc = engine_drop_series(fs->engine, n->device, n->name);
        return rc ? rc : engine_create_series(fs->engine, n->device, n->name, want.type, want.enc, want.comp);
    }
    /* no series yet: remember the choice; with a type the series is made now,
     * so it shows in views and survives a remount */
    pthread_mutex_lock(&fs->lock);
    PendingSensor *ps = fs_pending_get(fs, n->device, n->name, true);
    PendingSensor want = ps ? *ps : (PendingSensor){0};
    if (which == 0) want.type = (TsfType)code, want.has_type = true;
    if (which == 1) want.enc = (TsfEncoding)code, want.has_enc = true;
    if (which == 2) want.comp = (TsfCompression)code, want.has_comp = true;
    bool legal = !(want.has_type && want.has_enc) || tsf_encoding_allowed(want.type, want.enc);
    if (ps && legal) *ps = want;
    if (ps && legal && !want.has_type) fs_pending_save(fs); /* with a type the series is made now */
    pthread_mutex_unlock(&fs->lock);
    if (!ps) return -ENOMEM;
    if (!legal) return -EINVAL;
    return want.has_type ? fs_realize_series(fs, n->device, n->name, want.type) : 0;
}

int xattr_set(Tsfs *fs, Node *n, const char *name, const char *value, size_t size)
{
    if (n->kind == N_SG) {
        if (strcmp(name, A_TTL) != 0) return -ENOTSUP;
        int64_t ms;
        int rc = parse_ttl(value, size, &ms);
        if (rc) return rc;
        return engine_set_ttl(fs->engine, n->sg, ms);
    }
    if (n->kind == N_SENSOR) {
        if (n->in_part && node_sealed(fs, n)) return -EROFS;
        return set_sensor(fs, n, name, value, size);
    }
    if (n->kind == N_TSFILES || n->kind == N_TSFILE) return -EROFS;
    return -ENOTSUP;
}

int xattr_list(Tsfs *fs, Node *n, char *buf, size_t size)
{
    (void)fs;
    static const char sensor[] = A_TYPE "\0" A_ENC "\0" A_COMP "\0" A_COUNT "\0" A_FIRST "\0" A_LAST "\0";
    static const char sg[] = A_TTL "\0";
    if (n->kind == N_SENSOR) return reply(sensor, sizeof sensor - 1, buf, size);
    if (n->kind == N_SG) return reply(sg, sizeof sg - 1, buf, size);
    return 0;
}
