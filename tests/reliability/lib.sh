# lib.sh: what the reliability scripts (tests/crash/run.sh,
# tests/reliability/*.sh) share: locating the binaries, a temp directory that
# is removed on success and kept on failure, starting tsfs in the foreground
# and waiting for its mount, a checked clean unmount, a SIGKILL with the
# mount cleaned up, and a watchdog that kills a hung tsfs so a blocked
# system call returns ENOTCONN instead of hanging the run.  The idioms are
# those of tests/mount/run.sh.  Sourced, not run.
# shellcheck shell=bash
# shellcheck disable=SC2034 # R_ASAN and the like are read by the scripts

R_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) BDIR=$BUILD ;; *) BDIR=$R_ROOT/$BUILD ;; esac
TSFS=$BDIR/tsfs
TSFILE=$BDIR/tsfile
R_ASAN=
case $BUILD in
*asan*)
    R_ASAN=1
    export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$R_ROOT/tests/lsan.supp}
    export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
    ;;
esac

# r_init NAME: checks root, /dev/fuse and the binaries; makes $T; sets traps.
r_init() {
    R_NAME=$1
    if [ "$(id -u)" -ne 0 ] || [ ! -c /dev/fuse ]; then
        echo "$R_NAME: need root and /dev/fuse" >&2
        exit 1
    fi
    local f
    for f in "$TSFS" "$TSFILE"; do
        if [ ! -x "$f" ]; then
            echo "$R_NAME: $f missing (run make)" >&2
            exit 1
        fi
    done
    TSFS_EXE=$(readlink -f "$TSFS")
    # the interpreter itself (not a version manager's shim), without site
    # initialisation
    PY=$("${PYTHON:-python3}" -c 'import sys; print(sys.executable)')
    T=$(mktemp -d "/tmp/tsfs-$R_NAME.XXXXXX")
    R_FAILED=0
    : > "$T/.allpids"
    trap r_cleanup EXIT
    trap 'R_FAILED=1; exit 130' INT TERM
}

py() { "$PY" -S "$@"; }

# Whether pid is a live (not zombie) process running our tsfs binary.
r_ours() {
    [ -r "/proc/$1/stat" ] || return 1
    local st
    st=$(cut -d' ' -f3 "/proc/$1/stat" 2> /dev/null) || return 1
    [ "$st" != Z ] || return 1
    # a rebuild while it runs replaces the file: "(deleted)"
    case $(readlink "/proc/$1/exe" 2> /dev/null) in
    "$TSFS_EXE" | "$TSFS_EXE (deleted)") return 0 ;;
    esac
    return 1
}
r_mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

# Unmounts and stops everything this script started; removes $T unless a
# failure was recorded (R_FAILED=1) or KEEP is set.
r_cleanup() {
    local rc=$? pid mnt i
    [ "$rc" -eq 0 ] || R_FAILED=1
    [ -n "${R_WATCHDOG:-}" ] && kill "$R_WATCHDOG" 2> /dev/null
    [ -n "${R_EXTRA_CLEANUP:-}" ] && $R_EXTRA_CLEANUP
    if [ -f "$T/.allpids" ]; then
        while read -r pid mnt; do
            if r_mounted "$mnt"; then
                fusermount3 -u "$mnt" 2> /dev/null || fusermount3 -u -z "$mnt" 2> /dev/null
            fi
            for ((i = 0; i < 100; i++)); do r_ours "$pid" || break; sleep 0.1; done
            if r_ours "$pid"; then kill -9 "$pid" 2> /dev/null; fi
        done < "$T/.allpids"
    fi
    awk -v t="$T/" 'index($2, t) == 1 { print $2 }' /proc/mounts | sort -r | while read -r mnt; do
        fusermount3 -u -z "$mnt" 2> /dev/null || umount -l "$mnt" 2> /dev/null
    done
    if awk -v t="$T/" 'index($2, t) == 1 { f = 1 } END { exit !f }' /proc/mounts; then
        echo "# still mounted under $T: not removed"
    elif [ "$R_FAILED" -ne 0 ] || [ -n "${KEEP:-}" ]; then
        echo "# kept $T (data directories and logs)"
    else
        rm -rf "$T"
    fi
}

# r_watchdog SECONDS: SIGKILLs our tsfs processes after SECONDS (a hang
# then shows as failed calls) and leaves $T/.timedout.
r_watchdog() {
    local secs=$1
    (
        # the sleep must not hold the script's output open once stopped
        sleep "$secs" > /dev/null 2>&1 &
        sp=$!
        trap 'kill $sp 2> /dev/null; exit 0' TERM
        wait $sp || exit 0
        touch "$T/.timedout"
        echo "# watchdog: $secs s passed, killing tsfs" >&2
        while read -r p _; do r_ours "$p" && kill -9 "$p"; done < "$T/.allpids"
    ) &
    R_WATCHDOG=$!
}

# r_mount DATA MNT LOG [ARGS...]: tsfs -f in the background; waits for the
# mount; sets PID.  Returns 1 (message on stderr) when it did not mount.
r_mount() {
    local data=$1 mnt=$2 log=$3 i rc
    shift 3
    mkdir -p "$mnt"
    "$TSFS" "$data" "$mnt" -f "$@" >> "$log" 2>&1 &
    PID=$!
    echo "$PID $mnt" >> "$T/.allpids"
    for ((i = 0; i < 600; i++)); do
        r_mounted "$mnt" && return 0
        if ! r_ours "$PID"; then
            wait "$PID" 2> /dev/null
            rc=$?
            echo "tsfs $* exited $rc instead of mounting: $(tail -3 "$log" | tr '\n' ' ')" >&2
            return 1
        fi
        sleep 0.05
    done
    echo "tsfs did not mount within 30 s" >&2
    return 1
}

# r_unmount PID MNT: fusermount3 -u and wait; the daemon must exit 0.
r_unmount() {
    local pid=$1 mnt=$2 err i rc
    if ! err=$(fusermount3 -u "$mnt" 2>&1); then
        fusermount3 -u -z "$mnt" 2> /dev/null
        for ((i = 0; i < 100; i++)); do r_ours "$pid" || break; sleep 0.1; done
        r_ours "$pid" && kill -9 "$pid"
        wait "$pid" 2> /dev/null
        echo "fusermount3 -u $mnt: $err" >&2
        return 1
    fi
    for ((i = 0; i < 2400; i++)); do r_ours "$pid" || break; sleep 0.05; done
    if r_ours "$pid"; then
        kill -9 "$pid"
        wait "$pid" 2> /dev/null
        echo "tsfs did not exit within 120 s of its unmount" >&2
        return 1
    fi
    wait "$pid" 2> /dev/null
    rc=$?
    [ "$rc" -eq 0 ] || { echo "tsfs exited with status $rc after fusermount3 -u" >&2; return 1; }
}

# r_kill PID MNT: SIGKILL, reap, and clean the dead mount (fusermount3 -uz).
r_kill() {
    local pid=$1 mnt=$2
    kill -9 "$pid" 2> /dev/null
    wait "$pid" 2> /dev/null
    fusermount3 -u -z "$mnt" 2> /dev/null
    ! r_mounted "$mnt"
}

# r_sanitizer_clean LOG...: no ASan/UBSan report in the logs.
r_sanitizer_clean() {
    local log
    for log in "$@"; do
        [ -e "$log" ] || continue
        if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log"; then
            echo "sanitizer report in $log:" >&2
            grep -m3 -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$log" >&2
            return 1
        fi
    done
}
