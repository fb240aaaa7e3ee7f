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

# Progress and diagnoses go to stderr; stdout carries only a step's result.
ztc_log() {
    printf '%s\n' "zerotier-cluster[${ZTC_NODE:-?} ${ZTC_STEP:-?}]: $*" >&2
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

# Fails early, and clearly, when this login cannot become root without a password.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_require_root() {
    [ "$ZTC_UID" -eq 0 ] && return 0
    command -v sudo >/dev/null 2>&1 ||
        ztc_die "user $(id -un) is not root and sudo is not installed on $(uname -n); install sudo or connect as root"
    if ! sudo -n true 2>/dev/null; then
        ztc_die "sudo on $(uname -n) asks user $(id -un) for a password, and provisioning runs unattended. Fix: allow passwordless sudo, e.g. '$(id -un) ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/$(id -un), or connect as root"
    fi
}

# Fails with a clear message unless $2 is one line matching the extended regex $3.
# $1 names the value for the message ("network id", "ZTC_OVERLAY_IP", ...).
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_check() {
    case $2 in *'
'*) ztc_die "$1 must be one line, got: $2" ;; esac
    printf '%s\n' "$2" | grep -Eqx -- "$3" || ztc_die "$1 is not valid: '$2'"
}

# A private temporary directory in $ZTC_TMP, removed however the step ends.
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_tmpdir() {
    [ -n "${ZTC_TMP:-}" ] && [ -d "$ZTC_TMP" ] && return 0
    ZTC_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ztc.XXXXXX") || ztc_die "could not create a temporary directory"
    trap 'rm -rf "$ZTC_TMP"' EXIT
    trap 'exit 1' HUP INT TERM
}

# Makes the root-owned file $1 (mode $2) hold exactly stdin, only if it differs.
# Returns 0 when it wrote, 1 when the file already had that content. Replaces
# the file atomically; when that is impossible because the file is a mount
# point (/etc/hosts in containers: rename fails with EBUSY) it rewrites it in place.
# Feed it from a file, not a pipe: in a pipeline it runs in a subshell, where
# its ztc_die would only end the subshell and look like "unchanged".
# shellcheck disable=SC2317  # each step calls only some helpers
ztc_sync_file() {
    _sf_new=$(mktemp "${TMPDIR:-/tmp}/ztc.XXXXXX") || ztc_die "could not create a temporary file"
    cat >"$_sf_new"
    if ztc_root cmp -s "$_sf_new" "$1" 2>/dev/null; then
        rm -f "$_sf_new"
        return 1
    fi
    ztc_root mkdir -p "$(dirname "$1")"
    _sf_tmp=$(ztc_root mktemp "$(dirname "$1")/.ztc.XXXXXX") || ztc_die "could not write next to $1"
    if ztc_root cp "$_sf_new" "$_sf_tmp" && ztc_root chmod "$2" "$_sf_tmp"; then
        if ! ztc_root mv -f "$_sf_tmp" "$1" 2>/dev/null; then
            ztc_root rm -f "$_sf_tmp"
            ztc_log "$1 cannot be replaced (a mount point?); rewriting it in place"
            ztc_root cp "$_sf_new" "$1" || { rm -f "$_sf_new"; ztc_die "could not write $1"; }
        fi
    else
        ztc_root rm -f "$_sf_tmp"
        rm -f "$_sf_new"
        ztc_die "could not write $1"
    fi
    rm -f "$_sf_new"
    return 0
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
