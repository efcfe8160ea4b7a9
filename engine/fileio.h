/*
 * fileio.h: the few file-system steps every durable engine file needs,
 * written once: whole writes, directory fsyncs, and atomic replacement.
 * All return 0 or a negative errno.
 */
#ifndef TSFS_FILEIO_H
#define TSFS_FILEIO_H

#include <stddef.h>

/* write(2) until all n bytes are written (EINTR retried). */
int fileio_write_all(int fd, const void *p, size_t n);

/* fsync of a directory, so entries created or renamed in it are durable. */
int fileio_fsync_dir(const char *dir);

/* fsync of the directory that holds path. */
int fileio_fsync_parent(const char *path);

/* Replaces path with data: written to path.temp, fsynced, renamed over
 * path, and the directory fsynced; a crash leaves the old file or the new
 * one.  The temp file is removed on failure. */
int fileio_replace(const char *path, const void *data, size_t len);

#endif
