#!/usr/bin/env bash
# Load through the real mount, as root: 8 writer processes and 4 reader
# processes on one mount for SECONDS, with a small memtable_size (flushes all
# the time) and a small partition_interval, while a sealer process seals
# (chmod a-w) every partition the writers have left and now and then
# unseals one, writes late points into it and seals it again (a merge of
# its files: a compaction).  Readers cat sensors under all/ and under the
# partitions and the .csv views: every line well-formed, sorted, no
# duplicates, counts never going back (load.py).  Afterwards every sensor
# holds exactly what the writers had acknowledged; then a clean unmount
# and a remount, where the background compactor merges the files the
# shutdown closed while two readers keep reading, and the totals again.
#
#   tests/reliability/load.sh [SECONDS]        (default 30; make load SECONDS=N)
#   BUILD=build-asan tests/reliability/load.sh 10      KEEP=1 keeps the temp dir
#   TSFS_EXTRA_OPTS=render_cache=0   more -o options for the mount
#
# Prints what each process did, then
# "load: N points written/s, M reads/s (X MB/s), S seals, C compactions" and
# exits 1 on any failure.
# shellcheck disable=SC2034 # R_FAILED, R_EXTRA_CLEANUP: read by lib.sh's cleanup
set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SECS=${1:-${LOAD_SECONDS:-30}}
r_init load
r_watchdog $((SECS * 4 + 180))
D=$T/data
M=$T/mnt
LOG=$T/tsfs.log
SG=root.load
INTERVAL=20000
WRITERS=8
READERS=4
OPTS=(-o "memtable_size=256K,partition_interval=$INTERVAL${TSFS_EXTRA_OPTS:+,$TSFS_EXTRA_OPTS}")
failed=0
bad() {
    echo "not ok - $*"
    failed=1
}
finish() {
    [ -e "$T/.timedout" ] && bad "timed out (tsfs killed by the watchdog)"
    r_sanitizer_clean "$LOG" || bad "sanitizer report in tsfs.log"
    if [ "$failed" -ne 0 ]; then
        [ -s "$LOG" ] && tail -n 6 "$LOG" | sed 's/^/# tsfs.log: /'
        echo "load: failed"
        R_FAILED=1
        exit 1
    fi
    echo "load: passed"
    exit 0
}
stat_of() { [ -r "$M/.stats" ] && awk -v k="$1" '$1 == k { print $2 }' "$M/.stats"; }

r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || { bad "mount"; finish; }
mkdir "$M/$SG" || { bad "mkdir $SG"; finish; }

echo "load: $WRITERS writers, $READERS readers and a sealer for $SECS s ($BUILD)"
pids=()
for ((i = 0; i < WRITERS; i++)); do
    py "$HERE/load.py" writer "$M" "$SG" "$i" "$SECS" "$INTERVAL" "$T/w$i.json" &
    pids+=($!)
done
for ((i = 0; i < READERS; i++)); do
    py "$HERE/load.py" reader "$M" "$SG" "$SECS" "$((i + 1))" "$T/r$i.json" &
    pids+=($!)
done
py "$HERE/load.py" sealer "$M" "$SG" "$SECS" "$INTERVAL" "$WRITERS" "$T/w*.json.horizon" "$T/sealer.json" &
pids+=($!)
for p in "${pids[@]}"; do wait "$p" || failed=1; done
[ "$failed" -eq 0 ] || bad "a writer, reader or the sealer failed (above)"
r_ours "$PID" && r_mounted "$M" || { bad "tsfs died under load"; finish; }

wfiles=()
for ((i = 0; i < WRITERS; i++)); do wfiles+=("$T/w$i.json"); done
out=$(py "$HERE/load.py" verify "$M" "$SG" "${wfiles[@]}" "$T/sealer.json" 2>&1) || bad "after the run: $out"
echo "$out"
read -r points reads mbytes seals reseals < <(py -c 'import json, sys
T, n = sys.argv[1], int(sys.argv[2])
pts = sum(len(v) for i in range(n) for v in json.load(open("%s/w%d.json" % (T, i))).values())
rs = [json.load(open("%s/r%d.json" % (T, i))) for i in range(int(sys.argv[3]))]
s = json.load(open(T + "/sealer.json"))
print(pts, sum(r["reads"] for r in rs), sum(r["bytes"] for r in rs) >> 20, s["seals"], s["reseals"])' "$T" "$WRITERS" "$READERS")
flushes=$(stat_of flushes)
compactions=$(stat_of compactions)

# a restart: the shutdown closes every working file, and the background
# compactor merges the open partitions' files while readers read
r_unmount "$PID" "$M" 2>> "$LOG" || bad "unmount after the load: $(tail -1 "$LOG")"
r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || { bad "remount"; finish; }
rpids=()
for ((i = 0; i < 2; i++)); do
    py "$HERE/load.py" reader "$M" "$SG" 5 "$((i + 11))" "$T/rr$i.json" &
    rpids+=($!)
done
for p in "${rpids[@]}"; do wait "$p" || bad "a reader failed during background compaction (above)"; done
bg=$(stat_of compactions)
out=$(py "$HERE/load.py" verify "$M" "$SG" "${wfiles[@]}" "$T/sealer.json" 2>&1) || bad "after the remount: $out"
echo "$out (after the remount)"
r_unmount "$PID" "$M" 2>> "$LOG" || bad "last unmount: $(tail -1 "$LOG")"
out=$("$TSFILE" check "$D" 2>&1) && echo "$(tail -1 <<< "$out") (tsfile check of DATA_DIR)" ||
    bad "tsfile check of DATA_DIR: $(printf '%s' "$out" | tail -4 | tr '\n' ' ')"

echo "load: $((points / SECS)) points written/s, $((reads / SECS)) reads/s ($((mbytes / SECS)) MB/s)," \
    "$seals seals, $reseals unseal-write-seal merges, ${flushes:-?} flushes, ${compactions:-?} compactions;" \
    "${bg:-?} background compactions after the remount"
finish
