#!/usr/bin/env bash
# Mount tests of build/tsfs: the contract of ../shared/spec/filesystem.md as a
# user meets it.  Each case mounts a fresh DATA_DIR (inside one mktemp -d
# directory) with `tsfs -f`, drives it with coreutils, rsync, getfattr and
# small python3 snippets that check errno exactly, then unmounts and checks
# that the daemon exited 0 (and, under ASan, printed no report).
#
#   BUILD=build tests/mount/run.sh           (BUILD=build-asan: smaller data)
#   TSFS_MOUNT_ONLY=seal tests/mount/run.sh  run the cases whose name matches
#   TSFS_MOUNT_KEEP=1                        keep the temp directory
#   TSFS_MOUNT_TIMES=1                       show each case's duration
#
# Output: "ok - name" / "not ok - name: reason" per case (log tails as "#"
# lines), then "mount tests: N passed, M failed".  Needs root and /dev/fuse.
# A watchdog SIGKILLs a case's tsfs after CASE_TIMEOUT seconds so a hung
# filesystem fails the case (blocked calls get ENOTCONN) instead of the run.
# shellcheck disable=SC2012 # ls over names this script chose
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$ROOT/$BUILD ;; esac
TSFS=$BDIR/tsfs
TSFILE=$BDIR/tsfile
ONLY=${TSFS_MOUNT_ONLY:-}
case $BUILD in
*asan*)
    N_LINES=${TSFS_MOUNT_LINES:-400}
    N_BIG=${TSFS_MOUNT_POINTS:-4000}
    CASE_TIMEOUT=${TSFS_MOUNT_CASE_TIMEOUT:-120}
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$ROOT/tests/lsan.supp}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
*)
    N_LINES=${TSFS_MOUNT_LINES:-2000}
    N_BIG=${TSFS_MOUNT_POINTS:-20000}
    CASE_TIMEOUT=${TSFS_MOUNT_CASE_TIMEOUT:-60}
    ;;
esac

if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
    echo "mount tests: need root and /dev/fuse"
    echo "mount tests: 0 passed, 1 failed"
    exit 1
fi
for f in "$TSFS" "$TSFILE"; do
    if [ ! -x "$f" ]; then
        echo "mount tests: $f missing (run make)"
        echo "mount tests: 0 passed, 1 failed"
        exit 1
    fi
done
TSFS_EXE=$(readlink -f "$TSFS")

# the interpreter itself, not a version manager's shim, and without site
# initialisation: it runs a hundred snippets
PY=$(python3 -c 'import sys; print(sys.executable)')
python3() { "$PY" -S "$@"; }
T=$(mktemp -d /tmp/tsfs-mount.XXXXXX)
declare -A LIVE=() # pid of a running tsfs started by this case -> its mount point
PID=""             # the tsfs of the last mount_fs
D="" M="" A=""     # data dir, mount point, device dir (all/wf01.wt01) of the case
CD=""              # the case's directory
REASON=""
NLOG=0
pass=0
failn=0

# ---- cleanup ---------------------------------------------------------------------

# Whether pid is a live (not zombie) process running our tsfs binary.
ours() {
    [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null) || return 1
    [ "$st" != Z ] && [ "$(readlink "/proc/$1/exe" 2> /dev/null)" = "$TSFS_EXE" ]
}

cleanup() {
    local pid mnt i
    if [ -f "$T/.allpids" ]; then
        while read -r pid mnt; do
            if awk -v m="$mnt" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; then
                fusermount3 -u "$mnt" 2> /dev/null || fusermount3 -u -z "$mnt" 2> /dev/null
            fi
            for ((i = 0; i < 50; i++)); do ours "$pid" || break; sleep 0.1; done
            if ours "$pid"; then kill -9 "$pid" 2> /dev/null; fi
        done < "$T/.allpids"
    fi
    # anything still mounted under $T (lazily detached if busy)
    awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | while read -r mnt; do
        fusermount3 -u -z "$mnt" 2> /dev/null
    done
    if awk -v t="$T/" 'index($2, t) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
        echo "# still mounted under $T: not removed"
    elif [ -n "${TSFS_MOUNT_KEEP:-}" ]; then
        echo "# kept $T"
    else
        rm -rf "$T"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- assertions --------------------------------------------------------------------

# The first failure of a case is its reason.
fail() {
    [ -n "$REASON" ] || REASON=$*
    return 1
}
short() { local s=$1; printf '%s' "${s//"$T"\//}"; }
q() { # a value in a reason: one line, control characters escaped, shortened
    local s
    s=$(short "$1")
    s=${s//\\/\\\\}
    s=${s//$'\n'/\\n}
    s=${s//$'\r'/\\r}
    s=${s//$'\t'/\\t}
    [ ${#s} -le 240 ] || s="${s:0:240}..."
    printf "'%s'" "$s"
}

# python3 -c CODE ARGS: CODE sees a = [ARGS]; prints OK or the errno name.
ERRNO_PY='import os, sys, errno, stat
a = sys.argv[2:]
try:
    exec(sys.argv[1])
    print("OK")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
'
err_of() { python3 -c "$ERRNO_PY" "$@" 2>&1; }
# expect_err WANT[|WANT...] CODE ARGS...
expect_err() {
    local want=$1 got
    shift
    got=$(err_of "$@")
    case "|$want|" in *"|$got|"*) return 0 ;; esac
    fail "$(short "$1") [$(short "${*:2}")]: expected $want, got $(q "$got")"
}
# One open(O_WRONLY|O_APPEND|O_CREAT) and one write() of BYTES: OK or errno.
APPEND_PY='fd = os.open(a[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
try:
    os.write(fd, os.fsencode(a[1]))
finally:
    try: os.close(fd)
    except OSError: pass'
append_err() { expect_err "$1" "$APPEND_PY" "$2" "$3"; }

# app FILE TEXT: printf TEXT >> FILE must succeed.
app() {
    { printf '%s' "$2" >> "$1"; } 2> "$CD/err" ||
        fail "printf $(q "$2") >> $(short "$1") failed: $(tail -1 "$CD/err")"
}
# content_is FILE WANT: cat FILE prints exactly WANT.
content_is() {
    local got
    got=$(cat -- "$1" 2>&1; printf .)
    got=${got%.}
    [ "$got" = "$2" ] || fail "cat $(short "$1"): expected $(q "$2"), got $(q "$got")"
}
# eq WHAT GOT WANT
eq() { [ "$2" = "$3" ] || fail "$1: expected $(q "$3"), got $(q "$2")"; }
# size_ok FILE: st_size is the number of bytes read, st_blocks is ceil(size / 512).
size_ok() {
    local st n b
    st=$(stat -c %s -- "$1" 2>&1) || { fail "stat $(short "$1"): $st"; return; }
    n=$(cat -- "$1" | wc -c)
    [ "$st" = "$n" ] || { fail "stat -c %s $(short "$1") = $st but cat gives $n bytes"; return; }
    b=$(stat -c %b -- "$1")
    [ "$b" = $(((n + 511) / 512)) ] || fail "st_blocks of $(short "$1") = $b for $n bytes"
}
# xattr FILE NAME: the value (no newline), or the error text.
xattr() { getfattr --absolute-names --only-values -n "$2" -- "$1" 2>&1; }
# ok_run CMD...: the command must exit 0.
ok_run() {
    local rc=0
    "$@" > "$CD/out" 2> "$CD/err" || rc=$?
    [ "$rc" -eq 0 ] || fail "$(short "$*") exited $rc: $(tail -1 "$CD/err")"
}
# no_run CMD...: the command must fail.
no_run() {
    if "$@" > "$CD/out" 2> "$CD/err"; then fail "$(short "$*") succeeded, should fail"; fi
}
listing() { ls -A -- "$1" 2>&1 | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }
now_ms() { date +%s%3N; }

# ---- mounting ----------------------------------------------------------------------

alive() { ours "$1"; }
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

# mount_fs DATA MNT [ARGS...]: starts tsfs -f in the background, waits for the
# mount; sets PID.
mount_fs() {
    local data=$1 mnt=$2 i rc log
    shift 2
    mkdir -p "$mnt"
    NLOG=$((NLOG + 1))
    log=$CD/tsfs.$NLOG.log
    "$TSFS" "$data" "$mnt" -f "$@" > "$log" 2>&1 &
    PID=$!
    echo "$PID" >> "$CD/.pids"
    echo "$PID $mnt" >> "$T/.allpids"
    LIVE[$PID]=$mnt
    for ((i = 0; i < 400; i++)); do
        mounted "$mnt" && return 0
        if ! alive "$PID"; then
            wait "$PID" 2> /dev/null
            rc=$?
            unset "LIVE[$PID]"
            fail "tsfs $(short "$*") exited $rc instead of mounting: $(tail -2 "$log" | tr '\n' ' ')"
            return 1
        fi
        sleep 0.05
    done
    fail "tsfs did not mount within 20 s"
}

# stop_fs PID: fusermount3 -u, wait for the daemon, which must exit 0.
stop_fs() {
    local pid=$1 mnt=${LIVE[$1]} err i rc
    unset "LIVE[$pid]"
    if ! err=$(fusermount3 -u "$mnt" 2>&1); then
        fusermount3 -u -z "$mnt" 2> /dev/null
        for ((i = 0; i < 50; i++)); do alive "$pid" || break; sleep 0.1; done
        alive "$pid" && kill -9 "$pid"
        wait "$pid" 2> /dev/null
        fail "fusermount3 -u $(short "$mnt"): $err"
        return 1
    fi
    for ((i = 0; i < 1200; i++)); do alive "$pid" || break; sleep 0.05; done
    if alive "$pid"; then
        kill -9 "$pid"
        wait "$pid" 2> /dev/null
        fail "tsfs did not exit within 60 s of its unmount"
        return 1
    fi
    wait "$pid" 2> /dev/null
    rc=$?
    [ "$rc" -eq 0 ] || fail "tsfs exited with status $rc after fusermount3 -u: $(tail -2 "$CD"/tsfs.*.log | tr '\n' ' ')"
}

# fresh [ARGS...]: a new DATA_DIR and mount point for the case, mounted.
fresh() {
    D=$CD/data
    M=$CD/mnt
    mount_fs "$D" "$M" "$@"
}
# remount [ARGS...]: unmount (checked) and mount the same DATA_DIR again.
remount() { stop_fs "$PID" && mount_fs "$D" "$M" "$@"; }
# mkdev: storage group root.ln and device wf01.wt01; A is the device under all/.
mkdev() {
    mkdir "$M/root.ln" 2> "$CD/err" || { fail "mkdir root.ln: $(cat "$CD/err")"; return; }
    mkdir "$M/root.ln/all/wf01.wt01" 2> "$CD/err" || { fail "mkdir all/wf01.wt01: $(cat "$CD/err")"; return; }
    A=$M/root.ln/all/wf01.wt01
}

# ---- python helpers ----------------------------------------------------------------

# dumpcmp.py TSFILE PARTITION_DIR SG: the points of PARTITION_DIR/.tsfiles/*.tsfile,
# as `tsfile dump` prints them, are exactly the points cat shows in that
# partition's device directories.  Values compare as numbers where both parse
# (the dump prints doubles with %.17g, cat in shortest form).
cat > "$T/dumpcmp.py" << 'PY'
import os, sys, subprocess
from decimal import Decimal
tsfile, part, sg = sys.argv[1:4]
def norm(v):
    try:
        return ("n", Decimal(int(v)))
    except ValueError:
        pass
    try:
        f = float(v)
    except ValueError:
        return ("s", v)
    if f != f:
        return ("nan",)
    return ("n", Decimal(f)) if abs(f) != float("inf") else ("s", str(f))
dump = {}
tsdir = os.path.join(part, ".tsfiles")
files = sorted(n for n in os.listdir(tsdir) if n.endswith(".tsfile"))
if not files:
    print("no .tsfile in .tsfiles/"); sys.exit(1)
for n in files:
    r = subprocess.run([tsfile, "dump", os.path.join(tsdir, n)], capture_output=True, text=True)
    if r.returncode != 0:
        print("tsfile dump %s failed: %s" % (n, r.stderr.strip())); sys.exit(1)
    for line in r.stdout.splitlines():
        dev, meas, t, v = line.split(",", 3)
        key = (dev, meas, int(t))
        if key in dump:
            print("point %s in two files" % (key,)); sys.exit(1)
        dump[key] = norm(v)
view = {}
for dev in os.listdir(part):
    p = os.path.join(part, dev)
    if dev == ".tsfiles" or dev.endswith(".csv") or not os.path.isdir(p):
        continue
    for s in os.listdir(p):
        with open(os.path.join(p, s)) as f:
            for line in f.read().splitlines():
                t, v = line.split(",", 1)
                view[(sg + "." + dev, s, int(t))] = norm(v)
if dump != view:
    only_d = sorted(set(dump) - set(view))[:3]
    only_v = sorted(set(view) - set(dump))[:3]
    diff = sorted(k for k in set(dump) & set(view) if dump[k] != view[k])[:3]
    print("dump has %d points, cat %d; only in dump %s; only in cat %s; differing %s"
          % (len(dump), len(view), only_d, only_v, [(k, dump[k], view[k]) for k in diff]))
    sys.exit(1)
print(len(dump))
PY

# ---- cases -------------------------------------------------------------------------

t_help_version() {
    local out
    out=$("$TSFS" --help 2>&1) || { fail "tsfs --help exited $?"; return; }
    for o in partition_interval memtable_size wal_sync time_format compression auto_seal; do
        grep -q "$o" <<< "$out" || { fail "--help does not list $o"; return; }
    done
    out=$("$TSFS" --version 2>&1) || { fail "tsfs --version exited $?"; return; }
    grep -q '[0-9]' <<< "$out" || fail "--version printed $(q "$out")"
}

t_bad_options() {
    local rc
    D=$CD/data
    mkdir -p "$CD/m1" "$CD/m2"
    timeout 10 "$TSFS" "$D" "$CD/m1" -f -o wal_sync=bogus > "$CD/err" 2>&1
    rc=$?
    if mounted "$CD/m1"; then fusermount3 -u "$CD/m1"; fi
    { [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; } || { fail "-o wal_sync=bogus: exit $rc"; return; }
    timeout 10 "$TSFS" "$D" "$CD/m2" -f -o writeback_cache > "$CD/err" 2>&1
    rc=$?
    if mounted "$CD/m2"; then fusermount3 -u "$CD/m2"; fi
    { [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ]; } || { fail "-o writeback_cache accepted (exit $rc)"; return; }
    local o
    for o in uid=abc gid=-1 render_cache=lots; do
        timeout 10 "$TSFS" "$D" "$CD/m2" -f -o "$o" > "$CD/err" 2>&1
        rc=$?
        if mounted "$CD/m2"; then fusermount3 -u "$CD/m2"; fi
        [ "$rc" -eq 2 ] || { fail "-o $o: exit $rc, expected 2 (a usage error)"; return; }
    done
    # the partition width is DATA_DIR's: another one is refused, none takes it
    mount_fs "$D" "$CD/m1" -o partition_interval=1000000 || return
    stop_fs "$PID" || return
    timeout 10 "$TSFS" "$D" "$CD/m2" -f -o partition_interval=5000 > "$CD/err" 2>&1
    rc=$?
    if mounted "$CD/m2"; then fusermount3 -u "$CD/m2"; fi
    [ "$rc" -eq 1 ] && grep -q "partitions of 1000000 ms" "$CD/err" ||
        { fail "-o partition_interval=5000 on a DATA_DIR of 1000000: exit $rc, $(q "$(cat "$CD/err")")"; return; }
    mount_fs "$D" "$CD/m1" || return
    mkdir "$CD/m1/root.ln" && mkdir "$CD/m1/root.ln/all/d" && printf '1700000000000,1\n' >> "$CD/m1/root.ln/all/d/s" ||
        { fail "writes on the remount failed"; return; }
    eq "partition directory with DATA_DIR's width" "$(listing "$CD/m1/root.ln")" "1700000 all"
    stop_fs "$PID"
}

t_mkdir() {
    fresh || return
    awk -v m="$M" '$2 == m { print $3 }' /proc/mounts > "$CD/type"
    eq "filesystem type in /proc/mounts" "$(cat "$CD/type")" "fuse.tsfs" || return
    expect_err OK 'os.mkdir(a[0])' "$M/root.ln" || return
    eq "ls root.ln" "$(listing "$M/root.ln")" "all" || return
    expect_err EEXIST 'os.mkdir(a[0])' "$M/root.ln" || return
    expect_err OK 'os.mkdir(a[0])' "$M/root.ln/all/wf01.wt01" || return
    expect_err EEXIST 'os.mkdir(a[0])' "$M/root.ln/all/wf01.wt01" || return
    ok_run mkdir -p "$M/root.sg2/all/d1.x_2" || return
    eq "ls mount point" "$(listing "$M")" ".stats root.ln root.sg2" || return
    ok_run mkdir "$M/root.ln/all/wf01.wt02" || return
    eq "stat all/wf01.wt01" "$(stat -c '%F %a' "$M/root.ln/all/wf01.wt01")" "directory 755" || return
    eq "stat root.ln" "$(stat -c '%F %a' "$M/root.ln")" "directory 755" || return
    eq "nlink of all/ with two devices" "$(stat -c %h "$M/root.ln/all")" 4 || return
    eq "nlink of a device" "$(stat -c %h "$M/root.ln/all/wf01.wt01")" 2 || return
    ls -la "$M/root.ln/all" > /dev/null 2>&1 || fail "ls -la all/"
}

t_bad_names() {
    fresh || return
    mkdev || return
    local n
    for n in root root. foo root..x "root.a b"; do
        expect_err EINVAL 'os.mkdir(a[0])' "$M/$n" || return
    done
    for n in wf01.wt02.csv a..b .hidden "a b"; do
        expect_err EINVAL 'os.mkdir(a[0])' "$M/root.ln/all/$n" || return
    done
    for n in .x.XXXXXX 4913 a-b a.b "a b" .s.swp; do
        expect_err EINVAL 'os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644))' "$A/$n" || return
    done
    # the shell way: an editor's temp file
    no_run sh -c "echo 1,1 > '$A/4913'" || return
    eq "device after refused names" "$(listing "$A")" "" || return
    # sensors only inside devices
    expect_err 'EPERM|EINVAL' 'os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644))' "$M/root.ln/all/s" || return
    expect_err 'EPERM|EINVAL' 'os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT, 0o644))' "$M/f" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/all/nodev/s"
}

t_mkdir_elsewhere() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    app "$A/s" $'1500,1.5\n' || return
    expect_err EPERM 'os.mkdir(a[0])' "$M/root.ln/x" || return
    expect_err EPERM 'os.mkdir(a[0])' "$M/root.ln/5" || return
    expect_err EPERM 'os.mkdir(a[0])' "$A/sub" || return
    expect_err EPERM 'os.mkdir(a[0])' "$M/root.ln/1/dev2" || return
    expect_err EPERM 'os.mkdir(a[0])' "$M/root.ln/1/wf01.wt01/sub"
}

t_rmdir() {
    fresh || return
    mkdev || return
    expect_err ENOTEMPTY 'os.rmdir(a[0])' "$M/root.ln" || return
    # all/ with a device that holds no data: the spec says "succeeds when it
    # holds no data"; a device directory there is also a reason for ENOTEMPTY
    expect_err 'OK|ENOTEMPTY' 'os.rmdir(a[0])' "$M/root.ln/all" || return
    eq "all/ still listed after its rmdir" "$(listing "$M/root.ln")" "all" || return
    expect_err OK 'os.rmdir(a[0])' "$A" || return
    # all/ holding nothing: rmdir succeeds and does nothing
    expect_err OK 'os.rmdir(a[0])' "$M/root.ln/all" || return
    eq "all/ still listed after its rmdir" "$(listing "$M/root.ln")" "all" || return
    expect_err ENOENT 'os.stat(a[0])' "$A" || return
    ok_run mkdir "$M/root.ln/all/d2" || return
    app "$M/root.ln/all/d2/s" $'1700000000000,1.5\n' || return
    expect_err ENOTEMPTY 'os.rmdir(a[0])' "$M/root.ln/all/d2" || return
    expect_err ENOTEMPTY 'os.rmdir(a[0])' "$M/root.ln" || return
    expect_err 'ENOTEMPTY|EEXIST' 'os.rmdir(a[0])' "$M/root.ln/all" || return
    content_is "$M/root.ln/all/d2/s" $'1700000000000,1.5\n' || return
    ok_run rm "$M/root.ln/all/d2/s" || return
    expect_err OK 'os.rmdir(a[0])' "$M/root.ln/all/d2" || return
    expect_err OK 'os.rmdir(a[0])' "$M/root.ln" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln" || return
    eq "mount point after rmdir root.ln" "$(listing "$M")" ".stats"
}

t_append_one() {
    fresh || return
    mkdev || return
    echo "1700000000000,21.5" >> "$A/temperature" || { fail "echo >> temperature"; return; }
    content_is "$A/temperature" $'1700000000000,21.5\n' || return
    eq "stat sensor" "$(stat -c '%s %a %h %F' "$A/temperature")" "19 644 1 regular file" || return
    size_ok "$A/temperature" || return
    eq "ls device" "$(listing "$A")" "temperature" || return
    eq "ls all/" "$(listing "$M/root.ln/all")" "wf01.wt01 wf01.wt01.csv" || return
    eq "ls -l size" "$(ls -l "$A" | awk '$NF == "temperature" { print $5 }')" 19 || return
    eq "user.tsfs.type" "$(xattr "$A/temperature" user.tsfs.type)" DOUBLE
}

t_many_lines() {
    fresh || return
    mkdev || return
    python3 -c 'import sys
n = int(sys.argv[1])
sys.stdout.write("".join("%d,%d.25\n" % (1700000000000 + i * 1000, i - n // 2) for i in range(n)))' "$N_LINES" > "$CD/in"
    # shellcheck disable=SC2046
    { printf '%s\n' $(cat "$CD/in") >> "$A/s"; } 2> "$CD/err" || { fail "printf many lines: $(cat "$CD/err")"; return; }
    cmp -s "$CD/in" <(cat "$A/s") || { fail "cat differs from the $N_LINES lines written: $(cmp "$CD/in" <(cat "$A/s") 2>&1)"; return; }
    eq "head -n 3" "$(head -n 3 "$A/s")" "$(head -n 3 "$CD/in")" || return
    eq "tail -n 5" "$(tail -n 5 "$A/s")" "$(tail -n 5 "$CD/in")" || return
    eq "tail -c 100" "$(tail -c 100 "$A/s")" "$(tail -c 100 "$CD/in")" || return
    eq "wc -l" "$(wc -l < "$A/s")" "$N_LINES" || return
    eq "stat -c %s" "$(stat -c %s "$A/s")" "$(wc -c < "$CD/in")" || return
    size_ok "$A/s" || return
    eq "ls -l size" "$(ls -l "$A" | awk '$NF == "s" { print $5 }')" "$(wc -c < "$CD/in")" || return
    # every offset reads what a full read gives
    local r
    r=$(python3 -c 'import os, sys, random
want = open(sys.argv[2], "rb").read()
fd = os.open(sys.argv[1], os.O_RDONLY)
rnd = random.Random(7)
for _ in range(200):
    off = rnd.randrange(len(want) + 10); n = rnd.randrange(1, 5000)
    got = os.pread(fd, n, off)
    if got != want[off:off + n]:
        print("pread(%d, %d) differs" % (n, off)); break
else:
    print("OK")' "$A/s" "$CD/in" 2>&1)
    eq "random preads" "$r" OK
}

t_split_write() {
    fresh || return
    mkdev || return
    expect_err OK 'fd = os.open(a[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, b"1700000000000,1")
os.write(fd, b"2.5\n1700000001000,3.2")
os.write(fd, b"5\n1700000002000,4.5")
os.close(fd)' "$A/s" || return
    # the unterminated last line is parsed at release
    content_is "$A/s" $'1700000000000,12.5\n1700000001000,3.25\n1700000002000,4.5\n' || return
    # a malformed unterminated last line is dropped
    err_of 'fd = os.open(a[0], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"1700000003000,5.5\n1700000004000,ab")
os.write(fd, b"c")
os.close(fd)' "$A/s" > /dev/null
    content_is "$A/s" $'1700000000000,12.5\n1700000001000,3.25\n1700000002000,4.5\n1700000003000,5.5\n' || return
    size_ok "$A/s"
}

t_crlf_blank() {
    fresh || return
    mkdev || return
    app "$A/s" $'\n1700000000000,1.5\r\n\r\n\n1700000001000,2.5\r\n\n' || return
    app "$A/s" $'\r\n1700000002000,3.5\r\n' || return
    content_is "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n1700000002000,3.5\n' || return
    size_ok "$A/s"
}

t_bare_values() {
    fresh || return
    mkdev || return
    local start end i r
    start=$(now_ms)
    for ((i = 1; i <= 30; i++)); do
        echo "$i.5" >> "$A/b" || { fail "echo $i.5 >> b"; return; }
    done
    app "$A/b" $'100.5\n101.5\n102.5\n' || return
    end=$(now_ms)
    r=$(python3 -c 'import sys
start, end = int(sys.argv[2]), int(sys.argv[3])
want = ["%d.5" % i for i in range(1, 31)] + ["100.5", "101.5", "102.5"]
lines = open(sys.argv[1]).read().splitlines()
ts = [int(l.split(",")[0]) for l in lines]
vs = [l.split(",", 1)[1] for l in lines]
if vs != want: print("values %s" % vs[:40]); sys.exit()
if any(b <= a for a, b in zip(ts, ts[1:])): print("times not strictly increasing: %s" % ts); sys.exit()
if ts[0] < start - 1000 or ts[-1] > end + 1000 + len(ts): print("times %d..%d outside %d..%d" % (ts[0], ts[-1], start, end)); sys.exit()
print("OK")' "$A/b" "$start" "$end" 2>&1)
    eq "bare values stamped with the current time, strictly increasing" "$r" OK
}

t_iso_input() {
    fresh || return
    mkdev || return
    # 2026-11-22T10:00:00Z is 1795341600000
    app "$A/s" $'2026-11-22T10:00:00Z,1.5\n2026-11-22T10:00:01.250Z,2.5\n2026-11-22T18:00:02+08:00,3.5\n2026-11-22T10:00:03.5Z,4.5\n' || return
    app "$A/s" $'2026-11-22T05:00:04-05:00,5.5\n' || return
    app "$A/s" $'2026-11-22T18:00:00+08:00,9.5\n' || return
    content_is "$A/s" $'1795341600000,9.5\n1795341601250,2.5\n1795341602000,3.5\n1795341603500,4.5\n1795341604000,5.5\n' || return
    append_err EINVAL "$A/s" $'2026-13-22T10:00:00Z,1.5\n'
}

t_time_format_iso() {
    fresh -o time_format=iso || return
    mkdev || return
    app "$A/s" $'1795341600000,1.5\n2026-11-22T10:00:01.250Z,2.5\n' || return
    content_is "$A/s" $'2026-11-22T10:00:00.000Z,1.5\n2026-11-22T10:00:01.250Z,2.5\n' || return
    size_ok "$A/s" || return
    content_is "$M/root.ln/all/wf01.wt01.csv" $'Time,root.ln.wf01.wt01.s\n2026-11-22T10:00:00.000Z,1.5\n2026-11-22T10:00:01.250Z,2.5\n' || return
    size_ok "$M/root.ln/all/wf01.wt01.csv"
}

t_out_of_order() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000003000,3.5\n1700000001000,1.5\n' || return
    app "$A/s" $'1700000002000,2.5\n' || return
    app "$A/s" $'1700000002000,20.5\n' || return
    app "$A/s" $'1700000001000,10.5\n1700000001000,11.5\n' || return
    content_is "$A/s" $'1700000001000,11.5\n1700000002000,20.5\n1700000003000,3.5\n' || return
    size_ok "$A/s" || return
    eq "user.tsfs.count" "$(xattr "$A/s" user.tsfs.count)" 3
}

t_types() {
    fresh || return
    mkdev || return
    app "$A/d" $'1700000000000,21.5\n1700000001000,0.1\n1700000002000,-3.75\n' || return
    app "$A/b" $'1700000000000,true\n1700000001000,false\n' || return
    app "$A/t" $'1700000000000,hello world\n1700000001000,42\n' || return
    app "$A/n" $'1700000000000,NaN\n1700000001000,1.5\n' || return
    eq "type of 21.5" "$(xattr "$A/d" user.tsfs.type)" DOUBLE || return
    eq "type of true" "$(xattr "$A/b" user.tsfs.type)" BOOLEAN || return
    eq "type of hello world" "$(xattr "$A/t" user.tsfs.type)" TEXT || return
    eq "type of NaN" "$(xattr "$A/n" user.tsfs.type)" DOUBLE || return
    content_is "$A/d" $'1700000000000,21.5\n1700000001000,0.1\n1700000002000,-3.75\n' || return
    content_is "$A/b" $'1700000000000,true\n1700000001000,false\n' || return
    content_is "$A/t" $'1700000000000,hello world\n1700000001000,42\n' || return
    content_is "$A/n" $'1700000000000,NaN\n1700000001000,1.5\n' || return
    # an integer into a DOUBLE series is a number; the series stays DOUBLE
    app "$A/d" $'1700000003000,7\n' || return
    python3 -c 'import sys; v = open(sys.argv[1]).read().splitlines()[-1].split(",")[1]; sys.exit(float(v) != 7.0)' "$A/d" ||
        { fail "7 into a DOUBLE series reads back as $(tail -1 "$A/d")"; return; }
    append_err EINVAL "$A/b" $'1700000002000,maybe\n' || return
    append_err EINVAL "$A/d" $'1700000004000,true\n' || return
    append_err EINVAL "$A/d" $'1700000004000,1.5.5\n' || return
    content_is "$A/b" $'1700000000000,true\n1700000001000,false\n'
    # spaces around a first value do not make the series text
    app "$A/spaced" $'1700000000000, 3 \n' || return
    eq "type of a series whose first value is \" 3 \"" "$(xattr "$A/spaced" user.tsfs.type)" DOUBLE
}

t_text_escape() {
    fresh || return
    mkdev || return
    # written as cat prints it: \\ \n \r escapes; a quote and a comma as such
    app "$A/t" '1700000000000,a\\b\nc\rd'$'\n''1700000001000,say "hi", then'$'\n' || return
    content_is "$A/t" '1700000000000,a\\b\nc\rd'$'\n''1700000001000,say "hi", then'$'\n' || return
    size_ok "$A/t" || return
    size_ok "$M/root.ln/all/wf01.wt01.csv" || return
    local r
    r=$(python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
want = [["Time", "root.ln.wf01.wt01.t"], ["1700000000000", "a\\b\nc\rd"], ["1700000001000", "say \"hi\", then"]]
print("OK" if rows == want else repr(rows))' "$M/root.ln/all/wf01.wt01.csv" 2>&1)
    eq "csv.reader of the .csv view (RFC 4180 quoting)" "$r" OK
}

t_bad_lines() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n' || return
    local r
    r=$(python3 -c 'import os, sys, errno
def w(fd, b):
    try:
        os.write(fd, b); return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
r1 = w(fd, b"1700000001000,2.5\n1700000002000,abc\n1700000003000,3.5\n")
r2 = w(fd, b"1700000004000,4.5\n")
try: os.close(fd)
except OSError: pass
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
r3 = w(fd, b"1700000005000,5.5\n")
os.close(fd)
print(r1, r2, r3)' "$A/s" 2>&1)
    eq "bad line / poisoned handle / new handle" "$r" "EINVAL EINVAL OK" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000005000,5.5\n' || return
    local bad
    for bad in $'17x,1.5\n' $'1700000006000,\n' $',1.5\n' $'1700000006000,1e999\n' \
        $'99999999999999999999999,1.5\n' $'1700000006000,1.5\n1700000007000,nope\n'; do
        append_err EINVAL "$A/s" "$bad" || return
    done
    no_run sh -c "echo garbage,1 >> '$A/s'" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000005000,5.5\n' || return
    # INT64 range
    : >> "$A/i"
    setfattr -n user.tsfs.type -v INT64 "$A/i" || { fail "setfattr INT64"; return; }
    append_err EINVAL "$A/i" $'1,9223372036854775808\n' || return
    append_err EINVAL "$A/i" $'1,1.5\n' || return
    app "$A/i" $'1,9223372036854775807\n2,-9223372036854775808\n' || return
    content_is "$A/i" $'1,9223372036854775807\n2,-9223372036854775808\n'
}

t_otrunc() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n' || return
    expect_err EPERM 'os.open(a[0], os.O_WRONLY | os.O_TRUNC)' "$A/s" || return
    expect_err EPERM 'open(a[0], "w")' "$A/s" || return
    { echo 1700000009000,9.5 > "$A/s"; } 2> "$CD/err" && { fail "echo x > sensor with data succeeded"; return; }
    grep -q "Operation not permitted" "$CD/err" || { fail "echo x > sensor: $(cat "$CD/err")"; return; }
    printf '1700000008000,8.5\n' > "$CD/other"
    no_run cp "$CD/other" "$A/s" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n' || return
    # new sensor: O_TRUNC ignored
    { echo 1700000000000,3.5 > "$A/new"; } 2> "$CD/err" || { fail "echo > new sensor: $(cat "$CD/err")"; return; }
    content_is "$A/new" $'1700000000000,3.5\n' || return
    # created empty, then > ok
    : >> "$A/e" || { fail ": >> e"; return; }
    { echo 1700000000000,4.5 > "$A/e"; } 2> "$CD/err" || { fail "echo > empty sensor: $(cat "$CD/err")"; return; }
    content_is "$A/e" $'1700000000000,4.5\n'
}

t_wrong_offset() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n' || return
    local r
    r=$(python3 -c 'import os, sys, errno
def pw(fd, b, off):
    try:
        os.pwrite(fd, b, off); return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY)
r1 = pw(fd, b"1700000001000,2.5\n", 0)
os.close(fd)
fd = os.open(p, os.O_WRONLY)
size = os.fstat(fd).st_size
r2 = pw(fd, b"1700000002000,3.5\n", size)
r3 = pw(fd, b"1700000003000,4.5\n", size + 18)
r4 = pw(fd, b"1700000004000,5.5\n", 5)
os.close(fd)
fd = os.open(p, os.O_WRONLY)
size = os.fstat(fd).st_size
r5 = pw(fd, b"1700000005000,6.5\n", size + 1)
os.close(fd)
print(size, r1, r2, r3, r4, r5)' "$A/s" 2>&1)
    eq "pwrite at 0 / at size / after / at 5 / past size" "$r" "54 EINVAL OK OK EINVAL EINVAL" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000002000,3.5\n1700000003000,4.5\n'
}

t_csv_view() {
    fresh || return
    mkdev || return
    local csv=$M/root.ln/all/wf01.wt01.csv
    app "$A/a" $'1700000001000,1.5\n1700000002000,2.5\n' || return
    app "$A/b" $'1700000002000,20.5\n1700000003000,30.5\n' || return
    content_is "$csv" $'Time,root.ln.wf01.wt01.a,root.ln.wf01.wt01.b\n1700000001000,1.5,\n1700000002000,2.5,20.5\n1700000003000,,30.5\n' || return
    size_ok "$csv" || return
    eq "stat .csv" "$(stat -c '%F %a %h' "$csv")" "regular file 644 1" || return
    local r
    r=$(python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
want = [["Time", "root.ln.wf01.wt01.a", "root.ln.wf01.wt01.b"], ["1700000001000", "1.5", ""], ["1700000002000", "2.5", "20.5"], ["1700000003000", "", "30.5"]]
print("OK" if rows == want else repr(rows))' "$csv" 2>&1)
    eq "csv.reader" "$r" OK || return
    # a new sensor changes the header
    app "$A/c" $'1700000000000,x\n' || return
    content_is "$csv" $'Time,root.ln.wf01.wt01.a,root.ln.wf01.wt01.b,root.ln.wf01.wt01.c\n1700000000000,,,x\n1700000001000,1.5,,\n1700000002000,2.5,20.5,\n1700000003000,,30.5,\n' || return
    size_ok "$csv" || return
    # inode numbers differ between aliases
    local i1 i2
    i1=$(stat -c %i "$csv")
    i2=$(stat -c %i "$A/a")
    [ "$i1" != "$i2" ] || fail "csv and sensor share inode $i1"
}

t_csv_append() {
    fresh || return
    mkdev || return
    local csv=$M/root.ln/all/wf01.wt01.csv
    app "$A/a" $'1700000001000,1.5\n' || return
    app "$A/b" $'1700000001000,10.5\n' || return
    app "$csv" $'Time,a,b\n1700000004000,4.5,\n1700000005000,,50.5\n1700000006000,6.5,60.5\n' || return
    app "$csv" $'Time,root.ln.wf01.wt01.b,root.ln.wf01.wt01.a\n1700000007000,70.5,7.5\n' || return
    content_is "$A/a" $'1700000001000,1.5\n1700000004000,4.5\n1700000006000,6.5\n1700000007000,7.5\n' || return
    content_is "$A/b" $'1700000001000,10.5\n1700000005000,50.5\n1700000006000,60.5\n1700000007000,70.5\n' || return
    # rows before a header; a bad cell refuses the whole write
    append_err EINVAL "$csv" $'1700000008000,8.5,80.5\n' || return
    append_err EINVAL "$csv" $'Time,a,b\n1700000009000,9.5,90.5\n1700000010000,abc,1.5\n' || return
    # python's csv writer: CRLF rows, quoting
    expect_err OK 'import csv
with open(a[0], "a", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Time", "a"])
    w.writerow(["1700000011000", "11.5"])
    w.writerow(["1700000012000", "12.5"])' "$csv" || return
    content_is "$A/a" $'1700000001000,1.5\n1700000004000,4.5\n1700000006000,6.5\n1700000007000,7.5\n1700000011000,11.5\n1700000012000,12.5\n' || return
    content_is "$A/b" $'1700000001000,10.5\n1700000005000,50.5\n1700000006000,60.5\n1700000007000,70.5\n' || return
    size_ok "$csv"
    # IoTDB's by-device layout names several devices: refused, nothing created
    append_err EINVAL "$csv" $'Time,Device,a\n1700000020000,root.ln.wf01.wt01,1.5\n' || return
    [ ! -e "$A/Device" ] || fail "a Device sensor was created from a by-device header"
}

t_csv_eperm() {
    fresh || return
    mkdev || return
    local csv=$M/root.ln/all/wf01.wt01.csv
    app "$A/a" $'1700000001000,1.5\n' || return
    expect_err EPERM 'os.unlink(a[0])' "$csv" || return
    expect_err EPERM 'os.truncate(a[0], 0)' "$csv" || return
    expect_err EPERM 'os.open(a[0], os.O_WRONLY | os.O_TRUNC)' "$csv" || return
    no_run rm -f "$csv" || return
    content_is "$csv" $'Time,root.ln.wf01.wt01.a\n1700000001000,1.5\n' || return
    content_is "$A/a" $'1700000001000,1.5\n'
}

t_partitions() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    app "$A/s" $'500,0.5\n1500,1.5\n2500,2.5\n2600,2.25\n' || return
    app "$A/b" $'2700,27.5\n' || return
    eq "ls root.ln" "$(listing "$M/root.ln")" "0 1 2 all" || return
    content_is "$M/root.ln/0/wf01.wt01/s" $'500,0.5\n' || return
    content_is "$M/root.ln/1/wf01.wt01/s" $'1500,1.5\n' || return
    content_is "$M/root.ln/2/wf01.wt01/s" $'2500,2.5\n2600,2.25\n' || return
    content_is "$M/root.ln/2/wf01.wt01.csv" $'Time,root.ln.wf01.wt01.b,root.ln.wf01.wt01.s\n2500,,2.5\n2600,,2.25\n2700,27.5,\n' || return
    size_ok "$M/root.ln/2/wf01.wt01/s" || return
    size_ok "$M/root.ln/2/wf01.wt01.csv" || return
    eq "stat partition" "$(stat -c '%F %a' "$M/root.ln/2")" "directory 755" || return
    eq "stat partition sensor" "$(stat -c '%a' "$M/root.ln/2/wf01.wt01/s")" 644 || return
    # a time outside the partition written under it
    append_err EINVAL "$M/root.ln/2/wf01.wt01/s" $'3500,3.5\n' || return
    append_err EINVAL "$M/root.ln/2/wf01.wt01/s" $'2800,2.8\n1999,1.9\n' || return
    app "$M/root.ln/2/wf01.wt01/s" $'2800,2.75\n' || return
    content_is "$A/s" $'500,0.5\n1500,1.5\n2500,2.5\n2600,2.25\n2800,2.75\n' || return
    # negative times: partition -1
    app "$A/s" $'-500,-0.5\n' || return
    eq "ls root.ln with a negative time" "$(listing "$M/root.ln")" "-1 0 1 2 all" || return
    content_is "$M/root.ln/-1/wf01.wt01/s" $'-500,-0.5\n' || return
    content_is "$A/s" $'-500,-0.5\n500,0.5\n1500,1.5\n2500,2.5\n2600,2.25\n2800,2.75\n' || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/7" || return
    local i1 i2
    i1=$(stat -c %i "$A/s")
    i2=$(stat -c %i "$M/root.ln/2/wf01.wt01/s")
    [ "$i1" != "$i2" ] || fail "all/ and partition views share inode $i1"
}

t_rm_sensor() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    app "$A/s" $'500,0.5\n1500,1.5\n2500,2.5\n' || return
    app "$A/t" $'500,5.5\n1500,15.5\n' || return
    # rm under a partition: that partition's range only
    ok_run rm "$M/root.ln/1/wf01.wt01/s" || return
    content_is "$A/s" $'500,0.5\n2500,2.5\n' || return
    content_is "$A/t" $'500,5.5\n1500,15.5\n' || return
    eq "type after partition rm" "$(xattr "$A/s" user.tsfs.type)" DOUBLE || return
    # rm under all/: everywhere, and the series is unregistered
    ok_run rm "$A/s" || return
    expect_err ENOENT 'open(a[0]).read()' "$A/s" || return
    expect_err ENOENT 'open(a[0]).read()' "$M/root.ln/0/wf01.wt01/s" || return
    expect_err ENOENT 'open(a[0]).read()' "$M/root.ln/2/wf01.wt01/s" || return
    eq "ls device after rm" "$(listing "$A")" "t" || return
    content_is "$M/root.ln/all/wf01.wt01.csv" $'Time,root.ln.wf01.wt01.t\n500,5.5\n1500,15.5\n' || return
    # unregistered: a new first value decides the type again
    app "$A/s" $'700,true\n' || return
    eq "type of s after rm and a new point" "$(xattr "$A/s" user.tsfs.type)" BOOLEAN || return
    content_is "$A/s" $'700,true\n' || return
    # rm -r of a partition: its data goes, the partition rmdir succeeds
    ok_run rm -r "$M/root.ln/0" || return
    content_is "$A/t" $'1500,15.5\n' || return
    content_is "$A/s" ""
}

t_truncate() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n' || return
    no_run truncate -s 5 "$A/s" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n' || return
    ok_run truncate -s 0 "$A/s" || return
    eq "size after truncate -s 0" "$(stat -c %s "$A/s")" 0 || return
    content_is "$A/s" "" || return
    eq "ls after truncate" "$(listing "$A")" "s" || return
    eq "type after truncate" "$(xattr "$A/s" user.tsfs.type)" DOUBLE || return
    append_err EINVAL "$A/s" $'1700000005000,hello\n' || return
    app "$A/s" $'1700000005000,5.5\n' || return
    content_is "$A/s" $'1700000005000,5.5\n'
}

t_rm_r() {
    fresh || return
    mkdev || return
    mkdir "$M/root.ln/all/d2" "$M/root.sg2" "$M/root.sg2/all/d3" || { fail "mkdir"; return; }
    app "$A/s" $'1700000000000,1.5\n' || return
    app "$A/t" $'1700000000000,2.5\n' || return
    app "$M/root.ln/all/d2/s" $'1700000000000,3.5\n' || return
    app "$M/root.sg2/all/d3/s" $'1700000000000,4.5\n' || return
    local p
    p=$(listing "$M/root.ln")
    p=${p%% *}
    ok_run rm -r "$A" || return
    eq "all/ after rm -r of a device" "$(listing "$M/root.ln/all")" "d2 d2.csv" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/$p/wf01.wt01/s" || return
    content_is "$M/root.ln/all/d2/s" $'1700000000000,3.5\n' || return
    ok_run rm -r "$M/root.ln" || return
    eq "mount point after rm -r of a storage group" "$(listing "$M")" ".stats root.sg2" || return
    content_is "$M/root.sg2/all/d3/s" $'1700000000000,4.5\n'
}

t_seal() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    local P=$M/root.ln/1 before after mt f n tsf
    app "$A/s" $'1100,1.5\n1200,2.5\n1300,0.1\n2100,3.5\n' || return
    app "$A/s" $'1050,0.5\n1200,2.75\n' || return
    app "$A/t" '1150,a\\b\nc'$'\n' || return
    app "$A/b" $'1250,true\n1260,false\n' || return
    content_is "$P/wf01.wt01/s" $'1050,0.5\n1100,1.5\n1200,2.75\n1300,0.1\n' || return
    cat "$A/s" > "$CD/s.before"
    before=$(date +%s)
    ok_run chmod a-w "$P" || return
    after=$(date +%s)
    eq "mode of sealed partition" "$(stat -c %a "$P")" 555 || return
    eq "mode of its device dir" "$(stat -c %a "$P/wf01.wt01")" 555 || return
    eq "mode of its sensor" "$(stat -c %a "$P/wf01.wt01/s")" 444 || return
    eq "mode of its .csv" "$(stat -c %a "$P/wf01.wt01.csv")" 444 || return
    mt=$(stat -c %Y "$P")
    { [ "$mt" -ge "$before" ] && [ "$mt" -le "$after" ]; } || { fail "mtime of sealed partition $mt not its seal time ($before..$after)"; return; }
    eq "mode of an open partition" "$(stat -c %a "$M/root.ln/2")" 755 || return
    content_is "$P/wf01.wt01/s" $'1050,0.5\n1100,1.5\n1200,2.75\n1300,0.1\n' || return
    size_ok "$P/wf01.wt01/s" || return
    size_ok "$P/wf01.wt01.csv" || return
    # .tsfiles: closed TsFiles with their .resource, the same bytes as DATA_DIR's
    [[ " $(listing "$P") " == *" .tsfiles "* ]] || { fail ".tsfiles/ missing from sealed partition: $(listing "$P")"; return; }
    ls "$P/.tsfiles" > "$CD/tsfiles.txt"
    grep -q '\.tsfile$' "$CD/tsfiles.txt" || { fail "no .tsfile in .tsfiles/: $(tr '\n' ' ' < "$CD/tsfiles.txt")"; return; }
    mapfile -t tsf < "$CD/tsfiles.txt"
    for f in "${tsf[@]}"; do
        case $f in *.tsfile) ;; *) continue ;; esac
        grep -qx -e "$f.resource" -e "${f%.tsfile}.resource" "$CD/tsfiles.txt" || { fail "no .resource for $f"; return; }
        eq "mode of .tsfiles/$f" "$(stat -c %a "$P/.tsfiles/$f")" 444 || return
        n=$(ls "$D"/*/root.ln/1/"$f" 2> /dev/null | head -1)
        [ -n "$n" ] || { fail "$f not found under DATA_DIR/*/root.ln/1/"; return; }
        cmp -s "$n" "$P/.tsfiles/$f" || { fail ".tsfiles/$f differs from $(short "$n")"; return; }
    done
    n=$(python3 "$T/dumpcmp.py" "$TSFILE" "$P" root.ln 2>&1) || { fail "tsfile dump vs cat: $n"; return; }
    eq "points in the sealed partition's TsFiles" "$n" 7 || return
    # nothing in it changes
    append_err EROFS "$A/s" $'1400,4.5\n' || return
    append_err EROFS "$A/s" $'2200,5.5\n1400,4.5\n' || return
    append_err EROFS "$P/wf01.wt01/s" $'1400,4.5\n' || return
    append_err EROFS "$P/wf01.wt01/new" $'1400,4.5\n' || return
    append_err EROFS "$M/root.ln/all/wf01.wt01.csv" $'Time,s\n1400,4.5\n' || return
    expect_err EROFS 'os.unlink(a[0])' "$A/s" || return
    expect_err EROFS 'os.unlink(a[0])' "$P/wf01.wt01/s" || return
    expect_err EROFS 'os.truncate(a[0], 0)' "$A/s" || return
    no_run rm -r "$A" || return
    f=$(head -1 "$CD/tsfiles.txt")
    expect_err EROFS 'os.open(a[0], os.O_WRONLY)' "$P/.tsfiles/$f" || return
    expect_err EROFS 'os.unlink(a[0])' "$P/.tsfiles/$f" || return
    cmp -s "$CD/s.before" <(cat "$A/s") || { fail "all/wf01.wt01/s changed by refused writes/deletes: $(tr '\n' ' ' < "$A/s")"; return; }
    content_is "$A/t" '1150,a\\b\nc'$'\n' || return
    # the open partition takes writes
    app "$A/s" $'2200,5.5\n' || return
    # chmod a-w again changes nothing: accepted
    ok_run chmod a-w "$P" || return
    # unseal
    ok_run chmod u+w "$P" || return
    eq "mode after chmod u+w" "$(stat -c %a "$P")" 755 || return
    eq "sensor mode after chmod u+w" "$(stat -c %a "$P/wf01.wt01/s")" 644 || return
    [[ " $(listing "$P") " == *" .tsfiles "* ]] && { fail ".tsfiles/ still listed after unseal"; return; }
    app "$A/s" $'1400,4.5\n' || return
    content_is "$P/wf01.wt01/s" $'1050,0.5\n1100,1.5\n1200,2.75\n1300,0.1\n1400,4.5\n' || return
    content_is "$A/s" $'1050,0.5\n1100,1.5\n1200,2.75\n1300,0.1\n1400,4.5\n2100,3.5\n2200,5.5\n'
}

t_chmod_chown() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    app "$A/s" $'1100,1.5\n' || return
    expect_err EPERM 'os.chmod(a[0], 0o600)' "$A/s" || return
    expect_err OK 'os.chmod(a[0], 0o644)' "$A/s" || return
    expect_err EPERM 'os.chmod(a[0], 0o700)' "$A" || return
    expect_err EPERM 'os.chmod(a[0], 0o700)' "$M/root.ln/1" || return
    expect_err EPERM 'os.chmod(a[0], 0o555)' "$M/root.ln/all" || return
    expect_err OK 'os.chmod(a[0], 0o755)' "$M/root.ln/1" || return
    expect_err EPERM 'os.chown(a[0], 1234, 1234)' "$A/s" || return
    expect_err EPERM 'os.chown(a[0], 1234, -1)' "$M/root.ln/1" || return
    expect_err EPERM 'os.chown(a[0], -1, 1234)' "$A" || return
    no_run chown 1234 "$A/s" || return
    eq "owner" "$(stat -c '%u:%g %a' "$A/s")" "$(stat -c '%u:%g' "$D") 644"
}

t_rsync_cp() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    local P=$M/root.ln/1 f
    app "$A/s" $'1100,1.5\n1200,2.5\n2100,3.5\n' || return
    app "$A/t" $'1150,hello\n' || return
    ok_run chmod a-w "$P" || return
    ok_run rsync -a "$P/" "$CD/copy/" || return
    ok_run rsync -a --stats "$P/" "$CD/copy/" || return
    grep -q "Number of regular files transferred: 0" "$CD/out" ||
        { fail "second rsync -a transferred: $(grep 'files transferred' "$CD/out")"; return; }
    ok_run diff -r "$P" "$CD/copy" || return
    content_is "$CD/copy/wf01.wt01/s" $'1100,1.5\n1200,2.5\n' || return
    # writes elsewhere do not touch the sealed partition
    app "$A/s" $'2200,4.5\n' || return
    ok_run rsync -a --stats "$P/" "$CD/copy/" || return
    grep -q "Number of regular files transferred: 0" "$CD/out" ||
        { fail "rsync after a write to another partition transferred: $(grep 'files transferred' "$CD/out")"; return; }
    # nor a remount with the same options
    remount -o partition_interval=1000 || return
    ok_run rsync -a --stats "$P/" "$CD/copy/" || return
    grep -q "Number of regular files transferred: 0" "$CD/out" ||
        { fail "rsync after a remount transferred: $(grep 'files transferred' "$CD/out")"; return; }
    ok_run rsync -a -i -n "$P/" "$CD/copy/" || return
    [ ! -s "$CD/out" ] || { fail "rsync -ain after remount itemizes changes: $(head -3 "$CD/out" | tr '\n' ' ')"; return; }
    # cp -r of a live device directory
    ok_run cp -r "$A" "$CD/cpdev" || return
    eq "cp -r listing" "$(listing "$CD/cpdev")" "$(listing "$A")" || return
    for f in s t; do
        cmp -s "$CD/cpdev/$f" <(cat "$A/$f") || { fail "cp -r copy of $f differs from cat"; return; }
    done
}

t_xattr_type() {
    fresh || return
    mkdev || return
    : >> "$A/n" || { fail ": >> n"; return; }
    eq "ls after creating an empty sensor" "$(listing "$A")" "n" || return
    eq "size of an empty sensor" "$(stat -c %s "$A/n")" 0 || return
    expect_err OK 'os.setxattr(a[0], "user.tsfs.type", b"INT64")' "$A/n" || return
    eq "type set" "$(xattr "$A/n" user.tsfs.type)" INT64 || return
    app "$A/n" $'1700000000000,42\n1700000001000,-7\n' || return
    content_is "$A/n" $'1700000000000,42\n1700000001000,-7\n' || return
    append_err EINVAL "$A/n" $'1700000002000,4.5\n' || return
    expect_err EBUSY 'os.setxattr(a[0], "user.tsfs.type", b"DOUBLE")' "$A/n" || return
    expect_err OK 'os.setxattr(a[0], "user.tsfs.type", b"INT64")' "$A/n" || return
    ok_run setfattr -n user.tsfs.type -v INT64 "$A/n" || return
    local enc comp
    enc=$(xattr "$A/n" user.tsfs.encoding)
    comp=$(xattr "$A/n" user.tsfs.compression)
    { [ -n "$enc" ] && [ -n "$comp" ]; } || { fail "encoding $(q "$enc") compression $(q "$comp")"; return; }
    expect_err OK 'os.setxattr(a[0], "user.tsfs.encoding", os.fsencode(a[1]))' "$A/n" "$enc" || return
    expect_err OK 'os.setxattr(a[0], "user.tsfs.compression", os.fsencode(a[1]))' "$A/n" "$comp" || return
    expect_err EBUSY 'os.setxattr(a[0], "user.tsfs.compression", b"UNCOMPRESSED" if a[1] != "UNCOMPRESSED" else b"GZIP")' "$A/n" "$comp" || return
    # a bad type name; TEXT chosen before the first point
    : >> "$A/m"
    expect_err EINVAL 'os.setxattr(a[0], "user.tsfs.type", b"FOO")' "$A/m" || return
    ok_run setfattr -n user.tsfs.type -v TEXT "$A/m" || return
    ok_run setfattr -n user.tsfs.compression -v GZIP "$A/m" || return
    app "$A/m" $'1700000000000,42\n' || return
    eq "type TEXT kept" "$(xattr "$A/m" user.tsfs.type)" TEXT || return
    eq "compression GZIP kept" "$(xattr "$A/m" user.tsfs.compression)" GZIP || return
    content_is "$A/m" $'1700000000000,42\n' || return
    : >> "$A/p"
    ok_run setfattr -n user.tsfs.type -v INT32 "$A/p" || return
    append_err EINVAL "$A/p" $'1,3000000000\n' || return
    app "$A/p" $'1,-2147483648\n' || return
    getfattr --absolute-names -d -m '^user\.tsfs\.' "$A/n" > "$CD/attrs" 2>&1
    for f in type encoding compression count first last; do
        grep -q "^user.tsfs.$f=" "$CD/attrs" || { fail "listxattr lacks user.tsfs.$f: $(tr '\n' ' ' < "$CD/attrs")"; return; }
    done
}

t_xattr_ro_ttl() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n' || return
    eq "user.tsfs.count" "$(xattr "$A/s" user.tsfs.count)" 2 || return
    local f
    for f in first last; do
        getfattr --absolute-names --only-values -n "user.tsfs.$f" "$A/s" > /dev/null 2>&1 || { fail "getfattr user.tsfs.$f failed"; return; }
    done
    for f in count first last; do
        expect_err EPERM 'os.setxattr(a[0], a[1], b"5")' "$A/s" "user.tsfs.$f" || return
    done
    expect_err ENODATA 'os.getxattr(a[0], "system.posix_acl_access")' "$A/s" || return
    # storage group TTL
    mkdir -p "$M/root.tt/all/d" || { fail "mkdir root.tt"; return; }
    app "$M/root.tt/all/d/s" $'1000,1.5\n' || return
    app "$M/root.tt/all/d/s" $'2.5\n' || return
    local sg=$M/root.tt
    expect_err OK 'os.setxattr(a[0], "user.tsfs.ttl", b"7d")' "$sg" || return
    expect_err EINVAL 'os.setxattr(a[0], "user.tsfs.ttl", b"30m")' "$sg" || return
    expect_err EINVAL 'os.setxattr(a[0], "user.tsfs.ttl", b"7")' "$sg" || return
    expect_err EINVAL 'os.setxattr(a[0], "user.tsfs.ttl", b"7x")' "$sg" || return
    ok_run setfattr -n user.tsfs.ttl -v 1h "$sg" || return
    ok_run setfattr -n user.tsfs.ttl -v 2w "$sg" || return
    # data older than now - TTL disappears at once
    eq "points left after a 2w TTL" "$(cut -d, -f2 "$M/root.tt/all/d/s" | tr '\n' ' ')" "2.5 " || return
    ok_run setfattr -n user.tsfs.ttl -v off "$sg" || return
    ok_run setfattr -n user.tsfs.ttl -v 0 "$sg"
}

t_link_rename() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n' || return
    ok_run mkdir "$M/root.ln/all/d2" || return
    expect_err EPERM 'os.link(a[0], a[1])' "$A/s" "$A/s2" || return
    expect_err EPERM 'os.symlink("s", a[0])' "$A/l" || return
    expect_err EPERM 'os.mknod(a[0], stat.S_IFIFO | 0o644)' "$A/f" || return
    expect_err EPERM 'os.rename(a[0], a[1])' "$A/s" "$A/s3" || return
    expect_err EPERM 'os.rename(a[0], a[1])' "$A/s" "$M/root.ln/all/d2/s" || return
    expect_err EPERM 'os.rename(a[0], a[1])' "$M/root.ln/all/d2" "$M/root.ln/all/d3" || return
    no_run mv "$A/s" "$A/s4" || return
    eq "device after refused link/rename" "$(listing "$A")" "s" || return
    content_is "$A/s" $'1700000000000,1.5\n'
}

snapshot() { # DIR: path inode size mode and a digest of each file's content (not /.stats: counters)
    python3 -c 'import os, sys, hashlib
root = sys.argv[1]
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files):
        if d == root and n == ".stats": continue
        p = os.path.join(d, n); st = os.lstat(p)
        h = hashlib.sha1(open(p, "rb").read()).hexdigest() if n in files else "-"
        print(os.path.relpath(p, root), st.st_ino, st.st_size, oct(st.st_mode), st.st_nlink, h)' "$1"
}

t_persistence() {
    fresh || return
    mkdev || return
    mkdir "$M/root.ln/all/d2" "$M/root.b" "$M/root.b/all/x.y" || { fail mkdir; return; }
    app "$A/s" $'1700000000000,1.5\n1700000001000,0.1\n1699000000000,NaN\n' || return
    app "$A/t" '1700000000000,a\\b\nc'$'\n' || return
    app "$A/b" $'1700000000000,true\n' || return
    app "$M/root.ln/all/d2/s" $'1700000000000,2.5\n' || return
    app "$M/root.b/all/x.y/z" $'1700000000001,1.5\n1700000000002,2.5\n1700000000001,3.5\n' || return
    ok_run setfattr -n user.tsfs.ttl -v 1000w "$M/root.b" || return
    : >> "$A/e"
    ok_run setfattr -n user.tsfs.type -v INT32 "$A/e" || return
    app "$A/e" $'1700000000000,7\n' || return
    snapshot "$M" > "$CD/snap1" 2>&1 || { fail "snapshot: $(tail -1 "$CD/snap1")"; return; }
    stop_fs "$PID" || return
    # after a clean shutdown every TsFile of DATA_DIR is closed and readable
    local f n=0
    for f in "$D"/sequence/*/*/*.tsfile "$D"/unsequence/*/*/*.tsfile; do
        [ -e "$f" ] || continue
        n=$((n + 1))
        "$TSFILE" dump "$f" > /dev/null 2> "$CD/err" || { fail "tsfile dump $(short "$f"): $(head -1 "$CD/err")"; return; }
    done
    [ "$n" -gt 0 ] || { fail "no TsFile under DATA_DIR/sequence after unmount: $(cd "$D" && find . -maxdepth 3 | tr '\n' ' ')"; return; }
    mount_fs "$D" "$M" || return
    snapshot "$M" > "$CD/snap2" 2>&1
    diff "$CD/snap1" "$CD/snap2" > "$CD/diff" || { fail "after remount (path ino size mode nlink sha1): $(head -4 "$CD/diff" | tr '\n' ' ')"; return; }
    content_is "$M/root.b/all/x.y/z" $'1700000000001,3.5\n1700000000002,2.5\n' || return
    eq "type after remount" "$(xattr "$A/e" user.tsfs.type)" INT32 || return
    # and after a second one, without any write in between
    remount || return
    snapshot "$M" > "$CD/snap3" 2>&1
    diff "$CD/snap1" "$CD/snap3" > "$CD/diff" || fail "after a second remount: $(head -4 "$CD/diff" | tr '\n' ' ')"
}

t_sigkill() {
    fresh -o wal_sync=always || return
    mkdev || return
    : >> "$A/k"
    ok_run setfattr -n user.tsfs.type -v INT64 "$A/k" || return
    local loop dead r
    (
        i=0
        while :; do
            i=$((i + 1))
            { echo "$i,$i" >> "$A/k"; } 2> /dev/null || break
            echo "$i" >> "$CD/acked"
        done
    ) &
    loop=$!
    sleep 1.5
    dead=$PID
    kill -9 "$dead"
    { wait "$loop"; wait "$dead"; } 2> /dev/null
    unset "LIVE[$dead]"
    fusermount3 -u "$M" 2> /dev/null || fusermount3 -u -z "$M" 2> /dev/null
    [ -s "$CD/acked" ] || { fail "no echo succeeded before kill -9"; return; }
    mount_fs "$D" "$M" || return
    r=$(python3 -c 'import sys
acked = [int(l) for l in open(sys.argv[1])]
got = {}
for line in open(sys.argv[2]).read().splitlines():
    t, v = line.split(",")
    got[int(t)] = int(v)
lost = [i for i in acked if got.get(i) != i]
extra = [t for t in got if t != got[t]]
print("OK %d" % len(acked) if not lost and not extra else "lost %d of %d acknowledged, e.g. %s; wrong %s" % (len(lost), len(acked), lost[:5], extra[:5]))' "$CD/acked" "$A/k" 2>&1)
    case $r in OK*) ;; *) fail "after kill -9 and remount: $r"; return ;; esac
    size_ok "$A/k" || return
    # still writable
    app "$A/k" $'100000000,5\n' || return
    tail -1 "$A/k" | grep -qx '100000000,5' || fail "append after recovery not visible"
}

t_fsync() {
    fresh || return
    mkdev || return
    expect_err OK 'fd = os.open(a[0], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
os.write(fd, b"1700000000000,1.5\n")
os.fsync(fd)
os.fdatasync(fd)
os.write(fd, b"1700000001000,2.5\n")
os.fsync(fd)
os.close(fd)
fd = os.open(a[0], os.O_RDONLY)
os.fsync(fd)
os.close(fd)
fd = os.open(a[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b"Time,s\n1700000002000,3.5\n")
os.fsync(fd)
os.close(fd)' "$A/s" "$M/root.ln/all/wf01.wt01.csv" || return
    content_is "$A/s" $'1700000000000,1.5\n1700000001000,2.5\n1700000002000,3.5\n' || return
    ok_run sync "$A/s"
}

t_second_instance() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n' || return
    mkdir -p "$CD/mnt2"
    local rc
    timeout 10 "$TSFS" "$D" "$CD/mnt2" -f > "$CD/second.err" 2>&1
    rc=$?
    if mounted "$CD/mnt2"; then fusermount3 -u "$CD/mnt2"; fi
    [ "$rc" -ne 0 ] || { fail "second tsfs on the same DATA_DIR exited 0"; return; }
    [ "$rc" -ne 124 ] || { fail "second tsfs on the same DATA_DIR kept running"; return; }
    [ -s "$CD/second.err" ] || { fail "second tsfs refused without a message"; return; }
    content_is "$A/s" $'1700000000000,1.5\n'
}

t_enoent() {
    fresh || return
    mkdev || return
    expect_err ENOENT 'open(a[0]).read()' "$M/root.nope/all/d/s" || return
    expect_err ENOENT 'os.stat(a[0])' "$A/nosuch" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/all/nodev.csv" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/2810" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/.tsfiles"
}

t_versions() {
    fresh || return
    mkdev || return
    app "$A/s" $'1700000001000,1.5\n1700000002000,2.5\n' || return
    local r
    r=$(python3 -c 'import os, sys
p = sys.argv[1]
def app(b):
    fd = os.open(p, os.O_WRONLY | os.O_APPEND); os.write(fd, b); os.close(fd)
def readall(fd, n):
    out = b""
    while True:
        b = os.read(fd, n)
        if not b: return out
        out += b
# a handle keeps the version of its open, even when a point lands before its
# offset: every offset up to the end of that version reads that version
fd = os.open(p, os.O_RDONLY)
old = os.read(fd, 5)
app(b"1700000000000,0.5\n")
while len(old) < 36:
    b = os.read(fd, min(7, 36 - len(old)))
    if not b: break
    old += b
os.close(fd)
if old != b"1700000001000,1.5\n1700000002000,2.5\n":
    print("handle read %r" % old); sys.exit()
# at its end a read moves it to the current version: tail -f sees in-order appends
fd = os.open(p, os.O_RDONLY)
readall(fd, 4096)
app(b"1700000003000,3.5\n")
new = os.read(fd, 4096)
os.close(fd)
if new != b"1700000003000,3.5\n":
    print("read after the end gave %r" % new); sys.exit()
print("OK")' "$A/s" 2>&1)
    eq "handle versions" "$r" OK || return
    content_is "$A/s" $'1700000000000,0.5\n1700000001000,1.5\n1700000002000,2.5\n1700000003000,3.5\n'
}

t_old_version_offsets() {
    fresh || return
    mkdev || return
    python3 -c 'import sys
sys.stdout.write("".join("%d,%d.5\n" % (1700000001000 + i * 1000, i) for i in range(200)))' > "$CD/in"
    { cat "$CD/in" >> "$A/s"; } 2> "$CD/err" || { fail "cat in >> s: $(cat "$CD/err")"; return; }
    local r
    # the contract: every offset of a handle returns the bytes a full read of
    # the version current at its open would, even after a rewrite
    r=$(python3 -c 'import os, sys
p, want = sys.argv[1], open(sys.argv[2], "rb").read()
fd = os.open(p, os.O_RDONLY)
first = os.pread(fd, 100, 0)
w = os.open(p, os.O_WRONLY | os.O_APPEND); os.write(w, b"1700000000000,0.5\n"); os.close(w)
bad = [(off, n) for off, n in ((1000, 40), (0, 40), (2000, 30), (18, 18), (len(want) - 20, 20)) if os.pread(fd, n, off) != want[off:off + n]]
os.close(fd)
print("OK" if first == want[:100] and not bad else "reads differing from the version at open: %s" % bad)' "$A/s" "$CD/in" 2>&1)
    eq "preads of an old version after an out-of-order insert" "$r" OK
}

# Rendered bytes are remembered in a budget (-o render_cache): whatever part
# of a file is remembered, whatever was evicted, every read returns the bytes
# of the version, and nothing is left behind in DATA_DIR.
t_render_cache() {
    local budget f i r round=0
    for budget in 64K 0 1G; do
        if [ "$budget" = 64K ]; then fresh -o render_cache=$budget || return; else remount -o render_cache=$budget || return; fi
        [ -n "${A:-}" ] && [ -d "$A" ] || { mkdev || return; }
        for f in s1 s2 s3; do
            [ -e "$CD/$f" ] && continue
            python3 -c 'import sys
n, k = int(sys.argv[1]), int(sys.argv[2])
sys.stdout.write("".join("%d,%d.%d\n" % (1700000000000 + i * 10, i % 97, k) for i in range(n)))' "$N_BIG" "${f#s}" > "$CD/$f"
            { cat "$CD/$f" >> "$A/$f"; } 2> "$CD/err" || { fail "cat >> $f: $(cat "$CD/err")"; return; }
        done
        sleep 0.5 # past the background render after the writers closed
        for i in 1 2; do
            for f in s1 s2 s3; do
                cmp -s "$A/$f" "$CD/$f" || { fail "render_cache=$budget round $i: cat $f differs from what was written"; return; }
                size_ok "$A/$f"
            done
        done
        r=$(python3 -c 'import os, random, sys
random.seed(7)
bad = []
for p, w in zip(sys.argv[1::2], sys.argv[2::2]):
    want = open(w, "rb").read()
    fd = os.open(p, os.O_RDONLY)
    for _ in range(50):
        off = random.randrange(len(want)); n = random.choice((1, 100, 4096, 200000))
        if os.pread(fd, n, off) != want[off:off + n]: bad.append((p[-2:], off, n))
    os.close(fd)
print("OK" if not bad else bad[:3])' "$A/s1" "$CD/s1" "$A/s2" "$CD/s2" "$A/s3" "$CD/s3" 2>&1)
        eq "render_cache=$budget: preads at random offsets" "$r" OK || return
        # an append in order, then one out of order: both read back exactly
        round=$((round + 1))
        r=$((round * 1000)) # a time of its own per round
        printf '%d,1.5\n' $((1800000000000 + r)) | tee -a "$CD/s1" >> "$A/s1"
        printf '%d,2.5\n' $((1600000000000 - r)) >> "$A/s2" &&
            { printf '%d,2.5\n' $((1600000000000 - r)); cat "$CD/s2"; } > "$CD/s2.new" && mv "$CD/s2.new" "$CD/s2"
        for f in s1 s2; do
            cmp -s "$A/$f" "$CD/$f" || { fail "render_cache=$budget: $f after an append differs"; return; }
        done
    done
    r=$(ls -A "$D/system" | grep -c "^\.render" || true)
    eq "files of rendered bytes left in DATA_DIR/system" "$r" 0
}

# Sizes remembered across mounts (sealed for good, live until the first
# change after a clean unmount) stay exact: after appends, an out-of-order
# point, a kill -9 of a mount that had loaded them, and for sealed .csv views.
t_sizes_across_mounts() {
    fresh -o wal_sync=always || return
    mkdev || return
    local f dead
    printf '1700000000000,1.5\n1700000001000,2.5\n' >> "$A/a" && printf '1700000000000,7\n' >> "$A/b" || {
        fail "appends failed"; return; }
    mkdir "$M/root.ln/all/d2" && printf '1600000000000,1\n' >> "$M/root.ln/all/d2/x" || { fail "d2 failed"; return; }
    local p
    p=$(ls "$M/root.ln" | grep -v '^all$' | sort | head -1) # the partition of d2 alone
    chmod a-w "$M/root.ln/$p" || { fail "chmod a-w $p"; return; }
    cat "$M/root.ln/$p/d2.csv" > "$CD/csv.before"
    for f in a b; do size_ok "$A/$f"; done
    remount -o wal_sync=always || return
    for f in a b; do size_ok "$A/$f"; done
    size_ok "$M/root.ln/$p/d2.csv"
    cmp -s "$M/root.ln/$p/d2.csv" "$CD/csv.before" || { fail "sealed .csv view differs after a remount: $(q "$(cat "$M/root.ln/$p/d2.csv")")"; return; }
    # an append in order and one before the last point, on remembered sizes
    printf '1700000002000,3.5\n' >> "$A/a" && printf '1699999999000,0.5\n' >> "$A/b" || { fail "appends failed"; return; }
    content_is "$A/a" $'1700000000000,1.5\n1700000001000,2.5\n1700000002000,3.5\n'
    content_is "$A/b" $'1699999999000,0.5\n1700000000000,7\n'
    for f in a b; do size_ok "$A/$f"; done
    # a clean unmount remembers; the next mount is killed after changes
    remount -o wal_sync=always || return
    printf '1700000003000,4.5\n' >> "$A/a" && printf '1650000000000,2\n' >> "$A/b" || { fail "appends failed"; return; }
    dead=$PID
    kill -9 "$dead"
    wait "$dead" 2> /dev/null
    unset "LIVE[$dead]"
    fusermount3 -u "$M" 2> /dev/null || fusermount3 -u -z "$M" 2> /dev/null
    mount_fs "$D" "$M" -o wal_sync=always || return
    content_is "$A/a" $'1700000000000,1.5\n1700000001000,2.5\n1700000002000,3.5\n1700000003000,4.5\n'
    content_is "$A/b" $'1650000000000,2\n1699999999000,0.5\n1700000000000,7\n'
    for f in a b; do size_ok "$A/$f"; done
}

# Late points and deletions keep what lies before them (only the rest is
# rendered again): a random mix of appends, late points, overwrites and
# partition deletions, checked after each step against a model, in the
# sensor files, their sizes, random preads and the device's .csv view; with
# rendered bytes remembered and without.
t_late_points() {
    local budget r
    for budget in 1G 0; do
        if [ "$budget" = 1G ]; then fresh -o partition_interval=100000 || return; else
            remount -o render_cache=0 || return; fi
        [ -d "$M/root.ln" ] || { mkdev || return; }
        r=$(python3 - "$A" "$M/root.ln" "$N_BIG" "$budget" <<'PY' 2>&1
import os, random, sys
dev, sg, n, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]) * 5, sys.argv[4]
random.seed(11 if budget == "0" else 5)
T0, IV = 1700000000000, 100000
state = os.path.join(os.path.dirname(sg), "..", "late-model")
model = {"a": {}, "b": {}}
if os.path.exists(state):
    for line in open(state):
        k, t, v = line.split()
        model[k][int(t)] = v
def render(k):
    return "".join("%d,%s\n" % (t, model[k][t]) for t in sorted(model[k]))
def csv():
    ts = sorted(set(model["a"]) | set(model["b"]))
    rows = ["Time,root.ln.wf01.wt01.a,root.ln.wf01.wt01.b\n"]
    rows += ["%d,%s,%s\n" % (t, model["a"].get(t, ""), model["b"].get(t, "")) for t in ts]
    return "".join(rows)
def append(k, pts):
    with open(os.path.join(dev, k), "a") as f:
        f.write("".join("%d,%s\n" % (t, v) for t, v in pts))
    for t, v in pts: model[k][t] = v
def check(step):
    for k in "ab":
        want = render(k).encode()
        p = os.path.join(dev, k)
        got = open(p, "rb").read()
        if got != want:
            i = next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))
            return "%s: %s differs at byte %d of %d (got %d bytes): %r vs %r" % (step, k, i, len(want), len(got), got[i:i+30], want[i:i+30])
        if os.stat(p).st_size != len(want):
            return "%s: st_size of %s is %d, content %d" % (step, k, os.stat(p).st_size, len(want))
        fd = os.open(p, os.O_RDONLY)
        for _ in range(5):
            off = random.randrange(len(want) + 1); ln = random.choice((1, 64, 70000))
            if os.pread(fd, ln, off) != want[off:off + ln]:
                os.close(fd); return "%s: pread(%d, %d) of %s differs" % (step, ln, off, k)
        os.close(fd)
    want = csv().encode()
    got = open(dev + ".csv", "rb").read()
    if got != want:
        return "%s: wf01.wt01.csv differs (%d vs %d bytes)" % (step, len(got), len(want))
    return None
if not model["a"]:
    append("a", [(T0 + i * 10, "%d.5" % (i % 50)) for i in range(n)])
    append("b", [(T0 + i * 30, "%d" % (i % 7)) for i in range(n // 3)])
err = check("start")
steps = 0
while not err and steps < 24:
    steps += 1
    k = random.choice("ab")
    last = max(model[k]) if model[k] else T0
    op = random.choice(("append", "late", "late", "late", "overwrite", "rm"))
    if not model[k]: op = "append"
    if op == "append":
        append(k, [(last + 10 * (i + 1), "%d.25" % i) for i in range(random.randint(1, 300))])
    elif op == "late":  # a few points in the last part, or anywhere
        lo = last - random.choice((2000, 20000, n * 5))
        append(k, [(random.randint(lo, last) * 1 + 3, "7") for _ in range(random.randint(1, 4))])
    elif op == "overwrite":
        t = random.choice(sorted(model[k])[-50:])
        append(k, [(t, "99")])
    else:  # rm of the sensor in one partition: deletes that time range
        parts = sorted({t // IV for t in model[k]})
        p = random.choice(parts[-3:])
        os.unlink(os.path.join(sg, str(p), "wf01.wt01", k))
        model[k] = {t: v for t, v in model[k].items() if t // IV != p}
    err = check("step %d (%s %s)" % (steps, op, k))
with open(state, "w") as f:
    for k in "ab":
        for t, v in model[k].items(): f.write("%s %d %s\n" % (k, t, v))
print(err or "OK")
PY
)
        eq "render_cache=$budget: late points and deletions" "$r" OK || return
    done
}

# Devices made by mkdir and sensors created without points (with or without
# chosen settings) are still there after a remount, and behave the same.
t_empty_across_mounts() {
    fresh || return
    mkdev || return
    mkdir "$M/root.ln/all/empty" || { fail "mkdir empty"; return; }
    : >> "$A/untyped" && : >> "$A/chosen" || { fail "creating sensors failed"; return; }
    ok_run setfattr -n user.tsfs.encoding -v GORILLA "$A/chosen" || return
    remount || return
    eq "all/ after a remount" "$(listing "$M/root.ln/all")" "empty empty.csv wf01.wt01 wf01.wt01.csv" || return
    eq "the device after a remount" "$(listing "$A")" "chosen untyped" || return
    eq "encoding chosen before the remount" "$(xattr "$A/chosen" user.tsfs.encoding)" GORILLA || return
    app "$A/chosen" $'1700000000000,1.5\n' || return
    eq "type of the first value" "$(xattr "$A/chosen" user.tsfs.type)" DOUBLE || return
    eq "encoding kept by the series" "$(xattr "$A/chosen" user.tsfs.encoding)" GORILLA || return
    rmdir "$M/root.ln/all/empty" || { fail "rmdir of the empty device after a remount"; return; }
    rm "$A/untyped" || { fail "rm of the untyped sensor after a remount"; return; }
    remount || return
    eq "all/ after rmdir, rm and a remount" "$(listing "$M/root.ln/all")" "wf01.wt01 wf01.wt01.csv" || return
    eq "the device after rm and a remount" "$(listing "$A")" "chosen"
}

t_flush_unseq() {
    local n=$N_BIG half=$((N_BIG * 5))
    fresh -o memtable_size=262144,partition_interval=$half || return
    mkdev || return
    : >> "$A/s"
    ok_run setfattr -n user.tsfs.type -v INT64 "$A/s" || return
    python3 -c 'import sys
n = int(sys.argv[1])
with open(sys.argv[2], "w") as f:
    f.write("".join("%d,%d\n" % (i * 10, i * 1000003 % 999983) for i in range(n)))
with open(sys.argv[3], "w") as f:
    f.write("".join("%d,%d\n" % (i * 10, -i) for i in range(0, n, 7)))
with open(sys.argv[4], "w") as f:
    f.write("".join("%d,%d\n" % (i * 10, -i if i % 7 == 0 else i * 1000003 % 999983) for i in range(n)))
' "$n" "$CD/in" "$CD/upd" "$CD/want"
    { cat "$CD/in" >> "$A/s"; } 2> "$CD/err" || { fail "cat in >> s: $(cat "$CD/err")"; return; }
    { cat "$CD/upd" >> "$A/s"; } 2> "$CD/err" || { fail "cat upd >> s: $(cat "$CD/err")"; return; }
    cmp -s "$CD/want" <(cat "$A/s") || { fail "cat after $n points and rewrites differs: $(cmp "$CD/want" <(cat "$A/s") 2>&1)"; return; }
    size_ok "$A/s" || return
    eq "user.tsfs.count" "$(xattr "$A/s" user.tsfs.count)" "$n" || return
    awk -F, -v h="$half" '$1 < h' "$CD/want" > "$CD/want0"
    cmp -s "$CD/want0" <(cat "$M/root.ln/0/wf01.wt01/s") || { fail "partition 0 view differs"; return; }
    ok_run chmod a-w "$M/root.ln/0" || return
    cmp -s "$CD/want0" <(cat "$M/root.ln/0/wf01.wt01/s") || { fail "partition 0 view differs after seal"; return; }
    local r
    r=$(python3 "$T/dumpcmp.py" "$TSFILE" "$M/root.ln/0" root.ln 2>&1) || { fail "dump of sealed partition 0 vs cat: $r"; return; }
    remount -o memtable_size=262144,partition_interval=$half || return
    cmp -s "$CD/want" <(cat "$A/s") || { fail "cat after remount differs"; return; }
    size_ok "$A/s"
}

t_auto_seal() {
    fresh -o partition_interval=1000 || return
    mkdev || return
    app "$A/s" $'1500,1.5\n' || return
    app "$A/s" $'3.5\n' || return
    # old data, then a mount with auto_seal (the period of its check is not
    # specified: a partition already old at mount time must be sealed soon)
    remount -o partition_interval=1000,auto_seal=1h || return
    local i
    for ((i = 0; i < 100; i++)); do
        [ "$(stat -c %a "$M/root.ln/1")" = 555 ] && break
        sleep 0.2
    done
    eq "mode of a partition older than auto_seal after 20 s" "$(stat -c %a "$M/root.ln/1")" 555 || return
    [[ " $(listing "$M/root.ln/1") " == *" .tsfiles "* ]] || { fail "auto-sealed partition has no .tsfiles/"; return; }
    append_err EROFS "$A/s" $'1600,1.5\n' || return
    # the current partition stays open
    app "$A/s" $'4.5\n' || return
    content_is "$M/root.ln/1/wf01.wt01/s" $'1500,1.5\n'
}

t_options() {
    fresh -o compression=GZIP,wal_sync=off,memtable_size=1048576 || return
    mkdev || return
    app "$A/s" $'1700000000000,1.5\n' || return
    eq "compression of a new series with -o compression=GZIP" "$(xattr "$A/s" user.tsfs.compression)" GZIP || return
    remount -o wal_sync=batch || return
    content_is "$A/s" $'1700000000000,1.5\n'
}

# ---- generated files: /.stats and <sensor>.svg ---------------------------------------

# stat_val NAME: the value of a /.stats line, or "missing".
stat_val() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "missing" }' "$M/.stats"; }
# gt WHAT GOT MIN: GOT is a number above MIN.
gt() { [[ $2 =~ ^[0-9]+$ ]] && [ "$2" -gt "$3" ] || fail "$1: expected more than $3, got $(q "$2")"; }

t_stats() {
    fresh -o partition_interval=1000 || return
    local r f c0 b
    eq "ls of the mount point" "$(ls "$M")" "" || return
    eq "ls -A of the mount point" "$(listing "$M")" ".stats" || return
    eq "stat .stats" "$(stat -c '%F %a' "$M/.stats")" "regular file 444" || return
    # a handle's fstat size is what it reads; lines are `name value`
    r=$(python3 -c 'import os, re, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
size = os.fstat(fd).st_size
data = b""
while True:
    b = os.read(fd, 7)
    if not b: break
    data += b
os.close(fd)
text = open(sys.argv[1]).read()
bad = [l for l in text.splitlines() if not re.fullmatch(r"[A-Za-z0-9_.]+ [0-9]+", l)]
if size != len(data): print("fstat size %d but %d bytes read" % (size, len(data)))
elif not text.endswith("\n") or bad: print("bad lines %r" % bad[:3])
else: print("OK")' "$M/.stats" 2>&1)
    eq ".stats read in 7-byte pieces, fstat size, line format" "$r" OK || return
    for f in uptime_ms points_ingested points_replayed memtable_bytes flushes files_closed compactions \
        wal_syncs wal_bytes wal_segments wal_records_replayed wal_records_skipped storage_groups; do
        [ "$(stat_val $f)" != missing ] || { fail ".stats has no $f: $(tr '\n' ' ' < "$M/.stats")"; return; }
    done
    eq "head -1 .stats" "$(head -1 "$M/.stats" | cut -d' ' -f1)" uptime_ms || return
    eq "points_ingested at start" "$(stat_val points_ingested)" 0 || return
    eq "storage_groups at start" "$(stat_val storage_groups)" 0 || return
    mkdev || return
    app "$A/s" $'1100,1.5\n1200,2.5\n2100,3.5\n' || return
    app "$A/t" $'1150,4\n' || return
    eq "points_ingested after 4 points" "$(stat_val points_ingested)" 4 || return
    eq storage_groups "$(stat_val storage_groups)" 1 || return
    eq sg.root.ln.series "$(stat_val sg.root.ln.series)" 2 || return
    eq sg.root.ln.devices "$(stat_val sg.root.ln.devices)" 1 || return
    eq sg.root.ln.partitions "$(stat_val sg.root.ln.partitions)" 2 || return
    eq sg.root.ln.partitions_sealed "$(stat_val sg.root.ln.partitions_sealed)" 0 || return
    eq sg.root.ln.partitions_live "$(stat_val sg.root.ln.partitions_live)" 2 || return
    gt memtable_bytes "$(stat_val memtable_bytes)" 0 || return
    eq "grep -c sg.root.ln. lines" "$(grep -c '^sg\.root\.ln\.' "$M/.stats")" 9 || return
    c0=$(stat_val files_closed)
    ok_run chmod a-w "$M/root.ln/1" || return
    eq "partitions_sealed after a seal" "$(stat_val sg.root.ln.partitions_sealed)" 1 || return
    eq "partitions_live after a seal" "$(stat_val sg.root.ln.partitions_live)" 1 || return
    gt "files_closed after a seal" "$(stat_val files_closed)" "$c0" || return
    gt "flushes after a seal" "$(stat_val flushes)" 0 || return
    gt "tsfiles_seq after a seal" "$(stat_val sg.root.ln.tsfiles_seq)" 0 || return
    b=$(find "$D/sequence/root.ln" -name '*.tsfile' -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')
    eq "tsfile_bytes_seq against DATA_DIR" "$(stat_val sg.root.ln.tsfile_bytes_seq)" "$b" || return
    eq tsfiles_unseq "$(stat_val sg.root.ln.tsfiles_unseq)" 0 || return
    # read-only, and not to be deleted
    expect_err EACCES 'os.open(a[0], os.O_WRONLY | os.O_APPEND)' "$M/.stats" || return
    expect_err EACCES 'os.truncate(a[0], 0)' "$M/.stats" || return
    expect_err EPERM 'os.unlink(a[0])' "$M/.stats" || return
    expect_err EPERM 'os.chmod(a[0], 0o644)' "$M/.stats" || return
    # a clean remount replays nothing; after kill -9 the WAL is replayed
    remount -o partition_interval=1000,wal_sync=always || return
    eq "wal_records_replayed after a clean remount" "$(stat_val wal_records_replayed)" 0 || return
    eq "points_ingested after a remount" "$(stat_val points_ingested)" 0 || return
    app "$A/s" $'2200,5.5\n2300,6.5\n' || return
    local dead=$PID
    kill -9 "$dead"
    wait "$dead" 2> /dev/null
    unset "LIVE[$dead]"
    fusermount3 -u "$M" 2> /dev/null || fusermount3 -u -z "$M" 2> /dev/null
    mount_fs "$D" "$M" -o partition_interval=1000 || return
    gt "wal_records_replayed after kill -9" "$(stat_val wal_records_replayed)" 0 || return
    eq "points_replayed after kill -9" "$(stat_val points_replayed)" 2 || return
    eq "points_ingested after recovery" "$(stat_val points_ingested)" 0
}

# svg_size FILE: "WIDTHxHEIGHT" of an SVG's root element.
svg_size() {
    python3 -c 'import sys, xml.etree.ElementTree as ET
r = ET.parse(sys.argv[1]).getroot()
print("%sx%s" % (r.get("width"), r.get("height")))' "$1" 2>&1
}
# png_size FILE: "WIDTHxHEIGHT" from a PNG's header, or why not.
png_size() {
    python3 -c 'import struct, sys
b = open(sys.argv[1], "rb").read(32)
print("%dx%d" % struct.unpack(">II", b[16:24]) if b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR" else "not a PNG")' "$1" 2>&1
}

t_svg() {
    command -v rsvg-convert > /dev/null || { fail "rsvg-convert missing (librsvg2-bin: .ci/install-deps)"; return; }
    local half=$((N_BIG * 5)) r
    fresh -o partition_interval=$half || return
    mkdev || return
    # N_BIG points over two partitions, a NaN among them
    python3 -c 'import math, sys
n = int(sys.argv[1])
sys.stdout.write("".join("%d,%.3f\n" % (i * 10, 20 + 10 * math.sin(i / 500.0)) for i in range(n)))
sys.stdout.write("%d,NaN\n" % (n * 10))' "$N_BIG" > "$CD/s.txt"
    { cat "$CD/s.txt" >> "$A/s"; } 2> "$CD/err" || { fail "cat >> s: $(cat "$CD/err")"; return; }
    app "$A/txt" $'1000,hello\n' || return
    : >> "$A/e" || { fail ": >> e"; return; }
    ok_run setfattr -n user.tsfs.type -v INT64 "$A/e" || return
    # found by name, never listed
    eq "ls -a of the device" "$(ls -a "$A" | tr '\n' ' ')" ". .. e s txt " || return
    eq "find -name '*.svg'" "$(find "$M" -name '*.svg' | wc -l)" 0 || return
    eq "stat s.svg" "$(stat -c '%F %a' "$A/s.svg")" "regular file 444" || return
    size_ok "$A/s.svg" || return
    expect_err ENOENT 'os.stat(a[0])' "$A/txt.svg" || return
    expect_err ENOENT 'os.stat(a[0])' "$A/nosuch.svg" || return
    expect_err ENOENT 'os.stat(a[0])' "$A/s.svg.svg" || return
    # well-formed SVG: title, a path of at most 4 points per pixel column, labels
    r=$(python3 -c 'import sys, re, xml.etree.ElementTree as ET
ns = "{http://www.w3.org/2000/svg}"
root = ET.parse(sys.argv[1]).getroot()
title = root.find(ns + "title").text
paths = root.findall(".//" + ns + "path")
texts = [t.text for t in root.iter(ns + "text")]
pts = len(re.findall(r"[ML]", paths[0].get("d"))) if paths else 0
sub = [t for t in texts if "points" in t]
if root.tag != ns + "svg": print("root is", root.tag)
elif title != sys.argv[2]: print("title", title)
elif not 2 <= pts <= 4 * 800: print("path of %d points" % pts)
elif not sub or ("%s points" % sys.argv[3]) not in sub[0]: print("subtitle", sub)
elif len(texts) < 8: print("only %d labels" % len(texts))
else: print("OK")' "$A/s.svg" root.ln.wf01.wt01.s "$N_BIG" 2>&1)
    eq "s.svg as XML" "$r" OK || return
    ok_run rsvg-convert "$A/s.svg" -o "$CD/s.png" || return
    eq "size of s.svg" "$(svg_size "$A/s.svg")" 940x484 || return
    eq "PNG of s.svg" "$(png_size "$CD/s.png")" 940x484 || return
    # an empty numeric series: a valid chart saying so
    r=$(python3 -c 'import sys, xml.etree.ElementTree as ET
texts = [t.text for t in ET.parse(sys.argv[1]).getroot().iter("{http://www.w3.org/2000/svg}text")]
print("OK" if "no data" in texts else texts)' "$A/e.svg" 2>&1)
    eq "e.svg of an empty series" "$r" OK || return
    ok_run rsvg-convert "$A/e.svg" -o "$CD/e.png" || return
    eq "PNG of e.svg" "$(png_size "$CD/e.png")" 940x484 || return
    [ "$(stat -c %s "$CD/s.png")" -gt "$(stat -c %s "$CD/e.png")" ] || { fail "the chart's PNG is no bigger than the empty one's"; return; }
    # a partition's chart: that partition's range
    grep -q '>partition 1: ' "$M/root.ln/1/wf01.wt01/s.svg" || { fail "partition 1's s.svg does not say its range"; return; }
    size_ok "$M/root.ln/1/wf01.wt01/s.svg" || return
    expect_err ENOENT 'os.stat(a[0])' "$M/root.ln/1/wf01.wt01/txt.svg" || return
    # read-only
    expect_err EACCES 'os.open(a[0], os.O_WRONLY | os.O_APPEND)' "$A/s.svg" || return
    expect_err EACCES 'os.open(a[0], os.O_RDWR)' "$A/s.svg" || return
    expect_err EACCES 'os.truncate(a[0], 0)' "$A/s.svg" || return
    expect_err EPERM 'os.unlink(a[0])' "$A/s.svg" || return
    expect_err 'EINVAL|EPERM' 'os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))' "$A/x.svg" || return
    # the chart follows the data
    cp "$A/s.svg" "$CD/before.svg"
    app "$A/s" "$((N_BIG * 10 + 10)),1000"$'\n' || return
    cmp -s "$A/s.svg" "$CD/before.svg" && { fail "s.svg unchanged after an append"; return; }
    grep -q "$((N_BIG + 1)) points" "$A/s.svg" || { fail "s.svg after an append does not count $((N_BIG + 1)) points"; return; }
    size_ok "$A/s.svg" || return
    # sealed: fixed, through the page cache
    ok_run chmod a-w "$M/root.ln/0" || return
    size_ok "$M/root.ln/0/wf01.wt01/s.svg" || return
    cmp -s "$M/root.ln/0/wf01.wt01/s.svg" <(cat "$M/root.ln/0/wf01.wt01/s.svg") || fail "sealed s.svg reads differ"
}

# ---- runner ------------------------------------------------------------------------

run_case() {
    local name=$1 fn=$2 res=0 wd pid log t0 took=""
    if [ -n "$ONLY" ] && [[ $name != *"$ONLY"* ]] && [[ $fn != *"$ONLY"* ]]; then return; fi
    CD=$T/$fn
    mkdir -p "$CD"
    : > "$CD/.pids"
    REASON=""
    NLOG=0
    A=""
    t0=$(now_ms)
    (
        n=0
        while [ ! -e "$CD/.done" ]; do
            sleep 0.2
            n=$((n + 1))
            if [ "$n" -ge $((CASE_TIMEOUT * 5)) ]; then
                touch "$CD/.timedout"
                while read -r p; do ours "$p" && kill -9 "$p"; done < "$CD/.pids"
                exit 0
            fi
        done
    ) &
    wd=$!
    "$fn" || res=1
    [ "$res" -eq 0 ] && REASON=""
    [ "$res" -eq 0 ] || [ -n "$REASON" ] || REASON="failed"
    for pid in "${!LIVE[@]}"; do
        stop_fs "$pid" || res=1
    done
    touch "$CD/.done"
    wait "$wd" 2> /dev/null
    if [ -e "$CD/.timedout" ]; then
        res=1
        REASON="timed out after ${CASE_TIMEOUT}s (tsfs killed); $REASON"
    fi
    for log in "$CD"/tsfs.*.log; do
        [ -e "$log" ] || continue
        if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
            res=1
            REASON="${REASON:+$REASON; }sanitizer report in $(short "$log")"
        fi
    done
    [ -z "${TSFS_MOUNT_TIMES:-}" ] || took=" # $(($(now_ms) - t0)) ms"
    if [ "$res" -eq 0 ]; then
        pass=$((pass + 1))
        echo "ok - $name$took"
    else
        failn=$((failn + 1))
        echo "not ok - $name: $REASON$took"
        for log in "$CD"/tsfs.*.log; do
            [ -s "$log" ] && tail -n 4 "$log" | sed "s|^|# $(basename "$log"): |"
        done
    fi
}

run_case "--help and --version exit 0" t_help_version
run_case "bad options are refused" t_bad_options
run_case "mkdir of storage group and device, EEXIST" t_mkdir
run_case "EINVAL on bad names" t_bad_names
run_case "EPERM for mkdir elsewhere" t_mkdir_elsewhere
run_case "rmdir semantics" t_rmdir
run_case "echo >> one point" t_append_one
run_case "printf many lines; head, tail, wc, stat, ls -l, pread" t_many_lines
run_case "a line split across writes; last line at release" t_split_write
run_case "CRLF and blank lines" t_crlf_blank
run_case "bare values stamped, strictly increasing" t_bare_values
run_case "ISO-8601 timestamps in input" t_iso_input
run_case "-o time_format=iso" t_time_format_iso
run_case "out of order and repeated timestamps" t_out_of_order
run_case "type inference and rendering" t_types
run_case "text escaping round trip" t_text_escape
run_case "bad lines refused whole, handle poisoned" t_bad_lines
run_case "O_TRUNC never erases" t_otrunc
run_case "write at a wrong offset" t_wrong_offset
run_case "device .csv view" t_csv_view
run_case "appending rows to the .csv" t_csv_append
run_case ".csv unlink/truncate EPERM" t_csv_eperm
run_case "partition directories" t_partitions
run_case "rm of a sensor" t_rm_sensor
run_case "truncate -s 0" t_truncate
run_case "rm -r of a device and a storage group" t_rm_r
run_case "seal with chmod a-w, .tsfiles, dump, unseal" t_seal
run_case "chmod and chown EPERM" t_chmod_chown
run_case "rsync -a twice transfers nothing; cp -r" t_rsync_cp
run_case "user.tsfs.type and friends" t_xattr_type
run_case "read-only xattrs, ACL, storage group TTL" t_xattr_ro_ttl
run_case "link, symlink, mknod, rename EPERM" t_link_rename
run_case "persistence across remounts" t_persistence
run_case "kill -9 with wal_sync=always loses nothing acknowledged" t_sigkill
run_case "fsync" t_fsync
run_case "a second tsfs on the same DATA_DIR is refused" t_second_instance
run_case "ENOENT" t_enoent
run_case "handle versions and tail -f" t_versions
run_case "every offset of a handle reads the version of its open" t_old_version_offsets
run_case "rendered bytes remembered within -o render_cache" t_render_cache
run_case "sizes remembered across mounts stay exact" t_sizes_across_mounts
run_case "late points and deletions re-render only what follows them" t_late_points
run_case "empty devices and sensors without points survive a remount" t_empty_across_mounts
run_case "flushes, unsequence rewrites, seal and dump ($N_BIG points)" t_flush_unseq
run_case "-o auto_seal seals old partitions" t_auto_seal
run_case "mount options" t_options
run_case "/.stats counters" t_stats
run_case "<sensor>.svg charts" t_svg

echo "mount tests: $pass passed, $failn failed"
[ "$failn" -eq 0 ]
