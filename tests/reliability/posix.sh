#!/usr/bin/env bash
# POSIX checks in the style of pjdfstest, through the real mount, as root:
# every operation the contract refuses (rename, link, symlink, mknod, writes
# at other offsets, O_TRUNC on data, chmod and chown, read-only attributes,
# mkdir/rmdir in the wrong places, open of what is missing, unlink of
# directories, ...) fails with the errno its table names (posix.py); the
# daemon is alive afterwards and every file reads as before.  Then
# permissions: with allow_other another user may read but not write; with
# -o uid=,gid= that user owns everything and may write, seal and unseal;
# without allow_other it is refused at the mount.  The other user is
# `nobody`, through setpriv.
#
#   BUILD=build tests/reliability/posix.sh      KEEP=1 keeps the temp directory
#
# Prints the checks as "ok - ..." / "not ok - ...", then
# "posix: N passed, M failed"; exits 1 on any failure.
# shellcheck disable=SC2034 # R_FAILED, R_EXTRA_CLEANUP: read by lib.sh's cleanup
set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
r_init posix
r_watchdog "$([ -n "$R_ASAN" ] && echo 300 || echo 120)"
# the other user must reach the mount points and read the script
chmod 711 "$T"
cp "$HERE/posix.py" "$T/posix.py"
chmod 644 "$T/posix.py"
NPY=$PY
[ -x /usr/bin/python3 ] && NPY=/usr/bin/python3
NOBODY_UID=$(id -u nobody)
NOBODY_GID=$(id -g nobody)

D=$T/data
M=$T/mnt
LOG=$T/tsfs.log
pass=0
failn=0

# tally OUTPUT: prints it, counts its ok / not ok lines
tally() {
    printf '%s\n' "$1" | grep -v '^# '
    pass=$((pass + $(printf '%s\n' "$1" | grep -c '^ok - ')))
    failn=$((failn + $(printf '%s\n' "$1" | grep -c '^not ok - ')))
}
bad() {
    echo "not ok - $*"
    failn=$((failn + 1))
}
good() {
    echo "ok - $*"
    pass=$((pass + 1))
}
as_nobody() { setpriv --reuid="$NOBODY_UID" --regid="$NOBODY_GID" --clear-groups "$NPY" -S "$T/posix.py" "$@" 2>&1; }
alive_and_mounted() {
    if r_ours "$PID" && r_mounted "$M"; then good "tsfs alive and mounted after $1"; else bad "tsfs died or lost its mount after $1"; fi
}
finish() {
    [ -e "$T/.timedout" ] && bad "timed out (tsfs killed by the watchdog)"
    r_sanitizer_clean "$LOG" || bad "sanitizer report in tsfs.log"
    echo "posix: $pass passed, $failn failed"
    [ "$failn" -eq 0 ] || { R_FAILED=1; exit 1; }
    exit 0
}

# 1. as root, allow_other
OPTS="partition_interval=1000"
r_mount "$D" "$M" "$LOG" -o "$OPTS,allow_other" || { bad "mount"; finish; }
out=$(py "$T/posix.py" setup "$M" 2>&1) || { bad "setup: $out"; finish; }
py "$T/posix.py" snapshot "$M" > "$T/snap.before" 2>&1 || { bad "snapshot: $(tail -1 "$T/snap.before")"; finish; }
tally "$(py "$T/posix.py" root "$M")"
alive_and_mounted "the refused operations"
py "$T/posix.py" snapshot "$M" > "$T/snap.after" 2>&1
if diff "$T/snap.before" "$T/snap.after" > "$T/snap.diff"; then
    good "every file unchanged by the refused operations"
else
    bad "files changed by refused operations: $(head -6 "$T/snap.diff" | tr '\n' ' ')"
fi

# 2. another user, allow_other (with default_permissions): read only
tally "$(as_nobody other "$M")"
alive_and_mounted "the other user's operations"
py "$T/posix.py" snapshot "$M" > "$T/snap.after2" 2>&1
if diff "$T/snap.before" "$T/snap.after2" > "$T/snap.diff"; then
    good "every file unchanged by the other user"
else
    bad "files changed by the other user: $(head -6 "$T/snap.diff" | tr '\n' ' ')"
fi
r_unmount "$PID" "$M" 2>> "$LOG" && good "clean unmount" || bad "unmount: $(tail -1 "$LOG")"

# 3. that user owns the files (-o uid=,gid=)
r_mount "$D" "$M" "$LOG" -o "$OPTS,allow_other,uid=$NOBODY_UID,gid=$NOBODY_GID" || { bad "mount with uid="; finish; }
tally "$(as_nobody owner "$M")"
alive_and_mounted "the owner's operations"
# root keeps CAP_DAC_OVERRIDE over files it does not own
if printf '3000,9.5\n' >> "$M/root.px/all/d1/app" 2> "$T/err"; then
    good "root appends to a file owned by another user"
else
    bad "root append with -o uid=: $(cat "$T/err")"
fi
r_unmount "$PID" "$M" 2>> "$LOG" && good "clean unmount" || bad "unmount: $(tail -1 "$LOG")"

# 4. without allow_other the mount refuses other users
r_mount "$D" "$M" "$LOG" -o "$OPTS" || { bad "mount without allow_other"; finish; }
tally "$(as_nobody nomount "$M")"
# and everything written before is still there after the remounts
got=$(cat "$M/root.px/all/d1/app" 2>&1)
want=$'2200,1.5\n2300,2.5\n2700,3.5\n2960,4.5\n3000,9.5'
[ "$got" = "$want" ] && good "data after remounts" || bad "data after remounts: $(printf '%q' "$got")"
r_unmount "$PID" "$M" 2>> "$LOG" && good "clean unmount" || bad "unmount: $(tail -1 "$LOG")"
finish
