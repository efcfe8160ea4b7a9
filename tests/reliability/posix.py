"""posix.py: the errno checks of tests/reliability/posix.sh, in the style of
pjdfstest: each operation the contract (filesystem.md) refuses is tried with
plain os calls and must fail with exactly the errno its table names (a few
cases that two rows of the table both cover accept either errno, said so
inline).  What tests/mount/run.sh already asserts is not repeated here.

    posix.py setup MNT        storage group root.px: devices d1, d2; data in
                              partitions 1 and 2 (partition_interval=1000);
                              partition 1 sealed
    posix.py snapshot MNT     every file's mode, size and content digest
    posix.py root MNT         the refusals, as root
    posix.py other MNT        as a user other than the files' owner
                              (allow_other, default_permissions)
    posix.py owner MNT        as the owner of every file (-o uid=,gid=)
    posix.py nomount MNT      as another user without allow_other

Prints "ok - what" or "not ok - what: expected X, got Y" per check and
exits 1 when any failed.
"""
import errno
import hashlib
import os
import socket
import stat
import sys

FAILED = 0
COUNT = 0


def name_of(e):
    return errno.errorcode.get(e, str(e))


def check(want, what, fn, *args):
    """want: "OK" or errno names joined by |."""
    global FAILED, COUNT
    COUNT += 1
    try:
        fn(*args)
        got = "OK"
    except OSError as e:
        got = name_of(e.errno)
    if got in want.split("|"):
        print("ok - %s" % what)
    else:
        FAILED += 1
        print("not ok - %s: expected %s, got %s" % (what, want, got))


def fail(what):
    global FAILED, COUNT
    COUNT += 1
    FAILED += 1
    print("not ok - %s" % what)


def expect_eq(what, got, want):
    global COUNT, FAILED
    COUNT += 1
    if got == want:
        print("ok - %s" % what)
    else:
        FAILED += 1
        print("not ok - %s: expected %r, got %r" % (what, want, got))


def open_close(path, flags, mode=0o644):
    os.close(os.open(path, flags, mode))


def append(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def pwrite_on(path, flags, data, off):
    fd = os.open(path, flags)
    try:
        if off is None:
            off = os.fstat(fd).st_size
        os.pwrite(fd, data, off)
    finally:
        os.close(fd)


def ftruncate_on(path, size):
    fd = os.open(path, os.O_WRONLY)
    try:
        os.ftruncate(fd, size)
    finally:
        os.close(fd)


def bind_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.bind(path)
    finally:
        s.close()


def write_dirfd(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)


def read_all(path):
    with open(path, "rb") as f:
        return f.read()


# ---- setup and snapshot ----------------------------------------------------------

def setup(m):
    sg = os.path.join(m, "root.px")
    os.mkdir(sg)
    os.mkdir(os.path.join(sg, "all", "d1"))
    os.mkdir(os.path.join(sg, "all", "d2"))
    a = os.path.join(sg, "all", "d1")
    append(os.path.join(a, "s"), b"1100,1.5\n1200,2.5\n2100,3.5\n")
    append(os.path.join(a, "t"), b"1150,hello\n2150,world\n")
    append(os.path.join(a, "app"), b"2200,1.5\n")
    append(os.path.join(sg, "all", "d2", "s"), b"2500,7.25\n")
    os.chmod(os.path.join(sg, "1"), 0o555)  # seal partition 1


def snapshot(m):
    out = []
    for d, dirs, files in os.walk(m):
        dirs.sort()
        rel = os.path.relpath(d, m)
        for n in sorted(files):
            # generated files (.stats, *.svg) and the appended-to sensor change by design
            if n.startswith(".") or n.endswith(".svg") or n == "app" or n == "d1.csv":
                continue
            p = os.path.join(d, n)
            st = os.stat(p)
            out.append("%s/%s %o %d %s" % (rel, n, st.st_mode, st.st_size,
                                          hashlib.sha1(read_all(p)).hexdigest()))
        for n in dirs:
            st = os.stat(os.path.join(d, n))
            out.append("%s/%s/ %o" % (rel, n, st.st_mode))
    print("\n".join(out))


# ---- as root ---------------------------------------------------------------------

def as_root(m):
    sg = os.path.join(m, "root.px")
    A = os.path.join(sg, "all", "d1")
    A2 = os.path.join(sg, "all", "d2")
    P1 = os.path.join(sg, "1")            # sealed
    P2 = os.path.join(sg, "2")            # open
    S1 = os.path.join(P1, "d1", "s")      # a sensor in the sealed partition
    S2 = os.path.join(P2, "d1", "s")      # a sensor in the open partition
    csv = os.path.join(sg, "all", "d1.csv")
    tsd = os.path.join(P1, ".tsfiles")
    tsf = [n for n in sorted(os.listdir(tsd)) if n.endswith(".tsfile")]
    TF = os.path.join(tsd, tsf[0]) if tsf else os.path.join(tsd, "none.tsfile")
    if not tsf:
        fail("sealed partition 1 has a TsFile in .tsfiles/")

    # rename: EPERM (not EXDEV), wherever the names are
    check("EPERM", "rename sensor onto an existing sensor", os.rename, A + "/s", A + "/t")
    check("EPERM", "rename storage group", os.rename, sg, os.path.join(m, "root.py"))
    check("EPERM", "rename partition directory", os.rename, P2, os.path.join(sg, "3"))
    check("EPERM", "rename device view .csv", os.rename, csv, os.path.join(sg, "all", "x.csv"))
    check("EPERM", "rename all/", os.rename, os.path.join(sg, "all"), os.path.join(sg, "everything"))
    check("EPERM", "rename sensor from all/ into a partition", os.rename, A + "/t", os.path.join(P2, "d1", "t2"))
    # two rows of the table: rename (EPERM) and anything in a sealed partition (EROFS)
    check("EPERM|EROFS", "rename sensor in a sealed partition", os.rename, S1, os.path.join(P1, "d1", "s9"))
    check("EPERM|EROFS", "rename a .tsfiles entry", os.rename, TF, TF + ".x")
    # link / symlink: EPERM everywhere
    check("EPERM", "link sensor into another device", os.link, A + "/s", A2 + "/s2")
    check("EPERM", "link .csv", os.link, csv, A + "/c")
    check("EPERM", "link sensor into a partition view", os.link, A + "/s", os.path.join(P2, "d1", "s3"))
    check("EPERM", "symlink at the mount root", os.symlink, "root.px", os.path.join(m, "root.lnk"))
    check("EPERM", "symlink in a storage group", os.symlink, "all", os.path.join(sg, "x"))
    check("EPERM", "symlink in all/", os.symlink, "d1", os.path.join(sg, "all", "d3"))
    check("EPERM", "symlink in a partition", os.symlink, "d1", os.path.join(P2, "d3"))
    # mknod: devices, fifos, sockets, even regular files
    check("EPERM", "mknod character device", os.mknod, A + "/c", stat.S_IFCHR | 0o644, os.makedev(1, 3))
    check("EPERM", "mknod block device", os.mknod, A + "/b", stat.S_IFBLK | 0o644, os.makedev(7, 0))
    check("EPERM", "mknod fifo at the mount root", os.mknod, os.path.join(m, "root.f"), stat.S_IFIFO | 0o644)
    check("EPERM", "mknod fifo in a storage group", os.mknod, os.path.join(sg, "f"), stat.S_IFIFO | 0o644)
    check("EPERM", "bind a unix socket in a device", bind_socket, A + "/sock")
    check("EPERM|EROFS", "mknod fifo in a sealed partition", os.mknod, os.path.join(P1, "d1", "f"), stat.S_IFIFO | 0o644)
    # writes at offsets other than the end (non-append handles)
    check("EINVAL", "pwrite at size - 1 on a sensor", pwrite_on, A + "/s", os.O_WRONLY, b"3000,1\n",
          os.path.getsize(A + "/s") - 1)
    check("EINVAL", "pwrite at 0 on a non-append .csv handle", pwrite_on, csv, os.O_WRONLY, b"Time,s\n3000,1\n", 0)
    check("EINVAL", "pwrite past the end on a partition view sensor", pwrite_on, S2, os.O_WRONLY, b"2300,1\n",
          os.path.getsize(S2) + 7)
    check("EINVAL", "pwrite at 0 on an O_RDWR handle", pwrite_on, A + "/s", os.O_RDWR, b"3000,1\n", 0)
    # on an O_APPEND handle the offset is ignored: pwrite appends
    check("OK", "pwrite at 0 on an O_APPEND handle appends", pwrite_on, A + "/app", os.O_WRONLY | os.O_APPEND,
          b"2300,2.5\n", 0)
    expect_eq("content after pwrite(0) on O_APPEND", read_all(A + "/app"), b"2200,1.5\n2300,2.5\n")
    # O_TRUNC never erases
    check("EPERM", "O_TRUNC|O_RDONLY on a sensor with data", open_close, A + "/s", os.O_RDONLY | os.O_TRUNC)
    check("EPERM", "O_TRUNC|O_RDWR on a sensor with data", open_close, A + "/s", os.O_RDWR | os.O_TRUNC)
    check("EPERM", "O_CREAT|O_TRUNC on a sensor with data", open_close, A + "/t", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    check("EPERM", "O_TRUNC on a partition view sensor with data", open_close, S2, os.O_WRONLY | os.O_TRUNC)
    check("EPERM", "O_TRUNC|O_APPEND on a sensor with data", open_close, A + "/s", os.O_WRONLY | os.O_APPEND | os.O_TRUNC)
    check("EPERM|EROFS", "O_TRUNC on a sealed sensor", open_close, S1, os.O_WRONLY | os.O_TRUNC)
    # truncate: only -s 0 deletes; another size is EPERM, the same size changes nothing
    check("EPERM", "truncate to 5", os.truncate, A + "/s", 5)
    check("EPERM", "truncate to size + 10", os.truncate, A + "/s", os.path.getsize(A + "/s") + 10)
    check("EPERM", "ftruncate to 3", ftruncate_on, A + "/t", 3)
    check("OK", "truncate to the current size", os.truncate, A + "/s", os.path.getsize(A + "/s"))
    check("EISDIR", "truncate a directory", os.truncate, A, 0)
    check("EROFS", "truncate a sealed sensor to 0", os.truncate, S1, 0)
    # chmod: only sealing/unsealing a partition, or no change
    check("EPERM", "chmod 0700 of the mount root", os.chmod, m, 0o700)
    check("OK", "chmod of the mount root to its mode", os.chmod, m, stat.S_IMODE(os.stat(m).st_mode))
    check("EPERM", "chmod 0700 of a storage group", os.chmod, sg, 0o700)
    check("EPERM", "chmod a-w of a device under all/", os.chmod, A, 0o555)
    check("EPERM", "chmod 0600 of a .csv", os.chmod, csv, 0o600)
    check("OK", "chmod of a .csv to its mode", os.chmod, csv, 0o644)
    check("EPERM", "chmod u+s of a sensor", os.chmod, A + "/s", 0o4644)
    check("EPERM", "chmod a-w of a sensor", os.chmod, A + "/s", 0o444)
    check("EPERM", "chmod 0644 of a sealed sensor", os.chmod, S1, 0o644)
    check("OK", "chmod of a sealed sensor to its mode", os.chmod, S1, 0o444)
    check("EPERM", "chmod 0755 of .tsfiles/", os.chmod, tsd, 0o755)
    check("EPERM", "chmod 0644 of a .tsfiles entry", os.chmod, TF, 0o644)
    check("EPERM", "chmod 0700 of a device in a partition", os.chmod, os.path.join(P2, "d1"), 0o700)
    check("EPERM", "chmod u+s of an open partition", os.chmod, P2, 0o4755)
    # chown: EPERM to another owner (the same owner changes nothing: accepted)
    uid, gid = os.stat(m).st_uid, os.stat(m).st_gid
    check("EPERM", "chown of the mount root", os.chown, m, 1234, -1)
    check("EPERM", "chown of a storage group", os.chown, sg, 1234, 1234)
    check("EPERM", "chgrp of a .csv", os.chown, csv, -1, 1234)
    check("EPERM", "chown of a sealed sensor", os.chown, S1, 1234, -1)
    check("EPERM", "chown of a .tsfiles entry", os.chown, TF, 1234, -1)
    check("OK", "chown to the current owner", os.chown, A + "/s", uid, gid)
    check("OK", "chown -1 -1", os.chown, A + "/s", -1, -1)
    # read-only attributes
    for a in ("count", "first", "last"):
        check("EPERM", "setxattr user.tsfs.%s on a partition view sensor" % a, os.setxattr, S2, "user.tsfs." + a, b"1")
        check("EPERM|EROFS", "setxattr user.tsfs.%s on a sealed sensor" % a, os.setxattr, S1, "user.tsfs." + a, b"1")
    check("EPERM|EROFS", "setxattr user.tsfs.type on a sealed sensor (another type)", os.setxattr, S1,
          "user.tsfs.type", b"INT64")
    check("EBUSY", "setxattr user.tsfs.encoding on a sensor with data (another encoding)", os.setxattr, A + "/s",
          "user.tsfs.encoding", b"PLAIN" if os.getxattr(A + "/s", "user.tsfs.encoding") != b"PLAIN" else b"GORILLA")
    check("ENODATA", "getxattr of an ACL on a directory", os.getxattr, A, "system.posix_acl_default")
    # mkdir in the wrong places
    check("EPERM|EROFS", "mkdir in a sealed partition", os.mkdir, os.path.join(P1, "d9"))
    check("EPERM|EROFS", "mkdir in .tsfiles/", os.mkdir, os.path.join(tsd, "x"))
    check("EPERM", "mkdir in an open partition's device", os.mkdir, os.path.join(P2, "d1", "x"))
    check("EEXIST", "mkdir over an existing sensor", os.mkdir, A + "/s")
    check("EEXIST", "mkdir all/ again", os.mkdir, os.path.join(sg, "all"))
    check("EINVAL", "mkdir 'all' at the mount root", os.mkdir, os.path.join(m, "all"))
    check("EINVAL", "mkdir a storage group inside another's name space", os.mkdir, os.path.join(m, "root.px.sub"))
    check("ENOENT", "mkdir in a missing storage group", os.mkdir, os.path.join(m, "root.nope", "all", "d"))
    # rmdir of what is not empty, or not a directory
    check("ENOTEMPTY", "rmdir of an open partition with data", os.rmdir, P2)
    check("ENOTEMPTY", "rmdir of a device in an open partition with data", os.rmdir, os.path.join(P2, "d1"))
    check("EROFS|ENOTEMPTY", "rmdir of a sealed partition", os.rmdir, P1)
    check("EROFS", "rmdir of .tsfiles/", os.rmdir, tsd)
    check("ENOTDIR", "rmdir of a sensor", os.rmdir, A + "/s")
    check("ENOTDIR", "rmdir of a .csv", os.rmdir, csv)
    check("EBUSY", "rmdir of the mount point", os.rmdir, m)
    check("ENOENT", "rmdir of a missing device", os.rmdir, os.path.join(sg, "all", "nope"))
    # open of what does not exist, with various flags
    for fl, nm in ((os.O_RDONLY, "O_RDONLY"), (os.O_WRONLY, "O_WRONLY"), (os.O_RDWR, "O_RDWR"),
                   (os.O_WRONLY | os.O_APPEND, "O_WRONLY|O_APPEND"), (os.O_WRONLY | os.O_TRUNC, "O_WRONLY|O_TRUNC")):
        check("ENOENT", "open %s of a missing sensor" % nm, open_close, A + "/nosuch", fl)
    check("ENOENT", "O_CREAT in a missing device", open_close, os.path.join(sg, "all", "nodev", "s"),
          os.O_WRONLY | os.O_CREAT)
    check("ENOENT", "O_CREAT in a missing storage group", open_close, os.path.join(m, "root.nope", "all", "d", "s"),
          os.O_WRONLY | os.O_CREAT)
    check("ENOENT", "O_CREAT in a missing partition", open_close, os.path.join(sg, "77", "d1", "s"),
          os.O_WRONLY | os.O_CREAT)
    check("EEXIST", "O_CREAT|O_EXCL on an existing sensor", open_close, A + "/s", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    check("ENOTDIR", "O_DIRECTORY on a sensor", open_close, A + "/s", os.O_RDONLY | os.O_DIRECTORY)
    check("ENOTDIR", "a path through a sensor", os.stat, A + "/s/x")
    check("EISDIR", "open O_WRONLY of a device directory", open_close, A, os.O_WRONLY)
    check("EISDIR", "open O_RDWR of a storage group", open_close, sg, os.O_RDWR)
    check("EBADF", "write() on a directory fd", write_dirfd, A)
    check("EROFS", "O_CREAT in .tsfiles/", open_close, os.path.join(tsd, "new.tsfile"), os.O_WRONLY | os.O_CREAT)
    check("EROFS", "O_CREAT of a new sensor in a sealed partition", open_close, os.path.join(P1, "d1", "n"),
          os.O_WRONLY | os.O_CREAT)
    check("EROFS", "O_RDWR of a sealed sensor", open_close, S1, os.O_RDWR)
    check("EROFS", "O_RDWR of a .tsfiles entry", open_close, TF, os.O_RDWR)
    # unlink of directories and of what is missing
    for p, nm in ((A, "a device"), (sg, "a storage group"), (os.path.join(sg, "all"), "all/"),
                  (P2, "a partition"), (tsd, ".tsfiles/")):
        check("EISDIR", "unlink of %s" % nm, os.unlink, p)
    check("ENOENT", "unlink of a missing sensor", os.unlink, A + "/nosuch")
    check("ENOENT", "unlink in a missing device", os.unlink, os.path.join(sg, "all", "nodev", "s"))
    # what is allowed: times (not kept), statfs, fsync of a directory
    check("OK", "utime of a sensor (touch)", os.utime, A + "/s")
    check("OK", "statvfs", os.statvfs, m)
    # bad input leaves a poisoned handle, not a dead daemon
    check("EINVAL", "write of a NUL byte", append, A + "/app", b"2400,\x00\n")
    check("EINVAL", "write of a text value into a DOUBLE series", append, A + "/app", b"2400,abc\n")
    check("EINVAL", "write of a time with garbage", append, A + "/app", b"24x00,1.5\n")


# ---- as other users -------------------------------------------------------------

def as_other(m):
    """allow_other, files owned by root: read yes, write no."""
    sg = os.path.join(m, "root.px")
    A = os.path.join(sg, "all", "d1")
    expect_eq("owner seen by another user", os.stat(A + "/s").st_uid, 0)
    check("OK", "listdir", os.listdir, A)
    check("OK", "cat a sensor", read_all, A + "/s")
    check("OK", "cat a sealed sensor", read_all, os.path.join(sg, "1", "d1", "s"))
    check("OK", "getxattr user.tsfs.count", os.getxattr, A + "/s", "user.tsfs.count")
    check("EACCES", "append to a sensor", append, A + "/s", b"2600,1\n")
    check("EACCES", "create a sensor", open_close, A + "/new", os.O_WRONLY | os.O_CREAT)
    check("EACCES", "mkdir a storage group", os.mkdir, os.path.join(m, "root.nobody"))
    check("EACCES", "mkdir a device", os.mkdir, os.path.join(sg, "all", "dn"))
    check("EACCES", "rm a sensor", os.unlink, A + "/s")
    check("EACCES", "truncate -s 0", os.truncate, A + "/s", 0)
    check("EACCES", "rmdir a device", os.rmdir, os.path.join(sg, "all", "d2"))
    check("EPERM", "chmod a-w of a partition (seal) by a non-owner", os.chmod, os.path.join(sg, "2"), 0o555)
    check("EPERM", "chown to oneself", os.chown, A + "/s", os.getuid(), -1)
    check("EACCES|EPERM", "setxattr user.tsfs.type", os.setxattr, A + "/s", "user.tsfs.type", b"DOUBLE")


def as_owner(m):
    """-o uid=,gid= of this user: the owner may write, seal and unseal."""
    sg = os.path.join(m, "root.px")
    A = os.path.join(sg, "all", "d1")
    expect_eq("owner of a sensor", os.stat(A + "/s").st_uid, os.getuid())
    expect_eq("group of a directory", os.stat(sg).st_gid, os.getgid())
    check("OK", "append to a sensor", append, A + "/app", b"2700,3.5\n")
    check("OK", "mkdir a device", os.mkdir, os.path.join(sg, "all", "d3"))
    check("OK", "create and fill a sensor", append, os.path.join(sg, "all", "d3", "x"), b"2800,1.5\n")
    check("EACCES", "append into a sealed partition (mode 0444)", append, os.path.join(sg, "1", "d1", "s"),
          b"1300,1\n")
    check("EACCES", "create in a sealed partition (mode 0555)", open_close, os.path.join(sg, "1", "d1", "n"),
          os.O_WRONLY | os.O_CREAT)
    check("OK", "seal partition 2 (chmod a-w)", os.chmod, os.path.join(sg, "2"), 0o555)
    expect_eq("mode after the seal", stat.S_IMODE(os.stat(os.path.join(sg, "2")).st_mode), 0o555)
    check("EACCES", "append into the just sealed partition", append, os.path.join(sg, "2", "d1", "s"), b"2900,1\n")
    check("EROFS", "append under all/ into the just sealed partition", append, A + "/app", b"2950,1\n")
    check("OK", "unseal partition 2 (chmod u+w)", os.chmod, os.path.join(sg, "2"), 0o755)
    check("OK", "append after the unseal", append, A + "/app", b"2960,4.5\n")
    check("EPERM", "chown to root", os.chown, A + "/s", 0, -1)
    check("OK", "rm of a sensor", os.unlink, os.path.join(sg, "all", "d3", "x"))
    expect_eq("app after the owner's appends", read_all(A + "/app"), b"2200,1.5\n2300,2.5\n2700,3.5\n2960,4.5\n")


def no_mount_access(m):
    """without allow_other, FUSE refuses every other user."""
    check("EACCES", "stat of a mount without allow_other", os.stat, os.path.join(m, "root.px"))
    check("EACCES", "listdir of a mount without allow_other", os.listdir, m)


def main():
    mode, m = sys.argv[1], sys.argv[2]
    if mode == "setup":
        setup(m)
        return 0
    if mode == "snapshot":
        snapshot(m)
        return 0
    {"root": as_root, "other": as_other, "owner": as_owner, "nomount": no_mount_access}[mode](m)
    print("# %s: %d checks, %d failed" % (mode, COUNT, FAILED))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
