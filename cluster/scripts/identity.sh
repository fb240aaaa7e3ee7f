#!/bin/sh
# identity: prints this node's ZeroTier address, the first field of its identity.public.
#
# No parameters. Runs after install. Its command's inputs are the node's connection,
# name and generation, so its output (the address the node's member authorizes, and
# for the head the network ID) can only change in a preview when the machine can
# have changed: reimaged, replaced at a new host, or reached another way. Reading
# the address from install instead would make a version bump show every member and
# join as changing. delete: nothing to undo.
# Composed after the parameters and lib.sh (see cluster/steps.py); read alone, shellcheck
# cannot see them or the ztc_run that calls step_*:
# shellcheck disable=SC2034,SC2153,SC2154,SC2317

ZTC_STEP=identity
ZT_HOME=/var/lib/zerotier-one

# Waits up to 30 s for zerotier-one to have written its identity (a fresh install).
identity_address() {
    _tries=0
    while :; do
        _addr=$(ztc_root cat "$ZT_HOME/identity.public" 2>/dev/null | cut -d: -f1)
        if printf '%s\n' "$_addr" | grep -Eqx '[0-9a-f]{10}'; then
            printf '%s\n' "$_addr"
            return 0
        fi
        _tries=$((_tries + 1))
        [ "$_tries" -lt 30 ] ||
            ztc_die "$ZT_HOME/identity.public on $(uname -n) holds no ZeroTier address after 30s: is zerotier-one installed and running? (the install step does both; see 'journalctl -u zerotier-one')"
        sleep 1
    done
}

step_create() {
    ztc_require_root
    identity_address
}

step_update() {
    step_create
}

step_delete() {
    echo "identity: nothing to undo"
}

ztc_run "$@"; exit $?
