#!/usr/bin/env bash
# A full disk through the real mount, as root.  DATA_DIR lives on a small
# tmpfs that also holds an unrelated ballast file; the mount uses
# wal_sync=always and a small memtable_size, so the disk fills with WAL
# segments and flushed TsFiles.  diskfull.py appends until an append fails;
# then, in order:
#   1. the failing write returned ENOSPC (exactly), every acknowledged point
#      reads back (cat), another append is refused with ENOSPC;
#   2. tsfs is unmounted while the disk is full (its exit status says the
#      flush failed; the WAL keeps the data) and started again on the full
#      disk: it either mounts and serves everything, or refuses with a clear
#      "No space left on device" and removes no TsFile and no WAL segment;
#   3. the ballast is deleted: tsfs mounts, every acknowledged point is
#      there, ingestion resumes;
#   4. the disk is filled again; the tmpfs is grown (mount -o remount,size=)
#      and ingestion resumes on the same mount, without a remount;
#   5. a clean unmount exits 0, after a last remount everything acknowledged
#      is there, and `tsfile check` finds DATA_DIR sound.
#
#   BUILD=build tests/reliability/diskfull.sh         KEEP=1 keeps the temp dir
#   TSFS_EXTRA_OPTS=render_cache=0   more -o options for the mount
#
# Prints a line per step, then "diskfull: N passed, M failed"; on failure the
# temp directory is kept, with DATA_DIR copied out of the tmpfs (data.kept).
# shellcheck disable=SC2034 # R_FAILED, R_EXTRA_CLEANUP: read by lib.sh's cleanup
set -u
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
r_init diskfull
r_watchdog "$([ -n "$R_ASAN" ] && echo 400 || echo 150)"
SIZE_MB=6
BALLAST_MB=2
[ -n "$R_ASAN" ] && SIZE_MB=4 && BALLAST_MB=1
DISK=$T/disk
M=$T/mnt
D=$DISK/data
LOG=$T/tsfs.log
STATE=$T/state.json
OPTS=(-o "wal_sync=always,memtable_size=256K${TSFS_EXTRA_OPTS:+,$TSFS_EXTRA_OPTS}")
pass=0
failn=0

unmount_disk() {
    [ "$R_FAILED" -ne 0 ] && [ -d "$D" ] && cp -a "$D" "$T/data.kept"
    r_mounted "$DISK" && umount -l "$DISK"
}
R_EXTRA_CLEANUP=unmount_disk

good() { echo "ok - $*"; pass=$((pass + 1)); }
bad() { echo "not ok - $*"; failn=$((failn + 1)); }
finish() {
    [ -e "$T/.timedout" ] && bad "timed out (tsfs killed by the watchdog)"
    r_sanitizer_clean "$LOG" || bad "sanitizer report in tsfs.log"
    echo "diskfull: $pass passed, $failn failed"
    if [ "$failn" -ne 0 ]; then
        [ -s "$LOG" ] && tail -n 8 "$LOG" | sed 's/^/# tsfs.log: /'
        R_FAILED=1
        exit 1
    fi
    exit 0
}
# step NAME CMD...: runs a diskfull.py step, ok when it exits 0
step() {
    local name=$1 out
    shift
    if out=$(py "$HERE/diskfull.py" "$@" 2>&1); then
        good "$name: $out"
    else
        bad "$name: $out"
        return 1
    fi
}
free_kb() { df -k --output=avail "$DISK" | tail -1 | tr -d ' '; }

mkdir -p "$DISK"
mount -t tmpfs -o "size=${SIZE_MB}m" tmpfs "$DISK" || { bad "mount -t tmpfs"; finish; }
dd if=/dev/zero of="$DISK/ballast" bs=1M count="$BALLAST_MB" status=none || { bad "ballast"; finish; }
r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || { bad "mount"; finish; }
mkdir -p "$M/root.df/all/d" || { bad "mkdir"; finish; }
DEV=$M/root.df/all/d

# 1. full
step "append until the disk is full" fill "$M" "$DEV" "$STATE" || finish
echo "# free on the tmpfs: $(free_kb) KiB; WAL $(du -sk "$D/wal" | cut -f1) KiB"
step "acknowledged points read back on the full disk" check "$M" "$DEV" "$STATE"
step "a new append on the full disk" refused "$M" "$DEV" "$STATE"

# 2. unmounted while full, started again on the full disk
fusermount3 -u "$M"
for ((i = 0; i < 1200; i++)); do r_ours "$PID" || break; sleep 0.05; done
if r_ours "$PID"; then
    bad "tsfs did not exit within 60 s of an unmount on a full disk"
    finish
fi
wait "$PID"
echo "# tsfs exited $? after an unmount on a full disk"
# what a refused start must not take away: TsFiles and WAL segments (a torn
# tail after the last flush may be cut and written again)
files_of() { (cd "$D" && find . -name '*.tsfile' -o -name '*.wal' | LC_ALL=C sort); }
files_of > "$T/files.before"
if r_mount "$D" "$M" "$LOG" "${OPTS[@]}" 2>> "$LOG"; then
    good "mount on the full disk"
    step "acknowledged points read back after a remount on the full disk" check "$M" "$DEV" "$STATE"
    step "an append after the remount on the full disk" refused "$M" "$DEV" "$STATE"
    r_unmount "$PID" "$M" 2>> "$LOG"
elif tail -3 "$LOG" | grep -q "No space left on device"; then
    good "mount on the full disk refused with a clear message: $(tail -1 "$LOG")"
    files_of > "$T/files.after"
    gone=$(comm -23 "$T/files.before" "$T/files.after")
    if [ -z "$gone" ]; then
        good "the refused mount removed no TsFile and no WAL segment"
    else
        bad "the refused mount removed $(printf '%s' "$gone" | head -4 | tr '\n' ' ')"
    fi
else
    bad "mount on the full disk: $(tail -2 "$LOG" | tr '\n' ' ')"
fi

# 3. room again: an unrelated file deleted
rm -f "$DISK/ballast"
r_mount "$D" "$M" "$LOG" "${OPTS[@]}" || { bad "mount after deleting a file"; finish; }
echo "# free on the tmpfs after the restart: $(free_kb) KiB"
step "acknowledged points read back after freeing space" check "$M" "$DEV" "$STATE"
step "ingestion resumes after deleting a file" resume "$M" "$DEV" "$STATE" 20

# 4. full again, then grown under the running mount
step "append until the disk is full again" fill "$M" "$DEV" "$STATE" || finish
step "a new append on the full disk" refused "$M" "$DEV" "$STATE"
mount -o "remount,size=$((SIZE_MB * 4))m" "$DISK" || bad "mount -o remount,size="
step "ingestion resumes after growing the tmpfs, same mount" resume "$M" "$DEV" "$STATE" 20
step "everything reads back after growing" check "$M" "$DEV" "$STATE"

# 5. clean unmount, last look
if r_unmount "$PID" "$M" 2>> "$LOG"; then good "clean unmount exits 0 once there is room"; else bad "unmount: $(tail -1 "$LOG")"; fi
if r_mount "$D" "$M" "$LOG" "${OPTS[@]}"; then
    step "everything acknowledged is there after the last remount" check "$M" "$DEV" "$STATE"
    r_unmount "$PID" "$M" 2>> "$LOG" || bad "last unmount: $(tail -1 "$LOG")"
else
    bad "last remount"
fi
out=$("$TSFILE" check "$D" 2>&1) && good "tsfile check of DATA_DIR: $(tail -1 <<< "$out")" ||
    bad "tsfile check of DATA_DIR: $(printf '%s' "$out" | tail -4 | tr '\n' ' ')"
finish
