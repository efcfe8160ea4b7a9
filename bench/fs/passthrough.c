/*
 * passthrough.c: the FUSE floor of this machine, for bench/fs/run.sh.
 *
 *   build/bench-passthrough SRC MOUNTPOINT [-f] [-d] [-o OPTION...]
 *
 * A minimal path-based (high-level fuse.h) filesystem that forwards every
 * operation to the directory SRC, in the shape of the "passthrough" example of
 * libfuse 3.14: default mount options (kernel page cache on, multithreaded
 * loop), inode numbers passed through, and entry/attribute timeouts of zero so
 * changes made below are seen at once.  Whatever tsfs costs beyond this is the
 * price of tsfs itself, not of FUSE.
 *
 * Design: SRC is opened once as a directory fd at startup and every path is
 * resolved relative to it with the *at() calls ("/" becomes "."), so no path
 * strings are built per request and a later chdir cannot redirect us.  Open
 * files keep their fd in fi->fh; read and write use pread/pwrite on it, which
 * is what lets the kernel issue requests in parallel.  Handlers return 0 or
 * -errno, as the high-level API wants.
 */
#define FUSE_USE_VERSION 31

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

/* Directory fd of SRC; set once in main before the loop starts. */
static int g_src_fd = -1;

/* Path below SRC for a FUSE path ("/a/b" -> "a/b", "/" -> "."). */
static const char *pt_rel(const char *path)
{
    while (*path == '/') path++;
    return *path ? path : ".";
}

static void *pt_init(struct fuse_conn_info *conn, struct fuse_config *cfg)
{
    (void)conn;
    /* Report the inode numbers of SRC, and cache no names or attributes:
     * SRC may change under us, and the timeouts match the libfuse example. */
    cfg->use_ino = 1;
    cfg->entry_timeout = 0;
    cfg->attr_timeout = 0;
    cfg->negative_timeout = 0;
    return NULL;
}

static int pt_getattr(const char *path, struct stat *st, struct fuse_file_info *fi)
{
    int rc;

    if (fi)
        rc = fstat((int)fi->fh, st);
    else
        rc = fstatat(g_src_fd, pt_rel(path), st, AT_SYMLINK_NOFOLLOW);
    return rc == -1 ? -errno : 0;
}

static int pt_readdir(const char *path, void *buf, fuse_fill_dir_t filler, off_t offset,
                      struct fuse_file_info *fi, enum fuse_readdir_flags flags)
{
    DIR *dir;
    struct dirent *de;
    int fd;

    (void)offset;
    (void)fi;
    (void)flags;
    fd = openat(g_src_fd, pt_rel(path), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd == -1) return -errno;
    dir = fdopendir(fd);
    if (!dir) {
        int saved = errno;
        close(fd);
        return -saved;
    }
    /* Offset 0 for every entry: the whole listing goes in one pass, and
     * fuse buffers it, which keeps this handler stateless. */
    while ((de = readdir(dir)) != NULL) {
        struct stat st;

        memset(&st, 0, sizeof(st));
        st.st_ino = de->d_ino;
        st.st_mode = (mode_t)DTTOIF(de->d_type);
        if (filler(buf, de->d_name, &st, 0, 0)) break;
    }
    closedir(dir);
    return 0;
}

static int pt_open(const char *path, struct fuse_file_info *fi)
{
    int fd = openat(g_src_fd, pt_rel(path), fi->flags | O_CLOEXEC);

    if (fd == -1) return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pt_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
    int fd = openat(g_src_fd, pt_rel(path), fi->flags | O_CREAT | O_CLOEXEC, mode);

    if (fd == -1) return -errno;
    fi->fh = (uint64_t)fd;
    return 0;
}

static int pt_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t n;

    (void)path;
    n = pread((int)fi->fh, buf, size, off);
    return n == -1 ? -errno : (int)n;
}

static int pt_write(const char *path, const char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
    ssize_t n;

    (void)path;
    /* An O_APPEND fd appends whatever off says (Linux pwrite), as it should. */
    n = pwrite((int)fi->fh, buf, size, off);
    return n == -1 ? -errno : (int)n;
}

static int pt_release(const char *path, struct fuse_file_info *fi)
{
    (void)path;
    close((int)fi->fh);
    return 0;
}

static int pt_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
    int fd, rc, saved;

    if (fi) return ftruncate((int)fi->fh, size) == -1 ? -errno : 0;
    fd = openat(g_src_fd, pt_rel(path), O_WRONLY | O_CLOEXEC);
    if (fd == -1) return -errno;
    rc = ftruncate(fd, size);
    saved = errno;
    close(fd);
    return rc == -1 ? -saved : 0;
}

static int pt_unlink(const char *path)
{
    return unlinkat(g_src_fd, pt_rel(path), 0) == -1 ? -errno : 0;
}

static int pt_mkdir(const char *path, mode_t mode)
{
    return mkdirat(g_src_fd, pt_rel(path), mode) == -1 ? -errno : 0;
}

static int pt_rmdir(const char *path)
{
    return unlinkat(g_src_fd, pt_rel(path), AT_REMOVEDIR) == -1 ? -errno : 0;
}

static int pt_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
    int rc;

    (void)path;
    rc = datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh);
    return rc == -1 ? -errno : 0;
}

static int pt_statfs(const char *path, struct statvfs *sv)
{
    (void)path;
    /* Everything below SRC is one filesystem as far as the benchmark cares. */
    return fstatvfs(g_src_fd, sv) == -1 ? -errno : 0;
}

static int pt_utimens(const char *path, const struct timespec tv[2], struct fuse_file_info *fi)
{
    int rc;

    if (fi)
        rc = futimens((int)fi->fh, tv);
    else
        rc = utimensat(g_src_fd, pt_rel(path), tv, AT_SYMLINK_NOFOLLOW);
    return rc == -1 ? -errno : 0;
}

static const struct fuse_operations pt_ops = {
    .init = pt_init,
    .getattr = pt_getattr,
    .readdir = pt_readdir,
    .open = pt_open,
    .create = pt_create,
    .read = pt_read,
    .write = pt_write,
    .release = pt_release,
    .truncate = pt_truncate,
    .unlink = pt_unlink,
    .mkdir = pt_mkdir,
    .rmdir = pt_rmdir,
    .fsync = pt_fsync,
    .statfs = pt_statfs,
    .utimens = pt_utimens,
};

int main(int argc, char *argv[])
{
    if (argc < 3 || argv[1][0] == '-') {
        fprintf(stderr, "usage: %s SRC MOUNTPOINT [-f] [-d] [-o OPTION...]\n", argv[0]);
        return 2;
    }
    g_src_fd = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (g_src_fd == -1) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
        return 1;
    }
    /* fuse_main sees the usual "prog MOUNTPOINT options" command line. */
    argv[1] = argv[0];
    return fuse_main(argc - 1, argv + 1, &pt_ops, NULL);
}
