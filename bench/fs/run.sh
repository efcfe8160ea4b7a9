#!/usr/bin/env bash
# bench/fs/run.sh BUILD: the mounted filesystem against the FUSE floor.
#
# tsfs ($BUILD/tsfs, -o wal_sync=batch) and a plain libfuse passthrough
# ($BUILD/bench-passthrough, default options: kernel page cache on) are mounted
# side by side over the same disk and driven by the same shell commands:
#   bulk append   cat big.csv >> sensor            (points/s, MB/s)
#   single echo   N x  echo "t,v" >> sensor        (appends/s; each is open, write, close)
#                 with tsfs idle; and once right after the bulk append, while
#                 tsfs renders that file in the background (printed beside)
#   read          cat sensor > /dev/null           (MB/s, points/s)
#                 served from the rendered bytes tsfs remembers (after the
#                 bulk append they are rendered once in the background), and
#                 again after a remount with -o render_cache=0, where every
#                 read renders its lines from the TsFiles and memtables
# big.csv holds FS_BENCH_POINTS (default 10,000,000) lines "time,value" from
# bench-gen-csv.  Figures are medians of 3 runs, except a bulk append of 5M
# points or more, which runs once (it is long, and repeating it would write a
# second series).  Reads run cold (page cache dropped before each run) when
# /proc/sys/vm/drop_caches is writable, and then warm.
# Everything lives in a temp dir under $BUILD (FS_BENCH_DIR overrides), i.e. on
# the disk of the repo; the line "data on" names the device.  Needs root.
set -euo pipefail
export LC_ALL=C
BUILD=$(cd "${1:-build}" && pwd)
POINTS=${FS_BENCH_POINTS:-10000000}
ECHOS=${FS_BENCH_ECHOS:-2000}
WAL_SYNC=${FS_BENCH_WAL_SYNC:-batch}
RUNS=3
T0=1700000000000

echo
if [ "$(id -u)" != 0 ]; then
    echo "filesystem: skipped (needs root for FUSE mounts and drop_caches)"
    exit 0
fi
for tool in fusermount3 mountpoint; do
    command -v "$tool" >/dev/null || { echo "filesystem: skipped ($tool missing)"; exit 0; }
done

TMP=$(mktemp -d "${FS_BENCH_DIR:-$BUILD}/fsbench.XXXXXX")
# Mounts we made and the pids we started, for the trap.
MOUNTS=()
PIDS=()

die() {
    echo "fs bench: $*" >&2
    exit 1
}

# unmount_wait MNT PID: unmounts MNT and waits for PID to exit (tsfs exits
# only after its last flush); sets UM_STATUS to its exit status.  Runs in this
# shell, never in $(...), since only this shell can wait for its children.
unmount_wait() {
    local mnt=$1 pid=$2 i
    UM_STATUS=0
    if mountpoint -q "$mnt"; then
        for i in 1 2 3 4 5; do
            fusermount3 -u "$mnt" 2>/dev/null && break
            sleep 1
        done
        if mountpoint -q "$mnt"; then fusermount3 -uz "$mnt" || true; fi
    fi
    for ((i = 0; i < 1200; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "fs bench: pid $pid still running 60 s after unmount; sending SIGTERM" >&2
        kill "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || UM_STATUS=$?
}

cleanup() {
    local i
    trap - EXIT INT TERM
    for i in "${!PIDS[@]}"; do
        if [ -n "${PIDS[$i]}" ]; then unmount_wait "${MOUNTS[$i]}" "${PIDS[$i]}"; fi
    done
    for i in "${!MOUNTS[@]}"; do
        if mountpoint -q "${MOUNTS[$i]}"; then
            echo "fs bench: ${MOUNTS[$i]} still mounted; leaving $TMP" >&2
            return
        fi
    done
    if [ -n "${FS_BENCH_KEEP:-}" ]; then
        echo "fs bench: kept $TMP" >&2
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount_fs SLOT MNT LOG CMD...: starts CMD (a -f filesystem) in the
# background and waits until MNT is a mountpoint.
mount_fs() {
    local slot=$1 mnt=$2 log=$3 i
    shift 3
    mkdir -p "$mnt"
    "$@" >"$log" 2>&1 &
    PIDS[slot]=$!
    MOUNTS[slot]=$mnt
    for ((i = 0; i < 300; i++)); do
        mountpoint -q "$mnt" && return 0
        kill -0 "${PIDS[slot]}" 2>/dev/null || break
        sleep 0.1
    done
    tail -n 20 "$log" >&2
    die "$1 did not mount $mnt"
}

# umount_fs SLOT: unmounts and forgets the slot; sets UM_SECS and UM_STATUS.
umount_fs() {
    local slot=$1 t=$EPOCHREALTIME
    unmount_wait "${MOUNTS[slot]}" "${PIDS[slot]}"
    PIDS[slot]=
    UM_SECS=$(elapsed "$t")
}

elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# calc EXPR [FORMAT]: floating-point arithmetic for the figures.
calc() { awk "BEGIN { printf \"${2:-%.2f}\", $1 }"; }

COLD=0
if (sync && echo 3 >/proc/sys/vm/drop_caches) 2>/dev/null; then COLD=1; fi
drop_caches() { if [ "$COLD" = 1 ]; then sync && echo 3 >/proc/sys/vm/drop_caches; fi; }

# bulk DIR: appends big.csv to DIR/s1 (and, for repeated runs, to DIR/bulk2..);
# prints the median seconds.
bulk() {
    local dir=$1 runs=$RUNS r t f a=()
    [ "$POINTS" -ge 5000000 ] && runs=1
    for ((r = 1; r <= runs; r++)); do
        f=$dir/s1
        [ "$r" -gt 1 ] && f=$dir/bulk$r
        t=$EPOCHREALTIME
        cat "$TMP/big.csv" >>"$f" || die "cat big.csv >> $f failed"
        a+=("$(elapsed "$t")")
    done
    median "${a[@]}"
}

# echo_loop FILE: RUNS rounds of ECHOS single-line appends with increasing
# times; prints the median seconds of a round.
echo_loop() {
    local f=$1 r i t a=()
    for ((r = 0; r < RUNS; r++)); do
        t=$EPOCHREALTIME
        for ((i = r * ECHOS; i < (r + 1) * ECHOS; i++)); do
            echo "$((T0 + i)),21.5" >>"$f" || die "echo >> $f failed at line $i"
        done
        a+=("$(elapsed "$t")")
    done
    median "${a[@]}"
}

# wait_idle PID: returns once PID has used no CPU for 0.4 s (at most 120 s):
# tsfs renders a file in the background after its writer closes, and the
# next figure is taken after that work, not during it.
wait_idle() {
    local pid=$1 prev=-1 cur quiet=0 i
    for ((i = 0; i < 600 && quiet < 2; i++)); do
        cur=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo -1)
        if [ "$cur" = "$prev" ]; then quiet=$((quiet + 1)); else quiet=0; fi
        prev=$cur
        sleep 0.2
    done
}

# read_file FILE COLD(0|1): prints the median seconds of RUNS full reads.
read_file() {
    local f=$1 cold=$2 r t a=()
    if [ "$cold" = 1 ] && [ "$COLD" = 0 ]; then echo 0 && return; fi
    for ((r = 0; r < RUNS; r++)); do
        [ "$cold" = 1 ] && drop_caches
        t=$EPOCHREALTIME
        cat "$f" >/dev/null || die "cat $f failed"
        a+=("$(elapsed "$t")")
    done
    median "${a[@]}"
}

[ -x "$BUILD/bench-gen-csv" ] || die "$BUILD/bench-gen-csv missing (make bench builds it)"
[ -x "$BUILD/bench-passthrough" ] || die "$BUILD/bench-passthrough missing (make bench builds it)"
"$BUILD/bench-gen-csv" "$POINTS" "$T0" >"$TMP/big.csv"
CSV_BYTES=$(stat -c %s "$TMP/big.csv")
MB=$(calc "$CSV_BYTES / 1e6" %.0f)
DEV=$(df --output=source "$TMP" | tail -n 1)
if [ "$COLD" = 1 ]; then READS="reads cold (page cache dropped before each) and warm"; else
    READS="reads warm only (drop_caches not permitted)"; fi
echo "filesystem: $POINTS points \"time,value\" (big.csv, $MB MB) through tsfs -o wal_sync=$WAL_SYNC"
echo "and a libfuse high-level passthrough (page cache on; the FUSE floor); data on $DEV ($TMP)"
echo "medians of $RUNS runs; bulk append once from 5M points; echo loop of $ECHOS appends; $READS"

# --- tsfs -------------------------------------------------------------------
HAVE_TSFS=0
if [ -x "$BUILD/tsfs" ]; then
    HAVE_TSFS=1
    M1=$TMP/mnt-tsfs
    mount_fs 0 "$M1" "$TMP/tsfs.log" "$BUILD/tsfs" "$TMP/data" "$M1" -f -o "wal_sync=$WAL_SYNC"
    mkdir "$M1/root.bench" || die "mkdir of the storage group failed"
    mkdir "$M1/root.bench/all/dev" || die "mkdir of the device failed"
    D1=$M1/root.bench/all/dev
    TS_BULK=$(bulk "$D1")
    # single appends while the bulk-appended file is rendered in the background, then idle
    TS_ECHO_BUSY=$(echo_loop "$D1/s3")
    wait_idle "${PIDS[0]}"
    TS_ECHO=$(echo_loop "$D1/s2")
    TS_BYTES=$(stat -c %s "$D1/s1")
    TS_COLD=$(read_file "$D1/s1" "$COLD")
    TS_WARM=$(read_file "$D1/s1" 0)
    TS_LINES=$(wc -l <"$D1/s1")
    [ "$TS_LINES" = "$POINTS" ] || echo "fs bench: note: tsfs s1 reads $TS_LINES lines, expected $POINTS"
    [ "$TS_BYTES" = "$CSV_BYTES" ] || echo "fs bench: note: tsfs s1 is $TS_BYTES bytes, big.csv $CSV_BYTES"
    umount_fs 0
    TS_UMOUNT=$UM_SECS TS_STATUS=$UM_STATUS
    # the same reads with nothing remembered: every read renders its lines
    mount_fs 0 "$M1" "$TMP/tsfs-norc.log" "$BUILD/tsfs" "$TMP/data" "$M1" -f -o "wal_sync=$WAL_SYNC,render_cache=0"
    TS_RENDER=$(read_file "$D1/s1" 0)
    umount_fs 0
fi

# --- passthrough -------------------------------------------------------------
M2=$TMP/mnt-pt
mkdir -p "$TMP/pt-src"
mount_fs 1 "$M2" "$TMP/pt.log" "$BUILD/bench-passthrough" "$TMP/pt-src" "$M2" -f
PT_BULK=$(bulk "$M2")
PT_ECHO=$(echo_loop "$M2/s2")
PT_COLD=$(read_file "$M2/s1" "$COLD")
PT_WARM=$(read_file "$M2/s1" 0)
umount_fs 1
PT_UMOUNT=$UM_SECS PT_STATUS=$UM_STATUS

# --- figures -----------------------------------------------------------------
PT_BULK_MBS=$(calc "$CSV_BYTES / $PT_BULK / 1e6" %.0f)
PT_BULK_MLS=$(calc "$POINTS / $PT_BULK / 1e6")
PT_ECHO_S=$(calc "$ECHOS / $PT_ECHO" %.0f)
PT_COLD_MBS=$(calc "$CSV_BYTES / $PT_COLD / 1e6" %.0f)
PT_WARM_MBS=$(calc "$CSV_BYTES / $PT_WARM / 1e6" %.0f)
# read_line LABEL TSFS_SECS PT_SECS PT_MBS
read_line() {
    echo "fs read $1: $(calc "$TS_BYTES / $2 / 1e6" %.0f) MB/s, $(calc "$TS_LINES / $2 / 1e6") M points/s;" \
        "passthrough plain CSV: $4 MB/s (ratio $(calc "($TS_BYTES / $2) / ($CSV_BYTES / $3)")x)"
}
if [ "$HAVE_TSFS" = 1 ]; then
    TS_BULK_MPS=$(calc "$POINTS / $TS_BULK / 1e6")
    TS_BULK_MBS=$(calc "$CSV_BYTES / $TS_BULK / 1e6" %.1f)
    TS_ECHO_S=$(calc "$ECHOS / $TS_ECHO" %.0f)
    echo "fs bulk append: $TS_BULK_MPS M points/s, $TS_BULK_MBS MB/s (goal 3.0 M);" \
        "passthrough $PT_BULK_MBS MB/s, $PT_BULK_MLS M lines/s (ratio $(calc "$PT_BULK / $TS_BULK" %.3f)x)"
    echo "fs single echo: $TS_ECHO_S appends/s, passthrough $PT_ECHO_S (ratio $(calc "$PT_ECHO / $TS_ECHO")x);" \
        "$(calc "$ECHOS / $TS_ECHO_BUSY" %.0f)/s while the bulk-appended file renders in the background"
    if [ "$COLD" = 1 ]; then read_line cold "$TS_COLD" "$PT_COLD" "$PT_COLD_MBS"; fi
    read_line warm "$TS_WARM" "$PT_WARM" "$PT_WARM_MBS"
    read_line "rendering every read (-o render_cache=0), warm" "$TS_RENDER" "$PT_WARM" "$PT_WARM_MBS"
    echo "fs unmount: tsfs exited $TS_STATUS after $(calc "$TS_UMOUNT")s (flush of memtables);" \
        "passthrough exited $PT_STATUS after $(calc "$PT_UMOUNT")s"
else
    echo "fs: $BUILD/tsfs missing: passthrough figures only"
    echo "passthrough bulk append: $PT_BULK_MBS MB/s, $PT_BULK_MLS M lines/s"
    echo "passthrough single echo: $PT_ECHO_S appends/s"
    if [ "$COLD" = 1 ]; then echo "passthrough read cold: $PT_COLD_MBS MB/s"; fi
    echo "passthrough read warm: $PT_WARM_MBS MB/s"
fi
