#!/usr/bin/env bash
# `make run`: mounts ./data on ./mnt in the foreground (creating both), with
# a storage group and a device holding a day of demo readings, and prints
# what to try next.  Ctrl-C unmounts cleanly (tsfs flushes and exits 0).
set -euo pipefail
BUILD=${1:-build}
DATA=${DATA:-./data}
MNT=${MNT:-./mnt}
mkdir -p "$DATA" "$MNT"
# a mount left behind by a killed run answers "Transport endpoint is not connected"
if mountpoint -q "$MNT" || ! ls "$MNT" >/dev/null 2>&1; then fusermount3 -u "$MNT" 2>/dev/null || umount -l "$MNT" || true; fi

"$BUILD/tsfs" "$DATA" "$MNT" -f &
PID=$!
trap '' INT # Ctrl-C reaches tsfs, which unmounts; this script waits for it
for _ in $(seq 100); do mountpoint -q "$MNT" && break; kill -0 $PID 2>/dev/null || exit 1; sleep 0.05; done

G="$MNT/root.demo/all/greenhouse"
if [ ! -d "$MNT/root.demo" ]; then
    mkdir "$MNT/root.demo" "$G"
    # one day, a reading a minute, from 2023-11-14 22:13:20 UTC
    awk 'BEGIN { for (i = 0; i < 1440; i++) printf "%.0f,%.2f\n", 1700000000000 + i * 60000, 20 + 5 * sin(i / 229.0) }' >>"$G/temperature"
    awk 'BEGIN { for (i = 0; i < 1440; i++) printf "%.0f,%.1f\n", 1700000000000 + i * 60000, 60 + 10 * cos(i / 150.0) }' >>"$G/humidity"
    printf '1700000000000,vent closed\n1700003600000,vent open\n1700007200000,vent closed\n' >>"$G/status"
fi
cat <<MSG

tsfs: $DATA is mounted on $MNT (Ctrl-C to unmount).  In another terminal, try:

    tail -n 3 $G/temperature                    # read a sensor: time,value lines
    echo "\$(date +%s%3N),21.5" >> $G/temperature   # insert a point now
    head -n 4 $G.csv                   # the device as CSV, one column per sensor

MSG
wait $PID
