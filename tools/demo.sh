#!/usr/bin/env bash
# `make run`: the main job until the filesystem lands.  Writes a demo TsFile
# of one day of readings from two devices (one aligned), then shows its
# structure and a few of its points.
set -euo pipefail
BUILD=${1:-build}
OUT=${DEMO_FILE:-/tmp/tsfs-demo.tsfile}
awk 'BEGIN {
  t0 = 1700000000000
  for (i = 0; i < 1440; i++) {
    t = t0 + i * 60000
    printf "root.demo.greenhouse,temperature,DOUBLE,GORILLA,LZ4,%.0f,%.2f\n", t, 20 + 5 * sin(i / 229.0)
    printf "root.demo.greenhouse,humidity,FLOAT,GORILLA,LZ4,%.0f,%.1f\n", t, 60 + 10 * cos(i / 150.0)
    if (i % 60 == 0) printf "root.demo.greenhouse,status,TEXT,DICTIONARY,SNAPPY,%.0f,%s\n", t, (i % 120 ? "vent open" : "vent closed")
    printf "root.demo.meter,power_w,INT64,TS_2DIFF,LZ4,%.0f,%d\n", t, 1000 + (i * 37) % 250
  }
}' | "$BUILD/tsfile" write "$OUT" --page-points 500
echo "== wrote $OUT ($(stat -c %s "$OUT") bytes): its structure =="
"$BUILD/tsfile" sketch "$OUT" | head -n 20
echo "   ..."
echo "== first points (tsfile dump) =="
"$BUILD/tsfile" dump "$OUT" | head -n 5
echo "== points per series =="
"$BUILD/tsfile" dump "$OUT" | cut -d, -f1,2 | uniq -c
