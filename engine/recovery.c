/*
 * recovery.c: bringing the engine back after a stop, clean or not.
 *
 * 1. Storage groups come from the schema.
 * 2. Every TsFile under sequence/ and unsequence/ is looked at:
 *    - complete: it is a closed file; a missing or unreadable .resource is
 *      rebuilt from its index, and its plan-index range from its data
 *      section;
 *    - incomplete (the engine died while writing it): format's recovery
 *      keeps every chunk group up to the last plan-index record (one per
 *      memtable flush) and cuts the rest, and the file is reopened for
 *      writing: it takes the replay of its own unflushed memtables (below),
 *      then is closed.
 *    The largest version seen sets the next one; sequence files give each
 *    device its last flushed time per partition.
 * 3. Sealed partitions are read from system/sealed.
 * 4. The WAL is replayed.  A record names the file and memtable it went to.
 *    When that memtable is already on disk (the file's plan-index records
 *    reach its id) the record is skipped.  When the file is one reopened
 *    above, the points go back into it under the same memtable id, so the
 *    flush writes the same plan-index record again: a crash during this
 *    recovery is recovered the same way, and nothing is applied twice.
 *    Records of files that no longer exist go through the normal routing.
 * 5. Replayed data is flushed, the reopened files closed, and the old
 *    segments deleted.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "data_scan.h"
#include "engine_int.h"
#include "reader.h"

static void add_sg(void *ctx, const char *name)
{
    Engine *e = ctx;
    if (!eng_sg(e, name, true)) eng_set_error(e, -ENOMEM);
}

/* "<time>-<version>-<inner>-<cross>.tsfile" -> version; false otherwise. */
static bool parse_file_name(const char *name, uint64_t *version)
{
    size_t n = strlen(name);
    if (n < 7 || strcmp(name + n - 7, ".tsfile") != 0) return false;
    unsigned long long t, v, a, b;
    char tail[8];
    if (sscanf(name, "%llu-%llu-%llu-%llu%7s", &t, &v, &a, &b, tail) != 5 || strcmp(tail, ".tsfile") != 0)
        return false;
    *version = v;
    return true;
}

/* Plan-index range from the data section's plan-index records. */
static void scan_plan_range(const char *path, Resource *res)
{
    TsfReader *r;
    if (tsf_reader_open_data(path, &r, NULL) != 0) return;
    uint64_t pos = TSF_HEAD_LEN;
    TsfRecord rec = {0};
    while (tsf_data_next(r, &pos, &rec) == 1) {
        if (rec.kind == TSF_REC_SEPARATOR) break;
        if (rec.kind != TSF_REC_PLAN_INDEX) continue;
        if (rec.plan_min < res->min_plan) res->min_plan = rec.plan_min;
        if (rec.plan_max > res->max_plan) res->max_plan = rec.plan_max;
    }
    tsf_record_free(&rec);
    tsf_reader_close(r);
}

static void widen_resource(void *ctx, const char *device, int64_t start, int64_t end)
{
    resource_update(ctx, device, start, end);
}

/* Reopens an unclosed file for writing; NULL when it cannot be used. */
static TsFileProc *reopen_file(Engine *e, Partition *p, const char *path, bool sequence, uint64_t version)
{
    TsFileProc *proc = proc_new(p, sequence, version, path);
    if (!proc) return NULL;
    TsfWriterOpts wo;
    tsf_writer_opts_default(&wo);
    wo.fsync = true;
    struct stat st;
    int rc;
    TsfErr err = {0};
    if (stat(path, &st) == 0 && st.st_size < TSF_HEAD_LEN) {
        /* created, then the engine died before its head reached the disk */
        fprintf(stderr, "tsfs: %s: shorter than a TsFile head (%lld bytes): started again, empty\n", path,
                (long long)st.st_size);
        rc = tsf_writer_open(path, &wo, &proc->writer);
        if (rc == 0) rc = tsf_writer_sync(proc->writer);
    } else {
        TsfRecoverInfo info;
        rc = tsf_writer_recover(path, &wo, &proc->writer, &info, &err);
        if (rc == 0 && info.has_plan_index) {
            proc->first_mt_id = (uint64_t)info.min_plan_index;
            proc->flushed_mt_id = info.max_plan_index;
            proc->next_mt_id = (uint64_t)info.max_plan_index + 1;
        }
        if (rc == 0) {
            tsf_writer_foreach_device(proc->writer, widen_resource, &proc->res);
            proc->file_bytes = tsf_writer_position(proc->writer);
            fprintf(stderr, "tsfs: %s: reopened an unclosed file (kept %" PRIu64 " bytes)\n", path,
                    info.kept_bytes);
        }
    }
    if (rc) {
        fprintf(stderr, "tsfs: %s: cannot be recovered (%s%s%s); left in place, not served\n", path,
                tsf_strerror(rc), err.code ? ": " : "", err.code ? err.msg : "");
        proc_free(proc);
        return NULL;
    }
    mods_load(&proc->mods, path);
    (void)e;
    return proc;
}

/*
 * A complete file (rd open on it): its record.  Its whole index is walked
 * (a damaged index refuses the file), and the device ranges found there
 * check the .resource: one that is missing, unreadable or narrower than the
 * index (a damaged one would hide data from queries) is rebuilt.  Neither
 * file carries a checksum, so this is what can be checked.
 */
static ClosedFile *load_closed(const char *path, TsfReader *rd, bool sequence, uint64_t version)
{
    Resource idx;
    int rc = resource_from_index(&idx, rd);
    if (rc) {
        const TsfErr *err = tsf_reader_err(rd);
        fprintf(stderr, "tsfs: %s: cannot be used (index: %s); left in place, not served\n", path,
                err->code ? err->msg : tsf_strerror(rc));
        return NULL;
    }
    ClosedFile *cf = calloc(1, sizeof(*cf));
    if (!cf) {
        resource_free(&idx);
        return NULL;
    }
    cf->path = strdup(path);
    cf->sequence = sequence;
    cf->version = version;
    resource_init(&cf->res);
    mods_init(&cf->mods);
    mods_load(&cf->mods, path);
    const char *dev = NULL;
    rc = resource_read(&cf->res, path);
    if (rc == 0 && resource_covers(&cf->res, &idx, &dev)) {
        resource_free(&idx);
        return cf;
    }
    if (rc == 0)
        fprintf(stderr, "tsfs: %s.resource: does not cover device %s of its TsFile\n", path, dev);
    else if (rc != -ENOENT)
        fprintf(stderr, "tsfs: %s.resource: unreadable (%s)\n", path, tsf_strerror(rc));
    resource_free(&cf->res);
    cf->res = idx;
    scan_plan_range(path, &cf->res);
    rc = resource_write(&cf->res, path);
    if (rc == 0) {
        fprintf(stderr, "tsfs: %s: rebuilt its .resource\n", path);
        return cf;
    }
    if (eng_disk_full(rc)) { /* served from the index meanwhile */
        fprintf(stderr, "tsfs: %s: .resource not rebuilt (%s); again at the next start\n", path,
                tsf_strerror(rc));
        return cf;
    }
    fprintf(stderr, "tsfs: %s: cannot rebuild its .resource (%s); not served\n", path, tsf_strerror(rc));
    closed_file_free(cf);
    return NULL;
}

static void note_last_flushed(Partition *p, const Resource *res)
{
    for (size_t i = 0; i < res->n; i++) {
        int64_t *lf = g_hash_table_lookup(p->last_flushed, res->dev[i].device);
        if (!lf) {
            lf = malloc(sizeof(int64_t));
            if (!lf) continue;
            *lf = INT64_MIN;
            g_hash_table_insert(p->last_flushed, strdup(res->dev[i].device), lf);
        }
        if (res->dev[i].end > *lf) *lf = res->dev[i].end;
    }
}

/* Looks at one TsFile found on disk. */
static void recover_file(Engine *e, Partition *p, const char *path, bool sequence, uint64_t version)
{
    TsfReader *r;
    TsfErr err = {0};
    struct stat st;
    int rc =
        stat(path, &st) == 0 && st.st_size < TSF_HEAD_LEN ? TSF_EINCOMPLETE : tsf_reader_open(path, &r, &err);
    if (rc == 0) {
        ClosedFile *cf = load_closed(path, r, sequence, version);
        tsf_reader_close(r);
        if (!cf) return;
        g_ptr_array_add(p->closed, cf);
        if (sequence) note_last_flushed(p, &cf->res);
    } else if (rc == TSF_EINCOMPLETE) {
        TsFileProc *proc = reopen_file(e, p, path, sequence, version);
        if (!proc) return;
        g_ptr_array_add(e->recovered, proc);
        if (sequence) note_last_flushed(p, &proc->res);
    } else {
        fprintf(stderr, "tsfs: %s: cannot be used (%s%s%s); left in place, not served\n", path,
                tsf_strerror(rc), err.code ? ": " : "", err.code ? err.msg : "");
    }
}

static int cmp_version(const void *a, const void *b)
{
    const ClosedFile *x = *(ClosedFile *const *)a, *y = *(ClosedFile *const *)b;
    return x->version < y->version ? -1 : x->version > y->version;
}

static int scan_kind(Engine *e, StorageGroup *sg, bool sequence)
{
    char *base = g_strdup_printf("%s/%s/%s", e->dir, sequence ? "sequence" : "unsequence", sg->name);
    DIR *d = opendir(base);
    if (!d) {
        g_free(base);
        return 0;
    }
    struct dirent *pe;
    while ((pe = readdir(d))) {
        char *end;
        errno = 0;
        long long pid = strtoll(pe->d_name, &end, 10);
        if (*end || end == pe->d_name || errno) continue;
        char *pdir = g_strdup_printf("%s/%s", base, pe->d_name);
        DIR *fd = opendir(pdir);
        if (!fd) {
            g_free(pdir);
            continue;
        }
        Partition *p = eng_partition(e, sg, (int64_t)pid, true);
        struct dirent *fe;
        while (p && (fe = readdir(fd))) {
            uint64_t version;
            if (!parse_file_name(fe->d_name, &version)) continue;
            char *path = g_strdup_printf("%s/%s", pdir, fe->d_name);
            recover_file(e, p, path, sequence, version);
            g_free(path);
            if (version >= sg->next_version) sg->next_version = version + 1;
        }
        if (p) g_ptr_array_sort(p->closed, cmp_version);
        closedir(fd);
        g_free(pdir);
    }
    closedir(d);
    g_free(base);
    return 0;
}

static void load_sealed(Engine *e)
{
    char *path = g_strdup_printf("%s/system/sealed", e->dir);
    FILE *f = fopen(path, "r");
    g_free(path);
    if (!f) return;
    char line[1200], name[1024];
    long long pid, at;
    while (fgets(line, sizeof line, f)) {
        int got = sscanf(line, "%1023s %lld %lld", name, &pid, &at);
        if (got < 2) continue;
        StorageGroup *sg = eng_sg(e, name, false);
        if (!sg) continue;
        Partition *p = eng_partition(e, sg, (int64_t)pid, true);
        if (p) {
            p->sealed = true;
            p->sealed_at = got == 3 ? (int64_t)at : 0; /* older files did not record it */
        }
    }
    fclose(f);
}

/* ---- WAL replay --------------------------------------------------------------------- */

static uint64_t get_le64(TsfCursor *c)
{
    uint64_t v = 0;
    const uint8_t *p = tsf_cur_take(c, 8);
    if (p) memcpy(&v, p, 8);
    return v;
}

/* Where a record's memtable went: skip it (already on disk), put it back
 * into a reopened file, or route it again. */
typedef enum { REPLAY_SKIP, REPLAY_INTO_FILE, REPLAY_ROUTE } ReplayAction;

static ReplayAction replay_action(Engine *e, const char *sgname, int64_t pid, uint64_t version,
                                  uint64_t mt_id, TsFileProc **proc)
{
    for (guint i = 0; i < e->recovered->len; i++) {
        TsFileProc *rp = e->recovered->pdata[i];
        if (rp->version != version || rp->part->id != pid || strcmp(rp->part->sg->name, sgname) != 0)
            continue;
        if ((int64_t)mt_id <= rp->flushed_mt_id) return REPLAY_SKIP;
        *proc = rp;
        return REPLAY_INTO_FILE;
    }
    StorageGroup *sg = eng_sg(e, sgname, false);
    Partition *p = sg ? eng_partition(e, sg, pid, false) : NULL;
    for (guint i = 0; p && i < p->closed->len; i++) {
        ClosedFile *cf = p->closed->pdata[i];
        if (cf->version == version)
            return cf->res.max_plan != INT64_MIN && (int64_t)mt_id <= cf->res.max_plan ? REPLAY_SKIP
                                                                                       : REPLAY_ROUTE;
    }
    return REPLAY_ROUTE;
}

static int replay_record(void *ctx, uint64_t segment, const uint8_t *payload, size_t len)
{
    Engine *e = ctx;
    if (e->replay_seg == 0 || segment < e->replay_seg) e->replay_seg = segment;
    TsfCursor c = tsf_cursor(payload, len);
    uint8_t kind = tsf_cur_u8(&c);
    if (kind == REC_DELETE) {
        const uint8_t *dv, *mv = NULL;
        uint32_t dl, ml = 0;
        tsf_cur_varstr(&c, &dv, &dl);
        bool has_m = tsf_cur_u8(&c) != 0;
        if (has_m) tsf_cur_varstr(&c, &mv, &ml);
        int64_t start = (int64_t)get_le64(&c), end = (int64_t)get_le64(&c);
        if (c.err || !dv) {
            fprintf(stderr, "tsfs: WAL: malformed deletion record ignored\n");
            return 0;
        }
        char *device = g_strndup((const char *)dv, dl),
             *meas = has_m ? g_strndup((const char *)mv, ml) : NULL;
        int rc = engine_delete(e, device, meas, start, end);
        if (rc && rc != -ENOENT && rc != -EROFS)
            fprintf(stderr, "tsfs: WAL: cannot replay a deletion of %s: %s\n", device, tsf_strerror(rc));
        atomic_fetch_add(&e->replayed, 1);
        g_free(device);
        g_free(meas);
        return eng_disk_full(rc) ? rc : 0;
    }
    if (kind != REC_INSERT) return 0; /* unknown record kind: not ours to judge */
    const uint8_t *sgs, *devs;
    uint32_t sgl, devl;
    tsf_cur_varstr(&c, &sgs, &sgl);
    int64_t pid = (int64_t)get_le64(&c);
    tsf_cur_u8(&c); /* sequence: routing is decided again */
    uint64_t version = get_le64(&c), mt = get_le64(&c);
    tsf_cur_varstr(&c, &devs, &devl);
    uint32_t ncols = tsf_cur_uvarint(&c);
    if (c.err || !sgs || !devs) {
        fprintf(stderr, "tsfs: WAL: malformed record ignored\n");
        return 0;
    }
    char *sg = g_strndup((const char *)sgs, sgl), *device = g_strndup((const char *)devs, devl);
    TsFileProc *proc = NULL;
    ReplayAction act = replay_action(e, sg, pid, version, mt, &proc);
    if (act == REPLAY_SKIP) {
        atomic_fetch_add(&e->skipped, 1);
        g_free(sg);
        g_free(device);
        return 0;
    }
    if (act == REPLAY_INTO_FILE) {
        /* the same memtable id as before the crash */
        pthread_mutex_lock(&proc->part->sg->lock);
        if (proc->working && proc->working->id != mt) flush_freeze(e, proc);
        if (!proc->working && proc->next_mt_id <= mt) proc->next_mt_id = mt;
        pthread_mutex_unlock(&proc->part->sg->lock);
    }
    int rc = 0;
    for (uint32_t k = 0; k < ncols && !c.err; k++) {
        const uint8_t *ms;
        uint32_t ml;
        tsf_cur_varstr(&c, &ms, &ml);
        TsfType type = (TsfType)tsf_cur_u8(&c);
        tsf_cur_u8(&c); /* encoding and compression come from the schema */
        tsf_cur_u8(&c);
        uint32_t n = tsf_cur_uvarint(&c);
        const uint8_t *tp = tsf_cur_take(&c, (size_t)n * 8);
        if (c.err || !tp || tsf_type_phys(type) == TSF_PHYS_NONE) break;
        int64_t *times = malloc((size_t)(n ? n : 1) * 8);
        void *values = NULL;
        size_t esz = tsf_type_elem_size(type);
        if (times) memcpy(times, tp, (size_t)n * 8);
        if (tsf_type_phys(type) == TSF_PHYS_BIN) {
            TsfBin *b = malloc((size_t)(n ? n : 1) * sizeof(TsfBin));
            for (uint32_t i = 0; b && i < n && !c.err; i++) {
                b[i].len = tsf_cur_uvarint(&c);
                b[i].ptr = tsf_cur_take(&c, b[i].len);
            }
            values = b;
        } else {
            const uint8_t *vp = tsf_cur_take(&c, (size_t)n * esz);
            values = malloc((size_t)(n ? n : 1) * esz);
            if (vp && values) memcpy(values, vp, (size_t)n * esz);
        }
        if (!times || !values) rc = -ENOMEM;
        if (rc == 0 && !c.err && n > 0) {
            char *meas = g_strndup((const char *)ms, ml);
            EngineColumn col = {meas, type, values, NULL};
            int irc = act == REPLAY_INTO_FILE
                          ? eng_apply_column(e, proc, device, meas, type, times, values, n)
                          : eng_replay_insert(e, device, times, n, &col);
            if (irc) fprintf(stderr, "tsfs: WAL: cannot replay %s.%s: %s\n", device, meas, tsf_strerror(irc));
            /* a full disk stops the start: the record must not be discarded unreplayed */
            if (eng_disk_full(irc)) rc = irc;
            g_free(meas);
        }
        free(times);
        free(values);
        if (rc) break;
    }
    if (c.err) fprintf(stderr, "tsfs: WAL: truncated record for %s ignored\n", device);
    atomic_fetch_add(&e->replayed, 1);
    g_free(sg);
    g_free(device);
    return rc;
}

int recovery_run(Engine *e)
{
    compaction_recover(e); /* before the files are looked at: old set or new, never both */
    schema_foreach_sg(e->schema, add_sg, e);
    GList *sgs = eng_sg_list(e);
    for (GList *l = sgs; l; l = l->next) {
        scan_kind(e, l->data, true);
        scan_kind(e, l->data, false);
    }
    g_list_free(sgs);
    load_sealed(e);
    e->replaying = true;
    int rc = wal_replay(e->wal, replay_record, e);
    if (rc == TSF_ECORRUPT) rc = 0; /* a file that is no segment: reported, left in place (wal.c) */
    e->replaying = false;
    /* reopened files: their replayed memtables flushed, then closed */
    for (guint i = 0; i < e->recovered->len; i++) {
        TsFileProc *proc = e->recovered->pdata[i];
        pthread_mutex_lock(&proc->part->sg->lock);
        flush_queue_close(e, proc);
        pthread_mutex_unlock(&proc->part->sg->lock);
    }
    g_ptr_array_set_size(e->recovered, 0);
    if (rc == 0) rc = engine_flush_all(e);
    if (eng_disk_full(rc))
        fprintf(stderr,
                "tsfs: %s: the data the WAL holds cannot be flushed; nothing is lost: free space and "
                "start again\n",
                tsf_strerror(rc));
    uint64_t seg;
    if (rc == 0) rc = wal_rotate(e->wal, &seg);
    if (rc == 0) rc = wal_discard_before(e->wal, seg);
    return rc ? rc : atomic_load(&e->err);
}
