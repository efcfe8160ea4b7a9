#!/usr/bin/env bash
# Command-line tests of build/tsfile: what a user types, what a user checks.
# Prints one line per test and a closing "N passed, N failed" line.
set -u
BUILD=${BUILD:-build}
TSFILE="$PWD/$BUILD/tsfile"
GOLDEN=${GOLDEN_DIR:-../shared/golden}
T=$(mktemp -d)
MNT_PID="" # a tsfs this script started (the DATA_DIR test), stopped at exit
stop_mount() {
    [ -n "$MNT_PID" ] || return 0
    fusermount3 -u "$T/mnt" 2> /dev/null || kill "$MNT_PID" 2> /dev/null
    wait "$MNT_PID" 2> /dev/null
    MNT_PID=""
}
trap 'stop_mount; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }

# write then dump gives back the input, sorted (non-aligned, aligned, v4)
cat > "$T/in.txt" <<'IN'
root.sg.d1,temp,DOUBLE,GORILLA,LZ4,1700000002000,21.5
root.sg.d1,temp,DOUBLE,GORILLA,LZ4,1700000001000,-0
root.sg.d1,temp,DOUBLE,GORILLA,LZ4,-5,inf
root.sg.d1,temp,DOUBLE,GORILLA,LZ4,1700000003000,-inf
root.sg.d1,note,TEXT,PLAIN,SNAPPY,1700000001000,a\\b\nc\rd
root.sg.d1,note,TEXT,DICTIONARY,SNAPPY,1700000002000,x
root.sg.d1,ok,BOOLEAN,RLE,UNCOMPRESSED,1,true
root.sg.d2,when,DATE,PLAIN,GZIP,3,20240131
root.sg.d2,bytes,BLOB,PLAIN,ZSTD,3,0x00ff10
root.sg.d2,bytes,BLOB,PLAIN,ZSTD,4,0x
root.sg.d2,n,INT64,TS_2DIFF,LZMA2,4,-9223372036854775808
root.sg.d2,n,INT64,TS_2DIFF,LZMA2,5,9223372036854775807
root.sg.d2,f,FLOAT,PLAIN,LZ4,5,nan
root.sg.d2,f,FLOAT,PLAIN,LZ4,6,1.5
root.sg.d2,s,STRING,PLAIN,LZ4,6,温度
IN
# the note series mixes encodings: refused with its line number
if "$TSFILE" write "$T/bad.tsfile" < "$T/in.txt" 2> "$T/err"; then ko "mixed encodings refused"
else grep -q "stdin:6:" "$T/err" && ok "mixed encodings refused with the line number" || ko "line number in error" "$(cat "$T/err")"; fi
sed -i 's/TEXT,DICTIONARY,SNAPPY/TEXT,PLAIN,SNAPPY/' "$T/in.txt"
expect() { # canonical dump lines of in.txt, sorted
    awk -F, '{v=$7; for (i=8;i<=NF;i++) v=v","$i; print $1","$2","$6","v}' "$T/in.txt" |
        sed 's/\\t/\t/g' | LC_ALL=C sort -t, -k1,1 -k2,2 -k3,3n
}
expect > "$T/want"
for mode in "" "--aligned" "--version 4" "--aligned --version 4" "--page-points 1"; do
    # shellcheck disable=SC2086
    if "$TSFILE" write "$T/out.tsfile" $mode < "$T/in.txt" && "$TSFILE" dump "$T/out.tsfile" > "$T/got"; then
        if diff -u "$T/want" "$T/got" > "$T/diff"; then ok "write then dump round trip ($mode)"
        else ko "write then dump round trip ($mode)" "$(head -5 "$T/diff")"; fi
    else ko "write then dump ($mode)"; fi
done

# bad lines are refused whole, with the line number, and nothing is written
printf 'root.a.b,s,INT32,PLAIN,LZ4,1,1\nroot.a.b,s,INT32,PLAIN,LZ4,2,notanumber\n' > "$T/bad.txt"
rm -f "$T/bad.tsfile"
if "$TSFILE" write "$T/bad.tsfile" < "$T/bad.txt" 2> "$T/err"; then ko "bad value refused"
else grep -q "stdin:2:" "$T/err" && [ ! -e "$T/bad.tsfile" ] && ok "bad value refused, nothing written" || ko "bad value refused" "$(cat "$T/err")"; fi
printf 'root.a.b,s,INT32,PLAIN,LZ4,1,1\nroot.a.b,s,INT32,PLAIN,LZ4,1,2\n' > "$T/dup.txt"
if "$TSFILE" write "$T/dup.tsfile" < "$T/dup.txt" 2> "$T/err"; then ko "repeated time refused"; else ok "repeated time refused"; fi
printf 'root.a.b,s,TEXT,GORILLA,LZ4,1,x\n' > "$T/enc.txt"
if "$TSFILE" write "$T/enc.tsfile" < "$T/enc.txt" 2> /dev/null; then ko "illegal encoding refused"; else ok "illegal encoding refused"; fi

# sketch shows the structure
"$TSFILE" write "$T/s.tsfile" --page-points 2 < "$T/in.txt"
"$TSFILE" sketch "$T/s.tsfile" > "$T/sketch" 2>&1
check "sketch lists chunk groups, chunks, pages and series" \
    grep -q "chunk group: device root.sg.d1" "$T/sketch"
check "sketch shows page statistics of multi-page chunks" grep -q "page 1: .*count" "$T/sketch"

# an unclosed file: dump refuses it, recover repairs it
cp "$GOLDEN/invalid/truncated_at_meta.tsfile" "$T/crash.tsfile"
chmod u+w "$T/crash.tsfile"
if "$TSFILE" dump "$T/crash.tsfile" > /dev/null 2> "$T/err"; then ko "unclosed file refused by dump"
else ok "unclosed file refused by dump"; fi
if "$TSFILE" recover "$T/crash.tsfile" > /dev/null && "$TSFILE" dump "$T/crash.tsfile" > "$T/rec"; then
    # every recovered line is a line of the original dump
    if [ -s "$T/rec" ] && [ -z "$(LC_ALL=C comm -23 "$T/rec" <(LC_ALL=C sort "$GOLDEN/cpp/multi_device.csv"))" ]; then
        ok "recover keeps complete chunk groups ($(wc -l < "$T/rec") points)"
    else ko "recovered points are a subset of the original"; fi
else ko "recover"; fi

# usage errors
if "$TSFILE" frobnicate 2> /dev/null; then ko "unknown command"; else ok "unknown command exits non-zero"; fi
if "$TSFILE" dump /nonexistent/file 2> "$T/err"; then ko "missing file"; else
    [ "$(wc -l < "$T/err")" -eq 1 ] && ok "missing file: one line on stderr" || ko "missing file message"; fi

# ---- check ---------------------------------------------------------------------------
# every golden file checks clean; every file under invalid/ fails with 1 and says why
ngold=$(ls "$GOLDEN"/java/*.tsfile "$GOLDEN"/cpp/*.tsfile | wc -l)
"$TSFILE" check "$GOLDEN/java" "$GOLDEN/cpp" > "$T/chk" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(tail -1 "$T/chk")" = "check: $ngold files, 0 faults" ]; then ok "check: the $ngold golden files are clean"
else ko "check: golden files clean" "rc=$rc $(head -5 "$T/chk")"; fi
badinv=""
for f in "$GOLDEN"/invalid/*.tsfile; do
    "$TSFILE" check "$f" > "$T/chk" 2>&1
    rc=$?
    { [ $rc -eq 1 ] && grep -qF "$f: " "$T/chk" && [ "$(tail -1 "$T/chk")" = "check: 1 files, 1 faults" ]; } ||
        badinv="$badinv $(basename "$f"):rc=$rc"
done
[ -z "$badinv" ] && ok "check: each file under invalid/ fails (exit 1, one fault line)" || ko "check: invalid files" "$badinv"

# A DATA_DIR written by the engine: through a mount when root (sequence and
# unsequence files, .resource, .mods, two partitions, a seal), else laid
# out by hand with `tsfile write` (no .resource then; TSFS_CLI_NO_MOUNT=1
# forces this).
D="$T/data"
P=$((1700000000000 / 604800000)) # the partition of the 1700000000000 points (default interval)
if [ -z "${TSFS_CLI_NO_MOUNT:-}" ] && [ "$(id -u)" -eq 0 ] && [ -c /dev/fuse ] && [ -x "$BUILD/tsfs" ] && command -v fusermount3 > /dev/null; then
    mode=mount
    mkdir -p "$D" "$T/mnt"
    "$PWD/$BUILD/tsfs" "$D" "$T/mnt" -f > "$T/tsfs.log" 2>&1 &
    MNT_PID=$!
    for _ in $(seq 100); do mountpoint -q "$T/mnt" && break; sleep 0.05; done
    A="$T/mnt/root.sg/all"
    mkdir "$T/mnt/root.sg" "$A/d1" "$A/d2"
    awk 'BEGIN { for (i = 0; i < 1000; i++) printf "%.0f,%.2f\n", 1700000000000 + i * 1000, 20 + (i % 37) / 4 }' >> "$A/d1/temp"
    awk 'BEGIN { for (i = 0; i < 200; i++) printf "%.0f,%d\n", 1700000000000 + i * 5000, i }' >> "$A/d1/count"
    printf '1700000000000,door open\n1700000060000,door "closed", locked\n' >> "$A/d2/note"
    awk 'BEGIN { for (i = 0; i < 300; i++) printf "%.0f,%.1f\n", 1600000000000 + i * 1000, i / 3 }' >> "$A/d2/temp"
    chmod a-w "$T/mnt/root.sg/$P" && chmod u+w "$T/mnt/root.sg/$P" # seal (files closed), unseal
    echo "1700000000500,99.5" >> "$A/d1/temp"                       # before the flushed data: unsequence
    truncate -s 0 "$A/d1/count"                                     # a deletion: a .mods
    "$TSFILE" check "$D" > "$T/live" 2>&1
    live_rc=$?
    stop_mount
    if [ $live_rc -eq 0 ] && grep -q ": unclosed (being written" "$T/live" && grep -q ", 0 faults$" "$T/live"; then
        ok "check: a mounted DATA_DIR: working files reported as unclosed, no fault"
    else ko "check: a mounted DATA_DIR" "rc=$live_rc $(head -3 "$T/live")"; fi
else
    mode=write
    mkdir -p "$D/sequence/root.sg/$P" "$D/unsequence/root.sg/$P" "$D/sequence/root.sg/2645"
    awk 'BEGIN { for (i = 0; i < 1000; i++) printf "root.sg.d1,temp,DOUBLE,GORILLA,LZ4,%.0f,%.2f\n", 1700000000000 + i * 1000, 20 + (i % 37) / 4 }' |
        "$TSFILE" write "$D/sequence/root.sg/$P/1700000000000-1-0-0.tsfile" --page-points 300
    printf 'root.sg.d1,temp,DOUBLE,GORILLA,LZ4,1700000000500,99.5\n' | "$TSFILE" write "$D/unsequence/root.sg/$P/1700000000001-3-0-0.tsfile"
    awk 'BEGIN { for (i = 0; i < 300; i++) printf "root.sg.d2,temp,FLOAT,GORILLA,LZ4,%.0f,%.1f\n", 1600000000000 + i * 1000, i / 3 }' |
        "$TSFILE" write "$D/sequence/root.sg/2645/1600000000000-2-0-0.tsfile"
    echo "DELETION,root.sg.d1.count,1000,-9223372036854775808,9223372036854775807" > "$D/sequence/root.sg/$P/1700000000000-1-0-0.tsfile.mods"
fi
nfiles=$(find "$D" -name '*.tsfile' | wc -l)
"$TSFILE" check "$D" > "$T/chk" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(tail -1 "$T/chk")" = "check: $nfiles files, 0 faults" ] && [ -n "$(find "$D" -name '*.mods')" ] &&
    [ -n "$(find "$D/unsequence" -name '*.tsfile')" ]; then ok "check: a DATA_DIR ($mode) is clean ($nfiles files)"
else ko "check: a DATA_DIR ($mode)" "rc=$rc $(head -5 "$T/chk")"; fi
if [ $mode = mount ]; then
    check "check: the engine's files have their .resource" test -n "$(find "$D" -name '*.tsfile.resource')"
fi

# damaged copies of it fail, each with a line naming the file and the fault
SEQ=$(ls "$D"/sequence/root.sg/$P/*.tsfile | head -1) # closed, with .mods (and .resource)
damage() { rm -rf "$T/dd"; cp -a "$D" "$T/dd"; DF="$T/dd${SEQ#"$D"}"; }
expect_fault() { # name, text the fault line must hold
    "$TSFILE" check "$T/dd" > "$T/chk" 2>&1
    local rc=$?
    if [ $rc -eq 1 ] && grep -qF -- "$2" "$T/chk"; then ok "$1"; else ko "$1" "rc=$rc $(head -3 "$T/chk")"; fi
}
page=$("$TSFILE" sketch "$SEQ" | awk '/page 0:/ { print $1; exit }')
sep=$("$TSFILE" sketch "$SEQ" | awk '/separator/ { print $1 }')
damage
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$DF" bs=1 seek=$((page + 3)) conv=notrunc 2> /dev/null
expect_fault "check: a damaged page is a fault" "$DF: "
damage
echo 'DELETION,root.sg.d1.temp,not-a-number,1,2' >> "$DF.mods"
expect_fault "check: a bad .mods line is a fault" "$DF.mods: line 2: bad fileOffset"
damage
truncate -s -100 "$DF"
expect_fault "check: a closed file cut short is a fault" "$DF: no tail magic"
damage
rm "$DF"
expect_fault "check: a companion without its TsFile is a fault" "no TsFile"
if [ $mode = mount ]; then
    damage
    printf '\x7f' | dd of="$DF.resource" bs=1 seek=14 conv=notrunc 2> /dev/null # the end time of slot 0
    expect_fault "check: a .resource whose times disagree with the data is a fault" "$DF.resource: device"
fi
# the same file cut back to its data section and without .resource: a working file, no fault
damage
truncate -s "$sep" "$DF"
rm -f "$DF.resource"
"$TSFILE" check "$T/dd" > "$T/chk" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -qF "$DF: unclosed" "$T/chk"; then ok "check: an unclosed working file is reported, not a fault"
else ko "check: unclosed working file" "rc=$rc $(head -3 "$T/chk")"; fi
# but the same bytes outside a DATA_DIR are a file that was never closed: a fault
cp "$DF" "$T/loose.tsfile"
"$TSFILE" check "$T/loose.tsfile" > "$T/chk" 2>&1
[ $? -eq 1 ] && grep -q "not closed" "$T/chk" && ok "check: an unclosed file outside a DATA_DIR is a fault" ||
    ko "check: loose unclosed file" "$(head -2 "$T/chk")"

# ---- import / export ----------------------------------------------------------------------
# every type, typed header (export-csv -datatype form): export(import(x)) == x, in ms and ISO
cat > "$T/typed.csv" << 'CSV'
Time,root.sg.d1.b(BOOLEAN),root.sg.d1.blob(BLOB),root.sg.d1.d(DOUBLE),root.sg.d1.day(DATE),root.sg.d1.f(FLOAT),root.sg.d1.i(INT32),root.sg.d1.l(INT64),root.sg.d1.s(STRING),root.sg.d1.t(TEXT),root.sg.d1.ts(TIMESTAMP),root.sg.d2.x(DOUBLE)
-5,true,0x00ff,0.1,2024-01-31,1.5,-2147483648,-9223372036854775808,温度,"a,b",0,
0,false,0x,-0,1970-01-01,NaN,2147483647,9223372036854775807,"","say ""hi""",1700000000000,1e+300
1700000000000,,,Infinity,,-Infinity,7,,x,"two
lines",-1,2.5
CSV
cat > "$T/typed-iso.csv" << 'CSV'
Time,root.sg.d1.b(BOOLEAN),root.sg.d1.blob(BLOB),root.sg.d1.d(DOUBLE),root.sg.d1.day(DATE),root.sg.d1.f(FLOAT),root.sg.d1.i(INT32),root.sg.d1.l(INT64),root.sg.d1.s(STRING),root.sg.d1.t(TEXT),root.sg.d1.ts(TIMESTAMP),root.sg.d2.x(DOUBLE)
1969-12-31T23:59:59.995Z,true,0x00ff,0.1,2024-01-31,1.5,-2147483648,-9223372036854775808,温度,"a,b",1970-01-01T00:00:00.000Z,
1970-01-01T00:00:00.000Z,false,0x,-0,1970-01-01,NaN,2147483647,9223372036854775807,"","say ""hi""",2023-11-14T22:13:20.000Z,1e+300
2023-11-14T22:13:20.000Z,,,Infinity,,-Infinity,7,,x,"two
lines",1969-12-31T23:59:59.999Z,2.5
CSV
for fmt in ms iso; do
    in="$T/typed.csv"
    [ $fmt = iso ] && in="$T/typed-iso.csv"
    rm -f "$T/typed.tsfile"
    if "$TSFILE" import -o "$T/typed.tsfile" "$in" > /dev/null &&
        "$TSFILE" export --with-types --time-format $fmt "$T/typed.tsfile" > "$T/back.csv"; then
        if cmp -s "$in" "$T/back.csv"; then ok "import then export gives the CSV back, every type ($fmt times)"
        else ko "import/export round trip ($fmt)" "$(diff "$in" "$T/back.csv" | head -4)"; fi
    else ko "import/export round trip ($fmt)"; fi
done
"$TSFILE" export --time-format iso --with-types -o "$T/via-o.csv" "$T/typed.tsfile" && cmp -s "$T/via-o.csv" "$T/typed-iso.csv" &&
    ok "export -o writes the same CSV" || ko "export -o"
"$TSFILE" check "$T/typed.tsfile" > "$T/chk" 2>&1 && ok "check: an imported file is clean" || ko "check: imported file" "$(head -2 "$T/chk")"
check "import writes format version 3" test "$(head -c 7 "$T/typed.tsfile" | tail -c 1 | od -An -tu1 | tr -d ' ')" = 3
# and the points are the ones written: the dump of the import
"$TSFILE" dump "$T/typed.tsfile" > "$T/dump"
check "import: text with comma, quotes and a line end kept as is" grep -qF 'root.sg.d1,t,0,say "hi"' "$T/dump"
check "import: an empty quoted cell is an empty text, an empty cell a null" \
    test "$(grep -c '^root.sg.d1,s,' "$T/dump")/$(grep -c '^root.sg.d2,x,' "$T/dump")" = "3/2"

# untyped header: types inferred as IoTDB's import-csv does, and still a round trip
cat > "$T/untyped.csv" << 'CSV'
Time,root.ln.wf01.wt01.status,root.ln.wf01.wt01.temperature,root.ln.wf01.wt02.hardware,root.ln.wf01.wt02.serial
1509465600000,true,25.96,v2,123456789
1509465660000,false,24.36,"12",
1509465720000,,,"",987654321
CSV
if "$TSFILE" import "$T/untyped.csv" > /dev/null && "$TSFILE" export "$T/untyped.tsfile" > "$T/back.csv" &&
    cmp -s "$T/untyped.csv" "$T/back.csv"; then ok "import then export, untyped header: the CSV back"
else ko "untyped round trip" "$(diff "$T/untyped.csv" "$T/back.csv" | head -4)"; fi
"$TSFILE" export --with-types "$T/untyped.tsfile" | head -1 > "$T/types"
check "inferred types: BOOLEAN, FLOAT (decimals), TEXT (quoted 12 too), DOUBLE (integer above 2^24)" \
    grep -qx 'Time,root.ln.wf01.wt01.status(BOOLEAN),root.ln.wf01.wt01.temperature(FLOAT),root.ln.wf01.wt02.hardware(TEXT),root.ln.wf01.wt02.serial(DOUBLE)' "$T/types"
"$TSFILE" import -o "$T/typed2.tsfile" --types temperature=DOUBLE,root.ln.wf01.wt02.serial=INT64 "$T/untyped.csv" > /dev/null
check "--types overrides the inference (by measurement or by path)" \
    grep -q 'temperature(DOUBLE).*serial(INT64)' <("$TSFILE" export --with-types "$T/typed2.tsfile" | head -1)

# by-device layout, and bare columns with --device
printf 'Time,Device,s1,s2(INT64)\n1,root.sg.a,1.5,10\n2,root.sg.a,,11\n1,root.sg.b,7,\n' > "$T/bydev.csv"
if "$TSFILE" import "$T/bydev.csv" > /dev/null && "$TSFILE" dump "$T/bydev.tsfile" > "$T/dump"; then
    printf 'root.sg.a,s1,1,1.5\nroot.sg.a,s2,1,10\nroot.sg.a,s2,2,11\nroot.sg.b,s1,1,7\n' | cmp -s - "$T/dump" &&
        ok "import of the by-device layout (Time,Device,...)" || ko "by-device import" "$(head -4 "$T/dump")"
else ko "by-device import"; fi
printf 'Time,s1\n1,2.5\n' > "$T/bare.csv"
"$TSFILE" import --device root.x.y -o "$T/bare.tsfile" "$T/bare.csv" > /dev/null && "$TSFILE" dump "$T/bare.tsfile" | grep -qx 'root.x.y,s1,1,2.5' &&
    ok "import --device: bare column names are that device's" || ko "import --device"

# a larger input: several chunks per series, still a round trip, no progress bar off a terminal
awk 'BEGIN { print "Time,root.big.d.v,root.big.d.w"; for (i = 0; i < 250000; i++) printf "%.0f,%d,%s\n", 1700000000000 + i, i % 1000, i % 3 ? "on" : "" }' > "$T/big.csv"
if "$TSFILE" import "$T/big.csv" > /dev/null 2> "$T/err" && "$TSFILE" export "$T/big.tsfile" > "$T/back.csv" && cmp -s "$T/big.csv" "$T/back.csv"; then
    ok "import/export round trip of 250,000 rows ($(grep -c '  chunk v ' <("$TSFILE" sketch "$T/big.tsfile")) chunks of v)"
else ko "big round trip"; fi
check "import: nothing on stderr when it is not a terminal" test ! -s "$T/err"

# bad lines: refused with IN.csv:LINE: reason, exit 1, no output file and no temporary left
badcsv() { # name, csv text, line the error must name
    printf '%b' "$2" > "$T/bad.csv"
    rm -f "$T/bad.tsfile"
    "$TSFILE" import "$T/bad.csv" > /dev/null 2> "$T/err"
    local rc=$?
    if [ $rc -eq 1 ] && grep -q "^$T/bad.csv:$3: " "$T/err" && [ ! -e "$T/bad.tsfile" ] && [ -z "$(ls "$T" | grep 'tmp-')" ]; then
        ok "import refuses $1 ($(cut -d: -f3- "$T/err" | head -1 | sed 's/^ //'))"
    else ko "import refuses $1" "rc=$rc $(head -2 "$T/err")"; fi
}
badcsv "a value not of its column's type" 'Time,root.a.b.c(INT32)\n1,5\n2,x\n' 3
badcsv "a row with too many cells" 'Time,root.a.b.c\n1,5\n2,6,7\n' 3
badcsv "a bad time" 'Time,root.a.b.c\n1,5\nyesterday,6\n' 3
badcsv "a time that goes back" 'Time,root.a.b.c\n5,1\n5,2\n' 3
badcsv "an unclosed quote" 'Time,root.a.b.c\n1,"abc\n' 2
badcsv "a header without Time" 'When,root.a.b.c\n1,5\n' 1
badcsv "a column that is not a series path" 'Time,c\n1,5\n' 1
badcsv "an unknown type in the header" 'Time,root.a.b.c(INTEGER)\n1,5\n' 1
badcsv "an inferred FLOAT column meeting text" 'Time,root.a.b.c\n1,5\n2,"x"\n3,abc\n' 3
badcsv "a line after a quoted line end" 'Time,root.a.b.c(TEXT),root.a.b.d(INT64)\n1,"x\ny",1\n2,z,q\n' 4

# export of a damaged file: exit 1, one line
if "$TSFILE" export "$GOLDEN/invalid/truncated_tail_100.tsfile" > /dev/null 2> "$T/err"; then ko "export of a damaged file"
else [ "$(wc -l < "$T/err")" -eq 1 ] && ok "export of a damaged file: exit 1, one line on stderr" || ko "export damaged message"; fi

# usage errors exit 2; --help names the commands
for args in "check" "check --bogus x" "check /nonexistent/path" "import" "import --types s1 x.csv" "import -" \
    "export" "export --time-format us x.tsfile"; do
    # shellcheck disable=SC2086
    "$TSFILE" $args > /dev/null 2>&1
    rc=$?
    [ $rc -eq 2 ] && ok "usage error exits 2: tsfile $args" || ko "usage error: tsfile $args" "rc=$rc"
done
"$TSFILE" --help > "$T/help"
check "--help names check, import and export" grep -q "tsfile check.*" "$T/help"
check "--help: import and export lines" test "$(grep -cE 'tsfile (import|export) ' "$T/help")" -eq 2

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
