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

ZTC_STATE_DIR=/var/lib/zerotier-cluster
ZTC_UID=$(id -u)

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
ztc_root() {
    if [ "$ZTC_UID" -eq 0 ]; then
        "$@"
    else
        sudo -n -- "$@"
    fi
}

# Fails early, and clearly, when this login cannot become root without a password.
ztc_require_root() {
    [ "$ZTC_UID" -eq 0 ] && return 0
    command -v sudo >/dev/null 2>&1 ||
        ztc_die "user $(id -un) is not root and sudo is not installed on $(uname -n); install sudo or connect as root"
    if ! sudo -n true 2>/dev/null; then
        ztc_die "sudo on $(uname -n) asks user $(id -un) for a password, and provisioning runs unattended. Fix: allow passwordless sudo, e.g. '$(id -un) ALL=(ALL) NOPASSWD: ALL' in /etc/sudoers.d/$(id -un), or connect as root"
    fi
}

# Writes stdin to a root-owned file atomically (temp file in the same directory, then rename).
ztc_write_file() {
    _path=$1
    _mode=$2
    _dir=$(dirname "$_path")
    ztc_root mkdir -p "$_dir"
    _tmp=$(ztc_root mktemp "$_dir/.ztc.XXXXXX")
    if ! ztc_root tee "$_tmp" >/dev/null || ! ztc_root chmod "$_mode" "$_tmp" || ! ztc_root mv -f "$_tmp" "$_path"; then
        ztc_root rm -f "$_tmp"
        ztc_die "could not write $_path"
    fi
}

# Dispatches the action from the command line (/bin/sh -s -- create|update|delete)
# to the step's step_create, step_update or step_delete function.
ztc_run() {
    _action=${1:-create}
    case $_action in
        create) step_create ;;
        update) step_update ;;
        delete) step_delete ;;
        *) ztc_die "unknown action '$_action' (expected create, update or delete)" ;;
    esac
}
