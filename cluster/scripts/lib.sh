#!/bin/sh
# Helpers shared by every zerotier-cluster step. The program sends this file
# between the step's parameters and the step's own script (see cluster/steps.py);
# it only defines things, so nothing here reads the stdin the script arrives on.
# shellcheck disable=SC2034  # variables here are used by the step scripts

set -eu
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
LC_ALL=C
export PATH LC_ALL

# shellcheck disable=SC2034  # (again: composed, the line above is not the file's first command)
ZTC_STATE_DIR=/var/lib/zerotier-cluster
# Where programs live (see load.sh): the root-owned store, and the bundle CopyToRemote writes.
ZTC_STORE=$ZTC_STATE_DIR/objects
ZTC_BUNDLE=$HOME/.zerotier-cluster/bundle.tar
ZTC_UID=$(id -u)
# A dotted-quad IPv4 address, for ztc_check.
ZTC_IPV4_RE='((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'

# A JSON reader for awk (no python or jq on a minimal node): reads all input,
# then walks it, calling the step's own awk functions value(v) for every
# scalar, opened(c) after entering and closed(c) before leaving an object "{"
# or a list "[". They see depth, kind[d] ("o" object, "a" list) and key[d],
# the current key at each depth; so key order, spacing and nesting do not
# matter. Use: awk "$my_callbacks$ZTC_JSON_AWK".
# shellcheck disable=SC2016  # an awk program, not shell
ZTC_JSON_AWK='
{ text = text $0 "\n" }
END {
    n = length(text)
    for (i = 1; i <= n; i++) {
        c = substr(text, i, 1)
        if (c == "\"") {
            s = ""
            for (j = i + 1; j <= n; j++) {
                d = substr(text, j, 1)
                if (d == "\\") { s = s substr(text, j, 2); j++; continue }
                if (d == "\"") break
                s = s d
            }
            i = j
            if (kind[depth] == "o" && wantkey) { key[depth] = s; wantkey = 0 }
            else value(s)
        } else if (c == "{") {
            kind[++depth] = "o"; key[depth] = ""; wantkey = 1
            opened(c)
        } else if (c == "[") {
            kind[++depth] = "a"
            opened(c)
        } else if (c == "}" || c == "]") {
            closed(c)
            depth--
        } else if (c == ",") {
            if (kind[depth] == "o") wantkey = 1
        } else if (c ~ /[-0-9a-z]/) {
            for (j = i; j <= n && substr(text, j, 1) ~ /[-+.0-9a-zA-Z]/; j++) ;
            value(substr(text, i, j - i))
            i = j - 1
        }
    }
}'

# Progress and diagnoses go to stderr; stdout carries only a step's result.
# One message is cut after ZTC_LOG_MAX bytes: Pulumi stores a command's output
# in the stack state, so however chatty a tool quoted in it (nft, zerotier-cli),
# a step's output stays a few KiB.
ZTC_LOG_MAX=3000
ztc_log() {
    printf '%s\n' "zerotier-cluster[${ZTC_NODE:-?} ${ZTC_STEP:-?}]: $*" | awk -v max="$ZTC_LOG_MAX" '
        { n += length($0) + 1; if (n <= max) print; else cut += length($0) + 1 }
        END { if (cut) printf "... (%d more bytes not shown)\n", cut }' >&2
}

ztc_die() {
    ztc_log "ERROR: $*"
    exit 1
}

# Runs a command as root: directly when we are root, else through sudo that
# must not ask for a password (there is nobody to type it).
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_root() {
    if [ "$ZTC_UID" -eq 0 ]; then
        "$@"
    else
        sudo -n -- "$@"
    fi
}

# Fails early, and clearly, when this login cannot become root without a
# password or a terminal; afterwards ztc_tmpdir may use root-owned places.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_require_root() {
    if [ "$ZTC_UID" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 ||
            ztc_die "user $(id -un) is not root and sudo is not installed on $(uname -n); install sudo or connect as root"
        if ! _rr_err=$(sudo -n true 2>&1 </dev/null); then
            case $_rr_err in
                *"must have a tty"* | *"requiretty"*)
                    ztc_die "sudo on $(uname -n) requires a terminal for user $(id -un) (sudoers 'requiretty'), and provisioning runs without one. Fix: add the line 'Defaults:$(id -un) !requiretty' to /etc/sudoers.d/$(id -un) (edit it with visudo -f), or connect as root" ;;
                *)
                    ztc_die "sudo on $(uname -n) asks user $(id -un) for a password, and provisioning runs unattended. Fix: allow passwordless sudo, e.g. '$(id -un) ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/$(id -un), or connect as root" ;;
            esac
        fi
    fi
    ZTC_ROOT_OK=yes
}

# Fails with a clear message unless $2 is one line matching the extended regex $3.
# $1 names the value for the message ("network id", "ZTC_OVERLAY_IP", ...).
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_check() {
    case $2 in *'
'*) ztc_die "$1 must be one line, got: $2" ;; esac
    printf '%s\n' "$2" | grep -Eqx -- "$3" || ztc_die "$1 is not valid: '$2'"
}

# For a failure message: how much room the filesystem of path $1 has, and
# ($2, optional) how many bytes were needed there.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_room() {
    _rm_dir=$1
    while [ "$_rm_dir" != / ] && ! ztc_root test -e "$_rm_dir" 2>/dev/null; do
        _rm_dir=$(dirname "$_rm_dir")
    done
    _rm_free=$(ztc_root df -Pk "$_rm_dir" 2>/dev/null | awk 'NR == 2 { print $4 }')
    [ -z "${2:-}" ] || printf 'it needs %s KiB; ' "$((($2 + 1023) / 1024))"
    printf 'df reports %s KiB free on the filesystem of %s' "${_rm_free:-?}" "$_rm_dir"
}

# Ends the step when writing the scratch file $1 failed. Every write of a
# scratch file is checked this way, `cmd >"$f" || ztc_scratch_failed "$f"`,
# because a cut-short scratch file would be installed as a cut-short target.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_scratch_failed() {
    ztc_die "could not write the scratch file $1 ($(ztc_room "$(dirname "$1")")); nothing was changed by it"
}

# A private directory for the step's scratch files, $ZTC_TMP, removed however
# the step ends. Never in /tmp, which may be missing, tiny or full: steps that
# run as root use $ZTC_STATE_DIR/tmp (root-owned, so nobody else can swap a
# file the step later installs as root); verify, which needs no root, uses the
# first writable of $TMPDIR, $XDG_RUNTIME_DIR, /tmp, /var/tmp and $HOME.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_tmpdir() {
    [ -n "${ZTC_TMP:-}" ] && [ -d "$ZTC_TMP" ] && return 0
    ZTC_TMP=
    if [ "${ZTC_ROOT_OK:-}" = yes ]; then
        ZTC_TMP_BASE=$ZTC_STATE_DIR/tmp
        # Twice: a step finishing beside this one may remove the empty base in between.
        for _td_try in 1 2; do
            ztc_root mkdir -p -m 0755 "$ZTC_TMP_BASE" 2>/dev/null &&
                ZTC_TMP=$(ztc_root mktemp -d "$ZTC_TMP_BASE/${ZTC_STEP:-step}.XXXXXX" 2>/dev/null) &&
                ztc_root chown "$ZTC_UID" "$ZTC_TMP" && break
            ZTC_TMP=
        done
        [ -n "$ZTC_TMP" ] ||
            ztc_die "could not create a scratch directory in $ZTC_TMP_BASE ($(ztc_room "$ZTC_TMP_BASE")); nothing was changed. Make room there, or make it writable"
        # Scratch directories of steps killed a day ago or more.
        ztc_root find "$ZTC_TMP_BASE" -mindepth 1 -maxdepth 1 -mmin +1440 -exec rm -rf {} + 2>/dev/null || :
    else
        for ZTC_TMP_BASE in "${TMPDIR:-}" "${XDG_RUNTIME_DIR:-}" /tmp /var/tmp "${HOME:-}"; do
            if [ -n "$ZTC_TMP_BASE" ] && [ -d "$ZTC_TMP_BASE" ] && [ -w "$ZTC_TMP_BASE" ]; then
                ZTC_TMP=$(mktemp -d "$ZTC_TMP_BASE/ztc.XXXXXX" 2>/dev/null) && break
                ZTC_TMP=
            fi
        done
        [ -n "$ZTC_TMP" ] ||
            ztc_die "no writable directory for scratch files on $(uname -n) (tried \$TMPDIR, \$XDG_RUNTIME_DIR, /tmp, /var/tmp, \$HOME)"
        ZTC_TMP_BASE=
    fi
    trap ztc_cleanup EXIT
    trap 'exit 1' HUP INT TERM
}

# Removes the scratch directory and any copy staged but never renamed into
# place; the state directory goes too once nothing else is left in it.
# shellcheck disable=SC2317  # called by the EXIT trap
ztc_cleanup() {
    ztc_unstage
    if [ -n "${ZTC_TMP:-}" ]; then
        rm -rf "$ZTC_TMP" 2>/dev/null || ztc_root rm -rf "$ZTC_TMP" 2>/dev/null || :
    fi
    if [ -n "${ZTC_TMP_BASE:-}" ]; then
        ztc_root rmdir "$ZTC_TMP_BASE" "$ZTC_STATE_DIR" 2>/dev/null || :
    fi
}

# --- writing files: staged next to the target, checked, renamed into place ---
#
# ztc_stage_file writes a verified copy next to its target; ztc_commit_files
# renames every staged copy over its target. A step that must not change
# anything unless its files can be written (firewall) stages them before it
# changes anything else; ztc_sync_file does both for one file. Any failure
# ends the step (exit, so also when called under if or ||, where set -e is
# off: every command here is checked explicitly) and leaves each target as
# it was or complete, never cut short.
ZTC_NL='
'
ZTC_TAB='	'
ZTC_STAGED=
ZTC_STAGED_DIRS=

# Makes a copy of file $3 next to the target $1 (its directory, so the same
# filesystem: the later rename is atomic), mode $2, root-owned, checked
# against $3 and flushed to disk. A symlink $1 is followed: its target gets
# the new content and the link stays. Returns 1 (nothing staged) when $1
# already holds exactly that content.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_stage_file() {
    ztc_tmpdir
    _sf_name=$1
    [ -f "$3" ] || ztc_die "internal error: no content for $1 in $3"
    _sf_size=$(wc -c <"$3" | tr -d ' ')
    _sf_dir=$(dirname "$1")
    _sf_tmp=
    if ! ztc_root test -d "$_sf_dir"; then
        ztc_root mkdir -p -- "$_sf_dir" 2>"$ZTC_TMP/sf.err" || ztc_sf_fail "could not create the directory $_sf_dir"
        ZTC_STAGED_DIRS="$ZTC_STAGED_DIRS$_sf_dir$ZTC_NL"
    fi
    _sf_path=$(ztc_root readlink -f -- "$1" 2>"$ZTC_TMP/sf.err") ||
        ztc_sf_fail "could not resolve it (a symlink into a missing directory?)"
    if ztc_root cmp -s -- "$3" "$_sf_path"; then
        return 1
    fi
    [ "$_sf_path" = "$1" ] || _sf_name="$1 (a symlink to $_sf_path)"
    _sf_dir=$(dirname "$_sf_path")
    _sf_tmp=$(ztc_root mktemp "$_sf_dir/.ztc.XXXXXX" 2>"$ZTC_TMP/sf.err") ||
        ztc_sf_fail "could not create a file in $_sf_dir"
    ztc_root cp -- "$3" "$_sf_tmp" 2>"$ZTC_TMP/sf.err" || ztc_sf_fail "could not write its new content to $_sf_tmp"
    ztc_root cmp -s -- "$3" "$_sf_tmp" 2>"$ZTC_TMP/sf.err" || ztc_sf_fail "the copy in $_sf_tmp does not match (cut short?)"
    ztc_root chmod "$2" "$_sf_tmp" 2>"$ZTC_TMP/sf.err" || ztc_sf_fail "could not set mode $2 on $_sf_tmp"
    if [ -e "$_sf_path" ] && command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then
        ztc_root chcon --reference="$_sf_path" -- "$_sf_tmp" 2>"$ZTC_TMP/sf.err" ||
            ztc_sf_fail "could not give $_sf_tmp the SELinux context of $_sf_path"
    fi
    { ztc_root sync -- "$_sf_tmp" 2>/dev/null || ztc_root sync; } 2>"$ZTC_TMP/sf.err" ||
        ztc_sf_fail "could not flush $_sf_tmp to disk"
    ZTC_STAGED="$ZTC_STAGED$_sf_tmp$ZTC_TAB$_sf_path$ZTC_TAB$_sf_name$ZTC_NL"
    _sf_tmp=
    return 0
}

# Renames every staged copy over its target, in the order staged. A target
# that is a mount point (/etc/hosts in containers: the rename fails with
# EBUSY) is rewritten in place instead, see ztc_sf_in_place.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_commit_files() {
    while [ -n "$ZTC_STAGED" ]; do
        _cf_rec=${ZTC_STAGED%%"$ZTC_NL"*}
        _sf_tmp=${_cf_rec%%"$ZTC_TAB"*}
        _cf_rest=${_cf_rec#*"$ZTC_TAB"}
        _sf_path=${_cf_rest%%"$ZTC_TAB"*}
        _sf_name=${_cf_rest#*"$ZTC_TAB"}
        _sf_dir=$(dirname "$_sf_path")
        _sf_size=$(ztc_root stat -c %s -- "$_sf_tmp" 2>"$ZTC_TMP/sf.err") || ztc_sf_fail "could not read the size of $_sf_tmp"
        if ztc_root mv -f -- "$_sf_tmp" "$_sf_path" 2>"$ZTC_TMP/sf.err"; then
            # The rename itself reaches the disk with its directory.
            ztc_root sync -- "$_sf_dir" 2>/dev/null || :
        elif command -v mountpoint >/dev/null 2>&1 && ztc_root mountpoint -q -- "$_sf_path"; then
            ztc_sf_in_place
        else
            ztc_sf_fail "could not rename $_sf_tmp over it"
        fi
        ZTC_STAGED=${ZTC_STAGED#*"$ZTC_NL"}
    done
    _sf_tmp=
    ZTC_STAGED_DIRS=
}

# Removes the staged copies that were never committed, and the directories
# made for them.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_unstage() {
    while [ -n "${ZTC_STAGED:-}" ]; do
        ztc_root rm -f -- "${ZTC_STAGED%%"$ZTC_TAB"*}" 2>/dev/null || :
        ZTC_STAGED=${ZTC_STAGED#*"$ZTC_NL"}
    done
    if [ -n "${_sf_tmp:-}" ]; then
        ztc_root rm -f -- "$_sf_tmp" 2>/dev/null || :
        _sf_tmp=
    fi
    while [ -n "${ZTC_STAGED_DIRS:-}" ]; do
        ztc_root rmdir -- "${ZTC_STAGED_DIRS%%"$ZTC_NL"*}" 2>/dev/null || :
        ZTC_STAGED_DIRS=${ZTC_STAGED_DIRS#*"$ZTC_NL"}
    done
}

# Makes the root-owned file $1 (mode $2) hold exactly the bytes of file $3:
# staged and committed at once. Returns 0 when it wrote, 1 when $1 already
# held that content; any failure ends the step, $1 unchanged.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_sync_file() {
    ztc_stage_file "$@" || return 1
    ztc_commit_files
    return 0
}

# Rewrites the mount point $_sf_path in place with the staged copy $_sf_tmp,
# never cutting it short: the new content is written over the old without
# truncating first, then the file is cut to the new size, then compared. The
# staged copy proved the directory has room; when the file is bigger than
# before, its own filesystem (a bind mount may come from elsewhere) must have
# the difference free, reserved first where fallocate can. Should a write
# still fail, the old content (kept in a second copy) is written back.
# shellcheck disable=SC2317  # ztc_commit_files calls it
ztc_sf_in_place() {
    ztc_log "$_sf_name cannot be replaced (a mount point?); rewriting it in place"
    ztc_root test -w "$_sf_path" 2>"$ZTC_TMP/sf.err" || ztc_sf_fail "it is mounted read-only"
    _ip_old=$(ztc_root stat -c %s -- "$_sf_path") || ztc_sf_fail "could not read its size"
    if [ "$_sf_size" -gt "$_ip_old" ]; then
        _ip_free=$(ztc_root df -Pk "$_sf_path" 2>/dev/null | awk 'NR == 2 { print $4 }')
        if [ -z "$_ip_free" ] || [ $((_ip_free * 1024)) -lt $((_sf_size - _ip_old + 4096)) ]; then
            : >"$ZTC_TMP/sf.err"
            _sf_dir=$_sf_path
            _sf_size=$((_sf_size - _ip_old + 4096))
            ztc_sf_fail "its filesystem has no room for the bigger content"
        fi
        if command -v fallocate >/dev/null 2>&1 &&
            ! ztc_root fallocate -n -l "$_sf_size" -- "$_sf_path" 2>"$ZTC_TMP/sf.err" &&
            grep -q 'No space' "$ZTC_TMP/sf.err"; then
            _sf_dir=$_sf_path
            ztc_sf_fail "its filesystem has no room for the bigger content"
        fi
    fi
    _ip_keep=$(ztc_root mktemp "$(dirname "$_sf_path")/.ztc.XXXXXX" 2>"$ZTC_TMP/sf.err") ||
        ztc_sf_fail "could not create a file to keep its old content"
    if ! ztc_root cp -- "$_sf_path" "$_ip_keep" 2>"$ZTC_TMP/sf.err" || ! ztc_root cmp -s -- "$_sf_path" "$_ip_keep"; then
        ztc_root rm -f -- "$_ip_keep"
        ztc_sf_fail "could not keep a copy of its old content in $_ip_keep"
    fi
    if ztc_root dd if="$_sf_tmp" of="$_sf_path" bs=65536 conv=notrunc 2>"$ZTC_TMP/sf.err" &&
        ztc_root truncate -s "$_sf_size" -- "$_sf_path" 2>>"$ZTC_TMP/sf.err" &&
        ztc_root cmp -s -- "$_sf_tmp" "$_sf_path"; then
        ztc_root sync -- "$_sf_path" 2>/dev/null || ztc_root sync || :
        ztc_root rm -f -- "$_ip_keep" "$_sf_tmp"
        return 0
    fi
    if ztc_root dd if="$_ip_keep" of="$_sf_path" bs=65536 conv=notrunc 2>/dev/null &&
        ztc_root truncate -s "$_ip_old" -- "$_sf_path" 2>/dev/null &&
        ztc_root cmp -s -- "$_ip_keep" "$_sf_path"; then
        ztc_root rm -f -- "$_ip_keep"
        ztc_sf_fail "writing it in place failed; its old content was written back"
    fi
    ztc_root rm -f -- "$_sf_tmp"
    _sf_tmp=
    ztc_die "could not rewrite $_sf_name in place, nor write its old content back: the old content is in $_ip_keep, copy it back by hand ($(head -c 300 "$ZTC_TMP/sf.err" | tr '\n' ' '))"
}

# Ends the step: writing $_sf_name failed at step $1. Removes the staged copy,
# names the file, the error and the room its filesystem has.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_sf_fail() {
    _sf_why=$(head -c 300 "$ZTC_TMP/sf.err" 2>/dev/null | tr '\n' ' ' | sed 's/ *$//')
    ztc_unstage
    ztc_die "could not write $_sf_name: $1${_sf_why:+ ($_sf_why)}; $(ztc_room "$_sf_dir" "$_sf_size"). $_sf_name was left as it was"
}

# Restarts zerotier-one so it loads $1 (local.conf, moons.d), and waits up to 60 s until it answers again.
ztc_restart_zerotier() {
    ztc_log "restarting zerotier-one so it loads $1"
    if [ -d /run/systemd/system ]; then
        ztc_root systemctl restart zerotier-one || ztc_die "systemctl restart zerotier-one failed: see 'journalctl -u zerotier-one'"
    else
        ztc_root service zerotier-one restart || ztc_die "could not restart zerotier-one (no systemd here, and 'service zerotier-one restart' failed)"
    fi
    _deadline=$(($(ztc_now) + 60))
    until ztc_root zerotier-cli info >/dev/null 2>&1; do
        [ "$(ztc_now)" -lt "$_deadline" ] || ztc_die "zerotier-one does not answer 60s after its restart: see 'journalctl -u zerotier-one'"
        sleep 1
    done
}

# Prints this node's ZeroTier address (identity.public's first field) once zerotier-one has written it,
# waiting up to 30 s (a service that just started); else dies with $1, what to check on the node.
ztc_zerotier_address() {
    _tries=0
    while :; do
        _addr=$(ztc_root cat /var/lib/zerotier-one/identity.public 2>/dev/null | cut -d: -f1)
        if printf '%s\n' "$_addr" | grep -Eqx '[0-9a-f]{10}'; then
            printf '%s\n' "$_addr"
            return 0
        fi
        _tries=$((_tries + 1))
        [ "$_tries" -lt 30 ] || ztc_die "/var/lib/zerotier-one/identity.public on $(uname -n) holds no ZeroTier address after 30s: $1"
        sleep 1
    done
}

# Seconds since the epoch (GNU, busybox and BSD date all know %s).
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_now() {
    date +%s
}

# Keeps the program that just succeeded (load.sh checked it) in the root-owned
# store, so that its delete still runs after a later bundle no longer carries
# it. Prints nothing on stdout (install's last line is its address). Only
# when root is at hand: verify needs none, and the other steps say themselves
# why they cannot become root.
# shellcheck disable=SC2317,SC2154  # called through ztc_run; load.sh sets ZTC_TEXT
ztc_keep_program() {
    [ -f "$ZTC_STORE/$ZTC_PROGRAM" ] && return 0
    [ "$ZTC_UID" -eq 0 ] || sudo -n true 2>/dev/null || return 0
    ztc_root mkdir -p "$ZTC_STORE" || ztc_die "could not create $ZTC_STORE"
    _kp_new=$(ztc_root mktemp "$ZTC_STORE/.new.XXXXXX") || ztc_die "could not create a file in $ZTC_STORE"
    if ! printf %s "$ZTC_TEXT" | ztc_root tee "$_kp_new" >/dev/null ||
        [ "$(ztc_root sha256sum "$_kp_new" | awk '{ print $1 }')" != "$ZTC_PROGRAM" ]; then
        ztc_root rm -f "$_kp_new"
        ztc_die "could not store this step's program in $ZTC_STORE (needs $(printf %s "$ZTC_TEXT" | wc -c) bytes; free: $(df -Pk "$ZTC_STORE" 2>/dev/null | awk 'NR == 2 { print $4 " KiB" }'))"
    fi
    if ! ztc_root chmod 0644 "$_kp_new" || ! ztc_root mv -f "$_kp_new" "$ZTC_STORE/$ZTC_PROGRAM"; then
        ztc_die "could not store this step's program as $ZTC_STORE/$ZTC_PROGRAM"
    fi
}

# Install is the first step created and the last deleted on a node: its delete
# also removes the program store and the bundle pulumi copied.
# shellcheck disable=SC2317  # called through ztc_run
ztc_forget_programs() {
    ztc_root rm -rf "$ZTC_STORE" || ztc_die "could not remove $ZTC_STORE"
    rm -f "$ZTC_BUNDLE" || ztc_die "could not remove $ZTC_BUNDLE"
    rmdir "${ZTC_BUNDLE%/*}" 2>/dev/null || :
}

# Dispatches the action from the command line (/bin/sh -s -- create|update|delete)
# to the step's step_create, step_update or step_delete function.
ztc_run() {
    _action=${1:-create}
    case $_action in
        create) step_create && ztc_keep_program ;;
        update) step_update && ztc_keep_program ;;
        delete)
            step_delete
            [ "$ZTC_STEP" != install ] || ztc_forget_programs
            ;;
        *) ztc_die "unknown action '$_action' (expected create, update or delete)" ;;
    esac
}
