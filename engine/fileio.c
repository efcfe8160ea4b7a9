/*
 * fileio.c: whole writes, directory fsyncs and atomic replacement
 * (fileio.h).
 */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fileio_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t k = write(fd, c, n);
        if (k < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (k == 0) return -EIO;
        c += k;
        n -= (size_t)k;
    }
    return 0;
}

int fileio_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

int fileio_fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? (slash == path ? strdup("/") : strndup(path, (size_t)(slash - path))) : strdup(".");
    if (!dir) return -ENOMEM;
    int rc = fileio_fsync_dir(dir);
    free(dir);
    return rc;
}

int fileio_replace(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path);
    char *temp = malloc(n + sizeof(".temp"));
    if (!temp) return -ENOMEM;
    memcpy(temp, path, n);
    memcpy(temp + n, ".temp", sizeof(".temp"));
    int rc = 0;
    int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = fileio_write_all(fd, data, len);
    if (rc == 0 && fsync(fd) != 0) rc = -errno;
    if (fd >= 0 && close(fd) != 0 && rc == 0) rc = -errno;
    if (rc == 0 && rename(temp, path) != 0) rc = -errno;
    if (rc == 0)
        rc = fileio_fsync_parent(path);
    else if (fd >= 0)
        unlink(temp);
    free(temp);
    return rc;
}
