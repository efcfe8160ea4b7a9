"""diskfull.py: the writer and checker of tests/reliability/diskfull.sh.

    diskfull.py fill MNT DEVDIR STATE [MAXPOINTS]
        Appends through the mount to the sensors a, b, c of DEVDIR (one
        open + write of 500 lines + close per append, random doubles) until
        an append fails.  That failure must be ENOSPC.  The acknowledged
        points (write and close returned success) are saved in STATE (JSON,
        outside the mount), with the next time of each sensor.
    diskfull.py check MNT DEVDIR STATE
        Every acknowledged point reads back (cat) with its value; a point
        that was never acknowledged may be there only if it belonged to a
        refused append; times strictly increase.
    diskfull.py resume MNT DEVDIR STATE N
        N more appends must succeed (ingestion resumed); STATE is updated.
    diskfull.py refused MNT DEVDIR STATE
        One more append must fail with ENOSPC (the disk is still full).
Prints one line; exits 1 on failure.
"""
import errno
import json
import os
import random
import sys

SENSORS = ("a", "b", "c")
LINES = 500


def load(state):
    with open(state) as f:
        return json.load(f)


def save(state, st):
    tmp = state + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f)
    os.replace(tmp, state)


def one_append(devdir, st, rng, s):
    """One append of LINES points to sensor s: None when acknowledged, else
    (errno name, where)."""
    t0 = st["next"][s]
    vals = [repr(round(rng.uniform(-1e6, 1e6), rng.randrange(1, 9))) for _ in range(LINES)]
    data = "".join("%d,%s\n" % (t0 + i, v) for i, v in enumerate(vals)).encode()
    st["next"][s] = t0 + LINES
    fd = -1
    where = "open"
    try:
        fd = os.open(os.path.join(devdir, s), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        where = "write"
        n = os.write(fd, data)
        if n != len(data):
            raise OSError(errno.EIO, "short write %d of %d" % (n, len(data)))
        where = "close"
        f, fd = fd, -1
        os.close(f)
    except OSError as e:
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass
        st.setdefault("maybe", []).append([s, t0, vals])
        return errno.errorcode.get(e.errno, str(e.errno)), where
    st["acked"][s].append([t0, vals])
    st["npoints"] += LINES
    return None


def fill(mnt, devdir, state, maxpoints):
    if os.path.exists(state):
        st = load(state)  # a second fill goes on after the first
    else:
        st = {"next": {s: 1000000 for s in SENSORS}, "acked": {s: [] for s in SENSORS}, "npoints": 0}
    rng = random.Random(st["npoints"] + 1)
    i = 0
    start = st["npoints"]
    while st["npoints"] - start < maxpoints:
        s = SENSORS[i % len(SENSORS)]
        i += 1
        r = one_append(devdir, st, rng, s)
        if r:
            save(state, st)
            name, where = r
            if name != "ENOSPC":
                print("fill: append %d failed at %s with %s, not ENOSPC" % (i, where, name))
                return 1
            print("fill: %d points acknowledged, then ENOSPC at %s() of append %d" % (st["npoints"] - start, where, i))
            return 0
    save(state, st)
    print("fill: %d points written and no ENOSPC: the disk is too big" % (st["npoints"] - start))
    return 1


def check(mnt, devdir, state):
    st = load(state)
    errs = []
    total = extra_ok = 0
    for s in SENSORS:
        want = {}
        for t0, vals in st["acked"][s]:
            for k, v in enumerate(vals):
                want[t0 + k] = v
        maybe = {}
        for ms, t0, vals in st.get("maybe", []):
            if ms == s:
                for k, v in enumerate(vals):
                    maybe[t0 + k] = v
        try:
            with open(os.path.join(devdir, s)) as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        got = {}
        prev = None
        for line in lines:
            t, v = line.split(",", 1)
            t = int(t)
            if prev is not None and t <= prev:
                errs.append("%s: time %d after %d" % (s, t, prev))
                break
            prev = t
            got[t] = v
        lost = [t for t in want if t not in got]
        wrong = [t for t in want if t in got and float(got[t]) != float(want[t])]
        extra = [t for t in got if t not in want and (t not in maybe or float(got[t]) != float(maybe[t]))]
        extra_ok += sum(1 for t in got if t not in want and t in maybe)
        if lost:
            errs.append("%s: %d of %d acknowledged points lost, e.g. %s" % (s, len(lost), len(want), sorted(lost)[:3]))
        if wrong:
            errs.append("%s: %d points with other values, e.g. %s" % (s, len(wrong), [(t, got[t], want[t]) for t in wrong[:3]]))
        if extra:
            errs.append("%s: %d points never written, e.g. %s" % (s, len(extra), sorted(extra)[:3]))
        total += len(want)
    if errs:
        print("check: " + "; ".join(errs))
        return 1
    print("check: all %d acknowledged points read back%s" % (
        total, ", and %d of refused appends" % extra_ok if extra_ok else ""))
    return 0


def resume(mnt, devdir, state, n):
    st = load(state)
    rng = random.Random(2)
    for i in range(n):
        s = SENSORS[i % len(SENSORS)]
        r = one_append(devdir, st, rng, s)
        if r:
            save(state, st)
            print("resume: append %d of %d failed at %s with %s" % (i + 1, n, r[1], r[0]))
            return 1
    save(state, st)
    print("resume: %d appends (%d points) accepted" % (n, n * LINES))
    return 0


def refused(mnt, devdir, state):
    st = load(state)
    r = one_append(devdir, st, random.Random(3), SENSORS[0])
    save(state, st)
    if r is None:
        print("refused: an append succeeded on a full disk")
        return 1
    if r[0] != "ENOSPC":
        print("refused: append failed at %s with %s, not ENOSPC" % (r[1], r[0]))
        return 1
    print("refused: ENOSPC at %s()" % r[1])
    return 0


def main():
    cmd = sys.argv[1]
    if cmd == "fill":
        return fill(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 50000000)
    if cmd == "check":
        return check(sys.argv[2], sys.argv[3], sys.argv[4])
    if cmd == "resume":
        return resume(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    if cmd == "refused":
        return refused(sys.argv[2], sys.argv[3], sys.argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
