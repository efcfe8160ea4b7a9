#!/usr/bin/env bash
# Command-line tests of build/tsfile: what a user types, what a user checks.
# Prints one line per test and a closing "N passed, N failed" line.
set -u
BUILD=${BUILD:-build}
TSFILE="$PWD/$BUILD/tsfile"
GOLDEN=${GOLDEN_DIR:-../shared/golden}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
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

echo "cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
