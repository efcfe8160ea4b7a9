#!/usr/bin/env bash
# run.sh SECONDS: builds the libFuzzer targets of tests/fuzz/ with clang and
# runs each for SECONDS (default 60).
#
#   build-fuzz/obj/            format/*.c and engine/*.c with coverage + ASan + UBSan
#                              (engine objects only when a target needs them)
#   build-fuzz/<target>        the fuzzer binaries
#   build-fuzz/corpus-<target> corpora (seeded here, grown by the runs; not committed)
#   build-fuzz/artifacts-<target>/  crash-*, leak-*, timeout-*, oom-* inputs
#   build-fuzz/<target>.log    libFuzzer's output of the last run
#
# Seeds: fuzz_reader gets the golden TsFiles under 100 KB plus the damaged
# ones of golden/invalid/ ($GOLDEN_DIR, default ../shared/golden from the
# repository root); fuzz_decoders gets streams written by our own encoders
# (gen_seeds.c); fuzz_lines (fs/lines.c: what users write into the mount)
# gets a few lines of each kind.  The engine's parsers: fuzz_mods (.mods
# text), fuzz_resource (.tsfile.resource bytes) and fuzz_wal (one WAL
# segment) get files an engine writes in a scratch directory, plus a few
# hand-made variants (gen_engine_seeds.c); they log what they reject on
# stderr, so they run with -close_fd_mask=2 (reports still reach the log).
# Prints per target "fuzz <target>: <execs> executions, <n> findings" and
# exits non-zero when any target found something.
# Environment: FUZZ_TARGETS (default: all six targets), FUZZ_CC (default
# clang), FUZZ_ARGS (extra libFuzzer flags).
# Reproduce a finding: build-fuzz/<target> build-fuzz/artifacts-<target>/<file>
set -euo pipefail

secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 SECONDS" >&2; exit 2 ;; esac

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=build-fuzz
golden=${GOLDEN_DIR:-../shared/golden}
cc=${FUZZ_CC:-clang}
targets=${FUZZ_TARGETS:-"fuzz_reader fuzz_decoders fuzz_lines fuzz_mods fuzz_resource fuzz_wal"}
pkgs="glib-2.0 zlib snappy liblz4 libzstd liblzma"

common="-g -O1 -fno-omit-frame-pointer -std=c11 -D_GNU_SOURCE -Wall -Wextra -Iformat -Iengine $(pkg-config --cflags $pkgs)"
san="address,undefined -fno-sanitize-recover=undefined"
libs="$(pkg-config --libs $pkgs) -lm -lstdc++ -pthread"

mkdir -p "$out/obj"

# ---- build: library objects once (coverage without libFuzzer's main) ------
echo "fuzz: building with $cc"
engine_target() { case $1 in fuzz_mods | fuzz_resource | fuzz_wal) return 0 ;; esac; return 1; }
need_engine=0
for t in $targets; do engine_target "$t" && need_engine=1; done
srcs_lib=(format/*.c)
[ $need_engine -eq 1 ] && srcs_lib+=(engine/*.c)
objs=()
eobjs=()
pids=()
for src in "${srcs_lib[@]}"; do
    obj=$out/obj/$(basename "$(dirname "$src")")-$(basename "${src%.c}").o
    case $src in engine/*) eobjs+=("$obj") ;; *) objs+=("$obj") ;; esac
    # shellcheck disable=SC2086
    $cc $common -fsanitize=fuzzer-no-link,$san -c "$src" -o "$obj" &
    pids+=($!)
    # two compilers at a time (the machine has two cores)
    if [ ${#pids[@]} -ge 2 ]; then
        wait "${pids[0]}" || { echo "fuzz: library build failed" >&2; exit 1; }
        pids=("${pids[@]:1}")
    fi
done
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
[ $fail -eq 0 ] || { echo "fuzz: library build failed" >&2; exit 1; }
# engine objects in an archive: a target links only the modules it uses
if [ $need_engine -eq 1 ]; then
    rm -f "$out/libengine.a"
    ar rcs "$out/libengine.a" "${eobjs[@]}"
fi

for t in $targets; do
    srcs=("tests/fuzz/$t.c")
    # the line parser and renderer of the filesystem (fs/lines.c needs only format/types)
    [ "$t" = fuzz_lines ] && srcs+=(fs/lines.c -Ifs)
    engine_target "$t" && srcs+=("$out/libengine.a")
    # shellcheck disable=SC2086
    $cc $common -Werror -fsanitize=fuzzer,$san "${srcs[@]}" "${objs[@]}" $libs -o "$out/$t"
done

# ---- seeds -----------------------------------------------------------------
seed_reader() {
    local dir=$1
    if [ ! -d "$golden" ]; then
        echo "fuzz: no golden files at $golden (set GOLDEN_DIR); starting from empty input" >&2
        return
    fi
    local f rel
    while IFS= read -r f; do
        rel=${f#"$golden"/}
        cp -n "$f" "$dir/golden-${rel//\//-}" 2>/dev/null || true
    done < <(find "$golden" -name '*.tsfile' -size -100k; find "$golden/invalid" -name '*.tsfile' 2>/dev/null)
    chmod u+w "$dir"/golden-* 2>/dev/null || true
}

seed_decoders() {
    local dir=$1
    # shellcheck disable=SC2086
    $cc $common -fsanitize=$san tests/fuzz/gen_seeds.c format/*.c $libs -o "$out/gen_seeds"
    "$out/gen_seeds" "$dir" >/dev/null
}

# fuzz_mods, fuzz_resource, fuzz_wal: one run of the generator seeds all three
engine_seeded=0
seed_engine() {
    [ $engine_seeded -eq 0 ] || return 0
    engine_seeded=1
    local d
    for d in mods resource wal; do mkdir -p "$out/corpus-fuzz_$d"; done
    # shellcheck disable=SC2086
    $cc $common -fsanitize=$san tests/fuzz/gen_engine_seeds.c "$out/libengine.a" "${objs[@]}" $libs \
        -o "$out/gen_engine_seeds"
    "$out/gen_engine_seeds" "$out/corpus-fuzz_mods" "$out/corpus-fuzz_resource" "$out/corpus-fuzz_wal" >/dev/null
}

seed_lines() {
    local dir=$1 i=0 l
    # a type byte then a line: times, numbers, text with escapes, CSV records
    for l in '\x041700000000000,21.5' '\x042026-11-22T10:00:00.5+08:00' '\x040.1' '\x04-1e+300' \
        '\x04NaN' '\x03-Infinity' '\x012147483647' '\x02-9223372036854775808' '\x00TRUE' \
        '\x05a\\\\b\\nc' '\x070x00ff' '\x082026-02-28' '\x05Time,a,"b ""q""",c\r\n1,2,,3\n'; do
        # shellcheck disable=SC2059
        printf "$l" > "$dir/seed-$i"
        i=$((i + 1))
    done
}

# ---- run -------------------------------------------------------------------
status=0
for t in $targets; do
    corpus=$out/corpus-$t
    arts=$out/artifacts-$t
    mkdir -p "$corpus" "$arts"
    extra=()
    case $t in
        fuzz_reader) seed_reader "$corpus"; extra+=(-max_len=131072) ;;
        fuzz_decoders) seed_decoders "$corpus" ;;
        fuzz_lines) seed_lines "$corpus" ;;
        fuzz_mods | fuzz_resource | fuzz_wal) seed_engine; extra+=(-close_fd_mask=2) ;;
    esac
    before=$(find "$arts" -type f | wc -l)
    rc=0
    # shellcheck disable=SC2086
    "$out/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$arts/" "${extra[@]}" ${FUZZ_ARGS:-} "$corpus" >"$out/$t.log" 2>&1 || rc=$?
    after=$(find "$arts" -type f | wc -l)
    findings=$((after - before))
    if [ $rc -ne 0 ] && [ $findings -eq 0 ]; then findings=1; fi
    execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$out/$t.log" | tail -n 1)
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$out/$t.log" | tail -n 1)
    fi
    if [ -z "$execs" ]; then
        execs=$(sed -n 's/^#\([0-9]*\)[[:space:]].*/\1/p' "$out/$t.log" | tail -n 1)
    fi
    echo "fuzz $t: ${execs:-0} executions, $findings findings"
    if [ $findings -gt 0 ]; then
        status=1
        grep -E 'ERROR: |SUMMARY: |runtime error:|Test unit written to' "$out/$t.log" | head -n 8 | sed 's/^/    /'
    fi
done
exit $status
