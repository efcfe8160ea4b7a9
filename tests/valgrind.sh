#!/usr/bin/env bash
# valgrind.sh [BUILD]: the unit test suites under valgrind memcheck (`make
# valgrind`): invalid reads and writes, uses of uninitialised values, and
# definite or indirect leaks are errors.
#
# Criterion runs every test in a process of its own (it re-executes the
# binary), and some tests fork writers of their own, so valgrind follows
# children (--trace-children=yes) and writes one log per process
# (BUILD/valgrind/<suite>/<pid>.log).  A child's exit status does not reach
# the test result, so the logs are what is judged: every "ERROR SUMMARY"
# must say 0.  A process killed on purpose (the crash tests SIGKILL their
# writers) or one that replaced itself by exec leaves a log without a
# summary; it is counted, not judged.  tests/valgrind.supp lets Criterion's
# runner keep the few blocks it keeps to the end.
#
# Prints per suite "valgrind <suite>: <p> processes, <e> with errors, <k>
# without a summary; <criterion synthesis>; <s> s" and exits non-zero when
# a test failed or any process had an error.
# Environment: VALGRIND_SUITES (default test-engine; "test-engine
# test-format" adds the format's suite, about 6 more minutes),
# VALGRIND_ARGS (extra valgrind flags), TEST_ARGS (extra test flags, e.g.
# "--filter wal/*").
set -euo pipefail

build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
suites=${VALGRIND_SUITES:-test-engine}
logs=$build/valgrind
rm -rf "$logs"
status=0

for s in $suites; do
    dir=$logs/$s
    mkdir -p "$dir"
    # a private copy: each test re-executes the binary, which a rebuild
    # during the (long) run must not change under it
    cp "$build/$s" "$logs/$s.bin"
    start=$(date +%s)
    rc=0
    # shellcheck disable=SC2086
    TSFILE_BIN=$build/tsfile valgrind --tool=memcheck --leak-check=full \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=1 --trace-children=yes \
        --suppressions=tests/valgrind.supp --log-file="$dir/%p.log" ${VALGRIND_ARGS:-} \
        "$logs/$s.bin" --jobs 2 ${TEST_ARGS:-} >"$logs/$s.out" 2>&1 || rc=$?
    secs=$(($(date +%s) - start))
    procs=0 bad=0 killed=0
    for f in "$dir"/*.log; do
        [ -e "$f" ] || continue
        procs=$((procs + 1))
        n=$(sed -n 's/.*ERROR SUMMARY: \([0-9]*\) errors.*/\1/p' "$f" | tail -n 1)
        if [ -z "$n" ]; then
            killed=$((killed + 1))
        elif [ "$n" -gt 0 ]; then
            bad=$((bad + 1))
            echo "valgrind $s: $n errors in $f:"
            grep -E '^==[0-9]+== (Invalid|Conditional|Use of|Syscall param|[0-9,]+ bytes in [0-9,]+ blocks are (definitely|indirectly))' "$f" |
                head -n 5 | sed 's/^/    /'
        fi
    done
    synth=$(grep -a 'Synthesis:' "$logs/$s.out" | tail -n 1 | sed 's/.*Synthesis: //')
    echo "valgrind $s: $procs processes, $bad with errors, $killed without a summary; ${synth:-no synthesis}; $secs s"
    if [ $rc -ne 0 ] || [ $bad -gt 0 ]; then
        status=1
        [ $rc -ne 0 ] && grep -a -E '^\[(FAIL|----)\]' "$logs/$s.out" | head -n 20 | sed 's/^/    /'
    fi
done
exit $status
