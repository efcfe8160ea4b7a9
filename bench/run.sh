#!/usr/bin/env bash
# `make bench`: the format workload (shared/bench/format-workload.md) in each
# variant, beside the Java reference's figures on the same data.
set -euo pipefail
BUILD=${1:-build}
ITER=${BENCH_ITERATIONS:-5}
echo "format benchmark: 10M points, GORILLA + LZ4, medians of $ITER rounds after a warm-up"
printf '%-7s %10s %10s %10s | %-28s | %s\n' variant bytes/pt write_M/s read_M/s "reference (bytes, w, r)" "ratio write, read"
for v in MIX INT64 DOUBLE; do
    line=$("$BUILD/bench-format" "$v" "$ITER" 2>/dev/null | tail -n 1)
    echo "$line"
    bpp=$(sed 's/.*bytes_per_point=\([^ ]*\).*/\1/' <<< "$line")
    w=$(sed 's/.*write_mpts=\([^ ]*\).*/\1/' <<< "$line")
    r=$(sed 's/.*read_mpts=\([^ ]*\).*/\1/' <<< "$line")
    case $v in MIX) rb=4.024 rw=14.1 rr=30.6 ;; INT64) rb=1.769 rw=25.4 rr=42.9 ;; DOUBLE) rb=6.200 rw=11.4 rr=27.1 ;; esac
    printf '%-7s %10s %10s %10s | %-28s | %.2fx, %.2fx\n' "$v" "$bpp" "$w" "$r" "$rb, $rw, $rr" \
        "$(echo "$w / $rw" | bc -l)" "$(echo "$r / $rr" | bc -l)"
done

echo
echo "engine ingestion: 10M points, 100 DOUBLE series, tablets of 1,000 rows, 64 MiB memtable budget"
echo "(goal: over 5M points/s with wal_sync=batch; RSS bounded by the budget plus a constant)"
for m in off batch always; do
    "$BUILD/bench-engine" "$m" 2>/dev/null | tail -n 1
done

echo
echo "queries: one INT64 series of 10M points (GORILLA, LZ4); goal: full scans over 20M points/s"
"$BUILD/bench-query" 2>&1 | tail -n 2
