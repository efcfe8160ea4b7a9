"""driver.py: the writer of the crash test (tests/crash/run.sh).

    driver.py MNT SG DEVICE ROUND INTERVAL SEED OPLOG STOPFILE

Appends points to the sensors a (DOUBLE), b (TEXT) and del (DOUBLE) of
SG/all/DEVICE through the mount, one open + write + close per append, with
increasing times and now and then an out-of-order time in a gap left
earlier; now and then deletes del's points of this round's partition with
`rm SG/ROUND/DEVICE/del`.  Every time lies in partition ROUND (times
ROUND * INTERVAL + ...), so rounds never touch each other's data.

Every operation is logged to OPLOG, tab-separated, after it returned:
    P sensor time value status       status: ok, or the errno name
    D sensor lo hi status
"ok" means write() and close() (or unlink()) returned success: the point or
deletion is acknowledged.  The driver runs until the daemon is gone
(ENOTCONN / ECONNABORTED, or MNT no longer a mount point: exit 0) or
STOPFILE exists; any other error exits 2.
"""
import errno
import os
import random
import sys
import time

GONE = (errno.ENOTCONN, errno.ECONNABORTED, errno.ENODEV)


def main():
    mnt, sg, dev, rnd, interval, seed, oplog, stop = sys.argv[1:9]
    rnd, interval, seed = int(rnd), int(interval), int(seed)
    rng = random.Random(seed)
    base = rnd * interval
    devdir = os.path.join(mnt, sg, "all", dev)
    log = open(oplog, "a", buffering=1)
    # a device made by mkdir but without data is forgotten by a crash
    try:
        os.mkdir(devdir)
    except OSError as e:
        if e.errno == errno.EEXIST:
            pass
        elif e.errno in GONE or not os.path.ismount(mnt):
            return 0
        else:
            print("driver: mkdir %s: %s" % (devdir, os.strerror(e.errno)), file=sys.stderr)
            return 2
    nxt = {"a": 1, "b": 1, "del": 1}  # next in-order slot per sensor
    gaps = {"a": [], "b": [], "del": []}  # slots whose +5 time is unused
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not os.path.exists(stop):
        r = rng.random()
        if r < 0.04:
            # rm of del under this round's partition: deletes its range
            lo, hi = base, base + interval - 1
            path = os.path.join(mnt, sg, str(rnd), dev, "del")
            st = "ok"
            try:
                os.unlink(path)
            except OSError as e:
                st = errno.errorcode.get(e.errno, str(e.errno))
            log.write("D\tdel\t%d\t%d\t%s\n" % (lo, hi, st))
            if st in ("ENOTCONN", "ECONNABORTED", "ENODEV"):
                return 0
            if st not in ("ok", "ENOENT") and not os.path.ismount(mnt):
                return 0  # killed and unmounted: the path is the empty mount point
            if st not in ("ok", "ENOENT"):
                print("driver: unlink %s: %s" % (path, st), file=sys.stderr)
                return 2
            continue
        s = "a" if r < 0.5 else ("b" if r < 0.8 else "del")
        pts = []
        if rng.random() < 0.12 and gaps[s]:
            # out of order: a time between two already written
            k = gaps[s].pop(rng.randrange(len(gaps[s])))
            pts.append(base + 10 * k + 5)
        else:
            for _ in range(rng.choice((1, 1, 1, 2, 3))):
                gaps[s].append(nxt[s])
                pts.append(base + 10 * nxt[s])
                nxt[s] += 1
        if 10 * nxt[s] + 10 >= interval:
            break
        lines = []
        vals = []
        for t in pts:
            v = ("v%dx" % t) if s == "b" else ("%d.25" % (t % 100003))
            vals.append(v)
            lines.append("%d,%s\n" % (t, v))
        st = "ok"
        fd = -1
        try:
            fd = os.open(os.path.join(devdir, s), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            data = "".join(lines).encode()
            n = os.write(fd, data)
            if rng.random() < 0.05:
                os.fsync(fd)
            f, fd = fd, -1
            os.close(f)
            if n != len(data):
                st = "short"
        except OSError as e:
            st = errno.errorcode.get(e.errno, str(e.errno))
            if fd >= 0:
                try:
                    os.close(fd)
                except OSError:
                    pass
        for t, v in zip(pts, vals):
            log.write("P\t%s\t%d\t%s\t%s\n" % (s, t, v, st))
        if st == "ok":
            continue
        if st in ("ENOTCONN", "ECONNABORTED", "ENODEV") or not os.path.ismount(mnt):
            return 0
        print("driver: append to %s/%s: %s" % (dev, s, st), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
