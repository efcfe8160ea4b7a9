"""check.py: the checks of the crash test (tests/crash/run.sh).

    check.py series MNT SG OPLOG...
        Replays the operation logs of driver.py (one per device, named
        <device>.ops) into a model and compares it with `cat` of every
        sensor under MNT/SG/all/: every acknowledged point present once with
        its value, acknowledged deletions applied, nothing that was never
        written, times strictly increasing, st_size equal to the bytes read.
        An operation that did not return success may or may not have
        happened, point by point.
    check.py files DATA_DIR TSFILE CACHE [final]
        Every closed TsFile (ending in the magic) under DATA_DIR reads with
        `tsfile dump`; every complete line of every .mods parses.  `final`
        (after a clean unmount): every TsFile is closed and no .mods has an
        unterminated tail.  CACHE remembers files already dumped (path, size,
        mtime), so each round dumps only what changed.
Prints one summary line; exits 1 with the reasons on failure.
"""
import os
import re
import subprocess
import sys

MAGIC = b"TsFile"
MODS_RE = re.compile(rb"^DELETION,(.+),(-?\d+),(-?\d+),(-?\d+)$")


def check_series(mnt, sg, logs):
    errs = []
    npoints = 0
    nmust = 0
    for oplog in logs:
        dev = os.path.basename(oplog)[: -len(".ops")]
        model = {}  # sensor -> {t: (value, must)}
        with open(oplog) as f:
            for ln, line in enumerate(f, 1):
                p = line.rstrip("\n").split("\t")
                if p[0] == "P" and len(p) == 5:
                    _, s, t, v, st = p
                    model.setdefault(s, {})[int(t)] = (v, st == "ok")
                elif p[0] == "D" and len(p) == 5:
                    _, s, lo, hi, st = p
                    lo, hi = int(lo), int(hi)
                    pts = model.setdefault(s, {})
                    for t in [t for t in pts if lo <= t <= hi]:
                        if st == "ok":
                            del pts[t]
                        elif st != "ENOENT":  # not acknowledged: may have happened
                            pts[t] = (pts[t][0], False)
                else:
                    errs.append("%s:%d: malformed log line %r" % (oplog, ln, line))
        for s, pts in sorted(model.items()):
            path = os.path.join(mnt, sg, "all", dev, s)
            try:
                with open(path, "rb") as f:
                    data = f.read()
                size = os.stat(path).st_size
            except FileNotFoundError:
                data, size = b"", 0
            except OSError as e:
                errs.append("cat %s/%s: %s" % (dev, s, os.strerror(e.errno)))
                continue
            if size != len(data):
                errs.append("%s/%s: st_size %d but cat gives %d bytes" % (dev, s, size, len(data)))
            got = {}
            prev = None
            for line in data.decode(errors="replace").splitlines():
                try:
                    t, v = line.split(",", 1)
                    t = int(t)
                except ValueError:
                    errs.append("%s/%s: malformed line %r" % (dev, s, line))
                    continue
                if prev is not None and t <= prev:
                    errs.append("%s/%s: time %d after %d (twice or out of order)" % (dev, s, t, prev))
                prev = t
                got[t] = v
            lost = [t for t, (v, must) in pts.items() if must and t not in got]
            wrong = [(t, got[t], pts[t][0]) for t in got if t in pts and got[t] != pts[t][0]]
            extra = [t for t in got if t not in pts]
            if lost:
                errs.append("%s/%s: %d acknowledged points lost, e.g. %s" % (dev, s, len(lost), sorted(lost)[:5]))
            if wrong:
                errs.append("%s/%s: %d points with wrong values (time, got, want), e.g. %s"
                            % (dev, s, len(wrong), wrong[:3]))
            if extra:
                errs.append("%s/%s: %d points never written or deleted, e.g. %s" % (dev, s, len(extra), sorted(extra)[:5]))
            npoints += len(got)
            nmust += sum(1 for v, must in pts.values() if must)
    return errs, "%d points read, %d acknowledged and expected" % (npoints, nmust)


def check_files(data, tsfile, cache_path, final):
    errs = []
    cache = set()
    if os.path.exists(cache_path):
        with open(cache_path) as f:
            cache = set(l.rstrip("\n") for l in f)
    dumped = closed = unclosed = mods_lines = 0
    newcache = set()
    for top in ("sequence", "unsequence"):
        for d, _, files in os.walk(os.path.join(data, top)):
            for n in sorted(files):
                p = os.path.join(d, n)
                rel = os.path.relpath(p, data)
                if n.endswith(".tsfile"):
                    st = os.stat(p)
                    key = "%s %d %d" % (rel, st.st_size, st.st_mtime_ns)
                    with open(p, "rb") as f:
                        f.seek(max(0, st.st_size - len(MAGIC)))
                        tail = f.read()
                    if st.st_size < 2 * len(MAGIC) or tail != MAGIC:
                        unclosed += 1
                        if final:
                            errs.append("%s: not closed after a clean unmount" % rel)
                        continue
                    closed += 1
                    if key in cache:
                        newcache.add(key)
                        continue
                    r = subprocess.run([tsfile, "dump", p], stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE, text=True)
                    dumped += 1
                    if r.returncode != 0:
                        errs.append("tsfile dump %s: %s" % (rel, r.stderr.strip()[:300]))
                    else:
                        newcache.add(key)
                elif n.endswith(".mods"):
                    with open(p, "rb") as f:
                        text = f.read()
                    lines = text.split(b"\n")
                    tail = lines.pop()  # b"" when the file ends with a newline
                    for i, line in enumerate(lines, 1):
                        m = MODS_RE.match(line.rstrip(b"\r"))
                        if not m or int(m.group(2)) < 0:
                            errs.append("%s:%d: torn or malformed line %r" % (rel, i, line[:200]))
                    mods_lines += len(lines)
                    if tail and final:
                        errs.append("%s: unterminated last line %r after a clean unmount" % (rel, tail[:200]))
    with open(cache_path, "w") as f:
        f.write("".join(k + "\n" for k in sorted(newcache)))
    return errs, "%d closed TsFiles (%d dumped now), %d unclosed, %d .mods lines" % (
        closed, dumped, unclosed, mods_lines)


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "series":
        errs, summary = check_series(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) in (5, 6) and sys.argv[1] == "files":
        errs, summary = check_files(sys.argv[2], sys.argv[3], sys.argv[4], len(sys.argv) == 6)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    for e in errs[:20]:
        print("FAIL: " + e)
    print(summary)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
