/*
 * main.c: the tsfs command.
 *
 *   tsfs DATA_DIR MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]
 *
 * The classic FUSE form, so mount.fuse3 and fstab lines work.  Order of
 * startup: options; DATA_DIR created and locked (flock, so a second tsfs
 * is refused before anything mounts); then, as a daemon unless -f, a child
 * opens the engine (WAL replay) and mounts, and only then tells the parent
 * to exit 0, so `tsfs ...` returning success means the mount is usable.
 * Shutdown (SIGTERM, SIGINT, SIGHUP, fusermount3 -u): the FUSE loop ends,
 * the engine flushes every memtable and closes the WAL, and the process
 * exits 0 only if all of that reached the disk.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "tsfs.h"

extern const struct fuse_lowlevel_ops tsfs_ops;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: tsfs DATA_DIR MOUNTPOINT [-f] [-d] [-o OPTION[,OPTION...]]\n"
        "\n"
        "Mounts the time-series data in DATA_DIR (Apache TsFile storage) on MOUNTPOINT:\n"
        "storage groups, devices and sensors as directories and files.\n"
        "\n"
        "  -f                      stay in the foreground (log to stderr)\n"
        "  -d                      foreground, and log every operation\n"
        "  -h, --help              this text\n"
        "  -V, --version           the version\n"
        "\n"
        "tsfs options (-o):\n"
        "  partition_interval=MS   time partition width in ms, fixed when DATA_DIR is made\n"
        "                          (default 604800000, a week; later mounts use DATA_DIR's)\n"
        "  memtable_size=BYTES     memory for memtables, K/M/G suffixes (default 64M)\n"
        "  wal_sync=MODE           always | batch | off (default batch)\n"
        "  time_format=FMT         ms | iso: how times print (default ms)\n"
        "  compression=CODEC       for new series: UNCOMPRESSED SNAPPY GZIP LZ4 ZSTD LZMA2 (default LZ4)\n"
        "  auto_seal=DURATION      seal partitions ending more than DURATION ago (h, d, w units)\n"
        "  render_cache=BYTES      disk kept for rendered bytes of read files, K/M/G (default 1G, 0 = off)\n"
        "  uid=N, gid=N            owner shown for every file (default: DATA_DIR's owner)\n"
        "Other -o options go to libfuse (allow_other, ...); with allow_other tsfs adds\n"
        "default_permissions.  writeback_cache is refused.\n");
}

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s) return -1;
    uint64_t mul = 1;
    if (*end == 'K' || *end == 'k')
        mul = 1u << 10, end++;
    else if (*end == 'M' || *end == 'm')
        mul = 1u << 20, end++;
    else if (*end == 'G' || *end == 'g')
        mul = 1u << 30, end++;
    if (*end) return -1;
    *out = v * mul;
    return 0;
}

/* A uid or gid: digits only, below (uid_t)-1. */
static int parse_id(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v >= UINT32_MAX) return -1;
    *out = v;
    return 0;
}

static int parse_duration(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || v <= 0) return -1;
    int64_t unit = 0;
    if (!strcmp(end, "h"))
        unit = 3600000;
    else if (!strcmp(end, "d"))
        unit = 86400000;
    else if (!strcmp(end, "w"))
        unit = 604800000;
    else if (!strcmp(end, "ms"))
        unit = 1;
    if (!unit) return -1;
    *out = v * unit;
    return 0;
}

typedef struct Cmdline {
    const char *data_dir, *mountpoint;
    bool foreground, debug, allow_other;
    bool uid_set, gid_set;
    GString *fuse_opts; /* options passed to libfuse */
} Cmdline;

/* One -o option: ours, refused, or libfuse's.  0 or -1 (message printed). */
static int take_option(Tsfs *fs, Cmdline *cl, const char *opt)
{
    const char *eq = strchr(opt, '=');
    size_t kl = eq ? (size_t)(eq - opt) : strlen(opt);
    const char *val = eq ? eq + 1 : "";
#define KEY(k) (kl == strlen(k) && strncmp(opt, k, kl) == 0)
    if (KEY("partition_interval")) {
        uint64_t v;
        if (parse_size(val, &v) || v == 0 || v > INT64_MAX / 2) goto bad;
        fs->eopts.partition_interval = (int64_t)v;
    } else if (KEY("memtable_size")) {
        uint64_t v;
        if (parse_size(val, &v) || v < 4096) goto bad;
        fs->eopts.memtable_size = (size_t)v;
    } else if (KEY("wal_sync")) {
        if (!strcmp(val, "always"))
            fs->eopts.wal_sync = WAL_SYNC_ALWAYS;
        else if (!strcmp(val, "batch"))
            fs->eopts.wal_sync = WAL_SYNC_BATCH;
        else if (!strcmp(val, "off"))
            fs->eopts.wal_sync = WAL_SYNC_OFF;
        else
            goto bad;
    } else if (KEY("time_format")) {
        if (!strcmp(val, "ms"))
            fs->time_format = LN_TIME_MS;
        else if (!strcmp(val, "iso"))
            fs->time_format = LN_TIME_ISO;
        else
            goto bad;
    } else if (KEY("compression")) {
        int c = tsf_compression_from_name(val);
        if (c < 0) goto bad;
        fs->eopts.compression = (TsfCompression)c;
    } else if (KEY("render_cache")) {
        if (parse_size(val, &fs->render_cache)) goto bad;
    } else if (KEY("auto_seal")) {
        if (parse_duration(val, &fs->auto_seal_ms)) goto bad;
    } else if (KEY("uid")) {
        uint64_t v;
        if (parse_id(val, &v)) goto bad;
        fs->uid = (uid_t)v;
        cl->uid_set = true;
    } else if (KEY("gid")) {
        uint64_t v;
        if (parse_id(val, &v)) goto bad;
        fs->gid = (gid_t)v;
        cl->gid_set = true;
    } else if (KEY("writeback_cache")) {
        fprintf(stderr,
                "tsfs: writeback_cache is refused: write errors and durability could not be reported\n");
        return -1;
    } else if (kl == 0) {
        /* empty item in a list */
    } else {
        if (KEY("allow_other")) cl->allow_other = true;
        if (cl->fuse_opts->len) g_string_append_c(cl->fuse_opts, ',');
        g_string_append(cl->fuse_opts, opt);
    }
    return 0;
bad:
    fprintf(stderr, "tsfs: bad option value: %s\n", opt);
    return -1;
#undef KEY
}

static int parse_cmdline(Tsfs *fs, Cmdline *cl, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        } else if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
            printf("tsfs %s (libfuse %s)\n", TSFS_VERSION, fuse_pkgversion());
            exit(0);
        } else if (!strcmp(a, "-f")) {
            cl->foreground = true;
        } else if (!strcmp(a, "-d")) {
            cl->foreground = cl->debug = true;
        } else if (!strncmp(a, "-o", 2)) {
            const char *list = a[2] ? a + 2 : (i + 1 < argc ? argv[++i] : NULL);
            if (!list) {
                fprintf(stderr, "tsfs: -o needs options\n");
                return -1;
            }
            char **items = g_strsplit(list, ",", -1);
            int rc = 0;
            for (char **it = items; *it && rc == 0; it++) rc = take_option(fs, cl, *it);
            g_strfreev(items);
            if (rc) return rc;
        } else if (a[0] == '-') {
            fprintf(stderr, "tsfs: unknown argument %s (see tsfs --help)\n", a);
            return -1;
        } else if (!cl->data_dir) {
            cl->data_dir = a;
        } else if (!cl->mountpoint) {
            cl->mountpoint = a;
        } else {
            fprintf(stderr, "tsfs: too many arguments (see tsfs --help)\n");
            return -1;
        }
    }
    if (!cl->data_dir || !cl->mountpoint) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int mkdir_p(const char *path)
{
    char *p = g_strdup(path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            g_free(p);
            return -errno;
        }
        *s = '/';
    }
    int rc = mkdir(p, 0755) != 0 && errno != EEXIST ? -errno : 0;
    g_free(p);
    return rc;
}

/* ---- auto_seal: a thread that seals partitions once they are old enough ---------------- */

static pthread_mutex_t seal_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t seal_cv = PTHREAD_COND_INITIALIZER;
static bool seal_stop;

static void seal_sg(void *ctx, const char *sg)
{
    Tsfs *fs = ctx;
    int64_t *ids;
    size_t n;
    if (engine_partitions(fs->engine, sg, &ids, &n)) return;
    int64_t now = fs_now_ms(), iv = engine_partition_interval(fs->engine);
    for (size_t i = 0; i < n; i++) {
        int64_t end = ids[i] * iv + iv; /* first time after the partition */
        if (end > now - fs->auto_seal_ms || engine_partition_is_sealed(fs->engine, sg, ids[i])) continue;
        int rc = engine_seal_partition(fs->engine, sg, ids[i]);
        log_msg(rc ? LOG_ERR : LOG_INFO, "%s/%lld: auto_seal %s", sg, (long long)ids[i],
                rc ? strerror(-rc) : "sealed");
    }
    free(ids);
}

static void *seal_thread(void *arg)
{
    Tsfs *fs = arg;
    pthread_mutex_lock(&seal_mu);
    while (!seal_stop) {
        pthread_mutex_unlock(&seal_mu);
        schema_foreach_sg(engine_schema(fs->engine), seal_sg, fs);
        pthread_mutex_lock(&seal_mu);
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 5; /* cheap: a listing per storage group */
        if (!seal_stop) pthread_cond_timedwait(&seal_cv, &seal_mu, &until);
    }
    pthread_mutex_unlock(&seal_mu);
    return NULL;
}

/* ---- main ---------------------------------------------------------------------------- */

/* Tells the waiting parent how startup went (daemon mode). */
static void report_parent(int fd, int status)
{
    if (fd < 0) return;
    unsigned char b = (unsigned char)status;
    if (write(fd, &b, 1) != 1) { /* the parent is gone; nothing to tell */
    }
    close(fd);
}

int main(int argc, char **argv)
{
    Tsfs fs = {0};
    engine_options_default(&fs.eopts);
    fs.render_cache = 1ull << 30;
    fs.eopts.partition_interval = 0; /* DATA_DIR's own, or a week for a new one */
    Cmdline cl = {0};
    cl.fuse_opts = g_string_new(NULL);
    if (parse_cmdline(&fs, &cl, argc, argv)) return 2;

    char *data_dir = realpath(cl.data_dir, NULL);
    if (!data_dir) {
        int rc = mkdir_p(cl.data_dir);
        data_dir = rc ? NULL : realpath(cl.data_dir, NULL);
        if (!data_dir) {
            fprintf(stderr, "tsfs: cannot create %s: %s\n", cl.data_dir, strerror(rc ? -rc : errno));
            return 1;
        }
    }
    int lockfd = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lockfd < 0 || flock(lockfd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "tsfs: %s is in use by another tsfs (it is locked); unmount that one first\n",
                data_dir);
        free(data_dir);
        return 1;
    }
    struct stat dst;
    if (fstat(lockfd, &dst) == 0) {
        if (!cl.uid_set) fs.uid = dst.st_uid;
        if (!cl.gid_set) fs.gid = dst.st_gid;
    }
    fs.data_dir = data_dir;
    fs.eopts.data_dir = data_dir;
    fs.debug = cl.debug;
    if (cl.allow_other) g_string_append(cl.fuse_opts, ",default_permissions");

    int status_fd = -1;
    if (!cl.foreground) {
        int pfd[2];
        if (pipe(pfd) != 0) {
            perror("tsfs: pipe");
            return 1;
        }
        pid_t pid = fork();
        if (pid < 0) {
            perror("tsfs: fork");
            return 1;
        }
        if (pid > 0) {
            close(pfd[1]);
            unsigned char b = 1;
            if (read(pfd[0], &b, 1) != 1) b = 1;
            return b;
        }
        close(pfd[0]);
        status_fd = pfd[1];
        setsid();
    }
    /* until the mount is up, errors go to the terminal */
    log_init(false, cl.debug);

    int rc = engine_open(&fs.eopts, &fs.engine);
    if (rc) {
        fprintf(stderr, "tsfs: cannot open %s: %s\n", data_dir,
                rc == -EBUSY ? "in use by another process" : strerror(rc < 0 && rc > -4096 ? -rc : EIO));
        report_parent(status_fd, 1);
        free(data_dir);
        return 1;
    }
    fs.mount_time = fs_now_ms();
    nodes_init(&fs);
    content_init(&fs);

    GString *o = g_string_new("subtype=tsfs,fsname=");
    g_string_append(o, data_dir);
    if (cl.fuse_opts->len) g_string_append_printf(o, ",%s", cl.fuse_opts->str);
    char *fargv[5];
    int fargc = 0;
    fargv[fargc++] = argv[0];
    fargv[fargc++] = "-o";
    fargv[fargc++] = o->str;
    if (cl.debug) fargv[fargc++] = "-d";
    fargv[fargc] = NULL;
    struct fuse_args args = FUSE_ARGS_INIT(fargc, fargv);
    /* libfuse installs its handlers only over default ones; a shell's
     * background job starts with SIGINT ignored, and Ctrl-C must unmount */
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    struct fuse_session *se = fuse_session_new(&args, &tsfs_ops, sizeof(tsfs_ops), &fs);
    int exit_code = 1;
    if (!se) {
        fprintf(stderr, "tsfs: bad mount options: %s\n", o->str);
    } else if (fuse_set_signal_handlers(se) != 0) {
        fprintf(stderr, "tsfs: cannot install signal handlers\n");
    } else if (fuse_session_mount(se, cl.mountpoint) != 0) {
        fprintf(stderr, "tsfs: cannot mount on %s\n", cl.mountpoint);
        fuse_remove_signal_handlers(se);
    } else {
        fs.se = se;
        if (!cl.foreground) {
            report_parent(status_fd, 0);
            status_fd = -1;
            int nul = open("/dev/null", O_RDWR);
            if (nul >= 0) {
                dup2(nul, 0);
                dup2(nul, 1);
                dup2(nul, 2);
                if (nul > 2) close(nul);
            }
            log_init(true, cl.debug);
            log_capture_stderr();
        }
        log_msg(LOG_INFO, "mounted %s on %s", data_dir, cl.mountpoint);
        pthread_t sealer;
        bool sealing = fs.auto_seal_ms > 0 && pthread_create(&sealer, NULL, seal_thread, &fs) == 0;
        struct fuse_loop_config *lc = fuse_loop_cfg_create();
        fuse_loop_cfg_set_max_threads(lc, 16);
        int lrc = fuse_session_loop_mt(se, lc);
        fuse_loop_cfg_destroy(lc);
        fuse_session_unmount(se);
        fuse_remove_signal_handlers(se);
        /* a second Ctrl-C or SIGTERM must not cut the final flush short */
        signal(SIGINT, SIG_IGN);
        signal(SIGTERM, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        if (sealing) {
            pthread_mutex_lock(&seal_mu);
            seal_stop = true;
            pthread_cond_signal(&seal_cv);
            pthread_mutex_unlock(&seal_mu);
            pthread_join(sealer, NULL);
        }
        log_msg(LOG_INFO, "unmounted; flushing and closing %s", data_dir);
        exit_code = lrc < 0 ? 1 : 0;
    }
    if (se) fuse_session_destroy(se);
    report_parent(status_fd, 1);
    content_free(&fs); /* its background renders use the engine */
    rc = engine_close(fs.engine);
    if (rc) {
        log_msg(LOG_ERR, "closing %s failed: %s; the WAL keeps what was not flushed", data_dir,
                strerror(rc < 0 && rc > -4096 ? -rc : EIO));
        exit_code = 1;
    } else if (exit_code == 0) {
        log_msg(LOG_INFO, "%s closed cleanly", data_dir);
    }
    nodes_free(&fs);
    g_string_free(o, TRUE);
    g_string_free(cl.fuse_opts, TRUE);
    fuse_opt_free_args(&args);
    free(data_dir);
    close(lockfd);
    log_release_stderr();
    return exit_code;
}
