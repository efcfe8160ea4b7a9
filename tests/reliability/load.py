"""load.py: the processes of tests/reliability/load.sh.

    load.py writer MNT SG I SECONDS INTERVAL OUT
        Appends to SG/all/wI/{x,y} for SECONDS: 1-40 lines per open + write +
        close, times advancing 10 ms per point from 1000, now and then an
        out-of-order time (a gap left earlier in the current partition).
        Every time is new to its sensor: the sensors only grow.  Publishes
        OUT.horizon (the lowest time it may still write: the start of its
        current partition, so older partitions can be sealed) and at the end
        OUT (JSON: the acknowledged times per sensor).  Any failed append is
        an error.
    load.py reader MNT SG SECONDS SEED OUT
        Reads (cat) random sensors under all/ and under partitions, and the
        device .csv views, for SECONDS: every line well-formed, times
        strictly increasing (sorted, no duplicates), the file ending with a
        newline, and under all/ a sensor's count never smaller than this
        reader saw before.  OUT: JSON counters.
    load.py sealer MNT SG SECONDS INTERVAL NWRITERS HORIZONS_GLOB OUT
        Seals (chmod a-w) every partition all NWRITERS writers have left, and now and
        then unseals a sealed partition, appends late points to
        SG/all/z/late in its range (an unsequence file) and seals it again
        (which merges the partition: a compaction).  OUT: JSON counters and
        the acknowledged late times.
    load.py verify MNT SG OUT...
        After the run: every sensor holds exactly the acknowledged times, with
        their values.
Each role prints one summary line and exits 1 on a failure (reason printed).
"""
import errno
import glob
import json
import os
import random
import sys
import time


def value_of(t):
    return "%d.5" % (t % 100003)


def append(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        n = os.write(fd, data)
    finally:
        os.close(fd)
    if n != len(data):
        raise OSError(errno.EIO, "short write")


def save(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f)
    os.replace(tmp, path)


def writer(mnt, sg, i, seconds, interval, out):
    rng = random.Random(i)
    dev = os.path.join(mnt, sg, "all", "w%d" % i)
    try:
        os.mkdir(dev)
    except FileExistsError:
        pass
    acked = {"x": [], "y": []}
    k = {"x": 0, "y": 0}
    gaps = {"x": [], "y": []}
    horizon = None
    appends = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        s = "x" if rng.random() < 0.5 else "y"
        cur = 1000 + 10 * k[s]
        part_lo = cur - cur % interval
        times = []
        if gaps[s] and rng.random() < 0.1:
            # out of order: gaps of this partition only (older ones may be sealed)
            gaps[s] = [g for g in gaps[s] if g >= part_lo]
            for _ in range(min(len(gaps[s]), rng.randint(1, 5))):
                times.append(gaps[s].pop(rng.randrange(len(gaps[s]))))
        if not times:
            for _ in range(rng.randint(1, 40)):
                t = 1000 + 10 * k[s]
                k[s] += 1
                if rng.random() < 0.2:
                    t += 5  # leaves t - 5 free: a gap for later
                    gaps[s].append(t - 5)
                times.append(t)
        data = "".join("%d,%s\n" % (t, value_of(t)) for t in times).encode()
        try:
            append(os.path.join(dev, s), data)
        except OSError as e:
            print("writer %d: append of %d points to w%d/%s failed: %s" % (i, len(times), i, s, os.strerror(e.errno)))
            save(out, acked)
            return 1
        acked[s].extend(times)
        appends += 1
        lo = min(1000 + 10 * k["x"], 1000 + 10 * k["y"])
        h = lo - lo % interval
        if h != horizon:
            horizon = h
            with open(out + ".horizon.tmp", "w") as f:
                f.write("%d\n" % h)
            os.replace(out + ".horizon.tmp", out + ".horizon")
    save(out, acked)
    print("writer %d: %d appends, %d points" % (i, appends, len(acked["x"]) + len(acked["y"])))
    return 0


def parse_sensor(data, what):
    """Checks one sensor file's bytes; returns (count, error or None)."""
    if data and not data.endswith(b"\n"):
        return 0, "%s: does not end with a newline (%r)" % (what, data[-40:])
    prev = None
    n = 0
    lines = data.split(b"\n")[:-1] if data else []
    for line in lines:
        try:
            t, v = line.split(b",", 1)
            t = int(t)
            float(v)
        except ValueError:
            return n, "%s: malformed line %r" % (what, line[:80])
        if prev is not None and t <= prev:
            return n, "%s: time %d after %d (line %d of %d: %s)" % (
                what, t, prev, n + 1, len(lines), b" ".join(lines[max(0, n - 3):n + 3]).decode())
        prev = t
        n += 1
    return n, None


def reader(mnt, sg, seconds, seed, out):
    rng = random.Random(seed)
    base = os.path.join(mnt, sg)
    seen = {}
    reads = nbytes = csvs = 0
    errs = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not errs:
        try:
            views = [v for v in os.listdir(base) if v != "all" and not v.startswith(".")]
            devs = [d for d in os.listdir(os.path.join(base, "all")) if not d.endswith(".csv") and "." not in d]
        except OSError as e:
            errs.append("listdir: %s" % os.strerror(e.errno))
            break
        if not devs:
            time.sleep(0.01)
            continue
        d = rng.choice(devs)
        r = rng.random()
        try:
            if r < 0.1:
                # the device view: a header, then rows in time order
                with open(os.path.join(base, "all", d + ".csv"), "rb") as f:
                    data = f.read()
                lines = data.split(b"\n")
                if not data.endswith(b"\n") or not lines[0].startswith(b"Time"):
                    errs.append("%s.csv: %d bytes, header %r, tail %r" % (d, len(data), lines[0][:60], data[-40:]))
                prev = None
                for line in lines[1:-1]:
                    try:
                        t = int(line.split(b",", 1)[0])
                    except ValueError:
                        errs.append("%s.csv: malformed row %r" % (d, line[:80]))
                        break
                    if prev is not None and t <= prev:
                        errs.append("%s.csv: row time %d after %d" % (d, t, prev))
                        break
                    prev = t
                csvs += 1
            else:
                view = "all" if r < 0.75 or not views else rng.choice(views)
                sensors = [s for s in os.listdir(os.path.join(base, view, d)) if not s.endswith(".svg")]
                if not sensors:
                    continue
                s = rng.choice(sensors)
                with open(os.path.join(base, view, d, s), "rb") as f:
                    data = f.read()
                n, err = parse_sensor(data, "%s/%s/%s" % (view, d, s))
                if err:
                    errs.append(err)
                elif view == "all":
                    key = (d, s)
                    if n < seen.get(key, 0):
                        errs.append("all/%s/%s: %d points after %d were seen" % (d, s, n, seen[key]))
                    seen[key] = n
            reads += 1
            nbytes += len(data)
        except FileNotFoundError:
            continue  # a partition view that is not there (yet)
        except OSError as e:
            errs.append("%s: %s" % (d, os.strerror(e.errno)))
    save(out, {"reads": reads, "bytes": nbytes, "csv": csvs, "errors": errs})
    if errs:
        print("reader %d: %s" % (seed, "; ".join(errs[:3])))
        return 1
    print("reader %d: %d reads (%d of .csv), %d MB" % (seed, reads, csvs, nbytes >> 20))
    return 0


def sealer(mnt, sg, seconds, interval, nwriters, hglob, out):
    rng = random.Random(99)
    base = os.path.join(mnt, sg)
    zdev = os.path.join(base, "all", "z")
    try:
        os.mkdir(zdev)
    except FileExistsError:
        pass
    sealed = []
    seals = reseals = 0
    late = []
    nextlate = {}
    errs = []
    end = time.monotonic() + seconds
    while time.monotonic() < end and not errs:
        time.sleep(0.2)
        hs = []
        for p in glob.glob(hglob):
            try:
                with open(p) as f:
                    hs.append(int(f.read()))
            except (OSError, ValueError):
                pass
        try:
            parts = sorted(int(v) for v in os.listdir(base) if v.lstrip("-").isdigit())
        except OSError as e:
            errs.append("listdir: %s" % os.strerror(e.errno))
            break
        if len(hs) == nwriters:
            h = min(hs)
            for p in parts:
                if p not in sealed and (p + 1) * interval <= h:
                    try:
                        os.chmod(os.path.join(base, str(p)), 0o555)
                        sealed.append(p)
                        seals += 1
                    except OSError as e:
                        errs.append("seal of %d: %s" % (p, os.strerror(e.errno)))
        if sealed and rng.random() < 0.3:
            # unseal, late points (unsequence data), seal again: a merge
            p = rng.choice(sealed)
            pd = os.path.join(base, str(p))
            try:
                os.chmod(pd, 0o755)
                t0 = nextlate.get(p, p * interval + 1)
                ts = list(range(t0, t0 + 7 * 20, 7))
                nextlate[p] = t0 + 7 * 20
                append(os.path.join(zdev, "late"), "".join("%d,%s\n" % (t, value_of(t)) for t in ts).encode())
                late.extend(ts)
                os.chmod(pd, 0o555)
                reseals += 1
            except OSError as e:
                errs.append("unseal/late/seal of %d: %s" % (p, os.strerror(e.errno)))
    save(out, {"seals": seals, "reseals": reseals, "late": late, "errors": errs})
    if errs:
        print("sealer: %s" % "; ".join(errs[:3]))
        return 1
    print("sealer: %d partitions sealed, %d unsealed, written late and sealed again" % (seals, reseals))
    return 0


def verify(mnt, sg, outs):
    base = os.path.join(mnt, sg, "all")
    errs = []
    total = 0
    for out in outs:
        with open(out) as f:
            o = json.load(f)
        if "late" in o:
            want = {"z/late": o["late"]} if o["late"] else {}
        else:
            i = os.path.basename(out).split(".")[0][1:]
            want = {"w%s/%s" % (i, s): ts for s, ts in o.items()}
        for key, ts in want.items():
            with open(os.path.join(base, key), "rb") as f:
                data = f.read()
            got = {}
            for line in data.decode().splitlines():
                t, v = line.split(",", 1)
                got[int(t)] = v
            w = set(ts)
            if len(w) != len(ts):
                errs.append("%s: a time acknowledged twice" % key)
            if set(got) != w:
                errs.append("%s: %d points, %d acknowledged; missing %s, extra %s" % (
                    key, len(got), len(w), sorted(w - set(got))[:3], sorted(set(got) - w)[:3]))
            bad = [t for t in got if t in w and float(got[t]) != float(value_of(t))]
            if bad:
                errs.append("%s: wrong values at %s" % (key, bad[:3]))
            total += len(got)
    if errs:
        print("verify: " + "; ".join(errs[:4]))
        return 1
    print("verify: %d points, exactly the acknowledged ones" % total)
    return 0


def main():
    a = sys.argv
    if a[1] == "writer":
        return writer(a[2], a[3], int(a[4]), float(a[5]), int(a[6]), a[7])
    if a[1] == "reader":
        return reader(a[2], a[3], float(a[4]), int(a[5]), a[6])
    if a[1] == "sealer":
        return sealer(a[2], a[3], float(a[4]), int(a[5]), int(a[6]), a[7], a[8])
    if a[1] == "verify":
        return verify(a[2], a[3], a[4:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
