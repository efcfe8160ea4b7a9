#!/usr/bin/env bash
# The crash test: kill -9 of the daemon at random moments through the real
# mount, as root.  With -o wal_sync=always a write() that returned success
# must survive: after each kill the mount is cleaned up (fusermount3 -uz),
# tsfs is started again on the same DATA_DIR, and
#   - every acknowledged point is there exactly once with its value, every
#     acknowledged deletion applied, nothing that was never written, sizes
#     exact (check.py series over the drivers' operation logs);
#   - every closed TsFile under DATA_DIR reads with `tsfile dump`, and every
#     complete .mods line parses (check.py files, right after the kill).
# Each round: two drivers (driver.py, one per device) append through the
# mount, in this round's own time partition, with some out-of-order times and
# deletions; a small memtable_size makes flushes happen; at a random moment
# the previous round's partition is sealed (chmod a-w: merge, flush, close);
# then SIGKILL after a random 0.2-1.2 s.  One round in eight also kills a
# restart before it mounted (during recovery); one in ten ends with a clean
# unmount instead, which must exit 0.
# Before the rounds, one aimed kill: four partitions' worth of acknowledged
# points are only in the WAL, and the restart is killed right after its first
# flush of replayed data has let old WAL segments go (if it lets them go
# while other replayed data is still only in memory, that data is lost).
#
#   tests/crash/run.sh [ROUNDS]        (default 200; make crash ROUNDS=N)
#   BUILD=build-asan tests/crash/run.sh 20
#   CRASH_SEED=N   replay the random choices; KEEP=1 keep the temp directory
#
# Prints "crash: S rounds survived / R rounds run"; exits 1 at the first
# failure, keeping the temp directory: data/ (after recovery), data.killed/
# (DATA_DIR as the kill left it), the operation logs *.ops, tsfs.log.
# shellcheck disable=SC2034 # R_FAILED, R_EXTRA_CLEANUP: read by lib.sh's cleanup
set -u
# shellcheck source=../reliability/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../reliability/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROUNDS=${1:-${ROUNDS:-200}}
SEED=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
r_init crash
RANDOM=$SEED
ROUND_TIMEOUT=60
[ -n "$R_ASAN" ] && ROUND_TIMEOUT=180

D=$T/data
M=$T/mnt
LOG=$T/tsfs.log
SG=root.crash
INTERVAL=1000000
OPTS=(-o "wal_sync=always,memtable_size=8K,partition_interval=$INTERVAL")
DEVS=(d1 d2)
OPLOGS=("$T/d1.ops" "$T/d2.ops")
run=0
survived=0

echo "crash: $ROUNDS rounds, seed $SEED, $BUILD"

finish() {
    echo "crash: $survived rounds survived / $run rounds run"
    if [ "$1" -ne 0 ]; then
        R_FAILED=1
        echo "crash: reproduce with CRASH_SEED=$SEED; DATA_DIR as killed: $T/data.killed, after recovery: $T/data"
    fi
    exit "$1"
}
fail() {
    echo "not ok - round $run: $*"
    [ -s "$LOG" ] && tail -n 5 "$LOG" | sed 's/^/# tsfs.log: /'
    finish 1
}
msleep() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }

# A restart killed at a random moment before or during recovery.
kill_early() {
    local pid
    mkdir -p "$M"
    "$TSFS" "$D" "$M" -f "${OPTS[@]}" >> "$LOG" 2>&1 &
    pid=$!
    echo "$pid $M" >> "$T/.allpids"
    msleep $((RANDOM % 150))
    r_kill "$pid" "$M"
}

# The aimed kill during recovery (see the top).
recovery_kill() {
    local rd=$T/rec rm=$T/recmnt opts=(-o "wal_sync=batch,partition_interval=1000000000") n first i got
    n=$([ -n "$R_ASAN" ] && echo 20000 || echo 100000)
    r_mount "$rd" "$rm" "$LOG" "${opts[@]}" || fail "recovery kill: mount"
    mkdir -p "$rm/root.rec/all/d" || fail "recovery kill: mkdir"
    py -c 'import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for part in range(4):
    for s in ("a", "b"):
        fd = os.open(os.path.join(d, s), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        for k in range(0, n, 10000):
            os.write(fd, "".join("%d,%d.5\n" % (part * 1000000000 + k + i, i) for i in range(10000)).encode())
        os.fsync(fd)  # acknowledged: in the WAL on disk
        os.close(fd)' "$rm/root.rec/all/d" "$n" || fail "recovery kill: writes"
    r_kill "$PID" "$rm"
    first=$(ls "$rd/wal" | head -1)
    "$TSFS" "$rd" "$rm" -f "${opts[@]}" >> "$LOG" 2>&1 &
    PID=$!
    echo "$PID $rm" >> "$T/.allpids"
    for ((i = 0; i < 20000; i++)); do [ -e "$rd/wal/$first" ] || break; sleep 0.001; done
    r_kill "$PID" "$rm"
    r_mount "$rd" "$rm" "$LOG" "${opts[@]}" || fail "recovery kill: remount"
    got=$(cat "$rm/root.rec/all/d/a" "$rm/root.rec/all/d/b" | wc -l)
    r_unmount "$PID" "$rm" 2>> "$LOG" || fail "recovery kill: unmount"
    [ "$got" -eq $((8 * n)) ] || fail "kill -9 during recovery: $got of $((8 * n)) acknowledged points left (DATA_DIR: $rd)"
    echo "recovery kill: all $got acknowledged points there after a kill -9 during recovery"
}
recovery_kill

r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || fail "first mount"
mkdir "$M/$SG" || fail "mkdir $SG"

for ((r = 1; r <= ROUNDS; r++)); do
    run=$r
    r_watchdog "$ROUND_TIMEOUT"
    echo "=== round $r" >> "$LOG"
    dpids=()
    for i in "${!DEVS[@]}"; do
        py "$HERE/driver.py" "$M" "$SG" "${DEVS[$i]}" "$r" "$INTERVAL" $((SEED + r * 10 + i)) \
            "$T/${DEVS[$i]}.ops" "$T/stop" 2>> "$T/driver.log" &
        dpids+=($!)
    done
    spid=
    if [ "$r" -gt 1 ] && [ $((RANDOM % 3)) -ne 0 ]; then
        ( msleep $((RANDOM % 900)); chmod a-w "$M/$SG/$((r - 1))" 2> /dev/null ) &
        spid=$!
    fi
    msleep $((RANDOM % 1000 + 200))
    clean=
    [ $((RANDOM % 10)) -eq 0 ] && clean=1
    if [ -n "$clean" ]; then
        # stop the drivers first: a clean unmount must flush everything
        touch "$T/stop"
        for p in "${dpids[@]}"; do
            wait "$p" || fail "driver exited $?: $(tail -2 "$T/driver.log" | tr '\n' ' ')"
        done
        rm -f "$T/stop"
        [ -n "$spid" ] && wait "$spid"
        r_unmount "$PID" "$M" 2>> "$LOG" || fail "clean unmount: $(tail -1 "$LOG")"
    else
        r_kill "$PID" "$M" || fail "mount still present after kill -9 and fusermount3 -uz"
        for p in "${dpids[@]}"; do
            wait "$p" || fail "driver exited $?: $(tail -2 "$T/driver.log" | tr '\n' ' ')"
        done
        # a seal not started yet is not needed any more
        [ -n "$spid" ] && { kill "$spid" 2> /dev/null; wait "$spid" 2> /dev/null; }
    fi
    rm -rf "$T/data.killed"
    cp -a "$D" "$T/data.killed"
    out=$(py "$HERE/check.py" files "$D" "$TSFILE" "$T/dumped.cache" 2>&1) || fail "files after the kill: $out"
    [ $((RANDOM % 8)) -eq 0 ] && kill_early
    r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || fail "remount: $(tail -2 "$LOG" | tr '\n' ' ')"
    out=$(py "$HERE/check.py" series "$M" "$SG" "${OPLOGS[@]}" 2>&1) ||
        fail "after recovery: $(printf '%s' "$out" | tr '\n' ' ')"
    kill "$R_WATCHDOG" 2> /dev/null
    wait "$R_WATCHDOG" 2> /dev/null
    R_WATCHDOG=
    [ -e "$T/.timedout" ] && fail "round took more than $ROUND_TIMEOUT s (tsfs killed by the watchdog)"
    survived=$r
    if [ $((r % 20)) -eq 0 ] || [ "$r" -eq "$ROUNDS" ]; then
        echo "round $r: $out; $(py "$HERE/check.py" files "$D" "$TSFILE" "$T/dumped.cache" 2>&1 | tail -1)"
    fi
done

# the end: a clean unmount leaves every TsFile closed and readable
r_unmount "$PID" "$M" 2>> "$LOG" || fail "final unmount: $(tail -1 "$LOG")"
out=$(py "$HERE/check.py" files "$D" "$TSFILE" "$T/dumped.cache" final 2>&1) ||
    fail "after the final clean unmount: $(printf '%s' "$out" | tr '\n' ' ')"
r_sanitizer_clean "$LOG" || fail "sanitizer report in tsfs.log"
finish 0
